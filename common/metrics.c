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

struct _txw_histogram_t {
    struct _txw_metric_t base;
    uint64_t buckets [S_BUCKETS + 1];   //  last one is +Inf
    uint64_t count;
    uint64_t sum_us;
};

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
        free (m);
        m = next;
    }
    s_head = s_tail = NULL;
}
