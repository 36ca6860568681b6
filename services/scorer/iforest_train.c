/*  iforest_train - growing an Isolation Forest from rows                  */

#include "iforest_private.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

//  The state of one training run.
typedef struct {
    const float *rows;
    int features;
    int max_depth;
    uint64_t rng;
    uint32_t *sample;           //  row indices of the tree's sample
    uint32_t *words;            //  the tree being grown, 2 psi - 1 nodes
    float *thresholds;
    uint32_t count;
} s_grower_t;

//  splitmix64 (Steele, Lea and Flood): small, fast and the same everywhere.
static uint64_t
s_next (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

//  Uniform in 0 .. bound - 1 (Lemire's multiply; the bias is below 2^-32).
static uint32_t
s_below (uint64_t *state, uint32_t bound)
{
    return (uint32_t) (((unsigned __int128) s_next (state) * bound) >> 64);
}

//  Uniform in [0, 1).
static double
s_unit (uint64_t *state)
{
    return (double) (s_next (state) >> 11) * 0x1.0p-53;
}

static void
s_leaf (s_grower_t *g, uint32_t node, uint32_t rows)
{
    g->words [node] = IFOREST_LEAF | rows << 8;
    g->thresholds [node] = 0;
}

//  A threshold uniform between min and max (min < max), kept in (min, max]
//  after rounding to float, so neither side of the split is empty.
static float
s_threshold (s_grower_t *g, float min, float max)
{
    double span = (double) max - (double) min;
    float threshold = (float) ((double) min + s_unit (&g->rng) * span);
    if (!(threshold > min))
        threshold = nextafterf (min, INFINITY);
    return threshold > max? max: threshold;
}

//  Grows the subtree of node over sample [lo, hi).
static void
s_grow (s_grower_t *g, uint32_t node, uint32_t lo, uint32_t hi, int depth)
{
    uint32_t size = hi - lo;
    if (size <= 1 || depth >= g->max_depth) {
        s_leaf (g, node, size);
        return;
    }
    float min [IFOREST_MAX_FEATURES], max [IFOREST_MAX_FEATURES];
    const float *first = g->rows + (size_t) g->sample [lo] * g->features;
    for (int f = 0; f < g->features; f++)
        min [f] = max [f] = first [f];
    for (uint32_t i = lo + 1; i < hi; i++) {
        const float *row = g->rows + (size_t) g->sample [i] * g->features;
        for (int f = 0; f < g->features; f++) {
            min [f] = row [f] < min [f]? row [f]: min [f];
            max [f] = row [f] > max [f]? row [f]: max [f];
        }
    }
    int candidates [IFOREST_MAX_FEATURES], count = 0;
    for (int f = 0; f < g->features; f++)
        if (min [f] < max [f])
            candidates [count++] = f;
    if (count == 0) {               //  identical rows: nothing splits them
        s_leaf (g, node, size);
        return;
    }
    int feature = candidates [s_below (&g->rng, (uint32_t) count)];
    float threshold = s_threshold (g, min [feature], max [feature]);

    //  Partition: rows below the threshold first.
    uint32_t mid = lo;
    for (uint32_t i = lo; i < hi; i++)
        if (g->rows [(size_t) g->sample [i] * g->features + feature] < threshold) {
            uint32_t swap = g->sample [i];
            g->sample [i] = g->sample [mid];
            g->sample [mid++] = swap;
        }
    uint32_t left = g->count;
    g->count += 2;
    g->words [node] = (uint32_t) feature | left << 8;
    g->thresholds [node] = threshold;
    s_grow (g, left, lo, mid, depth + 1);
    s_grow (g, left + 1, mid, hi, depth + 1);
}

static int
s_check_training (const float *rows, size_t n, int features, const iforest_params_t *p,
                  char *err, size_t err_size)
{
    if (!rows || n < 2 || n > UINT32_MAX) {
        iforest_fail (err, err_size, "need 2 .. 2^32 - 1 rows, not %zu", rows? n: 0);
        return -1;
    }
    if (features < 1 || features > IFOREST_MAX_FEATURES) {
        iforest_fail (err, err_size, "features must be 1 .. %d, not %d",
                      IFOREST_MAX_FEATURES, features);
        return -1;
    }
    if (p->trees < 0 || p->trees > IFOREST_MAX_TREES
    ||  p->sample_size < 0 || p->sample_size > IFOREST_MAX_SAMPLE || p->sample_size == 1
    ||  p->max_depth < 0 || p->max_depth > IFOREST_MAX_DEPTH) {
        iforest_fail (err, err_size, "parameters out of range: trees %d (1 .. %d), sample size %d"
                      " (2 .. %d), height limit %d (1 .. %d); 0 for the default",
                      p->trees, IFOREST_MAX_TREES, p->sample_size, IFOREST_MAX_SAMPLE,
                      p->max_depth, IFOREST_MAX_DEPTH);
        return -1;
    }
    for (size_t i = 0; i < n * (size_t) features; i++)
        if (!isfinite (rows [i])) {
            iforest_fail (err, err_size, "row %zu feature %zu is %g: only finite values train",
                          i / features, i % features, rows [i]);
            return -1;
        }
    return 0;
}

//  Appends the grown tree t to the forest's file form.
static int
s_append_tree (iforest_t *self, int t, const s_grower_t *g, size_t *capacity)
{
    size_t start = self->tree_start [t];
    if (start + g->count > *capacity) {
        size_t wanted = (start + g->count) * 2;
        uint32_t *words = realloc (self->words, wanted * sizeof *words);
        if (words)
            self->words = words;
        float *thresholds = realloc (self->thresholds, wanted * sizeof *thresholds);
        if (thresholds)
            self->thresholds = thresholds;
        if (!words || !thresholds)
            return -1;
        *capacity = wanted;
    }
    memcpy (self->words + start, g->words, g->count * sizeof *g->words);
    memcpy (self->thresholds + start, g->thresholds, g->count * sizeof *g->thresholds);
    self->tree_start [t + 1] = start + g->count;
    return 0;
}

iforest_t *
iforest_train (const float *rows, size_t n, int features,
               const iforest_params_t *params, char *err, size_t err_size)
{
    iforest_params_t p = params? *params: (iforest_params_t) { 0 };
    if (s_check_training (rows, n, features, &p, err, err_size))
        return NULL;
    int psi = p.sample_size? p.sample_size: 256;
    if ((size_t) psi > n)
        psi = (int) n;
    int max_depth = p.max_depth;
    while (p.max_depth == 0 && (1 << max_depth) < psi)
        max_depth++;
    iforest_t *self = iforest_new (features, p.trees? p.trees: 200, psi, max_depth, p.seed);
    uint32_t *all = malloc (n * sizeof *all);
    s_grower_t g = {
        .rows = rows, .features = features, .max_depth = max_depth, .rng = p.seed,
        .sample = malloc ((size_t) psi * sizeof (uint32_t)),
        .words = malloc ((2 * (size_t) psi - 1) * sizeof (uint32_t)),
        .thresholds = malloc ((2 * (size_t) psi - 1) * sizeof (float))
    };
    size_t capacity = 0;
    if (!self || !all || !g.sample || !g.words || !g.thresholds)
        goto nomem;
    for (uint32_t i = 0; i < n; i++)
        all [i] = i;
    for (int t = 0; t < self->trees; t++) {
        //  A partial Fisher-Yates shuffle draws psi rows without replacement.
        for (uint32_t j = 0; j < (uint32_t) psi; j++) {
            uint32_t k = j + s_below (&g.rng, (uint32_t) (n - j));
            uint32_t swap = all [j];
            all [j] = all [k];
            all [k] = swap;
        }
        memcpy (g.sample, all, (size_t) psi * sizeof *all);
        g.count = 1;
        s_grow (&g, 0, 0, (uint32_t) psi, 0);
        if (s_append_tree (self, t, &g, &capacity))
            goto nomem;
    }
    self->node_count = self->tree_start [self->trees];
    if (iforest_compile (self, err, err_size))
        iforest_destroy (&self);    //  a bug, not bad input: the message says which
    goto done;
nomem:
    iforest_fail (err, err_size, "out of memory training %d trees of %d rows",
                  self? self->trees: 0, psi);
    iforest_destroy (&self);
done:
    free (all);
    free (g.sample);
    free (g.words);
    free (g.thresholds);
    return self;
}
