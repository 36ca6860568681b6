-- 001_core: storage tables (schema txw_data) and the stable views (schema txw)
--
-- txw_data holds what the services write; its layout may change between
-- releases. txw holds the views that dashboards, BI tools and the query API
-- read: their columns are a stable interface (proto/SQL.md documents them).

CREATE SCHEMA IF NOT EXISTS txw;

-- Scored transactions, partitioned by event day. The aggregator creates a
-- day's partition the first time it sees the day (txw_data.ensure_partition).
CREATE TABLE txw_data.transactions (
    tx_id            text        NOT NULL,
    ts               timestamptz NOT NULL,
    account_id       text        NOT NULL,
    amount_minor     bigint      NOT NULL,
    currency         char(3)     NOT NULL,
    amount_rep_minor bigint      NOT NULL,
    merchant_id      text        NOT NULL,
    category         text        NOT NULL,
    channel          text        NOT NULL,
    branch_id        text        NOT NULL,
    region           text        NOT NULL,
    country          char(2)     NOT NULL,
    device_id        text        NOT NULL,
    product_id       text,
    status           text        NOT NULL,
    score            smallint    NOT NULL,
    reasons          text[]      NOT NULL DEFAULT '{}',
    model_version    text        NOT NULL DEFAULT '',
    shard            int         NOT NULL,
    stored_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tx_id, ts)
) PARTITION BY RANGE (ts);

CREATE INDEX transactions_account_ts ON txw_data.transactions (account_id, ts);

CREATE FUNCTION txw_data.ensure_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    name text := format('transactions_%s', to_char(day, 'YYYYMMDD'));
BEGIN
    -- Two shards may meet the same new day at once: serialise on the day.
    PERFORM pg_advisory_xact_lock(7243002, (day - date '2000-01-01'));
    IF to_regclass(format('txw_data.%I', name)) IS NULL THEN
        EXECUTE format('CREATE TABLE txw_data.%I PARTITION OF txw_data.transactions '
                       'FOR VALUES FROM (%L) TO (%L)', name,
                       day::timestamp AT TIME ZONE 'UTC',
                       (day + 1)::timestamp AT TIME ZONE 'UTC');
    END IF;
END $$;

-- Window aggregates: one row per (dimension, key, window start, shard),
-- always written whole (upsert of the full state), so writing it again
-- changes nothing.
CREATE TABLE txw_data.windows (
    dimension           text        NOT NULL,
    key                 text        NOT NULL,
    window_start        timestamptz NOT NULL,
    shard               int         NOT NULL,
    window_ms           int         NOT NULL,
    tx_count            bigint      NOT NULL,
    amount_minor_sum    bigint      NOT NULL,
    amount_minor_min    bigint      NOT NULL,
    amount_minor_max    bigint      NOT NULL,
    approved_amount_minor_sum bigint NOT NULL,
    approved            bigint      NOT NULL,
    declined            bigint      NOT NULL,
    failed              bigint      NOT NULL,
    flagged             bigint      NOT NULL,
    score_sum           bigint      NOT NULL,
    late                bigint      NOT NULL,
    closed              boolean     NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dimension, key, window_start, shard)
);

CREATE INDEX windows_start ON txw_data.windows (window_start);

CREATE TABLE txw_data.alerts (
    alert_id         bigserial   PRIMARY KEY,
    dedupe_key       text        NOT NULL UNIQUE,
    kind             text        NOT NULL,
    tx_id            text,
    ts               timestamptz NOT NULL,
    account_id       text,
    score            smallint    NOT NULL,
    reasons          text[]      NOT NULL DEFAULT '{}',
    amount_minor     bigint,
    currency         char(3),
    amount_rep_minor bigint,
    merchant_id      text,
    country          char(2),
    channel          text,
    region           text,
    message          text        NOT NULL DEFAULT '',
    model_version    text        NOT NULL DEFAULT '',
    raised_at        timestamptz NOT NULL,
    stored_at        timestamptz NOT NULL DEFAULT now(),
    acked_at         timestamptz,
    acked_by         text
);

CREATE INDEX alerts_raised ON txw_data.alerts (raised_at);

CREATE TABLE txw_data.dead_letters (
    id              bigserial   PRIMARY KEY,
    origin_source   text        NOT NULL,
    origin_seq      bigint      NOT NULL,
    origin_index    int         NOT NULL,
    line_no         bigint,
    tx_id           text,
    reason          text        NOT NULL,
    field           text,
    message         text        NOT NULL,
    payload         text        NOT NULL,
    received_at     timestamptz NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (origin_source, origin_seq, origin_index, reason)
);

CREATE INDEX dead_letters_reason ON txw_data.dead_letters (reason, received_at);

-- What each consumer has applied from each upstream source, committed in
-- the same transaction as the data it covers.
CREATE TABLE txw_data.checkpoints (
    consumer    text        NOT NULL,
    source      text        NOT NULL,
    epoch       bigint      NOT NULL,
    seq         bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, source)
);

-- --- The stable interface ------------------------------------------------

CREATE VIEW txw.window_totals AS
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
       count(*)::int                          AS shards
FROM txw_data.windows
GROUP BY dimension, key, window_start;

CREATE VIEW txw.transactions AS
SELECT tx_id, ts, account_id, amount_minor, currency, amount_rep_minor,
       merchant_id, category, channel, branch_id, region, country, device_id,
       product_id, status, score, reasons, model_version, stored_at
FROM txw_data.transactions;

CREATE VIEW txw.alerts AS
SELECT alert_id, kind, tx_id, ts, account_id, score, reasons, amount_minor,
       currency, amount_rep_minor, merchant_id, country, channel, region,
       message, model_version, raised_at,
       CASE WHEN acked_at IS NULL THEN 'open' ELSE 'acked' END AS status,
       acked_at, acked_by
FROM txw_data.alerts;

CREATE VIEW txw.dead_letters AS
SELECT id, received_at, reason, field, message, tx_id, line_no,
       origin_source, payload
FROM txw_data.dead_letters;
