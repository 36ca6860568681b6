/*  accounts - per-account totals since the last flush (customer analytics)  */

#include "accounts.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

//  An open-addressing table of deltas, keyed by account and month.
typedef struct {
    accounts_delta_t *slots;
    size_t capacity;            //  power of two; at most half full
    size_t size;
} s_table_t;

struct _accounts_t {
    s_table_t accounts;         //  month 0
    s_table_t months;           //  per account and calendar month
    int flag_threshold;
};

accounts_t *
accounts_new (int flag_threshold)
{
    accounts_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->accounts.capacity = self->months.capacity = 1024;
    self->accounts.slots = calloc (1024, sizeof (accounts_delta_t));
    self->months.slots = calloc (1024, sizeof (accounts_delta_t));
    if (!self->accounts.slots || !self->months.slots) {
        accounts_destroy (&self);
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
    free ((*self_p)->accounts.slots);
    free ((*self_p)->months.slots);
    free (*self_p);
    *self_p = NULL;
}

static uint64_t
s_hash (const char *account_id, int32_t month)
{
    uint64_t h = txw_hash (account_id, strlen (account_id)) ^ (uint64_t) month * 0x9E3779B97F4A7C15ULL;
    return h? h: 1;
}

//  The slot holding account_id and month, or the free slot where it belongs.
static accounts_delta_t *
s_slot (accounts_delta_t *slots, size_t capacity, uint64_t hash, const char *account_id,
        int32_t month)
{
    size_t i = hash & (capacity - 1);
    while (slots [i].hash
    &&  (slots [i].hash != hash || slots [i].month != month
         || strcmp (slots [i].account_id, account_id) != 0))
        i = (i + 1) & (capacity - 1);
    return &slots [i];
}

static int
s_grow (s_table_t *table)
{
    size_t capacity = table->capacity * 2;
    accounts_delta_t *slots = calloc (capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < table->capacity; i++)
        if (table->slots [i].hash)
            *s_slot (slots, capacity, table->slots [i].hash, table->slots [i].account_id,
                     table->slots [i].month) = table->slots [i];
    free (table->slots);
    table->slots = slots;
    table->capacity = capacity;
    return 0;
}

//  The calendar month (UTC) of a time in ms, as year * 12 + month - 1.
static int32_t
s_month (int64_t ms)
{
    time_t t = (time_t) (ms >= 0? ms / 1000: (ms - 999) / 1000);
    struct tm tm;
    if (!gmtime_r (&t, &tm))
        return 1970 * 12;
    return (int32_t) (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

//  The delta of tx's account in table under month, made empty if new (its
//  first and last times are tx's: a delta holds at least that one).
static accounts_delta_t *
s_delta (s_table_t *table, const txw_tx_t *tx, int32_t month)
{
    uint64_t hash = s_hash (tx->account_id, month);
    accounts_delta_t *d = s_slot (table->slots, table->capacity, hash, tx->account_id, month);
    if (!d->hash) {
        memset (d, 0, sizeof *d);
        d->hash = hash;
        d->month = month;
        memcpy (d->account_id, tx->account_id, sizeof d->account_id);
        d->first_ms = tx->ts_ms;
        d->last_ms = tx->ts_ms;
        table->size++;
    }
    return d;
}

//  Adds tx to its delta in table under month.
static void
s_add (s_table_t *table, const txw_tx_t *tx, int32_t month, int flag_threshold)
{
    accounts_delta_t *d = s_delta (table, tx, month);
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
    if (tx->score >= flag_threshold)
        d->flagged++;
    d->score_sum += tx->score;
    if (tx->score > d->max_score)
        d->max_score = tx->score;
    if (tx->ts_ms < d->first_ms)
        d->first_ms = tx->ts_ms;
    if (tx->ts_ms > d->last_ms)
        d->last_ms = tx->ts_ms;
}

//  Makes room for one more delta in each table.
static int
s_room (accounts_t *self, const txw_tx_t *tx)
{
    if (((self->accounts.size + 1) * 2 > self->accounts.capacity && s_grow (&self->accounts))
    ||  ((self->months.size + 1) * 2 > self->months.capacity && s_grow (&self->months))) {
        log_error ("out of memory for account totals: %s not counted", tx->tx_id);
        return -1;
    }
    return 0;
}

int
accounts_add (accounts_t *self, const txw_tx_t *tx)
{
    if (s_room (self, tx))
        return -1;
    s_add (&self->accounts, tx, 0, self->flag_threshold);
    s_add (&self->months, tx, s_month (tx->ts_ms), self->flag_threshold);
    return 0;
}

int
accounts_unapprove (accounts_t *self, const txw_tx_t *tx)
{
    if (s_room (self, tx))
        return -1;
    accounts_delta_t *d [2] = { s_delta (&self->accounts, tx, 0),
                                s_delta (&self->months, tx, s_month (tx->ts_ms)) };
    for (int i = 0; i < 2; i++) {
        d [i]->approved--;
        d [i]->approved_spend -= tx->amount_rep_minor;
    }
    return 0;
}

size_t
accounts_size (const accounts_t *self)
{
    return self->accounts.size;
}

size_t
accounts_months_size (const accounts_t *self)
{
    return self->months.size;
}

static void
s_each (s_table_t *table, accounts_visit_fn *fn, void *arg)
{
    for (size_t i = 0; i < table->capacity; i++)
        if (table->slots [i].hash)
            fn (arg, &table->slots [i]);
}

void
accounts_each (accounts_t *self, accounts_visit_fn *fn, void *arg)
{
    s_each (&self->accounts, fn, arg);
}

void
accounts_each_month (accounts_t *self, accounts_visit_fn *fn, void *arg)
{
    s_each (&self->months, fn, arg);
}

static void
s_clear (s_table_t *table)
{
    //  A burst can grow the table a lot; give the memory back after it.
    if (table->capacity > 4096 && table->size * 8 < table->capacity) {
        accounts_delta_t *slots = calloc (4096, sizeof *slots);
        if (slots) {
            free (table->slots);
            table->slots = slots;
            table->capacity = 4096;
            table->size = 0;
            return;
        }
    }
    memset (table->slots, 0, table->capacity * sizeof *table->slots);
    table->size = 0;
}

void
accounts_clear (accounts_t *self)
{
    s_clear (&self->accounts);
    s_clear (&self->months);
}

const accounts_delta_t *
accounts_find (accounts_t *self, const char *account_id)
{
    accounts_delta_t *d = s_slot (self->accounts.slots, self->accounts.capacity,
                                  s_hash (account_id, 0), account_id, 0);
    return d->hash? d: NULL;
}

const accounts_delta_t *
accounts_find_month (accounts_t *self, const char *account_id, int year, int month)
{
    int32_t key = (int32_t) year * 12 + month - 1;
    accounts_delta_t *d = s_slot (self->months.slots, self->months.capacity,
                                  s_hash (account_id, key), account_id, key);
    return d->hash? d: NULL;
}
