#!/bin/bash
# customers.sh - RFM segments and cohorts, from the pipeline to the API
# (proto/sql/017_customers.sql, services/query/api_customers.c)
#
# First an empty database: every customer endpoint answers an empty, well
# formed result, before and after a refresh. Then a CSV of chosen rows
# (60 accounts over five months of 2026, approved and declined) goes
# through validator -> scorer -> aggregator, and a login of the group
# txw_maint runs txw_data.refresh_segments (). Everything is computed again
# here from the file, in Python (customers_expect below): the months the
# aggregator kept, the quintile boundaries (percentile_disc), every
# customer's R, F and M scores and segment (the segment table written out
# again), and every cohort's numbers. Then a second file (a few customers
# buy again in June) and an incremental refresh: it writes only the
# customers whose inputs or scores changed, and leaves every customer with
# what a refresh from nothing gives. The API's answers are checked against
# the same numbers, with the paging, the 400s that name their parameter,
# the 404, the viewer's pseudonyms and 403, and the audit of a customer's
# record. Times are fixed (as_of), never the clock's.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=163   # port prefix: API ${P}80, pipeline ${P}0x-${P}2x, admin ${P}9x
pg_start 25365
AS_OF=2026-07-01T00:00:00Z
API=http://127.0.0.1:${P}80/api/v1

"$BIN/txw-aggregator" --database-url "$DB" --migrate-only >"$WORK/migrate.log" 2>&1 \
    || { not_ok "schema created"; tail "$WORK/migrate.log"; exit 1; }
ANALYST=$(make_key analyst analyst)
VIEWER=$(make_key viewer viewer)
# The refresh as txw-maint runs it: a login of the group txw_maint.
sql "CREATE ROLE customers_maint LOGIN IN ROLE txw_maint" >/dev/null
MAINT_URL=$(db_url customers_maint)
refresh() { psql "$MAINT_URL" -qAtX -v ON_ERROR_STOP=1 -c "SELECT txw_data.refresh_segments ('$AS_OF')"; }

start query ${P}94 "$BIN/txw-query" --database-url "$DB" --listen 127.0.0.1:${P}80 \
    --admin-port ${P}94 --cache-ttl-ms 0 --rate-per-key 0 --rate-per-client 0

# Every answer is recorded (lib.sh, api_get), and checked against
# proto/openapi.yaml at the end.
get() {   # KEY PATH: the status, then the body
    local template
    case ${2%%\?*} in
    customers/segments|customers|cohorts) template=/api/v1/${2%%\?*} ;;
    customers/*) template="/api/v1/customers/{account_id}" ;;
    esac
    api_get "$1" "$2" "$template"
}

# --- an empty database -------------------------------------------------------------
empty_answers() {   # WHEN
    check "$1: the 11 segments, each empty" jq_is "$VIEWER" customers/segments \
        '[.customers, .revenue_minor, (.segments | length), ([.segments[].customers] | add), .segments[0].customers_share_pct]' \
        '[0,0,11,0,null]'
    check "$1: a segment's members are an empty page" jq_is "$VIEWER" \
        "customers/segments?segment=Lost&limit=5" '[.segment, .members, .limit]' '["Lost",[],5]'
    check "$1: no customers" jq_is "$VIEWER" "customers?sort=ltv" '.customers' '[]'
    check "$1: no cohorts" jq_is "$VIEWER" "cohorts?period=month" '[.period, .cohorts]' '["month",[]]'
    check "$1: an unknown customer is 404" test "$(get "$ANALYST" customers/A1 | head -1)" = 404
}
empty_answers "empty database"
check "the refresh of an empty database scores no one" \
    test "$(refresh | jq -c '[.customers, .written]')" = '[0,0]'
empty_answers "empty database, refreshed"
check "as_of is the refresh's" jq_is "$VIEWER" customers/segments .as_of "\"2026-07-01T00:00:00.000Z\""

# --- the data ---------------------------------------------------------------------------
# 60 accounts: account i starts in month 1 + i % 5 and buys in some of the
# months after; amounts and counts vary so the quintiles split; one in
# seven transactions is declined, and accounts A000054.. only ever decline.
python3 - "$WORK" <<'PY'
import random, sys
from datetime import datetime, timedelta, timezone
rng = random.Random(13)
work = sys.argv[1]
head = "tx_id,ts,account_id,amount,currency,merchant_id,category,channel,branch_id,region,country,device_id,product_id,status,device_type,is_fraud,fraud_pattern,injected"
def row(n, ts, acct, cents, status):
    return "T%d,%s,%s,%d.%02d,EUR,M001,grocery,pos,B001,R1,DE,D%s,,%s,pos_terminal,0,," % (
        n, ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"), acct, cents // 100, cents % 100, acct[1:], status)
rows, n = [], 0
for i in range(60):
    acct = "A%06d" % i
    first = 1 + i % 5
    for month in range(first, 6):
        if month > first and rng.random() < 0.35:
            continue
        for _ in range(1 + rng.randrange(1 + i % 4)):
            n += 1
            ts = datetime(2026, month, 1 + rng.randrange(27), rng.randrange(24), rng.randrange(60),
                          tzinfo=timezone.utc)
            status = "declined" if i >= 54 or n % 7 == 0 else "approved"
            rows.append((ts, row(n, ts, acct, 500 + rng.randrange(20000), status)))
rows.sort()
open(work + "/first.csv", "w").write(head + "\n" + "".join(r + "\n" for _, r in rows))
# June: ten customers buy again, one of them a new customer.
more = []
for k, i in enumerate([0, 3, 7, 11, 19, 23, 31, 42, 50, 60]):
    n += 1
    ts = datetime(2026, 6, 10 + k, 12, tzinfo=timezone.utc)
    more.append(row(n, ts, "A%06d" % i, 3000 + 100 * k, "approved"))
open(work + "/june.csv", "w").write(head + "\n" + "".join(r + "\n" for r in more))
PY

# customers_expect FILE...: from the rows, as this suite's own computation,
# JSON: accounts, months, boundaries, scores and cohorts at AS_OF
cat >"$WORK/expect.py" <<'PY'
import csv, json, math, sys
from datetime import datetime
from decimal import Decimal, ROUND_HALF_UP
as_of = datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
acc, months = {}, {}
for f in sys.argv[2:]:
    for r in csv.DictReader(open(f)):
        ts = datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
        cents = round(float(r["amount"]) * 100)
        ok = r["status"] == "approved"
        a = acc.setdefault(r["account_id"], {"tx": 0, "ltv": 0, "last": ts})
        a["tx"] += 1; a["ltv"] += cents * ok; a["last"] = max(a["last"], ts)
        m = months.setdefault((r["account_id"], "%04d-%02d" % (ts.year, ts.month)), [0, 0, 0, 0])
        m[0] += 1; m[1] += ok; m[2] += cents; m[3] += cents * ok
def bounds(values):   # percentile_disc 0.2 .. 0.8
    v = sorted(values)
    return [v[math.ceil(p * len(v)) - 1] for p in (0.2, 0.4, 0.6, 0.8)]
def score(x, b): return 1 + sum(x > y for y in b)
def segment(r, f):   # the usual RFM segment table
    grid = {5: ["New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
            4: ["Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"],
            3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
            2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
            1: ["Lost", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"]}
    return grid[r][f - 1]
rb = bounds([a["last"] for a in acc.values()])
fb = bounds([a["tx"] for a in acc.values()])
mb = bounds([a["ltv"] for a in acc.values()])
scores = {}
for k, a in acc.items():
    r, f, m = score(a["last"], rb), score(a["tx"], fb), score(a["ltv"], mb)
    cohort = min((mo for (ak, mo), v in months.items() if ak == k and v[1] > 0), default=None)
    scores[k] = {"r": r, "f": f, "m": m, "segment": segment(r, f), "frequency": a["tx"],
                 "ltv": a["ltv"], "recency_days": max(0, (as_of - a["last"]).days), "cohort": cohort}
def mnum(s): y, m = s.split("-"); return int(y) * 12 + int(m) - 1
def r2(num, den):   # PostgreSQL's round (numeric, 2): halves away from zero
    if not den:
        return None
    return float((Decimal(num) / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP))
cohorts = {}
for k, s in scores.items():
    if s["cohort"]:
        cohorts.setdefault(s["cohort"], []).append(k)
out_cohorts = []
last = as_of.year * 12 + as_of.month - 1
for c in sorted(cohorts):
    members = cohorts[c]
    periods = []
    for p in range(last - mnum(c) + 1):
        mo = "%04d-%02d" % ((mnum(c) + p) // 12, (mnum(c) + p) % 12 + 1)
        act = [months[(k, mo)] for k in members if (k, mo) in months and months[(k, mo)][1] > 0]
        orders, revenue = sum(v[1] for v in act), sum(v[3] for v in act)
        periods.append({"period": p, "month": mo, "active_customers": len(act),
                        "retention_pct": r2(100 * len(act), len(members)),
                        "revenue_minor": revenue, "orders": orders,
                        "avg_order_value_minor": r2(revenue, orders),
                        "purchase_frequency": r2(orders, len(act))})
    out_cohorts.append({"cohort": c, "customers": len(members), "periods": periods})
print(json.dumps({"scores": scores, "cohorts": out_cohorts,
                  "months": sorted("%s\t%s-01\t%d\t%d\t%d\t%d" % ((k, mo) + tuple(v))
                                   for (k, mo), v in months.items()),
                  "fb": fb, "mb": mb}))
PY
expect() { python3 "$WORK/expect.py" "$AS_OF" "$@"; }
# same WHAT EXPECTED: WHAT's output is EXPECTED (else the difference is noted)
same() {
    local got
    got=$($1)
    [ "$got" = "$2" ] && return 0
    diff <(echo "$2") <(echo "$got") | head -6 | sed 's/^/# /'
    return 1
}
scores_now() { stored_scores | LC_ALL=C sort; }

start_pipeline $P
send() {   # FILE TOTAL: sends FILE, waits until the aggregator has TOTAL rows
    "$BIN/txw-producer" --file "$1" --validator-endpoints tcp://127.0.0.1:${P}01 \
        --admin-port 0 >>"$WORK/producer.log" 2>&1 && wait_metric ${P}93 txw_records_in_total "$2" 60
}
ROWS1=$(($(wc -l <"$WORK/first.csv") - 1))
ROWS2=$(($(wc -l <"$WORK/june.csv") - 1))
check "the pipeline takes the first file ($ROWS1 rows)" send "$WORK/first.csv" "$ROWS1"
wait_stored() { # N: until N transactions are stored
    local i
    for i in $(seq 100); do
        [ "$(sql "SELECT count(*) FROM txw.transactions")" = "$1" ] && return 0; sleep 0.2
    done
    return 1
}
# The months are written in the flush that stores the rows.
check "every row is stored" wait_stored "$ROWS1"
expect "$WORK/first.csv" >"$WORK/expect1.json"

# --- what the aggregator keeps per month -------------------------------------------------
months_of_db() {
    sql "SELECT account_id, month, tx_count, approved, spend_rep_minor, approved_rep_minor
           FROM txw_data.account_months ORDER BY 1, 2"
}
months_of_tx() {   # the same from the stored transactions, as 017's backfill computes them
    sql "SELECT account_id, date_trunc ('month', ts AT TIME ZONE 'UTC')::date, count(*),
                count(*) FILTER (WHERE status = 'approved'), sum(amount_rep_minor),
                coalesce (sum(amount_rep_minor) FILTER (WHERE status = 'approved'), 0)
           FROM txw.transactions GROUP BY 1, 2 ORDER BY 1, 2"
}
check "the aggregator's account months are the file's" \
    same months_of_db "$(jq -r '.months[]' "$WORK/expect1.json" | LC_ALL=C sort)"
check "... and the stored transactions' (017's backfill)" same months_of_db "$(months_of_tx)"

# --- the refresh ------------------------------------------------------------------------
stored_scores() {   # account r f m segment frequency ltv recency_days cohort, as JSON lines
    sql "SELECT json_build_object ('account_id', account_id, 'r', r, 'f', f, 'm', m,
                'segment', segment, 'frequency', frequency, 'ltv', monetary,
                'recency_days', recency_days, 'cohort', to_char (cohort_month, 'YYYY-MM'))
           FROM txw.customers ORDER BY account_id" | jq -c .
}
expected_scores() {   # FILE: the same from the expectation
    jq -c '.scores | to_entries[] | {account_id: .key, r: .value.r, f: .value.f, m: .value.m,
           segment: .value.segment, frequency: .value.frequency, ltv: .value.ltv,
           recency_days: .value.recency_days, cohort: .value.cohort}' "$1" | LC_ALL=C sort
}
sql "CREATE ROLE customers_api LOGIN IN ROLE txw_api" >/dev/null
check "txw_api may not run the refresh" \
    sh -c "! psql '$(db_url customers_api)' -qAtX -c \"SELECT txw_data.refresh_segments ()\" 2>/dev/null"
out=$(refresh)
note "first refresh: $out"
check "the first refresh scores the 60 customers, in bulk" \
    test "$(echo "$out" | jq -c '[.customers, .written, .bulk]')" = '[60,60,true]'
check "the quintile boundaries are the file's" \
    test "$(sql "SELECT array_to_json (f_bounds) || ' ' || array_to_json (m_bounds) FROM txw_data.rfm_state")" \
         = "$(jq -c .fb "$WORK/expect1.json") $(jq -c .mb "$WORK/expect1.json")"
check "every customer's scores, segment and cohort are the file's" \
    same scores_now "$(expected_scores "$WORK/expect1.json")"
check "the quintiles split the customers (more than one score of each)" \
    test "$(sql "SELECT format ('%s%s%s', count(DISTINCT r), count(DISTINCT f), count(DISTINCT m)) FROM txw.customers")" = 555
check "the cohorts are the file's" jq_is "$VIEWER" "cohorts?period=month&months=120" .cohorts \
    "$(jq -c .cohorts "$WORK/expect1.json")"
# The second one as a deployment runs it: txw-maint's segments task.
"$BIN/txw-maint" segments --database-url "$MAINT_URL" --as-of "$AS_OF" --admin-port 0 \
    >"$WORK/maint.log" 2>&1
check "txw-maint segments runs the refresh (exit 0)" test $? = 0
check "... which, without news, writes nothing (its run's record)" \
    test "$(sql "SELECT outcome || ' ' || (detail -> 'result' ->> 'customers') || ' '
                        || (detail -> 'result' ->> 'written')
                   FROM txw_data.maint_runs WHERE task = 'segments' ORDER BY run_id DESC LIMIT 1")" \
         = "ok 60 0"

# --- an incremental refresh -------------------------------------------------------------
check "the pipeline takes June ($ROWS2 rows)" send "$WORK/june.csv" $((ROWS1 + ROWS2))
check "June is stored" wait_stored $((ROWS1 + ROWS2))
expect "$WORK/first.csv" "$WORK/june.csv" >"$WORK/expect2.json"
check "June's account months are added" \
    same months_of_db "$(jq -r '.months[]' "$WORK/expect2.json" | LC_ALL=C sort)"
stored_scores | LC_ALL=C sort >"$WORK/before.json"
changed=$(expected_scores "$WORK/expect2.json" | LC_ALL=C comm -13 "$WORK/before.json" - | wc -l)
out=$(refresh)
note "incremental refresh: $out ($changed customers changed)"
check "the incremental refresh writes only the $changed changed customers" \
    test "$(echo "$out" | jq -c '[.customers, .written, .bulk]')" = "[61,$changed,false]"
check "... and every customer has the file's scores, segment and cohort" \
    same scores_now "$(expected_scores "$WORK/expect2.json")"
check "... and the cohorts, updated by the changed customers only, are the files'" \
    jq_is "$VIEWER" "cohorts?months=120" .cohorts "$(jq -c .cohorts "$WORK/expect2.json")"
kept() {
    sql "SELECT account_id, r, f, m, segment, cohort_month FROM txw_data.customer_rfm ORDER BY 1"
    sql "SELECT * FROM txw_data.cohort_months ORDER BY 1, 2"
    sql "SELECT * FROM txw_data.customer_months ORDER BY 1"
}
kept >"$WORK/incremental.tsv"
sql "DELETE FROM txw_data.customer_rfm" >/dev/null
check "a refresh from nothing is a bulk one" test "$(refresh | jq .bulk)" = true
check "... and gives what the incremental one kept (scores, segments, cohorts)" \
    cmp -s "$WORK/incremental.tsv" <(kept)
last2=$(jq -c '[.cohorts[-2:][].cohort]' "$WORK/expect2.json")
check "months=2: the last two cohorts" jq_is "$VIEWER" "cohorts?months=2" '[.cohorts[].cohort]' "$last2"

# --- the API -------------------------------------------------------------------------------
E=$WORK/expect2.json
seg_sizes=$(jq -c '[.scores[] | .segment] | group_by(.) | map({(.[0]): length}) | add' "$E")
check "segments: each segment's size" jq_is "$VIEWER" customers/segments \
    '[.segments[] | select(.customers > 0) | {key: .segment, value: .customers}] | sort_by(.key) | from_entries' "$seg_sizes"
check "segments: sizes, revenue and shares add up" jq_is "$VIEWER" customers/segments \
    '[.customers, ([.segments[].revenue_minor] | add) == .revenue_minor, ([.segments[].customers_share_pct] | add | . > 99.9 and . < 100.1)]' \
    "[61,true,true]"
check "segments: 11 of them, in order" jq_is "$VIEWER" customers/segments '[.segments[].segment]' \
    '["Champions","Loyal Customers","Potential Loyalists","New Customers","Promising","Need Attention","About to Sleep","At Risk","Can'"'"'t Lose Them","Hibernating","Lost"]'
top=$(jq -r '[.scores | to_entries[] | select(.value.segment == "Champions")] | sort_by(-.value.ltv, .key) | [.[].key]' "$E" | jq -c .)
page() {   # KEY QUERY: the account ids of a members page
    get "$1" "customers/segments?segment=Champions&$2" | tail -n +2 | jq -c '[.members[].account_id]'
}
check "members: a page of Champions by lifetime value" \
    test "$(page "$ANALYST" "limit=2&offset=0")" = "$(echo "$top" | jq -c '.[0:2]')"
check "members: the next page" test "$(page "$ANALYST" "limit=2&offset=2")" = "$(echo "$top" | jq -c '.[2:4]')"
check "members: a viewer sees pseudonyms" \
    test "$(page "$VIEWER" "limit=2" | jq -c 'map(startswith("p~"))')" = '[true,true]'
ranked=$(jq -c '[.scores | to_entries | sort_by(-.value.ltv, .key) | .[0:5][].key]' "$E")
check "customers?sort=ltv: ranked by lifetime value" jq_is "$ANALYST" "customers?sort=ltv&limit=5" \
    '[.customers[].account_id]' "$ranked"
byfreq=$(jq -c '[.scores | to_entries | sort_by(-.value.frequency, .key) | .[0:3][].key]' "$E")
check "customers?sort=frequency" jq_is "$ANALYST" "customers?sort=frequency&limit=3" \
    '[.customers[].account_id]' "$byfreq"
check "customers: a viewer sees pseudonyms" jq_is "$VIEWER" "customers?limit=3" \
    '[.customers[].account_id | startswith("p~")]' '[true,true,true]'
one=$(jq -c '.scores.A000003 | [.segment, .r, .f, .m, .recency_days, .ltv, .cohort]' "$E")
check "a customer: profile, RFM, segment, lifetime value" jq_is "$ANALYST" customers/A000003 \
    '[.rfm.segment, .rfm.r, .rfm.f, .rfm.m, .rfm.recency_days, .lifetime_value_minor, .profile.cohort_month]' "$one"
check "a customer: recent transactions, newest first" jq_is "$ANALYST" "customers/A000003?limit=2" \
    '[(.recent | length), .recent[0].ts > .recent[1].ts, .profile.tx_count == .rfm.frequency]' '[2,true,true]'
check "a customer's record is audited" \
    test "$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'read.customer' AND target = 'A000003'")" = 2
check "a viewer may not read a customer's record" test "$(get "$VIEWER" customers/A000003 | head -1)" = 403
check "an unknown customer is 404" test "$(get "$ANALYST" customers/A999999 | head -1)" = 404
check "a customer the refresh has not seen has no scores yet" \
    sh -c "psql '$DB' -qc \"INSERT INTO txw_data.accounts VALUES ('A-new', 1, 100, 100, 1, 0, 0, 0, 0, 0, '$AS_OF', '$AS_OF')\" \
           && curl -sf -H 'Authorization: Bearer $ANALYST' '$API/customers/A-new' | jq -e '.rfm == null' >/dev/null"

# --- bad parameters ------------------------------------------------------------------------
check "400 limit=0 names limit" bad "customers?limit=0" limit
check "400 limit=1001 names limit" bad "customers/segments?segment=Lost&limit=1001" limit
check "400 offset=-1 names offset" bad "customers?offset=-1" offset
check "400 offset=x names offset" bad "customers/segments?offset=x" offset
check "400 sort=name names sort" bad "customers?sort=name" sort
check "400 segment=Nobody names segment" bad "customers/segments?segment=Nobody" segment
check "400 period=week names period" bad "cohorts?period=week" period
check "400 months=0 names months" bad "cohorts?months=0" months
check "400 an unknown parameter is named" bad "cohorts?colour=red" colour
check "400 a bad customer id" bad "customers/a%20b" account_id
check "POST on the segments is 405, Allow: GET, OPTIONS" \
    test "$(curl -s -o /dev/null -D - -X POST -H "Authorization: Bearer $ANALYST" "$API/customers/segments" \
            | tr -d '\r' | awk 'NR == 1 { print $2 } tolower($1) == "allow:" { $1 = ""; print }')" = $'405\n GET, OPTIONS'

api_conforms
