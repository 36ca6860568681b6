#!/bin/sh
# run.sh - the whole suite on one machine (what `make run` does after building)
#
# Starts PostgreSQL in var/pg (unless TXW_DATABASE_URL names a server), then
# the aggregator, scorer, validator, query API, HTTP ingest, push gateway
# (which serves the dashboard) and the generator, each logging JSON to
# var/log/<service>.log.
# Ctrl-C stops them in order and then PostgreSQL.
#   TXW_RATE=200     generator rate in tx/s; 0 starts no generator, so only
#                    files (txw-producer --file) or other producers feed it
#   TXW_PRODUCTS=2000  the generator's product catalogue (online purchases
#                    come as baskets of it), loaded into txw.products; 0: none
#   TXW_DATABASE_URL use this PostgreSQL instead of a private one, as the
#                    role that owns the schema (it applies the migrations)
#   TXW_<SERVICE>_DATABASE_URL  (SERVICE: AGGREGATOR, SCORER, VALIDATOR,
#                    QUERY, GATEWAY, NOTIFIER, MAINT, RESCORE, INGEST) the URL that service logs in
#                    with; the login is made from it. Default: its own login
#                    on the private server; with TXW_DATABASE_URL, that URL
#   TXW_WEBHOOK_URL  also start txw-notifier, posting every alert there
#   TXW_CHANNELS_FILE  also start txw-notifier with these channels (Slack,
#                    PagerDuty, email: deploy/channels.example.json)
#   TXW_MODEL        the scorer's anomaly model, var/model.bin by default:
#                    txw-rescore retrains it (once 100,000 transactions are
#                    stored, then daily) and the scorer swaps it in; until
#                    then the rules alone. TXW_MODEL= (empty): no model
#   TXW_SUPERVISED   the scorer's supervised model, var/supervised.bin by
#                    default: retrained with the model from the analysts'
#                    labels once there are 50 fraud and 500 legitimate
#                    ones; until then rules and forest alone.
#                    TXW_SUPERVISED= (empty): none
# The schema is migrated once, by its owner, before anything starts; each
# service then logs in as a role of its own that may do only what that
# service does (proto/SQL.md, "Roles").
set -u
cd "$(dirname "$0")/../.." || exit 1
# The binaries and dashboard of `make BUILD=DIR run` (default build/).
BUILD=${BUILD:-build}
BIN=$BUILD/bin
LOG=var/log
mkdir -p "$LOG"
RATE=${TXW_RATE:-200}
PRODUCTS=${TXW_PRODUCTS:-2000}
pids=""
started_pg=0

stop_all() {
    trap - INT TERM EXIT
    echo
    echo "stopping txwatch..."
    # Upstream first, so each stage drains what is in flight downstream.
    for pid in $pids; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ "$started_pg" -eq 1 ]; then
        sh deploy/local/pg.sh stop
        echo "PostgreSQL stopped (data kept in var/pg)"
    fi
    echo "stopped."
    exit 0
}
trap stop_all INT TERM EXIT

if [ -n "${TXW_DATABASE_URL:-}" ]; then
    DB=$TXW_DATABASE_URL
else
    DB=$(sh deploy/local/pg.sh start) || exit 1
    started_pg=1
fi
# DB is the owner's: only the migrate step below and the operator use it.
unset TXW_DATABASE_URL

# Each service's URL: its own login (pg.sh trusts local connections, so no
# password), unless given.
login_url() {   # login
    if [ "$started_pg" -eq 1 ]; then sh deploy/local/pg.sh url "$1"; else echo "$DB"; fi
}
DB_AGGREGATOR=${TXW_AGGREGATOR_DATABASE_URL:-$(login_url txw_aggregator)}
DB_SCORER=${TXW_SCORER_DATABASE_URL:-$(login_url txw_scorer)}
DB_VALIDATOR=${TXW_VALIDATOR_DATABASE_URL:-$(login_url txw_validator)}
DB_QUERY=${TXW_QUERY_DATABASE_URL:-$(login_url txw_query)}
DB_GATEWAY=${TXW_GATEWAY_DATABASE_URL:-$(login_url txw_gateway)}
DB_NOTIFIER=${TXW_NOTIFIER_DATABASE_URL:-$(login_url txw_notifier)}
DB_MAINT=${TXW_MAINT_DATABASE_URL:-$(login_url txw_maintenance)}
DB_RESCORE=${TXW_RESCORE_DATABASE_URL:-$(login_url txw_rescorer)}
DB_INGEST=${TXW_INGEST_DATABASE_URL:-$(login_url txw_ingester)}

# Migrate as the owner, and make (or update) each service's login in its
# group role; a service left on the owner's URL needs none.
logins=""
for pair in "txw_store $DB_AGGREGATOR" "txw_score $DB_SCORER" "txw_ingest $DB_VALIDATOR" \
            "txw_api $DB_QUERY" "txw_push $DB_GATEWAY" "txw_notify $DB_NOTIFIER" \
            "txw_maint $DB_MAINT" "txw_rescore $DB_RESCORE" "txw_post $DB_INGEST"; do
    url=${pair#* }
    [ "$url" != "$DB" ] && logins="$logins ${pair%% *}=$url"
done
if ! "$BIN"/txw-aggregator --migrate-only --database-url "$DB" --login-roles "$logins" \
        >>"$LOG/migrate.log" 2>&1; then
    echo "the migrations or the service logins failed; see $LOG/migrate.log" >&2
    tail -3 "$LOG/migrate.log" >&2
    exit 1
fi

# The secrets of a local suite, made once in var/ and kept (owner-only):
# the pseudonym key every service hashes ids with (common/pii.h) and the
# key webhooks are signed with.
mkdir -p var
[ -f var/pseudonym.key ] || "$BIN"/txw-keygen --pseudonym-key var/pseudonym.key >/dev/null || exit 1
export TXW_PSEUDONYM_KEY_FILE="$PWD/var/pseudonym.key"
if [ ! -f var/webhook.secret ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >var/webhook.secret) || exit 1
fi

# CURVE on every ZeroMQ socket, as in compose and k8s: a server
# certificate, one client certificate per role and the allowed folder
# (made once in var/keys; ARCHITECTURE.md, "CURVE: who may talk to whom").
"$BIN"/txw-keygen --all var/keys >/dev/null || exit 1
K=$PWD/var/keys
curve() {   # role: the options of a service of that role
    echo "--curve-server-key $K/public/cluster.key --curve-client-key $K/$1/$1.key_secret"
    case $1 in
    validator|scorer|aggregator)
        echo "--curve-secret-key $K/server/cluster.key_secret --curve-allowed $K/allowed" ;;
    esac
}

# The first admin API key, made in PostgreSQL as the owner (once: an
# active admin key means nothing is made) and kept in var/admin.key.
if ! "$BIN"/txwctl keys create admin admin --database-url "$DB" --if-none --out var/admin.key \
        >>"$LOG/migrate.log" 2>&1; then
    echo "the first admin API key could not be made; see $LOG/migrate.log" >&2
    tail -3 "$LOG/migrate.log" >&2
    exit 1
fi

wait_ready() {   # port name
    i=0
    while ! curl -sf "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "$2 did not become ready; see $LOG/$2.log" >&2
            tail -5 "$LOG/$2.log" >&2
            exit 1
        fi
        sleep 0.1
    done
}

start() {   # name admin-port binary args...
    name=$1; port=$2; shift 2
    "$@" >>"$LOG/$name.log" 2>&1 &
    # Listed upstream-first for stop_all.
    pids="$! $pids"
    wait_ready "$port" "$name"
}

HOST=$(hostname -I 2>/dev/null | awk '{ print $1 }')
# The dashboard's pages, wherever they are opened from, may call the API.
ORIGINS="http://127.0.0.1:8081,http://localhost:8081${HOST:+,http://$HOST:8081}"
# shellcheck disable=SC2046 # curve prints options, split on purpose
start aggregator 9103 "$BIN"/txw-aggregator --database-url "$DB_AGGREGATOR" --migrate false $(curve aggregator)
start query      9104 "$BIN"/txw-query --database-url "$DB_QUERY" --cors-origins "$ORIGINS"
# shellcheck disable=SC2046
start gateway    9105 "$BIN"/txw-gateway --database-url "$DB_GATEWAY" --document-root "$BUILD/dashboard" $(curve gateway)
if [ -n "${TXW_WEBHOOK_URL:-}" ] || [ -n "${TXW_CHANNELS_FILE:-}" ]; then
    # shellcheck disable=SC2046
    start notifier 9106 "$BIN"/txw-notifier --database-url "$DB_NOTIFIER" --webhook-url "${TXW_WEBHOOK_URL:-}" \
        --channels-file "${TXW_CHANNELS_FILE:-}" --webhook-secret-file var/webhook.secret $(curve notifier)
fi
# The timer of retention and the segments' refresh: every hour (the
# first run at once), as its own login (proto/SQL.md, "Retention").
start maint      9107 "$BIN"/txw-maint all --every 3600 --database-url "$DB_MAINT"
# The timer of rescoring (stale accounts, every 5 minutes) and of the
# models' retraining (daily; until the first model, at every run once
# enough is stored): the forest, then the supervised model from the
# labels, as its own login (ARCHITECTURE.md, "Rescoring and retraining");
# the scorer reloads each model when its file changes.
MODEL=${TXW_MODEL-$PWD/var/model.bin}
SUPERVISED=${TXW_SUPERVISED-$PWD/var/supervised.bin}
if [ -n "$MODEL" ]; then
    start rescore 9108 "$BIN"/txw-rescore --every 300 --model "$MODEL" --retrain-every 86400 \
        --supervised "$SUPERVISED" --database-url "$DB_RESCORE"
else
    start rescore 9108 "$BIN"/txw-rescore --every 300 --database-url "$DB_RESCORE"
fi
# shellcheck disable=SC2046
start scorer     9102 "$BIN"/txw-scorer --database-url "$DB_SCORER" --migrate false --model "$MODEL" \
    --supervised "$SUPERVISED" $(curve scorer)
# shellcheck disable=SC2046
start validator  9101 "$BIN"/txw-validator --database-url "$DB_VALIDATOR" --migrate false $(curve validator)
# Transactions over HTTP, sent on as a producer sends (its certificate).
# shellcheck disable=SC2046
start ingest     9109 "$BIN"/txw-ingest --database-url "$DB_INGEST" --migrate false \
    --ack-endpoints tcp://127.0.0.1:7022,tcp://127.0.0.1:7002 $(curve producer)
if [ "$RATE" != 0 ]; then
    # The catalogue the generator sells from (the same seed and size),
    # loaded as the owner, so the baskets' products have names and prices.
    if [ "$PRODUCTS" != 0 ] && ! { "$BIN"/txw-producer --products "$PRODUCTS" --catalogue-out var/catalogue.csv \
            && "$BIN"/txwctl products load var/catalogue.csv --database-url "$DB"; } >>"$LOG/migrate.log" 2>&1; then
        echo "the product catalogue could not be loaded; see $LOG/migrate.log" >&2
        tail -3 "$LOG/migrate.log" >&2
        exit 1
    fi
    # Each run's transactions are new ones: the same seed gives the same
    # tx_ids, which the database, kept in var/pg, already holds (counted once,
    # a second `make run` would show nothing new). var/generator.run counts.
    RUN=$(( $(cat var/generator.run 2>/dev/null || echo 0) + 1 ))
    echo "$RUN" >var/generator.run
    # shellcheck disable=SC2046
    start producer 9100 "$BIN"/txw-producer --rate "$RATE" --products "$PRODUCTS" --run "$RUN" \
        --ack-endpoints tcp://127.0.0.1:7022,tcp://127.0.0.1:7002 $(curve producer)
fi

cat <<INFO

txwatch is running.
  dashboard       http://127.0.0.1:8081/   (from another machine: http://${HOST:-<this host>}:8081/)
                  sign in with the admin API key:  $(cat var/admin.key 2>/dev/null || echo "(kept from an earlier run: var/admin.key)")
                  (kept in var/admin.key; make others with
                   TXW_API_KEY_FILE=var/admin.key $BIN/txwctl keys create NAME viewer|analyst|admin)
  query API       http://127.0.0.1:8080/api/v1/stats/realtime
                  TXW_API_KEY_FILE=var/admin.key $BIN/txwctl stats
  PostgreSQL      $DB   (the schema's owner)
                  each service logs in as its own role: proto/SQL.md "Roles", $LOG/migrate.log
                  psql '$DB' -c 'select * from txw.window_totals order by window_start desc limit 10'
  producer        $( [ "$RATE" != 0 ] && echo "generating $RATE tx/s, admin http://127.0.0.1:9100/metrics" || echo "not started (TXW_RATE=0)")
  validator       ingest tcp://127.0.0.1:7001   admin http://127.0.0.1:9101/metrics
  scorer          input  tcp://127.0.0.1:7011   admin http://127.0.0.1:9102/metrics
  aggregator      input  tcp://127.0.0.1:7021   admin http://127.0.0.1:9103/metrics
  publishers      dead letters tcp://127.0.0.1:7002, alerts :7012, windows :7022
  ZeroMQ          CURVE on every socket, a certificate per role in var/keys
  ingest API      http://127.0.0.1:8082/api/v1/transactions   admin http://127.0.0.1:9109/metrics
                  curl -H "Authorization: Bearer \$(cat var/admin.key)" -H 'Content-Type: application/json' \\
                       -d @transaction.json http://127.0.0.1:8082/api/v1/transactions   (README, "Ingest over HTTP")
  query, gateway  admin http://127.0.0.1:9104/metrics, http://127.0.0.1:9105/metrics
  maint           retention and segments every hour, admin http://127.0.0.1:9107/metrics
  rescore         stale accounts every 5 minutes$( [ -n "$MODEL" ] && echo ", the model $MODEL retrained daily" || echo "; no model (TXW_MODEL empty)"), admin http://127.0.0.1:9108/metrics
                  $( [ -n "$MODEL" ] && [ -n "$SUPERVISED" ] && echo "and after it the supervised model $SUPERVISED, from the labels" || echo "no supervised model retrained (TXW_MODEL or TXW_SUPERVISED empty)")
  webhooks        $( [ -n "${TXW_WEBHOOK_URL:-}" ] && echo "every alert to $TXW_WEBHOOK_URL (admin :9106), signed with var/webhook.secret" || echo "off (set TXW_WEBHOOK_URL to start txw-notifier)")
  channels        $( [ -n "${TXW_CHANNELS_FILE:-}" ] && echo "$TXW_CHANNELS_FILE (admin :9106)" || echo "off (set TXW_CHANNELS_FILE: Slack, PagerDuty, email)")
  logs            $LOG/<service>.log (JSON lines)

Feed a file:  $BIN/txw-producer --file transactions.csv --admin-port 0 \\
                  --ack-endpoints tcp://127.0.0.1:7022,tcp://127.0.0.1:7002 \\
                  --curve-client-key var/keys/producer/producer.key_secret \\
                  --curve-server-key var/keys/public/cluster.key
              (kept until stored; the same command after a crash resumes where it stopped)
Press Ctrl-C to stop everything.
INFO

# Wait for Ctrl-C; report once a service that dies on its own.
reported=""
while :; do
    for pid in $pids; do
        case " $reported " in *" $pid "*) continue ;; esac
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "a service (pid $pid) exited; see $LOG/*.log" >&2
            reported="$reported $pid"
        fi
    done
    sleep 5
done
