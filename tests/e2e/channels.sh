#!/bin/bash
# channels.sh - txw-notifier's channels end to end: Slack, PagerDuty, email
# and the generic webhook, each against a local receiver that speaks its
# protocol and checks what it requires
#
# Real PostgreSQL, migrated with the notifier and the query API as logins of
# their groups (txw_notify, txw_api), so the grants of migration 026 are
# what they run on. The pipeline is not what is tested: alerts are stored
# with chosen kinds, scores and amounts (one per severity, one with hostile
# text) and the notifier sends them from its catch-up, as it does after a
# restart. One channels file routes them:
#   webhook (--webhook-url)  every alert, signed
#   ops-slack   slack        fraud, high and above; its first 2 requests fail (500)
#   oncall      pagerduty    critical only; resolved when the alert is closed
#   desk        email        fraud and region health, medium and above, over
#                            SMTP with AUTH; the first message gets a 451
#   bounce      email        region health, to a recipient the server refuses (550)
#   tls-only    email        STARTTLS required, which the sink does not offer:
#                            never sent in clear, failed for good
# The receivers (tests/tools/channel_receiver.py, smtp_sink.py) answer 400 /
# refuse what their service would, so a malformed body fails the suite.
# Then alerts are closed through the query API's PATCH: the critical one gets
# a PagerDuty resolve with its dedup_key, the high one (never sent to
# PagerDuty) none; a close made while the notifier is down is resolved
# after it restarts (txw_data.notifier_event_cursor). A channels file with a
# mistake stops the notifier at start with the reason, and /metrics, with
# its per-channel counters, passes promtool.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=190
N_ADMIN=${P}96
TOOLS=$ROOT/tests/tools
pg_start 25388
API=http://127.0.0.1:${P}80/api/v1

"$BIN/txw-aggregator" --database-url "$DB" --migrate-only \
    --login-roles "txw_api=$(db_url channels_query) txw_notify=$(db_url channels_notifier)" \
    >"$WORK/migrate.log" 2>&1 || { not_ok "schema created"; tail "$WORK/migrate.log"; exit 1; }
ANALYST=$(make_key alice analyst)

# --- secrets, receivers, the channels file ----------------------------------------------
head -c 32 /dev/urandom | base64 >"$WORK/webhook.secret"
ROUTING_KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')     # 32 hex digits
echo "$ROUTING_KEY" >"$WORK/pd.key"
echo "http://127.0.0.1:${P}82/services/T000/B000/xoxsecret" >"$WORK/slack.url"
echo "mailer:s3cret:pass" >"$WORK/smtp.login"

# listen NAME PORT COMMAND...: starts a receiver, waits until it listens
listen() {
    local name=$1 port=$2; shift 2
    "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    local i=0
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$port" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 50 ] && { not_ok "receiver $name listens"; exit 1; }; sleep 0.1
    done
}
listen webhook ${P}81 python3 -B "$TOOLS/webhook_receiver.py" --port ${P}81 --out "$WORK/webhook.jsonl" \
    --secret-file "$WORK/webhook.secret"
listen slack ${P}82 python3 -B "$TOOLS/channel_receiver.py" --format slack --port ${P}82 \
    --out "$WORK/slack.jsonl" --fail-first 2 --fail-mode 500
listen pagerduty ${P}83 python3 -B "$TOOLS/channel_receiver.py" --format pagerduty --port ${P}83 \
    --out "$WORK/pagerduty.jsonl" --status 202
listen smtp ${P}25 python3 -B "$TOOLS/smtp_sink.py" --port ${P}25 --out "$WORK/mail.jsonl" \
    --fail-first 1 --user mailer --password s3cret:pass --reject-rcpt nobody@bank.test

cat >"$WORK/channels.json" <<JSON
{ "channels": [
    { "name": "ops-slack", "type": "slack", "url_file": "$WORK/slack.url",
      "kinds": ["fraud"], "min_severity": "high" },
    { "name": "oncall", "type": "pagerduty", "url": "http://127.0.0.1:${P}83/v2/enqueue",
      "routing_key_file": "$WORK/pd.key", "min_severity": "critical" },
    { "name": "desk", "type": "email", "url": "smtp://127.0.0.1:${P}25/txwatch.test",
      "from": "txwatch@txwatch.test", "to": ["desk@bank.test", "oncall@bank.test"],
      "credentials_file": "$WORK/smtp.login", "min_severity": "medium" },
    { "name": "bounce", "type": "email", "url": "smtp://127.0.0.1:${P}25",
      "from": "txwatch@txwatch.test", "to": ["nobody@bank.test"],
      "credentials_file": "$WORK/smtp.login", "kinds": ["region_health"] },
    { "name": "tls-only", "type": "email", "url": "smtp://127.0.0.1:${P}25",
      "from": "txwatch@txwatch.test", "to": ["desk@bank.test"], "ssl_reqd": true,
      "credentials_file": "$WORK/smtp.login", "kinds": ["region_health"], "min_severity": "medium" } ] }
JSON

start query ${P}94 "$BIN/txw-query" --database-url "$(db_url channels_query)" \
    --listen 127.0.0.1:${P}80 --admin-port ${P}94 --cache-ttl-ms 0 \
    --rate-per-key 0 --rate-per-client 0
NOTIFIER=("$BIN/txw-notifier" --admin-port "$N_ADMIN" --database-url "$(db_url channels_notifier)"
          --alert-endpoints "tcp://127.0.0.1:${P}12,tcp://127.0.0.1:${P}22"
          --webhook-url "http://127.0.0.1:${P}81/hook" --webhook-secret-file "$WORK/webhook.secret"
          --channels-file "$WORK/channels.json" --timeout-ms 2000 --backoff-ms 100 --backoff-max-ms 500)
start notifier $N_ADMIN "${NOTIFIER[@]}"
sleep 0.7   # the first catch-up poll places the cursors at the newest rows

# --- the alerts ---------------------------------------------------------------------------
# key, kind, score, amount (minor, EUR = reporting), region; severities by
# common/severity.h: critical (95; 80 on 6,000.00), high, medium, low.
# Keys are what the aggregator stores (common/alertjson.h): fraud:<tx_id>,
# region_health:<region>:<ts ms>. One tx_id carries CR/LF and a header.
sql "SELECT txw_data.ensure_event_partition ('alerts', now ())" >/dev/null
TS_MS=$(sql "SELECT (extract (epoch FROM date_trunc ('milliseconds', now ())) * 1000)::bigint")
sql "INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, account_id, score, reasons,
         amount_minor, currency, amount_rep_minor, merchant_id, country, channel, region,
         message, model_version, raised_at)
     SELECT 'fraud:' || t, 'fraud', t, now (), 'acc-' || t, s, '{amount_spike,new_device}', a, 'EUR', a,
         'm-1', 'DE', 'online', 'north', 'score ' || s, 'rules-1', now ()
     FROM (VALUES ('tx-critical', 95, 12000), ('tx-large', 80, 600000), ('tx-high', 80, 5000),
                  ('tx-medium', 60, 5000), ('tx-low', 30, 5000)) v (t, s, a);
     INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, account_id, score, reasons,
         amount_minor, currency, amount_rep_minor, merchant_id, country, channel, region,
         message, model_version, raised_at)
     VALUES (E'fraud:tx-\"evil\"\r\nBcc: thief@evil.test', 'fraud', E'tx-\"evil\"\r\nBcc: thief@evil.test', now (), 'acc-evil',
         92, '{card_testing}', 999, 'EUR', 999, E'<!channel> & <http://evil.test|click>', 'DE',
         'online', 'north', E'line one\nline two ' || repeat ('é', 300), 'rules-1', now ());
     INSERT INTO txw_data.alerts (dedupe_key, kind, ts, score, reasons, region, message,
         model_version, raised_at)
     SELECT 'region_health:' || r || ':$TS_MS', 'region_health', to_timestamp ($TS_MS / 1000.0), s, '{}',
         r, m, 'health-1', now ()
     FROM (VALUES ('south', 55, 'degraded'), ('west', 20, 'wobbly')) v (r, s, m)"
sql "SELECT dedupe_key || ' ' || severity FROM txw_data.alerts ORDER BY alert_id" >"$WORK/severities.txt"
note "stored: $(tr '\n' ',' <"$WORK/severities.txt")"

ok_of() { metric $N_ADMIN "txw_notifier_deliveries_total{channel=\"$1\",result=\"ok\"}"; }
# Expected deliveries: webhook 8, slack 4 (critical, large, high, evil), pagerduty 3
# (critical, large, evil), email 6 (all but tx-low and west).
delivered_all() {
    [ "$(ok_of webhook)" = 8 ] && [ "$(ok_of ops-slack)" = 4 ] && [ "$(ok_of oncall)" = 3 ] \
        && [ "$(ok_of desk)" = 6 ]
}
wait_until() {     # SECONDS COMMAND...
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do [ $SECONDS -ge $deadline ] && return 1; sleep 0.2; done
}
check "every channel delivers its alerts (webhook 8, slack 4, pagerduty 3, email 6)" \
    wait_until 30 delivered_all
bounced() {
    [ "$(metric $N_ADMIN 'txw_notifier_deliveries_total{channel="bounce",result="failed"}')" = 2 ] \
        && [ "$(metric $N_ADMIN 'txw_notifier_deliveries_total{channel="bounce",result="retry"}')" = 0 ]
}
bounce_logged() {
    wait_until 10 bounced && grep -q "email bounce smtp://127.0.0.1:${P}25: alert region_health:.*refused, not retried:.*SMTP 550" \
        "$WORK/notifier.log"
}
check "a recipient the SMTP server refuses (550) fails for good, not retried, and is logged" bounce_logged
tls_refused() {
    [ "$(metric $N_ADMIN 'txw_notifier_deliveries_total{channel="tls-only",result="failed"}')" = 1 ] \
        && [ "$(metric $N_ADMIN 'txw_notifier_deliveries_total{channel="tls-only",result="retry"}')" = 0 ] \
        && grep -q "email tls-only smtp://127.0.0.1:${P}25: alert region_health:south:.*refused, not retried" \
                "$WORK/notifier.log"
}
check "with ssl_reqd and a server without STARTTLS nothing is sent in clear: failed for good" \
    wait_until 10 tls_refused
note "ok: webhook $(ok_of webhook), slack $(ok_of ops-slack), pagerduty $(ok_of oncall), email $(ok_of desk);" \
     "retries: slack $(metric $N_ADMIN 'txw_notifier_deliveries_total{channel="ops-slack",result="retry"}')," \
     "email $(metric $N_ADMIN 'txw_notifier_deliveries_total{channel="desk",result="retry"}')"

# keys FILE OUTCOME: the keys recorded with OUTCOME (X-Txwatch-Alert-Key),
# sorted; the hostile one is "evil" (its CR/LF arrive as "_": a header
# value never carries a line end)
keys() {
    python3 - "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [r["key"] for r in rows if r["outcome"] == sys.argv[2]]
assert all("\r" not in k and "\n" not in k for k in keys), keys
print("\n".join(sorted("evil" if k.startswith('fraud:tx-"evil"') else k for k in keys)))
PY
}
expect() { printf '%s\n' "$@" | LC_ALL=C sort; }
ALL=$(sql "SELECT CASE WHEN dedupe_key LIKE 'fraud:tx-\"evil\"%' THEN 'evil' ELSE dedupe_key END
           FROM txw_data.alerts" | LC_ALL=C sort)
check "the webhook got every alert once, signed and verified" \
    test "$(keys "$WORK/webhook.jsonl" 200 | LC_ALL=C sort)" = "$ALL"
check "the routing: Slack got the fraud alerts of high severity and above, once each" \
    test "$(keys "$WORK/slack.jsonl" 200 | LC_ALL=C sort)" = \
         "$(expect fraud:tx-critical fraud:tx-large fraud:tx-high evil)"
check "Slack's receiver refused nothing (every body had valid blocks within the limits)" \
    test "$(keys "$WORK/slack.jsonl" 400)" = ""
check "Slack's first two requests failed (500) and were retried" \
    test "$(keys "$WORK/slack.jsonl" 500 | wc -l)" = 2
check "Slack got the text and blocks: header, 8 fields with the masked account, escaped mrkdwn" \
    python3 - "$WORK/slack.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["outcome"] == "200"]
for r in rows:
    b = r["body"]
    assert [x["type"] for x in b["blocks"]] == ["header", "section", "context"], b
    fields = {f["text"].split("\n")[0]: f["text"].split("\n", 1)[1] for f in b["blocks"][1]["fields"]}
    assert fields["*Account*"].startswith("p~"), fields
    if r["key"].startswith('fraud:tx-"evil"'):
        assert fields["*Merchant*"] == "&lt;!channel&gt; &amp; &lt;http://evil.test|click&gt;", fields
        assert fields["*Severity*"] == "critical"
PY
check "the routing: PagerDuty got triggers for the critical alerts only" \
    test "$(keys "$WORK/pagerduty.jsonl" 202 | LC_ALL=C sort)" = \
         "$(expect fraud:tx-critical fraud:tx-large evil)"
check "PagerDuty triggers carry the routing key, dedup_key = the alert key, severity critical" \
    python3 - "$WORK/pagerduty.jsonl" "$ROUTING_KEY" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r["outcome"] == "202" for r in rows), rows
for r in rows:
    b = r["body"]
    assert b["routing_key"] == sys.argv[2] and b["event_action"] == "trigger", b
    assert b["dedup_key"] == b["payload"]["custom_details"]["key"], b
    assert b["dedup_key"].replace("\r", "_").replace("\n", "_") == r["key"], b
    assert b["payload"]["severity"] == "critical" and b["payload"]["source"] == "txwatch", b
    assert "\n" not in b["payload"]["summary"] and len(b["payload"]["summary"]) <= 1024
PY
check "the notifier never logged a secret (routing key, Slack URL path, SMTP password)" \
    test -z "$(grep -e "$ROUTING_KEY" -e xoxsecret -e 's3cret' "$WORK/notifier.log")"

# --- email ----------------------------------------------------------------------------------
check "the SMTP sink got a message for each alert of medium severity and above, after one 451" \
    python3 - "$WORK/mail.jsonl" "$TS_MS" <<'PY'
import json, sys, email, email.policy
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["outcome"] for r in rows].count("451") == 1, rows
ok = [r for r in rows if r["outcome"] == "250"]
keys = sorted(email.message_from_string(r["data"], policy=email.policy.default)["X-Txwatch-Alert-Key"] for r in ok)
# In a header the key keeps printable ASCII only: CR, LF and space become '?'.
want = sorted(['fraud:tx-critical', 'fraud:tx-large', 'fraud:tx-high', 'fraud:tx-medium',
               'fraud:tx-"evil"??Bcc:?thief@evil.test', 'region_health:south:' + sys.argv[2]])
assert keys == want, keys
PY
check "every message is well formed: envelope, AUTH, Date, From, To, Subject, Message-ID, no injected header" \
    python3 - "$WORK/mail.jsonl" <<'PY'
import base64, json, sys, email, email.policy, email.utils
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = {}
for r in rows:
    raw = base64.b64decode(r["data_b64"])
    assert r["mail_from"] == "txwatch@txwatch.test", r
    assert r["rcpt_to"] == ["desk@bank.test", "oncall@bank.test"], r
    assert r["user"] == "mailer", r
    head, _, body = raw.partition(b"\r\n\r\n")
    assert all(line.endswith(b"\r") or not line for line in raw.split(b"\n")[:-1]), "bare LF"
    assert all(len(line) <= 1000 for line in raw.split(b"\r\n"))
    assert all(32 <= c < 127 or c in (13, 10, 9) for c in head), "non-ASCII header"
    m = email.message_from_bytes(raw, policy=email.policy.default)
    for name in ("Date", "From", "To", "Subject", "Message-ID"):
        assert m[name], (name, m)
    assert email.utils.parsedate_to_datetime(m["Date"]) is not None
    assert m["Bcc"] is None and "thief" not in str(m["To"]), m
    assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"
    key = m["X-Txwatch-Alert-Key"]
    # A resend (the one after the 451) has the same Message-ID.
    assert ids.setdefault(key, m["Message-ID"]) == m["Message-ID"], key
    assert m["Message-ID"].endswith("@txwatch.test>")
    subject = m["Subject"]
    if key == "fraud:tx-critical":
        assert subject.startswith("[txwatch] CRITICAL fraud alert, score 95"), subject
        assert "Amount: 120.00 EUR" in m.get_content()
    if key.startswith("region_health:south:"):
        assert subject.startswith("[txwatch] MEDIUM region_health alert, score 55"), subject
    if key.startswith('fraud:tx-"evil"'):
        text = m.get_content()
        assert "é" in text and "line one line two" in text, text
assert len(set(ids.values())) == len(ids) == 6, ids
PY

# --- closing alerts: PagerDuty resolves -------------------------------------------------------
id_of() { sql "SELECT alert_id FROM txw_data.alerts WHERE dedupe_key = '$1'"; }
patch() {   # ID BODY: the status
    curl -s -o "$WORK/patch.json" -w '%{http_code}' -X PATCH -H "Authorization: Bearer $ANALYST" \
        -H 'Content-Type: application/json' -d "$2" "$API/alerts/$1"
}
# resolved KEYS: the dedup_keys of the resolves PagerDuty accepted are KEYS
# (sorted, space-separated)
resolved() {
    test "$(python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join(sorted(r["body"]["dedup_key"] for r in rows
                      if r["body"]["event_action"] == "resolve" and r["outcome"] == "202")))' \
        "$WORK/pagerduty.jsonl")" = "$1"
}
check "the query API closes the critical alert and the high one (PATCH 200)" \
    test "$(patch "$(id_of fraud:tx-critical)" '{"status":"closed","disposition":"confirmed_fraud"}')$(patch "$(id_of fraud:tx-high)" '{"status":"closed"}')" = 200200
check "PagerDuty gets a resolve with the critical alert's dedup_key" \
    wait_until 10 resolved fraud:tx-critical
sleep 1     # time enough for a wrong resolve of the high alert to arrive too
check "the high alert, never sent to PagerDuty, gets no resolve; the routing key rides along" \
    python3 - "$WORK/pagerduty.jsonl" "$ROUTING_KEY" <<'PY'
import json, sys
rs = [json.loads(l)["body"] for l in open(sys.argv[1]) if json.loads(l)["body"]["event_action"] == "resolve"]
assert [r["dedup_key"] for r in rs] == ["fraud:tx-critical"], rs
assert rs[0]["routing_key"] == sys.argv[2] and "payload" not in rs[0]
PY
cursor_past_closes() {
    test "$(sql "SELECT event_id >= (SELECT max (event_id) FROM txw_data.alert_events
                                     WHERE field = 'status') FROM txw_data.notifier_event_cursor")" = t
}
check "the event cursor moved past the closes (txw_data.notifier_event_cursor)" \
    wait_until 5 cursor_past_closes

# A close while the notifier is down is resolved after it restarts.
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the notifier stops cleanly (SIGTERM, exit 0)" stop_clean "$PID_notifier"
check "the large alert is closed while the notifier is down" \
    test "$(patch "$(id_of fraud:tx-large)" '{"status":"closed"}')" = 200
start notifier $N_ADMIN "${NOTIFIER[@]}"
check "after the restart PagerDuty gets the resolve of the close it missed" \
    wait_until 10 resolved "fraud:tx-critical fraud:tx-large"
check "and no alert was sent again (the alert cursor held)" \
    test "$(wc -l <"$WORK/webhook.jsonl")" = 8
check "txw_notifier_resolves_total counts the resolve of this run" \
    test "$(metric $N_ADMIN txw_notifier_resolves_total)" = 1

m=$WORK/metrics.txt
curl -sf "http://127.0.0.1:$N_ADMIN/metrics" >"$m"
check "/metrics passes promtool check metrics, with per-channel delivery counters" \
    bash -c "promtool check metrics <'$m' >'$WORK/promtool.out' 2>&1 && grep -q 'txw_notifier_attempts_total{channel=\"desk\"}' '$m'"
check "the notifier stops cleanly again" stop_clean "$PID_notifier"

# --- mistakes stop it at start, with the reason ----------------------------------------------
refused() {   # FILE_TEXT REASON: the notifier exits 1 naming REASON
    printf '%s' "$1" >"$WORK/bad.json"
    "$BIN/txw-notifier" --admin-port 0 --alert-endpoints tcp://127.0.0.1:${P}12 \
        --channels-file "$WORK/bad.json" >"$WORK/bad.log" 2>&1
    local rc=$?
    if [ $rc = 1 ] && grep -q -- "$2" "$WORK/bad.log"; then return 0; fi
    note "exit $rc: $(tail -2 "$WORK/bad.log")"
    return 1
}
check "a channels file with an unknown key stops the notifier" \
    refused '{"channels":[{"name":"s","type":"slack","url":"https://h","colour":"red"}]}' "unknown key 'colour'"
check "a bad severity stops it" \
    refused '{"channels":[{"name":"s","type":"slack","url":"https://h","min_severity":"urgent"}]}' "min_severity 'urgent'"
check "a missing routing key file stops it" \
    refused "{\"channels\":[{\"name\":\"p\",\"type\":\"pagerduty\",\"routing_key_file\":\"$WORK/none\"}]}" "cannot read"
check "neither --webhook-url nor --channels-file: it says one is required" \
    bash -c "! '$BIN/txw-notifier' --admin-port 0 >'$WORK/none.log' 2>&1 && grep -q 'channels-file' '$WORK/none.log'"
