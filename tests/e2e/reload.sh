#!/bin/bash
# reload.sh - rule files change while transactions flow, and nothing is lost
#
# The scorer runs with a rule file it watches. While the producer streams,
# the file is replaced by a new version (picked up by the file watch), then
# by a broken one (refused, the running set stays), then a good one again
# by SIGHUP. Every transaction must be scored and stored exactly once, and
# the stored model versions show which rule set scored which, and the audit
# log records each reload and the refusal, with the versions before and after.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25349
P=187
RULES=$WORK/rules.json

# A rule file from the shipped default with another version name (the
# file's first "version", whatever the shipped one is called).
version() {   # NAME
    sed "0,/\"version\": \"[^\"]*\"/s//\"version\": \"$1\"/" \
        "$ROOT/services/scorer/default-rules.json" >"$RULES.tmp" && mv "$RULES.tmp" "$RULES"
}
version team-a
SCORER_ARGS=(--rules "$RULES" --watch-s 1 --database-url "$DB")
start_pipeline $P

COUNT=60000
"$BIN/txw-producer" --shape flat --seed 5 --count $COUNT --rate 4000 --accounts 2000 --fraud-rate 0.02 \
    --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 >"$WORK/producer.log" 2>&1 &
producer=$!
wait_metric ${P}92 txw_scored_total 8000 30 >/dev/null
version team-b                                   # picked up by the watch
check "a changed rule file is picked up while transactions flow" \
    wait_metric ${P}92 'txw_reloads_total{result="ok"}' 1 10
echo '{ "version": "broken", "rules": [ { "name": "x", "reason": "amount_spike",
        "weight": 10, "when": [["amount_rati", ">=", 3]] } ] }' >"$RULES"
check "a broken rule file is refused" \
    wait_metric ${P}92 'txw_reloads_total{result="refused"}' 1 10
check "the refusal names the problem in the log" \
    grep -q "unknown signal 'amount_rati'" "$WORK/scorer.log"
before=$(metric ${P}92 txw_scored_total)
sleep 1
check "the scorer goes on scoring with the running set after a refusal" \
    test "$(metric ${P}92 txw_scored_total)" -gt "$before"
version team-c
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
kill -HUP $PID_scorer
check "SIGHUP reloads the rule file" wait_metric ${P}92 'txw_reloads_total{result="ok"}' 2 10
wait $producer
check "producer exits 0" test $? -eq 0
check "every transaction reaches the aggregator" wait_metric ${P}93 txw_records_in_total $COUNT 60
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the pipeline stops cleanly" stop_clean $PID_validator $PID_scorer $PID_aggregator

check "every transaction is stored once across the reloads" \
    test "$(sql "SELECT count(*), count(DISTINCT tx_id) FROM txw.transactions")" = "$COUNT	$COUNT"
versions=$(sql "SELECT string_agg(model_version || '=' || n, ' ' ORDER BY model_version)
                FROM (SELECT model_version, count(*) n FROM txw.transactions GROUP BY 1) v")
note "scored by: $versions"
check "transactions carry the version of the rule set that scored them (a, b and c)" \
    test "$(sql "SELECT string_agg(DISTINCT model_version, ',' ORDER BY model_version)
                 FROM txw.transactions")" = "team-a,team-b,team-c"
check "no transaction was scored by the refused file" \
    test "$(sql "SELECT count(*) FROM txw.transactions WHERE model_version = 'broken'")" = 0
check "the audit log records the reloads and the refusal, by the scorer, with the versions" \
    test "$(sql "SELECT string_agg(action || ':' || (detail->>'was') || '>' || coalesce (detail->>'now', '-')
                                   || ':' || principal || ':' || role, ' ' ORDER BY id)
                 FROM txw_data.audit WHERE action LIKE 'scorer.%'")" \
    = "scorer.reload:team-a>team-b:service:scorer@$(hostname):service scorer.reload_refused:team-b>-:service:scorer@$(hostname):service scorer.reload:team-b>team-c:service:scorer@$(hostname):service"
