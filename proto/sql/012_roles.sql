-- 012_roles: least privilege - one group role per service, granted only what it uses
--
-- The role that applies the migrations (the owner) owns every object and
-- is the only one that changes the schema. Each service logs in as a role
-- of its own that is a member of one of these NOLOGIN groups, and the
-- group holds exactly the privileges that service's statements need
-- (proto/SQL.md, "Roles", has the table; tests/e2e/dbroles.sh compares the
-- catalogue with it). Nothing here is ALL, no group may CREATE in a schema,
-- and none gets TRUNCATE, REFERENCES or TRIGGER.
--
-- THE RULE FOR LATER MIGRATIONS: grants are not inherited by new objects
-- (no ALTER DEFAULT PRIVILEGES: those apply only to objects made by the
-- role that set them, and the owner may differ between deployments). A
-- migration that adds a table, view, sequence or function grants, in the
-- same file, what each group needs on it (and revokes EXECUTE from PUBLIC
-- on a function that is not a trigger's), and adds its row to the table in
-- proto/SQL.md, which tests/e2e/dbroles.sh holds the catalogue to.
--
-- Roles belong to the cluster, not the database: they are made only when
-- missing, so a DBA may make them beforehand (then the owner needs no
-- CREATEROLE). Group roles:
--   txw_store   txw-aggregator: transactions, windows, accounts, alerts, checkpoints
--   txw_score   txw-scorer: its per-account checkpoints; audit rows of its reloads
--   txw_ingest  txw-validator: dead letters
--   txw_api     txw-query: reads the views; acks alerts; API keys; the audit log
--   txw_push    txw-gateway: reads alerts and windows; checks API keys
--   txw_notify  txw-notifier: reads alerts; its cursor
--   txw_read    dashboards, BI tools, txw-train: reads the views (and transactions)
DO $$
DECLARE
    groups text [] := ARRAY ['txw_store', 'txw_score', 'txw_ingest', 'txw_api',
                             'txw_push', 'txw_notify', 'txw_read'];
    grp text;
    r pg_roles;
BEGIN
    FOREACH grp IN ARRAY groups LOOP
        SELECT * INTO r FROM pg_roles WHERE rolname = grp;
        IF NOT FOUND THEN
            BEGIN
                EXECUTE format ('CREATE ROLE %I NOLOGIN', grp);
            EXCEPTION
                -- Made meanwhile by the migration of another database of
                -- this cluster (the advisory lock is per database).
                WHEN duplicate_object OR unique_violation THEN
                    NULL;
                WHEN insufficient_privilege THEN
                    -- The message says what to do: the services log only it.
                    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                        MESSAGE = format ('cannot create the group role %s: %s may not create roles', grp,
                                          current_user)
                               || ' (give it CREATEROLE, or have a DBA create the groups: proto/SQL.md, "Roles")',
                        HINT = 'Give the owner CREATEROLE, or have a DBA run CREATE ROLE '
                                  || array_to_string (groups, ' NOLOGIN; CREATE ROLE ')
                                  || ' NOLOGIN; then migrate again (proto/SQL.md, "Roles").';
            END;
        ELSIF r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb
           OR r.rolreplication OR r.rolbypassrls THEN
            -- Every member would inherit more than its service needs.
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format ('the role %s exists but is not a plain NOLOGIN group role', grp)
                       || ' (a DBA must make it NOLOGIN without other attributes)',
                HINT = 'ALTER ROLE ' || grp || ' NOLOGIN NOSUPERUSER NOCREATEROLE'
                          || ' NOCREATEDB NOREPLICATION NOBYPASSRLS, then migrate again.';
        END IF;
    END LOOP;

    -- PUBLIC has CONNECT by default; granted here too so that a DBA may
    -- revoke it from PUBLIC. Only the database's owner may grant it: for
    -- another owner it stays PUBLIC's.
    BEGIN
        EXECUTE format ('GRANT CONNECT ON DATABASE %I TO %s', current_database (),
                        (SELECT string_agg (quote_ident (g), ', ') FROM unnest (groups) g));
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'CONNECT on database % stays as it is: % does not own it',
            current_database (), current_user;
    END;
END $$;

-- The schemas: USAGE only, CREATE for nobody but the owner.
GRANT USAGE ON SCHEMA txw TO txw_api, txw_push, txw_read;
GRANT USAGE ON SCHEMA txw_data TO txw_store, txw_score, txw_ingest, txw_api, txw_push,
    txw_notify, txw_read;

-- Services started with --migrate (the default) first look whether every
-- migration is applied, and stop there when it is (common/pgutil.c).
GRANT SELECT ON txw_data.schema_migrations TO txw_store, txw_score, txw_ingest;

-- --- The stable views ------------------------------------------------------
GRANT SELECT ON txw.window_totals, txw.transactions, txw.alerts, txw.accounts,
    txw.dead_letters TO txw_api, txw_read;
GRANT SELECT ON txw.alerts TO txw_push;

-- --- txw-aggregator -------------------------------------------------------
-- Its stage tables copy the columns of these (CREATE TEMP TABLE ... LIKE
-- needs SELECT); windows and accounts are upserts, tx_seen is trimmed.
GRANT SELECT, INSERT ON txw_data.transactions TO txw_store;
GRANT SELECT, INSERT, UPDATE ON txw_data.windows, txw_data.accounts,
    txw_data.checkpoints, txw_data.shard_state TO txw_store;
GRANT SELECT, INSERT, DELETE ON txw_data.tx_seen TO txw_store;
GRANT SELECT, INSERT ON txw_data.tx_seen_key TO txw_store;
-- Alerts are inserted once (ON CONFLICT (dedupe_key) DO NOTHING), never changed.
GRANT SELECT (dedupe_key), INSERT ON txw_data.alerts TO txw_store;
GRANT USAGE ON SEQUENCE txw_data.alerts_alert_id_seq TO txw_store;
-- The aggregator also stores the dead letters of rows the database refused.
GRANT INSERT ON txw_data.dead_letters TO txw_store, txw_ingest;
GRANT USAGE ON SEQUENCE txw_data.dead_letters_id_seq TO txw_store, txw_ingest;

-- A day's partition is created by the aggregator as it meets the day, but
-- creating a partition takes owning the partitioned table: the function
-- runs with its owner's rights, only for txw_store, on a fixed search
-- path (it names everything by schema; pg_temp last so nothing a caller
-- makes can stand in for a catalogue object).
ALTER FUNCTION txw_data.ensure_partition (date) SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
REVOKE EXECUTE ON FUNCTION txw_data.ensure_partition (date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION txw_data.ensure_partition (date) TO txw_store;

-- --- txw-scorer -----------------------------------------------------------
GRANT SELECT, INSERT, UPDATE ON txw_data.scorer_state TO txw_score;
-- It records its rule and model reloads in the audit log (common/auditlog):
-- adds rows, reads none.
GRANT INSERT ON txw_data.audit TO txw_score;
GRANT USAGE ON SEQUENCE txw_data.audit_id_seq TO txw_score;

-- --- txw-query --------------------------------------------------------------
-- An ack or reopen is an UPDATE of these five columns (its WHERE and
-- RETURNING read alert_id, dedupe_key and acked_at), with its audit row.
GRANT SELECT, UPDATE (acked_at, acked_by, acked_key, disposition, note)
    ON txw_data.alerts TO txw_api;
-- API keys: checked, listed, made and revoked (never deleted: 011).
GRANT SELECT, INSERT, UPDATE (revoked_at, revoked_by) ON txw_data.api_keys TO txw_api;
-- The audit log: added to and read, never changed (the trigger of 011
-- refuses that to the owner too).
GRANT SELECT, INSERT ON txw_data.audit TO txw_api;
GRANT USAGE ON SEQUENCE txw_data.audit_id_seq TO txw_api;

-- --- txw-gateway ------------------------------------------------------------
-- The stored per-shard windows seed its state; a WebSocket key is checked
-- by id, hash and revocation: it needs no other column of api_keys.
GRANT SELECT ON txw_data.windows TO txw_push;
GRANT SELECT (key_id, name, role, secret_hash, revoked_at) ON txw_data.api_keys TO txw_push;

-- --- txw-notifier ------------------------------------------------------------
GRANT SELECT ON txw_data.alerts TO txw_notify;
GRANT SELECT, INSERT, UPDATE ON txw_data.notifier_cursor TO txw_notify;

-- --- Readers ---------------------------------------------------------------------
-- txw-train replays the stored transactions from the table itself (its row
-- module's columns include the shard, which the view leaves out).
GRANT SELECT ON txw_data.transactions TO txw_read;

-- --- Service logins ----------------------------------------------------------------
-- txw_data.ensure_login (login, group, verifier) makes or updates a LOGIN
-- role that is a member of exactly one txwatch group (and of no other), with
-- the password verifier given (a SCRAM verifier made by the client, so the
-- password itself is never sent or logged; NULL keeps the password as it
-- is). `txw-aggregator --migrate-only --login-roles ...` calls it; a DBA
-- may too. It refuses a group that is not a plain NOLOGIN txw_* role and a
-- login that is the caller or holds rights a service must not have.
-- It runs with the caller's rights (CREATEROLE needed) and only the owner
-- may call it.
CREATE FUNCTION txw_data.ensure_login (login text, grp text, verifier text) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g pg_roles;
    l pg_roles;
    other text;
    made boolean := false;
BEGIN
    SELECT * INTO g FROM pg_roles WHERE rolname = grp;
    IF NOT FOUND OR grp !~ '^txw_[a-z_]+$' OR g.rolcanlogin OR g.rolsuper OR g.rolcreaterole
       OR g.rolcreatedb OR g.rolreplication OR g.rolbypassrls THEN
        RAISE EXCEPTION 'login %: % is not a txwatch group role', login, grp
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF login IS NULL OR login = '' THEN
        RAISE EXCEPTION 'group %: the login has no name', grp
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO l FROM pg_roles WHERE rolname = login;
    IF FOUND THEN
        IF login IN (current_user, session_user) OR l.rolsuper OR l.rolcreaterole
           OR l.rolcreatedb OR l.rolreplication OR l.rolbypassrls THEN
            RAISE EXCEPTION 'refusing to make % a service login: it is the owner or holds rights a service must not have', login
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT l.rolcanlogin THEN
            RAISE EXCEPTION 'refusing to make % a service login: it exists and is not a login (a group?)', login
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSE
        EXECUTE format ('CREATE ROLE %I LOGIN', login);
        made := true;
    END IF;
    IF verifier IS NOT NULL THEN
        EXECUTE format ('ALTER ROLE %I PASSWORD %L', login, verifier);
    END IF;
    -- Exactly one txwatch group: a login moved to another group leaves the old.
    FOR other IN
        SELECT m.rolname FROM pg_auth_members a
          JOIN pg_roles m ON m.oid = a.roleid
          JOIN pg_roles r ON r.oid = a.member
         WHERE r.rolname = login AND m.rolname <> grp AND m.rolname ~ '^txw_[a-z_]+$'
           AND NOT m.rolcanlogin
    LOOP
        EXECUTE format ('REVOKE %I FROM %I', other, login);
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member
                    WHERE a.roleid = g.oid AND r.rolname = login) THEN
        EXECUTE format ('GRANT %I TO %I', grp, login);
    END IF;
    RETURN CASE WHEN made THEN 'created' ELSE 'updated' END;
END $$;

REVOKE EXECUTE ON FUNCTION txw_data.ensure_login (text, text, text) FROM PUBLIC;
