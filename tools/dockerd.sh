#!/bin/sh
# dockerd.sh - a Docker engine for `make images` and the container suite
#
# Usage: tools/dockerd.sh start | stop | status
#   start   installs Debian's docker.io (and debootstrap, docker-compose)
#           when missing, and starts dockerd when no engine answers on the
#           default socket; prints "started" or "running" (already there)
#   stop    stops the engine only if `start` started it (its pid file,
#           build/dockerd.pid); one started by anyone else is left alone
#   status  exit 0 when an engine answers
# dockerd runs as root (as the engine does under systemd); its log is
# build/dockerd.log. Without root and without a running engine, start fails
# with the reason.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
pidfile=$root/build/dockerd.pid
logfile=$root/build/dockerd.log
# Debian's client: the engine is Debian's too, and its `docker build` has
# BuildKit built in (a newer client elsewhere on PATH may need buildx).
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker || echo docker)}

answers() { "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

case ${1:-} in
    status)
        answers ;;
    start)
        # apt's output goes to stderr: stdout is the one word callers read
        sh "$root/tools/deps.sh" docker.io debootstrap docker-compose >&2
        DOCKER=/usr/bin/docker
        if answers; then
            echo "running"
            exit 0
        fi
        if [ "$(id -u)" -ne 0 ]; then
            echo "dockerd.sh: no Docker engine answers, and starting one needs root" >&2
            exit 1
        fi
        mkdir -p "$root/build"
        # setsid: the engine outlives this script and is not in the caller's
        # process group (a test runner's timeout kills that group).
        setsid /usr/sbin/dockerd >"$logfile" 2>&1 </dev/null &
        echo $! >"$pidfile"
        i=0
        until answers; do
            i=$((i + 1))
            if [ $i -gt 120 ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
                echo "dockerd.sh: dockerd did not come up; the end of $logfile:" >&2
                tail -n 20 "$logfile" >&2
                rm -f "$pidfile"
                exit 1
            fi
            sleep 0.5
        done
        echo "started" ;;
    stop)
        [ -f "$pidfile" ] || exit 0
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 60 ]; do i=$((i + 1)); sleep 0.5; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
        rm -f "$pidfile" ;;
    *)
        echo "usage: tools/dockerd.sh start | stop | status" >&2
        exit 2 ;;
esac
