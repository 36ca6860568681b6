/*  deadletters - stores dead letters in PostgreSQL without holding up the flow

    See deadletters.h. Two COPY buffers: the main loop appends to pending
    under the lock; the writer swaps pending into inflight (so the lock is
    never held across a database call), writes inflight in one transaction,
    and keeps it for a retry when the write fails. The queue bound counts
    both. A batch the database refuses three times on a live connection is
    dropped rather than retried for ever.                                    */

#include "deadletters.h"
#include "clock.h"
#include "log.h"
#include "pgutil.h"
#include "rules.h"

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
#define S_MAX_BYTES         (64u << 20)
#define S_REFUSALS_MAX      3

struct _deadletters_t {
    char *url;
    bool migrate;
    size_t max_rows;
    deadletters_metrics_t metrics;
    pthread_t thread;
    bool started;
    int healthy;                //  atomic: read by the admin thread

    //  Shared, under lock.
    pthread_mutex_t lock;
    pthread_cond_t wake;
    txw_copybuf_t pending;
    int64_t pending_since_ms;   //  monotonic time of the oldest pending row
    size_t inflight_rows;
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

static const char *s_stage_sql =
    "CREATE TEMP TABLE IF NOT EXISTS stage_dead ("
    " origin_source text, origin_seq bigint, origin_index int, line_no bigint,"
    " tx_id text, reason text, field text, message text, payload text,"
    " received_at timestamptz) ON COMMIT DELETE ROWS";

static const char *s_insert_sql =
    "INSERT INTO txw_data.dead_letters (origin_source, origin_seq, origin_index,"
    " line_no, tx_id, reason, field, message, payload, received_at)"
    " SELECT origin_source, origin_seq, origin_index, line_no, tx_id, reason,"
    " field, message, payload, received_at FROM stage_dead"
    " ON CONFLICT DO NOTHING";

static void *s_writer (void *arg);

static void
s_count (txw_counter_t *counter, uint64_t n)
{
    if (counter && n)
        txw_counter_add (counter, n);
}

static void
s_set_healthy (deadletters_t *self, bool healthy)
{
    __atomic_store_n (&self->healthy, healthy? 1: 0, __ATOMIC_RELAXED);
}

bool
deadletters_healthy (const deadletters_t *self)
{
    return __atomic_load_n (&self->healthy, __ATOMIC_RELAXED) != 0;
}

deadletters_t *
deadletters_new (const char *database_url, bool migrate, size_t max_rows,
                 deadletters_metrics_t metrics)
{
    deadletters_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (database_url);
    self->migrate = migrate;
    self->max_rows = max_rows? max_rows: 1;
    self->metrics = metrics;
    self->backoff_ms = S_BACKOFF_MIN_MS;
    txw_copybuf_init (&self->pending);
    txw_copybuf_init (&self->inflight);
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->wake, &attr);
    pthread_condattr_destroy (&attr);
    int rc = self->url? pthread_create (&self->thread, NULL, s_writer, self): ENOMEM;
    if (rc) {
        log_error ("cannot start the dead-letter writer: %s", strerror (rc));
        deadletters_destroy (&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void
deadletters_destroy (deadletters_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    deadletters_t *self = *self_p;
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
    pthread_mutex_destroy (&self->lock);
    free (self->url);
    free (self);
    *self_p = NULL;
}

size_t
deadletters_pending (deadletters_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t rows = self->pending.rows + self->inflight_rows;
    pthread_mutex_unlock (&self->lock);
    return rows;
}

//  Appends s as one COPY column, replacing what PostgreSQL would refuse as
//  text (invalid UTF-8, NUL) by U+FFFD. s is at most size bytes,
//  terminated or not.
static void
s_copy_text (txw_copybuf_t *buf, const char *s, size_t size)
{
    size_t len = strnlen (s, size);
    if (rules_utf8_valid (s, len)) {
        txw_copybuf_strn (buf, s, len);
        return;
    }
    char clean [TXW_TEXT_MAX * 4 + 1];
    size_t o = rules_utf8_clean (s, len, clean, sizeof clean);
    txw_copybuf_strn (buf, clean, o);
}

int
deadletters_add (deadletters_t *self, const txw_reject_t *r)
{
    pthread_mutex_lock (&self->lock);
    txw_copybuf_t *b = &self->pending;
    if (b->rows + self->inflight_rows >= self->max_rows || b->len >= S_MAX_BYTES) {
        pthread_mutex_unlock (&self->lock);
        s_count (self->metrics.dropped, 1);
        return -1;
    }
    if (b->rows == 0)
        self->pending_since_ms = txw_mono_ms ();
    s_copy_text (b, r->origin_source, sizeof r->origin_source);
    txw_copybuf_int (b, (int64_t) (r->origin_seq & INT64_MAX));
    txw_copybuf_int (b, (int64_t) (r->origin_index & INT32_MAX));
    if (r->line_no)
        txw_copybuf_int (b, (int64_t) (r->line_no & INT64_MAX));
    else
        txw_copybuf_null (b);
    if (r->tx_id [0])
        s_copy_text (b, r->tx_id, sizeof r->tx_id);
    else
        txw_copybuf_null (b);
    s_copy_text (b, r->reason, sizeof r->reason);
    if (r->field [0])
        s_copy_text (b, r->field, sizeof r->field);
    else
        txw_copybuf_null (b);
    s_copy_text (b, r->message, sizeof r->message);
    s_copy_text (b, r->payload, sizeof r->payload);
    txw_copybuf_ts_ms (b, r->received_ms);
    txw_copybuf_end_row (b);
    if (self->metrics.queued)
        txw_gauge_set (self->metrics.queued, (int64_t) (b->rows + self->inflight_rows));
    if (b->rows >= S_COMMIT_ROWS)
        pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    return 0;
}

//  --- Writer thread -----------------------------------------------------------

static void
s_disconnect (deadletters_t *self)
{
    if (self->conn)
        PQfinish (self->conn);
    self->conn = NULL;
    s_set_healthy (self, false);
}

//  Connects, migrates once if asked, prepares the staging table.
static int
s_connect (deadletters_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return 0;
    s_disconnect (self);
    self->conn = txw_pg_connect (self->url);
    if (!self->conn)
        return -1;
    if (self->migrate && !self->migrated) {
        if (txw_pg_migrate (self->conn) < 0) {
            s_disconnect (self);
            return -1;
        }
        self->migrated = true;
    }
    if (txw_pg_exec (self->conn, s_stage_sql)) {
        s_disconnect (self);
        return -1;
    }
    log_info ("dead letters: connected to PostgreSQL");
    return 0;
}

static void
s_failed (deadletters_t *self)
{
    s_count (self->metrics.errors, 1);
    int64_t now = txw_mono_ms ();
    self->retry_at_ms = now + self->backoff_ms;
    self->probe_at_ms = self->retry_at_ms;
    self->backoff_ms = self->backoff_ms * 2 > S_BACKOFF_MAX_MS? S_BACKOFF_MAX_MS: self->backoff_ms * 2;
    s_set_healthy (self, false);
}

static void
s_release_inflight (deadletters_t *self)
{
    txw_copybuf_clear (&self->inflight);
    pthread_mutex_lock (&self->lock);
    self->inflight_rows = 0;
    if (self->metrics.queued)
        txw_gauge_set (self->metrics.queued, (int64_t) self->pending.rows);
    pthread_mutex_unlock (&self->lock);
}

//  Writes the inflight rows in one transaction. Returns 0 or -1; on -1 the
//  rows stay for a retry unless the database refused them too often.
static int
s_write (deadletters_t *self)
{
    size_t rows = self->inflight.rows;
    if (s_connect (self) == 0) {
        if (txw_pg_exec (self->conn, "BEGIN") == 0
        &&  txw_pg_copy (self->conn, "COPY stage_dead FROM STDIN", &self->inflight) == 0
        &&  txw_pg_exec (self->conn, s_insert_sql) == 0
        &&  txw_pg_exec (self->conn, "COMMIT") == 0) {
            s_count (self->metrics.stored, rows);
            s_release_inflight (self);
            self->refusals = 0;
            self->backoff_ms = S_BACKOFF_MIN_MS;
            self->probe_at_ms = txw_mono_ms () + S_PROBE_MS;
            s_set_healthy (self, true);
            return 0;
        }
        if (PQstatus (self->conn) == CONNECTION_OK) {
            //  The server answered but said no: roll back, and give up on
            //  a batch it keeps refusing so the rest can flow.
            PGresult *res = PQexec (self->conn, "ROLLBACK");
            PQclear (res);
            if (++self->refusals >= S_REFUSALS_MAX) {
                log_error ("dead letters: PostgreSQL refused a batch %d times, "
                           "dropping its %zu rows", self->refusals, rows);
                s_count (self->metrics.dropped, rows);
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
//  /readyz tells the truth between bursts of rejects.
static void
s_probe (deadletters_t *self)
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
s_swap_in (deadletters_t *self)
{
    //  Caller holds the lock; inflight is empty.
    txw_copybuf_t spare = self->inflight;
    self->inflight = self->pending;
    self->pending = spare;
    self->inflight_rows = self->inflight.rows;
}

static void *
s_writer (void *arg)
{
    deadletters_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (!self->stopping) {
        int64_t now = txw_mono_ms ();
        //  A failed batch is retried after the back-off; new rows go when
        //  there are enough or the oldest has waited long enough (but not
        //  before the back-off ends); with nothing to write, probe.
        int64_t wake_at;
        if (self->inflight.rows)
            wake_at = self->retry_at_ms;
        else
        if (self->pending.rows) {
            wake_at = self->pending.rows >= S_COMMIT_ROWS? now
                    : self->pending_since_ms + S_COMMIT_MS;
            if (wake_at < self->retry_at_ms)
                wake_at = self->retry_at_ms;
        }
        else
            wake_at = self->probe_at_ms;
        if (wake_at > now) {
            int64_t wait_ms = wake_at - now;
            if (wait_ms > S_COMMIT_MS)
                wait_ms = S_COMMIT_MS;      //  re-check when rows arrive
            struct timespec until;
            clock_gettime (CLOCK_MONOTONIC, &until);
            until.tv_sec += wait_ms / 1000;
            until.tv_nsec += (wait_ms % 1000) * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait (&self->wake, &self->lock, &until);
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
                log_error ("dead letters: could not store %zu rows before exit", rows);
                s_count (self->metrics.dropped, rows);
                s_release_inflight (self);
            }
        }
        pthread_mutex_lock (&self->lock);
        if (!reachable)
            break;              //  no second wait for a connect timeout
    }
    if (self->pending.rows) {
        s_count (self->metrics.dropped, self->pending.rows);
        txw_copybuf_clear (&self->pending);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}
