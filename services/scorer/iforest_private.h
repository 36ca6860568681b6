/*  iforest_private - what the parts of the iforest module share

    Not an API: callers include iforest.h. This is the model's layout and
    the few helpers more than one of iforest.c, iforest_train.c,
    iforest_score.c and iforest_file.c use; one section per file that
    defines them, each defined once.

    Two forms of the same trees. The file form (words, thresholds) is the
    paper's tree: a split names its feature and left child, a leaf its row
    count; it is what training produces and what the file holds. The hot
    form (nodes, leaf_path) is derived from it by iforest_compile, for
    training and loading alike, so a loaded model scores exactly as the one
    saved: a leaf becomes a node that points at itself whatever the row (its
    threshold is NaN, so "x >= NaN" is always false), and its depth +
    c(rows) goes to a parallel array read once at the end of a walk.

    A part that makes a model gets it from iforest_new, fills in the file
    form (tree_start, node_count, words, thresholds) and hands it to
    iforest_compile, which checks it and builds the hot form; only
    iforest_destroy frees a model.                                          */

#ifndef TXW_SCORER_IFOREST_PRIVATE_H
#define TXW_SCORER_IFOREST_PRIVATE_H

#include "iforest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IFOREST_LEAF    255u            //  feature byte of a leaf word

//  A node of the hot form: meta = feature | left child << 8 (the right
//  child is left + 1), the child index relative to the tree's first node.
typedef struct {
    uint32_t meta;
    float threshold;
} iforest_node_t;

_Static_assert (sizeof (iforest_node_t) == 8, "a node is 8 bytes");

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
    iforest_node_t *nodes;      //  hot form
    float *leaf_path;           //  depth + c(rows) at leaves, 0 at splits
    int32_t *start32;           //  tree_start for AVX-512, NULL: scalar walks
};

//  --- The model (iforest.c) -----------------------------------------------

//  A new model of these sizes with tree_start [trees + 1] zeroed and no
//  trees, or NULL if memory ran out.
iforest_t *iforest_new (int features, int trees, int psi, int max_depth, uint64_t seed);

//  Checks the file form and derives the hot form from it, then picks the
//  walk (iforest_choose_walk). Returns 0, or -1 with the reason in err; the
//  model is then only fit for iforest_destroy.
int iforest_compile (iforest_t *self, char *err, size_t err_size);

//  Formats the reason into err; does nothing if err is NULL or err_size 0.
void iforest_fail (char *err, size_t err_size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Writes size bytes to path as a whole: into a temporary file beside it,
//  synced, then renamed over path, so a reader of path (the scorer's file
//  watch) sees the old file or the new one, never part of one. Returns 0,
//  or -1 with the reason in err. (iforest_file.c; the supervised model's
//  file is written by it too.)
int iforest_write_file (const char *path, const uint8_t *data, size_t size,
                        char *err, size_t err_size);

//  True if the len bytes of text are all printable ASCII.
bool iforest_printable (const char *text, size_t len);

//  A version string is 1 .. IFOREST_NAME_MAX printable bytes. Returns 0,
//  or -1 with the reason in err.
int iforest_check_version (const char *version, char *err, size_t err_size);

//  --- Scoring (iforest_score.c) -------------------------------------------

//  Picks how a compiled model is walked: fills start32 for AVX-512 walks
//  or leaves it NULL for scalar ones.
void iforest_choose_walk (iforest_t *self);

//  --- Bit casts (here) ----------------------------------------------------

//  A float from its IEEE-754 single bits, and back.
static inline float
iforest_float_of (uint32_t bits)
{
    float value;
    memcpy (&value, &bits, sizeof value);
    return value;
}

static inline uint32_t
iforest_bits_of (float value)
{
    uint32_t bits;
    memcpy (&bits, &value, sizeof bits);
    return bits;
}

#endif
