/*  state - what the gateway knows: windows summed over shards, recent alerts

    Each aggregator shard publishes its own row of a window (dimension, key,
    window start); the total is the sum over shards, like the view
    txw.window_totals. The state keeps the last row of every shard per
    window and sums on read. Windows are kept for two hours plus one window:
    the top lists compare the last 60 minutes with the 60 before (SERVING.md,
    "top"). It also keeps the last 50 alerts (newest first, the snapshot's
    list) and the region health alerts of the last hour (the regions list).

    The bodies of the stats and snapshot messages are computed here with
    the formulas of the REST API: stats over the overall windows that start
    in the last 5 minutes, top merchants and categories by count, branches
    and regions over the last 60 minutes.

    Single-threaded: only the gateway's receive loop touches it.            */

#ifndef TXW_GATEWAY_STATE_H
#define TXW_GATEWAY_STATE_H

#include "codec.h"
#include "summary.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_ALERTS_KEPT      50
#define GW_PERIOD_MS        (60 * 60000LL)      //  top, branches, regions
#define GW_STATS_MINUTES    5
#define GW_TOP_LIMIT        10

//  One window summed over its shards.
typedef struct {
    const char *dimension;
    char key [TXW_ID_MAX + 1];
    int64_t start_ms;
    int64_t window_ms;
    txw_totals_t t;
    bool closed;                //  every shard's row is closed
} gw_window_t;

typedef struct _gw_state_t gw_state_t;

//  health_threshold as in --health-threshold; currency is the reporting one.
gw_state_t *gw_state_new (double health_threshold, const char *currency);
void gw_state_destroy (gw_state_t **self_p);

//  Stores one shard's row of a window. Returns 0 and the summed window in
//  *out, or -1 if the row is older than the retention or names an unknown
//  dimension (ignored).
int gw_state_window (gw_state_t *self, const txw_window_t *row, int64_t now_ms,
                     gw_window_t *out);

//  Adds an alert object (a reference is taken) with its key. Returns false
//  if an alert with that key is already kept (two shards raising the same
//  region health alert): the caller does not push it again.
bool gw_state_alert (gw_state_t *self, json_t *alert, const char *key,
                     const char *kind, const char *region, int64_t raised_ms, bool open);

//  Gives the kept alert with this key its new status (open, investigating,
//  closed), in the recent list and the region health list: closed sets
//  acked_at (changed_ms) and acked_by (by), another status clears them.
//  Returns true if the gateway kept such an alert.
bool gw_state_ack (gw_state_t *self, const char *key, const char *status, int64_t changed_ms,
                   const char *by);

//  Adds a region health alert to the regions list only (seeding: the
//  alerts of the last hour that are not among the last 50).
void gw_state_health_alert (gw_state_t *self, json_t *alert, const char *key,
                            const char *region, int64_t raised_ms, bool open);

//  Forgets windows and region alerts past the retention.
void gw_state_prune (gw_state_t *self, int64_t now_ms);

//  The window object of the window message and of series. New reference.
json_t *gw_window_json (const gw_window_t *w);

//  The body of a snapshot (with alerts, all overall windows of the last
//  60 minutes) or of a stats message (the overall windows that changed since
//  the last stats body, which this call then forgets). New reference.
json_t *gw_state_snapshot (gw_state_t *self, int64_t now_ms);
json_t *gw_state_stats (gw_state_t *self, int64_t now_ms);

//  The parts, for tests. New references.
json_t *gw_state_realtime (gw_state_t *self, int64_t now_ms, int minutes);
json_t *gw_state_top (gw_state_t *self, const char *dimension, int64_t now_ms);
json_t *gw_state_branches (gw_state_t *self, int64_t now_ms);
json_t *gw_state_regions (gw_state_t *self, int64_t now_ms);
//  The summed window, for tests; false if absent.
bool gw_state_find (gw_state_t *self, const char *dimension, const char *key,
                    int64_t start_ms, gw_window_t *out);
size_t gw_state_windows (gw_state_t *self);

#endif
