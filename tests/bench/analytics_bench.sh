#!/bin/bash
# analytics_bench.sh - RFM and cohort refresh at scale (proto/sql/017_customers.sql)
#
# In a scratch PostgreSQL, generate_series makes ANALYTICS_CUSTOMERS
# customers (default 1,000,000) with ANALYTICS_TX transactions' worth
# (default 10,000,000) of txw_data.account_months rows over two years, and
# their txw_data.accounts totals, as the aggregator would have kept them.
# Then times txw_data.refresh_segments (): the first, full refresh; an
# incremental one after 1% of the customers bought again; and one with
# nothing changed. The PostgreSQL plans of the refresh's statements
# (auto_explain, ANALYZE and BUFFERS, nested statements) go to
# build/bench/analytics_plans.txt. Target: under 60 s for the full refresh,
# the incremental ones much faster. Then the customer endpoints over these
# customers at about ANALYTICS_RATE requests per second (default 1000; wrk
# paced as in query_bench.sh) for 15 s each: the lists (segments, a
# segment's members, the rankings, the cohorts) and one customer's record
# (1,000 different customers, so the cache rarely helps, each read audited).
# Last the recommendations (proto/sql/018_recommendations.sql): the
# counts they read are filled in the shape the aggregator writes them (per
# shard, at most 200 to 250 partners a product; the recent baskets, which
# no read touches, are left empty) for ANALYTICS_PRODUCTS products
# (default 20,000, at most 99,999; popularity Zipf) over 2 shards of
# 500,000 orders, and 100,000 of the customers with 1 to 12 products
# bought; then /api/v1/recommendations by product (5,000 requests over some
# 2,000 different products, so the 1 s cache rarely helps) and by customer
# (1,000 customers, audited, never cached), at the same rate, with the
# functions' plans (auto_explain) in build/bench/recommendation_plans.txt.
# Target: p99 under 5 ms.
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

CUSTOMERS=${ANALYTICS_CUSTOMERS:-1000000}
TX=${ANALYTICS_TX:-10000000}
PLANS=$ROOT/build/bench/analytics_plans.txt
mkdir -p "$(dirname "$PLANS")"
pg_start 25365

# The schema, as the services make it.
"$BIN/txw-aggregator" --database-url "$DB" --migrate-only >"$WORK/migrate.log" 2>&1 \
    || { not_ok "schema created"; tail "$WORK/migrate.log"; exit 1; }

# Each customer buys in 1 to 6 months from its first (a month in 2025),
# two months apart at most; its transactions (TX / CUSTOMERS on average)
# are spread over those months, 90% approved.
start=$(date +%s.%N)
psql "$DB" -qX -v ON_ERROR_STOP=1 -o /dev/null <<SQL || { not_ok "data generated"; exit 1; }
SET synchronous_commit = off;
INSERT INTO txw_data.account_months
SELECT format ('c%s', lpad (c::text, 8, '0')),
       ('2025-01-01'::date + make_interval (months => c % 12 + k * (1 + c % 2)))::date,
       n, n - n / 10, n * 2500, (n - n / 10) * 2500
FROM generate_series (1, $CUSTOMERS) c,
     LATERAL (SELECT 1 + (hashint4 (c) & 2147483647) % 6 AS months) s,
     LATERAL generate_series (0, s.months - 1) k,
     LATERAL (SELECT greatest (1, round ($TX::numeric / $CUSTOMERS / s.months
                                         * (0.5 + ((hashint4 (c * 31 + k) & 1023) / 1023.0))))::bigint
                  AS n) t;
INSERT INTO txw_data.accounts (account_id, tx_count, spend_rep_minor, approved_rep_minor,
    approved, declined, failed, flagged, score_sum, max_score, first_seen, last_seen)
SELECT account_id, sum(tx_count), sum(spend_rep_minor), sum(approved_rep_minor), sum(approved),
       sum(tx_count - approved), 0, 0, 0, 0, min(month)::timestamptz,
       max(month)::timestamptz + interval '13 days'
FROM txw_data.account_months GROUP BY account_id;
VACUUM ANALYZE txw_data.account_months;
VACUUM ANALYZE txw_data.accounts;
SQL
gen_s=$(echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }')
rows=$(sql "SELECT count(*) || ' account-month rows, ' || sum(tx_count) || ' transactions'
              FROM txw_data.account_months")
note "generated $rows for $(sql "SELECT count(*) FROM txw_data.accounts") customers in ${gen_s}s"

# refresh NAME: runs the refresh with its plans logged; prints its summary
refresh() {
    {
        echo "=== $1"
        psql "$DB" -qAtX -v ON_ERROR_STOP=1 <<SQL
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_nested_statements = on;
SET client_min_messages = log;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
SELECT txw_data.refresh_segments ('2026-12-01T00:00:00Z');
SQL
    } >>"$PLANS" 2>&1
    tail -1 "$PLANS"
}
: >"$PLANS"
timed() {   # NAME: the refresh's wall time in seconds, and its summary
    local t0 t1 out
    t0=$(date +%s.%N); out=$(refresh "$1"); t1=$(date +%s.%N)
    echo "$(echo "$t1 $t0" | awk '{ printf "%.2f", $1 - $2 }') $out"
}

full=$(timed "full refresh")
sql "VACUUM ANALYZE txw_data.customer_rfm" >/dev/null
# 1% of the customers buy again in November 2026.
sql "WITH c AS (SELECT account_id FROM txw_data.accounts WHERE hashtext (account_id) % 100 = 0),
          m AS (INSERT INTO txw_data.account_months
                SELECT account_id, '2026-11-01', 2, 2, 6000, 6000 FROM c
                ON CONFLICT (account_id, month) DO UPDATE SET tx_count = excluded.tx_count)
     UPDATE txw_data.accounts a SET tx_count = tx_count + 2, approved = approved + 2,
            spend_rep_minor = spend_rep_minor + 6000, approved_rep_minor = approved_rep_minor + 6000,
            last_seen = '2026-11-20', updated_at = now ()
       FROM c WHERE a.account_id = c.account_id" >/dev/null
incremental=$(timed "incremental refresh, 1% of the customers changed")
unchanged=$(timed "refresh with nothing changed")

summary() { echo "$1" | sed 's/^\([0-9.]*\) /\1 s: /'; }
echo "analytics refresh, $CUSTOMERS customers, $rows:"
echo "  full:        $(summary "$full")"
echo "  incremental: $(summary "$incremental")"
echo "  unchanged:   $(summary "$unchanged")"
echo "  plans: $PLANS"
full_s=${full%% *}
check "full refresh under 60 s (${full_s} s)" awk -v t="$full_s" 'BEGIN { exit !(t < 60) }'
check "the incremental refresh is faster than the full one (${incremental%% *} s)" \
    awk -v a="${incremental%% *}" -v b="$full_s" 'BEGIN { exit !(a < b) }'
# It writes the changed customers and those a moved boundary re-scores
# (the 1% who bought become the most recent fifth's top, which moves the
# recency boundaries): not every customer.
written=$(echo "$incremental" | sed -n 's/.*"written": \([0-9]*\).*/\1/p')
check "the incremental refresh wrote only some customers (${written:-?} of $CUSTOMERS)" \
    test "${written:-$CUSTOMERS}" -lt "$CUSTOMERS"

# --- the customer endpoints under load ------------------------------------------------------
RATE=${ANALYTICS_RATE:-1000}
CONNECTIONS=10
DELAY_MS=$(( CONNECTIONS * 1000 / RATE ))
P=163
KEY=$(make_key bench analyst)
start query ${P}94 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}80 \
    --admin-port ${P}94 --rate-per-key 0 --rate-per-client 0
# paced LUA_FILE PATH...: each connection waits DELAY_MS after every
# answer and goes round the paths
paced() {
    local file=$1; shift
    {
        echo "local paths = {"
        printf '  "%s",\n' "$@"
        echo "}"
        cat <<LUA
local i = 0
wrk.headers["Authorization"] = "Bearer $KEY"
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end
delay = function() return $DELAY_MS end
LUA
    } >"$file"
}
paced "$WORK/lists.lua" /api/v1/customers/segments "/api/v1/customers/segments?segment=Champions&limit=20" \
    "/api/v1/customers?sort=ltv&limit=50" "/api/v1/customers?sort=recency&limit=50" \
    "/api/v1/customers?sort=frequency&limit=50&offset=1000" "/api/v1/cohorts?period=month&months=12"
# shellcheck disable=SC2046 # one path per customer
paced "$WORK/one.lua" $(seq -f "/api/v1/customers/c%08.0f" 1 1000)
run_wrk() {   # NAME LUA
    wrk -t2 -c$CONNECTIONS -d15s --latency -s "$2" "http://127.0.0.1:${P}80" >"$WORK/$1.txt" 2>&1
    wrk_read "$WORK/$1.txt"
    echo "${3:-customer endpoints}, $1: achieved $WRK_RATE req/s, p50 $WRK_P50, p99 $WRK_P99 (target p99 < 5 ms)"
    check "$1: every request answered 2xx${WRK_ERRORS:+ ($WRK_ERRORS)}" test -z "$WRK_ERRORS"
    check "$1: p99 under 5 ms ($WRK_P99)" awk -v v="$WRK_P99_MS" 'BEGIN { exit !(v != "" && v > 0 && v < 5) }'
}
run_wrk "lists (cached)" "$WORK/lists.lua"
run_wrk "one customer (1,000 ids, audited)" "$WORK/one.lua"

# --- recommendations under load -------------------------------------------------------
# Products P00001.. ranked by popularity (Zipf, exponent 1.1) in each
# shard's 500,000 orders of 2.5 line items. A shard keeps about 1.5
# partners a product per order it is in, at most 200 to 250 (the
# aggregator trims back to 200 once past 250); partner ids log-uniform
# (the popular ones more often), orders together falling with the
# partner's rank. Each of 100,000 customers bought 1 to 12 products.
PRODUCTS=${ANALYTICS_PRODUCTS:-20000}
RPLANS=$ROOT/build/bench/recommendation_plans.txt
start=$(date +%s.%N)
psql "$DB" -qX -v ON_ERROR_STOP=1 -o /dev/null <<SQL || { not_ok "basket counts generated"; exit 1; }
SET synchronous_commit = off;
INSERT INTO txw_data.products (product_id, name, category, price_minor, currency)
SELECT format ('P%s', lpad (p::text, 5, '0')), format ('Product %s', p),
       (ARRAY ['online_retail', 'clothing', 'electronics']) [1 + p % 3], 100 + (hashint4 (p) & 65535), 'EUR'
FROM generate_series (1, $PRODUCTS) p;
CREATE TEMP TABLE sold AS
SELECT p, s, greatest (1, round (500000 * 2.5 * w / sum(w) OVER (PARTITION BY s)))::bigint AS n
FROM generate_series (1, $PRODUCTS) p, generate_series (0, 1) s,
     LATERAL (SELECT (1.0 / p ^ 1.1)::float8 AS w) z;
INSERT INTO txw_data.product_pairs (product_id, other_id, shard, orders)
SELECT format ('P%s', lpad (s.p::text, 5, '0')), format ('P%s', lpad (q::text, 5, '0')), s.s,
       greatest (1, round (s.n * 0.3 / j))
FROM sold s,
     LATERAL generate_series (1, least (200 + (hashint4 (s.p * 7 + s.s) & 63) % 51, ceil (1.5 * s.n)::int)) j,
     LATERAL (SELECT least ($PRODUCTS, floor ($PRODUCTS ^ ((hashint8 (s.p * 100003::bigint + j * 7 + s.s)
                                                           & 1048575) / 1048576.0))::int + 1) AS q) o
WHERE q <> s.p
ON CONFLICT DO NOTHING;
INSERT INTO txw_data.product_orders (product_id, shard, orders, partners)
SELECT format ('P%s', lpad (s.p::text, 5, '0')), s.s, s.n,
       (SELECT count(*) FROM txw_data.product_pairs pp
         WHERE pp.product_id = format ('P%s', lpad (s.p::text, 5, '0')) AND pp.shard = s.s)
FROM sold s;
INSERT INTO txw_data.basket_totals SELECT s, 500000 FROM generate_series (0, 1) s;
INSERT INTO txw_data.customer_products (account_id, product_id, orders, last_ts)
SELECT format ('c%s', lpad (c::text, 8, '0')), format ('P%s', lpad (q::text, 5, '0')),
       1 + (hashint4 (c * 13 + k) & 3) % 3,
       '2026-11-01'::timestamptz - make_interval (days => (hashint4 (c * 17 + k) & 511) % 365)
FROM generate_series (1, least ($CUSTOMERS, 100000)) c,
     LATERAL generate_series (1, 1 + (hashint4 (c) & 1023) % 12) k,
     LATERAL (SELECT least ($PRODUCTS, floor ($PRODUCTS ^ ((hashint8 (c * 100019::bigint + k) & 1048575)
                                                           / 1048576.0))::int + 1) AS q) o
ON CONFLICT DO NOTHING;
VACUUM ANALYZE txw_data.products;
VACUUM ANALYZE txw_data.product_pairs;
VACUUM ANALYZE txw_data.product_orders;
VACUUM ANALYZE txw_data.customer_products;
SQL
gen_s=$(echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }')
note "generated $(sql "SELECT sum(partners) || ' pair rows (' || max(partners) || ' partners a product at most), '
                         || (SELECT count(*) FROM txw_data.customer_products) || ' customer products'
                    FROM txw_data.product_orders") for $PRODUCTS products in ${gen_s}s"
# The plans of one call of each kind: a best seller, a product of the
# long tail, a customer who bought, one who bought nothing.
psql "$DB" -qAtX >"$RPLANS" 2>&1 <<SQL
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
SELECT count(*) FROM txw.recommend_for_product ('P00001', 10);
SELECT count(*) FROM txw.recommend_for_product ('P$(printf %05d $((PRODUCTS - 1)))', 10);
SELECT count(*) FROM txw.recommend_for_customer ('c00000001', 10);
SELECT count(*) FROM txw.recommend_for_customer ('nobody', 10);
SQL
# 5,000 requests' products, log-uniform: the popular ones more often
awk -v n="$PRODUCTS" 'BEGIN { srand(1)
    for (i = 0; i < 5000; i++) printf "/api/v1/recommendations?product_id=P%05d\n", int(n ^ rand()) }' \
    >"$WORK/by-product.txt"
distinct=$(sort -u "$WORK/by-product.txt" | wc -l)
# shellcheck disable=SC2046 # one path per line
paced "$WORK/by-product.lua" $(cat "$WORK/by-product.txt")
# shellcheck disable=SC2046 # one path per customer
paced "$WORK/by-customer.lua" $(seq -f "/api/v1/recommendations?customer_id=c%08.0f" 1 1000)
run_wrk "by product ($distinct ids)" "$WORK/by-product.lua" recommendations
run_wrk "by customer (1,000 ids, audited)" "$WORK/by-customer.lua" recommendations
echo "  plans: $RPLANS"
