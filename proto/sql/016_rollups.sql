-- 016_rollups: window rows partitioned by day; hourly and daily rollups
--
-- Long-range history (a year of a dimension) is read from rollups: one row
-- per (dimension, key, hour or UTC day, shard) holding the sums of the
-- closed window rows of that hour or day, kept by a trigger on
-- txw_data.windows. Every write of window rows adds its change (the closed
-- new rows minus the closed old ones) to the rollup rows of their hours
-- and days, in the same statement and so in the same transaction as the
-- window write: a flush that rolls back leaves no trace in the rollups, one
-- that commits is counted once, and the rollups can never drift from the
-- windows they summarise. The views add the windows still open, so they
-- always equal the windows summed. The rows are per shard, like the
-- windows, so two aggregator shards never write the same rollup row (no
-- waiting, no deadlock between their flushes).
--
-- Why closed windows only: every flush writes each live window whole, so a
-- window is written some hundred times while open; adding each of those
-- changes to its hour and day would triple the rows a flush writes. A
-- window reaches the rollups once, as it closes, and again only for a late
-- transaction. The trigger is per statement, with transition tables, not
-- per row: a flush upserts thousands of window rows in one statement.
--
-- Sums add the change; the smallest amount only falls and the largest only
-- rises (windows only gain transactions), so least/greatest of the new
-- closed rows is exact. Deleting window rows (a dropped partition, txw-maint's
-- retention) leaves the rollups as they are: they are the history that
-- outlives the window rows. An open window is in no rollup yet, so a day
-- may be dropped only once none of its windows is open (windows_open).
--
-- txw_data.windows becomes partitioned by day of window_start, like the
-- transactions, so old window rows go by dropping whole partitions; the
-- rollups are partitioned by month. txw_data.ensure_partition makes all of
-- them for a day before a flush writes it.

-- --- The rollups -------------------------------------------------------------
-- window_start is the start of the hour (of the UTC day); a rollup without
-- a transaction yet (only empty windows) has NULL smallest and largest
-- amounts, which the views skip.
CREATE TABLE txw_data.windows_hourly (
    dimension           text        NOT NULL,
    key                 text        NOT NULL,
    window_start        timestamptz NOT NULL,
    shard               int         NOT NULL,
    tx_count            bigint      NOT NULL,
    amount_minor_sum    bigint      NOT NULL,
    amount_minor_min    bigint,
    amount_minor_max    bigint,
    approved_amount_minor_sum bigint NOT NULL,
    approved            bigint      NOT NULL,
    declined            bigint      NOT NULL,
    failed              bigint      NOT NULL,
    flagged             bigint      NOT NULL,
    score_sum           bigint      NOT NULL,
    late                bigint      NOT NULL,
    PRIMARY KEY (dimension, key, window_start, shard)
) PARTITION BY RANGE (window_start);

CREATE INDEX windows_hourly_dimension_start ON txw_data.windows_hourly (dimension, window_start);

CREATE TABLE txw_data.windows_daily (LIKE txw_data.windows_hourly INCLUDING ALL)
    PARTITION BY RANGE (window_start);

-- The windows, partitioned: the table of 001 is moved into it below.
ALTER TABLE txw_data.windows RENAME TO windows_unpartitioned;
ALTER INDEX txw_data.windows_pkey RENAME TO windows_unpartitioned_pkey;
ALTER INDEX txw_data.windows_start RENAME TO windows_unpartitioned_start;
ALTER INDEX txw_data.windows_dimension_start RENAME TO windows_unpartitioned_dimension_start;

CREATE TABLE txw_data.windows (
    LIKE txw_data.windows_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (dimension, key, window_start, shard)
) PARTITION BY RANGE (window_start);

CREATE INDEX windows_start ON txw_data.windows (window_start);
CREATE INDEX windows_dimension_start ON txw_data.windows (dimension, window_start);
-- The open windows, which the rollup views add to the rollups: the last
-- few minutes of each key, a small index.
CREATE INDEX windows_open ON txw_data.windows (dimension, key, window_start) WHERE NOT closed;

-- A day's partitions: the transactions' and the windows' of the day, and
-- the rollups' of its month. Creating a partition locks the partitioned
-- table until the flush commits, so this runs first in a flush, and
-- creates in one order (transactions, windows, hourly, daily) as the flush
-- then writes them: two flushes wait for each other, never in a circle.
-- Partitions that exist are seen without any lock; a missing one is made
-- under one advisory lock, held to the commit, so two shards meeting the
-- same new day (or month) do not both create it. Window rows are updated
-- again and again while open (every flush writes a live window whole), a
-- rollup row each time a window of its hour or day closes: pages left
-- part empty let PostgreSQL update them in place (HOT, no new index
-- entries).
CREATE OR REPLACE FUNCTION txw_data.ensure_partition(day date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    month date := date_trunc('month', day)::date;
    -- table|partition|from|to|fillfactor
    parts text [] := ARRAY [
        format('transactions|transactions_%s|%s|%s|100', to_char(day, 'YYYYMMDD'), day, day + 1),
        format('windows|windows_%s|%s|%s|70', to_char(day, 'YYYYMMDD'), day, day + 1),
        format('windows_hourly|windows_hourly_%s|%s|%s|50', to_char(month, 'YYYYMM'), month,
               (month + interval '1 month')::date),
        format('windows_daily|windows_daily_%s|%s|%s|50', to_char(month, 'YYYYMM'), month,
               (month + interval '1 month')::date)];
    part text;
    f text [];
    locked boolean := false;
BEGIN
    FOREACH part IN ARRAY parts LOOP
        f := string_to_array(part, '|');
        IF to_regclass(format('txw_data.%I', f [2])) IS NULL THEN
            IF NOT locked THEN
                PERFORM pg_advisory_xact_lock(7243002, 0);
                locked := true;
                IF to_regclass(format('txw_data.%I', f [2])) IS NOT NULL THEN
                    CONTINUE;       -- made while this waited
                END IF;
            END IF;
            EXECUTE format('CREATE TABLE txw_data.%I PARTITION OF txw_data.%I '
                           'FOR VALUES FROM (%L) TO (%L) WITH (fillfactor = %s)', f [2], f [1],
                           f [3]::date::timestamp AT TIME ZONE 'UTC',
                           f [4]::date::timestamp AT TIME ZONE 'UTC', f [5]::int);
        END IF;
    END LOOP;
END $$;

-- The trigger: the changes of one statement, summed by hour, then by day.
-- A window counts in the rollups while it is closed, so its change is its
-- new row if closed minus its old row if closed (a window closing adds all
-- of it, an open one nothing). The key of a row never changes in an
-- upsert, so the new rows summed per hour minus the old rows summed per
-- hour is the change of that hour, without pairing rows up. The smallest
-- and largest amounts come from the new rows only (skipping empty
-- windows). An hour whose sums did not change (a window
-- written again unchanged: a retried flush writes every window whole) is
-- left alone (its smallest and largest amounts cannot have changed either),
-- and an hour of empty windows only has no rollup row.
-- It runs with the owner's rights, so that no service may write a rollup
-- row but through the windows.
CREATE FUNCTION txw_data.windows_rollup() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- %s: the rows whose sums make the change (new rows; old ones negated).
    rollup CONSTANT text := $sql$
        WITH rows AS (%s),
        hours AS (
            SELECT dimension, key, date_trunc('hour', window_start, 'UTC') AS window_start, shard,
                   sum(tx_count) AS tx_count, sum(amount_minor_sum) AS amount_minor_sum,
                   min(amount_minor_min) AS amount_minor_min,
                   max(amount_minor_max) AS amount_minor_max,
                   sum(approved_amount_minor_sum) AS approved_amount_minor_sum,
                   sum(approved) AS approved, sum(declined) AS declined, sum(failed) AS failed,
                   sum(flagged) AS flagged, sum(score_sum) AS score_sum, sum(late) AS late
              FROM rows GROUP BY 1, 2, 3, 4
            HAVING sum(tx_count) <> 0 OR sum(amount_minor_sum) <> 0
                OR sum(approved_amount_minor_sum) <> 0 OR sum(approved) <> 0
                OR sum(declined) <> 0 OR sum(failed) <> 0 OR sum(flagged) <> 0
                OR sum(score_sum) <> 0 OR sum(late) <> 0),
        hourly AS (
            INSERT INTO txw_data.windows_hourly AS r SELECT * FROM hours
            ON CONFLICT (dimension, key, window_start, shard) DO UPDATE SET
                tx_count = r.tx_count + excluded.tx_count,
                amount_minor_sum = r.amount_minor_sum + excluded.amount_minor_sum,
                amount_minor_min = least(r.amount_minor_min, excluded.amount_minor_min),
                amount_minor_max = greatest(r.amount_minor_max, excluded.amount_minor_max),
                approved_amount_minor_sum = r.approved_amount_minor_sum
                                          + excluded.approved_amount_minor_sum,
                approved = r.approved + excluded.approved,
                declined = r.declined + excluded.declined,
                failed = r.failed + excluded.failed,
                flagged = r.flagged + excluded.flagged,
                score_sum = r.score_sum + excluded.score_sum,
                late = r.late + excluded.late)
        INSERT INTO txw_data.windows_daily AS r
        SELECT dimension, key, date_trunc('day', window_start, 'UTC'), shard,
               sum(tx_count), sum(amount_minor_sum),
               min(amount_minor_min), max(amount_minor_max),
               sum(approved_amount_minor_sum), sum(approved), sum(declined), sum(failed),
               sum(flagged), sum(score_sum), sum(late)
          FROM hours GROUP BY 1, 2, 3, 4
        ON CONFLICT (dimension, key, window_start, shard) DO UPDATE SET
            tx_count = r.tx_count + excluded.tx_count,
            amount_minor_sum = r.amount_minor_sum + excluded.amount_minor_sum,
            amount_minor_min = least(r.amount_minor_min, excluded.amount_minor_min),
            amount_minor_max = greatest(r.amount_minor_max, excluded.amount_minor_max),
            approved_amount_minor_sum = r.approved_amount_minor_sum
                                      + excluded.approved_amount_minor_sum,
            approved = r.approved + excluded.approved,
            declined = r.declined + excluded.declined,
            failed = r.failed + excluded.failed,
            flagged = r.flagged + excluded.flagged,
            score_sum = r.score_sum + excluded.score_sum,
            late = r.late + excluded.late
    $sql$;
    new_sql CONSTANT text := $sql$
        SELECT dimension, key, window_start, shard, tx_count, amount_minor_sum,
               CASE WHEN tx_count > 0 THEN amount_minor_min END AS amount_minor_min,
               CASE WHEN tx_count > 0 THEN amount_minor_max END AS amount_minor_max,
               approved_amount_minor_sum, approved, declined, failed, flagged, score_sum, late
          FROM new_rows WHERE closed $sql$;
    old_sql CONSTANT text := $sql$
        SELECT dimension, key, window_start, shard, -tx_count, -amount_minor_sum,
               NULL::bigint, NULL::bigint, -approved_amount_minor_sum, -approved, -declined,
               -failed, -flagged, -score_sum, -late
          FROM old_rows WHERE closed $sql$;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format(rollup, new_sql);
    ELSE
        EXECUTE format(rollup, new_sql || ' UNION ALL ' || old_sql);
    END IF;
    RETURN NULL;
END $$;

-- An upsert fires both: its inserted rows reach the first, its updated
-- ones the second.
CREATE TRIGGER windows_rollup_insert AFTER INSERT ON txw_data.windows
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION txw_data.windows_rollup();
CREATE TRIGGER windows_rollup_update AFTER UPDATE ON txw_data.windows
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION txw_data.windows_rollup();

-- --- Moving the stored windows ----------------------------------------------------
-- Their partitions first, then one INSERT: the trigger fills the rollups
-- from it (the backfill is the trigger itself, so it sums exactly as it
-- will from now on).
SELECT txw_data.ensure_partition(d)
  FROM (SELECT DISTINCT (window_start AT TIME ZONE 'UTC')::date AS d
          FROM txw_data.windows_unpartitioned) days
 ORDER BY d;

INSERT INTO txw_data.windows SELECT * FROM txw_data.windows_unpartitioned;

-- The view read the old table: the same text now reads the new one.
CREATE OR REPLACE VIEW txw.window_totals AS
SELECT dimension,
       key,
       window_start,
       window_start + make_interval(secs => max(window_ms) / 1000.0) AS window_end,
       sum(tx_count)::bigint                  AS tx_count,
       sum(amount_minor_sum)::bigint          AS amount_minor_sum,
       min(amount_minor_min)                  AS amount_minor_min,
       max(amount_minor_max)                  AS amount_minor_max,
       sum(approved_amount_minor_sum)::bigint AS approved_amount_minor_sum,
       sum(approved)::bigint                  AS approved,
       sum(declined)::bigint                  AS declined,
       sum(failed)::bigint                    AS failed,
       sum(flagged)::bigint                   AS flagged,
       sum(late)::bigint                      AS late,
       round(sum(score_sum)::numeric / nullif(sum(tx_count), 0), 2) AS mean_score,
       bool_and(closed)                       AS closed,
       count(*)::int                          AS shards,
       sum(score_sum)::bigint                 AS score_sum
FROM txw_data.windows
GROUP BY dimension, key, window_start;

DROP TABLE txw_data.windows_unpartitioned;

-- --- The stable interface ------------------------------------------------------
-- The columns of txw.window_totals but closed (an hour or a day is not
-- closed by a watermark), in the same order; window_end is the end of the
-- hour or day. The rollups hold the closed windows; the open ones are
-- added here, each in its hour or day.
CREATE VIEW txw.window_totals_hourly AS
SELECT dimension,
       key,
       window_start,
       window_start + interval '1 hour'       AS window_end,
       sum(tx_count)::bigint                  AS tx_count,
       sum(amount_minor_sum)::bigint          AS amount_minor_sum,
       min(amount_minor_min)                  AS amount_minor_min,
       max(amount_minor_max)                  AS amount_minor_max,
       sum(approved_amount_minor_sum)::bigint AS approved_amount_minor_sum,
       sum(approved)::bigint                  AS approved,
       sum(declined)::bigint                  AS declined,
       sum(failed)::bigint                    AS failed,
       sum(flagged)::bigint                   AS flagged,
       sum(late)::bigint                      AS late,
       round(sum(score_sum)::numeric / nullif(sum(tx_count), 0), 2) AS mean_score,
       count(DISTINCT shard)::int             AS shards,
       sum(score_sum)::bigint                 AS score_sum
FROM (SELECT dimension, key, window_start, shard, tx_count, amount_minor_sum,
             amount_minor_min, amount_minor_max, approved_amount_minor_sum, approved,
             declined, failed, flagged, late, score_sum
        FROM txw_data.windows_hourly
      UNION ALL
      SELECT dimension, key, date_trunc('hour', window_start, 'UTC'), shard, tx_count,
             amount_minor_sum, CASE WHEN tx_count > 0 THEN amount_minor_min END,
             CASE WHEN tx_count > 0 THEN amount_minor_max END, approved_amount_minor_sum,
             approved, declined, failed, flagged, late, score_sum
        FROM txw_data.windows WHERE NOT closed) r
GROUP BY dimension, key, window_start;

CREATE VIEW txw.window_totals_daily AS
SELECT dimension,
       key,
       window_start,
       window_start + interval '1 day'        AS window_end,
       sum(tx_count)::bigint                  AS tx_count,
       sum(amount_minor_sum)::bigint          AS amount_minor_sum,
       min(amount_minor_min)                  AS amount_minor_min,
       max(amount_minor_max)                  AS amount_minor_max,
       sum(approved_amount_minor_sum)::bigint AS approved_amount_minor_sum,
       sum(approved)::bigint                  AS approved,
       sum(declined)::bigint                  AS declined,
       sum(failed)::bigint                    AS failed,
       sum(flagged)::bigint                   AS flagged,
       sum(late)::bigint                      AS late,
       round(sum(score_sum)::numeric / nullif(sum(tx_count), 0), 2) AS mean_score,
       count(DISTINCT shard)::int             AS shards,
       sum(score_sum)::bigint                 AS score_sum
FROM (SELECT dimension, key, window_start, shard, tx_count, amount_minor_sum,
             amount_minor_min, amount_minor_max, approved_amount_minor_sum, approved,
             declined, failed, flagged, late, score_sum
        FROM txw_data.windows_daily
      UNION ALL
      SELECT dimension, key, date_trunc('day', window_start, 'UTC'), shard, tx_count,
             amount_minor_sum, CASE WHEN tx_count > 0 THEN amount_minor_min END,
             CASE WHEN tx_count > 0 THEN amount_minor_max END, approved_amount_minor_sum,
             approved, declined, failed, flagged, late, score_sum
        FROM txw_data.windows WHERE NOT closed) r
GROUP BY dimension, key, window_start;

-- --- Grants (012's rule) -----------------------------------------------------------
-- The new windows table: what 012 granted on the old one.
GRANT SELECT, INSERT, UPDATE ON txw_data.windows TO txw_store;
GRANT SELECT ON txw_data.windows TO txw_push;
GRANT SELECT ON txw.window_totals_hourly, txw.window_totals_daily TO txw_api, txw_read;
-- The rollup tables: owner only (the trigger writes them with its rights;
-- everyone else reads the views). The trigger function cannot be called.
