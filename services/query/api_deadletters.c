/*  api_deadletters - GET /api/v1/dead-letters: the records the validator refused  */

#include "api_private.h"
#include "rejects.h"

const char *const qapi_reject_codes [] = {
#define S_REJECT_CODE(NAME, code, text) code,
    TXW_REJECT_CODES (S_REJECT_CODE)
#undef S_REJECT_CODE
    NULL
};

static const qapi_column_t s_dead_letter_columns [] = {
    { "id", QAPI_INT }, { "received_at", QAPI_TIME }, { "reason", QAPI_TEXT },
    { "field", QAPI_TEXT }, { "message", QAPI_TEXT }, { "tx_id", QAPI_TEXT },
    { "line_no", QAPI_INT }, { "origin_source", QAPI_TEXT }, { "payload", QAPI_TEXT }
};
_Static_assert (QAPI_COUNT (s_dead_letter_columns) <= QAPI_COLUMNS_MAX, "dead letter table too wide");
static const qapi_table_t s_dead_letter_table = QAPI_TABLE (s_dead_letter_columns);

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
        return qapi_bad_parameter (&err, out);
    char limit_text [24];
    qapi_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { reason < 0? NULL: qapi_reject_codes [reason], limit_text };
    int status;
    PGresult *res = qapi_query1 (api,
        "SELECT id, " QAPI_MS_AS ("received_at", "received_at") ", reason, field, message, tx_id, line_no,"
        " origin_source, payload FROM txw.dead_letters"
        " WHERE ($1::text IS NULL OR reason = $1)"
        " ORDER BY received_at DESC, id DESC LIMIT $2::int", 2, values, &status, out);
    if (!res)
        return status;
    return qapi_list_answer (res, "dead_letters", &s_dead_letter_table, out);
}
