/*  api_alerts - the alerts and their acknowledgement

    GET /api/v1/alerts lists them; POST /api/v1/alerts/{id}/ack, the API's
    one write, marks an open alert acknowledged. The alert object
    (qapi_alert_table) is also what the region health lists.                 */

#include "api_private.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define S_DAY_MS    86400000LL
#define S_KEY_MAX   128         //  alert keys: "region_health:" + region + ":" + ms
#define S_BY_MAX    64

static const qapi_column_t s_alert_columns [] = {
    { "id", QAPI_INT }, { "key", QAPI_TEXT }, { "kind", QAPI_TEXT }, { "tx_id", QAPI_TEXT },
    { "ts", QAPI_TIME }, { "account_id", QAPI_TEXT }, { "score", QAPI_INT },
    { "reasons", QAPI_CODES }, { "amount_minor", QAPI_INT }, { "currency", QAPI_TEXT },
    { "amount_rep_minor", QAPI_INT }, { "merchant_id", QAPI_TEXT }, { "country", QAPI_TEXT },
    { "channel", QAPI_TEXT }, { "region", QAPI_TEXT }, { "message", QAPI_TEXT },
    { "model_version", QAPI_TEXT }, { "raised_at", QAPI_TIME }, { "status", QAPI_TEXT },
    { "acked_at", QAPI_TIME }, { "acked_by", QAPI_TEXT }
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
    return qapi_list_answer (res, "alerts", &qapi_alert_table, out);
}

//  --- POST /api/v1/alerts/{id}/ack ---------------------------------------------------

//  Reads the optional {"by": "..."} body of an ack. Returns 0 or -1.
static int
s_ack_by (const qrequest_t *req, char *by, size_t size, qerror_t *err)
{
    snprintf (by, size, "api");
    size_t len = req->body_len;
    const char *p = req->body;
    while (len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        len--;
    }
    if (!len)
        return 0;
    json_error_t error;
    json_t *body = json_loadb (p, len, JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object (body)) {
        json_decref (body);
        return qerror_set (err, "body", "must be a JSON object such as {\"by\":\"alice\"}");
    }
    const char *name;
    json_t *value;
    int rc = 0;
    json_object_foreach (body, name, value) {
        if (strcmp (name, "by"))
            rc = qerror_set (err, name, "unknown field in the body");
        else
        if (!json_is_string (value) || !qparams_text_valid (json_string_value (value), S_BY_MAX))
            rc = qerror_set (err, "by", "must be a string of 1 to %d bytes without control characters",
                             S_BY_MAX);
        else
            snprintf (by, size, "%s", json_string_value (value));
        if (rc)
            break;
    }
    json_decref (body);
    return rc;
}

int
qapi_ack (qapi_t *api, const qrequest_t *req, json_t **out)
{
    qerror_t err;
    char by [S_BY_MAX + 1];
    const char *id = req->arg;
    size_t digits = strspn (id, "0123456789");
    bool numeric = digits > 0 && digits <= 18 && !id [digits];
    if (!numeric && !qparams_text_valid (id, S_KEY_MAX)) {
        qerror_set (&err, "id", "must be an alert id or key of at most %d bytes", S_KEY_MAX);
        return qapi_bad_parameter (&err, out);
    }
    if (s_ack_by (req, by, sizeof by, &err))
        return qapi_bad_parameter (&err, out);
    const char *values [] = { id, by };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return qapi_db_error (&perr, out);
    //  Only an open alert changes: acking twice keeps the first ack.
    PGresult *res = qpool_query (api->pool, conn, numeric?
        "UPDATE txw_data.alerts SET acked_at = now(), acked_by = $2"
        " WHERE alert_id = $1::bigint AND acked_at IS NULL":
        "UPDATE txw_data.alerts SET acked_at = now(), acked_by = $2"
        " WHERE dedupe_key = $1 AND acked_at IS NULL", 2, values, &perr);
    bool updated = res != NULL;
    PQclear (res);
    res = NULL;
    if (updated)
        res = qpool_query (api->pool, conn, numeric?
            "SELECT " QAPI_ALERT_COLUMNS " FROM txw.alerts WHERE alert_id = $1::bigint":
            "SELECT " QAPI_ALERT_COLUMNS " FROM txw.alerts WHERE key = $1", 1, values, &perr);
    qpool_checkin (api->pool, conn);
    if (!res)
        return qapi_db_error (&perr, out);
    return qapi_one_row (res, &qapi_alert_table, "alert", id, out);
}
