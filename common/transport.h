/*  transport - batched ZeroMQ outputs, keyed routing and sequenced inputs

    Every stage talks the same way (DESIGN.md, "Transport rules"):
    - an input binds a PULL (work) or connects a SUB (observers);
    - an output is a PUSH connected to every endpoint in a list, or a PUB
      that binds; records are packed into one batch per message type and a
      batch goes out when it is full or has lingered for linger_ms;
    - a keyed output (router) holds one PUSH per shard endpoint and sends a
      record to shard txw_shard_of (key) so a shard owns its keys' state;
    - a receiver tracks (source, epoch, seq) per sender and counts gaps and
      replays.
    A PUSH blocks at its high-water mark, which is how back-pressure reaches
    the upstream stage; the send loop wakes up to check for shutdown.        */

#ifndef TXW_TRANSPORT_H
#define TXW_TRANSPORT_H

#include "codec.h"
#include "metrics.h"

#include <czmq.h>
#include <stdbool.h>

#define TXW_MAX_ENDPOINTS   64
#define TXW_BATCH_RECORDS   512         //  records per batch before it is sent
#define TXW_BATCH_BYTES     (256 * 1024)

typedef struct _txw_out_t txw_out_t;

typedef enum { TXW_OUT_PUSH, TXW_OUT_PUB } txw_out_kind_t;

//  Creates an output. For PUSH, endpoints is a comma-separated list to
//  connect to; for PUB, a list to bind. source_id names this process in
//  every envelope. Returns NULL (logged) on a bad endpoint.
txw_out_t *txw_out_new (txw_out_kind_t kind, const char *endpoints,
                        const char *source_id, int hwm, int linger_ms);
void txw_out_destroy (txw_out_t **self_p);
//  The czmq socket, for options such as a longer linger before exit.
zsock_t *txw_out_socket (txw_out_t *self);

//  Returns the open batch for a message type; pack one record into its pk,
//  then call txw_out_added, which sends the batch once it is full.
txw_batch_t *txw_out_batch (txw_out_t *self, uint32_t type);
//  Returns -1 if a full batch could not be sent (shutdown while blocked).
int txw_out_added (txw_out_t *self, txw_batch_t *batch);
//  Sends batches older than the linger (or all when force). Returns -1 if a
//  send gave up because of shutdown.
int txw_out_flush (txw_out_t *self, bool force);
//  Milliseconds until the oldest open batch is due, or -1 if none is open.
int txw_out_due_ms (txw_out_t *self);

//  The stop flag the send loop checks while blocked at the high-water mark.
void txw_transport_set_stop_flag (volatile int *flag);

//  --- Keyed router ----------------------------------------------------------

typedef struct _txw_router_t txw_router_t;

//  One PUSH per endpoint in the list, in order: shard i is endpoint i.
txw_router_t *txw_router_new (const char *endpoints, const char *source_id,
                              int hwm, int linger_ms);
void txw_router_destroy (txw_router_t **self_p);
uint32_t txw_router_shards (txw_router_t *self);
txw_out_t *txw_router_pick (txw_router_t *self, const char *key, size_t len);
txw_out_t *txw_router_shard (txw_router_t *self, uint32_t shard);
int txw_router_flush (txw_router_t *self, bool force);
int txw_router_due_ms (txw_router_t *self);

//  --- Input ------------------------------------------------------------------

typedef struct _txw_in_t txw_in_t;

typedef struct {
    uint64_t messages;
    uint64_t malformed;
    uint64_t gaps;              //  messages missing between sequence numbers
    uint64_t replays;           //  messages at or below the last sequence seen
} txw_in_stats_t;

//  PULL bound to a list of endpoints, or SUB connected to a list.
txw_in_t *txw_in_new_pull (const char *endpoints, int hwm);
txw_in_t *txw_in_new_sub (const char *endpoints, const char *topics);
void txw_in_destroy (txw_in_t **self_p);
void *txw_in_socket (txw_in_t *self);

//  Waits up to timeout_ms for a message. Returns 1 with *env decoded from
//  msg (the caller closes msg after use), 0 on timeout or interrupt, and -1
//  for a message that is not a valid envelope (counted, logged, closed).
int txw_in_recv (txw_in_t *self, int timeout_ms, zmq_msg_t *msg,
                 txw_envelope_t *env);
const txw_in_stats_t *txw_in_stats (txw_in_t *self);
//  Adds every gap this input detects to counter as well (NULL: none).
void txw_in_count_gaps (txw_in_t *self, txw_counter_t *counter);

//  Short text for a rejected frame, for logs: first bytes as hex.
void txw_hex_preview (const void *data, size_t size, char *out, size_t out_size);

#endif
