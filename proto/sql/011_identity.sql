-- 011_identity: API keys, the audit log, and what an analyst decided
--
-- An API key is "txw_<key_id>_<secret>": key_id (16 hex digits) finds the
-- row, and only the SHA-256 of the secret (32 random bytes) is stored. A
-- 256-bit random secret needs no slow password hash: nobody can enumerate
-- it, and a stolen table gives no usable key. A key is never deleted, only
-- revoked, so the audit rows that name it stay meaningful.
CREATE TABLE txw_data.api_keys (
    key_id       text        PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
    name         text        NOT NULL CHECK (length (name) BETWEEN 1 AND 64),
    role         text        NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    secret_hash  bytea       NOT NULL CHECK (length (secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL,
    revoked_at   timestamptz,
    revoked_by   text
);

-- Who did what, when and from where. Rows are only ever added: a trigger
-- refuses UPDATE, DELETE and TRUNCATE whoever asks, and the roles the
-- services use get INSERT and SELECT only (012_roles).
CREATE TABLE txw_data.audit (
    id         bigserial   PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    principal  text        NOT NULL,    -- key_id, or "database:<role>" for txwctl --database-url
    name       text        NOT NULL DEFAULT '',
    role       text        NOT NULL DEFAULT '',
    action     text        NOT NULL,
    target     text        NOT NULL DEFAULT '',
    client     text        NOT NULL DEFAULT '',
    detail     jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_at ON txw_data.audit (at);

CREATE FUNCTION txw_data.audit_is_append_only () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'txw_data.audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON txw_data.audit
    FOR EACH ROW EXECUTE FUNCTION txw_data.audit_is_append_only ();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON txw_data.audit
    FOR EACH STATEMENT EXECUTE FUNCTION txw_data.audit_is_append_only ();

-- An acknowledgement records the key that made it and the analyst's
-- decision; reopening clears them (the audit keeps the history).
ALTER TABLE txw_data.alerts
    ADD COLUMN disposition text CHECK (disposition IN
        ('confirmed_fraud', 'false_positive', 'suspicious', 'duplicate', 'not_actionable')),
    ADD COLUMN note        text,
    ADD COLUMN acked_key   text;

CREATE OR REPLACE VIEW txw.alerts AS
SELECT alert_id, kind, tx_id, ts, account_id, score, reasons, amount_minor,
       currency, amount_rep_minor, merchant_id, country, channel, region,
       message, model_version, raised_at,
       CASE WHEN acked_at IS NULL THEN 'open' ELSE 'acked' END AS status,
       acked_at, acked_by, dedupe_key AS key, disposition, note
FROM txw_data.alerts;
