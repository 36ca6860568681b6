#!/bin/bash
# alerts.sh - the analyst's workflow on alerts over the query API
# (services/query/api_alerts.c, api_workflow.c, api_labels.c;
# proto/sql/021_workflow.sql, 025_analyst.sql)
#
# txw-query runs as a login of the group txw_api, so every statement is
# held to the grants of 025. Known alerts are inserted over three days
# (accounts, merchants, regions, scores and amounts chosen so that every
# filter and every severity has its own answer); each search is compared
# with the same search written directly in SQL on the table (the severity
# rule spelled out, not read from its column). A cursor walk returns every
# matching alert exactly once and in order while new ones are inserted
# between its pages. Then the workflow: PATCH (assign, investigate, close
# with a disposition, change it, reopen), each field change one
# alert_events row, nothing written when nothing changes, the label of a
# disposition and its replacement, the account's stale mark, notes, ack
# and reopen as shorthands, 400s naming the field, 403 for a viewer, 404;
# the labels' own paging. Every answer is checked against
# proto/openapi.yaml. Times are relative to the database's now(), never
# to an hour or a date.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=180   # port prefix: API ${P}80, admin ${P}94
pg_start 25386
API=http://127.0.0.1:${P}80/api/v1

"$BIN/txw-aggregator" --database-url "$DB" --migrate-only \
    --login-roles "txw_api=$(db_url alerts_query)" >"$WORK/migrate.log" 2>&1 \
    || { not_ok "schema created"; tail "$WORK/migrate.log"; exit 1; }
ANALYST=$(make_key alice analyst)
OTHER=$(make_key bob analyst)
VIEWER=$(make_key vera viewer)

# --- the alerts ----------------------------------------------------------------------
# 240 fraud alerts, one every 15 minutes back from now (three days, so
# several partitions may be involved whatever the date): account acc-(i%12),
# merchant m-(i%5), region (i%4), score 40 + i%60, amount i*3000 (minor).
# Plus three region health alerts. Ids follow raised_at, newest highest.
sql "SELECT txw_data.ensure_event_partition ('alerts', now () - d * interval '1 day')
     FROM generate_series (0, 4) d" >/dev/null
sql "INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, account_id, score, reasons,
         amount_minor, currency, amount_rep_minor, merchant_id, country, channel, region,
         message, model_version, raised_at)
     SELECT 'fraud:tx-' || i, 'fraud', 'tx-' || i, now () - i * interval '15 minutes' - interval '1 second',
         'acc-' || i % 12, 40 + i % 60, '{amount_spike}', i * 3000, 'EUR', i * 3000,
         'm-' || i % 5, 'DE', 'online', (ARRAY ['north', 'south', 'east', 'west']) [1 + i % 4],
         'score', 'rules-1', now () - i * interval '15 minutes'
     FROM generate_series (240, 1, -1) i;
     INSERT INTO txw_data.alerts (dedupe_key, kind, ts, score, reasons, region, message,
         model_version, raised_at)
     SELECT 'region_health:' || r || ':' || n, 'region_health', now () - n * interval '1 hour',
         20, '{}', r, 'health', 'health-1', now () - n * interval '1 hour' + interval '1 second'
     FROM (VALUES ('north', 2), ('south', 5), ('west', 30)) v (r, n)" >/dev/null
check "the test alerts load" test "$(sql "SELECT count(*) FROM txw_data.alerts")" = 243

start query ${P}94 "$BIN/txw-query" --database-url "$(db_url alerts_query)" \
    --listen 127.0.0.1:${P}80 --admin-port ${P}94 --cache-ttl-ms 0 \
    --rate-per-key 0 --rate-per-client 0

# --- helpers -------------------------------------------------------------------------
mkdir -p "$WORK/resp"     # REC: lib.sh
N=0
# call KEY METHOD TEMPLATE PATH [BODY]: S status, B body file; recorded.
call() {
    local key=$1 method=$2 template=$3 path=$4 body=${5-}
    N=$((N + 1)); B=$WORK/resp/$N.body
    if [ -n "$body" ]; then
        S=$(curl -s -o "$B" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $key" \
            -H 'Content-Type: application/json' -d "$body" "$API$path")
    else
        S=$(curl -s -o "$B" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $key" "$API$path")
    fi
    printf '%s\t/api/v1%s\t%s\t%s\n' "$method" "$template" "$S" "$B" >>"$REC"
}
# is WHAT STATUS FILTER EXPECTED: the last answer has STATUS and jq FILTER gives EXPECTED
is() {
    local got
    got=$(jq -c "$3" "$B" 2>&1)
    if [ "$S" = "$2" ] && [ "$got" = "$4" ]; then ok "$1"; else
        not_ok "$1"; note "status $S (expected $2), $3 is $got, expected $4"; fi
}
# ids WHERE [LIMIT]: the ids of the alerts raised in the last 24 hours that
# match WHERE, newest first, as a JSON array: the search written in SQL
ids() {
    sql "SELECT coalesce (json_agg (alert_id ORDER BY raised_at DESC, alert_id DESC), '[]')
         FROM (SELECT alert_id, raised_at FROM txw_data.alerts
               WHERE raised_at >= ${SINCE_SQL:-now () - interval '24 hours'} AND ($1)
               ORDER BY raised_at DESC, alert_id DESC LIMIT ${2:-50}) a" | jq -c .
}
# search WHAT QUERY WHERE: GET /alerts?QUERY (as the analyst) gives ids WHERE
search() {
    call "$ANALYST" GET /alerts "/alerts?$2"
    is "search: $1" 200 '[.alerts[].id]' "$(ids "$3" "${4:-50}")"
}
# bad_body WHAT KEY METHOD TEMPLATE PATH BODY FIELD: a 400 naming FIELD
bad_body() {
    call "$2" "$3" "$4" "$5" "$6"
    is "400 for $1" 400 '[.error, .parameter]' "[\"bad_parameter\",\"$7\"]"
}
id_of() { sql "SELECT alert_id FROM txw_data.alerts WHERE dedupe_key = '$1'"; }
events() {
    sql "SELECT coalesce (string_agg (field || ':' || coalesce (old_value, '-') || '>'
             || coalesce (new_value, '-') || '/' || actor, ',' ORDER BY event_id), '')
         FROM txw_data.alert_events WHERE alert_id = $1"
}

# --- search ------------------------------------------------------------------------------
search "the last 24 hours by default, 50 at most" "" "true"
search "by account" "account=acc-7" "account_id = 'acc-7'"
search "by merchant" "merchant=m-3&limit=100" "merchant_id = 'm-3'" 100
search "by region (region health alerts too)" "region=north" "region = 'north'"
search "by kind" "kind=region_health" "kind = 'region_health'"
search "by score range (both ends inclusive)" "min_score=60&max_score=62" "score BETWEEN 60 AND 62"
search "by least severity: high is high and critical" "severity=high&limit=200" \
    "score >= 75" 200
# ago HOURS: that long before now, RFC 3339 to the second
ago() { sql "SELECT to_char ((now () - interval '$1 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"; }
# Over three days: amounts of 5,000.00 and more are older than 41 hours.
SINCE=$(ago 70)
SINCE_SQL="'$SINCE'" search "by least severity: critical is 90+, or 75+ on 5,000.00 or more" \
    "severity=critical&since=$SINCE&limit=200" \
    "score >= 90 OR (score >= 75 AND amount_rep_minor >= 500000)" 200
SINCE=$(ago 5) UNTIL=$(ago 2)
SINCE_SQL="'$SINCE'" search "by time range (raised_at, until exclusive)" "since=$SINCE&until=$UNTIL" \
    "raised_at < '$UNTIL'"
search "filters combine" "account=acc-4&region=north&min_score=70" \
    "account_id = 'acc-4' AND region = 'north' AND score >= 70"
call "$VIEWER" GET /alerts "/alerts?merchant=m-1&limit=3"
is "a viewer searches by merchant and sees pseudonyms" 200 \
    '[(.alerts | length), (.alerts[0].account_id | startswith("acc-"))]' '[3,false]'
call "$VIEWER" GET /alerts "/alerts?account=acc-1"
is "a viewer may not search by account (403)" 403 '.error' '"forbidden"'
for bad in "status=acked status" "severity=severe severity" "account=a%20b account" \
           "max_score=101 max_score" "min_score=50&max_score=40 max_score" "cursor=abc cursor" \
           "cursor=123:x cursor" "until=tomorrow until" "assignee=%01 assignee" "limit=0 limit"; do
    call "$ANALYST" GET /alerts "/alerts?${bad% *}"
    is "400 for a search with ${bad% *}" 400 '.parameter' "\"${bad#* }\""
done

# --- a cursor walk while new alerts arrive --------------------------------------------------
# Fraud alerts of merchant m-2 in the last 24 hours, 7 a page; before each
# page a new alert of m-2 is raised now. The walk must give exactly the
# alerts that matched when it began, newest first, each once.
expected=$(ids "merchant_id = 'm-2' AND kind = 'fraud'" 1000)
walk="[]"; cursor=""; pages=0; next=1000
while :; do
    call "$ANALYST" GET /alerts "/alerts?merchant=m-2&kind=fraud&limit=7${cursor:+&cursor=$cursor}"
    [ "$S" = 200 ] || break
    walk=$(jq -c --argjson w "$walk" '$w + [.alerts[].id]' "$B")
    pages=$((pages + 1))
    cursor=$(jq -r '.next_cursor // empty | @uri' "$B")
    [ -n "$cursor" ] && [ $pages -lt 50 ] || break
    sql "INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, account_id, score, reasons,
             merchant_id, region, message, model_version, raised_at)
         VALUES ('fraud:tx-$next', 'fraud', 'tx-$next', now (), 'acc-x', 80, '{}', 'm-2',
                 'north', 'new', 'rules-1', now ())" >/dev/null
    next=$((next + 1))
done
check "a cursor walk gives every matching alert once, in order, while new ones arrive ($pages pages)" \
    test "$walk" = "$expected" -a $pages -eq $(( ($(jq length <<<"$expected") + 6) / 7 ))
call "$ANALYST" GET /alerts "/alerts?merchant=m-2&kind=fraud&limit=1000"
is "the new alerts are found by a new search" 200 '[.alerts[] | select(.tx_id | test("^tx-1[0-9]{3}$"))] | length' "$((next - 1000))"

# --- PATCH --------------------------------------------------------------------------------
A=$(id_of fraud:tx-8)          # acc-8, m-3, score 48, 240.00
call "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"status":"investigating","assignee":"alice"}'
is "PATCH: investigating, assigned" 200 '[.id, .status, .assignee, .severity, .updated_at != null, .acked_at]' \
    "[$A,\"investigating\",\"alice\",\"low\",true,null]"
check "each field changed is one event, with its old and new value and the actor" \
    test "$(events "$A")" = "status:open>investigating/alice,assignee:->alice/alice"
UPDATED=$(jq -r .updated_at "$B")
call "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"status":"investigating","assignee":"alice"}'
is "PATCH with the same values changes nothing (updated_at stays)" 200 '.updated_at' "\"$UPDATED\""
call "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{}'
is "an empty PATCH changes nothing" 200 '.status' '"investigating"'
check "changing nothing writes no event and no audit row" test \
    "$(events "$A")/$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'alert.update' AND target = 'fraud:tx-8'")" \
    = "status:open>investigating/alice,assignee:->alice/alice/1"
call "$ANALYST" GET /alerts "/alerts?assignee=alice"
is "search by assignee" 200 '[.alerts[].id]' "[$A]"
call "$ANALYST" GET /alerts "/alerts?status=investigating"
is "search by status" 200 '[.alerts[].id]' "[$A]"

call "$OTHER" PATCH '/alerts/{id}' "/alerts/$A" '{"status":"closed","disposition":"confirmed_fraud","note":"card holder confirmed"}'
is "PATCH: closed as confirmed fraud; closing sets acked_at and acked_by" 200 \
    '[.status, .disposition, .acked_by, .acked_at != null, .note, .assignee]' \
    '["closed","confirmed_fraud","bob",true,"card holder confirmed","alice"]'
check "closing is a status event to closed (the notifier's contract), with the disposition's and the note's" \
    test "$(sql "SELECT string_agg (field || ':' || coalesce (new_value, '-'), ',' ORDER BY event_id)
                 FROM txw_data.alert_events WHERE alert_id = $A AND event_id > (
                     SELECT max (event_id) FROM txw_data.alert_events WHERE alert_id = $A AND field = 'assignee')
                 AND field <> 'note'")" = "status:closed,disposition:confirmed_fraud"
check "the disposition is a fraud label of the transaction, set by the caller" test \
    "$(sql "SELECT string_agg (tx_id || '/' || source || '/' || account_id || '/' || label || '/' || detail || '/' || set_by, ',')
            FROM txw_data.labels")" = "tx-8/disposition/acc-8/fraud/confirmed_fraud/bob"
check "the label's ts is the transaction's" test \
    "$(sql "SELECT l.ts = a.ts FROM txw_data.labels l JOIN txw_data.alerts a USING (tx_id) WHERE tx_id = 'tx-8'")" = t
check "the account is marked stale (reason disposition)" test \
    "$(sql "SELECT string_agg (account_id || '/' || reason, ',') FROM txw_data.stale_accounts")" = "acc-8/disposition"
check "the audit row names the key and holds the body" test \
    "$(sql "SELECT principal || '/' || name || '/' || (detail->>'disposition') || '/' || (detail->>'alert_id')
            FROM txw_data.audit WHERE action = 'alert.update' AND target = 'fraud:tx-8' ORDER BY id DESC LIMIT 1")" \
    = "${OTHER:4:16}/bob/confirmed_fraud/$A"
call "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"disposition":"false_positive"}'
is "PATCH: the disposition changes, the alert stays closed by bob" 200 '[.status, .disposition, .acked_by]' \
    '["closed","false_positive","bob"]'
check "a changed disposition replaces the label (legit, by alice), and the stale mark stays one" test \
    "$(sql "SELECT string_agg (label || '/' || detail || '/' || set_by, ',') FROM txw_data.labels")/$(sql "SELECT count(*) FROM txw_data.stale_accounts")" \
    = "legit/false_positive/alice/1"
call "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"status":"open","assignee":null}'
is "PATCH: open again, unassigned; leaving closed clears the ack and the closing note" 200 \
    '[.status, .assignee, .acked_at, .acked_by, .note, .disposition]' '["open",null,null,null,null,"false_positive"]'
call "$VIEWER" PATCH '/alerts/{id}' "/alerts/$A" '{"status":"closed"}'
is "a viewer may not PATCH (403)" 403 '.error' '"forbidden"'
call "$ANALYST" PATCH '/alerts/{id}' /alerts/99999999 '{"status":"closed"}'
is "PATCH of an unknown alert is a 404" 404 '.error' '"not_found"'
bad_body "status acked" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"status":"acked"}' status
bad_body "status null" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"status":null}' status
bad_body "an empty assignee" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"assignee":""}' assignee
bad_body "an assignee of 65 bytes" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" \
    "{\"assignee\":\"$(printf 'a%.0s' $(seq 65))\"}" assignee
bad_body "a numeric assignee" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"assignee":7}' assignee
bad_body "an unknown disposition" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"disposition":"maybe"}' disposition
bad_body "an empty note" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"note":""}' note
bad_body "an unknown field" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" '{"severity":"low"}' severity
bad_body "a body that is not JSON" "$ANALYST" PATCH '/alerts/{id}' "/alerts/$A" 'status=closed' body
check "a refused PATCH changes nothing" test "$(sql "SELECT status || '/' || disposition FROM txw_data.alerts WHERE alert_id = $A")" \
    = "open/false_positive"

# --- notes ----------------------------------------------------------------------------------
B2=$(id_of fraud:tx-21)        # acc-9
call "$ANALYST" GET '/alerts/{id}/notes' "/alerts/$B2/notes"
is "an alert without notes has an empty list" 200 '.notes' '[]'
call "$ANALYST" POST '/alerts/{id}/notes' "/alerts/fraud%3Atx-21/notes" '{"body":"called the card holder"}'
is "a note is added (by key), its author the caller's key name" 201 '[.alert_id, .author, .body]' \
    "[$B2,\"alice\",\"called the card holder\"]"
NOTE=$(jq .id "$B")
call "$OTHER" POST '/alerts/{id}/notes' "/alerts/$B2/notes" '{"body":"no answer, will retry"}'
call "$ANALYST" GET '/alerts/{id}/notes' "/alerts/$B2/notes"
is "notes are listed oldest first" 200 '[.notes[] | [.author, .body]]' \
    '[["alice","called the card holder"],["bob","no answer, will retry"]]'
check "a note is an event (field note, its id) and an audit row; the alert stays open" test \
    "$(events "$B2" | cut -d, -f1)/$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'alert.note'")/$(sql "SELECT status FROM txw_data.alerts WHERE alert_id = $B2")" \
    = "note:->$NOTE/alice/2/open"
bad_body "a note without a body" "$ANALYST" POST '/alerts/{id}/notes' "/alerts/$B2/notes" '{}' body
bad_body "a note of 2001 bytes" "$ANALYST" POST '/alerts/{id}/notes' "/alerts/$B2/notes" \
    "{\"body\":\"$(printf 'n%.0s' $(seq 2001))\"}" body
call "$ANALYST" POST '/alerts/{id}/notes' /alerts/99999999/notes '{"body":"x"}'
is "a note on an unknown alert is a 404" 404 '.error' '"not_found"'
call "$VIEWER" GET '/alerts/{id}/notes' "/alerts/$B2/notes"
is "a viewer may not read notes (403)" 403 '.error' '"forbidden"'

# --- ack and reopen, the shorthands ----------------------------------------------------------
C=$(id_of fraud:tx-33)         # acc-9, score 73
call "$ANALYST" POST '/alerts/{id}/ack' "/alerts/$C/ack" '{"disposition":"suspicious","note":"odd"}'
is "ack closes with the disposition and the note" 200 '[.status, .disposition, .note, .acked_by]' \
    '["closed","suspicious","odd","alice"]'
check "ack is a status event to closed; suspicious is an unknown label" test \
    "$(events "$C" | tr , '\n' | grep -v ^note: | paste -sd,)/$(sql "SELECT label || '/' || detail FROM txw_data.labels WHERE tx_id = 'tx-33'")" \
    = "status:open>closed/alice,disposition:->suspicious/alice/unknown/suspicious"
call "$ANALYST" POST '/alerts/{id}/reopen' "/alerts/$C/reopen"
is "reopen opens it without a disposition" 200 '[.status, .disposition, .note, .acked_at]' '["open",null,null,null]'
check "reopening withdraws the label (unknown, no detail) rather than deleting it" test \
    "$(sql "SELECT label || '/' || coalesce (detail, '-') FROM txw_data.labels WHERE tx_id = 'tx-33'")" = "unknown/-"
H=$(id_of region_health:south:5)
call "$ANALYST" PATCH '/alerts/{id}' "/alerts/$H" '{"status":"closed","disposition":"not_actionable"}'
is "a region health alert takes a disposition" 200 '[.status, .disposition]' '["closed","not_actionable"]'
check "... but it has no transaction: no label, no stale account" test \
    "$(sql "SELECT count(*) FROM txw_data.labels WHERE detail = 'not_actionable'")/$(sql "SELECT count(*) FROM txw_data.stale_accounts")" \
    = "0/2"

# --- labels ---------------------------------------------------------------------------------
# 25 chargeback labels of acc-3, a second apart in set_at, besides the three above.
sql "INSERT INTO txw_data.labels (tx_id, source, ts, account_id, label, detail, set_by, set_at)
     SELECT 'cb-' || i, 'chargeback', now () - interval '2 days', 'acc-3', 'fraud', 'charged_back',
            'ingest', now () - interval '1 hour' + i * interval '1 second'
     FROM generate_series (1, 25) i" >/dev/null
walk="[]"; cursor=""; pages=0
while :; do
    call "$ANALYST" GET /labels "/labels?limit=10${cursor:+&cursor=$cursor}"
    [ "$S" = 200 ] || break
    walk=$(jq -c --argjson w "$walk" '$w + [.labels[].tx_id]' "$B")
    pages=$((pages + 1))
    cursor=$(jq -r '.next_cursor // empty | @uri' "$B")
    [ -n "$cursor" ] && [ $pages -lt 10 ] || break
done
check "labels page by cursor, oldest change first, each once ($pages pages)" test \
    "$walk" = "$(sql "SELECT json_agg (tx_id ORDER BY set_at, source, tx_id) FROM txw_data.labels" | jq -c .)" -a $pages = 3
call "$ANALYST" GET /labels "/labels?account=acc-9&source=disposition"
is "labels by account and source" 200 '[.labels[] | [.tx_id, .label, .set_by]]' '[["tx-33","unknown","alice"]]'
call "$ANALYST" GET /labels "/labels?source=chargeback&limit=1"
is "a label has every field" 200 '[.labels[0] | .tx_id, .source, .account_id, .label, .detail, .set_by]' \
    '["cb-1","chargeback","acc-3","fraud","charged_back","ingest"]'
call "$VIEWER" GET /labels /labels
is "a viewer may not read labels (403)" 403 '.error' '"forbidden"'
for bad in "source=model source" "account=a%20b account" "since=yesterday since" "cursor=1:x cursor" "limit=1001 limit"; do
    call "$ANALYST" GET /labels "/labels?${bad% *}"
    is "400 for labels with ${bad% *}" 400 '.parameter' "\"${bad#* }\""
done

api_conforms
