#!/bin/bash
# backfill_bench.sh - a bank's history export: rows sorted by account, stored whole
#
# Generates BACKFILL_COUNT (default 1,000,000) rows over about 60 days,
# sorts them by account (the order of a typical export), and times
# `txw-producer --file` into validator -> scorer -> aggregator with
# --store all, from the first row sent until every row is stored. Most rows
# then belong to windows no longer in memory and are added to the stored
# ones. Prints the time and rate, and checks the window totals against the
# file (tests/e2e/expected.py). Run by `make bench`.
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

COUNT=${BACKFILL_COUNT:-1000000}
pg_start 25358
P=176

# One row every 5 s of event time: 1,000,000 rows span about 58 days.
"$BIN/txw-producer" --seed 31 --count "$COUNT" --start 2025-06-01T00:00:00Z --event-rate 0.2 \
    --rate 0 --accounts 20000 --shape flat --csv-out "$WORK/time.csv" --admin-port 0 \
    >"$WORK/gen.log" 2>&1
{ head -n 1 "$WORK/time.csv"; tail -n +2 "$WORK/time.csv" | sort -t, -k3,3 -s; } >"$WORK/account.csv"

start_pipeline $P --store all
t0=$(date +%s.%N)
"$BIN/txw-producer" --file "$WORK/account.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer.log" 2>&1
wait_metric ${P}93 txw_stored_transactions_total "$COUNT" 1800 || note "not every row was stored"
t1=$(date +%s.%N)
added=$(metric ${P}93 txw_stored_window_additions_total)
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_validator $PID_scorer $PID_aggregator
awk -v n="$COUNT" -v a="$t0" -v b="$t1" -v r="$added" 'BEGIN {
    printf "backfill, %d rows sorted by account, --store all: stored in %.1f s = %d rows/s (%d window rows added to stored ones)\n",
           n, b - a, n / (b - a), r }'
python3 "$ROOT/tests/e2e/expected.py" windows "$WORK/time.csv" "$ROOT/tests/e2e/rates.csv" \
    | cut -f1-8 | LC_ALL=C sort >"$WORK/expected.tsv"
sql "SELECT dimension, key, (extract(epoch FROM window_start) * 1000)::bigint, tx_count,
            amount_minor_sum, approved, declined, failed
     FROM txw.window_totals" | LC_ALL=C sort >"$WORK/actual.tsv"
check "the backfill's window totals equal the file's" cmp -s "$WORK/expected.tsv" "$WORK/actual.tsv"
