-- 019_partition_alerts: alerts by month and dead letters by day, so retention drops them
--
-- txw-maint keeps alerts 730 days and dead letters 30 (--keep-alerts-days,
-- --keep-dead-letters-days) and removes data only by dropping whole
-- partitions (015): until now these two tables were not partitioned and
-- were kept whole. Both become partitioned by a time range, their rows
-- moved over with their ids, indexes, views and grants as before.
--
-- Alerts: by month of ts, the event time (a fraud alert's is its
-- transaction's, a region health alert's its window's start). A month
-- fits two years of alerts (25 partitions) and the API's lookups by
-- alert_id or key alone. A partitioned table's unique keys must hold its
-- partition key, so alerts are unique by (dedupe_key, ts) and the
-- aggregator inserts ON CONFLICT (dedupe_key, ts) DO NOTHING: as unique as
-- before, because the key fixes ts (fraud:<tx_id> is one transaction,
-- region_health:<region>:<window start ms> holds its ts). raised_at would
-- not do: it is the scorer's clock, and a transaction scored again after a
-- restart raises its alert again at another time.
--
-- Dead letters: by UTC day of received_at, so 30 days are kept to within a
-- day (a month partition would keep them up to two months). received_at
-- is the clock of whoever found the record (producer, validator or
-- aggregator), so a record sent again may arrive on another day, and no
-- column of a dead letter is both a time and the same every time: the two
-- rules of 001 and 009 (one dead letter per origin and reason, one per
-- file line) cannot be unique indexes any more. A trigger keeps them
-- instead, over every partition (below). A dead letter sent again after
-- its first copy was dropped (30 days on) is stored again: retention
-- forgot it.
--
-- No DEFAULT partition: txw_data.drop_expired_partitions never drops one
-- (its rows are not all old), and a partition cannot be made for a range
-- a DEFAULT partition already holds rows of. Instead the writers make the
-- partition of every month or day they are about to write, in the same
-- round trip, through txw_data.ensure_event_partition (the aggregator's
-- alert insert, and the dead-letter insert of common/deadletter.h that the
-- validator and the aggregator share).

-- --- Making the partitions -------------------------------------------------------
-- The partition of tbl ('alerts': a UTC month; 'dead_letters': a UTC day)
-- holding t, made when missing. Like ensure_partition it runs with the
-- owner's rights (only the owner may make a partition) on a fixed search
-- path, and in UTC (the bounds are read back as text by
-- drop_expired_partitions). Two sessions making the same partition: the
-- second waits for the first's lock of the table, then finds the name
-- taken, and goes on. Before dead letters are stored this takes the lock
-- of the dead-letter trigger (below), before the insert takes its lock of
-- the table: a writer waiting for that lock then holds no lock of the
-- table, so one that holds it and makes a partition never waits for it.
CREATE FUNCTION txw_data.ensure_event_partition (tbl text, t timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC' AS $$
DECLARE
    unit text := CASE tbl WHEN 'alerts' THEN 'month' WHEN 'dead_letters' THEN 'day' END;
    first timestamptz;
    name text;
BEGIN
    IF unit IS NULL OR t IS NULL OR NOT isfinite (t) THEN
        RAISE EXCEPTION 'ensure_event_partition: alerts or dead_letters and a finite time are needed (got %, %)',
            tbl, t USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF tbl = 'dead_letters' THEN
        PERFORM pg_advisory_xact_lock (7243019, 0);
    END IF;
    first := date_trunc (unit, t);
    name := tbl || '_' || to_char (first, CASE unit WHEN 'month' THEN 'YYYYMM' ELSE 'YYYYMMDD' END);
    IF to_regclass (format ('txw_data.%I', name)) IS NOT NULL THEN
        RETURN;
    END IF;
    BEGIN
        EXECUTE format ('CREATE TABLE txw_data.%I PARTITION OF txw_data.%I FOR VALUES FROM (%L) TO (%L)',
                        name, tbl, first, first + ('1 ' || unit)::interval);
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
        NULL;       -- made meanwhile by another session
    END;
END $$;

REVOKE EXECUTE ON FUNCTION txw_data.ensure_event_partition (text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION txw_data.ensure_event_partition (text, timestamptz) TO txw_store, txw_ingest;

-- --- Alerts ---------------------------------------------------------------------------
ALTER TABLE txw_data.alerts RENAME TO alerts_unpartitioned;
ALTER INDEX txw_data.alerts_pkey RENAME TO alerts_unpartitioned_pkey;
ALTER INDEX txw_data.alerts_dedupe_key_key RENAME TO alerts_unpartitioned_dedupe_key_key;
ALTER INDEX txw_data.alerts_raised RENAME TO alerts_unpartitioned_raised;
ALTER INDEX txw_data.alerts_kind_raised RENAME TO alerts_unpartitioned_kind_raised;
ALTER INDEX txw_data.alerts_acked RENAME TO alerts_unpartitioned_acked;

-- The columns in their order (001, 011), their defaults (alert_id's
-- sequence, which keeps counting) and 011's check of the disposition.
CREATE TABLE txw_data.alerts (
    LIKE txw_data.alerts_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (alert_id, ts),
    UNIQUE (dedupe_key, ts)
) PARTITION BY RANGE (ts);
ALTER SEQUENCE txw_data.alerts_alert_id_seq OWNED BY txw_data.alerts.alert_id;

CREATE INDEX alerts_raised ON txw_data.alerts (raised_at);
CREATE INDEX alerts_kind_raised ON txw_data.alerts (kind, raised_at);
CREATE INDEX alerts_acked ON txw_data.alerts (acked_at) WHERE acked_at IS NOT NULL;
-- Acks, reopens and the API's lookups by key alone use the unique index of
-- (dedupe_key, ts), and those by alert_id the primary key's: one probe in
-- each partition.

SELECT txw_data.ensure_event_partition ('alerts', m)
  FROM (SELECT DISTINCT date_trunc ('month', ts, 'UTC') AS m FROM txw_data.alerts_unpartitioned) months
 ORDER BY m;
INSERT INTO txw_data.alerts SELECT * FROM txw_data.alerts_unpartitioned;

-- The view read the old table: 011's text now reads the new one.
CREATE OR REPLACE VIEW txw.alerts AS
SELECT alert_id, kind, tx_id, ts, account_id, score, reasons, amount_minor,
       currency, amount_rep_minor, merchant_id, country, channel, region,
       message, model_version, raised_at,
       CASE WHEN acked_at IS NULL THEN 'open' ELSE 'acked' END AS status,
       acked_at, acked_by, dedupe_key AS key, disposition, note
FROM txw_data.alerts;

DROP TABLE txw_data.alerts_unpartitioned;

-- --- Dead letters ---------------------------------------------------------------------
ALTER TABLE txw_data.dead_letters RENAME TO dead_letters_unpartitioned;
ALTER TABLE txw_data.dead_letters_unpartitioned
    RENAME CONSTRAINT dead_letters_pkey TO dead_letters_unpartitioned_pkey;
ALTER TABLE txw_data.dead_letters_unpartitioned
    RENAME CONSTRAINT dead_letters_origin_source_origin_seq_origin_index_reason_key
    TO dead_letters_unpartitioned_origin;
ALTER INDEX txw_data.dead_letters_reason RENAME TO dead_letters_unpartitioned_reason;
ALTER INDEX txw_data.dead_letters_file_row RENAME TO dead_letters_unpartitioned_file_row;

CREATE TABLE txw_data.dead_letters (
    LIKE txw_data.dead_letters_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
ALTER SEQUENCE txw_data.dead_letters_id_seq OWNED BY txw_data.dead_letters.id;

CREATE INDEX dead_letters_reason ON txw_data.dead_letters (reason, received_at);
-- What the trigger looks up: 001's and 009's unique keys, now plain
-- indexes of every partition.
CREATE INDEX dead_letters_origin ON txw_data.dead_letters
    (origin_source, origin_seq, origin_index, reason);
CREATE INDEX dead_letters_file_row ON txw_data.dead_letters
    (line_no, coalesce (tx_id, ''), reason, md5 (coalesce (payload, '')))
    WHERE line_no > 0;

-- A dead letter already stored under either rule, in any partition, is not
-- stored again: the row is skipped, as ON CONFLICT DO NOTHING skipped it
-- before. A row-level BEFORE trigger sees the rows its own statement
-- inserted before it, so a copy within one batch is skipped too. Two
-- writers storing the same dead letter at once (the rules cannot be unique
-- indexes, which would make the second wait) take turns: every insert of
-- a dead letter takes one lock until its transaction ends, so the second
-- looks after the first has committed (READ COMMITTED: each look sees
-- what committed before it). Dead letters are few, so the writers wait
-- briefly; they take it through ensure_event_partition, before the table's
-- lock (above).
-- It runs with the owner's rights: the writers may only insert.
CREATE FUNCTION txw_data.dead_letter_once () RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock (7243019, 0);
    IF EXISTS (SELECT 1 FROM txw_data.dead_letters d
                WHERE d.origin_source = NEW.origin_source AND d.origin_seq = NEW.origin_seq
                  AND d.origin_index = NEW.origin_index AND d.reason = NEW.reason)
    OR (NEW.line_no > 0
        AND EXISTS (SELECT 1 FROM txw_data.dead_letters d
                     WHERE d.line_no = NEW.line_no
                       AND coalesce (d.tx_id, '') = coalesce (NEW.tx_id, '')
                       AND d.reason = NEW.reason
                       AND md5 (coalesce (d.payload, '')) = md5 (coalesce (NEW.payload, ''))
                       AND d.line_no > 0)) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;

REVOKE EXECUTE ON FUNCTION txw_data.dead_letter_once () FROM PUBLIC;

-- The stored rows go over before the trigger exists: they are unique by
-- both rules already (001, 009).
SELECT txw_data.ensure_event_partition ('dead_letters', d)
  FROM (SELECT DISTINCT date_trunc ('day', received_at, 'UTC') AS d
          FROM txw_data.dead_letters_unpartitioned) days
 ORDER BY d;
INSERT INTO txw_data.dead_letters SELECT * FROM txw_data.dead_letters_unpartitioned;

CREATE TRIGGER dead_letter_once BEFORE INSERT ON txw_data.dead_letters
    FOR EACH ROW EXECUTE FUNCTION txw_data.dead_letter_once ();

-- The view read the old table: 001's text now reads the new one.
CREATE OR REPLACE VIEW txw.dead_letters AS
SELECT id, received_at, reason, field, message, tx_id, line_no,
       origin_source, payload
FROM txw_data.dead_letters;

DROP TABLE txw_data.dead_letters_unpartitioned;

-- --- Grants (012's rule) -----------------------------------------------------------
-- What 012 granted on the old tables; the sequences and views keep theirs.
-- The aggregator's ON CONFLICT (dedupe_key, ts) reads ts too.
GRANT SELECT (dedupe_key, ts), INSERT ON txw_data.alerts TO txw_store;
GRANT SELECT, UPDATE (acked_at, acked_by, acked_key, disposition, note)
    ON txw_data.alerts TO txw_api;
GRANT SELECT ON txw_data.alerts TO txw_notify;
GRANT INSERT ON txw_data.dead_letters TO txw_store, txw_ingest;
