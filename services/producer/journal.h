/*  journal - the batches a producer sent that are not yet acknowledged

    Every batch the producer seals is copied here with its message type and
    sequence number, so it can be sent again, byte for byte, until every
    one of its records has been acknowledged by the stage that stored it
    (acks.h: an aggregator after its commit, a validator once a dead letter
    is stored). A batch whose records are all acknowledged is freed at
    once. A batch still missing acknowledgements after the timeout is sent
    again, and its timeout doubles up to a minute, so a slow pipeline is
    not flooded with copies; copies are harmless since every stage after
    the validator counts a tx_id once and dead letters are stored once by
    their origin.

    The bound is on records not yet acknowledged: when it is reached the
    producer stops taking input until acknowledgements come, which is the
    back-pressure of the whole pipeline, end to end. The journal lives in
    memory: for a file the file itself is the durable copy, and the
    producer records the first line not yet acknowledged (journal_first_line)
    so the same command resumes there after a crash.                        */

#ifndef TXW_PRODUCER_JOURNAL_H
#define TXW_PRODUCER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _journal_t journal_t;

//  Holds up to max_records unacknowledged records; a batch is sent again
//  timeout_ms after it was last sent.
journal_t *journal_new (size_t max_records, int64_t timeout_ms);
void journal_destroy (journal_t **self_p);

//  Keeps a copy of a batch just sealed. Batches of one type must come in
//  sequence order, from 1 (txw_out seals them so). first_line is the file
//  line of its first record (0: not from a file). Returns -1 if out of
//  memory: the batch then goes unguarded (logged by the caller).
int journal_add (journal_t *self, uint32_t type, uint64_t seq, const void *frame,
                 size_t size, uint32_t records, uint64_t first_line, int64_t now_ms);

//  One acknowledgement (a record reference, codec.h txw_origin_ref).
//  Returns true if it acknowledged a record not acknowledged before.
bool journal_ack (journal_t *self, uint64_t ref);

//  Sends again, through send, every batch whose timeout has passed, oldest
//  first; send returns -1 to stop (shutdown). Returns the batches sent.
typedef int (journal_send_fn) (void *arg, const void *frame, size_t size, uint32_t records);
size_t journal_resend_due (journal_t *self, int64_t now_ms, journal_send_fn *send, void *arg);

//  Milliseconds until the next batch is due again, or -1 if none is held.
int64_t journal_due_ms (journal_t *self, int64_t now_ms);

//  Records held and not acknowledged, and the bound.
size_t journal_unacked (const journal_t *self);
bool journal_full (const journal_t *self);
//  The file line of the oldest record held (0 when none from a file is
//  held): everything before it is acknowledged.
uint64_t journal_first_line (const journal_t *self);

#endif
