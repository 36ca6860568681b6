#!/bin/bash
# push_bench.sh - push latency of txw-gateway with many WebSocket clients
#
# CLIENTS clients (default 500) subscribe to alerts; txw-pubinject publishes
# RATE alerts per second (default 200) for DURATION seconds (default 20) with
# raised_ms = send time, and every client measures published -> received.
# Prints p50/p99/max and messages received against expected; target p99 <
# 50 ms. With LIMIT=1, also connects growing numbers of clients to find how
# many this machine holds, with the gateway's threads and memory at each.
# The gateway runs without a database, so with --auth off and no handshake
# limit: keys are checked once per connection, and this measures pushes.
# Ports 186xx. Needs build/bin/txw-gateway and build/tools/txw-pubinject.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/bin
WORK=$ROOT/build/bench/push
CLIENTS=${CLIENTS:-500}
RATE=${RATE:-200}
DURATION=${DURATION:-20}
LIMIT=${LIMIT:-0}
P=186
rm -rf "$WORK" && mkdir -p "$WORK"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap cleanup EXIT

gateway() {   # max clients
    "$BIN/txw-gateway" --listen 127.0.0.1:${P}80 --admin-port ${P}95 --max-clients "$1" \
        --auth off --handshakes-per-client 0 \
        --alert-endpoints tcp://127.0.0.1:${P}12 --window-endpoints "" --dead-letter-endpoints "" \
        --document-root "$WORK" >"$WORK/gateway-$1.log" 2>&1 &
    GW_PID=$!
    PIDS+=("$GW_PID")
    for _ in $(seq 100); do curl -sf http://127.0.0.1:${P}95/readyz >/dev/null && return 0; sleep 0.1; done
    echo "gateway did not start"; tail "$WORK/gateway-$1.log"; exit 1
}
usage() {     # threads and resident memory of the gateway
    echo "threads $(ls /proc/$GW_PID/task | wc -l), RSS $(awk '/VmRSS/ { print $2 / 1024 " MiB" }' /proc/$GW_PID/status)"
}

gateway $((CLIENTS + 10))
COUNT=$((RATE * DURATION))
echo "# $CLIENTS clients, $RATE alerts/s for $DURATION s ($COUNT alerts each)"
node "$ROOT/tests/js/push_bench.mjs" ws://127.0.0.1:${P}80/ws?topics=alerts "$CLIENTS" "$COUNT" \
    "$WORK/ready" 4 $((DURATION + 60)) >"$WORK/result.txt" 2>&1 &
NODE=$!
for _ in $(seq 600); do [ -f "$WORK/ready" ] && break; sleep 0.1; done
echo "# all connected: gateway $(usage)"
"$BIN/../tools/txw-pubinject" --bind tcp://127.0.0.1:${P}12 --rate "$RATE" --count "$COUNT" --wait-ms 1000 --pad 200
wait $NODE
rc=$?
cat "$WORK/result.txt"
curl -sf http://127.0.0.1:${P}95/metrics | grep -E '^txw_gateway_push_latency_seconds_(count|sum)|slow_client_closes|dropped_total\{type="alert"'
kill -TERM $GW_PID; wait $GW_PID 2>/dev/null

if [ "$LIMIT" = 1 ]; then
    gateway 20000
    for n in 1000 2000 4000 8000; do
        node "$ROOT/tests/js/push_bench.mjs" --connect ws://127.0.0.1:${P}80/ws?topics=alerts $n &
        C=$!
        sleep 12
        echo "# $n clients: gateway $(usage)"
        wait $C
    done
    kill -TERM $GW_PID; wait $GW_PID 2>/dev/null
fi
exit $rc
