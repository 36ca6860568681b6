#!/bin/bash
# netns.sh - the suite spread over separate hosts, found by name
#
# Every process runs in a network namespace of its own with its own address
# on a bridge (10.77.0.0/24), as on separate machines: 2 producers, 3
# validators, 2 scorer shards, 2 aggregator shards and 2 gateways.
# PostgreSQL runs in the root namespace on the bridge address. Names come
# from a hosts file per namespace (/etc/netns/<ns>/hosts, which `ip netns
# exec` mounts over /etc/hosts): `validators` stands for the validators'
# addresses, `scorers` and `aggregators` for the shards' (the gateways
# subscribe to all of them), while the keyed hops name each shard,
# scorer-0 and scorer-1. The producers' `validators` starts with two
# addresses and grows to three while they send: the third validator must
# get work (endpoints follow DNS, common/resolver.h).
#
# Checks: the window totals of both producers' streams come out exactly,
# every transaction is stored once, every account's transactions sit on
# one aggregator shard and its scorer checkpoint on one scorer, and every
# validator, shard and gateway took part. Needs root and `ip netns`;
# otherwise it prints one "ok - skipped" line.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1 || ! command -v ip >/dev/null; then
    ok "skipped: netns.sh needs root and ip netns"
    exit 0
fi

BRIDGE=txwbr0
NET=10.77.0
PGPORT=25357
PGBIN=/usr/lib/postgresql/15/bin
# Namespace names are global: TXW_NETNS_PREFIX keeps two runs of this suite
# apart (tests/clock.sh runs its two passes at once, each in a namespace).
NS=${TXW_NETNS_PREFIX:-txwn}
PGDIR=/var/tmp/$NS-netns-pg
# role name -> last octet of its address
declare -A HOST=([p1]=11 [p2]=12 [v1]=21 [v2]=22 [v3]=23 [s0]=31 [s1]=32
                 [a0]=41 [a1]=42 [g1]=51 [g2]=52)
FORWARD_RULE=0

net_cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    wait 2>/dev/null
    [ -f "$PGDIR/data/PG_VERSION" ] &&
        su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$PGDIR/data' -m fast -w stop" >/dev/null 2>&1
    for role in "${!HOST[@]}"; do
        ip netns del $NS-$role 2>/dev/null
        rm -rf /etc/netns/$NS-$role
    done
    ip link del $BRIDGE 2>/dev/null
    [ $FORWARD_RULE -eq 1 ] && iptables -D FORWARD -i $BRIDGE -o $BRIDGE -j ACCEPT 2>/dev/null
    return 0
}
trap 'net_cleanup; cleanup' EXIT

# --- the network -----------------------------------------------------------------
net_cleanup
ip link add $BRIDGE type bridge && ip addr add $NET.1/24 dev $BRIDGE && ip link set $BRIDGE up \
    || { not_ok "bridge $BRIDGE comes up"; exit 1; }
# A host firewall that drops forwarded packets (docker does) would cut the bridge.
if command -v iptables >/dev/null && iptables -I FORWARD -i $BRIDGE -o $BRIDGE -j ACCEPT 2>/dev/null; then
    FORWARD_RULE=1
fi
hosts_file() {   # the validators' addresses to list
    echo "127.0.0.1 localhost"
    echo "$NET.1 pg"
    for v in "$@"; do echo "$NET.${HOST[$v]} validators"; done
    echo "$NET.${HOST[s0]} scorer-0 scorers"
    echo "$NET.${HOST[s1]} scorer-1 scorers"
    echo "$NET.${HOST[a0]} aggregator-0 aggregators"
    echo "$NET.${HOST[a1]} aggregator-1 aggregators"
}
for role in "${!HOST[@]}"; do
    ns=$NS-$role
    ip netns add $ns &&
    ip link add vtxw-$role type veth peer name eth0 netns $ns &&
    ip link set vtxw-$role master $BRIDGE up &&
    ip -n $ns addr add $NET.${HOST[$role]}/24 dev eth0 &&
    ip -n $ns link set eth0 up && ip -n $ns link set lo up \
        || { not_ok "namespace $ns comes up"; exit 1; }
    mkdir -p /etc/netns/$ns
    case $role in
        p*) hosts_file v1 v2 ;;           # the third validator comes later
        *)  hosts_file v1 v2 v3 ;;
    esac >/etc/netns/$ns/hosts
done

# --- PostgreSQL on the bridge address --------------------------------------------------
rm -rf "$PGDIR" && mkdir -p "$PGDIR" && chown postgres:postgres "$PGDIR"
su postgres -s /bin/sh -c "$PGBIN/initdb -D '$PGDIR/data' -U txw --auth=trust -E UTF8 --locale=C" \
    >"$WORK/initdb.log" 2>&1 || { not_ok "initdb"; exit 1; }
echo "host all all $NET.0/24 trust" >>"$PGDIR/data/pg_hba.conf"
su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$PGDIR/data' -l '$PGDIR/server.log' -w -t 60 start \
    -o \"-p $PGPORT -c listen_addresses='127.0.0.1,$NET.1' -c unix_socket_directories='' \
         -c max_connections=200\"" >/dev/null || { not_ok "PostgreSQL starts"; exit 1; }
psql "postgresql://txw@127.0.0.1:$PGPORT/postgres" -qc "CREATE DATABASE txwatch" >/dev/null
DB=postgresql://txw@127.0.0.1:$PGPORT/txwatch
NDB=postgresql://txw@pg:$PGPORT/txwatch          # as the namespaces see it
check "a namespace reaches PostgreSQL over the bridge by name" \
    test "$(ip netns exec $NS-a1 psql "$NDB" -qAtc "SELECT 1")" = 1

# --- the expected answer ---------------------------------------------------------------
GEN=(--shape flat --count 8000 --event-rate 50 --accounts 1500 --fraud-rate 0.02 --invalid-rate 0.01)
GEN1=(--seed 21 --start 2026-01-05T08:00:00Z "${GEN[@]}")
GEN2=(--seed 22 --start 2026-01-05T10:00:00Z "${GEN[@]}")
"$BIN/txw-producer" "${GEN1[@]}" --rate 0 --csv-out "$WORK/gen1.csv" --admin-port 0 >"$WORK/csv.log" 2>&1
"$BIN/txw-producer" "${GEN2[@]}" --rate 0 --csv-out "$WORK/gen2.csv" --admin-port 0 >>"$WORK/csv.log" 2>&1
{ cat "$WORK/gen1.csv"; tail -n +2 "$WORK/gen2.csv"; } >"$WORK/gen.csv"
python3 "$ROOT/tests/e2e/expected.py" summary "$WORK/gen.csv" "$ROOT/tests/e2e/rates.csv" >"$WORK/summary.txt"
python3 "$ROOT/tests/e2e/expected.py" windows "$WORK/gen.csv" "$ROOT/tests/e2e/rates.csv" >"$WORK/expected-windows.tsv"
VALID=$(sed -n 's/^valid=//p' "$WORK/summary.txt")
INVALID=$(sed -n 's/^invalid=//p' "$WORK/summary.txt")
note "two streams: $VALID valid, $INVALID invalid"

# --- the services, one per namespace ----------------------------------------------------
# nstart ROLE ADMIN_PORT BINARY ARGS...: runs in namespace $NS-ROLE (txwn-ROLE), waits for /readyz
nstart() {
    local role=$1 port=$2; shift 2
    # The admin port listens on loopback by default; here, as in a pod, it
    # is reached over the namespace's network.
    ip netns exec $NS-$role "$@" --admin-port $port --admin-address 0.0.0.0 >"$WORK/$role.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$role=$!"
    local i=0
    while ! curl -sf "http://$NET.${HOST[$role]}:$port/readyz" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 150 ] || ! kill -0 "${PIDS[-1]}" 2>/dev/null; then
            not_ok "$role becomes ready"; tail -20 "$WORK/$role.log"; exit 1
        fi
        sleep 0.1
    done
}
nmetric() {   # ROLE PORT NAME
    curl -sf "http://$NET.${HOST[$1]}:$2/metrics" | awk -v m="$3" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}

# Events may arrive hours apart (two producers, two days' hours): no window
# closes during the run, so nothing counts as late.
for i in 0 1; do
    nstart a$i 9103 "$BIN/txw-aggregator" --database-url "$NDB" --shard $i --lateness-s 86400 \
        --migrate "$([ $i -eq 0 ] && echo true || echo false)"
done
for i in 0 1; do
    nstart s$i 9102 "$BIN/txw-scorer" --shard $i --database-url "$NDB" --migrate false \
        --checkpoint-s 1 --aggregator-endpoints tcp://aggregator-0:7021,tcp://aggregator-1:7021
done
for v in v1 v2 v3; do
    nstart $v 9101 "$BIN/txw-validator" --database-url "$NDB" --migrate false \
        --rates "$ROOT/tests/e2e/rates.csv" --max-future-ms 315360000000 \
        --scorer-endpoints tcp://scorer-0:7011,tcp://scorer-1:7011
done
for g in g1 g2; do
    nstart $g 9105 "$BIN/txw-gateway" --document-root "$WORK" --api-url "" --listen 8081 \
        --alert-endpoints tcp://scorers:7012 --window-endpoints tcp://aggregators:7022 \
        --dead-letter-endpoints tcp://validators:7002
done
ok "2 aggregators, 2 scorers, 3 validators and 2 gateways run in namespaces of their own"

# --- two producers; the validators' name grows while they send -------------------------------
ip netns exec $NS-p1 "$BIN/txw-producer" "${GEN1[@]}" --rate 2000 --resolve-s 1 --admin-port 0 \
    --validator-endpoints tcp://validators:7001 >"$WORK/p1.log" 2>&1 &
P1=$!
ip netns exec $NS-p2 "$BIN/txw-producer" "${GEN2[@]}" --rate 2000 --resolve-s 1 --admin-port 0 \
    --validator-endpoints tcp://validators:7001 >"$WORK/p2.log" 2>&1 &
P2=$!
PIDS+=("$P1" "$P2")
sleep 1.5
# Appending keeps the inode that `ip netns exec` mounted, so the running
# producers see the change.
for p in p1 p2; do echo "$NET.${HOST[v3]} validators" >>/etc/netns/$NS-$p/hosts; done
wait $P1; rc1=$?
wait $P2; rc2=$?
check "both producers send their streams and exit 0" test $rc1 -eq 0 -a $rc2 -eq 0
check "the producers connect to the third validator when the name gains it" \
    grep -q "tcp://validators:7001: connected $NET.${HOST[v3]}" "$WORK/p1.log" "$WORK/p2.log"

deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
    got=$(( $(nmetric a0 9103 txw_records_in_total) + $(nmetric a1 9103 txw_records_in_total) ))
    [ "$got" -ge "$VALID" ] && break
    sleep 0.3
done
# records_in counts alerts as well: the exact count is checked in PostgreSQL.
check "the aggregator shards receive the valid records ($got, $VALID transactions)" \
    test "$got" -ge "$VALID"
for role in v1 v2 v3; do
    n=$(nmetric $role 9101 txw_records_in_total)
    check "validator $role took part ($n records)" test "$n" -gt 0
done
total=$(( $(nmetric v1 9101 txw_records_in_total) + $(nmetric v2 9101 txw_records_in_total)
        + $(nmetric v3 9101 txw_records_in_total) ))
check "the validators together received each record once ($total of $((VALID + INVALID)))" \
    test "$total" -eq $((VALID + INVALID))
for role in s0 s1; do
    n=$(nmetric $role 9102 txw_records_in_total)
    check "scorer shard $role took part ($n records)" test "$n" -gt 0
done
for role in a0 a1; do
    n=$(nmetric $role 9103 txw_records_in_total)
    check "aggregator shard $role took part ($n records)" test "$n" -gt 0
done
check "no keyed hop expanded a shard name" \
    test -z "$(grep -l 'shard endpoint .* has [0-9]* addresses' "$WORK"/v*.log "$WORK"/s*.log)"
for g in g1 g2; do
    check "gateway $g subscribes to both scorers and receives alerts" \
        test "$(grep -c "tcp://scorers:7012: connected" "$WORK/$g.log")" = 2 \
             -a "$(nmetric $g 9105 txw_gateway_alerts_in_total)" -gt 0
done
sleep 1.5   # one more scorer checkpoint
# What each validator refused, stored and gave up, read before they stop:
# printed only if the dead letters in PostgreSQL do not add up.
for v in v1 v2 v3; do
    echo "$v rejects=$(curl -sf "http://$NET.${HOST[$v]}:9101/metrics" | awk '$1 ~ /^txw_rejects_total/ { n += $2 } END { print n + 0 }')" \
         "stored=$(nmetric $v 9101 txw_dead_letters_stored_total)" \
         "dropped=$(nmetric $v 9101 txw_dead_letters_dropped_total)" \
         "queued=$(nmetric $v 9101 txw_dead_letters_queued)"
done >"$WORK/dead-letter-metrics.txt"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "every service stops cleanly on SIGTERM" \
    stop_clean $PID_v1 $PID_v2 $PID_v3 $PID_s0 $PID_s1 $PID_a0 $PID_a1 $PID_g1 $PID_g2

# --- PostgreSQL: exact totals, one shard per account -------------------------------------------
sql "SELECT dimension, key, (extract(epoch FROM window_start) * 1000)::bigint,
            tx_count, amount_minor_sum, approved, declined, failed, late
     FROM txw.window_totals ORDER BY 1, 2, 3" | LC_ALL=C sort >"$WORK/actual-windows.tsv"
LC_ALL=C sort "$WORK/expected-windows.tsv" >"$WORK/expected-windows.sorted"
check "txw.window_totals matches both streams exactly" \
    diff -q "$WORK/expected-windows.sorted" "$WORK/actual-windows.tsv"
diff "$WORK/expected-windows.sorted" "$WORK/actual-windows.tsv" | head -6
check "every valid transaction is stored once ($VALID)" \
    test "$(sql "SELECT count(*) FROM txw.transactions")" = "$VALID"
dead=$(sql "SELECT count(*) FROM txw.dead_letters")
check "every invalid record is a dead letter ($dead of $INVALID)" test "$dead" = "$INVALID"
if [ "$dead" != "$INVALID" ]; then
    sed 's/^/# /' "$WORK/dead-letter-metrics.txt"
    grep -h '"level":"\(warn\|error\)"' "$WORK"/v*.log | head -20 | sed 's/^/# /'
    sql "SELECT origin_source, reason, count(*) FROM txw.dead_letters GROUP BY 1, 2 ORDER BY 1, 2" \
        | sed 's/^/# /'
fi
check "both aggregator shards stored transactions" \
    test "$(sql "SELECT count(DISTINCT shard) FROM txw_data.transactions")" = 2
check "each account's transactions are on one shard only" \
    test "$(sql "SELECT count(*) FROM (SELECT account_id FROM txw_data.transactions
                 GROUP BY 1 HAVING count(DISTINCT shard) > 1) x")" = 0
check "both scorers checkpointed accounts" \
    test "$(sql "SELECT count(DISTINCT consumer) FROM txw_data.scorer_state")" = 2
check "each account's scorer checkpoint is held by one scorer only" \
    test "$(sql "SELECT count(*) FROM (SELECT account_hash FROM txw_data.scorer_state
                 GROUP BY 1 HAVING count(DISTINCT consumer) > 1) x")" = 0
