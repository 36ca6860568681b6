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

SCORER_ARGS=(--database-url "$DB" --model "$WORK/model.bin" --supervised "$SUPERVISED" --watch-s 1
             --supervised-out "$WORK/supervised-p.tsv")
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

# With the model loaded the score is supervised_p on the model's scale,
# rounded down (the shipped rule file has no hard rows): txw-train chose
# the operating point, the p that scores 80, on the calibration part and
# logged it, the scorer logged it on load; below it the score is 80 p / at,
# from it on 80 + 20 (p - at) / (1 - at). Every stored score of the later
# part against the p the scorer wrote when it first scored it (6 decimals).
at=$(grep -o 'supervised_p, [0-9.e-]* of it scoring 80' "$WORK/scorer.log" | tail -1 | cut -d' ' -f2)
check "txw-train chose the operating point on the calibration part, and says at what precision" \
    grep -Eq "operating point: supervised_p [0-9.]+ scores 80, where the calibration part's alerts are 0\.(9[0-9]*|1) fraud" \
    "$WORK/train.log"
note "operating point $at: $(grep -o 'operating point: .*' "$WORK/train.log")"
sql "SELECT tx_id, score FROM txw.transactions" >"$WORK/stored.tsv"
scored_by_p() {
    awk -F'\t' -v at="$at" '
        function scale(p) { if (at == 0.8) return 100 * p
                            return p < at? 80 * p / at: 80 + 20 * (p - at) / (1 - at) }
        FILENAME == ARGV[1] { if (FNR > 1) { split ($0, f, ","); later [f [1]] = 1 } next }
        FILENAME == ARGV[2] { if (!($1 in p)) p [$1] = $2; next }
        ($1 in later) && ($1 in p) { n++; d = scale(p [$1]) - $2; if (d < -0.01 || d >= 1.01) bad++
                                     if ((p [$1] >= at) != ($2 >= 80)) edge++ }
        END { print n " scores, " bad + 0 " not on the scale, " edge + 0 " on the wrong side of 80"
              exit !(at > 0 && n > 9000 && bad == 0) }' \
        "$WORK/later.csv" "$WORK/supervised-p.tsv" "$WORK/stored.tsv"
}
counted=$(scored_by_p)
rc=$?
check "with the model every score is supervised_p on its scale (the threshold 80 is the operating point)" test $rc -eq 0
note "$counted"

# --- the alert threshold follows a reloaded model ---------------------------------------
# A scorer run with --alert-precision derives its threshold from the
# supervised model's score table at start and again from every model it
# reloads: after the swap its txw_scorer_alert_threshold is what a scorer
# started on the new model derives. Model A is trained on the first part,
# B on everything stored.
train_on() {   # NAME [ARGS...]
    local name=$1; shift
    "$BIN/txw-train" --out "$WORK/forest-$name.bin" --database-url "$DB" \
        --supervised-out "$WORK/sup-$name.bin" --labels-csv "$WORK/labelled.csv" \
        --exclude-patterns money_mule,bust_out "$@" >"$WORK/train-$name.log" 2>&1
}
train_on a --to 2026-01-05T03:20:00Z
train_on b
check "two supervised models are trained, on the first part and on everything" \
    test -s "$WORK/sup-a.bin" -a -s "$WORK/sup-b.bin"
cp "$WORK/sup-a.bin" "$WORK/sup-live.bin"
start scorer4 ${P}94 "$BIN/txw-scorer" --bind tcp://127.0.0.1:${P}13 \
    --aggregator-endpoints tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}14 \
    --admin-port ${P}94 --supervised "$WORK/sup-live.bin" --alert-precision 0.8 --watch-s 1
threshold_a=$(metric ${P}94 txw_scorer_alert_threshold)
check "txw_scorer_alert_threshold shows the threshold derived at start" \
    grep -q "alert threshold $threshold_a from --alert-precision 0.8" "$WORK/scorer4.log"
cp "$WORK/sup-b.bin" "$WORK/sup-live.tmp" && mv "$WORK/sup-live.tmp" "$WORK/sup-live.bin"
check "the scorer reloads model B" wait_metric ${P}94 'txw_reloads_total{result="ok"}' 1 10
check "... and derives the threshold again from its score table, logged" \
    test "$(grep -c 'alert threshold [0-9]* from --alert-precision 0.8' "$WORK/scorer4.log")" = 2
start scorer5 ${P}95 "$BIN/txw-scorer" --bind tcp://127.0.0.1:${P}15 \
    --aggregator-endpoints tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}16 \
    --admin-port ${P}95 --supervised "$WORK/sup-b.bin" --alert-precision 0.8
threshold_b=$(metric ${P}95 txw_scorer_alert_threshold)
note "alert threshold at precision 0.8: $threshold_a with model A, $threshold_b with model B"
check "... the one a scorer started on model B uses" \
    test "$(metric ${P}94 txw_scorer_alert_threshold)" = "$threshold_b"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "both scorers stop cleanly" stop_clean "$PID_scorer4" "$PID_scorer5"
