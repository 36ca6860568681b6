-- 017_customers: RFM segments and monthly cohorts of the customers (accounts)
--
-- The aggregator keeps, besides txw_data.accounts, one row per account and
-- calendar month (UTC) in txw_data.account_months, in the same flush and
-- transaction, so a replayed message is never added twice there either.
-- From these two, txw_data.refresh_segments () (run by txw-maint, task
-- "segments", on a schedule or on demand) scores every customer in
-- quintiles of recency, frequency and monetary value, maps (R, F) to one of
-- 11 segments and rebuilds the monthly cohorts. The query API reads the
-- views txw.customers, txw.customer_segments and txw.cohorts
-- (proto/SQL.md, "Customers: RFM and cohorts").

CREATE TABLE txw_data.account_months (
    account_id          text        NOT NULL,
    month               date        NOT NULL,   -- first day of the UTC month
    tx_count            bigint      NOT NULL,
    approved            bigint      NOT NULL,   -- approved transactions: purchases
    spend_rep_minor     bigint      NOT NULL,   -- every transaction
    approved_rep_minor  bigint      NOT NULL,   -- approved only: revenue
    PRIMARY KEY (account_id, month)
);

-- What the transactions already stored say (the accounts' totals were
-- kept from the start; their months only from now on).
INSERT INTO txw_data.account_months
SELECT account_id, date_trunc ('month', ts AT TIME ZONE 'UTC')::date, count(*),
       count(*) FILTER (WHERE status = 'approved'), sum(amount_rep_minor),
       coalesce (sum(amount_rep_minor) FILTER (WHERE status = 'approved'), 0)
FROM txw_data.transactions
GROUP BY 1, 2;

-- The 11 segments, in the order they are listed, with their totals as of
-- the last refresh (rewritten by each).
CREATE TABLE txw_data.rfm_segments (
    segment     text        PRIMARY KEY,
    position    smallint    NOT NULL UNIQUE,
    customers   bigint      NOT NULL DEFAULT 0,
    revenue     bigint      NOT NULL DEFAULT 0   -- lifetime value of its customers
);

INSERT INTO txw_data.rfm_segments (segment, position) VALUES
    ('Champions', 1), ('Loyal Customers', 2), ('Potential Loyalists', 3),
    ('New Customers', 4), ('Promising', 5), ('Need Attention', 6), ('About to Sleep', 7),
    ('At Risk', 8), ('Can''t Lose Them', 9), ('Hibernating', 10), ('Lost', 11);

-- The usual RFM segment table on the recency and frequency scores (the
-- monetary score is kept and shown, but follows frequency too closely to
-- split segments further). Rows are R 5..1, columns F 1..5:
--   R5: New Customers, Potential Loyalists x2, Champions x2
--   R4: Promising, Potential Loyalists x2, Loyal Customers x2
--   R3: About to Sleep x2, Need Attention, Loyal Customers x2
--   R2: Hibernating x2, At Risk x2, Can't Lose Them
--   R1: Lost, Hibernating, At Risk x2, Can't Lose Them
CREATE TABLE txw_data.rfm_grid (
    r           smallint    NOT NULL CHECK (r BETWEEN 1 AND 5),
    f           smallint    NOT NULL CHECK (f BETWEEN 1 AND 5),
    segment     text        NOT NULL REFERENCES txw_data.rfm_segments,
    PRIMARY KEY (r, f)
);

INSERT INTO txw_data.rfm_grid (r, f, segment)
SELECT r, f, CASE
    WHEN r = 5 AND f = 1 THEN 'New Customers'
    WHEN r = 4 AND f = 1 THEN 'Promising'
    WHEN r >= 4 AND f IN (2, 3) THEN 'Potential Loyalists'
    WHEN r = 5 AND f >= 4 THEN 'Champions'
    WHEN r >= 3 AND f >= 4 THEN 'Loyal Customers'
    WHEN r = 3 AND f = 3 THEN 'Need Attention'
    WHEN r = 3 THEN 'About to Sleep'
    WHEN f = 5 THEN 'Can''t Lose Them'
    WHEN f >= 3 THEN 'At Risk'
    WHEN r = 1 AND f = 1 THEN 'Lost'
    ELSE 'Hibernating' END
FROM generate_series (1, 5) r, generate_series (1, 5) f;

-- One row per customer scored: the inputs it was scored on (so the next
-- refresh finds the changed ones by comparing them with txw_data.accounts)
-- and its scores. cohort_month is the month of its first approved
-- transaction (NULL: none yet).
CREATE TABLE txw_data.customer_rfm (
    account_id      text        PRIMARY KEY,
    last_seen       timestamptz NOT NULL,
    frequency       bigint      NOT NULL,   -- transactions
    monetary        bigint      NOT NULL,   -- lifetime value, reporting-currency minor units
    cohort_month    date,
    r               smallint    NOT NULL,
    f               smallint    NOT NULL,
    m               smallint    NOT NULL,
    segment         text        NOT NULL,
    scored_at       timestamptz NOT NULL    -- as_of of the refresh that last wrote it
);

-- (The indexes the ranked lists and a segment's members page through are
-- made by the refresh, which drops them around a bulk write.)

-- The last refresh: its time, the quintile boundaries it scored with (the
-- 20th, 40th, 60th and 80th percentiles, percentile_disc) and what it did.
CREATE TABLE txw_data.rfm_state (
    one             boolean     PRIMARY KEY DEFAULT true CHECK (one),
    as_of           timestamptz,
    r_bounds        timestamptz [],
    f_bounds        bigint [],
    m_bounds        bigint [],
    customers       bigint      NOT NULL DEFAULT 0,
    written         bigint      NOT NULL DEFAULT 0,   -- customers whose inputs or scores changed
    removed         bigint      NOT NULL DEFAULT 0,   -- customers whose account is gone
    bulk            boolean     NOT NULL DEFAULT false,  -- written with the indexes rebuilt
    took_ms         bigint      NOT NULL DEFAULT 0,
    refreshed_at    timestamptz
);

INSERT INTO txw_data.rfm_state DEFAULT VALUES;

-- The monthly cohorts: per cohort month (of the first purchase) and month
-- after it (period 0 is the cohort month), the customers who bought, their
-- purchases and revenue.
CREATE TABLE txw_data.cohort_months (
    cohort_month    date        NOT NULL,
    period          int         NOT NULL,
    active          bigint      NOT NULL,
    orders          bigint      NOT NULL,
    revenue         bigint      NOT NULL,
    PRIMARY KEY (cohort_month, period)
);

-- What each customer adds to the cohorts, as last counted: its months
-- with an approved transaction (ascending; the first is its cohort), the
-- approved transactions and revenue of each. A refresh takes the changed
-- customers' old contributions out of txw_data.cohort_months and puts
-- their new ones in, in one statement.
CREATE TABLE txw_data.customer_months (
    account_id      text        PRIMARY KEY,
    months          date []     NOT NULL,
    orders          bigint []   NOT NULL,
    revenue         bigint []   NOT NULL
);

-- Every customer's scores from its current inputs under quintile
-- boundaries (four values each, ascending): 1 + the number of boundaries
-- the value is above. A plain SQL function, so the planner inlines it.
CREATE FUNCTION txw_data.rfm_scores (rb timestamptz [], fb bigint [], mb bigint [])
RETURNS TABLE (account_id text, last_seen timestamptz, frequency bigint, monetary bigint,
               r smallint, f smallint, m smallint)
LANGUAGE sql STABLE AS $$
SELECT account_id, last_seen, tx_count, approved_rep_minor,
       (1 + (last_seen > rb [1])::int + (last_seen > rb [2])::int
          + (last_seen > rb [3])::int + (last_seen > rb [4])::int)::smallint,
       (1 + (tx_count > fb [1])::int + (tx_count > fb [2])::int
          + (tx_count > fb [3])::int + (tx_count > fb [4])::int)::smallint,
       (1 + (approved_rep_minor > mb [1])::int + (approved_rep_minor > mb [2])::int
          + (approved_rep_minor > mb [3])::int + (approved_rep_minor > mb [4])::int)::smallint
FROM txw_data.accounts
$$;
REVOKE EXECUTE ON FUNCTION txw_data.rfm_scores (timestamptz [], bigint [], bigint []) FROM PUBLIC;

-- The refresh. Incremental, and exact:
--   1. the quintile boundaries are computed over every customer's
--      current inputs (last_seen, tx_count, approved_rep_minor);
--   2. every customer is scored with them: a score is a pure function of
--      its inputs and the boundaries (1 + the number of boundaries the
--      value is above), so it needs nothing but the customer's own row;
--   3. only the customers whose inputs or scores differ from what is
--      stored are written (with their cohort month, looked up for them
--      alone); customers whose account is gone are removed;
--   4. the cohorts lose what those of them who bought since (whose
--      tx_count changed) added to them at the last count
--      (txw_data.customer_months) and gain what they add now.
-- So the refresh reads every customer once (two scans and a hash join)
-- but writes only what changed: a customer who did not buy keeps its row
-- unless a boundary moved past its value. After it, every customer has
-- the scores a refresh from nothing would give it. The recency score ranks
-- last_seen, which orders the customers as the days since last_seen at
-- as_of do; as_of only fixes recency_days in the views. Segment totals are
-- summed again (one scan) when a customer was written.
-- When most customers are new (the first refresh, a large backfill), the
-- write is a bulk one: adding a million rows to four secondary indexes
-- one by one takes ten times as long as building them afresh, so those
-- indexes are dropped before it and built after it (the readers of the
-- views wait for the refresh meanwhile), and the cohorts are counted
-- afresh. One refresh at a time (the state row is locked).
CREATE FUNCTION txw_data.refresh_segments (as_of timestamptz DEFAULT now ())
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    started     timestamptz := clock_timestamp ();
    rb          timestamptz [];
    fb          bigint [];
    mb          bigint [];
    n           bigint;
    gone        bigint;
    n_written   bigint;
    is_bulk     boolean;
    took        bigint;
BEGIN
    PERFORM FROM txw_data.rfm_state FOR UPDATE;

    SELECT count(*),
           percentile_disc (ARRAY [0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY last_seen),
           percentile_disc (ARRAY [0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY tx_count),
           percentile_disc (ARRAY [0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY approved_rep_minor)
      INTO n, rb, fb, mb
      FROM txw_data.accounts;

    -- The customers written or removed by this refresh, and whether their
    -- months may have changed: the aggregator adds to an account's months
    -- and to its tx_count in the same flush, so only when its tx_count did.
    IF to_regclass ('pg_temp.rfm_changed') IS NULL THEN
        CREATE TEMP TABLE rfm_changed (account_id text, bought boolean) ON COMMIT DROP;
    ELSE
        TRUNCATE pg_temp.rfm_changed;
    END IF;

    WITH g AS (
        DELETE FROM txw_data.customer_rfm c
         WHERE NOT EXISTS (SELECT FROM txw_data.accounts a WHERE a.account_id = c.account_id)
        RETURNING c.account_id)
    INSERT INTO pg_temp.rfm_changed SELECT account_id, true FROM g;
    GET DIAGNOSTICS gone = ROW_COUNT;

    is_bulk := (SELECT count(*) FROM txw_data.customer_rfm) < n / 2;
    IF is_bulk THEN
        DROP INDEX IF EXISTS txw_data.customer_rfm_monetary, txw_data.customer_rfm_frequency,
            txw_data.customer_rfm_recency, txw_data.customer_rfm_segment;
        DELETE FROM txw_data.customer_rfm;
        -- In key order: a million random inserts into the primary key
        -- take twenty times as long.
        INSERT INTO txw_data.customer_rfm
            (account_id, last_seen, frequency, monetary, cohort_month, r, f, m, segment, scored_at)
        SELECT s.account_id, s.last_seen, s.frequency, s.monetary, fm.first,
               s.r, s.f, s.m, g.segment, as_of
          FROM txw_data.rfm_scores (rb, fb, mb) s JOIN txw_data.rfm_grid g ON g.r = s.r AND g.f = s.f
          LEFT JOIN (SELECT account_id, min(month) AS first FROM txw_data.account_months
                      WHERE approved > 0 GROUP BY account_id) fm USING (account_id)
         ORDER BY s.account_id;
    ELSE
        WITH d AS MATERIALIZED (
            SELECT s.*, o.frequency IS DISTINCT FROM s.frequency AS bought
              FROM txw_data.rfm_scores (rb, fb, mb) s
              LEFT JOIN txw_data.customer_rfm o USING (account_id)
             WHERE o.account_id IS NULL
                OR (o.last_seen, o.frequency, o.monetary, o.r, o.f, o.m)
                   IS DISTINCT FROM (s.last_seen, s.frequency, s.monetary, s.r, s.f, s.m)
        ), w AS (
        INSERT INTO txw_data.customer_rfm AS c
            (account_id, last_seen, frequency, monetary, cohort_month, r, f, m, segment, scored_at)
        SELECT d.account_id, d.last_seen, d.frequency, d.monetary,
               (SELECT min(am.month) FROM txw_data.account_months am
                 WHERE am.account_id = d.account_id AND am.approved > 0),
               d.r, d.f, d.m, g.segment, as_of
          FROM d JOIN txw_data.rfm_grid g ON g.r = d.r AND g.f = d.f
         ORDER BY d.account_id
        ON CONFLICT (account_id) DO UPDATE
           SET last_seen = excluded.last_seen, frequency = excluded.frequency,
               monetary = excluded.monetary, cohort_month = excluded.cohort_month,
               r = excluded.r, f = excluded.f, m = excluded.m, segment = excluded.segment,
               scored_at = excluded.scored_at
        RETURNING c.account_id)
        INSERT INTO pg_temp.rfm_changed
        SELECT account_id, d.bought FROM w JOIN d USING (account_id);
    END IF;
    GET DIAGNOSTICS n_written = ROW_COUNT;

    -- What the ranked lists and a segment's members page through.
    IF to_regclass ('txw_data.customer_rfm_monetary') IS NULL THEN
        CREATE INDEX customer_rfm_monetary ON txw_data.customer_rfm (monetary DESC, account_id);
        CREATE INDEX customer_rfm_frequency ON txw_data.customer_rfm (frequency DESC, account_id);
        CREATE INDEX customer_rfm_recency ON txw_data.customer_rfm (last_seen DESC, account_id);
        CREATE INDEX customer_rfm_segment
            ON txw_data.customer_rfm (segment, monetary DESC, account_id);
    END IF;

    IF n_written + gone > 0 THEN
        UPDATE txw_data.rfm_segments s SET customers = t.customers, revenue = t.revenue
          FROM (SELECT g.segment, count(c.account_id) AS customers,
                       coalesce (sum(c.monetary), 0) AS revenue
                  FROM txw_data.rfm_segments g
                  LEFT JOIN txw_data.customer_rfm c ON c.segment = g.segment
                 GROUP BY g.segment) t
         WHERE s.segment = t.segment;
    END IF;

    IF is_bulk THEN
        DELETE FROM txw_data.customer_months;
        INSERT INTO txw_data.customer_months
        SELECT account_id, array_agg (month ORDER BY month), array_agg (approved ORDER BY month),
               array_agg (approved_rep_minor ORDER BY month)
          FROM txw_data.account_months WHERE approved > 0
         GROUP BY account_id ORDER BY account_id;
        DELETE FROM txw_data.cohort_months;
        INSERT INTO txw_data.cohort_months (cohort_month, period, active, orders, revenue)
        SELECT k.months [1],
               ((extract (year FROM u.month) - extract (year FROM k.months [1])) * 12
                + extract (month FROM u.month) - extract (month FROM k.months [1]))::int,
               count(*), sum(u.orders), sum(u.revenue)
          FROM txw_data.customer_months k,
               unnest (k.months, k.orders, k.revenue) AS u (month, orders, revenue)
         GROUP BY 1, 2;
        -- A million new rows: the next refresh plans with their statistics.
        ANALYZE txw_data.customer_rfm, txw_data.customer_months;
    ELSE
        -- One statement: the old contributions are read as they were
        -- before it, the new ones once, and kept as they were counted.
        WITH fresh AS MATERIALIZED (
            SELECT am.account_id, array_agg (am.month ORDER BY am.month) AS months,
                   array_agg (am.approved ORDER BY am.month) AS orders,
                   array_agg (am.approved_rep_minor ORDER BY am.month) AS revenue
              FROM txw_data.account_months am
              JOIN pg_temp.rfm_changed x USING (account_id)
             WHERE am.approved > 0 AND x.bought
             GROUP BY am.account_id
        ), old AS MATERIALIZED (
            SELECT k.* FROM txw_data.customer_months k
              JOIN pg_temp.rfm_changed x USING (account_id) WHERE x.bought
        ), kept AS (
            INSERT INTO txw_data.customer_months SELECT * FROM fresh
            ON CONFLICT (account_id) DO UPDATE
               SET months = excluded.months, orders = excluded.orders, revenue = excluded.revenue
        ), dropped AS (
            DELETE FROM txw_data.customer_months k USING old
             WHERE k.account_id = old.account_id
               AND NOT EXISTS (SELECT FROM fresh WHERE fresh.account_id = old.account_id)
        ), delta AS (
            SELECT o.months [1] AS cohort, u.month, -1 AS active, -u.orders AS orders,
                   -u.revenue AS revenue
              FROM old o, unnest (o.months, o.orders, o.revenue) AS u (month, orders, revenue)
            UNION ALL
            SELECT f.months [1], u.month, 1, u.orders, u.revenue
              FROM fresh f, unnest (f.months, f.orders, f.revenue) AS u (month, orders, revenue)
        )
        INSERT INTO txw_data.cohort_months AS t (cohort_month, period, active, orders, revenue)
        SELECT cohort,
               ((extract (year FROM month) - extract (year FROM cohort)) * 12
                + extract (month FROM month) - extract (month FROM cohort))::int,
               sum(active), sum(orders), sum(revenue)
          FROM delta GROUP BY 1, 2
        ON CONFLICT (cohort_month, period) DO UPDATE
           SET active = t.active + excluded.active, orders = t.orders + excluded.orders,
               revenue = t.revenue + excluded.revenue;
        DELETE FROM txw_data.cohort_months WHERE active = 0;
    END IF;

    -- The views' plans count on these being small (one state row, a few
    -- hundred cohort rows): left unanalysed, their estimates make the
    -- cohorts' plan look costly enough to compile (JIT) on every request.
    ANALYZE txw_data.rfm_state, txw_data.cohort_months;

    took := (extract (epoch FROM clock_timestamp () - started) * 1000)::bigint;
    UPDATE txw_data.rfm_state
       SET as_of = refresh_segments.as_of, r_bounds = rb, f_bounds = fb, m_bounds = mb,
           customers = n, written = n_written, removed = gone,
           bulk = is_bulk, took_ms = took, refreshed_at = clock_timestamp ();
    RETURN jsonb_build_object ('customers', n, 'written', n_written, 'removed', gone,
                               'bulk', is_bulk, 'took_ms', took);
END $$;

-- It writes tables only the owner may write: it runs with the owner's
-- rights, for txw_maint only, on a fixed search path (as ensure_partition).
-- Its hash joins and aggregates of a million customers, and the index
-- builds, fit in memory with these.
ALTER FUNCTION txw_data.refresh_segments (timestamptz) SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp SET work_mem = '128MB'
    SET maintenance_work_mem = '256MB';
REVOKE EXECUTE ON FUNCTION txw_data.refresh_segments (timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION txw_data.refresh_segments (timestamptz) TO txw_maint;

-- --- The views ---------------------------------------------------------------

-- A customer: the live totals of txw.accounts and, once a refresh has
-- seen it, its RFM inputs, scores and segment as of that refresh.
CREATE VIEW txw.customers AS
SELECT a.account_id, a.tx_count, a.spend_rep_minor,
       a.approved_rep_minor AS lifetime_value_rep_minor,
       a.approved, a.declined, a.failed, a.flagged, a.first_seen, a.last_seen,
       c.cohort_month,
       greatest (0, floor (extract (epoch FROM st.as_of - c.last_seen) / 86400))::int
           AS recency_days,
       c.last_seen AS rfm_last_seen, c.frequency, c.monetary, c.r, c.f, c.m, c.segment,
       c.scored_at, st.as_of AS rfm_as_of
FROM txw_data.accounts a
LEFT JOIN txw_data.customer_rfm c USING (account_id)
CROSS JOIN txw_data.rfm_state st;

-- The 11 segments, empty ones too, with their shares of the customers
-- and of their lifetime value (percent, NULL when there are none).
CREATE VIEW txw.customer_segments AS
SELECT s.position, s.segment, s.customers, s.revenue AS revenue_rep_minor,
       round (100.0 * s.customers / nullif (sum (s.customers) OVER (), 0), 2)
           AS customers_share_pct,
       round (100.0 * s.revenue / nullif (sum (s.revenue) OVER (), 0), 2) AS revenue_share_pct,
       st.as_of AS rfm_as_of
FROM txw_data.rfm_segments s CROSS JOIN txw_data.rfm_state st;

-- Each cohort and every month from its first to the month of the last
-- refresh, months without a purchase included: customers (the cohort's
-- size), active customers, retention, revenue, average order value and
-- purchases per active customer.
CREATE VIEW txw.cohorts AS
WITH sizes AS (
    SELECT cohort_month, active AS customers FROM txw_data.cohort_months WHERE period = 0
), periods AS (
    SELECT z.cohort_month, z.customers, p AS period
      FROM sizes z CROSS JOIN txw_data.rfm_state st,
           generate_series (0, ((extract (year FROM st.as_of AT TIME ZONE 'UTC')
                                 - extract (year FROM z.cohort_month)) * 12
                                + extract (month FROM st.as_of AT TIME ZONE 'UTC')
                                - extract (month FROM z.cohort_month))::int) p
)
SELECT p.cohort_month, p.period,
       (p.cohort_month + make_interval (months => p.period))::date AS month,
       p.customers, coalesce (m.active, 0) AS active_customers,
       round (100.0 * coalesce (m.active, 0) / p.customers, 2) AS retention_pct,
       coalesce (m.revenue, 0) AS revenue_rep_minor,
       coalesce (m.orders, 0) AS orders,
       round (m.revenue::numeric / nullif (m.orders, 0), 2) AS avg_order_value_rep_minor,
       round (m.orders::numeric / nullif (m.active, 0), 2) AS purchase_frequency
FROM periods p
LEFT JOIN txw_data.cohort_months m USING (cohort_month, period);

-- --- Grants (proto/SQL.md, "Roles") ---------------------------------------
-- The aggregator upserts the months through a stage table like it.
GRANT SELECT, INSERT, UPDATE ON txw_data.account_months TO txw_store;
GRANT SELECT ON txw.customers, txw.customer_segments, txw.cohorts TO txw_api, txw_read;
