/*  baskets - purchases of orders, for product recommendations

    A purchase is an approved line item with both an order_id and a
    product_id. The sink stages each flush's purchases (one COPY row each)
    and BASKETS_WRITE_SQL adds them, in the flush that commits the input
    checkpoints, to the baskets and the co-purchase counts of
    proto/sql/018_recommendations.sql: so a purchase is counted once,
    whichever flush, order or restart its order's items come in. Every
    other transaction costs one test.                                         */

#ifndef TXW_AGGREGATOR_BASKETS_H
#define TXW_AGGREGATOR_BASKETS_H

#include "codec.h"
#include "pgutil.h"

#include <stdbool.h>
#include <stdint.h>

//  The stage table: lives as long as the connection, empty at each commit.
#define BASKETS_STAGE_SQL                                                       \
    "CREATE TEMP TABLE IF NOT EXISTS stage_baskets (account_id text, order_id text," \
    " product_id text, ts timestamptz, shard int) ON COMMIT DELETE ROWS;"

#define BASKETS_COPY_SQL "COPY stage_baskets FROM STDIN"

//  The partners of a product kept per shard (4 x the 50 an answer may
//  hold), and the count past which a product's are trimmed back to them
//  (so a trim is rare, not a cost of every flush); baskets are kept this
//  long behind the newest of their shard (event time).
#define BASKETS_PARTNERS        "200"
#define BASKETS_PARTNERS_TRIM   "250"
#define BASKETS_KEEP            "3 days"

//  Three statements. The first adds the staged purchases that are new
//  (fresh: an order's product already stored is not added again) to the
//  baskets and counts: a fresh item pairs with its order's items stored
//  before this statement (its snapshot does not hold fresh) and with the
//  other fresh items of its order, so every pair of an order is counted
//  exactly once however its items are split over flushes. The earlier
//  items are read once, per fresh item by the key's prefix (LATERAL ...
//  OFFSET 0 keeps that an index lookup whatever the planner estimates for
//  a flush's items), and serve both directions of the pairs and the count
//  of new orders: an order with none is a new order. A pair row
//  inserted, not updated (xmax 0), is a new partner of its product. The
//  second trims the partners of products past BASKETS_PARTNERS_TRIM to the
//  strongest BASKETS_PARTNERS (a partial index finds them), the third the
//  baskets of the shard (one aggregator writes one shard) older than
//  BASKETS_KEEP: the shard and the cutoff are computed once, so the old
//  rows are a range of the (shard, ts) index (a cutoff per shard of a join
//  read the whole table at every flush).
#define BASKETS_WRITE_SQL                                                       \
    "WITH fresh AS ("                                                           \
    " INSERT INTO txw_data.order_items (account_id, order_id, product_id, ts, shard)" \
    " SELECT account_id, order_id, product_id, min(ts), min(shard) FROM stage_baskets" \
    " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING"                \
    " RETURNING account_id, order_id, product_id, ts, shard"                   \
    "), earlier AS ("                                                           \
    " SELECT f.account_id, f.order_id, f.product_id, o.product_id AS other_id, f.shard" \
    " FROM fresh f, LATERAL (SELECT i.product_id FROM txw_data.order_items i"  \
    "  WHERE i.account_id = f.account_id AND i.order_id = f.order_id OFFSET 0) o" \
    "), pairs AS ("                                                             \
    " SELECT product_id, other_id, shard FROM earlier"                         \
    " UNION ALL"                                                                \
    " SELECT other_id, product_id, shard FROM earlier"                         \
    " UNION ALL"                                                                \
    " SELECT a.product_id, b.product_id, a.shard"                              \
    " FROM fresh a JOIN fresh b USING (account_id, order_id)"                  \
    " WHERE a.product_id <> b.product_id"                                      \
    "), pp AS ("                                                                \
    " INSERT INTO txw_data.product_pairs AS t (product_id, other_id, shard, orders)" \
    " SELECT product_id, other_id, shard, count(*) FROM pairs"                 \
    " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"                                       \
    " ON CONFLICT (product_id, other_id, shard) DO UPDATE SET orders = t.orders + excluded.orders" \
    " RETURNING t.product_id, t.shard, t.xmax::text = '0' AS added"            \
    "), po AS ("                                                                \
    " INSERT INTO txw_data.product_orders AS t (product_id, shard, orders, partners)" \
    " SELECT product_id, shard, sum(o), sum(p) FROM ("                         \
    "  SELECT product_id, shard, 1 AS o, 0 AS p FROM fresh"                    \
    "  UNION ALL SELECT product_id, shard, 0, 1 FROM pp WHERE added) c"        \
    " GROUP BY 1, 2 ORDER BY 1, 2"                                             \
    " ON CONFLICT (product_id, shard) DO UPDATE"                               \
    " SET orders = t.orders + excluded.orders, partners = t.partners + excluded.partners" \
    "), bt AS ("                                                                \
    " INSERT INTO txw_data.basket_totals AS t (shard, orders)"                 \
    " SELECT shard, count(*) FROM (SELECT account_id, order_id, shard FROM fresh" \
    "  EXCEPT SELECT account_id, order_id, shard FROM earlier) n"              \
    " GROUP BY shard"                                                           \
    " ON CONFLICT (shard) DO UPDATE SET orders = t.orders + excluded.orders"   \
    ")"                                                                         \
    " INSERT INTO txw_data.customer_products AS t (account_id, product_id, orders, last_ts)" \
    " SELECT account_id, product_id, count(*), max(ts) FROM fresh"             \
    " GROUP BY 1, 2 ORDER BY 1, 2"                                             \
    " ON CONFLICT (account_id, product_id) DO UPDATE"                          \
    " SET orders = t.orders + excluded.orders, last_ts = greatest (t.last_ts, excluded.last_ts);" \
    "WITH gone AS ("                                                            \
    " DELETE FROM txw_data.product_pairs t USING ("                            \
    "  SELECT x.product_id, x.other_id, x.shard FROM txw_data.product_orders o," \
    "  LATERAL (SELECT pp.product_id, pp.other_id, pp.shard FROM txw_data.product_pairs pp" \
    "   WHERE pp.product_id = o.product_id AND pp.shard = o.shard"             \
    "   ORDER BY pp.orders DESC, pp.other_id OFFSET " BASKETS_PARTNERS ") x"   \
    "  WHERE o.partners > " BASKETS_PARTNERS_TRIM ") d"                        \
    " WHERE t.product_id = d.product_id AND t.other_id = d.other_id AND t.shard = d.shard" \
    " RETURNING t.product_id, t.shard"                                         \
    ")"                                                                         \
    " UPDATE txw_data.product_orders o SET partners = o.partners - g.n"        \
    " FROM (SELECT product_id, shard, count(*) AS n FROM gone GROUP BY 1, 2) g" \
    " WHERE o.product_id = g.product_id AND o.shard = g.shard;"                \
    "DELETE FROM txw_data.order_items o WHERE o.shard = (SELECT min(shard) FROM stage_baskets)" \
    " AND o.ts < (SELECT max(i.ts) FROM txw_data.order_items i"                \
    "  WHERE i.shard = (SELECT min(shard) FROM stage_baskets)) - interval '" BASKETS_KEEP "'"

//  Whether tx is a purchase of an order.
bool baskets_purchase (const txw_tx_t *tx);

//  Adds tx to rows (a COPY row of stage_baskets) if it is a purchase.
//  Returns whether it was.
bool baskets_add (txw_copybuf_t *rows, const txw_tx_t *tx, uint32_t shard);

#endif
