-- 004_scorer_state: each scorer shard's per-account history, checkpointed
--
-- A restarted scorer reads its shard's rows back, so its features (an
-- account's usual amount, pace, countries, devices) resume where they were.
-- state is the shard's in-memory record of the account (services/scorer/
-- profiles.h), tagged with its layout version; a scorer ignores rows of
-- another layout. Rows are keyed by the account's 64-bit hash: no account
-- id is stored here.
CREATE TABLE txw_data.scorer_state (
    consumer        text        NOT NULL,   -- scorer-<shard>
    account_hash    bigint      NOT NULL,
    layout          int         NOT NULL,
    state           bytea       NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, account_hash)
);

CREATE INDEX scorer_state_updated ON txw_data.scorer_state (consumer, updated_at);
