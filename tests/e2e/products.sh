#!/bin/bash
# products.sh - the product catalogue and baskets, end to end
#
# The producer makes a catalogue from its seed (--products) and writes it
# (--catalogue-out); `txwctl products load` puts it in PostgreSQL, refuses
# a bad one whole, and loading it again changes nothing. The same producer
# then generates a stream whose online purchases are baskets (line items
# sharing an order_id) through validator -> scorer -> aggregator, and
# PostgreSQL must hold exactly what was sent: every order with its 1 to 8
# line items of one account, the same count and amounts per order and per
# currency, every generated product in the catalogue. Last, CSV files with
# and without the optional order_id column go through `--file`, one row
# naming a product the catalogue does not have: it is stored and counted,
# as an unknown product, not dropped.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25362
P=160   # port prefix for this suite
PRODUCTS=300
GEN=(--seed 11 --count 6000 --start 2026-01-05T08:00:00Z --event-rate 50 --rate 0
     --accounts 2000 --fraud-rate 0.01 --products "$PRODUCTS")

# --- the catalogue ----------------------------------------------------------------
"$BIN/txw-producer" --seed 11 --products $PRODUCTS --catalogue-out "$WORK/catalogue.csv" \
    >"$WORK/catalogue-out.log" 2>&1
check "the producer writes its catalogue ($PRODUCTS products and a header)" \
    test "$(wc -l <"$WORK/catalogue.csv")" -eq $((PRODUCTS + 1))
check "the catalogue's header is product_id,name,category,price,currency" \
    test "$(head -n 1 "$WORK/catalogue.csv")" = "product_id,name,category,price,currency"
"$BIN/txw-producer" --seed 11 --products $PRODUCTS --catalogue-out "$WORK/again.csv" \
    >>"$WORK/catalogue-out.log" 2>&1
check "the same seed writes the same catalogue" cmp -s "$WORK/catalogue.csv" "$WORK/again.csv"
"$BIN/txw-producer" --seed 11 --catalogue-out "$WORK/none.csv" >"$WORK/no-products.log" 2>&1
check "--catalogue-out without --products is refused (exit 2)" test $? -eq 2

"$BIN/txw-producer" "${GEN[@]}" --csv-out "$WORK/gen.csv" --admin-port 0 >"$WORK/csv-out.log" 2>&1
check "the producer writes the labelled CSV with its order_id column" \
    grep -q '^tx_id,.*,device_type,order_id,is_fraud,' "$WORK/gen.csv"

start_pipeline $P     # the aggregator migrates the database

"$BIN/txwctl" products load "$WORK/catalogue.csv" --database-url "$DB" >"$WORK/load.out" 2>"$WORK/load.err"
check "txwctl products load adds the catalogue" \
    grep -q "^loaded $PRODUCTS products from .*: $PRODUCTS added, 0 updated, 0 unchanged$" "$WORK/load.out"
check "txw.products holds it" test "$(sql "SELECT count(*) FROM txw.products")" = $PRODUCTS
"$BIN/txwctl" products load "$WORK/catalogue.csv" --database-url "$DB" >"$WORK/load.out" 2>>"$WORK/load.err"
check "loading it again changes nothing" \
    grep -q ": 0 added, 0 updated, $PRODUCTS unchanged$" "$WORK/load.out"
# A catalogue with one bad row among good ones: refused whole, and said where.
{ head -n 100 "$WORK/catalogue.csv"; echo "P99990,New Lamp,online_retail,12.5O,EUR"; } \
    | sed 's/,[0-9.]*,EUR$/,1.00,EUR/' \
    >"$WORK/bad.csv"
"$BIN/txwctl" products load "$WORK/bad.csv" --database-url "$DB" >"$WORK/bad.out" 2>&1
check "a catalogue with a bad row is refused (exit 2)" test $? -eq 2
check "... naming the line and the field" grep -q "bad.csv line 101, price: '12.5O'" "$WORK/bad.out"
check "... and nothing of it is loaded (no price changed, no product added)" \
    test "$(sql "SELECT count(*) FILTER (WHERE price_minor = 100), count(*) FROM txw.products")" \
         = "0	$PRODUCTS"

# --- the stream ---------------------------------------------------------------------
SENT=$(($(wc -l <"$WORK/gen.csv") - 1))
"$BIN/txw-producer" "${GEN[@]}" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer.log" 2>&1
check "the producer sends the stream and exits 0" test $? -eq 0
check "every record is stored ($SENT)" wait_metric ${P}93 txw_stored_transactions_total "$SENT" 60

# Per order: its account, line items, distinct products, amount (minor
# units; the catalogue's currency has two decimals), from what was sent.
awk -F, 'NR > 1 && $16 != "" {
            n[$16]++; s[$16] += $4 * 100; a[$16] = $3; p[$16 " " $13] = 1
         }
         END { for (k in p) { split(k, w, " "); d[w[1]]++ }
               for (o in n) printf "%s\t%s\t%d\t%d\t%d\n", o, a[o], n[o], d[o], s[o] + 0.5 }' \
    "$WORK/gen.csv" | LC_ALL=C sort >"$WORK/expected-orders.tsv"
sql "SELECT order_id, min(account_id), count(*), count(DISTINCT product_id), sum(amount_minor)
     FROM txw.transactions WHERE order_id IS NOT NULL GROUP BY 1" | LC_ALL=C sort >"$WORK/orders.tsv"
ORDERS=$(wc -l <"$WORK/expected-orders.tsv")
note "$ORDERS orders in the stream"
check "the stream has orders" test "$ORDERS" -gt 100
check "every order is stored with its account, line items, products and amount" \
    diff -q "$WORK/expected-orders.tsv" "$WORK/orders.tsv"
diff "$WORK/expected-orders.tsv" "$WORK/orders.tsv" | head -5
check "an order is 1 to 8 line items of one account, device, merchant and time, distinct products" \
    test "$(sql "SELECT count(*) FROM (SELECT order_id FROM txw.transactions WHERE order_id IS NOT NULL
                 GROUP BY 1 HAVING count(*) > 8 OR count(DISTINCT account_id) > 1
                     OR count(DISTINCT device_id) > 1 OR count(DISTINCT merchant_id) > 1
                     OR count(DISTINCT ts) > 1 OR count(DISTINCT product_id) < count(*)) bad")" = 0
mean=$(sql "SELECT round(count(*)::numeric / count(DISTINCT order_id), 2) FROM txw.transactions
            WHERE order_id IS NOT NULL")
note "mean basket size $mean line items"
check "baskets are 2 to 3 line items on average ($mean)" \
    awk -v m="$mean" 'BEGIN { exit !(m >= 2 && m <= 3) }'
check "every product the generator named is in the catalogue" \
    test "$(sql "SELECT count(*) FROM txw.transactions t WHERE product_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM txw.products p WHERE p.product_id = t.product_id)")" = 0
# Count and amount per currency, exactly as sent (amounts have the
# currency's decimals, so the digits are the minor units).
awk -F, 'NR > 1 { v = $4; sub(/\./, "", v); n[$5]++; s[$5] += v }
         END { for (c in n) printf "%s\t%d\t%d\n", c, n[c], s[c] }' "$WORK/gen.csv" \
    | LC_ALL=C sort >"$WORK/expected-totals.tsv"
sql "SELECT currency, count(*), sum(amount_minor) FROM txw.transactions GROUP BY 1" \
    | LC_ALL=C sort >"$WORK/totals.tsv"
check "count and amount per currency equal what was sent" \
    diff -q "$WORK/expected-totals.tsv" "$WORK/totals.tsv"

# --- files with and without order_id; a product the catalogue lacks ---------------
# The first file names P99999 and P99998, which the catalogue does not
# have: the rows are stored and counted, their product unknown.
core=tx_id,ts,account_id,amount,currency,merchant_id,category,channel,branch_id,region,country,device_id,product_id,status
cat >"$WORK/orders.csv" <<EOF
$core,order_id,device_type
F-1,2026-01-05T09:00:00Z,ACC-F1,5.00,EUR,M-F,online_retail,online,B-F,R-F,DE,D-F1,P99999,approved,WEB-1,web
F-2,2026-01-05T09:00:00Z,ACC-F1,7.50,EUR,M-F,online_retail,online,B-F,R-F,DE,D-F1,P00001,approved,WEB-1,web
F-3,2026-01-05T09:00:01Z,ACC-F2,3.25,EUR,M-F,online_retail,online,B-F,R-F,DE,D-F2,P99998,approved,,web
EOF
cat >"$WORK/older.csv" <<EOF
$core
G-1,2026-01-05T09:00:02Z,ACC-G1,9.00,EUR,M-F,grocery,pos,B-F,R-F,DE,D-G1,,approved
EOF
for f in orders older; do
    "$BIN/txw-producer" --file "$WORK/$f.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
        --admin-port 0 >"$WORK/producer-$f.log" 2>&1
done
check "the file rows are stored (with and without the order_id column)" \
    wait_metric ${P}93 txw_stored_transactions_total $((SENT + 4)) 30
check "a file's order groups its rows; a row without one has none" \
    test "$(sql "SELECT string_agg(tx_id || '=' || coalesce(order_id, '-'), ',' ORDER BY tx_id)
                 FROM txw.transactions WHERE tx_id LIKE 'F-%' OR tx_id LIKE 'G-%'")" \
         = "F-1=WEB-1,F-2=WEB-1,F-3=-,G-1=-"
check "products missing from the catalogue are stored and counted as unknown (2 rows, 8.25 EUR)" \
    test "$(sql "SELECT count(*), sum(t.amount_minor) FROM txw.transactions t
                 LEFT JOIN txw.products p USING (product_id)
                 WHERE t.product_id IS NOT NULL AND p.product_id IS NULL")" = "2	825"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "validator, scorer and aggregator stop cleanly" \
    stop_clean "$PID_validator" "$PID_scorer" "$PID_aggregator"
check "... and the windows count every stored transaction, unknown products too" \
    test "$(sql "SELECT sum(tx_count) FROM txw.window_totals WHERE dimension = 'overall'")" \
         = $((SENT + 4))
