/*  iforest_score - the anomaly score of rows under an Isolation Forest

    Scoring is the hot path: no allocation, no locks, read-only, so any
    number of threads may score with one model. The trees sit in one flat
    array of 8-byte nodes; a leaf loops on itself, so every walk takes the
    same number of steps with no branch to mispredict, several walks are
    interleaved to hide load latency, and a leaf's depth + c(size) is read
    with one load at the end. On a CPU with AVX-512 sixteen trees are
    walked per vector (about 1.6 million rows a second, 200 trees, one
    core of the build machine); elsewhere, or with TXW_IFOREST_SCALAR=1 in
    the environment when the model is trained or loaded, plain C (about
    0.5 million). Both give the same scores to the bit. NaN in a scored row
    goes to the "<" side of every split (a NaN compares false).           */

#ifndef TXW_SCORER_IFOREST_SCORE_H
#define TXW_SCORER_IFOREST_SCORE_H

#include "iforest.h"

//  The anomaly score of one row of iforest_features () floats, in (0, 1].
//  No allocation, no locks.
double iforest_score (const iforest_t *self, const float *x);

//  Scores n rows into out [n]: the same values as iforest_score, bit for
//  bit. Without AVX-512 each tree walks a block of 256 rows while it is in
//  cache (faster than row by row there); with it, rows go one by one,
//  sixteen trees a vector, which measured faster than sixteen rows a
//  vector through one tree.
void iforest_score_batch (const iforest_t *self, const float *rows, size_t n, double *out);

//  Mean path length E[h(x)] over the trees, before normalisation.
double iforest_path_length (const iforest_t *self, const float *x);

#endif
