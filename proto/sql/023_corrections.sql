-- 023_corrections: corrections of stored transactions (reversals, refunds, chargebacks)
--
-- A correction makes a stored, approved transaction reversed, refunded or
-- charged back. It travels the pipeline as a record of its own (the
-- correction of proto/WIRE.md) to the aggregator shard that counted the
-- original, which applies it in one flush, with its checkpoint:
--   * a row here, one per transaction (the primary key): a second
--     correction of the same transaction to the same status is a copy and
--     changes nothing; to another status it is refused (dead letter
--     already_corrected);
--   * the transaction's status in txw_data.transactions;
--   * approved - 1 and approved amount - amount_rep_minor in the window of
--     every dimension at the original's time (the window in memory, or the
--     stored row of a window already forgotten); the transaction still
--     happened, so its count, amount sums, extremes and score stay;
--   * the same in txw_data.accounts (approved, approved_rep_minor: the
--     lifetime value) and txw_data.account_months (the original's month);
--   * a chargeback is a fraud label (txw_data.labels, source 'chargeback');
--     a reversal or a refund says nothing of fraud and writes no label;
--   * the account is marked stale (txw_data.stale_accounts, reason
--     'correction'; the first mark's since is kept).
-- Every flush also marks the accounts of its new transactions stale
-- (reason 'transaction'), in the statement that adds their totals.

CREATE TABLE txw_data.tx_corrections (
    tx_id            text        PRIMARY KEY,
    ts               timestamptz NOT NULL,       -- the original's event time
    account_id       text        NOT NULL,
    previous_status  text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('reversed', 'refunded', 'charged_back')),
    amount_rep_minor bigint      NOT NULL,       -- what left the approved totals
    actor            text        NOT NULL,       -- who: an API key's name, an operator
    reason           text,
    corrected_at     timestamptz NOT NULL,       -- when it was made (its sender's clock)
    applied_at       timestamptz NOT NULL DEFAULT now(),
    shard            int         NOT NULL
);
CREATE INDEX tx_corrections_account ON txw_data.tx_corrections (account_id, ts);
CREATE INDEX tx_corrections_applied ON txw_data.tx_corrections (applied_at);

CREATE VIEW txw.tx_corrections AS
SELECT tx_id, ts, account_id, previous_status, status, amount_rep_minor, actor, reason,
       corrected_at, applied_at
FROM txw_data.tx_corrections;

-- --- Grants (012's rule) -------------------------------------------------------------
-- The aggregator reads the originals and the corrections made before,
-- writes the new ones with the status they set, the labels and the stale
-- marks (ON CONFLICT DO NOTHING without a target: INSERT alone).
GRANT SELECT, INSERT ON txw_data.tx_corrections TO txw_store;
GRANT UPDATE (status) ON txw_data.transactions TO txw_store;
GRANT INSERT ON txw_data.labels, txw_data.stale_accounts TO txw_store;
-- txw-ingest answers a PATCH from what was applied before.
GRANT SELECT ON txw_data.tx_corrections TO txw_post;
GRANT SELECT ON txw.tx_corrections TO txw_api, txw_read;
