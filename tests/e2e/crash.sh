#!/bin/bash
# crash.sh - what a producer sent is stored exactly once, through SIGKILLs
#
# A file of 400,000 generated rows (0.5% of them broken on purpose) goes
# through validator -> scorer -> aggregator (--store all) -> PostgreSQL at
# 20,000 rows/s, the producer keeping every batch until the stages that
# store its records acknowledge them (--ack-endpoints). While it flows, one
# at a time: the producer, the validator, the scorer and the aggregator are
# killed with SIGKILL and started again with the same command, and
# PostgreSQL is stopped at once (pg_ctl -m immediate) and started again.
# Afterwards, against an independent computation from the file
# (expected.py): every valid row is stored once, the window totals and the
# customer totals are exact, every broken row is one dead letter, and the
# file's position says it was acknowledged in full, so the same command
# again sends nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25359
P=194   # port prefix for this suite
RATES="$ROOT/tests/e2e/rates.csv"
ROWS=${TXW_CRASH_ROWS:-400000}
FILE=$WORK/in.csv

"$BIN/txw-producer" --seed 41 --count "$ROWS" --start 2026-01-05T00:00:00Z --event-rate 2000 \
    --rate 0 --accounts 5000 --fraud-rate 0.01 --invalid-rate 0.005 --shape flat \
    --csv-out "$FILE" --admin-port 0 >"$WORK/gen.log" 2>&1
check "the producer writes $ROWS rows" test "$(($(wc -l <"$FILE") - 1))" -eq "$ROWS"
python3 "$ROOT/tests/e2e/expected.py" summary "$FILE" "$RATES" >"$WORK/summary.txt"
VALID=$(sed -n 's/^valid=//p' "$WORK/summary.txt")
INVALID=$(sed -n 's/^invalid=//p' "$WORK/summary.txt")
note "$VALID valid rows, $INVALID broken on purpose"

start_pipeline $P
PRODUCER=("$BIN/txw-producer" --file "$FILE" --rate 20000
          --validator-endpoints "tcp://127.0.0.1:${P}01"
          --ack-endpoints "tcp://127.0.0.1:${P}22,tcp://127.0.0.1:${P}02"
          --ack-timeout-ms 2000 --admin-port 0)
"${PRODUCER[@]}" >"$WORK/producer-1.log" 2>&1 &
PRODUCER_PID=$!
PIDS+=("$PRODUCER_PID")

stored() { sql "SELECT count(*) FROM txw.transactions" 2>/dev/null || echo 0; }
# until_stored N: waits until N transactions are stored (60 s at most)
until_stored() {
    local deadline=$((SECONDS + 60))
    while [ "$(stored)" -lt "$1" ]; do
        [ $SECONDS -ge $deadline ] && { note "only $(stored) of $1 stored"; return 1; }
        sleep 0.1
    done
}
# crash STAGE: SIGKILL, then the same command again (its log kept aside)
crash() {
    local pid_var="PID_$1"
    kill -KILL "${!pid_var}"
    wait "${!pid_var}" 2>/dev/null
    mv "$WORK/$1.log" "$WORK/$1-killed.log"
    start_stage "$1" $P
}

# The producer first: a resumed producer must not re-send the whole file,
# or the re-sent file alone would make up for what later crashes lose.
step=$((VALID / 7))
until_stored $step
# ... and once its position has moved past the first lines: the first
# acknowledgements can lag the first stored rows on a loaded machine
# (a dead letter of the first batch is acknowledged only once written).
position_line() { sed -n 's/^line \([0-9]*\)$/\1/p' "$FILE.position" 2>/dev/null; }
deadline=$((SECONDS + 60))
while [ "$(position_line)" -le 2 ] 2>/dev/null || [ -z "$(position_line)" ]; do
    [ $SECONDS -ge $deadline ] && { note "the position did not move: $(cat "$FILE.position")"; break; }
    sleep 0.1
done
kill -KILL "$PRODUCER_PID"
wait "$PRODUCER_PID" 2>/dev/null
check "the producer was killed in the middle of the file" test "$(stored)" -lt "$VALID"
note "the position file after the kill: $(tr '\n' ' ' <"$FILE.position")"
"${PRODUCER[@]}" >"$WORK/producer-2.log" 2>&1 &
PRODUCER_PID=$!
PIDS+=("$PRODUCER_PID")
until_stored $((step * 2))
crash validator
check "the validator was killed mid-stream and is back" test "$(stored)" -lt "$VALID"
until_stored $((step * 3))
crash scorer
check "the scorer was killed mid-stream and is back" test "$(stored)" -lt "$VALID"
until_stored $((step * 4))
crash aggregator
check "the aggregator was killed mid-stream and is back" test "$(stored)" -lt "$VALID"
until_stored $((step * 5))
sh "$ROOT/deploy/local/pg.sh" crash
check "PostgreSQL was stopped at once mid-stream" test "$(stored)" -eq 0
sleep 2
sh "$ROOT/deploy/local/pg.sh" start >/dev/null
check "PostgreSQL is back" test "$(stored)" -gt 0

# The producer exits once everything it sent is acknowledged.
deadline=$((SECONDS + 300))
while kill -0 "$PRODUCER_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
wait "$PRODUCER_PID"
check "the producer finishes the file and exits 0" test $? -eq 0
check "the producer resumed from its position, not from the first line" \
    grep -q "resuming .* at line" "$WORK/producer-2.log"
resent=$(cat "$WORK"/producer-*.log | grep -c "batches again")
note "producer log lines about batches sent again: $resent"
check "batches lost in the crashes were sent again" test "$resent" -gt 0
check "the position file says the file was acknowledged in full" grep -q "^done 1" "$FILE.position"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the pipeline stops cleanly" stop_clean $PID_validator $PID_scorer $PID_aggregator

check "stored == sent: $VALID transactions, each once" \
    test "$(sql "SELECT count(*) || ':' || count(DISTINCT tx_id) FROM txw.transactions")" = "$VALID:$VALID"
sql "SELECT dimension, key, (extract(epoch FROM window_start) * 1000)::bigint, tx_count,
            amount_minor_sum, approved, declined, failed
     FROM txw.window_totals" | LC_ALL=C sort >"$WORK/totals.tsv"
python3 "$ROOT/tests/e2e/expected.py" windows "$FILE" "$RATES" | cut -f1-8 | LC_ALL=C sort \
    >"$WORK/expected-totals.tsv"
check "the window totals equal the file's" cmp -s "$WORK/expected-totals.tsv" "$WORK/totals.tsv"
sql "SELECT account_id, tx_count, spend_rep_minor, lifetime_value_rep_minor, approved, declined,
            failed FROM txw.accounts" | LC_ALL=C sort >"$WORK/accounts.tsv"
python3 "$ROOT/tests/e2e/expected.py" accounts "$FILE" "$RATES" | LC_ALL=C sort \
    >"$WORK/expected-accounts.tsv"
check "the customer totals equal the file's ($(wc -l <"$WORK/expected-accounts.tsv") accounts)" \
    cmp -s "$WORK/expected-accounts.tsv" "$WORK/accounts.tsv"
sql "SELECT tx_id, reason FROM txw.dead_letters" | LC_ALL=C sort >"$WORK/dead.tsv"
python3 "$ROOT/tests/e2e/expected.py" rejects "$FILE" "$RATES" | LC_ALL=C sort >"$WORK/expected-dead.tsv"
check "every broken row is one dead letter with its reason ($INVALID)" \
    cmp -s "$WORK/expected-dead.tsv" "$WORK/dead.tsv"

"${PRODUCER[@]}" >"$WORK/producer-3.log" 2>&1
check "the same command again exits 0" test $? -eq 0
check "... and sends nothing: the file was acknowledged in full" \
    grep -q "sent and acknowledged in full before" "$WORK/producer-3.log"

# --- a COMMIT that goes wrong -----------------------------------------------------------
# The aggregator reaches PostgreSQL through a proxy (tests/tools/pg_cut_proxy.py)
# that makes one COMMIT go wrong:
#   cut:  the server commits, its answer is lost. The aggregator cannot know;
#         it must read its checkpoints back rather than write the flush again
#         (the customer totals would count it twice).
#   lose: the server answers a commit it then loses (asynchronous commit and
#         a crash). The aggregator must find out on its next connection and
#         start its shard again from what PostgreSQL kept; the producer sends
#         the rest again.
CUT_FILE=$WORK/cut.csv
head -n 40001 "$FILE" >"$CUT_FILE"
python3 "$ROOT/tests/e2e/expected.py" summary "$CUT_FILE" "$RATES" >"$WORK/cut-summary.txt"
CUT_VALID=$(sed -n 's/^valid=//p' "$WORK/cut-summary.txt")
python3 "$ROOT/tests/e2e/expected.py" accounts "$CUT_FILE" "$RATES" | LC_ALL=C sort \
    >"$WORK/cut-expected-accounts.tsv"
python3 "$ROOT/tests/e2e/expected.py" windows "$CUT_FILE" "$RATES" | cut -f1-8 | LC_ALL=C sort \
    >"$WORK/cut-expected-totals.tsv"
BASE_DB=$DB
wrong_commit() {   # cut|lose, and what the aggregator's log must say
    local mode=$1 said=$2
    DB=${BASE_DB%/*}/txwatch
    sql "CREATE DATABASE crash_$mode" >/dev/null
    DB=${BASE_DB%/*}/crash_$mode
    python3 "$ROOT/tests/tools/pg_cut_proxy.py" --listen ${P}59 --upstream 25359 \
        --arm-after-s 2 --mode "$mode" >"$WORK/proxy-$mode.out" 2>"$WORK/proxy-$mode.log" &
    local proxy=$!
    PIDS+=("$proxy")
    # The aggregator exits when PostgreSQL cannot be reached at start, so
    # it starts once the proxy listens (Python's start-up alone can take
    # longer than a fixed pause on a loaded machine: a sanitizer run failed so).
    local i=0
    until grep -q listening "$WORK/proxy-$mode.log" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 "$proxy" 2>/dev/null; then
            not_ok "$mode: the proxy listens"; return
        fi
        sleep 0.1
    done
    start aggregator ${P}93 "$BIN/txw-aggregator" \
        --database-url "postgresql://txw@127.0.0.1:${P}59/crash_$mode" \
        --bind tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}22 --admin-port ${P}93
    start_stage scorer $P
    start_stage validator $P
    "$BIN/txw-producer" --file "$CUT_FILE" --rate 5000 --validator-endpoints "tcp://127.0.0.1:${P}01" \
        --ack-endpoints "tcp://127.0.0.1:${P}22,tcp://127.0.0.1:${P}02" --ack-timeout-ms 2000 \
        --position-file none --admin-port 0 >"$WORK/producer-$mode.log" 2>&1
    check "$mode: the producer sends the file through it and exits 0" test $? -eq 0
    check "$mode: the proxy acted on a COMMIT" grep -q cut "$WORK/proxy-$mode.out"
    check "$mode: the aggregator says: $said" grep -q "$said" "$WORK/aggregator.log"
    check "$mode: the pipeline stops cleanly" stop_clean $PID_validator $PID_scorer $PID_aggregator
    kill "$proxy" 2>/dev/null
    wait "$proxy" 2>/dev/null
    for svc in validator scorer aggregator; do mv "$WORK/$svc.log" "$WORK/$svc-$mode.log"; done
    check "$mode: stored == sent: $CUT_VALID transactions, each once" \
        test "$(sql "SELECT count(*) || ':' || count(DISTINCT tx_id) FROM txw.transactions")" = "$CUT_VALID:$CUT_VALID"
    sql "SELECT account_id, tx_count, spend_rep_minor, lifetime_value_rep_minor, approved, declined,
                failed FROM txw.accounts" | LC_ALL=C sort >"$WORK/$mode-accounts.tsv"
    check "$mode: the customer totals equal the file's: nothing counted twice or lost" \
        cmp -s "$WORK/cut-expected-accounts.tsv" "$WORK/$mode-accounts.tsv"
    sql "SELECT dimension, key, (extract(epoch FROM window_start) * 1000)::bigint, tx_count,
                amount_minor_sum, approved, declined, failed
         FROM txw.window_totals" | LC_ALL=C sort >"$WORK/$mode-totals.tsv"
    check "$mode: the window totals equal the file's" \
        cmp -s "$WORK/cut-expected-totals.tsv" "$WORK/$mode-totals.tsv"
}
wrong_commit cut "that flush is stored, not written again"
wrong_commit lose "shard state rebuilt from PostgreSQL"
