#!/bin/bash
# clock.sh - the unit and end-to-end suites under a faked wall clock
#
# Usage: tests/clock.sh UNIT_BINARY...
# Runs tests/run.sh twice under libfaketime: at 03:00 UTC on a Monday (the
# quietest hour of the generator's daily shape, and its night-fraud hours)
# and at 14:00 UTC on a Saturday. The days are the next ones after today, so
# dates stay near the real one. The clock is shifted by a fixed offset, so
# every process (services, PostgreSQL, curl, the browser) sees the same time
# and it runs at its own pace; the monotonic clock is left alone.
#
# Every unit test runs, and every end-to-end suite but those that check
# files rather than a running clock: contracts, hardening and k8s read the
# repository's documents, manifests and binaries; compose does too, and
# the services it then plays on this host are the pipeline suite's, which
# runs here. Together they were a quarter of this step's time (about 450
# of 1,770 s in CI). TXW_CLOCK_SUITES="a b" runs only those suites.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -f "$lib" ] || { echo "libfaketime is missing (apt-get install faketime)"; echo "0 passed, 1 failed"; exit 1; }
clock_free=" compose contracts hardening k8s lib "
if [ -z "${TXW_CLOCK_SUITES:-}" ]; then
    TXW_CLOCK_SUITES=
    for suite in "$root"/tests/e2e/*.sh; do
        name=$(basename "$suite" .sh)
        case $clock_free in *" $name "*) ;; *) TXW_CLOCK_SUITES="$TXW_CLOCK_SUITES $name" ;; esac
    done
fi
export TXW_SUITES=$TXW_CLOCK_SUITES

# next_at WEEKDAY HH:MM: epoch seconds of the next such moment (UTC), today excluded
next_at() {
    local d day
    for d in 1 2 3 4 5 6 7; do
        day=$(date -u -d "+$d day" +%F)
        if [ "$(date -u -d "$day" +%u)" = "$1" ]; then
            date -u -d "$day $2:00" +%s
            return
        fi
    done
}

# One libfaketime shared state for every process, root's and the postgres
# user's alike (tests/tools/faketime_shm.c says why).
shm_tool=$root/build/tools/txw-faketime_shm
shm_name=txwatch_clock_$$
shared=$("$shm_tool" create "$shm_name") || { echo "$shm_tool failed"; echo "0 passed, 1 failed"; exit 1; }
trap '"$shm_tool" remove "$shm_name"' EXIT

total_passed=0
total_failed=0
for spec in "1 03:00 Monday" "6 14:00 Saturday"; do
    read -r weekday hhmm name <<<"$spec"
    at=$(next_at "$weekday" "$hhmm")
    offset=$((at - $(date +%s)))
    echo "==== faked clock: $(date -u -d "@$at" '+%F %H:%M UTC') ($name), offset ${offset} s"
    out=$root/build/test-logs/clock-$name.log
    mkdir -p "$(dirname "$out")"
    LD_PRELOAD=$lib FAKETIME="+$offset" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_SHARED=$shared \
        TXW_TEST_LOG_DIR=build/test-logs/clock-$name sh "$root/tests/run.sh" "$@" | tee "$out"
    read -r p _ f _ < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
    total_passed=$((total_passed + ${p:-0}))
    total_failed=$((total_failed + ${f:-1}))
done
echo "clock: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
