#!/usr/bin/env bash
# ingest.sh - txw-ingest end to end: HTTP posts through the real pipeline
#
# A private PostgreSQL and the real pipeline (start_pipeline), and
# txw-ingest in front of it as its own login (txw_post). Posts one
# transaction, an array and NDJSON and checks the stored rows are exactly
# the accepted ones; replays (other whitespace and key order) answer the
# same and are stored once; a changed body under a taken tx_id is a 409;
# 413 (body, rows), 415, 400 naming the line and column; every reject
# reason of the validator's checks over HTTP; 401/403; then SIGKILL of
# txw-ingest after its 202s with the validator down, a restart, and every
# accepted row stored exactly once by the journal's resend; a reversal by
# PATCH stored, its replay, and the corrections refused (409, 404, 400);
# the horizon's delete. Every answer is checked against proto/openapi.yaml, and the role
# matrix runs over the ingest operations.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=162
pg_start 25380
start_pipeline $P
POST_DB=$(db_url txw_ingest_e2e)
"$BIN/txw-aggregator" --migrate-only --database-url "$DB" --login-roles "txw_post=$POST_DB" \
    >"$WORK/logins.log" 2>&1 || { not_ok "the txw_post login is made"; exit 1; }
ANALYST=$(make_key poster analyst)
VIEWER=$(make_key watcher viewer)
ADMIN=$(make_key boss admin)
URL=http://127.0.0.1:${P}80/api/v1

INGEST_ARGS=(--database-url "$POST_DB" --migrate false --rates "$ROOT/tests/e2e/rates.csv"
             --max-future-ms 315360000000 --max-amount 1000000
             --listen "127.0.0.1:${P}80" --admin-port "${P}90"
             --validator-endpoints "tcp://127.0.0.1:${P}01"
             --ack-endpoints "tcp://127.0.0.1:${P}22,tcp://127.0.0.1:${P}02"
             --ack-timeout-ms 1000 --max-body-bytes 200000 --max-rows 1000)
start ingest ${P}90 "$BIN/txw-ingest" "${INGEST_ARGS[@]}"

# post TYPE BODY_FILE [KEY]: the status into S, the answer into B (a file),
# the replayed-rows header into REPLAYED; recorded for the OpenAPI check
n_post=0
post() {
    n_post=$((n_post + 1))
    B=$WORK/post-$n_post.json
    S=$(curl -s -o "$B" -D "$WORK/post-$n_post.head" -w '%{http_code}' -X POST \
        -H "Authorization: Bearer ${3-$ANALYST}" -H "Content-Type: $1" --data-binary @"$2" \
        "$URL/transactions")
    REPLAYED=$(awk -F': ' 'tolower($1) == "x-txwatch-replayed" { print $2 + 0 }' "$WORK/post-$n_post.head")
    printf 'post\t/api/v1/transactions\t%s\t%s\n' "$S" "$B" >>"$REC"
}
# tx ID [JQ ASSIGNMENTS]: one transaction object, changed by the assignments
tx() {
    jq -nc --arg id "$1" "{tx_id: \$id, ts: \"2026-01-05T10:00:00Z\", account_id: \"acc-\(\$id)\",
        amount: \"12.30\", currency: \"EUR\", merchant_id: \"m-1\", category: \"grocery\",
        channel: \"pos\", branch_id: \"B1\", region: \"north\", country: \"DE\",
        device_id: \"d-1\", status: \"approved\"} ${2:+| $2}"
}
stored() { sql "SELECT count(*), coalesce(sum(amount_minor), 0) FROM txw_data.transactions WHERE tx_id LIKE '$1'"; }
# wait_stored PATTERN COUNT: waits (15 s at most) until COUNT rows match
wait_stored() {
    local i
    for i in $(seq 75); do
        [ "$(stored "$1" | cut -f1)" = "$2" ] && return 0
        sleep 0.2
    done
    note "stored $1: $(stored "$1"), expected $2 rows"
    return 1
}

# --- one, many, NDJSON ------------------------------------------------------------
tx s-1 >"$WORK/one.json"
post application/json "$WORK/one.json"
check "one JSON transaction: 202, accepted" \
    test "$S $(jq -c '[.accepted, .results[0].status, .results[0].tx_id]' "$B")" = '202 [1,"accepted","s-1"]'
{ echo '['; tx b-1; echo ','; tx b-2 '.amount = 7'; echo ','; tx b-3 '.amount = "0.05"'; echo ']'; } >"$WORK/array.json"
post application/json "$WORK/array.json"
check "a JSON array of three: 202, each accepted in order" \
    test "$S $(jq -c '[.accepted, [.results[].index], [.results[].status]]' "$B")" = \
         '202 [3,[0,1,2],["accepted","accepted","accepted"]]'
{ tx n-1; echo; tx n-2; printf '\r\n\n'; tx n-3 '.amount = 100.5'; } >"$WORK/rows.ndjson"
post 'application/x-ndjson; charset=utf-8' "$WORK/rows.ndjson"
check "NDJSON of three (a CRLF and a blank line): 202" test "$S $(jq .accepted "$B")" = "202 3"
check "the stored rows are exactly the accepted ones (7 rows, 12.30+12.30+7+0.05+12.30+12.30+100.50)" \
    sh -c "$(declare -f wait_stored stored sql note); DB='$DB'; wait_stored '_-_' 7 && [ \"\$(stored '_-_')\" = \"\$(printf '7\t15675')\" ]"

# --- idempotency ------------------------------------------------------------------
cp "$B" "$WORK/first.json"
post application/x-ndjson "$WORK/rows.ndjson"
check "the same NDJSON again: the same answer, every row replayed" \
    sh -c "[ '$S' = 202 ] && [ '$REPLAYED' = 3 ] && cmp -s '$B' '$WORK/first.json'"
# The same row: keys sorted, indented, the amount a number, an escape.
tx s-1 | jq -S . | sed -e 's/"EUR"/"\\u0045UR"/' -e 's/"amount": "12.30"/"amount": 12.30/' >"$WORK/one-again.json"
post application/json "$WORK/one-again.json"
check "one transaction again, reformatted, keys in another order, amount a number: 202, replayed" \
    test "$S $REPLAYED $(jq -c .results[0].status "$B")" = '202 1 "accepted"'
tx s-1 '.amount = "99.99"' >"$WORK/changed.json"
post application/json "$WORK/changed.json"
check "another body under a taken tx_id: 409, the row a conflict" \
    test "$S $(jq -c '[.accepted, .conflicts, .results[0].status]' "$B")" = '409 [0,1,"conflict"]'
{ tx m-1; tx s-1 '.amount = "1"'; tx m-2 '.amount = "-1"'; tx m-1; } >"$WORK/mixed.ndjson"
post application/x-ndjson "$WORK/mixed.ndjson"
check "a mixed batch (new, conflict, rejected, the new one twice): 207 with each row's outcome" \
    test "$S $(jq -c '[.accepted, .rejected, .conflicts, [.results[].status]]' "$B")" = \
         '207 [2,1,1,["accepted","conflict","rejected","accepted"]]'
sleep 1
check "replays and conflicts are stored once: s-1 and m-1 one row each, with the first amounts" \
    test "$(stored 's-1') $(stored 'm-1')" = "$(printf '1\t1230 1\t1230')"
check "the journal holds each accepted tx_id once" \
    test "$(sql "SELECT count(*), count(DISTINCT tx_id) FROM txw_data.ingest_journal")" = "$(printf '8\t8')"

# --- the body -----------------------------------------------------------------------
echo 'tx_id,amount' >"$WORK/rows.csv"
post text/csv "$WORK/rows.csv"
check "text/csv: 415" test "$S $(jq -r .error "$B")" = "415 unsupported_media_type"
printf '{\n  "tx_id": "x-1",\n  "amount": 12.30 oops\n}' >"$WORK/broken.json"
post application/json "$WORK/broken.json"
check "malformed JSON: 400 naming line 3, column 19" \
    test "$S $(jq -c '[.error, .line, .column]' "$B")" = '400 ["bad_body",3,19]'
printf '%s\n{"tx_id": "x-2", "colour": "red"}\n' "$(tx x-1)" >"$WORK/unknown.ndjson"
post application/x-ndjson "$WORK/unknown.ndjson"
check "an unknown field: 400 naming it, its row and line 2" \
    sh -c "[ '$S' = 400 ] && [ \"\$(jq -c '[.row, .line]' '$B')\" = '[1,2]' ] && jq -r .message '$B' | grep -q 'unknown field \"colour\"'"
head -c 250000 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
post application/json "$WORK/big.json"
check "a body over --max-body-bytes: 413" test "$S $(jq -r .error "$B")" = "413 body_too_large"
for i in $(seq 1001); do echo '{}'; done >"$WORK/many.ndjson"
post application/x-ndjson "$WORK/many.ndjson"
check "more rows than --max-rows: 413" test "$S $(jq -r .error "$B")" = "413 too_many_rows"
echo '[]' >"$WORK/empty.json"
post application/json "$WORK/empty.json"
check "an empty array: 400" test "$S" = 400

# --- every reason of the checks ---------------------------------------------------------
# Each row breaks one rule; the validator's order of rules makes the reason.
long=$(printf 'c%.0s' $(seq 40))
{
    tx r-bad_type '.amount = true'
    tx r-missing_field 'del(.merchant_id)'
    tx r-too_long ".category = \"$long\""
    tx r-bad_id '.account_id = "acc 1"'
    tx r-bad_timestamp '.ts = "yesterday"'
    tx r-ts_out_of_range '.ts = "1999-12-31T23:59:59Z"'
    tx r-bad_currency '.currency = "EURO"'
    tx r-bad_amount '.amount = "12.345"'
    tx r-non_positive_amount '.amount = 0'
    tx r-no_rate '.currency = "ISK" | .amount = "100"'
    tx r-bad_country '.country = "Germany"'
    tx r-bad_channel '.channel = "pigeon"'
    tx r-bad_status '.status = "lost"'
    tx r-amount_too_large '.amount = "2000000"'
} >"$WORK/bad.ndjson"
post application/x-ndjson "$WORK/bad.ndjson"
check "fourteen rows, each breaking one rule: 422, all rejected" \
    test "$S $(jq -c '[.accepted, .rejected]' "$B")" = '422 [0,14]'
for reason in bad_type missing_field too_long bad_id bad_timestamp ts_out_of_range bad_currency \
              bad_amount non_positive_amount no_rate bad_country bad_channel bad_status amount_too_large; do
    got=$(jq -r --arg id "r-$reason" '.results[] | select(.tx_id == $id) | "\(.reason) \(.field) \(.message | length > 0)"' "$B")
    check "reason $reason over HTTP (with its field and message)" test "${got%% *}" = "$reason" -a "${got##* }" = true
done
check "rejected rows are not sent on: no dead letter, no stored row" \
    test "$(sql "SELECT (SELECT count(*) FROM txw_data.dead_letters) + (SELECT count(*) FROM txw_data.transactions WHERE tx_id LIKE 'r-%')")" = 0

# --- callers --------------------------------------------------------------------------
post application/json "$WORK/one.json" ""
check "no API key: 401" test "$S $(jq -r .error "$B")" = "401 unauthorized"
post application/json "$WORK/one.json" "$VIEWER"
check "a viewer key: 403" test "$S $(jq -r .error "$B")" = "403 forbidden"
S=$(curl -s -o "$WORK/get.json" -w '%{http_code}' -H "Authorization: Bearer $ANALYST" "$URL/transactions")
printf 'get\t/api/v1/transactions\t%s\t%s\n' "$S" "$WORK/get.json" >>"$REC"
check "GET on the collection: 405" test "$S" = 405
S=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/nothing")
check "an unknown path: 404" test "$S" = 404

# --- a SIGKILL after the 202s -----------------------------------------------------------
# The validator is down, so the rows wait in ZeroMQ's queue in txw-ingest's
# memory when it dies: only the journal still has them.
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean "$PID_validator"
for i in $(seq 200); do tx "k-$i" '.amount = "1.00"'; done >"$WORK/kill.ndjson"
post application/x-ndjson "$WORK/kill.ndjson"
check "200 rows accepted with the validator down: 202" test "$S $(jq .accepted "$B")" = "202 200"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
kill -KILL "$PID_ingest"
wait "$PID_ingest" 2>/dev/null
check "nothing of them was stored before the kill" test "$(stored 'k-%' | cut -f1)" = 0
start_stage validator $P
start ingest ${P}90 "$BIN/txw-ingest" "${INGEST_ARGS[@]}"
check "after a restart the journal's resend stores every one of them exactly once" \
    sh -c "$(declare -f wait_stored stored sql note); DB='$DB'; wait_stored 'k-%' 200 &&
           [ \"\$(sql \"SELECT count(DISTINCT tx_id), sum(amount_minor) FROM txw_data.transactions WHERE tx_id LIKE 'k-%'\")\" = \"\$(printf '200\t20000')\" ]"
check "they were claimed and sent again (txw_ingest_resent_records_total >= 200)" \
    wait_metric ${P}90 txw_ingest_resent_records_total 200 10
# all_acked: waits (10 s at most) until the journal holds nothing unacknowledged
all_acked() {
    local i
    for i in $(seq 50); do
        [ "$(sql 'SELECT count(*) FROM txw_data.ingest_journal WHERE acked_at IS NULL')" = 0 ] && return 0
        sleep 0.2
    done
    return 1
}
check "and acknowledged: nothing left unacknowledged in the journal" all_acked
check "no row stored twice, over the whole suite" \
    test "$(sql "SELECT count(*) - count(DISTINCT tx_id) FROM txw_data.transactions")" = 0

# --- corrections (PATCH) -------------------------------------------------------------------
# patch TX_ID BODY: PATCH /transactions/TX_ID as the analyst; S, B, REPLAYED as post sets them
patch() {
    n_post=$((n_post + 1))
    B=$WORK/patch-$n_post.json
    S=$(curl -s -o "$B" -D "$WORK/patch-$n_post.head" -w '%{http_code}' -X PATCH \
        -H "Authorization: Bearer $ANALYST" -H 'Content-Type: application/json' --data-binary "$2" \
        "$URL/transactions/$1")
    REPLAYED=$(awk -F': ' 'tolower($1) == "x-txwatch-replayed" { print $2 + 0 }' "$WORK/patch-$n_post.head")
    printf 'patch\t/api/v1/transactions/{tx_id}\t%s\t%s\n' "$S" "$B" >>"$REC"
}
REVERSAL='{"status": "reversed", "reason": "the customer cancelled the order"}'
patch s-1 "$REVERSAL"
check "PATCH s-1 reversed: 202" test "$S $(jq -c '[.tx_id, .status]' "$B")" = '202 ["s-1","reversed"]'
cp "$B" "$WORK/reversal.json"
patch s-1 "$REVERSAL"
check "the same PATCH again: the same answer, replayed" \
    sh -c "[ '$S' = 202 ] && [ '$REPLAYED' = 1 ] && cmp -s '$B' '$WORK/reversal.json'"
check "the reversal reaches the pipeline: s-1 is stored reversed, once" \
    sh -c "for i in \$(seq 50); do [ \"\$(psql '$DB' -qAt -c \"SELECT status FROM txw_data.transactions WHERE tx_id = 's-1'\")\" = reversed ] && exit 0; sleep 0.2; done; exit 1"
check "and is acknowledged to the journal" \
    sh -c "for i in \$(seq 50); do [ \"\$(psql '$DB' -qAt -c \"SELECT count(*) FROM txw_data.ingest_journal WHERE kind = 'correction' AND acked_at IS NOT NULL\")\" = 1 ] && exit 0; sleep 0.2; done; exit 1"
patch s-1 '{"status": "refunded"}'
check "another correction of a corrected transaction: 409" test "$S $(jq -r .error "$B")" = "409 conflict"
patch b-1 '{"status": "charged_back", "reason": "first"}'
patch b-1 '{"status": "charged_back", "reason": "second"}'
check "the same status with another reason while the first is taken: 409" test "$S" = 409
patch nope-1 "$REVERSAL"
check "an unknown transaction: 404" test "$S $(jq -r .error "$B")" = "404 not_found"
patch b-2 '{"status": "lost"}'
check "an unknown status: 400" test "$S $(jq -r .error "$B")" = "400 bad_body"
patch 'bad%20id' "$REVERSAL"
check "a malformed tx_id: 400 naming it" test "$S $(jq -r .parameter "$B")" = "400 tx_id"
tx d-1 '.status = "declined"' >"$WORK/declined.json"
post application/json "$WORK/declined.json"
wait_stored d-1 1
patch d-1 "$REVERSAL"
check "a declined transaction: 409" test "$S $(jq -r .error "$B")" = "409 conflict"

# --- the horizon ------------------------------------------------------------------------
check "the corrections are acknowledged too" all_acked
stop_clean "$PID_ingest"
start ingest ${P}90 "$BIN/txw-ingest" "${INGEST_ARGS[@]}" --idempotency-horizon-h 0
check "with a horizon of 0 h the acknowledged records are deleted at start" \
    wait_metric ${P}90 txw_ingest_purged_records_total 211 5
check "the journal is empty" test "$(sql "SELECT count(*) FROM txw_data.ingest_journal")" = 0

# --- the document -------------------------------------------------------------------------
jq -n --arg v "$VIEWER" --arg a "$ANALYST" --arg d "$ADMIN" '{viewer: $v, analyst: $a, admin: $d}' >"$WORK/keys.json"
echo '{"tx_id": "s-1"}' >"$WORK/params.json"
node "$ROOT/tests/js/role_matrix.mjs" "$ROOT/proto/openapi.yaml" "http://127.0.0.1:${P}80" \
    "$WORK/keys.json" "$WORK/params.json" txw-ingest >"$WORK/roles.txt"
check "the role matrix over txw-ingest's operations passes" test $? = 0
grep '^not ok' "$WORK/roles.txt" | head -5 | sed 's/^/# /'
api_conforms
if command -v promtool >/dev/null; then
    curl -sf "http://127.0.0.1:${P}90/metrics" >"$WORK/metrics.txt"
    check "/metrics passes promtool check metrics" sh -c "promtool check metrics <'$WORK/metrics.txt' >'$WORK/promtool.txt' 2>&1"
fi
check "txw-ingest stops cleanly on SIGTERM" stop_clean "$PID_ingest"

# --- its login, and its limits -----------------------------------------------------------
as_post() { psql "$POST_DB" -qAtX -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
check "its login cannot write a transaction" \
    sh -c "$(declare -f as_post); POST_DB='$POST_DB'; as_post \"UPDATE txw_data.transactions SET status = 'failed'\" | grep -q 'permission denied'"
check "... nor read what a correction does not need (amounts, alerts)" \
    sh -c "$(declare -f as_post); POST_DB='$POST_DB'; as_post 'SELECT amount_minor FROM txw_data.transactions LIMIT 1' | grep -q 'permission denied' &&
           as_post 'SELECT count(*) FROM txw_data.alerts' | grep -q 'permission denied'"
check "... nor change the API keys" \
    sh -c "$(declare -f as_post); POST_DB='$POST_DB'; as_post \"DELETE FROM txw_data.api_keys\" | grep -q 'permission denied'"
start ingest_limited ${P}89 "$BIN/txw-ingest" "${INGEST_ARGS[@]}" --listen "127.0.0.1:${P}81" \
    --admin-port "${P}89" --rate-per-key 0.001 --burst-per-key 1
limited() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ANALYST" \
                -H 'Content-Type: application/json' --data-binary @"$WORK/one.json" "http://127.0.0.1:${P}81/api/v1/transactions"; }
check "over the key's rate (a burst of 1, a token every 1,000 s): the first request 202, the next 429" test "$(limited) $(limited)" = "202 429"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
stop_clean "$PID_ingest_limited"
