/*  api_private - what the endpoint files of the REST API share

    api.h is what the server calls; this header is for the api*.c files
    only. The endpoints are grouped by family:

        api_stats.c         realtime, timeseries, top, branches, regions
        api_alerts.c        the alert search (and the alert row regions reuse)
        api_workflow.c      an alert's changes: PATCH, ack, reopen, notes
        api_labels.c        the labels of dispositions and chargebacks
        api_accounts.c      transactions, accounts
        api_customers.c     RFM segments, customers, cohorts
        api_recommendations.c  products to recommend
        api_deadletters.c   dead letters
        api.c               what they share: error answers, parameters,
                            running a statement, reading result columns

    Result columns are read by name, never by position, but each name is
    looked up once per result, before the row loop (txw_pg_column, which
    logs a name the result lacks), and the rows are then read by index. A
    missing column has index -1 and reads as NULL: "" as text, 0 as a
    number, null (or [] for reasons) in JSON.                               */

#ifndef TXW_QUERY_API_PRIVATE_H
#define TXW_QUERY_API_PRIVATE_H

#include "api.h"
#include "params.h"
#include "pgutil.h"
#include "rfc3339.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A timestamptz column selected as epoch milliseconds.
#define QAPI_MS(col)            "(extract(epoch FROM " col ") * 1000)::bigint"
#define QAPI_MS_AS(col, name)   QAPI_MS (col) " AS " name

#define QAPI_COUNT(array) ((int) (sizeof (array) / sizeof (array) [0]))

//  --- Error answers: each sets *out and returns the HTTP status -----------------

//  400 {"error":"bad_parameter","parameter":...,"message":...}.
int qapi_bad_parameter (const qerror_t *err, json_t **out);
//  400 for a path id (a tx_id or account_id) that is not valid.
int qapi_bad_id (const char *name, json_t **out);
//  503 "unavailable" or 500 "internal", as the pool says.
int qapi_db_error (const qpool_error_t *err, json_t **out);
//  404 "no <what> <id>".
int qapi_not_found (json_t **out, const char *what, const char *id);

//  --- Parameters ------------------------------------------------------------------

//  A time (RFC3339_SIZE bytes) or an integer as a statement's text parameter.
void qapi_param_time (char *buf, int64_t ms);
void qapi_param_int (char *buf, size_t size, int64_t v);

//  Parses a query string whose one parameter is minutes (1..1440, fallback
//  when absent) and writes the start of that period, as a query parameter,
//  into from (RFC3339_SIZE bytes). Returns 0, or 400 with *out set.
int qapi_period_params (const qrequest_t *req, int64_t fallback, int64_t *minutes, char *from,
                        json_t **out);

//  Parses a request body that must be a JSON object (an empty body is {}),
//  whose members must be among allowed (NULL-terminated). Returns the
//  object (the caller's), or NULL with 400 in *status and *out.
json_t *qapi_body_object (const qrequest_t *req, const char *const *allowed, int *status,
                          json_t **out);

//  --- Searches: filters and keyset cursors --------------------------------------------

#define QAPI_SQL_MAX        4096
#define QAPI_FILTERS_MAX    16

//  A statement built from the filters a request gave: each adds its
//  condition with the next parameter number, so what the request did not
//  ask for is not in the statement at all (and the plan can use the index
//  of what it did).
typedef struct {
    char sql [QAPI_SQL_MAX];
    size_t len;
    const char *values [QAPI_FILTERS_MAX];
    int count;
    bool overflow;              //  a bug: the statement or parameters did not fit
} qapi_sql_t;

//  Starts the statement with text (no parameters).
void qapi_sql_init (qapi_sql_t *self, const char *text);
//  Appends text; each "$$" in it becomes the number of a new parameter
//  whose value is value (borrowed: it must outlive the statement).
void qapi_sql_add (qapi_sql_t *self, const char *text, const char *value);

//  A keyset cursor as the API hands it out: "<time in microseconds>:<rest>",
//  opaque to clients. Writes it into buf (size bytes).
void qapi_cursor_format (char *buf, size_t size, const char *us, const char *rest);
//  Parses one: us the time (its text: digits only), rest what follows the
//  first ':' (non-empty). Returns 0, or 400 with *out set (naming "cursor").
int qapi_cursor_parse (const char *text, char *us, size_t size, const char **rest, json_t **out);

//  --- Statements ------------------------------------------------------------------

//  Runs one statement on its own connection. Returns the result, or NULL
//  with *status and *out set.
PGresult *qapi_query1 (qapi_t *api, const char *sql, int nparams, const char *const *params,
                       int *status, json_t **out);

//  A record read by the id in the path (an account, a customer) with its
//  latest transactions: the id must be valid, the one parameter is limit
//  (1..100, default 20). record_sql ($1 the id) reads the record;
//  recent_sql ($1 the id, $2 the limit) its transactions, on the same
//  connection, only when the record exists. Returns 0 with both results
//  (the caller's to clear), or the status of the answer set in *out: 400,
//  404 ("no <what> <id>"), 503 or 500.
int qapi_record_and_recent (qapi_t *api, const qrequest_t *req, const char *what,
                            const char *record_sql, const char *recent_sql,
                            PGresult **record, PGresult **recent, json_t **out);

//  --- Cells, by a column index from txw_pg_column (-1: missing, reads as NULL) ----

bool qapi_null (const PGresult *res, int row, int col);
//  "" for NULL.
const char *qapi_text (const PGresult *res, int row, int col);
//  0 for NULL.
int64_t qapi_int (const PGresult *res, int row, int col);
//  JSON values, null for NULL: a string, a time in epoch ms as RFC 3339,
//  a number rounded to digits decimals.
json_t *qapi_json_text (const PGresult *res, int row, int col);
json_t *qapi_json_time (const PGresult *res, int row, int col);
json_t *qapi_json_number (const PGresult *res, int row, int col, int digits);

//  --- Row tables: a row as a JSON object, one member per column ------------------

//  How a column of a selected row becomes JSON.
typedef enum {
    QAPI_TEXT, QAPI_INT, QAPI_TIME,
    QAPI_JSON,                  //  a json or jsonb column as ::text, as it is
    QAPI_CODES,                 //  array_to_json(text[])::text, as it is
    QAPI_REASONS                //  the same, each code with its description
} qapi_kind_t;

typedef struct {
    const char *name;           //  the column, and the member it becomes
    qapi_kind_t kind;
} qapi_column_t;

#define QAPI_COLUMNS_MAX 32

typedef struct {
    const qapi_column_t *columns;
    int count;                  //  at most QAPI_COLUMNS_MAX
} qapi_table_t;

//  The table of a static array of columns.
#define QAPI_TABLE(columns) { columns, QAPI_COUNT (columns) }

//  A result's columns for a table, looked up once.
typedef struct {
    const PGresult *res;
    const qapi_table_t *table;
    int index [QAPI_COLUMNS_MAX];
} qapi_rows_t;

void qapi_rows_init (qapi_rows_t *self, const PGresult *res, const qapi_table_t *table);
//  The index of the table's column name in the result (-1 if missing).
int qapi_rows_column (const qapi_rows_t *self, const char *name);
//  The object of one row.
json_t *qapi_row_json (const qapi_rows_t *self, int row);

//  The answer of a list: {name: [the object of each row]}. Frees res.
int qapi_list_answer (PGresult *res, const char *name, const qapi_table_t *table,
                      json_t **out);
//  The answer of a lookup by id: the object of the first row of res, or
//  404 for what id when there is none. Frees res.
int qapi_one_row (PGresult *res, const qapi_table_t *table, const char *what, const char *id,
                  json_t **out);

//  The answer of a page of a keyset search whose statement asked for one
//  row more than limit: {name: [the object of each of the first limit
//  rows], "next_cursor": null, or the cursor of the last row shown when
//  there was one more}. The cursor is the row's time_column (microseconds)
//  and its rest_columns (NULL-terminated) joined by ':'. Frees res.
int qapi_page_answer (PGresult *res, const char *name, const qapi_table_t *table, int64_t limit,
                      const char *time_column, const char *const *rest_columns, json_t **out);

//  --- Alerts (api_alerts.c), which the region health lists too --------------------

#define QAPI_ALERT_COLUMNS                                                           \
    "alert_id AS id, key, kind, tx_id, " QAPI_MS_AS ("ts", "ts") ", account_id, score," \
    " array_to_json(reasons)::text AS reasons, amount_minor, currency,"              \
    " amount_rep_minor, merchant_id, country, channel, region, message,"             \
    " model_version, " QAPI_MS_AS ("raised_at", "raised_at") ", status,"             \
    " " QAPI_MS_AS ("acked_at", "acked_at") ", acked_by,"      \
    " disposition, note, severity, assignee, " QAPI_MS_AS ("updated_at", "updated_at")

//  Replaces the account_id of each alert object of array with its
//  pseudonym (pii.h): what a viewer sees.
void qapi_alerts_mask (json_t *array);

//  The alert object of a row selected with QAPI_ALERT_COLUMNS.
extern const qapi_table_t qapi_alert_table;

#endif
