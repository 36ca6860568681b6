/*  iforest - an Isolation Forest over dense float vectors, and its model file

    Two forms of the same trees. The file form (words, thresholds) is the
    paper's tree: a split names its feature and left child, a leaf its row
    count; it is what training produces and what the file holds. The hot
    form (nodes, leaf_path) is derived from it by s_compile, for training
    and loading alike, so a loaded model scores exactly as the one saved:
    a leaf becomes a node that points at itself whatever the row (its
    threshold is NaN, so "x >= NaN" is always false), and its depth +
    c(rows) goes to a parallel array read once at the end of a walk.      */

#include "iforest.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAGIC         "TXWIFOR1"
#define S_FORMAT        1u
#define S_LEAF          255u            //  feature byte of a leaf word
#define S_EULER         0.5772156649015329
#define S_MAX_FILE      (INT64_C (1) << 30)
#define S_BATCH_BLOCK   256             //  rows scored per pass over the trees
#define S_WIDE_CHUNK    16              //  vectors of 16 trees walked together

#if defined (__x86_64__) && (defined (__GNUC__) || defined (__clang__))
#   include <immintrin.h>
#   define S_HAVE_AVX512
#endif

//  A node of the hot form: meta = feature | left child << 8 (the right
//  child is left + 1), the child index relative to the tree's first node.
typedef struct {
    uint32_t meta;
    float threshold;
} s_node_t;

_Static_assert (sizeof (s_node_t) == 8, "a node is 8 bytes");

struct _iforest_t {
    int features;
    int trees;
    int psi;                    //  rows each tree was grown on
    int max_depth;              //  the height limit it was grown with
    uint64_t seed;
    int steps;                  //  depth of the deepest leaf, all trees
    double c_psi;               //  c(psi), the normaliser
    char version [IFOREST_NAME_MAX + 1];
    bool named;
    char names [IFOREST_MAX_FEATURES][IFOREST_NAME_MAX + 1];
    size_t *tree_start;         //  [trees + 1] first node of each tree
    size_t node_count;
    uint32_t *words;            //  file form
    float *thresholds;
    s_node_t *nodes;            //  hot form
    float *leaf_path;           //  depth + c(rows) at leaves, 0 at splits
    int32_t *start32;           //  tree_start for AVX-512, NULL: scalar walks
};

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

static void
s_fail (char *err, size_t err_size, const char *format, ...)
{
    if (!err || err_size == 0)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (err, err_size, format, args);
    va_end (args);
}

double
iforest_c (double n)
{
    if (n <= 1)
        return 0;
    if (n <= 2)
        return 1;
    return 2 * (log (n - 1) + S_EULER) - 2 * (n - 1) / n;
}

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

static bool
s_printable (const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) text [i] < 0x20 || (unsigned char) text [i] > 0x7e)
            return false;
    return true;
}

static float
s_float_of (uint32_t bits)
{
    float value;
    memcpy (&value, &bits, sizeof value);
    return value;
}

static uint32_t
s_bits_of (float value)
{
    uint32_t bits;
    memcpy (&bits, &value, sizeof bits);
    return bits;
}

//  ----------------------------------------------------------------------
//  The hot form, derived from the file form and checked on the way

//  Checks tree t of the file form (every node reached once, children after
//  their parent, features < F, depths within the height limit, leaf rows
//  adding up to psi) and fills its hot nodes. depth has room for the tree.
static int
s_compile_tree (iforest_t *self, int t, uint8_t *depth, char *err, size_t err_size)
{
    size_t base = self->tree_start [t];
    uint32_t count = (uint32_t) (self->tree_start [t + 1] - base);
    const uint32_t *words = self->words + base;
    const float *thresholds = self->thresholds + base;
    s_node_t *nodes = self->nodes + base;
    float *leaf_path = self->leaf_path + base;
    uint64_t rows = 0;

    memset (depth, 0xff, count);
    depth [0] = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (depth [i] == 0xff) {
            s_fail (err, err_size, "tree %d: node %u is not reached from the root", t, i);
            return -1;
        }
        uint32_t feature = words [i] & 0xff, arg = words [i] >> 8;
        if (feature == S_LEAF) {
            if (arg < 1 || arg > (uint32_t) self->psi || s_bits_of (thresholds [i]) != 0) {
                s_fail (err, err_size, "tree %d: leaf %u is invalid (%u rows)", t, i, arg);
                return -1;
            }
            rows += arg;
            nodes [i] = (s_node_t) { i << 8, NAN };
            leaf_path [i] = (float) (depth [i] + iforest_c (arg));
            if (depth [i] > self->steps)
                self->steps = depth [i];
            continue;
        }
        if (feature >= (uint32_t) self->features || !isfinite (thresholds [i])) {
            s_fail (err, err_size, "tree %d: node %u splits on feature %u of %d at %g",
                    t, i, feature, self->features, thresholds [i]);
            return -1;
        }
        if (arg <= i || arg + 1 >= count) {
            s_fail (err, err_size, "tree %d: node %u has children %u, out of order or range",
                    t, i, arg);
            return -1;
        }
        if (depth [arg] != 0xff || depth [arg + 1] != 0xff) {
            s_fail (err, err_size, "tree %d: node %u shares its children", t, i);
            return -1;
        }
        if (depth [i] + 1 > self->max_depth) {
            s_fail (err, err_size, "tree %d: node %u is deeper than the height limit %d",
                    t, i, self->max_depth);
            return -1;
        }
        depth [arg] = depth [arg + 1] = (uint8_t) (depth [i] + 1);
        nodes [i] = (s_node_t) { words [i], thresholds [i] };
        leaf_path [i] = 0;
    }
    if (rows != (uint64_t) self->psi) {
        s_fail (err, err_size, "tree %d: leaves hold %llu rows, not %d",
                t, (unsigned long long) rows, self->psi);
        return -1;
    }
    return 0;
}

//  AVX-512 walks when the CPU has them, node indices fit 31 bits and
//  TXW_IFOREST_SCALAR is not set (the tests compare both paths with it).
static void
s_choose_walk (iforest_t *self)
{
#ifdef S_HAVE_AVX512
    const char *scalar = getenv ("TXW_IFOREST_SCALAR");
    if ((scalar && *scalar && strcmp (scalar, "0")) || !__builtin_cpu_supports ("avx512f")
    ||  self->node_count >= INT32_MAX)
        return;
    size_t padded = ((size_t) self->trees + 15) / 16 * 16;
    self->start32 = malloc (padded * sizeof *self->start32);
    for (size_t t = 0; self->start32 && t < padded; t++)
        self->start32 [t] = (int32_t) (t < (size_t) self->trees? self->tree_start [t]: self->node_count);
#else
    (void) self;
#endif
}

static int
s_compile (iforest_t *self, char *err, size_t err_size)
{
    self->c_psi = iforest_c (self->psi);
    self->steps = 0;
    //  One node more: a tree of one leaf adding 0, padding for AVX-512.
    self->nodes = malloc ((self->node_count + 1) * sizeof *self->nodes);
    self->leaf_path = malloc ((self->node_count + 1) * sizeof *self->leaf_path);
    uint8_t *depth = malloc (2 * (size_t) self->psi);
    int rc = 0;
    if (!self->nodes || !self->leaf_path || !depth) {
        s_fail (err, err_size, "out of memory for %zu nodes", self->node_count);
        rc = -1;
    }
    else {
        self->nodes [self->node_count] = (s_node_t) { 0, NAN };
        self->leaf_path [self->node_count] = 0;
    }
    for (int t = 0; rc == 0 && t < self->trees; t++)
        rc = s_compile_tree (self, t, depth, err, err_size);
    free (depth);
    if (rc == 0)
        s_choose_walk (self);
    return rc;
}

static iforest_t *
s_new (int features, int trees, int psi, int max_depth, uint64_t seed)
{
    iforest_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->features = features;
    self->trees = trees;
    self->psi = psi;
    self->max_depth = max_depth;
    self->seed = seed;
    self->tree_start = calloc ((size_t) trees + 1, sizeof *self->tree_start);
    if (!self->tree_start)
        iforest_destroy (&self);
    return self;
}

void
iforest_destroy (iforest_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    iforest_t *self = *self_p;
    free (self->tree_start);
    free (self->words);
    free (self->thresholds);
    free (self->nodes);
    free (self->leaf_path);
    free (self->start32);
    free (self);
    *self_p = NULL;
}

//  ----------------------------------------------------------------------
//  Training

static void
s_leaf (s_grower_t *g, uint32_t node, uint32_t rows)
{
    g->words [node] = S_LEAF | rows << 8;
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
        s_fail (err, err_size, "need 2 .. 2^32 - 1 rows, not %zu", rows? n: 0);
        return -1;
    }
    if (features < 1 || features > IFOREST_MAX_FEATURES) {
        s_fail (err, err_size, "features must be 1 .. %d, not %d", IFOREST_MAX_FEATURES, features);
        return -1;
    }
    if (p->trees < 0 || p->trees > IFOREST_MAX_TREES
    ||  p->sample_size < 0 || p->sample_size > IFOREST_MAX_SAMPLE || p->sample_size == 1
    ||  p->max_depth < 0 || p->max_depth > IFOREST_MAX_DEPTH) {
        s_fail (err, err_size, "parameters out of range: trees %d (1 .. %d), sample size %d"
                " (2 .. %d), height limit %d (1 .. %d); 0 for the default",
                p->trees, IFOREST_MAX_TREES, p->sample_size, IFOREST_MAX_SAMPLE,
                p->max_depth, IFOREST_MAX_DEPTH);
        return -1;
    }
    for (size_t i = 0; i < n * (size_t) features; i++)
        if (!isfinite (rows [i])) {
            s_fail (err, err_size, "row %zu feature %zu is %g: only finite values train",
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
    iforest_t *self = s_new (features, p.trees? p.trees: 200, psi, max_depth, p.seed);
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
    if (s_compile (self, err, err_size))
        iforest_destroy (&self);    //  a bug, not bad input: the message says which
    goto done;
nomem:
    s_fail (err, err_size, "out of memory training %d trees of %d rows",
            self? self->trees: 0, psi);
    iforest_destroy (&self);
done:
    free (all);
    free (g.sample);
    free (g.words);
    free (g.thresholds);
    return self;
}

//  ----------------------------------------------------------------------
//  Scoring
//
//  A walk takes self->steps steps whatever the tree (a leaf loops on
//  itself), so walks interleave without branches. Every path adds the
//  trees' path lengths as doubles, tree by tree in order, so the scalar
//  and the AVX-512 paths, one row or a batch, give the same bits.

static double
s_normalise (const iforest_t *self, double sum)
{
    return exp2 (-(sum / self->trees) / self->c_psi);
}

//  One step of a walk: the child of node at for row x.
static inline uint32_t
s_step (const s_node_t *nodes, uint32_t at, const float *x)
{
    s_node_t node = nodes [at];
    return (node.meta >> 8) + (x [node.meta & 0xff] >= node.threshold);
}

//  Scalar: four walks in registers at a time.
static double
s_path_sum_scalar (const iforest_t *self, const float *x)
{
    double sum = 0;
    int t = 0;
    for (; t + 4 <= self->trees; t += 4) {
        const s_node_t *n0 = self->nodes + self->tree_start [t],
                       *n1 = self->nodes + self->tree_start [t + 1],
                       *n2 = self->nodes + self->tree_start [t + 2],
                       *n3 = self->nodes + self->tree_start [t + 3];
        uint32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (int s = 0; s < self->steps; s++) {
            a0 = s_step (n0, a0, x);
            a1 = s_step (n1, a1, x);
            a2 = s_step (n2, a2, x);
            a3 = s_step (n3, a3, x);
        }
        sum += self->leaf_path [self->tree_start [t] + a0];
        sum += self->leaf_path [self->tree_start [t + 1] + a1];
        sum += self->leaf_path [self->tree_start [t + 2] + a2];
        sum += self->leaf_path [self->tree_start [t + 3] + a3];
    }
    for (; t < self->trees; t++) {
        uint32_t at = 0;
        for (int s = 0; s < self->steps; s++)
            at = s_step (self->nodes + self->tree_start [t], at, x);
        sum += self->leaf_path [self->tree_start [t] + at];
    }
    return sum;
}

//  Scalar: adds tree t's path lengths of rows [0, n) to sum [0, n), four
//  rows at a time.
static void
s_walk_rows (const iforest_t *self, int t, const float *rows, size_t n, double *sum)
{
    const s_node_t *nodes = self->nodes + self->tree_start [t];
    const float *leaf_path = self->leaf_path + self->tree_start [t];
    const size_t features = (size_t) self->features;
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const float *x = rows + k * features;
        uint32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (int s = 0; s < self->steps; s++) {
            a0 = s_step (nodes, a0, x);
            a1 = s_step (nodes, a1, x + features);
            a2 = s_step (nodes, a2, x + 2 * features);
            a3 = s_step (nodes, a3, x + 3 * features);
        }
        sum [k] += leaf_path [a0];
        sum [k + 1] += leaf_path [a1];
        sum [k + 2] += leaf_path [a2];
        sum [k + 3] += leaf_path [a3];
    }
    for (; k < n; k++) {
        uint32_t at = 0;
        for (int s = 0; s < self->steps; s++)
            at = s_step (nodes, at, rows + k * features);
        sum [k] += leaf_path [at];
    }
}

#ifdef S_HAVE_AVX512
//  AVX-512: sixteen walks a vector, two or four vectors interleaved so
//  the gathers of one hide the latency of the other's.
#define S_WIDE __attribute__ ((target ("avx512f")))
#define S_WIDE_INLINE static inline __attribute__ ((always_inline, target ("avx512f")))

//  The nodes at sixteen indices: one 64-bit gather per eight nodes (half
//  the loads of gathering both fields apart), split into their fields.
S_WIDE_INLINE void
s_nodes16 (const s_node_t *nodes, __m512i at, __m512i *meta, __m512 *threshold)
{
    const __m512i even = _mm512_set_epi32 (30, 28, 26, 24, 22, 20, 18, 16,
                                           14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
    __m512i low = _mm512_i32gather_epi64 (_mm512_castsi512_si256 (at), (const void *) nodes, 8);
    __m512i high = _mm512_i32gather_epi64 (_mm512_extracti64x4_epi64 (at, 1), (const void *) nodes, 8);
    *meta = _mm512_permutex2var_epi32 (low, even, high);
    *threshold = _mm512_castsi512_ps (_mm512_permutex2var_epi32 (low, odd, high));
}

//  The next nodes of sixteen walks, given the values of their features.
S_WIDE_INLINE __m512i
s_next16 (__m512i meta, __m512 threshold, __m512 value, __m512i relative_to)
{
    __mmask16 right = _mm512_cmp_ps_mask (value, threshold, _CMP_GE_OQ);
    __m512i left = _mm512_add_epi32 (_mm512_srli_epi32 (meta, 8), relative_to);
    return _mm512_mask_add_epi32 (left, right, left, _mm512_set1_epi32 (1));
}

//  One step of walks in sixteen trees (indices absolute, trees starting at
//  start) over one row held in x_low, x_high: the features are picked by a
//  permutation, no gather.
S_WIDE_INLINE __m512i
s_step16_row (const s_node_t *nodes, __m512i at, __m512i start, __m512 x_low, __m512 x_high)
{
    __m512i meta;
    __m512 threshold;
    s_nodes16 (nodes, at, &meta, &threshold);
    __m512 value = _mm512_permutex2var_ps (x_low, meta, x_high);     //  low 5 bits
    return s_next16 (meta, threshold, value, start);
}

//  The sixteen leaves' path lengths, as floats into out [16].
S_WIDE_INLINE void
s_leaves16 (const float *leaf_path, __m512i at, float *out)
{
    _mm512_storeu_ps (out, _mm512_i32gather_ps (at, leaf_path, 4));
}

//  Sixteen trees a vector (the last one padded with a tree of one node
//  that adds 0), up to S_WIDE_CHUNK vectors walked together so that the
//  gathers of one hide the latency of the others; x is one row.
static S_WIDE double
s_path_sum_wide (const iforest_t *self, const float *x)
{
    const int features = self->features;
    __m512 x_low = _mm512_maskz_loadu_ps ((__mmask16) ((1u << (features < 16? features: 16)) - 1), x);
    __m512 x_high = features > 16
        ? _mm512_maskz_loadu_ps ((__mmask16) ((1u << (features - 16)) - 1), x + 16)
        : _mm512_setzero_ps ();
    const int vectors = (self->trees + 15) / 16;
    double sum = 0;
    for (int first = 0; first < vectors; first += S_WIDE_CHUNK) {
        int chunk = vectors - first < S_WIDE_CHUNK? vectors - first: S_WIDE_CHUNK;
        __m512i start [S_WIDE_CHUNK], at [S_WIDE_CHUNK];
        for (int v = 0; v < chunk; v++)
            at [v] = start [v] = _mm512_loadu_si512 (self->start32 + 16 * (first + v));
        for (int s = 0; s < self->steps; s++)
            for (int v = 0; v < chunk; v++)
                at [v] = s_step16_row (self->nodes, at [v], start [v], x_low, x_high);
        for (int v = 0; v < chunk; v++) {
            float leaves [16];
            s_leaves16 (self->leaf_path, at [v], leaves);
            for (int k = 0; k < 16; k++)
                sum += leaves [k];
        }
    }
    return sum;
}

#endif

//  The sum of the path lengths of x over all trees.
static double
s_path_sum (const iforest_t *self, const float *x)
{
#ifdef S_HAVE_AVX512
    if (self->start32)
        return s_path_sum_wide (self, x);
#endif
    return s_path_sum_scalar (self, x);
}

double
iforest_path_length (const iforest_t *self, const float *x)
{
    return s_path_sum (self, x) / self->trees;
}

double
iforest_score (const iforest_t *self, const float *x)
{
    return s_normalise (self, s_path_sum (self, x));
}

//  With AVX-512 a batch is scored row by row: sixteen trees a vector pick
//  the row's features from registers, which measured 1.5 times faster
//  than sixteen rows a vector walking one tree (a gather of the features
//  at every step). Without, each tree walks a block of rows while it is
//  in cache, which is faster than row by row.
void
iforest_score_batch (const iforest_t *self, const float *rows, size_t n, double *out)
{
#ifdef S_HAVE_AVX512
    if (self->start32) {
        for (size_t i = 0; i < n; i++)
            out [i] = s_normalise (self, s_path_sum_wide (self, rows + i * self->features));
        return;
    }
#endif
    for (size_t first = 0; first < n; first += S_BATCH_BLOCK) {
        size_t block = n - first < S_BATCH_BLOCK? n - first: S_BATCH_BLOCK;
        const float *block_rows = rows + first * self->features;
        double *sum = out + first;
        for (size_t k = 0; k < block; k++)
            sum [k] = 0;
        for (int t = 0; t < self->trees; t++)
            s_walk_rows (self, t, block_rows, block, sum);
        for (size_t k = 0; k < block; k++)
            sum [k] = s_normalise (self, sum [k]);
    }
}

//  ----------------------------------------------------------------------
//  Names and accessors

int
iforest_set_feature_names (iforest_t *self, const char *const *names, char *err, size_t err_size)
{
    if (!names) {
        self->named = false;
        memset (self->names, 0, sizeof self->names);
        return 0;
    }
    for (int f = 0; f < self->features; f++) {
        size_t len = names [f]? strlen (names [f]): 0;
        if (!names [f] || len > IFOREST_NAME_MAX || !s_printable (names [f], len)) {
            s_fail (err, err_size, "feature %d: a name is 0 .. %d printable bytes",
                    f, IFOREST_NAME_MAX);
            return -1;
        }
    }
    for (int f = 0; f < self->features; f++)
        snprintf (self->names [f], sizeof self->names [f], "%s", names [f]);
    self->named = true;
    return 0;
}

const char *
iforest_version (const iforest_t *self)
{
    return self->version;
}

int
iforest_features (const iforest_t *self)
{
    return self->features;
}

const char *
iforest_feature_name (const iforest_t *self, int feature)
{
    if (!self->named || feature < 0 || feature >= self->features || !self->names [feature][0])
        return NULL;
    return self->names [feature];
}

int
iforest_trees (const iforest_t *self)
{
    return self->trees;
}

int
iforest_sample_size (const iforest_t *self)
{
    return self->psi;
}

//  ----------------------------------------------------------------------
//  The model file

//  CRC-32 (IEEE 802.3, reflected 0xEDB88320), four bits at a time.
static uint32_t
s_crc32 (const uint8_t *data, size_t size)
{
    static const uint32_t table [16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c
    };
    uint32_t crc = 0xffffffff;
    for (size_t i = 0; i < size; i++) {
        crc ^= data [i];
        crc = (crc >> 4) ^ table [crc & 15];
        crc = (crc >> 4) ^ table [crc & 15];
    }
    return ~crc;
}

typedef struct {
    uint8_t *data;
    size_t at;
} s_writer_t;

static void
s_put (s_writer_t *w, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; i++)
        w->data [w->at++] = (uint8_t) (value >> (8 * i));
}

static void
s_put_text (s_writer_t *w, const char *text)
{
    size_t len = strlen (text);
    s_put (w, len, 2);
    memcpy (w->data + w->at, text, len);
    w->at += len;
}

//  Encodes the model into a new buffer of *size bytes, or returns NULL.
static uint8_t *
s_encode (const iforest_t *self, const char *version, size_t *size)
{
    size_t total = 8 + 4 + 2 + strlen (version) + 4 + 1 + 4 + 4 + 4 + 8
                 + 4 * (size_t) self->trees + 8 * self->node_count + 4;
    for (int f = 0; self->named && f < self->features; f++)
        total += 2 + strlen (self->names [f]);
    s_writer_t w = { malloc (total), 0 };
    if (!w.data)
        return NULL;
    memcpy (w.data, S_MAGIC, 8);
    w.at = 8;
    s_put (&w, S_FORMAT, 4);
    s_put_text (&w, version);
    s_put (&w, (uint64_t) self->features, 4);
    s_put (&w, self->named, 1);
    for (int f = 0; self->named && f < self->features; f++)
        s_put_text (&w, self->names [f]);
    s_put (&w, (uint64_t) self->trees, 4);
    s_put (&w, (uint64_t) self->psi, 4);
    s_put (&w, (uint64_t) self->max_depth, 4);
    s_put (&w, self->seed, 8);
    for (int t = 0; t < self->trees; t++) {
        size_t start = self->tree_start [t], end = self->tree_start [t + 1];
        s_put (&w, end - start, 4);
        for (size_t i = start; i < end; i++) {
            s_put (&w, self->words [i], 4);
            s_put (&w, s_bits_of (self->thresholds [i]), 4);
        }
    }
    s_put (&w, s_crc32 (w.data, w.at), 4);
    *size = w.at;
    return w.data;
}

static int
s_write_file (const char *path, const uint8_t *data, size_t size, char *err, size_t err_size)
{
    char temp [4096];
    if (snprintf (temp, sizeof temp, "%s.tmp-XXXXXX", path) >= (int) sizeof temp) {
        s_fail (err, err_size, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp (temp);
    if (fd < 0) {
        s_fail (err, err_size, "%s: %s", temp, strerror (errno));
        return -1;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t wrote = write (fd, data + done, size - done);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            break;
        done += (size_t) wrote;
    }
    if (done < size || fchmod (fd, 0644) || fsync (fd)) {
        s_fail (err, err_size, "%s: %s", temp, strerror (errno));
        close (fd);
        unlink (temp);
        return -1;
    }
    if (close (fd) || rename (temp, path)) {
        s_fail (err, err_size, "%s: %s", path, strerror (errno));
        unlink (temp);
        return -1;
    }
    return 0;
}

int
iforest_save (const iforest_t *self, const char *path, const char *version,
              char *err, size_t err_size)
{
    char reason [128];
    size_t size;
    uint8_t *data;
    if (iforest_save_buffer (self, version, &data, &size, reason, sizeof reason)) {
        s_fail (err, err_size, "%s: %s", path, reason);
        return -1;
    }
    int rc = s_write_file (path, data, size, err, err_size);
    free (data);
    return rc;
}

//  A version string is 1 .. IFOREST_NAME_MAX printable bytes.
static int
s_check_version (const char *version, char *err, size_t err_size)
{
    size_t len = version? strlen (version): 0;
    if (len < 1 || len > IFOREST_NAME_MAX || !s_printable (version, len)) {
        s_fail (err, err_size, "the model version is 1 .. %d printable bytes", IFOREST_NAME_MAX);
        return -1;
    }
    return 0;
}

int
iforest_set_version (iforest_t *self, const char *version, char *err, size_t err_size)
{
    if (s_check_version (version, err, err_size))
        return -1;
    snprintf (self->version, sizeof self->version, "%s", version);
    return 0;
}

//  A bounds-checked cursor over the file's bytes.
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t at;
} s_reader_t;

static int
s_get (s_reader_t *r, int bytes, uint64_t *value)
{
    if (r->size - r->at < (size_t) bytes)
        return -1;
    *value = 0;
    for (int i = 0; i < bytes; i++)
        *value |= (uint64_t) r->data [r->at++] << (8 * i);
    return 0;
}

//  Reads a u16-prefixed string of at most IFOREST_NAME_MAX printable bytes.
static int
s_get_text (s_reader_t *r, char *text)
{
    uint64_t len;
    if (s_get (r, 2, &len) || len > IFOREST_NAME_MAX || r->size - r->at < len
    ||  !s_printable ((const char *) r->data + r->at, len))
        return -1;
    memcpy (text, r->data + r->at, len);
    text [len] = 0;
    r->at += len;
    return 0;
}

//  Reads the header up to the trees into a new model.
static iforest_t *
s_decode_header (s_reader_t *r, char *err, size_t err_size)
{
    char version [IFOREST_NAME_MAX + 1];
    uint64_t format, features, named, trees, psi, max_depth, seed;
    r->at = 8;
    if (s_get (r, 4, &format) || format != S_FORMAT) {
        s_fail (err, err_size, "unknown format version");
        return NULL;
    }
    if (s_get_text (r, version) || !version [0]
    ||  s_get (r, 4, &features) || features < 1 || features > IFOREST_MAX_FEATURES
    ||  s_get (r, 1, &named) || named > 1) {
        s_fail (err, err_size, "bad header (version string, feature count or names flag)");
        return NULL;
    }
    char names [IFOREST_MAX_FEATURES][IFOREST_NAME_MAX + 1];
    for (uint64_t f = 0; named && f < features; f++)
        if (s_get_text (r, names [f])) {
            s_fail (err, err_size, "bad name of feature %d", (int) f);
            return NULL;
        }
    if (s_get (r, 4, &trees) || trees < 1 || trees > IFOREST_MAX_TREES
    ||  s_get (r, 4, &psi) || psi < 2 || psi > IFOREST_MAX_SAMPLE
    ||  s_get (r, 4, &max_depth) || max_depth < 1 || max_depth > IFOREST_MAX_DEPTH
    ||  s_get (r, 8, &seed)) {
        s_fail (err, err_size, "bad header (trees, sample size or height limit)");
        return NULL;
    }
    iforest_t *self = s_new ((int) features, (int) trees, (int) psi, (int) max_depth, seed);
    if (!self) {
        s_fail (err, err_size, "out of memory");
        return NULL;
    }
    snprintf (self->version, sizeof self->version, "%s", version);
    self->named = named;
    if (named)
        memcpy (self->names, names, sizeof names);
    return self;
}

//  First pass over the trees: node counts against the bytes there are.
static int
s_count_nodes (iforest_t *self, s_reader_t *r, char *err, size_t err_size)
{
    for (int t = 0; t < self->trees; t++) {
        uint64_t count;
        if (s_get (r, 4, &count) || count < 1 || count > 2 * (uint64_t) self->psi - 1
        ||  (r->size - r->at) / 8 < count) {
            s_fail (err, err_size, "tree %d: bad node count or truncated", t);
            return -1;
        }
        r->at += 8 * count;
        self->tree_start [t + 1] = self->tree_start [t] + count;
    }
    if (r->at != r->size) {
        s_fail (err, err_size, "%zu unexpected bytes after the trees", r->size - r->at);
        return -1;
    }
    self->node_count = self->tree_start [self->trees];
    return 0;
}

static iforest_t *
s_decode (const uint8_t *data, size_t size, char *err, size_t err_size)
{
    if (size < 12 || memcmp (data, S_MAGIC, 8)) {
        s_fail (err, err_size, "not an Isolation Forest model (bad magic)");
        return NULL;
    }
    uint32_t crc = (uint32_t) data [size - 4] | (uint32_t) data [size - 3] << 8
                 | (uint32_t) data [size - 2] << 16 | (uint32_t) data [size - 1] << 24;
    if (s_crc32 (data, size - 4) != crc) {
        s_fail (err, err_size, "checksum mismatch: the file is corrupt or truncated");
        return NULL;
    }
    s_reader_t r = { data, size - 4, 0 };
    iforest_t *self = s_decode_header (&r, err, err_size);
    if (!self)
        return NULL;
    size_t trees_at = r.at;
    if (s_count_nodes (self, &r, err, err_size))
        goto fail;
    self->words = malloc (self->node_count * sizeof *self->words);
    self->thresholds = malloc (self->node_count * sizeof *self->thresholds);
    if (!self->words || !self->thresholds) {
        s_fail (err, err_size, "out of memory for %zu nodes", self->node_count);
        goto fail;
    }
    r.at = trees_at;
    for (int t = 0; t < self->trees; t++) {
        uint64_t value = 0;
        s_get (&r, 4, &value);      //  counted and checked above
        for (size_t i = self->tree_start [t]; i < self->tree_start [t + 1]; i++) {
            s_get (&r, 4, &value);
            self->words [i] = (uint32_t) value;
            s_get (&r, 4, &value);
            self->thresholds [i] = s_float_of ((uint32_t) value);
        }
    }
    if (s_compile (self, err, err_size))
        goto fail;
    return self;
fail:
    iforest_destroy (&self);
    return NULL;
}

//  Reads a whole file of at most S_MAX_FILE bytes into a new buffer.
static uint8_t *
s_read_file (const char *path, size_t *size, char *err, size_t err_size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st)) {
        s_fail (err, err_size, "%s", strerror (errno));
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    if (!S_ISREG (st.st_mode) || st.st_size > S_MAX_FILE) {
        s_fail (err, err_size, "not a regular file of at most %lld bytes",
                (long long) S_MAX_FILE);
        close (fd);
        return NULL;
    }
    uint8_t *data = malloc ((size_t) st.st_size + 1);
    size_t done = 0;
    while (data) {
        ssize_t got = read (fd, data + done, (size_t) st.st_size + 1 - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || (done += (size_t) got) > (size_t) st.st_size)
            break;
    }
    if (!data || done != (size_t) st.st_size) {
        s_fail (err, err_size, data? "changed while being read": "out of memory");
        free (data);
        data = NULL;
    }
    close (fd);
    *size = done;
    return data;
}

iforest_t *
iforest_load (const char *path, char *err, size_t err_size)
{
    char reason [256] = "";
    size_t size = 0;
    uint8_t *data = s_read_file (path, &size, reason, sizeof reason);
    iforest_t *self = data? s_decode (data, size, reason, sizeof reason): NULL;
    free (data);
    if (!self)
        s_fail (err, err_size, "%s: %s", path, reason);
    return self;
}

int
iforest_save_buffer (const iforest_t *self, const char *version, uint8_t **data,
                     size_t *size, char *err, size_t err_size)
{
    if (s_check_version (version, err, err_size))
        return -1;
    *data = s_encode (self, version, size);
    if (!*data) {
        s_fail (err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

iforest_t *
iforest_load_buffer (const void *data, size_t size, char *err, size_t err_size)
{
    return s_decode (data, size, err, err_size);
}

uint32_t
iforest_crc32 (const void *data, size_t size)
{
    return s_crc32 (data, size);
}
