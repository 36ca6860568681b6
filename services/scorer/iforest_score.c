/*  iforest_score - the anomaly score of rows: scalar and AVX-512 walks     */

#include "iforest_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_BATCH_BLOCK   256             //  rows scored per pass over the trees
#define S_WIDE_CHUNK    16              //  vectors of 16 trees walked together

#if defined (__x86_64__) && (defined (__GNUC__) || defined (__clang__))
#   include <immintrin.h>
#   define S_HAVE_AVX512
#endif

//  AVX-512 walks when the CPU has them, node indices fit 31 bits and
//  TXW_IFOREST_SCALAR is not set (the tests compare both paths with it).
void
iforest_choose_walk (iforest_t *self)
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
s_step (const iforest_node_t *nodes, uint32_t at, const float *x)
{
    iforest_node_t node = nodes [at];
    return (node.meta >> 8) + (x [node.meta & 0xff] >= node.threshold);
}

//  Scalar: four walks in registers at a time.
static double
s_path_sum_scalar (const iforest_t *self, const float *x)
{
    double sum = 0;
    int t = 0;
    for (; t + 4 <= self->trees; t += 4) {
        const iforest_node_t *n0 = self->nodes + self->tree_start [t],
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
    const iforest_node_t *nodes = self->nodes + self->tree_start [t];
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
s_nodes16 (const iforest_node_t *nodes, __m512i at, __m512i *meta, __m512 *threshold)
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
s_step16_row (const iforest_node_t *nodes, __m512i at, __m512i start, __m512 x_low, __m512 x_high)
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
