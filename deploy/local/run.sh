#!/bin/sh
# run.sh - the whole suite on one machine (what `make run` does after building)
#
# Starts PostgreSQL in var/pg (unless TXW_DATABASE_URL names a server), then
# the aggregator, scorer, validator, query API, push gateway (which serves the
# dashboard) and the generator, each logging JSON to var/log/<service>.log.
# Ctrl-C stops them in order and then PostgreSQL.
#   TXW_RATE=200     generator rate in tx/s; 0 starts no generator, so only
#                    files (txw-producer --file) or other producers feed it
#   TXW_DATABASE_URL use this PostgreSQL instead of a private one
#   TXW_WEBHOOK_URL  also start txw-notifier, posting every alert there
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=build/bin
LOG=var/log
mkdir -p "$LOG"
RATE=${TXW_RATE:-200}
pids=""
started_pg=0

stop_all() {
    trap - INT TERM EXIT
    echo
    echo "stopping txwatch..."
    # Upstream first, so each stage drains what is in flight downstream.
    for pid in $pids; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ "$started_pg" -eq 1 ]; then
        sh deploy/local/pg.sh stop
        echo "PostgreSQL stopped (data kept in var/pg)"
    fi
    echo "stopped."
    exit 0
}
trap stop_all INT TERM EXIT

if [ -n "${TXW_DATABASE_URL:-}" ]; then
    DB=$TXW_DATABASE_URL
else
    DB=$(sh deploy/local/pg.sh start) || exit 1
    started_pg=1
fi
export TXW_DATABASE_URL="$DB"

wait_ready() {   # port name
    i=0
    while ! curl -sf "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "$2 did not become ready; see $LOG/$2.log" >&2
            tail -5 "$LOG/$2.log" >&2
            exit 1
        fi
        sleep 0.1
    done
}

start() {   # name admin-port binary args...
    name=$1; port=$2; shift 2
    "$@" >>"$LOG/$name.log" 2>&1 &
    # Listed upstream-first for stop_all.
    pids="$! $pids"
    wait_ready "$port" "$name"
}

start aggregator 9103 $BIN/txw-aggregator
start query      9104 $BIN/txw-query --cors-origins '*'
start gateway    9105 $BIN/txw-gateway --document-root build/dashboard
if [ -n "${TXW_WEBHOOK_URL:-}" ]; then
    start notifier 9106 $BIN/txw-notifier --webhook-url "$TXW_WEBHOOK_URL"
fi
start scorer     9102 $BIN/txw-scorer
start validator  9101 $BIN/txw-validator
if [ "$RATE" != 0 ]; then
    start producer 9100 $BIN/txw-producer --rate "$RATE" \
        --ack-endpoints tcp://127.0.0.1:7022,tcp://127.0.0.1:7002
fi

HOST=$(hostname -I 2>/dev/null | awk '{ print $1 }')
cat <<INFO

txwatch is running.
  dashboard       http://127.0.0.1:8081/   (from another machine: http://${HOST:-<this host>}:8081/)
  query API       http://127.0.0.1:8080/api/v1/stats/realtime   (build/bin/txwctl stats)
  PostgreSQL      $DB
                  psql '$DB' -c 'select * from txw.window_totals order by window_start desc limit 10'
  producer        $( [ "$RATE" != 0 ] && echo "generating $RATE tx/s, admin http://127.0.0.1:9100/metrics" || echo "not started (TXW_RATE=0)")
  validator       ingest tcp://127.0.0.1:7001   admin http://127.0.0.1:9101/metrics
  scorer          input  tcp://127.0.0.1:7011   admin http://127.0.0.1:9102/metrics
  aggregator      input  tcp://127.0.0.1:7021   admin http://127.0.0.1:9103/metrics
  publishers      dead letters tcp://127.0.0.1:7002, alerts :7012, windows :7022
  query, gateway  admin http://127.0.0.1:9104/metrics, http://127.0.0.1:9105/metrics
  webhooks        $( [ -n "${TXW_WEBHOOK_URL:-}" ] && echo "every alert to $TXW_WEBHOOK_URL (admin :9106)" || echo "off (set TXW_WEBHOOK_URL to start txw-notifier)")
  logs            $LOG/<service>.log (JSON lines)

Feed a file:  $BIN/txw-producer --file transactions.csv --admin-port 0 \
                  --ack-endpoints tcp://127.0.0.1:7022,tcp://127.0.0.1:7002
              (kept until stored; the same command after a crash resumes where it stopped)
Press Ctrl-C to stop everything.
INFO

# Wait for Ctrl-C; report once a service that dies on its own.
reported=""
while :; do
    for pid in $pids; do
        case " $reported " in *" $pid "*) continue ;; esac
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "a service (pid $pid) exited; see $LOG/*.log" >&2
            reported="$reported $pid"
        fi
    done
    sleep 5
done
