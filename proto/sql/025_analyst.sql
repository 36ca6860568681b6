-- 025_analyst: the analyst's workflow over the query API
--
-- txw-query (txw_api) changes an alert's status, assignee and disposition
-- (PATCH /api/v1/alerts/{id}, and ack and reopen as its shorthands) in one
-- statement that also writes, from the same rows:
--   * one txw_data.alert_events row per field changed (021), which the
--     notifier and the gateway follow by event_id;
--   * the alert's notes (txw_data.alert_notes);
--   * the disposition's label (txw_data.labels, source 'disposition') and
--     the account's stale mark (txw_data.stale_accounts, reason
--     'disposition'): the next rescoring and the next model see it;
--   * its audit row (txw_data.audit), as every change made through the API.
-- The gateway (txw_push) follows the status events to tell every dashboard
-- of a close or a reopening made anywhere.
--
-- Searching alerts (GET /api/v1/alerts) pages newest first by
-- (raised_at, alert_id): keyset paging, so a page never skips or repeats
-- an alert when new ones arrive. Each filter that narrows a search most
-- (an account, a merchant, an assignee, a status) has an index that starts
-- with it and then goes in that order, so a page reads about as many index
-- entries as it returns; the others (kind, region, severity, score) filter
-- the walk of (raised_at, alert_id). Alerts are few beside transactions,
-- so these indexes cost the aggregator's inserts little. (raised_at,
-- alert_id) replaces the index of raised_at alone (019), which it covers.

CREATE INDEX alerts_raised_id ON txw_data.alerts (raised_at, alert_id);
DROP INDEX txw_data.alerts_raised;
CREATE INDEX alerts_account_raised ON txw_data.alerts (account_id, raised_at, alert_id)
    WHERE account_id IS NOT NULL;
CREATE INDEX alerts_merchant_raised ON txw_data.alerts (merchant_id, raised_at, alert_id)
    WHERE merchant_id IS NOT NULL;
CREATE INDEX alerts_assignee_raised ON txw_data.alerts (assignee, raised_at, alert_id)
    WHERE assignee IS NOT NULL;
CREATE INDEX alerts_status_raised ON txw_data.alerts (status, raised_at, alert_id);

-- --- Grants (012's rule) -----------------------------------------------------------
-- The query API: the workflow's columns of the alerts, the notes it adds
-- and lists, the events and labels it writes, the stale marks it adds. A
-- label's upsert reads the row it conflicts with; txw.labels shows every
-- column to txw_api already (021).
GRANT UPDATE (status, assignee, updated_at) ON txw_data.alerts TO txw_api;
GRANT SELECT, INSERT ON txw_data.alert_notes TO txw_api;
GRANT USAGE ON SEQUENCE txw_data.alert_notes_note_id_seq TO txw_api;
GRANT INSERT ON txw_data.alert_events TO txw_api;
GRANT USAGE ON SEQUENCE txw_data.alert_events_event_id_seq TO txw_api;
GRANT SELECT, INSERT, UPDATE (label, detail, set_by, set_at) ON txw_data.labels TO txw_api;
GRANT INSERT ON txw_data.stale_accounts TO txw_api;
-- The gateway: the status events, by id.
GRANT SELECT (event_id, dedupe_key, field, new_value, actor, at)
    ON txw_data.alert_events TO txw_push;
