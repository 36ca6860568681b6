#!/bin/sh
# postgres-entrypoint - the txwatch/postgres image's entrypoint
#
# Takes the official postgres image's variables, so compose files and
# manifests written for it work unchanged:
#   POSTGRES_USER       the superuser made by initdb (default postgres)
#   POSTGRES_PASSWORD   its password, or POSTGRES_PASSWORD_FILE naming a file
#                       holding it; required (no trust authentication)
#   POSTGRES_DB         a database made at initialisation (default the user)
#   PGDATA              the data folder (default /var/lib/postgresql/data)
# On an empty PGDATA: initdb (UTF-8, C.UTF-8 collation, scram-sha-256 over
# TCP from anywhere, trust only for the local socket inside the container),
# then the database. Then the server runs in the foreground as this user
# (postgres, uid 999), listening on every address; arguments are passed to
# it (e.g. -c shared_buffers=256MB). The schema is applied by txwatch's own
# `migrate` job, not here (deploy/Dockerfile, target postgres, says why).
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
    echo "postgres-entrypoint: runs as the postgres user (uid 999), not root" >&2
    exit 1
fi
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi
if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres-entrypoint: POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) is required" >&2
    exit 1
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA"
    pwfile=$(mktemp)
    trap 'rm -f "$pwfile"' EXIT
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    trap - EXIT
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        # Single-user mode: no server, no socket, nothing listening yet.
        printf 'CREATE DATABASE "%s";\n' "$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')" |
            postgres --single -j -D "$PGDATA" postgres >/dev/null
    fi
    echo "postgres-entrypoint: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
