-- 015_maintenance: retention by whole partitions, and a record of every maintenance run
--
-- txw-maint (services/maint) removes expired data by detaching and dropping
-- whole partitions of the time-partitioned tables, never row by row, and
-- records each run in txw_data.maint_runs. It logs in as a member of the
-- group txw_maint, which may call the dropping function and write the run
-- record, and nothing else: it can neither delete rows nor drop a table
-- itself (proto/SQL.md, "Roles").
--
-- The group is made as 012 makes the others: only when missing (a DBA may
-- make it beforehand), and refused when it exists with rights a service
-- must not inherit.
DO $$
DECLARE
    grp text := 'txw_maint';
    r pg_roles;
BEGIN
    SELECT * INTO r FROM pg_roles WHERE rolname = grp;
    IF NOT FOUND THEN
        BEGIN
            EXECUTE format ('CREATE ROLE %I NOLOGIN', grp);
        EXCEPTION
            -- Made meanwhile by the migration of another database of
            -- this cluster (the advisory lock is per database).
            WHEN duplicate_object OR unique_violation THEN
                NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                    MESSAGE = format ('cannot create the group role %s: %s may not create roles', grp,
                                      current_user)
                           || ' (give it CREATEROLE, or have a DBA create the group: proto/SQL.md, "Roles")',
                    HINT = 'Give the owner CREATEROLE, or have a DBA run CREATE ROLE ' || grp
                              || ' NOLOGIN; then migrate again (proto/SQL.md, "Roles").';
        END;
    ELSIF r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb
       OR r.rolreplication OR r.rolbypassrls THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format ('the role %s exists but is not a plain NOLOGIN group role', grp)
                   || ' (a DBA must make it NOLOGIN without other attributes)',
            HINT = 'ALTER ROLE ' || grp || ' NOLOGIN NOSUPERUSER NOCREATEROLE'
                      || ' NOCREATEDB NOREPLICATION NOBYPASSRLS, then migrate again.';
    END IF;

    BEGIN
        EXECUTE format ('GRANT CONNECT ON DATABASE %I TO %I', current_database (), grp);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'CONNECT on database % stays as it is: % does not own it',
            current_database (), current_user;
    END;
END $$;

GRANT USAGE ON SCHEMA txw_data TO txw_maint;

-- Every run of a txw-maint task, one row written when it ends: what it did
-- (detail: the cutoff of each table and the partitions dropped) or why it
-- failed. Written by txw-maint only; dashboards and BI tools read it.
CREATE TABLE txw_data.maint_runs (
    run_id      bigserial   PRIMARY KEY,
    task        text        NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('ok', 'failed')),
    detail      jsonb       NOT NULL DEFAULT '{}',
    CHECK (finished_at >= started_at)
);

CREATE INDEX maint_runs_task_started ON txw_data.maint_runs (task, started_at);

GRANT INSERT ON txw_data.maint_runs TO txw_maint;
GRANT USAGE ON SEQUENCE txw_data.maint_runs_run_id_seq TO txw_maint;
GRANT SELECT ON txw_data.maint_runs TO txw_read;

-- Detaches and drops every partition of txw_data.<tbl> that holds only
-- times before cutoff: its upper bound is at or before it. Only a table of
-- txw_data partitioned by RANGE on one timestamptz column qualifies, so
-- nothing else can be dropped through it; a DEFAULT partition, and one
-- bounded by MINVALUE or MAXVALUE, is never dropped (its rows are not all
-- old). A cutoff after the database's clock is refused: it would drop the
-- partitions being written. All the table's expired partitions go in the
-- caller's transaction, or none. Returns what it dropped. A day of window
-- rows that still holds an open window is kept (see below).
--
-- Dropping a partition takes the ACCESS EXCLUSIVE lock of the partitioned
-- table for a moment; the function waits for it at most lock_timeout (the
-- writers' flushes are short), then fails, and the next run tries again
-- rather than queueing every reader and writer behind it.
--
-- It runs with its owner's rights (only the owner of a table may drop its
-- partitions) on a fixed search path and in UTC (the bounds are read back
-- as text, so they must read as they were written), and only txw_maint
-- may call it: the maintenance login can drop expired partitions and
-- nothing else, and cannot delete a row.
CREATE FUNCTION txw_data.drop_expired_partitions (tbl text, cutoff timestamptz)
RETURNS TABLE (partition_name text, range_start timestamptz, range_end timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
SET lock_timeout = '10s' AS $$
DECLARE
    parent oid;
    key_type oid;
    part record;
    bounds text [];
    open_rows boolean;
BEGIN
    IF tbl IS NULL OR cutoff IS NULL OR NOT isfinite (cutoff) THEN
        RAISE EXCEPTION 'drop_expired_partitions: the table and a finite cutoff are needed'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cutoff > now () THEN
        RAISE EXCEPTION 'drop_expired_partitions: the cutoff % is after the database''s clock (%)',
            cutoff, now () USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c.oid, a.atttypid INTO parent, key_type
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_partitioned_table p ON p.partrelid = c.oid
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs [0]
     WHERE n.nspname = 'txw_data' AND c.relname = tbl AND c.relkind = 'p'
       AND p.partstrat = 'r' AND p.partnatts = 1;
    IF parent IS NULL OR key_type <> 'timestamptz'::regtype THEN
        RAISE EXCEPTION 'drop_expired_partitions: % is not a table of txw_data partitioned by a time range', tbl
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR part IN
        SELECT c.relname, pg_get_expr (c.relpartbound, c.oid) AS bound
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = parent
         ORDER BY c.relname
    LOOP
        bounds := regexp_match (part.bound, '^FOR VALUES FROM \(''([^'']+)''\) TO \(''([^'']+)''\)$');
        CONTINUE WHEN bounds IS NULL OR bounds [2]::timestamptz > cutoff;
        -- The rollups hold closed windows only (016): a day of window rows
        -- with one still open (a stream that stopped before its watermark
        -- passed the window) is history nothing else holds, so it stays
        -- until it closes. Writers wait while this looks, so no open row
        -- can arrive between the look and the drop.
        IF tbl = 'windows' THEN
            LOCK TABLE txw_data.windows IN SHARE ROW EXCLUSIVE MODE;
            EXECUTE format ('SELECT EXISTS (SELECT 1 FROM txw_data.%I WHERE NOT closed)',
                            part.relname) INTO open_rows;
            IF open_rows THEN
                RAISE WARNING 'drop_expired_partitions: kept txw_data.%: it holds windows not yet closed, which the rollups do not hold',
                    part.relname;
                CONTINUE;
            END IF;
        END IF;
        EXECUTE format ('ALTER TABLE txw_data.%I DETACH PARTITION txw_data.%I', tbl, part.relname);
        EXECUTE format ('DROP TABLE txw_data.%I', part.relname);
        partition_name := part.relname;
        range_start := bounds [1]::timestamptz;
        range_end := bounds [2]::timestamptz;
        RETURN NEXT;
    END LOOP;
END $$;

REVOKE EXECUTE ON FUNCTION txw_data.drop_expired_partitions (text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION txw_data.drop_expired_partitions (text, timestamptz) TO txw_maint;
