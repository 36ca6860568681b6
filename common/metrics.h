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

//  The same, that also counts every observation at microsecond resolution
//  in the manner of an HDR histogram: exact below 128 us, then 64 steps per
//  power of two, so a value is known within 1/64 (1.6%), up to 2^36 us
//  (19 hours; beyond, in the last step), in 16 KB. The render adds a
//  summary, quantiles_name{quantile="0.5"|"0.9"|"0.99"|"0.999"} in seconds
//  (each the upper end of its step: "at most"), over the process's life.
txw_histogram_t *txw_histogram_new_fine (const char *name, const char *help,
                                         const char *quantiles_name);

//  The fine histogram registered under name, made as txw_histogram_new_fine
//  the first time: one metric that several objects of a process share (every
//  input's txw_hop_latency_seconds). Each caller keeps the pointer for its
//  life; after txw_metrics_reset the next call makes a new one.
txw_histogram_t *txw_histogram_fine_shared (const char *name, const char *help,
                                            const char *quantiles_name);

//  The value (us) at or below which a fraction q (0..1) of a fine
//  histogram's observations fall, the upper end of its step; 0 with none
//  or for a histogram that is not fine.
int64_t txw_histogram_quantile_us (const txw_histogram_t *self, double q);

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
