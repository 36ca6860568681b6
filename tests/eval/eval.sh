#!/bin/bash
# eval.sh - measured detection quality (`make eval`)
#
# 1. The producer writes a labelled stream (fixed seed, every fraud pattern,
#    about a day and a half of event time) as CSV.
# 2. The first 60% (in event time) goes through the real pipeline, scored
#    by the rules alone; the scorer checkpoints its account history.
# 3. `txw-train` trains the Isolation Forest from the stored
#    transactions of that part (labels are never read) and writes its
#    feature matrix for the reference model.
# 4. The scorer restarts with the model, resumes the account history, and
#    the remaining 40% goes through. Its stored scores and its model scores
#    (--features-out) are compared with the labels.
# 5. scikit-learn's IsolationForest is fitted on the same training features
#    and scores the same test features: the reference line.
# Nothing is tuned on the test part: thresholds and rules are the shipped
# defaults, and rule weights are only ever adjusted by looking at the
# training part's scores, which this prints too. EVAL_COUNT (default
# 300000) changes the size; EVAL_PRODUCTS=N (default 0) turns on the
# generator's catalogue of N products, so online purchases come as
# baskets (line items of one order), as `make run` sends them.
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

COUNT=${EVAL_COUNT:-300000}
PRODUCTS=${EVAL_PRODUCTS:-0}
THRESHOLD=80
pg_start 25353
P=189

"$BIN/txw-producer" --seed 42 --count "$COUNT" --products "$PRODUCTS" --rate 0 --start 2026-01-05T00:00:00Z --event-rate 2.5 \
    --accounts 5000 --fraud-rate 0.01 --csv-out "$WORK/labelled.csv" --admin-port 0 \
    >"$WORK/generate.log" 2>&1 || { not_ok "the producer writes the labelled set"; exit 1; }
train_rows=$((COUNT * 6 / 10))
head -n $((train_rows + 1)) "$WORK/labelled.csv" >"$WORK/train.csv"
{ head -n 1 "$WORK/labelled.csv"; tail -n +$((train_rows + 2)) "$WORK/labelled.csv"; } >"$WORK/test.csv"
train_end=$(tail -n 1 "$WORK/train.csv" | cut -d, -f2)
note "labelled set: $COUNT transactions, training part up to $train_end"

# --- phase 1: the training part through the pipeline, rules only --------------
SCORER_ARGS=(--database-url "$DB" --checkpoint-s 5)
start_pipeline $P
"$BIN/txw-producer" --file "$WORK/train.csv" --rate 0 --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-train.log" 2>&1
wait_metric ${P}93 txw_stored_transactions_total $train_rows 600 || { not_ok "training part stored"; exit 1; }
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_scorer

# --- training ------------------------------------------------------------------
"$BIN/txw-train" --out "$WORK/model.bin" --database-url "$DB" --to "$train_end" \
    --features-out "$WORK/train-features.csv" --scores-out "$WORK/train-scores.tsv" \
    2>&1 | tee "$WORK/train.log" \
    | grep -E "trained|hot loop" | sed 's/^/# /'
check "the model is trained and saved" test -s "$WORK/model.bin"

# --- phase 2: the test part, rules and model ---------------------------------------
start scorer ${P}92 "$BIN/txw-scorer" --bind tcp://127.0.0.1:${P}11 \
    --aggregator-endpoints tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}12 \
    --admin-port ${P}92 "${SCORER_ARGS[@]}" --model "$WORK/model.bin" \
    --features-out "$WORK/test-features.csv"
"$BIN/txw-producer" --file "$WORK/test.csv" --rate 0 --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-test.log" 2>&1
wait_metric ${P}93 txw_stored_transactions_total "$COUNT" 600 || not_ok "test part stored"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_validator $PID_scorer $PID_aggregator

sql "SELECT tx_id, score FROM txw.transactions WHERE ts > '$train_end'" >"$WORK/combined.tsv"
echo "# the training part, scored by the rules and the new model (what rule weights may be tuned on)"
python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/train-scores.tsv" $THRESHOLD \
    "training part (rules + forest)" | sed 's/^/# /'
tail -n +2 "$WORK/test-features.csv" | cut -d, -f1,2 | tr , '\t' >"$WORK/model.tsv"
echo "# detection quality on the test part (40%, after $train_end)"
python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/combined.tsv" $THRESHOLD \
    "txwatch score (rules + forest)" | sed 's/^/# /'
python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/model.tsv" 0.6 \
    "txwatch Isolation Forest alone" | sed 's/^/# /'
if /usr/bin/python3 -c "import sklearn" 2>/dev/null; then
    /usr/bin/python3 "$ROOT/tests/eval/sklearn_ref.py" "$WORK/train-features.csv" \
        "$WORK/test-features.csv" >"$WORK/sklearn.tsv" 2>"$WORK/sklearn.log"
    sed 's/^/# /' "$WORK/sklearn.log"
    python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/sklearn.tsv" 0.6 \
        "scikit-learn IsolationForest" | sed 's/^/# /'
else
    note "python3-sklearn is not installed: no reference line"
fi
