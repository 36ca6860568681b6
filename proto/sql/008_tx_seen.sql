-- 008_tx_seen: the transactions each aggregator shard counted lately
--
-- A transaction sent again (a file ingested twice, rows in two files, a
-- producer re-sending) must change no total. Each shard keeps the keyed
-- hashes of the last --dedupe-capacity transactions it counted
-- (common/txset.h), written in the same database transaction as the
-- windows they changed, so a restarted shard knows them again. seq orders
-- them per shard; rows older than the capacity are deleted as it goes.
CREATE TABLE txw_data.tx_seen (
    shard   int    NOT NULL,
    seq     bigint NOT NULL,
    hash    bigint NOT NULL,
    PRIMARY KEY (shard, seq)
);

-- The hash key of each shard, made at random the first time.
CREATE TABLE txw_data.tx_seen_key (
    shard   int    PRIMARY KEY,
    k0      bigint NOT NULL,
    k1      bigint NOT NULL
);
