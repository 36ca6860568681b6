#!/bin/bash
# backup.sh - a logical backup of the txwatch database: pg_dump, checksum, manifest
#
# Usage: deploy/backup/backup.sh DATABASE_URL DIR
#
# Writes DIR/txwatch-<UTC time>.dump (pg_dump --format=custom: compressed,
# restored selectively and in parallel by pg_restore), its .sha256 and a
# .manifest: when, from which server and schema version, the group roles
# the grants name, and the totals of every table and view (totals.sql)
# taken in the very snapshot pg_dump reads, so that restore.sh can prove
# a restore gives back exactly what was dumped, however busy the database
# was. DATABASE_URL is the schema's owner (it must read every table); the
# dump holds no role or password (roles belong to the cluster: restore.sh
# makes the groups, `txw-aggregator --migrate-only --login-roles` the
# logins). Prints the dump's path; exit 1 on any failure, with no partial
# files left. deploy/backup/README.md says when to run it and how long to
# keep what.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 DATABASE_URL DIR" >&2
    exit 2
fi
URL=$1
DIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DIR"
NAME=txwatch-$(date -u +%Y%m%dT%H%M%SZ)
DUMP=$DIR/$NAME.dump
MANIFEST=$DIR/$NAME.manifest
TMP=$(mktemp -d)
cleanup() {
    [ -n "${SESSION_PID:-}" ] && kill "$SESSION_PID" 2>/dev/null
    rm -rf "$TMP"
    [ -f "$DIR/$NAME.done" ] || rm -f "$DUMP" "$DUMP.sha256" "$MANIFEST"
    rm -f "$DIR/$NAME.done"
}
trap cleanup EXIT

# One session holds a REPEATABLE READ transaction open: it exports its
# snapshot, which pg_dump then reads (--snapshot), and takes the totals
# in it, so the totals are those of the dump, to the row. It takes them
# after the dump, not before: reading the tables locks them (ACCESS SHARE)
# until the session ends, and an aggregator making a day's partition
# meanwhile queues for ACCESS EXCLUSIVE behind that lock, and pg_dump's
# own lock queues behind the aggregator's. The session would then wait for
# pg_dump, pg_dump for the aggregator and the aggregator for the session,
# a cycle PostgreSQL cannot see (one side is a client), and the pipeline
# would stop. The snapshot alone locks nothing.
coproc SESSION { psql -X -qAt -F $'\t' -v ON_ERROR_STOP=1 "$URL" 2>"$TMP/session.err"; }
SESSION_PID=$SESSION_PID
ask() {   # SQL: runs it in the session; its output until the marker goes to stdout
    printf '%s\n' "$1" "SELECT '--done--';" >&"${SESSION[1]}"
    local line
    while IFS= read -r -t 600 line <&"${SESSION[0]}"; do
        [ "$line" = --done-- ] && return 0
        printf '%s\n' "$line"
    done
    echo "backup: the database session ended: $(cat "$TMP/session.err")" >&2
    return 1
}
# (The coprocess's pipes exist in this shell only: never ask in a subshell.)
ask "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
     SELECT pg_catalog.pg_export_snapshot ();" >"$TMP/snapshot"
SNAPSHOT=$(cat "$TMP/snapshot")
ask "SELECT 'database', current_database ();
     SELECT 'server_version', current_setting ('server_version');
     SELECT 'schema_version', coalesce (max (version), 0) FROM txw_data.schema_migrations;
     SELECT 'snapshot_time', to_char (now () AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"');
     SELECT 'group', rolname FROM pg_catalog.pg_roles
      WHERE rolname ~ '^txw_[a-z_]+$' AND NOT rolcanlogin ORDER BY rolname;" >"$TMP/head"
pg_dump --format=custom --snapshot="$SNAPSHOT" --file="$DUMP" "$URL"
ask "$(cat "$HERE/totals.sql")" >"$TMP/totals"
ask "COMMIT;" >/dev/null
printf '%s\n' "\\q" >&"${SESSION[1]}"

(cd "$DIR" && sha256sum "$NAME.dump" >"$NAME.dump.sha256")
{
    printf 'format\ttxwatch-backup 1\n'
    printf 'dump\t%s\n' "$NAME.dump"
    printf 'sha256\t%s\n' "$(cut -d' ' -f1 "$DUMP.sha256")"
    printf 'bytes\t%s\n' "$(stat -c %s "$DUMP")"
    printf 'pg_dump\t%s\n' "$(pg_dump --version)"
    cat "$TMP/head"
    sed 's/^/total\t/' "$TMP/totals"
} >"$MANIFEST"
touch "$DIR/$NAME.done"
echo "$DUMP"
