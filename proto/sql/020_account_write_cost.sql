-- 020_account_write_cost: cheaper per-account and per-month upserts
--
-- Every flush upserts one row per account it saw into txw_data.accounts
-- and one per account and month into txw_data.account_months (017), in
-- the transaction of its checkpoint. With many accounts these upserts are
-- a large share of the aggregator's flush time, and the aggregator waits
-- for its flushes.
--
-- An update that changes no indexed column and finds room on its row's
-- page is a HOT update: no index entry is written, only the row. Neither
-- table changes its key, but:
--   - accounts_approved (003) indexed approved_rep_minor, which nearly
--     every update changes, so no update of an account could be HOT and
--     each wrote two index entries. Nothing reads it: the API looks an
--     account up by its id, and the ranked customer lists read the scores
--     of the last refresh (txw_data.customer_rfm, indexed by 017's
--     refresh). So it goes.
--   - at fillfactor 100 a page is full once written, so an update of a
--     row on it moves the row to another page (and indexes it again);
--     leaving a fifth of each page free keeps most updates on their page.
-- (A fillfactor applies to pages written from now on.)
-- Measured with tests/bench/bench.sh (README.md, "Speed").

DROP INDEX txw_data.accounts_approved;
ALTER TABLE txw_data.accounts SET (fillfactor = 80);
ALTER TABLE txw_data.account_months SET (fillfactor = 80);
