/*  router - a keyed output: one PUSH per shard endpoint

    See router.h. Shard i is a txw_out made by txw_out_new_shard, so its
    endpoint follows one address and never expands.                         */

#include "transport_internal.h"
#include "log.h"
#include "options.h"

#include <string.h>

struct _txw_router_t {
    txw_out_t *shards [TXW_MAX_ENDPOINTS];
    uint32_t count;
};

txw_router_t *
txw_router_new (const char *endpoints, const char *source_id, int hwm, int linger_ms)
{
    txw_router_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char *copy = strdup (endpoints);
    char *items [TXW_MAX_ENDPOINTS];
    int count = txw_split_list (copy, items, TXW_MAX_ENDPOINTS);
    for (int i = 0; i < count; i++) {
        //  Shard i must stay one process: its name never expands.
        self->shards [i] = txw_out_new_shard (items [i], source_id, hwm, linger_ms);
        if (!self->shards [i]) {
            free (copy);
            txw_router_destroy (&self);
            return NULL;
        }
        self->count++;
    }
    free (copy);
    if (self->count == 0) {
        log_error ("no shard endpoints given");
        txw_router_destroy (&self);
    }
    return self;
}

void
txw_router_count (txw_router_t *self, txw_counter_t *records, txw_counter_t *batches)
{
    for (uint32_t i = 0; i < self->count; i++)
        txw_out_count (self->shards [i], records, batches);
}

void
txw_router_destroy (txw_router_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_router_t *self = *self_p;
    for (uint32_t i = 0; i < self->count; i++)
        txw_out_destroy (&self->shards [i]);
    free (self);
    *self_p = NULL;
}

uint32_t
txw_router_shards (txw_router_t *self)
{
    return self->count;
}

txw_out_t *
txw_router_pick (txw_router_t *self, const char *key, size_t len)
{
    return self->shards [txw_shard_of (key, len, self->count)];
}

txw_out_t *
txw_router_shard (txw_router_t *self, uint32_t shard)
{
    return shard < self->count? self->shards [shard]: NULL;
}

int
txw_router_flush (txw_router_t *self, bool force)
{
    int rc = 0;
    for (uint32_t i = 0; i < self->count; i++)
        if (txw_out_flush (self->shards [i], force))
            rc = -1;
    return rc;
}

int
txw_router_due_ms (txw_router_t *self)
{
    int due = -1;
    for (uint32_t i = 0; i < self->count; i++) {
        int d = txw_out_due_ms (self->shards [i]);
        if (d >= 0 && (due < 0 || d < due))
            due = d;
    }
    return due;
}
