-- 028_stored_order: the order transactions were stored in, which by account is the scorer's
--
-- The scorer judges an account's transactions in the order they reach it;
-- txw-rescore replays them in that order to score them again exactly
-- (ARCHITECTURE.md, "Rescoring and retraining"). Event time does not give
-- it: several transactions of one account can share a millisecond (an
-- order's line items, a burst at 10,000 a second, whose tx_ids then sort
-- as text: 'T5-10' before 'T5-9'), and one can arrive after a later one (a
-- late event, a file). stored_seq does: each row the aggregator writes
-- takes the next number of one sequence as it is written, in the order the
-- aggregator received them (COPY numbers its rows in order; a flush retried
-- numbers them again, after every earlier flush's). An account's
-- transactions come from its one scorer shard, in the order it scored
-- them, down one connection to its one aggregator shard, so by account
-- stored_seq is the scorer's order. Across accounts and shards it is only
-- roughly time order. Rows stored before this migration have none (NULL):
-- they sort first, by (ts, tx_id) as before.
--
-- Adding the column is instant (no default for the rows already there);
-- the default, set afterwards, numbers only new rows.
CREATE SEQUENCE txw_data.transactions_stored_seq AS bigint;
ALTER TABLE txw_data.transactions ADD COLUMN stored_seq bigint;
ALTER TABLE txw_data.transactions
    ALTER COLUMN stored_seq SET DEFAULT nextval ('txw_data.transactions_stored_seq');
ALTER SEQUENCE txw_data.transactions_stored_seq OWNED BY txw_data.transactions.stored_seq;

-- --- Grants (012's rule) -------------------------------------------------------------
-- The aggregator's inserts take the numbers.
GRANT USAGE ON SEQUENCE txw_data.transactions_stored_seq TO txw_store;
