/*  fuzz_api - the REST endpoints' checks of a request, before the database

    The first byte picks an endpoint of services/query (api.h); the rest is
    "query \n path argument \n body" (the query and argument end at a NUL
    as civetweb's strings do; the body is bytes). The endpoint runs for
    real against a pool whose database does not exist, so a request either
    fails its checks (400, {"error":"bad_parameter","parameter",
    "message"}; 403 for a viewer's alert search by account) or passes them
    and meets the missing database (503, "unavailable"); whoami, which needs no database, may answer 200. The
    caller is an authenticated key whose role the first byte picks too (a
    viewer's alerts take the pseudonym path). Anything else - another
    status, a body that is not such an object or does not serialise -
    fails.                                                                 */

#include "api.h"
#include "fuzz.h"

static const struct {
    qapi_fn *fn;
    bool has_arg;
    bool may_succeed;           //  answers 200 without the database
} s_endpoints [] = {
    { qapi_stats_realtime, false, false }, { qapi_timeseries, false, false },
    { qapi_top, true, false }, { qapi_branches, false, false }, { qapi_regions, false, false },
    { qapi_alerts, false, false }, { qapi_ack, true, false }, { qapi_reopen, true, false },
    { qapi_transaction, true, false }, { qapi_account, true, false },
    { qapi_dead_letters, false, false }, { qapi_whoami, false, true },
    { qapi_keys, false, false }, { qapi_key_create, false, false },
    { qapi_key_revoke, true, false }, { qapi_audit, false, false },
    { qapi_alert_update, true, false }, { qapi_notes, true, false },
    { qapi_note_add, true, false }, { qapi_labels, false, false }
};
#define S_ENDPOINTS (sizeof s_endpoints / sizeof s_endpoints [0])

static const char *
s_text (json_t *o, const char *key)
{
    return json_string_value (json_object_get (o, key));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static qapi_t api;
    if (!api.pool) {
        //  A socket directory that does not exist: every connection fails at once.
        api.pool = qpool_new ("host=/nonexistent/txw-fuzz dbname=txw", 1, 1000, 10);
        api.currency = "EUR";
        api.currency_exponent = 2;
        api.health_threshold = 0.05;
        api.alert_threshold = 80;
    }
    if (size < 1)
        return 0;
    size_t e = data [0] % S_ENDPOINTS;
    txw_principal_t who = { "0123456789abcdef", "fuzz",
                            (txw_role_t) (TXW_ROLE_VIEWER + (data [0] / S_ENDPOINTS) % 3) };
    const char *text = (const char *) data + 1;
    size_t len = size - 1;
    const char *nl1 = memchr (text, '\n', len);
    size_t query_len = nl1? (size_t) (nl1 - text): len;
    const char *rest = nl1? nl1 + 1: text + len;
    size_t rest_len = (size_t) (text + len - rest);
    const char *nl2 = memchr (rest, '\n', rest_len);
    size_t arg_len = nl2? (size_t) (nl2 - rest): rest_len;
    const char *body = nl2? nl2 + 1: rest + rest_len;
    size_t body_len = (size_t) (text + len - body);

    char *query = fuzz_cstring ((const uint8_t *) text, query_len);
    char *arg = fuzz_cstring ((const uint8_t *) rest, arg_len);
    char *body_copy = malloc (body_len? body_len: 1);
    memcpy (body_copy, body, body_len);
    qrequest_t req = {
        .query = query,
        .arg = s_endpoints [e].has_arg? arg: NULL,
        .body = body_len? body_copy: NULL,
        .body_len = body_len,
        .now_ms = 1767607200000,
        .who = &who,
        .client = "127.0.0.1"
    };
    json_t *out = NULL;
    int status = s_endpoints [e].fn (&api, &req, &out);
    FUZZ_CHECK (json_is_object (out), "endpoint %zu answered %d without an object", e, status);
    const char *error = s_text (out, "error");
    FUZZ_CHECK (status == 200 || (error && s_text (out, "message")),
                "endpoint %zu answered %d without an error", e, status);
    if (status == 200 && s_endpoints [e].may_succeed)
        FUZZ_CHECK (!error, "endpoint %zu: 200 with error '%s'", e, error);
    else
    if (status == 400)
        FUZZ_CHECK (!strcmp (error, "bad_parameter") && s_text (out, "parameter"),
                    "endpoint %zu: 400 with error '%s'", e, error);
    else
    if (status == 403)          //  a viewer's search by account, before the database
        FUZZ_CHECK (s_endpoints [e].fn == qapi_alerts && who.role < TXW_ROLE_ANALYST
                    && !strcmp (error, "forbidden"), "endpoint %zu: 403 '%s'", e, error);
    else
        FUZZ_CHECK (status == 503 && !strcmp (error, "unavailable"),
                    "endpoint %zu answered %d '%s' with no database", e, status, error);
    char *dumped = json_dumps (out, JSON_COMPACT);
    FUZZ_CHECK (dumped, "endpoint %zu: the answer does not serialise", e);
    free (dumped);
    json_decref (out);
    free (query);
    free (arg);
    free (body_copy);
    return 0;
}
