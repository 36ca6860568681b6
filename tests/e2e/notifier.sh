#!/bin/bash
# notifier.sh - txw-notifier end to end: the real pipeline, real HTTP receivers
#
# Runs validator, scorer and aggregator (2 s windows, so a degraded region
# raises region health alerts within the run) with live traffic rich in
# fraud, and one notifier posting every alert to three receivers
# (tests/tools/webhook_receiver.py): a good one, a flaky one that fails its
# first requests with a 500 + Retry-After, a connection reset and an answer
# slower than the timeout, and one that answers 400. Then checks against
# PostgreSQL that every stored alert reached the good receiver exactly once
# by key, reached the flaky one after retries, and reached the 400 one once
# with no retry. A second notifier with a dead URL and a tiny queue shows
# drops (counted and logged with the key) and the SIGTERM drain that logs
# what was not delivered. Then the notifier is stopped while more alerts
# are raised, and started again: it sends exactly the alerts stored while
# it was down, in id order, from its cursor in PostgreSQL.
# Every request is signed (--webhook-secret-file) and every receiver checks
# the signature with the function proto/SERVING.md documents (they must be
# the same text); that function refuses a changed body, a stale or changed
# timestamp and another secret, and the receiver answers those 401. A secret
# file that cannot be read or is too short stops the notifier at start; with
# none it warns once that webhooks are unsigned.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=182
N_ADMIN=${P}96
RECV=$ROOT/tests/tools/webhook_receiver.py
# The test tools beside TXW_BIN's build if it has them (make sanitize has not).
INJECT=$(dirname "$BIN")/tools/txw-pubinject
[ -x "$INJECT" ] || INJECT=$ROOT/build/tools/txw-pubinject

# receiver NAME PORT ARGS...: starts one and waits until it listens
receiver() {
    local name=$1 port=$2; shift 2
    python3 "$RECV" --port "$port" --out "$WORK/$name.jsonl" "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    local i=0
    until curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 50 ] && { not_ok "receiver $name listens"; exit 1; }; sleep 0.1
    done
    : >"$WORK/$name.jsonl"      # forget the probe
}

# jq-free views of a receiver's record file
keys_with() {   # FILE OUTCOME: keys of the requests answered with OUTCOME, sorted, one per line
    python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["outcome"] == sys.argv[2]:
        print(r["key"])
PY
}
outcomes() {    # FILE: "outcome count" lines
    python3 -c 'import json,sys,collections
c = collections.Counter(json.loads(l)["outcome"] for l in open(sys.argv[1]))
print(" ".join(f"{k}:{v}" for k, v in sorted(c.items())))' "$1"
}
# --webhook-url's URLs are the entries of channel "webhook" (tests/e2e/channels.sh has the others)
delivered() { metric $N_ADMIN 'txw_notifier_deliveries_total{channel="webhook",result="'"$1"'"}'; }
# The receiver's functions, imported without writing bytecode into the tree.
receiver_py() { PYTHONPATH=$ROOT/tests/tools python3 -B "$@"; }

# The secret both ends share: 32 random bytes in base64, as SERVING.md says.
SECRET=$WORK/webhook.secret
head -c 32 /dev/urandom | base64 >"$SECRET"

pg_start 25347
start_pipeline $P --window-s 2 --lateness-s 1 --health-min-tx 10

receiver good ${P}81 --secret-file "$SECRET"
receiver flaky ${P}82 --fail-first 9 --fail-mode 500,reset,slow --retry-after 1 --slow-s 3 \
    --secret-file "$SECRET"
receiver refuses ${P}83 --status 400 --secret-file "$SECRET"

NOTIFIER=("$BIN/txw-notifier" --admin-port "$N_ADMIN" --database-url "$DB"
          --alert-endpoints "tcp://127.0.0.1:${P}12,tcp://127.0.0.1:${P}22"
          --webhook-url "http://127.0.0.1:${P}81/hook,http://127.0.0.1:${P}82/hook?token=s3cret,http://127.0.0.1:${P}83/"
          --timeout-ms 1500 --backoff-ms 100 --backoff-max-ms 1000 --webhook-secret-file "$SECRET")
start notifier $N_ADMIN "${NOTIFIER[@]}"
sleep 1     # the SUB connects before the first alert is published

"$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 --seed 5 \
    --shape flat --rate 300 --duration 15 --accounts 2000 --fraud-rate 0.05 \
    --degraded-region R1 --degraded-share 0.4 >"$WORK/producer.log" 2>&1
check "the producer sends 15 s of live traffic and exits 0" test $? -eq 0

# Every alert stored, every delivery finished (ok or failed) for all 3 URLs.
wait_stable() {
    local deadline=$((SECONDS + 60)) last=-1 now
    while [ $SECONDS -lt $deadline ]; do
        now=$(sql "SELECT count(*) FROM txw.alerts")
        sent=$(( $(metric $N_ADMIN txw_notifier_alerts_in_total) - $(metric $N_ADMIN txw_notifier_alerts_filtered_total) \
                 - $(metric $N_ADMIN txw_notifier_duplicate_alerts_total)
                 + $(metric $N_ADMIN txw_notifier_caught_up_alerts_total) ))
        done_=$(( $(delivered ok) + $(delivered failed) ))
        if [ "$now" = "$last" ] && [ "$(metric $N_ADMIN txw_notifier_queue_depth)" = 0 ] &&
           [ "$done_" -eq $((sent * 3)) ]; then
            return 0
        fi
        last=$now
        sleep 1
    done
    return 1
}
check "the notifier finishes every delivery (queue empty, ok + failed = 3 x alerts)" wait_stable

sql "SELECT key FROM txw.alerts ORDER BY 1" | LC_ALL=C sort >"$WORK/db-keys.txt"
ALERTS=$(wc -l <"$WORK/db-keys.txt")
FRAUD=$(grep -c '^fraud:' "$WORK/db-keys.txt")
HEALTH=$(grep -c '^region_health:' "$WORK/db-keys.txt")
note "alerts stored: $ALERTS ($FRAUD fraud, $HEALTH region health); receivers: good $(outcomes "$WORK/good.jsonl"), flaky $(outcomes "$WORK/flaky.jsonl"), refuses $(outcomes "$WORK/refuses.jsonl")"
note "metrics: ok $(delivered ok), retry $(delivered retry), failed $(delivered failed), dropped $(delivered dropped), attempts $(metric $N_ADMIN 'txw_notifier_attempts_total{channel="webhook"}')"
check "the run raised fraud alerts (at least 20)" test "$FRAUD" -ge 20
check "the degraded region raised a region health alert" test "$HEALTH" -ge 1

# --- the good receiver: every stored alert, exactly once --------------------------
keys_with "$WORK/good.jsonl" 200 | LC_ALL=C sort >"$WORK/good-keys.txt"
check "every alert stored in PostgreSQL reached the good receiver ($ALERTS)" \
    diff -q "$WORK/db-keys.txt" <(LC_ALL=C sort -u "$WORK/good-keys.txt")
diff "$WORK/db-keys.txt" <(LC_ALL=C sort -u "$WORK/good-keys.txt") | head -5
check "the good receiver got each alert exactly once (no duplicate key)" \
    test -z "$(uniq -d "$WORK/good-keys.txt")"
check "the good receiver got nothing but first attempts" \
    test "$(python3 -c 'import json,sys; print(sum(json.loads(l)["attempt"] != "1" for l in open(sys.argv[1])))' "$WORK/good.jsonl")" = 0
check "bodies are application/json alert objects whose key matches X-Txwatch-Alert-Key, id null" \
    python3 - "$WORK/good.jsonl" <<'PY'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows
for r in rows:
    b = r["body"]
    assert r["content_type"] == "application/json", r
    assert b["key"] == r["key"] and b["id"] is None and b["status"] == "open", r
    assert b["kind"] in ("fraud", "region_health")
    if b["kind"] == "fraud":
        assert b["key"] == "fraud:" + b["tx_id"] and isinstance(b["amount_minor"], int)
        assert re.fullmatch(r"p~[0-9a-f]{16}", b["account_id"]), b["account_id"]
PY
check "stored and delivered alerts agree on score and tx_id" \
    python3 - "$WORK/good.jsonl" <(sql "SELECT key, score, coalesce(tx_id, '') FROM txw.alerts") <<'PY'
import json, sys
db = {k: (int(s), t) for k, s, t in (l.rstrip("\n").split("\t") for l in open(sys.argv[2]))}
for l in open(sys.argv[1]):
    b = json.loads(l)["body"]
    assert db[b["key"]] == (b["score"], b["tx_id"] or ""), (b, db[b["key"]])
PY
sql "SELECT DISTINCT account_id FROM txw.alerts WHERE account_id IS NOT NULL AND account_id <> ''" \
    >"$WORK/accounts.txt"
check "no account id reaches a receiver in clear" \
    test "$(grep -F -c -f "$WORK/accounts.txt" "$WORK/good.jsonl")" = 0

# --- the flaky receiver: everything arrives after retries ---------------------------
keys_with "$WORK/flaky.jsonl" 200 | LC_ALL=C sort -u >"$WORK/flaky-keys.txt"
check "every stored alert reached the receiver that failed at first" \
    diff -q "$WORK/db-keys.txt" "$WORK/flaky-keys.txt"
check "the flaky receiver answered 500, reset the connection and timed out" \
    sh -c "test \$(grep -c '\"outcome\": \"500\"' '$WORK/flaky.jsonl') -ge 1 &&
           test \$(grep -c '\"outcome\": \"reset\"' '$WORK/flaky.jsonl') -ge 1 &&
           test \$(grep -c '\"outcome\": \"slow\"' '$WORK/flaky.jsonl') -ge 1"
check "the metrics show retries ($(delivered retry): the 500s and time-outs)" \
    test "$(delivered retry)" -ge 6
check "retried requests carry X-Txwatch-Attempt 2 or more" \
    test "$(python3 -c 'import json,sys; print(sum(int(json.loads(l)["attempt"]) >= 2 for l in open(sys.argv[1])))' "$WORK/flaky.jsonl")" -ge 6
check "a 500 with Retry-After: 1 is retried after about a second, not the 100 ms back-off" \
    grep -q 'retrying in 1000 ms (Retry-After)' "$WORK/notifier.log"
check "the webhook's token does not appear in the logs" \
    test "$(grep -c s3cret "$WORK/notifier.log")" = 0

# --- signatures ---------------------------------------------------------------------------
check "the notifier says at start that webhooks are signed, and does not warn" \
    sh -c "grep -q 'signed (X-Txwatch-Signature)' '$WORK/notifier.log' &&
           ! grep -q 'webhooks are unsigned' '$WORK/notifier.log'"
check "every request to the three receivers was signed and its signature verified" \
    python3 - "$WORK/good.jsonl" "$WORK/flaky.jsonl" "$WORK/refuses.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
bad = [r for r in rows if not r["signature"] or r["verified"] is not True]
print(f"# {len(rows)} requests, {len(bad)} not verified")
sys.exit(1 if bad or not rows else 0)
PY
check "each attempt is signed as it is sent (its t within 5 s of its arrival)" \
    python3 - "$WORK/good.jsonl" "$WORK/flaky.jsonl" "$WORK/refuses.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
late = [r for r in rows if abs(r["t"] - int(r["signature"].split(",")[0][2:])) > 5]
sys.exit(1 if late or not rows else 0)
PY
check "a retry is signed again: with a later time than its first attempt (Retry-After: 1)" \
    python3 - "$WORK/flaky.jsonl" <<'PY'
import json, sys
first, later = {}, 0
for r in (json.loads(l) for l in open(sys.argv[1])):
    t = int(r["signature"].split(",")[0][2:])
    if r["attempt"] == "1":
        first[r["key"]] = t
    elif t < first.get(r["key"], t):
        sys.exit(f"# {r['key']} attempt {r['attempt']} signed before its first attempt")
    elif t > first.get(r["key"], t):
        later += 1
print(f"# {later} retries signed later than their first attempt")
sys.exit(0 if later else 1)
PY
secret_unlogged() { ! grep -qF -- "$(cat "$SECRET")" "$WORK"/*.log; }
check "the secret appears in no log" secret_unlogged
check "the receiver's verify_signature is the function proto/SERVING.md documents" \
    receiver_py - "$ROOT/proto/SERVING.md" <<'PY'
import inspect, re, sys
import webhook_receiver
blocks = re.findall(r"```python\n(.*?)```", open(sys.argv[1]).read(), re.S)
documented = [b[b.index("def verify_signature"):] for b in blocks if "def verify_signature" in b]
sys.exit(0 if documented and documented[0] == inspect.getsource(webhook_receiver.verify_signature) else 1)
PY

# verify CASE: runs the receiver's verify_signature on the last request the
# good receiver recorded, changed as CASE says; prints True or False.
verify() {
    receiver_py - "$WORK/good.jsonl" "$SECRET" "$1" <<'PY'
import base64, json, sys
from webhook_receiver import read_secret, verify_signature
r = json.loads(open(sys.argv[1]).readlines()[-1])
secret, case = read_secret(sys.argv[2]), sys.argv[3]
body, header = base64.b64decode(r["body_b64"]), r["signature"]
t = int(header.split(",")[0][2:])
now = t
if case == "tampered":
    body = body.replace(b'"score":', b'"score":1', 1)
elif case == "one-byte-more":
    body = body + b" "
elif case == "after-300s":
    now = t + 300
elif case == "after-301s":
    now = t + 301
elif case == "ahead-301s":
    now = t - 301
elif case == "restamped":
    header = header.replace(f"t={t},", f"t={t + 1},")
    now = t + 1
elif case == "other-secret":
    secret = secret[::-1]
elif case == "unsigned":
    header = None
print(verify_signature(secret, header, body, now=now))
PY
}
check "the verifier accepts a delivered request as it came, and 300 s later" \
    test "$(verify as-sent) $(verify after-300s)" = "True True"
check "the verifier refuses a tampered body (a digit added, a byte appended)" \
    test "$(verify tampered) $(verify one-byte-more)" = "False False"
check "the verifier refuses a stale timestamp (replayed 301 s later) and one 301 s ahead" \
    test "$(verify after-301s) $(verify ahead-301s)" = "False False"
check "the verifier refuses a timestamp changed without signing again" \
    test "$(verify restamped)" = False
check "the verifier refuses another secret's signature, and no signature" \
    test "$(verify other-secret) $(verify unsigned)" = "False False"

# The receiver over HTTP: the request as sent is accepted, a changed one 401.
receiver probe ${P}85 --secret-file "$SECRET"
# post CASE: posts the good receiver's last request (signed moments ago),
# changed as CASE says; prints the status
post() {
    receiver_py - "$WORK/good.jsonl" "$SECRET" "$1" "http://127.0.0.1:${P}85/hook" <<'PY'
import base64, hashlib, hmac, json, sys, time, urllib.error, urllib.request
from webhook_receiver import read_secret
r = json.loads(open(sys.argv[1]).readlines()[-1])
secret, case, url = read_secret(sys.argv[2]), sys.argv[3], sys.argv[4]
body, header = base64.b64decode(r["body_b64"]), r["signature"]
if case == "tampered":
    body = body.replace(b'"score":', b'"score":1', 1)
elif case == "stale":
    # signed properly, here, but 400 s ago
    t = int(time.time()) - 400
    header = f"t={t},v1=" + hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
headers = {"Content-Type": "application/json", "X-Txwatch-Alert-Key": r["key"]}
if case != "unsigned":
    headers["X-Txwatch-Signature"] = header
try:
    print(urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
}
check "the receiver answers 200 to a delivered request posted again within 300 s" \
    test "$(post as-sent)" = 200
check "the receiver answers 401 to a tampered body, a stale timestamp and no signature" \
    test "$(post tampered) $(post stale) $(post unsigned)" = "401 401 401"
check "and records which verified" \
    test "$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["verified"]) for l in open(sys.argv[1])))' \
            "$WORK/probe.jsonl")" = "True False False False"

# --- the receiver that answers 400: one request per alert, no retries ---------------------
check "the 400 receiver got each alert exactly once (no retries)" \
    test "$(wc -l <"$WORK/refuses.jsonl")" = "$ALERTS" -a \
         "$(keys_with "$WORK/refuses.jsonl" 400 | sort -u | wc -l)" = "$ALERTS"
check "refused deliveries are counted as failed ($(delivered failed) >= $ALERTS)" \
    test "$(delivered failed)" -ge "$ALERTS"
check "a refusal is logged as not retried" grep -q 'refused, not retried: HTTP 400' "$WORK/notifier.log"
check "nothing was dropped" test "$(delivered dropped)" = 0
check "delivery latency is measured" \
    test "$(metric $N_ADMIN txw_notifier_delivery_seconds_count)" = "$(delivered ok)"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the notifier stops cleanly on SIGTERM" stop_clean $PID_notifier
check "its cursor in PostgreSQL is at the newest stored alert" \
    test "$(sql "SELECT alert_id FROM txw_data.notifier_cursor WHERE name = 'notifier'")" = \
         "$(sql "SELECT max(alert_id) FROM txw.alerts")"

# --- alerts raised while it is down: sent after it restarts -------------------------------
BEFORE=$(sql "SELECT max(alert_id) FROM txw.alerts")
"$BIN/txw-producer" --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 --seed 6 \
    --shape flat --rate 300 --duration 5 --accounts 2000 --fraud-rate 0.05 >>"$WORK/producer.log" 2>&1
sleep 2     # the aggregator's last flush
sql "SELECT key FROM txw.alerts WHERE alert_id > $BEFORE ORDER BY alert_id" >"$WORK/down-keys.txt"
DOWN=$(wc -l <"$WORK/down-keys.txt")
check "alerts were raised and stored while the notifier was down ($DOWN)" test "$DOWN" -ge 5
GOOD_BEFORE=$(wc -l <"$WORK/good.jsonl")
mv "$WORK/notifier.log" "$WORK/notifier-1.log"
# One request at a time to each URL, so arrival order is sending order.
start notifier $N_ADMIN "${NOTIFIER[@]}" --concurrency 1
caught_up() {
    local deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(tail -n +$((GOOD_BEFORE + 1)) "$WORK/good.jsonl" | wc -l)" -ge "$DOWN" ] && return 0
        sleep 0.5
    done
    return 1
}
check "after the restart the good receiver gets the $DOWN alerts stored meanwhile" caught_up
sleep 1     # anything more would be a duplicate
tail -n +$((GOOD_BEFORE + 1)) "$WORK/good.jsonl" >"$WORK/good-after.jsonl"
keys_with "$WORK/good-after.jsonl" 200 >"$WORK/after-keys.txt"
check "exactly those, each once, in id order" cmp -s "$WORK/down-keys.txt" "$WORK/after-keys.txt"
check "counted as caught up ($DOWN)" \
    test "$(metric $N_ADMIN txw_notifier_caught_up_alerts_total)" = "$DOWN"
check "across both runs no key reached the good receiver twice" \
    test -z "$(keys_with "$WORK/good.jsonl" 200 | LC_ALL=C sort | uniq -d)"
check "the restarted notifier stops cleanly" stop_clean $PID_notifier
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "validator, scorer and aggregator stop cleanly" \
    stop_clean $PID_validator $PID_scorer $PID_aggregator

# --- a dead receiver and a tiny queue: drops, then the drain deadline -----------------------
check "txw-pubinject is built (make build/tools/txw-pubinject)" test -x "$INJECT"
D_ADMIN=${P}97
start dead $D_ADMIN "$BIN/txw-notifier" --admin-port $D_ADMIN \
    --alert-endpoints tcp://127.0.0.1:${P}13 --webhook-url http://127.0.0.1:${P}84/ \
    --queue 5 --backoff-ms 5000 --drain-ms 1000
"$INJECT" --bind tcp://127.0.0.1:${P}13 --rate 200 --count 20 --wait-ms 1000 >"$WORK/inject.log" 2>&1
check "txw-pubinject sends 20 alerts" grep -q "sent 20" "$WORK/inject.log"
wait_metric $D_ADMIN txw_records_in_total 20 10
check "with the queue full, 15 alerts are dropped and counted" \
    test "$(metric $D_ADMIN 'txw_notifier_deliveries_total{channel="webhook",result="dropped"}')" = 15
check "each drop is logged with the alert's key" \
    test "$(grep -c 'alert fraud:pubinject-[0-9]*-[0-9]* dropped: the queue is full' "$WORK/dead.log")" = 15
check "the queue depth gauge shows the 5 alerts waiting" \
    test "$(metric $D_ADMIN txw_notifier_queue_depth)" = 5
t0=$SECONDS
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the notifier with undelivered alerts still exits 0 on SIGTERM" stop_clean $PID_dead
check "it gives up at the drain deadline (exit within 3 s)" test $((SECONDS - t0)) -le 3
check "it logs each alert it could not deliver" \
    test "$(grep -c 'not delivered at exit' "$WORK/dead.log")" = 5
check "a notifier without --webhook-url refuses to start (exit 1)" \
    sh -c "'$BIN/txw-notifier' --admin-port 0 >/dev/null 2>&1; test \$? = 1"
check "a non-http webhook URL is refused" \
    sh -c "'$BIN/txw-notifier' --admin-port 0 --webhook-url ftp://x/ 2>&1 | grep -q 'not an http'"
check "without a secret the notifier warns once, at start, that webhooks are unsigned" \
    test "$(grep -c 'webhooks are unsigned' "$WORK/dead.log")" = 1
# refused WHAT PATTERN ARGS...: the notifier exits 1 at start and logs PATTERN
refused() {
    local what=$1 pattern=$2 out rc; shift 2
    out=$("$BIN/txw-notifier" --admin-port 0 --webhook-url http://127.0.0.1:${P}84/ "$@" 2>&1)
    rc=$?
    if [ $rc = 1 ] && grep -q -- "$pattern" <<<"$out"; then ok "$what"
    else not_ok "$what"; note "exit $rc: $(tail -1 <<<"$out")"; fi
}
printf 'fifteen-bytes-x\n' >"$WORK/short.secret"
refused "a secret file that cannot be read stops the start (exit 1, the file named)" \
    "cannot read '$WORK/missing.secret'" --webhook-secret-file "$WORK/missing.secret"
refused "a secret of 15 bytes stops the start (exit 1, at least 16 needed)" \
    "is 15 bytes; at least 16" --webhook-secret-file "$WORK/short.secret"
TXW_WEBHOOK_SECRET_FILE=$WORK/short.secret \
    refused "so does TXW_WEBHOOK_SECRET_FILE, the option's variable" "is 15 bytes; at least 16"
