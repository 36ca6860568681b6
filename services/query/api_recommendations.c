/*  api_recommendations - products to recommend with a product or to a customer

    GET /api/v1/recommendations?product_id=...|customer_id=...&limit=
    reads txw.recommend_for_product and txw.recommend_for_customer
    (proto/sql/018_recommendations.sql), which the aggregator's counts keep
    current as purchases arrive: each answer is a bounded number of index
    reads. A product's recommendations are aggregates, for viewers; a
    customer's follow from what that customer bought, so they are for
    analysts and audited (read.customer) before they are served, and never
    cached (a cached answer would be served without its audit row). Exactly
    one of product_id and customer_id; limit 1..50 (10). A product or
    customer nobody bought is no error: it gets the fallbacks (best sellers
    of its category, then overall), and an empty database an empty list.  */

#include "api_private.h"
#include "codec.h"

#include <stdio.h>
#include <string.h>

#define S_LIMIT_MAX     50

//  Scores and measures are rounded to 6 decimals in SQL and copied as
//  they are (QAPI_JSON): no float formatting on the way.
static const qapi_column_t s_product_columns [] = {
    { "product_id", QAPI_TEXT }, { "name", QAPI_TEXT }, { "category", QAPI_TEXT },
    { "score", QAPI_JSON }, { "source", QAPI_TEXT }, { "orders_together", QAPI_JSON },
    { "support", QAPI_JSON }, { "confidence", QAPI_JSON }, { "lift", QAPI_JSON }
};
static const qapi_table_t s_product_table = QAPI_TABLE (s_product_columns);

static const qapi_column_t s_customer_columns [] = {
    { "product_id", QAPI_TEXT }, { "name", QAPI_TEXT }, { "category", QAPI_TEXT },
    { "score", QAPI_JSON }, { "source", QAPI_TEXT }
};
static const qapi_table_t s_customer_table = QAPI_TABLE (s_customer_columns);

#define S_ROUND(col)    "round (" col "::numeric, 6) AS " col

int
qapi_recommendations (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "product_id", "customer_id", "limit", NULL };
    qparams_t params;
    qerror_t err;
    int64_t limit;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_int (&params, "limit", 10, 1, S_LIMIT_MAX, &limit, &err))
        return qapi_bad_parameter (&err, out);
    const char *product = qparams_get (&params, "product_id");
    const char *customer = qparams_get (&params, "customer_id");
    if (product && customer) {
        qerror_set (&err, "customer_id", "give either product_id or customer_id, not both");
        return qapi_bad_parameter (&err, out);
    }
    if (!product && !customer) {
        qerror_set (&err, "product_id", "give product_id or customer_id");
        return qapi_bad_parameter (&err, out);
    }
    const char *id = product? product: customer;
    if (!qparams_id_valid (id, TXW_ID_MAX))
        return qapi_bad_id (product? "product_id": "customer_id", out);
    if (customer && req->who->role < TXW_ROLE_ANALYST) {
        *out = qapi_error ("forbidden", "customer_id needs the analyst role (a customer's "
                           "purchases are personal); product_id is open to viewers");
        return 403;
    }
    char k [24];
    qapi_param_int (k, sizeof k, limit);
    const char *values [] = { id, k };
    int status;
    PGresult *res = product?
        qapi_query1 (api, "SELECT product_id, name, category, " S_ROUND ("score") ", source,"
                     " orders_together, " S_ROUND ("support") ", " S_ROUND ("confidence") ","
                     " " S_ROUND ("lift") " FROM txw.recommend_for_product ($1, $2::int)",
                     2, values, &status, out):
        qapi_query1 (api, "SELECT product_id, name, category, " S_ROUND ("score") ", source"
                     " FROM txw.recommend_for_customer ($1, $2::int)", 2, values, &status, out);
    if (!res)
        return status;
    if (customer
    &&  (status = qapi_audit_write (api, req, "read.customer", customer,
                                    "{\"endpoint\":\"recommendations\"}", out))) {
        PQclear (res);
        return status;
    }
    qapi_rows_t rows;
    qapi_rows_init (&rows, res, product? &s_product_table: &s_customer_table);
    json_t *items = json_array ();
    for (int row = 0; row < PQntuples (res) && items; row++)
        json_array_append_new (items, qapi_row_json (&rows, row));
    PQclear (res);
    *out = json_pack ("{s:s,s:o}", product? "product_id": "customer_id", id, "items", items);
    return 200;
}
