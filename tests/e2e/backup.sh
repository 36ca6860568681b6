#!/bin/bash
# backup.sh - deploy/backup: a pg_dump backup, a lost database, a verified restore
#
# A short pipeline stores transactions, windows, accounts, alerts and dead
# letters. While a producer still sends, deploy/backup/backup.sh dumps the
# database (its totals taken in the dump's own snapshot) and restore.sh
# restores it into another database: every total equal, though writes
# went on. A new day's records while a session holds the lock pg_dump
# takes: making the partition gives up after its lock_timeout (counted,
# the table's readers not queued behind it), and once the lock is gone a
# retry stores them. Then the pipeline stops, the suite takes the totals itself
# (rows and a content sum of every table and view, and plain sums of the
# money columns), backs up, DROPs the database, creates it empty, restores,
# and the totals must be identical; the owner's migration step finds
# nothing to apply and makes the service logins again, and the aggregator
# starts on the restored data. And the checks can fail: a damaged dump, a
# manifest with a wrong total, and a database that is not empty are
# refused. Every script of deploy/backup passes shellcheck. Last, WAL
# archiving: a base backup, later changes, and a second server recovered
# from the archive to a moment before them has exactly that moment's totals.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=164
PGPORT=25366
pg_start $PGPORT
BK=$ROOT/deploy/backup
ADMIN_DB=${DB%/txwatch}/postgres
OUT=$WORK/backups

"$BIN/txw-aggregator" --migrate-only --database-url "$DB" >"$WORK/migrate.log" 2>&1
check "the owner migrates" test $? -eq 0
start_pipeline $P
"$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 --seed 5 \
    --shape flat --count 3000 --rate 0 --accounts 300 --invalid-rate 0.03 --fraud-rate 0.05 \
    >"$WORK/burst.log" 2>&1
check "a producer sends 3000 records" test $? -eq 0
check "the aggregator stores them" wait_metric ${P}93 txw_records_in_total 2900 30
start producer ${P}90 "$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --admin-port ${P}90 --seed 6 --shape flat --rate 200 --accounts 300 --invalid-rate 0.03

# --- a backup while the pipeline writes -------------------------------------------------
LIVE_DUMP=$(bash "$BK/backup.sh" "$DB" "$OUT/live" 2>"$WORK/backup-live.err")
check "backup.sh dumps the database while it is written to" test $? -eq 0 -a -s "$LIVE_DUMP"
LIVE_MANIFEST=${LIVE_DUMP%.dump}.manifest
check "... with a checksum file sha256sum accepts" bash -c "cd '$OUT/live' && sha256sum --quiet -c '${LIVE_DUMP##*/}.sha256'"
psql "$ADMIN_DB" -qc "CREATE DATABASE copy1" >/dev/null
bash "$BK/restore.sh" "$LIVE_MANIFEST" "${DB%/txwatch}/copy1" >"$WORK/restore-live.log" 2>&1
check "restore.sh restores it into another database with every total of the dump's snapshot" \
    test $? -eq 0
sleep 0.5
check "(the pipeline did write meanwhile: the live database moved on)" \
    test "$(sql "SELECT count(*) FROM txw_data.transactions")" -gt \
         "$(awk -F '\t' '$2 == "txw_data.transactions" { print $3 }' "$LIVE_MANIFEST")"

# --- a new day while a backup holds its locks ---------------------------------------------
# pg_dump holds ACCESS SHARE on every table while it runs; making a
# partition needs ACCESS EXCLUSIVE on its table. Records of a day without
# a partition come while a session holds that lock, as pg_dump does: the
# aggregator gives up making the partition after its lock_timeout
# (proto/sql/029), counts it and tries again later, instead of queueing
# every other reader and writer of the table behind its wait; once the lock
# is gone, the retry makes the day and stores its records.
day_rows() { sql "SELECT count(*) FROM txw_data.transactions WHERE ts >= '2025-01-15' AND ts < '2025-01-16'"; }
psql "$DB" -qAt -c "BEGIN; LOCK TABLE txw_data.transactions IN ACCESS SHARE MODE;
                    SELECT pg_sleep (14); COMMIT" >/dev/null &
locker=$!
sleep 0.5
"$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 --seed 9 \
    --start 2025-01-15T10:00:00Z --count 50 --rate 0 --accounts 20 --invalid-rate 0 \
    --fraud-rate 0 >"$WORK/newday.log" 2>&1
waiting() {   # until a session waits for a lock (the aggregator, for the partition's)
    local i=0
    until [ "$(sql "SELECT count(*) FROM pg_locks WHERE NOT granted")" != 0 ]; do
        i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.1
    done
}
check "while a session holds a backup's lock, the aggregator's new partition waits for it" waiting
# A read queues behind that wait: it answers once the wait gives up (3 s),
# not when the backup's lock goes (14 s).
check "... without holding the table's readers for longer than its lock_timeout (a read answers within 6 s)" \
    psql "$DB" -qAt -c "SET statement_timeout = 6000" -c "SELECT count(*) FROM txw_data.transactions" \
    -o /dev/null
check "... then gives up, counted" wait_metric ${P}93 txw_partition_lock_timeouts_total 1 10
check "... and logged" grep -q 'a partition could not be made within its lock_timeout' "$WORK/aggregator.log"
wait $locker
stored_day() {
    local i=0
    until [ "$(day_rows)" = 50 ]; do i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.2; done
}
check "once the lock is released, a retry makes the day and stores its 50 records" stored_day

# --- stop, total, back up, lose the database, restore -----------------------------------------
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the pipeline stops cleanly" stop_clean "$PID_producer" "$PID_validator" "$PID_scorer" "$PID_aggregator"
totals() {
    psql "$DB" -qAt -F $'\t' -v ON_ERROR_STOP=1 -f "$BK/totals.sql"
    sql "SELECT 'sum transactions', count(*), sum (amount_minor), sum (amount_rep_minor), sum (score)
           FROM txw_data.transactions;
         SELECT 'sum windows', count(*), sum (tx_count), sum (amount_minor_sum), sum (flagged)
           FROM txw_data.windows;
         SELECT 'sum accounts', count(*), sum (tx_count) FROM txw_data.accounts;
         SELECT 'sum alerts', count(*), sum (score), count (DISTINCT dedupe_key) FROM txw_data.alerts;
         SELECT 'sum dead letters', count(*), count (DISTINCT reason) FROM txw_data.dead_letters;
         SELECT 'sum window_totals', count(*), sum (tx_count), sum (amount_minor_sum) FROM txw.window_totals;
         SELECT 'partitions', count(*) FROM pg_inherits WHERE inhparent = 'txw_data.transactions'::regclass"
}
totals >"$WORK/totals-before.txt"
nonempty() {   # every kind of data the suite meant to make is there
    local t
    for t in transactions windows accounts alerts dead_letters; do
        [ "$(sql "SELECT count(*) > 0 FROM txw_data.$t")" = t ] || { note "no rows in $t"; return 1; }
    done
}
check "transactions, windows, accounts, alerts and dead letters are stored" nonempty
DUMP=$(bash "$BK/backup.sh" "$DB" "$OUT/final" 2>"$WORK/backup.err")
check "backup.sh dumps the stopped database" test $? -eq 0 -a -s "$DUMP"
MANIFEST=${DUMP%.dump}.manifest
psql "$ADMIN_DB" -qc "DROP DATABASE txwatch" -c "CREATE DATABASE txwatch" >/dev/null
check "the database is dropped and made again, empty" \
    test "$(sql "SELECT to_regnamespace ('txw_data') IS NULL")" = t
bash "$BK/restore.sh" "$MANIFEST" "$DB" 2 >"$WORK/restore.log" 2>&1
check "restore.sh restores the dump (2 parallel jobs) and verifies it (exit 0)" test $? -eq 0
totals >"$WORK/totals-after.txt"
check "every table's and view's rows and content sums, and the money sums, are identical" \
    diff "$WORK/totals-before.txt" "$WORK/totals-after.txt"
check "the grants came back with it (txw_store may insert transactions)" \
    test "$(sql "SELECT has_table_privilege ('txw_store', 'txw_data.transactions', 'INSERT')")" = t
"$BIN/txw-aggregator" --migrate-only --database-url "$DB" \
    --login-roles "txw_store=$(db_url txw_aggregator)" >"$WORK/migrate-after.log" 2>&1
check "the owner's migration step applies nothing and makes the logins again" \
    bash -c "[ $? -eq 0 ] && grep -q '(0 migrations applied now, 1 login roles)' '$WORK/migrate-after.log'"
PIDS=()
start_stage aggregator $P
check "the aggregator starts on the restored database" kill -0 "${PIDS[-1]}"

# --- the checks can fail -----------------------------------------------------------------------
psql "$ADMIN_DB" -qc "CREATE DATABASE copy2" -c "CREATE DATABASE copy3" >/dev/null
mkdir -p "$WORK/bad" && cp "$DUMP" "$MANIFEST" "$WORK/bad/"
BAD_DUMP=$WORK/bad/${DUMP##*/}
printf 'x' | dd of="$BAD_DUMP" bs=1 seek=4000 conv=notrunc 2>/dev/null
bash "$BK/restore.sh" "$WORK/bad/${MANIFEST##*/}" "${DB%/txwatch}/copy2" >"$WORK/restore-bad.log" 2>&1
check "a damaged dump is refused before anything is restored (exit 1, checksum)" \
    bash -c "[ $? -eq 1 ] && grep -q 'SHA-256' '$WORK/restore-bad.log' \
             && [ \"\$(psql -X -qAt '${DB%/txwatch}/copy2' -c \"SELECT to_regnamespace ('txw_data') IS NULL\")\" = t ]"
cp "$DUMP" "$WORK/bad/"
awk -F '\t' 'BEGIN { OFS = "\t" } $2 == "txw_data.alerts" { $3 = $3 + 1 } { print }' "$MANIFEST" \
    >"$WORK/bad/${MANIFEST##*/}"
bash "$BK/restore.sh" "$WORK/bad/${MANIFEST##*/}" "${DB%/txwatch}/copy3" >"$WORK/restore-diff.log" 2>&1
check "a restore whose totals differ from the manifest's fails and names the table (exit 1)" \
    bash -c "[ $? -eq 1 ] && grep -Eq 'backup: +txw_data.alerts' '$WORK/restore-diff.log'"
bash "$BK/restore.sh" "$MANIFEST" "$DB" >"$WORK/restore-full.log" 2>&1
check "a database that already holds txwatch is refused (exit 2)" \
    bash -c "[ $? -eq 2 ] && grep -q 'already holds txwatch' '$WORK/restore-full.log'"
check "the scripts of deploy/backup pass shellcheck" \
    bash -c "cd '$ROOT' && shellcheck -x -S warning deploy/backup/*.sh"

# --- WAL archiving, a base backup, point-in-time recovery (README.md) ----------------------------
# The suite's server archives its WAL (restarted for archive_mode), a base
# backup is taken, totals are taken at a moment T, and then alerts are
# deleted and a transaction added. A second server made from the base
# backup and the archive, recovering to T, must have exactly the totals of
# T. It runs on the same port once the first is stopped.
PGBIN=/usr/lib/postgresql/15/bin
PITR=$WORK/pitr
ARCHIVE=$PITR/archive
as_postgres() {   # command...: as the server's user (pg.sh runs the servers as postgres when root)
    if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
pitr_stop() { [ -f "$PITR/data/PG_VERSION" ] && as_postgres "$PGBIN/pg_ctl -D '$PITR/data' -m fast -w stop" >/dev/null 2>&1; }
trap 'pitr_stop; cleanup' EXIT
mkdir -p "$ARCHIVE"
[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PITR"
check "aggregator stops cleanly" stop_clean "${PIDS[-1]}"
PIDS=()
sql "ALTER SYSTEM SET archive_mode = on" >/dev/null
sql "ALTER SYSTEM SET archive_command = 'test ! -f $ARCHIVE/%f && cp %p $ARCHIVE/%f'" >/dev/null
sh "$ROOT/deploy/local/pg.sh" stop && sh "$ROOT/deploy/local/pg.sh" start >/dev/null
check "the server archives its WAL (archive_mode on after a restart)" \
    test "$(sql "SHOW archive_mode")" = on
as_postgres "$PGBIN/pg_basebackup -d '$DB' -D '$PITR/data' -X stream -c fast" >"$WORK/basebackup.log" 2>&1
check "pg_basebackup takes a base backup" test -f "$PITR/data/PG_VERSION"
totals >"$WORK/totals-t.txt"
TARGET=$(sql "SELECT clock_timestamp ()")
sleep 1
sql "DELETE FROM txw_data.alerts WHERE alert_id % 2 = 0;
     INSERT INTO txw_data.transactions SELECT * FROM txw_data.transactions LIMIT 1 OFFSET 0
         ON CONFLICT DO NOTHING;
     UPDATE txw_data.accounts SET tx_count = tx_count + 1" >/dev/null
totals >"$WORK/totals-later.txt"
LAST=$(sql "SELECT pg_walfile_name (pg_switch_wal ())")
archived() {
    local i
    for i in $(seq 100); do
        [ -f "$ARCHIVE/$LAST" ] && return 0
        sleep 0.1
    done
    return 1
}
check "the WAL after the changes reaches the archive (pg_switch_wal)" archived
check "(the changes did change the totals)" bash -c "! cmp -s '$WORK/totals-t.txt' '$WORK/totals-later.txt'"
sh "$ROOT/deploy/local/pg.sh" stop
cat >>"$PITR/data/postgresql.auto.conf" <<CONF
restore_command = 'cp $ARCHIVE/%f %p'
recovery_target_time = '$TARGET'
recovery_target_action = 'promote'
archive_mode = off
CONF
touch "$PITR/data/recovery.signal"
[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PITR"
as_postgres "$PGBIN/pg_ctl -D '$PITR/data' -l '$PITR/server.log' -w -t 60 start \
    -o \"-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200\"" \
    >/dev/null
promoted() {
    local i
    for i in $(seq 100); do
        [ "$(sql "SELECT pg_is_in_recovery ()" 2>/dev/null)" = f ] && return 0
        sleep 0.1
    done
    return 1
}
check "a server from the base backup replays the archive to the target time and opens" promoted
totals >"$WORK/totals-pitr.txt"
check "its totals are exactly those of the target time, none of the later changes" \
    diff "$WORK/totals-t.txt" "$WORK/totals-pitr.txt"
