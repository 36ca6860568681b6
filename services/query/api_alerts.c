/*  api_alerts - the alerts and their acknowledgement

    GET /api/v1/alerts lists them; POST /api/v1/alerts/{id}/ack marks an
    open alert acknowledged by the caller's key, with the analyst's
    disposition and note, and /reopen opens it again. Each change writes
    its audit row in the same statement, so neither exists without the
    other. The alert object
    (qapi_alert_table) is also what the region health lists.                 */

#include "api_private.h"
#include "codec.h"
#include "pii.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DAY_MS    86400000LL
#define S_KEY_MAX   128         //  alert keys: "region_health:" + region + ":" + ms
#define S_NOTE_MAX  1000

static const qapi_column_t s_alert_columns [] = {
    { "id", QAPI_INT }, { "key", QAPI_TEXT }, { "kind", QAPI_TEXT }, { "tx_id", QAPI_TEXT },
    { "ts", QAPI_TIME }, { "account_id", QAPI_TEXT }, { "score", QAPI_INT },
    { "reasons", QAPI_CODES }, { "amount_minor", QAPI_INT }, { "currency", QAPI_TEXT },
    { "amount_rep_minor", QAPI_INT }, { "merchant_id", QAPI_TEXT }, { "country", QAPI_TEXT },
    { "channel", QAPI_TEXT }, { "region", QAPI_TEXT }, { "message", QAPI_TEXT },
    { "model_version", QAPI_TEXT }, { "raised_at", QAPI_TIME }, { "status", QAPI_TEXT },
    { "acked_at", QAPI_TIME }, { "acked_by", QAPI_TEXT }, { "disposition", QAPI_TEXT },
    { "note", QAPI_TEXT }
};
_Static_assert (QAPI_COUNT (s_alert_columns) <= QAPI_COLUMNS_MAX, "alert table too wide");
const qapi_table_t qapi_alert_table = QAPI_TABLE (s_alert_columns);

//  --- GET /api/v1/alerts -----------------------------------------------------------

int
qapi_alerts (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "since", "min_score", "status", "kind", "limit", NULL };
    static const char *const statuses [] = { "open", "acked", NULL };
    static const char *const kinds [] = { "fraud", "region_health", NULL };
    qparams_t params;
    qerror_t err;
    int64_t since_ms, min_score, limit;
    int status_i, kind_i;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_time (&params, "since", req->now_ms - S_DAY_MS, &since_ms, &err)
    ||  qparams_int (&params, "min_score", 0, 0, 100, &min_score, &err)
    ||  qparams_enum (&params, "status", statuses, -1, &status_i, &err)
    ||  qparams_enum (&params, "kind", kinds, -1, &kind_i, &err)
    ||  qparams_int (&params, "limit", 50, 1, 1000, &limit, &err))
        return qapi_bad_parameter (&err, out);
    char since [RFC3339_SIZE], score_text [24], limit_text [24];
    qapi_param_time (since, since_ms);
    qapi_param_int (score_text, sizeof score_text, min_score);
    qapi_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { since, score_text, status_i < 0? NULL: statuses [status_i],
                              kind_i < 0? NULL: kinds [kind_i], limit_text };
    int status;
    PGresult *res = qapi_query1 (api,
        "SELECT " QAPI_ALERT_COLUMNS " FROM txw.alerts"
        " WHERE raised_at >= $1::timestamptz AND score >= $2::int"
        " AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR kind = $4)"
        " ORDER BY raised_at DESC, alert_id DESC LIMIT $5::int", 5, values, &status, out);
    if (!res)
        return status;
    status = qapi_list_answer (res, "alerts", &qapi_alert_table, out);
    if (req->who->role < TXW_ROLE_ANALYST)
        qapi_alerts_mask (json_object_get (*out, "alerts"));
    return status;
}

void
qapi_alerts_mask (json_t *array)
{
    size_t i;
    json_t *alert;
    json_array_foreach (array, i, alert) {
        const char *account = json_string_value (json_object_get (alert, "account_id"));
        if (account) {
            char masked [TXW_ID_MAX + 8];
            txw_mask_id (account, strlen (account), masked, sizeof masked);
            json_object_set_new (alert, "account_id", json_string (masked));
        }
    }
}

//  --- POST /api/v1/alerts/{id}/ack and /reopen --------------------------------------

static const char *const s_dispositions [] = {
    "confirmed_fraud", "false_positive", "suspicious", "duplicate", "not_actionable", NULL
};

//  Checks an alert id from the path: a number or a key. Returns 0, or 400.
static int
s_alert_id (const char *id, bool *numeric, json_t **out)
{
    qerror_t err;
    size_t digits = strspn (id, "0123456789");
    *numeric = digits > 0 && digits <= 18 && !id [digits];
    if (!*numeric && !qparams_text_valid (id, S_KEY_MAX)) {
        qerror_set (&err, "id", "must be an alert id or key of at most %d bytes", S_KEY_MAX);
        return qapi_bad_parameter (&err, out);
    }
    return 0;
}

//  Reads the optional {"disposition": ..., "note": ...} of an ack into
//  disposition (NULL if absent) and note. Returns 0, or 400 with *out set.
static int
s_ack_body (const qrequest_t *req, const char **disposition, char *note, size_t size,
            json_t **out)
{
    static const char *const allowed [] = { "disposition", "note", NULL };
    qerror_t err;
    int status;
    *disposition = NULL;
    *note = 0;
    //  The acker used to be named in the body: now it is the caller's key.
    if (req->body_len && memmem (req->body, req->body_len, "\"by\"", 4)) {
        qerror_set (&err, "by", "the acker is the caller's API key; \"by\" is not accepted");
        return qapi_bad_parameter (&err, out);
    }
    json_t *body = qapi_body_object (req, allowed, &status, out);
    if (!body)
        return status;
    int rc = 0;
    //  null is the same as absent.
    json_t *value = json_object_get (body, "disposition");
    if (value && !json_is_null (value)) {
        const char *text = json_string_value (value);
        for (int i = 0; text && s_dispositions [i]; i++)
            if (!strcmp (text, s_dispositions [i]))
                *disposition = s_dispositions [i];
        if (!*disposition)
            rc = qerror_set (&err, "disposition", "must be one of confirmed_fraud, false_positive,"
                             " suspicious, duplicate, not_actionable");
    }
    value = json_object_get (body, "note");
    if (!rc && value && !json_is_null (value)) {
        if (!json_is_string (value) || !qparams_text_valid (json_string_value (value), (int) size - 1))
            rc = qerror_set (&err, "note", "must be a string of 1 to %d bytes without control"
                             " characters", (int) size - 1);
        else
            snprintf (note, size, "%s", json_string_value (value));
    }
    json_decref (body);
    return rc? qapi_bad_parameter (&err, out): 0;
}

//  Runs change (an UPDATE of txw_data.alerts ... RETURNING alert_id,
//  dedupe_key, with $1 the id) and its audit row in one statement, then
//  reads the alert. An alert the change does not match (already acked, or
//  open when reopening) is answered as it is, without an audit row.
static int
s_alert_change (qapi_t *api, const qrequest_t *req, bool numeric, const char *change,
                const char *action, const char *const *values, int nvalues, json_t **out)
{
    char sql [1536];
    snprintf (sql, sizeof sql,
        "WITH changed AS (%s), logged AS ("
        " INSERT INTO txw_data.audit (principal, name, role, action, target, client, detail)"
        " SELECT $%d, $%d, $%d, '%s', changed.dedupe_key, $%d,"
        "  jsonb_build_object ('alert_id', changed.alert_id) || $%d::jsonb FROM changed)"
        " SELECT count(*) FROM changed", change, nvalues + 1, nvalues + 2, nvalues + 3, action,
        nvalues + 4, nvalues + 5);
    const char *params [12];
    for (int i = 0; i < nvalues; i++)
        params [i] = values [i];
    params [nvalues] = req->who->key_id;
    params [nvalues + 1] = req->who->name;
    params [nvalues + 2] = txw_role_name (req->who->role);
    params [nvalues + 3] = req->client;
    params [nvalues + 4] = values [nvalues];      //  the detail
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return qapi_db_error (&perr, out);
    PGresult *res = qpool_query (api->pool, conn, sql, nvalues + 5, params, &perr);
    bool done = res != NULL;
    PQclear (res);
    res = NULL;
    if (done)
        res = qpool_query (api->pool, conn, numeric?
            "SELECT " QAPI_ALERT_COLUMNS " FROM txw.alerts WHERE alert_id = $1::bigint":
            "SELECT " QAPI_ALERT_COLUMNS " FROM txw.alerts WHERE key = $1", 1, values, &perr);
    qpool_checkin (api->pool, conn);
    if (!res)
        return qapi_db_error (&perr, out);
    return qapi_one_row (res, &qapi_alert_table, "alert", values [0], out);
}

int
qapi_ack (qapi_t *api, const qrequest_t *req, json_t **out)
{
    bool numeric;
    const char *disposition;
    char note [S_NOTE_MAX + 1];
    int status = s_alert_id (req->arg, &numeric, out);
    if (status || (status = s_ack_body (req, &disposition, note, sizeof note, out)))
        return status;
    json_t *detail = json_pack ("{s:s*,s:s*}", "disposition", disposition,
                                "note", *note? note: NULL);
    char *detail_text = detail? json_dumps (detail, JSON_COMPACT): NULL;
    json_decref (detail);
    const char *values [] = { req->arg, req->who->name, req->who->key_id, disposition,
                              *note? note: NULL, detail_text? detail_text: "{}" };
    //  Only an open alert changes: acking twice keeps the first ack.
    status = s_alert_change (api, req, numeric, numeric?
        "UPDATE txw_data.alerts SET acked_at = now(), acked_by = $2, acked_key = $3,"
        " disposition = $4, note = $5 WHERE alert_id = $1::bigint AND acked_at IS NULL"
        " RETURNING alert_id, dedupe_key":
        "UPDATE txw_data.alerts SET acked_at = now(), acked_by = $2, acked_key = $3,"
        " disposition = $4, note = $5 WHERE dedupe_key = $1 AND acked_at IS NULL"
        " RETURNING alert_id, dedupe_key", "alert.ack", values, 5, out);
    free (detail_text);
    return status;
}

int
qapi_reopen (qapi_t *api, const qrequest_t *req, json_t **out)
{
    bool numeric;
    int status = s_alert_id (req->arg, &numeric, out);
    if (status)
        return status;
    const char *values [] = { req->arg, "{}" };
    return s_alert_change (api, req, numeric, numeric?
        "UPDATE txw_data.alerts SET acked_at = NULL, acked_by = NULL, acked_key = NULL,"
        " disposition = NULL, note = NULL WHERE alert_id = $1::bigint AND acked_at IS NOT NULL"
        " RETURNING alert_id, dedupe_key":
        "UPDATE txw_data.alerts SET acked_at = NULL, acked_by = NULL, acked_key = NULL,"
        " disposition = NULL, note = NULL WHERE dedupe_key = $1 AND acked_at IS NOT NULL"
        " RETURNING alert_id, dedupe_key", "alert.reopen", values, 1, out);
}
