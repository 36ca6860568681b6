/*  metrics - Prometheus counters, gauges and histograms

    Metrics are registered once at start-up, before any other thread runs,
    and are never removed: the registry is then read-only and the hot loop
    only touches relaxed atomics. The admin thread renders the text format.  */

#ifndef TXW_METRICS_H
#define TXW_METRICS_H

#include <stdint.h>

typedef struct _txw_metric_t txw_counter_t;
typedef struct _txw_metric_t txw_gauge_t;
typedef struct _txw_histogram_t txw_histogram_t;

//  labels is the inside of the braces, e.g. `reason="bad_currency"`, or NULL.
//  Metrics with the same name share one HELP/TYPE header. Never fails.
txw_counter_t *txw_counter_new (const char *name, const char *labels, const char *help);
txw_gauge_t *txw_gauge_new (const char *name, const char *labels, const char *help);

//  Latency histogram with the standard bucket bounds, in seconds.
txw_histogram_t *txw_histogram_new (const char *name, const char *help);

void txw_counter_add (txw_counter_t *self, uint64_t n);
void txw_gauge_set (txw_gauge_t *self, int64_t value);
uint64_t txw_counter_value (const txw_counter_t *self);

//  Records one observation of us microseconds.
void txw_histogram_observe_us (txw_histogram_t *self, int64_t us);

//  Renders every metric in the Prometheus text format. Caller frees.
char *txw_metrics_render (void);

//  Frees the registry; for tests and clean shutdown.
void txw_metrics_reset (void);

#endif
