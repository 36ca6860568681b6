#!/bin/bash
# bench.sh - sustained throughput and latency of the pipeline (`make bench`)
#
# Runs producer -> validator -> scorer -> aggregator -> PostgreSQL on this
# machine, once with --store none and once with --store all, and prints:
#   - the limits they are judged against, measured first in the same run:
#     one ZeroMQ hop with every record decoded, and a plain COPY into a
#     logged table with a primary key (hop_limit, copy_limit); each
#     throughput is printed as a share of its limit;
#   - sustained throughput: records per second from the producer's first
#     send until the aggregator has applied (and, with --store all, stored)
#     every record, the producer running flat out; then the same with
#     end-to-end acknowledgement (--ack-endpoints), where the run ends when
#     the producer has every record acknowledged, so the cost of keeping
#     and acknowledging every batch shows as the difference;
#   - latency, producer send -> scored, p50, p99 and p99.9, at a paced
#     50,000 tx/s (both store modes) and 200,000 tx/s (--store none), from the scorer's txw_e2e_latency_fine_seconds summary
#     (common/metrics.h: microsecond steps, each figure the upper end of
#     its step, within 1.6% above the true value), and each hop's share:
#     the age of a batch as each stage takes it in
#     (txw_hop_latency_fine_seconds of the validator, scorer, aggregator);
# BENCH_COUNT (default 2,000,000), BENCH_RATE (50,000) and BENCH_ACCOUNTS
# (the producer's 10,000 synthetic accounts) change the load; with many
# accounts nearly every flush writes a new row per account to
# txw_data.accounts and txw_data.account_months. BENCH_STORE=none|all runs
# only that store mode's throughput, acknowledged and not; BENCH_PRODUCTS=N
# (default 0) gives the producer a catalogue of N products, so online
# purchases come as baskets and the aggregator also keeps the co-purchase
# counts of the recommendations (proto/sql/018_recommendations.sql);
# BENCH_LINGER_MS=N runs the producer and every stage with --linger-ms N
# (default: theirs, 1 ms);
# BENCH_ONLY=pipeline stops after these, before the backfill and serving
# benches; BENCH_HIGH_RATE (200,000) is the second latency run's rate.
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

COUNT=${BENCH_COUNT:-2000000}
RATE=${BENCH_RATE:-50000}
ACCOUNTS=${BENCH_ACCOUNTS:-10000}
PRODUCTS=${BENCH_PRODUCTS:-0}
pg_start 25350
P=175

BASE_DB=$DB
LINGER=()
[ -n "${BENCH_LINGER_MS:-}" ] && LINGER=(--linger-ms "$BENCH_LINGER_MS")
SCORER_ARGS=("${LINGER[@]}") VALIDATOR_ARGS=("${LINGER[@]}")
run_pipeline() {   # store-mode
    # Every run in a database of its own, the last one dropped: a run does
    # not pay for the one before (its table sizes, autovacuum, checkpoint).
    DB=$BASE_DB
    sql "DROP DATABASE IF EXISTS bench_run" >/dev/null 2>&1
    sql "CHECKPOINT" >/dev/null
    sql "CREATE DATABASE bench_run" >/dev/null
    DB=${BASE_DB%/*}/bench_run
    sleep 1
    start_pipeline $P --store "$1" "${LINGER[@]}"
}

stop_pipeline() {
    # shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
    stop_clean $PID_validator $PID_scorer $PID_aggregator
    PIDS=()
}

# quantile PORT METRIC Q: upper bucket bound (ms) below which a fraction Q falls
quantile() {
    curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2_bucket" -v q="$3" '
        index($1, m "{le=") == 1 {
            le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
            n++; bound[n] = le; cum[n] = $2
        }
        END {
            total = cum[n]
            if (total == 0) { print "n/a"; exit }
            for (i = 1; i <= n; i++) if (cum[i] >= q * total) {
                printf "%s", (bound[i] == "+Inf" ? ">10000" : bound[i] * 1000); exit }
        }'
}

# fine_ms PORT NAME Q: the quantile Q of a fine histogram's summary, in ms
fine_ms() {
    curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2{quantile=\"$3\"}" '
        $1 == m { printf "%.3f", $2 * 1000; found = 1 } END { if (!found) printf "n/a" }'
}

# hop_ms PORT: p50/p99/p99.9 (ms) of the hop into the stage on admin PORT
# (txw_hop_latency_fine_seconds, common/in.c)
hop_ms() {
    local q out=
    for q in 0.5 0.99 0.999; do out="$out${out:+/}$(fine_ms "$1" txw_hop_latency_fine_seconds $q)"; done
    echo "$out"
}

throughput() {   # store-mode [acked]
    run_pipeline "$1"
    local t0 t1 acks=() label=$1
    t0=$(date +%s.%N)
    # Each run has its own event days, so one run's windows do not add to
    # another's, and its own seed, so its tx_ids are new (not duplicates).
    local start=2026-03-02T00:00:00Z seed=11
    [ "$1" = all ] && { start=2026-03-12T00:00:00Z; seed=13; }
    if [ "${2:-}" = acked ]; then
        acks=(--ack-endpoints "tcp://127.0.0.1:${P}22,tcp://127.0.0.1:${P}02")
        label="$1, acknowledged"
        seed=$((seed + 100))
        start=${start/2026-03-/2026-04-}
    fi
    "$BIN/txw-producer" --seed "$seed" --count "$COUNT" --rate 0 --start "$start" \
        --accounts "$ACCOUNTS" --products "$PRODUCTS" \
        --event-rate 5000 --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 \
        "${acks[@]}" "${LINGER[@]}" >"$WORK/producer-$1-${2:-plain}.log" 2>&1 || note "the producer failed"
    wait_metric ${P}93 txw_records_in_total "$COUNT" 600 || note "aggregator did not get every record"
    [ "$1" = all ] && { wait_metric ${P}93 txw_stored_transactions_total "$COUNT" 600 || note "not all stored"; }
    t1=$(date +%s.%N)
    local limit=$HOP_RATE what="one ZeroMQ hop"
    [ "$1" = all ] && { limit=$COPY_RATE; what="a plain COPY"; }
    awk -v n="$COUNT" -v a="$t0" -v b="$t1" -v s="$label" -v l="${limit:-0}" -v w="$what" \
        'BEGIN { r = n / (b - a)
                 printf "store=%s  throughput: %d tx in %.2f s = %d tx/s", s, n, b - a, r
                 if (l > 0) printf " (%.0f%% of %s, %d/s, measured in this run)", 100 * r / l, w, l
                 printf "\n" }'
    stop_pipeline
}

# The limits the pipeline's figures are put beside, measured in this run on
# this machine: one ZeroMQ hop of validated transactions with every record
# decoded (tests/tools/hop_bench.c), and a plain COPY of rows like the
# stored transactions into a logged table with a primary key (the
# aggregator's --store all can go no faster than PostgreSQL takes rows).
hop_limit() {
    local line
    line=$("$ROOT/build/tools/txw-hop_bench" --count "$COUNT" --port ${P}98) \
        || { note "the one-hop bench failed: $line"; return; }
    echo "limit: $line"
    HOP_RATE=$(sed -n 's/.*= \([0-9]*\) records\/s.*/\1/p' <<<"$line")
}

copy_limit() {
    local rows=1000000 file=$WORK/copy_limit.csv t0 t1
    sql "SET client_min_messages = warning; DROP TABLE IF EXISTS copy_limit;
         CREATE TABLE copy_limit (tx_id text PRIMARY KEY, ts timestamptz NOT NULL,
             account_id text NOT NULL, amount_minor bigint NOT NULL, currency text NOT NULL,
             amount_rep_minor bigint, merchant_id text, category text, channel text,
             branch_id text, region text, country text, device_id text, status text,
             score smallint, reasons text[], model_version text)" >/dev/null
    # One line: psql reads a backslash command to the end of its line.
    local select="SELECT 'COPY-' || i, timestamptz '2026-03-01' + i * interval '1 ms', 'A' || (i % 100000), 1000 + i % 50000, 'EUR', 1000 + i % 50000, 'M' || (i % 20000), 'grocery', 'pos', 'B' || (i % 200), 'R' || (i % 8), 'DE', 'D' || (i % 100000), 'approved', i % 100, '{}', 'rules-4' FROM generate_series (1, $rows) i"
    sql "\\copy ($select) TO '$file' WITH (FORMAT csv)" >/dev/null
    sql "CHECKPOINT" >/dev/null
    t0=$(date +%s.%N)
    sql "\\copy copy_limit FROM '$file' WITH (FORMAT csv)" >/dev/null \
        || { note "the plain COPY failed"; return; }
    t1=$(date +%s.%N)
    COPY_RATE=$(awk -v n=$rows -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
    echo "limit: a plain COPY of $rows rows like the stored transactions (text, primary key," \
         "logged): $COPY_RATE rows/s"
    sql "DROP TABLE copy_limit" >/dev/null
    rm -f "$file"
}

latency() {   # store-mode [rate]
    run_pipeline "$1"
    local rate=${2:-$RATE} n fine=txw_e2e_latency_fine_seconds target
    n=$((rate * 10))
    target="target p99 <= 2 ms at 50,000 tx/s"
    [ "$rate" -gt 50000 ] && target="target p99 <= 5 ms at 200,000 tx/s"
    "$BIN/txw-producer" --seed "$( [ "$1" = all ] && echo 14 || echo 12)" --count "$n" --rate "$rate" --accounts "$ACCOUNTS" --start "$( [ "$1" = all ] && echo 2026-03-22T00:00:00Z || echo 2026-03-20T00:00:00Z)" \
        --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 "${LINGER[@]}" >"$WORK/latency-$1-$rate.log" 2>&1
    wait_metric ${P}93 txw_records_in_total "$n" 120 >/dev/null
    echo "store=$1  latency at $rate tx/s (producer send -> scored): p50 $(fine_ms ${P}92 $fine 0.5) ms," \
         "p99 $(fine_ms ${P}92 $fine 0.99) ms, p99.9 $(fine_ms ${P}92 $fine 0.999) ms" \
         "($target); bucket bounds: p99 <= $(quantile ${P}92 txw_e2e_latency_seconds 0.99) ms"
    echo "  per hop, a batch's age as the stage takes it in (p50/p99/p99.9 ms; the rest is" \
         "batching before the seal and the stage's own work): producer -> validator $(hop_ms ${P}91)," \
         "validator -> scorer $(hop_ms ${P}92), scorer -> aggregator $(hop_ms ${P}93)"
    stop_pipeline
}

echo "# txwatch bench on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $COUNT records, $ACCOUNTS accounts"
HOP_RATE=0 COPY_RATE=0
hop_limit
copy_limit
throughput "${BENCH_STORE:-none}"
[ -z "${BENCH_STORE:-}" ] && throughput none acked
[ -z "${BENCH_STORE:-}" ] && throughput all
throughput "${BENCH_STORE:-all}" acked
latency none
latency all
latency none "${BENCH_HIGH_RATE:-200000}"
[ "${BENCH_ONLY:-}" = pipeline ] && exit 0

# --- the scorer's whole step on one core, with both models and cross-account state ---
bash "$ROOT/tests/bench/hotloop_bench.sh" || note "scoring hot loop: bench failed"

# --- serving: the query API under load, and push latency with many clients ----
echo "# query API (wrk, cached endpoints) and push gateway (500 WebSocket clients)"
stop_pipeline_pg() { [ "$PG_STARTED" -eq 1 ] && sh "$ROOT/deploy/local/pg.sh" stop >/dev/null; PG_STARTED=0; }
stop_pipeline_pg
bash "$ROOT/tests/bench/backfill_bench.sh" || note "backfill: failed"
bash "$ROOT/tests/bench/rescore_bench.sh" || note "rescore: target missed or bench failed"
bash "$ROOT/tests/bench/query_bench.sh" || note "query API: target missed or bench failed"
bash "$ROOT/tests/bench/ingest_bench.sh" || note "HTTP ingest: target missed or bench failed"
bash "$ROOT/tests/bench/push_bench.sh" || note "push gateway: target missed or bench failed"
echo "# customer analytics: RFM and cohort refresh of 1,000,000 customers"
bash "$ROOT/tests/bench/analytics_bench.sh" || note "analytics refresh: target missed or bench failed"
