/*  api_labels - GET /api/v1/labels: what is known of transactions' truth

    The labels of analysts' dispositions (api_workflow.c) and of
    chargebacks and corrections, oldest change first: a reader that
    follows the pages until next_cursor is null, and later goes on from
    the last cursor it was given, sees every label set or replaced since
    (a replaced label moves to the end, as its set_at is new). The cursor
    is a keyset on (set_at, source, tx_id), the primary key's columns after
    the time, so a page never repeats or skips a label.                     */

#include "api_private.h"
#include "codec.h"

#include <string.h>

static const qapi_column_t s_label_columns [] = {
    { "tx_id", QAPI_TEXT }, { "source", QAPI_TEXT }, { "ts", QAPI_TIME },
    { "account_id", QAPI_TEXT }, { "label", QAPI_TEXT }, { "detail", QAPI_TEXT },
    { "set_by", QAPI_TEXT }, { "set_at", QAPI_TIME }
};
static const qapi_table_t s_label_table = QAPI_TABLE (s_label_columns);

int
qapi_labels (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "account", "source", "since", "limit", "cursor", NULL };
    static const char *const sources [] = { "disposition", "chargeback", "correction", NULL };
    qparams_t params;
    qerror_t err;
    int source_i;
    int64_t since_ms, limit;
    const char *account = NULL, *cursor;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "source", sources, -1, &source_i, &err)
    ||  qparams_time (&params, "since", 0, &since_ms, &err)
    ||  qparams_text (&params, "cursor", QPARAM_VALUE_MAX, NULL, &cursor, &err)
    ||  qparams_int (&params, "limit", 100, 1, 1000, &limit, &err))
        return qapi_bad_parameter (&err, out);
    account = qparams_get (&params, "account");
    if (account && !qparams_id_valid (account, TXW_ID_MAX))
        return qapi_bad_id ("account", out);
    //  The cursor's rest is "<source>:<tx_id>".
    char cursor_us [24] = "", cursor_source [16] = "";
    const char *rest = NULL, *cursor_tx = NULL;
    int status;
    if (cursor && (status = qapi_cursor_parse (cursor, cursor_us, sizeof cursor_us, &rest, out)))
        return status;
    if (rest) {
        const char *colon = strchr (rest, ':');
        size_t slen = colon? (size_t) (colon - rest): 0;
        if (!colon || slen == 0 || slen >= sizeof cursor_source
        ||  !qparams_id_valid (colon + 1, TXW_ID_MAX)) {
            qerror_set (&err, "cursor", "must be a next_cursor of an earlier answer");
            return qapi_bad_parameter (&err, out);
        }
        memcpy (cursor_source, rest, slen);
        cursor_source [slen] = 0;
        cursor_tx = colon + 1;
    }
    char since [RFC3339_SIZE], limit_text [24];
    qapi_param_time (since, since_ms);
    qapi_param_int (limit_text, sizeof limit_text, limit + 1);
    qapi_sql_t q;
    qapi_sql_init (&q, "SELECT tx_id, source, " QAPI_MS_AS ("ts", "ts") ", account_id, label,"
                   " detail, set_by, " QAPI_MS_AS ("set_at", "set_at") ", (extract (epoch FROM"
                   " set_at) * 1000000)::bigint AS set_us FROM txw.labels WHERE true");
    if (since_ms > 0)
        qapi_sql_add (&q, " AND set_at >= $$::timestamptz", since);
    if (account)
        qapi_sql_add (&q, " AND account_id = $$", account);
    if (source_i >= 0)
        qapi_sql_add (&q, " AND source = $$", sources [source_i]);
    if (cursor_tx) {
        qapi_sql_add (&q, " AND (set_at, source, tx_id) > ('epoch'::timestamptz"
                      " + $$::bigint * interval '1 microsecond'", cursor_us);
        qapi_sql_add (&q, ", $$", cursor_source);
        qapi_sql_add (&q, ", $$)", cursor_tx);
    }
    qapi_sql_add (&q, " ORDER BY set_at, source, tx_id LIMIT $$::int", limit_text);
    if (q.overflow) {
        *out = qapi_error ("internal", "the search does not fit its statement");
        return 500;
    }
    PGresult *res = qapi_query1 (api, q.sql, q.count, q.values, &status, out);
    if (!res)
        return status;
    static const char *const after [] = { "source", "tx_id", NULL };
    return qapi_page_answer (res, "labels", &s_label_table, limit, "set_us", after, out);
}
