#!/bin/bash
# run.sh - runs every test suite and prints one closing line
#
# Usage: tests/run.sh UNIT_BINARY...
# Unit binaries are cmocka programs; tests/e2e/*.sh are end-to-end suites
# that print "ok - name" / "not ok - name" lines (TAP style). Counts are
# test cases, summed over suites. TXW_SKIP_E2E=1 runs the unit tests only;
# TXW_SUITES="a b ..." runs only those end-to-end suites. TXW_BIN points the
# suites at another build's binaries (make sanitize), TXW_TEST_LOG_DIR
# puts the logs elsewhere (default build/test-logs), TXW_E2E_DIR the suites'
# work folders (default build/e2e).
#
# The end-to-end suites run TXW_JOBS at a time (default 2; 1: one after
# another): they wait mostly on sockets and PostgreSQL, and each has its
# own ports, PostgreSQL port and work folder (tests/e2e/lib.sh). Each
# suite's output is kept in its log and printed whole, in the suites' order,
# once it and those before it are done. The suites of ALONE (below) run
# after the others, one at a time, with nothing beside them. A suite still
# running after TXW_SUITE_TIMEOUT seconds (default 900) is stopped, with
# every process it started, and fails.
# Run by sh, as it long was, it runs itself again under bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
passed=0
failed=0
failures=""
log_dir=${TXW_TEST_LOG_DIR:-build/test-logs}
mkdir -p "$log_dir"
at_once=${TXW_JOBS:-2}
suite_timeout=${TXW_SUITE_TIMEOUT:-900}
if ! [[ $at_once =~ ^[1-9][0-9]*$ && $suite_timeout =~ ^[1-9][0-9]*$ ]]; then
    echo "TXW_JOBS and TXW_SUITE_TIMEOUT are whole numbers above 0"
    echo "0 passed, 1 failed"
    exit 2
fi

count_cmocka() {
    # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), ..."
    p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$1" | grep -oE '[0-9]+' | head -1)
    f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$1" | grep -oE '[0-9]+' | head -1)
    echo "${p:-0} ${f:-0}"
}

# Unit tests of database code get a private PostgreSQL of their own, in
# TXW_TEST_PG_DIR (default build/test-pg).
unit_pg_dir=${TXW_TEST_PG_DIR:-build/test-pg}
test_pg_started=0
if [ $# -gt 0 ] && [ -z "${TXW_TEST_DATABASE_URL:-}" ]; then
    if TXW_TEST_DATABASE_URL=$(TXW_PG_DIR=$unit_pg_dir TXW_PG_PORT=25340 sh deploy/local/pg.sh start); then
        export TXW_TEST_DATABASE_URL
        test_pg_started=1
    else
        echo "warning: no PostgreSQL for the unit tests; database tests will skip"
    fi
fi

for bin in "$@"; do
    name=$(basename "$bin")
    out="$log_dir/$name.log"
    CMOCKA_MESSAGE_OUTPUT=stdout "$bin" >"$out" 2>&1
    rc=$?
    counts=$(count_cmocka "$out")
    p=${counts% *}; f=${counts#* }
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failures="$failures $name"
        echo "FAIL $name ($p passed, $f failed)"; sed -n '1,80p' "$out"
    else
        echo "ok   $name ($p passed)"
    fi
done

if [ "$test_pg_started" -eq 1 ]; then
    TXW_PG_DIR=$unit_pg_dir TXW_PG_PORT=25340 sh deploy/local/pg.sh stop
fi

# Suites that cannot run beside another, each with the reason:
#   netns             makes network namespaces (txwn-*), their /etc/netns
#                     files and a bridge, all with fixed names, and its
#                     PostgreSQL takes retention's port (25357)
#   dashboard_alerts  its PostgreSQL has alerts.sh's port (25386)
ALONE=" netns dashboard_alerts "
# Suites run only when TXW_SUITES names them:
#   compose-run       builds every container image and runs the compose
#                     stack in Docker (make test-containers; root, minutes)
OPT_IN=" compose-run "
# Started first, so that the last to end do not run alone for long: the
# longest suites (well over a minute in make test or make sanitize).
FIRST=" backfill crash query txwctl dbroles gateway notifier "
# Suites that drive Chromium: their browser part takes build/browser.lock
# (browser_test in tests/e2e/lib.sh), one machine-wide. While another holds
# it (the other faked-clock pass, say) such a suite is started only when no
# other suite is left to start: waiting, its live pipeline would load the
# machine for nothing.
BROWSER=" dashboard dashboard_alerts dashboard_customers compose-run "
browser_lock=build/browser.lock

# browser_busy: true while another process holds the browser lock
browser_busy() {
    mkdir -p "$(dirname "$browser_lock")"
    ! flock -n "$browser_lock" true
}

# report_suite NAME EXIT_CODE SECONDS: counts and prints a suite's results
report_suite() {
    local name=$1 rc=$2 out=$log_dir/e2e-$1.log p f
    echo "---- $name"
    echo "# $name took $3 s"
    if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$3" -ge "$suite_timeout" ]; }; then
        echo "not ok - $name was stopped after TXW_SUITE_TIMEOUT=$suite_timeout s" >>"$out"
    fi
    p=$(grep -cE '^ok - ' "$out")
    f=$(grep -cE '^not ok - ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$out"; fi
    grep -E '^(ok|not ok|#) ' "$out"
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failures="$failures $name"
        echo "---- last lines of $out"; tail -40 "$out"
    fi
}

# The running suites: the timeout process of each, by pid, and its index
# in the list run_suites was given.
declare -A running=()

# run_suites JOBS NAME...: runs the suites JOBS at a time, each under
# timeout, which puts it in a process group of its own and past the limit
# sends SIGTERM to the whole group (the suite's trap stops its services and
# its PostgreSQL), SIGKILL 30 s later. Those of FIRST start first; each is
# reported in the order given, once it and those before it are done.
# bash's `wait -n` misses a job that ends while no wait is pending, so the
# ended ones are found by kill -0 once a second, and their codes read by wait.
run_suites() {
    local jobs=$1; shift
    local names=("$@") order=() began=() rcs=() took=() started=0 shown=0 pid i k pick
    for i in "${!names[@]}"; do
        case $FIRST in *" ${names[i]} "*) order+=("$i") ;; esac
    done
    for i in "${!names[@]}"; do
        case $FIRST in *" ${names[i]} "*) ;; *) order+=("$i") ;; esac
    done
    while [ "$shown" -lt "${#names[@]}" ]; do
        while [ "${#running[@]}" -lt "$jobs" ] && [ "$started" -lt "${#names[@]}" ]; do
            # The next in order, but past a browser suite while the lock is
            # held, if anything else is left.
            pick=-1
            for k in "${!order[@]}"; do
                i=${order[k]}
                [ -n "${began[i]:-}" ] && continue
                [ "$pick" -lt 0 ] && pick=$k
                case $BROWSER in *" ${names[i]} "*) browser_busy && continue ;; esac
                pick=$k
                break
            done
            i=${order[pick]}
            timeout -k 30 "$suite_timeout" bash "tests/e2e/${names[i]}.sh" \
                >"$log_dir/e2e-${names[i]}.log" 2>&1 </dev/null &
            running[$!]=$i
            began[i]=$SECONDS
            started=$((started + 1))
        done
        sleep 1
        for pid in "${!running[@]}"; do
            kill -0 "$pid" 2>/dev/null && continue
            i=${running[$pid]}
            unset "running[$pid]"
            wait "$pid"
            rcs[i]=$?
            took[i]=$((SECONDS - began[i]))
        done
        while [ -n "${rcs[shown]:-}" ]; do
            report_suite "${names[shown]}" "${rcs[shown]}" "${took[shown]}"
            shown=$((shown + 1))
        done
    done
}

# stop_suites EXIT_CODE: run.sh is stopped (Ctrl-C, or the CI's own time
# limit): it stops the running suites as their timeout would, and waits
# for their traps to clean up.
stop_suites() {
    [ "${#running[@]}" -eq 0 ] || kill -TERM "${!running[@]}" 2>/dev/null
    wait
    exit "$1"
}

if [ "${TXW_SKIP_E2E:-0}" != 1 ]; then
    together=() alone=()
    for suite in tests/e2e/*.sh; do
        [ -f "$suite" ] || continue
        name=$(basename "$suite" .sh)
        [ "$name" = lib ] && continue       # helpers, sourced by the suites
        if [ -n "${TXW_SUITES:-}" ]; then
            case " $TXW_SUITES " in *" $name "*) ;; *) continue ;; esac
        else
            case $OPT_IN in *" $name "*) continue ;; esac
        fi
        case $ALONE in *" $name "*) alone+=("$name") ;; *) together+=("$name") ;; esac
    done
    echo "# end-to-end suites: ${#together[@]}, $at_once at a time, then alone: ${alone[*]:-none}"
    trap 'stop_suites 130' INT
    trap 'stop_suites 143' TERM
    run_suites "$at_once" "${together[@]}"
    run_suites 1 "${alone[@]}"
    trap - INT TERM
fi

[ -n "$failures" ] && echo "failed suites:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
