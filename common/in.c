/*  in - a sequenced ZeroMQ input: a PULL that binds, or a SUB that connects

    See in.h. The sequence table holds up to S_MAX_SOURCES (source, type)
    pairs; when it is full the slot of the oldest epoch is reused.         */

#include "transport_internal.h"
#include "clock.h"
#include "log.h"

#include <string.h>

#define S_MAX_SOURCES 256

typedef struct {
    uint64_t hash;              //  of source id and message type
    uint64_t epoch;
    uint64_t seq;
} s_source_t;

struct _txw_in_t {
    zsock_t *sock;
    void *handle;
    txw_links_t *links;         //  SUB: the endpoints it follows
    txw_in_stats_t stats;
    s_source_t sources [S_MAX_SOURCES];
    int source_count;
    txw_counter_t *gap_counter;
    int64_t last_complaint_ms;
};

static txw_in_t *
s_in_new (int type, const char *endpoints, bool bind, int hwm, uint32_t types)
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
    if (bind) {
        if (txw_links_bind (self->sock, endpoints))
            goto err;
    }
    else {
        //  Subscribe before connecting, so nothing published is missed.
        //  The publisher filters, so unwanted types never cross the wire.
        for (uint32_t t = 1; t <= TXW_MSG_TYPE_MAX; t++)
            if (types & TXW_MSG_BIT (t)) {
                uint8_t prefix [TXW_ENVELOPE_PREFIX_LEN];
                txw_envelope_prefix (t, prefix);
                zmq_setsockopt (zsock_resolve (self->sock), ZMQ_SUBSCRIBE, prefix, sizeof prefix);
            }
        self->links = txw_links_connect (self->sock, endpoints, false);
        if (!self->links)
            goto err;
    }
    self->handle = zsock_resolve (self->sock);
    return self;
err:
    txw_in_destroy (&self);
    return NULL;
}

txw_in_t *
txw_in_new_pull (const char *endpoints, int hwm)
{
    return s_in_new (ZMQ_PULL, endpoints, true, hwm, 0);
}

txw_in_t *
txw_in_new_sub (const char *endpoints, uint32_t types)
{
    return s_in_new (ZMQ_SUB, endpoints, false, 10000, types);
}

void
txw_in_destroy (txw_in_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_in_t *self = *self_p;
    txw_links_destroy (&self->links);
    zsock_destroy (&self->sock);
    free (self);
    *self_p = NULL;
}

void *
txw_in_socket (txw_in_t *self)
{
    return self->sock;
}

void
txw_in_refresh (txw_in_t *self)
{
    txw_links_follow (self->links);
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
    txw_links_follow (self->links);
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
