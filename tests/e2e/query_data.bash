# query_data.bash - known data for the query API suite and benchmark (sourced;
# not named *.sh so that tests/run.sh does not take it for a suite)
#
# query_data_sql T0 NOW prints SQL that inserts windows, transactions,
# alerts, accounts and dead letters at fixed offsets from T0 (a whole
# minute, epoch seconds) and NOW (epoch seconds). tests/e2e/query.sh checks
# the API's answers against numbers worked out by hand from this data, so
# change both together.
query_data_sql() {
    local t0=$1 now=$2
    cat <<SQL
SELECT txw_data.ensure_partition(current_date);
SELECT txw_data.ensure_partition(current_date - 1);
SELECT txw_data.ensure_event_partition('alerts', to_timestamp($now) - d * interval '1 day'),
       txw_data.ensure_event_partition('dead_letters', to_timestamp($now) - d * interval '1 day')
  FROM generate_series(0, 2) d;
CREATE TEMP TABLE w (dimension text, key text, off_min int, shard int, n bigint, amount bigint,
                     approved bigint, declined bigint, failed bigint, flagged bigint,
                     score_sum bigint, closed boolean);
INSERT INTO w VALUES
  -- overall: two shards in T0-3m, one in T0-1m (open), one old window, one before the hour
  ('overall','all',  -3, 0, 10, 10000,  8, 1, 1, 1, 200, true),
  ('overall','all',  -3, 1,  5,  4000,  5, 0, 0, 0,  50, true),
  ('overall','all',  -1, 0, 20, 30000, 18, 2, 0, 2, 600, false),
  ('overall','all', -10, 0,100,1000000,100,0, 0, 0,1000, true),
  ('overall','all', -70, 0, 40, 40000, 40, 0, 0, 0, 400, true),
  -- merchants: m-A and m-C have a previous period, m-B does not, m-D only has one
  ('merchant','m-A', -3, 0, 12,  5000, 10, 2, 0, 1, 300, true),
  ('merchant','m-A',-70, 0,  6,  1000,  6, 0, 0, 0,  60, true),
  ('merchant','m-B', -1, 1, 20,  2000, 20, 0, 0, 0, 100, false),
  ('merchant','m-C',-10, 0,  2, 60000,  0, 2, 0, 2, 180, true),
  ('merchant','m-C',-10, 1,  1, 30000,  1, 0, 0, 0,  10, true),
  ('merchant','m-C',-70, 0,  4,  4000,  4, 0, 0, 0,  40, true),
  ('merchant','m-D',-70, 1,  9,  9000,  9, 0, 0, 0,  90, true),
  -- branches: b-1 over two windows and shards, b-2 smaller but larger volume, b-3 too old
  ('branch','b-1', -3, 0, 10,  7000,  9, 1, 0, 1, 200, true),
  ('branch','b-1', -1, 1, 10,  3000, 10, 0, 0, 0, 100, false),
  ('branch','b-2', -2, 0,  4, 20000,  2, 2, 0, 0,  40, true),
  ('branch','b-3',-90, 0,  5,  5000,  5, 0, 0, 0,  50, true),
  -- regions
  ('region','north', -3, 0,100, 90000, 95, 3, 2, 1, 900, true),
  ('region','south', -2, 0, 50, 40000, 40, 5, 5, 0, 500, true),
  ('region','east',  -2, 0, 10,  8000,  9, 1, 0, 0, 100, true),
  ('region','west',  -2, 1, 10,  9000, 10, 0, 0, 0, 100, true);
INSERT INTO txw_data.windows (dimension, key, window_start, shard, window_ms, tx_count,
    amount_minor_sum, amount_minor_min, amount_minor_max, approved_amount_minor_sum,
    approved, declined, failed, flagged, score_sum, late, closed)
SELECT dimension, key, to_timestamp($t0) + off_min * interval '1 minute', shard, 60000, n,
       amount, 1, amount, amount, approved, declined, failed, flagged, score_sum, 0, closed
FROM w;

INSERT INTO txw_data.transactions (tx_id, ts, account_id, amount_minor, currency,
    amount_rep_minor, merchant_id, category, channel, branch_id, region, country, device_id,
    product_id, status, score, reasons, model_version, shard, stored_at) VALUES
  ('tx-100', to_timestamp($now) - interval '121 seconds', 'acc-1', 250000, 'USD', 230000,
   'm-A', 'electronics', 'online', 'b-1', 'north', 'DE', 'd-9', 'p-1', 'approved', 91,
   '{amount_spike,new_device}', 'rules-1', 0, to_timestamp($now) - interval '120 seconds'),
  ('tx-103', to_timestamp($now) - interval '20 minutes', 'acc-1', 1250, 'EUR', 1250,
   'm-B', 'grocery', 'pos', 'b-1', 'north', 'DE', 'd-1', NULL, 'approved', 12,
   '{new_device}', 'rules-1', 0, to_timestamp($now) - interval '20 minutes'),
  ('tx-104', to_timestamp($now) - interval '40 minutes', 'acc-1', 5000, 'EUR', 5000,
   'm-B', 'grocery', 'pos', 'b-2', 'north', 'DE', 'd-1', NULL, 'declined', 30,
   '{}', 'rules-1', 0, to_timestamp($now) - interval '40 minutes'),
  ('tx-200', to_timestamp($now) - interval '30 minutes', 'acc-2', 99900, 'EUR', 99900,
   'm-C', 'travel', 'online', 'b-2', 'south', 'FR', 'd-2', NULL, 'approved', 85,
   '{velocity_minute}', 'rules-1', 1, to_timestamp($now) - interval '30 minutes'),
  ('tx-300', to_timestamp($now) - interval '50 minutes', 'acc-3', 700, 'EUR', 700,
   'm-B', 'grocery', 'mobile', 'b-1', 'east', 'DE', 'd-3', NULL, 'failed', 45,
   '{night_activity}', 'rules-1', 0, to_timestamp($now) - interval '50 minutes');
UPDATE txw_data.transactions SET device_type = 'web', order_id = 'o-1' WHERE tx_id = 'tx-100';

INSERT INTO txw_data.accounts (account_id, tx_count, spend_rep_minor, approved_rep_minor,
    approved, declined, failed, flagged, score_sum, max_score, first_seen, last_seen) VALUES
  ('acc-1', 3, 236250, 231250, 2, 1, 0, 1, 133, 91,
   to_timestamp($now) - interval '40 minutes', to_timestamp($now) - interval '121 seconds'),
  ('acc-2', 1, 99900, 99900, 1, 0, 0, 1, 85, 85,
   to_timestamp($now) - interval '30 minutes', to_timestamp($now) - interval '30 minutes'),
  ('acc-3', 1, 700, 0, 0, 0, 1, 0, 45, 45,
   to_timestamp($now) - interval '50 minutes', to_timestamp($now) - interval '50 minutes'),
  ('acc-4', 2, 3000, 3000, 2, 0, 0, 0, 30, 20,
   to_timestamp($now) - interval '3 days', to_timestamp($now) - interval '2 days');

INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, account_id, score, reasons,
    amount_minor, currency, amount_rep_minor, merchant_id, country, channel, region,
    message, model_version, raised_at, acked_at, acked_by) VALUES
  ('fraud:tx-100', 'fraud', 'tx-100', to_timestamp($now) - interval '121 seconds', 'acc-1', 91,
   '{amount_spike,new_device}', 250000, 'USD', 230000, 'm-A', 'DE', 'online', 'north',
   'score 91: amount_spike, new_device', 'rules-1', to_timestamp($now) - interval '2 minutes',
   NULL, NULL),
  ('fraud:tx-200', 'fraud', 'tx-200', to_timestamp($now) - interval '30 minutes', 'acc-2', 85,
   '{velocity_minute}', 99900, 'EUR', 99900, 'm-C', 'FR', 'online', 'south',
   'score 85: velocity_minute', 'rules-1', to_timestamp($now) - interval '30 minutes', NULL, NULL),
  ('fraud:tx-050', 'fraud', 'tx-050', to_timestamp($now) - interval '25 hours', 'acc-2', 88,
   '{card_testing}', 100, 'EUR', 100, 'm-C', 'FR', 'online', 'south',
   'score 88: card_testing', 'rules-1', to_timestamp($now) - interval '25 hours', NULL, NULL),
  ('region_health:north:$(( (t0 - 300) * 1000 ))', 'region_health', NULL,
   to_timestamp($t0 - 300), NULL, 12, '{}', NULL, NULL, NULL, NULL, NULL, NULL, 'north',
   'region north: 12.0% declined or failed', 'health-1', to_timestamp($now) - interval '5 minutes',
   NULL, NULL),
  ('region_health:west:$(( (t0 - 600) * 1000 ))', 'region_health', NULL,
   to_timestamp($t0 - 600), NULL, 15, '{}', NULL, NULL, NULL, NULL, NULL, NULL, 'west',
   'region west: 15.0% declined or failed', 'health-1', to_timestamp($now) - interval '10 minutes',
   to_timestamp($now) - interval '9 minutes', 'bob'),
  ('region_health:north:$(( (t0 - 10800) * 1000 ))', 'region_health', NULL,
   to_timestamp($t0 - 10800), NULL, 20, '{}', NULL, NULL, NULL, NULL, NULL, NULL, 'north',
   'region north: 20.0% declined or failed', 'health-1', to_timestamp($now) - interval '3 hours',
   NULL, NULL);
-- An acknowledged alert is a closed one (021_workflow).
UPDATE txw_data.alerts SET status = 'closed', updated_at = acked_at WHERE acked_at IS NOT NULL;

INSERT INTO txw_data.dead_letters (origin_source, origin_seq, origin_index, line_no, tx_id,
    reason, field, message, payload, received_at) VALUES
  ('producer@h:1700000000', 1, 0, 12, 'tx-9', 'bad_amount', 'amount',
   'amount is not a decimal with the currency''s minor units', '{"tx_id":"tx-9","amount":"1.2.3"}',
   to_timestamp($now) - interval '1 hour'),
  ('producer@h:1700000000', 2, 0, NULL, NULL, 'bad_currency', 'currency',
   'currency is not an ISO 4217 code', '{"currency":"XXQ"}', to_timestamp($now) - interval '30 minutes'),
  ('producer@h:1700000000', 3, 1, NULL, 'tx-11', 'bad_amount', 'amount',
   'amount is zero', '{"tx_id":"tx-11"}', to_timestamp($now) - interval '5 minutes');
SQL
}
