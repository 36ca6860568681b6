/*  api_accounts - one transaction, and one account with its recent ones

    GET /api/v1/transactions/{tx_id} and GET /api/v1/accounts/{account_id}
    read txw.transactions and txw.accounts; both give a transaction as the
    same object (s_tx_table).                                              */

#include "api_private.h"
#include "codec.h"

#include <stdbool.h>

#define S_TX_COLUMNS                                                                 \
    "tx_id, " QAPI_MS_AS ("ts", "ts") ", account_id, amount_minor, currency,"        \
    " amount_rep_minor, merchant_id, category, channel, branch_id, region, country,"  \
    " device_id, device_type, product_id, order_id, status, score,"                  \
    " array_to_json(reasons)::text AS reasons, model_version,"                       \
    " " QAPI_MS_AS ("stored_at", "stored_at")

//  The transaction object of a row selected with S_TX_COLUMNS.
static const qapi_column_t s_tx_columns [] = {
    { "tx_id", QAPI_TEXT }, { "ts", QAPI_TIME }, { "account_id", QAPI_TEXT },
    { "amount_minor", QAPI_INT }, { "currency", QAPI_TEXT }, { "amount_rep_minor", QAPI_INT },
    { "merchant_id", QAPI_TEXT }, { "category", QAPI_TEXT }, { "channel", QAPI_TEXT },
    { "branch_id", QAPI_TEXT }, { "region", QAPI_TEXT }, { "country", QAPI_TEXT },
    { "device_id", QAPI_TEXT }, { "device_type", QAPI_TEXT }, { "product_id", QAPI_TEXT },
    { "order_id", QAPI_TEXT }, { "status", QAPI_TEXT },
    { "score", QAPI_INT }, { "reasons", QAPI_REASONS }, { "model_version", QAPI_TEXT },
    { "stored_at", QAPI_TIME }
};
_Static_assert (QAPI_COUNT (s_tx_columns) <= QAPI_COLUMNS_MAX, "transaction table too wide");
static const qapi_table_t s_tx_table = QAPI_TABLE (s_tx_columns);

//  --- GET /api/v1/transactions/{tx_id} -----------------------------------------------

int
qapi_transaction (qapi_t *api, const qrequest_t *req, json_t **out)
{
    qerror_t err;
    qparams_t params;
    static const char *const allowed [] = { NULL };
    if (!qparams_id_valid (req->arg, TXW_ID_MAX))
        return qapi_bad_id ("tx_id", out);
    if (qparams_parse (&params, req->query, allowed, &err))
        return qapi_bad_parameter (&err, out);
    const char *values [] = { req->arg };
    int status;
    PGresult *res = qapi_query1 (api,
        "SELECT " S_TX_COLUMNS " FROM txw.transactions WHERE tx_id = $1"
        " ORDER BY ts DESC LIMIT 1", 1, values, &status, out);
    if (!res)
        return status;
    return qapi_one_row (res, &s_tx_table, "transaction", req->arg, out);
}

//  --- GET /api/v1/accounts/{account_id} ------------------------------------------------

static const char *
s_risk_level (int64_t max_score, bool recent_flagged, int threshold)
{
    if (recent_flagged || max_score >= threshold)
        return "high";
    return max_score * 2 >= threshold? "medium": "low";
}

//  Where the columns of the txw.accounts query are in its result.
typedef struct {
    int account_id, tx_count, spend, lifetime_value, approved, declined, failed, flagged,
        mean_score, max_score, first_seen, last_seen;
} s_account_cols_t;

static void
s_account_columns (const PGresult *res, s_account_cols_t *cols)
{
    *cols = (s_account_cols_t) {
        .account_id = txw_pg_column (res, "account_id"),
        .tx_count = txw_pg_column (res, "tx_count"),
        .spend = txw_pg_column (res, "spend_rep_minor"),
        .lifetime_value = txw_pg_column (res, "lifetime_value_rep_minor"),
        .approved = txw_pg_column (res, "approved"), .declined = txw_pg_column (res, "declined"),
        .failed = txw_pg_column (res, "failed"), .flagged = txw_pg_column (res, "flagged"),
        .mean_score = txw_pg_column (res, "mean_score"),
        .max_score = txw_pg_column (res, "max_score"),
        .first_seen = txw_pg_column (res, "first_seen"),
        .last_seen = txw_pg_column (res, "last_seen")
    };
}

//  The account object from its txw.accounts row and its recent transactions.
static json_t *
s_account_json (qapi_t *api, const PGresult *acc, const PGresult *recent)
{
    qapi_rows_t rows;
    qapi_rows_init (&rows, recent, &s_tx_table);
    int score = qapi_rows_column (&rows, "score");
    json_t *list = json_array ();
    bool recent_flagged = false;
    for (int row = 0; row < PQntuples (recent); row++) {
        json_array_append_new (list, qapi_row_json (&rows, row));
        recent_flagged = recent_flagged || qapi_int (recent, row, score) >= api->alert_threshold;
    }
    s_account_cols_t c;
    s_account_columns (acc, &c);
    int64_t max_score = qapi_int (acc, 0, c.max_score);
    json_t *risk = json_pack ("{s:s,s:I,s:I,s:o}",
        "level", s_risk_level (max_score, recent_flagged, api->alert_threshold),
        "flagged", (json_int_t) qapi_int (acc, 0, c.flagged), "max_score", (json_int_t) max_score,
        "mean_score", qapi_json_number (acc, 0, c.mean_score, 2));
    return json_pack ("{s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}",
        "account_id", qapi_json_text (acc, 0, c.account_id), "currency", api->currency,
        "tx_count", (json_int_t) qapi_int (acc, 0, c.tx_count),
        "lifetime_value_minor", (json_int_t) qapi_int (acc, 0, c.lifetime_value),
        "spend_minor", (json_int_t) qapi_int (acc, 0, c.spend),
        "approved", (json_int_t) qapi_int (acc, 0, c.approved),
        "declined", (json_int_t) qapi_int (acc, 0, c.declined),
        "failed", (json_int_t) qapi_int (acc, 0, c.failed),
        "first_seen", qapi_json_time (acc, 0, c.first_seen),
        "last_seen", qapi_json_time (acc, 0, c.last_seen),
        "risk", risk, "recent", list);
}

int
qapi_account (qapi_t *api, const qrequest_t *req, json_t **out)
{
    PGresult *acc, *recent;
    int status = qapi_record_and_recent (api, req, "account",
        "SELECT account_id, tx_count, spend_rep_minor, lifetime_value_rep_minor, approved,"
        " declined, failed, flagged, mean_score, max_score, " QAPI_MS_AS ("first_seen", "first_seen") ","
        " " QAPI_MS_AS ("last_seen", "last_seen") " FROM txw.accounts WHERE account_id = $1",
        "SELECT " S_TX_COLUMNS " FROM txw.transactions WHERE account_id = $1"
        " ORDER BY ts DESC, tx_id DESC LIMIT $2::int", &acc, &recent, out);
    if (status)
        return status;
    *out = s_account_json (api, acc, recent);
    PQclear (acc);
    PQclear (recent);
    return 200;
}
