/*  api_customers - RFM segments, ranked customers, one customer, cohorts

    GET /api/v1/customers/segments, /api/v1/customers,
    /api/v1/customers/{account_id} and /api/v1/cohorts read the views of
    proto/sql/017_customers.sql, which txw_data.refresh_segments () fills
    (txw-maint, task "segments"). Scores, segments, rankings and cohorts
    are as of that refresh ("as_of"); a customer's totals are live.
    Viewers see the account ids of the lists as pseudonyms (pii.h), as in
    the alerts; one customer's whole record is for analysts, and audited
    (server.c). Before any refresh every answer is empty but well formed:
    the 11 segments with nothing in them, no customers, no cohorts.        */

#include "api_private.h"
#include "codec.h"
#include "pii.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_OFFSET_MAX    1000000

//  The segments, as txw_data.rfm_segments names them: a members query
//  names one of these.
static const char *const s_segments [] = {
    "Champions", "Loyal Customers", "Potential Loyalists", "New Customers", "Promising",
    "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost", NULL
};

//  A customer in a list, selected with S_MEMBER_COLUMNS from txw.customers.
#define S_MEMBER_COLUMNS                                                            \
    "account_id, segment, r, f, m, recency_days, frequency,"                        \
    " monetary AS lifetime_value_minor, " QAPI_MS_AS ("rfm_last_seen", "last_seen")

static const qapi_column_t s_member_columns [] = {
    { "account_id", QAPI_TEXT }, { "segment", QAPI_TEXT }, { "r", QAPI_INT }, { "f", QAPI_INT },
    { "m", QAPI_INT }, { "recency_days", QAPI_INT }, { "frequency", QAPI_INT },
    { "lifetime_value_minor", QAPI_INT }, { "last_seen", QAPI_TIME }
};
static const qapi_table_t s_member_table = QAPI_TABLE (s_member_columns);

static const qapi_column_t s_segment_columns [] = {
    { "segment", QAPI_TEXT }, { "customers", QAPI_INT }, { "revenue_minor", QAPI_INT },
    { "customers_share_pct", QAPI_JSON }, { "revenue_share_pct", QAPI_JSON }
};
static const qapi_table_t s_segment_table = QAPI_TABLE (s_segment_columns);

//  Parses limit (1..1000, 50) and offset (0..S_OFFSET_MAX, 0) as text
//  parameters. Returns 0, or -1 with err filled.
static int
s_paging (const qparams_t *params, char *limit, char *offset, size_t size, qerror_t *err)
{
    int64_t l, o;
    if (qparams_int (params, "limit", 50, 1, 1000, &l, err)
    ||  qparams_int (params, "offset", 0, 0, S_OFFSET_MAX, &o, err))
        return -1;
    qapi_param_int (limit, size, l);
    qapi_param_int (offset, size, o);
    return 0;
}

//  The list member name of *out for a viewer: account ids as pseudonyms.
static void
s_mask (const qrequest_t *req, json_t *out, const char *name)
{
    if (req->who->role < TXW_ROLE_ANALYST)
        qapi_alerts_mask (json_object_get (out, name));
}

//  --- GET /api/v1/customers/segments ------------------------------------------------

int
qapi_customer_segments (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "segment", "limit", "offset", NULL };
    qparams_t params;
    qerror_t err;
    int segment;
    char limit [24], offset [24];
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "segment", s_segments, -1, &segment, &err)
    ||  s_paging (&params, limit, offset, sizeof limit, &err))
        return qapi_bad_parameter (&err, out);
    const char *values [] = { segment < 0? "": s_segments [segment], limit, offset };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return qapi_db_error (&perr, out);
    PGresult *seg = qpool_query (api->pool, conn,
        "SELECT segment, customers, revenue_rep_minor AS revenue_minor, customers_share_pct,"
        " revenue_share_pct, " QAPI_MS_AS ("rfm_as_of", "as_of")
        " FROM txw.customer_segments ORDER BY position", 0, NULL, &perr);
    PGresult *members = seg && segment >= 0? qpool_query (api->pool, conn,
        "SELECT " S_MEMBER_COLUMNS " FROM txw.customers WHERE segment = $1"
        " ORDER BY monetary DESC, account_id LIMIT $2::int OFFSET $3::int", 3, values, &perr): NULL;
    qpool_checkin (api->pool, conn);
    if (!seg || (segment >= 0 && !members)) {
        PQclear (seg);
        return qapi_db_error (&perr, out);
    }
    int64_t customers = 0, revenue = 0;
    qapi_rows_t rows;
    qapi_rows_init (&rows, seg, &s_segment_table);
    int c_col = qapi_rows_column (&rows, "customers"), r_col = qapi_rows_column (&rows, "revenue_minor");
    json_t *list = json_array ();
    for (int row = 0; row < PQntuples (seg); row++) {
        json_array_append_new (list, qapi_row_json (&rows, row));
        customers += qapi_int (seg, row, c_col);
        revenue += qapi_int (seg, row, r_col);
    }
    json_t *as_of = PQntuples (seg)? qapi_json_time (seg, 0, txw_pg_column (seg, "as_of")): json_null ();
    PQclear (seg);
    *out = json_pack ("{s:o,s:s,s:I,s:I,s:o}", "as_of", as_of, "currency", api->currency,
                      "customers", (json_int_t) customers, "revenue_minor", (json_int_t) revenue,
                      "segments", list);
    if (members) {
        json_t *page;
        qapi_list_answer (members, "members", &s_member_table, &page);
        s_mask (req, page, "members");
        json_object_set_new (*out, "segment", json_string (s_segments [segment]));
        json_object_set (*out, "members", json_object_get (page, "members"));
        json_object_set_new (*out, "limit", json_integer (atoll (limit)));
        json_object_set_new (*out, "offset", json_integer (atoll (offset)));
        json_decref (page);
    }
    return 200;
}

//  --- GET /api/v1/customers -----------------------------------------------------------

int
qapi_customers (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "sort", "limit", "offset", NULL };
    static const char *const sorts [] = { "ltv", "recency", "frequency", NULL };
    //  Each order has its index on txw_data.customer_rfm.
    static const char *const sql [] = {
        "SELECT " S_MEMBER_COLUMNS " FROM txw.customers WHERE segment IS NOT NULL"
        " ORDER BY monetary DESC, account_id LIMIT $1::int OFFSET $2::int",
        "SELECT " S_MEMBER_COLUMNS " FROM txw.customers WHERE segment IS NOT NULL"
        " ORDER BY rfm_last_seen DESC, account_id LIMIT $1::int OFFSET $2::int",
        "SELECT " S_MEMBER_COLUMNS " FROM txw.customers WHERE segment IS NOT NULL"
        " ORDER BY frequency DESC, account_id LIMIT $1::int OFFSET $2::int"
    };
    qparams_t params;
    qerror_t err;
    int sort;
    char limit [24], offset [24];
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "sort", sorts, 0, &sort, &err)
    ||  s_paging (&params, limit, offset, sizeof limit, &err))
        return qapi_bad_parameter (&err, out);
    const char *values [] = { limit, offset };
    int status;
    PGresult *res = qapi_query1 (api, sql [sort], 2, values, &status, out);
    if (!res)
        return status;
    status = qapi_list_answer (res, "customers", &s_member_table, out);
    s_mask (req, *out, "customers");
    json_object_set_new (*out, "sort", json_string (sorts [sort]));
    json_object_set_new (*out, "currency", json_string (api->currency));
    json_object_set_new (*out, "limit", json_integer (atoll (limit)));
    json_object_set_new (*out, "offset", json_integer (atoll (offset)));
    return status;
}

//  --- GET /api/v1/customers/{account_id} -------------------------------------------

//  A recent transaction of the customer.
static const qapi_column_t s_recent_columns [] = {
    { "tx_id", QAPI_TEXT }, { "ts", QAPI_TIME }, { "amount_minor", QAPI_INT },
    { "currency", QAPI_TEXT }, { "amount_rep_minor", QAPI_INT }, { "merchant_id", QAPI_TEXT },
    { "category", QAPI_TEXT }, { "channel", QAPI_TEXT }, { "country", QAPI_TEXT },
    { "status", QAPI_TEXT }, { "score", QAPI_INT }
};
static const qapi_table_t s_recent_table = QAPI_TABLE (s_recent_columns);

static const qapi_column_t s_profile_columns [] = {
    { "tx_count", QAPI_INT }, { "spend_minor", QAPI_INT }, { "approved", QAPI_INT },
    { "declined", QAPI_INT }, { "failed", QAPI_INT }, { "first_seen", QAPI_TIME },
    { "last_seen", QAPI_TIME }, { "cohort_month", QAPI_TEXT }
};
static const qapi_table_t s_profile_table = QAPI_TABLE (s_profile_columns);

static const qapi_column_t s_rfm_columns [] = {
    { "segment", QAPI_TEXT }, { "r", QAPI_INT }, { "f", QAPI_INT }, { "m", QAPI_INT },
    { "recency_days", QAPI_INT }, { "frequency", QAPI_INT }, { "monetary_minor", QAPI_INT },
    { "as_of", QAPI_TIME }
};
static const qapi_table_t s_rfm_table = QAPI_TABLE (s_rfm_columns);

int
qapi_customer (qapi_t *api, const qrequest_t *req, json_t **out)
{
    PGresult *cust, *recent;
    int status = qapi_record_and_recent (api, req, "customer",
        "SELECT account_id, lifetime_value_rep_minor, tx_count, spend_rep_minor AS spend_minor,"
        " approved, declined, failed, " QAPI_MS_AS ("first_seen", "first_seen") ","
        " " QAPI_MS_AS ("last_seen", "last_seen") ", to_char (cohort_month, 'YYYY-MM') AS cohort_month,"
        " segment, r, f, m, recency_days, frequency, monetary AS monetary_minor,"
        " " QAPI_MS_AS ("rfm_as_of", "as_of") " FROM txw.customers WHERE account_id = $1",
        "SELECT tx_id, " QAPI_MS_AS ("ts", "ts") ", amount_minor, currency, amount_rep_minor,"
        " merchant_id, category, channel, country, status, score FROM txw.transactions"
        " WHERE account_id = $1 ORDER BY ts DESC, tx_id DESC LIMIT $2::int", &cust, &recent, out);
    if (status)
        return status;
    qapi_rows_t profile, rfm;
    qapi_rows_init (&profile, cust, &s_profile_table);
    qapi_rows_init (&rfm, cust, &s_rfm_table);
    //  A customer no refresh has seen yet has no scores.
    json_t *scores = qapi_null (cust, 0, qapi_rows_column (&rfm, "segment"))?
                     json_null (): qapi_row_json (&rfm, 0);
    json_t *list;
    qapi_list_answer (recent, "recent", &s_recent_table, &list);
    recent = NULL;
    *out = json_pack ("{s:o,s:s,s:I,s:o,s:o,s:O}",
        "account_id", qapi_json_text (cust, 0, txw_pg_column (cust, "account_id")),
        "currency", api->currency,
        "lifetime_value_minor",
        (json_int_t) qapi_int (cust, 0, txw_pg_column (cust, "lifetime_value_rep_minor")),
        "profile", qapi_row_json (&profile, 0), "rfm", scores,
        "recent", json_object_get (list, "recent"));
    json_decref (list);
    PQclear (cust);
    PQclear (recent);
    return 200;
}

//  --- GET /api/v1/cohorts ---------------------------------------------------------------

static const qapi_column_t s_period_columns [] = {
    { "period", QAPI_INT }, { "month", QAPI_TEXT }, { "active_customers", QAPI_INT },
    { "retention_pct", QAPI_JSON }, { "revenue_minor", QAPI_INT }, { "orders", QAPI_INT },
    { "avg_order_value_minor", QAPI_JSON }, { "purchase_frequency", QAPI_JSON }
};
static const qapi_table_t s_period_table = QAPI_TABLE (s_period_columns);

int
qapi_cohorts (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "period", "months", NULL };
    static const char *const periods [] = { "month", NULL };
    qparams_t params;
    qerror_t err;
    int period;
    int64_t months;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_enum (&params, "period", periods, 0, &period, &err)
    ||  qparams_int (&params, "months", 12, 1, 120, &months, &err))
        return qapi_bad_parameter (&err, out);
    char months_text [24];
    qapi_param_int (months_text, sizeof months_text, months);
    const char *values [] = { months_text };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return qapi_db_error (&perr, out);
    //  The time of the last refresh (NULL before the first), and the last
    //  `months` cohorts, oldest first, each with its periods.
    PGresult *st = qpool_query (api->pool, conn,
        "SELECT " QAPI_MS_AS ("max (rfm_as_of)", "as_of") " FROM txw.customer_segments",
        0, NULL, &perr);
    PGresult *res = st? qpool_query (api->pool, conn,
        "SELECT to_char (cohort_month, 'YYYY-MM') AS cohort, customers, period,"
        " to_char (month, 'YYYY-MM') AS month, active_customers, retention_pct,"
        " revenue_rep_minor AS revenue_minor, orders,"
        " avg_order_value_rep_minor AS avg_order_value_minor, purchase_frequency"
        " FROM txw.cohorts WHERE cohort_month >= (SELECT min (cohort_month) FROM"
        "   (SELECT DISTINCT cohort_month FROM txw.cohorts ORDER BY cohort_month DESC"
        "    LIMIT $1::int) last)"
        " ORDER BY cohort_month, period", 1, values, &perr): NULL;
    qpool_checkin (api->pool, conn);
    if (!res) {
        PQclear (st);
        return qapi_db_error (&perr, out);
    }
    qapi_rows_t rows;
    qapi_rows_init (&rows, res, &s_period_table);
    int cohort_col = txw_pg_column (res, "cohort"), customers_col = txw_pg_column (res, "customers");
    json_t *list = json_array ();
    json_t *periods_of = NULL;          //  of the cohort being filled
    for (int row = 0; row < PQntuples (res); row++) {
        if (!row || strcmp (qapi_text (res, row, cohort_col), qapi_text (res, row - 1, cohort_col))) {
            periods_of = json_array ();
            json_array_append_new (list, json_pack ("{s:o,s:I,s:o}",
                "cohort", qapi_json_text (res, row, cohort_col),
                "customers", (json_int_t) qapi_int (res, row, customers_col),
                "periods", periods_of));
        }
        json_array_append_new (periods_of, qapi_row_json (&rows, row));
    }
    PQclear (res);
    *out = json_pack ("{s:s,s:o,s:s,s:o}", "period", periods [period],
                      "as_of", qapi_json_time (st, 0, 0), "currency", api->currency,
                      "cohorts", list);
    PQclear (st);
    return 200;
}
