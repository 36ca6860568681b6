/*  in - a sequenced ZeroMQ input: a PULL that binds, or a SUB that connects

    A stage's work input binds a PULL; an observer connects a SUB, which
    follows the host names in its list (resolver.h) like a PUSH does.
    Either is CURVE-secured when txw_transport_configure turned CURVE on.
    With the roles checked (an allowed directory), a PULL admits only the
    client roles it was made for, and takes from each sender only the
    message types its role sends (txw_peer_sends) and only the source ids
    that sender's key used first: a source id is bound to the first key
    that sends under it (or the key txw_in_bind gave it, such as one kept
    with a checkpoint across a restart), while that key stays allowed. A refused message is
    counted (txw_curve_messages_refused_total, stats.refused), logged once
    a second at most, and never reaches the caller. A SUB cannot tell its
    publishers apart (they share the server certificate): it checks none
    of this. Every message must be one envelope (codec.h); anything else is counted
    as malformed and dropped, with one log line a second at most. The input
    tracks (source, type, epoch, seq) per sender and counts the messages
    missing between sequence numbers (gaps: a PUB dropped them) and the
    ones at or below the last seen (replays); a new epoch is a restarted
    sender and starts its count again. How old each message is when it is
    taken in (its sender's sent_us to now) goes to the process's
    txw_hop_latency_seconds histogram, with a fine summary
    (txw_hop_latency_fine_seconds). Callers include transport.h.             */

#ifndef TXW_IN_H
#define TXW_IN_H

#include "codec.h"
#include "metrics.h"

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _txw_in_t txw_in_t;

typedef struct {
    uint64_t messages;
    uint64_t malformed;
    uint64_t gaps;              //  messages missing between sequence numbers
    uint64_t replays;           //  messages at or below the last sequence seen
    uint64_t refused;           //  messages refused for their sender (CURVE roles)
} txw_in_stats_t;

//  PULL bound to a list of endpoints that, under CURVE, admits the client
//  roles in roles (TXW_PEER_BIT each, e.g. TXW_ADMIT_SCORER_PULL), or SUB
//  connected to a list.
txw_in_t *txw_in_new_pull (const char *endpoints, int hwm, uint32_t roles);
//  A SUB takes the message types in the mask types (TXW_MSG_BIT of each):
//  it subscribes to the first bytes of their envelopes, which are fixed.
#define TXW_MSG_BIT(type) (1u << (type))
#define TXW_MSG_ALL ((1u << (TXW_MSG_TYPE_MAX + 1)) - 2)
txw_in_t *txw_in_new_sub (const char *endpoints, uint32_t types);
void txw_in_destroy (txw_in_t **self_p);
void *txw_in_socket (txw_in_t *self);
//  Applies endpoint changes the resolver found. txw_in_recv does it too; a
//  loop that polls the socket itself should call it every second or so.
void txw_in_refresh (txw_in_t *self);

//  Waits up to timeout_ms for a message. Returns 1 with *env decoded from
//  msg (the caller closes msg after use), 0 on timeout or interrupt, and -1
//  for a message that is not a valid envelope (counted, logged, closed).
//  A message refused for its sender is counted and skipped: the wait goes
//  on for the next one.
int txw_in_recv (txw_in_t *self, int timeout_ms, zmq_msg_t *msg,
                 txw_envelope_t *env);
const txw_in_stats_t *txw_in_stats (txw_in_t *self);

//  On a PULL that checks roles: the sender's public key (Z85, 40
//  characters) of a message txw_in_recv returned, for the caller to keep
//  with what it applied from it; NULL on any other input (CURVE off, no
//  allowed directory, a SUB).
const char *txw_in_key (txw_in_t *self, zmq_msg_t *msg);
//  On a PULL that checks roles: binds source id (len bytes) to key before
//  any message came, as if key had sent under it first (a binding a
//  restarted receiver kept with its checkpoints). Only a key still in the
//  allowed directory is bound (a key that left it would give way to any
//  other at once, by the rotation rule). A source id already bound keeps
//  its key unless that key has left the directory. Returns 0 when source
//  is bound to key, -1 otherwise (nothing to check, a key not allowed or
//  not a key, the source id held by another allowed key, no room).
int txw_in_bind (txw_in_t *self, const char *source, size_t len, const char *key);
//  Adds every gap this input detects to counter as well (NULL: none).
void txw_in_count_gaps (txw_in_t *self, txw_counter_t *counter);

//  Short text for a rejected frame, for logs: first bytes as hex.
void txw_hex_preview (const void *data, size_t size, char *out, size_t out_size);

#endif
