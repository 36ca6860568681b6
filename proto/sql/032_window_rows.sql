-- 032_window_rows: the window rows themselves, for sums over a whole period
--
-- txw.window_totals sums each window over the shards (GROUP BY dimension,
-- key, window_start). The endpoints that sum a whole period per key (the
-- realtime totals, top lists, branch performance, region health) summed
-- those sums again, and PostgreSQL builds the inner groups first, every
-- column of the view's included: over two hours of 200 merchants' windows
-- (tests/bench/query_bench.sh's data) a top list took 110 ms that way and
-- 27 ms over the rows, on the same loaded machine. A sum of the shards'
-- sums is the sum of the rows, so those endpoints read this view, which the
-- planner folds into their query: one aggregation over the rows. The
-- timeseries, whose points are the windows, still reads txw.window_totals.
-- The same for periods read from the hourly and daily rollups: the rows
-- of txw.window_totals_hourly and _daily before their GROUP BY.
CREATE VIEW txw.window_rows AS
SELECT dimension,
       key,
       window_start,
       shard,
       tx_count,
       amount_minor_sum,
       approved_amount_minor_sum,
       approved,
       declined,
       failed,
       flagged,
       late,
       score_sum,
       closed
FROM txw_data.windows;

CREATE VIEW txw.window_rows_hourly AS
SELECT dimension, key, window_start, shard, tx_count, amount_minor_sum,
       approved_amount_minor_sum, approved, declined, failed, flagged, late, score_sum
  FROM txw_data.windows_hourly
UNION ALL
SELECT dimension, key, date_trunc('hour', window_start, 'UTC'), shard, tx_count,
       amount_minor_sum, approved_amount_minor_sum, approved, declined, failed, flagged,
       late, score_sum
  FROM txw_data.windows WHERE NOT closed;

CREATE VIEW txw.window_rows_daily AS
SELECT dimension, key, window_start, shard, tx_count, amount_minor_sum,
       approved_amount_minor_sum, approved, declined, failed, flagged, late, score_sum
  FROM txw_data.windows_daily
UNION ALL
SELECT dimension, key, date_trunc('day', window_start, 'UTC'), shard, tx_count,
       amount_minor_sum, approved_amount_minor_sum, approved, declined, failed, flagged,
       late, score_sum
  FROM txw_data.windows WHERE NOT closed;

GRANT SELECT ON txw.window_rows, txw.window_rows_hourly, txw.window_rows_daily
    TO txw_api, txw_read;
