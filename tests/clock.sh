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
# of 1,770 s in CI). backup is left out too, for another reason: under
# libfaketime 0.9.10, with the clock set ahead (even by a minute),
# PostgreSQL's own timers never fire, so statement_timeout, lock_timeout
# and the deadlock check never end a wait (`SET statement_timeout = '1s';
# SELECT pg_sleep (3)` runs the 3 s at +60 s and is cancelled after 1 s at
# +0 and at -60 s). The backup suite waits on a lock_timeout and runs
# pg_dump beside a writing pipeline: it waited forever (CI's 900 s timeout).
# Setting the clock back instead cures PostgreSQL, but in the one pass
# tried so the crash suite's cut COMMIT hung instead, and the dashboard and
# query suites failed on time, so the clock still goes ahead and
# backup, which checks no wall-clock behaviour of txwatch's own (its file
# name's stamp aside), runs in the unfaked pass only. So do crash and
# backfill, the longest suites of these passes (about 300 s of a pass's
# suite time in CI): they replay files whose event times are fixed
# (2026-01-05, 2025) through a validator that takes any date, so the wall
# clock reaches nothing of theirs but log stamps.
# The browser suites run in the Monday pass only: the dashboard reads the
# date and the hour (its "updated" line, its ranges) but never the weekday,
# so a second pass taught nothing, and on two cores their Chromium pages,
# which take turns with the other pass's (tests/run.sh), were most of the
# step's wall time.
# TXW_CLOCK_SUITES="a b" runs only those suites; TXW_CLOCK_PASSES=Monday
# (or Saturday) only that pass. The two passes run at the
# same time, each in a network namespace of its own (the suites' ports are
# the same in both) with its own work folders, unit-test PostgreSQL and
# netns-suite namespace names; the suites wait mostly on sockets, so this
# takes little more than one pass did. Without root or `ip netns`, or with
# TXW_CLOCK_SERIAL=1, they run one after the other. Within a pass the suites
# run TXW_JOBS at a time, as tests/run.sh says. Each pass's output is
# printed whole once both are done.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -f "$lib" ] || { echo "libfaketime is missing (apt-get install faketime)"; echo "0 passed, 1 failed"; exit 1; }
clock_free=" backfill backup compose compose-run contracts crash hardening k8s lib "
if [ -z "${TXW_CLOCK_SUITES:-}" ]; then
    TXW_CLOCK_SUITES=
    for suite in "$root"/tests/e2e/*.sh; do
        name=$(basename "$suite" .sh)
        case $clock_free in *" $name "*) ;; *) TXW_CLOCK_SUITES="$TXW_CLOCK_SUITES $name" ;; esac
    done
fi
browser=" dashboard dashboard_alerts dashboard_customers "
weekday_suites=
for name in $TXW_CLOCK_SUITES; do
    case $browser in *" $name "*) ;; *) weekday_suites="$weekday_suites $name" ;; esac
done

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

parallel=1
if [ "${TXW_CLOCK_SERIAL:-0}" = 1 ] || [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1; then
    parallel=0
fi
namespaces=()
trap '"$shm_tool" remove "$shm_name"; for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done' EXIT

# run_pass WEEKDAY HH:MM NAME UNIT_BINARY...: one pass, its output in its log
run_pass() {
    local weekday=$1 hhmm=$2 name=$3 at offset ns
    shift 3
    at=$(next_at "$weekday" "$hhmm")
    offset=$((at - $(date +%s)))
    local suites=$TXW_CLOCK_SUITES
    [ "$name" = Monday ] || suites=$weekday_suites
    # An empty TXW_SUITES would run every suite.
    [ -n "${suites// /}" ] || suites=none
    local cmd=(env TXW_SUITES="$suites" LD_PRELOAD="$lib" FAKETIME="+$offset" FAKETIME_DONT_FAKE_MONOTONIC=1
               FAKETIME_SHARED="$shared" TXW_TEST_LOG_DIR="build/test-logs/clock-$name"
               TXW_E2E_DIR="$root/build/e2e-clock-$name" TXW_TEST_PG_DIR="build/test-pg-clock-$name"
               TXW_NETNS_PREFIX="txw${name:0:3}" bash "$root/tests/run.sh" "$@")
    echo "==== faked clock: $(date -u -d "@$at" '+%F %H:%M UTC') ($name), offset ${offset} s"
    if [ "$parallel" -eq 1 ]; then
        ns=txwclock-$name
        ip netns exec "$ns" "${cmd[@]}"
    else
        "${cmd[@]}"
    fi
}

passes=()
for spec in "1 03:00 Monday" "6 14:00 Saturday"; do
    case " ${TXW_CLOCK_PASSES:-Monday Saturday} " in *" ${spec##* } "*) passes+=("$spec") ;; esac
done
pids=()
mkdir -p "$root/build/test-logs"
for spec in "${passes[@]}"; do
    read -r weekday hhmm name <<<"$spec"
    out=$root/build/test-logs/clock-$name.log
    if [ "$parallel" -eq 1 ]; then
        ns=txwclock-$name
        ip netns del "$ns" 2>/dev/null
        if ! ip netns add "$ns" || ! namespaces+=("$ns") || ! ip netns exec "$ns" ip link set lo up; then
            echo "namespace $ns does not come up"; echo "0 passed, 1 failed"; exit 1
        fi
        run_pass "$weekday" "$hhmm" "$name" "$@" >"$out" 2>&1 &
        pids+=($!)
    else
        run_pass "$weekday" "$hhmm" "$name" "$@" 2>&1 | tee "$out"
    fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

total_passed=0
total_failed=0
for spec in "${passes[@]}"; do
    read -r _ _ name <<<"$spec"
    out=$root/build/test-logs/clock-$name.log
    [ "$parallel" -eq 1 ] && cat "$out"
    read -r p _ f _ < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
    total_passed=$((total_passed + ${p:-0}))
    total_failed=$((total_failed + ${f:-1}))
done
echo "clock: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
