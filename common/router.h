/*  router - a keyed output: one PUSH per shard endpoint

    Keyed hops send a record to shard txw_shard_of (key) of the N shard
    endpoints, in the order given, so a shard owns its keys' state. Each
    shard is a txw_out (out.h) of its own. A shard endpoint never expands:
    shard i is one process, so it keeps one address and moves only when
    that address is gone from its name's answer (a restarted StatefulSet
    pod with a new IP). Callers include transport.h.                        */

#ifndef TXW_ROUTER_H
#define TXW_ROUTER_H

#include "metrics.h"
#include "out.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
//  txw_out_count on every shard.
void txw_router_count (txw_router_t *self, txw_counter_t *records, txw_counter_t *batches);

#endif
