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
# neighbour gets every alert). Every client presents an API key made here
# (txw_data.api_keys) as the dashboard does, in the subprotocol list.
#
# Access: handshakes without a key, with a bad, malformed or revoked key,
# from an Origin not allowed, over --max-clients-per-key, or to a gateway
# without a key store are refused; the selected protocol is txwatch, never
# the key. HTTP: the security headers on files, errors and civetweb's own
# answers, no directory listing, no link out of --document-root, and the
# public reproducer of CVE-2025-55763 (civetweb's directory redirect).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=179
GW=(--document-root "$WORK/www" --api-url :18080)
WS=$ROOT/tests/js/ws_client.mjs
INJECT=$ROOT/build/tools/txw-pubinject
mkdir -p "$WORK/www/assets" && echo '<!doctype html><title>txwatch</title>' >"$WORK/www/index.html"
echo 'export {};' >"$WORK/www/assets/inner.js"
ln -s /etc/passwd "$WORK/www/passwd"
check "txw-pubinject is built (make build/tools/txw-pubinject)" test -x "$INJECT"

# mk_key NAME ROLE: stores a new API key and prints it (as txwctl keys
# create would: key_id 16 hex, only the SHA-256 of the 43-character secret).
mk_key() {
    local id secret hash
    read -r id secret hash < <(python3 -c '
import base64, hashlib, secrets
s = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
print(secrets.token_hex(8), s, hashlib.sha256(s.encode()).hexdigest())')
    sql "INSERT INTO txw_data.api_keys (key_id, name, role, secret_hash, created_by)
         VALUES ('$id', '$1', '$2', decode('$hash', 'hex'), 'e2e')" >/dev/null || return 1
    echo "txw_${id}_${secret}"
}

# raw PORT: sends each line of stdin, a Python bytes expression, as one
# request on its own connection and prints the answer (or "closed").
raw() {
    python3 -c '
import socket, sys
for line in sys.stdin:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(eval(line, {}))
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except OSError:
            break
        if not d:
            break
        out += d
    print(out.decode("latin-1").replace("\r", "") if out else "closed")
    print("----")' "$1"
}

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
VIEWER=$(mk_key e2e-viewer viewer)
ANALYST=$(mk_key e2e-analyst analyst)
OTHER=$(mk_key e2e-other viewer)
REVOKED=$(mk_key e2e-revoked viewer)
check "API keys are made for the suite" test -n "$VIEWER" -a -n "$ANALYST" -a -n "$OTHER" -a -n "$REVOKED"
export TXW_WS_KEY=$VIEWER
# The main gateway's clients may queue 1,024 messages: the live client takes
# every window of a busy pipeline, and on a loaded machine a reader stalled
# for a few seconds at 256 was closed as too slow (seen once in a clean-clone
# CI run). Slow clients are tested on gateways of their own below.
export TXW_WS_QUEUE=1024
# The producer pauses while the gateway seeds and the first client reads its
# snapshot: the snapshot holds the newest alerts, and live ones (id null until
# stored) would fill it when the gateway starts slowly (a sanitized CI run saw
# only live alerts). Then in-flight alerts settle before the gateway starts.
kill -STOP "$PID_producer"
prev=-1; i=0
while cur=$(sql "SELECT count(*) FROM txw.alerts") && [ "$cur" != "$prev" ] && [ $i -lt 40 ]; do
    prev=$cur; i=$((i + 1)); sleep 0.5
done
start gateway ${P}95 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:${P}80 --admin-port ${P}95 \
    --database-url "$DB" --alert-endpoints tcp://127.0.0.1:${P}12,tcp://127.0.0.1:${P}13 \
    --window-endpoints tcp://127.0.0.1:${P}22 --dead-letter-endpoints tcp://127.0.0.1:${P}02 \
    --client-queue "$TXW_WS_QUEUE"
URL=ws://127.0.0.1:${P}80/ws

node "$WS" seeded $URL
kill -CONT "$PID_producer"
node "$WS" live $URL 8
node "$WS" topics $URL 4

# A close (an ack) made through the API (here: the same UPDATE and its
# status event, proto/sql/025_analyst.sql) reaches connected clients.
rm -f "$WORK/ack.ready"
ACK_KEY=$(sql "SELECT dedupe_key FROM txw_data.alerts WHERE status <> 'closed' AND kind = 'fraud'
               ORDER BY alert_id DESC LIMIT 1")
node "$WS" ack $URL "$WORK/ack.ready" "$ACK_KEY" &
ACK_PID=$!
for _ in $(seq 100); do [ -f "$WORK/ack.ready" ] && break; sleep 0.1; done
sql "WITH closed AS (UPDATE txw_data.alerts SET status = 'closed', acked_at = now(),
         acked_by = 'e2e-analyst' WHERE dedupe_key = '$ACK_KEY' RETURNING alert_id, ts, dedupe_key)
     INSERT INTO txw_data.alert_events (alert_id, ts, dedupe_key, field, old_value, new_value, actor)
     SELECT alert_id, ts, dedupe_key, 'status', 'open', 'closed', 'e2e-analyst' FROM closed" >/dev/null
wait $ACK_PID

# --- HTTP ---------------------------------------------------------------------
check "GET / serves the dashboard's index.html" \
    sh -c "curl -sf http://127.0.0.1:${P}80/ | grep -q '<title>txwatch</title>'"
check "GET /config.json resolves :PORT to the page's host" \
    test "$(curl -sf -H 'Host: dash.example:8081' http://127.0.0.1:${P}80/config.json)" = '{"api_url":"http://dash.example:18080"}'
check "a bad ?topics= is a 400" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
        -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
        -H "Sec-WebSocket-Protocol: txwatch, txwatch.key.$VIEWER" \
        "http://127.0.0.1:${P}80/ws?topics=alerts,bogus")" = 400

# Security headers on a file, on the gateway's own errors and on
# civetweb's (a request it cannot parse); the dashboard's policy allows its
# own scripts and styles, the WebSocket and the API of /config.json.
has_headers() {   # FILE: the dumped headers hold every security header
    grep -qi '^X-Content-Type-Options: nosniff' "$1" && grep -qi '^X-Frame-Options: DENY' "$1" &&
    grep -qi '^Referrer-Policy: no-referrer' "$1" &&
    grep -qi "^Content-Security-Policy: .*frame-ancestors 'none'" "$1"
}
status_is() {     # FILE CODE: the dumped answer's status line has CODE
    head -1 "$1" | grep -q " $2 "
}
curl -s -o /dev/null -D "$WORK/h_index" "http://127.0.0.1:${P}80/"
check "GET / carries the security headers" has_headers "$WORK/h_index"
check "the dashboard's CSP: own scripts and styles, the WebSocket of its host, the API" \
    grep -q "^Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';.*connect-src 'self' ws://127.0.0.1:${P}80 wss://127.0.0.1:${P}80 http://127.0.0.1:18080;" "$WORK/h_index"
check "the dashboard's CSP allows no inline code (no unsafe-*)" sh -c "! grep -qi 'unsafe-' '$WORK/h_index'"
curl -s -o /dev/null -D "$WORK/h_404" "http://127.0.0.1:${P}80/nope.js"
check "an unknown file is a 404" status_is "$WORK/h_404" 404
check "the 404 carries the security headers" has_headers "$WORK/h_404"
curl -s -o /dev/null -D "$WORK/h_405" -X POST "http://127.0.0.1:${P}80/"
check "a POST is a 405" status_is "$WORK/h_405" 405
check "the 405 carries the security headers" has_headers "$WORK/h_405"
curl -s -o /dev/null -D "$WORK/h_config" "http://127.0.0.1:${P}80/config.json"
check "/config.json carries the security headers" has_headers "$WORK/h_config"
printf '%s\n' 'b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"' | raw ${P}80 >"$WORK/h_505"
check "civetweb answers a request it will not serve itself (HTTP/2.0: 505)" status_is "$WORK/h_505" 505
check "civetweb's own answers carry the security headers too" has_headers "$WORK/h_505"

# No listing, nothing but the bundle's own files, names exactly as sent.
for path in /assets /assets/ /assets/inner.js /passwd /./index.html //index.html /index.html/ \
        /%69ndex.html /../index.html /ws; do
    code=$(curl -s --path-as-is -o "$WORK/b_path" -w '%{http_code}' "http://127.0.0.1:${P}80$path")
    check "GET $path is a 404 (no folder, no listing, no link out, no path games)" \
        sh -c "test '$code' = 404 && ! grep -qi 'index of' '$WORK/b_path'"
done

# CVE-2025-55763 (civetweb #1346, #1356): a URI of many slashes naming a
# folder without its trailing slash, with a query string, overflowed the
# heap in civetweb's directory redirect (1.16: the request link filled the
# buffer, then "/?" and the query were appended). Sent raw as in the
# public reproducer, and as variants aimed at a folder of the root: the
# gateway never enters that code, answers 404 (or 400) and serves on.
# Under make sanitize AddressSanitizer would abort on an overflow.
raw ${P}80 >"$WORK/cve.out" <<'EOF'
b"GET " + b"/" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
b"GET /" + b"/" * 9000 + b"assets?" + b"q" * 64 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
b"GET " + b"/" * 3000 + b"assets?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
b"GET /assets?x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
EOF
note "CVE-2025-55763 reproducers: $(grep '^HTTP' "$WORK/cve.out" | tr '\n' ' ')"
check "the CVE-2025-55763 reproducers get 404 or 400, never a redirect" \
    test "$(grep -cE '^HTTP/1\.[01] (404|400) ' "$WORK/cve.out")" = 4
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the gateway serves on after the reproducers" \
    sh -c "curl -sf http://127.0.0.1:${P}80/ | grep -q '<title>txwatch</title>' &&
           curl -sf http://127.0.0.1:${P}95/healthz -o /dev/null && kill -0 $PID_gateway"

# --- access to /ws ----------------------------------------------------------------
hs() {   # EXPECT WHAT [VAR=VALUE...]: one handshake to the main gateway
    local expect=$1 what=$2; shift 2
    env "$@" node "$WS" handshake "$URL" "$expect" "$what"
}
hs 101 "a viewer key as subprotocol"
hs 101 "an analyst key" TXW_WS_KEY="$ANALYST"
hs 101 "a key in Authorization (a program)" TXW_WS_BEARER=1
hs 401 "no key" TXW_WS_KEY=''
hs 401 "only the txwatch protocol, no key" TXW_WS_KEY='' TXW_WS_PROTOCOLS=txwatch
hs 401 "a key of the right form with a wrong secret" TXW_WS_KEY="${VIEWER%?????}AAAAA"
hs 401 "a malformed key" TXW_WS_KEY=txw_nonsense
hs 400 "a key as subprotocol without txwatch" TXW_WS_PROTOCOLS="txwatch.key.$VIEWER"
hs 403 "an Origin of another site" TXW_WS_ORIGIN=http://evil.example
hs 403 "an Origin of the gateway's host on another port" TXW_WS_ORIGIN="http://127.0.0.1:${P}81"
hs 101 "the gateway's own origin (Origin = Host)" TXW_WS_ORIGIN="http://127.0.0.1:${P}80"
check "refused handshakes are counted by reason" \
    sh -c "curl -sf http://127.0.0.1:${P}95/metrics | grep -q 'txw_gateway_refused_upgrades_total{reason=\"no_key\"} 2' &&
           curl -sf http://127.0.0.1:${P}95/metrics | grep -q 'txw_gateway_refused_upgrades_total{reason=\"origin\"} 2'"
check "no key's secret reaches the gateway's log" sh -c "! grep -qF -e '${VIEWER:21}' -e '${ANALYST:21}' '$WORK/gateway.log'"

# A gateway with an allowlist, a short key cache and two connections a key.
start gateway_auth ${P}98 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:${P}83 --admin-port ${P}98 \
    --database-url "$DB" --key-cache-ms 1000 --max-clients-per-key 2 \
    --allowed-origins http://allowed.example:8081,https://other.example \
    --alert-endpoints tcp://127.0.0.1:${P}12 --window-endpoints "" --dead-letter-endpoints ""
AUTH_URL=ws://127.0.0.1:${P}83/ws
TXW_WS_ORIGIN=http://allowed.example:8081 node "$WS" handshake "$AUTH_URL" 101 "an allowed Origin"
TXW_WS_ORIGIN=https://other.example node "$WS" handshake "$AUTH_URL" 101 "another allowed Origin"
TXW_WS_ORIGIN=http://allowed.example:8082 node "$WS" handshake "$AUTH_URL" 403 "an Origin not in the list"
TXW_WS_KEY2=$OTHER node "$WS" keycap "$AUTH_URL" 2
check "the connection over the key's limit is counted" \
    sh -c "curl -sf http://127.0.0.1:${P}98/metrics | grep -q 'txw_gateway_refused_upgrades_total{reason=\"key_limit\"} 1'"
TXW_WS_KEY=$REVOKED node "$WS" handshake "$AUTH_URL" 101 "a key about to be revoked"
# A connection open when its key is revoked is closed too (4001).
rm -f "$WORK/revoked.ready"
TXW_WS_KEY=$REVOKED node "$WS" revoked "$AUTH_URL" "$WORK/revoked.ready" 10 &
REVOKED_PID=$!
for _ in $(seq 100); do [ -f "$WORK/revoked.ready" ] && break; sleep 0.1; done
REVOKED_ID=${REVOKED#txw_}
sql "UPDATE txw_data.api_keys SET revoked_at = now(), revoked_by = 'e2e' WHERE key_id = '${REVOKED_ID%%_*}'" >/dev/null
sleep 1.5
TXW_WS_KEY=$REVOKED node "$WS" handshake "$AUTH_URL" 401 "a revoked key, after --key-cache-ms"
wait $REVOKED_PID
check "closes for revoked keys are counted" \
    test "$(metric ${P}98 txw_gateway_revoked_closes_total)" -ge 1

# Without a database there is no key store: every upgrade is refused.
start gateway_nodb ${P}99 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:${P}84 --admin-port ${P}99 \
    --alert-endpoints "" --window-endpoints "" --dead-letter-endpoints ""
node "$WS" handshake ws://127.0.0.1:${P}84/ws 503 "a gateway without --database-url"
check "a gateway without --database-url says at start why /ws is refused" \
    grep -q 'no --database-url: API keys cannot be checked' "$WORK/gateway_nodb.log"

# A Sec-WebSocket-Key civetweb would choke on after accepting (its close
# handler then never runs) is refused first, and holds no client's slot.
upgrade() {   # PORT SEC-WEBSOCKET-KEY KEY: the status of one upgrade
    curl -s -o /dev/null -m 2 -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
        -H 'Sec-WebSocket-Version: 13' -H "Sec-WebSocket-Key: $2" \
        -H "Sec-WebSocket-Protocol: txwatch, txwatch.key.$3" "http://127.0.0.1:$1/ws"
}
clients_before=$(metric ${P}95 txw_gateway_clients)
long=$(upgrade ${P}80 "$(printf 'A%.0s' {1..70})" "$VIEWER")
check "an over-long Sec-WebSocket-Key is a 400 ($long) and holds no slot" \
    test "$long $(metric ${P}95 txw_gateway_clients)" = "400 $clients_before"
# Handshakes per client address: a burst of 5 (one a second), then 429,
# before any key is looked up.
start gateway_rate ${P}86 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:${P}85 --admin-port ${P}86 \
    --database-url "$DB" --handshakes-per-client 1 \
    --alert-endpoints "" --window-endpoints "" --dead-letter-endpoints ""
# The seven go out from one curl, back to back; a loaded machine may still
# spread them over more than a second, and each whole second refills one.
urls=()
for _ in 1 2 3 4 5 6 7; do urls+=(-o /dev/null "http://127.0.0.1:${P}85/ws"); done
t0=$(date +%s%N)
rated=$(curl -s -m 5 -w ' %{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    -H 'Sec-WebSocket-Protocol: txwatch, txwatch.key.txw_nonsense' "${urls[@]}")
refills=$((($(date +%s%N) - t0) / 1000000000))
n401=$(grep -o 401 <<<"$rated" | wc -l)
n429=$(grep -o 429 <<<"$rated" | wc -l)
check "handshakes over the per-address limit get 429 ($rated in $refills whole s)" \
    test "${rated:0:20}" = " 401 401 401 401 401" -a "$n429" -ge 1 -a $((n401 + n429)) -eq 7 \
    -a "$n401" -le $((5 + refills))

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
    --database-url "$DB" --max-clients 3 --alert-endpoints tcp://127.0.0.1:${P}12 --window-endpoints "" --dead-letter-endpoints ""
node "$WS" max ws://127.0.0.1:${P}81/ws 3
check "the refused client is counted" test "$(metric ${P}96 txw_gateway_rejected_clients_total)" = 1

# --- slow clients --------------------------------------------------------------------
# This one runs with --auth off (local debugging): no key is asked, and it
# says so loudly at start.
# Its client queue holds 2,048 messages, not the default 256: the neighbour
# that reads the alert flood below (2,500 a second) must not be closed as
# slow for a stall of a tenth of a second, which a loaded machine gives it
# (a faked-clock pass in CI did); a paused client still overflows it many
# times over.
start gateway_slow ${P}97 "$BIN/txw-gateway" "${GW[@]}" --listen 127.0.0.1:${P}82 --admin-port ${P}97 \
    --auth off --alert-endpoints tcp://127.0.0.1:${P}14 --client-queue 2048 \
    --window-endpoints tcp://127.0.0.1:${P}15 --dead-letter-endpoints ""
SLOW=ws://127.0.0.1:${P}82/ws
check "--auth off warns at start" grep -q -- '--auth off: ANYONE' "$WORK/gateway_slow.log"
TXW_WS_KEY='' node "$WS" handshake "$SLOW" 101 "--auth off: a client without a key"
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
"$INJECT" --bind tcp://127.0.0.1:${P}14 --count 20000 --rate 2500 --pad 400 --wait-ms 0 --subscribers 1 >"$WORK/inject-alerts.log" 2>&1
wait $SLOW_NODE $COUNT_NODE
cat "$WORK/slow2.tap" "$WORK/count.tap"
check "the slow-client close is counted" test "$(metric ${P}97 txw_gateway_slow_client_closes_total)" = 1

# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "gateways stop cleanly on SIGTERM" stop_clean "$PID_gateway" "$PID_gateway_max" "$PID_gateway_slow" \
    "$PID_gateway_auth" "$PID_gateway_nodb"
# The producer may have finished its --duration already (a sanitized run
# outlasted it, and the failed kill was then the suite's exit code).
kill "$PID_producer" 2>/dev/null || true
