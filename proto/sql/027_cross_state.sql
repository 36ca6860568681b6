-- 027_cross_state: each scorer shard's cross-account state, checkpointed
--
-- Like 004's per-account rows, for what the scorer keeps across accounts
-- (services/scorer/merchants.h): a merchant's pace, recent accounts and
-- fraud share (kind 1), the accounts seen on a device (kind 2), and the
-- last merchants of an account, to credit them when it later sees fraud
-- (kind 3). state is the in-memory record followed by the fingerprint of
-- the pseudonym key its hashes were made under; layout is the record's
-- version. Keys are keyed 64-bit hashes: no merchant, device or account id
-- is stored here.
CREATE TABLE txw_data.scorer_cross_state (
    consumer        text        NOT NULL,   -- scorer-<shard>
    kind            smallint    NOT NULL CHECK (kind BETWEEN 1 AND 3),
    key_hash        bigint      NOT NULL,
    layout          int         NOT NULL,
    state           bytea       NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, kind, key_hash)
);

CREATE INDEX scorer_cross_state_updated ON txw_data.scorer_cross_state (consumer, updated_at);

-- --- Grants (012's rule) -----------------------------------------------------------
-- The scorer writes and reads back its own rows, as for scorer_state.
GRANT SELECT, INSERT, UPDATE ON txw_data.scorer_cross_state TO txw_score;
