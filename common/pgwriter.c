/*  pgwriter - rows written to PostgreSQL in the background, never in the way

    See pgwriter.h. Two COPY buffers: callers append to pending under the
    lock; the writer swaps pending into inflight (so the lock is never held
    across a database call), writes inflight in one transaction, and keeps
    it for a retry when the write fails. The queue bound counts both.        */

#include "pgwriter.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_COMMIT_ROWS       1000        //  write at once when this many wait
#define S_COMMIT_MS         200         //  else when the oldest is this old
#define S_PROBE_MS          2000        //  liveness check while idle
#define S_BACKOFF_MIN_MS    100
#define S_BACKOFF_MAX_MS    5000
#define S_MAX_BYTES         (256u << 20)
#define S_REFUSALS_MAX      3

struct _txw_pgwriter_t {
    txw_pgwriter_config_t cfg;
    char *url;
    pthread_t thread;
    bool started;
    int healthy;                //  atomic: read by the admin thread
    uint64_t settled;           //  atomic: rows written or given up, in order

    //  Shared, under lock.
    pthread_mutex_t lock;
    pthread_cond_t wake;        //  rows to write, a drain, or stop
    pthread_cond_t idle;        //  nothing left to write
    txw_copybuf_t pending;
    int64_t pending_since_ms;   //  monotonic time of the oldest pending row
    size_t inflight_rows;
    int draining;               //  callers waiting in txw_pgwriter_drain
    bool stopping;

    //  Writer thread only.
    PGconn *conn;
    bool migrated;
    txw_copybuf_t inflight;
    int refusals;               //  consecutive failures on a live connection
    int64_t backoff_ms;
    int64_t retry_at_ms;
    int64_t probe_at_ms;
};

static void *s_writer (void *arg);

static void
s_count (txw_counter_t *counter, uint64_t n)
{
    if (counter && n)
        txw_counter_add (counter, n);
}

static void
s_set_healthy (txw_pgwriter_t *self, bool healthy)
{
    __atomic_store_n (&self->healthy, healthy? 1: 0, __ATOMIC_RELAXED);
}

//  Caller holds the lock.
static void
s_set_queued (txw_pgwriter_t *self)
{
    if (self->cfg.metrics.queued)
        txw_gauge_set (self->cfg.metrics.queued,
                       (int64_t) (self->pending.rows + self->inflight_rows));
}

bool
txw_pgwriter_healthy (const txw_pgwriter_t *self)
{
    return __atomic_load_n (&self->healthy, __ATOMIC_RELAXED) != 0;
}

txw_pgwriter_t *
txw_pgwriter_new (const char *database_url, const txw_pgwriter_config_t *config)
{
    txw_pgwriter_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *config;
    if (self->cfg.max_rows == 0)
        self->cfg.max_rows = 1;
    self->url = strdup (database_url);
    self->backoff_ms = S_BACKOFF_MIN_MS;
    txw_copybuf_init (&self->pending);
    txw_copybuf_init (&self->inflight);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    pthread_cond_init (&self->idle, NULL);
    int rc = self->url? pthread_create (&self->thread, NULL, s_writer, self): ENOMEM;
    if (rc) {
        log_error ("%s: cannot start the writer: %s", self->cfg.name, strerror (rc));
        txw_pgwriter_destroy (&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void
txw_pgwriter_destroy (txw_pgwriter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_pgwriter_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock (&self->lock);
        self->stopping = true;
        pthread_cond_signal (&self->wake);
        pthread_mutex_unlock (&self->lock);
        pthread_join (self->thread, NULL);
    }
    if (self->conn)
        PQfinish (self->conn);
    txw_copybuf_fini (&self->pending);
    txw_copybuf_fini (&self->inflight);
    pthread_cond_destroy (&self->wake);
    pthread_cond_destroy (&self->idle);
    pthread_mutex_destroy (&self->lock);
    free (self->url);
    free (self);
    *self_p = NULL;
}

uint64_t
txw_pgwriter_settled (const txw_pgwriter_t *self)
{
    return __atomic_load_n (&self->settled, __ATOMIC_ACQUIRE);
}

size_t
txw_pgwriter_pending (txw_pgwriter_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t rows = self->pending.rows + self->inflight_rows;
    pthread_mutex_unlock (&self->lock);
    return rows;
}

txw_copybuf_t *
txw_pgwriter_row_begin (txw_pgwriter_t *self)
{
    pthread_mutex_lock (&self->lock);
    txw_copybuf_t *b = &self->pending;
    if (b->rows + self->inflight_rows >= self->cfg.max_rows || b->len >= S_MAX_BYTES) {
        if (!self->cfg.newest_wins || b->rows == 0) {
            pthread_mutex_unlock (&self->lock);
            s_count (self->cfg.metrics.dropped, 1);
            return NULL;
        }
        //  Newer state replaces older: what still waits gives way.
        s_count (self->cfg.metrics.dropped, b->rows);
        txw_copybuf_clear (b);
    }
    if (b->rows == 0)
        self->pending_since_ms = txw_mono_ms ();
    return b;
}

void
txw_pgwriter_row_end (txw_pgwriter_t *self)
{
    s_set_queued (self);
    if (self->pending.rows >= S_COMMIT_ROWS)
        pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
}

int
txw_pgwriter_drain (txw_pgwriter_t *self, int timeout_ms)
{
    struct timespec until = txw_mono_deadline (timeout_ms);
    pthread_mutex_lock (&self->lock);
    self->draining++;
    pthread_cond_signal (&self->wake);
    while (self->pending.rows + self->inflight_rows > 0 && !self->stopping)
        if (txw_cond_wait_until (&self->idle, &self->lock, &until) == ETIMEDOUT)
            break;
    self->draining--;
    int rc = self->pending.rows + self->inflight_rows > 0? -1: 0;
    pthread_mutex_unlock (&self->lock);
    return rc;
}

//  --- Writer thread -----------------------------------------------------------

static void
s_disconnect (txw_pgwriter_t *self)
{
    if (self->conn)
        PQfinish (self->conn);
    self->conn = NULL;
    s_set_healthy (self, false);
}

//  Connects, migrates once if asked, prepares the stage table.
static int
s_connect (txw_pgwriter_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return 0;
    s_disconnect (self);
    self->conn = txw_pg_connect (self->url);
    if (!self->conn)
        return -1;
    if (self->cfg.migrate && !self->migrated) {
        if (txw_pg_migrate (self->conn) < 0) {
            s_disconnect (self);
            return -1;
        }
        self->migrated = true;
    }
    if (txw_pg_exec (self->conn, self->cfg.stage_sql)) {
        s_disconnect (self);
        return -1;
    }
    log_info ("%s: connected to PostgreSQL", self->cfg.name);
    return 0;
}

//  Runs the statement that moves the stage's rows into place.
static int
s_apply (txw_pgwriter_t *self)
{
    if (!self->cfg.apply_param)
        return txw_pg_exec (self->conn, self->cfg.apply_sql);
    const char *params [] = { self->cfg.apply_param };
    PGresult *res = PQexecParams (self->conn, self->cfg.apply_sql, 1, NULL, params,
                                  NULL, NULL, 0);
    int rc = PQresultStatus (res) == PGRES_COMMAND_OK? 0: -1;
    if (rc)
        log_error ("%s: %s", self->cfg.name, PQresultErrorMessage (res));
    PQclear (res);
    return rc;
}

static void
s_failed (txw_pgwriter_t *self)
{
    s_count (self->cfg.metrics.errors, 1);
    int64_t now = txw_mono_ms ();
    self->retry_at_ms = now + self->backoff_ms;
    self->probe_at_ms = self->retry_at_ms;
    self->backoff_ms = self->backoff_ms * 2 > S_BACKOFF_MAX_MS? S_BACKOFF_MAX_MS: self->backoff_ms * 2;
    s_set_healthy (self, false);
}

static void
s_release_inflight (txw_pgwriter_t *self)
{
    __atomic_add_fetch (&self->settled, self->inflight.rows, __ATOMIC_RELEASE);
    txw_copybuf_clear (&self->inflight);
    pthread_mutex_lock (&self->lock);
    self->inflight_rows = 0;
    s_set_queued (self);
    if (self->pending.rows == 0)
        pthread_cond_broadcast (&self->idle);
    pthread_mutex_unlock (&self->lock);
}

//  Writes the inflight rows in one transaction. Returns 0 or -1; on -1 the
//  rows stay for a retry unless the database refused them too often.
static int
s_write (txw_pgwriter_t *self)
{
    size_t rows = self->inflight.rows;
    if (s_connect (self) == 0) {
        if (txw_pg_exec (self->conn, "BEGIN") == 0
        &&  txw_pg_copy (self->conn, self->cfg.copy_sql, &self->inflight) == 0
        &&  s_apply (self) == 0
        &&  txw_pg_exec (self->conn, "COMMIT") == 0) {
            //  Health and counters first: releasing the rows wakes a
            //  caller in drain, who may read them at once.
            s_count (self->cfg.metrics.stored, rows);
            s_set_healthy (self, true);
            self->refusals = 0;
            self->backoff_ms = S_BACKOFF_MIN_MS;
            self->retry_at_ms = 0;
            self->probe_at_ms = txw_mono_ms () + S_PROBE_MS;
            s_release_inflight (self);
            return 0;
        }
        if (PQstatus (self->conn) == CONNECTION_OK) {
            //  The server answered but said no: roll back, and give up on
            //  a batch it keeps refusing so the rest can flow.
            PGresult *res = PQexec (self->conn, "ROLLBACK");
            PQclear (res);
            if (++self->refusals >= S_REFUSALS_MAX) {
                log_error ("%s: PostgreSQL refused a batch %d times, dropping its %zu rows",
                           self->cfg.name, self->refusals, rows);
                s_count (self->cfg.metrics.dropped, rows);
                s_release_inflight (self);
                self->refusals = 0;
            }
        }
        else
            s_disconnect (self);
    }
    s_failed (self);
    return -1;
}

//  Confirms PostgreSQL still answers while there is nothing to write, so
//  readiness tells the truth between bursts.
static void
s_probe (txw_pgwriter_t *self)
{
    if (s_connect (self) == 0 && txw_pg_exec (self->conn, "SELECT 1") == 0) {
        self->backoff_ms = S_BACKOFF_MIN_MS;
        self->probe_at_ms = txw_mono_ms () + S_PROBE_MS;
        s_set_healthy (self, true);
        return;
    }
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK)
        s_disconnect (self);
    s_failed (self);
}

static void
s_swap_in (txw_pgwriter_t *self)
{
    //  Caller holds the lock; inflight is empty.
    txw_copybuf_t spare = self->inflight;
    self->inflight = self->pending;
    self->pending = spare;
    self->inflight_rows = self->inflight.rows;
}

//  When the writer should act next (caller holds the lock): a failed batch
//  is retried after the back-off; new rows go when there are enough, when
//  the oldest has waited long enough or when a caller drains (but not
//  before the back-off ends); with nothing to write, it probes.
static int64_t
s_next_action_ms (txw_pgwriter_t *self, int64_t now)
{
    if (self->inflight.rows)
        return self->retry_at_ms;
    if (self->pending.rows) {
        int64_t at = self->pending.rows >= S_COMMIT_ROWS || self->draining? now
                   : self->pending_since_ms + S_COMMIT_MS;
        return at < self->retry_at_ms? self->retry_at_ms: at;
    }
    return self->probe_at_ms;
}

static void *
s_writer (void *arg)
{
    txw_pgwriter_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (!self->stopping) {
        int64_t now = txw_mono_ms ();
        int64_t wake_at = s_next_action_ms (self, now);
        if (wake_at > now) {
            int64_t wait_ms = wake_at - now;
            if (wait_ms > S_COMMIT_MS)
                wait_ms = S_COMMIT_MS;      //  re-check when rows arrive
            struct timespec until = txw_mono_deadline (wait_ms);
            txw_cond_wait_until (&self->wake, &self->lock, &until);
            continue;
        }
        if (!self->inflight.rows && self->pending.rows)
            s_swap_in (self);
        bool write = self->inflight.rows > 0;
        pthread_mutex_unlock (&self->lock);
        if (write)
            s_write (self);
        else
            s_probe (self);
        pthread_mutex_lock (&self->lock);
    }
    //  Shutting down: one attempt each for what failed before and for what
    //  is still pending; the rest is lost and counted.
    for (int round = 0; round < 2; round++) {
        if (!self->inflight.rows && self->pending.rows)
            s_swap_in (self);
        if (!self->inflight.rows)
            break;
        pthread_mutex_unlock (&self->lock);
        size_t rows = self->inflight.rows;
        bool reachable = true;
        if (s_write (self)) {
            reachable = self->conn != NULL;
            if (self->inflight.rows) {
                log_error ("%s: could not store %zu rows before exit", self->cfg.name, rows);
                s_count (self->cfg.metrics.dropped, rows);
                s_release_inflight (self);
            }
        }
        pthread_mutex_lock (&self->lock);
        if (!reachable)
            break;              //  no second wait for a connect timeout
    }
    if (self->pending.rows) {
        s_count (self->cfg.metrics.dropped, self->pending.rows);
        txw_copybuf_clear (&self->pending);
    }
    pthread_cond_broadcast (&self->idle);
    pthread_mutex_unlock (&self->lock);
    return NULL;
}
