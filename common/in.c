/*  in - a sequenced ZeroMQ input: a PULL that binds, or a SUB that connects

    See in.h. The sequence table holds up to S_MAX_SOURCES (source, type)
    pairs; when it is full the slot of the oldest epoch is reused.

    A PULL that checks roles (CURVE with an allowed directory) reads the
    sender's role (User-Id) and key (TXW_CURVE_KEY_PROPERTY) of every
    message before anything else looks at it, and holds a binding of each
    source id to the key that used it first, for S_MAX_BINDINGS source ids.
    A binding moves to another key only once its key has left the allowed
    directory (a rotated key); a full table gives up the binding used
    longest ago if it has been idle for S_BINDING_IDLE_MS, and refuses the
    new source id otherwise, so a flood of made-up ids cannot push a live
    sender's binding out. txw_in_bind makes a binding before any message,
    under the same rules: a restarted aggregator gives every source id of
    its checkpoints back the key stored with it, so a key that merely
    sends first after the restart cannot claim it.                                                   */

#include "transport_internal.h"
#include "clock.h"
#include "log.h"

#include <string.h>

#define S_MAX_SOURCES       256
#define S_MAX_BINDINGS      1024
#define S_BINDING_IDLE_MS   (10 * 60 * 1000)
#define S_REFUSED_PER_CALL  64      //  refused messages one txw_in_recv skips at most


typedef struct {
    char source [TXW_NAME_MAX * 2 + 1];
    size_t source_len;
    char key [TXW_CURVE_KEY_LEN + 1];
    int64_t used_ms;
} s_binding_t;

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
    //  CURVE roles (a PULL with an allowed directory): see the header.
    bool checks;
    s_binding_t *bindings;
    int binding_count;
    txw_log_limiter_t refusal_log;
    //  How old each message is when it is taken in: now less the sent_us
    //  its sender sealed it with, the hop's time on the wire and in both
    //  queues. One histogram a process, shared by all its inputs: each
    //  stage is a process, so the validator's, the scorer's and the
    //  aggregator's are the pipeline's three hops (make bench prints them).
    //  Wall clocks: across hosts only as good as their sync; a negative age
    //  is skipped.
    txw_histogram_t *hop;
};

static txw_in_t *
s_in_new (int type, const char *endpoints, bool bind, int hwm, uint32_t types,
          uint32_t roles)
{
    txw_in_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->hop = txw_histogram_fine_shared ("txw_hop_latency_seconds",
        "age of a message when this stage takes it in (its sender's seal to now): the hop "
        "into this stage, wire and queues", "txw_hop_latency_fine_seconds");
    self->sock = zsock_new (type);
    if (!self->sock)
        goto err;
    zsock_set_rcvhwm (self->sock, hwm);
    zsock_set_linger (self->sock, 0);
    //  A frame larger than the protocol allows is refused by libzmq itself.
    zsock_set_maxmsgsize (self->sock, TXW_MAX_FRAME);
    if (bind) {
        if (txw_links_bind (self->sock, endpoints, roles))
            goto err;
        self->checks = txw_curve_checks_roles ();
        if (self->checks) {
            self->bindings = calloc (S_MAX_BINDINGS, sizeof (s_binding_t));
            if (!self->bindings)
                goto err;
        }
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
txw_in_new_pull (const char *endpoints, int hwm, uint32_t roles)
{
    return s_in_new (ZMQ_PULL, endpoints, true, hwm, 0, roles);
}

txw_in_t *
txw_in_new_sub (const char *endpoints, uint32_t types)
{
    return s_in_new (ZMQ_SUB, endpoints, false, 10000, types, 0);
}

void
txw_in_destroy (txw_in_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_in_t *self = *self_p;
    txw_links_destroy (&self->links);
    zsock_destroy (&self->sock);
    free (self->bindings);
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

//  The binding of a source id; NULL if it has none.
static s_binding_t *
s_binding_find (txw_in_t *self, const char *source, size_t len)
{
    for (int i = 0; i < self->binding_count; i++) {
        s_binding_t *binding = &self->bindings [i];
        if (binding->source_len == len && memcmp (binding->source, source, len) == 0)
            return binding;
    }
    return NULL;
}

//  A slot for a new binding: a free one, or the one used longest ago if it
//  has been idle long enough; NULL if none may be given up.
static s_binding_t *
s_binding_slot (txw_in_t *self, int64_t now)
{
    if (self->binding_count < S_MAX_BINDINGS)
        return &self->bindings [self->binding_count++];
    s_binding_t *oldest = &self->bindings [0];
    for (int i = 1; i < self->binding_count; i++)
        if (self->bindings [i].used_ms < oldest->used_ms)
            oldest = &self->bindings [i];
    return now - oldest->used_ms >= S_BINDING_IDLE_MS? oldest: NULL;
}

//  Checks the sender of a message on a PULL that checks roles. Returns -1
//  to accept it, or why it is refused.
static int
s_check_sender (txw_in_t *self, zmq_msg_t *msg, const txw_envelope_t *env,
                const char **role_name, const char **key_text)
{
    const char *user = zmq_msg_gets (msg, "User-Id");
    const char *key = zmq_msg_gets (msg, TXW_CURVE_KEY_PROPERTY);
    *role_name = user? user: "";
    *key_text = key? key: "";
    int role = user? txw_peer_parse (user, strlen (user)): TXW_PEER_NONE;
    if (role == TXW_PEER_NONE || !key || strlen (key) != TXW_CURVE_KEY_LEN)
        return TXW_REFUSED_IDENTITY;
    //  Admitted at the handshake, but the key may have left the directory
    //  (or changed role) since: its open connection speaks for nobody now.
    if (txw_curve_key_role (key) != role)
        return TXW_REFUSED_REVOKED;
    if (!txw_peer_sends (role, env->type))
        return TXW_REFUSED_TYPE;
    int64_t now = txw_mono_ms ();
    s_binding_t *binding = s_binding_find (self, env->source_id.ptr, env->source_id.len);
    if (binding && !streq (binding->key, key)) {
        //  Another key holds this source id: it gives way only once it is
        //  no longer allowed (a rotation: the new key then takes over).
        if (txw_curve_key_role (binding->key) != TXW_PEER_NONE)
            return TXW_REFUSED_SOURCE;
        log_info ("source %.*s moves from key %s (no longer allowed) to key %s",
                  (int) env->source_id.len, env->source_id.ptr, binding->key, key);
        snprintf (binding->key, sizeof binding->key, "%s", key);
    }
    if (!binding) {
        binding = s_binding_slot (self, now);
        if (!binding)
            return TXW_REFUSED_SOURCES_FULL;
        memcpy (binding->source, env->source_id.ptr, env->source_id.len);
        binding->source [env->source_id.len] = 0;
        binding->source_len = env->source_id.len;
        snprintf (binding->key, sizeof binding->key, "%s", key);
    }
    binding->used_ms = now;
    return -1;
}

const char *
txw_in_key (txw_in_t *self, zmq_msg_t *msg)
{
    if (!self->checks)
        return NULL;
    //  txw_in_recv returned it: its key was checked (s_check_sender).
    const char *key = zmq_msg_gets (msg, TXW_CURVE_KEY_PROPERTY);
    return key && strlen (key) == TXW_CURVE_KEY_LEN? key: NULL;
}

int
txw_in_bind (txw_in_t *self, const char *source, size_t len, const char *key)
{
    if (!self->checks || !source || !key || strlen (key) != TXW_CURVE_KEY_LEN
    ||  len >= sizeof self->bindings [0].source)
        return -1;
    if (txw_curve_key_role (key) == TXW_PEER_NONE) {
        log_info ("source %.*s is not bound to key %s: the key is no longer allowed",
                  (int) len, source, key);
        return -1;
    }
    int64_t now = txw_mono_ms ();
    s_binding_t *binding = s_binding_find (self, source, len);
    if (binding && !streq (binding->key, key)) {
        //  The same rule as for a message: an allowed key keeps its source id.
        if (txw_curve_key_role (binding->key) != TXW_PEER_NONE)
            return -1;
        snprintf (binding->key, sizeof binding->key, "%s", key);
    }
    if (!binding) {
        binding = s_binding_slot (self, now);
        if (!binding)
            return -1;
        memcpy (binding->source, source, len);
        binding->source [len] = 0;
        binding->source_len = len;
        snprintf (binding->key, sizeof binding->key, "%s", key);
    }
    binding->used_ms = now;
    return 0;
}

//  Counts and logs (once a second at most) a message refused for its sender.
static void
s_refuse (txw_in_t *self, const txw_envelope_t *env, int reason, const char *role,
          const char *key)
{
    self->stats.refused++;
    txw_curve_refused ((txw_refused_t) reason);
    uint64_t suppressed;
    if (!txw_log_limit (&self->refusal_log, &suppressed))
        return;
    static const char *const why [TXW_REFUSED_COUNT] = {
        [TXW_REFUSED_TYPE] = "its role does not send this message type",
        [TXW_REFUSED_SOURCE] = "the source id is bound to another key",
        [TXW_REFUSED_REVOKED] = "its key is no longer in the allowed directory as this role",
        [TXW_REFUSED_IDENTITY] = "it carries no role or key",
        [TXW_REFUSED_SOURCES_FULL] = "no room to bind another source id",
    };
    log_warn ("refused a %s message from source %.*s (role %s, key %s): %s (%s; %llu "
              "similar warnings suppressed)", txw_msg_type_name ((int) env->type),
              (int) env->source_id.len, env->source_id.ptr, *role? role: "none",
              *key? key: "none", why [reason], txw_refused_name ((txw_refused_t) reason),
              (unsigned long long) suppressed);
}

//  Receives one message. Returns 1, 0 or -1 as txw_in_recv does, or 2 for
//  a message refused for its sender (counted and closed).
static int
s_recv_one (txw_in_t *self, int timeout_ms, zmq_msg_t *msg, txw_envelope_t *env)
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
    if (self->checks) {
        const char *role, *key;
        int reason = s_check_sender (self, msg, env, &role, &key);
        if (reason >= 0) {
            s_refuse (self, env, reason, role, key);
            zmq_msg_close (msg);
            return 2;
        }
    }
    s_track (self, env);
    if (env->sent_us > 0) {
        int64_t age = txw_now_us () - env->sent_us;
        if (age >= 0)
            txw_histogram_observe_us (self->hop, age);
    }
    return 1;
}

int
txw_in_recv (txw_in_t *self, int timeout_ms, zmq_msg_t *msg, txw_envelope_t *env)
{
    txw_links_follow (self->links);
    int64_t deadline = txw_mono_ms () + (timeout_ms > 0? timeout_ms: 0);
    for (int refused = 0; ; refused++) {
        int rc = s_recv_one (self, timeout_ms, msg, env);
        if (rc != 2)
            return rc;
        //  A refused message is not an answer: wait on for the rest of the
        //  time, but a flood of them hands the loop back now and then.
        if (refused + 1 >= S_REFUSED_PER_CALL)
            return 0;
        if (timeout_ms > 0) {
            int64_t left = deadline - txw_mono_ms ();
            timeout_ms = left > 0? (int) left: 0;
        }
    }
}
