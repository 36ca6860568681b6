/*  health - the region health rule

    A region is unhealthy when the share of its transactions that were
    declined or failed is above a threshold (default 10%) in N consecutive
    closed windows (default 3), with 95% confidence: the lower Wilson
    bound of the window's share must be above the threshold, so four
    failures among thirty transactions of a quiet night are not an outage
    while a quarter of three hundred is. The aggregator shows the rule each region
    window as it closes; the rule raises one region_health alert per
    unhealthy streak, on the window that completes it. A window with too few
    transactions to judge (min_tx) or a missing window (no traffic) ends a
    streak.

    With several aggregator shards each shard judges the transactions of the
    accounts it owns: a uniform sample of the region's traffic, since
    accounts are spread by hash. Alerts raised by two shards for the same
    window share one key (region_health:<region>:<window start>) and are
    stored once.                                                              */

#ifndef TXW_AGGREGATOR_HEALTH_H
#define TXW_AGGREGATOR_HEALTH_H

#include "codec.h"

#include <stdbool.h>

typedef struct _health_t health_t;

//  threshold is a fraction (0.10); windows is the streak length (>= 1).
health_t *health_new (double threshold, int windows, int64_t min_tx);
void health_destroy (health_t **self_p);

//  Judges one closed window of the region dimension. Windows of a region
//  must come oldest first; an older or repeated one is ignored. Returns true
//  and fills alert when this window completes an unhealthy streak.
bool health_observe (health_t *self, const txw_window_t *row, txw_alert_t *alert);

#endif
