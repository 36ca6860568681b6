#!/bin/bash
# restore.sh - restores a backup.sh dump into an empty database and proves it
#
# Usage: deploy/backup/restore.sh MANIFEST DATABASE_URL [JOBS]
#
# MANIFEST is the .manifest backup.sh wrote next to its dump. Checks the
# dump's SHA-256 against it first; refuses a database that already holds
# txwatch (the schema txw_data): restore into an empty one, made with
# `createdb` (or CREATE DATABASE) by the role that will own the schema.
# Makes the group roles the grants name where missing (roles belong to the
# cluster, not the dump: this takes CREATEROLE, else a DBA makes them as
# proto/SQL.md, "Roles", says), then pg_restore in one transaction, with
# JOBS parallel jobs instead when given (faster for a big database; then a
# failure leaves a partial restore to drop). The restoring role owns every
# object (--no-owner), as the one that applied the migrations did.
# Last, the verification: the schema version and the totals of every table
# and view (deploy/backup/totals.sql: rows and a content sum each) must be
# those of the manifest, which backup.sh took in the dump's own snapshot.
# Exit 0 when they are, 1 on any failure or difference (listed), 2 for
# bad arguments or a database that is not empty. The service logins are
# not in a dump: make them afterwards with
# `txw-aggregator --migrate-only --database-url OWNER --login-roles ...`.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 MANIFEST DATABASE_URL [JOBS]" >&2
    exit 2
fi
MANIFEST=$1
URL=$2
JOBS=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(cd "$(dirname "$MANIFEST")" && pwd)
field() { awk -F '\t' -v k="$1" '$1 == k { print $2; exit }' "$MANIFEST"; }
psql_do() { psql -X -qAt -F $'\t' -v ON_ERROR_STOP=1 "$URL" "$@"; }

[ -f "$MANIFEST" ] && [ "$(field format)" = "txwatch-backup 1" ] \
    || { echo "restore: $MANIFEST is not a manifest of backup.sh" >&2; exit 2; }
DUMP=$DIR/$(field dump)
[ -f "$DUMP" ] || { echo "restore: the dump $DUMP is missing" >&2; exit 1; }
if [ "$(sha256sum "$DUMP" | cut -d' ' -f1)" != "$(field sha256)" ]; then
    echo "restore: $DUMP does not have the SHA-256 of the manifest: damaged or another file" >&2
    exit 1
fi
if [ -n "$JOBS" ] && ! [ "$JOBS" -ge 1 ] 2>/dev/null; then
    echo "restore: JOBS must be a number of parallel jobs, 1 or more" >&2
    exit 2
fi
if [ "$(psql_do -c "SELECT to_regnamespace ('txw_data') IS NOT NULL")" != f ]; then
    echo "restore: the database already holds txwatch (schema txw_data); restore into an empty one" >&2
    exit 2
fi

awk -F '\t' '$1 == "group" { print $2 }' "$MANIFEST" | while read -r group; do
    psql_do -v group="$group" <<'SQL' || exit 1
SELECT format ('CREATE ROLE %I NOLOGIN', :'group')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'group')
\gexec
SQL
done

if [ -n "$JOBS" ]; then
    pg_restore --exit-on-error --no-owner --jobs="$JOBS" --dbname="$URL" "$DUMP"
else
    pg_restore --exit-on-error --no-owner --single-transaction --dbname="$URL" "$DUMP"
fi

# The verification.
bad=0
version=$(psql_do -c "SELECT coalesce (max (version), 0) FROM txw_data.schema_migrations")
if [ "$version" != "$(field schema_version)" ]; then
    echo "restore: schema version $version, the backup's is $(field schema_version)" >&2
    bad=1
fi
want=$(awk -F '\t' '$1 == "total" { print $2 "\t" $3 "\t" $4 }' "$MANIFEST")
got=$(psql_do -f "$HERE/totals.sql")
if [ "$got" != "$want" ]; then
    echo "restore: the restored totals differ from the backup's (relation, rows, content sum):" >&2
    diff <(echo "$want") <(echo "$got") | sed -n 's/^< /  backup:   /p; s/^> /  restored: /p' >&2
    bad=1
fi
[ "$bad" -eq 0 ] || exit 1
echo "restored $(field dump) (schema version $version, $(echo "$want" | wc -l) tables and views, taken $(field snapshot_time)): every total as in the backup"
