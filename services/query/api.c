/*  api - what the endpoint files share: answers, parameters, statements, columns

    The endpoints themselves are in api_stats.c, api_alerts.c,
    api_accounts.c and api_deadletters.c (api_private.h).                    */

#include "api_private.h"
#include "json.h"
#include "codec.h"
#include "reasons.h"
#include "summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  --- Error answers ----------------------------------------------------------------

json_t *
qapi_error (const char *error, const char *message)
{
    return json_pack ("{s:s,s:s}", "error", error, "message", message);
}

int
qapi_bad_parameter (const qerror_t *err, json_t **out)
{
    *out = json_pack ("{s:s,s:s,s:s}", "error", "bad_parameter",
                      "parameter", err->parameter, "message", err->message);
    return 400;
}

int
qapi_bad_id (const char *name, json_t **out)
{
    qerror_t err;
    qerror_set (&err, name, "must be 1 to %d characters from [A-Za-z0-9_.:-]", TXW_ID_MAX);
    return qapi_bad_parameter (&err, out);
}

int
qapi_db_error (const qpool_error_t *err, json_t **out)
{
    *out = qapi_error (err->status == 503? "unavailable": "internal", err->message);
    return err->status;
}

int
qapi_not_found (json_t **out, const char *what, const char *id)
{
    char message [256];
    snprintf (message, sizeof message, "no %s %s", what, id);
    json_t *text = json_string (message);   //  id is known to be UTF-8
    *out = json_pack ("{s:s,s:o}", "error", "not_found",
                      "message", text? text: json_string ("no such resource"));
    return 404;
}

//  --- Parameters -----------------------------------------------------------------

void
qapi_param_time (char *buf, int64_t ms)
{
    rfc3339_format (buf, RFC3339_SIZE, ms);
}

void
qapi_param_int (char *buf, size_t size, int64_t v)
{
    snprintf (buf, size, "%lld", (long long) v);
}

int
qapi_period_params (const qrequest_t *req, int64_t fallback, int64_t *minutes, char *from,
                    json_t **out)
{
    static const char *const allowed [] = { "minutes", NULL };
    qparams_t params;
    qerror_t err;
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_int (&params, "minutes", fallback, 1, 1440, minutes, &err))
        return qapi_bad_parameter (&err, out);
    qapi_param_time (from, req->now_ms - *minutes * 60000);
    return 0;
}

json_t *
qapi_body_object (const qrequest_t *req, const char *const *allowed, int *status, json_t **out)
{
    qerror_t err;
    size_t len = req->body_len;
    const char *p = req->body;
    while (len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        len--;
    }
    json_t *body = len? json_loadb (p, len, JSON_REJECT_DUPLICATES, NULL): json_object ();
    if (!json_is_object (body)) {
        json_decref (body);
        qerror_set (&err, "body", "must be a JSON object");
        *status = qapi_bad_parameter (&err, out);
        return NULL;
    }
    const char *name;
    json_t *value;
    json_object_foreach (body, name, value) {
        bool known = false;
        for (int i = 0; allowed [i] && !known; i++)
            known = !strcmp (name, allowed [i]);
        if (!known) {
            qerror_set (&err, name, "unknown field in the body");
            json_decref (body);
            *status = qapi_bad_parameter (&err, out);
            return NULL;
        }
    }
    return body;
}

//  --- Statements -----------------------------------------------------------------

PGresult *
qapi_query1 (qapi_t *api, const char *sql, int nparams, const char *const *params,
             int *status, json_t **out)
{
    qpool_error_t err;
    qconn_t *conn = qpool_checkout (api->pool, &err);
    PGresult *res = conn? qpool_query (api->pool, conn, sql, nparams, params, &err): NULL;
    qpool_checkin (api->pool, conn);
    if (!res)
        *status = qapi_db_error (&err, out);
    return res;
}

int
qapi_record_and_recent (qapi_t *api, const qrequest_t *req, const char *what,
                        const char *record_sql, const char *recent_sql,
                        PGresult **record, PGresult **recent, json_t **out)
{
    static const char *const allowed [] = { "limit", NULL };
    qparams_t params;
    qerror_t err;
    int64_t limit;
    *record = *recent = NULL;
    if (!qparams_id_valid (req->arg, TXW_ID_MAX))
        return qapi_bad_id ("account_id", out);
    if (qparams_parse (&params, req->query, allowed, &err)
    ||  qparams_int (&params, "limit", 20, 1, 100, &limit, &err))
        return qapi_bad_parameter (&err, out);
    char limit_text [24];
    qapi_param_int (limit_text, sizeof limit_text, limit);
    const char *values [] = { req->arg, limit_text };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return qapi_db_error (&perr, out);
    PGresult *rec = qpool_query (api->pool, conn, record_sql, 1, values, &perr);
    PGresult *list = rec && PQntuples (rec)?
                     qpool_query (api->pool, conn, recent_sql, 2, values, &perr): NULL;
    qpool_checkin (api->pool, conn);
    int status = 0;
    if (!rec || (PQntuples (rec) && !list))
        status = qapi_db_error (&perr, out);
    else
    if (!PQntuples (rec))
        status = qapi_not_found (out, what, req->arg);
    if (status) {
        PQclear (rec);
        PQclear (list);
        return status;
    }
    *record = rec;
    *recent = list;
    return 0;
}

//  --- Cells ------------------------------------------------------------------------

bool
qapi_null (const PGresult *res, int row, int col)
{
    return col < 0 || PQgetisnull (res, row, col);
}

const char *
qapi_text (const PGresult *res, int row, int col)
{
    return qapi_null (res, row, col)? "": PQgetvalue (res, row, col);
}

int64_t
qapi_int (const PGresult *res, int row, int col)
{
    return strtoll (qapi_text (res, row, col), NULL, 10);
}

static json_t *
s_json_int (const PGresult *res, int row, int col)
{
    return qapi_null (res, row, col)? json_null (): json_integer (qapi_int (res, row, col));
}

json_t *
qapi_json_text (const PGresult *res, int row, int col)
{
    if (qapi_null (res, row, col))
        return json_null ();
    json_t *text = json_stringn (PQgetvalue (res, row, col),
                                 (size_t) PQgetlength (res, row, col));
    return text? text: json_string ("");
}

json_t *
qapi_json_time (const PGresult *res, int row, int col)
{
    if (qapi_null (res, row, col))
        return json_null ();
    return txw_json_time (qapi_int (res, row, col));
}

json_t *
qapi_json_number (const PGresult *res, int row, int col, int digits)
{
    if (qapi_null (res, row, col))
        return json_null ();
    return json_real (txw_round (strtod (qapi_text (res, row, col), NULL), digits));
}

//  A text[] column selected as array_to_json(...)::text; with describe,
//  each code becomes {"code","description"}.
static json_t *
s_json_reasons (const PGresult *res, int row, int col, bool describe)
{
    json_t *codes = qapi_null (res, row, col)? NULL:
                    json_loads (qapi_text (res, row, col), 0, NULL);
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

//  A json column as ::text: the value itself (null if unreadable).
static json_t *
s_json_raw (const PGresult *res, int row, int col)
{
    json_t *value = qapi_null (res, row, col)? NULL:
                    json_loads (qapi_text (res, row, col), JSON_DECODE_ANY, NULL);
    return value? value: json_null ();
}

//  --- Row tables ---------------------------------------------------------------------

void
qapi_rows_init (qapi_rows_t *self, const PGresult *res, const qapi_table_t *table)
{
    self->res = res;
    self->table = table;
    for (int i = 0; i < table->count; i++)
        self->index [i] = txw_pg_column (res, table->columns [i].name);
}

int
qapi_rows_column (const qapi_rows_t *self, const char *name)
{
    for (int i = 0; i < self->table->count; i++)
        if (!strcmp (self->table->columns [i].name, name))
            return self->index [i];
    return -1;
}

json_t *
qapi_row_json (const qapi_rows_t *self, int row)
{
    json_t *object = json_object ();
    for (int i = 0; i < self->table->count && object; i++) {
        const qapi_column_t *column = &self->table->columns [i];
        int col = self->index [i];
        qapi_kind_t kind = column->kind;
        json_t *value = kind == QAPI_INT? s_json_int (self->res, row, col):
                        kind == QAPI_TIME? qapi_json_time (self->res, row, col):
                        kind == QAPI_JSON? s_json_raw (self->res, row, col):
                        kind == QAPI_CODES || kind == QAPI_REASONS?
                            s_json_reasons (self->res, row, col, kind == QAPI_REASONS):
                            qapi_json_text (self->res, row, col);
        json_object_set_new (object, column->name, value);
    }
    return object;
}

int
qapi_list_answer (PGresult *res, const char *name, const qapi_table_t *table, json_t **out)
{
    qapi_rows_t rows;
    qapi_rows_init (&rows, res, table);
    json_t *array = json_array ();
    for (int row = 0; row < PQntuples (res) && array; row++)
        json_array_append_new (array, qapi_row_json (&rows, row));
    PQclear (res);
    *out = json_pack ("{s:o}", name, array);
    return 200;
}

int
qapi_one_row (PGresult *res, const qapi_table_t *table, const char *what, const char *id,
              json_t **out)
{
    int status = PQntuples (res)? 200: qapi_not_found (out, what, id);
    if (status == 200) {
        qapi_rows_t rows;
        qapi_rows_init (&rows, res, table);
        *out = qapi_row_json (&rows, 0);
    }
    PQclear (res);
    return status;
}

//  --- Searches ---------------------------------------------------------------------

void
qapi_sql_init (qapi_sql_t *self, const char *text)
{
    self->len = 0;
    self->count = 0;
    self->overflow = false;
    self->sql [0] = 0;
    qapi_sql_add (self, text, NULL);
}

void
qapi_sql_add (qapi_sql_t *self, const char *text, const char *value)
{
    bool numbered = false;
    for (const char *p = text; *p && !self->overflow; p++) {
        size_t room = sizeof self->sql - self->len;
        if (p [0] == '$' && p [1] == '$') {
            if (!numbered && self->count == QAPI_FILTERS_MAX) {
                self->overflow = true;
                break;
            }
            if (!numbered)
                self->values [self->count++] = value;
            numbered = true;
            int n = snprintf (self->sql + self->len, room, "$%d", self->count);
            if (n < 0 || (size_t) n >= room)
                self->overflow = true;
            else
                self->len += (size_t) n;
            p++;
        }
        else
        if (room > 1)
            self->sql [self->len++] = *p;
        else
            self->overflow = true;
    }
    //  Always a string, even cut: the caller checks overflow before using it.
    self->sql [self->len] = 0;
}

void
qapi_cursor_format (char *buf, size_t size, const char *us, const char *rest)
{
    snprintf (buf, size, "%s:%s", us, rest);
}

int
qapi_page_answer (PGresult *res, const char *name, const qapi_table_t *table, int64_t limit,
                  const char *time_column, const char *const *rest_columns, json_t **out)
{
    qapi_rows_t rows;
    qapi_rows_init (&rows, res, table);
    int n = PQntuples (res) > limit? (int) limit: PQntuples (res);
    json_t *array = json_array ();
    for (int row = 0; row < n && array; row++)
        json_array_append_new (array, qapi_row_json (&rows, row));
    json_t *next = NULL;
    if (PQntuples (res) > limit) {
        char rest [256] = "", text [300];
        size_t used = 0;
        for (int i = 0; rest_columns [i]; i++)
            used += (size_t) snprintf (rest + used, used < sizeof rest? sizeof rest - used: 0,
                                       "%s%s", i? ":": "",
                                       qapi_text (res, n - 1, txw_pg_column (res, rest_columns [i])));
        qapi_cursor_format (text, sizeof text, qapi_text (res, n - 1, txw_pg_column (res, time_column)),
                            rest);
        next = json_string (text);
    }
    PQclear (res);
    *out = json_pack ("{s:o,s:o}", name, array, "next_cursor", next? next: json_null ());
    return 200;
}

int
qapi_cursor_parse (const char *text, char *us, size_t size, const char **rest, json_t **out)
{
    size_t digits = strspn (text, "0123456789");
    if (digits == 0 || digits > 18 || digits >= size || text [digits] != ':' || !text [digits + 1]) {
        qerror_t err;
        qerror_set (&err, "cursor", "must be a next_cursor of an earlier answer");
        return qapi_bad_parameter (&err, out);
    }
    memcpy (us, text, digits);
    us [digits] = 0;
    *rest = text + digits + 1;
    return 0;
}
