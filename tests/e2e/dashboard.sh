#!/bin/bash
# dashboard.sh - the live dashboard in headless Chromium, end to end
#
# Runs validator, scorer and aggregator with the producer sending live
# traffic (event time = now, many frauds, one degraded region), the query
# API and the push gateway serving the bundle (build/dashboard, or the one
# beside TXW_BIN's build), then drives the page
# with tests/js/dashboard_test.mjs (playwright-core on /usr/bin/chromium):
# sign-in (a wrong key refused, a viewer without alert actions, sign-out,
# an analyst), connected, cards moving, live alerts with descriptions, an
# alert acked with the keyboard (then checked in txw.alerts and the audit
# log, which must name the analyst's key), tables, region health,
# charts, the range picker (7 d: the page shows the total of the query
# API's hourly points), no console errors, a phone-sized layout, and a reconnect after
# the gateway restarts, and garbage, a seq jump and a gap injected between
# the page and the gateway. Screenshots go to build/e2e/dashboard/.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=181
QUERY_PORT=${P}80 GW_PORT=${P}81
for bin in txw-query txw-gateway; do
    [ -x "$BIN/$bin" ] || { not_ok "$bin is built (make build/bin/$bin)"; exit 1; }
done
DASH=$(dashboard_dir) || { not_ok "the dashboard is built (make dashboard)"; exit 1; }
sh "$ROOT/tools/npm_deps.sh" "$ROOT/tests/js" >/dev/null
node "$ROOT/dashboard/test/format.test.mjs" >"$WORK/format.tap"
check "the dashboard's formatting rules hold (dashboard/test/format.test.mjs)" test $? -eq 0
grep '^not ok' "$WORK/format.tap"

pg_start 25346
start_pipeline $P
"$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 --seed 23 \
    --shape flat --rate 150 --duration 600 --accounts 1500 --fraud-rate 0.06 --invalid-rate 0.01 \
    --degraded-region R2 --degraded-share 0.35 >"$WORK/producer.log" 2>&1 &
PID_producer=$!
PIDS+=("$PID_producer")

i=0
until [ "$(sql "SELECT count(*) FROM txw.alerts WHERE kind = 'fraud'")" -gt 0 ] 2>/dev/null &&
      [ "$(sql "SELECT count(*) FROM txw.window_totals WHERE dimension = 'overall'")" -gt 0 ] 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 150 ] && break; sleep 0.2
done
check "the pipeline stores alerts and windows" test "$(sql "SELECT count(*) FROM txw.alerts")" -gt 0

VIEWER=$(make_key vera viewer)
ANALYST=$(make_key alice analyst)
export TXW_VIEWER_KEY=$VIEWER TXW_ANALYST_KEY=$ANALYST
start query ${P}94 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:$QUERY_PORT \
    --admin-port ${P}94 --cors-origins "http://127.0.0.1:$GW_PORT"
GW=("$BIN/txw-gateway" --listen "127.0.0.1:$GW_PORT" --admin-port "${P}95"
    --document-root "$DASH" --api-url "http://127.0.0.1:$QUERY_PORT"
    --database-url "$DB" --alert-endpoints "tcp://127.0.0.1:${P}12"
    --window-endpoints "tcp://127.0.0.1:${P}22" --dead-letter-endpoints "tcp://127.0.0.1:${P}02")
start gateway ${P}95 "${GW[@]}"
check "GET /config.json names the query API" \
    test "$(curl -sf http://127.0.0.1:$GW_PORT/config.json)" = "{\"api_url\":\"http://127.0.0.1:$QUERY_PORT\"}"
check "the query API answers the dashboard's CORS preflight" \
    sh -c "curl -s -o /dev/null -D - -X OPTIONS -H 'Origin: http://127.0.0.1:$GW_PORT' \
        -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' \
        http://127.0.0.1:$QUERY_PORT/api/v1/alerts/fraud%3Ax/ack | grep -qi '^access-control-allow-origin:'"

# The browser test; when it asks, the gateway is restarted under the page.
rm -f "$WORK/restart.request" "$WORK/acked.key"
browser_test "$ROOT/tests/js/dashboard_test.mjs" "http://127.0.0.1:$GW_PORT/" "$WORK" >"$WORK/browser.tap" 2>&1 &
PID_browser=$!
while kill -0 $PID_browser 2>/dev/null && [ ! -f "$WORK/restart.request" ]; do sleep 0.2; done
if [ -f "$WORK/restart.request" ]; then
    # shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
    check "the gateway stops cleanly under a connected page" stop_clean $PID_gateway
    sleep 2
    start gateway ${P}95 "${GW[@]}"
fi
wait $PID_browser
browser_rc=$?
cat "$WORK/browser.tap"
check "the browser test passes" test $browser_rc -eq 0

KEY=$(cat "$WORK/acked.key" 2>/dev/null)
check "the page acknowledged an alert" test -n "$KEY"
check "txw.alerts shows that alert acked by the analyst's key, with the disposition chosen ($KEY)" \
    test "$(sql "SELECT status || ' ' || acked_by || ' ' || disposition FROM txw.alerts WHERE key = '${KEY//\'/\'\'}'")" = "closed alice confirmed_fraud"
check "the audit row of that ack names the analyst's key" \
    test "$(sql "SELECT principal || ' ' || name || ' ' || role FROM txw_data.audit WHERE action = 'alert.ack' AND target = '${KEY//\'/\'\'}'")" = "${ANALYST:4:16} alice analyst"
check "no other alert was acked" test "$(sql "SELECT count(*) FROM txw.alerts WHERE status = 'closed'")" = 1
check "the laptop screenshot is saved" test -s "$WORK/dashboard.png"
check "the phone screenshot is saved" test -s "$WORK/dashboard-phone.png"
note "screenshots: $WORK/dashboard.png $WORK/dashboard-phone.png"

kill $PID_producer 2>/dev/null
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "gateway and query API stop cleanly on SIGTERM" stop_clean $PID_gateway $PID_query
