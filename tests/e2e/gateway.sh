#!/bin/bash
# gateway.sh - txw-gateway end to end: the real pipeline, WebSocket clients
#
# Runs validator, scorer and aggregator with the producer sending live
# traffic (event time = now, many frauds and some invalid records), then
# drives txw-gateway with tests/js/ws_client.mjs: seeding from PostgreSQL,
# hello and snapshot first, live alerts, windows, stats and dead letters,
# seq continuity, topics, ping/pong, an upstream gap forced with
# txw-pubinject (seq 1, 2, 5) and the client's re-sync, the 503 beyond
# --max-clients, hostile clients, and slow clients (windows dropped with a
# slow_client gap; an alert that does not fit closes with 4008 while a
# neighbour gets every alert).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=179
GW=(--document-root "$WORK/www" --api-url :18080)
WS=$ROOT/tests/js/ws_client.mjs
INJECT=$ROOT/build/tools/txw-pubinject
mkdir -p "$WORK/www" && echo '<!doctype html><title>txwatch</title>' >"$WORK/www/index.html"
check "txw-pubinject is built (make build/tools/txw-pubinject)" test -x "$INJECT"

pg_start 25345
start_pipeline $P
"$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 --seed 11 \
    --shape flat --rate 300 --duration 120 --accounts 2000 --fraud-rate 0.05 --invalid-rate 0.01 \
    >"$WORK/producer.log" 2>&1 &
PID_producer=$!
PIDS+=("$PID_producer")

# Seeding: start the gateway once alerts and windows are stored.
i=0
until [ "$(sql "SELECT count(*) FROM txw.alerts WHERE kind = 'fraud'")" -gt 0 ] 2>/dev/null &&
      [ "$(sql "SELECT count(*) FROM txw.window_totals WHERE dimension = 'overall'")" -gt 0 ] 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 150 ] && break; sleep 0.2
done
check "the pipeline stores alerts and windows before the gateway starts" \
    test "$(sql "SELECT count(*) FROM txw.alerts")" -gt 0
start gateway ${P}95 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:${P}80 --admin-port ${P}95 \
    --database-url "$DB" --alert-endpoints tcp://127.0.0.1:${P}12,tcp://127.0.0.1:${P}13 \
    --window-endpoints tcp://127.0.0.1:${P}22 --dead-letter-endpoints tcp://127.0.0.1:${P}02
URL=ws://127.0.0.1:${P}80/ws

node "$WS" seeded $URL
node "$WS" live $URL 8
node "$WS" topics $URL 4

# An ack made through the API (here: the same UPDATE) reaches connected clients.
rm -f "$WORK/ack.ready"
ACK_KEY=$(sql "SELECT dedupe_key FROM txw_data.alerts WHERE acked_at IS NULL AND kind = 'fraud'
               ORDER BY alert_id DESC LIMIT 1")
node "$WS" ack $URL "$WORK/ack.ready" "$ACK_KEY" &
ACK_PID=$!
for _ in $(seq 100); do [ -f "$WORK/ack.ready" ] && break; sleep 0.1; done
sql "UPDATE txw_data.alerts SET acked_at = now(), acked_by = 'e2e-analyst'
     WHERE dedupe_key = '$ACK_KEY'" >/dev/null
wait $ACK_PID

# --- HTTP ---------------------------------------------------------------------
check "GET / serves the dashboard's index.html" \
    sh -c "curl -sf http://127.0.0.1:${P}80/ | grep -q '<title>txwatch</title>'"
check "GET /config.json resolves :PORT to the page's host" \
    test "$(curl -sf -H 'Host: dash.example:8081' http://127.0.0.1:${P}80/config.json)" = '{"api_url":"http://dash.example:18080"}'
check "a bad ?topics= is a 400" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
        -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
        "http://127.0.0.1:${P}80/ws?topics=alerts,bogus")" = 400

# --- forced upstream gap --------------------------------------------------------
rm -f "$WORK/gap.ready"
node "$WS" gap $URL "$WORK/gap.ready" 15 >"$WORK/gap.tap" &
GAP_NODE=$!
i=0; until [ -f "$WORK/gap.ready" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
gaps_before=$(metric ${P}95 txw_gateway_upstream_gaps_total)
"$INJECT" --bind tcp://127.0.0.1:${P}13 --seqs 1,2,5 --wait-ms 1500 --interval-ms 300 >"$WORK/inject.log" 2>&1
check "txw-pubinject publishes seq 1, 2 and 5" grep -q "sent seq 5" "$WORK/inject.log"
wait $GAP_NODE
cat "$WORK/gap.tap"
check "the gateway counts the upstream gap" \
    test "$(metric ${P}95 txw_gateway_upstream_gaps_total)" -gt "$gaps_before"

# --- hostile clients ---------------------------------------------------------------
node "$WS" hostile $URL
check "the gateway is alive after hostile clients" curl -sf http://127.0.0.1:${P}95/healthz -o /dev/null
check "ignored client frames are counted" \
    test "$(metric ${P}95 txw_gateway_bad_client_messages_total)" -ge 8
check "push latency is measured for alerts" \
    test "$(metric ${P}95 txw_gateway_push_latency_seconds_count)" -gt 0
check "messages sent are counted by type" \
    sh -c "curl -sf http://127.0.0.1:${P}95/metrics | grep -q 'txw_gateway_messages_sent_total{type=\"alert\"} [1-9]'"

# --- --max-clients ----------------------------------------------------------------
start gateway_max ${P}96 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:${P}81 --admin-port ${P}96 \
    --max-clients 3 --alert-endpoints tcp://127.0.0.1:${P}12 --window-endpoints "" --dead-letter-endpoints ""
node "$WS" max ws://127.0.0.1:${P}81/ws 3
check "the refused client is counted" test "$(metric ${P}96 txw_gateway_rejected_clients_total)" = 1

# --- slow clients --------------------------------------------------------------------
start gateway_slow ${P}97 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:${P}82 --admin-port ${P}97 \
    --alert-endpoints tcp://127.0.0.1:${P}14 \
    --window-endpoints tcp://127.0.0.1:${P}15 --dead-letter-endpoints ""
SLOW=ws://127.0.0.1:${P}82/ws
# A paused client with topic windows: the flood overflows its socket
# buffers and queue, windows are dropped, and a slow_client gap follows
# once it has caught up, even when no more windows come.
rm -f "$WORK/slow.ready"
node "$WS" slow "$SLOW?topics=windows" "$WORK/slow.ready" 8 >"$WORK/slow.tap" &
SLOW_NODE=$!
i=0; until [ -f "$WORK/slow.ready" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
"$INJECT" --kind window --bind tcp://127.0.0.1:${P}15 --count 40000 --rate 8000 --wait-ms 1000 \
    >"$WORK/inject-windows.log" 2>&1
wait $SLOW_NODE
cat "$WORK/slow.tap"
note "$(curl -sf http://127.0.0.1:${P}97/metrics | grep -E '^txw_gateway_(messages_(dropped|sent)_total\{type="(window|gap)"|slow)' | tr '\n' ' ')"
check "dropped windows are counted" \
    sh -c "curl -sf http://127.0.0.1:${P}97/metrics | grep -q 'txw_gateway_messages_dropped_total{type=\"window\"} [1-9]'"

# A paused client with topic alerts is closed with 4008; a neighbour that
# reads gets every alert, unslowed.
rm -f "$WORK/slow2.ready" "$WORK/count.ready"
node "$WS" slow "$SLOW?topics=alerts" "$WORK/slow2.ready" 10 expect-close >"$WORK/slow2.tap" &
SLOW_NODE=$!
node "$WS" count $SLOW "$WORK/count.ready" 20000 >"$WORK/count.tap" &
COUNT_NODE=$!
i=0; until [ -f "$WORK/slow2.ready" ] && [ -f "$WORK/count.ready" ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
"$INJECT" --bind tcp://127.0.0.1:${P}14 --count 20000 --rate 2500 --pad 400 --wait-ms 1000 >"$WORK/inject-alerts.log" 2>&1
wait $SLOW_NODE $COUNT_NODE
cat "$WORK/slow2.tap" "$WORK/count.tap"
check "the slow-client close is counted" test "$(metric ${P}97 txw_gateway_slow_client_closes_total)" = 1

# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "gateways stop cleanly on SIGTERM" stop_clean $PID_gateway $PID_gateway_max $PID_gateway_slow
kill $PID_producer 2>/dev/null
