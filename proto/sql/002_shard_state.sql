-- 002_shard_state: what a consumer shard must know besides its checkpoints
--
-- The largest event time an aggregator shard has applied, committed with
-- the data, so a restarted shard's watermark (and so which events are
-- late) is exactly where it was.
CREATE TABLE txw_data.shard_state (
    consumer        text        PRIMARY KEY,
    max_event_ms    bigint      NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
