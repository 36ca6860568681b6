#!/bin/bash
# dashboard_alerts.sh - the analyst's workflow in the dashboard, in headless Chromium
#
# The query suite's known data (tests/e2e/query_data.bash: accounts,
# transactions, fraud and region health alerts) is loaded; the query API
# (as a login of txw_api) and the gateway serve the page, and
# tests/js/alerts_test.mjs (playwright-core on /usr/bin/chromium) drives
# #alerts: an analyst finds an alert by account, assigns it to themself,
# marks it confirmed fraud with a note and closes it, and the account's
# page (the customer drill-down) shows the alert closed as confirmed fraud
# and its fraud label; the live feed shows it closed, then open again when
# it is reopened through the API (the gateway follows the status events);
# a viewer sees pseudonyms and no actions. What the
# page shows is checked against the API's JSON, and what it did against
# the database here: the events, the label, the stale mark, the audit
# rows. Screenshots go to build/e2e/dashboard_alerts/.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=query_data.bash
source "$ROOT/tests/e2e/query_data.bash"

P=180   # port prefix (alerts.sh's too): API ${P}70, gateway ${P}71, admin ${P}95/${P}96
QUERY_PORT=${P}70 GW_PORT=${P}71

for bin in txw-aggregator txw-query txw-gateway; do
    [ -x "$BIN/$bin" ] || { not_ok "$bin is built (make build/bin/$bin)"; exit 1; }
done
DASH=$(dashboard_dir) || { not_ok "the dashboard is built (make dashboard)"; exit 1; }
sh "$ROOT/tools/npm_deps.sh" "$ROOT/tests/js" >/dev/null

pg_start 25386
"$BIN/txw-aggregator" --database-url "$DB" --migrate-only \
    --login-roles "txw_api=$(db_url dash_query) txw_push=$(db_url dash_gateway)" \
    >"$WORK/migrate.log" 2>&1 || { not_ok "schema created"; tail "$WORK/migrate.log"; exit 1; }
T0=$(( $(date +%s) / 60 * 60 ))
NOW=$(date +%s)
query_data_sql $T0 $NOW >"$WORK/data.sql"
check "the test data loads" psql "$DB" -qX -v ON_ERROR_STOP=1 -f "$WORK/data.sql" -o /dev/null

# The pages sign in as alice and vera; the test reads the API as tess.
ANALYST=$(make_key alice analyst)
VIEWER=$(make_key vera viewer)
CHECKER=$(make_key tess analyst)
export TXW_ANALYST_KEY=$ANALYST TXW_VIEWER_KEY=$VIEWER TXW_CHECK_KEY=$CHECKER TXW_ACCOUNT=acc-1
start query ${P}95 "$BIN/txw-query" --database-url "$(db_url dash_query)" --listen 127.0.0.1:$QUERY_PORT \
    --admin-port ${P}95 --cors-origins "http://127.0.0.1:$GW_PORT" --rate-per-key 0 --rate-per-client 0
# No pipeline: the gateway's feeds connect to ports nobody binds.
start gateway ${P}96 "$BIN/txw-gateway" --listen "127.0.0.1:$GW_PORT" --admin-port "${P}96" \
    --document-root "$DASH" --api-url "http://127.0.0.1:$QUERY_PORT" \
    --database-url "$(db_url dash_gateway)" --alert-endpoints "tcp://127.0.0.1:${P}12" \
    --window-endpoints "tcp://127.0.0.1:${P}22" --dead-letter-endpoints "tcp://127.0.0.1:${P}02"

browser_test "$ROOT/tests/js/alerts_test.mjs" "http://127.0.0.1:$GW_PORT/" "http://127.0.0.1:$QUERY_PORT" "$WORK" \
    >"$WORK/browser.tap" 2>&1
browser_rc=$?
cat "$WORK/browser.tap"
check "the browser test passes" test $browser_rc -eq 0

# What the page did, as the database has it: acc-1's alert (fraud:tx-100).
check "the page's changes are events by alice (assigned, closed as confirmed fraud with a note), then tess's reopening" test \
    "$(sql "SELECT string_agg (field || ':' || coalesce (new_value, '-') || '/' || actor, ',' ORDER BY event_id)
            FROM txw_data.alert_events WHERE dedupe_key = 'fraud:tx-100' AND field <> 'note'")/$(sql "SELECT count(*)
            FROM txw_data.alert_events WHERE dedupe_key = 'fraud:tx-100' AND field = 'note'")" \
    = "assignee:alice/alice,status:closed/alice,disposition:confirmed_fraud/alice,status:open/tess/1"
check "the disposition is tx-100's fraud label, set by alice, and acc-1 is stale" test \
    "$(sql "SELECT string_agg (tx_id || '/' || label || '/' || set_by, ',') FROM txw_data.labels")/$(sql "SELECT
            string_agg (account_id || '/' || reason, ',') FROM txw_data.stale_accounts")" \
    = "tx-100/fraud/alice/acc-1/disposition"
check "each change has its audit row naming alice" test \
    "$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'alert.update' AND name = 'alice'")" = 2
for shot in alerts alerts-account alerts-viewer; do
    check "the screenshot $shot.png is saved" test -s "$WORK/$shot.png"
done
note "screenshots: $WORK/alerts.png $WORK/alerts-account.png $WORK/alerts-viewer.png"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "gateway and query API stop cleanly on SIGTERM" stop_clean "$PID_gateway" "$PID_query"
