/*  accounts - per-account totals since the last flush (customer analytics)  */

#include "accounts.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

struct _accounts_t {
    accounts_delta_t *slots;
    size_t capacity;            //  power of two; at most half full
    size_t size;
    int flag_threshold;
};

accounts_t *
accounts_new (int flag_threshold)
{
    accounts_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = 1024;
    self->slots = calloc (self->capacity, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->flag_threshold = flag_threshold;
    return self;
}

void
accounts_destroy (accounts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

static uint64_t
s_hash (const char *account_id)
{
    uint64_t h = txw_hash (account_id, strlen (account_id));
    return h? h: 1;
}

//  The slot holding account_id, or the free slot where it belongs.
static accounts_delta_t *
s_slot (accounts_delta_t *slots, size_t capacity, uint64_t hash, const char *account_id)
{
    size_t i = hash & (capacity - 1);
    while (slots [i].hash
    &&  (slots [i].hash != hash || strcmp (slots [i].account_id, account_id) != 0))
        i = (i + 1) & (capacity - 1);
    return &slots [i];
}

static int
s_grow (accounts_t *self)
{
    size_t capacity = self->capacity * 2;
    accounts_delta_t *slots = calloc (capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots [i].hash)
            *s_slot (slots, capacity, self->slots [i].hash, self->slots [i].account_id)
                = self->slots [i];
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

int
accounts_add (accounts_t *self, const txw_tx_t *tx)
{
    if ((self->size + 1) * 2 > self->capacity && s_grow (self)) {
        log_error ("out of memory for account totals: %s not counted", tx->tx_id);
        return -1;
    }
    uint64_t hash = s_hash (tx->account_id);
    accounts_delta_t *d = s_slot (self->slots, self->capacity, hash, tx->account_id);
    if (!d->hash) {
        memset (d, 0, sizeof *d);
        d->hash = hash;
        memcpy (d->account_id, tx->account_id, sizeof d->account_id);
        d->first_ms = tx->ts_ms;
        d->last_ms = tx->ts_ms;
        self->size++;
    }
    d->tx_count++;
    d->spend += tx->amount_rep_minor;
    if (tx->status == TXW_STATUS_APPROVED) {
        d->approved++;
        d->approved_spend += tx->amount_rep_minor;
    }
    else
    if (tx->status == TXW_STATUS_DECLINED)
        d->declined++;
    else
    if (tx->status == TXW_STATUS_FAILED)
        d->failed++;
    if (tx->score >= self->flag_threshold)
        d->flagged++;
    d->score_sum += tx->score;
    if (tx->score > d->max_score)
        d->max_score = tx->score;
    if (tx->ts_ms < d->first_ms)
        d->first_ms = tx->ts_ms;
    if (tx->ts_ms > d->last_ms)
        d->last_ms = tx->ts_ms;
    return 0;
}

size_t
accounts_size (const accounts_t *self)
{
    return self->size;
}

void
accounts_each (accounts_t *self, accounts_visit_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots [i].hash)
            fn (arg, &self->slots [i]);
}

void
accounts_clear (accounts_t *self)
{
    //  A burst can grow the table a lot; give the memory back after it.
    if (self->capacity > 4096 && self->size * 8 < self->capacity) {
        accounts_delta_t *slots = calloc (4096, sizeof *slots);
        if (slots) {
            free (self->slots);
            self->slots = slots;
            self->capacity = 4096;
            self->size = 0;
            return;
        }
    }
    memset (self->slots, 0, self->capacity * sizeof *self->slots);
    self->size = 0;
}

const accounts_delta_t *
accounts_find (accounts_t *self, const char *account_id)
{
    accounts_delta_t *d = s_slot (self->slots, self->capacity,
                                     s_hash (account_id), account_id);
    return d->hash? d: NULL;
}
