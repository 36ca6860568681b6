/*  iforest - the model: its hot form built from the file form and checked,
    its version, feature names and sizes, and the helpers the parts share
    (iforest_private.h)                                                     */

#include "iforest_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_EULER         0.5772156649015329

void
iforest_fail (char *err, size_t err_size, const char *format, ...)
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

bool
iforest_printable (const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) text [i] < 0x20 || (unsigned char) text [i] > 0x7e)
            return false;
    return true;
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
    iforest_node_t *nodes = self->nodes + base;
    float *leaf_path = self->leaf_path + base;
    uint64_t rows = 0;

    memset (depth, 0xff, count);
    depth [0] = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (depth [i] == 0xff) {
            iforest_fail (err, err_size, "tree %d: node %u is not reached from the root", t, i);
            return -1;
        }
        uint32_t feature = words [i] & 0xff, arg = words [i] >> 8;
        if (feature == IFOREST_LEAF) {
            if (arg < 1 || arg > (uint32_t) self->psi || iforest_bits_of (thresholds [i]) != 0) {
                iforest_fail (err, err_size, "tree %d: leaf %u is invalid (%u rows)", t, i, arg);
                return -1;
            }
            rows += arg;
            nodes [i] = (iforest_node_t) { i << 8, NAN };
            leaf_path [i] = (float) (depth [i] + iforest_c (arg));
            if (depth [i] > self->steps)
                self->steps = depth [i];
            continue;
        }
        if (feature >= (uint32_t) self->features || !isfinite (thresholds [i])) {
            iforest_fail (err, err_size, "tree %d: node %u splits on feature %u of %d at %g",
                          t, i, feature, self->features, thresholds [i]);
            return -1;
        }
        if (arg <= i || arg + 1 >= count) {
            iforest_fail (err, err_size, "tree %d: node %u has children %u, out of order or range",
                          t, i, arg);
            return -1;
        }
        if (depth [arg] != 0xff || depth [arg + 1] != 0xff) {
            iforest_fail (err, err_size, "tree %d: node %u shares its children", t, i);
            return -1;
        }
        if (depth [i] + 1 > self->max_depth) {
            iforest_fail (err, err_size, "tree %d: node %u is deeper than the height limit %d",
                          t, i, self->max_depth);
            return -1;
        }
        depth [arg] = depth [arg + 1] = (uint8_t) (depth [i] + 1);
        nodes [i] = (iforest_node_t) { words [i], thresholds [i] };
        leaf_path [i] = 0;
    }
    if (rows != (uint64_t) self->psi) {
        iforest_fail (err, err_size, "tree %d: leaves hold %llu rows, not %d",
                      t, (unsigned long long) rows, self->psi);
        return -1;
    }
    return 0;
}

int
iforest_compile (iforest_t *self, char *err, size_t err_size)
{
    self->c_psi = iforest_c (self->psi);
    self->steps = 0;
    //  One node more: a tree of one leaf adding 0, padding for AVX-512.
    self->nodes = malloc ((self->node_count + 1) * sizeof *self->nodes);
    self->leaf_path = malloc ((self->node_count + 1) * sizeof *self->leaf_path);
    uint8_t *depth = malloc (2 * (size_t) self->psi);
    int rc = 0;
    if (!self->nodes || !self->leaf_path || !depth) {
        iforest_fail (err, err_size, "out of memory for %zu nodes", self->node_count);
        rc = -1;
    }
    else {
        self->nodes [self->node_count] = (iforest_node_t) { 0, NAN };
        self->leaf_path [self->node_count] = 0;
    }
    for (int t = 0; rc == 0 && t < self->trees; t++)
        rc = s_compile_tree (self, t, depth, err, err_size);
    free (depth);
    if (rc == 0)
        iforest_choose_walk (self);
    return rc;
}

iforest_t *
iforest_new (int features, int trees, int psi, int max_depth, uint64_t seed)
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
//  Version, names and accessors

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
        if (!names [f] || len > IFOREST_NAME_MAX || !iforest_printable (names [f], len)) {
            iforest_fail (err, err_size, "feature %d: a name is 0 .. %d printable bytes",
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

//  A version string is 1 .. IFOREST_NAME_MAX printable bytes.
int
iforest_check_version (const char *version, char *err, size_t err_size)
{
    size_t len = version? strlen (version): 0;
    if (len < 1 || len > IFOREST_NAME_MAX || !iforest_printable (version, len)) {
        iforest_fail (err, err_size, "the model version is 1 .. %d printable bytes",
                      IFOREST_NAME_MAX);
        return -1;
    }
    return 0;
}

int
iforest_set_version (iforest_t *self, const char *version, char *err, size_t err_size)
{
    if (iforest_check_version (version, err, err_size))
        return -1;
    snprintf (self->version, sizeof self->version, "%s", version);
    return 0;
}
