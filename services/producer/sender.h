/*  sender - the ZeroMQ sink: records and rejections to the validators

    One PUSH connected to every validator endpoint (txw_out_t); ZeroMQ
    spreads the batches over them and blocks at the high-water mark, which
    is how a slow validator slows the producer down. Raw transactions and
    rejections go in batches of their own message type. The fraud labels
    stay behind: only the txw_raw_tx_t fields are packed.

    With acknowledgement endpoints (the PUBs of the aggregators and the
    validators) every sealed batch is kept in a journal (journal.h) until
    the stages that store its records acknowledge them, and sent again when
    they do not in time. The caller polls (sender_poll) and stops taking
    input while the journal is full.                                        */

#ifndef TXW_PRODUCER_SENDER_H
#define TXW_PRODUCER_SENDER_H

#include "codec.h"
#include "record.h"
#include "service.h"

#include <stdbool.h>

typedef struct _sender_t sender_t;

typedef struct {
    const char *endpoints;      //  "" or NULL: no acknowledgements, no journal
    int64_t timeout_ms;         //  a batch not acknowledged by then goes again
    int64_t max_unacked;        //  records kept at most
} sender_acks_t;

//  Connects to endpoints (comma-separated). Counts what it sends into
//  svc->records_out and svc->batches_out. Returns NULL (logged) on a bad
//  endpoint.
sender_t *sender_new (const char *endpoints, const char *source_id, int hwm,
                      int linger_ms, const sender_acks_t *acks, txw_service_t *svc);
//  Sets the socket's linger to drain_ms, so batches already handed to
//  ZeroMQ still reach a validator before the process exits, and closes.
void sender_destroy (sender_t **self_p, int drain_ms);

//  Stamps rec->raw.origin_us and packs it. Returns -1 if a full batch had
//  to be dropped because of shutdown.
int sender_record (sender_t *self, record_t *rec);
//  Packs one rejection (a row that could not be split).
int sender_reject (sender_t *self, const txw_reject_t *rej);
//  Sends the batches older than the linger, or all of them when force.
int sender_flush (sender_t *self, bool force);
//  Milliseconds until a batch is due, -1 if none is open.
int sender_due_ms (sender_t *self);

//  True when this sender keeps a journal (acknowledgement endpoints given).
bool sender_acknowledged (const sender_t *self);
//  Takes the acknowledgements that arrived, waiting up to timeout_ms for
//  the first, then sends again what timed out.
void sender_poll (sender_t *self, int timeout_ms);
//  The journal holds as many unacknowledged records as it may.
bool sender_full (const sender_t *self);
size_t sender_unacked (const sender_t *self);
//  The file line of the oldest record not acknowledged, held or in an
//  open batch (0: none).
uint64_t sender_first_line (sender_t *self);

#endif
