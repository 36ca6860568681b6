-- 018_recommendations: product recommendations from co-purchase
--
-- What is bought together is counted as purchases arrive, by the
-- aggregator, in the flush that commits its input checkpoint (so never
-- twice, and never lost): the distinct products of each order (a basket),
-- and, per aggregator shard, how many orders hold a product, a pair of
-- products, and how many orders there are. A purchase is an approved line
-- item with both an order_id and a product_id; a product missing from the
-- catalogue counts like any other (it is only shown without a name).
-- Shards own disjoint accounts, so all items of one order reach one shard,
-- and each shard adds to rows of its own: no two flushes wait for a row.
--
-- Every count is additive, so the similarity of two products is current
-- after each flush (no nightly recompute): a cosine over co-purchase, made robust
-- to rare products (sim, below), and the association measures of
-- "frequently bought together" (support, confidence, lift). Memory is
-- bounded: each shard keeps at most C = 200 partners of a product (4 x the
-- 50 an answer may hold), trimmed to its strongest C when it passes 250,
-- and the baskets of the last 3 days of event time (an order's items
-- arrive within minutes). The read functions (used by the query API and
-- `make eval`) rank the partners and fill up with the best sellers of the
-- product's (the customer's) categories, then overall (proto/SQL.md,
-- "Recommendations").

-- The distinct products of each order, kept 3 days (of event time, behind
-- the newest basket of the shard) for the items of an order still to come.
CREATE TABLE txw_data.order_items (
    account_id  text        NOT NULL,
    order_id    text        NOT NULL,
    product_id  text        NOT NULL,
    ts          timestamptz NOT NULL,
    shard       int         NOT NULL,
    PRIMARY KEY (account_id, order_id, product_id)
);
CREATE INDEX order_items_shard_ts ON txw_data.order_items (shard, ts);

-- Orders holding both products, both directions, per shard. Most of a
-- flush's writes are updates of these counts: no index holds orders, and a
-- fifth of each page is left free, so they are HOT updates (no index entry
-- written; 020 explains the same for the accounts).
CREATE TABLE txw_data.product_pairs (
    product_id  text    NOT NULL,
    other_id    text    NOT NULL,
    shard       int     NOT NULL,
    orders      bigint  NOT NULL,
    PRIMARY KEY (product_id, other_id, shard)
) WITH (fillfactor = 80);

-- Orders holding the product, per shard; partners: its rows in
-- product_pairs of the shard (the trim's trigger).
CREATE TABLE txw_data.product_orders (
    product_id  text    NOT NULL,
    shard       int     NOT NULL,
    orders      bigint  NOT NULL,
    partners    bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (product_id, shard)
);

-- The best sellers of a shard, for the fallback.
CREATE INDEX product_orders_best ON txw_data.product_orders (shard, orders DESC, product_id);

-- The products whose partners the next flush of their shard trims.
CREATE INDEX product_orders_trim ON txw_data.product_orders (product_id, shard)
    WHERE partners > 250;

-- Orders with at least one purchase, per shard.
CREATE TABLE txw_data.basket_totals (
    shard       int     PRIMARY KEY,
    orders      bigint  NOT NULL
);

-- What each customer bought: orders per product and the last time
-- (updated like the pairs, so HOT the same way).
CREATE TABLE txw_data.customer_products (
    account_id  text        NOT NULL,
    product_id  text        NOT NULL,
    orders      bigint      NOT NULL,
    last_ts     timestamptz NOT NULL,
    PRIMARY KEY (account_id, product_id)
) WITH (fillfactor = 80);

-- The category fallback reads a category's products.
CREATE INDEX products_category ON txw_data.products (category, product_id);

-- What the transactions already stored say: every stored purchase counted
-- as if it had just arrived (shard 0; the counts are summed over shards).
INSERT INTO txw_data.order_items (account_id, order_id, product_id, ts, shard)
SELECT account_id, order_id, product_id, min(ts), 0
FROM txw_data.transactions
WHERE status = 'approved' AND order_id IS NOT NULL AND product_id IS NOT NULL
GROUP BY 1, 2, 3;
INSERT INTO txw_data.product_pairs
SELECT a.product_id, b.product_id, 0, count(*)
FROM txw_data.order_items a JOIN txw_data.order_items b USING (account_id, order_id)
WHERE a.product_id <> b.product_id
GROUP BY 1, 2;
INSERT INTO txw_data.product_orders (product_id, shard, orders, partners)
SELECT product_id, 0, count(*),
       (SELECT count(*) FROM txw_data.product_pairs p WHERE p.product_id = i.product_id)
FROM txw_data.order_items i GROUP BY product_id;
INSERT INTO txw_data.basket_totals
SELECT 0, count(*) FROM (SELECT DISTINCT account_id, order_id FROM txw_data.order_items) o
HAVING count(*) > 0;
INSERT INTO txw_data.customer_products
SELECT account_id, product_id, count(*), max(ts) FROM txw_data.order_items GROUP BY 1, 2;
DELETE FROM txw_data.order_items
WHERE ts < (SELECT max(ts) FROM txw_data.order_items) - interval '3 days';

-- --- Reading --------------------------------------------------------------------

-- The similarity of product q to product p, from the orders holding p
-- (n_p), q (n_q) and both (together):
--
--     sim (p, q) = together / (n_p^0.8 * n_q^0.2) * together / (together + 10)
--
-- Cosine, together / sqrt (n_p * n_q), made robust the two standard ways.
-- Asymmetric (alpha = 0.8 instead of 0.5): plain cosine divides by the
-- partner's popularity as much as by the product's, so a rare product
-- bought once alongside outranks the popular ones that baskets are made
-- of; alpha = 1 is confidence (together / n_p), which ignores the
-- partner's popularity altogether and so tends to recommend the best
-- sellers with everything. Shrunk (lambda = 10 orders): a similarity
-- resting on a few orders together is mostly chance, so it is damped
-- towards 0 until it rests on about 10. Round values, chosen on `make
-- eval` (tests/eval/recs.sh; README.md, "Recommendations"), hit rate@10
-- per product: cosine 0.717, shrunk 0.806, asymmetric 0.825, both 0.833,
-- confidence 0.835 (popularity 0.737): both keep nearly all of
-- confidence's hits while still preferring a product's own partners.

-- Up to k products to recommend with product (not itself): first its
-- 50 strongest partners (most orders together, ties by id; the most an
-- answer may hold) ranked by sim (source 'cooccurrence', with the
-- association measures: support = together / orders, confidence =
-- together / orders_p, lift = confidence / (orders_q / orders)); then the
-- best sellers of its category (source 'category', score their support),
-- then overall (source 'popular'). Reads the product's partner rows (at
-- most 250 a shard), the 50 candidates' orders in one index scan of
-- product_orders (not all partners': a best seller has some 270, and
-- their look-ups were most of a call; `make eval` gives the same hits
-- with 20, 50 or all), the catalogue only for the k shown and, only when
-- the partners are too few, a category's products or the products sold.
-- PL/pgSQL: it may keep a statement's plan for the connection (where a
-- LANGUAGE sql function, on PostgreSQL 15, plans each call); 0.3 ms a
-- call in analytics_bench.
CREATE FUNCTION txw.recommend_for_product (product text, k int)
RETURNS TABLE (product_id text, name text, category text, score double precision,
               source text, orders_together bigint, support double precision,
               confidence double precision, lift double precision)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    p       text := product;
    total   double precision;
    n_p     double precision;
    cats    text [];
    shown   text [] := ARRAY [product];
    r       record;
BEGIN
    IF p IS NULL OR k IS NULL OR k < 1 THEN
        RETURN;
    END IF;
    SELECT sum(t.orders) INTO total FROM txw_data.basket_totals t;
    SELECT sum(o.orders) INTO n_p FROM txw_data.product_orders o WHERE o.product_id = p;
    FOR r IN
        WITH x AS (
            SELECT pp.other_id, sum(pp.orders)::bigint AS together
              FROM txw_data.product_pairs pp WHERE pp.product_id = p GROUP BY pp.other_id
             ORDER BY together DESC, pp.other_id LIMIT 50
        ), q AS (
            SELECT x.other_id, x.together, s.n_q,
                   x.together / (n_p ^ 0.8 * s.n_q ^ 0.2) * x.together / (x.together + 10) AS sim
              FROM x JOIN (SELECT o.product_id, sum(o.orders)::double precision AS n_q
                             FROM txw_data.product_orders o
                            WHERE o.product_id = ANY (ARRAY (SELECT x.other_id FROM x))
                            GROUP BY o.product_id) s ON s.product_id = x.other_id
             ORDER BY sim DESC, x.together DESC, x.other_id
             LIMIT k
        )
        SELECT q.other_id, c.name, c.category, q.together, q.sim, q.n_q
          FROM q LEFT JOIN txw_data.products c ON c.product_id = q.other_id
         ORDER BY q.sim DESC, q.together DESC, q.other_id
    LOOP
        product_id := r.other_id; name := r.name; category := r.category;
        score := r.sim; source := 'cooccurrence'; orders_together := r.together;
        support := r.together / total; confidence := r.together / n_p;
        lift := r.together * total / (n_p * r.n_q);
        shown := shown || r.other_id;
        RETURN NEXT;
    END LOOP;
    IF cardinality (shown) > k THEN
        RETURN;
    END IF;
    orders_together := NULL; support := NULL; confidence := NULL; lift := NULL;
    cats := ARRAY (SELECT c.category FROM txw_data.products c WHERE c.product_id = p);
    FOR r IN
        SELECT s.product_id, s.name, s.category, s.sold, s.source
          FROM txw_data.best_sellers (cats, shown, k + 1 - cardinality (shown)) s
    LOOP
        product_id := r.product_id; name := r.name; category := r.category;
        score := coalesce (r.sold / total, 0); source := r.source;
        RETURN NEXT;
    END LOOP;
END $$;

-- Up to k products to recommend to a customer, none it bought. Its 5
-- latest products are its taste (older ones tell less of the next order,
-- and each costs a read of its partner rows; 3 or 10 did no better in
-- `make eval`); each product q among their 20 strongest partners (most
-- orders together; 2 x the 10 an answer usually holds) scores the sum of
-- sim (p, q) over them plus a popularity prior, q's support (orders_q /
-- orders) divided by the number of those products: the prior counts as
-- one more product for a customer who bought one, a fifth of one for
-- five, so a thin history leans on the best sellers and a rich one on
-- itself. The overall best sellers compete for the places with the
-- partners (source 'cooccurrence' when a partner, else 'popular').
-- `make eval`, hit rate@10: cosine 0.443, sim 0.485, sim + a prior of
-- full weight 0.478, sim + this prior 0.485 (popularity 0.391); for the
-- customers who bought one product 0.678 without the prior, 0.698 with
-- it (popularity 0.576). A customer with no partners at all (nothing
-- bought, or only products nobody else bought) gets the best sellers of
-- its products' categories (source 'category'), then overall (source
-- 'popular'), score their support.
CREATE FUNCTION txw.recommend_for_customer (account text, k int)
RETURNS TABLE (product_id text, name text, category text, score double precision,
               source text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    a       text := account;
    total   double precision;
    cats    text [];
    shown   text [];
    recent  text [];
    n       int := 0;
    r       record;
BEGIN
    IF a IS NULL OR k IS NULL OR k < 1 THEN
        RETURN;
    END IF;
    SELECT sum(t.orders) INTO total FROM txw_data.basket_totals t;
    shown := ARRAY (SELECT cp.product_id FROM txw_data.customer_products cp
                     WHERE cp.account_id = a);
    recent := ARRAY (SELECT cp.product_id FROM txw_data.customer_products cp WHERE cp.account_id = a
                      ORDER BY cp.last_ts DESC, cp.orders DESC, cp.product_id LIMIT 5);
    FOR r IN
        WITH cand AS (
            SELECT t.product_id, t.other_id, t.together
              FROM unnest (recent) AS rp (id), LATERAL (
                   SELECT rp.id AS product_id, pp.other_id, sum(pp.orders::double precision) AS together
                     FROM txw_data.product_pairs pp WHERE pp.product_id = rp.id
                    GROUP BY pp.other_id ORDER BY together DESC, pp.other_id LIMIT 20) t
             WHERE t.other_id <> ALL (shown)
        ), pop AS (
            SELECT DISTINCT t.product_id
              FROM txw_data.basket_totals b, LATERAL (
                   SELECT po.product_id FROM txw_data.product_orders po
                    WHERE po.shard = b.shard
                    ORDER BY po.orders DESC, po.product_id
                    LIMIT k + cardinality (shown)) t
             WHERE t.product_id <> ALL (shown) AND EXISTS (SELECT FROM cand)
        ), sold AS (
            SELECT o.product_id AS id, sum(o.orders)::double precision AS n
              FROM txw_data.product_orders o
             WHERE o.product_id = ANY (recent || ARRAY (SELECT cand.other_id FROM cand)
                                              || ARRAY (SELECT pop.product_id FROM pop))
             GROUP BY o.product_id
        ), scored AS (
            SELECT c.other_id, sum(c.together / (sp.n ^ 0.8 * sq.n ^ 0.2)
                                   * c.together / (c.together + 10)) AS sim
              FROM cand c JOIN sold sp ON sp.id = c.product_id JOIN sold sq ON sq.id = c.other_id
             GROUP BY c.other_id
        ), s AS (
            SELECT coalesce (sc.other_id, pop.product_id) AS id, sc.sim,
                   coalesce (sc.sim, 0) + sq.n / total / cardinality (recent) AS score
              FROM scored sc FULL JOIN pop ON pop.product_id = sc.other_id
              JOIN sold sq ON sq.id = coalesce (sc.other_id, pop.product_id)
             ORDER BY score DESC, id LIMIT k
        )
        SELECT s.id, c.name, c.category, s.score, s.sim
          FROM s LEFT JOIN txw_data.products c ON c.product_id = s.id
         ORDER BY s.score DESC, s.id
    LOOP
        product_id := r.id; name := r.name; category := r.category; score := r.score;
        source := CASE WHEN r.sim IS NULL THEN 'popular' ELSE 'cooccurrence' END;
        n := n + 1;
        shown := shown || r.id;
        RETURN NEXT;
    END LOOP;
    IF n >= k THEN
        RETURN;
    END IF;
    cats := ARRAY (SELECT DISTINCT c.category FROM txw_data.customer_products cp
                     JOIN txw_data.products c USING (product_id) WHERE cp.account_id = a);
    FOR r IN
        SELECT s.product_id, s.name, s.category, s.sold, s.source
          FROM txw_data.best_sellers (cats, shown, k - n) s
    LOOP
        product_id := r.product_id; name := r.name; category := r.category;
        score := coalesce (r.sold / total, 0); source := r.source;
        RETURN NEXT;
    END LOOP;
END $$;

-- The fallback of both: up to k products not in shown, the best sellers
-- of the categories cats (source 'category': catalogue products, unsold
-- ones last), then the products sold most overall (source 'popular',
-- products missing from the catalogue too). Ties by product id. The
-- overall best sellers are taken from each shard's best (an index scan of
-- 2k + |shown| rows a shard) and ranked by their totals: shards hold
-- alike shares of the accounts, so a product that sells best overall
-- sells among the best of some shard.
CREATE FUNCTION txw_data.best_sellers (cats text [], shown text [], k int)
RETURNS TABLE (product_id text, name text, category text, sold double precision, source text)
LANGUAGE sql STABLE AS $$
WITH cat AS (
    SELECT c.product_id, c.name, c.category,
           (SELECT sum(o.orders) FROM txw_data.product_orders o
             WHERE o.product_id = c.product_id)::double precision AS sold
      FROM txw_data.products c
     WHERE c.category = ANY (cats) AND c.product_id <> ALL (shown)
     ORDER BY sold DESC NULLS LAST, c.product_id
     LIMIT greatest (k, 0)
), pop AS (
    SELECT o.product_id, c.name, c.category, o.sold
      FROM (SELECT x.product_id, (SELECT sum(s.orders) FROM txw_data.product_orders s
                                   WHERE s.product_id = x.product_id)::double precision AS sold
              FROM (SELECT DISTINCT t.product_id
                      FROM txw_data.basket_totals b, LATERAL (
                           SELECT po.product_id FROM txw_data.product_orders po
                            WHERE po.shard = b.shard
                            ORDER BY po.orders DESC, po.product_id
                            LIMIT 2 * greatest (k, 0) + cardinality (shown)) t) x
             WHERE x.product_id <> ALL (shown)) o
      LEFT JOIN txw_data.products c USING (product_id)
     WHERE NOT EXISTS (SELECT FROM cat WHERE cat.product_id = o.product_id)
     ORDER BY o.sold DESC, o.product_id
     LIMIT greatest (k - (SELECT count(*) FROM cat), 0)
)
SELECT *, 'category' FROM cat
UNION ALL
SELECT *, 'popular' FROM pop
$$;

-- The readers run them with the owner's rights (the tables behind them are
-- the pipeline's), on a fixed search path.
ALTER FUNCTION txw.recommend_for_product (text, int) SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION txw.recommend_for_customer (text, int) SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
REVOKE EXECUTE ON FUNCTION txw.recommend_for_product (text, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION txw.recommend_for_customer (text, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION txw_data.best_sellers (text [], text [], int) FROM PUBLIC;

-- --- Grants (proto/SQL.md, "Roles") ---------------------------------------
-- The aggregator adds baskets through a stage table, trims old baskets
-- and weak partners.
GRANT SELECT, INSERT, DELETE ON txw_data.order_items TO txw_store;
GRANT SELECT, INSERT, UPDATE, DELETE ON txw_data.product_pairs TO txw_store;
GRANT SELECT, INSERT, UPDATE ON txw_data.product_orders, txw_data.basket_totals,
    txw_data.customer_products TO txw_store;
GRANT EXECUTE ON FUNCTION txw.recommend_for_product (text, int),
    txw.recommend_for_customer (text, int) TO txw_api, txw_read;
