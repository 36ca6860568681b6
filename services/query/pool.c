/*  pool - a few PostgreSQL connections shared by the HTTP threads           */

#include "pool.h"
#include "clock.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RETRY_MS      250     //  least time between attempts while down
#define S_PING_MS       1000

struct _qconn_t {
    PGconn *conn;
    bool busy;
};

struct _qpool_t {
    char *url;
    char options [96];
    int size;
    int wait_ms;
    qconn_t *conns;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int64_t last_attempt_ms;    //  monotonic, under lock
    int ready;                  //  atomic
    int64_t last_ok_ms;         //  atomic, monotonic
    txw_counter_t *waits, *timeouts, *errors;
    pthread_t monitor;
    bool monitor_started;
    bool stopping;              //  under lock
    pthread_cond_t stop;
};

qpool_t *
qpool_new (const char *url, int size, int statement_timeout_ms, int wait_ms)
{
    qpool_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (url);
    self->conns = calloc ((size_t) size, sizeof *self->conns);
    if (!self->url || !self->conns) {
        free (self->url);
        free (self->conns);
        free (self);
        return NULL;
    }
    self->size = size;
    self->wait_ms = wait_ms;
    snprintf (self->options, sizeof self->options,
              "-c statement_timeout=%d -c TimeZone=UTC", statement_timeout_ms);
    pthread_cond_init (&self->freed, NULL);
    pthread_cond_init (&self->stop, NULL);
    pthread_mutex_init (&self->lock, NULL);
    self->last_attempt_ms = -S_RETRY_MS;
    self->ready = 1;            //  until a first attempt says otherwise (logged)
    return self;
}

void
qpool_set_metrics (qpool_t *self, txw_counter_t *waits, txw_counter_t *timeouts,
                   txw_counter_t *errors)
{
    self->waits = waits;
    self->timeouts = timeouts;
    self->errors = errors;
}

static void
s_count (txw_counter_t *counter)
{
    if (counter)
        txw_counter_add (counter, 1);
}

bool
qpool_ready (qpool_t *self)
{
    return __atomic_load_n (&self->ready, __ATOMIC_RELAXED);
}

//  Records the outcome of a use of the database; logs the transitions.
static void
s_set_ready (qpool_t *self, bool ready, const char *why)
{
    if (ready)
        __atomic_store_n (&self->last_ok_ms, txw_mono_ms (), __ATOMIC_RELAXED);
    int was = __atomic_exchange_n (&self->ready, ready? 1: 0, __ATOMIC_RELAXED);
    if (was && !ready)
        log_error ("PostgreSQL unreachable: %s", why);
    else
    if (!was && ready)
        log_info ("PostgreSQL reachable");
}

static const char *
s_trimmed_error (PGconn *conn, char *buf, size_t size)
{
    snprintf (buf, size, "%s", conn? PQerrorMessage (conn): "out of memory");
    size_t len = strlen (buf);
    while (len && (buf [len - 1] == '\n' || buf [len - 1] == ' '))
        buf [--len] = 0;
    return buf;
}

//  Makes sure slot holds a working connection. Returns 0 or -1.
static int
s_connect (qpool_t *self, qconn_t *slot)
{
    if (slot->conn && PQstatus (slot->conn) == CONNECTION_OK)
        return 0;
    pthread_mutex_lock (&self->lock);
    int64_t now = txw_mono_ms ();
    bool skip = !qpool_ready (self) && now - self->last_attempt_ms < S_RETRY_MS;
    if (!skip)
        self->last_attempt_ms = now;
    pthread_mutex_unlock (&self->lock);
    if (skip)
        return -1;
    char why [256];
    if (slot->conn) {
        PQreset (slot->conn);
        if (PQstatus (slot->conn) == CONNECTION_OK)
            return 0;
        s_set_ready (self, false, s_trimmed_error (slot->conn, why, sizeof why));
        PQfinish (slot->conn);
        slot->conn = NULL;
        return -1;
    }
    const char *keys [] = { "dbname", "connect_timeout", "application_name", "options", NULL };
    const char *values [] = { self->url, "2", "txw-query", self->options, NULL };
    slot->conn = PQconnectdbParams (keys, values, 1);
    if (slot->conn && PQstatus (slot->conn) == CONNECTION_OK)
        return 0;
    s_set_ready (self, false, s_trimmed_error (slot->conn, why, sizeof why));
    PQfinish (slot->conn);
    slot->conn = NULL;
    return -1;
}

qconn_t *
qpool_checkout (qpool_t *self, qpool_error_t *err)
{
    struct timespec deadline = txw_mono_deadline (self->wait_ms);
    qconn_t *slot = NULL;
    bool waited = false;
    pthread_mutex_lock (&self->lock);
    while (!slot && !self->stopping) {
        //  Prefer a slot that is already connected.
        for (int i = 0; i < self->size; i++) {
            qconn_t *c = &self->conns [i];
            if (!c->busy && (!slot || (c->conn && !slot->conn)))
                slot = c;
        }
        if (slot)
            break;
        waited = true;
        if (txw_cond_wait_until (&self->freed, &self->lock, &deadline))
            break;
    }
    if (slot)
        slot->busy = true;
    pthread_mutex_unlock (&self->lock);
    if (waited)
        s_count (self->waits);
    if (!slot) {
        s_count (self->timeouts);
        *err = (qpool_error_t) { 503, "all database connections are busy" };
        return NULL;
    }
    if (s_connect (self, slot)) {
        s_count (self->errors);
        qpool_checkin (self, slot);
        *err = (qpool_error_t) { 503, "database unreachable" };
        return NULL;
    }
    return slot;
}

void
qpool_checkin (qpool_t *self, qconn_t *conn)
{
    if (!conn)
        return;
    pthread_mutex_lock (&self->lock);
    conn->busy = false;
    pthread_cond_signal (&self->freed);
    pthread_mutex_unlock (&self->lock);
}

PGresult *
qpool_query (qpool_t *self, qconn_t *conn, const char *sql, int nparams,
             const char *const *params, qpool_error_t *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *res = PQexecParams (conn->conn, sql, nparams, NULL, params, NULL, NULL, 0);
        ExecStatusType status = PQresultStatus (res);
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            s_set_ready (self, true, NULL);
            return res;
        }
        const char *state = res? PQresultErrorField (res, PG_DIAG_SQLSTATE): NULL;
        char why [256];
        if (PQstatus (conn->conn) == CONNECTION_BAD) {
            PQclear (res);
            //  The server went away under us: reset once and try again.
            if (attempt == 0 && s_connect (self, conn) == 0)
                continue;
            if (conn->conn)
                s_set_ready (self, false, s_trimmed_error (conn->conn, why, sizeof why));
            s_count (self->errors);
            *err = (qpool_error_t) { 503, "database unreachable" };
            return NULL;
        }
        s_count (self->errors);
        if (state && !strcmp (state, "57014")) {
            PQclear (res);
            *err = (qpool_error_t) { 503, "the query took too long" };
            return NULL;
        }
        log_error ("query failed: %s", s_trimmed_error (conn->conn, why, sizeof why));
        PQclear (res);
        *err = (qpool_error_t) { 500, "database error" };
        return NULL;
    }
    *err = (qpool_error_t) { 503, "database unreachable" };
    return NULL;
}

static void *
s_monitor (void *arg)
{
    qpool_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (!self->stopping) {
        struct timespec deadline = txw_mono_deadline (S_PING_MS);
        txw_cond_wait_until (&self->stop, &self->lock, &deadline);
        if (self->stopping)
            break;
        int64_t last_ok = __atomic_load_n (&self->last_ok_ms, __ATOMIC_RELAXED);
        if (qpool_ready (self) && txw_mono_ms () - last_ok < S_PING_MS)
            continue;
        pthread_mutex_unlock (&self->lock);
        qpool_error_t err;
        qconn_t *conn = qpool_checkout (self, &err);
        if (conn) {
            PGresult *res = qpool_query (self, conn, "SELECT 1", 0, NULL, &err);
            PQclear (res);
            qpool_checkin (self, conn);
        }
        pthread_mutex_lock (&self->lock);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

int
qpool_start_monitor (qpool_t *self)
{
    //  A first ping now, so that /readyz is right from the start.
    qpool_error_t err;
    qconn_t *conn = qpool_checkout (self, &err);
    if (conn) {
        PQclear (qpool_query (self, conn, "SELECT 1", 0, NULL, &err));
        qpool_checkin (self, conn);
    }
    if (pthread_create (&self->monitor, NULL, s_monitor, self))
        return -1;
    self->monitor_started = true;
    return 0;
}

void
qpool_destroy (qpool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qpool_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->stop);
    pthread_cond_broadcast (&self->freed);
    pthread_mutex_unlock (&self->lock);
    if (self->monitor_started)
        pthread_join (self->monitor, NULL);
    for (int i = 0; i < self->size; i++)
        PQfinish (self->conns [i].conn);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->freed);
    pthread_cond_destroy (&self->stop);
    free (self->conns);
    free (self->url);
    free (self);
    *self_p = NULL;
}
