#!/bin/bash
# txwctl.sh - the operator CLI against the real query API and push gateway
#
# Creates the schema with txw-aggregator --migrate, loads known rows into
# PostgreSQL (windows, transactions, an account, alerts, dead letters),
# starts txw-query and checks every txwctl command's text, --json output and
# exit code: stats, alerts (--open, --min-score), ack by key and by id,
# tx, account, dead-letters, unknown ids (exit 1 with the API's message),
# usage errors (exit 2) and an unreachable API (exit 1). Then `tail`
# against txw-gateway fed by txw-pubinject: hello, snapshot and live
# alerts, an upstream gap answered by a re-sync, and a reconnect after the
# gateway restarts.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=183
API=http://127.0.0.1:${P}80
CTL=${TXWCTL:-$BIN/txwctl}     # TXWCTL: a wrapper such as valgrind
INJECT=$ROOT/build/tools/txw-pubinject
export TXW_API_URL=$API TXW_GATEWAY_URL=ws://127.0.0.1:${P}81/ws

# run NAME ARGS...: runs txwctl, keeps stdout/stderr in $WORK/NAME.out/.err, sets RC
run() {
    local name=$1; shift
    "$CTL" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    RC=$?
}
has() { grep -q -- "$2" "$WORK/$1.out"; }             # NAME REGEX: in stdout
err_has() { grep -q -- "$2" "$WORK/$1.err"; }         # NAME REGEX: in stderr
rows() { tail -n +2 "$WORK/$1.out" | wc -l; }         # table rows below the header
both() { eval "$1" && eval "$2"; }                    # two conditions, as strings

pg_start 25348
start aggregator ${P}93 "$BIN/txw-aggregator" --database-url "$DB" --migrate=true \
    --bind tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}22 --admin-port ${P}93
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_aggregator
check "the schema is in place (txw.alerts exists)" test "$(sql "SELECT to_regclass('txw.alerts') IS NOT NULL")" = t

# --- known rows -----------------------------------------------------------------------
sql "SELECT txw_data.ensure_partition((now() AT TIME ZONE 'UTC')::date)" >/dev/null
sql "SELECT txw_data.ensure_partition(((now() AT TIME ZONE 'UTC') - interval '1 day')::date)" >/dev/null
psql "$DB" -q -v ON_ERROR_STOP=1 >"$WORK/seed.log" 2>&1 <<'SQL' || { not_ok "known rows load"; cat "$WORK/seed.log"; exit 1; }
INSERT INTO txw_data.windows (dimension, key, window_start, shard, window_ms, tx_count,
    amount_minor_sum, amount_minor_min, amount_minor_max, approved_amount_minor_sum,
    approved, declined, failed, flagged, score_sum, late, closed)
VALUES
 ('overall', 'all', date_trunc('minute', now()) - interval '2 minutes', 0, 60000, 100,
  10000, 10, 500, 9000, 90, 7, 3, 2, 1000, 0, true),
 ('overall', 'all', date_trunc('minute', now()) - interval '1 minute', 0, 60000, 50,
  5050, 10, 600, 4500, 45, 3, 2, 1, 500, 0, true);
INSERT INTO txw_data.transactions (tx_id, ts, account_id, amount_minor, currency,
    amount_rep_minor, merchant_id, category, channel, branch_id, region, country,
    device_id, product_id, status, score, reasons, model_version, shard)
VALUES
 ('tx-ctl-1', now() - interval '3 minutes', 'acc-ctl-1', 250000, 'USD', 230000, 'm-0042',
  'electronics', 'online', 'b-001', 'R1', 'DE', 'd-9', NULL, 'approved', 91,
  '{amount_spike,new_device}', 'rules-1', 0),
 ('tx-ctl-2', now() - interval '2 minutes', 'acc-ctl-1', 1250, 'EUR', 1250, 'm-0001',
  'grocery', 'pos', 'b-001', 'R1', 'DE', 'd-1', 'p-7', 'declined', 85, '{velocity_minute}', 'rules-1', 0),
 ('tx-ctl-3', now() - interval '1 minute', 'acc-ctl-1', 500, 'JPY', 3, 'm-0002',
  'travel', 'mobile', 'b-002', 'R1', 'JP', 'd-1', NULL, 'approved', 5, '{}', 'rules-1', 0);
INSERT INTO txw_data.accounts (account_id, tx_count, spend_rep_minor, approved_rep_minor,
    approved, declined, failed, flagged, score_sum, max_score, first_seen, last_seen)
VALUES ('acc-ctl-1', 3, 231253, 230003, 2, 1, 0, 2, 181, 91,
        now() - interval '3 minutes', now() - interval '1 minute');
INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, account_id, score, reasons,
    amount_minor, currency, amount_rep_minor, merchant_id, country, channel, region,
    message, model_version, raised_at, acked_at, acked_by)
VALUES
 ('fraud:tx-ctl-1', 'fraud', 'tx-ctl-1', now() - interval '3 minutes', 'acc-ctl-1', 91,
  '{amount_spike,new_device}', 250000, 'USD', 230000, 'm-0042', 'DE', 'online', 'R1',
  'score 91', 'rules-1', now() - interval '3 minutes', NULL, NULL),
 ('fraud:tx-ctl-2', 'fraud', 'tx-ctl-2', now() - interval '2 minutes', 'acc-ctl-1', 85,
  '{velocity_minute}', 1250, 'EUR', 1250, 'm-0001', 'DE', 'pos', 'R1',
  'score 85', 'rules-1', now() - interval '2 minutes', NULL, NULL),
 ('region_health:R1:1700000000000', 'region_health', NULL, now() - interval '4 minutes', NULL, 27,
  '{}', NULL, NULL, NULL, NULL, NULL, NULL, 'R1', 'R1: 27% declined or failed', '',
  now() - interval '4 minutes', now() - interval '1 minute', 'bob');
INSERT INTO txw_data.dead_letters (origin_source, origin_seq, origin_index, line_no, tx_id,
    reason, field, message, payload, received_at)
VALUES
 ('producer@h:1', 1, 0, 12, 'tx-bad-1', 'bad_amount', 'amount', 'amount 12.345 has too many decimals',
  '{"tx_id":"tx-bad-1"}', now() - interval '2 minutes'),
 ('producer@h:1', 1, 1, 0, 'tx-bad-2', 'bad_currency', 'currency', 'XXQ is not ISO 4217',
  '{"tx_id":"tx-bad-2"}', now() - interval '1 minute');
SQL
ok "known rows load"

start query ${P}94 "$BIN/txw-query" --listen 127.0.0.1:${P}80 --database-url "$DB" \
    --admin-port ${P}94 --cache-ttl-ms 0

# --- general -----------------------------------------------------------------------------
run version --version
check "--version prints the version, exit 0" test $RC = 0 -a "$(cat "$WORK/version.out")" = "txwctl 0.1.0"
run help --help
check "--help lists every command, exit 0" \
    sh -c "test $RC = 0 && for c in stats alerts ack tx account dead-letters tail; do grep -q \"^  \$c \" '$WORK/help.out' || exit 1; done"
run help_ack ack --help
check "each command has --help (ack), exit 0" both 'test $RC = 0' 'has help_ack "usage: txwctl .*ack ID \[--by NAME\]"'
for bad in "" "frobnicate" "alerts --limit 0" "alerts --limit x" "stats --minutes 1441" \
           "ack" "ack a b" "tx" "dead-letters --reason nope" "alerts --bogus" "--api ftp://x stats" \
           "tail --topics alerts,bogus"; do
    run usage $bad
    check "usage error exits 2: txwctl $bad" test $RC = 2
done
check "a usage error says what is wrong" err_has usage "topics 'alerts,bogus'"

# --- stats ------------------------------------------------------------------------------
run stats stats
check "stats exits 0" test $RC = 0
cat "$WORK/stats.out" | sed 's/^/#   /'
check "stats: 150 transactions" has stats "^transactions  *150$"
check "stats: volume EUR 150.50 (money as minor units, formatted)" has stats "^volume  *EUR 150.50$"
check "stats: rates as percentages (90.0% approved, 6.7% declined, 3.3% failed)" \
    sh -c "grep -q '^approved  *90.0%$' '$WORK/stats.out' && grep -q '^declined  *6.7%$' '$WORK/stats.out' && grep -q '^failed  *3.3%$' '$WORK/stats.out'"
check "stats: flagged 3 (2.0%)" has stats "^flagged  *3 (2.0%)$"
check "stats: values aligned in one column" \
    test "$(awk '{ match($0, /  +/); print RSTART + RLENGTH }' "$WORK/stats.out" | sort -u | wc -l)" = 1
run stats_json --json stats --minutes 10
check "stats --json prints the API's JSON (count 150, minutes 10)" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["count"]==150 and d["minutes"]==10 and d["volume_minor"]==15050' "$WORK/stats_json.out"

# --- alerts --------------------------------------------------------------------------
run alerts alerts
check "alerts exits 0" test $RC = 0
sed 's/^/#   /' "$WORK/alerts.out"
check "alerts: header and 3 alerts" both 'test "$(rows alerts)" = 3' 'has alerts "^ID  *RAISED  *KIND  *SCORE  *STATUS"'
check "alerts: newest first, amounts formatted (USD 2500.00), reasons joined" \
    sh -c "sed -n 2p '$WORK/alerts.out' | grep -q 'fraud  *85  *open  *tx-ctl-2  *acc-ctl-1  *EUR 12.50  *velocity_minute' &&
           sed -n 3p '$WORK/alerts.out' | grep -q 'USD 2500.00  *amount_spike,new_device'"
check "alerts: times are RFC 3339" \
    test "$(tail -n +2 "$WORK/alerts.out" | awk '{print $2}' | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$')" = 3
check "alerts: columns aligned (every row's STATUS column starts where the header's does)" \
    python3 - "$WORK/alerts.out" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
col = lines[0].index("STATUS")
for l in lines[1:]:
    assert l[col - 1] == " " and l[col] != " " and l[col:].split()[0] in ("open", "acked"), l
PY
run alerts_open alerts --open
check "alerts --open: the 2 open ones" test "$(rows alerts_open)" = 2 -a "$(grep -c acked "$WORK/alerts_open.out")" = 0
run alerts_min alerts --min-score 90 --limit 5
check "alerts --min-score 90: only tx-ctl-1" both 'test "$(rows alerts_min)" = 1' 'has alerts_min tx-ctl-1'
run alerts_json alerts --json --limit 2
check "alerts --json (after the command) prints the API's JSON with 2 alerts" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["alerts"])==2' "$WORK/alerts_json.out"

# --- ack ----------------------------------------------------------------------------------
run ack_key ack fraud:tx-ctl-2 --by alice
check "ack by key (URL-encoded) exits 0 and says who acked" \
    both 'test $RC = 0' 'has ack_key "^alert [0-9]* (fraud:tx-ctl-2) is acked by alice at [0-9T:.-]*Z$"'
check "the ack is stored (acked_by alice)" \
    test "$(sql "SELECT acked_by FROM txw.alerts WHERE key = 'fraud:tx-ctl-2'")" = alice
ID1=$(sql "SELECT alert_id FROM txw.alerts WHERE key = 'fraud:tx-ctl-1'")
run ack_id ack "$ID1"
check "ack by numeric id without --by: the API's default name" \
    both 'test $RC = 0' 'has ack_id "^alert $ID1 (fraud:tx-ctl-1) is acked by api"'
run ack_again ack fraud:tx-ctl-2 --by carol
check "acking an acked alert changes nothing (still alice)" both 'test $RC = 0' 'has ack_again "acked by alice"'
run ack_missing ack 999999
check "ack of an unknown id exits 1" test $RC = 1
check "ack of an unknown id prints the API's message" err_has ack_missing "HTTP 404"
cat "$WORK/ack_missing.err" | sed 's/^/#   /'
run ack_odd ack "fraud:no such/alert?x=1"
check "an id with / ? and spaces is URL-encoded: a 404 for that id, not another route" \
    both 'test $RC = 1' 'err_has ack_odd "HTTP 404"'
run alerts_open2 alerts --open
check "after the acks no alert is open" both 'test $RC = 0' 'has alerts_open2 "^no alerts$"'

# --- tx and account --------------------------------------------------------------------------
run tx tx tx-ctl-1
check "tx exits 0" test $RC = 0
sed 's/^/#   /' "$WORK/tx.out"
check "tx: amount USD 2500.00, status, score, reasons with descriptions" \
    sh -c "grep -q '^amount  *USD 2500.00$' '$WORK/tx.out' && grep -q '^status  *approved$' '$WORK/tx.out' &&
           grep -q '^score  *91 (model rules-1)$' '$WORK/tx.out' && grep -q '^reasons  *amount_spike: ' '$WORK/tx.out' &&
           grep -q '^  *new_device: ' '$WORK/tx.out'"
run tx_jpy tx tx-ctl-3
check "tx: a currency without minor units (JPY 500)" has tx_jpy "^amount  *JPY 500$"
run tx_missing tx tx-nope
check "tx of an unknown id exits 1 with the API's message" both 'test $RC = 1' 'err_has tx_missing "tx-nope"'
run account account acc-ctl-1 --limit 2
check "account exits 0" test $RC = 0
sed 's/^/#   /' "$WORK/account.out"
check "account: totals, lifetime value EUR 2300.03, risk" \
    sh -c "grep -q '^transactions  *3 (approved 2, declined 1, failed 0)$' '$WORK/account.out' &&
           grep -q '^lifetime value  *EUR 2300.03$' '$WORK/account.out' && grep -q '^risk  *high' '$WORK/account.out'"
check "account --limit 2: the 2 most recent transactions" \
    both 'test "$(grep -c "^[0-9T:.-]*Z  *tx-ctl-" "$WORK/account.out")" = 2' 'has account "tx-ctl-3  *JPY 500"' 
run account_missing account nobody
check "account of an unknown id exits 1" test $RC = 1

# --- dead letters ---------------------------------------------------------------------------
run dead dead-letters
check "dead-letters: 2 rows, newest first" \
    both 'test $RC = 0 -a "$(rows dead)" = 2' 'sed -n 2p "$WORK/dead.out" | grep -q "bad_currency  *currency  *tx-bad-2"'
run dead_reason dead-letters --reason bad_amount --limit 10
check "dead-letters --reason bad_amount: 1 row with its line number" \
    both 'test "$(rows dead_reason)" = 1' 'has dead_reason "bad_amount  *amount  *tx-bad-1  *12  *amount 12.345"'

# --- network errors --------------------------------------------------------------------------
run down --api http://127.0.0.1:${P}99 stats
check "an unreachable API exits 1 with the reason" both 'test $RC = 1' 'err_has down "connect to"'
TXW_API_URL=http://127.0.0.1:${P}99 run down_env alerts
check "TXW_API_URL is honoured" both 'test $RC = 1' 'err_has down_env ":${P}99/api/v1/alerts"'
run not_api --api http://127.0.0.1:${P}94 stats
check "a server that is not the API (admin port: 404) exits 1" test $RC = 1

# --- tail ------------------------------------------------------------------------------------
check "txw-pubinject is built (make build/tools/txw-pubinject)" test -x "$INJECT"
mkdir -p "$WORK/www" && echo '<!doctype html><title>t</title>' >"$WORK/www/index.html"
GATEWAY=("$BIN/txw-gateway" --listen "127.0.0.1:${P}81" --admin-port "${P}95" --document-root "$WORK/www"
         --database-url "$DB" --alert-endpoints "tcp://127.0.0.1:${P}12" --window-endpoints ""
         --dead-letter-endpoints "")
start gateway ${P}95 "${GATEWAY[@]}"

"$CTL" tail --count 5 >"$WORK/tail.out" 2>"$WORK/tail.err" &
TAIL=$!
sleep 1
"$INJECT" --bind tcp://127.0.0.1:${P}12 --count 3 --rate 20 --wait-ms 800 >"$WORK/inject1.log" 2>&1
i=0; while kill -0 $TAIL 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait $TAIL; RC=$?
sed 's/^/#   /' "$WORK/tail.out"
check "tail --count 5 exits 0 after 5 lines" test $RC = 0 -a "$(wc -l <"$WORK/tail.out")" = 5
check "tail: hello, then the snapshot with the stored alerts" \
    sh -c "sed -n 1p '$WORK/tail.out' | grep -q ' hello server=\"txw-gateway [0-9.]*\" topics=alerts$' &&
           sed -n 2p '$WORK/tail.out' | grep -q ' snapshot alerts=3 count='"
check "tail: live alerts, one line each, account masked, amount formatted" \
    test "$(grep -cE '^[0-9T:.-]+Z alert fraud:pubinject-[0-9]+-[0-9]+ score=95 account=\*+[0-9]{4} amount=EUR 2500.00 reasons=amount_spike,new_device region=R1$' "$WORK/tail.out")" = 3

run tail_json tail --json --count 2 --topics alerts,stats
check "tail --json prints the messages as received (hello, snapshot)" \
    python3 -c 'import json,sys; m=[json.loads(l) for l in open(sys.argv[1])]; assert [x["type"] for x in m]==["hello","snapshot"] and m[0]["seq"]==1 and m[0]["topics"]==["alerts","stats"]' "$WORK/tail_json.out"

# An upstream gap (seq 1, 2, 5): the gateway says so, tail asks for a re-sync.
"$CTL" tail >"$WORK/tail_gap.out" 2>"$WORK/tail_gap.err" &
TAIL=$!
sleep 1
"$INJECT" --bind tcp://127.0.0.1:${P}12 --seqs 1,2,5 --wait-ms 800 --interval-ms 200 \
    --source gapper >"$WORK/inject2.log" 2>&1
sleep 1
check "tail: the upstream gap is shown and a re-sync is requested" \
    grep -q ' gap dropped=2 reason=upstream: re-sync requested$' "$WORK/tail_gap.out"
check "tail: the re-sync is answered with a fresh snapshot" \
    test "$(sed -n '/ gap dropped=/,$p' "$WORK/tail_gap.out" | grep -c ' snapshot ')" -ge 1

# The gateway restarts: tail reconnects and starts over with hello.
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_gateway
start gateway ${P}95 "${GATEWAY[@]}"
i=0; until [ "$(grep -c ' hello ' "$WORK/tail_gap.out")" -ge 2 ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "tail reconnects after the gateway restarts (a second hello)" \
    test "$(grep -c ' hello ' "$WORK/tail_gap.out")" -ge 2
check "tail says on stderr that it reconnects" grep -q "reconnecting" "$WORK/tail_gap.err"
kill -INT $TAIL; wait $TAIL; RC=$?
check "tail stops on Ctrl-C (SIGINT) with exit 0" test $RC = 0
sed 's/^/#   /' "$WORK/tail_gap.out" | head -12

TXW_GATEWAY_URL=ws://127.0.0.1:${P}98/ws run tail_down tail --count 1
check "tail against no gateway exits 1" both 'test $RC = 1' 'err_has tail_down "cannot connect"'
TXW_GATEWAY_URL=http://127.0.0.1:${P}81/ws run tail_bad tail
check "tail with a non-ws URL is a usage error (2)" test $RC = 2
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the API and the gateway stop cleanly" stop_clean $PID_query $PID_gateway
