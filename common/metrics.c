/*  metrics - Prometheus counters, gauges and histograms                     */

#include "metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_kind_t;

//  Bucket upper bounds in microseconds: 50 us .. 10 s, finer around the
//  millisecond latencies the pipeline is judged by.
static const int64_t s_bounds_us [] = {
    50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500,
    10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000
};
#define S_BUCKETS (int) (sizeof s_bounds_us / sizeof s_bounds_us [0])

struct _txw_metric_t {
    s_kind_t kind;
    char *name;
    char *labels;
    char *help;
    uint64_t value;             //  counter; gauge stores int64 bits
    struct _txw_metric_t *next;
};

//  The fine counts (txw_histogram_new_fine): one per microsecond below
//  S_SUB, then S_HALF per power of two up to 2^S_FINE_BITS us.
#define S_SUB_BITS      7
#define S_SUB           (1 << S_SUB_BITS)
#define S_HALF          (S_SUB / 2)
#define S_FINE_BITS     36
#define S_FINE_COUNT    (S_SUB + (S_FINE_BITS - S_SUB_BITS) * S_HALF)

struct _txw_histogram_t {
    struct _txw_metric_t base;
    uint64_t buckets [S_BUCKETS + 1];   //  last one is +Inf
    uint64_t count;
    uint64_t sum_us;
    char *quantiles_name;               //  fine: the summary's name; else NULL
    uint64_t *fine;                     //  S_FINE_COUNT counts, or NULL
};

//  The fine step of a value: us itself below S_SUB; above, the power of
//  two it is in and its S_SUB_BITS - 1 bits after the leading one.
static int
s_fine_index (uint64_t us)
{
    if (us < S_SUB)
        return (int) us;
    int e = 63 - __builtin_clzll (us);          //  2^e <= us < 2^(e+1)
    if (e >= S_FINE_BITS)
        return S_FINE_COUNT - 1;
    int shift = e - (S_SUB_BITS - 1);           //  us >> shift: S_HALF .. S_SUB - 1
    return S_SUB + (e - S_SUB_BITS) * S_HALF + (int) ((us >> shift) - S_HALF);
}

//  The largest value of a fine step.
static int64_t
s_fine_upper (int index)
{
    if (index < S_SUB)
        return index;
    int k = (index - S_SUB) / S_HALF;
    int64_t m = (index - S_SUB) % S_HALF + S_HALF;
    return ((m + 1) << (k + 1)) - 1;
}

static struct _txw_metric_t *s_head = NULL;
static struct _txw_metric_t *s_tail = NULL;

static char *
s_strdup (const char *s)
{
    return s? strdup (s): NULL;
}

static void
s_register (struct _txw_metric_t *m, s_kind_t kind, const char *name,
            const char *labels, const char *help)
{
    m->kind = kind;
    m->name = s_strdup (name);
    m->labels = s_strdup (labels);
    m->help = s_strdup (help);
    if (s_tail)
        s_tail->next = m;
    else
        s_head = m;
    s_tail = m;
}

txw_counter_t *
txw_counter_new (const char *name, const char *labels, const char *help)
{
    struct _txw_metric_t *m = calloc (1, sizeof *m);
    if (!m)
        abort ();
    s_register (m, S_COUNTER, name, labels, help);
    return m;
}

txw_gauge_t *
txw_gauge_new (const char *name, const char *labels, const char *help)
{
    struct _txw_metric_t *m = calloc (1, sizeof *m);
    if (!m)
        abort ();
    s_register (m, S_GAUGE, name, labels, help);
    return m;
}

txw_histogram_t *
txw_histogram_new (const char *name, const char *help)
{
    txw_histogram_t *h = calloc (1, sizeof *h);
    if (!h)
        abort ();
    s_register (&h->base, S_HISTOGRAM, name, NULL, help);
    return h;
}

txw_histogram_t *
txw_histogram_new_fine (const char *name, const char *help, const char *quantiles_name)
{
    txw_histogram_t *h = txw_histogram_new (name, help);
    h->quantiles_name = s_strdup (quantiles_name);
    h->fine = calloc (S_FINE_COUNT, sizeof *h->fine);
    if (!h->quantiles_name || !h->fine)
        abort ();
    return h;
}

txw_histogram_t *
txw_histogram_fine_shared (const char *name, const char *help, const char *quantiles_name)
{
    for (struct _txw_metric_t *m = s_head; m; m = m->next)
        if (m->kind == S_HISTOGRAM && strcmp (m->name, name) == 0)
            return (txw_histogram_t *) m;
    return txw_histogram_new_fine (name, help, quantiles_name);
}

int64_t
txw_histogram_quantile_us (const txw_histogram_t *self, double q)
{
    if (!self->fine)
        return 0;
    uint64_t total = 0;
    for (int i = 0; i < S_FINE_COUNT; i++)
        total += __atomic_load_n (&self->fine [i], __ATOMIC_RELAXED);
    if (total == 0)
        return 0;
    double want = q <= 0? 1: q >= 1? (double) total: q * (double) total;
    uint64_t rank = (uint64_t) want;
    if ((double) rank < want)
        rank++;                     //  the smallest rank covering q
    uint64_t seen = 0;
    for (int i = 0; i < S_FINE_COUNT; i++) {
        seen += __atomic_load_n (&self->fine [i], __ATOMIC_RELAXED);
        if (seen >= rank)
            return s_fine_upper (i);
    }
    return s_fine_upper (S_FINE_COUNT - 1);
}

void
txw_counter_add (txw_counter_t *self, uint64_t n)
{
    __atomic_fetch_add (&self->value, n, __ATOMIC_RELAXED);
}

uint64_t
txw_counter_value (const txw_counter_t *self)
{
    return __atomic_load_n (&self->value, __ATOMIC_RELAXED);
}

void
txw_gauge_set (txw_gauge_t *self, int64_t value)
{
    __atomic_store_n (&self->value, (uint64_t) value, __ATOMIC_RELAXED);
}

void
txw_histogram_observe_us (txw_histogram_t *self, int64_t us)
{
    if (us < 0)
        us = 0;
    int b = 0;
    while (b < S_BUCKETS && us > s_bounds_us [b])
        b++;
    __atomic_fetch_add (&self->buckets [b], 1, __ATOMIC_RELAXED);
    if (self->fine)
        __atomic_fetch_add (&self->fine [s_fine_index ((uint64_t) us)], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add (&self->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add (&self->sum_us, (uint64_t) us, __ATOMIC_RELAXED);
}

//  A growable text buffer for the render; aborts on out-of-memory, which at
//  this size means the process is finished anyway.
typedef struct { char *data; size_t len, cap; } s_text_t;

static void
s_printf (s_text_t *t, const char *fmt, ...)
{
    va_list args;
    for (;;) {
        va_start (args, fmt);
        int n = vsnprintf (t->data + t->len, t->cap - t->len, fmt, args);
        va_end (args);
        if (n >= 0 && (size_t) n < t->cap - t->len) {
            t->len += (size_t) n;
            return;
        }
        t->cap = t->cap * 2 + (n > 0? (size_t) n: 0);
        t->data = realloc (t->data, t->cap);
        if (!t->data)
            abort ();
    }
}

static bool
s_header_seen (const struct _txw_metric_t *upto, const char *name)
{
    for (const struct _txw_metric_t *m = s_head; m != upto; m = m->next)
        if (!strcmp (m->name, name))
            return true;
    return false;
}

//  A fine histogram's summary: its quantiles over the process's life.
static void
s_render_quantiles (s_text_t *t, const txw_histogram_t *h)
{
    static const char *const quantiles [] = { "0.5", "0.9", "0.99", "0.999" };
    const char *name = h->quantiles_name;
    s_printf (t, "# HELP %s %s, quantiles at microsecond resolution (within 1.6%%, "
                 "each the upper end of its step) since the process started\n"
                 "# TYPE %s summary\n", name, h->base.help? h->base.help: "", name);
    for (size_t i = 0; i < sizeof quantiles / sizeof quantiles [0]; i++)
        s_printf (t, "%s{quantile=\"%s\"} %.6f\n", name, quantiles [i],
                  (double) txw_histogram_quantile_us (h, atof (quantiles [i])) / 1e6);
    s_printf (t, "%s_sum %.6f\n%s_count %llu\n", name,
              (double) __atomic_load_n (&h->sum_us, __ATOMIC_RELAXED) / 1e6, name,
              (unsigned long long) __atomic_load_n (&h->count, __ATOMIC_RELAXED));
}

char *
txw_metrics_render (void)
{
    s_text_t t = { malloc (4096), 0, 4096 };
    if (!t.data)
        abort ();
    t.data [0] = 0;
    static const char *types [] = { "counter", "gauge", "histogram" };
    for (const struct _txw_metric_t *m = s_head; m; m = m->next) {
        if (!s_header_seen (m, m->name))
            s_printf (&t, "# HELP %s %s\n# TYPE %s %s\n", m->name,
                      m->help? m->help: "", m->name, types [m->kind]);
        if (m->kind == S_HISTOGRAM) {
            const txw_histogram_t *h = (const txw_histogram_t *) m;
            uint64_t cumulative = 0;
            for (int b = 0; b <= S_BUCKETS; b++) {
                cumulative += __atomic_load_n (&h->buckets [b], __ATOMIC_RELAXED);
                if (b < S_BUCKETS)
                    s_printf (&t, "%s_bucket{le=\"%g\"} %llu\n", m->name,
                              (double) s_bounds_us [b] / 1e6,
                              (unsigned long long) cumulative);
                else
                    s_printf (&t, "%s_bucket{le=\"+Inf\"} %llu\n", m->name,
                              (unsigned long long) cumulative);
            }
            s_printf (&t, "%s_sum %.6f\n%s_count %llu\n", m->name,
                      (double) __atomic_load_n (&h->sum_us, __ATOMIC_RELAXED) / 1e6,
                      m->name,
                      (unsigned long long) __atomic_load_n (&h->count, __ATOMIC_RELAXED));
            if (h->fine)
                s_render_quantiles (&t, h);
            continue;
        }
        uint64_t v = __atomic_load_n (&m->value, __ATOMIC_RELAXED);
        if (m->labels)
            s_printf (&t, "%s{%s} ", m->name, m->labels);
        else
            s_printf (&t, "%s ", m->name);
        if (m->kind == S_GAUGE)
            s_printf (&t, "%lld\n", (long long) (int64_t) v);
        else
            s_printf (&t, "%llu\n", (unsigned long long) v);
    }
    return t.data;
}

void
txw_metrics_reset (void)
{
    struct _txw_metric_t *m = s_head;
    while (m) {
        struct _txw_metric_t *next = m->next;
        free (m->name);
        free (m->labels);
        free (m->help);
        if (m->kind == S_HISTOGRAM) {
            free (((txw_histogram_t *) m)->quantiles_name);
            free (((txw_histogram_t *) m)->fine);
        }
        free (m);
        m = next;
    }
    s_head = s_tail = NULL;
}
