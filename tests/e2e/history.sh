#!/bin/bash
# history.sh - hourly and daily rollups equal the windows; the API reads a year
#
# Six days of transactions, ending hours before now (so that the API's 7 d,
# 30 d and 1 y periods hold every one of them whatever the clock says), go
# shuffled through validator -> scorer -> two aggregator shards. A shard
# keeps an hour of windows in memory, so most rows are late: they are added
# to stored windows (additive upserts), the others are written in whole
# windows (upserts of the full state). Checks: every hourly and daily rollup
# row holds exactly the sums of the closed window rows of its dimension,
# key, shard and hour or day, and nothing else is there
# (proto/sql/016_rollups.sql); the views over them, which add the open
# windows, equal the window view summed; window rows are in day
# partitions, rollups in month ones; the query API answers 7 d and 30 d from
# hourly rows and 1 y from daily rows, with the totals of the windows, and
# refuses a period beyond a year with a 400 naming `minutes`.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25363
P=161   # port prefix for this suite

NOW=$(date +%s)
START=$(date -u -d "@$(( NOW / 3600 * 3600 - 6 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ)
# 4,000 rows at one every 125 s of event time: 5.8 days from START.
"$BIN/txw-producer" --seed 31 --count 4000 --start "$START" --event-rate 0.008 --shape flat \
    --rate 0 --accounts 300 --fraud-rate 0.02 --csv-out "$WORK/time.csv" --admin-port 0 \
    >"$WORK/gen.log" 2>&1
check "the producer writes the history file" test -s "$WORK/time.csv"
span=$(python3 - "$WORK/time.csv" "$NOW" <<'PY'
import csv, sys
from datetime import datetime
ts = [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp()
      for r in csv.DictReader(open(sys.argv[1]))]
print(len({int(t // 86400) for t in ts}), int(max(ts) < int(sys.argv[2]) - 3600))
PY
)
read -r DAYS BEFORE_NOW <<<"$span"
check "the file spans 6 days or more ($DAYS) and ends an hour before now" \
    test "$DAYS" -ge 6 -a "$BEFORE_NOW" = 1
{ head -n 1 "$WORK/time.csv"; tail -n +2 "$WORK/time.csv" | shuf --random-source=<(yes); } \
    >"$WORK/shuffled.csv"

# --- the pipeline, two aggregator shards ------------------------------------------------
start_stage aggregator $P --shard 0
start aggregator1 ${P}94 "$BIN/txw-aggregator" --database-url "$DB" --shard 1 \
    --bind tcp://127.0.0.1:${P}31 --publish tcp://127.0.0.1:${P}32 --admin-port ${P}94
start scorer ${P}92 "$BIN/txw-scorer" --bind tcp://127.0.0.1:${P}11 \
    --aggregator-endpoints tcp://127.0.0.1:${P}21,tcp://127.0.0.1:${P}31 \
    --publish tcp://127.0.0.1:${P}12 --admin-port ${P}92
start_stage validator $P
"$BIN/txw-producer" --file "$WORK/shuffled.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port 0 >"$WORK/producer.log" 2>&1
check "the producer sends the file and exits 0" test $? -eq 0
stored() { echo $(( $(metric ${P}93 txw_stored_transactions_total)
                    + $(metric ${P}94 txw_stored_transactions_total) )); }
deadline=$((SECONDS + 60))
while [ "$(stored)" -lt 4000 ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
check "the two shards store every row ($(stored))" test "$(stored)" -eq 4000
check "both shards add late rows to windows no longer in memory" \
    test "$(metric ${P}93 txw_stored_window_additions_total)" -gt 0 \
         -a "$(metric ${P}94 txw_stored_window_additions_total)" -gt 0
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the pipeline stops cleanly" stop_clean $PID_validator $PID_scorer $PID_aggregator $PID_aggregator1
PIDS=()
check "every row is stored, no dead letter" \
    test "$(sql "SELECT count(*) FROM txw.transactions"):$(sql "SELECT count(*) FROM txw.dead_letters")" = "4000:0"
check "the window rows of both shards count every row" \
    test "$(sql "SELECT sum(tx_count) FROM txw_data.windows WHERE dimension = 'overall'")$(sql \
          "SELECT count(DISTINCT shard) FROM txw_data.windows")" = "40002"

# --- the rollups equal the windows ----------------------------------------------------------
# rollup_diff GRAIN: rows of txw_data.windows_GRAIN that differ from the closed
# window rows summed by dimension, key, shard and hour (day), either way,
# then the number of rollup rows.
rollup_diff() {
    local grain=$1 table=windows_$2
    sql "WITH w AS (
           SELECT dimension, key, date_trunc('$grain', window_start, 'UTC') AS start, shard,
                  sum(tx_count)::bigint, sum(amount_minor_sum)::bigint,
                  min(amount_minor_min) FILTER (WHERE tx_count > 0),
                  max(amount_minor_max) FILTER (WHERE tx_count > 0),
                  sum(approved_amount_minor_sum)::bigint, sum(approved)::bigint,
                  sum(declined)::bigint, sum(failed)::bigint, sum(flagged)::bigint,
                  sum(score_sum)::bigint, sum(late)::bigint
             FROM txw_data.windows WHERE closed GROUP BY 1, 2, 3, 4),
         r AS (
           SELECT dimension, key, window_start, shard, tx_count, amount_minor_sum,
                  amount_minor_min, amount_minor_max, approved_amount_minor_sum, approved,
                  declined, failed, flagged, score_sum, late
             FROM txw_data.$table)
         SELECT (SELECT count(*) FROM (TABLE w EXCEPT ALL TABLE r) a)
              + (SELECT count(*) FROM (TABLE r EXCEPT ALL TABLE w) b), (SELECT count(*) FROM r)"
}
read -r hourly_diff hourly_rows <<<"$(rollup_diff hour hourly)"
check "every hourly rollup row equals its closed window rows exactly ($hourly_rows rows, $hourly_diff differ)" \
    test "$hourly_diff" = 0 -a "$hourly_rows" -gt 500
read -r daily_diff daily_rows <<<"$(rollup_diff day daily)"
check "every daily rollup row equals its closed window rows exactly ($daily_rows rows, $daily_diff differ)" \
    test "$daily_diff" = 0 -a "$daily_rows" -gt 50
# view_diff VIEW GRAIN: the views (rollups and open windows, summed over shards,
# with means) against all windows summed by hour (day)
view_diff() {
    sql "SELECT count(*) FROM (
           (SELECT dimension, key, date_trunc('$2', window_start, 'UTC'), sum(tx_count)::bigint,
                   sum(amount_minor_sum)::bigint, sum(flagged)::bigint, sum(late)::bigint,
                   round(sum(score_sum)::numeric / nullif(sum(tx_count), 0), 2)
              FROM txw.window_totals GROUP BY 1, 2, 3
            EXCEPT ALL
            SELECT dimension, key, window_start, tx_count, amount_minor_sum, flagged, late,
                   mean_score FROM $1)
           UNION ALL
           (SELECT dimension, key, window_start, tx_count, amount_minor_sum, flagged, late,
                   mean_score FROM $1
            EXCEPT ALL
            SELECT dimension, key, date_trunc('$2', window_start, 'UTC'), sum(tx_count)::bigint,
                   sum(amount_minor_sum)::bigint, sum(flagged)::bigint, sum(late)::bigint,
                   round(sum(score_sum)::numeric / nullif(sum(tx_count), 0), 2)
              FROM txw.window_totals GROUP BY 1, 2, 3)) d"
}
open=$(sql "SELECT count(*) FROM txw_data.windows WHERE NOT closed")
note "$open window rows still open when the pipeline stopped"
check "txw.window_totals_hourly equals txw.window_totals summed by hour" \
    test "$(view_diff txw.window_totals_hourly hour)" = 0
check "txw.window_totals_daily equals txw.window_totals summed by day" \
    test "$(view_diff txw.window_totals_daily day)" = 0
check "late rows are counted in the rollups (late > 0)" \
    test "$(sql "SELECT sum(late) FROM txw.window_totals_daily WHERE dimension = 'overall'")" -gt 0
partitions() { sql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'txw_data.$1'::regclass"; }
window_days=$(sql "SELECT count(DISTINCT (window_start AT TIME ZONE 'UTC')::date) FROM txw_data.windows")
check "a window partition per day with windows ($(partitions windows) for $window_days)" \
    test "$(partitions windows)" = "$window_days"
months=$(sql "SELECT count(DISTINCT date_trunc('month', window_start, 'UTC')) FROM txw_data.windows")
check "hourly and daily rollups have a partition per month ($months)" \
    test "$(partitions windows_hourly):$(partitions windows_daily)" = "$months:$months"

# --- the API over long periods -------------------------------------------------------------
VIEWER=$(make_key vera viewer)
start query ${P}95 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}80 \
    --admin-port ${P}95 --rate-per-key 0 --rate-per-client 0
api() { curl -s -H "Authorization: Bearer $VIEWER" "http://127.0.0.1:${P}80$1"; }
# series PATH: the window_ms, the number of points and the sum of their values
series() {
    api "$1" | python3 -c '
import json, sys
b = json.load(sys.stdin)
print(b["window_ms"], len(b["points"]), sum(p["v"] for p in b["points"]), b["minutes"])'
}
total=$(sql "SELECT sum(tx_count) FROM txw.window_totals WHERE dimension = 'overall'")
hours=$(sql "SELECT count(*) FROM txw.window_totals_hourly WHERE dimension = 'overall'")
days=$(sql "SELECT count(*) FROM txw.window_totals_daily WHERE dimension = 'overall'")
check "7 d: one point an hour ($hours), every transaction ($total)" \
    test "$(series '/api/v1/timeseries?minutes=10080')" = "3600000 $hours $total 10080"
check "30 d: one point an hour, every transaction" \
    test "$(series '/api/v1/timeseries?minutes=43200')" = "3600000 $hours $total 43200"
check "1 y: one point a day ($days), every transaction" \
    test "$(series '/api/v1/timeseries?minutes=525600')" = "86400000 $days $total 525600"
region=$(sql "SELECT key FROM txw.window_totals WHERE dimension = 'region' ORDER BY key LIMIT 1")
volume=$(sql "SELECT sum(amount_minor_sum) FROM txw.window_totals
              WHERE dimension = 'region' AND key = '$region'")
check "1 y of region $region by volume: the windows' volume ($volume)" \
    test "$(series "/api/v1/timeseries?minutes=525600&dimension=region&key=$region&metric=volume" \
            | cut -d' ' -f3)" = "$volume"
check "24 h still reads the windows (one point a minute)" \
    test "$(series '/api/v1/timeseries?minutes=1440' | cut -d' ' -f1)" = 60000
# per_key PATH LIST FIELD: "key count volume" lines of an answer, sorted
per_key() {
    api "$1" | python3 -c '
import json, sys
for i in json.load(sys.stdin)[sys.argv[1]]:
    print(i.get("key", i.get("branch_id")), i["count"], i["volume_minor"])' "$2" | LC_ALL=C sort
}
windows_per_key() {   # dimension
    sql "SELECT key, sum(tx_count), sum(amount_minor_sum) FROM txw.window_totals
         WHERE dimension = '$1' GROUP BY key HAVING sum(tx_count) > 0" | tr '\t' ' ' | LC_ALL=C sort
}
windows_per_key branch >"$WORK/branches.txt"
for minutes in 10080 43200 525600; do
    per_key "/api/v1/branches/performance?minutes=$minutes" branches >"$WORK/api-branches.txt"
    check "branches over $minutes minutes: every branch's count and volume as the windows'" \
        cmp -s "$WORK/branches.txt" "$WORK/api-branches.txt"
done
windows_per_key category >"$WORK/categories.txt"
for minutes in 10080 525600; do
    per_key "/api/v1/top/category?minutes=$minutes&limit=100" items >"$WORK/api-top.txt"
    check "top categories over $minutes minutes: the windows' totals" \
        cmp -s "$WORK/categories.txt" "$WORK/api-top.txt"
done
check "top over a year: the year before had nothing (previous_count 0)" \
    test "$(api '/api/v1/top/category?minutes=525600' | python3 -c '
import json, sys
print(sum(i["previous_count"] for i in json.load(sys.stdin)["items"]))')" = 0
for bad in 525601 0 1y; do
    out=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $VIEWER" \
          "http://127.0.0.1:${P}80/api/v1/timeseries?minutes=$bad")
    check "minutes=$bad: 400 naming minutes" \
        test "$(echo "${out% *}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["parameter"])') ${out##* }" = "minutes 400"
done
