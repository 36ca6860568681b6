/*  checkpoint - the scorer's per-account history, saved to PostgreSQL       */

#include "checkpoint.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pgutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_QUEUED    (1u << 20)      //  records waiting, about 190 MB

typedef struct s_batch_t {
    struct s_batch_t *next;
    size_t count;
    profiles_account_t records [];
} s_batch_t;

struct _checkpoint_t {
    char *url;
    char consumer [64];
    PGconn *conn;               //  the writer thread's (and restore's, before it)
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;        //  work queued, or stop
    pthread_cond_t idle;        //  the queue became empty
    s_batch_t *head, *tail;
    size_t queued;              //  records in the queue
    bool writing;               //  the writer holds a batch
    bool stop;
    int healthy;
    txw_copybuf_t rows;
    txw_counter_t *written;
    txw_counter_t *dropped;
    txw_counter_t *failures;
    txw_gauge_t *waiting;
};

static const char *s_stage_sql =
    "CREATE TEMP TABLE IF NOT EXISTS stage_state"
    " (account_hash bigint, layout int, state bytea) ON COMMIT DELETE ROWS";

static int
s_connect (checkpoint_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return 0;
    PQfinish (self->conn);
    self->conn = txw_pg_connect_session (self->url, s_stage_sql);
    return self->conn? 0: -1;
}

//  One row: the hash as a signed bigint, the layout, the record as hex bytea.
static void
s_row (txw_copybuf_t *b, const profiles_account_t *record)
{
    static const char hex [] = "0123456789abcdef";
    char state [3 + 2 * sizeof *record];
    const uint8_t *bytes = (const uint8_t *) record;
    size_t o = 0;
    state [o++] = '\\';
    state [o++] = '\\';
    state [o++] = 'x';
    for (size_t i = 0; i < sizeof *record; i++) {
        state [o++] = hex [bytes [i] >> 4];
        state [o++] = hex [bytes [i] & 15];
    }
    txw_copybuf_int (b, (int64_t) record->hash);
    txw_copybuf_int (b, PROFILES_LAYOUT);
    txw_copybuf_raw (b, state, o);
    txw_copybuf_end_row (b);
}

static int
s_write (checkpoint_t *self, const s_batch_t *batch)
{
    txw_copybuf_clear (&self->rows);
    for (size_t i = 0; i < batch->count; i++)
        s_row (&self->rows, &batch->records [i]);
    const char *params [] = { self->consumer };
    if (s_connect (self) || txw_pg_exec (self->conn, "BEGIN")
    ||  txw_pg_copy (self->conn, "COPY stage_state FROM STDIN", &self->rows))
        goto fail;
    PGresult *res = PQexecParams (self->conn,
        "INSERT INTO txw_data.scorer_state AS s (consumer, account_hash, layout, state)"
        " SELECT $1, account_hash, layout, state FROM stage_state"
        " ON CONFLICT (consumer, account_hash) DO UPDATE SET layout = excluded.layout,"
        " state = excluded.state, updated_at = now()",
        1, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    if (!ok)
        log_error ("cannot store account state: %s", PQresultErrorMessage (res));
    PQclear (res);
    if (!ok || txw_pg_exec (self->conn, "COMMIT"))
        goto fail;
    return 0;
fail:
    if (self->conn && PQtransactionStatus (self->conn) != PQTRANS_IDLE)
        txw_pg_exec (self->conn, "ROLLBACK");
    return -1;
}

static void *
s_writer (void *arg)
{
    checkpoint_t *self = arg;
    int64_t backoff_ms = 100;
    pthread_mutex_lock (&self->lock);
    for (;;) {
        while (!self->head && !self->stop)
            pthread_cond_wait (&self->wake, &self->lock);
        if (!self->head)
            break;                  //  stopping with nothing left
        s_batch_t *batch = self->head;
        self->writing = true;
        pthread_mutex_unlock (&self->lock);
        int rc = s_write (self, batch);
        __atomic_store_n (&self->healthy, rc == 0, __ATOMIC_RELAXED);
        pthread_mutex_lock (&self->lock);
        self->writing = false;
        if (rc == 0) {
            txw_counter_add (self->written, batch->count);
            //  The head may have been dropped for space meanwhile: only
            //  unlink it if it is still the head.
            if (self->head == batch) {
                self->head = batch->next;
                if (!self->head)
                    self->tail = NULL;
                self->queued -= batch->count;
            }
            free (batch);
            backoff_ms = 100;
        }
        else {
            txw_counter_add (self->failures, 1);
            if (self->stop)
                break;              //  the owner gives up after its deadline
            struct timespec until;
            clock_gettime (CLOCK_REALTIME, &until);
            until.tv_sec += backoff_ms / 1000;
            until.tv_nsec += (backoff_ms % 1000) * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait (&self->wake, &self->lock, &until);
            backoff_ms = backoff_ms * 2 > 10000? 10000: backoff_ms * 2;
        }
        txw_gauge_set (self->waiting, (int64_t) self->queued);
        if (!self->head)
            pthread_cond_broadcast (&self->idle);
    }
    pthread_cond_broadcast (&self->idle);
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

checkpoint_t *
checkpoint_new (const char *database_url, const char *consumer, bool migrate)
{
    checkpoint_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (database_url);
    snprintf (self->consumer, sizeof self->consumer, "%s", consumer);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    pthread_cond_init (&self->idle, NULL);
    txw_copybuf_init (&self->rows);
    self->written = txw_counter_new ("txw_checkpointed_accounts_total", NULL,
                                     "account records written to txw_data.scorer_state");
    self->dropped = txw_counter_new ("txw_checkpoint_dropped_total", NULL,
                                     "account records dropped: the database was away too long");
    self->failures = txw_counter_new ("txw_checkpoint_failures_total", NULL,
                                      "checkpoint writes that failed and are retried");
    self->waiting = txw_gauge_new ("txw_checkpoint_waiting", NULL,
                                   "account records waiting to be written");
    if (migrate && txw_pg_migrate_url (self->url) < 0)
        goto err;
    if (s_connect (self))
        goto err;
    self->healthy = 1;
    return self;
err:
    checkpoint_destroy (&self);
    return NULL;
}

long
checkpoint_restore (checkpoint_t *self, profiles_t *profiles)
{
    if (self->thread_started || s_connect (self))
        return -1;
    char layout [16];
    snprintf (layout, sizeof layout, "%d", PROFILES_LAYOUT);
    const char *params [] = { self->consumer, layout };
    //  Binary results: the state arrives as its bytes.
    PGresult *res = PQexecParams (self->conn,
        "SELECT state FROM txw_data.scorer_state WHERE consumer = $1 AND layout = $2::int"
        " ORDER BY updated_at", 2, NULL, params, NULL, NULL, 1);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read account state: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    long restored = 0, refused = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        profiles_account_t record;
        if (PQgetlength (res, i, 0) != (int) sizeof record) {
            refused++;
            continue;
        }
        memcpy (&record, PQgetvalue (res, i, 0), sizeof record);
        if (profiles_restore (profiles, &record) == 0)
            restored++;
        else
            refused++;
    }
    PQclear (res);
    if (refused)
        log_warn ("%ld checkpointed accounts not restored (table full or invalid)", refused);
    return restored;
}

static void
s_start (checkpoint_t *self)
{
    if (self->thread_started)
        return;
    if (pthread_create (&self->thread, NULL, s_writer, self) == 0)
        self->thread_started = true;
    else
        log_error ("cannot start the checkpoint writer: account state is not saved");
}

void
checkpoint_submit (checkpoint_t *self, const profiles_account_t *records, size_t n)
{
    if (n == 0)
        return;
    s_start (self);
    s_batch_t *batch = malloc (sizeof *batch + n * sizeof *records);
    if (!batch) {
        txw_counter_add (self->dropped, n);
        return;
    }
    batch->next = NULL;
    batch->count = n;
    memcpy (batch->records, records, n * sizeof *records);
    pthread_mutex_lock (&self->lock);
    //  Over the cap, drop the oldest batches the writer is not holding.
    while (self->head && self->queued + n > S_MAX_QUEUED
    &&     !(self->writing && self->head->next == NULL)) {
        s_batch_t **victim = self->writing? &self->head->next: &self->head;
        s_batch_t *old = *victim;
        *victim = old->next;
        if (self->tail == old)
            self->tail = self->writing? self->head: NULL;
        self->queued -= old->count;
        txw_counter_add (self->dropped, old->count);
        free (old);
    }
    if (self->tail)
        self->tail->next = batch;
    else
        self->head = batch;
    self->tail = batch;
    self->queued += n;
    txw_gauge_set (self->waiting, (int64_t) self->queued);
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
}

int
checkpoint_drain (checkpoint_t *self, int timeout_ms)
{
    if (!self->thread_started)
        return 0;
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock (&self->lock);
    pthread_cond_signal (&self->wake);
    while (self->head)
        if (pthread_cond_timedwait (&self->idle, &self->lock, &until))
            break;
    int rc = self->head? -1: 0;
    pthread_mutex_unlock (&self->lock);
    return rc;
}

bool
checkpoint_healthy (const checkpoint_t *self)
{
    return __atomic_load_n (&self->healthy, __ATOMIC_RELAXED);
}

void
checkpoint_destroy (checkpoint_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    checkpoint_t *self = *self_p;
    if (self->thread_started) {
        pthread_mutex_lock (&self->lock);
        self->stop = true;
        pthread_cond_signal (&self->wake);
        pthread_mutex_unlock (&self->lock);
        pthread_join (self->thread, NULL);
    }
    while (self->head) {
        s_batch_t *next = self->head->next;
        txw_counter_add (self->dropped, self->head->count);
        free (self->head);
        self->head = next;
    }
    PQfinish (self->conn);
    txw_copybuf_fini (&self->rows);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->wake);
    pthread_cond_destroy (&self->idle);
    free (self->url);
    free (self);
    *self_p = NULL;
}
