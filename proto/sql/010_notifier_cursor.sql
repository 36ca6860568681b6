-- 010_notifier_cursor: how far the webhook notifier has delivered the stored alerts
--
-- txw-notifier delivers live alerts as they are published, and reads
-- txw_data.alerts in id order after this cursor to deliver what it did not
-- hear live (it was down, restarting, or the PUB dropped). The cursor only
-- passes an alert once its deliveries are finished (delivered, or given up
-- by the retry policy), so an alert stored while the notifier was down is
-- sent after it restarts, once, with the same idempotency key.
CREATE TABLE txw_data.notifier_cursor (
    name        text        PRIMARY KEY,
    alert_id    bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
