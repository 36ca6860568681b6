#!/bin/sh
# run.sh - runs every test suite and prints one closing line
#
# Usage: tests/run.sh UNIT_BINARY...
# Unit binaries are cmocka programs; tests/e2e/*.sh are end-to-end suites
# that print "ok - name" / "not ok - name" lines (TAP style). Counts are
# test cases, summed over suites. TXW_SKIP_E2E=1 runs the unit tests only;
# TXW_SUITES="a b ..." runs only those end-to-end suites. TXW_BIN points the
# suites at another build's binaries (make sanitize), TXW_TEST_LOG_DIR
# puts the logs elsewhere (default build/test-logs).
set -u
passed=0
failed=0
failures=""
log_dir=${TXW_TEST_LOG_DIR:-build/test-logs}
mkdir -p "$log_dir"

count_cmocka() {
    # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), ..."
    p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$1" | grep -oE '[0-9]+' | head -1)
    f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$1" | grep -oE '[0-9]+' | head -1)
    echo "${p:-0} ${f:-0}"
}

# Unit tests of database code get a private PostgreSQL of their own.
test_pg_started=0
if [ -z "${TXW_TEST_DATABASE_URL:-}" ]; then
    if TXW_TEST_DATABASE_URL=$(TXW_PG_DIR=build/test-pg TXW_PG_PORT=25340 sh deploy/local/pg.sh start); then
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
    TXW_PG_DIR=build/test-pg TXW_PG_PORT=25340 sh deploy/local/pg.sh stop
fi

if [ "${TXW_SKIP_E2E:-0}" != 1 ]; then
    for suite in tests/e2e/*.sh; do
        [ -f "$suite" ] || continue
        name=$(basename "$suite" .sh)
        [ "$name" = lib ] && continue       # helpers, sourced by the suites
        if [ -n "${TXW_SUITES:-}" ]; then
            case " $TXW_SUITES " in *" $name "*) ;; *) continue ;; esac
        fi
        out="$log_dir/e2e-$name.log"
        echo "---- $name"
        started=$(date +%s)
        bash "$suite" >"$out" 2>&1
        rc=$?
        echo "# $name took $(($(date +%s) - started)) s"
        p=$(grep -cE '^ok - ' "$out")
        f=$(grep -cE '^not ok - ' "$out")
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$out"; fi
        grep -E '^(ok|not ok|#) ' "$out"
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$f" -gt 0 ]; then
            failures="$failures $name"
            echo "---- last lines of $out"; tail -40 "$out"
        fi
    done
fi

[ -n "$failures" ] && echo "failed suites:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
