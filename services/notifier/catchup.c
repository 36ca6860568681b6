/*  catchup - what the notifier must still send, from PostgreSQL

    See catchup.h. The alerts read and not finished are a window in id
    order; the cursor is the id before the oldest unfinished one. A hash
    finds a window entry by its key when its delivery finishes. Closes are
    read a batch at a time: the next batch waits until the resolves of the
    last one are finished, and the event cursor then moves past it.         */

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
#define S_EVENTS_MAX    200         //  alert events one query reads
//  An event id skipped in the sequence may belong to a transaction not yet
//  committed (several API replicas write events): the reader waits this
//  long for it before passing it (a rolled-back insert never fills it).
#define S_GAP_WAIT_MS   2000

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

#define S_EVENTS_SQL                                                            \
    "SELECT e.event_id, e.dedupe_key, a.kind, a.score,"                         \
    " coalesce (a.amount_rep_minor, 0) AS amount_rep_minor"                     \
    " FROM txw_data.alert_events e LEFT JOIN txw_data.alerts a"                 \
    " ON a.alert_id = e.alert_id AND a.ts = e.ts"                               \
    " AND e.field = 'status' AND e.new_value = 'closed'"                        \
    " WHERE e.event_id > $1 ORDER BY e.event_id LIMIT $2"

typedef struct {
    int64_t id;
    char *key;                  //  NULL once finished
} s_entry_t;

//  A cursor row: how far one table has been followed.
typedef struct {
    const char *what;           //  for logs
    const char *load_sql;       //  its value by name
    const char *newest_sql;     //  where a first start begins
    const char *save_sql;       //  upsert by name
    bool loaded;                //  read from the database (or started at the newest)
    int64_t value;              //  every row up to it is finished
    int64_t saved;              //  as last written
    int64_t save_at_ms;
} s_cursor_t;

struct _nt_catchup_t {
    char *url;
    char *name;
    PGconn *conn;
    s_cursor_t alerts;
    int64_t read_upto;          //  the newest alert read
    s_entry_t window [S_WINDOW];
    size_t head, count;
    zhash_t *by_key;            //  key -> s_entry_t * of the alerts waiting
    int64_t retry_at_ms;
    bool follow_closes;
    s_cursor_t events;
    int64_t events_read_upto;   //  the newest event read
    size_t closes_waiting;      //  resolves of the last batch not finished
    int64_t gap_since_ms;       //  when the reader first stopped at a gap, 0: none
};

nt_catchup_t *
nt_catchup_new (const char *database_url, const char *name)
{
    nt_catchup_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (database_url);
    self->name = strdup (name);
    self->alerts = (s_cursor_t) {
        .what = "alert",
        .load_sql = "SELECT alert_id FROM txw_data.notifier_cursor WHERE name = $1",
        .newest_sql = "SELECT coalesce (max (alert_id), 0) FROM txw_data.alerts",
        .save_sql = "INSERT INTO txw_data.notifier_cursor (name, alert_id) VALUES ($1, $2)"
                    " ON CONFLICT (name) DO UPDATE SET alert_id = excluded.alert_id,"
                    " updated_at = now()"
    };
    self->events = (s_cursor_t) {
        .what = "alert event",
        .load_sql = "SELECT event_id FROM txw_data.notifier_event_cursor WHERE name = $1",
        .newest_sql = "SELECT coalesce (max (event_id), 0) FROM txw_data.alert_events",
        .save_sql = "INSERT INTO txw_data.notifier_event_cursor (name, event_id) VALUES ($1, $2)"
                    " ON CONFLICT (name) DO UPDATE SET event_id = excluded.event_id,"
                    " updated_at = now()"
    };
    self->by_key = zhash_new ();
    if (!self->url || !self->name || !self->by_key) {
        nt_catchup_destroy (&self);
        return NULL;
    }
    return self;
}

static void s_save (nt_catchup_t *self, s_cursor_t *cursor);

void
nt_catchup_destroy (nt_catchup_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nt_catchup_t *self = *self_p;
    if (self->conn && self->alerts.loaded && self->alerts.value != self->alerts.saved)
        s_save (self, &self->alerts);
    if (self->conn && self->events.loaded && self->events.value != self->events.saved)
        s_save (self, &self->events);
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
    log_error ("catch-up: %s: %s", what,
               res? PQresultErrorMessage (res): PQerrorMessage (self->conn));
    PQclear (res);
    PQfinish (self->conn);
    self->conn = NULL;
    self->retry_at_ms = txw_mono_ms () + S_RETRY_MS;
}

//  Reads the cursor, or starts one at the newest row.
static int
s_load (nt_catchup_t *self, s_cursor_t *cursor)
{
    const char *params [] = { self->name };
    PGresult *res = PQexecParams (self->conn, cursor->load_sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        s_failed (self, "cannot read the cursor", res);
        return -1;
    }
    if (PQntuples (res) == 1) {
        cursor->value = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
        cursor->saved = cursor->value;
        PQclear (res);
        log_info ("catch-up: following the stored %ss after id %lld (cursor %s)", cursor->what,
                  (long long) cursor->value, self->name);
    }
    else {
        PQclear (res);
        res = PQexec (self->conn, cursor->newest_sql);
        if (PQresultStatus (res) != PGRES_TUPLES_OK) {
            s_failed (self, "cannot read the newest row", res);
            return -1;
        }
        cursor->value = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
        cursor->saved = -1;     //  written at the first save
        PQclear (res);
        log_info ("catch-up: first start of cursor %s, from the newest stored %s (id %lld) on",
                  self->name, cursor->what, (long long) cursor->value);
    }
    cursor->loaded = true;
    return 0;
}

static void
s_save (nt_catchup_t *self, s_cursor_t *cursor)
{
    char value [24];
    snprintf (value, sizeof value, "%lld", (long long) cursor->value);
    const char *params [] = { self->name, value };
    PGresult *res = PQexecParams (self->conn, cursor->save_sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_COMMAND_OK) {
        s_failed (self, "cannot write the cursor", res);
        return;
    }
    PQclear (res);
    cursor->saved = cursor->value;
}

//  Writes the cursor when it moved, at most every S_SAVE_MS.
static void
s_save_due (nt_catchup_t *self, s_cursor_t *cursor, int64_t now)
{
    if (self->conn && cursor->value != cursor->saved && now >= cursor->save_at_ms) {
        s_save (self, cursor);
        cursor->save_at_ms = now + S_SAVE_MS;
    }
}

//  Moves the cursor past the finished alerts at the front of the window.
static void
s_advance (nt_catchup_t *self)
{
    while (self->count && self->window [self->head].key == NULL) {
        self->alerts.value = self->window [self->head].id;
        self->head = (self->head + 1) % S_WINDOW;
        self->count--;
    }
    if (self->count == 0 && self->read_upto > self->alerts.value)
        self->alerts.value = self->read_upto;
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

//  Connects and reads both cursors if not done yet. Returns 0 when ready.
static int
s_ready (nt_catchup_t *self, int64_t now)
{
    if (now < self->retry_at_ms)
        return -1;
    if (!self->conn) {
        self->conn = txw_pg_connect (self->url);
        if (!self->conn) {
            self->retry_at_ms = now + S_RETRY_MS;
            return -1;
        }
    }
    if (!self->alerts.loaded) {
        if (s_load (self, &self->alerts))
            return -1;
        self->read_upto = self->alerts.value;
    }
    if (self->follow_closes && !self->events.loaded) {
        if (s_load (self, &self->events))
            return -1;
        self->events_read_upto = self->events.value;
    }
    return 0;
}

void
nt_catchup_poll (nt_catchup_t *self, size_t room, nt_catchup_take_fn *take, void *arg)
{
    int64_t now = txw_mono_ms ();
    if (s_ready (self, now))
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
    s_save_due (self, &self->alerts, now);
}

void
nt_catchup_follow_closes (nt_catchup_t *self)
{
    self->follow_closes = true;
}

void
nt_catchup_poll_closes (nt_catchup_t *self, nt_catchup_take_fn *take, void *arg)
{
    int64_t now = txw_mono_ms ();
    if (!self->follow_closes || s_ready (self, now))
        return;
    s_save_due (self, &self->events, now);      //  moved by nt_catchup_close_finished
    if (self->closes_waiting > 0 || !self->conn)
        return;
    char after [24], limit [24];
    snprintf (after, sizeof after, "%lld", (long long) self->events_read_upto);
    snprintf (limit, sizeof limit, "%d", S_EVENTS_MAX);
    const char *params [] = { after, limit };
    PGresult *res = PQexecParams (self->conn, S_EVENTS_SQL, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        s_failed (self, "cannot read txw_data.alert_events", res);
        return;
    }
    for (int i = 0; i < PQntuples (res); i++) {
        int64_t id = txw_pg_int (res, i, "event_id");
        if (id != self->events_read_upto + 1) {
            if (!self->gap_since_ms)
                self->gap_since_ms = now;
            if (now - self->gap_since_ms < S_GAP_WAIT_MS)
                break;          //  the missing event may still commit
        }
        if (!PQgetisnull (res, i, PQfnumber (res, "kind"))) {
            //  A close, of an alert still stored: offered for its resolves.
            txw_alert_t alert;
            memset (&alert, 0, sizeof alert);
            snprintf (alert.kind, sizeof alert.kind, "%s", txw_pg_text (res, i, "kind"));
            alert.score = (uint8_t) txw_pg_int (res, i, "score");
            alert.amount_rep_minor = txw_pg_int (res, i, "amount_rep_minor");
            nt_catchup_take_t what = take (arg, &alert, txw_pg_text (res, i, "dedupe_key"));
            if (what == NT_CATCHUP_LATER)
                break;          //  read again from here next time
            if (what == NT_CATCHUP_SENT)
                self->closes_waiting++;
        }
        //  Past the row (and the gap before it, if any): a row read again
        //  after NT_CATCHUP_LATER does not wait at its gap a second time.
        self->events_read_upto = id;
        self->gap_since_ms = 0;
    }
    PQclear (res);
    if (self->closes_waiting == 0)
        self->events.value = self->events_read_upto;
    s_save_due (self, &self->events, now);
}

void
nt_catchup_close_finished (nt_catchup_t *self)
{
    if (self->closes_waiting > 0 && --self->closes_waiting == 0)
        self->events.value = self->events_read_upto;
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
