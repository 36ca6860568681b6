#!/bin/sh
# pg.sh - a private PostgreSQL 15 server in the project's own data folder
#
# Usage: pg.sh start|stop|crash|url [USER]   (crash: stop at once, as a
#   power cut would: pg_ctl -m immediate, for the tests that prove nothing
#   is lost; url USER: the URL to log in as USER instead of the owner txw)
#   TXW_PG_DIR   data folder (default: var/pg under the current directory)
#   TXW_PG_PORT  TCP port on 127.0.0.1 (default: 25329, not PostgreSQL's 5432)
# initdb and pg_ctl refuse to run as root, so as root they run as the
# 'postgres' system user that Debian's package creates.
set -eu
PGBIN=/usr/lib/postgresql/15/bin
DIR=$(mkdir -p "${TXW_PG_DIR:-var/pg}" && cd "${TXW_PG_DIR:-var/pg}" && pwd)
PORT=${TXW_PG_PORT:-25329}
URL="postgresql://txw@127.0.0.1:$PORT/txwatch"
# txw is the superuser initdb makes and owns the schema (it applies the
# migrations); the services log in as roles of their own (proto/SQL.md,
# "Roles"). Every local connection is trusted: no passwords here.

# As root, the server runs as 'postgres', which must be able to reach the
# folder. When the checkout sits where it cannot (under /root, say), the
# data goes to a folder of its own in /var/tmp, named after the checkout.
if [ "$(id -u)" -eq 0 ] && ! su postgres -s /bin/sh -c "test -x '$DIR'" 2>/dev/null; then
    DIR=/var/tmp/txwatch-pg-$(echo "$DIR" | cksum | cut -d' ' -f1)
    mkdir -p "$DIR"
    echo "note: postgres cannot reach the project folder; data in $DIR" >&2
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres:postgres "$DIR"
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

case "${1:-}" in
start)
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
        as_owner "$PGBIN/initdb -D '$DIR/data' -U txw --auth=trust -E UTF8 --locale=C >'$DIR/initdb.log' 2>&1" \
            || { echo "initdb failed, see $DIR/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$PGBIN/pg_ctl -D '$DIR/data' status" >/dev/null 2>&1; then
        # The project's ports lie below Linux's ephemeral range (32768 and
        # up), so no client socket takes one; a port still held for a moment
        # (a server of an earlier run shutting down) is retried.
        tries=1
        until as_owner "$PGBIN/pg_ctl -D '$DIR/data' -l '$DIR/server.log' -w -t 60 start \
            -o \"-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
                 -c shared_buffers=256MB -c max_wal_size=2GB -c max_connections=200\"" >/dev/null
        do
            if [ "$tries" -ge 5 ] || ! tail -5 "$DIR/server.log" | grep -q "Address already in use"; then
                echo "PostgreSQL did not start, see $DIR/server.log" >&2
                exit 1
            fi
            echo "note: port $PORT is busy; starting PostgreSQL again in 2 s" >&2
            tries=$((tries + 1))
            sleep 2
        done
    fi
    psql "postgresql://txw@127.0.0.1:$PORT/postgres" -qAtc \
        "SELECT 1 FROM pg_database WHERE datname = 'txwatch'" | grep -q 1 \
        || psql "postgresql://txw@127.0.0.1:$PORT/postgres" -qc "CREATE DATABASE txwatch" >/dev/null
    echo "$URL"
    ;;
stop)
    if [ -f "$DIR/data/PG_VERSION" ]; then
        as_owner "$PGBIN/pg_ctl -D '$DIR/data' -m fast -w stop" >/dev/null 2>&1 || true
    fi
    ;;
crash)
    as_owner "$PGBIN/pg_ctl -D '$DIR/data' -m immediate -w stop" >/dev/null 2>&1 || true
    ;;
url)
    if [ -n "${2:-}" ]; then
        echo "postgresql://$2@127.0.0.1:$PORT/txwatch"
    else
        echo "$URL"
    fi
    ;;
*)
    echo "usage: $0 start|stop|crash|url [USER]" >&2
    exit 2
    ;;
esac
