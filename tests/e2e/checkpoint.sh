#!/bin/bash
# checkpoint.sh - a restarted scorer resumes each account's history
#
# The scorer checkpoints changed account records to PostgreSQL. After a
# stream, it is restarted: it must read every account back, and an account
# with an ordinary history must still look ordinary, so that a sudden large
# amount is an amount spike to the new process, while the same amount from
# an account it has never seen is not. Accounts are stored by hashes keyed
# with the suite's pseudonym key (lib.sh): a scorer under another key
# restores none of them, and says so. Rows of the two layouts before (the
# home country, the structuring mask) are still restored. The merchant and device state
# (txw_data.scorer_cross_state) is resumed with them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25352
P=188
SCORER_ARGS=(--database-url "$DB" --checkpoint-s 1)
start_pipeline $P

csv_header="tx_id,ts,account_id,amount,currency,merchant_id,category,channel,branch_id,region,country,device_id,product_id,status"
{
    echo "$csv_header"
    for i in 1 2 3 4 5 6; do
        echo "CK-$i,2026-02-0${i}T12:00:00Z,CK-ACCOUNT,20.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
    done
} >"$WORK/history.csv"
"$BIN/txw-producer" --seed 3 --count 20000 --rate 0 --start 2026-02-01T00:00:00Z --event-rate 20 \
    --accounts 1500 --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 >"$WORK/producer.log" 2>&1
"$BIN/txw-producer" --file "$WORK/history.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >>"$WORK/producer.log" 2>&1
check "the aggregator gets the stream" wait_metric ${P}93 txw_records_in_total 20006 60
accounts=$(metric ${P}92 txw_accounts)
merchants=$(metric ${P}92 txw_scorer_merchants)
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the scorer stops cleanly, writing its last checkpoint" stop_clean $PID_scorer
stored=$(sql "SELECT count(*) FROM txw_data.scorer_state WHERE consumer = 'scorer-0'")
check "every account held is checkpointed ($accounts held, $stored rows)" test "$stored" = "$accounts"
check "checkpoints hold no account ids" \
    test "$(sql "SELECT count(*) FROM txw_data.scorer_state WHERE position('CK-ACCOUNT'::bytea IN state) > 0")" = 0
check "checkpoints are of the record's layout with the structuring mask (6256)" \
    test "$(sql "SELECT count(*) FROM txw_data.scorer_state WHERE layout <> 6256")" = 0
# Rows of the two layouts before are restored upgraded. In the one before
# the structuring mask (4256) its four bytes (245..248) were the sixteenth
# transaction id; in the one before the home country (2256) its three
# bytes (253..255) were padding too. Here they are garbage, which would be
# refused as a record (a vote out of range) or read as a mask if it were
# taken as it is.
sql "UPDATE txw_data.scorer_state SET layout = 4256,
     state = overlay (state PLACING '\\xffffffff'::bytea FROM 245 FOR 4)
     WHERE consumer = 'scorer-0' AND account_hash % 2 = 0" >/dev/null
sql "UPDATE txw_data.scorer_state SET layout = 2256,
     state = overlay (overlay (state PLACING '\\xffffff'::bytea FROM 253 FOR 3)
                      PLACING '\\xffffffff'::bytea FROM 245 FOR 4)
     WHERE consumer = 'scorer-0' AND account_hash % 2 <> 0" >/dev/null

start scorer ${P}92 "$BIN/txw-scorer" --bind tcp://127.0.0.1:${P}11 \
    --aggregator-endpoints tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}12 \
    --admin-port ${P}92 "${SCORER_ARGS[@]}"
check "the restarted scorer reads every account back, from the two layouts before too" \
    grep -q "resumed the history of $accounts accounts" "$WORK/scorer.log"
check "and holds them" test "$(metric ${P}92 txw_accounts)" = "$accounts"
check "it resumes the cross-account state too: every merchant ($merchants) is held again" \
    test "$merchants" -gt 100 -a "$(metric ${P}92 txw_scorer_merchants)" = "$merchants"

{
    echo "$csv_header"
    echo "CK-SPIKE,2026-02-07T12:00:00Z,CK-ACCOUNT,900.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
    echo "CK-FRESH,2026-02-07T12:00:00Z,CK-NEWCOMER,900.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
} >"$WORK/after.csv"
"$BIN/txw-producer" --file "$WORK/after.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >>"$WORK/producer.log" 2>&1
wait_metric ${P}93 txw_records_in_total 20008 30 >/dev/null
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_validator $PID_scorer $PID_aggregator
reasons() { sql "SELECT array_to_string(reasons, ',') FROM txw.transactions WHERE tx_id = '$1'"; }
note "after the restart: CK-SPIKE [$(reasons CK-SPIKE)], CK-FRESH [$(reasons CK-FRESH)]"
check "a spike on an account with restored history is an amount spike" \
    grep -q amount_spike <<<"$(reasons CK-SPIKE)"
check "the same amount from an account never seen is not" \
    test -z "$(grep amount_spike <<<"$(reasons CK-FRESH)")"

# Under another pseudonym key the checkpointed accounts name nobody: a
# scorer restores none of them and says how many it left, with the rows of
# an older layout (plain FNV-1a hashes, before the keyed ones).
sql "INSERT INTO txw_data.scorer_state (consumer, account_hash, layout, state)
     VALUES ('scorer-0', 42, 1248, decode ('00', 'hex'))" >/dev/null
kept=$(sql "SELECT count(*) FROM txw_data.scorer_state WHERE consumer = 'scorer-0' AND layout <> 1248")
"$BIN/txw-keygen" --pseudonym-key "$WORK/other.key" >/dev/null
start scorer ${P}92 env TXW_PSEUDONYM_KEY_FILE="$WORK/other.key" "$BIN/txw-scorer" \
    --bind tcp://127.0.0.1:${P}11 --aggregator-endpoints tcp://127.0.0.1:${P}21 \
    --publish tcp://127.0.0.1:${P}12 --admin-port ${P}92 "${SCORER_ARGS[@]}"
check "under another pseudonym key the scorer restores no account" \
    grep -q "resumed the history of 0 accounts" "$WORK/scorer.log"
check "and says what it left: $kept under another key, 1 of an older layout" \
    grep -q "$kept checkpointed accounts of scorer-0 were saved under another pseudonym key and 1 with an older layout" \
    "$WORK/scorer.log"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the scorer under the other key stops cleanly" stop_clean $PID_scorer
