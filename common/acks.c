/*  acks - acknowledgements owed to producers, sent once they are earned  */

#include "acks.h"
#include "ring.h"

#include <stdlib.h>
#include <string.h>

void
txw_acks_init (txw_acks_t *self)
{
    memset (self, 0, sizeof *self);
}

void
txw_acks_fini (txw_acks_t *self)
{
    free (self->items);
    memset (self, 0, sizeof *self);
}

int
txw_acks_note (txw_acks_t *self, uint64_t origin_id, uint64_t origin_ref)
{
    if (self->count == self->capacity
    &&  txw_ring_grow ((void **) &self->items, sizeof *self->items, &self->head, self->count,
                       &self->capacity, 1024))
        return -1;
    txw_ack_t *ack = &self->items [(self->head + self->count) % self->capacity];
    ack->origin_id = origin_id;
    ack->origin_ref = origin_ref;
    self->count++;
    self->noted++;
    return 0;
}

uint64_t
txw_acks_publish (txw_acks_t *self, txw_out_t *pub, size_t n)
{
    if (n > self->count)
        n = self->count;
    if (n == 0)
        return 0;
    uint64_t before = self->published;
    for (size_t i = 0; i < n; i++) {
        const txw_ack_t *ack = &self->items [(self->head + i) % self->capacity];
        if (ack->origin_id == 0)
            continue;
        txw_batch_t *batch = txw_out_batch (pub, TXW_MSG_ACK);
        txw_ack_encode (&batch->pk, ack);
        txw_out_added (pub, batch);
        self->published++;
    }
    txw_out_flush (pub, true);
    self->head = (self->head + n) % self->capacity;
    self->count -= n;
    self->taken += n;
    return self->published - before;
}
