-- 003_serving: what the query API and the dashboard read besides windows
--
-- Customer analytics: one row per account, kept incrementally by the
-- aggregator shard that owns the account (each flush adds its deltas in the
-- same transaction as its checkpoints, so a replayed message is never added
-- twice).
CREATE TABLE txw_data.accounts (
    account_id          text        PRIMARY KEY,
    tx_count            bigint      NOT NULL,
    spend_rep_minor     bigint      NOT NULL,   -- every transaction
    approved_rep_minor  bigint      NOT NULL,   -- approved only: lifetime value
    approved            bigint      NOT NULL,
    declined            bigint      NOT NULL,
    failed              bigint      NOT NULL,
    flagged             bigint      NOT NULL,
    score_sum           bigint      NOT NULL,
    max_score           smallint    NOT NULL,
    first_seen          timestamptz NOT NULL,
    last_seen           timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX accounts_approved ON txw_data.accounts (approved_rep_minor DESC);

-- The API's window reads are "one dimension, recent windows".
CREATE INDEX windows_dimension_start ON txw_data.windows (dimension, window_start);
CREATE INDEX alerts_kind_raised ON txw_data.alerts (kind, raised_at);
CREATE INDEX transactions_ts ON txw_data.transactions (ts);

CREATE VIEW txw.accounts AS
SELECT account_id, tx_count, spend_rep_minor,
       approved_rep_minor AS lifetime_value_rep_minor,
       approved, declined, failed, flagged,
       round(score_sum::numeric / nullif(tx_count, 0), 2) AS mean_score,
       max_score, first_seen, last_seen
FROM txw_data.accounts;

-- Alerts gain their stable key: fraud:<tx_id> or region_health:<region>:<window start ms>.
CREATE OR REPLACE VIEW txw.alerts AS
SELECT alert_id, kind, tx_id, ts, account_id, score, reasons, amount_minor,
       currency, amount_rep_minor, merchant_id, country, channel, region,
       message, model_version, raised_at,
       CASE WHEN acked_at IS NULL THEN 'open' ELSE 'acked' END AS status,
       acked_at, acked_by, dedupe_key AS key
FROM txw_data.alerts;
