#!/bin/bash
# dbroles.sh - least privilege in PostgreSQL (proto/sql/012_roles.sql,
# proto/SQL.md "Roles")
#
# First the fallback for an owner without CREATEROLE: the migration stops
# and says why, and passes once a DBA has made the group roles. Then the
# owner migrates with one login per service (txw-aggregator --migrate-only
# --login-roles): each login is in exactly its group, a password reaches
# the server only as a SCRAM verifier (never in its log, even with
# log_statement=all) and works with password authentication; the step is
# idempotent, moves a login between groups, and refuses the owner, a
# group as a login, a foreign group and malformed items (all or none,
# never printing a password). The catalogue's grants on txw and txw_data
# must be exactly the table of proto/SQL.md, every object must have a row
# there, and PUBLIC may use none of them. With psql as each login: the
# query API's role cannot write transactions, change an alert's score,
# change or empty the audit log, create, drop or alter anything, or raise
# its own rights; the pipeline's cannot touch API keys or the audit log;
# the notifier's cannot write alerts; and so on. Then the real services
# run, each as its own login (--migrate false, and the aggregator with the
# default --migrate on the current schema): a generated stream is stored
# (transactions, day partitions owned by the owner, alerts, dead letters,
# scorer checkpoints), the notifier delivers and keeps its cursor, the
# query API reads, acks and reopens with an API key, makes and revokes keys
# and reads the audit log, and the gateway checks WebSocket keys: the
# grants are enough, not only narrow. Last, the compose files: every
# service connects as its own login, which the migrate service makes.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=195   # port prefix: API ${P}80, gateway ${P}81, webhooks ${P}70, admin ${P}9x
PGPORT=25360
pg_start $PGPORT
OWNER=$DB
AGG_URL=$(db_url txw_aggregator)
SCO_URL=$(db_url txw_scorer)
VAL_URL=$(db_url txw_validator)
GW_URL="$(db_url txw_gateway)?connect_timeout=5&application_name=txw-gateway"   # as in k8s: with parameters
RD_URL=$(db_url txw_reader)
# Two logins with passwords (password authentication is switched on for
# them below); the notifier's has characters a URI must percent-encode.
QPW=qpw-$RANDOM$RANDOM
QRY_URL=postgresql://txw_query:$QPW@127.0.0.1:$PGPORT/txwatch
NPW_TEXT='n@t:i/f%y'
NT_URL=postgresql://txw_notifier:n%40t%3Ai%2Ff%25y@127.0.0.1:$PGPORT/txwatch
LOGINS="txw_store=$AGG_URL txw_score=$SCO_URL txw_ingest=$VAL_URL txw_api=$QRY_URL
        txw_push=$GW_URL txw_notify=$NT_URL txw_read=$RD_URL"
GROUPS_ALL="txw_store txw_score txw_ingest txw_api txw_push txw_notify txw_read txw_maint txw_post txw_rescore"

# migrate NAME URL [ARGS...]: txw-aggregator --migrate-only as URL's role,
# logging to NAME.log; returns its exit status
migrate() {
    local name=$1 url=$2; shift 2
    "$BIN/txw-aggregator" --migrate-only --database-url "$url" "$@" >"$WORK/$name.log" 2>&1
}
# groups_of LOGIN: the txwatch groups LOGIN is a member of, sorted, by commas
groups_of() {
    sql "SELECT coalesce (string_agg (g.rolname, ',' ORDER BY g.rolname), '')
           FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid
           JOIN pg_roles l ON l.oid = a.member
          WHERE l.rolname = '$1' AND g.rolname LIKE 'txw\_%'"
}
# wait_for COMMAND...: until it succeeds, for up to 10 s
wait_for() { local i; for i in $(seq 50); do "$@" && return 0; sleep 0.2; done; return 1; }
no_role() {   # NAME...: none of these roles exists
    local r
    for r in "$@"; do
        [ "$(sql "SELECT count(*) FROM pg_roles WHERE rolname = '$r'")" = 0 ] || return 1
    done
}

# --- an owner without CREATEROLE: the DBA's way --------------------------------------
# A database of its own, owned by a role that may not create roles, before
# the group roles exist anywhere in the cluster.
sql "CREATE ROLE txw_migrator LOGIN" >/dev/null
sql "CREATE DATABASE txwatch_dba OWNER txw_migrator" >/dev/null
MIG_URL=postgresql://txw_migrator@127.0.0.1:$PGPORT/txwatch_dba
migrate mig1 "$MIG_URL"
check "without CREATEROLE and without the group roles, the migration fails" test $? -eq 1
check "... and says what to do (CREATEROLE, or a DBA makes the groups)" \
    grep -q 'cannot create the group role txw_store: txw_migrator may not create roles (give it CREATEROLE, or have a DBA create the groups' "$WORK/mig1.log"
check "... with 012 not recorded and no role made" test \
    "$(psql "$MIG_URL" -qAtX -c "SELECT max (version) FROM txw_data.schema_migrations")/$(sql "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'txw\_%' AND rolname <> 'txw_migrator'")" = 11/0
for g in $GROUPS_ALL; do sql "CREATE ROLE $g NOLOGIN" >/dev/null; done
migrate mig2 "$MIG_URL"
check "once a DBA has made the group roles, the same owner migrates (no CREATEROLE needed)" test $? -eq 0
# The newest migration of proto/sql, by its number.
LATEST=$(find "$ROOT/proto/sql" -name '[0-9]*.sql' | sed 's|.*/0*\([0-9]*\)_.*|\1|' | sort -n | tail -1)
check "... to version $LATEST, the newest" test "$(psql "$MIG_URL" -qAtX -c "SELECT max (version) FROM txw_data.schema_migrations")" = "$LATEST"
migrate mig3 "$MIG_URL" --login-roles "txw_read=$(db_url txw_dba_reader)"
check "without CREATEROLE, --login-roles fails (a DBA makes the logins: CREATE ROLE ... IN ROLE)" test $? -eq 1
check "... and makes no login" no_role txw_dba_reader

# --- the owner migrates and makes the service logins ----------------------------------
"$BIN/txw-aggregator" --login-roles "txw_read=$RD_URL" >"$WORK/nomigrate.log" 2>&1
check "--login-roles without --migrate-only is refused (exit 2)" test $? -eq 2
# The owner's session logs every statement, to show what reaches the server.
migrate owner "$OWNER?options=-c%20log_statement%3Dall" --login-roles "$LOGINS"
check "the owner migrates and makes seven logins" test $? -eq 0
check "... as it reports" grep -q "$LATEST migrations applied now, 7 login roles" "$WORK/owner.log"
expected_groups() {
    case $1 in
    txw_aggregator) echo txw_store ;; txw_scorer) echo txw_score ;;
    txw_validator) echo txw_ingest ;; txw_query) echo txw_api ;;
    txw_gateway) echo txw_push ;; txw_notifier) echo txw_notify ;; txw_reader) echo txw_read ;;
    esac
}
LOGIN_NAMES="txw_aggregator txw_scorer txw_validator txw_query txw_gateway txw_notifier txw_reader"
# in_list WORDS: the words as a SQL array literal's text, for = ANY
in_list() { echo "{${1// /,}}"; }
memberships() {
    local l bad=0
    for l in $LOGIN_NAMES; do
        [ "$(groups_of "$l")" = "$(expected_groups "$l")" ] || { note "$l is in '$(groups_of "$l")'"; bad=1; }
    done
    return $bad
}
check "each login is a member of exactly its group" memberships
check "every login can log in and has no other attribute (superuser, createrole, createdb, replication, bypassrls)" \
    test "$(sql "SELECT count(*) FROM pg_roles WHERE rolname = ANY ('$(in_list "$LOGIN_NAMES")')
                   AND rolcanlogin AND rolinherit AND NOT (rolsuper OR rolcreaterole OR rolcreatedb
                   OR rolreplication OR rolbypassrls)")" = 7
check "every group role is NOLOGIN without attributes" \
    test "$(sql "SELECT count(*) FROM pg_roles WHERE rolname = ANY ('$(in_list "$GROUPS_ALL")')
                   AND NOT (rolcanlogin OR rolsuper OR rolcreaterole OR rolcreatedb
                   OR rolreplication OR rolbypassrls)")" = "$(echo $GROUPS_ALL | wc -w)"
check "passwords are stored as SCRAM verifiers; logins without one in their URL have none" \
    test "$(sql "SELECT string_agg (rolname || ':' || coalesce (left (rolpassword, 14), '-'), ' ' ORDER BY rolname)
                   FROM pg_authid WHERE rolname IN ('txw_query', 'txw_notifier', 'txw_gateway')")" \
        = "txw_gateway:- txw_notifier:SCRAM-SHA-256\$ txw_query:SCRAM-SHA-256\$"
HBA=$(sql "SHOW hba_file")
SERVER_LOG=$(dirname "$(dirname "$HBA")")/server.log
check "with log_statement=all the server logged the login step (what reached it)" \
    grep -q 'ensure_login' "$SERVER_LOG"
absent() { ! grep -qF -e "$QPW" -e "$NPW_TEXT" -e 'n%40t' "$@"; }
check "... and neither password is in the server's log (only verifiers went)" absent "$SERVER_LOG"
check "... nor in the migration's own log" absent "$WORK/owner.log"

# Password authentication for the two logins that have passwords, ahead of
# the trust lines pg.sh's initdb wrote; the file keeps its owner and mode.
{ echo "host txwatch txw_query,txw_notifier 127.0.0.1/32 scram-sha-256"; cat "$HBA"; } >"$WORK/hba"
cat "$WORK/hba" >"$HBA"
sql "SELECT pg_reload_conf ()" >/dev/null
check "the query login gets in with its password (scram-sha-256)" \
    test "$(psql "$QRY_URL" -qAtX -c 'SELECT current_user')" = txw_query
check "the notifier login gets in with its percent-encoded password" \
    test "$(psql "$NT_URL" -qAtX -c 'SELECT current_user')" = txw_notifier
wrong_refused() { ! psql "postgresql://txw_query:wrong@127.0.0.1:$PGPORT/txwatch" -qAtX -c 'SELECT 1' >/dev/null 2>&1; }
check "a wrong password is refused" wrong_refused

migrate again "$OWNER" --login-roles "$LOGINS"
check "the same logins again: exit 0, every one updated" \
    test $? -eq 0 -a "$(grep -c 'in group txw_[a-z]*: updated' "$WORK/again.log")" = 7
check "... memberships unchanged" memberships
check "... and the passwords still work" \
    test "$(psql "$QRY_URL" -qAtX -c 'SELECT current_user')" = txw_query
migrate move1 "$OWNER" --login-roles "txw_api=$RD_URL"
check "a login named with another group moves there (and leaves its old group)" \
    test $? -eq 0 -a "$(groups_of txw_reader)" = txw_api
migrate move2 "$OWNER" --login-roles "txw_read=$RD_URL"
check "... and back" test $? -eq 0 -a "$(groups_of txw_reader)" = txw_read

# refused NAME WHAT SPEC: --login-roles SPEC fails (exit 1)
refused() {
    migrate "$1" "$OWNER" --login-roles "$3"
    check "$2" test $? -eq 1
}
refused own "the owner as a service login is refused" "txw_api=$OWNER"
check "... and the owner joined no group" test "$(groups_of txw)" = ""
refused grp "a group role as a login is refused" "txw_read=$(db_url txw_store)"
refused foreign "a group that is not txwatch's (pg_write_all_data) is refused, all or none" \
    "txw_read=$(db_url txw_newbie) pg_write_all_data=$(db_url txw_evil)"
check "... so neither login of that run exists" no_role txw_newbie txw_evil
refused twice "one login named for two groups is refused" "txw_api=$RD_URL txw_read=$RD_URL"
refused noeq "an item without GROUP= is refused" "$QRY_URL"
refused kv "a key=value string instead of a URI is refused" "txw_api=user=txw_query"
refused nouser "a URI without a user is refused" "txw_api=postgresql://127.0.0.1:$PGPORT/txwatch"
refused scheme "another scheme is refused, without printing its password" "txw_api=mysql://u:SeCrEt-1@x/y"
no_password() { ! grep -qF -e SeCrEt-1 -e "$QPW" "$WORK"/{own,grp,foreign,twice,noeq,kv,nouser,scheme}.log; }
check "no refusal printed a password" no_password
check "after the refusals every login is still in its group" memberships

# --- the catalogue is the table of proto/SQL.md ---------------------------------------
# grantee, object, privilege, column (empty: the whole object), for every
# grant in txw and txw_data to anyone but the owner; PUBLIC's usual CONNECT
# and TEMPORARY on the database and EXECUTE on trigger functions left out.
catalogue() {
    sql "SET search_path = pg_catalog;
    WITH rel AS (
        SELECT c.oid, n.nspname || '.' || c.relname AS obj, c.relacl
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('txw', 'txw_data') AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           AND NOT c.relispartition),
    acl AS (
        SELECT r.obj, a.grantee, a.privilege_type AS priv, '' AS col FROM rel r, aclexplode (r.relacl) a
        UNION ALL
        SELECT r.obj, a.grantee, a.privilege_type, t.attname::text
          FROM rel r JOIN pg_attribute t ON t.attrelid = r.oid AND t.attacl IS NOT NULL,
               aclexplode (t.attacl) a
        UNION ALL
        SELECT 'schema ' || n.nspname, a.grantee, a.privilege_type, ''
          FROM pg_namespace n, aclexplode (n.nspacl) a WHERE n.nspname IN ('txw', 'txw_data')
        UNION ALL
        SELECT p.oid::regprocedure::text, a.grantee, a.privilege_type, ''
          FROM pg_proc p, aclexplode (coalesce (p.proacl, acldefault ('f', p.proowner))) a
         WHERE p.pronamespace IN ('txw'::regnamespace, 'txw_data'::regnamespace)
           AND NOT (a.grantee = 0 AND p.prorettype = 'trigger'::regtype)
        UNION ALL
        SELECT 'database', a.grantee, a.privilege_type, ''
          FROM pg_database d, aclexplode (d.datacl) a
         WHERE d.datname = current_database ()
           AND NOT (a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY')))
    SELECT coalesce (g.rolname, 'PUBLIC'), acl.obj, acl.priv, acl.col
      FROM acl LEFT JOIN pg_roles g ON g.oid = acl.grantee
     WHERE acl.grantee <> (SELECT nspowner FROM pg_namespace WHERE nspname = 'txw_data')" \
        | LC_ALL=C sort
}
catalogue >"$WORK/catalogue.tsv"
objects() {
    sql "SET search_path = pg_catalog;
         SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname IN ('txw', 'txw_data') AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
            AND NOT c.relispartition
         UNION ALL
         SELECT p.oid::regprocedure::text FROM pg_proc p
          WHERE p.pronamespace IN ('txw'::regnamespace, 'txw_data'::regnamespace)" \
        | LC_ALL=C sort
}
objects >"$WORK/objects.txt"
# doc_grants: the table of proto/SQL.md "Roles" as catalogue.tsv lines;
# doc_objects: its object column (relations and functions only)
doc_table() {
    python3 - "$ROOT/proto/SQL.md" "$1" <<'PY'
import re, sys
text, what = open(sys.argv[1]).read(), sys.argv[2]
section = text.split('\n## Roles\n', 1)[1].split('\n## ', 1)[0]
lines = section.splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith('| object |'))
header = [c.strip() for c in lines[start].strip('|').split('|')]
groups = header[1:]
out = []
for line in lines[start + 2:]:
    if not line.startswith('|'):
        break
    cells = [c.strip() for c in line.strip().strip('|').split('|')]
    obj = cells[0]
    if what == 'objects':
        if obj != 'database' and not obj.startswith('schema '):
            out.append(obj)
        continue
    for group, cell in zip(groups, cells[1:]):
        for item in re.findall(r'[A-Z]+(?: \([^)]*\))?', cell):
            priv, _, cols = item.partition(' (')
            if cols:
                for col in cols.rstrip(')').split(','):
                    out.append('\t'.join((group, obj, priv, col.strip())))
            else:
                out.append('\t'.join((group, obj, priv, '')))
print('\n'.join(sorted(out)))
PY
}
doc_table grants | LC_ALL=C sort >"$WORK/doc.tsv"
doc_table objects | LC_ALL=C sort >"$WORK/doc-objects.txt"
check "proto/SQL.md's table of privileges reads (it lists grants)" test -s "$WORK/doc.tsv"
same_grants() {
    diff "$WORK/doc.tsv" "$WORK/catalogue.tsv" >"$WORK/grants.diff" && return 0
    sed 's/^/# /' "$WORK/grants.diff" | grep '^# [<>]' | sed 's/# </# only in SQL.md:/; s/# >/# only granted:/' | head -20
    return 1
}
check "the catalogue grants exactly the table of proto/SQL.md (to the groups only, nothing to PUBLIC or a login)" same_grants
same_objects() {
    diff "$WORK/doc-objects.txt" "$WORK/objects.txt" >"$WORK/objects.diff" && return 0
    sed 's/^/# /' "$WORK/objects.diff" | grep '^# [<>]' | sed 's/# </# a row for a missing object:/; s/# >/# no row in SQL.md for:/'
    return 1
}
check "every table, view, sequence and function of txw and txw_data has its row in proto/SQL.md" same_objects
# The two checks can fail: a grant the table lacks, an object without a row.
sql "GRANT DELETE ON txw_data.alerts TO txw_notify; CREATE TABLE txw_data.ghost (a int)" >/dev/null
catalogue >"$WORK/catalogue-broken.tsv"
objects >"$WORK/objects-broken.txt"
check "... which catches a grant SQL.md does not list (DELETE on alerts to txw_notify)" \
    bash -c "! diff -q '$WORK/doc.tsv' '$WORK/catalogue-broken.tsv' >/dev/null"
check "... and a table without its row" \
    bash -c "! diff -q '$WORK/doc-objects.txt' '$WORK/objects-broken.txt' >/dev/null"
sql "REVOKE DELETE ON txw_data.alerts FROM txw_notify; DROP TABLE txw_data.ghost" >/dev/null
check "everything in txw and txw_data belongs to the owner" \
    test "$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname IN ('txw', 'txw_data') AND c.relowner <> 'txw'::regrole")" = 0

# --- each login, with psql ---------------------------------------------------------------
# A transaction, an alert and an API key to aim at, made by the owner.
TODAY=$(sql "SELECT to_char (now () AT TIME ZONE 'UTC', 'YYYYMMDD')")
sql "SELECT txw_data.ensure_partition ((now () AT TIME ZONE 'UTC')::date);
     SELECT txw_data.ensure_event_partition ('alerts', now ());
     INSERT INTO txw_data.transactions (tx_id, ts, account_id, amount_minor, currency, amount_rep_minor,
         merchant_id, category, channel, branch_id, region, country, device_id, status, score, shard)
     VALUES ('tx-r1', now (), 'acc-r1', 100, 'EUR', 100, 'm', 'c', 'web', 'b', 'r', 'DE', 'd', 'approved', 91, 0);
     INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, score, raised_at)
     VALUES ('fraud:tx-r1', 'fraud', 'tx-r1', now (), 91, now ())" >/dev/null
ADMIN=$(make_key root admin)
check "the owner makes an admin key (as txwctl keys create --database-url does)" test -n "$ADMIN"
KEY_ID=$(cut -d_ -f2 <<<"$ADMIN")

# denied URL WHAT SQL: SQL fails with insufficient_privilege (42501), which
# is what PostgreSQL answers for a missing grant and for "must be owner"
denied() {
    local out rc
    out=$(printf '\\set VERBOSITY verbose\n%s\n' "$3" | psql "$1" -qAtX -v ON_ERROR_STOP=1 2>&1)
    rc=$?
    if [ $rc -ne 0 ] && grep -q 'ERROR:  42501' <<<"$out"; then ok "$2"; else
        not_ok "$2"; note "exit $rc: $(head -3 <<<"$out" | tr '\n' ' ')"; fi
}
# allowed URL WHAT SQL: SQL succeeds (in a transaction rolled back after)
allowed() {
    local out
    if out=$(printf 'BEGIN;\n%s;\nROLLBACK;\n' "$3" | psql "$1" -qAtX -v ON_ERROR_STOP=1 2>&1); then
        ok "$2"; else not_ok "$2"; note "$(head -3 <<<"$out" | tr '\n' ' ')"; fi
}
TX_ROW="('tx-r2', now (), 'a', 1, 'EUR', 1, 'm', 'c', 'web', 'b', 'r', 'DE', 'd', 'approved', 1, 0)"
TX_COLS="(tx_id, ts, account_id, amount_minor, currency, amount_rep_minor, merchant_id, category,
          channel, branch_id, region, country, device_id, status, score, shard)"

# The query API's role.
Q=$QRY_URL
denied "$Q" "query role: cannot INSERT a transaction" "INSERT INTO txw_data.transactions $TX_COLS VALUES $TX_ROW"
denied "$Q" "query role: cannot UPDATE a transaction" "UPDATE txw_data.transactions SET score = 0"
denied "$Q" "query role: cannot DELETE transactions" "DELETE FROM txw_data.transactions"
denied "$Q" "query role: cannot TRUNCATE transactions" "TRUNCATE txw_data.transactions"
denied "$Q" "query role: cannot write a day's partition directly" \
    "DELETE FROM txw_data.transactions_$TODAY"
denied "$Q" "query role: cannot create a partition (ensure_partition is the aggregator's)" \
    "SELECT txw_data.ensure_partition (date '2031-01-01')"
denied "$Q" "query role: cannot UPDATE an alert's score (only the ack columns)" "UPDATE txw_data.alerts SET score = 0"
denied "$Q" "query role: cannot INSERT or DELETE alerts" "DELETE FROM txw_data.alerts"
denied "$Q" "query role: cannot rewind the audit ids (setval)" "SELECT setval ('txw_data.audit_id_seq', 1)"
denied "$Q" "query role: cannot switch the audit trigger off" "ALTER TABLE txw_data.audit DISABLE TRIGGER audit_no_change"
denied "$Q" "query role: cannot change a key's role or hash (only revocation)" \
    "UPDATE txw_data.api_keys SET role = 'admin'"
denied "$Q" "query role: cannot delete API keys" "DELETE FROM txw_data.api_keys"
denied "$Q" "query role: cannot CREATE TABLE in txw" "CREATE TABLE txw.x (a int)"
denied "$Q" "query role: cannot CREATE TABLE in txw_data" "CREATE TABLE txw_data.x (a int)"
denied "$Q" "query role: cannot CREATE TABLE in public" "CREATE TABLE public.x (a int)"
denied "$Q" "query role: cannot CREATE a view or function in txw" "CREATE VIEW txw.v AS SELECT 1"
denied "$Q" "query role: cannot CREATE SCHEMA" "CREATE SCHEMA x"
denied "$Q" "query role: cannot DROP a table" "DROP TABLE txw_data.transactions"
denied "$Q" "query role: cannot DROP a view" "DROP VIEW txw.alerts"
denied "$Q" "query role: cannot ALTER a table" "ALTER TABLE txw_data.alerts ADD COLUMN x int"
denied "$Q" "query role: cannot replace a view" "CREATE OR REPLACE VIEW txw.alerts AS SELECT 1 AS x"
denied "$Q" "query role: cannot GRANT itself a group" "GRANT txw_store TO txw_query"
denied "$Q" "query role: cannot move itself to another group through ensure_login" \
    "SELECT txw_data.ensure_login ('txw_query', 'txw_store', NULL)"
denied "$Q" "query role: cannot give itself role attributes" "ALTER ROLE txw_query CREATEROLE"
denied "$Q" "query role: cannot read the scorer's checkpoints" "SELECT * FROM txw_data.scorer_state"
denied "$Q" "query role: cannot read the de-duplication hashes or their keys" "SELECT * FROM txw_data.tx_seen_key"
allowed "$Q" "query role: reads every view" \
    "SELECT (SELECT count(*) FROM txw.window_totals) + (SELECT count(*) FROM txw.transactions)
          + (SELECT count(*) FROM txw.alerts) + (SELECT count(*) FROM txw.accounts)
          + (SELECT count(*) FROM txw.dead_letters)"
allowed "$Q" "query role: acks with its audit row, as the API does" \
    "WITH changed AS (UPDATE txw_data.alerts SET acked_at = now (), acked_by = 'r', acked_key = '$KEY_ID',
         disposition = 'suspicious', note = 'n' WHERE dedupe_key = 'fraud:tx-r1' AND acked_at IS NULL
         RETURNING alert_id, dedupe_key), logged AS (
     INSERT INTO txw_data.audit (principal, name, role, action, target, client, detail)
     SELECT '$KEY_ID', 'root', 'admin', 'alert.ack', changed.dedupe_key, 'psql', '{}' FROM changed)
     SELECT count(*) FROM changed"
allowed "$Q" "query role: adds to and reads the audit log" \
    "INSERT INTO txw_data.audit (principal, action) VALUES ('$KEY_ID', 'test'); SELECT count(*) FROM txw_data.audit"
allowed "$Q" "query role: reads, makes and revokes API keys" \
    "SELECT count(*) FROM txw_data.api_keys;
     INSERT INTO txw_data.api_keys (key_id, name, role, secret_hash, created_by)
     VALUES ('00000000000000aa', 'x', 'viewer', decode (repeat ('00', 32), 'hex'), 'test');
     UPDATE txw_data.api_keys SET revoked_at = now (), revoked_by = 'test' WHERE key_id = '00000000000000aa'"

# The pipeline's roles.
A=$AGG_URL
denied "$A" "aggregator role: cannot read API keys" "SELECT key_id FROM txw_data.api_keys"
denied "$A" "aggregator role: cannot make API keys" \
    "INSERT INTO txw_data.api_keys (key_id, name, role, secret_hash, created_by)
     VALUES ('00000000000000bb', 'x', 'admin', decode (repeat ('00', 32), 'hex'), 'x')"
denied "$A" "aggregator role: cannot write the audit log" "INSERT INTO txw_data.audit (principal, action) VALUES ('x', 'x')"
denied "$A" "aggregator role: cannot ack (alerts are inserted, never changed)" "UPDATE txw_data.alerts SET acked_at = now ()"
denied "$A" "aggregator role: cannot DELETE alerts" "DELETE FROM txw_data.alerts"
denied "$A" "aggregator role: cannot DELETE or UPDATE stored transactions" "DELETE FROM txw_data.transactions"
denied "$A" "aggregator role: cannot DELETE windows" "DELETE FROM txw_data.windows"
denied "$A" "aggregator role: cannot TRUNCATE the de-duplication hashes" "TRUNCATE txw_data.tx_seen"
denied "$A" "aggregator role: cannot create a partition itself (only through ensure_partition)" \
    "CREATE TABLE txw_data.transactions_20310102 PARTITION OF txw_data.transactions
     FOR VALUES FROM ('2031-01-02') TO ('2031-01-03')"
denied "$A" "aggregator role: cannot CREATE TABLE in txw_data" "CREATE TABLE txw_data.x (a int)"
denied "$A" "aggregator role: cannot read the scorer's checkpoints or the notifier's cursor" \
    "SELECT * FROM txw_data.notifier_cursor"
allowed "$A" "aggregator role: creates a day's partition through ensure_partition" \
    "SELECT txw_data.ensure_partition (date '2031-01-01')"
S=$SCO_URL
denied "$S" "scorer role: cannot read stored transactions" "SELECT count(*) FROM txw_data.transactions"
denied "$S" "scorer role: cannot write transactions" "INSERT INTO txw_data.transactions $TX_COLS VALUES $TX_ROW"
denied "$S" "scorer role: cannot touch API keys" "SELECT key_id FROM txw_data.api_keys"
allowed "$S" "scorer role: reads and writes its checkpoints" \
    "INSERT INTO txw_data.scorer_state (consumer, account_hash, layout, state) VALUES ('scorer-9', 1, 1, '')
     ON CONFLICT (consumer, account_hash) DO UPDATE SET state = excluded.state;
     SELECT count(*) FROM txw_data.scorer_state"
allowed "$S" "scorer role: adds audit rows (of its reloads)" \
    "INSERT INTO txw_data.audit (principal, role, action) VALUES ('service:scorer-9', 'service', 'scorer.reload')"
denied "$S" "scorer role: cannot read the audit log" "SELECT count(*) FROM txw_data.audit"
V=$VAL_URL
denied "$V" "validator role: cannot read stored transactions" "SELECT count(*) FROM txw_data.transactions"
denied "$V" "validator role: cannot read dead letters back (it only adds them)" "SELECT count(*) FROM txw_data.dead_letters"
denied "$V" "validator role: cannot write alerts" \
    "INSERT INTO txw_data.alerts (dedupe_key, kind, ts, score, raised_at) VALUES ('x', 'fraud', now (), 1, now ())"
denied "$V" "validator role: cannot touch API keys" "SELECT key_id FROM txw_data.api_keys"

# The gateway's, the notifier's and the reader's.
G=$GW_URL
allowed "$G" "gateway role: reads what checking a key needs" \
    "SELECT name, role, secret_hash FROM txw_data.api_keys WHERE key_id = '$KEY_ID' AND revoked_at IS NULL"
denied "$G" "gateway role: cannot read the other columns of API keys" "SELECT created_by FROM txw_data.api_keys"
denied "$G" "gateway role: cannot make or revoke API keys" "UPDATE txw_data.api_keys SET revoked_at = now ()"
denied "$G" "gateway role: cannot ack" "UPDATE txw_data.alerts SET acked_at = now ()"
denied "$G" "gateway role: cannot read transactions" "SELECT count(*) FROM txw.transactions"
denied "$G" "gateway role: cannot read the audit log" "SELECT count(*) FROM txw_data.audit"
N=$NT_URL
denied "$N" "notifier role: cannot INSERT alerts" \
    "INSERT INTO txw_data.alerts (dedupe_key, kind, ts, score, raised_at) VALUES ('x', 'fraud', now (), 1, now ())"
denied "$N" "notifier role: cannot UPDATE alerts" "UPDATE txw_data.alerts SET acked_at = now ()"
denied "$N" "notifier role: cannot DELETE alerts" "DELETE FROM txw_data.alerts"
denied "$N" "notifier role: cannot touch API keys" "SELECT key_id FROM txw_data.api_keys"
allowed "$N" "notifier role: reads alerts and keeps its cursor" \
    "SELECT max (alert_id) FROM txw_data.alerts;
     INSERT INTO txw_data.notifier_cursor (name, alert_id) VALUES ('psql', 1)
     ON CONFLICT (name) DO UPDATE SET alert_id = excluded.alert_id"
R=$RD_URL
allowed "$R" "reader role: reads every view and the stored transactions (txw-train)" \
    "SELECT (SELECT count(*) FROM txw.window_totals) + (SELECT count(*) FROM txw.alerts)
          + (SELECT count(*) FROM txw.dead_letters) + (SELECT count(*) FROM txw_data.transactions)"
denied "$R" "reader role: cannot write anything (an alert's ack)" "UPDATE txw_data.alerts SET acked_at = now ()"
denied "$R" "reader role: cannot read API keys" "SELECT key_id FROM txw_data.api_keys"
denied "$R" "reader role: cannot read the audit log" "SELECT count(*) FROM txw_data.audit"
# No login of a service can change the audit log (an audit row to aim at).
sql "INSERT INTO txw_data.audit (principal, action) VALUES ('owner', 'test')" >/dev/null
for url in "$AGG_URL" "$SCO_URL" "$VAL_URL" "$QRY_URL" "$GW_URL" "$NT_URL" "$RD_URL"; do
    who=$(psql "$url" -qAtX -c 'SELECT current_user')
    for op in "UPDATE txw_data.audit SET action = 'x'" "DELETE FROM txw_data.audit" "TRUNCATE txw_data.audit"; do
        denied "$url" "$who: cannot ${op%% *} the audit log" "$op"
    done
done
# The owner too cannot change the audit log: the trigger of 011.
owner_refused() {   # OPERATION SQL
    psql "$OWNER" -qAtX -c "$2" 2>&1 | grep -q "append-only: $1 refused"
}
check "even the owner cannot UPDATE audit rows (011's trigger)" owner_refused UPDATE "UPDATE txw_data.audit SET action = 'x'"
check "even the owner cannot DELETE audit rows" owner_refused DELETE "DELETE FROM txw_data.audit"
check "even the owner cannot TRUNCATE the audit log" owner_refused TRUNCATE "TRUNCATE txw_data.audit"

# --- migrating is the owner's ----------------------------------------------------------
migrate svc_current "$AGG_URL"
check "a service's role passes the migrate step when the schema is current (nothing to do)" \
    test $? -eq 0
sql "DELETE FROM txw_data.schema_migrations WHERE version = 12" >/dev/null
migrate svc_pending "$AGG_URL"
check "with a migration pending, a service's role fails the migrate step" test $? -eq 1
check "... and says to migrate as the owner" \
    grep -q 'migrations pending, and role txw_aggregator may not apply them.*--migrate-only' "$WORK/svc_pending.log"
sql "INSERT INTO txw_data.schema_migrations (version, name) VALUES (12, '012_roles')" >/dev/null

# --- the services, each as its own login ---------------------------------------------------
python3 "$ROOT/tests/tools/webhook_receiver.py" --port ${P}70 --out "$WORK/hooks.jsonl" \
    >"$WORK/receiver.log" 2>&1 &
PIDS+=($!)
# A rule file, so that SIGHUP reloads it and the scorer audits the reload.
SCORER_ARGS=(--database-url "$SCO_URL" --migrate false --rules "$ROOT/services/scorer/default-rules.json")
# The aggregator keeps the default --migrate true: on the current schema it
# only reads schema_migrations.
DB=$AGG_URL start_stage aggregator $P
DB=$VAL_URL start_stage validator $P --migrate false
start_stage scorer $P
start notifier ${P}96 "$BIN/txw-notifier" --database-url "$NT_URL" --admin-port ${P}96 \
    --webhook-url http://127.0.0.1:${P}70/hook \
    --alert-endpoints tcp://127.0.0.1:${P}12,tcp://127.0.0.1:${P}22
start query ${P}94 "$BIN/txw-query" --database-url "$QRY_URL" --listen 127.0.0.1:${P}80 \
    --admin-port ${P}94 --key-cache-ms 0 --cache-ttl-ms 0
mkdir -p "$WORK/www"
start gateway ${P}95 "$BIN/txw-gateway" --database-url "$GW_URL" --listen 127.0.0.1:${P}81 \
    --admin-port ${P}95 --document-root "$WORK/www" --key-cache-ms 0 \
    --alert-endpoints tcp://127.0.0.1:${P}12 --window-endpoints tcp://127.0.0.1:${P}22 \
    --dead-letter-endpoints tcp://127.0.0.1:${P}02
ok "aggregator, scorer, validator, notifier, query and gateway start as their own logins"

# A small stream; the producer exits 0 once every record is stored
# (acknowledged by the aggregator and, for dead letters, the validator).
"$BIN/txw-producer" --seed 12 --count 2000 --rate 0 --event-rate 100 --accounts 300 \
    --fraud-rate 0.05 --invalid-rate 0.02 --validator-endpoints tcp://127.0.0.1:${P}01 \
    --ack-endpoints tcp://127.0.0.1:${P}22,tcp://127.0.0.1:${P}02 --admin-port 0 \
    >"$WORK/producer.log" 2>&1
check "the producer's 2000 records are stored and acknowledged (exit 0)" test $? -eq 0
STORED=$(sql "SELECT count(*) FROM txw_data.transactions WHERE tx_id <> 'tx-r1'")
DEAD=$(sql "SELECT count(*) FROM txw_data.dead_letters")
ALERTS=$(sql "SELECT count(*) FROM txw_data.alerts WHERE kind = 'fraud' AND dedupe_key <> 'fraud:tx-r1'")
COUNTED=$(metric ${P}93 txw_records_in_total)
note "stored: $STORED transactions, $ALERTS fraud alerts (the aggregator received ${COUNTED%.*} records), $DEAD dead letters"
check "the aggregator's login stored every transaction and alert it received" \
    test "$STORED" -gt 0 -a "$ALERTS" -gt 0 -a $((STORED + ALERTS)) -eq "${COUNTED%.*}"
check "the validator's login stored dead letters" test "$DEAD" -gt 0
check "the aggregator's login stored windows and account totals" \
    test "$(sql "SELECT (SELECT count(*) FROM txw_data.windows) > 0 AND (SELECT count(*) FROM txw_data.accounts) > 0")" = t
check "the day partitions it made belong to the owner" \
    test "$(sql "SELECT count(*) FILTER (WHERE c.relowner = 'txw'::regrole) || '/' || count(*)
                   FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                  WHERE i.inhparent = 'txw_data.transactions'::regclass")" \
        = "$(sql "SELECT count(*) || '/' || count(*) FROM pg_inherits WHERE inhparent = 'txw_data.transactions'::regclass")"

# The query API with an analyst's key: read, ack, reopen, a transaction.
ANALYST=$(make_key alice analyst)
API=http://127.0.0.1:${P}80/api/v1
call() {   # METHOD PATH [BODY] as KEY (default ANALYST): prints the status, body in $WORK/body
    local body=()
    [ -n "${3:-}" ] && body=(-H 'Content-Type: application/json' --data "$3")
    curl -s -o "$WORK/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${KEY:-$ANALYST}" \
        ${body[@]+"${body[@]}"} "$API$2"
}
field() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/body" "$1"; }
check "GET /alerts as the query login: 200 with the stored alerts" \
    test "$(call GET '/alerts?limit=5')" = 200 -a "$(field 'len(d["alerts"])')" -gt 0
ALERT_ID=$(field 'd["alerts"][0]["id"]')
ALERT_TX=$(sql "SELECT tx_id FROM txw_data.alerts WHERE alert_id = $ALERT_ID")
check "POST /alerts/{id}/ack with the analyst's key: 200, closed with its disposition" \
    test "$(call POST "/alerts/$ALERT_ID/ack" '{"disposition": "false_positive", "note": "checked"}')/$(field 'd["status"] + "/" + d["disposition"]')" \
        = 200/closed/false_positive
check "... stored by the query login, with the key that acked" \
    test "$(sql "SELECT acked_key FROM txw_data.alerts WHERE alert_id = $ALERT_ID")" = "$(cut -d_ -f2 <<<"$ANALYST")"
check "... and its audit row" \
    test "$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'alert.ack' AND detail->>'alert_id' = '$ALERT_ID'")" = 1
check "POST /alerts/{id}/reopen: 200, open again" \
    test "$(call POST "/alerts/$ALERT_ID/reopen")/$(field 'd["status"]')" = 200/open
check "GET /transactions/{id}: 200 (and its read is audited)" \
    test "$(call GET "/transactions/$ALERT_TX")/$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'read.transaction'")" = 200/1
check "GET /stats/realtime and /dead-letters: 200" \
    test "$(call GET /stats/realtime)/$(call GET '/dead-letters?limit=5')" = 200/200
# The admin's key: keys and the audit log.
NEWKEY=$(KEY=$ADMIN call POST /keys '{"name": "bob", "role": "viewer"}')
NEW_ID=$(field 'd["key_id"]')
check "POST /keys as admin: 201, a key made by the query login" test "$NEWKEY" = 201 -a -n "$NEW_ID"
check "DELETE /keys/{id}: 200, revoked" \
    test "$(KEY=$ADMIN call DELETE "/keys/$NEW_ID")/$(field 'd["revoked_at"] is not None')" = 200/True
check "GET /audit as admin: 200, with the key's creation and revocation" \
    test "$(KEY=$ADMIN call GET '/audit?limit=50')/$(field 'sorted({a["action"] for a in d["audit"]} & {"key.create", "key.revoke"})')" \
        = "200/['key.create', 'key.revoke']"

# The gateway checks WebSocket keys with its login (101: switching protocols).
ws() {   # KEY: the handshake's status
    curl -s -o /dev/null -m 2 -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
        -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
        -H "Authorization: Bearer $1" "http://127.0.0.1:${P}81/ws"
}
check "the gateway's login checks a WebSocket key: the analyst's opens the feed (101)" test "$(ws "$ANALYST")" = 101
KEY=$ADMIN call DELETE "/keys/$(cut -d_ -f2 <<<"$ANALYST")" >/dev/null
check "... and a revoked one is refused (401)" test "$(ws "$ANALYST")" = 401

# The scorer's login adds the audit row of a reload (common/auditlog).
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
kill -HUP "$PID_scorer"
reload_audited() { [ "$(sql "SELECT count(*) FROM txw_data.audit WHERE action = 'scorer.reload'
                              AND principal LIKE 'service:%'")" -gt 0 ]; }
check "the scorer's login writes the audit row of a rule reload (SIGHUP)" wait_for reload_audited

# The notifier read the alerts and keeps its cursor with its login.
cursor_moved() { [ "$(sql "SELECT coalesce (max (alert_id), 0) FROM txw_data.notifier_cursor WHERE name = 'notifier'")" -gt 0 ]; }
check "the notifier's login saved its cursor past the stored alerts" wait_for cursor_moved
check "... and delivered alerts to the webhook" test -s "$WORK/hooks.jsonl"

# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "every service stops cleanly (exit 0)" \
    stop_clean $PID_validator $PID_scorer $PID_aggregator $PID_notifier $PID_query $PID_gateway
check "the scorer's login checkpointed its accounts" \
    test "$(sql "SELECT count(*) FROM txw_data.scorer_state WHERE consumer = 'scorer-0'")" -gt 0
no_denial() { ! grep -l 'permission denied\|42501' "$WORK"/{aggregator,scorer,validator,notifier,query,gateway}.log; }
check "no service log has a permission error" no_denial

# --- compose: each service its own login, made by the migrate service ---------------------------
compose_logins() {   # rendered YAML files
    python3 - "$@" <<'PY'
import re, sys, urllib.parse
import yaml
GROUP = {'aggregator': 'txw_store', 'scorer': 'txw_score', 'validator': 'txw_ingest',
         'query': 'txw_api', 'gateway': 'txw_push', 'notifier': 'txw_notify', 'maint': 'txw_maint',
         'rescore': 'txw_rescore', 'ingest': 'txw_post'}
bad = 0
def fail(msg):
    global bad
    bad = 1
    print('# ' + msg)
for path in sys.argv[1:]:
    services = yaml.safe_load(open(path))['services']
    env = lambda s: services[s].get('environment') or {}
    owner = services['postgres']['environment']['POSTGRES_USER']
    mig = env('migrate')
    if urllib.parse.urlsplit(mig.get('TXW_DATABASE_URL', '')).username != owner:
        fail(f'{path}: migrate does not connect as the owner {owner}')
    made = {}
    for item in (mig.get('TXW_LOGIN_ROLES') or '').split():
        group, _, url = item.partition('=')
        made[url] = group
    users = {}
    for name, svc in services.items():
        url = env(name).get('TXW_DATABASE_URL')
        if name == 'migrate' or not url:
            continue
        kind = re.sub(r'-\d+$', '', name)
        user = urllib.parse.urlsplit(url).username
        if user == owner:
            fail(f'{path}: {name} connects as the owner')
        if env(name).get('TXW_MIGRATE') != 'false' and kind in ('aggregator', 'scorer', 'validator'):
            fail(f'{path}: {name} does not run with TXW_MIGRATE=false')
        if made.get(url) != GROUP.get(kind):
            fail(f'{path}: {name} connects as {user}, which the migrate service does not make in {GROUP.get(kind)}')
        if users.setdefault(kind, user) != user:
            fail(f'{path}: {name} and another {kind} connect as different logins')
    if len(set(users.values())) != len(users):
        fail(f'{path}: two kinds of service share a login: {users}')
    if set(made) - {url for s in services for url in [env(s).get('TXW_DATABASE_URL')] if s != 'migrate'}:
        fail(f'{path}: the migrate service makes a login no service uses')
sys.exit(bad)
PY
}
if command -v docker-compose >/dev/null; then
    (cd "$ROOT/deploy" && docker-compose -f docker-compose.yml config >"$WORK/compose.yml" 2>"$WORK/compose.err" \
        && docker-compose -f docker-compose.yml -f docker-compose.shards.yml --profile notifier config \
            >"$WORK/compose-shards.yml" 2>>"$WORK/compose.err")
    check "compose: every database service connects as its own login, which migrate makes in the right group" \
        compose_logins "$WORK/compose.yml" "$WORK/compose-shards.yml"
else
    ok "# SKIP compose check: docker-compose is not installed"
fi
