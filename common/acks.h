/*  acks - acknowledgements owed to producers, sent once they are earned

    A stage that finishes with records (the aggregator stores them, the
    validator stores their dead letters) notes each record's origin here
    as it takes it, and publishes the notes once what it did is durable:
    an aggregator after its flush commits, a validator once its dead-letter
    writer has settled the rows. The notes are a FIFO, published oldest
    first, so "the first n" is always "the ones now done". A note without
    an origin (origin_id 0: an older writer) holds its place in the order
    and is never published.                                                  */

#ifndef TXW_ACKS_H
#define TXW_ACKS_H

#include "codec.h"
#include "out.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    txw_ack_t *items;           //  a ring of capacity items
    size_t head;
    size_t count;
    size_t capacity;
    uint64_t published;         //  acknowledgements sent since the start
    uint64_t noted;             //  notes taken since the start
    uint64_t taken;             //  notes published or skipped since the start
} txw_acks_t;

void txw_acks_init (txw_acks_t *self);
void txw_acks_fini (txw_acks_t *self);
//  Notes one record's origin. Returns -1 if out of memory: the record is
//  then never acknowledged, and its producer sends it again.
int txw_acks_note (txw_acks_t *self, uint64_t origin_id, uint64_t origin_ref);
//  Publishes the oldest n notes (all if n exceeds them) on pub as ACK
//  records and forgets them; the batch leaves at once. Returns how many
//  were published (notes without an origin are not).
uint64_t txw_acks_publish (txw_acks_t *self, txw_out_t *pub, size_t n);
static inline size_t txw_acks_count (const txw_acks_t *self) { return self->count; }

#endif
