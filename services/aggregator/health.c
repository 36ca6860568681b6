/*  health - the region health rule                                          */

#include "health.h"
#include "summary.h"
#include "clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char region [TXW_ID_MAX + 1];
    int64_t last_start_ms;      //  the last window judged
    int streak;                 //  unhealthy windows in a row, ending at last
    bool alerted;               //  this streak has raised its alert
} s_region_t;

struct _health_t {
    double threshold;
    int windows;
    int64_t min_tx;
    s_region_t *regions;
    size_t count;
    size_t capacity;
};

health_t *
health_new (double threshold, int windows, int64_t min_tx)
{
    if (!(threshold >= 0 && threshold < 1) || windows < 1 || min_tx < 1)
        return NULL;
    health_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->threshold = threshold;
    self->windows = windows;
    self->min_tx = min_tx;
    return self;
}

void
health_destroy (health_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->regions);
    free (*self_p);
    *self_p = NULL;
}

//  Regions are few (tens): a linear list is the simplest right structure.
static s_region_t *
s_region (health_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->regions [i].region, name) == 0)
            return &self->regions [i];
    if (self->count == self->capacity) {
        size_t capacity = self->capacity? self->capacity * 2: 16;
        s_region_t *regions = realloc (self->regions, capacity * sizeof *regions);
        if (!regions)
            return NULL;
        self->regions = regions;
        self->capacity = capacity;
    }
    s_region_t *r = &self->regions [self->count++];
    memset (r, 0, sizeof *r);
    snprintf (r->region, sizeof r->region, "%s", name);
    r->last_start_ms = INT64_MIN;
    return r;
}

static void
s_fill_alert (health_t *self, const txw_window_t *row, double rate, double lower,
              txw_alert_t *alert)
{
    memset (alert, 0, sizeof *alert);
    snprintf (alert->kind, sizeof alert->kind, "region_health");
    alert->ts_ms = row->window_start_ms;
    int score = (int) lround (rate * 100);
    alert->score = (uint8_t) (score > 100? 100: score);
    snprintf (alert->region, sizeof alert->region, "%.*s", TXW_NAME_MAX, row->key);
    snprintf (alert->model_version, sizeof alert->model_version, "health-1");
    alert->raised_ms = txw_now_ms ();
    snprintf (alert->message, sizeof alert->message,
              "region %s: %.1f%% of %lld transactions declined or failed (at least"
              " %.1f%% with 95%% confidence); above %.1f%% for %d windows of %llds in a row",
              row->key, rate * 100, (long long) row->tx_count, lower * 100,
              self->threshold * 100,
              self->windows, (long long) (row->window_ms / 1000));
}

bool
health_observe (health_t *self, const txw_window_t *row, txw_alert_t *alert)
{
    s_region_t *r = s_region (self, row->key);
    if (!r || row->window_start_ms <= r->last_start_ms)
        return false;
    bool follows = r->last_start_ms != INT64_MIN
                && row->window_start_ms == r->last_start_ms + row->window_ms;
    r->last_start_ms = row->window_start_ms;
    if (!follows) {
        r->streak = 0;
        r->alerted = false;
    }
    int64_t bad = row->declined + row->failed;
    double rate = row->tx_count > 0? (double) bad / (double) row->tx_count: 0;
    double lower = row->tx_count > 0? txw_wilson_lower (bad, row->tx_count): 0;
    if (row->tx_count < self->min_tx || lower <= self->threshold) {
        r->streak = 0;
        r->alerted = false;
        return false;
    }
    r->streak++;
    if (r->streak < self->windows || r->alerted)
        return false;
    r->alerted = true;
    s_fill_alert (self, row, rate, lower, alert);
    return true;
}
