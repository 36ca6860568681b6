#!/bin/bash
# sanitize.sh - the unit and end-to-end suites on binaries built with ASan and UBSan
#
# Usage: tests/sanitize.sh BUILD_DIR UNIT_BINARY...
# BUILD_DIR holds bin/ built with -fsanitize=address,undefined
# -fno-sanitize-recover=all (make sanitize). A sanitizer report, leaks
# included, ends the process that found it. ASan and LSan write theirs to
# BUILD_DIR/reports; UBSan, linked beside ASan, ignores log_path and writes to
# stderr, which every suite keeps in its logs; both places are searched. The
# run passes only when every suite passes and no report is found. The suites are those that drive the C code paths: the
# container and manifest suites only read files, and the browser suite's C
# path is the gateway's, which the gateway suite covers.
set -u
build=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
reports=$root/$build/reports
rm -rf "$reports"
mkdir -p "$reports"

# detect_leaks: every service frees what it holds at a clean exit, so a leak
# report is a real leak. Third-party leaks that are not ours are listed, with
# the reason, in tests/sanitize.supp.
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitize.supp:print_suppressions=0"
export TXW_BIN=$root/$build/bin
export TXW_SUITES=${TXW_SANITIZE_SUITES:-"pipeline backfill crash garbage restart reload checkpoint query gateway notifier txwctl curve dbroles products customers recommendations history retention ingest corrections rescore alerts channels supervised"}
# The crash suite's file, smaller: the sanitized stages are slower.
export TXW_CRASH_ROWS=${TXW_CRASH_ROWS:-100000}
# Sanitized code runs two to three times slower; the suites' waits allow it.
# They run TXW_JOBS at a time, as tests/run.sh says.
ulimit -c 0

pattern='runtime error:|ERROR: (Address|Leak)Sanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer'
export TXW_TEST_LOG_DIR=$build/test-logs
started=$SECONDS
bash "$root/tests/run.sh" "$@" | tee "$reports.log"
rc=${PIPESTATUS[0]}
read -r passed _ failed _ < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$reports.log" | tail -1)

# Reports: ASan's files, and any log of this run that holds one.
log_dir=$root/$build/test-logs
suite_dirs=()
for s in $TXW_SUITES; do suite_dirs+=("$root/build/e2e/$s"); done
count=0
while IFS= read -r report; do
    count=$((count + 1))
    echo "---- sanitizer report in $report"
    grep -E -A40 "$pattern" "$report" | head -60
done < <(find "$reports" -type f; grep -rlE "$pattern" "$log_dir" "${suite_dirs[@]}" 2>/dev/null)
echo "# sanitizer reports: $count, $((SECONDS - started)) s"
# The closing line counts "no sanitizer report" as one more check.
if [ "$count" -eq 0 ]; then passed=$((${passed:-0} + 1)); else failed=$((${failed:-0} + 1)); rc=1; fi
echo "sanitize: ${passed:-0} passed, ${failed:-1} failed"
exit "$rc"
