/*  api - the endpoints of the REST API: parameters, SQL, JSON               */

#include "api.h"
#include "alertjson.h"
#include "codec.h"
#include "dimensions.h"
#include "params.h"
#include "pgutil.h"
#include "reasons.h"
#include "rejects.h"
#include "rfc3339.h"
#include "summary.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MS(col)   "(extract(epoch FROM " col ") * 1000)::bigint"
#define S_MS_AS(col, name)  S_MS (col) " AS " name
#define S_DAY_MS    86400000LL
#define S_KEY_MAX   128         //  alert keys: "region_health:" + region + ":" + ms
#define S_BY_MAX    64

const char *const qapi_reject_codes [] = {
#define S_REJECT_CODE(NAME, code, text) code,
    TXW_REJECT_CODES (S_REJECT_CODE)
#undef S_REJECT_CODE
    NULL
};


//  --- JSON helpers -------------------------------------------------------------

json_t *
qapi_error (const char *error, const char *message)
{
    return json_pack ("{s:s,s:s}", "error", error, "message", message);
}

static int
s_bad_parameter (const qerror_t *err, json_t **out)
{
    *out = json_pack ("{s:s,s:s,s:s}", "error", "bad_parameter",
                      "parameter", err->parameter, "message", err->message);
    return 400;
}

static int
s_db_error (const qpool_error_t *err, json_t **out)
{
    *out = qapi_error (err->status == 503? "unavailable": "internal", err->message);
    return err->status;
}

static int
s_not_found (json_t **out, const char *what, const char *id)
{
    char message [256];
    snprintf (message, sizeof message, "no %s %s", what, id);
    json_t *text = json_string (message);   //  id is known to be UTF-8
    *out = json_pack ("{s:s,s:o}", "error", "not_found",
                      "message", text? text: json_string ("no such resource"));
    return 404;
}

//  Columns are read by name (pgutil.h, txw_pg_text and friends).
static int64_t
s_int64 (const PGresult *res, int row, const char *name)
{
    return txw_pg_int (res, row, name);
}

//  The sums a summary is made of, as SQL: filter restricts the windows
//  summed ("" for all), prefix names the columns ("" or "p_").
#define S_TOTALS_SQL(filter, prefix)                                                  \
    " coalesce(sum(tx_count) " filter ", 0)::bigint AS " prefix "count,"             \
    " coalesce(sum(amount_minor_sum) " filter ", 0)::bigint AS " prefix "volume,"    \
    " coalesce(sum(approved) " filter ", 0)::bigint AS " prefix "approved,"          \
    " coalesce(sum(declined) " filter ", 0)::bigint AS " prefix "declined,"          \
    " coalesce(sum(failed) " filter ", 0)::bigint AS " prefix "failed,"              \
    " coalesce(sum(flagged) " filter ", 0)::bigint AS " prefix "flagged,"            \
    " coalesce(sum(score_sum) " filter ", 0)::bigint AS " prefix "score_sum,"        \
    " coalesce(sum(late) " filter ", 0)::bigint AS " prefix "late"

//  Reads the S_TOTALS_SQL columns named with prefix from one row.
static void
s_totals (const PGresult *res, int row, const char *prefix, txw_totals_t *t)
{
    static const char *const names [] = {
        "count", "volume", "approved", "declined", "failed", "flagged", "score_sum", "late"
    };
    int64_t *fields [] = {
        &t->count, &t->volume, &t->approved, &t->declined, &t->failed, &t->flagged,
        &t->score_sum, &t->late
    };
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++) {
        char column [32];
        snprintf (column, sizeof column, "%s%s", prefix, names [i]);
        *fields [i] = s_int64 (res, row, column);
    }
}

static json_t *
s_col_int (const PGresult *res, int row, const char *name)
{
    return txw_pg_null (res, row, name)? json_null (): json_integer (s_int64 (res, row, name));
}

static json_t *
s_col_text (const PGresult *res, int row, const char *name)
{
    if (txw_pg_null (res, row, name))
        return json_null ();
    int col = PQfnumber (res, name);
    json_t *text = json_stringn (PQgetvalue (res, row, col),
                                 (size_t) PQgetlength (res, row, col));
    return text? text: json_string ("");
}

static json_t *
s_col_bool (const PGresult *res, int row, const char *name)
{
    return txw_pg_null (res, row, name)? json_null ()
         : json_boolean (txw_pg_text (res, row, name) [0] == 't');
}

static json_t *
s_col_time (const PGresult *res, int row, const char *name)
{
    if (txw_pg_null (res, row, name))
        return json_null ();
    return txw_json_time (s_int64 (res, row, name));
}

static json_t *
s_col_number (const PGresult *res, int row, const char *name, int digits)
{
    if (txw_pg_null (res, row, name))
        return json_null ();
    return json_real (txw_round (strtod (txw_pg_text (res, row, name), NULL), digits));
}

//  A text[] column selected as array_to_json(...)::text; with describe,
//  each code becomes {"code","description"}.
static json_t *
s_col_reasons (const PGresult *res, int row, const char *name, bool describe)
{
    json_t *codes = txw_pg_null (res, row, name)? NULL:
                    json_loads (txw_pg_text (res, row, name), 0, NULL);
    if (!json_is_array (codes)) {
        json_decref (codes);
        return json_array ();
    }
    if (!describe)
        return codes;
    json_t *array = json_array ();
    size_t i;
    json_t *code;
    json_array_foreach (codes, i, code) {
        const char *reason = json_string_value (code);
        const char *text = "";
        for (int bit = 0; reason && bit < TXW_REASON_COUNT; bit++)
            if (!strcmp (reason, txw_reason_name (bit)))
                text = txw_reason_text (bit);
        json_array_append_new (array, json_pack ("{s:O,s:s}", "code", code,
                                                 "description", text));
    }
    json_decref (codes);
    return array;
}

//  How a column of a selected row becomes JSON.
typedef enum {
    S_TEXT, S_INT, S_TIME,
    S_CODES,                    //  array_to_json(text[])::text, as it is
    S_REASONS                   //  the same, each code with its description
} s_col_type_t;

typedef struct {
    const char *name;
    s_col_type_t type;
} s_column_t;

#define S_COUNT(array) ((int) (sizeof (array) / sizeof (array) [0]))

//  The object of one row: each member from the column of the same name.
static json_t *
s_row_json (const PGresult *res, int row, const s_column_t *columns, int count)
{
    json_t *object = json_object ();
    for (int i = 0; i < count && object; i++) {
        const char *name = columns [i].name;
        s_col_type_t type = columns [i].type;
        json_t *value = type == S_INT? s_col_int (res, row, name):
                        type == S_TIME? s_col_time (res, row, name):
                        type == S_CODES || type == S_REASONS?
                            s_col_reasons (res, row, name, type == S_REASONS):
                            s_col_text (res, row, name);
        json_object_set_new (object, name, value);
    }
    return object;
}

typedef json_t *(s_row_fn) (const PGresult *res, int row);

//  The answer of a list: {name: [the object of each row]}. Frees res.
static int
s_list_answer (PGresult *res, const char *name, s_row_fn *row_json, json_t **out)
{
    json_t *array = json_array ();
    for (int row = 0; row < PQntuples (res) && array; row++)
        json_array_append_new (array, row_json (res, row));
    PQclear (res);
    *out = json_pack ("{s:o}", name, array);
    return 200;
}

//  The answer of a lookup by id: the object of the first row of res, or
//  404 for what id when there is none. Frees res.
static int
s_one_row (PGresult *res, s_row_fn *row_json, const char *what, const char *id, json_t **out)
{
    int status = PQntuples (res)? 200: s_not_found (out, what, id);
    if (status == 200)
        *out = row_json (res, 0);
    PQclear (res);
    return status;
}

//  --- Parameters -----------------------------------------------------------------

static void
s_param_time (char *buf, int64_t ms)
{
    rfc3339_format (buf, RFC3339_SIZE, ms);
}

static void
s_param_int (char *buf, size_t size, int64_t v)
{
    snprintf (buf, size, "%lld", (long long) v);
}

//  Parses a query string whose one parameter is minutes (1..1440, fallback
//  when absent) and writes the start of that period, as a query parameter,
//  into from (RFC3339_SIZE bytes). Returns 0, or 400 with *out set.
static int
s_period_params (const qrequest_t *req, int64_t fallback, int64_t *minutes, char *from,
                 json_t **out)
{
    static const char *const allowed [] = { "minutes", NULL };
    qparams_t params;
    qerror_t err;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_int (&params, "minutes", fallback, 1, 1440, minutes, &err))
        return s_bad_parameter (&err, out);
    s_param_time (from, req->now_ms - *minutes * 60000);
    return 0;
}

//  The 400 answer for a path id (a tx_id or account_id) that is not valid.
static int
s_bad_id (const char *name, json_t **out)
{
    qerror_t err;
    qerror_set (&err, name, "must be 1 to %d characters from [A-Za-z0-9_.:-]", TXW_ID_MAX);
    return s_bad_parameter (&err, out);
}

//  --- Database helpers -----------------------------------------------------------

//  Runs one statement on its own connection. Returns the result, or NULL
//  with *status and *out set.
static PGresult *
s_query1 (qapi_t *api, const char *sql, int nparams, const char *const *params,
          int *status, json_t **out)
{
    qpool_error_t err;
    qconn_t *conn = qpool_checkout (api->pool, &err);
    PGresult *res = conn? qpool_query (api->pool, conn, sql, nparams, params, &err): NULL;
    qpool_checkin (api->pool, conn);
    if (!res)
        *status = s_db_error (&err, out);
    return res;
}

//  --- GET /api/v1/stats/realtime ---------------------------------------------------

int
qapi_stats_realtime (qapi_t *api, const qrequest_t *req, json_t **out)
{
    int64_t minutes;
    char from [RFC3339_SIZE];
    int status = s_period_params (req, 5, &minutes, from, out);
    if (status)
        return status;
    const char *values [] = { from };
    PGresult *res = s_query1 (api,
        "SELECT" S_TOTALS_SQL ("", "") ", min(" S_MS ("window_start") ") AS first_start"
        " FROM txw.window_totals"
        " WHERE dimension = 'overall' AND key = 'all' AND window_start >= $1::timestamptz",
        1, values, &status, out);
    if (!res)
        return status;
    txw_totals_t t;
    s_totals (res, 0, "", &t);
    int64_t first = txw_pg_null (res, 0, "first_start")? INT64_MAX
                  : s_int64 (res, 0, "first_start");
    PQclear (res);
    *out = txw_summary_realtime (&t, req->now_ms, minutes, first, api->currency,
                                 api->currency_exponent);
    return 200;
}

//  --- GET /api/v1/timeseries ---------------------------------------------------

static const char *const s_metrics [] = {
    "count", "volume", "tx_per_s", "approval_rate", "decline_rate", "failure_rate",
    "flagged", "flagged_rate", "mean_score", NULL
};
enum { S_M_COUNT, S_M_VOLUME, S_M_TX_PER_S, S_M_APPROVAL, S_M_DECLINE, S_M_FAILURE,
       S_M_FLAGGED, S_M_FLAGGED_RATE, S_M_MEAN_SCORE };

//  The value of one window (a row of the timeseries query) for metric.
static json_t *
s_point_value (const PGresult *res, int row, int metric, int64_t now_ms)
{
    int64_t start = s_int64 (res, row, "start_ms"), window_ms = s_int64 (res, row, "window_ms");
    int64_t count = s_int64 (res, row, "tx_count");
    switch (metric) {
        case S_M_COUNT:         return json_integer (count);
        case S_M_VOLUME:        return json_integer (s_int64 (res, row, "amount_minor_sum"));
        case S_M_APPROVAL:      return txw_rate_json (s_int64 (res, row, "approved"), count);
        case S_M_DECLINE:       return txw_rate_json (s_int64 (res, row, "declined"), count);
        case S_M_FAILURE:       return txw_rate_json (s_int64 (res, row, "failed"), count);
        case S_M_FLAGGED:       return json_integer (s_int64 (res, row, "flagged"));
        case S_M_FLAGGED_RATE:  return txw_rate_json (s_int64 (res, row, "flagged"), count);
        case S_M_MEAN_SCORE:    return s_col_number (res, row, "mean_score", 2);
        default: {
            //  tx_per_s: over the window, or the part of it that has passed.
            int64_t span = now_ms - start < window_ms? now_ms - start: window_ms;
            double seconds = span < 1000? 1.0: (double) span / 1000.0;
            return json_real (txw_round ((double) count / seconds, 2));
        }
    }
}

int
qapi_timeseries (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "dimension", "key", "minutes", "metric", NULL };
    qparams_t params;
    qerror_t err;
    int dimension, metric;
    int64_t minutes;
    const char *key;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "dimension", txw_dimension_names, TXW_DIM_OVERALL, &dimension, &err)
    ||  qparams_text (&params, "key", TXW_ID_MAX, NULL, &key, &err)
    ||  qparams_enum (&params, "metric", s_metrics, S_M_COUNT, &metric, &err)
    ||  qparams_int (&params, "minutes", 60, 1, 1440, &minutes, &err))
        return s_bad_parameter (&err, out);
    if (dimension == TXW_DIM_OVERALL && key && strcmp (key, "all")) {
        qerror_set (&err, "key", "must be all for dimension overall");
        return s_bad_parameter (&err, out);
    }
    if (dimension != TXW_DIM_OVERALL && !key) {
        qerror_set (&err, "key", "is required for dimension %s", txw_dimension_names [dimension]);
        return s_bad_parameter (&err, out);
    }
    if (!key)
        key = "all";
    int64_t from_ms = req->now_ms - minutes * 60000;
    char from [RFC3339_SIZE];
    s_param_time (from, from_ms);
    const char *values [] = { txw_dimension_names [dimension], key, from };
    int status;
    PGresult *res = s_query1 (api,
        "SELECT " S_MS_AS ("window_start", "start_ms") ","
        " " S_MS_AS ("window_end - window_start", "window_ms") ","
        " tx_count, amount_minor_sum, approved, declined, failed, flagged, mean_score, closed"
        " FROM txw.window_totals"
        " WHERE dimension = $1 AND key = $2 AND window_start >= $3::timestamptz"
        " ORDER BY window_start", 3, values, &status, out);
    if (!res)
        return status;
    json_t *points = json_array ();
    //  Without a window in the period, the aggregator's default size.
    int64_t window_ms = PQntuples (res)? s_int64 (res, 0, "window_ms"): 60000;
    for (int row = 0; row < PQntuples (res); row++)
        json_array_append_new (points, json_pack ("{s:o,s:o,s:b}",
            "t", txw_json_time (s_int64 (res, row, "start_ms")),
            "v", s_point_value (res, row, metric, req->now_ms),
            "closed", json_is_true (s_col_bool (res, row, "closed"))));
    PQclear (res);
    *out = json_pack ("{s:s,s:s,s:s,s:I,s:I,s:s,s:o}",
        "dimension", txw_dimension_names [dimension], "key", key, "metric", s_metrics [metric],
        "minutes", (json_int_t) minutes, "window_ms", (json_int_t) window_ms,
        "currency", api->currency, "points", points);
    return 200;
}

//  --- GET /api/v1/top/{dimension} -----------------------------------------------

//  Totals per key over the period ($2 on) and the period before ($3 to $2).
#define S_TOP_SQL(order)                                                              \
    "SELECT key,"                                                                     \
    S_TOTALS_SQL ("FILTER (WHERE window_start >= $2::timestamptz)", "") ","          \
    S_TOTALS_SQL ("FILTER (WHERE window_start < $2::timestamptz)", "p_")             \
    " FROM txw.window_totals WHERE dimension = $1 AND window_start >= $3::timestamptz" \
    " GROUP BY key"                                                                   \
    " HAVING coalesce(sum(tx_count) FILTER (WHERE window_start >= $2::timestamptz), 0) > 0" \
    " ORDER BY " order " DESC, key LIMIT $4::int"

int
qapi_top (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "by", "minutes", "limit", NULL };
    static const char *const by_names [] = { "count", "volume", "flagged", NULL };
    static const char *const by_sql [] = {
        S_TOP_SQL ("count"), S_TOP_SQL ("volume"), S_TOP_SQL ("flagged")
    };
    qparams_t params;
    qerror_t err;
    int by;
    int64_t minutes, limit;
    int dimension = txw_dimension_parse (req->arg);
    if (dimension <= TXW_DIM_OVERALL) {
        qerror_set (&err, "dimension", "must be one of %s", txw_dimension_list (TXW_DIM_OVERALL + 1));
        return s_bad_parameter (&err, out);
    }
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "by", by_names, 0, &by, &err)
    ||  qparams_int (&params, "minutes", 60, 1, 1440, &minutes, &err)
    ||  qparams_int (&params, "limit", 10, 1, 100, &limit, &err))
        return s_bad_parameter (&err, out);
    char from [RFC3339_SIZE], before [RFC3339_SIZE], limit_text [24];
    s_param_time (from, req->now_ms - minutes * 60000);
    s_param_time (before, req->now_ms - 2 * minutes * 60000);
    s_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { txw_dimension_names [dimension], from, before, limit_text };
    int status;
    PGresult *res = s_query1 (api, by_sql [by], 4, values, &status, out);
    if (!res)
        return status;
    json_t *items = json_array ();
    for (int row = 0; row < PQntuples (res); row++) {
        txw_totals_t now, before;
        s_totals (res, row, "", &now);
        s_totals (res, row, "p_", &before);
        json_array_append_new (items, txw_summary_top_item (txw_pg_text (res, row, "key"),
                                                            &now, &before));
    }
    PQclear (res);
    *out = json_pack ("{s:s,s:s,s:I,s:s,s:o}", "dimension", txw_dimension_names [dimension],
                      "by", by_names [by], "minutes", (json_int_t) minutes,
                      "currency", api->currency, "items", items);
    return 200;
}

//  --- GET /api/v1/branches/performance --------------------------------------------

int
qapi_branches (qapi_t *api, const qrequest_t *req, json_t **out)
{
    int64_t minutes;
    char from [RFC3339_SIZE];
    int status = s_period_params (req, 60, &minutes, from, out);
    if (status)
        return status;
    const char *values [] = { from };
    PGresult *res = s_query1 (api,
        "SELECT key," S_TOTALS_SQL ("", "")
        " FROM txw.window_totals WHERE dimension = 'branch' AND window_start >= $1::timestamptz"
        " GROUP BY key HAVING sum(tx_count) > 0 ORDER BY volume DESC, key", 1, values, &status, out);
    if (!res)
        return status;
    json_t *branches = json_array ();
    for (int row = 0; row < PQntuples (res); row++) {
        txw_totals_t t;
        s_totals (res, row, "", &t);
        json_array_append_new (branches, txw_summary_branch (txw_pg_text (res, row, "key"), &t));
    }
    PQclear (res);
    *out = json_pack ("{s:I,s:s,s:o}", "minutes", (json_int_t) minutes,
                      "currency", api->currency, "branches", branches);
    return 200;
}

//  --- Alerts ----------------------------------------------------------------------

#define S_ALERT_COLUMNS                                                              \
    "alert_id AS id, key, kind, tx_id, " S_MS_AS ("ts", "ts") ", account_id, score,"  \
    " array_to_json(reasons)::text AS reasons, amount_minor, currency,"              \
    " amount_rep_minor, merchant_id, country, channel, region, message,"             \
    " model_version, " S_MS_AS ("raised_at", "raised_at") ", status,"                \
    " " S_MS_AS ("acked_at", "acked_at") ", acked_by"

//  The alert object of a row selected with S_ALERT_COLUMNS.
static json_t *
s_alert_json (const PGresult *res, int row)
{
    static const s_column_t columns [] = {
        { "id", S_INT }, { "key", S_TEXT }, { "kind", S_TEXT }, { "tx_id", S_TEXT },
        { "ts", S_TIME }, { "account_id", S_TEXT }, { "score", S_INT },
        { "reasons", S_CODES }, { "amount_minor", S_INT }, { "currency", S_TEXT },
        { "amount_rep_minor", S_INT }, { "merchant_id", S_TEXT }, { "country", S_TEXT },
        { "channel", S_TEXT }, { "region", S_TEXT }, { "message", S_TEXT },
        { "model_version", S_TEXT }, { "raised_at", S_TIME }, { "status", S_TEXT },
        { "acked_at", S_TIME }, { "acked_by", S_TEXT }
    };
    return s_row_json (res, row, columns, S_COUNT (columns));
}

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
        return s_bad_parameter (&err, out);
    char since [RFC3339_SIZE], score_text [24], limit_text [24];
    s_param_time (since, since_ms);
    s_param_int (score_text, sizeof score_text, min_score);
    s_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { since, score_text, status_i < 0? NULL: statuses [status_i],
                              kind_i < 0? NULL: kinds [kind_i], limit_text };
    int status;
    PGresult *res = s_query1 (api,
        "SELECT " S_ALERT_COLUMNS " FROM txw.alerts"
        " WHERE raised_at >= $1::timestamptz AND score >= $2::int"
        " AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR kind = $4)"
        " ORDER BY raised_at DESC, alert_id DESC LIMIT $5::int", 5, values, &status, out);
    if (!res)
        return status;
    return s_list_answer (res, "alerts", s_alert_json, out);
}

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
        return s_bad_parameter (&err, out);
    }
    if (s_ack_by (req, by, sizeof by, &err))
        return s_bad_parameter (&err, out);
    const char *values [] = { id, by };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return s_db_error (&perr, out);
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
            "SELECT " S_ALERT_COLUMNS " FROM txw.alerts WHERE alert_id = $1::bigint":
            "SELECT " S_ALERT_COLUMNS " FROM txw.alerts WHERE key = $1", 1, values, &perr);
    qpool_checkin (api->pool, conn);
    if (!res)
        return s_db_error (&perr, out);
    return s_one_row (res, s_alert_json, "alert", id, out);
}

//  --- GET /api/v1/regions/health ----------------------------------------------------

int
qapi_regions (qapi_t *api, const qrequest_t *req, json_t **out)
{
    int64_t minutes;
    char from [RFC3339_SIZE];
    int status = s_period_params (req, 60, &minutes, from, out);
    if (status)
        return status;
    const char *values [] = { from };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return s_db_error (&perr, out);
    PGresult *totals = qpool_query (api->pool, conn,
        "SELECT key," S_TOTALS_SQL ("", "")
        " FROM txw.window_totals WHERE dimension = 'region' AND window_start >= $1::timestamptz"
        " GROUP BY key HAVING sum(tx_count) > 0 ORDER BY key", 1, values, &perr);
    PGresult *alerts = totals? qpool_query (api->pool, conn,
        "SELECT " S_ALERT_COLUMNS " FROM txw.alerts"
        " WHERE kind = 'region_health' AND raised_at >= $1::timestamptz"
        " ORDER BY raised_at DESC, alert_id DESC", 1, values, &perr): NULL;
    qpool_checkin (api->pool, conn);
    if (!alerts) {
        PQclear (totals);
        return s_db_error (&perr, out);
    }
    json_t *regions = json_array ();
    for (int row = 0; row < PQntuples (totals); row++) {
        const char *region = txw_pg_text (totals, row, "key");
        txw_totals_t t;
        s_totals (totals, row, "", &t);
        json_t *list = json_array ();
        bool open_alert = false;
        for (int a = 0; a < PQntuples (alerts); a++) {
            if (strcmp (txw_pg_text (alerts, a, "region"), region))
                continue;
            json_array_append_new (list, s_alert_json (alerts, a));
            open_alert = open_alert || !strcmp (txw_pg_text (alerts, a, "status"), "open");
        }
        json_array_append_new (regions, txw_summary_region (region, &t, list, open_alert,
                                                            api->health_threshold));
    }
    PQclear (totals);
    PQclear (alerts);
    *out = json_pack ("{s:I,s:f,s:o}", "minutes", (json_int_t) minutes,
                      "threshold", api->health_threshold, "regions", regions);
    return 200;
}

//  --- Transactions and accounts -------------------------------------------------------

#define S_TX_COLUMNS                                                                 \
    "tx_id, " S_MS_AS ("ts", "ts") ", account_id, amount_minor, currency,"           \
    " amount_rep_minor, merchant_id, category, channel, branch_id, region, country,"  \
    " device_id, product_id, status, score, array_to_json(reasons)::text AS reasons," \
    " model_version, " S_MS_AS ("stored_at", "stored_at")

static json_t *
s_tx_json (const PGresult *res, int row)
{
    static const s_column_t columns [] = {
        { "tx_id", S_TEXT }, { "ts", S_TIME }, { "account_id", S_TEXT },
        { "amount_minor", S_INT }, { "currency", S_TEXT }, { "amount_rep_minor", S_INT },
        { "merchant_id", S_TEXT }, { "category", S_TEXT }, { "channel", S_TEXT },
        { "branch_id", S_TEXT }, { "region", S_TEXT }, { "country", S_TEXT },
        { "device_id", S_TEXT }, { "product_id", S_TEXT }, { "status", S_TEXT },
        { "score", S_INT }, { "reasons", S_REASONS }, { "model_version", S_TEXT },
        { "stored_at", S_TIME }
    };
    return s_row_json (res, row, columns, S_COUNT (columns));
}

int
qapi_transaction (qapi_t *api, const qrequest_t *req, json_t **out)
{
    qerror_t err;
    qparams_t params;
    static const char *const allowed [] = { NULL };
    if (!qparams_id_valid (req->arg, TXW_ID_MAX))
        return s_bad_id ("tx_id", out);
    if (qparams_parse (&params, req->query, allowed, &err))
        return s_bad_parameter (&err, out);
    const char *values [] = { req->arg };
    int status;
    PGresult *res = s_query1 (api,
        "SELECT " S_TX_COLUMNS " FROM txw.transactions WHERE tx_id = $1"
        " ORDER BY ts DESC LIMIT 1", 1, values, &status, out);
    if (!res)
        return status;
    return s_one_row (res, s_tx_json, "transaction", req->arg, out);
}

static const char *
s_risk_level (int64_t max_score, bool recent_flagged, int threshold)
{
    if (recent_flagged || max_score >= threshold)
        return "high";
    return max_score * 2 >= threshold? "medium": "low";
}

//  The account object from its txw.accounts row and its recent transactions.
static json_t *
s_account_json (qapi_t *api, const PGresult *acc, const PGresult *recent)
{
    json_t *list = json_array ();
    bool recent_flagged = false;
    for (int row = 0; row < PQntuples (recent); row++) {
        json_array_append_new (list, s_tx_json (recent, row));
        recent_flagged = recent_flagged || s_int64 (recent, row, "score") >= api->alert_threshold;
    }
    int64_t max_score = s_int64 (acc, 0, "max_score");
    json_t *risk = json_pack ("{s:s,s:I,s:I,s:o}",
        "level", s_risk_level (max_score, recent_flagged, api->alert_threshold),
        "flagged", (json_int_t) s_int64 (acc, 0, "flagged"), "max_score", (json_int_t) max_score,
        "mean_score", s_col_number (acc, 0, "mean_score", 2));
    return json_pack ("{s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}",
        "account_id", s_col_text (acc, 0, "account_id"), "currency", api->currency,
        "tx_count", (json_int_t) s_int64 (acc, 0, "tx_count"),
        "lifetime_value_minor", (json_int_t) s_int64 (acc, 0, "lifetime_value_rep_minor"),
        "spend_minor", (json_int_t) s_int64 (acc, 0, "spend_rep_minor"),
        "approved", (json_int_t) s_int64 (acc, 0, "approved"),
        "declined", (json_int_t) s_int64 (acc, 0, "declined"),
        "failed", (json_int_t) s_int64 (acc, 0, "failed"),
        "first_seen", s_col_time (acc, 0, "first_seen"), "last_seen", s_col_time (acc, 0, "last_seen"),
        "risk", risk, "recent", list);
}

int
qapi_account (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "limit", NULL };
    qparams_t params;
    qerror_t err;
    int64_t limit;
    if (!qparams_id_valid (req->arg, TXW_ID_MAX))
        return s_bad_id ("account_id", out);
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_int (&params, "limit", 20, 1, 100, &limit, &err))
        return s_bad_parameter (&err, out);
    char limit_text [24];
    s_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { req->arg, limit_text };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return s_db_error (&perr, out);
    PGresult *acc = qpool_query (api->pool, conn,
        "SELECT account_id, tx_count, spend_rep_minor, lifetime_value_rep_minor, approved,"
        " declined, failed, flagged, mean_score, max_score, " S_MS_AS ("first_seen", "first_seen") ","
        " " S_MS_AS ("last_seen", "last_seen") " FROM txw.accounts WHERE account_id = $1", 1, values, &perr);
    PGresult *recent = acc && PQntuples (acc)? qpool_query (api->pool, conn,
        "SELECT " S_TX_COLUMNS " FROM txw.transactions WHERE account_id = $1"
        " ORDER BY ts DESC, tx_id DESC LIMIT $2::int", 2, values, &perr): NULL;
    qpool_checkin (api->pool, conn);
    int status;
    if (!acc || (PQntuples (acc) && !recent))
        status = s_db_error (&perr, out);
    else
    if (!PQntuples (acc))
        status = s_not_found (out, "account", req->arg);
    else {
        *out = s_account_json (api, acc, recent);
        status = 200;
    }
    PQclear (acc);
    PQclear (recent);
    return status;
}

//  --- GET /api/v1/dead-letters -------------------------------------------------------

static json_t *
s_dead_letter_json (const PGresult *res, int row)
{
    static const s_column_t columns [] = {
        { "id", S_INT }, { "received_at", S_TIME }, { "reason", S_TEXT },
        { "field", S_TEXT }, { "message", S_TEXT }, { "tx_id", S_TEXT },
        { "line_no", S_INT }, { "origin_source", S_TEXT }, { "payload", S_TEXT }
    };
    return s_row_json (res, row, columns, S_COUNT (columns));
}

int
qapi_dead_letters (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "reason", "limit", NULL };
    qparams_t params;
    qerror_t err;
    int reason;
    int64_t limit;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "reason", qapi_reject_codes, -1, &reason, &err)
    ||  qparams_int (&params, "limit", 50, 1, 1000, &limit, &err))
        return s_bad_parameter (&err, out);
    char limit_text [24];
    s_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { reason < 0? NULL: qapi_reject_codes [reason], limit_text };
    int status;
    PGresult *res = s_query1 (api,
        "SELECT id, " S_MS_AS ("received_at", "received_at") ", reason, field, message, tx_id, line_no,"
        " origin_source, payload FROM txw.dead_letters"
        " WHERE ($1::text IS NULL OR reason = $1)"
        " ORDER BY received_at DESC, id DESC LIMIT $2::int", 2, values, &status, out);
    if (!res)
        return status;
    return s_list_answer (res, "dead_letters", s_dead_letter_json, out);
}
