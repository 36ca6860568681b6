/*  aggregator - the sink stage: windows, stored transactions, alerts

    Pulls scored transactions and alerts from the scorers, keeps this shard's
    event-time windows, publishes live ticks and closed windows for the push
    gateway, and writes everything to PostgreSQL in one transaction per
    flush (sink.h).                                                           */

#ifndef TXW_AGGREGATOR_H
#define TXW_AGGREGATOR_H

#include "service.h"
#include "sink.h"

typedef struct {
    txw_service_config_t svc;
    const char *bind;
    const char *publish;
    const char *database_url;
    const char *store;
    int64_t shard;
    int64_t window_s;
    int64_t lateness_s;
    int64_t retention_s;
    int64_t flush_ms;
    int64_t tick_ms;
    int64_t alert_threshold;
    int64_t max_pending;
    int64_t dedupe_capacity;
    bool migrate;
    bool migrate_only;
    bool accounts;
    double health_threshold;
    int64_t health_windows;
    int64_t health_min_tx;
} aggregator_config_t;

typedef struct _aggregator_t aggregator_t;

//  Returns NULL (logged) if a socket cannot be bound or the options are bad.
aggregator_t *aggregator_new (const aggregator_config_t *cfg, txw_service_t *svc);
void aggregator_destroy (aggregator_t **self_p);

//  Runs until svc->stop, then drains. Returns the process exit code.
int aggregator_run (aggregator_t *self);

#endif
