#!/bin/bash
# query.sh - the REST API (txw-query) against known data in PostgreSQL
#
# Creates the schema with the real migrations (by starting the aggregator
# once), inserts windows, transactions, alerts, accounts and dead letters at
# known offsets from now (tests/e2e/query_data.bash), and checks every
# endpoint's numbers against values worked out by hand from that data, the
# 400s for bad parameters, 404s and 405s, the ack flow by id and by key,
# X-Process-Time, CORS, the response cache, 503 and /readyz while
# PostgreSQL is down and the recovery after. Every response is recorded and
# finally validated against proto/openapi.yaml (tests/js/openapi_check.mjs).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=query_data.bash
source "$ROOT/tests/e2e/query_data.bash"

P=178   # port prefix: API ${P}80 (and ${P}81 without cache), admin ${P}94/${P}95
API=http://127.0.0.1:${P}80
pg_start 25344

# --- schema, by the aggregator's own migrations; then the data ------------------
start aggregator ${P}93 "$BIN/txw-aggregator" --database-url "$DB" --migrate=true \
    --bind tcp://127.0.0.1:${P}21 --publish tcp://127.0.0.1:${P}22 --admin-port ${P}93
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the aggregator applies the migrations and stops cleanly" stop_clean $PID_aggregator
T0=$(( $(date +%s) / 60 * 60 ))
NOW=$(date +%s)
export T0 NOW
query_data_sql $T0 $NOW >"$WORK/data.sql"
check "the test data loads" psql "$DB" -qX -v ON_ERROR_STOP=1 -f "$WORK/data.sql" -o /dev/null

start query ${P}94 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}80 \
    --admin-port ${P}94 --cors-origins "http://dash.example, http://ops.example"
start query_nocache ${P}95 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}81 \
    --admin-port ${P}95 --cache-ttl-ms 0 --cors-origins '*' --pool-size 1

# --- helpers ---------------------------------------------------------------------
mkdir -p "$WORK/resp"
REC=$WORK/records.tsv
: >"$REC"
N=0
# req METHOD TEMPLATE PATH [CURL ARGS...]: B body file, H headers, S status. The
# response is recorded for the OpenAPI check unless TEMPLATE is "-".
req() {
    local method=$1 template=$2 path=$3; shift 3
    N=$((N + 1)); B=$WORK/resp/$N.body; H=$WORK/resp/$N.hdr
    S=$(curl -s -o "$B" -D "$H" -w '%{http_code}' -X "$method" "$@" "${BASE:-$API}$path")
    [ "$template" != - ] && printf '%s\t%s\t%s\t%s\n' "$method" "$template" "$S" "$B" >>"$REC"
    return 0
}
# jv EXPR: a Python expression over d, the last body as JSON, printed as JSON
jv() {
    python3 - "$B" "$1" <<'PY'
import datetime, json, os, sys
def iso(s):
    return datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
def ms(text):
    return int(datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)
NOW, T0 = int(os.environ['NOW']), int(os.environ['T0'])
keys = lambda a: [x['key'] for x in a]
d = json.load(open(sys.argv[1]))
print(json.dumps(eval(sys.argv[2]), separators=(',', ':')))
PY
}
# expect WHAT STATUS EXPR JSON: the last response has STATUS and EXPR gives JSON
expect() {
    local got
    got=$(jv "$3" 2>&1)
    if [ "$S" = "$2" ] && [ "$got" = "$4" ]; then ok "$1"; else
        not_ok "$1"; note "status $S (expected $2), got $got, expected $4"; fi
}
hdr() { grep -i "^$1:" "$H" | head -1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'; }
# bad WHAT TEMPLATE PATH PARAMETER: a 400 bad_parameter naming PARAMETER
bad() {
    req GET "$2" "$3"
    expect "400 for $1" 400 '[d["error"], d["parameter"], len(d["message"]) > 0]' \
        "[\"bad_parameter\",\"$4\",true]"
}

# --- stats/realtime -------------------------------------------------------------------
# Last 5 minutes: the overall windows at T0-3m (two shards: 10 + 5) and T0-1m (20).
req GET /api/v1/stats/realtime /api/v1/stats/realtime
expect "realtime: count, volume, statuses and flagged over 5 minutes" 200 \
    '[d["minutes"], d["count"], d["volume_minor"], d["flagged"], d["currency"], d["currency_exponent"]]' \
    '[5,35,44000,3,"EUR",2]'
expect "realtime: rates are fractions of the count (31, 3, 1, 3 of 35)" 200 \
    '[d["approval_rate"], d["decline_rate"], d["failure_rate"], d["flagged_rate"], d["mean_score"]]' \
    '[0.8857,0.0857,0.0286,0.0857,24.29]'
expect "realtime: from is 5 minutes before to, to is now" 200 \
    '[ms(d["to"]) - ms(d["from"]), abs(ms(d["to"]) / 1000 - NOW) < 60]' '[300000,true]'
expect "realtime: tx_per_s is count over the seconds since the first window (T0-3m)" 200 \
    'abs(d["tx_per_s"] - 35 / ((ms(d["to"]) - (T0 - 180) * 1000) / 1000)) < 0.006' 'true'
req GET /api/v1/stats/realtime "/api/v1/stats/realtime?minutes=60"
expect "realtime over 60 minutes adds the T0-10m window, not the T0-70m one" 200 \
    '[d["count"], d["volume_minor"], d["approval_rate"], d["mean_score"]]' '[135,1044000,0.9704,13.7]'
req GET /api/v1/stats/realtime "/api/v1/stats/realtime?minutes=1440"
expect "realtime over a day counts every overall window" 200 '[d["count"], d["tx_per_s"] > 0]' '[175,true]'
for q in minutes=0 minutes=1441 minutes=abc minutes=5.5 "minutes=" minuts=5 "minutes=5&minutes=6"; do
    bad "stats/realtime?$q" /api/v1/stats/realtime "/api/v1/stats/realtime?$q" \
        "$( [ "$q" = minuts=5 ] && echo minuts || echo minutes)"
done

# --- timeseries ------------------------------------------------------------------------
req GET /api/v1/timeseries /api/v1/timeseries
expect "timeseries: overall count, one point per window, oldest first" 200 \
    '[d["dimension"], d["key"], d["metric"], d["minutes"], d["window_ms"], [p["v"] for p in d["points"]], [p["closed"] for p in d["points"]]]' \
    '["overall","all","count",60,60000,[100,15,20],[true,true,false]]'
expect "timeseries: t is each window start" 200 '[p["t"] for p in d["points"]] == [iso(T0 - 600), iso(T0 - 180), iso(T0 - 60)]' 'true'
req GET /api/v1/timeseries "/api/v1/timeseries?metric=approval_rate"
expect "timeseries: approval rate per window (100/100, 13/15, 18/20)" 200 '[p["v"] for p in d["points"]]' '[1.0,0.8667,0.9]'
req GET /api/v1/timeseries "/api/v1/timeseries?metric=mean_score&minutes=5"
expect "timeseries: mean score per window over 5 minutes" 200 '[p["v"] for p in d["points"]]' '[16.67,30.0]'
req GET /api/v1/timeseries "/api/v1/timeseries?metric=tx_per_s&minutes=5"
expect "timeseries: tx_per_s per window (15/60, 20/60)" 200 '[p["v"] for p in d["points"]]' '[0.25,0.33]'
req GET /api/v1/timeseries "/api/v1/timeseries?dimension=merchant&key=m-C&metric=volume&minutes=120"
expect "timeseries: one merchant's volume, summed over shards" 200 \
    '[d["dimension"], d["key"], [p["v"] for p in d["points"]]]' '["merchant","m-C",[4000,90000]]'
req GET /api/v1/timeseries "/api/v1/timeseries?dimension=region&key=nowhere"
expect "timeseries: an unknown key is an empty series" 200 'd["points"]' '[]'
bad "timeseries without the key of a dimension" /api/v1/timeseries "/api/v1/timeseries?dimension=merchant" key
bad "timeseries with a key for overall" /api/v1/timeseries "/api/v1/timeseries?key=m-A" key
bad "timeseries with an unknown dimension" /api/v1/timeseries "/api/v1/timeseries?dimension=planet" dimension
bad "timeseries with an unknown metric" /api/v1/timeseries "/api/v1/timeseries?metric=speed" metric
bad "timeseries with minutes out of range" /api/v1/timeseries "/api/v1/timeseries?minutes=2000" minutes
bad "timeseries with a key holding a control character" /api/v1/timeseries "/api/v1/timeseries?dimension=region&key=a%01b" key

# --- top ---------------------------------------------------------------------------------
req GET '/api/v1/top/{dimension}' /api/v1/top/merchant
expect "top merchants by count: m-B 20, m-A 12, m-C 3 (m-D only before the period)" 200 \
    '[d["dimension"], d["by"], d["minutes"], keys(d["items"]), [i["count"] for i in d["items"]]]' \
    '["merchant","count",60,["m-B","m-A","m-C"],[20,12,3]]'
expect "top merchants: volume, flagged, approval rate, previous count and change" 200 \
    '[[i["volume_minor"], i["flagged"], i["approval_rate"], i["previous_count"], i["change"]] for i in d["items"]]' \
    '[[2000,0,1.0,0,null],[5000,1,0.8333,6,1.0],[90000,2,0.3333,4,-0.25]]'
req GET '/api/v1/top/{dimension}' "/api/v1/top/merchant?by=volume"
expect "top merchants by volume" 200 'keys(d["items"])' '["m-C","m-A","m-B"]'
req GET '/api/v1/top/{dimension}' "/api/v1/top/merchant?by=flagged&limit=2"
expect "top merchants by flagged, limit 2" 200 'keys(d["items"])' '["m-C","m-A"]'
req GET '/api/v1/top/{dimension}' "/api/v1/top/region?limit=100&minutes=1440"
expect "top regions: ties broken by key" 200 'keys(d["items"])' '["north","south","east","west"]'
bad "top of dimension overall" '/api/v1/top/{dimension}' /api/v1/top/overall dimension
bad "top of an unknown dimension" '/api/v1/top/{dimension}' /api/v1/top/planet dimension
bad "top by an unknown order" '/api/v1/top/{dimension}' "/api/v1/top/merchant?by=name" by
bad "top with limit 0" '/api/v1/top/{dimension}' "/api/v1/top/merchant?limit=0" limit
bad "top with limit 101" '/api/v1/top/{dimension}' "/api/v1/top/merchant?limit=101" limit

# --- branches and regions -----------------------------------------------------------------
req GET /api/v1/branches/performance /api/v1/branches/performance
expect "branches: by volume, b-2 (20000) before b-1 (10000, two shards), b-3 too old" 200 \
    '[[b["branch_id"], b["count"], b["volume_minor"], b["approval_rate"], b["decline_rate"], b["flagged"], b["flagged_rate"]] for b in d["branches"]]' \
    '[["b-2",4,20000,0.5,0.5,0,0.0],["b-1",20,10000,0.95,0.05,1,0.05]]'
bad "branches with an unknown parameter" /api/v1/branches/performance "/api/v1/branches/performance?limit=3" limit
req GET /api/v1/regions/health /api/v1/regions/health
expect "regions: by name, counts and rates" 200 \
    '[[r["region"], r["count"], r["success_rate"], r["decline_rate"], r["failure_rate"]] for r in d["regions"]]' \
    '[["east",10,0.9,0.1,0.0],["north",100,0.95,0.03,0.02],["south",50,0.8,0.1,0.1],["west",10,1.0,0.0,0.0]]'
expect "regions: north unhealthy by its open alert, south by its rate, east at the threshold is healthy, west's alert is acked" 200 \
    '[d["threshold"], [r["healthy"] for r in d["regions"]]]' '[0.1,[true,false,false,true]]'
expect "regions: the alerts raised in the period, by region" 200 \
    '[keys(r["alerts"]) for r in d["regions"]] == [[], ["region_health:north:%d" % ((T0 - 300) * 1000)], [], ["region_health:west:%d" % ((T0 - 600) * 1000)]]' 'true'
bad "regions with minutes=-1" /api/v1/regions/health "/api/v1/regions/health?minutes=-1" minutes

# --- alerts ----------------------------------------------------------------------------------
NH=region_health:north:$(( (T0 - 300) * 1000 ))
WH=region_health:west:$(( (T0 - 600) * 1000 ))
OH=region_health:north:$(( (T0 - 10800) * 1000 ))
req GET /api/v1/alerts /api/v1/alerts
expect "alerts: the last 24 hours, newest first" 200 'keys(d["alerts"])' \
    "[\"fraud:tx-100\",\"$NH\",\"$WH\",\"fraud:tx-200\",\"$OH\"]"
expect "alerts: a fraud alert has every field" 200 \
    '[{k: v for k, v in d["alerts"][0].items() if k not in ("id", "ts", "raised_at")}, d["alerts"][0]["ts"] == iso(NOW - 121), d["alerts"][0]["raised_at"] == iso(NOW - 120), d["alerts"][0]["id"] > 0]' \
    '[{"key":"fraud:tx-100","kind":"fraud","tx_id":"tx-100","account_id":"acc-1","score":91,"reasons":["amount_spike","new_device"],"amount_minor":250000,"currency":"USD","amount_rep_minor":230000,"merchant_id":"m-A","country":"DE","channel":"online","region":"north","message":"score 91: amount_spike, new_device","model_version":"rules-1","status":"open","acked_at":null,"acked_by":null},true,true,true]'
expect "alerts: a region health alert has no transaction fields; an acked one says by whom" 200 \
    '[[a["tx_id"], a["account_id"], a["amount_minor"], a["currency"], a["region"], a["score"], a["status"], a["acked_by"], a["acked_at"] == iso(NOW - 540)] for a in d["alerts"][1:3]]' \
    '[[null,null,null,null,"north",12,"open",null,false],[null,null,null,null,"west",15,"acked","bob",true]]'
ID200=$(jv '[a["id"] for a in d["alerts"] if a["key"] == "fraud:tx-200"][0]')
req GET /api/v1/alerts "/api/v1/alerts?min_score=86"
expect "alerts with min_score 86" 200 'keys(d["alerts"])' '["fraud:tx-100"]'
req GET /api/v1/alerts "/api/v1/alerts?min_score=85&kind=fraud"
expect "alerts with min_score 85 (inclusive), fraud only" 200 'keys(d["alerts"])' '["fraud:tx-100","fraud:tx-200"]'
req GET /api/v1/alerts "/api/v1/alerts?kind=region_health"
expect "alerts of kind region_health" 200 'keys(d["alerts"])' "[\"$NH\",\"$WH\",\"$OH\"]"
req GET /api/v1/alerts "/api/v1/alerts?status=acked"
expect "acked alerts" 200 'keys(d["alerts"])' "[\"$WH\"]"
req GET /api/v1/alerts "/api/v1/alerts?limit=2"
expect "alerts with limit 2" 200 'keys(d["alerts"])' "[\"fraud:tx-100\",\"$NH\"]"
SINCE=$(date -u -d "@$((NOW - 26 * 3600))" +%Y-%m-%dT%H:%M:%SZ)
req GET /api/v1/alerts "/api/v1/alerts?since=$SINCE"
expect "alerts since 26 hours ago include the one of 25 hours ago" 200 'keys(d["alerts"])[-1]' '"fraud:tx-050"'
SINCE=$(date -u -d "@$((NOW - 26 * 3600 + 3600))" +%Y-%m-%dT%H:%M:%S.000%%2B01:00)
req GET /api/v1/alerts "/api/v1/alerts?since=$SINCE"
expect "since with an encoded +01:00 offset is the same instant" 200 'len(d["alerts"])' '6'
req GET /api/v1/alerts "/api/v1/alerts?since=2099-01-01T00:00:00Z"
expect "no alerts since a future time" 200 'd["alerts"]' '[]'
bad "alerts since a non-RFC 3339 time" /api/v1/alerts "/api/v1/alerts?since=yesterday" since
bad "alerts since an impossible date" /api/v1/alerts "/api/v1/alerts?since=2026-02-30T00:00:00Z" since
bad "alerts since a time without zone" /api/v1/alerts "/api/v1/alerts?since=2026-11-22T10:00:00" since
bad "alerts with min_score 101" /api/v1/alerts "/api/v1/alerts?min_score=101" min_score
bad "alerts with min_score abc" /api/v1/alerts "/api/v1/alerts?min_score=abc" min_score
bad "alerts with an unknown status" /api/v1/alerts "/api/v1/alerts?status=closed" status
bad "alerts with an unknown kind" /api/v1/alerts "/api/v1/alerts?kind=other" kind
bad "alerts with limit 1001" /api/v1/alerts "/api/v1/alerts?limit=1001" limit
bad "alerts with an unknown parameter" /api/v1/alerts "/api/v1/alerts?sort=score" sort
bad "alerts with an invalid UTF-8 value" /api/v1/alerts "/api/v1/alerts?kind=%FF" kind

# --- ack ---------------------------------------------------------------------------------------
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -H 'Content-Type: application/json' -d '{"by":"alice"}'
expect "ack by id: the alert comes back acked by alice" 200 \
    '[d["id"], d["key"], d["status"], d["acked_by"], abs(ms(d["acked_at"]) / 1000 - NOW) < 120]' \
    "[$ID200,\"fraud:tx-200\",\"acked\",\"alice\",true]"
ACKED_AT=$(jv 'd["acked_at"]')
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d '{"by":"carol"}'
expect "acking again changes nothing and returns the alert" 200 '[d["status"], d["acked_by"], d["acked_at"]]' \
    "[\"acked\",\"alice\",$ACKED_AT]"
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/fraud%3Atx-100/ack"
expect "ack by URL-encoded key, default by api" 200 '[d["key"], d["status"], d["acked_by"]]' '["fraud:tx-100","acked","api"]'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$(echo "$NH" | sed 's/:/%3A/g')/ack" -d '{"by":"ops"}'
expect "ack a region health alert by key" 200 '[d["key"], d["acked_by"]]' "[\"$NH\",\"ops\"]"
check "the acks are stored in txw_data.alerts" test \
    "$(sql "SELECT string_agg(dedupe_key || '=' || acked_by, ',' ORDER BY dedupe_key) FROM txw_data.alerts WHERE acked_at IS NOT NULL")" \
    = "fraud:tx-100=api,fraud:tx-200=alice,$NH=ops,$WH=bob"
req GET /api/v1/alerts "/api/v1/alerts?status=open"
expect "after the acks (the cache is cleared), one open alert is left" 200 'keys(d["alerts"])' "[\"$OH\"]"
req GET /api/v1/regions/health /api/v1/regions/health
expect "north is healthy once its alert is acked (its rate is 0.05)" 200 '[r["healthy"] for r in d["regions"]]' '[true,true,false,true]'
req POST '/api/v1/alerts/{id}/ack' /api/v1/alerts/999999/ack
expect "ack of an unknown id is a 404" 404 '[d["error"], d["message"]]' '["not_found","no alert 999999"]'
req POST '/api/v1/alerts/{id}/ack' /api/v1/alerts/fraud%3Atx-nope/ack
expect "ack of an unknown key is a 404" 404 'd["error"]' '"not_found"'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d 'not json'
expect "ack with a body that is not JSON is a 400" 400 '[d["error"], d["parameter"]]' '["bad_parameter","body"]'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d '{"by":5}'
expect "ack with a non-string by is a 400" 400 'd["parameter"]' '"by"'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d '{"who":"x"}'
expect "ack with an unknown body field is a 400" 400 'd["parameter"]' '"who"'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" --data-binary @<(head -c 5000 /dev/zero | tr '\0' ' ')
expect "ack with a body over 4 KiB is a 400" 400 'd["parameter"]' '"body"'
req GET '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack"
expect "GET on ack is a 405" 405 'd["error"]' '"method_not_allowed"'
check "the 405 names the allowed methods" test "$(hdr Allow)" = "POST, OPTIONS"
req POST /api/v1/alerts /api/v1/alerts
expect "POST on the alert list is a 405" 405 'd["error"]' '"method_not_allowed"'

# --- transactions and accounts ------------------------------------------------------------------
req GET '/api/v1/transactions/{tx_id}' /api/v1/transactions/tx-100
expect "transaction: every field" 200 \
    '[{k: v for k, v in d.items() if k not in ("ts", "stored_at")}, d["ts"] == iso(NOW - 121), d["stored_at"] == iso(NOW - 120)]' \
    '[{"tx_id":"tx-100","account_id":"acc-1","amount_minor":250000,"currency":"USD","amount_rep_minor":230000,"merchant_id":"m-A","category":"electronics","channel":"online","branch_id":"b-1","region":"north","country":"DE","device_id":"d-9","device_type":"web","product_id":"p-1","status":"approved","score":91,"reasons":[{"code":"amount_spike","description":"amount far above the account'"'"'s usual"},{"code":"new_device","description":"device not seen for this account"}],"model_version":"rules-1"},true,true]'
req GET '/api/v1/transactions/{tx_id}' /api/v1/transactions/tx-103
expect "transaction without a product or device type" 200 '[d["product_id"], d["device_type"], d["reasons"][0]["code"], d["amount_minor"]]' '[null,null,"new_device",1250]'
req GET '/api/v1/transactions/{tx_id}' /api/v1/transactions/tx-nope
expect "an unknown transaction is a 404" 404 '[d["error"], d["message"]]' '["not_found","no transaction tx-nope"]'
bad "a transaction id with a space" '/api/v1/transactions/{tx_id}' /api/v1/transactions/bad%20id tx_id
bad "a transaction id of 65 characters" '/api/v1/transactions/{tx_id}' "/api/v1/transactions/$(printf 'x%.0s' {1..65})" tx_id
bad "a transaction with a query parameter" '/api/v1/transactions/{tx_id}' "/api/v1/transactions/tx-100?limit=1" limit

req GET '/api/v1/accounts/{account_id}' /api/v1/accounts/acc-1
expect "account: totals, lifetime value (approved only) and spend" 200 \
    '[d["account_id"], d["currency"], d["tx_count"], d["lifetime_value_minor"], d["spend_minor"], d["approved"], d["declined"], d["failed"]]' \
    '["acc-1","EUR",3,231250,236250,2,1,0]'
expect "account: first and last seen, risk, recent newest first" 200 \
    '[d["first_seen"] == iso(NOW - 2400), d["last_seen"] == iso(NOW - 121), d["risk"], [t["tx_id"] for t in d["recent"]]]' \
    '[true,true,{"level":"high","flagged":1,"max_score":91,"mean_score":44.33},["tx-100","tx-103","tx-104"]]'
req GET '/api/v1/accounts/{account_id}' "/api/v1/accounts/acc-1?limit=2"
expect "account with limit 2" 200 '[t["tx_id"] for t in d["recent"]]' '["tx-100","tx-103"]'
req GET '/api/v1/accounts/{account_id}' /api/v1/accounts/acc-2
expect "account with max score 85 (threshold 80) is high risk" 200 '[d["risk"]["level"], [t["tx_id"] for t in d["recent"]]]' '["high",["tx-200"]]'
req GET '/api/v1/accounts/{account_id}' /api/v1/accounts/acc-3
expect "account with max score 45 (at least half of 80) is medium risk" 200 \
    '[d["risk"], d["lifetime_value_minor"], d["failed"]]' '[{"level":"medium","flagged":0,"max_score":45,"mean_score":45.0},0,1]'
req GET '/api/v1/accounts/{account_id}' /api/v1/accounts/acc-4
expect "account with max score 20 is low risk; no stored transaction" 200 '[d["risk"]["level"], d["risk"]["mean_score"], d["recent"]]' '["low",15.0,[]]'
req GET '/api/v1/accounts/{account_id}' /api/v1/accounts/acc-nope
expect "an unknown account is a 404" 404 '[d["error"], d["message"]]' '["not_found","no account acc-nope"]'
bad "account with limit 0" '/api/v1/accounts/{account_id}' "/api/v1/accounts/acc-1?limit=0" limit
bad "account with limit 101" '/api/v1/accounts/{account_id}' "/api/v1/accounts/acc-1?limit=101" limit
bad "an account id with a quote" '/api/v1/accounts/{account_id}' "/api/v1/accounts/acc%27--" account_id

# --- dead letters ----------------------------------------------------------------------------------
req GET /api/v1/dead-letters /api/v1/dead-letters
expect "dead letters newest first, with their fields" 200 \
    '[[x["reason"], x["tx_id"], x["line_no"], x["field"]] for x in d["dead_letters"]]' \
    '[["bad_amount","tx-11",null,"amount"],["bad_currency",null,null,"currency"],["bad_amount","tx-9",12,"amount"]]'
expect "a dead letter's origin, payload and time" 200 \
    '[d["dead_letters"][2]["origin_source"], d["dead_letters"][2]["payload"], d["dead_letters"][2]["received_at"] == iso(NOW - 3600)]' \
    '["producer@h:1700000000","{\"tx_id\":\"tx-9\",\"amount\":\"1.2.3\"}",true]'
req GET /api/v1/dead-letters "/api/v1/dead-letters?reason=bad_amount"
expect "dead letters of one reason" 200 '[x["tx_id"] for x in d["dead_letters"]]' '["tx-11","tx-9"]'
req GET /api/v1/dead-letters "/api/v1/dead-letters?limit=1"
expect "dead letters with limit 1" 200 '[x["tx_id"] for x in d["dead_letters"]]' '["tx-11"]'
req GET /api/v1/dead-letters "/api/v1/dead-letters?reason=too_late"
expect "dead letters of a reason with none" 200 'd["dead_letters"]' '[]'
bad "dead letters of an unknown reason" /api/v1/dead-letters "/api/v1/dead-letters?reason=bad_mood" reason
bad "dead letters with limit 1001" /api/v1/dead-letters "/api/v1/dead-letters?limit=1001" limit

# --- openapi, 404, headers, CORS ------------------------------------------------------------------
req GET /api/v1/openapi.yaml /api/v1/openapi.yaml
check "openapi.yaml is served as YAML" test "$S:$(hdr Content-Type)" = "200:application/yaml; charset=utf-8"
req POST /api/v1/openapi.yaml /api/v1/openapi.yaml
check "POST on openapi.yaml is a 405" test "$S" = 405
req GET - /api/v1/nothing
expect "an unknown path is a 404" 404 'd["error"]' '"not_found"'
check "a 404 carries X-Process-Time" test -n "$(hdr X-Process-Time)"
req GET - /api/v1/transactions/
check "a path without its id is a 404" test "$S" = 404
bad_hdr=0
for h in "$WORK"/resp/*.hdr; do
    grep -qiE '^X-Process-Time: [0-9]+\.[0-9]{6}'$'\r''?$' "$h" || { bad_hdr=$((bad_hdr + 1)); note "no X-Process-Time in $h"; }
done
check "every response so far ($N) carries X-Process-Time in seconds" test $bad_hdr = 0
check "responses say Cache-Control: no-store" test "$(hdr Cache-Control)" = no-store

req GET - /api/v1/stats/realtime -H 'Origin: http://ops.example'
check "CORS: an allowed origin is echoed" test "$(hdr Access-Control-Allow-Origin)" = http://ops.example
check "CORS: Vary: Origin" test "$(hdr Vary)" = Origin
req GET - /api/v1/stats/realtime -H 'Origin: http://evil.example'
check "CORS: another origin gets no CORS header" test -z "$(hdr Access-Control-Allow-Origin)"
req GET - /api/v1/stats/realtime
check "CORS: no Origin, no CORS header" test -z "$(hdr Access-Control-Allow-Origin)"
req OPTIONS - "/api/v1/alerts/$ID200/ack" -H 'Origin: http://dash.example' \
    -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type'
check "CORS preflight: 204 with the allowed origin, methods and headers" test \
    "$S|$(hdr Access-Control-Allow-Origin)|$(hdr Access-Control-Allow-Methods)|$(hdr Access-Control-Allow-Headers)" \
    = "204|http://dash.example|POST, OPTIONS|Content-Type"
check "a preflight carries X-Process-Time" test -n "$(hdr X-Process-Time)"
req OPTIONS - /api/v1/alerts -H 'Origin: http://evil.example'
check "a preflight from another origin gets no CORS header" test "$S:$(hdr Access-Control-Allow-Origin)" = "204:"
BASE=http://127.0.0.1:${P}81 req GET - /api/v1/alerts -H 'Origin: http://any.example'
check "CORS with --cors-origins '*': Access-Control-Allow-Origin: *" test "$(hdr Access-Control-Allow-Origin)" = "*"

# --- the cache ---------------------------------------------------------------------------------------
req GET /api/v1/branches/performance "/api/v1/branches/performance?minutes=30"
first="$S $(hdr X-Cache) $(jv '[b["count"] for b in d["branches"] if b["branch_id"] == "b-2"]')"
sql "UPDATE txw_data.windows SET tx_count = 7 WHERE dimension = 'branch' AND key = 'b-2'"
req GET /api/v1/branches/performance "/api/v1/branches/performance?minutes=30"
second="$S $(hdr X-Cache) $(jv '[b["count"] for b in d["branches"] if b["branch_id"] == "b-2"]')"
BASE=http://127.0.0.1:${P}81 req GET /api/v1/branches/performance "/api/v1/branches/performance?minutes=30"
nocache="$S $(jv '[b["count"] for b in d["branches"] if b["branch_id"] == "b-2"]')"
sleep 1.2
req GET /api/v1/branches/performance "/api/v1/branches/performance?minutes=30"
third="$S $(hdr X-Cache) $(jv '[b["count"] for b in d["branches"] if b["branch_id"] == "b-2"]')"
check "cache: first request is a miss ($first)" test "$first" = "200 miss [4]"
check "cache: a change in the database is not visible within the TTL ($second)" test "$second" = "200 hit [4]"
check "cache: a server without cache sees the change at once ($nocache)" test "$nocache" = "200 [7]"
check "cache: the change is visible after the TTL ($third)" test "$third" = "200 miss [7]"
check "cache hits and misses are counted" test "$(metric ${P}94 txw_query_cache_hits_total)" -ge 1 -a \
    "$(metric ${P}94 txw_query_cache_misses_total)" -ge 10
M=$(curl -sf http://127.0.0.1:${P}94/metrics)
check "requests are counted by endpoint and status class" \
    test "$(echo "$M" | awk '$1 == "txw_query_requests_total{endpoint=\"alerts\",class=\"4xx\"}" { print $2 }')" -ge 10
check "the request latency histogram has observations" \
    test "$(echo "$M" | awk '$1 == "txw_query_request_seconds_count" { print $2 }')" -ge $((N - 10))

# --- PostgreSQL down and back ------------------------------------------------------------------------
sh "$ROOT/deploy/local/pg.sh" stop
req GET /api/v1/stats/realtime "/api/v1/stats/realtime?minutes=9"
expect "with PostgreSQL down: 503 unavailable" 503 '[d["error"], d["message"]]' '["unavailable","database unreachable"]'
check "a 503 carries X-Process-Time" test -n "$(hdr X-Process-Time)"
req GET /api/v1/stats/realtime "/api/v1/stats/realtime?minutes=5"
check "with PostgreSQL down, a cached response may still be served, or a 503 ($S)" test "$S" = 200 -o "$S" = 503
ready_down=0
for i in $(seq 30); do
    code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${P}94/readyz)
    [ "$code" = 503 ] && { ready_down=1; break; }
    sleep 0.2
done
check "/readyz says 503 while PostgreSQL is down" test $ready_down = 1
pg_start 25344
back=0
for i in $(seq 50); do
    req GET - "/api/v1/stats/realtime?minutes=11"
    [ "$S" = 200 ] && { back=1; break; }
    sleep 0.2
done
check "requests succeed again once PostgreSQL is back (reconnect)" test $back = 1
check "/readyz is 200 again" curl -sf -o /dev/null http://127.0.0.1:${P}94/readyz
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the query servers stop cleanly on SIGTERM" stop_clean $PID_query $PID_query_nocache

# --- every recorded response against the OpenAPI description ------------------------------------------
note "checking $(wc -l <"$REC") recorded responses against proto/openapi.yaml"
node "$ROOT/tests/js/openapi_check.mjs" "$ROOT/proto/openapi.yaml" "$REC"
check "every recorded response conforms to proto/openapi.yaml" test $? = 0
