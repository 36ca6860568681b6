/*  windows - event-time tumbling windows per dimension, with a watermark    */

#include "windows.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

struct _windows_t {
    win_entry_t *slots;
    size_t capacity;            //  power of two
    size_t size;
    uint32_t shard;
    int64_t window_ms;
    int64_t lateness_ms;
    int64_t retention_ms;
    int flag_threshold;
    int64_t max_event_ms;       //  INT64_MIN until the first event
};

static int64_t
s_floor (int64_t ts, int64_t size)
{
    int64_t r = ts % size;
    return r < 0? ts - r - size: ts - r;
}

static uint64_t
s_hash (int dim, const char *key, size_t len, int64_t start)
{
    uint64_t h = txw_hash (key, len);
    h ^= (uint64_t) start * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t) (dim + 1) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    return h ? h: 1;
}

windows_t *
windows_new (uint32_t shard, int64_t window_ms, int64_t lateness_ms,
                 int64_t retention_ms, int flag_threshold)
{
    if (window_ms <= 0 || lateness_ms < 0 || retention_ms < 0)
        return NULL;
    windows_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = 1024;
    self->slots = calloc (self->capacity, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->shard = shard;
    self->window_ms = window_ms;
    self->lateness_ms = lateness_ms;
    self->retention_ms = retention_ms;
    self->flag_threshold = flag_threshold;
    self->max_event_ms = INT64_MIN;
    return self;
}

void
windows_destroy (windows_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

int64_t
windows_watermark (const windows_t *self)
{
    return self->max_event_ms == INT64_MIN? INT64_MIN
         : self->max_event_ms - self->lateness_ms;
}

int64_t
windows_max_event (const windows_t *self)
{
    return self->max_event_ms;
}

void
windows_set_max_event (windows_t *self, int64_t max_event_ms)
{
    if (max_event_ms > self->max_event_ms)
        self->max_event_ms = max_event_ms;
}

size_t
windows_size (const windows_t *self)
{
    return self->size;
}

static win_entry_t *
s_probe (win_entry_t *slots, size_t capacity, uint64_t hash, int dim,
         const char *key, int64_t start)
{
    size_t mask = capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        win_entry_t *e = &slots [i];
        if (!e->used)
            return e;
        if (e->hash == hash && e->dim == dim && e->row.window_start_ms == start
        &&  strcmp (e->row.key, key) == 0)
            return e;
    }
}

//  Rebuilds the table into new_capacity slots, leaving out the closed,
//  written and published entries whose window ended by evict_before.
static int
s_rebuild (windows_t *self, size_t new_capacity, int64_t evict_before)
{
    win_entry_t *slots = calloc (new_capacity, sizeof *slots);
    if (!slots)
        return -1;
    size_t size = 0;
    for (size_t i = 0; i < self->capacity; i++) {
        win_entry_t *e = &self->slots [i];
        if (!e->used)
            continue;
        if (e->row.closed && !e->store_dirty && !e->publish_dirty
        &&  e->row.window_start_ms + self->window_ms <= evict_before)
            continue;
        *s_probe (slots, new_capacity, e->hash, e->dim, e->row.key,
                  e->row.window_start_ms) = *e;
        size++;
    }
    free (self->slots);
    self->slots = slots;
    self->capacity = new_capacity;
    self->size = size;
    return 0;
}

//  A fresh row: dimension, key, start, no transactions yet.
static void
s_row_init (const windows_t *self, txw_window_t *row, int dim, const char *key, int64_t start)
{
    memset (row, 0, sizeof *row);
    snprintf (row->dimension, sizeof row->dimension, "%s", txw_dimension_names [dim]);
    snprintf (row->key, sizeof row->key, "%s", key);
    row->window_start_ms = start;
    row->window_ms = self->window_ms;
    row->shard = self->shard;
    row->amount_min = INT64_MAX;
    row->amount_max = INT64_MIN;
}

static win_entry_t *
s_entry (windows_t *self, int dim, const char *key, int64_t start)
{
    if ((self->size + 1) * 2 > self->capacity
    &&  s_rebuild (self, self->capacity * 2, INT64_MIN))
        return NULL;
    size_t len = strlen (key);
    uint64_t hash = s_hash (dim, key, len, start);
    win_entry_t *e = s_probe (self->slots, self->capacity, hash, dim, key, start);
    if (!e->used) {
        memset (e, 0, sizeof *e);
        e->used = true;
        e->hash = hash;
        e->dim = (uint8_t) dim;
        s_row_init (self, &e->row, dim, key, start);
        self->size++;
    }
    return e;
}

//  Counts tx into one window's row.
static void
s_count (const windows_t *self, txw_window_t *w, const txw_tx_t *tx, bool late)
{
    w->tx_count++;
    w->amount_sum += tx->amount_rep_minor;
    if (tx->amount_rep_minor < w->amount_min)
        w->amount_min = tx->amount_rep_minor;
    if (tx->amount_rep_minor > w->amount_max)
        w->amount_max = tx->amount_rep_minor;
    if (tx->status == TXW_STATUS_APPROVED) {
        w->approved++;
        w->approved_amount_sum += tx->amount_rep_minor;
    }
    else
    if (tx->status == TXW_STATUS_DECLINED)
        w->declined++;
    else
    if (tx->status == TXW_STATUS_FAILED)
        w->failed++;
    if (tx->score >= self->flag_threshold)
        w->flagged++;
    w->score_sum += tx->score;
    if (late)
        w->late++;
}

_Static_assert (TXW_DIM_OVERALL == 0, "windows_add checks the overall window first");

win_result_t
windows_add (windows_t *self, const txw_tx_t *tx, win_row_fn *older_fn, void *arg)
{
    int64_t start = s_floor (tx->ts_ms, self->window_ms);
    int64_t end = start + self->window_ms;
    int64_t watermark = windows_watermark (self);
    win_result_t result = WIN_ON_TIME;
    bool older = false;
    if (watermark != INT64_MIN && end <= watermark) {
        result = WIN_LATE;
        older = end <= watermark - self->retention_ms;
    }
    bool passed = false;
    for (int dim = 0; dim < TXW_DIM_COUNT; dim++) {
        const char *key = txw_dimension_key (dim, tx);
        win_entry_t *e;
        if (older) {
            //  Still in memory (not yet forgotten): counted there, so the
            //  whole row written later holds it. Gone: its row is stored,
            //  and this transaction is added to it.
            e = s_probe (self->slots, self->capacity, s_hash (dim, key, strlen (key), start),
                         dim, key, start);
            if (!e->used) {
                txw_window_t row;
                s_row_init (self, &row, dim, key, start);
                s_count (self, &row, tx, true);
                row.closed = true;
                if (older_fn)
                    older_fn (arg, &row);
                passed = true;
                continue;
            }
        }
        else
        if (!(e = s_entry (self, dim, key, start))) {
            log_error ("window table out of memory");
            abort ();
        }
        //  The overall window, the first, holds every transaction of its
        //  time, so its sum is the largest: if it can take this amount,
        //  every window can. Nothing is counted yet when it cannot.
        int64_t sum;
        if (dim == TXW_DIM_OVERALL
        &&  __builtin_add_overflow (e->row.amount_sum, tx->amount_rep_minor, &sum))
            return WIN_OVERFLOW;
        s_count (self, &e->row, tx, result == WIN_LATE);
        e->store_dirty = true;
        e->publish_dirty = true;
    }
    if (tx->ts_ms > self->max_event_ms)
        self->max_event_ms = tx->ts_ms;
    return passed? WIN_TOO_LATE: result;
}

void
windows_correct (windows_t *self, const txw_tx_t *tx, win_row_fn *stored_fn, void *arg)
{
    int64_t start = s_floor (tx->ts_ms, self->window_ms);
    for (int dim = 0; dim < TXW_DIM_COUNT; dim++) {
        const char *key = txw_dimension_key (dim, tx);
        win_entry_t *e = s_probe (self->slots, self->capacity,
                                  s_hash (dim, key, strlen (key), start), dim, key, start);
        if (e->used) {
            e->row.approved--;
            e->row.approved_amount_sum -= tx->amount_rep_minor;
            e->store_dirty = true;
            e->publish_dirty = true;
            continue;
        }
        txw_window_t row;
        s_row_init (self, &row, dim, key, start);
        row.approved = -1;
        row.approved_amount_sum = -tx->amount_rep_minor;
        if (stored_fn)
            stored_fn (arg, &row);
    }
}

void
windows_restore (windows_t *self, const char *dimension,
                     const txw_window_t *row)
{
    int dim = txw_dimension_parse (dimension);
    if (dim < 0 || row->window_ms != self->window_ms)
        return;                 //  another dimension set or window size
    win_entry_t *e = s_entry (self, dim, row->key, row->window_start_ms);
    if (!e)
        return;
    e->row = *row;
    snprintf (e->row.dimension, sizeof e->row.dimension, "%s", txw_dimension_names [dim]);
    snprintf (e->row.key, sizeof e->row.key, "%s", row->key);
    e->row.shard = self->shard;
    e->store_dirty = false;
    e->publish_dirty = false;
}

int
windows_advance (windows_t *self, win_visit_fn *closed_fn, void *arg)
{
    int64_t watermark = windows_watermark (self);
    if (watermark == INT64_MIN)
        return 0;
    int closed = 0;
    bool evictable = false;
    for (size_t i = 0; i < self->capacity; i++) {
        win_entry_t *e = &self->slots [i];
        if (!e->used)
            continue;
        int64_t end = e->row.window_start_ms + self->window_ms;
        if (!e->row.closed && end <= watermark) {
            e->row.closed = true;
            e->store_dirty = true;
            e->publish_dirty = true;
            closed++;
            if (closed_fn)
                closed_fn (arg, e);
        }
        if (e->row.closed && end <= watermark - self->retention_ms)
            evictable = true;
    }
    if (evictable)
        s_rebuild (self, self->capacity, watermark - self->retention_ms);
    return closed;
}

void
windows_drain_dirty (windows_t *self, bool store,
                         win_visit_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->capacity; i++) {
        win_entry_t *e = &self->slots [i];
        if (!e->used)
            continue;
        bool *flag = store? &e->store_dirty: &e->publish_dirty;
        if (*flag) {
            fn (arg, e);
            *flag = false;
        }
    }
}

void
windows_mark_all_dirty (windows_t *self)
{
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots [i].used)
            self->slots [i].store_dirty = true;
}

const txw_window_t *
windows_find (windows_t *self, int dim, const char *key, int64_t start_ms)
{
    if (dim < 0 || dim >= TXW_DIM_COUNT)
        return NULL;
    uint64_t hash = s_hash (dim, key, strlen (key), start_ms);
    win_entry_t *e = s_probe (self->slots, self->capacity, hash, dim, key, start_ms);
    return e->used? &e->row: NULL;
}
