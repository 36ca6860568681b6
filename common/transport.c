/*  transport - batched ZeroMQ outputs, keyed routing and sequenced inputs   */

#include "transport.h"
#include "clock.h"
#include "log.h"
#include "options.h"

#include <errno.h>
#include <string.h>

static volatile int *s_stop = NULL;

void
txw_transport_set_stop_flag (volatile int *flag)
{
    s_stop = flag;
}

//  --- Output ------------------------------------------------------------------

struct _txw_out_t {
    zsock_t *sock;
    void *handle;
    txw_out_kind_t kind;
    char source_id [TXW_NAME_MAX * 2 + 1];
    uint64_t epoch;
    uint64_t seq [TXW_MSG_TYPE_MAX + 1];
    txw_batch_t *batches [TXW_MSG_TYPE_MAX + 1];
    int linger_ms;
};

static int
s_attach_all (zsock_t *sock, const char *endpoints, bool bind)
{
    char *copy = strdup (endpoints);
    char *items [TXW_MAX_ENDPOINTS];
    int count = txw_split_list (copy, items, TXW_MAX_ENDPOINTS);
    int rc = count > 0? 0: -1;
    for (int i = 0; i < count && rc == 0; i++) {
        if (bind)
            rc = zsock_bind (sock, "%s", items [i]) < 0? -1: 0;
        else
            rc = zsock_connect (sock, "%s", items [i]);
        if (rc != 0)
            log_error ("cannot %s %s: %s", bind? "bind": "connect", items [i],
                       zmq_strerror (zmq_errno ()));
    }
    if (count == 0)
        log_error ("empty endpoint list");
    free (copy);
    return rc;
}

txw_out_t *
txw_out_new (txw_out_kind_t kind, const char *endpoints, const char *source_id,
             int hwm, int linger_ms)
{
    txw_out_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->kind = kind;
    self->linger_ms = linger_ms;
    snprintf (self->source_id, sizeof self->source_id, "%s", source_id);
    self->epoch = (uint64_t) txw_now_us ();
    self->sock = zsock_new (kind == TXW_OUT_PUSH? ZMQ_PUSH: ZMQ_PUB);
    if (!self->sock)
        goto err;
    zsock_set_sndhwm (self->sock, hwm);
    zsock_set_linger (self->sock, 2000);
    //  A blocked send wakes every 100 ms to look at the stop flag.
    zsock_set_sndtimeo (self->sock, 100);
    if (s_attach_all (self->sock, endpoints, kind == TXW_OUT_PUB))
        goto err;
    self->handle = zsock_resolve (self->sock);
    return self;
err:
    txw_out_destroy (&self);
    return NULL;
}

void
txw_out_destroy (txw_out_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_out_t *self = *self_p;
    for (int t = 0; t <= TXW_MSG_TYPE_MAX; t++)
        if (self->batches [t]) {
            txw_batch_fini (self->batches [t]);
            free (self->batches [t]);
        }
    zsock_destroy (&self->sock);
    free (self);
    *self_p = NULL;
}

zsock_t *
txw_out_socket (txw_out_t *self)
{
    return self->sock;
}

txw_batch_t *
txw_out_batch (txw_out_t *self, uint32_t type)
{
    assert (type >= 1 && type <= TXW_MSG_TYPE_MAX);
    if (!self->batches [type]) {
        self->batches [type] = malloc (sizeof (txw_batch_t));
        assert (self->batches [type]);
        txw_batch_init (self->batches [type], type, self->source_id, self->epoch);
    }
    return self->batches [type];
}

//  Sends one sealed batch. PUB never blocks; PUSH blocks at the high-water
//  mark and retries until sent or told to stop.
static int
s_send (txw_out_t *self, txw_batch_t *batch)
{
    if (batch->count == 0)
        return 0;
    txw_batch_seal (batch, ++self->seq [batch->type], txw_now_us ());
    int rc;
    int64_t give_up_ms = 0;
    for (;;) {
        rc = zmq_send (self->handle, batch->buf.data, batch->buf.size, 0);
        if (rc >= 0)
            break;
        if (zmq_errno () == EAGAIN || zmq_errno () == EINTR) {
            if (self->kind == TXW_OUT_PUB)
                break;
            //  On shutdown keep trying for a few seconds, so in-flight
            //  batches still drain to a live downstream, then give up.
            if (s_stop && *s_stop) {
                int64_t now = txw_mono_ms ();
                if (!give_up_ms)
                    give_up_ms = now + 5000;
                else
                if (now > give_up_ms) {
                    log_warn ("dropping a batch of %u records: downstream "
                              "not taking them at shutdown", batch->count);
                    break;
                }
            }
            continue;
        }
        log_error ("send failed: %s", zmq_strerror (zmq_errno ()));
        break;
    }
    txw_batch_clear (batch);
    return rc >= 0? 0: -1;
}

int
txw_out_added (txw_out_t *self, txw_batch_t *batch)
{
    txw_batch_added (batch);
    if (batch->count >= TXW_BATCH_RECORDS || batch->buf.size >= TXW_BATCH_BYTES)
        return s_send (self, batch);
    return 0;
}

int
txw_out_flush (txw_out_t *self, bool force)
{
    int rc = 0;
    int64_t now = txw_mono_ms ();
    for (int t = 1; t <= TXW_MSG_TYPE_MAX; t++) {
        txw_batch_t *batch = self->batches [t];
        if (batch && batch->count
        &&  (force || now - batch->started_ms >= self->linger_ms))
            if (s_send (self, batch))
                rc = -1;
    }
    return rc;
}

int
txw_out_due_ms (txw_out_t *self)
{
    int due = -1;
    int64_t now = txw_mono_ms ();
    for (int t = 1; t <= TXW_MSG_TYPE_MAX; t++) {
        txw_batch_t *batch = self->batches [t];
        if (batch && batch->count) {
            int64_t left = batch->started_ms + self->linger_ms - now;
            if (left < 0)
                left = 0;
            if (due < 0 || left < due)
                due = (int) left;
        }
    }
    return due;
}

//  --- Router ------------------------------------------------------------------

struct _txw_router_t {
    txw_out_t *shards [TXW_MAX_ENDPOINTS];
    uint32_t count;
};

txw_router_t *
txw_router_new (const char *endpoints, const char *source_id, int hwm, int linger_ms)
{
    txw_router_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char *copy = strdup (endpoints);
    char *items [TXW_MAX_ENDPOINTS];
    int count = txw_split_list (copy, items, TXW_MAX_ENDPOINTS);
    for (int i = 0; i < count; i++) {
        self->shards [i] = txw_out_new (TXW_OUT_PUSH, items [i], source_id, hwm, linger_ms);
        if (!self->shards [i]) {
            free (copy);
            txw_router_destroy (&self);
            return NULL;
        }
        self->count++;
    }
    free (copy);
    if (self->count == 0) {
        log_error ("no shard endpoints given");
        txw_router_destroy (&self);
    }
    return self;
}

void
txw_router_destroy (txw_router_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_router_t *self = *self_p;
    for (uint32_t i = 0; i < self->count; i++)
        txw_out_destroy (&self->shards [i]);
    free (self);
    *self_p = NULL;
}

uint32_t
txw_router_shards (txw_router_t *self)
{
    return self->count;
}

txw_out_t *
txw_router_pick (txw_router_t *self, const char *key, size_t len)
{
    return self->shards [txw_shard_of (key, len, self->count)];
}

txw_out_t *
txw_router_shard (txw_router_t *self, uint32_t shard)
{
    return shard < self->count? self->shards [shard]: NULL;
}

int
txw_router_flush (txw_router_t *self, bool force)
{
    int rc = 0;
    for (uint32_t i = 0; i < self->count; i++)
        if (txw_out_flush (self->shards [i], force))
            rc = -1;
    return rc;
}

int
txw_router_due_ms (txw_router_t *self)
{
    int due = -1;
    for (uint32_t i = 0; i < self->count; i++) {
        int d = txw_out_due_ms (self->shards [i]);
        if (d >= 0 && (due < 0 || d < due))
            due = d;
    }
    return due;
}

//  --- Input -------------------------------------------------------------------

#define S_MAX_SOURCES 256

typedef struct {
    uint64_t hash;              //  of source id and message type
    uint64_t epoch;
    uint64_t seq;
} s_source_t;

struct _txw_in_t {
    zsock_t *sock;
    void *handle;
    txw_in_stats_t stats;
    s_source_t sources [S_MAX_SOURCES];
    int source_count;
    txw_counter_t *gap_counter;
    int64_t last_complaint_ms;
};

static txw_in_t *
s_in_new (int type, const char *endpoints, bool bind, int hwm)
{
    txw_in_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = zsock_new (type);
    if (!self->sock)
        goto err;
    zsock_set_rcvhwm (self->sock, hwm);
    zsock_set_linger (self->sock, 0);
    //  A frame larger than the protocol allows is refused by libzmq itself.
    zsock_set_maxmsgsize (self->sock, TXW_MAX_FRAME);
    if (s_attach_all (self->sock, endpoints, bind))
        goto err;
    self->handle = zsock_resolve (self->sock);
    return self;
err:
    txw_in_destroy (&self);
    return NULL;
}

txw_in_t *
txw_in_new_pull (const char *endpoints, int hwm)
{
    return s_in_new (ZMQ_PULL, endpoints, true, hwm);
}

txw_in_t *
txw_in_new_sub (const char *endpoints, const char *topics)
{
    (void) topics;      //  envelopes have no topic prefix: subscribe to all
    txw_in_t *self = s_in_new (ZMQ_SUB, endpoints, false, 10000);
    if (self)
        zsock_set_subscribe (self->sock, "");
    return self;
}

void
txw_in_destroy (txw_in_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_in_t *self = *self_p;
    zsock_destroy (&self->sock);
    free (self);
    *self_p = NULL;
}

void *
txw_in_socket (txw_in_t *self)
{
    return self->sock;
}

const txw_in_stats_t *
txw_in_stats (txw_in_t *self)
{
    return &self->stats;
}

void
txw_in_count_gaps (txw_in_t *self, txw_counter_t *counter)
{
    self->gap_counter = counter;
}

void
txw_hex_preview (const void *data, size_t size, char *out, size_t out_size)
{
    const uint8_t *p = data;
    size_t o = 0;
    for (size_t i = 0; i < size && i < 16 && o + 3 < out_size; i++)
        o += (size_t) snprintf (out + o, out_size - o, "%02x", p [i]);
    out [o] = 0;
}

//  Tracks the sequence of (source, type): counts gaps and replays.
static void
s_track (txw_in_t *self, const txw_envelope_t *env)
{
    uint64_t hash = txw_hash (env->source_id.ptr, env->source_id.len) ^ env->type;
    s_source_t *src = NULL;
    for (int i = 0; i < self->source_count; i++)
        if (self->sources [i].hash == hash) {
            src = &self->sources [i];
            break;
        }
    if (!src) {
        //  Full table: reuse the slot of the oldest epoch.
        int slot = self->source_count < S_MAX_SOURCES? self->source_count++: 0;
        for (int i = 0; i < self->source_count && self->source_count == S_MAX_SOURCES; i++)
            if (self->sources [i].epoch < self->sources [slot].epoch)
                slot = i;
        src = &self->sources [slot];
        src->hash = hash;
        src->epoch = env->epoch;
        src->seq = env->seq;
        return;
    }
    if (env->epoch != src->epoch) {
        //  The sender restarted: a new epoch starts its count again.
        if (env->epoch > src->epoch) {
            src->epoch = env->epoch;
            src->seq = env->seq;
        }
        else
            self->stats.replays++;
        return;
    }
    if (env->seq <= src->seq)
        self->stats.replays++;
    else {
        if (env->seq > src->seq + 1) {
            self->stats.gaps += env->seq - src->seq - 1;
            if (self->gap_counter)
                txw_counter_add (self->gap_counter, env->seq - src->seq - 1);
        }
        src->seq = env->seq;
    }
}

int
txw_in_recv (txw_in_t *self, int timeout_ms, zmq_msg_t *msg, txw_envelope_t *env)
{
    zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
    int rc = zmq_poll (&item, 1, timeout_ms);
    if (rc <= 0)
        return 0;
    zmq_msg_init (msg);
    if (zmq_msg_recv (msg, self->handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (msg);
        return 0;
    }
    self->stats.messages++;
    const char *error = NULL;
    const void *data = zmq_msg_data (msg);
    size_t size = zmq_msg_size (msg);
    if (zmq_msg_more (msg) || txw_envelope_decode (data, size, env, &error) != 0) {
        self->stats.malformed++;
        //  One complaint a second at most: garbage must not flood the log.
        int64_t now = txw_mono_ms ();
        if (now - self->last_complaint_ms >= 1000) {
            char hex [40];
            txw_hex_preview (data, size, hex, sizeof hex);
            log_warn ("dropped malformed message (%zu bytes, %s, starts %s); %llu so far",
                      size, error? error: "multipart", hex,
                      (unsigned long long) self->stats.malformed);
            self->last_complaint_ms = now;
        }
        //  Drain the rest of a multipart message.
        while (zmq_msg_more (msg)) {
            zmq_msg_close (msg);
            zmq_msg_init (msg);
            if (zmq_msg_recv (msg, self->handle, ZMQ_DONTWAIT) < 0)
                break;
        }
        zmq_msg_close (msg);
        return -1;
    }
    s_track (self, env);
    return 1;
}
