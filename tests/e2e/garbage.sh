#!/bin/bash
# garbage.sh - hostile input on every service's input socket
#
# Random bytes, truncated msgpack, forged lengths, wrong types, huge arrays,
# deep nesting, multipart and empty frames go to the validator, scorer and
# aggregator inputs. Each service must keep running, count what it dropped,
# and still carry real traffic afterwards.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start 25342
P=174
start_pipeline $P

N=900
for target in "validator ${P}01 ${P}91 1" "scorer ${P}11 ${P}92 2" "aggregator ${P}21 ${P}93 3"; do
    set -- $target
    sent=$("$ROOT/build/tools/txw-garbage" tcp://127.0.0.1:$2 $4 $N 1)
    check "$1: $sent hostile messages sent" test "$sent" -ge $N
    check "$1 counts the garbage it dropped" wait_metric $3 txw_malformed_messages_total $((N / 2)) 20
    check "$1 is still alive" curl -sf "http://127.0.0.1:$3/healthz" -o /dev/null
done

"$BIN/txw-producer" --seed 3 --count 2000 --start 2026-02-01T00:00:00Z --rate 0 \
    --validator-endpoints tcp://127.0.0.1:${P}01 --admin-port 0 >"$WORK/producer.log" 2>&1
check "real traffic still flows end to end after the garbage" \
    wait_metric ${P}93 txw_records_in_total 2000 30
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "every service stops cleanly" stop_clean $PID_validator $PID_scorer $PID_aggregator
