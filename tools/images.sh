#!/bin/bash
# images.sh - builds every container image (`make images`)
#
# Usage: tools/images.sh [TARGET...]     (default: every target)
#        tools/images.sh --list          prints the images it builds, one a line
# Starts a Docker engine when none answers (tools/dockerd.sh; it is left
# running for the next build), makes the base image when the engine lacks
# it (tools/base_image.sh), then builds each target of deploy/Dockerfile
# with BuildKit as txwatch/<target>:<TXW_TAG> (default: the version in
# common/version.h, the tag deploy/docker-compose.yml and k8s/ name). The
# host's CA bundle is given to the builder's npm step as a BuildKit secret
# (mounted for that step only, never in a layer), so the dashboard bundle
# builds behind a TLS-intercepting proxy too.
# Prints each image's size and what it adds over the shared `runtime`
# stage (target: at most 15 MB for a service image); exits 1 when a build
# fails. The log of each build is build/images/<target>.log.
# --list prints txwatch/<target>:<TXW_TAG> for every target and exits,
# touching no Docker engine: tests/e2e/k8s.sh checks that compose and k8s/
# name exactly these images, from this very derivation rather than a copy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker || echo docker)}
tag=${TXW_TAG:-$(sed -n 's/^#define TXW_VERSION "\(.*\)"/\1/p' common/version.h)}
ca=${TXW_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
logs=build/images

# Every stage but the two build stages, in the Dockerfile's order (runtime first: the
# layer the others share, and the base line of the sizes).
mapfile -t all < <(sed -n 's/^FROM [^ ]* AS \([a-z0-9-]*\)$/\1/p' deploy/Dockerfile |
                   grep -v -x -e builder -e dashboard)
if [ "${1:-}" = --list ]; then
    [ $# -eq 1 ] || { echo "usage: $0 --list" >&2; exit 2; }
    [ -n "$tag" ] || { echo "$0: no TXW_VERSION in common/version.h" >&2; exit 1; }
    [ ${#all[@]} -gt 0 ] || { echo "$0: no target in deploy/Dockerfile" >&2; exit 1; }
    for t in "${all[@]}"; do echo "txwatch/$t:$tag"; done
    exit 0
fi
mkdir -p "$logs"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

sh tools/dockerd.sh start >/dev/null
sh tools/base_image.sh debian:bookworm-slim

# Debian's docker (20.10) builds with BuildKit when asked; a newer client
# does so through buildx, when it has it.
build=(env DOCKER_BUILDKIT=1 "$DOCKER" build)
if ! "$DOCKER" version --format '{{.Client.Version}}' 2>/dev/null | grep -q '^20\.' &&
   "$DOCKER" buildx version >/dev/null 2>&1; then
    build=("$DOCKER" buildx build --load)
fi
secret=()
[ -s "$ca" ] && secret=(--secret "id=ca_bundle,src=$ca")

started=$SECONDS
failed=()
for t in "${targets[@]}"; do
    t0=$SECONDS
    if "${build[@]}" "${secret[@]}" --progress=plain -f deploy/Dockerfile --target "$t" \
           -t "txwatch/$t:$tag" . >"$logs/$t.log" 2>&1; then
        echo "built txwatch/$t:$tag in $((SECONDS - t0)) s"
    else
        echo "FAILED txwatch/$t:$tag; the end of $logs/$t.log:"
        tail -n 25 "$logs/$t.log"
        failed+=("$t")
    fi
done

size() { "$DOCKER" image inspect -f '{{.Size}}' "$1" 2>/dev/null || echo 0; }
base=$(size "txwatch/runtime:$tag")
printf '%-28s %10s %14s\n' image size "over runtime"
over=()
for t in "${targets[@]}"; do
    s=$(size "txwatch/$t:$tag")
    [ "$s" -gt 0 ] || continue
    added=$((s - base))
    note=""
    case $t in
        runtime) added=0 ;;
        postgres) note=" (its own: Debian's PostgreSQL)" ;;
        *) if [ "$added" -gt 15000000 ]; then note=" (over the 15 MB target)"; over+=("$t"); fi ;;
    esac
    [ "$t" = postgres ] && added=$((s - $(size debian:bookworm-slim)))
    awk -v i="txwatch/$t:$tag" -v s="$s" -v a="$added" -v n="$note" \
        'BEGIN { printf "%-28s %7.1f MB %11.1f MB%s\n", i, s / 1e6, a / 1e6, n }'
done
echo "images: ${#targets[@]} targets in $((SECONDS - started)) s, ${#failed[@]} failed${over:+, over 15 MB: ${over[*]}}"
[ ${#failed[@]} -eq 0 ]
