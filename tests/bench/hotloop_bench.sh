#!/bin/bash
# hotloop_bench.sh - the scorer's whole step on one core (target: 1,000,000 tx/s)
#
# The generator's labelled stream (as `make eval` makes it: 5,000 accounts,
# every fraud pattern, HOTLOOP_COUNT transactions, default 200,000) is
# stored straight into txw_data.transactions (amounts in minor units, not
# converted: this bench times, it does not score quality), then txw-train
# trains the forest and the supervised model on it (--labels-csv) and
# times the whole scoring step of the first 100,000 transactions replayed:
# account state, signals, cross-account state, forest, supervised model
# and rules, on this thread's CPU time (services/train/supervised.c,
# s_measure). Printed beside the target; run by `make bench`.
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

COUNT=${HOTLOOP_COUNT:-200000}
pg_start 25396
"$BIN/txw-aggregator" --migrate-only --database-url "$DB" >"$WORK/migrate.log" 2>&1 \
    || { not_ok "migrations"; exit 1; }
"$BIN/txw-producer" --seed 42 --count "$COUNT" --rate 0 --start 2026-01-05T00:00:00Z \
    --event-rate 2.5 --accounts 5000 --fraud-rate 0.01 --csv-out "$WORK/labelled.csv" \
    --admin-port 0 >"$WORK/generate.log" 2>&1 || { not_ok "the producer writes the stream"; exit 1; }
sql "CREATE TABLE staged (tx_id text, ts timestamptz, account_id text, amount numeric,
         currency text, merchant_id text, category text, channel text, branch_id text,
         region text, country text, device_id text, product_id text, status text,
         device_type text, is_fraud int, fraud_pattern text, injected text)" >/dev/null
sql "\\copy staged FROM '$WORK/labelled.csv' WITH (FORMAT csv, HEADER)" >/dev/null \
    || { not_ok "the stream is loaded"; exit 1; }
sql "SELECT txw_data.ensure_partition (d::date) FROM generate_series (
         (SELECT min (ts) FROM staged)::date, (SELECT max (ts) FROM staged)::date,
         interval '1 day') d;
     INSERT INTO txw_data.transactions (tx_id, ts, account_id, amount_minor, currency,
         amount_rep_minor, merchant_id, category, channel, branch_id, region, country,
         device_id, product_id, status, device_type, score, model_version, shard)
     SELECT tx_id, ts, account_id, m, currency, m, merchant_id, category, channel, branch_id,
            region, country, device_id, NULLIF (product_id, ''), status, device_type, 0,
            'rules-3', 0
       FROM (SELECT *, round (amount * CASE WHEN currency IN ('JPY', 'KRW') THEN 1
                                             ELSE 100 END)::bigint AS m FROM staged) s
      ORDER BY ts, tx_id;
     ANALYZE txw_data.transactions" >/dev/null || { not_ok "the stream is stored"; exit 1; }
"$BIN/txw-train" --out "$WORK/model.bin" --database-url "$DB" \
    --supervised-out "$WORK/supervised.bin" --labels-csv "$WORK/labelled.csv" \
    --exclude-patterns money_mule,bust_out >"$WORK/train.log" 2>&1 \
    || { not_ok "txw-train trains both models"; tail -3 "$WORK/train.log"; exit 1; }
line=$(grep -o 'whole scoring step [0-9]* tx/s with the supervised model[^"]*' "$WORK/train.log")
rate=$(echo "$line" | awk '{ print $4 }')
[ -n "$rate" ] || { not_ok "txw-train prints the hot loop"; exit 1; }
echo "scoring step on one core (account state, signals, cross-account state, forest," \
     "supervised model, rules): $rate tx/s (target 1,000,000); ${line#*state), }"
check "at least 1,000,000 tx/s" test "$rate" -ge 1000000
