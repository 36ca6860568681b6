#!/bin/bash
# query.sh - the REST API (txw-query) against known data in PostgreSQL
#
# Creates the schema with the real migrations (by starting the aggregator
# once), inserts windows, transactions, alerts, accounts and dead letters at
# known offsets from now (tests/e2e/query_data.bash), and checks every
# endpoint's numbers against values worked out by hand from that data, the
# 400s for bad parameters, 404s and 405s, the ack flow by id and by key,
# identity (401, 403, keys, the audit log, the role matrix derived from
# proto/openapi.yaml), X-Process-Time, CORS, the response cache, 503 and
# /readyz while PostgreSQL is down and the recovery after. Every response is recorded and
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
# Requests go as ADMIN unless AS names another key ("none": no key at all).
ADMIN=$(make_key root admin)
ANALYST=$(make_key alice analyst)
VIEWER=$(make_key vera viewer)
check "the test keys are made" test -n "$ADMIN" -a -n "$ANALYST" -a -n "$VIEWER"

# The first server has no rate limits (the suite asks fast); the second
# limits each key to a burst of 5, the third each client address to a
# burst of 3. Both give a token back only every 100 s: at one a second a
# loaded machine (a faked-clock pass in CI) took over a second for the
# flood's seven requests, and the seventh got its token back.
start query ${P}94 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}80 \
    --admin-port ${P}94 --cors-origins "http://dash.example, http://ops.example" \
    --rate-per-key 0 --rate-per-client 0
start query_nocache ${P}95 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}81 \
    --admin-port ${P}95 --cache-ttl-ms 0 --cors-origins http://any.example --pool-size 1 \
    --key-cache-ms 0 --rate-per-key 0.01 --burst-per-key 5 --rate-per-client 0
start query_client ${P}96 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}83 \
    --admin-port ${P}96 --rate-per-key 0 --rate-per-client 0.01 --burst-per-client 3

# --- helpers ---------------------------------------------------------------------
mkdir -p "$WORK/resp"     # REC: lib.sh
N=0
# req METHOD TEMPLATE PATH [CURL ARGS...]: B body file, H headers, S status. The
# response is recorded for the OpenAPI check unless TEMPLATE is "-".
req() {
    local method=$1 template=$2 path=$3; shift 3
    N=$((N + 1)); B=$WORK/resp/$N.body; H=$WORK/resp/$N.hdr
    local key=${AS:-$ADMIN} auth=()
    [ "$key" != none ] && auth=(-H "Authorization: Bearer $key")
    S=$(curl -s -o "$B" -D "$H" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" "${BASE:-$API}$path")
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
# twice_in_ttl METHOD TEMPLATE PATH [PATH2]: a request, then the same one
# again (or written as PATH2), the second meant to be a cache hit; FIRST
# is the first one's "status X-Cache" and FIRST_B its body. BETWEEN, when
# set, is a command run between the two (a change in the database), UNDO
# one that takes it back before another try. On a loaded machine the pair
# can take longer than the cache's 1 s TTL (a faked-clock pass in CI
# did): then it shows nothing, and it is tried again once the entry has
# died, up to three times. A miss within the TTL still fails.
twice_in_ttl() {
    local attempt t0 t1
    for attempt in 1 2 3; do
        t0=${EPOCHREALTIME/./}
        req "$1" "$2" "$3"
        FIRST="$S $(hdr X-Cache)" FIRST_B=$B
        ${BETWEEN:-}
        req "$1" "$2" "${4:-$3}"
        t1=${EPOCHREALTIME/./}
        [ $(((t1 - t0) / 1000)) -lt 900 ] && return 0
        note "attempt $attempt: the pair took $(((t1 - t0) / 1000)) ms, not within the cache's TTL"
        ${UNDO:-}
        sleep 1.1
    done
}
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
bad "timeseries with minutes out of range" /api/v1/timeseries "/api/v1/timeseries?minutes=525601" minutes
# Over more than a day the points are hours of the rollups (tests/e2e/history.sh
# checks them in depth): every overall window of the data is in the last week.
req GET /api/v1/timeseries "/api/v1/timeseries?minutes=10080"
expect "timeseries over 7 days: hourly points, every window counted (175)" 200 \
    '[d["minutes"], d["window_ms"], sum(p["v"] for p in d["points"])]' '[10080,3600000,175]'
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
expect "regions: north unhealthy by its open alert, south by its rate, east at the threshold is healthy, west's alert is closed" 200 \
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
    '[{"key":"fraud:tx-100","kind":"fraud","tx_id":"tx-100","account_id":"acc-1","score":91,"reasons":["amount_spike","new_device"],"amount_minor":250000,"currency":"USD","amount_rep_minor":230000,"merchant_id":"m-A","country":"DE","channel":"online","region":"north","message":"score 91: amount_spike, new_device","model_version":"rules-1","status":"open","acked_at":null,"acked_by":null,"disposition":null,"note":null,"severity":"critical","assignee":null,"updated_at":null},true,true,true]'
expect "alerts: a region health alert has no transaction fields; a closed (acked) one says by whom" 200 \
    '[[a["tx_id"], a["account_id"], a["amount_minor"], a["currency"], a["region"], a["score"], a["status"], a["acked_by"], a["acked_at"] == iso(NOW - 540)] for a in d["alerts"][1:3]]' \
    '[[null,null,null,null,"north",12,"open",null,false],[null,null,null,null,"west",15,"closed","bob",true]]'
ID200=$(jv '[a["id"] for a in d["alerts"] if a["key"] == "fraud:tx-200"][0]')
req GET /api/v1/alerts "/api/v1/alerts?min_score=86"
expect "alerts with min_score 86" 200 'keys(d["alerts"])' '["fraud:tx-100"]'
req GET /api/v1/alerts "/api/v1/alerts?min_score=85&kind=fraud"
expect "alerts with min_score 85 (inclusive), fraud only" 200 'keys(d["alerts"])' '["fraud:tx-100","fraud:tx-200"]'
req GET /api/v1/alerts "/api/v1/alerts?kind=region_health"
expect "alerts of kind region_health" 200 'keys(d["alerts"])' "[\"$NH\",\"$WH\",\"$OH\"]"
req GET /api/v1/alerts "/api/v1/alerts?status=closed"
expect "closed alerts" 200 'keys(d["alerts"])' "[\"$WH\"]"
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
bad "alerts with an unknown status" /api/v1/alerts "/api/v1/alerts?status=acked" status
bad "alerts with an unknown kind" /api/v1/alerts "/api/v1/alerts?kind=other" kind
bad "alerts with limit 1001" /api/v1/alerts "/api/v1/alerts?limit=1001" limit
bad "alerts with an unknown parameter" /api/v1/alerts "/api/v1/alerts?sort=score" sort
bad "alerts with an invalid UTF-8 value" /api/v1/alerts "/api/v1/alerts?kind=%FF" kind

# --- ack ---------------------------------------------------------------------------------------
# acked_at is when the ack was made: near the clock as the request went,
# not the suite's start (NOW), which a loaded machine left minutes behind.
ACK_NOW=$(date +%s)
AS=$ANALYST req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -H 'Content-Type: application/json' \
    -d '{"disposition":"confirmed_fraud","note":"card holder confirmed by phone"}'
expect "ack by id: acked by the caller's key, with its disposition and note" 200 \
    '[d["id"], d["key"], d["status"], d["acked_by"], d["disposition"], d["note"], abs(ms(d["acked_at"]) / 1000 - '"$ACK_NOW"') < 120]' \
    "[$ID200,\"fraud:tx-200\",\"closed\",\"alice\",\"confirmed_fraud\",\"card holder confirmed by phone\",true]"
ACKED_AT=$(jv 'd["acked_at"]')
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d '{"disposition":"false_positive"}'
expect "acking again changes nothing and returns the alert" 200 '[d["status"], d["acked_by"], d["acked_at"], d["disposition"]]' \
    "[\"closed\",\"alice\",$ACKED_AT,\"confirmed_fraud\"]"
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/fraud%3Atx-100/ack"
expect "ack by URL-encoded key without a body" 200 '[d["key"], d["status"], d["acked_by"], d["disposition"], d["note"]]' \
    '["fraud:tx-100","closed","root",null,null]'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$(echo "$NH" | sed 's/:/%3A/g')/ack" -d '{"note":"known outage"}'
expect "ack a region health alert by key" 200 '[d["key"], d["acked_by"], d["note"]]' "[\"$NH\",\"root\",\"known outage\"]"
check "the acks are stored in txw_data.alerts with the key that made them" test \
    "$(sql "SELECT string_agg(dedupe_key || '=' || acked_by || '/' || coalesce (acked_key, '-'), ',' ORDER BY dedupe_key) FROM txw_data.alerts WHERE acked_at IS NOT NULL")" \
    = "fraud:tx-100=root/${ADMIN:4:16},fraud:tx-200=alice/${ANALYST:4:16},$NH=root/${ADMIN:4:16},$WH=bob/-"
check "each ack has one audit row naming its key, and acking twice wrote none" test \
    "$(sql "SELECT string_agg(target || '=' || principal || '/' || name || '/' || coalesce (detail->>'disposition', '-'), ',' ORDER BY target) FROM txw_data.audit WHERE action = 'alert.ack'")" \
    = "fraud:tx-100=${ADMIN:4:16}/root/-,fraud:tx-200=${ANALYST:4:16}/alice/confirmed_fraud,$NH=${ADMIN:4:16}/root/-"
req GET /api/v1/alerts "/api/v1/alerts?status=open"
expect "after the acks (the cache is cleared), one open alert is left" 200 'keys(d["alerts"])' "[\"$OH\"]"
req GET /api/v1/regions/health /api/v1/regions/health
expect "north is healthy once its alert is acked (its rate is 0.05)" 200 '[r["healthy"] for r in d["regions"]]' '[true,true,false,true]'
AS=$ANALYST req POST '/api/v1/alerts/{id}/reopen' "/api/v1/alerts/$ID200/reopen"
expect "reopen: the alert is open again, its ack cleared" 200 '[d["status"], d["acked_by"], d["acked_at"], d["disposition"], d["note"]]' \
    '["open",null,null,null,null]'
AS=$ANALYST req POST '/api/v1/alerts/{id}/reopen' "/api/v1/alerts/$ID200/reopen"
expect "reopening an open alert changes nothing" 200 'd["status"]' '"open"'
check "the reopening has one audit row, and the first ack's stays" test \
    "$(sql "SELECT string_agg(action || '=' || name, ',' ORDER BY id) FROM txw_data.audit WHERE target = 'fraud:tx-200'")" \
    = "alert.ack=alice,alert.reopen=alice"
req POST '/api/v1/alerts/{id}/ack' /api/v1/alerts/999999/ack
expect "ack of an unknown id is a 404" 404 '[d["error"], d["message"]]' '["not_found","no alert 999999"]'
req POST '/api/v1/alerts/{id}/ack' /api/v1/alerts/fraud%3Atx-nope/ack
expect "ack of an unknown key is a 404" 404 'd["error"]' '"not_found"'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d 'not json'
expect "ack with a body that is not JSON is a 400" 400 '[d["error"], d["parameter"]]' '["bad_parameter","body"]'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d '{"by":"mallory"}'
expect "ack naming its acker in the body is a 400: the acker is the key" 400 'd["parameter"]' '"by"'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d '{"disposition":"maybe"}'
expect "ack with an unknown disposition is a 400" 400 'd["parameter"]' '"disposition"'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d '{"note":5}'
expect "ack with a non-string note is a 400" 400 'd["parameter"]' '"note"'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" -d '{"who":"x"}'
expect "ack with an unknown body field is a 400" 400 'd["parameter"]' '"who"'
req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack" --data-binary @<(head -c 5000 /dev/zero | tr '\0' ' ')
expect "ack with a body over 4 KiB is a 413" 413 'd["parameter"]' '"body"'
req GET '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack"
expect "GET on ack is a 405" 405 'd["error"]' '"method_not_allowed"'
check "the 405 names the allowed methods" test "$(hdr Allow)" = "POST, OPTIONS"
req POST /api/v1/alerts /api/v1/alerts
expect "POST on the alert list is a 405" 405 'd["error"]' '"method_not_allowed"'

# --- transactions and accounts ------------------------------------------------------------------
req GET '/api/v1/transactions/{tx_id}' /api/v1/transactions/tx-100
expect "transaction: every field" 200 \
    '[{k: v for k, v in d.items() if k not in ("ts", "stored_at")}, d["ts"] == iso(NOW - 121), d["stored_at"] == iso(NOW - 120)]' \
    '[{"tx_id":"tx-100","account_id":"acc-1","amount_minor":250000,"currency":"USD","amount_rep_minor":230000,"merchant_id":"m-A","category":"electronics","channel":"online","branch_id":"b-1","region":"north","country":"DE","device_id":"d-9","device_type":"web","product_id":"p-1","order_id":"o-1","status":"approved","score":91,"reasons":[{"code":"amount_spike","description":"amount far above the account'"'"'s usual"},{"code":"new_device","description":"device not seen for this account"}],"model_version":"rules-1"},true,true]'
req GET '/api/v1/transactions/{tx_id}' /api/v1/transactions/tx-103
expect "transaction without a product, order or device type" 200 '[d["product_id"], d["order_id"], d["device_type"], d["reasons"][0]["code"], d["amount_minor"]]' '[null,null,null,"new_device",1250]'
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

# --- identity: keys, roles, the audit log ------------------------------------------------------------
AS=none req GET /api/v1/alerts /api/v1/alerts
expect "no key: 401" 401 'd["error"]' '"unauthorized"'
check "a 401 names the scheme (WWW-Authenticate: Bearer)" test "$(hdr WWW-Authenticate)" = 'Bearer realm="txwatch"'
AS=txw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA req GET /api/v1/alerts /api/v1/alerts
expect "an unknown key: 401" 401 'd["error"]' '"unauthorized"'
AS=${VIEWER%?}x req GET /api/v1/alerts /api/v1/alerts
expect "a key with a wrong secret: 401" 401 'd["error"]' '"unauthorized"'
req GET - /api/v1/alerts -H "X-API-Key: $VIEWER" -H 'Authorization:'
check "the key may come as X-API-Key" test "$S" = 200
AS=$VIEWER req GET '/api/v1/transactions/{tx_id}' /api/v1/transactions/tx-100
expect "a viewer may not read a whole transaction: 403" 403 '[d["error"], d["message"]]' \
    '["forbidden","this needs the analyst role; the key has viewer"]'
AS=$VIEWER req POST '/api/v1/alerts/{id}/ack' "/api/v1/alerts/$ID200/ack"
expect "a viewer may not ack: 403" 403 'd["error"]' '"forbidden"'
AS=$VIEWER req GET /api/v1/alerts "/api/v1/alerts?kind=fraud"
expect "a viewer sees alerts with pseudonyms, never the account id or its end" 200 \
    '[len(d["alerts"]) > 0, [a["account_id"] for a in d["alerts"] if "acc" in a["account_id"] or a["account_id"][-2:] in ("-1", "-2")]]' \
    '[true,[]]'
VIEWED=$(jv 'sorted(set(a["account_id"] for a in d["alerts"]))')
AS=$ANALYST req GET /api/v1/alerts "/api/v1/alerts?kind=fraud"
expect "an analyst sees the same alerts with whole account ids" 200 \
    'sorted(set(a["account_id"] for a in d["alerts"]))' '["acc-1","acc-2"]'
check "two accounts, two pseudonyms ($VIEWED)" test "$(echo "$VIEWED" | tr ',' '\n' | wc -l)" = 2
AS=$VIEWER req GET /api/v1/whoami /api/v1/whoami
expect "whoami names the key and its role" 200 '[d["key_id"], d["name"], d["role"]]' "[\"${VIEWER:4:16}\",\"vera\",\"viewer\"]"
reads() { sql "SELECT count(*) FROM txw_data.audit WHERE action = 'read.transaction' AND target = 'tx-103' AND principal = '${ANALYST:4:16}'"; }
AS=$ANALYST twice_in_ttl GET '/api/v1/transactions/{tx_id}' /api/v1/transactions/tx-103
# Each try reads twice; a hit is audited as a miss is.
tries=$(($(reads) / 2))
check "every read of a whole transaction is audited, a cache hit too ($FIRST; $S $(hdr X-Cache) $(reads) reads in $tries tries)" \
    test "$FIRST|$S $(hdr X-Cache)|$(reads)" = "200 miss|200 hit|$((tries * 2))" -a "$tries" -ge 1
AS=$ANALYST req GET '/api/v1/accounts/{account_id}' /api/v1/accounts/acc-2
check "a read of a whole account is audited with the caller's address" test \
    "$(sql "SELECT action || ' ' || target || ' ' || name || ' ' || client FROM txw_data.audit WHERE action = 'read.account' ORDER BY id DESC LIMIT 1")" \
    = "read.account acc-2 alice 127.0.0.1"
req POST /api/v1/keys /api/v1/keys -H 'Content-Type: application/json' -d '{"name":"temp","role":"analyst"}'
expect "an admin makes a key; its text is in the answer" 201 '[d["name"], d["role"], d["created_by"], d["key"].startswith("txw_" + d["key_id"] + "_")]' \
    "[\"temp\",\"analyst\",\"root (${ADMIN:4:16})\",true]"
TEMP=$(jv 'd["key"]' | tr -d '"')
check "only the secret's SHA-256 is stored, never the secret" test \
    "$(sql "SELECT count(*) FILTER (WHERE secret_hash = sha256 (convert_to ('${TEMP:21}', 'UTF8'))) || ' ' || count(*) FILTER (WHERE row_to_json (k)::text LIKE '%${TEMP:21}%') FROM txw_data.api_keys k")" = "1 0"
AS=$TEMP req GET /api/v1/whoami /api/v1/whoami
expect "the new key works" 200 'd["name"]' '"temp"'
req GET /api/v1/keys /api/v1/keys
expect "the key list has every active key and no secret" 200 \
    '[sorted(k["name"] for k in d["keys"]), any("key" in k or "secret_hash" in k for k in d["keys"])]' \
    '[["alice","root","temp","vera"],false]'
req DELETE '/api/v1/keys/{key_id}' "/api/v1/keys/${TEMP:4:16}"
expect "an admin revokes a key" 200 '[d["name"], d["revoked_at"] is not None, d["revoked_by"]]' "[\"temp\",true,\"root (${ADMIN:4:16})\"]"
AS=$TEMP req GET /api/v1/whoami /api/v1/whoami
expect "a revoked key is refused at once on the server that revoked it" 401 'd["error"]' '"unauthorized"'
req GET /api/v1/keys "/api/v1/keys?revoked=true"
expect "revoked keys are listed on request" 200 '[k["name"] for k in d["keys"] if k["revoked_at"]]' '["temp"]'
req DELETE '/api/v1/keys/{key_id}' /api/v1/keys/ffffffffffffffff
expect "revoking an unknown key is a 404" 404 'd["error"]' '"not_found"'
req POST /api/v1/keys /api/v1/keys -d '{"name":"x","role":"root"}'
expect "a key with an unknown role is a 400" 400 'd["parameter"]' '"role"'
AS=$ANALYST req GET /api/v1/keys /api/v1/keys
expect "an analyst may not list keys: 403" 403 'd["error"]' '"forbidden"'
req GET /api/v1/audit "/api/v1/audit?limit=1000"
expect "the audit log names who made and revoked keys" 200 \
    '[[a["action"], a["target"], a["name"]] for a in d["audit"] if a["action"].startswith("key.")]' \
    "[[\"key.revoke\",\"${TEMP:4:16}\",\"root\"],[\"key.create\",\"${TEMP:4:16}\",\"root\"]]"
req GET /api/v1/audit "/api/v1/audit?action=alert.reopen"
expect "the audit log by action" 200 '[[a["target"], a["name"], a["role"], a["client"]] for a in d["audit"]]' \
    '[["fraud:tx-200","alice","analyst","127.0.0.1"]]'
check "the audit log refuses UPDATE, even from the table's owner" \
    bash -c "! psql '$DB' -qAt -v ON_ERROR_STOP=1 -c \"UPDATE txw_data.audit SET name = 'x'\" 2>/dev/null"
check "the audit log refuses DELETE and TRUNCATE" \
    bash -c "! psql '$DB' -qAt -v ON_ERROR_STOP=1 -c 'DELETE FROM txw_data.audit' 2>/dev/null && ! psql '$DB' -qAt -v ON_ERROR_STOP=1 -c 'TRUNCATE txw_data.audit' 2>/dev/null"
req GET - /api/v1/stats/realtime
check "API answers carry nosniff, a CSP that allows nothing and no referrer" test \
    "$(hdr X-Content-Type-Options)|$(hdr Content-Security-Policy)|$(hdr Referrer-Policy)" \
    = "nosniff|default-src 'none'; frame-ancestors 'none'|no-referrer"

# The role matrix: every operation of the document, derived from it.
THROWAWAY=$(make_key throwaway viewer)
printf '{"viewer":"%s","analyst":"%s","admin":"%s"}' "$VIEWER" "$ANALYST" "$ADMIN" >"$WORK/keys.json"
printf '{"dimension":"merchant","tx_id":"tx-100","account_id":"acc-1","id":"%s","key_id":"%s"}' \
    "$ID200" "${THROWAWAY:4:16}" >"$WORK/params.json"
node "$ROOT/tests/js/role_matrix.mjs" "$ROOT/proto/openapi.yaml" "$API" "$WORK/keys.json" "$WORK/params.json"
check "the role matrix of proto/openapi.yaml holds (401, 403, 2xx for every operation)" test $? = 0

# --- limits ---------------------------------------------------------------------------------------
statuses() {  # KEY N PORT PATH: the statuses of N requests, in order
    local i out=""
    for i in $(seq "$2"); do
        out="$out $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$3$4")"
    done
    echo "${out# }"
}
flood=$(statuses "$VIEWER" 7 ${P}81 /api/v1/whoami)
check "a key over its burst gets 429 ($flood)" test "$flood" = "200 200 200 200 200 429 429"
BASE=http://127.0.0.1:${P}81 AS=$VIEWER req GET /api/v1/whoami /api/v1/whoami
expect "a 429 says why" 429 '[d["error"], "rate limit" in d["message"]]' '["too_many_requests",true]'
check "a 429 says when to come back (Retry-After: $(hdr Retry-After))" test "$(hdr Retry-After)" -ge 1
other=$(statuses "$ANALYST" 3 ${P}81 /api/v1/whoami)
check "another key is not limited by the first one's flood ($other)" test "$other" = "200 200 200"
bad=$(statuses txw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 5 ${P}83 /api/v1/alerts)
check "a client address over its burst gets 429, bad keys or not, before the key is checked ($bad)" \
    test "$bad" = "401 401 401 429 429"
check "429s are counted by what was over its limit" test \
    "$(curl -sf http://127.0.0.1:${P}95/metrics | awk '$1 == "txw_query_rate_limited_total{by=\"key\"}" { print $2 }')" -ge 3
AS=$ANALYST twice_in_ttl GET /api/v1/alerts "/api/v1/alerts?limit=2&min_score=0" \
    "/api/v1/alerts?min_score=000&limit=002"
check "cache keys are normalised: the same request written otherwise is a hit ($FIRST, $(hdr X-Cache))" \
    test "$FIRST $(hdr X-Cache)" = "200 miss hit"

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
    = "204|http://dash.example|POST, OPTIONS|Authorization, Content-Type, X-API-Key"
check "a preflight carries X-Process-Time" test -n "$(hdr X-Process-Time)"
req OPTIONS - /api/v1/alerts -H 'Origin: http://evil.example'
check "a preflight from another origin gets no CORS header" test "$S:$(hdr Access-Control-Allow-Origin)" = "204:"
BASE=http://127.0.0.1:${P}81 req GET - /api/v1/alerts -H 'Origin: http://any.example'
check "CORS on the second server, its own list" test "$(hdr Access-Control-Allow-Origin)" = "http://any.example"
"$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}82 --admin-port 0 --cors-origins '*' >"$WORK/star.log" 2>&1
check "txw-query refuses --cors-origins '*' (exit $?)" grep -q "is not an origin" "$WORK/star.log"

# --- the cache ---------------------------------------------------------------------------------------
# Within its TTL (1 s) a cached answer is served though the database
# changed (twice_in_ttl tries again, the change undone, when a loaded
# machine took longer than the TTL for the pair).
b2_count() { B=$1 jv '[b["count"] for b in d["branches"] if b["branch_id"] == "b-2"]'; }
set_b2() { sql "UPDATE txw_data.windows SET tx_count = $1 WHERE dimension = 'branch' AND key = 'b-2'"; }
BETWEEN="set_b2 7" UNDO="set_b2 4" twice_in_ttl GET /api/v1/branches/performance \
    "/api/v1/branches/performance?minutes=30"
first="$FIRST $(b2_count "$FIRST_B")"
second="$S $(hdr X-Cache) $(b2_count "$B")"
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
check "the query servers stop cleanly on SIGTERM" stop_clean $PID_query $PID_query_nocache $PID_query_client

# --- every recorded response against the OpenAPI description ------------------------------------------
note "checking $(wc -l <"$REC") recorded responses against proto/openapi.yaml"
node "$ROOT/tests/js/openapi_check.mjs" "$ROOT/proto/openapi.yaml" "$REC"
check "every recorded response conforms to proto/openapi.yaml" test $? = 0
