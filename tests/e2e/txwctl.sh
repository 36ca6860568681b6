#!/bin/bash
# txwctl.sh - the operator CLI against the real query API and push gateway
#
# Creates the schema with txw-aggregator --migrate, loads known rows into
# PostgreSQL (windows, transactions, an account, alerts, dead letters) and
# makes the first admin key without the API (keys create --database-url:
# four at once with --if-none make one; --out files, stale and active).
# Starts txw-query (--key-cache-ms 300), makes analyst and viewer keys
# through it and checks every txwctl command's text, --json output and
# exit code: the key from --key-file, TXW_API_KEY or TXW_API_KEY_FILE, 401
# without a key or with a bad one (exit 1 and how to give a key), 403 with
# a viewer key, whoami, stats, alerts (--open, --min-score), ack by key and
# by id in the key's name with a disposition and a note, reopen, the
# workflow (alerts search with its filters and cursor, assign, close, note), tx,
# account, dead-letters, keys list/create/revoke (a revoked key stops
# working), audit, unknown ids (exit 1 with the API's message), usage
# errors (exit 2) and an unreachable API (exit 1). Then `tail` with the
# key against txw-gateway fed by txw-pubinject: hello, snapshot and live
# alerts, an upstream gap answered by a re-sync, and a reconnect after the
# gateway restarts; and against a fake gateway that logs the handshake:
# the key offered as the subprotocol txwatch.key.<key>, and the answers a
# gateway may give (txwatch, none, one not offered, 401). Last, that no
# key is printed but by the command that made it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=183
API=http://127.0.0.1:${P}80
CTL=${TXWCTL:-$BIN/txwctl}     # TXWCTL: a wrapper such as valgrind
# The test tools next to TXW_BIN's binaries (make BUILD=DIR builds both
# into DIR), else the default build's.
INJECT=$(dirname "$BIN")/tools/txw-pubinject
[ -x "$INJECT" ] || INJECT=$ROOT/build/tools/txw-pubinject
export TXW_API_URL=$API TXW_GATEWAY_URL=ws://127.0.0.1:${P}81/ws
unset TXW_API_KEY TXW_API_KEY_FILE     # the suite's keys only
# shellcheck disable=SC2034 # used in the conditions both() evaluates
KEYRE='^txw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$'

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
key_id() { sed -n 's/^txw_\([0-9a-f]\{16\}\)_.*/\1/p' "$1"; }       # FILE: its key's id
secret() { cut -d_ -f3- "$1" | tr -d '\n'; }                        # FILE: its key's secret
keys_named() { sql "SELECT count(*) FROM txw_data.api_keys WHERE name = '$1'"; }

pg_start 25348
start aggregator ${P}93 "$BIN/txw-aggregator" --database-url "$DB" --migrate=true \
    --bind tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}22 --admin-port ${P}93
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean $PID_aggregator
check "the schema is in place (txw.alerts exists)" test "$(sql "SELECT to_regclass('txw.alerts') IS NOT NULL")" = t

# --- known rows -----------------------------------------------------------------------
sql "SELECT txw_data.ensure_partition((now() AT TIME ZONE 'UTC')::date)" >/dev/null
sql "SELECT txw_data.ensure_partition(((now() AT TIME ZONE 'UTC') - interval '1 day')::date)" >/dev/null
sql "SELECT txw_data.ensure_event_partition(t, now() - d * interval '1 day')
     FROM unnest('{alerts,dead_letters}'::text[]) t, generate_series(0, 1) d" >/dev/null
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
-- An acknowledged alert is a closed one (021_workflow).
UPDATE txw_data.alerts SET status = 'closed' WHERE acked_at IS NOT NULL;
INSERT INTO txw_data.dead_letters (origin_source, origin_seq, origin_index, line_no, tx_id,
    reason, field, message, payload, received_at)
VALUES
 ('producer@h:1', 1, 0, 12, 'tx-bad-1', 'bad_amount', 'amount', 'amount 12.345 has too many decimals',
  '{"tx_id":"tx-bad-1"}', now() - interval '2 minutes'),
 ('producer@h:1', 1, 1, 0, 'tx-bad-2', 'bad_currency', 'currency', 'XXQ is not ISO 4217',
  '{"tx_id":"tx-bad-2"}', now() - interval '1 minute');
SQL
ok "known rows load"

# --- the first admin key, without the API ----------------------------------------------
for n in 1 2 3 4; do
    ( "$CTL" keys create boot admin --database-url "$DB" --if-none --out "$WORK/boot$n.key" \
          >"$WORK/boot$n.out" 2>"$WORK/boot$n.err"
      echo $? >"$WORK/boot$n.rc" ) &
done
wait
sed 's/^/#   /' "$WORK"/boot?.err
check "four bootstraps at once (--if-none) make one admin key between them" \
    test "$(sql "SELECT count(*) FROM txw_data.api_keys WHERE role = 'admin'")" = 1
check "one wrote its --out file, the other three say an admin key exists" \
    both 'test "$(ls "$WORK"/boot?.key | wc -l)" = 1' \
         'test "$(grep -l "an active admin key exists" "$WORK"/boot?.err | wc -l)" = 3'
check "all four exit 0 and print nothing on stdout" \
    both 'test "$(cat "$WORK"/boot?.rc | tr -d "\n")" = 0000' 'test "$(cat "$WORK"/boot?.out | wc -c)" = 0'
ADMIN=$(ls "$WORK"/boot?.key | head -1)
ADMIN_ID=$(key_id "$ADMIN")
check "the --out file is mode 0600 and holds the key alone" \
    both 'test "$(stat -c %a "$ADMIN")" = 600 -a "$(wc -l <"$ADMIN")" = 1' 'grep -Eq "$KEYRE" "$ADMIN"'
check "only the SHA-256 of the secret is stored, under the key's id" \
    test "$(sql "SELECT encode(secret_hash, 'hex') FROM txw_data.api_keys WHERE key_id = '$ADMIN_ID'")" = \
         "$(secret "$ADMIN" | sha256sum | cut -d' ' -f1)"
PGROLE=$(sql "SELECT current_user")
check "created_by is database:<role>" \
    test "$(sql "SELECT created_by FROM txw_data.api_keys WHERE key_id = '$ADMIN_ID'")" = "database:$PGROLE"
check "the audit row: principal database:<role>, key.create, the key id, its name and role" \
    test "$(sql "SELECT count(*) FROM txw_data.audit WHERE principal = 'database:$PGROLE'
                 AND action = 'key.create' AND target = '$ADMIN_ID'
                 AND detail = '{\"name\": \"boot\", \"role\": \"admin\"}'")" = 1
run boot_again keys create boot2 admin --database-url "$DB" --if-none
check "bootstrap --if-none once more: exit 0, nothing on stdout, says which key exists" \
    both 'test $RC = 0 -a ! -s "$WORK/boot_again.out"' \
         'err_has boot_again "an active admin key exists ($ADMIN_ID, boot): none made"'
check "... and makes no second admin key" \
    test "$(sql "SELECT count(*) FROM txw_data.api_keys WHERE role = 'admin'")" = 1
run boot_stdout keys create ops viewer --database-url "$DB"
check "bootstrap without --out: the key on stdout, once" \
    both 'test $RC = 0 -a "$(wc -l <"$WORK/boot_stdout.out")" = 1' 'grep -Eq "$KEYRE" "$WORK/boot_stdout.out"'
check "... and on stderr that it is shown only this once" \
    err_has boot_stdout "made viewer key [0-9a-f]* (ops) as database:$PGROLE; the key is shown only this once"
cp "$ADMIN" "$WORK/admin.before"
run boot_active keys create boot3 admin --database-url "$DB" --out "$ADMIN"
check "--out naming a file with an active key: refused (2), the file kept, no key made" \
    both 'test $RC = 2 && cmp -s "$ADMIN" "$WORK/admin.before"' \
         'err_has boot_active "which is active" && test "$(keys_named boot3)" = 0'
echo "not a key" >"$WORK/notakey"
run boot_notakey keys create boot4 viewer --database-url "$DB" --out "$WORK/notakey"
check "--out naming a file that is no key file: refused (2), the file kept, no key made" \
    both 'test $RC = 2 && test "$(cat "$WORK/notakey")" = "not a key"' \
         'err_has boot_notakey "does not hold a txwatch key" && test "$(keys_named boot4)" = 0'
run boot_nodb keys create boot5 admin --database-url "postgresql://127.0.0.1:${P}99/none?connect_timeout=2"
check "bootstrap with no PostgreSQL there exits 1 with the reason" \
    both 'test $RC = 1' 'err_has boot_nodb "cannot connect to PostgreSQL"'

start query ${P}94 "$BIN/txw-query" --listen 127.0.0.1:${P}80 --database-url "$DB" \
    --admin-port ${P}94 --cache-ttl-ms 0 --key-cache-ms 300

# --- keys through the API ----------------------------------------------------------------
run k_alice --key-file "$ADMIN" keys create alice analyst
check "keys create (admin key): the key on stdout, once" \
    both 'test $RC = 0 -a "$(wc -l <"$WORK/k_alice.out")" = 1' 'grep -Eq "$KEYRE" "$WORK/k_alice.out"'
check "... and on stderr that it is shown only this once" \
    err_has k_alice "made analyst key [0-9a-f]* (alice); the key is shown only this once"
cp "$WORK/k_alice.out" "$WORK/alice.key"
run k_carol --key-file "$ADMIN" keys create carol analyst --out "$WORK/carol.key"
check "keys create --out: the key in a file of mode 0600, nothing on stdout" \
    both 'test $RC = 0 -a ! -s "$WORK/k_carol.out" -a "$(stat -c %a "$WORK/carol.key")" = 600' \
         'grep -Eq "$KEYRE" "$WORK/carol.key" && err_has k_carol "written to $WORK/carol.key"'
run k_vic --json --key-file "$ADMIN" keys create vic viewer
check "keys create --json: the API's answer, with the key" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["role"]=="viewer" and d["name"]=="vic" and d["key"].startswith("txw_"+d["key_id"]+"_") and d["revoked_at"] is None' "$WORK/k_vic.out"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$WORK/k_vic.out" >"$WORK/vic.key"
run k_list --key-file "$ADMIN" keys list
sed 's/^/#   /' "$WORK/k_list.out"
check "keys list: the 5 active keys" both 'test $RC = 0 -a "$(rows k_list)" = 5' \
    'has k_list "^KEY_ID  *NAME  *ROLE  *CREATED  *CREATED_BY$"'
check "keys list: name, role, when and by whom (the bootstrap's database:<role>), no secrets" \
    both 'has k_list "^$(key_id "$WORK/alice.key")  *alice  *analyst  *[0-9T:.-]*Z  *boot ($ADMIN_ID)$"' \
         'has k_list "^$ADMIN_ID  *boot  *admin  *[0-9T:.-]*Z  *database:$PGROLE$" && ! has k_list "txw_"'
# From here on the analyst alice is the caller unless a command says otherwise.
export TXW_API_KEY_FILE=$WORK/alice.key

# --- keys given, and refused ---------------------------------------------------------------
TXW_API_KEY_FILE='' run noauth stats
sed 's/^/#   /' "$WORK/noauth.err"
check "no key: exit 1 with the API's 401" both 'test $RC = 1' 'err_has noauth "HTTP 401"'
check "no key: says how to give one" err_has noauth "use --key-file FILE, TXW_API_KEY_FILE=FILE or TXW_API_KEY=KEY"
TXW_API_KEY=txw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA run badkey stats
check "an unknown key: exit 1, 401, and which key was refused" \
    both 'test $RC = 1 && err_has badkey "HTTP 401"' 'err_has badkey "the key from TXW_API_KEY was refused"'
TXW_API_KEY=not-a-key-s3cret run malformed stats
check "a malformed key: usage error (2), and what was given is not echoed" \
    both 'test $RC = 2 && err_has malformed "is not a txwatch key"' '! err_has malformed s3cret'
run nofile --key-file "$WORK/missing.key" stats
check "a --key-file that cannot be read: usage error (2)" both 'test $RC = 2' 'err_has nofile "missing.key"'
run whoami whoami
sed 's/^/#   /' "$WORK/whoami.out"
check "whoami: name and role" both 'test $RC = 0 && has whoami "^name  *alice$"' 'has whoami "^role  *analyst$"'
check "whoami: the key's id and where it came from" \
    both 'has whoami "^key id  *$(key_id "$WORK/alice.key")$"' 'has whoami "^key from  *TXW_API_KEY_FILE $WORK/alice.key$"'
TXW_API_KEY=$(cat "$WORK/vic.key") run prec --key-file "$WORK/carol.key" whoami
check "--key-file goes before TXW_API_KEY" has prec "^name  *carol$"
TXW_API_KEY=$(cat "$WORK/vic.key") run prec2 whoami
check "TXW_API_KEY goes before TXW_API_KEY_FILE" has prec2 "^name  *vic$"
run prec3 whoami --key-file "$WORK/carol.key"
check "--key-file after the command works too" has prec3 "^name  *carol$"
run whoami_json --json whoami
check "whoami --json prints the API's JSON" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["name"]=="alice" and d["role"]=="analyst" and len(d["key_id"])==16' "$WORK/whoami_json.out"
run list_analyst keys list
check "keys list with an analyst key: exit 1 with the 403 and a hint" \
    both 'test $RC = 1 && err_has list_analyst "HTTP 403"' 'err_has list_analyst "has too low a role"'

# --- general -----------------------------------------------------------------------------
run version --version
check "--version prints the version, exit 0" test $RC = 0 -a "$(cat "$WORK/version.out")" = "txwctl 0.1.0"
run help --help
check "--help lists every command, exit 0" \
    sh -c "test $RC = 0 && for c in stats alerts 'alerts search' 'alerts assign' 'alerts close' 'alerts note' ack reopen tx account dead-letters tail whoami 'keys list' 'keys create' 'keys revoke' audit; do grep -Eq \"^  \$c( |\$)\" '$WORK/help.out' || exit 1; done"
run help_ack ack --help
check "each command has --help (ack), exit 0" \
    both 'test $RC = 0' 'has help_ack "usage: txwctl .*ack ID \[--disposition D\] \[--note TEXT\]"'
run help_keys keys create --help
check "a group's command has --help (keys create), exit 0" \
    both 'test $RC = 0' 'has help_keys "usage: txwctl .*keys create NAME ROLE \[--out FILE\]"'
run help_group keys --help
check "keys --help lists the group's commands, exit 0" \
    both 'test $RC = 0' 'test "$(grep -c " keys [a-z]* " "$WORK/help_group.out")" = 3'
for bad in "" "frobnicate" "alerts --limit 0" "alerts --limit x" "stats --minutes 1441" \
           "ack" "ack a b" "ack 1 --by bob" "ack 1 --disposition maybe" "reopen" "tx" \
           "dead-letters --reason nope" "alerts --bogus" "--api ftp://x stats" \
           "keys" "keys frob" "keys create alice" "keys create alice root" \
           "keys create alice viewer --if-none" "keys revoke nothex" "audit --limit 0" \
           "whoami extra" "--key-file" "tail --topics alerts,bogus"; do
    run usage $bad
    check "usage error exits 2: txwctl $bad" test $RC = 2
done
check "a usage error says what is wrong" err_has usage "topics 'alerts,bogus'"
run usage_by ack 1 --by bob
check "ack --by is refused with the reason (an ack is in the key's name)" \
    err_has usage_by "in the name of the API key"

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
    assert l[col - 1] == " " and l[col] != " " and l[col:].split()[0] in ("open", "closed"), l
PY
run alerts_open alerts --open
check "alerts --open: the 2 open ones" test "$(rows alerts_open)" = 2 -a "$(grep -c closed "$WORK/alerts_open.out")" = 0
run alerts_min alerts --min-score 90 --limit 5
check "alerts --min-score 90: only tx-ctl-1" both 'test "$(rows alerts_min)" = 1' 'has alerts_min tx-ctl-1'
run alerts_json alerts --json --limit 2
check "alerts --json (after the command) prints the API's JSON with 2 alerts" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["alerts"])==2' "$WORK/alerts_json.out"

# --- ack and reopen -------------------------------------------------------------------------
run ack_key ack fraud:tx-ctl-2 --disposition false_positive --note "customer confirmed by phone"
check "ack by key (URL-encoded) exits 0: acked in the key's name, with the disposition" \
    both 'test $RC = 0' 'has ack_key "^alert [0-9]* (fraud:tx-ctl-2) is closed by alice at [0-9T:.-]*Z as false_positive$"'
check "ack prints the note" has ack_key "^note  *customer confirmed by phone$"
check "the ack is stored (acked_by alice, the disposition and the note)" \
    test "$(sql "SELECT acked_by || '|' || disposition || '|' || note FROM txw.alerts WHERE key = 'fraud:tx-ctl-2'")" = \
         "alice|false_positive|customer confirmed by phone"
ID1=$(sql "SELECT alert_id FROM txw.alerts WHERE key = 'fraud:tx-ctl-1'")
run ack_id ack "$ID1"
check "ack by numeric id without options: acked in the key's name" \
    both 'test $RC = 0' 'has ack_id "^alert $ID1 (fraud:tx-ctl-1) is closed by alice at [0-9T:.-]*Z$"'
run ack_again --key-file "$WORK/carol.key" ack fraud:tx-ctl-2 --disposition duplicate
check "acking an acked alert (another key) changes nothing (still alice, false_positive)" \
    both 'test $RC = 0' 'has ack_again "closed by alice at .* as false_positive$"'
run ack_viewer --key-file "$WORK/vic.key" ack fraud:tx-ctl-1
sed 's/^/#   /' "$WORK/ack_viewer.err"
check "ack with a viewer key: exit 1 with the API's 403" \
    both 'test $RC = 1' 'err_has ack_viewer "needs the analyst role; the key has viewer (HTTP 403"'
check "... and which key has too low a role" \
    err_has ack_viewer "the key from --key-file $WORK/vic.key has too low a role"
run ack_missing ack 999999
check "ack of an unknown id exits 1" test $RC = 1
check "ack of an unknown id prints the API's message" err_has ack_missing "HTTP 404"
sed 's/^/#   /' "$WORK/ack_missing.err"
run ack_odd ack "fraud:no such/alert?x=1"
check "an id with / ? and spaces is URL-encoded: a 404 for that id, not another route" \
    both 'test $RC = 1' 'err_has ack_odd "HTTP 404"'
run ack_longnote ack 1 --note "$(head -c 2001 /dev/zero | tr '\0' x)"
check "ack --note over 2000 bytes is a usage error (2)" test $RC = 2
run alerts_open2 alerts --open
check "after the acks no alert is open" both 'test $RC = 0' 'has alerts_open2 "^no alerts$"'
run reopen reopen fraud:tx-ctl-2
check "reopen exits 0 and says the alert is open" \
    both 'test $RC = 0' 'has reopen "^alert [0-9]* (fraud:tx-ctl-2) is open$"'
check "reopen clears the ack, the disposition and the note" \
    test "$(sql "SELECT coalesce(acked_by, '') || coalesce(disposition, '') || coalesce(note, '') || status
                 FROM txw.alerts WHERE key = 'fraud:tx-ctl-2'")" = open
run reopen_viewer --key-file "$WORK/vic.key" reopen fraud:tx-ctl-2
check "reopen with a viewer key: 403, exit 1" both 'test $RC = 1' 'err_has reopen_viewer "HTTP 403"'
run ack_carol --key-file "$WORK/carol.key" ack fraud:tx-ctl-2 --disposition confirmed_fraud
check "acked again by another analyst: in that key's name" \
    has ack_carol "^alert [0-9]* (fraud:tx-ctl-2) is closed by carol at .* as confirmed_fraud$"
run alerts_json_ack alerts --json --limit 5
check "alerts --json carries the acker, the disposition and the note" \
    python3 -c 'import json,sys; a={x["key"]:x for x in json.load(open(sys.argv[1]))["alerts"]}; x=a["fraud:tx-ctl-2"]; assert x["disposition"]=="confirmed_fraud" and x["acked_by"]=="carol" and x["note"] is None, x' "$WORK/alerts_json_ack.out"
run alerts_viewer --key-file "$WORK/vic.key" alerts
check "alerts with a viewer key: exit 0, the 3 alerts, accounts masked" \
    both 'test $RC = 0 -a "$(rows alerts_viewer)" = 3' '! has alerts_viewer acc-ctl-1'

# --- the workflow: search, assign, close, note ----------------------------------------------
run assign alerts assign fraud:tx-ctl-1 alice
check "alerts assign: the alert (closed by its ack) is assigned" \
    both 'test $RC = 0' 'has assign "^alert [0-9]* (fraud:tx-ctl-1) is closed, assigned to alice$"'
run search alerts search --account acc-ctl-1 --assignee alice
check "alerts search --account --assignee: that one alert, with its severity and assignee" \
    both 'test $RC = 0 -a "$(rows search)" = 1' 'has search "tx-ctl-1 .* critical  *alice$"'
run search_page alerts search --account acc-ctl-1 --limit 1
check "alerts search with more than a page: stderr gives the --cursor of the next" \
    err_has search_page "^more: the same command with --cursor [0-9]*:[0-9]*$"
NEXT=$(sed -n 's/^more: the same command with --cursor //p' "$WORK/search_page.err")
run search_next alerts search --account acc-ctl-1 --limit 1 --cursor "$NEXT"
check "... and that cursor reads the next alert" \
    both 'test $RC = 0 -a "$(rows search_next)" = 1' '! test "$(sed -n 2p "$WORK/search_next.out")" = "$(sed -n 2p "$WORK/search_page.out")"'
run search_bad alerts search --status acked
check "alerts search --status acked: the API's 400 names status, exit 1" \
    both 'test $RC = 1' 'err_has search_bad "status"'
run search_viewer --key-file "$WORK/vic.key" alerts search --account acc-ctl-1
check "alerts search --account with a viewer key: 403, exit 1" both 'test $RC = 1' 'err_has search_viewer "HTTP 403"'
run close alerts close fraud:tx-ctl-2 --disposition duplicate --note "same card twice"
check "alerts close on a closed alert changes its disposition" \
    both 'test $RC = 0' 'has close "^alert [0-9]* (fraud:tx-ctl-2) is closed, unassigned, as duplicate$"'
check "... which is the transaction's label (duplicate, by alice)" \
    test "$(sql "SELECT label || '/' || set_by FROM txw.labels WHERE tx_id = 'tx-ctl-2'")" = duplicate/alice
run note alerts note fraud:tx-ctl-2 "called the merchant"
check "alerts note adds a note in the key's name" \
    both 'test $RC = 0' 'has note "^note [0-9]* on alert [0-9]* by alice at "'
check "... stored as a note and its event (after the ack's and the close's notes)" \
    test "$(sql "SELECT string_agg (n.body, '|' ORDER BY e.event_id) FROM txw_data.alert_events e
                 JOIN txw_data.alert_notes n ON n.note_id = e.new_value::bigint WHERE e.field = 'note'")" \
        = "customer confirmed by phone|same card twice|called the merchant"
run unassign alerts assign fraud:tx-ctl-1 -
check "alerts assign ID - unassigns it" both 'test $RC = 0' 'has unassign "is closed, unassigned$"'
run assign_usage alerts assign fraud:tx-ctl-1
check "alerts assign without a NAME is a usage error (2)" test $RC = 2
run close_bad alerts close fraud:tx-ctl-1 --disposition maybe
check "alerts close with an unknown disposition is a usage error (2) of that command" \
    both 'test $RC = 2' 'err_has close_bad "^txwctl alerts close: --disposition .maybe."'
run group_bad alerts frobnicate
check "alerts with an unknown word is a usage error (2)" test $RC = 2

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
run tx_viewer --key-file "$WORK/vic.key" tx tx-ctl-1
check "tx with a viewer key: 403, exit 1" both 'test $RC = 1' 'err_has tx_viewer "HTTP 403"'

# --- dead letters ---------------------------------------------------------------------------
run dead dead-letters
check "dead-letters: 2 rows, newest first" \
    both 'test $RC = 0 -a "$(rows dead)" = 2' 'sed -n 2p "$WORK/dead.out" | grep -q "bad_currency  *currency  *tx-bad-2"'
run dead_reason dead-letters --reason bad_amount --limit 10
check "dead-letters --reason bad_amount: 1 row with its line number" \
    both 'test "$(rows dead_reason)" = 1' 'has dead_reason "bad_amount  *amount  *tx-bad-1  *12  *amount 12.345"'

# --- audit -------------------------------------------------------------------------------------
ALICE_ID=$(key_id "$WORK/alice.key")
# shellcheck disable=SC2034 # used in the conditions both() evaluates
CAROL_ID=$(key_id "$WORK/carol.key")
run audit_ack --key-file "$ADMIN" audit --action alert.ack
sed 's/^/#   /' "$WORK/audit_ack.out"
check "audit --action alert.ack: the 3 acks under a header" \
    both 'test $RC = 0 -a "$(rows audit_ack)" = 3' \
         'has audit_ack "^ID  *AT  *PRINCIPAL  *NAME  *ROLE  *ACTION  *TARGET  *CLIENT  *DETAIL$"'
check "audit: newest first, with the key, its name and role, the alert and the disposition" \
    both 'sed -n 2p "$WORK/audit_ack.out" | grep -q " $CAROL_ID  *carol  *analyst  *alert.ack  *fraud:tx-ctl-2  .*confirmed_fraud"' \
         'has audit_ack " $ALICE_ID  *alice  *analyst  *alert.ack  *fraud:tx-ctl-2  .*false_positive"'
run audit_pr --key-file "$ADMIN" audit --principal "$ALICE_ID" --limit 2
check "audit --principal KEY_ID --limit 2: two rows, both alice's" \
    both 'test $RC = 0 -a "$(rows audit_pr)" = 2' \
         'test "$(tail -n +2 "$WORK/audit_pr.out" | grep -c " $ALICE_ID  *alice ")" = 2'
run audit_keys --key-file "$ADMIN" audit --action key.create
check "audit --action key.create: the bootstrap's (database:<role>) and the API's" \
    both 'has audit_keys " database:$PGROLE  .*key.create  *$ADMIN_ID  "' \
         'has audit_keys " $ADMIN_ID  *boot  *admin  *key.create  *$ALICE_ID  .*\"name\":\"alice\""'
run audit_reads --key-file "$ADMIN" audit --action read.transaction
check "audit: the analyst's read of a transaction is there" \
    has audit_reads " $ALICE_ID  *alice  *analyst  *read.transaction  *tx-ctl-1 "
run audit_json --json --key-file "$ADMIN" audit --limit 1
check "audit --json prints the API's JSON" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["audit"])==1 and "action" in d["audit"][0]' "$WORK/audit_json.out"
run audit_analyst audit
check "audit with an analyst key: 403, exit 1" both 'test $RC = 1' 'err_has audit_analyst "HTTP 403"'

# --- revoking ---------------------------------------------------------------------------------
run k_temp --key-file "$ADMIN" keys create temp viewer --out "$WORK/temp.key"
TEMP_ID=$(key_id "$WORK/temp.key")
run temp_ok --key-file "$WORK/temp.key" whoami
check "a new viewer key works" both 'test $RC = 0' 'has temp_ok "^name  *temp$"'
run revoke --key-file "$ADMIN" keys revoke "$TEMP_ID"
check "keys revoke: exit 0, since when and by whom" \
    both 'test $RC = 0' 'has revoke "^key $TEMP_ID (temp, viewer) is revoked since [0-9T:.-]*Z by boot ($ADMIN_ID)$"'
i=0; while "$CTL" --key-file "$WORK/temp.key" whoami >/dev/null 2>&1 && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
run temp_gone --key-file "$WORK/temp.key" whoami
check "the revoked key fails within the key cache time (--key-cache-ms 300): 401, exit 1" \
    both 'test $RC = 1 -a $i -lt 30 && err_has temp_gone "HTTP 401"' \
         'err_has temp_gone "the key from --key-file $WORK/temp.key was refused"'
run revoke_list --key-file "$ADMIN" keys list
run revoke_all --key-file "$ADMIN" keys list --all
check "keys list leaves the revoked key out; --all shows it, revoked when and by whom" \
    both '! has revoke_list "^$TEMP_ID "' \
         'has revoke_all "^$TEMP_ID  *temp  *viewer  .*  [0-9T:.-]*Z  *boot ($ADMIN_ID)$"'
run revoke_missing --key-file "$ADMIN" keys revoke 0123456789abcdef
check "keys revoke of an unknown key: 404, exit 1" both 'test $RC = 1' 'err_has revoke_missing "HTTP 404"'
run k_stale --key-file "$ADMIN" keys create temp2 viewer --out "$WORK/temp.key"
run k_stale_who --key-file "$WORK/temp.key" whoami
check "keys create --out over a file with a revoked key: replaced by the new key" \
    both 'test $RC = 0' 'has k_stale_who "^name  *temp2$"'
run k_active --key-file "$ADMIN" keys create temp3 viewer --out "$WORK/temp.key"
check "keys create --out over a file with an active key: refused (2), no key made" \
    both 'test $RC = 2 && err_has k_active "which is active"' 'test "$(keys_named temp3)" = 0'

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

# with alice's key (TXW_API_KEY_FILE), offered as a subprotocol
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
    test "$(grep -cE '^[0-9T:.-]+Z alert fraud:pubinject-[0-9]+-[0-9]+ score=95 account=p~[0-9a-f]{16} amount=EUR 2500.00 reasons=amount_spike,new_device region=R1$' "$WORK/tail.out")" = 3

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

# A fake gateway logs each handshake and answers as the path's last part
# says: with the subprotocol txwatch, with none (an older gateway), with
# one not offered (bogus), or 401.
cat >"$WORK/fakegw.py" <<'PY'
import base64, hashlib, socket, sys
port, log = int(sys.argv[1]), sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(8)
while True:
    conn, _ = srv.accept()
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    with open(log, "ab") as f:
        f.write(data)
    lines = data.decode(errors="replace").split("\r\n")
    if len(lines[0].split(" ")) < 3:        # a probe that only connects
        conn.close()
        continue
    mode = lines[0].split(" ")[1].split("?")[0].rsplit("/", 1)[-1]
    if mode == "401":
        conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        conn.close()
        continue
    headers = dict(l.split(": ", 1) for l in lines[1:] if ": " in l)
    accept = base64.b64encode(hashlib.sha1((headers.get("Sec-WebSocket-Key", "") +
        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    reply = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n" % accept)
    if mode != "none":
        reply += "Sec-WebSocket-Protocol: %s\r\n" % mode
    hello = b'{"type":"hello","seq":1,"server":"fake","topics":["alerts"]}'
    conn.sendall((reply + "\r\n").encode() + bytes([0x81, len(hello)]) + hello)
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()
PY
python3 "$WORK/fakegw.py" ${P}82 "$WORK/fakegw.log" >"$WORK/fakegw.txt" 2>&1 &
FAKE=$!
i=0; until (exec 3<>"/dev/tcp/127.0.0.1/${P}82") 2>/dev/null || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
FAKE_URL=ws://127.0.0.1:${P}82/ws
TXW_GATEWAY_URL=$FAKE_URL/txwatch run tail_fake tail --count 1
check "tail offers the key as a subprotocol: Sec-WebSocket-Protocol: txwatch, txwatch.key.<key>" \
    grep -qxF "Sec-WebSocket-Protocol: txwatch, txwatch.key.$(cat "$WORK/alice.key")"$'\r' "$WORK/fakegw.log"
check "tail takes the answer \"txwatch\"" both 'test $RC = 0' 'has tail_fake " hello server=\"fake\""'
TXW_GATEWAY_URL=$FAKE_URL/none run tail_none tail --count 1
check "tail takes a gateway that selects no subprotocol (an older one)" \
    both 'test $RC = 0' 'has tail_none " hello server=\"fake\""'
TXW_GATEWAY_URL=$FAKE_URL/bogus run tail_bogus tail --count 1
check "tail refuses a subprotocol it did not offer: exit 1, nothing printed" \
    both 'test $RC = 1 -a ! -s "$WORK/tail_bogus.out"' 'err_has tail_bogus "selected the subprotocol \"bogus\""'
: >"$WORK/fakegw.log"
TXW_API_KEY_FILE='' TXW_GATEWAY_URL=$FAKE_URL/401 run tail_401 tail --count 1
check "tail refused (401) without a key: exit 1 and how to give a key" \
    both 'test $RC = 1 && err_has tail_401 "refused the WebSocket upgrade"' 'err_has tail_401 "use --key-file FILE"'
check "without a key tail offers txwatch alone" grep -qxF "Sec-WebSocket-Protocol: txwatch"$'\r' "$WORK/fakegw.log"
kill $FAKE 2>/dev/null
wait $FAKE 2>/dev/null

TXW_GATEWAY_URL=ws://127.0.0.1:${P}98/ws run tail_down tail --count 1
check "tail against no gateway exits 1" both 'test $RC = 1' 'err_has tail_down "cannot connect"'
TXW_GATEWAY_URL=http://127.0.0.1:${P}81/ws run tail_bad tail
check "tail with a non-ws URL is a usage error (2)" test $RC = 2
# --- no key is printed but by the command that made it -----------------------------------
leaks=0
for k in "$ADMIN" "$WORK/alice.key" "$WORK/carol.key" "$WORK/vic.key" "$WORK/temp.key"; do
    for f in "$WORK"/*.out "$WORK"/*.err; do
        case ${f##*/} in boot_stdout.out | k_alice.out | k_vic.out) continue ;; esac
        if grep -qF -- "$(secret "$k")" "$f"; then
            note "the secret of ${k##*/} is in ${f##*/}"
            leaks=$((leaks + 1))
        fi
    done
done
check "no key's secret is in any other output of txwctl" test $leaks = 0

# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the API and the gateway stop cleanly" stop_clean $PID_query $PID_gateway
