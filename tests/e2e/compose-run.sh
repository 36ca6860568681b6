#!/bin/bash
# compose-run.sh - the compose stack for real: images built, containers run
#
# `make test-containers` (and .ci/run) runs it; tests/run.sh leaves it out
# of `make test` (it needs root and minutes of image builds). Exactly what
# the README's "Containers" section tells a developer to do:
#   1. make images (tools/images.sh): a Docker engine started when none
#      answers (and stopped again at the end only if this suite started it),
#      the base image made with debootstrap when missing, every target built;
#   2. docker-compose up -d, without the live producer: every container
#      healthy, every one-shot exited 0;
#   3. a generated file fed through the producer's image (`run producer
#      --file`): transactions, dead letters and every window total in the
#      database container equal the file's exactly (tests/e2e/expected.py);
#   4. with deploy/docker-compose.shards.yml and --scale validator=3: two
#      scorer and two aggregator shards; a second file, totals exact for both
#      files, every validator took part, each account on one shard;
#   5. `docker kill` of the aggregator in the middle of a third file, then
#      `docker start`: stored == sent, every window exact (the producer's
#      acknowledgements resend what the killed aggregator lost);
#   6. the dashboard the gateway container serves, signed in with the key
#      `bootstrap` made, in Chromium: live, with alerts; a screenshot;
#   7. every container runs as non-root, with a read-only root filesystem
#      where compose sets one, and no image holds the build's CA bundle;
#   8. docker-compose down -v at the end, also on failure.
#   (Before 6 the live producer joins, so the cards have traffic.)
# Its project name (txwci) and host ports (199xx) keep it apart from a
# developer's own `docker-compose up`.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] && ! sh "$ROOT/tools/dockerd.sh" status; then
    not_ok "a Docker engine answers, or this runs as root to start one"
    exit 1
fi
DOCKER=$(command -v /usr/bin/docker || command -v docker)
TAG=$(sed -n 's/^#define TXW_VERSION "\(.*\)"/\1/p' "$ROOT/common/version.h")
export COMPOSE_PROJECT_NAME=txwci TXW_TAG=$TAG
export TXW_QUERY_PORT=19980 TXW_GATEWAY_PORT=19981 TXW_INGEST_PORT=19982
export TXW_CORS_ORIGINS=http://127.0.0.1:$TXW_GATEWAY_PORT,http://localhost:$TXW_GATEWAY_PORT
DC=(docker-compose -f "$ROOT/deploy/docker-compose.yml")
DCS=("${DC[@]}" -f "$ROOT/deploy/docker-compose.shards.yml")
STARTED_ENGINE=0

compose_down() {
    if [ -n "${DOCKER_UP:-}" ]; then
        "${DCS[@]}" logs --no-color >"$WORK/compose.log" 2>&1
        "${DCS[@]}" down -v --remove-orphans -t 20 >"$WORK/down.log" 2>&1 \
            || note "docker-compose down failed: $(tail -n 3 "$WORK/down.log" | tr '\n' ' ')"
    fi
    [ "$STARTED_ENGINE" -eq 1 ] && sh "$ROOT/tools/dockerd.sh" stop
    return 0
}
trap 'compose_down; cleanup' EXIT

# --- 1. images ---------------------------------------------------------------------
state=$(sh "$ROOT/tools/dockerd.sh" start) || { not_ok "a Docker engine starts (tools/dockerd.sh)"; exit 1; }
[ "$state" = started ] && STARTED_ENGINE=1
note "Docker engine $("$DOCKER" version --format '{{.Server.Version}}') ($state)"
t0=$SECONDS
bash "$ROOT/tools/images.sh" >"$WORK/images.log" 2>&1
rc=$?
sed -n '/^image /,$p' "$WORK/images.log" | sed 's/^/# /'
check "make images builds every image ($((SECONDS - t0)) s)" test $rc -eq 0
[ $rc -eq 0 ] || { tail -n 30 "$WORK/images.log"; exit 1; }
check "every service image adds at most 15 MB over the shared runtime layer" \
    grep -q '^images: .* 0 failed$' "$WORK/images.log"

# --- 2. up ---------------------------------------------------------------------------
# dsql SQL: one query in the database container, as the owner, tab-separated
dsql() {
    "${DC[@]}" exec -T postgres psql -U txwatch -d txwatch -qAt -F $'\t' -v ON_ERROR_STOP=1 -c "$1"
}
# healthy: every long-running container healthy, every one-shot exited 0;
# prints what is not, and fails, until then (up to $1 seconds)
healthy() {
    local limit=$1 i=0 bad
    while :; do
        bad=$("$DOCKER" ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" -q |
            xargs -r "$DOCKER" inspect -f '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' |
            awk '!(($2 == "running" && $4 == "healthy") || ($2 == "exited" && $3 == 0 && $4 == "none"))')
        [ -z "$bad" ] && return 0
        i=$((i + 2))
        [ $i -ge "$limit" ] && { echo "$bad" | sed 's/^/# not ready: /'; return 1; }
        sleep 2
    done
}
DOCKER_UP=1
t0=$SECONDS
"${DC[@]}" up -d --no-build --scale producer=0 >"$WORK/up.log" 2>&1
check "docker-compose up -d starts the stack ($((SECONDS - t0)) s)" test $? -eq 0
check "every container is healthy and every one-shot exited 0" healthy 240
ONESHOTS=$("$DOCKER" ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
    --filter status=exited --format '{{.Names}}' | sort | tr '\n' ' ')
note "one-shots done: $ONESHOTS"

# --- 3. a file through the producer container -------------------------------------------
GEN=(--shape flat --count 20000 --event-rate 50 --accounts 2000 --fraud-rate 0.02 --invalid-rate 0.01)
mkdir -p "$WORK/feed"
for n in 1 2 3; do
    "$BIN/txw-producer" "${GEN[@]}" --seed $((30 + n)) --start "2026-01-0$((4 + n))T08:00:00Z" \
        --rate 0 --csv-out "$WORK/feed/feed$n.csv" --admin-port 0 >"$WORK/csv$n.log" 2>&1 \
        || { not_ok "the producer writes feed $n"; exit 1; }
done
chmod 755 "$WORK/feed" && chmod 644 "$WORK/feed"/*.csv   # read by the image's user
# expect N: the expected answer for feeds 1..N (summary, sorted windows)
expect() {
    { cat "$WORK/feed/feed1.csv"; for i in $(seq 2 "$1"); do tail -n +2 "$WORK/feed/feed$i.csv"; done; } \
        >"$WORK/upto$1.csv"
    python3 "$ROOT/tests/e2e/expected.py" summary "$WORK/upto$1.csv" "$ROOT/tests/e2e/rates.csv" \
        >"$WORK/summary$1.txt"
    python3 "$ROOT/tests/e2e/expected.py" windows "$WORK/upto$1.csv" "$ROOT/tests/e2e/rates.csv" |
        LC_ALL=C sort >"$WORK/expected-windows$1.tsv"
    VALID=$(sed -n 's/^valid=//p' "$WORK/summary$1.txt")
    INVALID=$(sed -n 's/^invalid=//p' "$WORK/summary$1.txt")
}
# feed N [ARGS]: the file through `run producer`, its exit code
feed() {
    local n=$1
    shift
    "${DCS[@]}" run --rm --no-deps -T -v "$WORK/feed:/feed:ro" producer \
        --file "/feed/feed$n.csv" --position-file none --rate "${RATE:-0}" "$@" >"$WORK/feed$n.log" 2>&1
}
# stored_totals N [COLUMNS]: waits (up to 120 s) for feeds 1..N to be
# stored, then checks them; the windows' COLUMNS (cut -f; default all).
# A window's late count is how many of its transactions came after the
# watermark passed it: an arrival-order figure, exact with one path from
# the file (feed 1), but not with three validators and two scorer shards
# interleaving the file, so the scaled feeds compare every other column.
stored_totals() {
    local n=$1 cols=${2:-1-} i=0 got dead
    while got=$(dsql "SELECT count(*) FROM txw.transactions") && [ "$got" != "$VALID" ] && [ $i -lt 120 ]; do
        i=$((i + 1)); sleep 1
    done
    check "feeds 1-$n: every valid transaction is stored once ($got of $VALID)" test "$got" = "$VALID"
    dead=$(dsql "SELECT count(*) FROM txw.dead_letters")
    check "feeds 1-$n: every invalid record is a dead letter ($dead of $INVALID)" test "$dead" = "$INVALID"
    dsql "SELECT dimension, key, (extract(epoch FROM window_start) * 1000)::bigint,
                 tx_count, amount_minor_sum, approved, declined, failed, late
          FROM txw.window_totals ORDER BY 1, 2, 3" | LC_ALL=C sort >"$WORK/actual-windows$n.tsv"
    cut -f "$cols" "$WORK/expected-windows$n.tsv" >"$WORK/expected-windows$n.cut"
    cut -f "$cols" "$WORK/actual-windows$n.tsv" >"$WORK/actual-windows$n.cut"
    check "feeds 1-$n: every window total in the database container equals the files' (columns $cols)" \
        diff -q "$WORK/expected-windows$n.cut" "$WORK/actual-windows$n.cut"
    diff "$WORK/expected-windows$n.cut" "$WORK/actual-windows$n.cut" | head -5 | sed 's/^/# /'
    note "feeds 1-$n: $(awk -F'\t' '$1 == "overall" { s += $9 } END { print s + 0 }' "$WORK/actual-windows$n.tsv") transactions counted late"
}
# metric CONTAINER NAME: a metric from the container's own admin port
metric_in() {
    "$DOCKER" exec "$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/$TXW_ADMIN_PORT &&
        printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3' 2>/dev/null |
        awk -v m="$2" '$1 == m { print $2 }'
}
# validator_records: each validator container's records taken, a line each
validator_records() {
    local v
    for v in $("${DCS[@]}" ps -q validator); do echo "$v $(metric_in "$v" txw_records_in_total)"; done
}

expect 1
note "feed 1: $VALID valid, $INVALID invalid"
feed 1
check "the producer container sends feed 1 and exits 0 (every batch acknowledged)" test $? -eq 0
stored_totals 1

# --- 4. scaled: three validators, two scorer and two aggregator shards -----------------
t0=$SECONDS
"${DCS[@]}" up -d --no-build --scale validator=3 --scale producer=0 >"$WORK/up-scaled.log" 2>&1
check "the stack scales: validator=3, scorer and aggregator 2 shards each ($((SECONDS - t0)) s)" \
    test $? -eq 0
check "every container is healthy after scaling" healthy 240
VALIDATORS=$("${DCS[@]}" ps -q validator)
check "three validator containers run" test "$(echo "$VALIDATORS" | wc -w)" -eq 3
validator_records >"$WORK/validators-before.txt"
expect 2
feed 2
check "the producer container sends feed 2 to the scaled stack and exits 0" test $? -eq 0
stored_totals 2 1-8
validator_records >"$WORK/validators-after.txt"
# Each replica's share of feed 2's 20,000 records: all three take part,
# and together they took each record about once (a sender that never
# hears an acknowledgement sends the batch again, to the next replica).
took=$(awk 'NR == FNR { before[$1] = $2; next } { printf "%d ", $2 - before[$1] }' \
    "$WORK/validators-before.txt" "$WORK/validators-after.txt")
check "every validator replica took records of feed 2 ($took)" \
    sh -c 'for n in $0 "$@"; do [ "$n" -gt 0 ] 2>/dev/null || exit 1; done' $took
took_all=$(echo "$took" | awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s + 0 }')
check "the validators took each of feed 2's 20,000 records about once (20,000-21,000: $took_all)" \
    test "$took_all" -ge 20000 -a "$took_all" -le 21000
check "both aggregator shards stored transactions of feed 2" \
    test "$(dsql "SELECT count(DISTINCT shard) FROM txw_data.transactions WHERE tx_id LIKE 'T32-%'")" = 2
check "each account of feed 2 is on one shard only" \
    test "$(dsql "SELECT count(*) FROM (SELECT account_id FROM txw_data.transactions
                  WHERE tx_id LIKE 'T32-%' GROUP BY 1 HAVING count(DISTINCT shard) > 1) x")" = 0

# --- 5. the aggregator killed in the middle of a feed ------------------------------------
# The feed is paced to last 20 s, and the kill comes once a tenth of it is
# stored: on a busy machine each look at the count (a docker exec) takes a
# second or more, and at twice the pace a CI run found the feed all but
# stored (19,782 of 20,000) by the time it looked.
expect 3
RATE=1000 feed 3 &
FEED_PID=$!
before=$(dsql "SELECT count(*) FROM txw.transactions")
i=0
until [ "$(dsql "SELECT count(*) FROM txw.transactions")" -gt $((before + 2000)) ] || [ $i -gt 60 ]; do
    i=$((i + 1)); sleep 0.5
done
AGG=$("${DCS[@]}" ps -q aggregator)
mid=$(dsql "SELECT count(*) FROM txw.transactions")
"$DOCKER" kill "$AGG" >/dev/null
check "docker kill stops the aggregator in the middle of feed 3 ($((mid - before)) of its records stored)" \
    test "$("$DOCKER" inspect -f '{{.State.Status}}' "$AGG")" = exited -a $((mid - before)) -lt 19000
sleep 2
"$DOCKER" start "$AGG" >/dev/null
wait $FEED_PID
check "the producer container finishes feed 3 across the crash and exits 0" test $? -eq 0
check "the aggregator is healthy again" healthy 120
stored_totals 3 1-8
check "the restarted aggregator stored nothing twice" \
    test "$(dsql "SELECT count(*) - count(DISTINCT tx_id) FROM txw_data.transactions")" = 0

# --- 6. the dashboard, from the gateway container ----------------------------------------
# The live producer joins (the stack as `up` starts it), so the cards have
# this minute's traffic to show, not only the files' days in January.
"${DCS[@]}" up -d --no-build --scale validator=3 --scale producer=1 >"$WORK/up-live.log" 2>&1
check "the live producer starts beside the files' stack" test $? -eq 0
check "every container is healthy with the live producer" healthy 120
ADMIN_KEY=$("${DC[@]}" run --rm --no-deps -T --entrypoint cat bootstrap /var/lib/txwatch/admin-key/admin.key 2>/dev/null)
check "bootstrap wrote the first admin key to its volume" test -n "$ADMIN_KEY"
TXW_KEY=$ADMIN_KEY node "$ROOT/tests/js/compose_dashboard.mjs" "http://127.0.0.1:$TXW_GATEWAY_PORT/" "$WORK"
check "the dashboard screenshot is saved" test -s "$WORK/compose-dashboard.png"

# --- 7. users, read-only roots, no CA bundle in an image -----------------------------------
"$DOCKER" ps --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" -q |
    xargs -r "$DOCKER" inspect -f '{{.Id}} {{index .Config.Labels "com.docker.compose.service"}} {{.HostConfig.ReadonlyRootfs}}' \
    >"$WORK/containers.txt"
"${DCS[@]}" config >"$WORK/rendered.yml" 2>/dev/null
rootful="" writable=""
while read -r id svc ro; do
    uid=$("$DOCKER" exec "$id" id -u 2>/dev/null)
    [ -n "$uid" ] && [ "$uid" != 0 ] || rootful="$rootful $svc($uid)"
    want=$(python3 -c 'import sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["services"].get(sys.argv[2], {})
print("true" if s.get("read_only") else "false")' "$WORK/rendered.yml" "$svc")
    [ "$want" = false ] || [ "$ro" = true ] || writable="$writable $svc"
done <"$WORK/containers.txt"
check "every running container runs as a non-root user ($(wc -l <"$WORK/containers.txt") containers${rootful:+; root:$rootful})" \
    test -z "$rootful"
check "every container compose makes read-only has a read-only root filesystem${writable:+ (not:$writable)}" \
    test -z "$writable"
with_ca=""
for image in $("$DOCKER" images --format '{{.Repository}}:{{.Tag}}' | grep "^txwatch/.*:$TAG\$"); do
    "$DOCKER" run --rm --entrypoint sh "$image" -c 'test ! -e /run/secrets/ca_bundle' >/dev/null 2>&1 \
        || with_ca="$with_ca $image"
    "$DOCKER" history --no-trunc "$image" 2>/dev/null | grep -q 'BEGIN CERTIFICATE' && with_ca="$with_ca $image"
done
check "no image holds the CA bundle the build used${with_ca:+ (in:$with_ca)}" test -z "$with_ca"
