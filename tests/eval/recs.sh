#!/bin/bash
# recs.sh - measured recommendation quality (`make eval`, after eval.sh)
#
# 1. The producer writes its catalogue (2,000 products, popularity Zipf,
#    each with a companion often bought with it) and a stream whose online
#    purchases are baskets (fixed seed and start; 200,000 transactions,
#    about 29,000 orders of 4,600 customers).
# 2. Each customer's last approved order (by event time) is held out;
#    everything else goes through the real pipeline (validator -> scorer
#    -> aggregator, which keeps the basket tables in its flush) into
#    PostgreSQL, with the catalogue loaded.
# 3. Per customer: for every customer with a held-out order and a
#    purchase before it, txw.recommend_for_customer (account, 10) is a hit
#    when the held-out order has one of its products. Per product: for every
#    product of a held-out order of two or more products,
#    txw.recommend_for_product (product, 10) is a hit when it has another
#    product of that order.
# 4. The baseline for both: the 10 products bought in the most training
#    orders, less what the recommender leaves out too (the customer's
#    earlier purchases; the product asked about).
# Hit rate@10 is the share of hits. The check fails only when the
# recommender does not beat the baseline; the figures are printed as
# "# ..." lines. EVAL_RECS_COUNT (default 200000) changes the size.
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

COUNT=${EVAL_RECS_COUNT:-200000}
PRODUCTS=2000
GEN=(--seed 7 --products "$PRODUCTS")
pg_start 25368
P=170

"$BIN/txw-producer" "${GEN[@]}" --catalogue-out "$WORK/catalogue.csv" >"$WORK/catalogue.log" 2>&1 \
    || { not_ok "the producer writes its catalogue"; exit 1; }
"$BIN/txw-producer" "${GEN[@]}" --count "$COUNT" --rate 0 --start 2026-01-05T00:00:00Z \
    --event-rate 5 --accounts 5000 --fraud-rate 0.01 --csv-out "$WORK/stream.csv" --admin-port 0 \
    >"$WORK/generate.log" 2>&1 || { not_ok "the producer writes the stream"; exit 1; }

# Each account's last purchase: the approved order (a declined one buys
# nothing, and the recommender counts approved line items only) of the
# latest event time (the fixed-width RFC 3339 text sorts as time), the
# later line among equal times. Its line items go to heldout.tsv (account,
# order, product), every other line to the training CSV.
awk -F, -v heldout="$WORK/heldout.tsv" -v train="$WORK/train.csv" '
    FNR == 1 { if (NR > 1) print >train; next }
    NR == FNR { if ($16 != "" && $14 == "approved" && $2 >= last_ts[$3]) { last_ts[$3] = $2; last[$3] = $16 }
                next }
    $16 != "" && last[$3] == $16 { print $3 "\t" $16 "\t" $13 >heldout; next }
    { print >train }' "$WORK/stream.csv" "$WORK/stream.csv"
train_rows=$(($(wc -l <"$WORK/train.csv") - 1))
note "recommendation set: $COUNT transactions, $(cut -f2 "$WORK/heldout.tsv" | sort -u | wc -l) held-out orders" \
     "($((COUNT - train_rows)) line items), $train_rows transactions for training"

# --- the training part through the pipeline -----------------------------------------
start_pipeline $P
"$BIN/txwctl" products load "$WORK/catalogue.csv" --database-url "$DB" >"$WORK/load.log" 2>&1 \
    || { not_ok "the catalogue loads"; cat "$WORK/load.log"; exit 1; }
"$BIN/txw-producer" --file "$WORK/train.csv" --rate 0 --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer.log" 2>&1
wait_metric ${P}93 txw_stored_transactions_total "$train_rows" 600 || { not_ok "training part stored"; exit 1; }
# A clean stop drains the aggregator: its last flush writes the baskets.
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "validator, scorer and aggregator stop cleanly" stop_clean "$PID_validator" "$PID_scorer" "$PID_aggregator"

# --- hit rate@10 ---------------------------------------------------------------------
psql "$DB" -qAtX -F $'\t' -v ON_ERROR_STOP=1 >"$WORK/hits.tsv" 2>"$WORK/hits.log" <<SQL \
    || { not_ok "the hit rates are computed"; cat "$WORK/hits.log"; exit 1; }
CREATE TEMP TABLE heldout (account_id text, order_id text, product_id text);
\copy heldout FROM '$WORK/heldout.tsv'
-- A purchase, as the recommender counts them (018_recommendations.sql):
-- an approved line item of an order. What each customer bought before
-- (what recommend_for_customer leaves out), and the baseline's ranking:
-- products by the training orders that bought them.
CREATE TEMP TABLE bought AS
    SELECT account_id, order_id, product_id FROM txw.transactions
    WHERE status = 'approved' AND order_id IS NOT NULL AND product_id IS NOT NULL;
CREATE INDEX ON bought (account_id, product_id);
CREATE TEMP TABLE popular AS
    SELECT product_id, count(DISTINCT order_id) AS orders, row_number () OVER (
               ORDER BY count(DISTINCT order_id) DESC, product_id) AS rank
    FROM bought GROUP BY 1;
CREATE INDEX ON popular (rank);
ANALYZE heldout; ANALYZE bought; ANALYZE popular;

-- Per customer: those with a held-out order and a purchase before it.
CREATE TEMP TABLE customers AS
    SELECT DISTINCT h.account_id FROM heldout h
    WHERE EXISTS (SELECT 1 FROM bought b WHERE b.account_id = h.account_id);
SELECT 'customer', count(*),
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM txw.recommend_for_customer (c.account_id, 10) r
           JOIN heldout h ON h.account_id = c.account_id AND h.product_id = r.product_id)),
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM (SELECT p.product_id FROM popular p
                          WHERE NOT EXISTS (SELECT 1 FROM bought b
                                            WHERE b.account_id = c.account_id
                                              AND b.product_id = p.product_id)
                          ORDER BY p.rank LIMIT 10) r
           JOIN heldout h ON h.account_id = c.account_id AND h.product_id = r.product_id))
FROM customers c;

-- Per product: every product of a held-out order of two or more products.
CREATE TEMP TABLE asked AS
    SELECT DISTINCT h.order_id, h.product_id FROM heldout h
    WHERE (SELECT count(DISTINCT product_id) FROM heldout o WHERE o.order_id = h.order_id) >= 2;
SELECT 'product', count(*),
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM txw.recommend_for_product (a.product_id, 10) r
           JOIN heldout h ON h.order_id = a.order_id AND h.product_id = r.product_id
           WHERE r.product_id <> a.product_id)),
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM (SELECT p.product_id FROM popular p WHERE p.product_id <> a.product_id
                          ORDER BY p.rank LIMIT 10) r
           JOIN heldout h ON h.order_id = a.order_id AND h.product_id = r.product_id))
FROM asked a;
SQL

# report KIND WHAT: the hit rates of one kind, and the check
report() {
    local n hits base
    read -r n hits base < <(awk -F'\t' -v k="$1" '$1 == k { print $2, $3, $4 }' "$WORK/hits.tsv")
    note "hit rate@10, $2 ($n): recommender $(awk -v h="$hits" -v n="$n" 'BEGIN { printf "%.3f", h / n }')" \
         "($hits), popularity baseline $(awk -v h="$base" -v n="$n" 'BEGIN { printf "%.3f", h / n }') ($base)"
    check "$2: the recommender beats the popularity baseline ($hits vs $base hits of $n)" \
        test "${n:-0}" -gt 0 -a "${hits:-0}" -gt "${base:-0}"
}
echo "# recommendation quality on the held-out last order of each customer"
report customer "customers' held-out orders, recommend_for_customer"
report product "products of held-out orders of 2+ products, recommend_for_product"
