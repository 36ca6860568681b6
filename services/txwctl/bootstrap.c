/*  bootstrap - the first admin key, straight into PostgreSQL               */

#include "bootstrap.h"
#include "api.h"
#include "apikey.h"
#include "db.h"
#include "keyfile.h"
#include "rfc3339.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_COMMAND   "keys create"

//  Runs sql with params as ctl_db_query does.
static PGresult *
s_query (PGconn *conn, const char *sql, int count, const char *const *values)
{
    return ctl_db_query (conn, S_COMMAND, "011", sql, count, values);
}

//  Runs a statement whose result is not needed; returns 0 or -1 (printed).
static int
s_exec (PGconn *conn, const char *sql)
{
    PGresult *res = s_query (conn, sql, 0, NULL);
    PQclear (res);
    return res? 0: -1;
}

//  Prints what was made: the key on stdout (unless it went to a file),
//  or in json mode the key's row as POST /api/v1/keys answers it.
static void
s_report (PGresult *res, const char *text, const char *out, bool json)
{
    char created [RFC3339_SIZE];
    rfc3339_format (created, sizeof created, strtoll (PQgetvalue (res, 0, 3), NULL, 10));
    const char *key_id = PQgetvalue (res, 0, 0), *name = PQgetvalue (res, 0, 1);
    const char *role = PQgetvalue (res, 0, 2), *by = PQgetvalue (res, 0, 4);
    if (json) {
        json_t *row = json_pack ("{s:s,s:s,s:s,s:s,s:s,s:n,s:n}", "key_id", key_id, "name", name,
                                 "role", role, "created_at", created, "created_by", by,
                                 "revoked_at", "revoked_by");
        if (row && !out)
            json_object_set_new (row, "key", json_string (text));
        char *dump = row? json_dumps (row, JSON_COMPACT): NULL;
        if (dump) {
            printf ("%s\n", dump);
            explicit_bzero (dump, strlen (dump));
        }
        free (dump);
        json_decref (row);
    }
    else
    if (!out)
        printf ("%s\n", text);
    fflush (stdout);
    if (out)
        fprintf (stderr, "txwctl " S_COMMAND ": made %s key %s (%s) as %s, written to %s\n",
                 role, key_id, name, by, out);
    else
        fprintf (stderr, "txwctl " S_COMMAND ": made %s key %s (%s) as %s; the key is shown"
                 " only this once: keep it now\n", role, key_id, name, by);
}

//  Inside the locked transaction: with if_none, whether an active key of
//  role exists (said on stderr); whether the file's old key is active.
//  Returns 0 to go on, 1 to make nothing (exit 0), or an exit code.
static int
s_checks (PGconn *conn, const char *role, bool if_none, ctl_keyfile_t *file, const char *out)
{
    if (if_none) {
        const char *values [] = { role };
        PGresult *res = s_query (conn, "SELECT key_id, name FROM txw_data.api_keys"
                                 " WHERE role = $1 AND revoked_at IS NULL"
                                 " ORDER BY created_at, key_id", 1, values);
        if (!res)
            return CTL_API_ERROR;
        int found = PQntuples (res);
        if (found)
            fprintf (stderr, "txwctl " S_COMMAND ": an active %s key exists (%s, %s%s): none"
                     " made%s%s%s\n", role, PQgetvalue (res, 0, 0), PQgetvalue (res, 0, 1),
                     found > 1? ", ...": "", out? " (nothing written to ": "", out? out: "",
                     out? ")": "");
        PQclear (res);
        if (found)
            return 1;
    }
    if (out && *file->old_id) {
        const char *values [] = { file->old_id };
        PGresult *res = s_query (conn, "SELECT 1 FROM txw_data.api_keys"
                                 " WHERE key_id = $1 AND revoked_at IS NULL", 1, values);
        if (!res)
            return CTL_API_ERROR;
        bool active = PQntuples (res) > 0;
        PQclear (res);
        if (active)
            return ctl_keyfile_refuse_active (file, S_COMMAND);
    }
    return 0;
}

int
ctl_bootstrap_key (const char *database_url, const char *name, const char *role,
                   bool if_none, const char *out, bool json)
{
    ctl_keyfile_t file;
    int rc;
    if (out && (rc = ctl_keyfile_open (&file, S_COMMAND, out)))
        return rc;
    PGconn *conn = ctl_db_connect (S_COMMAND, database_url);
    if (!conn) {
        if (out)
            ctl_keyfile_abort (&file);
        return CTL_API_ERROR;
    }
    char text [TXW_APIKEY_LEN + 1] = "", hash [2 * TXW_APIKEY_HASH_SIZE + 1];
    txw_apikey_t key;
    PGresult *made = NULL;
    rc = CTL_API_ERROR;
    if (s_exec (conn, "BEGIN ISOLATION LEVEL READ COMMITTED")
    ||  s_exec (conn, "LOCK TABLE txw_data.api_keys IN SHARE ROW EXCLUSIVE MODE"))
        goto done;
    int checked = s_checks (conn, role, if_none, &file, out);
    if (checked) {
        rc = checked == 1? CTL_OK: checked;
        goto done;
    }
    if (txw_apikey_generate (text, sizeof text, &key)) {
        fprintf (stderr, "txwctl " S_COMMAND ": cannot make a random key (libsodium)\n");
        goto done;
    }
    for (int i = 0; i < TXW_APIKEY_HASH_SIZE; i++)
        snprintf (hash + 2 * i, 3, "%02x", key.hash [i]);
    if (out && ctl_keyfile_write (&file, S_COMMAND, text)) {
        out = NULL;             //  removed already
        goto done;
    }
    const char *params [] = { key.id, name, role, hash };
    made = s_query (conn,
        "WITH made AS ("
        " INSERT INTO txw_data.api_keys (key_id, name, role, secret_hash, created_by)"
        " VALUES ($1, $2, $3, decode ($4, 'hex'), 'database:' || current_user) RETURNING *),"
        " logged AS ("
        " INSERT INTO txw_data.audit (principal, name, role, action, target, client, detail)"
        " SELECT 'database:' || current_user, current_user, '', 'key.create', made.key_id,"
        "  coalesce (host (inet_client_addr ()), 'local'),"
        "  jsonb_build_object ('name', made.name, 'role', made.role) FROM made)"
        " SELECT key_id, name, role, (extract (epoch FROM created_at) * 1000)::bigint,"
        "  created_by FROM made", 4, params);
    if (!made || PQntuples (made) != 1 || s_exec (conn, "COMMIT"))
        goto done;
    rc = CTL_OK;
    if (out && ctl_keyfile_commit (&file, S_COMMAND))
        rc = CTL_API_ERROR;
    else
        s_report (made, text, out, json);
    out = NULL;                 //  the file is the key's now
done:
    if (out)
        ctl_keyfile_abort (&file);
    PQclear (made);
    PQfinish (conn);            //  without COMMIT, nothing was made
    explicit_bzero (text, sizeof text);
    return rc;
}
