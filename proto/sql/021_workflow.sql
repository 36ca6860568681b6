-- 021_workflow: the analyst's workflow on alerts, labels, stale accounts
--
-- Shared by several services, so made once here:
--   * alerts get a severity (derived from score and reporting-currency
--     amount by txw_data.alert_severity, the same rule as
--     common/severity.c), a status (open, investigating, closed), an
--     assignee and the time of their last change; notes are rows of their
--     own, and every change of an alert is an event (alert_events) that
--     readers follow by id (the notifier resolves a PagerDuty incident
--     when its alert is closed);
--   * labels: what is known of a transaction's truth (an analyst's
--     disposition, a chargeback), with who set it and when; the supervised
--     model learns from them;
--   * stale accounts: an account whose history changed since it was last
--     rescored (a new transaction, a correction, a label, a disposition);
--     the rescoring job takes them and clears the flag.
-- Grants for the services that use these come with the migrations of
-- those services; this one grants only what exists already.

-- --- Group roles made by later migrations --------------------------------------
-- txw_data.ensure_group (grp) makes a NOLOGIN txwatch group role when it is
-- missing, as 012 made the first ones (a DBA may make it beforehand).
CREATE FUNCTION txw_data.ensure_group (grp text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF grp !~ '^txw_[a-z_]+$' THEN
        RAISE EXCEPTION 'ensure_group: % is not a txwatch group name', grp
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = grp) THEN
        RETURN;
    END IF;
    BEGIN
        EXECUTE format ('CREATE ROLE %I NOLOGIN', grp);
    EXCEPTION
        WHEN duplicate_object OR unique_violation THEN
            NULL;
        WHEN insufficient_privilege THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format ('cannot create the group role %s: %s may not create roles',
                                  grp, current_user),
                HINT = format ('Give the owner CREATEROLE, or have a DBA run CREATE ROLE %s NOLOGIN', grp);
    END;
END $$;
REVOKE EXECUTE ON FUNCTION txw_data.ensure_group (text) FROM PUBLIC;

-- txw_post: txw-ingest (transactions and corrections over HTTP);
-- txw_rescore: the rescoring job. Their grants come with their migrations.
SELECT txw_data.ensure_group ('txw_post');
SELECT txw_data.ensure_group ('txw_rescore');

-- --- Severity ------------------------------------------------------------------------
-- critical: score >= 90, or score >= 75 on 5,000.00 or more (reporting currency)
-- high:     score >= 75
-- medium:   score >= 50
-- low:      below. common/severity.c is the same rule; tests compare them.
CREATE FUNCTION txw_data.alert_severity (score int, amount_rep_minor bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN score >= 90 OR (score >= 75 AND coalesce (amount_rep_minor, 0) >= 500000) THEN 'critical'
        WHEN score >= 75 THEN 'high'
        WHEN score >= 50 THEN 'medium'
        ELSE 'low'
    END
$$;
-- The stored column is computed with the rights of whoever writes the row.
REVOKE EXECUTE ON FUNCTION txw_data.alert_severity (int, bigint) FROM PUBLIC;

-- --- Alerts --------------------------------------------------------------------------
-- An acknowledged alert was a closed one: it stays closed.
ALTER TABLE txw_data.alerts
    ADD COLUMN severity   text GENERATED ALWAYS AS (txw_data.alert_severity (score, amount_rep_minor)) STORED,
    ADD COLUMN status     text NOT NULL DEFAULT 'open'
                               CHECK (status IN ('open', 'investigating', 'closed')),
    ADD COLUMN assignee   text,
    ADD COLUMN updated_at timestamptz;
UPDATE txw_data.alerts SET status = 'closed', updated_at = acked_at WHERE acked_at IS NOT NULL;

-- An analyst's note on an alert. ts is the alert's (its partition key).
CREATE TABLE txw_data.alert_notes (
    note_id    bigserial   PRIMARY KEY,
    alert_id   bigint      NOT NULL,
    ts         timestamptz NOT NULL,
    author     text        NOT NULL,
    body       text        NOT NULL CHECK (length (body) BETWEEN 1 AND 4000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_notes_alert ON txw_data.alert_notes (alert_id, note_id);

-- Every change of an alert, in order: what changed (status, assignee,
-- disposition, note), from what to what, by whom. Readers follow event_id.
CREATE TABLE txw_data.alert_events (
    event_id   bigserial   PRIMARY KEY,
    alert_id   bigint      NOT NULL,
    ts         timestamptz NOT NULL,
    dedupe_key text        NOT NULL,
    field      text        NOT NULL CHECK (field IN ('status', 'assignee', 'disposition', 'note')),
    old_value  text,
    new_value  text,
    actor      text        NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_events_alert ON txw_data.alert_events (alert_id, event_id);

-- --- Labels --------------------------------------------------------------------------
-- One label per transaction and source: a later one of the same source
-- replaces it (an analyst changes a disposition), so the history of a
-- disposition is in alert_events and the audit log.
CREATE TABLE txw_data.labels (
    tx_id      text        NOT NULL,
    source     text        NOT NULL CHECK (source IN ('disposition', 'chargeback', 'correction')),
    ts         timestamptz NOT NULL,           -- the transaction's event time
    account_id text        NOT NULL,
    label      text        NOT NULL CHECK (label IN ('fraud', 'legit', 'duplicate', 'unknown')),
    detail     text,                            -- the disposition or correction it came from
    set_by     text        NOT NULL,
    set_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tx_id, source)
);
CREATE INDEX labels_set_at ON txw_data.labels (set_at);
CREATE INDEX labels_account ON txw_data.labels (account_id, ts);

-- --- Stale accounts ------------------------------------------------------------------
-- since: the first change not yet rescored; reason: what changed first.
CREATE TABLE txw_data.stale_accounts (
    account_id text        PRIMARY KEY,
    since      timestamptz NOT NULL DEFAULT now(),
    reason     text        NOT NULL CHECK (reason IN ('transaction', 'correction', 'label', 'disposition'))
);

-- --- Views ---------------------------------------------------------------------------
-- txw.alerts: status is now the workflow's (open, investigating, closed;
-- before: open or acked), with severity and assignee added.
CREATE OR REPLACE VIEW txw.alerts AS
SELECT alert_id, kind, tx_id, ts, account_id, score, reasons, amount_minor,
       currency, amount_rep_minor, merchant_id, country, channel, region,
       message, model_version, raised_at, status,
       acked_at, acked_by, dedupe_key AS key, disposition, note,
       severity, assignee, updated_at
FROM txw_data.alerts;

CREATE VIEW txw.labels AS
SELECT tx_id, source, ts, account_id, label, detail, set_by, set_at FROM txw_data.labels;

-- --- Grants (012's rule) -------------------------------------------------------------
GRANT SELECT ON txw.labels TO txw_api, txw_read;
GRANT EXECUTE ON FUNCTION txw_data.alert_severity (int, bigint) TO txw_store, txw_api, txw_rescore;
