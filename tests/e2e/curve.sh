#!/bin/bash
# curve.sh - CURVE on every ZeroMQ socket: who may inject, who may listen
#
# Makes certificates with txw-keygen: "cluster" (every service's own key
# and the server key clients connect with), "producer" and "gateway"
# (clients in the allowed directory), and "rogue" (a valid key pair that is
# not allowed). The pipeline runs with CURVE on through TXW_CURVE_*
# variables. A rogue producer and a producer without CURVE try to inject
# first: the validator must receive nothing. The allowed producer then
# delivers a fixed stream whose window totals must come out exactly. Two
# gateways subscribe to the alerts, windows and dead letters: the allowed
# one receives them, the rogue one nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25354
P=184   # port prefix for this suite
GEN=(--seed 11 --count 6000 --start 2026-01-05T08:00:00Z --event-rate 50 --rate 0
     --accounts 800 --fraud-rate 0.03 --invalid-rate 0.01)

KEYS=$WORK/keys ALLOWED=$WORK/allowed
mkdir -p "$ALLOWED"
for name in cluster producer gateway rogue; do
    "$BIN/txw-keygen" $name "$KEYS" >/dev/null || { not_ok "txw-keygen $name"; exit 1; }
done
cp "$KEYS/cluster.key" "$KEYS/producer.key" "$KEYS/gateway.key" "$ALLOWED/"
check "txw-keygen writes a public and an owner-only secret certificate" \
    test -s "$KEYS/rogue.key" -a "$(stat -c %a "$KEYS/rogue.key_secret")" = 600
check "txw-keygen refuses to overwrite a key" \
    bash -c "! '$BIN/txw-keygen' rogue '$KEYS' 2>/dev/null"

"$BIN/txw-producer" "${GEN[@]}" --csv-out "$WORK/gen.csv" --admin-port 0 >"$WORK/csv-out.log" 2>&1
python3 "$ROOT/tests/e2e/expected.py" summary "$WORK/gen.csv" "$ROOT/tests/e2e/rates.csv" >"$WORK/summary.txt"
python3 "$ROOT/tests/e2e/expected.py" windows "$WORK/gen.csv" "$ROOT/tests/e2e/rates.csv" >"$WORK/expected-windows.tsv"
VALID=$(sed -n 's/^valid=//p' "$WORK/summary.txt")
INVALID=$(sed -n 's/^invalid=//p' "$WORK/summary.txt")
note "stream: $VALID valid, $INVALID invalid"

# Every service started from here on runs with CURVE (flags override these).
export TXW_CURVE_SECRET_KEY=$KEYS/cluster.key_secret TXW_CURVE_SERVER_KEY=$KEYS/cluster.key \
       TXW_CURVE_ALLOWED=$ALLOWED

"$BIN/txw-validator" --curve-secret-key "$KEYS/none.key_secret" --admin-port 0 \
    --bind tcp://127.0.0.1:${P}09 >"$WORK/badkey.log" 2>&1
check "a service with a missing certificate exits 2 with a clear error" \
    test $? -eq 2 -a -n "$(grep -l 'cannot load a certificate' "$WORK/badkey.log")"

start_pipeline $P
grep -q '"CURVE on' "$WORK/validator.log"
check "the validator runs with CURVE on" test $? -eq 0

GW=(--document-root "$WORK" --api-url ""
    --alert-endpoints "tcp://127.0.0.1:${P}12" --window-endpoints "tcp://127.0.0.1:${P}22"
    --dead-letter-endpoints "tcp://127.0.0.1:${P}02")
start gateway 18495 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:18481 --admin-port 18495 \
    --curve-secret-key "$KEYS/gateway.key_secret"
start roguegw 18496 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:18482 --admin-port 18496 \
    --curve-secret-key "$KEYS/rogue.key_secret"

# --- a producer that is not allowed, and one without CURVE ------------------------
"$BIN/txw-producer" --seed 99 --count 2000 --rate 0 --admin-port 0 \
    --validator-endpoints tcp://127.0.0.1:${P}01 --curve-secret-key "$KEYS/rogue.key_secret" \
    >"$WORK/rogue-producer.log" 2>&1 &
ROGUE=$!
env -u TXW_CURVE_SECRET_KEY -u TXW_CURVE_SERVER_KEY -u TXW_CURVE_ALLOWED \
    "$BIN/txw-producer" --seed 98 --count 2000 --rate 0 --admin-port 0 \
    --validator-endpoints tcp://127.0.0.1:${P}01 >"$WORK/plain-producer.log" 2>&1 &
PLAIN=$!
PIDS+=("$ROGUE" "$PLAIN")
sleep 3
check "the validator receives nothing from a rogue key or a plain client" \
    test "$(metric ${P}91 txw_records_in_total)" = 0 -a "$(metric ${P}91 txw_batches_in_total)" = 0
kill -TERM $ROGUE $PLAIN 2>/dev/null
wait $ROGUE $PLAIN 2>/dev/null
check "nothing is stored from them" test "$(sql "SELECT count(*) FROM txw.transactions")" = 0

# --- the allowed producer -------------------------------------------------------
"$BIN/txw-producer" "${GEN[@]}" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --curve-secret-key "$KEYS/producer.key_secret" --admin-port 0 >"$WORK/producer.log" 2>&1
check "the allowed producer sends the stream and exits 0" test $? -eq 0
check "aggregator receives every valid record over CURVE" \
    wait_metric ${P}93 txw_records_in_total "$VALID" 60
check "the validator received exactly the allowed producer's records ($((VALID + INVALID)))" \
    test "$(metric ${P}91 txw_records_in_total)" = $((VALID + INVALID))
check "the allowed gateway receives alerts, windows and dead letters" \
    wait_metric 18495 txw_gateway_alerts_in_total 1 20
check "... window updates" wait_metric 18495 txw_gateway_window_rows_in_total 1 10
check "... dead letters" wait_metric 18495 txw_gateway_dead_letters_in_total 1 10
rogue_in=$(( $(metric 18496 txw_gateway_alerts_in_total) + $(metric 18496 txw_gateway_window_rows_in_total)
           + $(metric 18496 txw_gateway_dead_letters_in_total) + $(metric 18496 txw_batches_in_total) ))
check "the gateway with a rogue key receives nothing ($rogue_in)" test "$rogue_in" = 0
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "validator, scorer, aggregator and gateways stop cleanly on SIGTERM" \
    stop_clean $PID_validator $PID_scorer $PID_aggregator $PID_gateway $PID_roguegw

sql "SELECT dimension, key, (extract(epoch FROM window_start) * 1000)::bigint,
            tx_count, amount_minor_sum, approved, declined, failed, late
     FROM txw.window_totals ORDER BY 1, 2, 3" | LC_ALL=C sort >"$WORK/actual-windows.tsv"
LC_ALL=C sort "$WORK/expected-windows.tsv" >"$WORK/expected-windows.sorted"
check "txw.window_totals matches the allowed stream exactly" \
    diff -q "$WORK/expected-windows.sorted" "$WORK/actual-windows.tsv"
check "every valid transaction is stored once ($VALID), none from the rogue producers" \
    test "$(sql "SELECT count(*) FROM txw.transactions")" = "$VALID"
