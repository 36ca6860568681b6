#!/bin/bash
# retention.sh - txw-maint retention drops whole expired partitions, and only those
#
# The owner migrates and makes the maintenance login (txw_maint), then
# stores transactions straight into twenty day partitions of January 2021
# and one row in a DEFAULT partition, and window rows of the same days
# (which 016's trigger adds into the hourly and daily rollups).
# `txw-maint retention --as-of` (never today's date: the cutoff is
# relative to the data made here) as the maintenance login must drop
# exactly the days whose upper bound is at or before the cutoff, leave
# every other partition's rows as they were (counts and sums), drop the
# window rows past their own (shorter) days while the rollups keep every
# sum, keep the DEFAULT partition, log each drop, and record the run in
# txw_data.maint_runs; a second run drops nothing. The login may drop
# nothing else: not a table, not a partition itself, no rows, nothing
# through the function but expired time partitions of txw_data; other
# service logins may not call the function. Bad options exit 2, a
# database that does not answer exits 1, and `segments` works once
# migration 017 is there. Loop mode (--every) counts its runs and drops in
# /metrics and stops cleanly. Last, the monthly rollup partitions go when
# their whole month is past their cutoff.
#
# Alerts (by month of ts) and dead letters (by day of received_at,
# migration 019) go the same way with their own days (730 and 30 by
# default): the months and days wholly past their cutoffs, never one that
# still holds a row within them. An alert or a dead letter stored again
# (the aggregator's and validator's statements, as their logins) adds
# nothing, even when the dead letter arrives on another day. Last, 019
# on a database that has alerts and dead letters (as a live deployment
# does): every row moves into its partition with its id, the ids go on
# from there, the views read the new tables, a replay of a stored row
# still adds nothing, and the grants are those of a new database.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=167   # admin port ${P}97
PGPORT=25357
pg_start $PGPORT
MAINT_URL=$(db_url txw_maintenance)
AGG_URL=$(db_url txw_aggregator)
VAL_URL=$(db_url txw_validator)
MAINT=$BIN/txw-maint

"$BIN/txw-aggregator" --migrate-only --database-url "$DB" \
    --login-roles "txw_maint=$MAINT_URL txw_store=$AGG_URL txw_ingest=$VAL_URL" >"$WORK/migrate.log" 2>&1
check "the owner migrates and makes the maintenance login" test $? -eq 0
check "... which is in the group txw_maint only" test "$(sql "SELECT string_agg (g.rolname, ',')
    FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid
    JOIN pg_roles l ON l.oid = a.member WHERE l.rolname = 'txw_maintenance'")" = txw_maint

# as LOGIN SQL: runs SQL as that login; prints its output and errors
as() { psql "$(db_url "$1")" -qAt -v ON_ERROR_STOP=1 -c "$2" 2>&1; }
# denied LOGIN WHAT SQL: SQL must fail with a permission error
denied() {
    local out
    out=$(as "$1" "$3")
    if [ $? -ne 0 ] && echo "$out" | grep -Eq 'permission denied|must be owner'; then
        ok "$2"
    else
        not_ok "$2"; note "$out"
    fi
}

# --- data: 2021-01-01 .. 2021-01-20, 3 to 22 transactions a day ---------------
sql "SELECT txw_data.ensure_partition (date '2021-01-01' + d) FROM generate_series (0, 19) d;
     CREATE TABLE txw_data.transactions_rest PARTITION OF txw_data.transactions DEFAULT;
     INSERT INTO txw_data.transactions (tx_id, ts, account_id, amount_minor, currency,
         amount_rep_minor, merchant_id, category, channel, branch_id, region, country,
         device_id, status, score, shard)
     SELECT format ('t-%s-%s', d, i), timestamptz '2021-01-01 00:00:00+00' + d * interval '1 day'
              + i * interval '1 hour', 'a' || i, 100 * d + i, 'EUR', 100 * d + i, 'm', 'food',
            'web', 'b', 'north', 'DE', 'dev', 'approved', i, 0
       FROM generate_series (0, 19) d, generate_series (0, d + 2) i WHERE i < 24;
     INSERT INTO txw_data.transactions (tx_id, ts, account_id, amount_minor, currency,
         amount_rep_minor, merchant_id, category, channel, branch_id, region, country,
         device_id, status, score, shard)
     VALUES ('t-old', '2019-06-01 12:00:00+00', 'a', 5, 'EUR', 5, 'm', 'food', 'web', 'b',
             'north', 'DE', 'dev', 'approved', 1, 0)" >/dev/null
# per_day: each partition's name, rows and sum, one line each
per_day() {
    sql "SELECT c.relname, count (t.*), coalesce (sum (t.amount_minor), 0)
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           LEFT JOIN txw_data.transactions t ON t.tableoid = c.oid
          WHERE i.inhparent = 'txw_data.transactions'::regclass
          GROUP BY c.relname ORDER BY c.relname"
}
# Window rows of the same days, 60-second windows, 4 a day: the trigger of
# 016 adds them into the hourly and daily rollups.
sql "INSERT INTO txw_data.windows (dimension, key, window_start, shard, window_ms, tx_count,
         amount_minor_sum, amount_minor_min, amount_minor_max, approved_amount_minor_sum,
         approved, declined, failed, flagged, score_sum, late, closed)
     SELECT 'region', 'north', timestamptz '2021-01-01 00:00:00+00' + d * interval '1 day'
              + i * interval '5 hours', 0, 60000, d + i + 1, 10 * (d + i + 1), 1, 50,
            10 * (d + i + 1), d + i + 1, 0, 0, 0, 7, 0, d <> 4 OR i <> 0
       FROM generate_series (0, 19) d, generate_series (0, 3) i" >/dev/null
# rollups: the daily and hourly totals of the view and the table, one line each
rollups() {
    sql "SELECT 'daily', count(*), sum (tx_count), sum (amount_minor_sum) FROM txw.window_totals_daily;
         SELECT 'hourly', count(*), sum (tx_count), sum (amount_minor_sum) FROM txw_data.windows_hourly"
}
rollups >"$WORK/rollups-before.txt"
per_day >"$WORK/before.txt"

# --- alerts by month, dead letters by day ------------------------------------------------
# Alerts of five months, two a month (one at its start, one at its end);
# dead letters of five days, two a day. The first run (as of 2021-01-20T12:00Z)
# has the cutoffs 2019-01-21T12:00Z (730 days) and 2020-12-21T12:00Z (30).
sql "SELECT txw_data.ensure_event_partition ('alerts', m)
       FROM unnest ('{2018-11-01,2018-12-01,2019-01-01,2020-06-01,2021-01-01}'::timestamptz []) m;
     INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, score, raised_at)
     SELECT 'fraud:' || to_char (t, 'YYYYMMDDHH24'), 'fraud', to_char (t, 'YYYYMMDDHH24'), t, 90,
            timestamptz '2021-01-20 00:00:00+00'
       FROM unnest ('{2018-11-01,2018-12-01,2019-01-01,2020-06-01,2021-01-01}'::timestamptz []) m,
            LATERAL (VALUES (m + interval '1 hour'), (m + interval '1 month' - interval '1 hour')) v (t);
     SELECT txw_data.ensure_event_partition ('dead_letters', d)
       FROM unnest ('{2020-12-19,2020-12-20,2020-12-21,2020-12-22,2021-01-05}'::timestamptz []) d;
     INSERT INTO txw_data.dead_letters (origin_source, origin_seq, origin_index, line_no, tx_id,
         reason, field, message, payload, received_at)
     SELECT 'producer@h:1', extract (day FROM d)::int, i, 10 * extract (day FROM d)::int + i,
            't-' || i, 'bad_amount', 'amount', 'm', 'row ' || i, d + i * interval '23 hours'
       FROM unnest ('{2020-12-19,2020-12-20,2020-12-21,2020-12-22,2021-01-05}'::timestamptz []) d,
            generate_series (0, 1) i" >/dev/null
# parts TABLE: each partition of txw_data.TABLE with its rows, one line each
parts() {
    sql "SELECT c.relname, count (t.*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           LEFT JOIN txw_data.$1 t ON t.tableoid = c.oid
          WHERE i.inhparent = 'txw_data.$1'::regclass GROUP BY c.relname ORDER BY c.relname" \
        | tr '\t\n' ': ' | sed 's/ $//'
}
check "alerts: two in each of five month partitions" test "$(parts alerts)" \
    = "alerts_201811:2 alerts_201812:2 alerts_201901:2 alerts_202006:2 alerts_202101:2"
check "dead letters: two in each of five day partitions" test "$(parts dead_letters)" \
    = "dead_letters_20201219:2 dead_letters_20201220:2 dead_letters_20201221:2 dead_letters_20201222:2 dead_letters_20210105:2"

# Stored again, by the aggregator's statement as its login: the same alert
# (the key fixes ts; raised later by a scorer that restarted) is skipped,
# a new one is stored in its month, made on the way.
as_agg() { psql "$AGG_URL" -qAt -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
ALERT_SQL="SELECT txw_data.ensure_event_partition ('alerts', ts) FROM (VALUES (timestamptz '%s')) v (ts);
    INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, score, raised_at)
    VALUES ('%s', 'fraud', 'x', '%s', 95, '2021-01-21T00:00:00Z') ON CONFLICT (dedupe_key, ts) DO NOTHING"
# shellcheck disable=SC2059 # the statement is the format
out=$(as_agg "$(printf "$ALERT_SQL" 2021-01-01T01:00:00Z fraud:2021010101 2021-01-01T01:00:00Z)")
check "an alert stored again adds nothing (the aggregator's login, ON CONFLICT (dedupe_key, ts))" \
    test $? -eq 0 -a "$(sql "SELECT count(*), min (score), max (raised_at) FROM txw_data.alerts
                             WHERE dedupe_key = 'fraud:2021010101'")" = "$(printf '1\t90\t2021-01-20 00:00:00+00')"
[ -z "$out" ] || note "$out"
# shellcheck disable=SC2059
as_agg "$(printf "$ALERT_SQL" 2021-02-03T00:00:00Z fraud:new 2021-02-03T00:00:00Z)" >/dev/null
check "... while a new one is stored, in a month partition made for it" \
    test "$(sql "SELECT tableoid::regclass FROM txw_data.alerts WHERE dedupe_key = 'fraud:new'")" = txw_data.alerts_202102

# Dead letters stored again, by the statement of common/deadletter.h as the
# validator's login, received on later days (a producer resending after a
# crash): the same origin, and the same file row under a new origin (its
# new epoch), add nothing in any partition; a new one is stored.
as_val() { psql "$VAL_URL" -qAt -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
DEAD_SQL="CREATE TEMP TABLE stage_dead (origin_source text, origin_seq bigint, origin_index int,
        line_no bigint, tx_id text, reason text, field text, message text, payload text,
        received_at timestamptz);
    INSERT INTO stage_dead VALUES %s;
    SELECT txw_data.ensure_event_partition ('dead_letters', d) FROM (SELECT DISTINCT
        date_trunc ('day', received_at, 'UTC') AS d FROM stage_dead) days ORDER BY d;
    INSERT INTO txw_data.dead_letters (origin_source, origin_seq, origin_index, line_no, tx_id,
        reason, field, message, payload, received_at)
    SELECT origin_source, origin_seq, origin_index, line_no, tx_id, reason, field, message,
        payload, received_at FROM stage_dead ON CONFLICT DO NOTHING"
# shellcheck disable=SC2059
out=$(as_val "$(printf "$DEAD_SQL" "('producer@h:1', 21, 1, 211, 't-1', 'bad_amount', 'amount', 'm',
        'row 1', '2021-01-10T00:00:00Z'), ('producer@h:2', 1, 0, 220, 't-0', 'bad_amount', 'amount', 'm',
        'row 0', '2021-01-10T00:00:00Z'), ('producer@h:1', 21, 1, 211, 't-1', 'bad_amount', 'amount', 'm',
        'row 1', '2021-01-11T00:00:00Z')")")
check "dead letters stored again on other days add nothing (by origin, and by file row under a new origin)" \
    test $? -eq 0 -a "$(sql "SELECT count(*) FROM txw_data.dead_letters")" = 10 \
         -a "$(parts dead_letters)" \
    = "dead_letters_20201219:2 dead_letters_20201220:2 dead_letters_20201221:2 dead_letters_20201222:2 dead_letters_20210105:2 dead_letters_20210110:0 dead_letters_20210111:0"
[ -z "$out" ] || note "$out"
# shellcheck disable=SC2059
as_val "$(printf "$DEAD_SQL" "('producer@h:2', 1, 5, 225, 't-5', 'bad_amount', 'amount', 'm',
        'row 5', '2021-01-10T00:00:00Z'), ('producer@h:2', 1, 5, 225, 't-5', 'bad_amount', 'amount', 'm',
        'row 5', '2021-01-10T00:00:01Z')")" >/dev/null
check "... while a new one is stored once, even twice in one batch" \
    test "$(sql "SELECT count(*), min (tableoid::regclass::text) FROM txw_data.dead_letters
                  WHERE origin_index = 5")" = "$(printf '1\ttxw_data.dead_letters_20210110')"
parts alerts >"$WORK/alerts-before.txt"
check "twenty day partitions and a DEFAULT one hold the data" test "$(wc -l <"$WORK/before.txt")" -eq 21

# --- bad options: exit 2, nothing touched ------------------------------------------
bad() {   # description, then the arguments
    local what=$1; shift
    "$MAINT" "$@" >"$WORK/bad.out" 2>&1
    local rc=$?
    if [ $rc -eq 2 ] && grep -q '^error: ' "$WORK/bad.out"; then ok "$what"; else
        not_ok "$what"; note "exit $rc: $(head -2 "$WORK/bad.out")"; fi
}
bad "no task: exit 2 with a message" --database-url "$MAINT_URL"
bad "an unknown task: exit 2" retention purge --database-url "$MAINT_URL"
bad "0 days: exit 2" retention --keep-transactions-days 0 --database-url "$MAINT_URL"
bad "negative days: exit 2" retention --keep-alerts-days=-3 --database-url "$MAINT_URL"
bad "an --as-of that is not RFC 3339: exit 2" retention --as-of 2021-01-20 --database-url "$MAINT_URL"
bad "no --database-url: exit 2" retention
check "... and nothing was dropped or recorded" test "$(per_day)" = "$(cat "$WORK/before.txt")" \
    -a "$(sql "SELECT count(*) FROM txw_data.maint_runs")" = 0
"$MAINT" retention --database-url "postgresql://txw_maintenance@127.0.0.1:${P}99/txwatch?connect_timeout=2" \
    >"$WORK/nodb.log" 2>&1
check "a database that does not answer: exit 1, logged" test $? -eq 1 -a -s "$WORK/nodb.log"

# --- one run ---------------------------------------------------------------------------
# Cutoff 2021-01-10T12:00Z: the days 01..09 end at or before it, 10 does not.
"$MAINT" retention --as-of 2021-01-20T12:00:00Z --keep-transactions-days 10 \
    --database-url "$MAINT_URL" >"$WORK/run1.log" 2>&1
check "txw-maint retention exits 0" test $? -eq 0
per_day >"$WORK/after.txt"
grep -E '^transactions_(20210110|2021011[1-9]|20210120|rest)	' "$WORK/before.txt" >"$WORK/kept.txt"
check "exactly the days before the cutoff are gone; every other partition's rows and sums are as they were" \
    diff "$WORK/kept.txt" "$WORK/after.txt"
# Windows keep 9 days by default: cutoff 2021-01-11T12:00Z, days 01..10 go,
# but for day 05, which holds a window still open (the rollups hold only
# closed ones).
check "window rows: exactly the days before their own cutoff (9 days) are gone, but for one with an open window" \
    test "$(sql "SELECT string_agg (to_char (window_start, 'DD'), ' ' ORDER BY window_start)
                   FROM (SELECT DISTINCT date_trunc ('day', window_start, 'UTC') AS window_start
                           FROM txw_data.windows) d")" = "05 $(echo {11..20})" \
         -a "$(sql "SELECT string_agg (relname, ' ') FROM pg_class
                     WHERE relname ~ '^windows_202101(0[1-9]|10)$'")" = windows_20210105
check "... and the kept day is logged" grep -q 'kept txw_data.windows_20210105' "$WORK/run1.log"
check "... while the hourly and daily rollups still hold every window's sums" \
    diff "$WORK/rollups-before.txt" <(rollups)
check "the DEFAULT partition (with a row older than all) is never dropped" \
    grep -q '^transactions_rest	1	5$' "$WORK/after.txt"
check "no table of the dropped days is left behind (detached and dropped)" \
    test "$(sql "SELECT count(*) FROM pg_class WHERE relname ~ '^transactions_2021010[1-9]$'")" = 0
check "each dropped partition is logged as a JSON line" \
    test "$(grep -c '"msg":"retention: dropped partition txw_data.transactions_2021010[1-9] ' "$WORK/run1.log")" -eq 9
check "alerts: the months wholly before the cutoff (730 days) are gone, the one holding it kept whole" \
    test "$(parts alerts)" = "alerts_201901:2 alerts_202006:2 alerts_202101:2 alerts_202102:1"
check "dead letters: the days wholly before the cutoff (30 days) are gone, the one holding it kept whole" \
    test "$(parts dead_letters)" \
    = "dead_letters_20201221:2 dead_letters_20201222:2 dead_letters_20210105:2 dead_letters_20210110:1 dead_letters_20210111:0"
check "... each logged, and recorded in the run's detail" \
    test "$(grep -c '"msg":"retention: dropped partition txw_data.\(alerts_20181[12]\|dead_letters_202012\(19\|20\)\) ' "$WORK/run1.log")" -eq 4 \
         -a "$(sql "SELECT detail #>> '{tables,alerts,cutoff}', jsonb_array_length (detail #> '{tables,alerts,dropped}'),
                          detail #>> '{tables,dead_letters,cutoff}', jsonb_array_length (detail #> '{tables,dead_letters,dropped}')
                     FROM txw_data.maint_runs")" \
         = "$(printf '2019-01-21T12:00:00.000Z\t2\t2020-12-21T12:00:00.000Z\t2')"
check "the run is recorded in txw_data.maint_runs with what it dropped" \
    test "$(sql "SELECT task, outcome, detail #>> '{tables,transactions,cutoff}',
                        jsonb_array_length (detail #> '{tables,transactions,dropped}'),
                        detail #>> '{tables,transactions,dropped,0,partition}',
                        finished_at >= started_at
                   FROM txw_data.maint_runs")" \
         = "$(printf 'retention\tok\t2021-01-10T12:00:00.000Z\t9\ttransactions_20210101\tt')"
"$MAINT" retention --as-of 2021-01-20T12:00:00Z --keep-transactions-days 10 \
    --database-url "$MAINT_URL" >"$WORK/run2.log" 2>&1
check "a second run with the same cutoff drops nothing and is recorded too" \
    test $? -eq 0 -a "$(per_day)" = "$(cat "$WORK/after.txt")" \
         -a "$(sql "SELECT count(*) FROM txw_data.maint_runs WHERE outcome = 'ok'")" = 2

# --- the maintenance login can do this and nothing else ------------------------------------
denied txw_maintenance "maint login: cannot delete rows" "DELETE FROM txw_data.transactions"
denied txw_maintenance "maint login: cannot delete alerts or dead letters" \
    "DELETE FROM txw_data.alerts; DELETE FROM txw_data.dead_letters"
denied txw_maintenance "maint login: cannot make alert or dead-letter partitions (the writers' function)" \
    "SELECT txw_data.ensure_event_partition ('alerts', '2031-01-01')"
denied txw_maintenance "maint login: cannot read the transactions" "SELECT count(*) FROM txw_data.transactions"
denied txw_maintenance "maint login: cannot truncate" "TRUNCATE txw_data.transactions_20210115"
denied txw_maintenance "maint login: cannot drop a partition itself" "DROP TABLE txw_data.transactions_20210115"
denied txw_maintenance "maint login: cannot detach a partition itself" \
    "ALTER TABLE txw_data.transactions DETACH PARTITION txw_data.transactions_20210115"
denied txw_maintenance "maint login: cannot drop another table" "DROP TABLE txw_data.accounts"
denied txw_maintenance "maint login: cannot change or remove a run record" "DELETE FROM txw_data.maint_runs"
denied txw_maintenance "maint login: cannot create partitions (ensure_partition is the aggregator's)" \
    "SELECT txw_data.ensure_partition (date '2031-01-01')"
denied txw_aggregator "aggregator login: cannot call drop_expired_partitions" \
    "SELECT * FROM txw_data.drop_expired_partitions ('transactions', '2021-01-15')"
refused() {   # description, SQL: the function must refuse it
    local out
    out=$(as txw_maintenance "$2")
    if [ $? -ne 0 ] && echo "$out" | grep -q 'drop_expired_partitions: '; then ok "$1"; else
        not_ok "$1"; note "$out"; fi
}
refused "the function refuses a table not partitioned by time" \
    "SELECT * FROM txw_data.drop_expired_partitions ('accounts', '2021-01-15')"
refused "... a table of another schema" \
    "SELECT * FROM txw_data.drop_expired_partitions ('pg_catalog.pg_class', '2021-01-15')"
refused "... a partition instead of its table" \
    "SELECT * FROM txw_data.drop_expired_partitions ('transactions_20210115', '2021-01-20')"
refused "... a cutoff after the database's clock" \
    "SELECT * FROM txw_data.drop_expired_partitions ('transactions', now () + interval '1 hour')"
refused "... no cutoff" "SELECT * FROM txw_data.drop_expired_partitions ('transactions', NULL)"
out=$(as txw_aggregator "SELECT txw_data.ensure_event_partition ('transactions', '2021-01-01')")
rc=$?
check "ensure_event_partition makes partitions of alerts and dead letters only" \
    test $rc -ne 0 -a -n "$(grep 'alerts or dead_letters' <<<"$out")"
check "... and dropped nothing meanwhile" test "$(per_day)" = "$(cat "$WORK/after.txt")"

# --- segments (migration 017) -------------------------------------------------------------
"$MAINT" segments --as-of 2021-01-20T12:00:00Z --database-url "$MAINT_URL" >"$WORK/segments.log" 2>&1
rc=$?
if [ "$(sql "SELECT to_regprocedure ('txw_data.refresh_segments(timestamptz)') IS NOT NULL")" = t ]; then
    check "segments refreshes the customer segments (exit 0, recorded)" test $rc -eq 0 \
        -a "$(sql "SELECT outcome FROM txw_data.maint_runs WHERE task = 'segments'")" = ok
else
    check "segments without migration 017 fails clearly (exit 1, recorded)" test $rc -eq 1 \
        -a "$(sql "SELECT outcome FROM txw_data.maint_runs WHERE task = 'segments'")" = failed
    grep -q 'lacks migration 017' "$WORK/segments.log" || note "$(tail -2 "$WORK/segments.log")"
fi

# --- loop mode ---------------------------------------------------------------------------
# Three more days expire at the next cutoff: 2021-01-10 .. 01-12, and two
# days of dead letters (cutoff 2020-12-23T00:00Z).
start maint ${P}97 "$MAINT" retention --every 3600 --admin-port ${P}97 \
    --as-of 2021-01-22T00:00:00Z --keep-transactions-days 9 --database-url "$MAINT_URL"
DROPPED='txw_maint_partitions_dropped_total{table="transactions"}'
check "loop mode counts the partitions it dropped in /metrics" wait_metric ${P}97 "$DROPPED" 3 10
check "... dead letters' too (the last table of a run)" \
    wait_metric ${P}97 'txw_maint_partitions_dropped_total{table="dead_letters"}' 2 10
check "... and no alert month" \
    test "$(metric ${P}97 'txw_maint_partitions_dropped_total{table="alerts"}')" = 0
# The run's end (its record written) comes after its last drop.
wait_metric ${P}97 'txw_maint_last_success_timestamp_seconds{task="retention"}' 1 10 >/dev/null
check "... one run of retention, no failure, a last success time" \
    test "$(metric ${P}97 'txw_maint_runs_total{task="retention"}')" = 1 \
         -a "$(metric ${P}97 'txw_maint_failures_total{task="retention"}')" = 0 \
         -a "$(metric ${P}97 'txw_maint_last_success_timestamp_seconds{task="retention"}')" -gt 0
check "... and exactly those three days are gone" \
    test "$(sql "SELECT string_agg (relname, ' ' ORDER BY relname) FROM pg_class
                  WHERE relname ~ '^transactions_202101[0-9]{2}$'")" \
         = "$(echo transactions_202101{13..20})"
# shellcheck disable=SC2154 # PID_maint is set by start
check "loop mode stops cleanly on SIGTERM (exit 0)" stop_clean "$PID_maint"

# --- rollups go by month ------------------------------------------------------------------------
# As of 2022-02-01, 365 days of hourly rollups end at 2021-02-01: January
# 2021 is wholly before it and goes; 400 days of daily ones keep it.
"$MAINT" retention --as-of 2022-02-01T00:00:00Z --keep-transactions-days 36500 \
    --keep-windows-days 36500 --keep-daily-days 400 --database-url "$MAINT_URL" >"$WORK/run3.log" 2>&1
check "hourly rollups: the month wholly past the cutoff is dropped; daily ones, within theirs, are kept" \
    test $? -eq 0 -a "$(sql "SELECT count(*) FROM txw_data.windows_hourly")" = 0 \
         -a "$(sql "SELECT count(*) FROM pg_class WHERE relname = 'windows_hourly_202101'")" = 0 \
         -a "$(sql "SELECT 'daily', count(*), sum (tx_count), sum (amount_minor_sum)
                      FROM txw.window_totals_daily")" = "$(head -1 "$WORK/rollups-before.txt")"

# --- 019 on a database with data -------------------------------------------------------------
# Migrations 001..018 as the binary applies them (each in a transaction,
# recorded), rows written, then the binary applies 019 and what follows.
sql "CREATE DATABASE upgrade" >/dev/null
UP=${DB%/*}/upgrade
upsql() { psql "$UP" -qAt -F $'\t' -v ON_ERROR_STOP=1 -c "$1"; }
upsql "CREATE SCHEMA txw_data; CREATE TABLE txw_data.schema_migrations (version int PRIMARY KEY,
       name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now ())"
for f in "$ROOT"/proto/sql/0*.sql; do
    name=$(basename "$f" .sql)
    [ "${name%%_*}" -lt 19 ] || continue
    psql "$UP" -q -1 -v ON_ERROR_STOP=1 -f "$f" -c "INSERT INTO txw_data.schema_migrations
        VALUES (${name%%_*}, '$name')" >/dev/null 2>"$WORK/upgrade-$name.err" \
        || { not_ok "migration $name applies"; cat "$WORK/upgrade-$name.err"; }
done
upsql "INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, score, raised_at, acked_at, acked_by)
       VALUES ('fraud:u1', 'fraud', 'u1', '2020-05-31T23:59:59Z', 91, '2020-06-01T00:00:00Z', NULL, NULL),
              ('fraud:u2', 'fraud', 'u2', '2020-06-01T00:00:00Z', 92, '2020-06-01T00:00:01Z',
               '2020-06-02T00:00:00Z', 'ann'),
              ('region_health:north:1591056000000', 'region_health', NULL, '2020-06-02T00:00:00Z', 30,
               '2020-06-02T00:01:00Z', NULL, NULL);
       DELETE FROM txw_data.alerts WHERE dedupe_key = 'fraud:u1';
       INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, score, raised_at)
       VALUES ('fraud:u1', 'fraud', 'u1', '2020-05-31T23:59:59Z', 91, '2020-06-01T00:00:00Z');
       INSERT INTO txw_data.dead_letters (origin_source, origin_seq, origin_index, line_no, tx_id,
           reason, field, message, payload, received_at)
       VALUES ('producer@h:1', 1, 0, 7, 'u7', 'bad_amount', 'amount', 'm', 'row 7', '2020-06-01T10:00:00Z'),
              ('aggregator-0', 0, 0, NULL, 'u8', 'db_refused', 'transactions', 'm', 'p', '2020-06-03T10:00:00Z');
       INSERT INTO txw_data.notifier_cursor (name, alert_id) VALUES ('webhooks', 4)"
upsql "SELECT alert_id, dedupe_key FROM txw_data.alerts ORDER BY alert_id;
       SELECT id, origin_source FROM txw_data.dead_letters ORDER BY id" >"$WORK/upgrade-before.txt"
"$BIN/txw-aggregator" --migrate-only --database-url "$UP" >"$WORK/upgrade.log" 2>&1
check "019 applies to a database holding alerts and dead letters" \
    test $? -eq 0 -a "$(upsql "SELECT max (version) FROM txw_data.schema_migrations")" -ge 19
check "... every row is where it was, with its id, in its month or day partition" \
    test "$(upsql "SELECT alert_id, dedupe_key FROM txw_data.alerts ORDER BY alert_id;
                   SELECT id, origin_source FROM txw_data.dead_letters ORDER BY id")" \
         = "$(cat "$WORK/upgrade-before.txt")" \
         -a "$(upsql "SELECT string_agg (tableoid::regclass::text || '=' || alert_id, ' ' ORDER BY alert_id)
                        FROM txw_data.alerts")" \
         = "txw_data.alerts_202006=2 txw_data.alerts_202006=3 txw_data.alerts_202005=4" \
         -a "$(upsql "SELECT string_agg (tableoid::regclass::text, ' ' ORDER BY id) FROM txw_data.dead_letters")" \
         = "txw_data.dead_letters_20200601 txw_data.dead_letters_20200603"
check "... the views read the new tables (an acked alert, closed since 021, its key; a dead letter)" \
    test "$(upsql "SELECT status, acked_by, key FROM txw.alerts WHERE alert_id = 2;
                   SELECT count(*) FROM txw.dead_letters")" \
         = "$(printf 'closed\tann\tfraud:u2\n2')" \
         -a "$(upsql "SELECT count(*) FROM pg_class WHERE relname IN ('alerts_unpartitioned',
                        'dead_letters_unpartitioned')")" = 0
UP_AGG=${AGG_URL%/*}/upgrade
# shellcheck disable=SC2059
psql "$UP_AGG" -qAt -v ON_ERROR_STOP=1 \
    -c "$(printf "$ALERT_SQL" 2020-05-31T23:59:59Z fraud:u1 2020-05-31T23:59:59Z)" \
    -c "$(printf "$ALERT_SQL" 2020-06-05T00:00:00Z fraud:u9 2020-06-05T00:00:00Z)" \
    -c "$(printf "$DEAD_SQL" "('producer@h:2', 4, 0, 7, 'u7', 'bad_amount', 'amount', 'm', 'row 7',
                              '2020-06-09T00:00:00Z')")" >"$WORK/upgrade-replay.log" 2>&1
check "... a moved alert or dead letter stored again adds nothing; a new alert's id follows the moved ones" \
    test $? -eq 0 -a "$(upsql "SELECT count(*), min (alert_id) FILTER (WHERE dedupe_key = 'fraud:u9') > 4
                                 FROM txw_data.alerts;
                              SELECT count(*) FROM txw_data.dead_letters")" = "$(printf '4\tt\n2')"
# grants ON: the grants on the four objects 019 remade, as the catalogue has them
grants_on() {
    psql "$1" -qAt -v ON_ERROR_STOP=1 -c "SELECT c.relname, coalesce (c.relacl::text, ''),
            coalesce ((SELECT string_agg (a.attname || a.attacl::text, ' ' ORDER BY a.attnum)
                         FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL), '')
          FROM pg_class c
         WHERE c.oid IN ('txw_data.alerts'::regclass, 'txw_data.dead_letters'::regclass,
                         'txw.alerts'::regclass, 'txw.dead_letters'::regclass,
                         'txw_data.alerts_alert_id_seq'::regclass, 'txw_data.dead_letters_id_seq'::regclass)
         ORDER BY c.relname" >"$2"
}
grants_on "$DB" "$WORK/grants-new.txt" && grants_on "$UP" "$WORK/grants-upgraded.txt"
check "... and the grants are those of a database made new" \
    diff "$WORK/grants-new.txt" "$WORK/grants-upgraded.txt"
check "... (which list the six objects, the aggregator's grants among them)" \
    test "$(wc -l <"$WORK/grants-new.txt")" -eq 6 -a "$(grep -c 'txw_store=' "$WORK/grants-new.txt")" -ge 3
