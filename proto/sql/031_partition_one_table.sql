-- 031_partition_one_table: a day's partitions are made one table a transaction
--
-- txw_data.ensure_partition(day) makes a new day's partitions of four
-- tables (transactions, windows and the month's hourly and daily
-- rollups) in one transaction, and the aggregator called it inside its
-- flush. CREATE TABLE ... PARTITION OF takes an ACCESS EXCLUSIVE lock on
-- the partitioned table and keeps it until the transaction ends, so the
-- flush held that lock on `transactions` while it waited for the same
-- lock on `windows`. A backup's pg_dump takes ACCESS SHARE on every
-- table, one after another, and keeps them: holding `windows` and
-- waiting for `transactions`, it closed the circle, and PostgreSQL ended
-- one of the two with "deadlock detected" (seen: the backup failed while
-- the pipeline met a new day).
--
-- The aggregator now makes each table's partition in a transaction of its
-- own (ensure_partition(day, tbl) below, called statement by statement
-- outside the flush's transaction), so it never waits for one table's
-- lock while it holds another's; a wait is at most the lock_timeout of 029
-- and then the flush is tried again later, as before. A partition made
-- for a flush that then fails stays: it is empty, and the retry needs it.
-- ensure_partition(day) stays for what still calls it (one caller making
-- every table of a day, outside any other work).

CREATE FUNCTION txw_data.ensure_partition(day date, tbl text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET lock_timeout = '3s' AS $$
DECLARE
    month date := date_trunc('month', day)::date;
    -- partition|from|to|fillfactor, as 016's ensure_partition(day)
    spec text := CASE tbl
        WHEN 'transactions' THEN format('transactions_%s|%s|%s|100', to_char(day, 'YYYYMMDD'), day, day + 1)
        WHEN 'windows' THEN format('windows_%s|%s|%s|70', to_char(day, 'YYYYMMDD'), day, day + 1)
        WHEN 'windows_hourly' THEN format('windows_hourly_%s|%s|%s|50', to_char(month, 'YYYYMM'), month,
                                          (month + interval '1 month')::date)
        WHEN 'windows_daily' THEN format('windows_daily_%s|%s|%s|50', to_char(month, 'YYYYMM'), month,
                                         (month + interval '1 month')::date)
        END;
    f text [];
BEGIN
    IF spec IS NULL THEN
        RAISE EXCEPTION 'ensure_partition: % is not a table partitioned by day or month', tbl
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    f := string_to_array(spec, '|');
    IF to_regclass(format('txw_data.%I', f [1])) IS NOT NULL THEN
        RETURN;
    END IF;
    -- Two shards may meet the same new day at once (016's lock).
    PERFORM pg_advisory_xact_lock(7243002, 0);
    IF to_regclass(format('txw_data.%I', f [1])) IS NULL THEN
        EXECUTE format('CREATE TABLE txw_data.%I PARTITION OF txw_data.%I '
                       'FOR VALUES FROM (%L) TO (%L) WITH (fillfactor = %s)', f [1], tbl,
                       f [2]::date::timestamp AT TIME ZONE 'UTC',
                       f [3]::date::timestamp AT TIME ZONE 'UTC', f [4]::int);
    END IF;
END $$;

-- --- Grants (012's rule) -------------------------------------------------------------
REVOKE EXECUTE ON FUNCTION txw_data.ensure_partition (date, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION txw_data.ensure_partition (date, text) TO txw_store;
