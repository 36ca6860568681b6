/*  queue - one client's bounded queue and the flow-control rules          */

#include "queue.h"

#include <stdlib.h>

int
gw_queue_init (gw_queue_t *self, uint32_t capacity)
{
    self->items = calloc (capacity, sizeof *self->items);
    self->capacity = capacity;
    self->head = self->count = 0;
    self->seq = 0;
    self->dropped = 0;
    return self->items? 0: -1;
}

void
gw_queue_fini (gw_queue_t *self)
{
    gw_item_t item;
    while (gw_queue_pop (self, &item))
        gw_msg_unref (&item.msg);
    free (self->items);
    self->items = NULL;
}

bool
gw_type_droppable (int type)
{
    return type == GW_STATS || type == GW_WINDOW || type == GW_PONG || type == GW_GAP;
}

static void
s_put (gw_queue_t *self, gw_msg_t *msg)
{
    uint32_t tail = (self->head + self->count) % self->capacity;
    self->items [tail].msg = msg;
    self->items [tail].seq = ++self->seq;
    self->count++;
}

//  Queues the slow_client gap for what was dropped, if any and if there is
//  room. Returns true if it went in.
static bool
s_put_gap (gw_queue_t *self)
{
    if (!self->dropped || self->count == self->capacity)
        return false;
    gw_msg_t *gap = gw_msg_gap (self->dropped, "slow_client");
    if (!gap)
        return false;
    s_put (self, gap);
    self->dropped = 0;
    return true;
}

gw_push_t
gw_queue_push (gw_queue_t *self, gw_msg_t *msg, bool *gap_queued)
{
    bool gap = s_put_gap (self);
    if (gap_queued)
        *gap_queued = gap;
    if (self->count < self->capacity) {
        s_put (self, gw_msg_ref (msg));
        return GW_QUEUED;
    }
    if (!gw_type_droppable (msg->type))
        return GW_OVERFLOW;
    self->seq++;
    self->dropped++;
    return GW_DROPPED;
}

bool
gw_queue_pop (gw_queue_t *self, gw_item_t *item)
{
    //  The client has taken all that was queued: if messages were dropped
    //  meanwhile, it learns so now, not only when the next one comes (on a
    //  quiet topic that could be long after).
    if (self->count == 0)
        s_put_gap (self);
    if (self->count == 0)
        return false;
    *item = self->items [self->head];
    self->items [self->head].msg = NULL;
    self->head = (self->head + 1) % self->capacity;
    self->count--;
    return true;
}
