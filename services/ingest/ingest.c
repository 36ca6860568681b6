/*  ingest - txw-ingest's loop: journal, send, acknowledge, claim

    See ingest.h. The loop sleeps in zmq_poll on the acknowledgement SUB
    and an eventfd the workers (and the keeper) ring. Each turn: journal
    every queued job in one statement and wake their workers (the answer
    never waits for ZeroMQ), pack the records journaled just now into
    batches, send what the keeper claimed, and hand the acknowledgements
    that came to the keeper.

    The keeper is a thread of its own with its own connection, so that no
    journal write waits behind its statements: every 50 ms it writes the
    acknowledgements handed to it in one UPDATE, claims what is due to be
    sent again (handed back to the loop, which owns the sockets), and
    from time to time reads the unacknowledged count and deletes what is
    past the horizon.

    Acknowledgements name a record by this process's origin id and the
    record's place in what it sent (type, batch sequence, index;
    codec.h). The loop keeps, per batch sent, the ids of its records (a
    flight), so an acknowledgement becomes a journal id; a flight is
    forgotten once every record is acknowledged or after two minutes (a
    lease is at most one), when whatever it still holds has been claimed
    and sent again under a new place.                                       */

#include "ingest.h"
#include "server.h"
#include "clock.h"
#include "pgutil.h"
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define S_FLIGHT_MAX_MS     120000
#define S_ACK_FLUSH_MS      50          //  how often the keeper writes acknowledgements
#define S_CLAIM_ROWS        2000        //  records one claim takes at most
#define S_GAUGE_MS          5000        //  how often the unacknowledged count is read
#define S_PURGE_MS          600000      //  how often the horizon's delete runs

typedef char s_id_t [TXW_ID_MAX + 1];

//  One batch sent: the ids of its records, in order.
typedef struct {
    uint64_t seq;
    int64_t sent_ms;
    uint32_t count;
    uint32_t acked;
    s_id_t *ids;                //  NULL once every record is acknowledged
    bool *got;
} s_flight_t;

//  A growing list of ids.
typedef struct {
    s_id_t *items;
    size_t count, capacity;
} s_ids_t;

//  The batches of one kind (one message type) sent and not forgotten, in
//  sequence order (a deque: the oldest are forgotten first), and the ids
//  of the batch being filled.
typedef struct {
    uint32_t type;
    s_flight_t *items;
    size_t head, count, capacity;
    s_id_t open [TXW_BATCH_RECORDS];
    uint32_t open_count;
    s_ids_t acked;              //  acknowledged, not yet handed to the keeper
} s_kind_t;

//  A record the keeper claimed, as handed to the loop: this header, then
//  len bytes of the record.
typedef struct {
    uint32_t kind;
    uint32_t len;
    s_id_t tx_id;
} s_claim_t;

struct _ingest_t {
    const ingest_config_t *cfg;
    txw_service_t *svc;
    ingest_server_t *server;
    ingest_journal_t *journal;
    txw_out_t *out;
    txw_in_t *acks;
    uint64_t origin_id;
    int wake_fd;
    pthread_mutex_t lock;
    pthread_cond_t done;
    ingest_job_t *head, *tail;  //  queued, not yet taken
    bool closing;               //  stopping: no job is queued any more
    s_kind_t kinds [INGEST_KINDS];
    //  The keeper, and what it and the loop hand each other (keeper_lock).
    pthread_t keeper;
    bool keeper_started;
    pthread_mutex_t keeper_lock;
    pthread_cond_t keeper_wake;
    bool keeper_stop;
    s_ids_t to_ack [INGEST_KINDS];
    msgpack_sbuffer claimed;    //  s_claim_t and record, one after another
    txw_counter_t *acked;
    txw_counter_t *resent;
    txw_counter_t *purged;
    txw_counter_t *refused;
    txw_gauge_t *unacked;
};

static const uint32_t s_kind_types [INGEST_KINDS] = { TXW_MSG_RAW_TX, TXW_MSG_CORRECTION };

//  --- Flights --------------------------------------------------------------------

static s_kind_t *
s_kind_of_type (ingest_t *self, uint32_t type)
{
    for (int k = 0; k < INGEST_KINDS; k++)
        if (self->kinds [k].type == type)
            return &self->kinds [k];
    return NULL;
}

static void
s_flight_free (s_flight_t *f)
{
    free (f->ids);
    free (f->got);
    f->ids = NULL;
    f->got = NULL;
}

//  Keeps the ids of a batch just sealed, with its sequence number.
static void
s_sealed (void *arg, uint32_t type, uint64_t seq, const void *frame, size_t size,
          uint32_t records)
{
    (void) frame, (void) size;
    ingest_t *self = arg;
    s_kind_t *k = s_kind_of_type (self, type);
    if (!k)
        return;
    uint32_t count = records < k->open_count? records: k->open_count;
    k->open_count = 0;
    if (k->count == k->capacity) {
        size_t capacity = k->capacity? k->capacity * 2: 64;
        s_flight_t *items = malloc (capacity * sizeof *items);
        if (!items)
            return;             //  not followed: its records are claimed again
        for (size_t i = 0; i < k->count; i++)
            items [i] = k->items [(k->head + i) % k->capacity];
        free (k->items);
        k->items = items;
        k->head = 0;
        k->capacity = capacity;
    }
    //  Sequence numbers of one type follow each other: a gap (a flight
    //  not kept for lack of memory) forgets the older ones.
    if (k->count && k->items [(k->head + k->count - 1) % k->capacity].seq + 1 != seq) {
        while (k->count) {
            s_flight_free (&k->items [k->head]);
            k->head = (k->head + 1) % k->capacity;
            k->count--;
        }
    }
    s_flight_t *f = &k->items [(k->head + k->count) % k->capacity];
    *f = (s_flight_t) { .seq = seq, .sent_ms = txw_mono_ms (), .count = count };
    f->ids = malloc ((count? count: 1) * sizeof *f->ids);
    f->got = calloc (count? count: 1, sizeof *f->got);
    if (!f->ids || !f->got) {
        s_flight_free (f);
        return;
    }
    memcpy (f->ids, k->open, count * sizeof *f->ids);
    k->count++;
}

//  Forgets the oldest flights that are done or too old.
static void
s_flights_trim (s_kind_t *k, int64_t now_ms)
{
    while (k->count) {
        s_flight_t *f = &k->items [k->head];
        if (f->ids && now_ms - f->sent_ms < S_FLIGHT_MAX_MS)
            break;
        s_flight_free (f);
        k->head = (k->head + 1) % k->capacity;
        k->count--;
    }
}

static int
s_ids_add (s_ids_t *ids, const s_id_t *add, size_t n)
{
    if (ids->count + n > ids->capacity) {
        size_t capacity = ids->capacity? ids->capacity: 256;
        while (capacity < ids->count + n)
            capacity *= 2;
        s_id_t *items = realloc (ids->items, capacity * sizeof *items);
        if (!items)
            return -1;
        ids->items = items;
        ids->capacity = capacity;
    }
    memcpy (ids->items + ids->count, add, n * sizeof *add);
    ids->count += n;
    return 0;
}

//  One acknowledgement of this process's records.
static void
s_ack (ingest_t *self, uint64_t ref)
{
    s_kind_t *k = s_kind_of_type (self, txw_origin_ref_type (ref));
    if (!k || !k->count)
        return;
    uint64_t seq = txw_origin_ref_seq (ref);
    uint64_t first = k->items [k->head].seq;
    if (seq < first || seq - first >= k->count)
        return;                 //  forgotten: claimed and sent again since
    s_flight_t *f = &k->items [(k->head + (seq - first)) % k->capacity];
    uint32_t index = txw_origin_ref_index (ref);
    if (!f->ids || index >= f->count || f->got [index])
        return;
    if (s_ids_add (&k->acked, &f->ids [index], 1))
        return;
    f->got [index] = true;
    if (++f->acked == f->count)
        s_flight_free (f);
}

//  Hands the acknowledgements taken to the keeper. Ids it has no memory
//  for are claimed again once their lease ends and acknowledged then:
//  nothing is lost by dropping them.
static void
s_acks_hand (ingest_t *self)
{
    pthread_mutex_lock (&self->keeper_lock);
    for (int kind = 0; kind < INGEST_KINDS; kind++) {
        s_kind_t *k = &self->kinds [kind];
        if (k->acked.count)
            s_ids_add (&self->to_ack [kind], k->acked.items, k->acked.count);
        k->acked.count = 0;
    }
    pthread_mutex_unlock (&self->keeper_lock);
}

//  Takes the acknowledgements that arrived, without waiting.
static void
s_acks_take (ingest_t *self)
{
    zmq_msg_t msg;
    txw_envelope_t env;
    int rc;
    while ((rc = txw_in_recv (self->acks, 0, &msg, &env)) != 0) {
        if (rc < 0)
            continue;
        if (env.type == TXW_MSG_ACK) {
            txw_cursor_t cur = env.records;
            for (uint32_t i = 0; i < env.count; i++) {
                txw_ack_t ack;
                if (txw_ack_decode (&cur, &ack, NULL))
                    break;
                if (ack.origin_id == self->origin_id)
                    s_ack (self, ack.origin_ref);
            }
        }
        zmq_msg_close (&msg);
    }
}

//  --- Sending --------------------------------------------------------------------

//  Packs one journaled record into its kind's batch. -1 at shutdown.
static int
s_send (ingest_t *self, ingest_kind_t kind, const char *tx_id, const void *record, size_t len)
{
    s_kind_t *k = &self->kinds [kind];
    txw_batch_t *batch = txw_out_batch (self->out, k->type);
    //  Before txw_out_added, which seals a full batch (s_sealed reads it).
    snprintf (k->open [k->open_count < TXW_BATCH_RECORDS? k->open_count++: TXW_BATCH_RECORDS - 1],
              sizeof (s_id_t), "%s", tx_id);
    msgpack_sbuffer_write (&batch->buf, record, len);
    return txw_out_added (self->out, batch);
}

//  Sends what the keeper claimed.
static void
s_send_claimed (ingest_t *self)
{
    msgpack_sbuffer claimed;
    pthread_mutex_lock (&self->keeper_lock);
    claimed = self->claimed;
    msgpack_sbuffer_init (&self->claimed);
    pthread_mutex_unlock (&self->keeper_lock);
    size_t at = 0;
    while (at + sizeof (s_claim_t) <= claimed.size) {
        s_claim_t head;
        memcpy (&head, claimed.data + at, sizeof head);
        at += sizeof head;
        s_send (self, head.kind, head.tx_id, claimed.data + at, head.len);
        at += head.len;
    }
    msgpack_sbuffer_destroy (&claimed);
}

//  --- The keeper -------------------------------------------------------------------

static void
s_claimed (void *arg, ingest_kind_t kind, const char *tx_id, const void *record, size_t len)
{
    msgpack_sbuffer *out = arg;
    s_claim_t head = { .kind = kind, .len = (uint32_t) len };
    snprintf (head.tx_id, sizeof head.tx_id, "%s", tx_id);
    msgpack_sbuffer_write (out, (const char *) &head, sizeof head);
    msgpack_sbuffer_write (out, record, len);
}

static void *
s_keeper (void *arg)
{
    ingest_t *self = arg;
    int64_t lease = self->cfg->ack_timeout_ms;
    int64_t claim_every = lease / 2 < 1000? lease / 2: 1000;
    int64_t now = txw_mono_ms ();
    int64_t next_claim = now, next_gauge = now + S_GAUGE_MS, next_purge = now;
    s_ids_t acks [INGEST_KINDS] = { { 0 } };
    pthread_mutex_lock (&self->keeper_lock);
    while (true) {
        bool stop = self->keeper_stop;
        for (int kind = 0; kind < INGEST_KINDS; kind++) {
            s_ids_t taken = self->to_ack [kind];
            self->to_ack [kind] = acks [kind];
            acks [kind] = taken;
        }
        pthread_mutex_unlock (&self->keeper_lock);
        for (int kind = 0; kind < INGEST_KINDS; kind++) {
            if (!acks [kind].count)
                continue;
            const char **ids = malloc (acks [kind].count * sizeof *ids);
            for (size_t i = 0; ids && i < acks [kind].count; i++)
                ids [i] = acks [kind].items [i];
            //  On failure they are claimed again once their lease ends.
            if (ids && ingest_journal_ack (self->journal, kind, ids, acks [kind].count) == 0)
                txw_counter_add (self->acked, acks [kind].count);
            free (ids);
            acks [kind].count = 0;
        }
        if (stop)
            break;
        now = txw_mono_ms ();
        //  Nothing is claimed while the loop has not sent the last claim
        //  (it is blocked on a pipeline that takes nothing): the rows wait
        //  in the journal, not in memory.
        pthread_mutex_lock (&self->keeper_lock);
        bool unsent = self->claimed.size > 0;
        pthread_mutex_unlock (&self->keeper_lock);
        if (now >= next_claim && !unsent) {
            msgpack_sbuffer claimed;
            msgpack_sbuffer_init (&claimed);
            int n = ingest_journal_claim (self->journal, S_CLAIM_ROWS, s_claimed, &claimed);
            if (n > 0) {
                txw_counter_add (self->resent, (uint64_t) n);
                pthread_mutex_lock (&self->keeper_lock);
                msgpack_sbuffer_write (&self->claimed, claimed.data, claimed.size);
                pthread_mutex_unlock (&self->keeper_lock);
                uint64_t one = 1;
                if (write (self->wake_fd, &one, sizeof one) < 0)
                    log_warn ("cannot wake the loop: %s", strerror (errno));
            }
            msgpack_sbuffer_destroy (&claimed);
            //  A full claim leaves more due: claim again at once.
            next_claim = n == S_CLAIM_ROWS? now: now + claim_every;
        }
        if (now >= next_gauge) {
            txw_gauge_set (self->unacked, ingest_journal_pending (self->journal));
            next_gauge = now + S_GAUGE_MS;
        }
        if (now >= next_purge) {
            int64_t purged = ingest_journal_purge (self->journal, self->cfg->horizon_h);
            if (purged > 0) {
                txw_counter_add (self->purged, (uint64_t) purged);
                log_info ("deleted %lld acknowledged records past the %lld h idempotency horizon",
                          (long long) purged, (long long) self->cfg->horizon_h);
            }
            next_purge = now + S_PURGE_MS;
        }
        int64_t wait = next_claim - txw_mono_ms ();
        if (wait > S_ACK_FLUSH_MS)
            wait = S_ACK_FLUSH_MS;
        struct timespec until = txw_mono_deadline (wait > 0? wait: 0);
        pthread_mutex_lock (&self->keeper_lock);
        if (!self->keeper_stop)
            txw_cond_wait_until (&self->keeper_wake, &self->keeper_lock, &until);
    }
    for (int kind = 0; kind < INGEST_KINDS; kind++)
        free (acks [kind].items);
    return NULL;
}

//  --- Jobs -----------------------------------------------------------------------

int
ingest_submit (ingest_t *self, ingest_job_t *job)
{
    job->done = false;
    job->failed = false;
    job->next = NULL;
    struct timespec until = txw_mono_deadline (self->cfg->request_timeout_ms);
    pthread_mutex_lock (&self->lock);
    if (self->closing) {
        pthread_mutex_unlock (&self->lock);
        return -1;
    }
    if (self->tail)
        self->tail->next = job;
    else
        self->head = job;
    self->tail = job;
    pthread_mutex_unlock (&self->lock);
    uint64_t one = 1;
    if (write (self->wake_fd, &one, sizeof one) < 0)
        log_warn ("cannot wake the loop: %s", strerror (errno));
    pthread_mutex_lock (&self->lock);
    int rc = 0;
    while (!job->done) {
        if (txw_cond_wait_until (&self->done, &self->lock, &until) != ETIMEDOUT)
            continue;
        //  Still queued: withdrawn. Taken: the loop answers it soon (its
        //  statement has a timeout), and the worker must wait for that.
        ingest_job_t **p = &self->head, *prev = NULL;
        while (*p && *p != job) {
            prev = *p;
            p = &(*p)->next;
        }
        if (*p) {
            *p = job->next;
            if (self->tail == job)
                self->tail = prev;
            rc = -1;
            txw_counter_add (self->refused, 1);
            break;
        }
        until = txw_mono_deadline (self->cfg->request_timeout_ms);
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

//  Journals every queued job in one statement, wakes their workers, and
//  sends what was journaled now.
static void
s_jobs (ingest_t *self)
{
    pthread_mutex_lock (&self->lock);
    ingest_job_t *jobs = self->head;
    self->head = self->tail = NULL;
    pthread_mutex_unlock (&self->lock);
    if (!jobs)
        return;
    int64_t started_us = txw_mono_us ();
    size_t total = 0;
    for (ingest_job_t *j = jobs; j; j = j->next)
        total += j->count;
    ingest_entry_t *all = malloc ((total? total: 1) * sizeof *all);
    int rc = -1;
    if (all) {
        size_t n = 0;
        for (ingest_job_t *j = jobs; j; j = j->next) {
            memcpy (all + n, j->entries, j->count * sizeof *all);
            n += j->count;
        }
        rc = ingest_journal_accept (self->journal, all, total);
    }
    //  The records live in the workers' buffers, freed once they are
    //  answered: the new ones are copied first, so the answers never wait
    //  for ZeroMQ (whose send blocks while the validators are behind).
    msgpack_sbuffer copy;
    msgpack_sbuffer_init (&copy);
    size_t *offsets = rc == 0? calloc (total? total: 1, sizeof *offsets): NULL;
    if (rc == 0 && offsets)
        for (size_t i = 0; i < total; i++) {
            offsets [i] = copy.size;
            if (all [i].outcome == INGEST_NEW)
                msgpack_sbuffer_write (&copy, all [i].record, all [i].record_len);
        }
    pthread_mutex_lock (&self->lock);
    size_t n = 0;
    for (ingest_job_t *j = jobs, *next; j; j = next) {
        next = j->next;
        for (size_t i = 0; rc == 0 && i < j->count; i++)
            j->entries [i].outcome = all [n + i].outcome;
        n += j->count;
        j->failed = rc != 0;
        j->done = true;         //  the worker may free the job from here on
    }
    pthread_cond_broadcast (&self->done);
    pthread_mutex_unlock (&self->lock);
    //  Without memory for the copy they are sent once their lease ends.
    uint64_t sent = 0;
    for (size_t i = 0; offsets && i < total; i++)
        if (all [i].outcome == INGEST_NEW) {
            s_send (self, all [i].kind, all [i].tx_id, copy.data + offsets [i], all [i].record_len);
            sent++;
        }
    if (rc == 0)
        txw_service_batch_in (self->svc, sent, started_us);
    free (offsets);
    msgpack_sbuffer_destroy (&copy);
    free (all);
}

//  --- Life cycle ------------------------------------------------------------------

static bool
s_ready (void *arg, char *detail, size_t size)
{
    ingest_t *self = arg;
    bool ok = ingest_journal_ready (self->journal);
    snprintf (detail, size, "{\"postgres\":\"%s\"}", ok? "ok": "unreachable");
    return ok;
}

ingest_t *
ingest_new (const ingest_config_t *cfg, txw_service_t *svc)
{
    if (cfg->migrate && txw_pg_migrate_url (cfg->database_url) < 0)
        return NULL;
    ingest_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->done, &attr);
    pthread_cond_init (&self->keeper_wake, &attr);
    pthread_condattr_destroy (&attr);
    pthread_mutex_init (&self->keeper_lock, NULL);
    msgpack_sbuffer_init (&self->claimed);
    for (int k = 0; k < INGEST_KINDS; k++)
        self->kinds [k].type = s_kind_types [k];
    self->acked = txw_counter_new ("txw_ingest_acknowledged_records_total", NULL,
        "records the pipeline acknowledged as stored (or stored as dead letters)");
    self->resent = txw_counter_new ("txw_ingest_resent_records_total", NULL,
        "records claimed from the journal and sent again: not acknowledged within their lease");
    self->purged = txw_counter_new ("txw_ingest_purged_records_total", NULL,
        "acknowledged records deleted from the journal past the idempotency horizon");
    self->refused = txw_counter_new ("txw_ingest_journal_timeouts_total", NULL,
        "requests answered 503 because the journal did not take them in time");
    self->unacked = txw_gauge_new ("txw_ingest_unacknowledged_records", NULL,
        "records in the journal not yet acknowledged, every replica's (read every 5 s)");
    if (self->wake_fd < 0)
        goto err;
    self->journal = ingest_journal_new (cfg->database_url, cfg->ack_timeout_ms,
                                        cfg->statement_timeout_ms);
    self->out = txw_out_new (TXW_OUT_PUSH, cfg->validator_endpoints, svc->id, (int) cfg->svc.hwm,
                             (int) cfg->svc.linger_ms);
    self->acks = txw_in_new_sub (cfg->ack_endpoints, TXW_MSG_BIT (TXW_MSG_ACK));
    if (!self->journal || !self->out || !self->acks)
        goto err;
    txw_out_count (self->out, svc->records_out, svc->batches_out);
    txw_out_on_seal (self->out, s_sealed, self);
    self->origin_id = txw_out_origin_id (self->out);
    //  Connected before the port opens, so /readyz says at once whether
    //  the journal can be written.
    txw_gauge_set (self->unacked, ingest_journal_pending (self->journal));
    if (pthread_create (&self->keeper, NULL, s_keeper, self)) {
        log_error ("cannot start the keeper thread");
        goto err;
    }
    self->keeper_started = true;
    self->server = ingest_server_new (cfg, svc, self, self->journal);
    if (!self->server || txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self))
        goto err;
    return self;
err:
    ingest_destroy (&self);
    return NULL;
}

int
ingest_run (ingest_t *self)
{
    int64_t next_refresh = txw_mono_ms () + 1000;
    zmq_pollitem_t items [2] = {
        { zsock_resolve (txw_in_socket (self->acks)), 0, ZMQ_POLLIN, 0 },
        { NULL, self->wake_fd, ZMQ_POLLIN, 0 }
    };
    while (!self->svc->stop) {
        int wait = txw_out_due_ms (self->out);
        if (wait < 0 || wait > 100)
            wait = 100;         //  the stop flag is looked at this often
        if (zmq_poll (items, 2, wait) < 0 && errno != EINTR) {
            log_error ("poll: %s", zmq_strerror (errno));
            break;
        }
        if (items [1].revents & ZMQ_POLLIN) {
            uint64_t n;
            if (read (self->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
                log_warn ("eventfd: %s", strerror (errno));
        }
        s_jobs (self);
        s_send_claimed (self);
        if (items [0].revents & ZMQ_POLLIN) {
            s_acks_take (self);
            s_acks_hand (self);
        }
        txw_out_flush (self->out, false);
        int64_t now = txw_mono_ms ();
        for (int k = 0; k < INGEST_KINDS; k++)
            s_flights_trim (&self->kinds [k], now);
        if (now >= next_refresh) {
            txw_in_refresh (self->acks);
            next_refresh = now + 1000;
        }
        if (self->svc->reload) {
            self->svc->reload = 0;
            ingest_server_reload (self->server);
        }
    }
    log_info ("stopping");
    //  Jobs queued until now are journaled and answered; later ones are
    //  refused (503) at once, so the listener's workers all finish and it
    //  can stop.
    pthread_mutex_lock (&self->lock);
    self->closing = true;
    pthread_mutex_unlock (&self->lock);
    s_jobs (self);
    ingest_server_destroy (&self->server);
    s_acks_take (self);
    s_acks_hand (self);
    txw_out_flush (self->out, true);
    return 0;
}

void
ingest_destroy (ingest_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ingest_t *self = *self_p;
    ingest_server_destroy (&self->server);
    txw_admin_destroy (&self->svc->admin);
    if (self->keeper_started) {
        //  It writes the acknowledgements handed to it before it ends.
        pthread_mutex_lock (&self->keeper_lock);
        self->keeper_stop = true;
        pthread_cond_signal (&self->keeper_wake);
        pthread_mutex_unlock (&self->keeper_lock);
        pthread_join (self->keeper, NULL);
    }
    if (self->out) {
        //  Batches handed to ZeroMQ get a second to reach a validator; what
        //  does not is sent again by a replica once its lease ends.
        zsock_set_linger (txw_out_socket (self->out), 1000);
        txw_out_destroy (&self->out);
    }
    txw_in_destroy (&self->acks);
    ingest_journal_destroy (&self->journal);
    for (int k = 0; k < INGEST_KINDS; k++) {
        s_kind_t *kind = &self->kinds [k];
        for (size_t i = 0; i < kind->count; i++)
            s_flight_free (&kind->items [(kind->head + i) % kind->capacity]);
        free (kind->items);
        free (kind->acked.items);
        free (self->to_ack [k].items);
    }
    msgpack_sbuffer_destroy (&self->claimed);
    if (self->wake_fd >= 0)
        close (self->wake_fd);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->done);
    pthread_mutex_destroy (&self->keeper_lock);
    pthread_cond_destroy (&self->keeper_wake);
    free (self);
    *self_p = NULL;
}
