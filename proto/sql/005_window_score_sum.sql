-- 005_window_score_sum: txw.window_totals gains the exact score sum
--
-- mean_score is rounded to two decimals; a reader summing several windows
-- (a mean over an hour) needs the exact sum. Columns are only appended.
CREATE OR REPLACE VIEW txw.window_totals AS
SELECT dimension,
       key,
       window_start,
       window_start + make_interval(secs => max(window_ms) / 1000.0) AS window_end,
       sum(tx_count)::bigint                  AS tx_count,
       sum(amount_minor_sum)::bigint          AS amount_minor_sum,
       min(amount_minor_min)                  AS amount_minor_min,
       max(amount_minor_max)                  AS amount_minor_max,
       sum(approved_amount_minor_sum)::bigint AS approved_amount_minor_sum,
       sum(approved)::bigint                  AS approved,
       sum(declined)::bigint                  AS declined,
       sum(failed)::bigint                    AS failed,
       sum(flagged)::bigint                   AS flagged,
       sum(late)::bigint                      AS late,
       round(sum(score_sum)::numeric / nullif(sum(tx_count), 0), 2) AS mean_score,
       bool_and(closed)                       AS closed,
       count(*)::int                          AS shards,
       sum(score_sum)::bigint                 AS score_sum
FROM txw_data.windows
GROUP BY dimension, key, window_start;
