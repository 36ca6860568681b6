-- 022_ingest: the journal of txw-ingest, the HTTP way in
--
-- txw-ingest answers 202 for a transaction only once its row is here
-- (committed, synchronously), and sends it into the pipeline after; the
-- row stays unacknowledged until an aggregator (or a validator, for a
-- dead letter) acknowledges it. The service is stateless and scales, so
-- the journal is shared: a row whose lease has passed without an
-- acknowledgement is claimed (FOR UPDATE SKIP LOCKED) and sent again by
-- whichever replica gets it first, so a replica killed after its 202
-- loses nothing. Sending again is harmless: the aggregator counts a
-- tx_id once (ARCHITECTURE.md, "Delivery and state").
--
-- A transaction and a correction of it (PATCH) are records of their own
-- kind under the same tx_id. (tx_id, kind) is also the idempotency key:
-- content_hash is the hash of the row's canonical content
-- (services/ingest/body.h: each field by name, not the bytes of the
-- body), so the same row posted again gets the same answer and is not
-- sent twice, and another row under a taken id gets 409. The promise holds while the row is here: txw-ingest deletes
-- acknowledged rows older than its --idempotency-horizon-h (7 days by
-- default); a row never acknowledged is never deleted.
--
-- The group txw_post (021) is txw-ingest's: this journal, the API keys it
-- checks (SELECT only; the owner makes keys), and the few columns of a
-- stored transaction a correction (PATCH) names it by.

CREATE TABLE txw_data.ingest_journal (
    tx_id        text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('transaction', 'correction')),
    content_hash bytea       NOT NULL CHECK (length (content_hash) = 16),
    record       bytea       NOT NULL,          -- the raw_tx or correction record sent (proto/WIRE.md)
    received_at  timestamptz NOT NULL DEFAULT now(),
    lease_until  timestamptz NOT NULL,          -- sent again after this unless acknowledged
    sends        integer     NOT NULL DEFAULT 1,
    acked_at     timestamptz,
    PRIMARY KEY (tx_id, kind)
);
-- What is due to be sent again, and what the horizon deletes.
CREATE INDEX ingest_journal_due ON txw_data.ingest_journal (lease_until) WHERE acked_at IS NULL;
CREATE INDEX ingest_journal_acked ON txw_data.ingest_journal (acked_at) WHERE acked_at IS NOT NULL;

-- --- Grants (012's rule) -------------------------------------------------------------
DO $$
BEGIN
    EXECUTE format ('GRANT CONNECT ON DATABASE %I TO txw_post', current_database ());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'CONNECT on database % stays as it is: % does not own it',
        current_database (), current_user;
END $$;
GRANT USAGE ON SCHEMA txw_data TO txw_post;
GRANT SELECT, INSERT, UPDATE (lease_until, sends, acked_at), DELETE ON txw_data.ingest_journal TO txw_post;
GRANT SELECT (key_id, name, role, secret_hash, revoked_at) ON txw_data.api_keys TO txw_post;
GRANT SELECT (tx_id, ts, account_id, status) ON txw_data.transactions TO txw_post;
GRANT SELECT ON txw_data.schema_migrations TO txw_post;
