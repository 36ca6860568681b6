/*  server - the HTTP side of txw-ingest

    See server.h. A worker does everything a request needs except the
    journal write, which the loop makes for all the requests waiting at
    once: parse (body.c), check every row (checks_apply, under a read lock
    of the rates, which SIGHUP replaces), pack each accepted row as the
    raw_tx record it will be sent as, hash it, submit, answer.

    The answer's status sums up its rows: 202 when every row is accepted
    (new, or the same content as before: a replay answers as the first
    time did), 207 when rows differ, 422 when every row is rejected by the
    checks, 409 when none is accepted and at least one conflicts with the
    content its id already holds. The body lists every row.

    A correction (PATCH) names a stored transaction: the worker reads its
    account, time and status (journal.h, on a connection of its own), so a
    correction of something never stored or not approved is refused here
    (404, 409) rather than becoming a dead letter later, then journals it
    as a posted row is journaled.                                          */

#include "server.h"
#include "admin.h"
#include "apikey.h"
#include "body.h"
#include "checks.h"
#include "clock.h"
#include "httpfront.h"
#include "json.h"
#include "money.h"

#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_JSON_FLAGS    JSON_COMPACT

typedef enum { S_POST, S_PATCH, S_ROUTES, S_NOT_FOUND = S_ROUTES } s_route_t;
static const char *const s_route_names [S_ROUTES + 1] = {
    "post_transactions", "patch_transaction", "not_found"
};
static const char *const s_route_methods [S_ROUTES] = { "POST", "PATCH" };

#define S_COLLECTION    "/api/v1/transactions"
//  A correction's body is two short fields.
#define S_PATCH_BODY_MAX    4096

enum { S_2XX, S_4XX, S_5XX, S_CLASSES };
static const char *const s_class_names [S_CLASSES] = { "2xx", "4xx", "5xx" };

typedef enum { S_ACCEPTED, S_REPLAYED, S_REJECTED, S_CONFLICT, S_OUTCOMES } s_outcome_t;
static const char *const s_outcome_names [S_OUTCOMES] = {
    "accepted", "replayed", "rejected", "conflict"
};

struct _ingest_server_t {
    const ingest_config_t *cfg;
    txw_service_t *svc;
    ingest_t *loop;
    ingest_journal_t *journal;
    struct mg_context *ctx;
    pthread_rwlock_t rates_lock;        //  read by workers, replaced by SIGHUP
    txw_rates_t *rates;
    checks_t *checks;
    txw_front_t front;
    txw_counter_t *requests [S_ROUTES + 1][S_CLASSES];
    txw_counter_t *rows [S_OUTCOMES];
    txw_counter_t *rejects [TXW_REJECT_COUNT];
    txw_histogram_t *latency;
};

//  --- Replies ---------------------------------------------------------------------

typedef struct {
    int status;
    const char *allow;          //  Allow header (405), or NULL
    const char *retry_after;    //  Retry-After header (429, 503), or NULL
    size_t replayed;            //  rows that were journaled before
} s_reply_t;

//  Sends body (consumed) as JSON.
static void
s_send (struct mg_connection *conn, int64_t started_us, const s_reply_t *reply, json_t *body)
{
    char *text = body? json_dumps (body, S_JSON_FLAGS): NULL;
    json_decref (body);
    const char *out = text? text: "{\"error\":\"internal\",\"message\":\"cannot render the answer\"}";
    int status = text? reply->status: 500;
    char length [24], took [32], replayed [24];
    snprintf (length, sizeof length, "%zu", strlen (out));
    mg_response_header_start (conn, status);
    mg_response_header_add (conn, "Content-Type", "application/json", -1);
    mg_response_header_add (conn, "Content-Length", length, -1);
    mg_response_header_add (conn, "Cache-Control", "no-store", -1);
    mg_response_header_add (conn, "X-Content-Type-Options", "nosniff", -1);
    if (status == 401)
        mg_response_header_add (conn, "WWW-Authenticate", "Bearer realm=\"txwatch\"", -1);
    if (reply->allow)
        mg_response_header_add (conn, "Allow", reply->allow, -1);
    if (reply->retry_after)
        mg_response_header_add (conn, "Retry-After", reply->retry_after, -1);
    if (reply->replayed) {
        snprintf (replayed, sizeof replayed, "%zu", reply->replayed);
        mg_response_header_add (conn, "X-Txwatch-Replayed", replayed, -1);
    }
    snprintf (took, sizeof took, "%.6f", (double) (txw_mono_us () - started_us) / 1e6);
    mg_response_header_add (conn, "X-Process-Time", took, -1);
    mg_response_header_send (conn);
    mg_write (conn, out, strlen (out));
    free (text);
}

//  An error answer: {"error": code, "message": ...}; returns status.
static int
s_error (struct mg_connection *conn, int64_t started_us, int status, const char *code,
         const char *message)
{
    s_reply_t reply = { .status = status };
    if (status == 503 || status == 429)
        reply.retry_after = "1";
    s_send (conn, started_us, &reply, json_pack ("{s:s,s:s}", "error", code, "message", message));
    return status;
}

//  --- Who is asking ---------------------------------------------------------------

//  Sends what the front door refused (httpfront.h); returns its status.
static int
s_refuse (struct mg_connection *conn, int64_t started_us, const txw_refusal_t *refusal)
{
    if (!*refusal->retry_after)
        return s_error (conn, started_us, refusal->status, refusal->error, refusal->message);
    s_reply_t reply = { .status = refusal->status, .retry_after = refusal->retry_after };
    s_send (conn, started_us, &reply, json_pack ("{s:s,s:s}", "error", refusal->error,
                                                 "message", refusal->message));
    return refusal->status;
}

//  --- POST /api/v1/transactions ------------------------------------------------------

//  The body's format from Content-Type, or -1 for one not taken.
static int
s_format (const char *content_type)
{
    if (!content_type)
        return -1;
    size_t len = strcspn (content_type, ";");
    while (len && content_type [len - 1] == ' ')
        len--;
    if (len == 16 && !strncasecmp (content_type, "application/json", len))
        return INGEST_FORMAT_JSON;
    if (len == 20 && !strncasecmp (content_type, "application/x-ndjson", len))
        return INGEST_FORMAT_NDJSON;
    return -1;
}

//  Reads the whole body into *body (terminated). Returns its length, -1
//  if it is larger than max, -2 if the client stopped sending.
static long
s_read_body (struct mg_connection *conn, size_t max, char **body)
{
    const struct mg_request_info *ri = mg_get_request_info (conn);
    if (ri->content_length > (long long) max)
        return -1;
    bool known = ri->content_length >= 0;
    size_t size = known? (size_t) ri->content_length + 1: 65536;
    size_t len = 0;
    char *buf = malloc (size);
    while (buf) {
        if (known && len == (size_t) ri->content_length) {
            buf [len] = 0;
            *body = buf;
            return (long) len;
        }
        if (len + 1 == size) {
            if (len > max)
                break;
            size_t bigger = size * 2 > max + 2? max + 2: size * 2;
            char *grown = realloc (buf, bigger);
            if (!grown)
                break;
            buf = grown;
            size = bigger;
        }
        int n = mg_read (conn, buf + len, size - 1 - len);
        if (n < 0 || (n == 0 && known)) {
            free (buf);
            return -2;
        }
        if (n == 0) {
            buf [len] = 0;
            *body = buf;
            return (long) len;
        }
        len += (size_t) n;
        if (len > max)
            break;
    }
    free (buf);
    return -1;
}

//  What one request's rows came to.
typedef struct {
    ingest_rows_t rows;
    ingest_entry_t *entries;            //  the accepted rows' journal entries
    size_t accepted;
    int *entry_of;                      //  each row's entry, or -1 if rejected
    checks_verdict_t *verdicts;         //  each rejected row's
    msgpack_sbuffer records;            //  the accepted rows, packed
} s_post_t;

static void
s_post_fini (s_post_t *post)
{
    ingest_rows_fini (&post->rows);
    free (post->entries);
    free (post->entry_of);
    free (post->verdicts);
    msgpack_sbuffer_destroy (&post->records);
}

//  Checks every row, and packs and hashes the accepted ones. -1 if out of
//  memory.
static int
s_judge (ingest_server_t *self, s_post_t *post)
{
    size_t n = post->rows.count;
    post->entries = calloc (n, sizeof *post->entries);
    post->entry_of = calloc (n, sizeof *post->entry_of);
    post->verdicts = calloc (n, sizeof *post->verdicts);
    if (!post->entries || !post->entry_of || !post->verdicts)
        return -1;
    size_t *offsets = calloc (n + 1, sizeof *offsets);
    if (!offsets)
        return -1;
    msgpack_packer pk;
    msgpack_packer_init (&pk, &post->records, msgpack_sbuffer_write);
    int64_t now_ms = txw_now_ms ();
    int64_t now_us = txw_now_us ();
    txw_tx_t tx;
    pthread_rwlock_rdlock (&self->rates_lock);
    for (size_t i = 0; i < n; i++) {
        txw_raw_tx_t *raw = &post->rows.items [i];
        if (checks_apply (self->checks, raw, now_ms, &tx, &post->verdicts [i])) {
            post->entry_of [i] = -1;
            txw_counter_add (self->rejects [post->verdicts [i].code], 1);
            continue;
        }
        ingest_entry_t *e = &post->entries [post->accepted];
        post->entry_of [i] = (int) post->accepted++;
        e->kind = INGEST_KIND_TRANSACTION;
        snprintf (e->tx_id, sizeof e->tx_id, "%s", tx.tx_id);
        ingest_row_hash (raw, e->hash);
        raw->origin_us = now_us;
        offsets [post->accepted - 1] = post->records.size;
        txw_raw_tx_encode (&pk, raw);
        e->record_len = post->records.size - offsets [post->accepted - 1];
    }
    pthread_rwlock_unlock (&self->rates_lock);
    //  The buffer is final only now (it grew while packing).
    for (size_t j = 0; j < post->accepted; j++)
        post->entries [j].record = post->records.data + offsets [j];
    free (offsets);
    return 0;
}

//  The row's object in the answer.
static json_t *
s_row_result (const s_post_t *post, size_t i, s_outcome_t *outcome)
{
    json_t *row = json_pack ("{s:I}", "index", (json_int_t) i);
    int e = post->entry_of [i];
    if (e >= 0) {
        const ingest_entry_t *entry = &post->entries [e];
        json_object_set_new (row, "tx_id", json_string (entry->tx_id));
        if (entry->outcome == INGEST_CONFLICT) {
            *outcome = S_CONFLICT;
            json_object_set_new (row, "status", json_string ("conflict"));
            json_object_set_new (row, "message", json_string (
                "this tx_id is taken by a transaction with other content"));
        }
        else {
            *outcome = entry->outcome == INGEST_REPLAY? S_REPLAYED: S_ACCEPTED;
            json_object_set_new (row, "status", json_string ("accepted"));
        }
        return row;
    }
    *outcome = S_REJECTED;
    const checks_verdict_t *v = &post->verdicts [i];
    txw_reject_t reject;
    checks_reject (&post->rows.items [i], v, &reject);
    if (*reject.tx_id)
        json_object_set_new (row, "tx_id", json_string (reject.tx_id));
    json_object_set_new (row, "status", json_string ("rejected"));
    json_object_set_new (row, "reason", json_string (txw_reject_names [v->code]));
    json_object_set_new (row, "field", json_string (v->field));
    json_object_set_new (row, "message", txw_json_string (v->message));
    return row;
}

//  Reads a body of at most max bytes into *body; 0, or the status of the
//  error answer sent.
static int
s_body (struct mg_connection *conn, size_t max, const char *option, char **body, long *len,
        int64_t started_us)
{
    *len = s_read_body (conn, max, body);
    if (*len == -2)
        return s_error (conn, started_us, 400, "bad_body", "the body ended early");
    if (*len < 0) {
        char message [96];
        snprintf (message, sizeof message, "the body is larger than %zu bytes%s", max, option);
        return s_error (conn, started_us, 413, "body_too_large", message);
    }
    return 0;
}

static int
s_post (ingest_server_t *self, struct mg_connection *conn, int64_t started_us)
{
    int format = s_format (mg_get_header (conn, "Content-Type"));
    if (format < 0)
        return s_error (conn, started_us, 415, "unsupported_media_type",
                        "send Content-Type: application/json (an object or an array of them) "
                        "or application/x-ndjson (one object a line)");
    char *body = NULL;
    long len;
    int refused = s_body (conn, (size_t) self->cfg->max_body_bytes, " (--max-body-bytes)", &body,
                          &len, started_us);
    if (refused)
        return refused;
    s_post_t post;
    memset (&post, 0, sizeof post);
    msgpack_sbuffer_init (&post.records);
    ingest_body_error_t err;
    ingest_body_rc_t rc = ingest_body_parse (body, (size_t) len, format, (size_t) self->cfg->max_rows,
                                             &post.rows, &err);
    int status;
    if (rc == INGEST_BODY_TOO_MANY) {
        char message [96];
        snprintf (message, sizeof message, "more than %lld transactions in one request (--max-rows)",
                  (long long) self->cfg->max_rows);
        status = s_error (conn, started_us, 413, "too_many_rows", message);
    }
    else
    if (rc != INGEST_BODY_OK) {
        char message [240];
        snprintf (message, sizeof message, "line %zu, column %zu: %s", err.line, err.column,
                  err.message);
        json_t *answer = json_pack ("{s:s,s:s,s:I,s:I}", "error", "bad_body", "message", message,
                                    "line", (json_int_t) err.line, "column", (json_int_t) err.column);
        if (err.row >= 0)
            json_object_set_new (answer, "row", json_integer (err.row));
        s_reply_t reply = { .status = status = 400 };
        s_send (conn, started_us, &reply, answer);
    }
    else
    if (s_judge (self, &post))
        status = s_error (conn, started_us, 503, "unavailable", "out of memory");
    else {
        ingest_job_t job = { .entries = post.entries, .count = post.accepted };
        if (post.accepted && ingest_submit (self->loop, &job))
            status = s_error (conn, started_us, 503, "unavailable",
                              "the journal is not keeping up; nothing was taken, send again");
        else
        if (job.failed)
            status = s_error (conn, started_us, 503, "unavailable",
                              "the journal cannot be written (database unreachable); "
                              "nothing was taken, send again");
        else {
            size_t counts [S_OUTCOMES] = { 0 };
            json_t *results = json_array ();
            for (size_t i = 0; i < post.rows.count; i++) {
                s_outcome_t outcome;
                json_array_append_new (results, s_row_result (&post, i, &outcome));
                counts [outcome]++;
            }
            for (int o = 0; o < S_OUTCOMES; o++)
                txw_counter_add (self->rows [o], counts [o]);
            size_t accepted = counts [S_ACCEPTED] + counts [S_REPLAYED];
            s_reply_t reply = { .replayed = counts [S_REPLAYED] };
            reply.status = accepted == post.rows.count? 202:
                           accepted? 207:
                           counts [S_CONFLICT]? 409: 422;
            status = reply.status;
            s_send (conn, started_us, &reply, json_pack ("{s:I,s:I,s:I,s:o}",
                    "accepted", (json_int_t) accepted,
                    "rejected", (json_int_t) counts [S_REJECTED],
                    "conflicts", (json_int_t) counts [S_CONFLICT], "results", results));
        }
    }
    s_post_fini (&post);
    free (body);
    return status;
}

//  --- PATCH /api/v1/transactions/{tx_id} -----------------------------------------------

//  Reads {"status": ..., "reason": ...}: 0 with status (a
//  txw_correction_status_t) and reason (empty if none) set, or -1 with
//  message set.
static int
s_correction_body (const char *body, size_t len, int *status, char *reason, size_t size,
                   char *message, size_t message_size)
{
    json_error_t error;
    json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &error);
    int rc = -1;
    if (!root)
        snprintf (message, message_size, "line %d, column %d: %s", error.line, error.column,
                  error.text);
    else
    if (!json_is_object (root))
        snprintf (message, message_size, "the body must be a JSON object");
    else {
        const char *key;
        json_t *value;
        rc = 0;
        json_object_foreach (root, key, value)
            if (strcmp (key, "status") && strcmp (key, "reason")) {
                snprintf (message, message_size, "unknown field \"%.40s\"", key);
                rc = -1;
            }
        json_t *s = json_object_get (root, "status");
        json_t *r = json_object_get (root, "reason");
        *status = json_is_string (s)? txw_correction_status_parse (json_string_value (s),
                                                                   json_string_length (s)): 0;
        if (rc == 0 && !*status) {
            snprintf (message, message_size, "status must be reversed, refunded or charged_back");
            rc = -1;
        }
        if (rc == 0 && r && !json_is_null (r)
        &&  (!json_is_string (r) || json_string_length (r) >= size
             || memchr (json_string_value (r), 0, json_string_length (r)))) {
            snprintf (message, message_size, "reason must be text of at most %zu bytes", size - 1);
            rc = -1;
        }
        if (rc == 0)
            snprintf (reason, size, "%s", json_is_string (r)? json_string_value (r): "");
    }
    json_decref (root);
    return rc;
}

static int
s_patch (ingest_server_t *self, struct mg_connection *conn, const char *tx_id,
         const txw_principal_t *who, int64_t started_us)
{
    size_t id_len = strlen (tx_id);
    if (id_len == 0 || id_len > TXW_ID_MAX || !txw_id_chars_valid (tx_id, id_len)) {
        s_reply_t reply = { .status = 400 };
        s_send (conn, started_us, &reply, json_pack ("{s:s,s:s,s:s}", "error", "bad_parameter",
                "parameter", "tx_id", "message", "a tx_id is 1 to 64 characters of [A-Za-z0-9_.:-]"));
        return 400;
    }
    if (s_format (mg_get_header (conn, "Content-Type")) != INGEST_FORMAT_JSON)
        return s_error (conn, started_us, 415, "unsupported_media_type",
                        "send Content-Type: application/json");
    char *body = NULL;
    long len;
    int refused = s_body (conn, S_PATCH_BODY_MAX, "", &body, &len, started_us);
    if (refused)
        return refused;
    txw_correction_t c;
    memset (&c, 0, sizeof c);
    char message [TXW_TEXT_MAX + 64];
    int status;
    int correction;
    if (s_correction_body (body, (size_t) len, &correction, c.reason, sizeof c.reason, message,
                           sizeof message)) {
        free (body);
        return s_error (conn, started_us, 400, "bad_body", message);
    }
    free (body);
    const char *name = txw_correction_status_name (correction);
    //  The stored original gives the account and time the correction is
    //  routed and matched by; what it already is decides what may change.
    ingest_stored_t stored;
    int found = ingest_journal_stored (self->journal, tx_id, &stored);
    if (found < 0)
        return s_error (conn, started_us, 503, "unavailable", "database unreachable");
    if (found == 0) {
        snprintf (message, sizeof message, "no stored transaction %s (a transaction posted is "
                  "corrected once the pipeline has stored it)", tx_id);
        return s_error (conn, started_us, 404, "not_found", message);
    }
    if (strcmp (stored.status, name) && strcmp (stored.status, "approved")) {
        snprintf (message, sizeof message, "transaction %s is %s: %s", tx_id, stored.status,
                  txw_correction_status_parse (stored.status, strlen (stored.status))?
                  "corrected before to another status": "only an approved one is corrected");
        return s_error (conn, started_us, 409, "conflict", message);
    }
    snprintf (c.tx_id, sizeof c.tx_id, "%s", tx_id);
    snprintf (c.account_id, sizeof c.account_id, "%s", stored.account_id);
    snprintf (c.actor, sizeof c.actor, "%s", who->name);
    c.ts_ms = stored.ts_ms;
    c.status = (uint8_t) correction;
    checks_verdict_t verdict;
    if (checks_correction (self->checks, &c, txw_now_ms (), &verdict)) {
        s_reply_t reply = { .status = 422 };
        s_send (conn, started_us, &reply, json_pack ("{s:s,s:s,s:s,s:o}", "error", "rejected",
                "reason", txw_reject_names [verdict.code], "field", verdict.field,
                "message", txw_json_string (verdict.message)));
        return 422;
    }
    msgpack_sbuffer record;
    msgpack_sbuffer_init (&record);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &record, msgpack_sbuffer_write);
    txw_correction_encode (&pk, &c);
    ingest_entry_t entry = { .kind = INGEST_KIND_CORRECTION, .record = record.data,
                             .record_len = record.size };
    snprintf (entry.tx_id, sizeof entry.tx_id, "%s", tx_id);
    ingest_correction_hash (name, c.reason, entry.hash);
    ingest_job_t job = { .entries = &entry, .count = 1 };
    if (ingest_submit (self->loop, &job) || job.failed)
        status = s_error (conn, started_us, 503, "unavailable",
                          "the journal cannot take the correction now; nothing was taken, send again");
    else
    if (entry.outcome == INGEST_CONFLICT)
        status = s_error (conn, started_us, 409, "conflict",
                          "another correction of this transaction (another status or reason) "
                          "was taken before");
    else {
        s_reply_t reply = { .status = 202, .replayed = entry.outcome == INGEST_REPLAY };
        status = 202;
        s_send (conn, started_us, &reply, json_pack ("{s:s,s:s,s:s?}", "tx_id", tx_id,
                "status", name, "reason", *c.reason? c.reason: NULL));
        txw_counter_add (self->rows [entry.outcome == INGEST_REPLAY? S_REPLAYED: S_ACCEPTED], 1);
    }
    msgpack_sbuffer_destroy (&record);
    return status;
}

//  --- Routing ---------------------------------------------------------------------

static int
s_class (int status)
{
    return status >= 500? S_5XX: status >= 400? S_4XX: S_2XX;
}

static int
s_handle (struct mg_connection *conn, void *cbdata)
{
    ingest_server_t *self = cbdata;
    int64_t started_us = txw_mono_us ();
    const struct mg_request_info *ri = mg_get_request_info (conn);
    const char *path = ri->local_uri? ri->local_uri: "";
    size_t plen = strlen (S_COLLECTION);
    const char *arg = NULL;
    s_route_t route = S_NOT_FOUND;
    if (!strcmp (path, S_COLLECTION))
        route = S_POST;
    else
    if (!strncmp (path, S_COLLECTION "/", plen + 1) && path [plen + 1]
    &&  !strchr (path + plen + 1, '/')) {
        route = S_PATCH;
        arg = path + plen + 1;
    }
    txw_principal_t who;
    txw_refusal_t refusal;
    int status;
    if (txw_front_client (&self->front, ri->remote_addr, &refusal))
        status = s_refuse (conn, started_us, &refusal);
    else
    if (route == S_NOT_FOUND)
        status = s_error (conn, started_us, 404, "not_found", "no such endpoint");
    else
    if (strcmp (ri->request_method, s_route_methods [route])) {
        char message [32];
        snprintf (message, sizeof message, "use %s", s_route_methods [route]);
        s_reply_t reply = { .status = status = 405, .allow = s_route_methods [route] };
        s_send (conn, started_us, &reply, json_pack ("{s:s,s:s}", "error", "method_not_allowed",
                                                     "message", message));
    }
    else
    if (txw_front_caller (&self->front, mg_get_header (conn, "Authorization"),
                          mg_get_header (conn, "X-API-Key"), TXW_ROLE_ANALYST, &who, &refusal))
        status = s_refuse (conn, started_us, &refusal);
    else
        status = route == S_POST? s_post (self, conn, started_us):
                                  s_patch (self, conn, arg, &who, started_us);
    txw_counter_add (self->requests [route][s_class (status)], 1);
    if (status >= 500)
        txw_counter_add (self->svc->errors, 1);
    txw_histogram_observe_us (self->latency, txw_mono_us () - started_us);
    return status;
}

//  --- Life cycle ------------------------------------------------------------------

static void
s_metrics_new (ingest_server_t *self)
{
    for (int r = 0; r <= S_ROUTES; r++)
        for (int c = 0; c < S_CLASSES; c++) {
            char labels [96];
            snprintf (labels, sizeof labels, "endpoint=\"%s\",class=\"%s\"", s_route_names [r],
                      s_class_names [c]);
            self->requests [r][c] = txw_counter_new ("txw_ingest_requests_total", labels,
                                                     "API requests by endpoint and status class");
        }
    for (int o = 0; o < S_OUTCOMES; o++) {
        char labels [48];
        snprintf (labels, sizeof labels, "outcome=\"%s\"", s_outcome_names [o]);
        self->rows [o] = txw_counter_new ("txw_ingest_rows_total", labels,
            "rows posted, by outcome (replayed: accepted before, not sent again)");
    }
    for (int code = 0; code < TXW_REJECT_COUNT; code++) {
        char labels [64];
        snprintf (labels, sizeof labels, "reason=\"%s\"", txw_reject_names [code]);
        self->rejects [code] = txw_counter_new ("txw_rejects_total", labels,
                                                "records rejected, by reason");
    }
    txw_front_metrics (&self->front, "txw_ingest");
    self->latency = txw_histogram_new ("txw_ingest_request_seconds",
                                       "time to answer one API request");
}

void
ingest_server_reload (ingest_server_t *self)
{
    txw_rates_t *rates = checks_reload_rates (self->cfg->rates, self->cfg->reporting_currency,
                                              self->rates);
    if (!rates) {
        txw_counter_add (self->svc->errors, 1);
        return;
    }
    pthread_rwlock_wrlock (&self->rates_lock);
    checks_set_rates (self->checks, rates);
    txw_rates_t *old = self->rates;
    self->rates = rates;
    pthread_rwlock_unlock (&self->rates_lock);
    txw_rates_destroy (&old);
}

ingest_server_t *
ingest_server_new (const ingest_config_t *cfg, txw_service_t *svc, ingest_t *loop,
                   ingest_journal_t *journal)
{
    ingest_server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    self->loop = loop;
    self->journal = journal;
    pthread_rwlock_init (&self->rates_lock, NULL);
    if (txw_front_init (&self->front, cfg->database_url, cfg->key_cache_ms,
                        cfg->rate_per_client, cfg->burst_per_client, cfg->rate_per_key,
                        cfg->burst_per_key, cfg->rate_limit_entries))
        goto err;
    //  The validator's checks with its options (services/validator/main.c).
    self->checks = checks_from_options (cfg->rates, cfg->reporting_currency, cfg->min_ts,
                                        cfg->max_future_ms, cfg->max_amount, &self->rates);
    if (!self->checks)
        goto err;
    s_metrics_new (self);

    char threads [16], timeout [24];
    snprintf (threads, sizeof threads, "%lld", (long long) cfg->threads);
    snprintf (timeout, sizeof timeout, "%lld", (long long) cfg->request_timeout_ms);
    const char *options [] = {
        "listening_ports", cfg->listen,
        "num_threads", threads,
        //  A request must arrive whole within the timeout (a large batch
        //  from a slow link needs longer than the query API's 3 s).
        "request_timeout_ms", timeout,
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "5000",
        "max_request_size", "16384",
        "tcp_nodelay", "1",
        NULL
    };
    self->ctx = txw_http_start (options, self, NULL);
    if (!self->ctx) {
        log_error ("cannot listen on %s", cfg->listen);
        goto err;
    }
    mg_set_request_handler (self->ctx, "/", s_handle, self);
    log_info ("API on %s: %lld bytes and %lld rows a request at most", cfg->listen,
              (long long) cfg->max_body_bytes, (long long) cfg->max_rows);
    return self;
err:
    ingest_server_destroy (&self);
    return NULL;
}

void
ingest_server_destroy (ingest_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ingest_server_t *self = *self_p;
    if (self->ctx)
        mg_stop (self->ctx);
    checks_destroy (&self->checks);
    txw_rates_destroy (&self->rates);
    txw_front_destroy (&self->front);
    pthread_rwlock_destroy (&self->rates_lock);
    free (self);
    *self_p = NULL;
}
