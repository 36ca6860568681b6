/*  out - a batched ZeroMQ output: a PUSH that connects, or a PUB that binds

    Records are packed into one batch per message type, under this
    output's source id and epoch; a batch goes out, with the next sequence
    number of its type, when it is full or has lingered for linger_ms.
    A PUSH connects to every endpoint in its list and follows the host
    names in it (resolver.h); a PUB binds. Either is CURVE-secured when
    txw_transport_configure turned CURVE on; a PUB then admits the client
    roles it was made for (txw_out_new_pub, transport.h: TXW_ADMIT_*).

    A PUSH blocks at its high-water mark, which is how back-pressure reaches
    the upstream stage; the send loop wakes up to check for shutdown, and
    once the stop flag is set it keeps trying for a few seconds before it
    drops the batch. A PUB never blocks: its high-water mark drops.
    Callers include transport.h.                                             */

#ifndef TXW_OUT_H
#define TXW_OUT_H

#include "codec.h"
#include "metrics.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define TXW_BATCH_RECORDS   512         //  records per batch before it is sent
#define TXW_BATCH_BYTES     (256 * 1024)

typedef struct _txw_out_t txw_out_t;

typedef enum { TXW_OUT_PUSH, TXW_OUT_PUB } txw_out_kind_t;

//  Creates an output. For PUSH, endpoints is a comma-separated list to
//  connect to; for PUB, a list to bind, whose subscribers may be of any
//  role under CURVE. source_id names this process in every envelope.
//  Returns NULL (logged) on a bad endpoint.
txw_out_t *txw_out_new (txw_out_kind_t kind, const char *endpoints,
                        const char *source_id, int hwm, int linger_ms);
//  A PUB bound to endpoints whose subscribers, under CURVE, must be of the
//  roles in roles (TXW_PEER_BIT each, e.g. TXW_ADMIT_SCORER_PUB).
txw_out_t *txw_out_new_pub (const char *endpoints, uint32_t roles, const char *source_id,
                            int hwm, int linger_ms);
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
//  Counts the records and batches this output sends from now on (records
//  NULL: none). Counted when a batch leaves, so a batch dropped at
//  shutdown or by a PUB's high-water mark is not.
void txw_out_count (txw_out_t *self, txw_counter_t *records, txw_counter_t *batches);

//  Called with every batch as it is sealed, before it is sent: its type,
//  sequence number and frame (valid during the call only). A producer's
//  journal keeps a copy until the batch's records are acknowledged.
typedef void (txw_out_sealed_fn) (void *arg, uint32_t type, uint64_t seq,
                                  const void *frame, size_t size, uint32_t records);
void txw_out_on_seal (txw_out_t *self, txw_out_sealed_fn *fn, void *arg);
//  Sends a frame sealed before again, unchanged (same sequence number):
//  blocks like any send. Returns -1 if it gave up (shutdown).
int txw_out_resend (txw_out_t *self, const void *frame, size_t size, uint32_t records);
//  The origin id (txw_origin_id) of this output's source and epoch.
uint64_t txw_out_origin_id (txw_out_t *self);

//  The stop flag the send loop checks while blocked at the high-water mark
//  (process-wide, hence the transport name; NULL: none).
void txw_transport_set_stop_flag (volatile int *flag);

#endif
