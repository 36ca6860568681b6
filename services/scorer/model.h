/*  model - the anomaly model the scorer loads: a forest and its calibration

    A raw Isolation Forest score depends on the data it was grown on: 0.55
    may be ordinary for one population and rare for another. The model file
    therefore carries, besides the forest (iforest.h), the distribution of
    the raw scores of its training rows, and model_score returns where a
    transaction falls in it: 0.999 means "more unusual than 99.9% of the
    history the model was trained on". Rules can then say model_score >=
    0.995 and mean the same thing for every model.

    File: "TXWMODL1", u32 format (1), u32 quantile count Q (2..4096), Q
    floats (little-endian IEEE-754, ascending raw scores at evenly spaced
    ranks), u32 length of the forest, the forest file's bytes (iforest.h,
    with its own CRC), and a CRC-32 of everything before it. Saved
    atomically; checked whole on load.                                       */

#ifndef TXW_SCORER_MODEL_H
#define TXW_SCORER_MODEL_H

#include "iforest.h"

#include <stddef.h>

#define MODEL_QUANTILES     1001

typedef struct _model_t model_t;

//  Trains a forest on n rows and calibrates it on the same rows' scores.
//  Returns NULL with the reason in err.
//  names (features strings, or NULL) name the columns in the file.
model_t *model_train (const float *rows, size_t n, int features, const char *const *names,
                      const iforest_params_t *params, const char *version,
                      char *err, size_t err_size);
model_t *model_load (const char *path, char *err, size_t err_size);
int model_save (const model_t *self, const char *path, char *err, size_t err_size);
void model_destroy (model_t **self_p);

//  The calibrated score of one row, 0..1: the share of training rows whose
//  raw score is below this row's (interpolated).
double model_score (const model_t *self, const float *x);
//  The forest's raw score.
double model_raw_score (const model_t *self, const float *x);

const char *model_version (const model_t *self);
const iforest_t *model_forest (const model_t *self);

#endif
