/*  gbdt - the supervised model the scorer evaluates: boosted trees        */

#include "gbdt.h"
#include "iforest_file.h"
#include "iforest_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAGIC         "TXWGBDT1"
#define S_FORMAT        2u      //  1 is read too: its operating point is 0.8
#define S_MAX_FILE      (64u << 20)
#define S_LANES         8       //  trees walked side by side
#define S_DENSE_DEPTH   8       //  the deepest model laid out complete (below)
#define S_MAX_VALUE     1e6f    //  leaves, means, base, calibration: sums stay finite

typedef struct {
    float threshold;
    uint8_t feature;
    uint8_t missing;                    //  the child (0 left, 1 right) of NaN
    uint32_t child [2];                 //  absolute indices
} s_hot_t;

struct _gbdt_t {
    char version [GBDT_VERSION_MAX + 1];
    int features;
    char names [RULES_SIG_COUNT][IFOREST_NAME_MAX + 1];
    int signals [RULES_SIG_COUNT];      //  the signal of each column
    float base;
    float cal_a, cal_b;
    double operating;                   //  the supervised_p that scores GBDT_ALERT_SCORE
    gbdt_scores_t scores;
    int trees;
    uint32_t *start;                    //  trees + 1 offsets into nodes
    gbdt_node_t *nodes;
    //  The hot form: every tree walked its full depth without a branch on
    //  the path (a leaf is its own two children), so the trees' walks
    //  overlap in the core instead of waiting on mispredicted branches.
    s_hot_t *hot;                       //  by the nodes' index
    uint8_t *depth;                     //  of each tree
    int max_depth;                      //  of the deepest
    //  The dense form, for rows without a NaN of a model at most
    //  S_DENSE_DEPTH deep: each tree complete to the model's depth (a leaf
    //  above it is repeated in every position below it), its splits by
    //  position, the children of k at 2k + 1 and 2k + 2. A step down is
    //  then arithmetic on the position, not a load of the child's index,
    //  and a tree's splits and leaves are a few cache lines. NULL: none.
    float *thresholds;                  //  2^max_depth - 1 a tree
    uint8_t *split_features;            //  likewise
    float *leaves;                      //  2^max_depth a tree
};

//  --- Building and checking ---------------------------------------------------

//  Every split's children are after it and within its tree, and its
//  feature a column: a walk from the root always ends at a leaf.
static int
s_check_tree (const gbdt_node_t *nodes, uint32_t count, int features)
{
    for (uint32_t i = 0; i < count; i++) {
        uint32_t word = nodes [i].word;
        if (!(fabsf (nodes [i].mean) <= S_MAX_VALUE))
            return -1;
        if ((word & 0xff) == GBDT_LEAF) {
            if (word != GBDT_LEAF || !(fabsf (nodes [i].value) <= S_MAX_VALUE)
            ||  nodes [i].mean != nodes [i].value)
                return -1;
            continue;
        }
        uint32_t left = word >> 9;
        if ((int) (word & 0xff) >= features || left <= i || left + 1 >= count
        ||  isnan (nodes [i].value))
            return -1;
    }
    return 0;
}

//  Maps each column name to the scorer's signal of that name.
static int
s_map_names (gbdt_t *self, const char *const *names, char *err, size_t err_size)
{
    for (int f = 0; f < self->features; f++) {
        size_t len = names [f]? strlen (names [f]): 0;
        int signal = len && len <= IFOREST_NAME_MAX && iforest_printable (names [f], len)
                   ? rules_signal_parse (names [f]): -1;
        if (signal < 0 || signal == RULES_SIG_SUPERVISED_P) {
            iforest_fail (err, err_size, "feature %d (%.*s) is not a signal of this scorer:"
                          " retrain the model", f, (int) (len > 40? 40: len), names [f]? names [f]: "");
            return -1;
        }
        snprintf (self->names [f], sizeof self->names [f], "%s", names [f]);
        self->signals [f] = signal;
    }
    return 0;
}

//  Builds the hot form from the checked nodes.
static int
s_compile (gbdt_t *self)
{
    size_t total = self->start [self->trees];
    uint8_t *level = calloc (total, 1);
    self->hot = malloc (total * sizeof *self->hot);
    self->depth = calloc ((size_t) self->trees, 1);
    if (!level || !self->hot || !self->depth) {
        free (level);
        return -1;
    }
    for (int t = 0; t < self->trees; t++)
        for (uint32_t i = self->start [t]; i < self->start [t + 1]; i++) {
            uint32_t word = self->nodes [i].word;
            s_hot_t *hot = self->hot + i;
            if ((word & 0xff) == GBDT_LEAF) {
                *hot = (s_hot_t) { 0, 0, 0, { i, i } };
                continue;
            }
            uint32_t left = self->start [t] + (word >> 9);
            *hot = (s_hot_t) { self->nodes [i].value, (uint8_t) (word & 0xff),
                               (uint8_t) !(word >> 8 & 1), { left, left + 1 } };
            //  Children come after their parents, so a node's level is
            //  final when it is read: the longest path to it (a hostile
            //  file may give a node two parents).
            if (level [i] >= GBDT_MAX_DEPTH) {
                free (level);
                return -1;
            }
            uint8_t below = (uint8_t) (level [i] + 1);
            for (int c = 0; c < 2; c++)
                if (level [left + (uint32_t) c] < below)
                    level [left + (uint32_t) c] = below;
            if (below > self->depth [t])
                self->depth [t] = below;
            if (below > self->max_depth)
                self->max_depth = below;
        }
    free (level);
    return 0;
}

//  Lays out node (the nodes' index) of tree t at position k, level deep,
//  and what is below it, in the dense form.
static void
s_dense_fill (gbdt_t *self, int t, uint32_t node, uint32_t k, int level)
{
    uint32_t splits = (1u << self->max_depth) - 1;
    uint32_t word = self->nodes [node].word;
    //  s_compile's depth is the longest path: at the bottom is a leaf.
    if (level == self->max_depth) {
        self->leaves [(size_t) t * (splits + 1) + k - splits] = self->nodes [node].value;
        return;
    }
    size_t at = (size_t) t * splits + k;
    bool leaf = (word & 0xff) == GBDT_LEAF;
    //  A leaf above the bottom: a split whose two sides are that leaf.
    self->thresholds [at] = leaf? 0: self->nodes [node].value;
    self->split_features [at] = leaf? 0: (uint8_t) (word & 0xff);
    uint32_t left = leaf? node: self->start [t] + (word >> 9);
    s_dense_fill (self, t, left, 2 * k + 1, level + 1);
    s_dense_fill (self, t, leaf? node: left + 1, 2 * k + 2, level + 1);
}

static int
s_dense (gbdt_t *self)
{
    if (self->max_depth > S_DENSE_DEPTH)
        return 0;
    size_t splits = ((size_t) 1 << self->max_depth) - 1;
    self->thresholds = malloc ((size_t) self->trees * splits * sizeof *self->thresholds + 1);
    self->split_features = malloc ((size_t) self->trees * splits + 1);
    self->leaves = malloc ((size_t) self->trees * (splits + 1) * sizeof *self->leaves);
    if (!self->thresholds || !self->split_features || !self->leaves)
        return -1;
    for (int t = 0; t < self->trees; t++)
        s_dense_fill (self, t, self->start [t], 0, 0);
    return 0;
}

gbdt_t *
gbdt_new (const char *version, int features, const char *const *names, float base_margin,
          int trees, const gbdt_node_t *const *nodes, const uint32_t *counts,
          char *err, size_t err_size)
{
    size_t vlen = version? strlen (version): 0;
    if (vlen < 1 || vlen > GBDT_VERSION_MAX || !iforest_printable (version, vlen)) {
        iforest_fail (err, err_size, "the version is 1 .. %d printable bytes", GBDT_VERSION_MAX);
        return NULL;
    }
    if (features < 1 || features > RULES_SIG_COUNT || trees < 1 || trees > GBDT_MAX_TREES
    ||  !(fabsf (base_margin) <= S_MAX_VALUE)) {
        iforest_fail (err, err_size, "bad header (features 1..%d, trees 1..%d, base margin)",
                      RULES_SIG_COUNT, GBDT_MAX_TREES);
        return NULL;
    }
    gbdt_t *self = calloc (1, sizeof *self);
    if (!self || !(self->start = calloc ((size_t) trees + 1, sizeof *self->start))) {
        iforest_fail (err, err_size, "out of memory");
        free (self);
        return NULL;
    }
    snprintf (self->version, sizeof self->version, "%s", version);
    self->features = features;
    self->base = base_margin;
    self->cal_a = 1;
    self->operating = GBDT_OPERATING_DEFAULT;
    self->trees = trees;
    for (int t = 0; t < trees; t++) {
        if (counts [t] < 1 || counts [t] > GBDT_MAX_NODES
        ||  s_check_tree (nodes [t], counts [t], features)) {
            iforest_fail (err, err_size, "tree %d: bad node count, child, feature or value", t);
            gbdt_destroy (&self);
            return NULL;
        }
        self->start [t + 1] = self->start [t] + counts [t];
    }
    self->nodes = malloc (self->start [trees] * sizeof *self->nodes);
    if (!self->nodes) {
        iforest_fail (err, err_size, "out of memory");
        gbdt_destroy (&self);
        return NULL;
    }
    for (int t = 0; t < trees; t++)
        memcpy (self->nodes + self->start [t], nodes [t], counts [t] * sizeof *self->nodes);
    if (s_compile (self) || s_dense (self)) {
        iforest_fail (err, err_size, "out of memory, or a tree deeper than %d", GBDT_MAX_DEPTH);
        gbdt_destroy (&self);
        return NULL;
    }
    if (s_map_names (self, names, err, err_size))
        gbdt_destroy (&self);
    return self;
}

void
gbdt_destroy (gbdt_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->start);
    free ((*self_p)->nodes);
    free ((*self_p)->hot);
    free ((*self_p)->depth);
    free ((*self_p)->thresholds);
    free ((*self_p)->split_features);
    free ((*self_p)->leaves);
    free (*self_p);
    *self_p = NULL;
}

void
gbdt_set_calibration (gbdt_t *self, float a, float b)
{
    self->cal_a = a;
    self->cal_b = b;
}

int
gbdt_set_operating (gbdt_t *self, double p)
{
    if (!(p >= GBDT_OPERATING_MIN && p <= GBDT_OPERATING_MAX))
        return -1;
    //  Rounded down to a float (as the file keeps it), so that p itself
    //  still scores 80; the default is kept exact (gbdt_score).
    float at = (float) p;
    if (at > p)
        at = nextafterf (at, 0);
    self->operating = at == (float) GBDT_OPERATING_DEFAULT? GBDT_OPERATING_DEFAULT: at;
    return 0;
}

double
gbdt_operating (const gbdt_t *self)
{
    return self->operating;
}

double
gbdt_score (const gbdt_t *self, double p)
{
    //  Two straight pieces through (0, 0), (operating, 80) and (1, 100);
    //  at the default operating point they are one line, 100 p. Below the
    //  point the score stays under 80 even where rounding would reach it,
    //  so that rounded down it is 80 or more exactly when p is the point
    //  or more.
    double at = self->operating;
    bool line = at == GBDT_OPERATING_DEFAULT;
    if (!(p > 0))
        return 0;
    if (p >= 1)
        return 100;
    if (p >= at)
        return line? 100 * p: GBDT_ALERT_SCORE + (100 - GBDT_ALERT_SCORE) * (p - at) / (1 - at);
    return fmin (line? 100 * p: GBDT_ALERT_SCORE * p / at, nextafter (GBDT_ALERT_SCORE, 0));
}

//  --- Evaluation (the hot path: no allocation) --------------------------------

void
gbdt_gather (const int *signals, int count, const rules_signals_t *in, float *x)
{
    for (int f = 0; f < count; f++)
        x [f] = (float) in->v [signals [f]];
}

void
gbdt_features (const gbdt_t *self, const rules_signals_t *signals, float *x)
{
    gbdt_gather (self->signals, self->features, signals, x);
}

int
gbdt_training_signals (int *signals)
{
    int count = 0;
    for (int s = 0; s < RULES_SIG_COUNT; s++)
        if (s != RULES_SIG_SUPERVISED_P)
            signals [count++] = s;
    return count;
}

//  The child a row goes to: left when x < threshold, as XGBoost; a missing
//  value (NaN) goes where the split's default does.
static inline uint32_t
s_next (const gbdt_node_t *node, const float *x)
{
    float v = x [node->word & 0xff];
    uint32_t left = node->word >> 9;
    bool go_left = isnan (v)? (node->word >> 8 & 1): v < node->value;
    return go_left? left: left + 1;
}

//  One step down from node at (a leaf stays where it is); with missing,
//  a NaN takes the split's default child.
static inline uint32_t
s_step (const s_hot_t *hot, uint32_t at, const float *x, bool missing)
{
    const s_hot_t *node = hot + at;
    float v = x [node->feature];
    unsigned right = !(v < node->threshold);
    return node->child [missing && isnan (v)? node->missing: right];
}

//  The walk, made twice by the compiler: rows without a NaN (every signal
//  the scorer computes) skip the test at each step.
static inline double
s_margin (const gbdt_t *self, const float *x, bool missing)
{
    //  S_LANES trees walked side by side, each as deep as the deepest (a
    //  leaf is its own child): independent chains of loads the core
    //  overlaps, where one tree at a time waits on each load in turn. Summed in single precision, tree by tree, as XGBoost does.
    const s_hot_t *hot = self->hot;
    const uint32_t *start = self->start;
    float sum = self->base;
    int t = 0;
    for (; t + 8 <= self->trees; t += 8) {
        uint32_t a0 = start [t], a1 = start [t + 1], a2 = start [t + 2], a3 = start [t + 3],
                 a4 = start [t + 4], a5 = start [t + 5], a6 = start [t + 6], a7 = start [t + 7];
        for (int level = self->max_depth; level > 0; level--) {
            a0 = s_step (hot, a0, x, missing);
            a1 = s_step (hot, a1, x, missing);
            a2 = s_step (hot, a2, x, missing);
            a3 = s_step (hot, a3, x, missing);
            a4 = s_step (hot, a4, x, missing);
            a5 = s_step (hot, a5, x, missing);
            a6 = s_step (hot, a6, x, missing);
            a7 = s_step (hot, a7, x, missing);
        }
        const uint32_t leaf [8] = { a0, a1, a2, a3, a4, a5, a6, a7 };
        for (int i = 0; i < 8; i++)
            sum += self->nodes [leaf [i]].value;
    }
    for (; t < self->trees; t++) {
        uint32_t at = start [t];
        for (int level = self->depth [t]; level > 0; level--)
            at = s_step (hot, at, x, missing);
        sum += self->nodes [at].value;
    }
    return sum;
}

//  The same margin from the dense form, for a row without a NaN: each
//  tree's walk is max_depth steps of arithmetic; the same leaves summed in
//  the same order, so the same float as s_margin's.
static double
s_margin_dense (const gbdt_t *self, const float *x)
{
    const int depth = self->max_depth;
    const uint32_t splits = (1u << depth) - 1;
    const float *thresholds = self->thresholds;
    const uint8_t *features = self->split_features;
    float sum = self->base;
    int t = 0;
    for (; t + S_LANES <= self->trees; t += S_LANES) {
        uint32_t k [S_LANES] = { 0 };
        size_t base = (size_t) t * splits;
        for (int level = 0; level < depth; level++) {
#pragma GCC unroll 8
            for (int i = 0; i < S_LANES; i++) {
                size_t at = base + (size_t) i * splits + k [i];
                k [i] = 2 * k [i] + 1 + !(x [features [at]] < thresholds [at]);
            }
        }
        const float *leaves = self->leaves + (size_t) t * (splits + 1) - splits;
        for (int i = 0; i < S_LANES; i++)
            sum += leaves [(size_t) i * (splits + 1) + k [i]];
    }
    for (; t < self->trees; t++) {
        uint32_t k = 0;
        size_t base = (size_t) t * splits;
        for (int level = 0; level < depth; level++)
            k = 2 * k + 1 + !(x [features [base + k]] < thresholds [base + k]);
        sum += self->leaves [(size_t) t * (splits + 1) + k - splits];
    }
    return sum;
}

double
gbdt_margin (const gbdt_t *self, const float *x)
{
    bool missing = false;
    for (int f = 0; f < self->features; f++)
        missing |= isnan (x [f]);
    return missing? s_margin (self, x, true)
         : self->leaves? s_margin_dense (self, x): s_margin (self, x, false);
}

double
gbdt_calibrated (const gbdt_t *self, double margin)
{
    return 1 / (1 + exp (-(self->cal_a * margin + self->cal_b)));
}

double
gbdt_probability (const gbdt_t *self, const float *x)
{
    return gbdt_calibrated (self, gbdt_margin (self, x));
}

void
gbdt_contributions (const gbdt_t *self, const float *x, float *out)
{
    memset (out, 0, ((size_t) self->features + 1) * sizeof *out);
    out [self->features] = self->base;
    for (int t = 0; t < self->trees; t++) {
        const gbdt_node_t *tree = self->nodes + self->start [t];
        float node_value = tree [0].mean;
        out [self->features] += node_value;
        uint32_t at = 0;
        while ((tree [at].word & 0xff) != GBDT_LEAF) {
            int feature = (int) (tree [at].word & 0xff);
            at = s_next (tree + at, x);
            out [feature] += tree [at].mean - node_value;
            node_value = tree [at].mean;
        }
    }
}

void
gbdt_explain (const gbdt_t *self, const float *x, int k, char *out, size_t size)
{
    float contrib [RULES_SIG_COUNT + 1];
    bool used [RULES_SIG_COUNT] = { false };
    gbdt_contributions (self, x, contrib);
    size_t o = 0;
    *out = 0;
    for (int i = 0; i < k && o < size; i++) {
        int best = -1;
        for (int f = 0; f < self->features; f++)
            if (!used [f] && contrib [f] != 0
            &&  (best < 0 || fabsf (contrib [f]) > fabsf (contrib [best])))
                best = f;
        if (best < 0)
            break;
        used [best] = true;
        o += (size_t) snprintf (out + o, size - o, "%s%s %+.2f", i? ", ": "",
                                self->names [best], contrib [best]);
    }
}

const char *
gbdt_version (const gbdt_t *self)
{
    return self->version;
}

int
gbdt_feature_count (const gbdt_t *self)
{
    return self->features;
}

const char *
gbdt_feature_name (const gbdt_t *self, int feature)
{
    return feature >= 0 && feature < self->features? self->names [feature]: NULL;
}

int
gbdt_tree_count (const gbdt_t *self)
{
    return self->trees;
}

void
gbdt_set_scores (gbdt_t *self, const gbdt_scores_t *scores)
{
    self->scores = *scores;
}

const gbdt_scores_t *
gbdt_scores (const gbdt_t *self)
{
    return &self->scores;
}

int
gbdt_threshold_for_precision (const gbdt_t *self, double precision, double *achieved)
{
    const gbdt_scores_t *s = &self->scores;
    uint64_t fraud = 0, legit = 0;
    int best = -1;
    //  From the top down: the lowest score still at the precision wins.
    for (int t = GBDT_SCORES - 1; t >= 1 && s->hours > 0; t--) {
        fraud += s->fraud [t];
        legit += s->legit [t];
        if (fraud && (double) fraud / (double) (fraud + legit) >= precision) {
            best = t;
            *achieved = (double) fraud / (double) (fraud + legit);
        }
    }
    return best;
}

int
gbdt_threshold_for_budget (const gbdt_t *self, double per_hour, double *achieved)
{
    const gbdt_scores_t *s = &self->scores;
    uint64_t alerts = 0;
    int best = -1;
    for (int t = GBDT_SCORES - 1; t >= 1 && s->hours > 0; t--) {
        alerts += s->all [t];
        if ((double) alerts / s->hours > per_hour)
            break;
        best = t;
        *achieved = (double) alerts / s->hours;
    }
    return best;
}

void
gbdt_calibration (const gbdt_t *self, float *a, float *b)
{
    *a = self->cal_a;
    *b = self->cal_b;
}

//  --- File --------------------------------------------------------------------

typedef struct {
    uint8_t *data;
    size_t size;
    size_t at;
    bool failed;
} s_buf_t;

static void
s_put (s_buf_t *b, uint32_t value, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b->data [b->at++] = (uint8_t) (value >> (8 * i));
}

static void
s_put_text (s_buf_t *b, const char *text)
{
    size_t len = strlen (text);
    s_put (b, (uint32_t) len, 2);
    memcpy (b->data + b->at, text, len);
    b->at += len;
}

static uint32_t
s_get (s_buf_t *b, int bytes)
{
    uint32_t value = 0;
    if (b->size - b->at < (size_t) bytes) {
        b->failed = true;
        return 0;
    }
    for (int i = 0; i < bytes; i++)
        value |= (uint32_t) b->data [b->at++] << (8 * i);
    return value;
}

static float
s_get_float (s_buf_t *b)
{
    return iforest_float_of (s_get (b, 4));
}

//  Reads a u16-prefixed string of at most max printable bytes into text,
//  or fails.
static void
s_get_text (s_buf_t *b, char *text, size_t max)
{
    size_t len = s_get (b, 2);
    if (b->failed || len > max || b->size - b->at < len
    ||  !iforest_printable ((const char *) b->data + b->at, len)) {
        b->failed = true;
        return;
    }
    memcpy (text, b->data + b->at, len);
    text [len] = 0;
    b->at += len;
}

int
gbdt_save (const gbdt_t *self, const char *path, char *err, size_t err_size)
{
    size_t size = 8 + 4 + 2 + strlen (self->version) + 4 + 16 + 4 + 12 * GBDT_SCORES + 4
                + 4 * (size_t) self->trees + 12 * (size_t) self->start [self->trees] + 4;
    for (int f = 0; f < self->features; f++)
        size += 2 + strlen (self->names [f]);
    s_buf_t b = { malloc (size), size, 0, false };
    if (!b.data) {
        iforest_fail (err, err_size, "out of memory");
        return -1;
    }
    memcpy (b.data, S_MAGIC, 8);
    b.at = 8;
    s_put (&b, S_FORMAT, 4);
    s_put_text (&b, self->version);
    s_put (&b, (uint32_t) self->features, 4);
    for (int f = 0; f < self->features; f++)
        s_put_text (&b, self->names [f]);
    s_put (&b, iforest_bits_of (self->base), 4);
    s_put (&b, iforest_bits_of (self->cal_a), 4);
    s_put (&b, iforest_bits_of (self->cal_b), 4);
    s_put (&b, iforest_bits_of ((float) self->operating), 4);
    s_put (&b, iforest_bits_of (self->scores.hours), 4);
    for (int t = 0; t < GBDT_SCORES; t++) {
        s_put (&b, self->scores.all [t], 4);
        s_put (&b, self->scores.fraud [t], 4);
        s_put (&b, self->scores.legit [t], 4);
    }
    s_put (&b, (uint32_t) self->trees, 4);
    for (int t = 0; t < self->trees; t++) {
        s_put (&b, self->start [t + 1] - self->start [t], 4);
        for (uint32_t i = self->start [t]; i < self->start [t + 1]; i++) {
            s_put (&b, self->nodes [i].word, 4);
            s_put (&b, iforest_bits_of (self->nodes [i].value), 4);
            s_put (&b, iforest_bits_of (self->nodes [i].mean), 4);
        }
    }
    s_put (&b, iforest_crc32 (b.data, b.at), 4);

    int rc = iforest_write_file (path, b.data, b.at, err, err_size);
    free (b.data);
    return rc;
}

gbdt_t *
gbdt_load_buffer (const void *data, size_t size, char *err, size_t err_size)
{
    s_buf_t b = { (uint8_t *) data, size >= 4? size - 4: 0, 8, false };
    if (size < 12 || memcmp (data, S_MAGIC, 8)) {
        iforest_fail (err, err_size, "not a supervised model file (no TXWGBDT1 header)");
        return NULL;
    }
    const uint8_t *end = (const uint8_t *) data + size - 4;
    uint32_t crc = (uint32_t) end [0] | (uint32_t) end [1] << 8 | (uint32_t) end [2] << 16
                 | (uint32_t) end [3] << 24;
    if (iforest_crc32 (data, size - 4) != crc) {
        iforest_fail (err, err_size, "checksum mismatch: the file is damaged or truncated");
        return NULL;
    }
    uint32_t format = s_get (&b, 4);
    if (format != 1 && format != S_FORMAT) {
        iforest_fail (err, err_size, "unsupported format version");
        return NULL;
    }
    char version [GBDT_VERSION_MAX + 1] = "";
    char names [RULES_SIG_COUNT][IFOREST_NAME_MAX + 1];
    const char *name_of [RULES_SIG_COUNT];
    s_get_text (&b, version, GBDT_VERSION_MAX);
    uint32_t features = s_get (&b, 4);
    if (b.failed || features < 1 || features > RULES_SIG_COUNT) {
        iforest_fail (err, err_size, "bad header (version string or feature count, at most %d)",
                      RULES_SIG_COUNT);
        return NULL;
    }
    for (uint32_t f = 0; f < features; f++) {
        s_get_text (&b, names [f], IFOREST_NAME_MAX);
        name_of [f] = names [f];
    }
    float base = s_get_float (&b), cal_a = s_get_float (&b), cal_b = s_get_float (&b);
    float operating = format == 1? (float) GBDT_OPERATING_DEFAULT: s_get_float (&b);
    gbdt_scores_t scores = { .hours = s_get_float (&b) };
    for (int t = 0; t < GBDT_SCORES; t++) {
        scores.all [t] = s_get (&b, 4);
        scores.fraud [t] = s_get (&b, 4);
        scores.legit [t] = s_get (&b, 4);
    }
    uint32_t trees = s_get (&b, 4);
    if (b.failed || !(fabsf (cal_a) <= S_MAX_VALUE) || !(fabsf (cal_b) <= S_MAX_VALUE)
    ||  !(operating >= GBDT_OPERATING_MIN && operating <= GBDT_OPERATING_MAX)
    ||  !(scores.hours >= 0 && scores.hours <= S_MAX_VALUE) || trees < 1
    ||  trees > GBDT_MAX_TREES) {
        iforest_fail (err, err_size, "bad header (names, calibration, operating point, score table or tree count)");
        return NULL;
    }
    //  Node counts against the bytes there are, then the nodes read in place.
    uint32_t *counts = calloc (trees, sizeof *counts);
    gbdt_node_t **nodes = calloc (trees, sizeof *nodes);
    gbdt_t *self = NULL;
    const char *why = counts && nodes? NULL: "out of memory";
    for (uint32_t t = 0; !why && t < trees; t++) {
        counts [t] = s_get (&b, 4);
        if (b.failed || counts [t] < 1 || counts [t] > GBDT_MAX_NODES
        ||  (b.size - b.at) / 12 < counts [t])
            why = "a tree's node count is bad or the file is truncated";
        else
        if (!(nodes [t] = malloc (counts [t] * sizeof **nodes)))
            why = "out of memory";
        for (uint32_t i = 0; !why && i < counts [t]; i++) {
            nodes [t][i].word = s_get (&b, 4);
            nodes [t][i].value = s_get_float (&b);
            nodes [t][i].mean = s_get_float (&b);
        }
    }
    if (!why && b.at != b.size)
        why = "unexpected bytes after the trees";
    if (why)
        iforest_fail (err, err_size, "%s", why);
    else
    if ((self = gbdt_new (version, (int) features, name_of, base, (int) trees,
                          (const gbdt_node_t *const *) nodes, counts, err, err_size))) {
        gbdt_set_calibration (self, cal_a, cal_b);
        gbdt_set_operating (self, operating);
        gbdt_set_scores (self, &scores);
    }
    for (uint32_t t = 0; nodes && t < trees; t++)
        free (nodes [t]);
    free (nodes);
    free (counts);
    return self;
}

gbdt_t *
gbdt_load (const char *path, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    uint8_t *data = NULL;
    long size = -1;
    if (file && fseek (file, 0, SEEK_END) == 0 && (size = ftell (file)) >= 0
    &&  (unsigned long) size <= S_MAX_FILE && fseek (file, 0, SEEK_SET) == 0
    &&  (data = malloc ((size_t) size + 1)) && fread (data, 1, (size_t) size, file) != (size_t) size)
        size = -1;
    int saved = errno;
    if (file)
        fclose (file);
    char reason [256];
    gbdt_t *self = NULL;
    if (!file)
        snprintf (reason, sizeof reason, "%s", strerror (saved));
    else
    if (!data || size < 0)
        snprintf (reason, sizeof reason, "cannot read (or larger than 64 MiB)");
    else
        self = gbdt_load_buffer (data, (size_t) size, reason, sizeof reason);
    free (data);
    if (!self)
        iforest_fail (err, err_size, "%s: %s", path, reason);
    return self;
}
