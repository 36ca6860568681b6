#!/bin/bash
# recommendations.sh - co-purchase counts and recommendations, end to end
#
# An empty database answers empty but well-formed lists. Then a generated
# stream with baskets (--products) goes through validator -> scorer ->
# aggregator, and the counts the aggregator keeps as purchases arrive
# (proto/sql/018_recommendations.sql) must equal what python counts in the
# CSV it was generated from: every order's distinct purchased products,
# the orders holding each product and each pair, the orders. The API's
# recommendations for the best sellers are python's ranking by the
# shrunk asymmetric cosine, with the same support, confidence and lift,
# and led by a strong
# partner (the generator's companions); the same stream sent again
# changes no count. One order of 260 products trims each one's partners
# to the strongest 200. A customer is never recommended what it bought; a
# product nobody bought, and a customer who bought only such a product,
# get its category's best sellers; an unknown product or customer the
# overall best sellers. Bad parameters are 400s naming them; a
# customer's recommendations are for analysts, and audited.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25350
P=165   # port prefix for this suite
PRODUCTS=200
# A flat shape: every account alike at any hour. (The daily one weighs
# accounts by their local hour; at 08:00 UTC fewer of the 300 buy, more
# often, and one best seller's top partner is then the other best seller,
# at a lift of 1.9, not its companion.)
GEN=(--seed 23 --count 5000 --start 2026-01-05T08:00:00Z --event-rate 50 --rate 0
     --accounts 300 --fraud-rate 0.01 --products "$PRODUCTS" --shape flat)

"$BIN/txw-producer" --seed 23 --products $PRODUCTS --catalogue-out "$WORK/catalogue.csv" \
    >"$WORK/catalogue-out.log" 2>&1
"$BIN/txw-producer" "${GEN[@]}" --csv-out "$WORK/gen.csv" --admin-port 0 >"$WORK/csv-out.log" 2>&1
check "the producer writes the catalogue and the stream" \
    test "$(wc -l <"$WORK/catalogue.csv")" -eq $((PRODUCTS + 1)) -a -s "$WORK/gen.csv"

start_pipeline $P     # the aggregator migrates the database
ANALYST=$(make_key analyst analyst)
VIEWER=$(make_key viewer viewer)
start query ${P}94 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}80 \
    --admin-port ${P}94 --cache-ttl-ms 0 --rate-per-key 0 --rate-per-client 0
API=http://127.0.0.1:${P}80/api/v1

# Every answer is recorded (lib.sh, api_get), and checked against
# proto/openapi.yaml at the end.
get() { api_get "$1" "recommendations?$2" /api/v1/recommendations; }   # KEY QUERY

# --- an empty database ---------------------------------------------------------------
check "empty: a product's recommendations are an empty list" \
    jq_is "$VIEWER" "product_id=P00001" . '{"product_id":"P00001","items":[]}'
check "empty: a customer's too" \
    jq_is "$ANALYST" "customer_id=A1&limit=5" . '{"customer_id":"A1","items":[]}'

# --- the stream --------------------------------------------------------------------------
"$BIN/txwctl" products load "$WORK/catalogue.csv" --database-url "$DB" >"$WORK/load.out" 2>&1
SENT=$(($(wc -l <"$WORK/gen.csv") - 1))
"$BIN/txw-producer" "${GEN[@]}" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer.log" 2>&1
check "every record is stored ($SENT)" wait_metric ${P}93 txw_stored_transactions_total "$SENT" 60

# What the counts must be, from the CSV: a purchase is an approved line
# item with an order and a product; an order's products are counted once.
python3 - "$WORK/gen.csv" "$WORK/catalogue.csv" "$WORK" <<'PY'
import csv, itertools, json, sys
from collections import Counter, defaultdict
gen, cat, work = sys.argv[1:]
baskets = defaultdict(set)
for r in csv.DictReader(open(gen)):
    if r["status"] == "approved" and r["order_id"] and r["product_id"]:
        baskets[(r["account_id"], r["order_id"])].add(r["product_id"])
orders = len(baskets)
n = Counter(p for b in baskets.values() for p in b)
pairs = Counter((p, q) for b in baskets.values() for p, q in itertools.permutations(sorted(b), 2))
catalogue = {r["product_id"]: r["category"] for r in csv.DictReader(open(cat))}
with open(f"{work}/exp-items.tsv", "w") as f:
    for (a, o), b in sorted(baskets.items()):
        for p in sorted(b):
            f.write(f"{a}\t{o}\t{p}\n")
with open(f"{work}/exp-products.tsv", "w") as f:
    for p in sorted(n):
        f.write(f"{p}\t{n[p]}\n")
with open(f"{work}/exp-pairs.tsv", "w") as f:
    for (p, q) in sorted(pairs):
        f.write(f"{p}\t{q}\t{pairs[(p, q)]}\n")
# The five best sellers' 50 strongest partners (most orders together,
# then product id) by sim = together / (n_p^0.8 n_q^0.2) x together /
# (together + 10) (ties: more orders together, then product id), with the
# association measures; the expression in the order SQL evaluates it, so
# the doubles agree to the last bit.
best = sorted(n, key=lambda p: (-n[p], p))[:5]
ranked = {}
for p in best:
    strong = sorted(((q, t) for (x, q), t in pairs.items() if x == p),
                    key=lambda r: (-r[1], r[0]))[:50]
    rows = [(q, t / (n[p] ** 0.8 * n[q] ** 0.2) * t / (t + 10), t) for q, t in strong]
    rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    ranked[p] = [{"product_id": q, "score": round(c, 6), "orders_together": t,
                  "support": round(t / orders, 6), "confidence": round(t / n[p], 6),
                  "lift": round(t * orders / (n[p] * n[q]), 6)} for q, c, t in rows[:10]]
# A catalogue product nobody bought, and its category's best sellers.
cold = sorted(p for p in catalogue if p not in n)[0]
same = sorted((p for p in catalogue if catalogue[p] == catalogue[cold] and p != cold),
              key=lambda p: (-n[p], p))
json.dump({"orders": orders, "best": best, "ranked": ranked, "cold": cold,
           "cold_category": catalogue[cold], "cold_top": same[:3],
           "popular": sorted(n, key=lambda p: (-n[p], p))[:5]},
          open(f"{work}/expect.json", "w"))
PY
E=$WORK/expect.json
counts() {   # what the database holds, in the files' forms
    sql "SELECT account_id, order_id, product_id FROM txw_data.order_items" \
        | LC_ALL=C sort >"$WORK/items.tsv"
    sql "SELECT product_id, sum(orders) FROM txw_data.product_orders GROUP BY 1" \
        | LC_ALL=C sort >"$WORK/products.tsv"
    sql "SELECT product_id, other_id, sum(orders) FROM txw_data.product_pairs GROUP BY 1, 2" \
        | LC_ALL=C sort >"$WORK/pairs.tsv"
    sql "SELECT sum(orders) FROM txw_data.basket_totals" >"$WORK/orders.txt"
}
exact_counts() {   # WHEN
    counts
    check "$1: every order's distinct products are its basket ($(wc -l <"$WORK/exp-items.tsv"))" \
        diff -q <(LC_ALL=C sort "$WORK/exp-items.tsv") "$WORK/items.tsv"
    check "$1: the orders holding each product are exact" \
        diff -q <(LC_ALL=C sort "$WORK/exp-products.tsv") "$WORK/products.tsv"
    check "$1: the orders holding each pair are exact ($(wc -l <"$WORK/exp-pairs.tsv") pairs)" \
        diff -q <(LC_ALL=C sort "$WORK/exp-pairs.tsv") "$WORK/pairs.tsv"
    check "$1: the orders are exact ($(jq .orders "$E"))" test "$(cat "$WORK/orders.txt")" = "$(jq .orders "$E")"
}
exact_counts "after the stream"
check "the stream has pairs bought together" test "$(wc -l <"$WORK/exp-pairs.tsv")" -gt 500

# --- a product's recommendations -------------------------------------------------------------
for i in 0 1 2 3 4; do
    p=$(jq -r ".best[$i]" "$E")
    check "best seller $p: its partners by sim, with support, confidence and lift, are python's" \
        jq_is "$VIEWER" "product_id=$p" \
        '[.items[] | select(.source == "cooccurrence") | {product_id, score, orders_together, support, confidence, lift}]' \
        "$(jq -c ".ranked[\"$p\"]" "$E")"
    # The generator makes each product's companion far likelier in its
    # baskets than its popularity alone would.
    check "... led by a partner bought with it over twice as often as chance (its companion)" \
        jq_is "$VIEWER" "product_id=$p&limit=1" '.items[0].lift > 2' true
done
p=$(jq -r '.best[0]' "$E")
check "limit=3 gives three, the first three" \
    jq_is "$VIEWER" "product_id=$p&limit=3" '[.items[].product_id]' "$(jq -c ".ranked[\"$p\"][:3] | map(.product_id)" "$E")"
check "items carry the catalogue's name and category" \
    jq_is "$VIEWER" "product_id=$p" '[.items[] | (.name | type), (.category | type)] | unique' '["string"]'
cold=$(jq -r .cold "$E")
check "a product nobody bought ($cold) gets its category's best sellers" \
    jq_is "$VIEWER" "product_id=$cold&limit=3" '[.items[] | [.product_id, .source, .orders_together]]' \
    "$(jq -c '[.cold_top[] | [., "category", null]]' "$E")"
check "an unknown product gets the overall best sellers" \
    jq_is "$VIEWER" "product_id=NOPE-1&limit=5" '[.items[] | [.product_id, .source]]' \
    "$(jq -c '[.popular[] | [., "popular"]]' "$E")"
check "the SQL function (make eval's) never recommends the product itself" \
    test "$(sql "SELECT count(*) FROM txw.products c,
                 LATERAL txw.recommend_for_product (c.product_id, 50) r WHERE r.product_id = c.product_id")" = 0

# --- a customer's recommendations --------------------------------------------------------------
# The customers with the most products bought.
sql "SELECT account_id FROM txw_data.customer_products GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 5" \
    >"$WORK/customers.txt"
while read -r c; do
    bought=$(sql "SELECT coalesce (json_agg (product_id), '[]') FROM txw.transactions
                  WHERE account_id = '$c' AND status = 'approved' AND order_id IS NOT NULL
                    AND product_id IS NOT NULL")
    check "customer $c: 10 recommendations, none of what it bought" \
        jq_is "$ANALYST" "customer_id=$c" \
        "[(.items | length), ([.items[].product_id] - $bought | length), (.items[0].source)]" \
        '[10,10,"cooccurrence"]'
done <"$WORK/customers.txt"
c=$(head -n 1 "$WORK/customers.txt")
check "a viewer may not read a customer's recommendations (403)" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $VIEWER" \
            "$API/recommendations?customer_id=$c")" = 403
check "an analyst's read is audited as read.customer" \
    test "$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'read.customer' AND target = '$c'")" -ge 1
check "a customer nobody knows gets the overall best sellers" \
    jq_is "$ANALYST" "customer_id=NOBODY&limit=5" '[.items[] | [.product_id, .source]]' \
    "$(jq -c '[.popular[] | [., "popular"]]' "$E")"

# --- the same stream again -------------------------------------------------------------------------
"$BIN/txw-producer" "${GEN[@]}" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-again.log" 2>&1
check "the stream sent again is recognised as counted before" \
    wait_metric ${P}93 txw_duplicate_transactions_total "$SENT" 60
exact_counts "after sending it again"

# --- a new customer of a product nobody else bought --------------------------------------------
# Its one product has no partner: its category's best sellers follow.
{
    echo "tx_id,ts,account_id,amount,currency,merchant_id,category,channel,branch_id,region,country,device_id,product_id,status,order_id"
    echo "C-1,2026-01-05T09:00:00Z,ACC-COLD,1.00,EUR,M-C,online_retail,online,B-C,R-C,DE,D-C,$cold,approved,ORDER-C"
} >"$WORK/cold-order.csv"
"$BIN/txw-producer" --file "$WORK/cold-order.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-cold.log" 2>&1
check "a one-item order is stored" wait_metric ${P}93 txw_stored_transactions_total $((SENT + 1)) 30
check "its customer gets the best sellers of its product's category, not the product" \
    jq_is "$ANALYST" "customer_id=ACC-COLD&limit=3" '[.items[] | [.product_id, .source]]' \
    "$(jq -c '[.cold_top[] | [., "category"]]' "$E")"

# --- bounded: a product's partners per shard ---------------------------------------------
# One order of 260 products (ids the catalogue lacks): each has 259
# partners, past the 250 that trigger a trim to the strongest 200 (all
# bought together once: the first 200 by id).
{
    echo "tx_id,ts,account_id,amount,currency,merchant_id,category,channel,branch_id,region,country,device_id,product_id,status,order_id"
    for i in $(seq 1000 1259); do
        echo "T-$i,2026-01-05T09:00:00Z,ACC-T,1.00,EUR,M-T,online_retail,online,B-T,R-T,DE,D-T,T$i,approved,ORDER-T"
    done
} >"$WORK/big-order.csv"
"$BIN/txw-producer" --file "$WORK/big-order.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer-big.log" 2>&1
check "an order of 260 line items is stored" \
    wait_metric ${P}93 txw_stored_transactions_total $((SENT + 261)) 30
check "each of its products keeps its 200 strongest partners, and counts 200" \
    test "$(sql "SELECT count(*), min(n), max(n), bool_and(n = o.partners)
                 FROM (SELECT product_id, shard, count(*) AS n FROM txw_data.product_pairs
                        WHERE product_id LIKE 'T%' GROUP BY 1, 2) p
                 JOIN txw_data.product_orders o USING (product_id, shard)")" = $'260\t200\t200\tt'
check "... the first 200 by id (all bought together once)" \
    test "$(sql "SELECT string_agg (other_id, ',' ORDER BY other_id) FROM txw_data.product_pairs
                 WHERE product_id = 'T1259'")" = "$(seq -s, -f 'T%g' 1000 1199)"
check "... and its recommendations are 50 of them, by sim" \
    jq_is "$VIEWER" "product_id=T1000&limit=50" '[(.items | length), ([.items[].source] | unique)]' \
    '[50,["cooccurrence"]]'

# --- bad parameters ----------------------------------------------------------------------------------
check "400 neither product_id nor customer_id names product_id" bad "limit=5" product_id
check "400 both name customer_id" bad "product_id=P00001&customer_id=A1" customer_id
check "400 limit=0 names limit" bad "product_id=P00001&limit=0" limit
check "400 limit=51 names limit" bad "product_id=P00001&limit=51" limit
check "400 a bad product id names product_id" bad "product_id=a%20b" product_id
check "400 a bad customer id names customer_id" bad "customer_id=a%2Fb" customer_id
check "400 an unknown parameter is named" bad "product_id=P00001&colour=red" colour

api_conforms
