/*  api_alerts - the alert search, and the alert object

    GET /api/v1/alerts searches the alerts newest first, by the time they
    were raised: each filter given adds its condition (qapi_sql_t), and the
    pages follow each other by a keyset cursor on (raised_at, alert_id), so
    an alert raised while a client pages never shifts a page: it is newer
    than every cursor. The alert object (qapi_alert_table) is also what the
    region health lists. Changes of an alert are api_workflow.c's.          */

#include "api_private.h"
#include "codec.h"
#include "pii.h"

#include <string.h>

#define S_DAY_MS    86400000LL
#define S_TEXT_MAX  64          //  an assignee, a region

static const qapi_column_t s_alert_columns [] = {
    { "id", QAPI_INT }, { "key", QAPI_TEXT }, { "kind", QAPI_TEXT }, { "tx_id", QAPI_TEXT },
    { "ts", QAPI_TIME }, { "account_id", QAPI_TEXT }, { "score", QAPI_INT },
    { "reasons", QAPI_CODES }, { "amount_minor", QAPI_INT }, { "currency", QAPI_TEXT },
    { "amount_rep_minor", QAPI_INT }, { "merchant_id", QAPI_TEXT }, { "country", QAPI_TEXT },
    { "channel", QAPI_TEXT }, { "region", QAPI_TEXT }, { "message", QAPI_TEXT },
    { "model_version", QAPI_TEXT }, { "raised_at", QAPI_TIME }, { "status", QAPI_TEXT },
    { "acked_at", QAPI_TIME }, { "acked_by", QAPI_TEXT }, { "disposition", QAPI_TEXT },
    { "note", QAPI_TEXT }, { "severity", QAPI_TEXT }, { "assignee", QAPI_TEXT },
    { "updated_at", QAPI_TIME }
};
_Static_assert (QAPI_COUNT (s_alert_columns) <= QAPI_COLUMNS_MAX, "alert table too wide");
const qapi_table_t qapi_alert_table = QAPI_TABLE (s_alert_columns);

//  --- GET /api/v1/alerts -----------------------------------------------------------

//  The severities from the least; a search for one takes it and those above.
static const char *const s_severities [] = { "low", "medium", "high", "critical", NULL };

//  Reads an optional id-shaped filter (an account, a merchant).
static int
s_id_filter (const qparams_t *params, const char *name, const char **out, qerror_t *err)
{
    *out = qparams_get (params, name);
    if (*out && !qparams_id_valid (*out, TXW_ID_MAX))
        return qerror_set (err, name, "must be 1 to %d characters from [A-Za-z0-9_.:-]",
                           TXW_ID_MAX);
    return 0;
}

int
qapi_alerts (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = {
        "since", "until", "min_score", "max_score", "status", "kind", "severity", "account",
        "merchant", "region", "assignee", "limit", "cursor", NULL
    };
    static const char *const statuses [] = { "open", "investigating", "closed", NULL };
    static const char *const kinds [] = { "fraud", "region_health", NULL };
    qparams_t params;
    qerror_t err;
    int64_t since_ms, until_ms, min_score, max_score, limit;
    int status_i, kind_i, severity_i;
    const char *account, *merchant, *region, *assignee, *cursor;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_time (&params, "since", req->now_ms - S_DAY_MS, &since_ms, &err)
    ||  qparams_time (&params, "until", -1, &until_ms, &err)
    ||  qparams_int (&params, "min_score", 0, 0, 100, &min_score, &err)
    ||  qparams_int (&params, "max_score", 100, 0, 100, &max_score, &err)
    ||  qparams_enum (&params, "status", statuses, -1, &status_i, &err)
    ||  qparams_enum (&params, "kind", kinds, -1, &kind_i, &err)
    ||  qparams_enum (&params, "severity", s_severities, -1, &severity_i, &err)
    ||  s_id_filter (&params, "account", &account, &err)
    ||  s_id_filter (&params, "merchant", &merchant, &err)
    ||  qparams_text (&params, "region", S_TEXT_MAX, NULL, &region, &err)
    ||  qparams_text (&params, "assignee", S_TEXT_MAX, NULL, &assignee, &err)
    ||  qparams_text (&params, "cursor", QPARAM_VALUE_MAX, NULL, &cursor, &err)
    ||  qparams_int (&params, "limit", 50, 1, 1000, &limit, &err))
        return qapi_bad_parameter (&err, out);
    if (max_score < min_score) {
        qerror_set (&err, "max_score", "must not be below min_score");
        return qapi_bad_parameter (&err, out);
    }
    //  A viewer sees pseudonyms, never account ids, so may not probe them.
    if (account && req->who->role < TXW_ROLE_ANALYST) {
        *out = qapi_error ("forbidden", "searching by account takes the analyst role");
        return 403;
    }
    char cursor_us [24] = "";
    const char *cursor_id = NULL;
    int status;
    if (cursor && (status = qapi_cursor_parse (cursor, cursor_us, sizeof cursor_us, &cursor_id,
                                               out)))
        return status;
    if (cursor_id && strspn (cursor_id, "0123456789") != strlen (cursor_id)) {
        qerror_set (&err, "cursor", "must be a next_cursor of an earlier answer");
        return qapi_bad_parameter (&err, out);
    }
    char since [RFC3339_SIZE], until [RFC3339_SIZE], min_text [24], max_text [24],
         limit_text [24];
    qapi_param_time (since, since_ms);
    qapi_param_time (until, until_ms);
    qapi_param_int (min_text, sizeof min_text, min_score);
    qapi_param_int (max_text, sizeof max_text, max_score);
    //  One more than a page: whether there is a next one.
    qapi_param_int (limit_text, sizeof limit_text, limit + 1);
    qapi_sql_t q;
    qapi_sql_init (&q, "SELECT " QAPI_ALERT_COLUMNS ", (extract (epoch FROM raised_at)"
                   " * 1000000)::bigint AS raised_us FROM txw.alerts WHERE true");
    qapi_sql_add (&q, " AND raised_at >= $$::timestamptz", since);
    if (until_ms >= 0)
        qapi_sql_add (&q, " AND raised_at < $$::timestamptz", until);
    if (min_score > 0)
        qapi_sql_add (&q, " AND score >= $$::int", min_text);
    if (max_score < 100)
        qapi_sql_add (&q, " AND score <= $$::int", max_text);
    if (status_i >= 0)
        qapi_sql_add (&q, " AND status = $$", statuses [status_i]);
    if (kind_i >= 0)
        qapi_sql_add (&q, " AND kind = $$", kinds [kind_i]);
    //  A list of constants, which the planner checks against the stored column.
    if (severity_i > 0) {
        qapi_sql_add (&q, " AND severity IN (", NULL);
        for (int i = severity_i; s_severities [i]; i++)
            qapi_sql_add (&q, i > severity_i? ", $$": "$$", s_severities [i]);
        qapi_sql_add (&q, ")", NULL);
    }
    if (account)
        qapi_sql_add (&q, " AND account_id = $$", account);
    if (merchant)
        qapi_sql_add (&q, " AND merchant_id = $$", merchant);
    if (region)
        qapi_sql_add (&q, " AND region = $$", region);
    if (assignee)
        qapi_sql_add (&q, " AND assignee = $$", assignee);
    if (cursor_id) {
        qapi_sql_add (&q, " AND (raised_at, alert_id) < ('epoch'::timestamptz"
                      " + $$::bigint * interval '1 microsecond'", cursor_us);
        qapi_sql_add (&q, ", $$::bigint)", cursor_id);
    }
    qapi_sql_add (&q, " ORDER BY raised_at DESC, alert_id DESC LIMIT $$::int", limit_text);
    if (q.overflow) {
        *out = qapi_error ("internal", "the search does not fit its statement");
        return 500;
    }
    PGresult *res = qapi_query1 (api, q.sql, q.count, q.values, &status, out);
    if (!res)
        return status;
    static const char *const after [] = { "id", NULL };
    status = qapi_page_answer (res, "alerts", &qapi_alert_table, limit, "raised_us", after, out);
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
