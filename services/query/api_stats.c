/*  api_stats - the endpoints of the read model: window sums over a period

    GET /api/v1/stats/realtime, /api/v1/timeseries, /api/v1/top/{dimension},
    /api/v1/branches/performance and /api/v1/regions/health. All but the
    timeseries sum the window rows in SQL (S_TOTALS_SQL over txw.window_rows,
    which sums to what txw.window_totals does in one aggregation) and hand
    the sums to the read model (common/summary.c), which the gateway shares.
    The timeseries, top lists and branches take periods of up to a year,
    read from the grain that fits (params.h, "Periods"): the same columns
    from txw.window_totals, txw.window_totals_hourly or _daily.            */

#include "api_private.h"
#include "json.h"
#include "codec.h"
#include "dimensions.h"
#include "summary.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

//  --- Totals -------------------------------------------------------------------------

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

static const char *const s_totals_names [] = {
    "count", "volume", "approved", "declined", "failed", "flagged", "score_sum", "late"
};
#define S_TOTALS QAPI_COUNT (s_totals_names)

//  Where the S_TOTALS_SQL columns named with prefix are in res.
typedef struct {
    int index [S_TOTALS];
} s_totals_cols_t;

static void
s_totals_columns (const PGresult *res, const char *prefix, s_totals_cols_t *cols)
{
    for (int i = 0; i < S_TOTALS; i++) {
        char column [32];
        snprintf (column, sizeof column, "%s%s", prefix, s_totals_names [i]);
        cols->index [i] = txw_pg_column (res, column);
    }
}

//  Reads those columns from one row.
static void
s_totals (const PGresult *res, int row, const s_totals_cols_t *cols, txw_totals_t *t)
{
    int64_t *fields [S_TOTALS] = {
        &t->count, &t->volume, &t->approved, &t->declined, &t->failed, &t->flagged,
        &t->score_sum, &t->late
    };
    for (int i = 0; i < S_TOTALS; i++)
        *fields [i] = qapi_int (res, row, cols->index [i]);
}

//  The view of each grain (qgrain_t), as SQL text.
#define S_VIEWS(X)  X ("txw.window_totals"), X ("txw.window_totals_hourly"), \
                    X ("txw.window_totals_daily")
//  The same for sums over a whole period per key: the rows those views sum
//  (txw.window_rows, _hourly, _daily), which sum to the same in one
//  aggregation instead of two (proto/sql/032_window_rows.sql).
#define S_SUM_VIEWS(X)  X ("txw.window_rows"), X ("txw.window_rows_hourly"), \
                        X ("txw.window_rows_daily")

//  --- GET /api/v1/stats/realtime ---------------------------------------------------

int
qapi_stats_realtime (qapi_t *api, const qrequest_t *req, json_t **out)
{
    int64_t minutes;
    char from [RFC3339_SIZE];
    int status = qapi_period_params (req, 5, &minutes, from, out);
    if (status)
        return status;
    const char *values [] = { from };
    PGresult *res = qapi_query1 (api,
        "SELECT" S_TOTALS_SQL ("", "") ", min(" QAPI_MS ("window_start") ") AS first_start"
        " FROM txw.window_rows"
        " WHERE dimension = 'overall' AND key = 'all' AND window_start >= $1::timestamptz",
        1, values, &status, out);
    if (!res)
        return status;
    s_totals_cols_t cols;
    s_totals_columns (res, "", &cols);
    int first_start = txw_pg_column (res, "first_start");
    txw_totals_t t;
    s_totals (res, 0, &cols, &t);
    int64_t first = qapi_null (res, 0, first_start)? INT64_MAX: qapi_int (res, 0, first_start);
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

//  Where the columns of the timeseries query are in its result.
typedef struct {
    int start, window, count, volume, approved, declined, failed, flagged, mean_score, closed;
} s_window_cols_t;

static void
s_window_columns (const PGresult *res, s_window_cols_t *cols)
{
    *cols = (s_window_cols_t) {
        .start = txw_pg_column (res, "start_ms"), .window = txw_pg_column (res, "window_ms"),
        .count = txw_pg_column (res, "tx_count"), .volume = txw_pg_column (res, "amount_minor_sum"),
        .approved = txw_pg_column (res, "approved"), .declined = txw_pg_column (res, "declined"),
        .failed = txw_pg_column (res, "failed"), .flagged = txw_pg_column (res, "flagged"),
        .mean_score = txw_pg_column (res, "mean_score"), .closed = txw_pg_column (res, "closed")
    };
}

//  The value of one window (a row of the timeseries query) for metric.
static json_t *
s_point_value (const PGresult *res, int row, const s_window_cols_t *c, int metric,
               int64_t now_ms)
{
    int64_t start = qapi_int (res, row, c->start), window_ms = qapi_int (res, row, c->window);
    int64_t count = qapi_int (res, row, c->count);
    switch (metric) {
        case S_M_COUNT:         return json_integer (count);
        case S_M_VOLUME:        return json_integer (qapi_int (res, row, c->volume));
        case S_M_APPROVAL:      return txw_rate_json (qapi_int (res, row, c->approved), count);
        case S_M_DECLINE:       return txw_rate_json (qapi_int (res, row, c->declined), count);
        case S_M_FAILURE:       return txw_rate_json (qapi_int (res, row, c->failed), count);
        case S_M_FLAGGED:       return json_integer (qapi_int (res, row, c->flagged));
        case S_M_FLAGGED_RATE:  return txw_rate_json (qapi_int (res, row, c->flagged), count);
        case S_M_MEAN_SCORE:    return qapi_json_number (res, row, c->mean_score, 2);
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
    qperiod_t period;
    const char *key;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "dimension", txw_dimension_names, TXW_DIM_OVERALL, &dimension, &err)
    ||  qparams_text (&params, "key", TXW_ID_MAX, NULL, &key, &err)
    ||  qparams_enum (&params, "metric", s_metrics, S_M_COUNT, &metric, &err)
    ||  qparams_period (&params, 60, req->now_ms, &period, &err))
        return qapi_bad_parameter (&err, out);
    if (dimension == TXW_DIM_OVERALL && key && strcmp (key, "all")) {
        qerror_set (&err, "key", "must be all for dimension overall");
        return qapi_bad_parameter (&err, out);
    }
    if (dimension != TXW_DIM_OVERALL && !key) {
        qerror_set (&err, "key", "is required for dimension %s", txw_dimension_names [dimension]);
        return qapi_bad_parameter (&err, out);
    }
    if (!key)
        key = "all";
    //  A window is closed by the shards' watermarks; an hour or a day
    //  once it has passed ($4).
#define S_SERIES_SQL(view)                                                            \
        "SELECT " QAPI_MS_AS ("window_start", "start_ms") ","                          \
        " " QAPI_MS_AS ("window_end - window_start", "window_ms") ","                  \
        " tx_count, amount_minor_sum, approved, declined, failed, flagged, mean_score," \
        " %s AS closed FROM " view                                                     \
        " WHERE dimension = $1 AND key = $2 AND window_start >= $3::timestamptz"       \
        " ORDER BY window_start"
    static const char *const series_sql [] = { S_VIEWS (S_SERIES_SQL) };
#undef S_SERIES_SQL
    char sql [600], from [RFC3339_SIZE], now [RFC3339_SIZE];
    snprintf (sql, sizeof sql, series_sql [period.grain],
              period.grain == QGRAIN_WINDOW? "closed": "window_end <= $4::timestamptz");
    qapi_param_time (from, period.from_ms);
    qapi_param_time (now, req->now_ms);
    const char *values [] = { txw_dimension_names [dimension], key, from, now };
    int status;
    PGresult *res = qapi_query1 (api, sql, period.grain == QGRAIN_WINDOW? 3: 4, values,
                                 &status, out);
    if (!res)
        return status;
    s_window_cols_t cols;
    s_window_columns (res, &cols);
    json_t *points = json_array ();
    //  Without a window in the period, the aggregator's default size.
    int64_t window_ms = period.grain_ms? period.grain_ms:
                        PQntuples (res)? qapi_int (res, 0, cols.window): 60000;
    for (int row = 0; row < PQntuples (res); row++)
        json_array_append_new (points, json_pack ("{s:o,s:o,s:b}",
            "t", txw_json_time (qapi_int (res, row, cols.start)),
            "v", s_point_value (res, row, &cols, metric, req->now_ms),
            "closed", qapi_text (res, row, cols.closed) [0] == 't'));
    PQclear (res);
    *out = json_pack ("{s:s,s:s,s:s,s:I,s:I,s:s,s:o}",
        "dimension", txw_dimension_names [dimension], "key", key, "metric", s_metrics [metric],
        "minutes", (json_int_t) period.minutes, "window_ms", (json_int_t) window_ms,
        "currency", api->currency, "points", points);
    return 200;
}

//  --- GET /api/v1/top/{dimension} -----------------------------------------------

//  Totals per key over the period ($2 on) and the period before ($3 to $2).
#define S_TOP_SQL(view, order)                                                        \
    "SELECT key,"                                                                     \
    S_TOTALS_SQL ("FILTER (WHERE window_start >= $2::timestamptz)", "") ","          \
    S_TOTALS_SQL ("FILTER (WHERE window_start < $2::timestamptz)", "p_")             \
    " FROM " view " WHERE dimension = $1 AND window_start >= $3::timestamptz"         \
    " GROUP BY key"                                                                   \
    " HAVING coalesce(sum(tx_count) FILTER (WHERE window_start >= $2::timestamptz), 0) > 0" \
    " ORDER BY " order " DESC, key LIMIT $4::int"

int
qapi_top (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "by", "minutes", "limit", NULL };
    static const char *const by_names [] = { "count", "volume", "flagged", NULL };
#define S_TOP_BY(view) { S_TOP_SQL (view, "count"), S_TOP_SQL (view, "volume"), \
                         S_TOP_SQL (view, "flagged") }
    static const char *const by_sql [][3] = { S_SUM_VIEWS (S_TOP_BY) };
#undef S_TOP_BY
    qparams_t params;
    qerror_t err;
    int by;
    qperiod_t period, previous;
    int64_t limit;
    int dimension = txw_dimension_parse (req->arg);
    if (dimension <= TXW_DIM_OVERALL) {
        qerror_set (&err, "dimension", "must be one of %s", txw_dimension_list (TXW_DIM_OVERALL + 1));
        return qapi_bad_parameter (&err, out);
    }
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "by", by_names, 0, &by, &err)
    ||  qparams_period (&params, 60, req->now_ms, &period, &err)
    ||  qparams_int (&params, "limit", 10, 1, 100, &limit, &err))
        return qapi_bad_parameter (&err, out);
    //  The period before: as long, ending where this one starts.
    qperiod_make (&previous, period.minutes, period.from_ms);
    char from [RFC3339_SIZE], before [RFC3339_SIZE], limit_text [24];
    qapi_param_time (from, period.from_ms);
    qapi_param_time (before, previous.from_ms);
    qapi_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { txw_dimension_names [dimension], from, before, limit_text };
    int status;
    PGresult *res = qapi_query1 (api, by_sql [period.grain][by], 4, values, &status, out);
    if (!res)
        return status;
    s_totals_cols_t now_cols, before_cols;
    s_totals_columns (res, "", &now_cols);
    s_totals_columns (res, "p_", &before_cols);
    int key = txw_pg_column (res, "key");
    json_t *items = json_array ();
    for (int row = 0; row < PQntuples (res); row++) {
        txw_totals_t now, before;
        s_totals (res, row, &now_cols, &now);
        s_totals (res, row, &before_cols, &before);
        json_array_append_new (items, txw_summary_top_item (qapi_text (res, row, key),
                                                            &now, &before));
    }
    PQclear (res);
    *out = json_pack ("{s:s,s:s,s:I,s:s,s:o}", "dimension", txw_dimension_names [dimension],
                      "by", by_names [by], "minutes", (json_int_t) period.minutes,
                      "currency", api->currency, "items", items);
    return 200;
}

//  --- GET /api/v1/branches/performance --------------------------------------------

int
qapi_branches (qapi_t *api, const qrequest_t *req, json_t **out)
{
#define S_BRANCHES_SQL(view)                                                          \
        "SELECT key," S_TOTALS_SQL ("", "")                                           \
        " FROM " view " WHERE dimension = 'branch' AND window_start >= $1::timestamptz" \
        " GROUP BY key HAVING sum(tx_count) > 0 ORDER BY volume DESC, key"
    static const char *const branches_sql [] = { S_SUM_VIEWS (S_BRANCHES_SQL) };
#undef S_BRANCHES_SQL
    static const char *const allowed [] = { "minutes", NULL };
    qparams_t params;
    qerror_t err;
    qperiod_t period;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_period (&params, 60, req->now_ms, &period, &err))
        return qapi_bad_parameter (&err, out);
    char from [RFC3339_SIZE];
    qapi_param_time (from, period.from_ms);
    const char *values [] = { from };
    int status;
    PGresult *res = qapi_query1 (api, branches_sql [period.grain], 1, values, &status, out);
    if (!res)
        return status;
    s_totals_cols_t cols;
    s_totals_columns (res, "", &cols);
    int key = txw_pg_column (res, "key");
    json_t *branches = json_array ();
    for (int row = 0; row < PQntuples (res); row++) {
        txw_totals_t t;
        s_totals (res, row, &cols, &t);
        json_array_append_new (branches, txw_summary_branch (qapi_text (res, row, key), &t));
    }
    PQclear (res);
    *out = json_pack ("{s:I,s:s,s:o}", "minutes", (json_int_t) period.minutes,
                      "currency", api->currency, "branches", branches);
    return 200;
}

//  --- GET /api/v1/regions/health ----------------------------------------------------

int
qapi_regions (qapi_t *api, const qrequest_t *req, json_t **out)
{
    int64_t minutes;
    char from [RFC3339_SIZE];
    int status = qapi_period_params (req, 60, &minutes, from, out);
    if (status)
        return status;
    const char *values [] = { from };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return qapi_db_error (&perr, out);
    PGresult *totals = qpool_query (api->pool, conn,
        "SELECT key," S_TOTALS_SQL ("", "")
        " FROM txw.window_rows WHERE dimension = 'region' AND window_start >= $1::timestamptz"
        " GROUP BY key HAVING sum(tx_count) > 0 ORDER BY key", 1, values, &perr);
    PGresult *alerts = totals? qpool_query (api->pool, conn,
        "SELECT " QAPI_ALERT_COLUMNS " FROM txw.alerts"
        " WHERE kind = 'region_health' AND raised_at >= $1::timestamptz"
        " ORDER BY raised_at DESC, alert_id DESC", 1, values, &perr): NULL;
    qpool_checkin (api->pool, conn);
    if (!alerts) {
        PQclear (totals);
        return qapi_db_error (&perr, out);
    }
    s_totals_cols_t cols;
    s_totals_columns (totals, "", &cols);
    int key = txw_pg_column (totals, "key");
    qapi_rows_t alert_rows;
    qapi_rows_init (&alert_rows, alerts, &qapi_alert_table);
    int alert_region = qapi_rows_column (&alert_rows, "region");
    int alert_status = qapi_rows_column (&alert_rows, "status");
    json_t *regions = json_array ();
    for (int row = 0; row < PQntuples (totals); row++) {
        const char *region = qapi_text (totals, row, key);
        txw_totals_t t;
        s_totals (totals, row, &cols, &t);
        json_t *list = json_array ();
        bool open_alert = false;
        for (int a = 0; a < PQntuples (alerts); a++) {
            if (strcmp (qapi_text (alerts, a, alert_region), region))
                continue;
            json_array_append_new (list, qapi_row_json (&alert_rows, a));
            //  Being investigated is not resolved yet.
            open_alert = open_alert || strcmp (qapi_text (alerts, a, alert_status), "closed");
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
