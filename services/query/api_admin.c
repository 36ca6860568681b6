/*  api_admin - who the caller is, API keys and the audit log

    GET /api/v1/whoami answers every role: the dashboard asks it what to
    show. The rest is the admin role's: GET and POST /api/v1/keys list and
    make keys (the new key's text is in the answer once and never again:
    only its hash is stored), DELETE /api/v1/keys/{key_id} revokes one, and
    GET /api/v1/audit reads the audit log, newest first. Every key change
    writes its audit row in the same statement as the change.             */

#include "api_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME_MAX  64

//  --- GET /api/v1/whoami -------------------------------------------------------------

int
qapi_whoami (qapi_t *api, const qrequest_t *req, json_t **out)
{
    (void) api;
    qparams_t params;
    qerror_t err;
    static const char *const allowed [] = { NULL };
    if (qparams_parse (&params, req->query, allowed, &err))
        return qapi_bad_parameter (&err, out);
    *out = json_pack ("{s:s,s:s,s:s}", "key_id", req->who->key_id, "name", req->who->name,
                      "role", txw_role_name (req->who->role));
    return 200;
}

//  --- Keys ---------------------------------------------------------------------------

#define S_KEY_COLUMNS                                                                \
    "key_id, name, role, " QAPI_MS_AS ("created_at", "created_at") ", created_by,"    \
    " " QAPI_MS_AS ("revoked_at", "revoked_at") ", revoked_by"

static const qapi_column_t s_key_columns [] = {
    { "key_id", QAPI_TEXT }, { "name", QAPI_TEXT }, { "role", QAPI_TEXT },
    { "created_at", QAPI_TIME }, { "created_by", QAPI_TEXT }, { "revoked_at", QAPI_TIME },
    { "revoked_by", QAPI_TEXT }
};
static const qapi_table_t s_key_table = QAPI_TABLE (s_key_columns);

int
qapi_keys (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "revoked", NULL };
    static const char *const booleans [] = { "false", "true", NULL };
    qparams_t params;
    qerror_t err;
    int revoked;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "revoked", booleans, 0, &revoked, &err))
        return qapi_bad_parameter (&err, out);
    int status;
    PGresult *res = qapi_query1 (api, revoked?
        "SELECT " S_KEY_COLUMNS " FROM txw_data.api_keys ORDER BY created_at, key_id":
        "SELECT " S_KEY_COLUMNS " FROM txw_data.api_keys WHERE revoked_at IS NULL"
        " ORDER BY created_at, key_id", 0, NULL, &status, out);
    if (!res)
        return status;
    return qapi_list_answer (res, "keys", &s_key_table, out);
}

//  The caller as "created_by"/"revoked_by": its name and key id.
static void
s_caller (const qrequest_t *req, char *buf, size_t size)
{
    snprintf (buf, size, "%s (%s)", req->who->name, req->who->key_id);
}

int
qapi_key_create (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "name", "role", NULL };
    qerror_t err;
    int status;
    json_t *body = qapi_body_object (req, allowed, &status, out);
    if (!body)
        return status;
    const char *name = json_string_value (json_object_get (body, "name"));
    const char *role = json_string_value (json_object_get (body, "role"));
    if (!name || !qparams_text_valid (name, S_NAME_MAX))
        qerror_set (&err, "name", "must be a string of 1 to %d bytes without control characters",
                    S_NAME_MAX);
    else
    if (txw_role_parse (role) == TXW_ROLE_NONE)
        qerror_set (&err, "role", "must be viewer, analyst or admin");
    else
        err.parameter [0] = 0;
    if (err.parameter [0]) {
        json_decref (body);
        return qapi_bad_parameter (&err, out);
    }
    char text [TXW_APIKEY_LEN + 1], hash [2 * TXW_APIKEY_HASH_SIZE + 1], by [96];
    txw_apikey_t key;
    if (txw_apikey_generate (text, sizeof text, &key)) {
        json_decref (body);
        *out = qapi_error ("internal", "cannot make a random key");
        return 500;
    }
    for (int i = 0; i < TXW_APIKEY_HASH_SIZE; i++)
        snprintf (hash + 2 * i, 3, "%02x", key.hash [i]);
    s_caller (req, by, sizeof by);
    const char *values [] = { key.id, name, role, hash, by, req->who->key_id, req->who->name,
                              txw_role_name (req->who->role), req->client };
    PGresult *res = qapi_query1 (api,
        "WITH made AS ("
        " INSERT INTO txw_data.api_keys (key_id, name, role, secret_hash, created_by)"
        " VALUES ($1, $2, $3, decode ($4, 'hex'), $5) RETURNING *), logged AS ("
        " INSERT INTO txw_data.audit (principal, name, role, action, target, client, detail)"
        " SELECT $6, $7, $8, 'key.create', made.key_id, $9,"
        "  jsonb_build_object ('name', made.name, 'role', made.role) FROM made)"
        " SELECT " S_KEY_COLUMNS " FROM made", 9, values, &status, out);
    json_decref (body);
    if (!res)
        return status;
    status = qapi_one_row (res, &s_key_table, "key", key.id, out);
    if (status == 200) {
        json_object_set_new (*out, "key", json_string (text));
        status = 201;
    }
    return status;
}

int
qapi_key_revoke (qapi_t *api, const qrequest_t *req, json_t **out)
{
    const char *id = req->arg;
    if (strlen (id) != TXW_APIKEY_ID_LEN || strspn (id, "0123456789abcdef") != TXW_APIKEY_ID_LEN)
        return qapi_bad_id ("key_id", out);
    char by [96];
    s_caller (req, by, sizeof by);
    const char *values [] = { id, by, req->who->key_id, req->who->name,
                              txw_role_name (req->who->role), req->client };
    int status;
    //  Revoking a revoked key keeps the first revocation and logs nothing.
    PGresult *res = qapi_query1 (api,
        "WITH gone AS ("
        " UPDATE txw_data.api_keys SET revoked_at = now(), revoked_by = $2"
        " WHERE key_id = $1 AND revoked_at IS NULL RETURNING *), logged AS ("
        " INSERT INTO txw_data.audit (principal, name, role, action, target, client, detail)"
        " SELECT $3, $4, $5, 'key.revoke', gone.key_id, $6,"
        "  jsonb_build_object ('name', gone.name, 'role', gone.role) FROM gone)"
        " SELECT " S_KEY_COLUMNS " FROM gone UNION ALL"
        " SELECT " S_KEY_COLUMNS " FROM txw_data.api_keys"
        "  WHERE key_id = $1 AND NOT EXISTS (SELECT 1 FROM gone)", 6, values, &status, out);
    if (!res)
        return status;
    if (api->keys)
        txw_keystore_forget (api->keys, id);
    return qapi_one_row (res, &s_key_table, "key", id, out);
}

//  --- The audit log --------------------------------------------------------------

static const qapi_column_t s_audit_columns [] = {
    { "id", QAPI_INT }, { "at", QAPI_TIME }, { "principal", QAPI_TEXT }, { "name", QAPI_TEXT },
    { "role", QAPI_TEXT }, { "action", QAPI_TEXT }, { "target", QAPI_TEXT },
    { "client", QAPI_TEXT }, { "detail", QAPI_JSON }
};
static const qapi_table_t s_audit_table = QAPI_TABLE (s_audit_columns);

int
qapi_audit (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "action", "principal", "before", "limit", NULL };
    qparams_t params;
    qerror_t err;
    int64_t before, limit;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_int (&params, "before", INT64_MAX, 1, INT64_MAX, &before, &err)
    ||  qparams_int (&params, "limit", 100, 1, 1000, &limit, &err))
        return qapi_bad_parameter (&err, out);
    const char *action = qparams_get (&params, "action");
    const char *principal = qparams_get (&params, "principal");
    char before_text [24], limit_text [24];
    qapi_param_int (before_text, sizeof before_text, before);
    qapi_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { action, principal, before_text, limit_text };
    int status;
    PGresult *res = qapi_query1 (api,
        "SELECT id, " QAPI_MS_AS ("at", "at") ", principal, name, role, action, target, client,"
        " detail::text AS detail FROM txw_data.audit"
        " WHERE ($1::text IS NULL OR action = $1) AND ($2::text IS NULL OR principal = $2)"
        " AND id < $3::bigint ORDER BY id DESC LIMIT $4::int", 4, values, &status, out);
    if (!res)
        return status;
    return qapi_list_answer (res, "audit", &s_audit_table, out);
}

int
qapi_audit_write (qapi_t *api, const qrequest_t *req, const char *action, const char *target,
                  const char *detail, json_t **out)
{
    const char *values [] = { req->who->key_id, req->who->name, txw_role_name (req->who->role),
                              action, target, req->client, detail? detail: "{}" };
    int status;
    PGresult *res = qapi_query1 (api,
        "INSERT INTO txw_data.audit (principal, name, role, action, target, client, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)", 7, values, &status, out);
    if (!res)
        return status;
    PQclear (res);
    return 0;
}
