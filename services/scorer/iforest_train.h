/*  iforest_train - growing an Isolation Forest from rows

    Each tree is grown as iforest.h describes, on psi rows drawn without
    replacement (a partial Fisher-Yates shuffle). Training is
    deterministic: the same rows, parameters and seed give the same model,
    bit for bit, on any machine (its own PRNG, no rand(), no threads). It
    refuses NaN and infinity. The model it returns scores and saves at
    once; it has no version string ("") and no feature names until
    iforest_set_version and iforest_set_feature_names.                    */

#ifndef TXW_SCORER_IFOREST_TRAIN_H
#define TXW_SCORER_IFOREST_TRAIN_H

#include "iforest.h"

typedef struct {
    int trees;          //  0: 200
    int sample_size;    //  psi; 0: 256. More than the rows: all rows
    int max_depth;      //  height limit; 0: ceil (log2 psi)
    uint64_t seed;
} iforest_params_t;

//  Grows a forest on n rows of `features` floats each (row-major). params
//  may be NULL for the defaults, seed 0. Returns NULL with the reason in
//  err on bad input (n < 2, a NaN or infinite value, features or a
//  parameter out of range) or when memory cannot be had.
iforest_t *iforest_train (const float *rows, size_t n, int features,
                          const iforest_params_t *params, char *err, size_t err_size);

#endif
