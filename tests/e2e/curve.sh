#!/bin/bash
# curve.sh - CURVE on every ZeroMQ socket, with a certificate per role
#
# `txw-keygen --all` makes the set a deployment's key job makes: the server
# certificate "cluster", one client certificate per role and the allowed
# folder of the roles' public keys. Each stage runs with the server
# certificate (it binds) and its own role's certificate (it connects);
# the producer and the gateways with their role's only. Then, with the
# pipeline up:
# - a rogue key (not allowed) and a producer without CURVE inject nothing;
#   the validator counts the rogue handshakes;
# - a producer key cannot write to the aggregator's input, and a validator
#   key cannot send it scored transactions: both refused at the handshake
#   (role), nothing applied;
# - the allowed producer delivers the first half of a fixed stream, with
#   acknowledgements from the aggregator and the validator over CURVE;
# - a second scorer key, added to the allowed folder while everything
#   runs, is admitted without a restart, but its forged envelope claiming
#   the real scorer's source id with a huge seq (the forged checkpoint of
#   the review) is refused and counted, and stores nothing, and so is a
#   message type scorers never send;
# - the aggregator restarts: the checkpoint of the real scorer's source
#   kept its key, and the restarted aggregator binds the source id to it
#   before anything arrives, so the second key's envelope claiming it
#   (with the real epoch and a huge seq), sent before the real scorer sends
#   again, is refused and counted and stores nothing;
# - the second half follows: the real scorer was not taken for a replay,
#   the window totals match the stream exactly, and no checkpoint holds
#   the forged seq.
# Two gateways subscribe to the alerts, windows and dead letters: the one
# with the gateway key receives them, the one with a rogue key nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25354
P=184   # port prefix for this suite
GEN=(--seed 11 --count 6000 --start 2026-01-05T08:00:00Z --event-rate 50 --rate 0
     --accounts 800 --fraud-rate 0.03 --invalid-rate 0.01)
INJECT=$(dirname "$BIN")/tools/txw-pubinject
[ -x "$INJECT" ] || INJECT=$ROOT/build/tools/txw-pubinject

KEYS=$WORK/keys
"$BIN/txw-keygen" --all "$KEYS" >"$WORK/keygen.log" 2>&1
check "txw-keygen --all makes the server, role and allowed certificates" \
    test $? -eq 0 -a -s "$KEYS/server/cluster.key_secret" -a -s "$KEYS/public/cluster.key" \
         -a -s "$KEYS/scorer/scorer.key_secret" -a -s "$KEYS/allowed/notifier.key"
sum_before=$(cat "$KEYS"/*/*.key_secret | md5sum)
"$BIN/txw-keygen" --all "$KEYS" >>"$WORK/keygen.log" 2>&1
check "txw-keygen --all again keeps every key and exits 0 (a key job may run at every start)" \
    test $? -eq 0 -a "$(cat "$KEYS"/*/*.key_secret | md5sum)" = "$sum_before"
check "the allowed folder holds exactly the six roles' public keys" \
    test "$(cd "$KEYS/allowed" && echo *)" = \
         "aggregator.key gateway.key notifier.key producer.key scorer.key validator.key"
for name in rogue scorer-evil; do
    "$BIN/txw-keygen" $name "$KEYS/extra" >/dev/null 2>&1 || { not_ok "txw-keygen $name"; exit 1; }
done
check "txw-keygen writes a public and an owner-only secret certificate" \
    test -s "$KEYS/extra/rogue.key" -a "$(stat -c %a "$KEYS/extra/rogue.key_secret")" = 600
check "txw-keygen refuses to overwrite a key" \
    bash -c "! '$BIN/txw-keygen' rogue '$KEYS/extra' 2>/dev/null"
check "txw-keygen says when a name is no role" \
    bash -c "'$BIN/txw-keygen' cluster-2 '$KEYS/extra' 2>&1 >/dev/null | grep -q 'names no role'"

"$BIN/txw-producer" "${GEN[@]}" --csv-out "$WORK/gen.csv" --admin-port 0 >"$WORK/csv-out.log" 2>&1
python3 "$ROOT/tests/e2e/expected.py" summary "$WORK/gen.csv" "$ROOT/tests/e2e/rates.csv" >"$WORK/summary.txt"
python3 "$ROOT/tests/e2e/expected.py" windows "$WORK/gen.csv" "$ROOT/tests/e2e/rates.csv" >"$WORK/expected-windows.tsv"
VALID=$(sed -n 's/^valid=//p' "$WORK/summary.txt")
INVALID=$(sed -n 's/^invalid=//p' "$WORK/summary.txt")
note "stream: $VALID valid, $INVALID invalid"
LINES=$(($(wc -l <"$WORK/gen.csv") - 1))
HALF=$((LINES / 2))
head -n $((HALF + 1)) "$WORK/gen.csv" >"$WORK/half1.csv"
{ head -n 1 "$WORK/gen.csv"; tail -n +$((HALF + 2)) "$WORK/gen.csv"; } >"$WORK/half2.csv"

# Every service started from here on connects to the cluster's servers;
# the stages that bind also serve with the server certificate and admit
# clients by role from the allowed folder. Each names its role's key.
export TXW_CURVE_SERVER_KEY=$KEYS/public/cluster.key TXW_CURVE_ALLOWED=$KEYS/allowed
SERVER=(--curve-secret-key "$KEYS/server/cluster.key_secret")
role_key() { echo "$KEYS/$1/$1.key_secret"; }

"$BIN/txw-validator" --curve-secret-key "$KEYS/none.key_secret" --admin-port 0 \
    --bind tcp://127.0.0.1:${P}09 >"$WORK/badkey.log" 2>&1
check "a service with a missing certificate exits 2 with a clear error" \
    test $? -eq 2 -a -n "$(grep -l 'cannot load a certificate' "$WORK/badkey.log")"
"$BIN/txw-validator" --curve-client-key "$(role_key validator)" --admin-port 0 \
    --bind tcp://127.0.0.1:${P}09 >"$WORK/noserver.log" 2>&1
check "a stage that binds without the server certificate does not start" \
    test $? -ne 0 -a -n "$(grep -l 'server certificate' "$WORK/noserver.log")"

start_stage aggregator $P "${SERVER[@]}" --curve-client-key "$(role_key aggregator)"
SCORER_ARGS=(--id scorer-0)
start_stage scorer $P "${SERVER[@]}" --curve-client-key "$(role_key scorer)"
start_stage validator $P "${SERVER[@]}" --curve-client-key "$(role_key validator)"
grep -q '"CURVE on' "$WORK/validator.log"
check "the validator runs with CURVE on" test $? -eq 0
grep -q 'keys admitted by role (producer 1, validator 1, scorer 1, aggregator 1, gateway 1, notifier 1)' \
    "$WORK/aggregator.log"
check "the aggregator reads one key per role from the allowed folder" test $? -eq 0

GW=(--document-root "$WORK" --api-url ""
    --alert-endpoints "tcp://127.0.0.1:${P}12" --window-endpoints "tcp://127.0.0.1:${P}22"
    --dead-letter-endpoints "tcp://127.0.0.1:${P}02")
start gateway 18495 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:18481 --admin-port 18495 \
    --curve-client-key "$(role_key gateway)"
start roguegw 18496 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:18482 --admin-port 18496 \
    --curve-client-key "$KEYS/extra/rogue.key_secret"

# --- a key that is not allowed, and a producer without CURVE ----------------------
"$BIN/txw-producer" --seed 99 --count 2000 --rate 0 --admin-port 0 \
    --validator-endpoints tcp://127.0.0.1:${P}01 --curve-client-key "$KEYS/extra/rogue.key_secret" \
    >"$WORK/rogue-producer.log" 2>&1 &
ROGUE=$!
env -u TXW_CURVE_SERVER_KEY -u TXW_CURVE_ALLOWED \
    "$BIN/txw-producer" --seed 98 --count 2000 --rate 0 --admin-port 0 \
    --validator-endpoints tcp://127.0.0.1:${P}01 >"$WORK/plain-producer.log" 2>&1 &
PLAIN=$!
PIDS+=("$ROGUE" "$PLAIN")
sleep 3
check "the validator receives nothing from a rogue key or a plain client" \
    test "$(metric ${P}91 txw_records_in_total)" = 0 -a "$(metric ${P}91 txw_batches_in_total)" = 0
kill -TERM $ROGUE $PLAIN 2>/dev/null
wait $ROGUE $PLAIN 2>/dev/null
check "the validator counts the rogue key's handshakes as unknown_key" \
    test "$(metric ${P}91 'txw_curve_handshakes_refused_total{reason="unknown_key"}')" -ge 1

# --- the wrong role at the aggregator's input -------------------------------------
"$BIN/txw-producer" --seed 97 --count 500 --rate 0 --admin-port 0 --drain-timeout-ms 2000 \
    --validator-endpoints tcp://127.0.0.1:${P}21 --curve-client-key "$(role_key producer)" \
    >"$WORK/producer-at-aggregator.log" 2>&1
"$INJECT" --connect tcp://127.0.0.1:${P}21 --kind scored_tx --source validator-x --seqs 1,2,3 \
    --wait-ms 500 --interval-ms 100 --curve-client-key "$(role_key validator)" \
    --curve-server-key "$KEYS/public/cluster.key" >"$WORK/validator-inject.log" 2>&1
sleep 1
check "a producer key and a validator key cannot write to the aggregator's input" \
    test "$(metric ${P}93 txw_records_in_total)" = 0 -a "$(metric ${P}93 txw_batches_in_total)" = 0 \
         -a "$(metric ${P}93 txw_malformed_messages_total)" = 0
check "... refused at the handshake, counted as role" \
    test "$(metric ${P}93 'txw_curve_handshakes_refused_total{reason="role"}')" -ge 2
check "nothing is stored from them" test "$(sql "SELECT count(*) FROM txw.transactions")" = 0

# --- the allowed producer, first half ---------------------------------------------
PRODUCER=("$BIN/txw-producer" --validator-endpoints "tcp://127.0.0.1:${P}01" --admin-port 0
          --ack-endpoints "tcp://127.0.0.1:${P}22,tcp://127.0.0.1:${P}02"
          --curve-client-key "$(role_key producer)")
"${PRODUCER[@]}" --file "$WORK/half1.csv" >"$WORK/producer-1.log" 2>&1
check "the producer's first half is stored and acknowledged over CURVE (exit 0)" test $? -eq 0

# --- a second scorer key forges the real scorer's checkpoint ----------------------
admitted=$(metric ${P}93 txw_curve_handshakes_admitted_total)
cp "$KEYS/extra/scorer-evil.key" "$KEYS/allowed/"
"$INJECT" --connect tcp://127.0.0.1:${P}21 --kind scored_tx --source scorer-0 --seqs 1000000 \
    --wait-ms 2500 --curve-client-key "$KEYS/extra/scorer-evil.key_secret" \
    --curve-server-key "$KEYS/public/cluster.key" >"$WORK/forge.log" 2>&1
check "a scorer key added to the allowed folder is admitted without a restart" \
    wait_metric ${P}93 txw_curve_handshakes_admitted_total $((${admitted%.*} + 1)) 10
check "its envelope claiming the real scorer's source id is refused (source)" \
    wait_metric ${P}93 'txw_curve_messages_refused_total{reason="source"}' 1 10
"$INJECT" --connect tcp://127.0.0.1:${P}21 --kind window --source scorer-evil --seqs 1 \
    --wait-ms 500 --curve-client-key "$KEYS/extra/scorer-evil.key_secret" \
    --curve-server-key "$KEYS/public/cluster.key" >"$WORK/forge-window.log" 2>&1
check "a window (which scorers never send) from a scorer key is refused (type)" \
    wait_metric ${P}93 'txw_curve_messages_refused_total{reason="type"}' 1 10
check "... and neither reached the aggregator's stage" \
    test "$(metric ${P}93 txw_malformed_messages_total)" = 0

# --- the binding survives an aggregator restart ----------------------------------
# The checkpoint of the real scorer's source keeps its key; the restarted
# aggregator binds scorer-0 to it before anything arrives, so the second
# scorer key cannot claim it by sending first (the scorer is idle: it sends
# nothing until the second half), even with the real epoch.
SCORER_PUB=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$KEYS/allowed/scorer.key")
check "the real scorer's checkpoint keeps its CURVE key" \
    test -n "$SCORER_PUB" -a "$(sql "SELECT count(*) FROM txw_data.checkpoints
        WHERE source = 'scorer-0/scored_tx' AND sender_key = '$SCORER_PUB'")" = 1
EPOCH=$(sql "SELECT epoch FROM txw_data.checkpoints WHERE source = 'scorer-0/scored_tx'")
SEQ_BEFORE=$(sql "SELECT seq FROM txw_data.checkpoints WHERE source = 'scorer-0/scored_tx'")
in_first=$(metric ${P}93 txw_records_in_total)
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the aggregator stops cleanly for a restart" stop_clean $PID_aggregator
start_stage aggregator $P "${SERVER[@]}" --curve-client-key "$(role_key aggregator)"
check "the restarted aggregator binds the source ids of its checkpoints to their keys" \
    grep -q 'bound to the CURVE keys stored with them' "$WORK/aggregator.log"
"$INJECT" --connect tcp://127.0.0.1:${P}21 --kind scored_tx --source scorer-0 --seqs 2000000 \
    --epoch "$EPOCH" --wait-ms 2500 --curve-client-key "$KEYS/extra/scorer-evil.key_secret" \
    --curve-server-key "$KEYS/public/cluster.key" >"$WORK/forge-restart.log" 2>&1
check "right after the restart, the other key's envelope claiming scorer-0 is refused (source)" \
    wait_metric ${P}93 'txw_curve_messages_refused_total{reason="source"}' 1 10
check "... before the real scorer sent anything to the restarted aggregator" \
    test "$(metric ${P}93 txw_batches_in_total)" = 0 -a "$(metric ${P}93 txw_records_in_total)" = 0
sleep 1
check "... and nothing of it is stored: no forged row, the checkpoint as it was" \
    test "$(sql "SELECT count(*) FROM txw.transactions WHERE tx_id LIKE 'forged-%'")" = 0 \
         -a "$(sql "SELECT seq FROM txw_data.checkpoints WHERE source = 'scorer-0/scored_tx'")" = "$SEQ_BEFORE"

# --- second half: the real scorer goes on -----------------------------------------
"${PRODUCER[@]}" --file "$WORK/half2.csv" >"$WORK/producer-2.log" 2>&1
check "the producer's second half is stored and acknowledged (exit 0)" test $? -eq 0
check "the aggregator received every valid record over CURVE (before and after its restart)" \
    wait_metric ${P}93 txw_records_in_total $((VALID - ${in_first%.*})) 60
check "the validator received exactly the allowed producer's records ($((VALID + INVALID)))" \
    test "$(metric ${P}91 txw_records_in_total)" = $((VALID + INVALID))
check "the aggregator skipped no batch of the real scorer as a replay" \
    test "$(metric ${P}93 txw_replayed_messages_total)" = 0
check "the allowed gateway receives alerts, windows and dead letters" \
    wait_metric 18495 txw_gateway_alerts_in_total 1 20
check "... window updates" wait_metric 18495 txw_gateway_window_rows_in_total 1 10
check "... dead letters" wait_metric 18495 txw_gateway_dead_letters_in_total 1 10
rogue_in=$(( $(metric 18496 txw_gateway_alerts_in_total) + $(metric 18496 txw_gateway_window_rows_in_total)
           + $(metric 18496 txw_gateway_dead_letters_in_total) + $(metric 18496 txw_batches_in_total) ))
check "the gateway with a rogue key receives nothing ($rogue_in)" test "$rogue_in" = 0
counted=0
for port in ${P}91 ${P}92 ${P}93; do
    [ "$(metric $port 'txw_curve_handshakes_refused_total{reason="unknown_key"}')" -ge 1 ] &&
        counted=$((counted + 1))
done
check "every stage counts the rogue gateway's handshakes ($counted of 3)" test $counted = 3
curl -sf "http://127.0.0.1:${P}93/metrics" >"$WORK/aggregator-metrics.txt"
grep '^txw_curve' "$WORK/aggregator-metrics.txt" | sed 's/^/# aggregator: /'
if command -v promtool >/dev/null; then
    check "promtool accepts the aggregator's /metrics with the CURVE counters" \
        promtool check metrics <"$WORK/aggregator-metrics.txt"
fi
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "validator, scorer, aggregator and gateways stop cleanly on SIGTERM" \
    stop_clean $PID_validator $PID_scorer $PID_aggregator $PID_gateway $PID_roguegw

sql "SELECT dimension, key, (extract(epoch FROM window_start) * 1000)::bigint,
            tx_count, amount_minor_sum, approved, declined, failed, late
     FROM txw.window_totals ORDER BY 1, 2, 3" | LC_ALL=C sort >"$WORK/actual-windows.tsv"
LC_ALL=C sort "$WORK/expected-windows.tsv" >"$WORK/expected-windows.sorted"
check "txw.window_totals matches the allowed stream exactly" \
    diff -q "$WORK/expected-windows.sorted" "$WORK/actual-windows.tsv"
check "every valid transaction is stored once ($VALID), none forged or from the rogue producers" \
    test "$(sql "SELECT count(*) FROM txw.transactions")" = "$VALID"
check "no checkpoint holds the forged sequence number" \
    test "$(sql "SELECT count(*) FROM txw_data.checkpoints WHERE seq >= 1000000")" = 0
