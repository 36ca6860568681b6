-- 024_rescoring: scores of stored transactions under later rules and models
--
-- txw-rescore (services/rescore) takes the accounts flagged in
-- txw_data.stale_accounts (021), replays each one's recent transactions
-- through the current rule set and model exactly as the scorer scores, and
-- stores the new scores here, beside the first ones (txw_data.transactions
-- keeps what the scorer said when the transaction arrived): one row per
-- transaction and scoring version (model_version as the scorer makes it,
-- "rules-3+if-20261122T2140"). Rescoring the same transaction again under
-- the same version replaces that row (the account's history may have
-- changed since); another version adds one. A transaction that becomes
-- suspicious (its new score at or above the alert threshold, its first one
-- below) gets its fraud alert then, under the scorer's key
-- (fraud:<tx_id>), so it never gets two.
--
-- It logs in as a member of the group txw_rescore: it reads stored
-- transactions, takes (deletes) stale flags, writes rescores and inserts
-- alerts, and nothing else.
SELECT txw_data.ensure_group ('txw_rescore');
DO $$
BEGIN
    EXECUTE format ('GRANT CONNECT ON DATABASE %I TO txw_rescore', current_database ());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'CONNECT on database % stays as it is: % does not own it',
        current_database (), current_user;
END $$;

-- By month of the transaction's event time, as alerts (019): txw-maint
-- drops a month once its transactions are gone (--keep-rescores-days).
CREATE TABLE txw_data.rescores (
    tx_id         text        NOT NULL,
    ts            timestamptz NOT NULL,           -- the transaction's event time
    account_id    text        NOT NULL,
    score         smallint    NOT NULL,
    reasons       text[]      NOT NULL DEFAULT '{}',
    model_version text        NOT NULL,
    rescored_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tx_id, ts, model_version)
) PARTITION BY RANGE (ts);
CREATE INDEX rescores_account ON txw_data.rescores (account_id, ts);
CREATE INDEX rescores_rescored_at ON txw_data.rescores (rescored_at);

-- The month of rescores holding t, made when missing, with the owner's
-- rights (only the owner may make a partition), in UTC (drop_expired_partitions
-- reads the bounds back as text). The job calls it for the months of a
-- batch before writing them; two runs making one month: the second finds
-- it made.
CREATE FUNCTION txw_data.ensure_rescore_partition (t timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC' AS $$
DECLARE
    month timestamptz := date_trunc ('month', t);
    name text := 'rescores_' || to_char (date_trunc ('month', t), 'YYYYMM');
BEGIN
    IF t IS NULL OR NOT isfinite (t) THEN
        RAISE EXCEPTION 'ensure_rescore_partition: a finite time is needed (got %)', t
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass (format ('txw_data.%I', name)) IS NOT NULL THEN
        RETURN;                 -- every batch but a new month's first
    END IF;
    EXECUTE format ('CREATE TABLE txw_data.%I PARTITION OF txw_data.rescores'
                    ' FOR VALUES FROM (%L) TO (%L)', name, month, month + interval '1 month');
EXCEPTION WHEN duplicate_table OR unique_violation THEN
    NULL;                       -- made meanwhile by another run
END $$;
REVOKE EXECUTE ON FUNCTION txw_data.ensure_rescore_partition (timestamptz) FROM PUBLIC;

-- The oldest flags are taken first.
CREATE INDEX stale_accounts_since ON txw_data.stale_accounts (since);

-- Each rescore beside the transaction's first score and version.
CREATE VIEW txw.rescores AS
SELECT r.tx_id, r.ts, r.account_id, r.score, r.reasons, r.model_version, r.rescored_at,
       t.score AS first_score, t.reasons AS first_reasons,
       t.model_version AS first_model_version
FROM txw_data.rescores r
LEFT JOIN txw_data.transactions t ON t.tx_id = r.tx_id AND t.ts = r.ts;

-- --- Grants (012's rule) -------------------------------------------------------------
GRANT USAGE ON SCHEMA txw_data TO txw_rescore;
GRANT SELECT ON txw_data.transactions TO txw_rescore;
-- Claiming flags: SELECT ... FOR UPDATE SKIP LOCKED (which needs UPDATE),
-- then DELETE in the same transaction.
GRANT SELECT, UPDATE (since), DELETE ON txw_data.stale_accounts TO txw_rescore;
GRANT SELECT, INSERT, UPDATE (score, reasons, rescored_at)
    ON txw_data.rescores TO txw_rescore;
GRANT SELECT (dedupe_key, ts), INSERT ON txw_data.alerts TO txw_rescore;
GRANT USAGE ON SEQUENCE txw_data.alerts_alert_id_seq TO txw_rescore;
GRANT EXECUTE ON FUNCTION txw_data.ensure_event_partition (text, timestamptz) TO txw_rescore;
GRANT EXECUTE ON FUNCTION txw_data.ensure_rescore_partition (timestamptz) TO txw_rescore;
GRANT SELECT ON txw.rescores TO txw_api, txw_read;
