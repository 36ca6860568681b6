#!/bin/bash
# corrections.sh - reversals, refunds and chargebacks through the real pipeline
#
# Transactions are stored, then corrected with txw-correct (a producer's
# correction records, through validator, scorer and aggregator). Every
# total is compared with what SQL computes from the stored transactions as
# they now stand: the windows of every dimension (and their hourly
# rollups), the account totals with their lifetime value, the month
# totals. Old windows are forgotten before the corrections come (the
# aggregator is restarted: it reads back only its recent windows), so a
# correction changes a stored window as well as one in memory. A
# chargeback is a fraud label, every corrected account is stale, the same
# correction twice changes nothing, one sent again after a SIGKILL of the
# aggregator is applied once, and bad corrections are dead letters with
# their reasons, each acknowledged.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25382
P=168
AGG_ARGS=(--window-s 60 --lateness-s 5 --retention-s 600 --flush-ms 200 --tick-ms 200)
start_pipeline $P "${AGG_ARGS[@]}"
# same GOT EXPECTED: equal, or a note of what came
same() { [ "$1" = "$2" ] || { note "got '$1', expected '$2'"; return 1; }; }
ACKS=tcp://127.0.0.1:${P}22,tcp://127.0.0.1:${P}02
CORRECT=$(dirname "$BIN")/tools/txw-correct
[ -x "$CORRECT" ] || CORRECT=$ROOT/build/tools/txw-correct
[ -x "$CORRECT" ] || { not_ok "txw-correct is built (make build/tools/txw-correct)"; exit 1; }
# correct NAME [ARGS...] < CSV: sends corrections and waits for every acknowledgement
correct() {
    local name=$1; shift
    "$CORRECT" --validators tcp://127.0.0.1:${P}01 --ack-endpoints "$ACKS" \
        --actor ops-e2e --timeout-ms 15000 "$@" >>"$WORK/$name.log" 2>&1
}

# Old transactions (10:00, forgotten windows by the time they are
# corrected), recent ones (12:00, in memory), and one at 12:05 that moves
# the watermark past the 10:00 windows' retention.
{
    echo "tx_id,ts,account_id,amount,currency,merchant_id,category,channel,branch_id,region,country,device_id,product_id,status"
    echo "CR-1,2026-03-02T10:00:05Z,CA-1,100.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved"
    echo "CR-2,2026-03-02T10:00:10Z,CA-2,250.00,EUR,M2,travel,online,B1,R1,DE,D2,,approved"
    echo "CR-3,2026-03-02T10:00:20Z,CA-1,40.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,declined"
    echo "CR-4,2026-03-02T12:00:05Z,CA-1,70.00,EUR,M1,grocery,pos,B2,R2,DE,D1,,approved"
    echo "CR-5,2026-03-02T12:00:10Z,CA-3,30.00,EUR,M3,travel,online,B2,R2,DE,D3,,approved"
    echo "CR-6,2026-03-02T12:00:30Z,CA-3,10.00,EUR,M3,travel,online,B2,R2,DE,D3,,approved"
    echo "CR-7,2026-03-02T12:05:00Z,CA-9,1.00,EUR,M9,grocery,pos,B9,R9,DE,D9,,approved"
    echo "CR-8,2026-03-02T12:00:40Z,CA-3,5.00,EUR,M3,travel,online,B2,R2,DE,D3,,approved"
    echo "CR-9,2026-03-02T12:00:50Z,CA-3,7.00,EUR,M3,travel,online,B2,R2,DE,D3,,approved"
} >"$WORK/tx.csv"
"$BIN/txw-producer" --file "$WORK/tx.csv" --validator-endpoints tcp://127.0.0.1:${P}01 \
    --ack-endpoints tcp://127.0.0.1:${P}22,tcp://127.0.0.1:${P}02 --admin-port 0 \
    >"$WORK/producer.log" 2>&1
check "the transactions are stored" same "$(sql "SELECT count(*) FROM txw_data.transactions")" 9
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the aggregator stops cleanly" stop_clean $PID_aggregator
start_stage aggregator $P "${AGG_ARGS[@]}"
# What the rescoring job would have taken: corrected accounts are marked again.
sql "DELETE FROM txw_data.stale_accounts" >/dev/null

# exact: every total equals what SQL computes from the stored transactions
windows_wrong() {
    sql "WITH t AS (SELECT *, to_timestamp (floor (extract (epoch FROM ts) / 60) * 60) AS ws
                    FROM txw_data.transactions),
         e AS (SELECT d.dimension, d.key, t.ws AS window_start, count (*) AS n,
                      sum (amount_rep_minor) AS amount,
                      count (*) FILTER (WHERE status = 'approved') AS approved,
                      coalesce (sum (amount_rep_minor) FILTER (WHERE status = 'approved'), 0) AS approved_amount
               FROM t CROSS JOIN LATERAL (VALUES ('overall', 'all'), ('region', region),
                    ('branch', branch_id), ('merchant', merchant_id), ('category', category),
                    ('channel', channel), ('device', coalesce (nullif (device_type, ''), 'unknown')))
                    AS d (dimension, key)
               GROUP BY 1, 2, 3),
         w AS (SELECT dimension, key, window_start, sum (tx_count) AS n, sum (amount_minor_sum) AS amount,
                      sum (approved) AS approved, sum (approved_amount_minor_sum) AS approved_amount
               FROM txw_data.windows GROUP BY 1, 2, 3)
         SELECT count (*) FROM e FULL JOIN w USING (dimension, key, window_start)
         WHERE (e.n, e.amount, e.approved, e.approved_amount)
               IS DISTINCT FROM (w.n, w.amount, w.approved, w.approved_amount)"
}
rollups_wrong() {
    sql "SELECT count (*) FROM (SELECT dimension, key, date_trunc ('hour', window_start) AS h,
                sum (approved) AS a, sum (approved_amount_minor_sum) AS s
                FROM txw_data.windows WHERE closed GROUP BY 1, 2, 3) w
         FULL JOIN (SELECT dimension, key, window_start AS h, sum (approved) AS a,
                    sum (approved_amount_minor_sum) AS s FROM txw_data.windows_hourly GROUP BY 1, 2, 3) r
         USING (dimension, key, h) WHERE (w.a, w.s) IS DISTINCT FROM (r.a, r.s)"
}
accounts_wrong() {
    sql "SELECT count (*) FROM (SELECT account_id, count (*) AS n, sum (amount_rep_minor) AS spend,
                count (*) FILTER (WHERE status = 'approved') AS approved,
                coalesce (sum (amount_rep_minor) FILTER (WHERE status = 'approved'), 0) AS ltv
                FROM txw_data.transactions GROUP BY 1) e
         FULL JOIN txw.accounts a USING (account_id)
         WHERE (e.n, e.spend, e.approved, e.ltv)
               IS DISTINCT FROM (a.tx_count, a.spend_rep_minor, a.approved, a.lifetime_value_rep_minor)"
}
months_wrong() {
    sql "SELECT count (*) FROM (SELECT account_id, date_trunc ('month', ts, 'UTC')::date AS month,
                count (*) AS n, count (*) FILTER (WHERE status = 'approved') AS approved,
                coalesce (sum (amount_rep_minor) FILTER (WHERE status = 'approved'), 0) AS ltv
                FROM txw_data.transactions GROUP BY 1, 2) e
         FULL JOIN txw_data.account_months m USING (account_id, month)
         WHERE (e.n, e.approved, e.ltv) IS DISTINCT FROM (m.tx_count, m.approved, m.approved_rep_minor)"
}
all_exact() {
    local w r a m
    w=$(windows_wrong) r=$(rollups_wrong) a=$(accounts_wrong) m=$(months_wrong)
    [ "$w$r$a$m" = 0000 ] || { note "rows off: windows $w, rollups $r, accounts $a, months $m"; return 1; }
}
snapshot() {
    sql "SELECT (SELECT string_agg (concat_ws (':', dimension, key, window_start, approved,
                 approved_amount_minor_sum), ',' ORDER BY 1) FROM txw_data.windows),
                (SELECT string_agg (concat_ws (':', account_id, approved, approved_rep_minor), ','
                 ORDER BY 1) FROM txw_data.accounts)"
}
check "before any correction every total is exact" all_exact
before=$(sql "SELECT approved_rep_minor FROM txw_data.accounts WHERE account_id = 'CA-1'")

printf '%s\n' "CR-1,CA-1,2026-03-02T10:00:05Z,reversed,customer cancelled" \
    "CR-2,CA-2,2026-03-02T10:00:10Z,charged_back,card holder disputes it" | correct first
check "a reversal and a chargeback are acknowledged once applied" \
    same "$(metric ${P}93 'txw_corrections_total{outcome="applied"}')" 2
check "the corrected transactions have their new status" \
    same "$(sql "SELECT string_agg (tx_id || '=' || status, ',' ORDER BY tx_id) FROM txw_data.transactions
                 WHERE tx_id IN ('CR-1', 'CR-2')")" "CR-1=reversed,CR-2=charged_back"
check "windows (stored ones, forgotten in memory), rollups, accounts and months are exact" all_exact
check "the lifetime value lost the reversed 100.00" \
    same "$(sql "SELECT approved_rep_minor FROM txw_data.accounts WHERE account_id = 'CA-1'")" $((before - 10000))
check "each correction is kept with who made it and what it was" \
    same "$(sql "SELECT string_agg (concat_ws (':', tx_id, previous_status, status, amount_rep_minor, actor), ','
                 ORDER BY tx_id) FROM txw.tx_corrections")" \
         "CR-1:approved:reversed:10000:ops-e2e,CR-2:approved:charged_back:25000:ops-e2e"
check "the chargeback is a fraud label; the reversal is no label" \
    same "$(sql "SELECT string_agg (concat_ws (':', tx_id, source, label, set_by), ',') FROM txw.labels")" \
         "CR-2:chargeback:fraud:ops-e2e"
check "the corrected accounts are stale, for a correction" \
    same "$(sql "SELECT string_agg (account_id || ':' || reason, ',' ORDER BY account_id)
                 FROM txw_data.stale_accounts")" "CA-1:correction,CA-2:correction"

# In-memory windows: the 12:00 ones were read back at the restart.
printf '%s\n' "CR-4,CA-1,2026-03-02T12:00:05Z,refunded,returned" \
    "CR-5,CA-3,$(sql "SELECT (extract (epoch FROM timestamptz '2026-03-02T12:00:10Z') * 1000)::bigint"),charged_back," \
    | correct second
check "a refund and a chargeback of windows in memory are applied (epoch ms works too)" \
    same "$(metric ${P}93 'txw_corrections_total{outcome="applied"}')" 4
check "and every total is exact again" all_exact
state=$(snapshot)

printf '%s\n' "CR-2,CA-2,2026-03-02T10:00:10Z,charged_back,again" "CR-4,CA-1,2026-03-02T12:00:05Z,refunded," \
    | correct again
check "the same corrections again are copies, acknowledged" \
    same "$(metric ${P}93 'txw_corrections_total{outcome="copy"}')" 2
check "and change nothing" same "$(snapshot)" "$state"

printf '%s\n' "CR-1,CA-1,2026-03-02T10:00:05Z,charged_back,changed my mind" \
    "CR-3,CA-1,2026-03-02T10:00:20Z,refunded,declined anyway" \
    "CR-404,CA-1,2026-03-02T10:00:20Z,reversed,never stored" \
    "CR-6,CA-1,2026-03-02T12:00:30Z,reversed,wrong account" | correct refused
printf '%s\n' "CR-6,CA-3,2026-03-02T12:00:30Z,approved,not a correction" \
    "CR 6,CA-3,2026-03-02T12:00:30Z,reversed,bad id" \
    "CR-6,,2026-03-02T12:00:30Z,reversed,no account" \
    "CR-6,CA-3,yesterday,reversed,no time" \
    "CR-6,CA-3,2099-01-01T00:00:00Z,reversed,from the future" | correct invalid --unchecked
dead() {
    sql "SELECT string_agg (concat_ws (':', coalesce (tx_id, ''), reason, field), ','
         ORDER BY origin_seq, origin_index)
         FROM txw_data.dead_letters WHERE reason NOT LIKE 'csv%' AND message LIKE '$1%'"
}
check "corrections of a corrected, a declined, an unknown and a misnamed transaction are dead letters" \
    same "$(sql "SELECT string_agg (concat_ws (':', tx_id, reason, field), ',' ORDER BY tx_id)
                 FROM txw_data.dead_letters WHERE origin_source LIKE 'scorer%'")" \
         "CR-1:already_corrected:status,CR-3:not_approved:status,CR-404:tx_not_found:tx_id,CR-6:tx_not_found:tx_id"
check "bad ones are refused by the validator with their reasons" \
    same "$(dead 'correction: ')" \
         "CR-6:bad_correction:status,:bad_id:tx_id,CR-6:missing_field:account_id,CR-6:missing_field:ts,CR-6:ts_out_of_range:ts"
check "a dead letter shows the account by its pseudonym only" \
    same "$(sql "SELECT count (*) FROM txw_data.dead_letters WHERE payload LIKE '%CA-%'")" 0
check "the refused ones changed nothing" same "$(snapshot)" "$state"

# Three of one transaction in one message: the first applies, the second
# is its copy, the third (another status) is refused.
printf '%s\n' "CR-8,CA-3,2026-03-02T12:00:40Z,reversed,1" "CR-8,CA-3,2026-03-02T12:00:40Z,reversed,2" \
    "CR-8,CA-3,2026-03-02T12:00:40Z,refunded,3" | correct batch
check "three corrections of one transaction in one message: applied, copy, refused" \
    same "$(metric ${P}93 'txw_corrections_total{outcome="applied"}'):$(metric ${P}93 'txw_corrections_total{outcome="copy"}'):$(sql "SELECT count (*) FROM txw_data.dead_letters WHERE tx_id = 'CR-8' AND reason = 'already_corrected'")" 5:3:1
check "and the totals are exact" all_exact

# PostgreSQL away: a correction cannot be judged, so it is put off and not
# acknowledged; sent again once the server is back, it is applied.
before=$(metric ${P}93 'txw_corrections_total{outcome="applied"}')
sh "$ROOT/deploy/local/pg.sh" stop >/dev/null
printf '%s\n' "CR-9,CA-3,2026-03-02T12:00:50Z,reversed,while away" >"$WORK/away.csv"
"$CORRECT" --validators tcp://127.0.0.1:${P}01 --ack-endpoints "$ACKS" --actor ops-e2e \
    --timeout-ms 1500 --file "$WORK/away.csv" >>"$WORK/away.log" 2>&1
check "with PostgreSQL stopped a correction is put off, not acknowledged" \
    same "$?:$(metric ${P}93 'txw_corrections_total{outcome="put_off"}')" 1:1
sh "$ROOT/deploy/local/pg.sh" start >/dev/null
# Back for the aggregator once a flush of its own reached the server again
# (it reconnects with a back-off); a correction sent before that is put off
# again, and txw-correct, unlike a producer, does not send it a third time.
check "the aggregator writes to PostgreSQL again" ready_within ${P}93 30
correct away --file "$WORK/away.csv"
check "sent again once PostgreSQL is back, it is applied, and the totals are exact" \
    same "$(metric ${P}93 'txw_corrections_total{outcome="applied"}'):$(all_exact && echo exact)" \
         "$((before + 1)):exact"

# A SIGKILL of the aggregator right after a correction came: whether its
# flush committed or not, the correction sent again is applied once.
printf '%s\n' "CR-6,CA-3,2026-03-02T12:00:30Z,reversed,kill" >"$WORK/kill.csv"
"$CORRECT" --validators tcp://127.0.0.1:${P}01 --actor ops-e2e \
    --file "$WORK/kill.csv" >>"$WORK/kill.log" 2>&1
sleep 0.3
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
kill -KILL $PID_aggregator
wait $PID_aggregator 2>/dev/null
start_stage aggregator $P "${AGG_ARGS[@]}"
correct kill --file "$WORK/kill.csv"
check "a correction sent again after a SIGKILL is applied once" \
    same "$(sql "SELECT count (*) FROM txw_data.tx_corrections WHERE tx_id = 'CR-6'")" 1
check "and every total is exact" all_exact
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "the pipeline stops cleanly" stop_clean $PID_validator $PID_scorer $PID_aggregator
