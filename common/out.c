/*  out - a batched ZeroMQ output: a PUSH that connects, or a PUB that binds

    See out.h. One open batch per message type; a batch is sealed with the
    next sequence number of its type when it leaves. A PUSH's links follow
    the resolver before every send attempt, also while blocked at the
    high-water mark, since the peers may be gone and new ones resolved.     */

#include "transport_internal.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <string.h>

struct _txw_out_t {
    zsock_t *sock;
    void *handle;
    txw_links_t *links;         //  PUSH: the endpoints it follows
    txw_out_kind_t kind;
    char source_id [TXW_NAME_MAX * 2 + 1];
    uint64_t epoch;
    uint64_t seq [TXW_MSG_TYPE_MAX + 1];
    txw_batch_t *batches [TXW_MSG_TYPE_MAX + 1];
    int linger_ms;
    txw_counter_t *records_sent;    //  optional: txw_out_count
    txw_counter_t *batches_sent;
    txw_out_sealed_fn *sealed;      //  optional: txw_out_on_seal
    void *sealed_arg;
};

static volatile int *s_stop = NULL;

void
txw_transport_set_stop_flag (volatile int *flag)
{
    s_stop = flag;
}

static txw_out_t *
s_out_new (txw_out_kind_t kind, const char *endpoints, const char *source_id,
           int hwm, int linger_ms, bool one_address, uint32_t roles)
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
    if (kind == TXW_OUT_PUB) {
        if (txw_links_bind (self->sock, endpoints, roles))
            goto err;
    }
    else {
        self->links = txw_links_connect (self->sock, endpoints, one_address);
        if (!self->links)
            goto err;
    }
    self->handle = zsock_resolve (self->sock);
    return self;
err:
    txw_out_destroy (&self);
    return NULL;
}

txw_out_t *
txw_out_new (txw_out_kind_t kind, const char *endpoints, const char *source_id,
             int hwm, int linger_ms)
{
    return s_out_new (kind, endpoints, source_id, hwm, linger_ms, false, TXW_PEERS_ANY);
}

txw_out_t *
txw_out_new_pub (const char *endpoints, uint32_t roles, const char *source_id, int hwm,
                 int linger_ms)
{
    return s_out_new (TXW_OUT_PUB, endpoints, source_id, hwm, linger_ms, false, roles);
}

txw_out_t *
txw_out_new_shard (const char *endpoint, const char *source_id, int hwm, int linger_ms)
{
    return s_out_new (TXW_OUT_PUSH, endpoint, source_id, hwm, linger_ms, true, 0);
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
    txw_links_destroy (&self->links);
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

//  Sends one frame. PUB never blocks; PUSH blocks at the high-water mark
//  and retries until sent or told to stop.
static int
s_send_frame (txw_out_t *self, const void *data, size_t size, uint32_t records)
{
    int rc;
    int64_t give_up_ms = 0;
    for (;;) {
        //  Also while blocked: the peers may be gone and new ones resolved.
        txw_links_follow (self->links);
        rc = zmq_send (self->handle, data, size, 0);
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
                              "not taking them at shutdown", records);
                    break;
                }
            }
            continue;
        }
        log_error ("send failed: %s", zmq_strerror (zmq_errno ()));
        break;
    }
    if (rc >= 0 && self->records_sent && records) {
        txw_counter_add (self->records_sent, records);
        txw_counter_add (self->batches_sent, 1);
    }
    return rc >= 0? 0: -1;
}

//  Seals a batch with its type's next sequence number and sends it.
static int
s_send (txw_out_t *self, txw_batch_t *batch)
{
    if (batch->count == 0)
        return 0;
    uint64_t seq = ++self->seq [batch->type];
    txw_batch_seal (batch, seq, txw_now_us ());
    if (self->sealed)
        self->sealed (self->sealed_arg, batch->type, seq, batch->buf.data, batch->buf.size,
                      batch->count);
    //  Acknowledgements are not records of the stream: counted apart.
    int rc = s_send_frame (self, batch->buf.data, batch->buf.size,
                           batch->type == TXW_MSG_ACK? 0: batch->count);
    txw_batch_clear (batch);
    return rc;
}

int
txw_out_resend (txw_out_t *self, const void *frame, size_t size, uint32_t records)
{
    return s_send_frame (self, frame, size, records);
}

void
txw_out_on_seal (txw_out_t *self, txw_out_sealed_fn *fn, void *arg)
{
    self->sealed = fn;
    self->sealed_arg = arg;
}

uint64_t
txw_out_origin_id (txw_out_t *self)
{
    return txw_origin_id (self->source_id, strlen (self->source_id), self->epoch);
}

void
txw_out_count (txw_out_t *self, txw_counter_t *records, txw_counter_t *batches)
{
    self->records_sent = records;
    self->batches_sent = records? batches: NULL;
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
    txw_links_follow (self->links);
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
