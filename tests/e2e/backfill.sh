#!/bin/bash
# backfill.sh - history files in any order and of any span count exactly
#
# A bank's export is sorted by account, not by time, and may cover a year.
# The same generated rows go through validator -> scorer -> aggregator three
# times, each into a database of its own: in time order, sorted by account
# (the order within an account kept) and shuffled. The aggregator keeps an
# hour of windows in memory; everything older is added to the stored
# windows. Checks: every row is stored, the window totals equal an
# independent computation from the file (expected.py) whatever the order,
# and the scores of the account order equal those of the time order, since
# each account's history arrives in the same order. The exception is what
# the scorer's cross-account state adds (merchant and device signals,
# services/scorer/merchants.h): a merchant's view depends on the order of
# all its accounts, so in an account-sorted file it is not the view the
# time order gave. A transaction is checked to keep every other reason,
# and its score when neither order gave it a cross-account one. A file of more than a year, sorted by account, is
# stored whole too (a partition per day).
#
# Not compared: `late` (it is what arrived after its window closed, so it
# depends on the order by definition), and flagged counts and scores of the
# shuffled run (shuffling changes each account's history as the scorer sees
# it).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25356
P=193   # port prefix for this suite
BASE_DB=$DB
RATES="$ROOT/tests/e2e/rates.csv"

# 66 days of history (20,000 rows at one every 285 s of event time), and
# over a year (6,000 rows at one every 5,760 s, times the daily shape).
"$BIN/txw-producer" --seed 21 --count 20000 --start 2025-09-01T00:00:00Z --event-rate 0.0035 \
    --rate 0 --accounts 400 --fraud-rate 0.01 --csv-out "$WORK/time.csv" --admin-port 0 \
    >"$WORK/gen.log" 2>&1
"$BIN/txw-producer" --seed 22 --count 6000 --start 2025-01-01T00:00:00Z --event-rate 0.000174 \
    --rate 0 --accounts 300 --fraud-rate 0.01 --csv-out "$WORK/year.csv" --admin-port 0 \
    >>"$WORK/gen.log" 2>&1
check "the producer writes both history files" test -s "$WORK/time.csv" -a -s "$WORK/year.csv"
days() {   # file: days between its first and last event, and days with events
    python3 - "$1" <<'PY'
import csv, sys
from datetime import datetime
ts = [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")) for r in csv.DictReader(open(sys.argv[1]))]
print((max(ts) - min(ts)).days, len({t.date() for t in ts}))
PY
}
read -r DAYS _ <<<"$(days "$WORK/time.csv")"
read -r YEAR_DAYS YEAR_DATES <<<"$(days "$WORK/year.csv")"
note "the files span $DAYS and $YEAR_DAYS days"
check "the history files span more than 64 and 365 days" test "$DAYS" -gt 64 -a "$YEAR_DAYS" -gt 365

by_account() {   # file: the header, then the rows sorted by account (stable)
    head -n 1 "$1"
    tail -n +2 "$1" | sort -t, -k3,3 -s
}
by_account "$WORK/time.csv" >"$WORK/account.csv"
{ head -n 1 "$WORK/time.csv"; tail -n +2 "$WORK/time.csv" | shuf --random-source=<(yes); } \
    >"$WORK/shuffled.csv"
by_account "$WORK/year.csv" >"$WORK/year-account.csv"

# Window totals without `late`, and the expected ones from the file.
totals() {   # the window totals of $DB, one line each, sorted
    sql "SELECT dimension, key, (extract(epoch FROM window_start) * 1000)::bigint, tx_count,
                amount_minor_sum, approved, declined, failed
         FROM txw.window_totals" | LC_ALL=C sort
}
expected() {   # file
    python3 "$ROOT/tests/e2e/expected.py" windows "$1" "$RATES" | cut -f1-8 | LC_ALL=C sort
}
scored() {   # every transaction's score and reasons
    sql "SELECT tx_id, score, array_to_string (reasons, ' ') FROM txw.transactions ORDER BY 1"
}
CROSS_REASONS="merchant_activity merchant_fraud shared_device"
# same_scores A B: the transactions of two scored() files differ only by
# cross-account reasons (and, where either has one, by score). Prints how
# many hold one, or the first that differs otherwise.
same_scores() {
    python3 - "$1" "$2" "$CROSS_REASONS" <<'PY'
import sys
cross = set(sys.argv[3].split())
def load(path):
    rows = {}
    for line in open(path):
        tx, score, reasons = line.rstrip("\n").split("\t")
        rows[tx] = (int(score), set(reasons.split()))
    return rows
a, b = load(sys.argv[1]), load(sys.argv[2])
if a.keys() != b.keys():
    sys.exit(f"the transactions differ ({len(a)} and {len(b)})")
held = 0
for tx in sorted(a):
    (sa, ra), (sb, rb) = a[tx], b[tx]
    if (ra | rb) & cross:
        held += 1
    if ra - cross != rb - cross or (not (ra | rb) & cross and sa != sb):
        sys.exit(f"{tx}: {sa} {sorted(ra)} against {sb} {sorted(rb)}")
print(held)
PY
}

# run NAME FILE: a fresh database, the pipeline, the file, the pipeline stopped.
run() {
    local name=$1 file=$2 rows
    rows=$(($(wc -l <"$file") - 1))
    sql "CREATE DATABASE backfill_$name" >/dev/null
    DB=${BASE_DB%/*}/backfill_$name
    start_pipeline $P
    "$BIN/txw-producer" --file "$file" --validator-endpoints tcp://127.0.0.1:${P}01 \
        --admin-port 0 >>"$WORK/producer.log" 2>&1
    check "$name: the producer sends the file ($rows rows) and exits 0" test $? -eq 0
    check "$name: the aggregator receives every row" \
        wait_metric ${P}93 txw_records_in_total "$rows" 120
    # shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
    check "$name: the pipeline stops cleanly" stop_clean $PID_validator $PID_scorer $PID_aggregator
    PIDS=()
    for svc in validator scorer aggregator; do mv "$WORK/$svc.log" "$WORK/$name-$svc.log"; done
    check "$name: every row is stored, no dead letter" \
        test "$(sql "SELECT count(*) FROM txw.transactions"):$(sql "SELECT count(*) FROM txw.dead_letters")" = "$rows:0"
    totals >"$WORK/$name-totals.tsv"
    scored >"$WORK/$name-scored.tsv"
    sql "SELECT account_id, tx_count, spend_rep_minor, lifetime_value_rep_minor, approved,
                declined, failed, flagged, mean_score, max_score, first_seen, last_seen
         FROM txw.accounts ORDER BY 1" >"$WORK/$name-accounts.tsv"
}

expected "$WORK/time.csv" >"$WORK/expected.tsv"
run time "$WORK/time.csv"
check "in time order: the window totals equal the file's" cmp -s "$WORK/expected.tsv" "$WORK/time-totals.tsv"
# --- the same rows again -------------------------------------------------------------
# Into the time-order database, with new processes (so the shard reads back
# what it counted): the whole file again, then its rows split over two
# files. Nothing changes.
DB=${BASE_DB%/*}/backfill_time
start_pipeline $P
half=$(( $(wc -l <"$WORK/time.csv") / 2 ))
head -n "$half" "$WORK/time.csv" >"$WORK/part1.csv"
{ head -n 1 "$WORK/time.csv"; tail -n +$((half + 1)) "$WORK/time.csv"; } >"$WORK/part2.csv"
for file in time part1 part2; do
    "$BIN/txw-producer" --file "$WORK/$file.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
        --admin-port 0 >>"$WORK/producer.log" 2>&1
done
check "sent again: every row is recognised as counted before (40000)" \
    wait_metric ${P}93 txw_duplicate_transactions_total 40000 120
stop_clean $PID_validator $PID_scorer $PID_aggregator
PIDS=()
totals >"$WORK/again-totals.tsv"
sql "SELECT account_id, tx_count, spend_rep_minor, lifetime_value_rep_minor, approved,
            declined, failed, flagged, first_seen, last_seen FROM txw.accounts ORDER BY 1" \
    >"$WORK/again-accounts.tsv"
check "sent again, whole and in two files: the window totals are unchanged" \
    cmp -s "$WORK/time-totals.tsv" "$WORK/again-totals.tsv"
check "sent again: the customer totals are unchanged" \
    test "$(cut -f1-8,11-12 "$WORK/time-accounts.tsv")" = "$(cat "$WORK/again-accounts.tsv")"
check "sent again: every transaction is stored once" \
    test "$(sql "SELECT count(*), count(DISTINCT tx_id) FROM txw.transactions")" = $'20000\t20000'

run account "$WORK/account.csv"
added=$(psql "${BASE_DB%/*}/backfill_account" -qAt -c "SELECT count(*) FROM txw_data.windows")
check "sorted by account: the window totals equal the file's ($added window rows)" \
    cmp -s "$WORK/expected.tsv" "$WORK/account-totals.tsv"
held=$(same_scores "$WORK/time-scored.tsv" "$WORK/account-scored.tsv" 2>&1)
check "sorted by account: every score equals the time order's but for cross-account reasons ($held)" \
    test "$held" -ge 0 2>/dev/null
check "sorted by account: the customer totals equal the time order's" \
    test "$(cut -f1-7,11-12 "$WORK/time-accounts.tsv")" = "$(cut -f1-7,11-12 "$WORK/account-accounts.tsv")"
run shuffled "$WORK/shuffled.csv"
check "shuffled: the window totals equal the file's" cmp -s "$WORK/expected.tsv" "$WORK/shuffled-totals.tsv"

expected "$WORK/year.csv" >"$WORK/year-expected.tsv"
run year "$WORK/year-account.csv"
check "over a year sorted by account: the window totals equal the file's" \
    cmp -s "$WORK/year-expected.tsv" "$WORK/year-totals.tsv"
DB=$BASE_DB
partitions=$(psql "${BASE_DB%/*}/backfill_year" -qAt -c \
    "SELECT count(*) FROM pg_inherits WHERE inhparent = 'txw_data.transactions'::regclass")
check "a partition for every day with transactions in the year file ($partitions for $YEAR_DATES)" \
    test "$partitions" = "$YEAR_DATES"

# --- hostile amounts ---------------------------------------------------------------
# With the largest amount raised to 5 * 10^16 EUR, two transactions of that
# EUR would take their window's sum past 2^63 - 1 cents: the second is
# refused whole, never wrapped. Beyond the limit, and beyond 64 bits, are
# dead letters of their own.
{
    head -n 1 "$WORK/time.csv" | cut -d, -f1-14
    echo "H-1,2026-01-05T09:00:01Z,A9,50000000000000000.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
    echo "H-2,2026-01-05T09:00:02Z,A8,50000000000000000.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
    echo "H-3,2026-01-05T09:00:03Z,A7,92233720368547758.08,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
    echo "H-4,2026-01-05T09:00:04Z,A6,60000000000000000.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
    echo "H-5,2026-01-05T09:00:05Z,A5,12.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
} >"$WORK/hostile.csv"
VALIDATOR_ARGS=(--max-amount 50000000000000000)
sql "CREATE DATABASE backfill_hostile" >/dev/null
DB=${BASE_DB%/*}/backfill_hostile
start_pipeline $P
"$BIN/txw-producer" --file "$WORK/hostile.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >>"$WORK/producer.log" 2>&1
wait_metric ${P}93 txw_records_in_total 3 30 >/dev/null
stop_clean $PID_validator $PID_scorer $PID_aggregator
dead=$(sql "SELECT string_agg(tx_id || ':' || reason, ',' ORDER BY tx_id) FROM txw.dead_letters")
check "hostile amounts: each refused one is a dead letter naming its reason ($dead)" \
    test "$dead" = "H-2:sum_overflow,H-3:bad_amount,H-4:amount_too_large"
check "hostile amounts: the others are stored, and the window sum is exact" \
    test "$(sql "SELECT string_agg(tx_id, ',' ORDER BY tx_id) FROM txw.transactions"):$(sql \
        "SELECT amount_minor_sum FROM txw.window_totals WHERE dimension = 'overall'")" \
        = "H-1,H-5:5000000000000001200"

# --- rows PostgreSQL refuses ----------------------------------------------------------
# A constraint the operator added refuses one transaction: it becomes a dead
# letter db_refused naming the error and the rest of the flush is stored.
# A write that keeps failing (here the checkpoints) makes /readyz say why,
# and the shard recovers by itself once the database takes it again.
VALIDATOR_ARGS=()
sql "CREATE DATABASE backfill_refused" >/dev/null
DB=${BASE_DB%/*}/backfill_refused
start_pipeline $P
sql "ALTER TABLE txw_data.transactions ADD CONSTRAINT no_poison CHECK (merchant_id <> 'POISON')"
{
    head -n 1 "$WORK/time.csv" | cut -d, -f1-14
    for i in 1 2 3 4 5 6; do
        merchant=M1; [ "$i" = 3 ] && merchant=POISON
        echo "R-$i,2026-01-05T09:00:0${i}Z,A$i,10.00,EUR,$merchant,grocery,pos,B1,R1,DE,D1,,approved"
    done
} >"$WORK/refused.csv"
"$BIN/txw-producer" --file "$WORK/refused.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >>"$WORK/producer.log" 2>&1
wait_metric ${P}93 txw_refused_rows_total 1 30 >/dev/null
wait_for_sql() {   # sql expected seconds
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(sql "$1")" = "$2" ] && return 0
        sleep 0.2
    done
    note "$1: $(sql "$1"), expected $2"
    return 1
}
check "a refused row does not hold the others back" \
    wait_for_sql "SELECT string_agg(tx_id, ',' ORDER BY tx_id) FROM txw.transactions" "R-1,R-2,R-4,R-5,R-6" 20
check "the refused row is a dead letter db_refused naming the constraint" \
    wait_for_sql "SELECT tx_id || ':' || reason || ':' || (message LIKE '%no_poison%')
                  FROM txw.dead_letters" "R-3:db_refused:true" 20
sql "ALTER TABLE txw_data.checkpoints ADD CONSTRAINT stuck CHECK (false) NOT VALID"
"$BIN/txw-producer" --file "$WORK/refused.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >>"$WORK/producer.log" 2>&1
ready_says() {   # the words /readyz must hold
    local deadline=$((SECONDS + 20)) body
    while [ $SECONDS -lt $deadline ]; do
        body=$(curl -s "http://127.0.0.1:${P}93/readyz")
        grep -q "$1" <<<"$body" && return 0
        sleep 0.2
    done
    note "readyz: $body"
    return 1
}
check "while flushes fail, /readyz says so and why" ready_says '"sqlstate":"23514"'
check "and answers 503" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${P}93/readyz")" = 503
check "the failures are counted" test "$(metric ${P}93 txw_flush_errors_total)" -gt 0
sql "ALTER TABLE txw_data.checkpoints DROP CONSTRAINT stuck"
check "once the database takes the rows again, /readyz is ready" ready_says '"postgres":"ok"'
stop_clean $PID_validator $PID_scorer $PID_aggregator
PIDS=()
DB=$BASE_DB
