# shellcheck shell=bash
# lib.sh - shared helpers for the end-to-end suites (sourced by bash)
#
# Each suite gets a work folder under build/e2e/<suite>, its own private
# PostgreSQL on a spare port, and its own port range, so suites never touch
# a running `make run`. Results are printed as "ok - ..." / "not ok - ...".

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${TXW_BIN:-$ROOT/build/bin}      # make sanitize points this at its own build
SUITE=$(basename "$0" .sh)
WORK=${TXW_E2E_DIR:-$ROOT/build/e2e}/$SUITE   # tests/clock.sh gives each pass its own
PIDS=()
PG_STARTED=0
rm -rf "$WORK"
mkdir -p "$WORK"

# Every service of a suite shares one pseudonym key (common/pii.h), as a
# deployment's do: the pseudonyms of alerts and dead letters agree, and a
# restarted scorer can match its checkpointed accounts.
if [ -x "$BIN/txw-keygen" ]; then
    "$BIN/txw-keygen" --pseudonym-key "$WORK/pseudonym.key" >/dev/null \
        || { echo "not ok - txw-keygen makes the pseudonym key"; exit 1; }
    export TXW_PSEUDONYM_KEY_FILE=$WORK/pseudonym.key
fi

ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
check()  { # description, then a command that must succeed
    local what=$1; shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
note()   { echo "# $*"; }

pg_start() {   # port
    export TXW_PG_DIR=$WORK/pg TXW_PG_PORT=$1
    DB=$(sh "$ROOT/deploy/local/pg.sh" start) || { not_ok "PostgreSQL starts"; exit 1; }
    PG_STARTED=1
}

sql() { psql "$DB" -qAt -F $'\t' -v ON_ERROR_STOP=1 -c "$1"; }

# start NAME ADMIN_PORT BINARY ARGS... : runs in the background, waits for /readyz
start() {
    local name=$1 port=$2; shift 2
    "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$name=$!"
    local i=0
    while ! curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 150 ] || ! kill -0 "${PIDS[-1]}" 2>/dev/null; then
            not_ok "$name becomes ready"; tail -20 "$WORK/$name.log"; exit 1
        fi
        sleep 0.1
    done
}

# ready_within PORT SECONDS: until the admin port at PORT answers /readyz
# with 200 (an aggregator: its last flush reached PostgreSQL)
ready_within() {
    local i
    for i in $(seq $(($2 * 10))); do
        curl -sf "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# start_stage NAME PREFIX [ARGS...]: one stage of start_pipeline (aggregator,
# scorer or validator), with ARGS added to its command line; a suite that
# kills a stage starts it again the same way.
start_stage() {
    local name=$1 p=$2; shift 2
    case $name in
    aggregator)
        start aggregator ${p}93 "$BIN/txw-aggregator" --database-url "$DB" \
            --bind tcp://127.0.0.1:${p}21 --publish tcp://127.0.0.1:${p}22 --admin-port ${p}93 "$@" ;;
    scorer)
        start scorer ${p}92 "$BIN/txw-scorer" --bind tcp://127.0.0.1:${p}11 \
            --aggregator-endpoints tcp://127.0.0.1:${p}21 --publish tcp://127.0.0.1:${p}12 \
            --admin-port ${p}92 ${SCORER_ARGS[@]+"${SCORER_ARGS[@]}"} "$@" ;;
    validator)
        start validator ${p}91 "$BIN/txw-validator" --database-url "$DB" \
            --rates "$ROOT/tests/e2e/rates.csv" --max-future-ms 315360000000 \
            --bind tcp://127.0.0.1:${p}01 --scorer-endpoints tcp://127.0.0.1:${p}11 \
            --publish tcp://127.0.0.1:${p}02 --admin-port ${p}91 \
            ${VALIDATOR_ARGS[@]+"${VALIDATOR_ARGS[@]}"} "$@" ;;
    esac
}

# start_pipeline PREFIX [AGGREGATOR ARGS...]: aggregator, scorer and validator
# on ports PREFIX21/22 (aggregator), PREFIX11/12 (scorer), PREFIX01/02
# (validator), admin ports PREFIX93/92/91, against $DB, with the test rates.
# SCORER_ARGS and VALIDATOR_ARGS, arrays, add options to those command lines.
start_pipeline() {
    local p=$1; shift
    start_stage aggregator "$p" "$@"
    start_stage scorer "$p"
    start_stage validator "$p"
}

# wrk_read FILE: the figures of a `wrk --latency` report, for the benches:
# WRK_RATE (requests a second achieved), WRK_P50 and WRK_P99 as wrk prints
# them (450.00us, 1.50ms, 1.02s), WRK_P99_MS (the p99 in ms, empty without
# one) and WRK_ERRORS (its non-2xx count and socket-error lines; empty when
# none).
# shellcheck disable=SC2034 # the WRK_ figures are read by the bench that calls it
wrk_read() {
    WRK_RATE=$(awk '/^Requests\/sec:/ { print $2 }' "$1")
    WRK_P50=$(awk '$1 == "50%" { print $2 }' "$1")
    WRK_P99=$(awk '$1 == "99%" { print $2 }' "$1")
    WRK_P99_MS=$(echo "$WRK_P99" | awk '/us$/ { sub(/us/, ""); print $1 / 1000; next }
                                       /ms$/ { sub(/ms/, ""); print $1; next }
                                       /s$/  { sub(/s/, "");  print $1 * 1000 }')
    WRK_ERRORS=$(awk '/Non-2xx/ { print $NF } /Socket errors/ { print }' "$1")
}

# metric PORT NAME: prints the value of an unlabelled metric (0 if absent)
metric() {
    curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}

# wait_metric PORT NAME VALUE SECONDS: waits until the metric reaches VALUE
wait_metric() {
    local deadline=$((SECONDS + $4)) v
    while [ $SECONDS -lt $deadline ]; do
        v=$(metric "$1" "$2")
        [ "${v%.*}" -ge "$3" ] 2>/dev/null && return 0
        sleep 0.2
    done
    note "$2 on port $1 is $(metric "$1" "$2"), expected $3"
    return 1
}

# stop PID...: SIGTERM, and the exit code must be 0 (clean drain)
stop_clean() {
    local rc=0 pid
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" || rc=1
    done
    return $rc
}

cleanup() {
    # CONT too: a suite may have paused a process (SIGSTOP) when it failed
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null; done
    wait 2>/dev/null
    [ "$PG_STARTED" -eq 1 ] && sh "$ROOT/deploy/local/pg.sh" stop
}
trap cleanup EXIT

# make_key NAME ROLE: makes an API key in $DB, as `txwctl keys create
# --database-url` would (proto/sql/011_identity.sql), and prints its text
make_key() {
    local made
    made=$(python3 -c '
import base64, hashlib, os
key_id = os.urandom(8).hex()
secret = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
print("txw_%s_%s %s %s" % (key_id, secret, key_id, hashlib.sha256(secret.encode()).hexdigest()))')
    # shellcheck disable=SC2086 # three words: the key, its id, its hash
    set -- "$1" "$2" $made
    sql "INSERT INTO txw_data.api_keys (key_id, name, role, secret_hash, created_by)
         VALUES ('$4', '$1', '$2', decode('$5', 'hex'), 'tests')" >/dev/null && echo "$3"
}

# db_url LOGIN: the URL of the suite's PostgreSQL (pg_start) as the role
# LOGIN instead of the owner; every local connection is trusted there, so a
# login without a password gets in (proto/SQL.md, "Roles")
db_url() { sh "$ROOT/deploy/local/pg.sh" url "$1"; }

# --- reading the query API, every answer checked against proto/openapi.yaml -----
# A suite sets API (http://host:port/api/v1) and defines get KEY PATH, which
# calls api_get with the operation's path template. jq_is and bad read
# through it; api_conforms checks what was recorded, at the end.
REC=$WORK/records.tsv
: >"$REC"
# api_get KEY PATH TEMPLATE: the status, then the body on the next lines
api_get() {
    local status n
    status=$(curl -s -o "$WORK/body.json" -w '%{http_code}' -H "Authorization: Bearer $1" "$API/$2")
    n=$(wc -l <"$REC")
    cp "$WORK/body.json" "$WORK/answer-$n.json"
    printf 'get\t%s\t%s\t%s\n' "$3" "$status" "$WORK/answer-$n.json" >>"$REC"
    echo "$status"
    cat "$WORK/body.json"
}
# jq_is KEY PATH FILTER EXPECTED: status 200 and jq FILTER of the body is EXPECTED
jq_is() {
    local out status
    out=$(get "$1" "$2"); status=${out%%$'\n'*}
    [ "$status" = 200 ] || { note "$2: $status ${out#*$'\n'}"; return 1; }
    [ "$(printf '%s' "${out#*$'\n'}" | jq -c "$3")" = "$4" ] \
        || { note "$2: $3 is $(printf '%s' "${out#*$'\n'}" | jq -c "$3"), expected $4"; return 1; }
}
# bad PATH PARAMETER: as $ANALYST, 400 naming PARAMETER
bad() {
    local out
    out=$(get "$ANALYST" "$1")
    [ "${out%%$'\n'*}" = 400 ] && [ "$(printf '%s' "${out#*$'\n'}" | jq -r .parameter)" = "$2" ] \
        || { note "$1: ${out//$'\n'/ }"; return 1; }
}
# api_conforms: every recorded answer conforms to proto/openapi.yaml
api_conforms() {
    note "checking $(wc -l <"$REC") recorded answers against proto/openapi.yaml"
    node "$ROOT/tests/js/openapi_check.mjs" "$ROOT/proto/openapi.yaml" "$REC" >"$WORK/openapi.txt"
    check "every answer conforms to proto/openapi.yaml" test $? = 0
    grep '^not ok' "$WORK/openapi.txt" | head -5 | sed 's/^/# /'
}

# dashboard_dir: the dashboard bundle beside TXW_BIN's build if it has one
# (make BUILD=DIR dashboard), else the default build's; fails if none is built
dashboard_dir() {
    local dir
    dir=$(dirname "$BIN")/dashboard
    [ -f "$dir/index.html" ] || dir=$ROOT/build/dashboard
    [ -f "$dir/index.html" ] && echo "$dir"
}

# browser_test SCRIPT ARG...: runs a Chromium test (node SCRIPT ARG...) once
# no other suite's is running. A live dashboard keeps a core half busy in
# Chromium's software rendering; four at once (two suites in each of
# make test-clock's two passes) starved their pages for seconds, long
# enough for actions and waits to time out. The lock is machine-wide
# (build/browser.lock), so it holds across network namespaces and passes.
browser_test() {
    flock "$ROOT/build/browser.lock" node "$@"
}
