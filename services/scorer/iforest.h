/*  iforest - an Isolation Forest over dense float vectors

    The anomaly model of the scorer (Liu, Ting and Zhou, "Isolation Forest",
    ICDM 2008). Each tree is grown on a random subsample of psi rows by
    splitting on a random feature (one that is not constant in the node) at
    a uniform random threshold between its minimum and maximum there, until
    a node holds one row or the height limit is reached. Unusual rows are
    isolated in few splits, so the mean path length E[h(x)] over the trees
    (plus c(size) at a leaf that still holds several rows) is short, and
    the score s(x) = 2^(-E[h(x)] / c(psi)) is close to 1; ordinary rows
    score about 0.5 or less.

    The module knows nothing of transactions: a row is F floats (1..32),
    row-major. It is one class, iforest_t, in four parts. This header is
    the model itself (its limits, version, feature names and sizes) and
    includes the other three, so a caller includes only iforest.h:

        iforest_train.h     growing a forest from rows, deterministically
        iforest_score.h     scoring rows: the hot path, scalar and AVX-512
        iforest_file.h      the model file: its format, saving, loading

    iforest_private.h holds the model's layout and what the parts share.   */

#ifndef TXW_SCORER_IFOREST_H
#define TXW_SCORER_IFOREST_H

#include <stddef.h>
#include <stdint.h>

#define IFOREST_MAX_FEATURES    32
#define IFOREST_MAX_TREES       10000
#define IFOREST_MAX_SAMPLE      (1 << 20)
#define IFOREST_MAX_DEPTH       64
#define IFOREST_NAME_MAX        63      //  bytes of a version or feature name

typedef struct _iforest_t iforest_t;

//  Frees the model; accepts NULL and *self_p == NULL; nulls the pointer.
void iforest_destroy (iforest_t **self_p);

//  Names the features, saved with the model: `features` strings of up to
//  63 printable bytes, or names NULL to drop them. Returns 0, or -1 with
//  the reason in err (the model's names are then unchanged).
int iforest_set_feature_names (iforest_t *self, const char *const *names,
                               char *err, size_t err_size);

//  c(n): the mean path length of an unsuccessful search in a binary search
//  tree of n keys, 2 H(n - 1) - 2 (n - 1) / n with H(i) = ln (i) + Euler's
//  constant; c(2) = 1, c(1) = c(0) = 0.
double iforest_c (double n);

//  Sets the version string of a model trained here (1..63 printable bytes).
//  Returns 0, or -1 with the reason in err.
int iforest_set_version (iforest_t *self, const char *version, char *err, size_t err_size);

//  The version string the model was loaded with or given ("" for a model
//  trained here and not given one).
const char *iforest_version (const iforest_t *self);
int iforest_features (const iforest_t *self);
//  The name of feature i, or NULL if out of range or unnamed.
const char *iforest_feature_name (const iforest_t *self, int feature);
int iforest_trees (const iforest_t *self);
int iforest_sample_size (const iforest_t *self);

#include "iforest_train.h"
#include "iforest_score.h"
#include "iforest_file.h"

#endif
