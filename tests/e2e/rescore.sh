#!/bin/bash
# rescore.sh - stale accounts scored again, scheduled retraining, the model hot-swapped
#
# The pipeline's scorer starts with --model pointing where no model is
# yet: it runs on the rules alone. Retraining with less history than
# --min-rows writes nothing and exits 0. Once transactions are stored, the
# retraining writes the model and the running scorer picks it up without a
# restart (its reload metric, the audit row with the versions before and
# after, and the transactions scored after it carry the new version). A
# second retraining keeps the first model as model.bin.prev, and
# `txw-train --rollback` puts it back (the scorer reloads again).
# Then txw-rescore, as its own login (group txw_rescore), rescores flagged
# accounts under a stricter rule set and the new model: the new scores
# are stored beside the first ones with their version, the transactions
# that became suspicious (the stricter set gives the model's most unusual
# 3% 80 points: the constructed part) get exactly one fraud alert each,
# under the scorer's key and saying it came from rescoring, the flags are
# cleared and a second run does nothing. Two runs at once share the
# flags: every account is rescored by exactly one of them. A run killed
# while it holds a batch leaves the flags for the next. Under the rules
# and model that first scored them, the rescores are the scorer's scores
# exactly (the replay is the scorer's step, over an account's transactions
# in the order the scorer scored them: one account's burst within one
# millisecond, whose tx_ids sort otherwise as text, and a late arrival
# check it). Last, the loop of compose and
# make run retrains the model at start and rescores with it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25384
P=169
MODEL=$WORK/model.bin
RS_URL=$(db_url txw_rescorer)
TR_URL=$(db_url txw_trainer)
"$BIN/txw-aggregator" --migrate-only --database-url "$DB" \
    --login-roles "txw_rescore=$RS_URL txw_read=$TR_URL" >"$WORK/migrate.log" 2>&1
check "the rescoring and training logins are made in their groups" test $? -eq 0

SCORER_ARGS=(--model "$MODEL" --watch-s 1 --database-url "$DB")
start_pipeline $P
check "the scorer starts without its model file, on the rules alone" \
    grep -q "no model file at $MODEL: scoring with the rules alone" "$WORK/scorer.log"

# train N: txw-train as the reading login, on whatever is stored
train() {
    "$BIN/txw-train" --database-url "$TR_URL" --out "$MODEL" --min-rows 5000 \
        --seed "$1" >"$WORK/train$1.log" 2>&1
}
train 1
check "retraining with too little history exits 0" test $? -eq 0
check "... writes no model, and says why" \
    bash -c "test ! -e '$MODEL' && grep -q 'fewer than --min-rows 5000: no model trained' '$WORK/train1.log'"

send() {   # SEED COUNT
    "$BIN/txw-producer" --shape flat --seed "$1" --count "$2" --rate 10000 --accounts 400 \
        --fraud-rate 0.03 --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 \
        >"$WORK/producer$1.log" 2>&1
}
stored() {   # COUNT: waits until that many transactions are stored
    local i=0
    while [ "$(sql "SELECT count(*) FROM txw_data.transactions")" -lt "$1" ]; do
        i=$((i + 1)); [ $i -gt 150 ] && return 1
        sleep 0.2
    done
}
send 5 20000
check "20,000 transactions are stored, scored by the rules alone" \
    stored 20000
# One more account, whose order only the scorer knows: a burst of nine
# transactions in one millisecond, sent ORDER-4 to ORDER-12 (as text, and so
# by (ts, tx_id), ORDER-10 comes first), then one from half an hour before
# them (a late arrival), then one after. Its rescores below are its scores
# only if the replay sees them in the order the scorer scored them.
cat >"$WORK/order.csv" <<'CSV'
tx_id,ts,account_id,amount,currency,merchant_id,category,channel,branch_id,region,country,device_id,product_id,status
ORDER-1,2026-03-02T07:00:00.000Z,ORDERS1,20.00,EUR,MQ001,grocery,pos,B001,R1,DE,DQ001,,approved
ORDER-2,2026-03-02T08:00:00.000Z,ORDERS1,25.00,EUR,MQ001,grocery,pos,B001,R1,DE,DQ001,,approved
ORDER-3,2026-03-02T09:00:00.000Z,ORDERS1,22.00,EUR,MQ001,grocery,pos,B001,R1,DE,DQ001,,approved
ORDER-4,2026-03-02T10:00:00.000Z,ORDERS1,1.00,EUR,MQ002,electronics,online,B001,R1,DE,DQ001,,approved
ORDER-5,2026-03-02T10:00:00.000Z,ORDERS1,1.00,EUR,MQ002,electronics,online,B001,R1,DE,DQ001,,approved
ORDER-6,2026-03-02T10:00:00.000Z,ORDERS1,1.00,EUR,MQ002,electronics,online,B001,R1,DE,DQ002,,declined
ORDER-7,2026-03-02T10:00:00.000Z,ORDERS1,400.00,EUR,MQ002,electronics,online,B001,R1,DE,DQ002,,approved
ORDER-8,2026-03-02T10:00:00.000Z,ORDERS1,1.50,EUR,MQ002,electronics,online,B001,R1,DE,DQ002,,declined
ORDER-9,2026-03-02T10:00:00.000Z,ORDERS1,1.00,EUR,MQ002,electronics,online,B001,R1,DE,DQ002,,declined
ORDER-10,2026-03-02T10:00:00.000Z,ORDERS1,300.00,EUR,MQ002,electronics,online,B001,R1,DE,DQ003,,approved
ORDER-11,2026-03-02T10:00:00.000Z,ORDERS1,2.00,EUR,MQ002,electronics,online,B001,R1,DE,DQ003,,approved
ORDER-12,2026-03-02T10:00:00.000Z,ORDERS1,1.00,EUR,MQ002,electronics,online,B001,R1,DE,DQ003,,approved
ORDER-13,2026-03-02T09:30:00.000Z,ORDERS1,500.00,EUR,MQ003,jewelry,pos,B002,R2,FR,DQ004,,approved
ORDER-14,2026-03-02T10:01:00.000Z,ORDERS1,30.00,EUR,MQ001,grocery,pos,B001,R1,DE,DQ001,,approved
CSV
"$BIN/txw-producer" --file "$WORK/order.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-order.log" 2>&1
check "the account of one millisecond's burst and a late arrival is stored (14 transactions)" \
    stored 20014
order_scores=$(sql "SELECT string_agg (score::text, ' ' ORDER BY split_part (tx_id, '-', 2)::int)
                    FROM txw_data.transactions WHERE account_id = 'ORDERS1'")
note "its scores, in the order sent: $order_scores"
check "... scored by the rules alone" \
    test "$(sql "SELECT string_agg (DISTINCT model_version, ',') FROM txw.transactions")" = rules-4

train 2
check "retraining with enough history writes the model" test -s "$MODEL"
MV=$(grep -o '"trained if-[0-9T]*' "$WORK/train2.log" | cut -d' ' -f2)
note "model version $MV"
check "the running scorer picks the model up without a restart" \
    wait_metric ${P}92 'txw_reloads_total{result="ok"}' 1 15
check "the swap is audited with the versions before and after" \
    test "$(sql "SELECT detail->>'why', detail->>'was', detail->>'now' FROM txw_data.audit
                 WHERE action = 'scorer.reload' ORDER BY id LIMIT 1")" \
    = "model file changed	rules-4	rules-4+$MV"
send 6 2000
check "transactions sent after the swap are scored with the model" \
    stored 22014
check "... and carry its version" \
    test "$(sql "SELECT count(*) FROM txw.transactions WHERE model_version = 'rules-4+$MV'")" = 2000

cp "$MODEL" "$WORK/first.bin"
train 3
check "a second retraining keeps the model it replaces as model.bin.prev" cmp -s "$MODEL.prev" "$WORK/first.bin"
check "... and the scorer reloads the new one" wait_metric ${P}92 'txw_reloads_total{result="ok"}' 2 15
cp "$MODEL" "$WORK/second.bin"
"$BIN/txw-train" --out "$MODEL" --rollback >"$WORK/rollback.log" 2>&1
check "txw-train --rollback puts the previous model back" cmp -s "$MODEL" "$WORK/first.bin"
check "... keeping the one it replaced as model.bin.prev" cmp -s "$MODEL.prev" "$WORK/second.bin"
check "... and the scorer reloads it" wait_metric ${P}92 'txw_reloads_total{result="ok"}' 3 15
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the pipeline stops cleanly" stop_clean "$PID_validator" "$PID_scorer" "$PID_aggregator"

# --- Rescoring -----------------------------------------------------------------------
# The stricter set: the default rules and one more row giving the model's
# most unusual transactions 80 points.
STRICT=$WORK/strict.json
python3 - "$ROOT/services/scorer/default-rules.json" "$STRICT" <<'PY'
import json, sys
rules = json.load (open (sys.argv [1]))
rules ["version"] = "strict-1"
rules ["rules"].append ({"name": "model_strict", "reason": "model_anomaly", "weight": 80,
                         "when": [["model_score", ">=", 0.97]]})
json.dump (rules, open (sys.argv [2], "w"))
PY
rescore() {   # LOG [ARGS...]
    local log=$1; shift
    "$BIN/txw-rescore" --database-url "$RS_URL" "$@" >"$WORK/$log.log" 2>&1
}
strict() {   # LOG [ARGS...]: under the stricter set and the model
    local log=$1; shift
    rescore "$log" --rules "$STRICT" --model "$MODEL" "$@"
}
first_scores=$(sql "SELECT md5 (string_agg (tx_id || score || model_version, ',' ORDER BY tx_id))
                    FROM txw_data.transactions")
alerts_before=$(sql "SELECT count(*) FROM txw_data.alerts")
# Only these 100 accounts are stale (whatever the pipeline flagged is cleared).
sql "DELETE FROM txw_data.stale_accounts;
     INSERT INTO txw_data.stale_accounts (account_id, reason)
     SELECT DISTINCT account_id, 'label' FROM txw_data.transactions ORDER BY 1 LIMIT 100"
# An account's latest 200 transactions are replayed (--history; the
# producer's busiest accounts have more).
flagged_tx=$(sql "SELECT sum (least (n, 200)) FROM (SELECT count(*) n FROM txw_data.transactions
                  JOIN txw_data.stale_accounts USING (account_id) GROUP BY account_id) a")
V="strict-1+$MV"
strict run1 --batch 30
check "txw-rescore runs as its own login and exits 0" test $? -eq 0
check "it rescored the 100 flagged accounts and no other" \
    test "$(sql "SELECT count(DISTINCT account_id) FROM txw.rescores")" = 100
check "each one's latest 200 transactions have their new score, with the version that made it" \
    test "$(sql "SELECT count(*) FROM txw.rescores WHERE model_version = '$V'")" = "$flagged_tx"
check "... beside their first score and version, which are kept" \
    test "$(sql "SELECT count(*) FROM txw.rescores WHERE first_model_version IN ('rules-4', 'rules-4+$MV')
                 AND first_score IS NOT NULL")" = "$flagged_tx"
check "the stored transactions are unchanged" \
    test "$(sql "SELECT md5 (string_agg (tx_id || score || model_version, ',' ORDER BY tx_id))
                 FROM txw_data.transactions")" = "$first_scores"
became=$(sql "SELECT count(*) FROM txw.rescores WHERE score >= 80 AND first_score < 80")
note "$became transactions became suspicious"
check "some transactions became suspicious under the stricter set" test "$became" -gt 0
check "each of them got one fraud alert, under the scorer's key" \
    test "$(sql "SELECT count(*) FROM txw.rescores r JOIN txw_data.alerts a
                 ON a.dedupe_key = 'fraud:' || r.tx_id AND a.ts = r.ts
                 WHERE r.score >= 80 AND r.first_score < 80")" = "$became"
check "... saying it was raised by rescoring, with which version" \
    test "$(sql "SELECT count(*) FROM txw_data.alerts
                 WHERE message LIKE 'raised by rescoring with $V: score %'
                 AND model_version = '$V'")" = "$became"
check "no other alert was raised (those already alerted are not alerted again)" \
    test "$(sql "SELECT count(*) FROM txw_data.alerts")" = $((alerts_before + became))
check "no transaction has two fraud alerts" \
    test "$(sql "SELECT count(*) - count(DISTINCT tx_id) FROM txw_data.alerts WHERE kind = 'fraud'")" = 0
check "the flags are cleared" test "$(sql "SELECT count(*) FROM txw_data.stale_accounts")" = 0
check "the run is counted in its log" \
    grep -q "rescored 100 stale accounts ($flagged_tx transactions) with $V in [0-9.]* s: $became new alerts" \
    "$WORK/run1.log"
rows=$(sql "SELECT count(*), max (rescored_at) FROM txw_data.rescores")
strict run2
check "a second run finds nothing to do" \
    grep -q "rescored 0 stale accounts (0 transactions)" "$WORK/run2.log"
check "... and changes nothing" \
    test "$(sql "SELECT count(*), max (rescored_at) FROM txw_data.rescores")" = "$rows"

# Two runs at once: every stale account is taken by exactly one.
sql "INSERT INTO txw_data.stale_accounts (account_id, reason)
     SELECT DISTINCT account_id, 'transaction' FROM txw_data.transactions ON CONFLICT DO NOTHING"
strict run3 --batch 7 & a=$!
strict run4 --batch 7 & b=$!
wait $a; ra=$?; wait $b; rb=$?
check "two runs at once both succeed" test "$ra$rb" = 00
n3=$(grep -o 'rescored [0-9]* stale' "$WORK/run3.log" | cut -d' ' -f2)
n4=$(grep -o 'rescored [0-9]* stale' "$WORK/run4.log" | cut -d' ' -f2)
note "the runs took $n3 and $n4 accounts"
check "... and took the 401 accounts between them, none twice" test "$((n3 + n4))" = 401
check "... leaving no flag" test "$(sql "SELECT count(*) FROM txw_data.stale_accounts")" = 0
check "every account now has its rescores" \
    test "$(sql "SELECT count(DISTINCT account_id) FROM txw.rescores")" = 401

# A run killed in the middle of a batch loses nothing: its transaction
# rolls back, flags and all. The batch is held at its write of the
# rescores by a lock, and the run killed there, holding the flags.
sql "INSERT INTO txw_data.stale_accounts (account_id, reason)
     SELECT DISTINCT account_id, 'label' FROM txw_data.transactions ORDER BY 1 LIMIT 50"
rows=$(sql "SELECT count(*) FROM txw_data.rescores")
psql "$DB" -qAt -c "BEGIN; LOCK TABLE txw_data.rescores; SELECT pg_sleep (4); COMMIT" >/dev/null &
locker=$!
sleep 0.5
"$BIN/txw-rescore" --database-url "$RS_URL" >"$WORK/killed.log" 2>&1 &
victim=$!
free_flags() { sql "SELECT count(*) FROM (SELECT FROM txw_data.stale_accounts FOR UPDATE SKIP LOCKED) f"; }
i=0; until [ "$(free_flags)" = 0 ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "a run holds the flags of its batch until it commits" test "$(free_flags)" = 0
kill -KILL $victim
wait $victim 2>/dev/null
wait $locker
# Its backend finds the client gone once the lock is free, and rolls back.
gone() { test "$(sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'txw_rescorer'")" = 0; }
i=0; until gone || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "a run killed in the middle of a batch leaves every flag it took" \
    test "$(sql "SELECT count(*) FROM txw_data.stale_accounts")" = 50
check "... and none of its rescores" test "$(sql "SELECT count(*) FROM txw_data.rescores")" = "$rows"
rescore run-after-kill
check "... which the next run takes" test "$(sql "SELECT count(*) FROM txw_data.stale_accounts")" = 0

# The replay is the scorer's own step: under the rules and model that
# scored a transaction, its rescore is its first score, for the accounts
# whose whole history is replayed (at most --history transactions). The
# one exception is what the scorer's cross-account state added (merchant
# and device signals, services/scorer/merchants.h): a replay goes account
# by account and has no merchant's view of the time, so those signals are
# 0 there. A transaction whose first reasons hold none of their codes is
# rescored exactly; one that holds some is rescored with exactly its
# other reasons, and no higher.
CROSS="ARRAY['merchant_activity','merchant_fraud','shared_device']"
flag_all() {
    sql "INSERT INTO txw_data.stale_accounts (account_id, reason)
         SELECT DISTINCT account_id, 'label' FROM txw_data.transactions"
}
differ() {   # VERSION [ACCOUNT]: rescores under VERSION of transactions it first scored, that differ
    sql "SELECT count(*) FILTER (WHERE CASE WHEN r.first_reasons && $CROSS
                     THEN r.score > r.first_score OR r.reasons && $CROSS
                          OR NOT (r.first_reasons @> r.reasons
                                  AND r.reasons || $CROSS @> r.first_reasons)
                     ELSE r.score <> r.first_score OR r.reasons <> r.first_reasons END)
                || '/' || count(*) || ' (' || count(*) FILTER (WHERE r.first_reasons && $CROSS)
                || ' with cross-account reasons)'
         FROM txw.rescores r
         WHERE r.model_version = '$1' AND r.first_model_version = '$1'
           AND r.account_id IN (SELECT account_id FROM txw_data.transactions
                                GROUP BY 1 HAVING count(*) <= 200)
           AND ('${2:-}' = '' OR r.account_id = '${2:-}')"
}
alerts_before=$(sql "SELECT count(*) FROM txw_data.alerts")
flag_all
rescore run5
d=$(differ rules-4)
note "rules alone: $d rescores differ from the scorer's"
n=${d#*/}
check "with the rules alone, the rescores of what the rules alone scored are the scorer's scores" \
    test "${d%%/*}" = 0 -a "${n%% *}" -gt 15000
d=$(differ rules-4 ORDERS1)
note "the account of one millisecond's burst: $d differ"
n=${d#*/}
check "... the account of one millisecond's burst and a late arrival too (replayed as the scorer saw it)" \
    test "${d%%/*}" = 0 -a "${n%% *}" = 14
flag_all
rescore run6 --model "$MODEL"
d=$(differ "rules-4+$MV")
note "rules and the model: $d rescores differ from the scorer's"
n=${d#*/}
check "with the model swapped in, the rescores of what it scored are the scorer's scores" \
    test "${d%%/*}" = 0 -a "${n%% *}" -gt 1000
check "... and raise no alert" test "$(sql "SELECT count(*) FROM txw_data.alerts")" = "$alerts_before"

# The loop of compose and make run: rescoring every second, retraining the
# model at start (the model replaced kept as model.bin.prev).
cp "$MODEL" "$WORK/before-loop.bin"
sql "INSERT INTO txw_data.stale_accounts (account_id, reason) VALUES ('A000001', 'correction')"
start rescore ${P}98 "$BIN/txw-rescore" --database-url "$RS_URL" --model "$MODEL" --every 1 \
    --retrain-every 3600 --retrain-min-rows 1000 --admin-port ${P}98
# The first rescoring run comes after the retraining (which times the
# scorer's hot loop with the new model: half a minute on a busy machine).
check "the loop rescores the account flagged meanwhile" wait_metric ${P}98 txw_rescored_accounts_total 1 120
LV=$(grep -o '"trained if-[0-9T]*' "$WORK/rescore.log" | cut -d' ' -f2)
check "... after retraining the model at start" test -n "$LV"
check "... keeping the model it replaced" cmp -s "$MODEL.prev" "$WORK/before-loop.bin"
check "... and rescores with the new model" \
    test "$(sql "SELECT count(*) FROM txw.rescores WHERE account_id = 'A000001'
                 AND model_version = 'rules-4+$LV'")" -gt 0
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the loop stops cleanly" stop_clean "$PID_rescore"

# --- The supervised model in the loop ----------------------------------------------
# (helper D) The loop also retrains the scorer's supervised model
# (--supervised), after the forest, from txw_data.labels as the rescoring
# login reads them. With too few labels it writes none: the scorer, which
# watches the file, runs on rules and forest and says so. Once there are
# txw-train's minimum (50 fraud, 500 legitimate), the next retraining
# writes it and the running scorer loads it; the one after keeps it as
# supervised.bin.prev, and `txw-train --rollback` puts both models back
# (the scorer's reload of a changed file is checked above).
SUP=$WORK/supervised.bin
start_stage scorer $P --supervised "$SUP"
check "the scorer watching a supervised model file not there yet says it runs on rules and forest" \
    grep -q "no supervised model file at $SUP: supervised_p stays 0" "$WORK/scorer.log"
loop() {   # NAME: the loop with --supervised until its first rescoring run, then stopped
    start "$1" ${P}97 "$BIN/txw-rescore" --database-url "$RS_URL" --model "$MODEL" \
        --supervised "$SUP" --every 1 --retrain-every 3600 --retrain-min-rows 1000 --admin-port ${P}97
    wait_metric ${P}97 'txw_rescore_runs_total{result="ok"}' 1 300 \
        && curl -sf "http://127.0.0.1:${P}97/readyz" >/dev/null
    local rc=$?
    # shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
    stop_clean "$(eval echo "\$PID_$1")" && return $rc
}
check "the loop with --supervised and no labels retrains and stays ready" loop sup1
check "... says there are too few labels and writes no supervised model" \
    bash -c "grep -q 'too few labels for the supervised model' '$WORK/sup1.log' \
             && test ! -e '$SUP'"
check "... and the scorer still runs without one" \
    test "$(metric ${P}92 txw_scorer_supervised_loaded)" = 0
# Analysts' dispositions, as the query API stores them: the 150 highest
# scores confirmed fraud, 1,000 others (by a hash of the id) legitimate.
sql "INSERT INTO txw_data.labels (tx_id, source, ts, account_id, label, set_by)
     SELECT tx_id, 'disposition', ts, account_id, label, 'analyst:e2e' FROM (
       (SELECT tx_id, ts, account_id, 'fraud' AS label FROM txw_data.transactions
         ORDER BY score DESC, tx_id LIMIT 150)
       UNION ALL
       (SELECT tx_id, ts, account_id, 'legit' FROM txw_data.transactions WHERE score < 50
         ORDER BY md5 (tx_id) LIMIT 1000)) l ON CONFLICT DO NOTHING"
check "with enough labels the loop's retraining succeeds" loop sup2
SV=$(grep -o '"trained gb-[0-9T]*' "$WORK/sup2.log" | cut -d' ' -f2)
note "supervised model $SV"
check "... and writes the supervised model" test -n "$SV" -a -s "$SUP"
check "the running scorer loads it without a restart" \
    wait_metric ${P}92 txw_scorer_supervised_loaded 1 15
check "... and says which" grep -q "supervised model $SV" "$WORK/scorer.log"
cp "$SUP" "$WORK/first-supervised.bin"
cp "$MODEL" "$WORK/first-forest.bin"
check "the next retraining succeeds" loop sup3
check "... keeping the supervised model it replaced as supervised.bin.prev" \
    cmp -s "$SUP.prev" "$WORK/first-supervised.bin"
"$BIN/txw-train" --out "$MODEL" --supervised-out "$SUP" --rollback >"$WORK/rollback-both.log" 2>&1
rb=$?
check "txw-train --rollback with --supervised-out puts both previous models back" \
    bash -c "test $rb = 0 && cmp -s '$SUP' '$WORK/first-supervised.bin' && cmp -s '$MODEL' '$WORK/first-forest.bin'"
check "no retraining was refused a table (the rescoring login reads the labels)" \
    bash -c "! grep -q 'permission denied' '$WORK'/sup[123].log"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the scorer stops cleanly" stop_clean "$PID_scorer"
