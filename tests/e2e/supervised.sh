#!/bin/bash
# supervised.sh - the supervised model: trained from labels, hot-reloaded
#
# A labelled stream goes through the pipeline; the scorer watches a
# supervised model file that is not there yet (rules and forest alone:
# txw_scorer_supervised_loaded 0). txw-train with too few labels for its
# thresholds writes nothing and exits 0; with enough it writes the model,
# which the scorer loads without a restart. More transactions then raise
# alerts whose supervised rule held, and their messages name the model's
# top contributing features. A damaged file is refused with its reason and
# the running model stays; the audit log records the supervised version.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25401
P=198
SUPERVISED=$WORK/supervised.bin

"$BIN/txw-producer" --seed 7 --count 40000 --rate 0 --start 2026-01-05T00:00:00Z --event-rate 2.5 \
    --accounts 2000 --fraud-rate 0.02 --csv-out "$WORK/labelled.csv" --admin-port 0 \
    >"$WORK/generate.log" 2>&1 || { not_ok "the producer writes a labelled set"; exit 1; }
head -n 30001 "$WORK/labelled.csv" >"$WORK/train.csv"
{ head -n 1 "$WORK/labelled.csv"; tail -n +30002 "$WORK/labelled.csv"; } >"$WORK/later.csv"

# Polls a query until it answers t (the aggregator stores alerts in batches).
sql_true() {   # QUERY SECONDS
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(sql "$1")" = t ] && return 0
        sleep 0.5
    done
    return 1
}

SCORER_ARGS=(--database-url "$DB" --model "$WORK/model.bin" --supervised "$SUPERVISED" --watch-s 1)
start_pipeline $P
check "without a supervised model file the scorer runs on rules and forest, and says so" \
    grep -q "no supervised model file at $SUPERVISED" "$WORK/scorer.log"
check "txw_scorer_supervised_loaded is 0 then" \
    test "$(metric ${P}92 txw_scorer_supervised_loaded)" = 0
"$BIN/txw-producer" --file "$WORK/train.csv" --rate 0 --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-train.log" 2>&1
check "the first part is stored" wait_metric ${P}93 txw_stored_transactions_total 30000 60

"$BIN/txw-train" --out "$WORK/model.bin" --database-url "$DB" --supervised-out "$SUPERVISED" \
    --labels-csv "$WORK/labelled.csv" --min-fraud-labels 100000 >"$WORK/train-few.log" 2>&1
check "too few labels: txw-train exits 0" test $? -eq 0
nothing_written() {
    grep -q "too few labels for the supervised model" "$WORK/train-few.log" && test ! -e "$SUPERVISED"
}
check "too few labels: it says so and writes no supervised model" nothing_written

"$BIN/txw-train" --out "$WORK/model.bin" --database-url "$DB" --supervised-out "$SUPERVISED" \
    --labels-csv "$WORK/labelled.csv" --exclude-patterns money_mule,bust_out \
    >"$WORK/train.log" 2>&1
check "with enough labels txw-train writes the supervised model" test -s "$SUPERVISED"
check "the scorer loads it without a restart" \
    wait_metric ${P}92 txw_scorer_supervised_loaded 1 10
version=$(grep -o 'trained gb-[0-9T]*' "$WORK/train.log" | cut -d' ' -f2)

# The alert threshold by precision or alert budget, from the model's score
# table: a second scorer on other ports logs the raw threshold it derived.
start scorer2 ${P}94 "$BIN/txw-scorer" --bind tcp://127.0.0.1:${P}13 \
    --aggregator-endpoints tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}14 \
    --admin-port ${P}94 --supervised "$SUPERVISED" --alert-precision 0.8
check "--alert-precision gives a raw threshold from the score table, logged at start" \
    grep -Eq "alert threshold [0-9]+ from --alert-precision 0.8: precision 0\.[89][0-9]* on the calibration part of $version" \
    "$WORK/scorer2.log"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_scorer2
"$BIN/txw-scorer" --bind tcp://127.0.0.1:${P}13 --aggregator-endpoints tcp://127.0.0.1:${P}21 \
    --publish tcp://127.0.0.1:${P}14 --admin-port 0 --supervised "$SUPERVISED" \
    --alert-precision 0.8 --alert-budget 5 >"$WORK/scorer3.log" 2>&1
rc=$?
check "--alert-precision and --alert-budget together are refused" test $rc -ne 0
check "... with the reason" grep -q "alternatives: give one" "$WORK/scorer3.log"

"$BIN/txw-producer" --file "$WORK/later.csv" --rate 0 --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-later.log" 2>&1
check "the later part is stored" wait_metric ${P}93 txw_stored_transactions_total 40000 60
check "alerts of the supervised rule name the model's top features in their message" \
    sql_true "SELECT count(*) > 0 FROM txw.alerts WHERE 'model_supervised' = ANY (reasons)
              AND message ~ '; model: [a-z_]+ [+-][0-9.]+, [a-z_]+ [+-][0-9.]+'" 20
note "e.g. $(sql "SELECT message FROM txw.alerts WHERE 'model_supervised' = ANY (reasons) LIMIT 1")"

printf 'TXWGBDT1 damaged' >"$SUPERVISED.tmp" && mv "$SUPERVISED.tmp" "$SUPERVISED"
check "a damaged supervised model file is refused" \
    wait_metric ${P}92 'txw_reloads_total{result="refused"}' 1 10
check "the refusal names the problem in the log" \
    grep -q "supervised model file refused: $SUPERVISED: checksum mismatch" "$WORK/scorer.log"
check "the running supervised model stays" \
    test "$(metric ${P}92 txw_scorer_supervised_loaded)" = 1
check "the audit log records the supervised model's version at the refusal" \
    sql_true "SELECT coalesce (bool_and (detail->>'supervised_was' = '$version'), false)
              FROM txw_data.audit WHERE action = 'scorer.reload_refused'" 10
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the pipeline stops cleanly" stop_clean $PID_validator $PID_scorer $PID_aggregator
