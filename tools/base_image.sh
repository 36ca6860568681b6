#!/bin/sh
# base_image.sh - makes the base image deploy/Dockerfile starts from, locally
#
# Usage: tools/base_image.sh [IMAGE]     (default debian:bookworm-slim)
# When the engine has no IMAGE yet and no registry is reachable (Docker Hub
# is not, here), the image is made from Debian itself: debootstrap
# --variant=minbase bookworm from the mirror apt already uses, trimmed as
# Debian's own slim image is (no documentation, man pages or locales but
# C.UTF-8, which is built in), apt sources for bookworm, its updates and its
# security suite, then `docker import`. About 30 s and 75 MB. An image the
# engine has already (pulled or made before) is kept as it is.
# Needs root (debootstrap) and a running engine (tools/dockerd.sh start).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
image=${1:-debian:bookworm-slim}
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker || echo docker)}

if "$DOCKER" image inspect "$image" >/dev/null 2>&1; then
    exit 0
fi
if timeout 60 "$DOCKER" pull -q "$image" >/dev/null 2>&1; then
    echo "pulled $image"
    exit 0
fi

# The mirror apt uses: deb822 sources first, then sources.list.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources \
             2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\{1,\}\(http[^[:space:]]*debian\)\/*[[:space:]].*/\1/p' \
                                 /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
security=$(echo "$mirror" | sed 's#/debian$#/debian-security#')

dir=$root/build/rootfs-bookworm
rm -rf "$dir"
mkdir -p "$dir"
echo "making $image with debootstrap from $mirror"
if ! debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$root/build/debootstrap.log" 2>&1; then
    echo "base_image.sh: debootstrap failed; the end of build/debootstrap.log:" >&2
    tail -n 20 "$root/build/debootstrap.log" >&2
    exit 1
fi

# apt sources as Debian's image has them (the security suite included).
rm -f "$dir/etc/apt/sources.list"
cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Slim: what later stages install leaves its documentation out too.
cat >"$dir/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
printf 'APT::Install-Recommends "false";\n' >"$dir/etc/apt/apt.conf.d/docker-no-recommends"
find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
rm -rf "$dir/usr/share/man"/* "$dir/usr/share/info"/* "$dir/usr/share/locale"/* \
       "$dir/var/cache/apt"/*.bin "$dir/var/cache/apt/archives"/*.deb "$dir/var/lib/apt/lists"/* \
       "$dir/var/log"/*.log "$dir/var/log/apt"/* "$dir/tmp"/* "$dir/etc/machine-id"
: >"$dir/etc/machine-id"

tar --numeric-owner -C "$dir" -c . |
    "$DOCKER" import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --message "debootstrap --variant=minbase bookworm $mirror (tools/base_image.sh)" - "$image" >/dev/null
rm -rf "$dir"
echo "made $image: $("$DOCKER" image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
