#!/bin/bash
# rescore_bench.sh - rescoring 100,000 stale accounts (target: under 30 s)
#
# Stores RESCORE_ACCOUNTS (default 100,000) accounts of 2 to 5 transactions
# each (generated in SQL, about 350,000 rows over a week of event time),
# trains a model on them (txw-train), flags every account stale and times
# one run of txw-rescore with the default rules and that model, from start
# to exit: the flags taken in batches of 1,000, each batch's transactions
# read in one statement, replayed, the rescores and alerts written. Checks
# that every account was rescored and no flag is left. Run by `make bench`.
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

ACCOUNTS=${RESCORE_ACCOUNTS:-100000}
pg_start 25384
"$BIN/txw-aggregator" --migrate-only --database-url "$DB" >"$WORK/migrate.log" 2>&1 \
    || { not_ok "migrations"; exit 1; }

# Account i: 2 + i % 4 transactions a day or so apart, amounts and places
# that vary with i, so the replay has histories to compare with.
sql "SELECT txw_data.ensure_partition (d::date)
       FROM generate_series (date '2026-01-05', date '2026-01-12', interval '1 day') d;
     INSERT INTO txw_data.transactions (tx_id, ts, account_id, amount_minor, currency,
         amount_rep_minor, merchant_id, category, channel, branch_id, region, country,
         device_id, status, score, reasons, model_version, shard)
     SELECT 'T' || a || '-' || k,
            timestamptz '2026-01-05 00:00Z' + (k * 26 + a % 20) * interval '1 hour' + a * interval '1 ms',
            'B' || a, 500 + (a * 37 + k * 911) % 90000, 'EUR', 500 + (a * 37 + k * 911) % 90000,
            'M' || (a * 7 + k) % 5000, (ARRAY ['grocery', 'electronics', 'travel', 'fuel']) [1 + (a + k) % 4],
            (ARRAY ['pos', 'online', 'atm']) [1 + (a * k) % 3], 'BR' || a % 300, 'EU-' || a % 7,
            (ARRAY ['DE', 'FR', 'NL', 'US', 'BR']) [1 + (CASE WHEN k = 3 THEN a ELSE 0 END) % 5],
            'D' || a || '-' || (k / 3), 'approved', 10, '{}', 'rules-3', 0
       FROM generate_series (1, $ACCOUNTS) a, generate_series (0, 4) k
      WHERE k < 2 + a % 4;
     ANALYZE txw_data.transactions" >/dev/null || { not_ok "the transactions are generated"; exit 1; }
rows=$(sql "SELECT count(*) FROM txw_data.transactions")
"$BIN/txw-train" --database-url "$DB" --out "$WORK/model.bin" >"$WORK/train.log" 2>&1 \
    || { not_ok "a model is trained"; exit 1; }
sql "INSERT INTO txw_data.stale_accounts (account_id, reason)
     SELECT DISTINCT account_id, 'transaction' FROM txw_data.transactions ON CONFLICT DO NOTHING"

t0=$(date +%s.%N)
"$BIN/txw-rescore" --database-url "$DB" --model "$WORK/model.bin" >"$WORK/rescore.log" 2>&1
rc=$?
t1=$(date +%s.%N)
[ $rc -eq 0 ] || { not_ok "txw-rescore exits 0"; tail -3 "$WORK/rescore.log"; exit 1; }
check "every account is rescored" \
    test "$(sql "SELECT count(DISTINCT account_id) FROM txw_data.rescores")" = "$ACCOUNTS"
check "no flag is left" test "$(sql "SELECT count(*) FROM txw_data.stale_accounts")" = 0
awk -v n="$ACCOUNTS" -v r="$rows" -v a="$t0" -v b="$t1" 'BEGIN {
    printf "rescore: %d stale accounts (%d transactions) rescored in %.1f s (%.0f accounts/s)\n",
           n, r, b - a, n / (b - a) }'
check "under 30 s" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 30) }'
