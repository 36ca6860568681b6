#!/bin/bash
# dashboard_customers.sh - the dashboard's customers page in headless Chromium
#
# The producer's catalogue is loaded (txwctl products load) and half a
# year of its traffic (event time fixed, February to July 2026, baskets of
# those products, frauds) goes through validator -> scorer -> aggregator;
# txw-maint segments scores the customers as of 2026-08-01. Then the query
# API and the gateway serve the page, and tests/js/customers_test.mjs
# (playwright-core on /usr/bin/chromium) opens #customers as an analyst and
# as a viewer and checks what it shows against the API's JSON: every
# segment's size and shares, every cohort cell, the top customers by
# lifetime value, the drill-down from a customer row and from an alert's
# account (with the products recommended to the customer), the products
# bought with the most ordered one, the viewer's
# pseudonyms and "needs the analyst role" instead of a record. Screenshots
# go to build/e2e/dashboard_customers/.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=166   # port prefix: API ${P}80, gateway ${P}81, pipeline ${P}0x-${P}2x, admin ${P}9x
QUERY_PORT=${P}80 GW_PORT=${P}81
AS_OF=2026-08-01T00:00:00Z
PRODUCTS=60
COUNT=3000
# 3000 records over about 174 days: customers arrive in every month, so
# the cohorts differ; a small catalogue makes baskets share products.
GEN=(--seed 5 --count "$COUNT" --start 2026-02-01T00:00:00Z --event-rate 0.0002 --rate 0 --shape flat
     --accounts 1200 --fraud-rate 0.03 --products "$PRODUCTS")

for bin in txw-query txw-gateway txw-maint txwctl; do
    [ -x "$BIN/$bin" ] || { not_ok "$bin is built (make build/bin/$bin)"; exit 1; }
done
DASH=$(dashboard_dir) || { not_ok "the dashboard is built (make dashboard)"; exit 1; }
sh "$ROOT/tools/npm_deps.sh" "$ROOT/tests/js" >/dev/null

pg_start 25351
start_pipeline $P     # the aggregator migrates the database
"$BIN/txw-producer" --seed 5 --products $PRODUCTS --catalogue-out "$WORK/catalogue.csv" \
    >"$WORK/catalogue.log" 2>&1
"$BIN/txwctl" products load "$WORK/catalogue.csv" --database-url "$DB" >"$WORK/load.log" 2>&1
check "the catalogue is loaded ($PRODUCTS products)" test "$(sql "SELECT count(*) FROM txw.products")" = $PRODUCTS
"$BIN/txw-producer" "${GEN[@]}" --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 \
    >"$WORK/producer.log" 2>&1
check "the producer sends half a year of traffic" test $? -eq 0
check "every record is stored ($COUNT)" wait_metric ${P}93 txw_stored_transactions_total $COUNT 60
i=0
until [ "$(sql "SELECT count(*) FROM txw.alerts WHERE kind = 'fraud'")" -gt 0 ] 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.2
done
check "the pipeline stores fraud alerts" test "$(sql "SELECT count(*) FROM txw.alerts WHERE kind = 'fraud'")" -gt 0

sql "CREATE ROLE dash_maint LOGIN IN ROLE txw_maint" >/dev/null
"$BIN/txw-maint" segments --database-url "$(db_url dash_maint)" --as-of "$AS_OF" --admin-port 0 \
    >"$WORK/maint.log" 2>&1
check "txw-maint segments scores the customers as of $AS_OF" \
    test "$(sql "SELECT count(*) > 100 AND count(DISTINCT cohort_month) >= 5 FROM txw.customers")" = t

# The product of the most orders: the one whose recommendations are shown.
PRODUCT=$(sql "SELECT product_id FROM txw.transactions WHERE order_id IS NOT NULL
               GROUP BY 1 ORDER BY count(DISTINCT order_id) DESC, 1 LIMIT 1")
check "baskets name catalogue products ($PRODUCT is in the most orders)" test -n "$PRODUCT"

# The pages sign in as vera and alice; the test reads the API as tess, so
# alice's audit rows are the page's.
VIEWER=$(make_key vera viewer)
ANALYST=$(make_key alice analyst)
CHECKER=$(make_key tess analyst)
export TXW_VIEWER_KEY=$VIEWER TXW_ANALYST_KEY=$ANALYST TXW_CHECK_KEY=$CHECKER TXW_PRODUCT=$PRODUCT
start query ${P}94 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:$QUERY_PORT \
    --admin-port ${P}94 --cors-origins "http://127.0.0.1:$GW_PORT" --rate-per-key 0 --rate-per-client 0
start gateway ${P}95 "$BIN/txw-gateway" --listen "127.0.0.1:$GW_PORT" --admin-port "${P}95" \
    --document-root "$DASH" --api-url "http://127.0.0.1:$QUERY_PORT" \
    --database-url "$DB" --alert-endpoints "tcp://127.0.0.1:${P}12" \
    --window-endpoints "tcp://127.0.0.1:${P}22" --dead-letter-endpoints "tcp://127.0.0.1:${P}02"

browser_test "$ROOT/tests/js/customers_test.mjs" "http://127.0.0.1:$GW_PORT/" "http://127.0.0.1:$QUERY_PORT" "$WORK" \
    >"$WORK/browser.tap" 2>&1
browser_rc=$?
cat "$WORK/browser.tap"
check "the browser test passes" test $browser_rc -eq 0
# Each drill-down reads the record and the customer's recommendations.
check "the page's two drill-downs are audited as the analyst's (a customer row and an alert's)" \
    test "$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'read.customer' AND name = 'alice'")" = 4
for shot in customers customers-account customers-viewer; do
    check "the screenshot $shot.png is saved" test -s "$WORK/$shot.png"
done
note "screenshots: $WORK/customers.png $WORK/customers-account.png $WORK/customers-viewer.png"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "gateway and query API stop cleanly on SIGTERM" stop_clean "$PID_gateway" "$PID_query"
