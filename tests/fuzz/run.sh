#!/usr/bin/env bash
# run.sh - fuzzes each harness in turn and prints one closing line
#
# Usage: tests/fuzz/run.sh build/fuzz/bin/fuzz_NAME...
# Each harness runs for FUZZ_SECONDS (default 60) seconds, or FUZZ_RUNS
# executions when that is set and comes first, one at a time, on a copy of
# its seed corpus (tests/fuzz/corpus/NAME, copied into build/fuzz/corpus/NAME,
# which keeps what the fuzzer adds between runs), with tests/fuzz/NAME.dict
# when there is one. A crash, a sanitizer report, a leak, a timeout or an
# oracle that does not hold fails the harness; the input that did it is
# saved under build/fuzz/artifacts/NAME/ and the end of the log is shown.
# The last line is "N passed, M failed".
set -u

seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-}
root=build/fuzz
passed=0
failed=0
failures=""

# The numbers libFuzzer prints at the end (-print_final_stats=1) and the
# coverage of its last status line.
summary() {
    local log=$1 execs rate cov ft
    execs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    rate=$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    cov=$(grep -oE ' cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    ft=${cov##* }
    cov=${cov#* cov: }
    cov=${cov%% ft:*}
    echo "execs ${execs:-?}, ${rate:-?}/s, cov ${cov:-?}, ft ${ft:-?}"
}

for bin in "$@"; do
    name=$(basename "$bin")
    name=${name#fuzz_}
    seeds=tests/fuzz/corpus/$name
    corpus=$root/corpus/$name
    artifacts=$root/artifacts/$name
    log=$root/logs/$name.log
    mkdir -p "$corpus" "$artifacts" "$root/logs"
    if [ -d "$seeds" ]; then
        cp -p "$seeds"/* "$corpus"/ 2>/dev/null
    fi
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix="$artifacts/")
    [ -n "$runs" ] && args+=(-runs="$runs")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
    [ -f "tests/fuzz/$name.options" ] && read -r -a extra < "tests/fuzz/$name.options" \
        && args+=("${extra[@]}")
    "$bin" "${args[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok   $name ($(summary "$log"))"
    else
        failed=$((failed + 1))
        failures="$failures $name"
        echo "FAIL $name (exit $rc; $(summary "$log"); log $log)"
        grep -E '^(artifact_prefix|Test unit written)|oracle failed|ERROR: |SUMMARY: ' "$log" | head -20
        echo "---- last lines of $log"
        tail -30 "$log"
    fi
done

[ -n "$failures" ] && echo "failed harnesses:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
