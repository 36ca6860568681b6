/*  state - what the gateway knows: windows summed over shards, recent alerts

    A series is the windows of one (dimension, key), oldest first; a window
    holds one row per shard. Series are found through a hash of
    "dimension/key", and the per-second aggregations walk the series and
    their windows without hashing. A window total read from PostgreSQL at
    start has no shard split, so it sits in a row of its own (the seed
    shard) until the first live row of that window arrives and replaces it:
    shards republish whole rows, so a live window is exact again within one
    tick of every shard that still has traffic in it.                       */

#include "state.h"
#include "dimensions.h"
#include "json.h"
#include "message.h"
#include "money.h"

#include <czmq.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


//  Two periods for the trend of the top lists, plus the window in progress.
#define S_RETENTION_MS  (2 * GW_PERIOD_MS)

typedef struct {
    uint32_t shard;
    txw_totals_t t;
    bool closed;
} s_row_t;

typedef struct {
    int64_t start_ms;
    int64_t window_ms;
    s_row_t *rows;
    uint32_t row_count, row_capacity;
    bool changed;               //  since the last stats body (overall only)
} s_window_t;

typedef struct {
    int dim;
    char key [TXW_ID_MAX + 1];
    s_window_t *windows;        //  oldest first
    size_t count, capacity;
} s_series_t;

typedef struct {
    json_t *alert;
    char key [TXW_ID_MAX + TXW_NAME_MAX + 32];
    char region [TXW_NAME_MAX + 1];
    int64_t raised_ms;
    bool open;
} s_alert_t;

struct _gw_state_t {
    zhashx_t *series;           //  "dim/key" -> s_series_t
    s_series_t *overall;
    s_alert_t recent [GW_ALERTS_KEPT];      //  ring, newest at head - 1
    size_t recent_head, recent_count;
    s_alert_t *health;          //  region health alerts, oldest first
    size_t health_count, health_capacity;
    double health_threshold;
    char currency [4];
    int currency_exponent;
};

static void
s_series_free (void **item)
{
    s_series_t *series = *item;
    if (!series)
        return;
    for (size_t i = 0; i < series->count; i++)
        free (series->windows [i].rows);
    free (series->windows);
    free (series);
    *item = NULL;
}

gw_state_t *
gw_state_new (double health_threshold, const char *currency)
{
    gw_state_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->series = zhashx_new ();
    if (!self->series) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->series, s_series_free);
    self->health_threshold = health_threshold;
    snprintf (self->currency, sizeof self->currency, "%s", currency);
    self->currency_exponent = txw_currency_exponent (self->currency, strlen (self->currency));
    if (self->currency_exponent < 0)
        self->currency_exponent = 2;
    return self;
}

static void
s_alert_clear (s_alert_t *a)
{
    json_decref (a->alert);
    a->alert = NULL;
}

void
gw_state_destroy (gw_state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_state_t *self = *self_p;
    zhashx_destroy (&self->series);
    for (size_t i = 0; i < GW_ALERTS_KEPT; i++)
        s_alert_clear (&self->recent [i]);
    for (size_t i = 0; i < self->health_count; i++)
        s_alert_clear (&self->health [i]);
    free (self->health);
    free (self);
    *self_p = NULL;
}

//  --- Windows ---------------------------------------------------------------

static s_series_t *
s_series (gw_state_t *self, int dim, const char *key)
{
    char name [TXW_ID_MAX + 16];
    snprintf (name, sizeof name, "%s/%s", txw_dimension_names [dim], key);
    s_series_t *series = zhashx_lookup (self->series, name);
    if (series)
        return series;
    series = calloc (1, sizeof *series);
    if (!series)
        return NULL;
    series->dim = dim;
    snprintf (series->key, sizeof series->key, "%s", key);
    zhashx_insert (self->series, name, series);
    if (dim == TXW_DIM_OVERALL)
        self->overall = series;
    return series;
}

//  The window of series that starts at start_ms, inserted in order if new.
static s_window_t *
s_window (s_series_t *series, int64_t start_ms, int64_t window_ms)
{
    size_t i = series->count;
    while (i > 0 && series->windows [i - 1].start_ms > start_ms)
        i--;
    if (i > 0 && series->windows [i - 1].start_ms == start_ms)
        return &series->windows [i - 1];
    if (series->count == series->capacity) {
        size_t capacity = series->capacity? series->capacity * 2: 8;
        s_window_t *windows = realloc (series->windows, capacity * sizeof *windows);
        if (!windows)
            return NULL;
        series->windows = windows;
        series->capacity = capacity;
    }
    memmove (&series->windows [i + 1], &series->windows [i],
             (series->count - i) * sizeof *series->windows);
    series->count++;
    s_window_t *w = &series->windows [i];
    memset (w, 0, sizeof *w);
    w->start_ms = start_ms;
    w->window_ms = window_ms;
    return w;
}

//  Sets the row of one shard; the seed row goes once a live row comes.
static int
s_window_set_row (s_window_t *w, const s_row_t *row)
{
    for (uint32_t i = 0; i < w->row_count; i++)
        if (w->rows [i].shard == row->shard) {
            w->rows [i] = *row;
            return 0;
        }
    if (w->row_count == w->row_capacity) {
        uint32_t capacity = w->row_capacity? w->row_capacity * 2: 2;
        s_row_t *rows = realloc (w->rows, capacity * sizeof *rows);
        if (!rows)
            return -1;
        w->rows = rows;
        w->row_capacity = capacity;
    }
    w->rows [w->row_count++] = *row;
    return 0;
}

//  The window's totals over its shards; *closed when every row is.
static void
s_window_sum (const s_window_t *w, txw_totals_t *sum, bool *closed)
{
    memset (sum, 0, sizeof *sum);
    bool all_closed = w->row_count > 0;
    for (uint32_t i = 0; i < w->row_count; i++) {
        txw_totals_add (sum, &w->rows [i].t);
        all_closed = all_closed && w->rows [i].closed;
    }
    if (closed)
        *closed = all_closed;
}

static void
s_view (const s_series_t *series, const s_window_t *w, gw_window_t *out)
{
    out->dimension = txw_dimension_names [series->dim];
    snprintf (out->key, sizeof out->key, "%s", series->key);
    out->start_ms = w->start_ms;
    out->window_ms = w->window_ms;
    s_window_sum (w, &out->t, &out->closed);
}

static int
s_store (gw_state_t *self, int dim, const char *key, int64_t start_ms, int64_t window_ms,
         const s_row_t *row, int64_t now_ms, gw_window_t *out)
{
    if (dim < 0 || window_ms <= 0 || start_ms < now_ms - S_RETENTION_MS - window_ms)
        return -1;
    s_series_t *series = s_series (self, dim, key);
    s_window_t *w = series? s_window (series, start_ms, window_ms): NULL;
    if (!w || s_window_set_row (w, row))
        return -1;
    w->changed = true;
    if (out)
        s_view (series, w, out);
    return 0;
}

int
gw_state_window (gw_state_t *self, const txw_window_t *row, int64_t now_ms, gw_window_t *out)
{
    s_row_t shard_row = {
        .shard = row->shard,
        .t = {
            .count = row->tx_count, .volume = row->amount_sum, .approved = row->approved,
            .declined = row->declined, .failed = row->failed, .flagged = row->flagged,
            .score_sum = row->score_sum, .late = row->late
        },
        .closed = row->closed
    };
    return s_store (self, txw_dimension_parse (row->dimension), row->key, row->window_start_ms,
                    row->window_ms, &shard_row, now_ms, out);
}

bool
gw_state_find (gw_state_t *self, const char *dimension, const char *key,
               int64_t start_ms, gw_window_t *out)
{
    char name [TXW_ID_MAX + 16];
    snprintf (name, sizeof name, "%s/%s", dimension, key);
    s_series_t *series = zhashx_lookup (self->series, name);
    for (size_t i = 0; series && i < series->count; i++)
        if (series->windows [i].start_ms == start_ms) {
            s_view (series, &series->windows [i], out);
            return true;
        }
    return false;
}

size_t
gw_state_windows (gw_state_t *self)
{
    size_t n = 0;
    for (s_series_t *s = zhashx_first (self->series); s; s = zhashx_next (self->series))
        n += s->count;
    return n;
}

void
gw_state_prune (gw_state_t *self, int64_t now_ms)
{
    //  Names of emptied series are copied out: zhashx forbids deleting
    //  while iterating.
    zlistx_t *empty = zlistx_new ();
    if (empty)
        zlistx_set_destructor (empty, (zlistx_destructor_fn *) zstr_free);
    for (s_series_t *s = zhashx_first (self->series); s; s = zhashx_next (self->series)) {
        size_t old = 0;
        while (old < s->count
           &&  s->windows [old].start_ms < now_ms - S_RETENTION_MS - s->windows [old].window_ms) {
            free (s->windows [old].rows);
            old++;
        }
        if (old) {
            memmove (s->windows, s->windows + old, (s->count - old) * sizeof *s->windows);
            s->count -= old;
        }
        if (s->count == 0 && s->dim != TXW_DIM_OVERALL && empty)
            zlistx_add_end (empty, strdup ((const char *) zhashx_cursor (self->series)));
    }
    for (char *name = empty? zlistx_first (empty): NULL; name; name = zlistx_next (empty))
        zhashx_delete (self->series, name);
    zlistx_destroy (&empty);
    size_t kept = 0;
    for (size_t i = 0; i < self->health_count; i++) {
        if (self->health [i].raised_ms < now_ms - GW_PERIOD_MS)
            s_alert_clear (&self->health [i]);
        else
            self->health [kept++] = self->health [i];
    }
    self->health_count = kept;
}

json_t *
gw_window_json (const gw_window_t *w)
{
    return json_pack ("{s:s,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:b}",
        "dimension", w->dimension, "key", txw_json_string (w->key),
        "window_start", txw_json_time (w->start_ms), "window_ms", (json_int_t) w->window_ms,
        "count", (json_int_t) w->t.count, "volume_minor", (json_int_t) w->t.volume,
        "approved", (json_int_t) w->t.approved, "declined", (json_int_t) w->t.declined,
        "failed", (json_int_t) w->t.failed, "flagged", (json_int_t) w->t.flagged,
        "mean_score", w->t.count? json_real (txw_round ((double) w->t.score_sum / (double) w->t.count, 2)):
                                  json_null (),
        "late", (json_int_t) w->t.late, "closed", w->closed);
}

//  --- Alerts ------------------------------------------------------------------

static bool
s_alert_kept (gw_state_t *self, const char *key, bool recent)
{
    for (size_t i = 0; recent && i < self->recent_count; i++) {
        size_t at = (self->recent_head + GW_ALERTS_KEPT - 1 - i) % GW_ALERTS_KEPT;
        if (!strcmp (self->recent [at].key, key))
            return true;
    }
    for (size_t i = 0; i < self->health_count; i++)
        if (!strcmp (self->health [i].key, key))
            return true;
    return false;
}

static void
s_health_add (gw_state_t *self, const s_alert_t *entry, json_t *alert)
{
    if (self->health_count == self->health_capacity) {
        size_t capacity = self->health_capacity? self->health_capacity * 2: 16;
        if (capacity > 100000)
            return;             //  a flood of region alerts: keep the first
        s_alert_t *health = realloc (self->health, capacity * sizeof *health);
        if (!health)
            return;
        self->health = health;
        self->health_capacity = capacity;
    }
    self->health [self->health_count] = *entry;
    self->health [self->health_count++].alert = json_incref (alert);
}

static void
s_entry (s_alert_t *entry, const char *key, const char *region, int64_t raised_ms, bool open)
{
    memset (entry, 0, sizeof *entry);
    snprintf (entry->key, sizeof entry->key, "%s", key);
    snprintf (entry->region, sizeof entry->region, "%s", region? region: "");
    entry->raised_ms = raised_ms;
    entry->open = open;
}

bool
gw_state_alert (gw_state_t *self, json_t *alert, const char *key,
                const char *kind, const char *region, int64_t raised_ms, bool open)
{
    if (s_alert_kept (self, key, true))
        return false;
    s_alert_t entry;
    s_entry (&entry, key, region, raised_ms, open);
    if (!strcmp (kind, "region_health"))
        s_health_add (self, &entry, alert);
    s_alert_t *slot = &self->recent [self->recent_head];
    s_alert_clear (slot);
    *slot = entry;
    slot->alert = json_incref (alert);
    self->recent_head = (self->recent_head + 1) % GW_ALERTS_KEPT;
    if (self->recent_count < GW_ALERTS_KEPT)
        self->recent_count++;
    return true;
}

static bool
s_ack_entry (s_alert_t *entry, const char *key, const char *status, int64_t changed_ms,
             const char *by)
{
    if (strcmp (entry->key, key))
        return false;
    bool closed = !strcmp (status, "closed");
    //  Being investigated is not resolved: still open to the counts.
    entry->open = !closed;
    if (entry->alert) {
        json_object_set_new (entry->alert, "status", json_string (status));
        json_object_set_new (entry->alert, "acked_at",
                             closed? txw_json_time (changed_ms): json_null ());
        json_object_set_new (entry->alert, "acked_by",
                             closed? txw_json_text_or_null (by): json_null ());
    }
    return true;
}

bool
gw_state_ack (gw_state_t *self, const char *key, const char *status, int64_t changed_ms,
              const char *by)
{
    bool found = false;
    for (size_t i = 0; i < self->recent_count; i++)
        found |= s_ack_entry (&self->recent [i], key, status, changed_ms, by);
    for (size_t i = 0; i < self->health_count; i++)
        found |= s_ack_entry (&self->health [i], key, status, changed_ms, by);
    return found;
}

void
gw_state_health_alert (gw_state_t *self, json_t *alert, const char *key,
                       const char *region, int64_t raised_ms, bool open)
{
    if (s_alert_kept (self, key, false))
        return;
    s_alert_t entry;
    s_entry (&entry, key, region, raised_ms, open);
    s_health_add (self, &entry, alert);
}

static json_t *
s_recent_alerts (gw_state_t *self)
{
    json_t *array = json_array ();
    for (size_t i = 0; i < self->recent_count && array; i++) {
        size_t at = (self->recent_head + GW_ALERTS_KEPT - 1 - i) % GW_ALERTS_KEPT;
        json_array_append (array, self->recent [at].alert);
    }
    return array;
}

//  --- Aggregations: the read model of common/summary.h -----------------------

//  Sums the windows of series that start in [from_ms, to_ms); *first gets
//  the earliest start counted (left alone when none).
static void
s_sum_range (const s_series_t *series, int64_t from_ms, int64_t to_ms,
             txw_totals_t *acc, int64_t *first)
{
    for (size_t i = 0; i < series->count; i++) {
        const s_window_t *w = &series->windows [i];
        if (w->start_ms < from_ms || w->start_ms >= to_ms)
            continue;
        txw_totals_t sum;
        s_window_sum (w, &sum, NULL);
        txw_totals_add (acc, &sum);
        if (first && w->start_ms < *first)
            *first = w->start_ms;
    }
}

json_t *
gw_state_realtime (gw_state_t *self, int64_t now_ms, int minutes)
{
    txw_totals_t t;
    memset (&t, 0, sizeof t);
    int64_t first = INT64_MAX;
    if (self->overall)
        s_sum_range (self->overall, now_ms - minutes * 60000LL, INT64_MAX, &t, &first);
    return txw_summary_realtime (&t, now_ms, minutes, first, self->currency,
                                 self->currency_exponent);
}

typedef struct {
    const s_series_t *series;
    txw_totals_t now, before;
} s_item_t;

//  The series of one dimension with their totals over the last period and
//  the one before; those with no transaction in either are left out.
static s_item_t *
s_items (gw_state_t *self, int dim, int64_t now_ms, size_t *count)
{
    size_t capacity = zhashx_size (self->series) + 1;
    s_item_t *items = calloc (capacity, sizeof *items);
    *count = 0;
    if (!items)
        return NULL;
    for (s_series_t *s = zhashx_first (self->series); s; s = zhashx_next (self->series)) {
        if (s->dim != dim)
            continue;
        s_item_t *item = &items [*count];
        item->series = s;
        s_sum_range (s, now_ms - GW_PERIOD_MS, INT64_MAX, &item->now, NULL);
        s_sum_range (s, now_ms - 2 * GW_PERIOD_MS, now_ms - GW_PERIOD_MS, &item->before, NULL);
        if (item->now.count || item->before.count)
            (*count)++;
    }
    return items;
}

static int
s_by_count (const void *a, const void *b)
{
    const s_item_t *x = a, *y = b;
    if (x->now.count != y->now.count)
        return x->now.count > y->now.count? -1: 1;
    return strcmp (x->series->key, y->series->key);
}

static int
s_by_volume (const void *a, const void *b)
{
    const s_item_t *x = a, *y = b;
    if (x->now.volume != y->now.volume)
        return x->now.volume > y->now.volume? -1: 1;
    return strcmp (x->series->key, y->series->key);
}

static int
s_by_key (const void *a, const void *b)
{
    const s_item_t *x = a, *y = b;
    return strcmp (x->series->key, y->series->key);
}

json_t *
gw_state_top (gw_state_t *self, const char *dimension, int64_t now_ms)
{
    size_t count;
    s_item_t *items = s_items (self, txw_dimension_parse (dimension), now_ms, &count);
    json_t *array = json_array ();
    if (!items || !array) {
        free (items);
        return array;
    }
    qsort (items, count, sizeof *items, s_by_count);
    size_t shown = 0;
    for (size_t i = 0; i < count && shown < GW_TOP_LIMIT; i++) {
        if (!items [i].now.count)
            continue;           //  only in the previous period: not in the top
        json_array_append_new (array, txw_summary_top_item (items [i].series->key,
                                                            &items [i].now, &items [i].before));
        shown++;
    }
    free (items);
    return array;
}

json_t *
gw_state_branches (gw_state_t *self, int64_t now_ms)
{
    size_t count;
    s_item_t *items = s_items (self, TXW_DIM_BRANCH, now_ms, &count);
    json_t *array = json_array ();
    if (!items || !array) {
        free (items);
        return array;
    }
    qsort (items, count, sizeof *items, s_by_volume);
    for (size_t i = 0; i < count; i++)
        if (items [i].now.count)
            json_array_append_new (array, txw_summary_branch (items [i].series->key,
                                                              &items [i].now));
    free (items);
    return array;
}

json_t *
gw_state_regions (gw_state_t *self, int64_t now_ms)
{
    size_t count;
    s_item_t *items = s_items (self, TXW_DIM_REGION, now_ms, &count);
    json_t *array = json_array ();
    if (!items || !array) {
        free (items);
        return array;
    }
    qsort (items, count, sizeof *items, s_by_key);
    for (size_t i = 0; i < count; i++) {
        const char *region = items [i].series->key;
        if (!items [i].now.count)
            continue;
        json_t *alerts = json_array ();
        bool open_alert = false;
        for (size_t a = 0; a < self->health_count; a++) {
            const s_alert_t *h = &self->health [a];
            if (strcmp (h->region, region) || h->raised_ms < now_ms - GW_PERIOD_MS)
                continue;
            json_array_append (alerts, h->alert);
            open_alert = open_alert || h->open;
        }
        json_array_append_new (array, txw_summary_region (region, &items [i].now, alerts,
                                                          open_alert, self->health_threshold));
    }
    free (items);
    return array;
}

//  Overall windows of the last period (all) or those changed since the last
//  stats body (changed_only, which clears the mark), oldest first.
static json_t *
s_series_json (gw_state_t *self, int64_t now_ms, bool changed_only)
{
    json_t *array = json_array ();
    s_series_t *s = self->overall;
    for (size_t i = 0; s && array && i < s->count; i++) {
        s_window_t *w = &s->windows [i];
        if (changed_only? !w->changed: w->start_ms < now_ms - GW_PERIOD_MS)
            continue;
        if (changed_only)
            w->changed = false;
        gw_window_t view;
        s_view (s, w, &view);
        json_array_append_new (array, gw_window_json (&view));
    }
    return array;
}

static json_t *
s_body (gw_state_t *self, int64_t now_ms, bool snapshot)
{
    json_t *body = json_pack ("{s:o,s:o,s:{s:o,s:o,s:o},s:o,s:o}",
        "stats", gw_state_realtime (self, now_ms, GW_STATS_MINUTES),
        "series", s_series_json (self, now_ms, !snapshot),
        "top", "merchant", gw_state_top (self, "merchant", now_ms),
               "category", gw_state_top (self, "category", now_ms),
               "device", gw_state_top (self, "device", now_ms),
        "branches", gw_state_branches (self, now_ms),
        "regions", gw_state_regions (self, now_ms));
    if (body && snapshot)
        json_object_set_new (body, "alerts", s_recent_alerts (self));
    return body;
}

json_t *
gw_state_snapshot (gw_state_t *self, int64_t now_ms)
{
    return s_body (self, now_ms, true);
}

json_t *
gw_state_stats (gw_state_t *self, int64_t now_ms)
{
    return s_body (self, now_ms, false);
}
