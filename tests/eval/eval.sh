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
# 5. Rules alone: the whole set goes again, through a fresh pipeline on a
#    second database whose scorer has no model. Its account history at the
#    test part is the one phase 2 resumed (the same training part, through
#    the same scorer), so its stored scores of the test part are what the
#    rules alone make of it.
# 6. scikit-learn's IsolationForest is fitted on the same training features
#    and scores the same test features: the reference line.
# Each row is reported twice: "seen" (every pattern but money_mule and
# bust_out) and "unseen" (only those two, held out of all tuning: no rule,
# weight, threshold or signal is set by looking at how they score), each
# against all legitimate transactions, with issue 15's targets beside the
# seen figures of the shipped score (metrics.py). The targets never fail
# the run. The supervised model (issue 15, part 4) is trained in step 3
# too, on the generator's labels of the training part without the held-out
# typologies; the scorer of step 4 runs it, so the combined score has it,
# and its calibrated probability alone is a row of its own.
# Nothing is tuned on the test part: thresholds and rules are the shipped
# defaults, and rule weights are only ever adjusted by looking at the
# training part's scores (seen patterns), which this prints too. EVAL_COUNT (default
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
# The supervised model learns from the generator's labels of the training
# part only (the replay stops at --to), without the held-out typologies:
# money_mule and bust_out are neither fraud nor legitimate to it.
"$BIN/txw-train" --out "$WORK/model.bin" --database-url "$DB" --to "$train_end" \
    --features-out "$WORK/train-features.csv" --scores-out "$WORK/train-scores.tsv" \
    --supervised-out "$WORK/supervised.bin" --labels-csv "$WORK/labelled.csv" \
    --exclude-patterns money_mule,bust_out --supervised-scores-out "$WORK/calibration-scores.tsv" \
    2>&1 | tee "$WORK/train.log" \
    | grep -E "trained|hot loop|supervised|operating point" | sed 's/^/# /'
check "the model is trained and saved" test -s "$WORK/model.bin"
check "the supervised model is trained and saved" test -s "$WORK/supervised.bin"

# --- phase 2: the test part, rules and model ---------------------------------------
start scorer ${P}92 "$BIN/txw-scorer" --bind tcp://127.0.0.1:${P}11 \
    --aggregator-endpoints tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}12 \
    --admin-port ${P}92 "${SCORER_ARGS[@]}" --model "$WORK/model.bin" \
    --features-out "$WORK/test-features.csv" --supervised "$WORK/supervised.bin" \
    --supervised-out "$WORK/test-supervised.tsv"
"$BIN/txw-producer" --file "$WORK/test.csv" --rate 0 --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-test.log" 2>&1
wait_metric ${P}93 txw_stored_transactions_total "$COUNT" 600 || not_ok "test part stored"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_validator $PID_scorer $PID_aggregator

sql "SELECT tx_id, score FROM txw.transactions WHERE ts > '$train_end'" >"$WORK/combined.tsv"

# --- rules alone: the whole set through a fresh pipeline without the model ----------
sql "CREATE DATABASE txwatch_rules"
MAIN_DB=$DB
DB=${MAIN_DB%/*}/txwatch_rules
SCORER_ARGS=(--database-url "$DB" --checkpoint-s 5)
start_pipeline $P
"$BIN/txw-producer" --file "$WORK/labelled.csv" --rate 0 --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-rules.log" 2>&1
wait_metric ${P}93 txw_stored_transactions_total "$COUNT" 600 || not_ok "rules-alone run stored"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_validator $PID_scorer $PID_aggregator
sql "SELECT tx_id, score FROM txw.transactions WHERE ts > '$train_end'" >"$WORK/rules.tsv"
DB=$MAIN_DB
echo "# the training part, scored by the rules and the new model (what rule weights may be tuned on;"
echo "# the held-out patterns are left out of it)"
python3 "$ROOT/tests/eval/metrics.py" --seen-only "$WORK/labelled.csv" "$WORK/train-scores.tsv" $THRESHOLD \
    "training part (rules + forest)" | sed 's/^/# /'
# The replay above goes account by account, without the scorer's
# cross-account state (merchant and device signals, ARCHITECTURE.md): the
# training part as the pipeline's scorer scored it (rules alone) has them.
sql "SELECT tx_id, score FROM txw.transactions WHERE ts <= '$train_end'" >"$WORK/train-pipeline.tsv"
python3 "$ROOT/tests/eval/metrics.py" --seen-only "$WORK/labelled.csv" "$WORK/train-pipeline.tsv" $THRESHOLD \
    "training part (pipeline, rules)" | sed 's/^/# /'
# The supervised model's calibration part (the training part's later
# fifth, which its trees never saw), scored whole as the scorer scores
# with the model: what its features and settings are decided on.
python3 "$ROOT/tests/eval/metrics.py" --seen-only "$WORK/labelled.csv" "$WORK/calibration-scores.tsv" \
    $THRESHOLD "training part's later fifth (the model's scale)" | sed 's/^/# /'
tail -n +2 "$WORK/test-features.csv" | cut -d, -f1,2 | tr , '\t' >"$WORK/model.tsv"
echo "# detection quality on the test part (40%, after $train_end)"
python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/rules.tsv" $THRESHOLD \
    "txwatch rules alone" | sed 's/^/# /'
# The forest alone at the cut its rule uses (model_anomaly: more unusual
# than 98% of the history it was trained on).
python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/model.tsv" 0.98 \
    "txwatch Isolation Forest alone" | sed 's/^/# /'
# The supervised model alone at even odds (its calibrated probability
# 0.5, fixed before any test: the calibration is fitted on the training
# part's later fifth).
python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/test-supervised.tsv" 0.5 \
    "txwatch supervised model alone" | sed 's/^/# /'
# ... and at its operating point, the probability that scores 80, which
# txw-train chose on the calibration part (--operating-precision).
at=$(grep -o 'supervised_p [0-9.]* scores 80' "$WORK/train.log" | cut -d' ' -f2)
[ -n "$at" ] && python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/test-supervised.tsv" \
    "$at" "txwatch supervised model alone at its operating point $at" | sed 's/^/# /'
python3 "$ROOT/tests/eval/metrics.py" --targets "$WORK/labelled.csv" "$WORK/combined.tsv" $THRESHOLD \
    "txwatch score (all combined: the model's scale, hard rules on top)" | sed 's/^/# /'
if /usr/bin/python3 -c "import sklearn" 2>/dev/null; then
    /usr/bin/python3 "$ROOT/tests/eval/sklearn_ref.py" "$WORK/train-features.csv" \
        "$WORK/test-features.csv" >"$WORK/sklearn.tsv" 2>"$WORK/sklearn.log"
    sed 's/^/# /' "$WORK/sklearn.log"
    # Its raw scores have no calibrated cut: it flags as many test
    # transactions as the combined score does (the alert volume).
    flagged=$(awk -F'\t' -v t=$THRESHOLD '$2 >= t' "$WORK/combined.tsv" | wc -l)
    cut=$(sort -t $'\t' -k2,2gr "$WORK/sklearn.tsv" | sed -n "$((flagged > 0? flagged: 1))p" | cut -f2)
    python3 "$ROOT/tests/eval/metrics.py" "$WORK/labelled.csv" "$WORK/sklearn.tsv" "$cut" \
        "scikit-learn IsolationForest (as many)" | sed 's/^/# /'
else
    note "python3-sklearn is not installed: no reference line"
fi
