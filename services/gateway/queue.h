/*  queue - one client's bounded queue and the flow-control rules

    SERVING.md, "Flow control": every message for a connection takes the
    next seq when it is offered, whether it is queued or not, so a message
    that is dropped leaves a jump the client sees. When the queue is full,
    stats, window, pong and upstream-gap messages are dropped and counted; a
    gap message {"dropped":n,"reason":"slow_client"} is queued ahead of the
    next message once there is room again, or taken by itself once the
    client has caught up with the queue, whichever comes first. Alerts, dead letters, hello and
    snapshots are never dropped: if one does not fit the caller must close
    the connection (code 4008, "too slow").

    No locking here: the client (server.c) holds its mutex around these
    calls. Pure so the rules can be unit tested.                            */

#ifndef TXW_GATEWAY_QUEUE_H
#define TXW_GATEWAY_QUEUE_H

#include "message.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    gw_msg_t *msg;
    uint64_t seq;
} gw_item_t;

typedef struct {
    gw_item_t *items;           //  ring
    uint32_t capacity, head, count;
    uint64_t seq;               //  last seq given out
    uint64_t dropped;           //  dropped since the last gap was queued
} gw_queue_t;

typedef enum {
    GW_QUEUED = 0,              //  queued (after a gap message if one was due)
    GW_DROPPED,                 //  full, and the message may be dropped: seq used
    GW_OVERFLOW                 //  full, and it may not: close the connection
} gw_push_t;

int gw_queue_init (gw_queue_t *self, uint32_t capacity);
//  Drops every queued message.
void gw_queue_fini (gw_queue_t *self);
//  True if a message of this type may be dropped when the queue is full.
bool gw_type_droppable (int type);
//  Offers msg (a reference is taken only when queued). *gap_queued is set
//  when a slow_client gap went in ahead of it.
gw_push_t gw_queue_push (gw_queue_t *self, gw_msg_t *msg, bool *gap_queued);
//  Takes the oldest item (its reference passes to the caller); with the
//  queue empty and messages dropped, that is the slow_client gap.
bool gw_queue_pop (gw_queue_t *self, gw_item_t *item);

#endif
