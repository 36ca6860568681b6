/*  catchup - stored alerts the notifier did not hear live, from PostgreSQL

    See catchup.h. The alerts read and not finished are a window in id
    order; the cursor is the id before the oldest unfinished one. A hash
    finds a window entry by its key when its delivery finishes.             */

#include "catchup.h"
#include "clock.h"
#include "log.h"
#include "pgutil.h"
#include "reasons.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_WINDOW        4096        //  alerts read and not finished, at most
#define S_READ_MAX      500         //  alerts one query reads
#define S_SAVE_MS       1000        //  the cursor is written at most this often
#define S_RETRY_MS      2000        //  after a database error

#define S_SELECT_SQL                                                            \
    "SELECT alert_id, dedupe_key, kind, coalesce (tx_id, '') AS tx_id,"         \
    " (extract (epoch FROM ts) * 1000)::bigint AS ts_ms,"                       \
    " coalesce (account_id, '') AS account_id, score,"                          \
    " array_to_string (reasons, ',') AS reasons,"                               \
    " coalesce (amount_minor, 0) AS amount_minor, coalesce (currency, '') AS currency," \
    " coalesce (amount_rep_minor, 0) AS amount_rep_minor,"                      \
    " coalesce (merchant_id, '') AS merchant_id, coalesce (country, '') AS country," \
    " coalesce (channel, '') AS channel, coalesce (region, '') AS region,"      \
    " message, model_version,"                                                  \
    " (extract (epoch FROM raised_at) * 1000)::bigint AS raised_ms"             \
    " FROM txw_data.alerts WHERE alert_id > $1 ORDER BY alert_id LIMIT $2"

typedef struct {
    int64_t id;
    char *key;                  //  NULL once finished
} s_entry_t;

struct _nt_catchup_t {
    char *url;
    char *name;
    PGconn *conn;
    bool have_cursor;           //  read from the database (or started at the newest)
    int64_t cursor;             //  every alert up to it is finished
    int64_t saved;              //  the cursor as last written
    int64_t read_upto;          //  the newest alert read
    s_entry_t window [S_WINDOW];
    size_t head, count;
    zhash_t *by_key;            //  key -> s_entry_t * of the alerts waiting
    int64_t save_at_ms;
    int64_t retry_at_ms;
};

nt_catchup_t *
nt_catchup_new (const char *database_url, const char *name)
{
    nt_catchup_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (database_url);
    self->name = strdup (name);
    self->by_key = zhash_new ();
    if (!self->url || !self->name || !self->by_key) {
        nt_catchup_destroy (&self);
        return NULL;
    }
    return self;
}

static void s_save (nt_catchup_t *self);

void
nt_catchup_destroy (nt_catchup_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nt_catchup_t *self = *self_p;
    if (self->conn && self->have_cursor && self->cursor != self->saved)
        s_save (self);
    for (size_t i = 0; i < self->count; i++)
        free (self->window [(self->head + i) % S_WINDOW].key);
    zhash_destroy (&self->by_key);
    if (self->conn)
        PQfinish (self->conn);
    free (self->url);
    free (self->name);
    free (self);
    *self_p = NULL;
}

//  Drops the connection after an error; the next poll tries again later.
static void
s_failed (nt_catchup_t *self, const char *what, PGresult *res)
{
    log_error ("alert catch-up: %s: %s", what,
               res? PQresultErrorMessage (res): PQerrorMessage (self->conn));
    PQclear (res);
    PQfinish (self->conn);
    self->conn = NULL;
    self->retry_at_ms = txw_mono_ms () + S_RETRY_MS;
}

//  Reads the cursor, or starts one at the newest stored alert.
static int
s_load_cursor (nt_catchup_t *self)
{
    const char *params [] = { self->name };
    PGresult *res = PQexecParams (self->conn,
        "SELECT alert_id FROM txw_data.notifier_cursor WHERE name = $1", 1, NULL, params,
        NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        s_failed (self, "cannot read the cursor", res);
        return -1;
    }
    if (PQntuples (res) == 1) {
        self->cursor = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
        self->saved = self->cursor;
        PQclear (res);
        log_info ("alert catch-up: delivering the stored alerts after id %lld (cursor %s)",
                  (long long) self->cursor, self->name);
    }
    else {
        PQclear (res);
        res = PQexec (self->conn, "SELECT coalesce (max (alert_id), 0) FROM txw_data.alerts");
        if (PQresultStatus (res) != PGRES_TUPLES_OK) {
            s_failed (self, "cannot read the newest alert", res);
            return -1;
        }
        self->cursor = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
        self->saved = -1;       //  written at the first save
        PQclear (res);
        log_info ("alert catch-up: first start of cursor %s, from the newest stored alert "
                  "(id %lld) on", self->name, (long long) self->cursor);
    }
    self->read_upto = self->cursor;
    self->have_cursor = true;
    return 0;
}

static void
s_save (nt_catchup_t *self)
{
    char cursor [24];
    snprintf (cursor, sizeof cursor, "%lld", (long long) self->cursor);
    const char *params [] = { self->name, cursor };
    PGresult *res = PQexecParams (self->conn,
        "INSERT INTO txw_data.notifier_cursor (name, alert_id) VALUES ($1, $2)"
        " ON CONFLICT (name) DO UPDATE SET alert_id = excluded.alert_id, updated_at = now()",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_COMMAND_OK) {
        s_failed (self, "cannot write the cursor", res);
        return;
    }
    PQclear (res);
    self->saved = self->cursor;
}

//  Moves the cursor past the finished alerts at the front of the window.
static void
s_advance (nt_catchup_t *self)
{
    while (self->count && self->window [self->head].key == NULL) {
        self->cursor = self->window [self->head].id;
        self->head = (self->head + 1) % S_WINDOW;
        self->count--;
    }
    if (self->count == 0 && self->read_upto > self->cursor)
        self->cursor = self->read_upto;
}

//  Fills alert from row i of a result of S_SELECT_SQL.
static void
s_row_alert (const PGresult *res, int i, txw_alert_t *alert)
{
    memset (alert, 0, sizeof *alert);
    snprintf (alert->kind, sizeof alert->kind, "%s", txw_pg_text (res, i, "kind"));
    snprintf (alert->tx_id, sizeof alert->tx_id, "%s", txw_pg_text (res, i, "tx_id"));
    alert->ts_ms = txw_pg_int (res, i, "ts_ms");
    snprintf (alert->account_id, sizeof alert->account_id, "%s", txw_pg_text (res, i, "account_id"));
    alert->score = (uint8_t) txw_pg_int (res, i, "score");
    //  The reasons are stored by name: back to the bit set.
    char reasons [512];
    snprintf (reasons, sizeof reasons, "%s", txw_pg_text (res, i, "reasons"));
    for (char *save = NULL, *name = strtok_r (reasons, ",", &save); name;
         name = strtok_r (NULL, ",", &save))
        for (int bit = 0; bit < TXW_REASON_COUNT; bit++)
            if (!strcmp (name, txw_reason_name (bit)))
                alert->reasons |= 1u << bit;
    alert->amount_minor = txw_pg_int (res, i, "amount_minor");
    snprintf (alert->currency, sizeof alert->currency, "%s", txw_pg_text (res, i, "currency"));
    alert->amount_rep_minor = txw_pg_int (res, i, "amount_rep_minor");
    snprintf (alert->merchant_id, sizeof alert->merchant_id, "%s", txw_pg_text (res, i, "merchant_id"));
    snprintf (alert->country, sizeof alert->country, "%s", txw_pg_text (res, i, "country"));
    const char *channel = txw_pg_text (res, i, "channel");
    alert->channel = (uint8_t) txw_channel_parse (channel, strlen (channel));
    snprintf (alert->region, sizeof alert->region, "%s", txw_pg_text (res, i, "region"));
    snprintf (alert->message, sizeof alert->message, "%s", txw_pg_text (res, i, "message"));
    snprintf (alert->model_version, sizeof alert->model_version, "%s",
              txw_pg_text (res, i, "model_version"));
    alert->raised_ms = txw_pg_int (res, i, "raised_ms");
}

void
nt_catchup_poll (nt_catchup_t *self, size_t room, nt_catchup_take_fn *take, void *arg)
{
    int64_t now = txw_mono_ms ();
    if (now < self->retry_at_ms)
        return;
    if (!self->conn) {
        self->conn = txw_pg_connect (self->url);
        if (!self->conn) {
            self->retry_at_ms = now + S_RETRY_MS;
            return;
        }
    }
    if (!self->have_cursor && s_load_cursor (self))
        return;
    if (room > S_WINDOW - self->count)
        room = S_WINDOW - self->count;
    if (room > S_READ_MAX)
        room = S_READ_MAX;
    if (room > 0) {
        char after [24], limit [24];
        snprintf (after, sizeof after, "%lld", (long long) self->read_upto);
        snprintf (limit, sizeof limit, "%zu", room);
        const char *params [] = { after, limit };
        PGresult *res = PQexecParams (self->conn, S_SELECT_SQL, 2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus (res) != PGRES_TUPLES_OK) {
            s_failed (self, "cannot read txw_data.alerts", res);
            return;
        }
        for (int i = 0; i < PQntuples (res); i++) {
            txw_alert_t alert;
            s_row_alert (res, i, &alert);
            const char *key = txw_pg_text (res, i, "dedupe_key");
            nt_catchup_take_t what = take (arg, &alert, key);
            if (what == NT_CATCHUP_LATER)
                break;          //  read again from here next time
            int64_t id = txw_pg_int (res, i, "alert_id");
            s_entry_t *e = &self->window [(self->head + self->count) % S_WINDOW];
            e->id = id;
            e->key = NULL;
            self->count++;
            self->read_upto = id;
            if (what != NT_CATCHUP_DONE && !zhash_lookup (self->by_key, key)) {
                e->key = strdup (key);
                if (e->key && zhash_insert (self->by_key, key, e)) {
                    free (e->key);      //  cannot track it: do not hold the cursor
                    e->key = NULL;
                }
            }
        }
        PQclear (res);
    }
    s_advance (self);
    if (self->cursor != self->saved && now >= self->save_at_ms) {
        s_save (self);
        self->save_at_ms = now + S_SAVE_MS;
    }
}

void
nt_catchup_finished (nt_catchup_t *self, const char *key)
{
    s_entry_t *e = zhash_lookup (self->by_key, key);
    if (!e)
        return;
    zhash_delete (self->by_key, key);
    free (e->key);
    e->key = NULL;
}

size_t
nt_catchup_waiting (const nt_catchup_t *self)
{
    return self->count;
}
