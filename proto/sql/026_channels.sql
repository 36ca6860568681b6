-- 026_channels: how far the notifier has followed the alerts' changes
--
-- A PagerDuty incident the notifier triggered for an alert is resolved when
-- an analyst closes the alert (021: a txw_data.alert_events row with field
-- 'status' and new_value 'closed'). txw-notifier reads alert_events in
-- event_id order after this cursor, one row per --cursor-name as for the
-- alerts themselves (010), and the cursor passes an event only once the
-- resolves it caused are finished (delivered, or given up by the retry
-- policy): a close made while the notifier was down is resolved after it
-- restarts, with the same dedup_key.
CREATE TABLE txw_data.notifier_event_cursor (
    name        text        PRIMARY KEY,
    event_id    bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- --- Grants (012's rule) -----------------------------------------------------------
-- The notifier reads the events (and the alerts they belong to, 012) and
-- keeps its cursor.
GRANT SELECT (event_id, alert_id, ts, dedupe_key, field, new_value)
    ON txw_data.alert_events TO txw_notify;
GRANT SELECT, INSERT, UPDATE ON txw_data.notifier_event_cursor TO txw_notify;
