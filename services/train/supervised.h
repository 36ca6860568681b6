/*  supervised - the supervised model: boosted trees fitted on fraud labels

    `txw-train --supervised-out FILE` trains it after the forest: the stored
    transactions are replayed again (train_replay, oldest first) through
    the scorer's rules, the forest just trained and cross-account state as
    the scorer has them, so each labelled transaction's row is every rule
    signal the scorer saw, model_score included (gbdt_features: the same
    function the scorer runs). XGBoost fits gradient-boosted trees on the
    earlier 80% of the labelled rows; the later 20% (in event time, as new
    traffic comes after the model; further back if that is what it takes
    to hold a fifth of the frauds and of the legitimate rows: see
    supervised_calibration_start) fits the calibration, Platt scaling:
    two parameters are stable with the few dozen frauds a calibration part
    holds, where isotonic regression would be a staircase of a few steps,
    and a logistic map is monotonic by construction (checked: a > 0). The
    same part sets the operating point, the probability that scores 80 (the
    default alert threshold): the lowest at which that part's alerts would
    be --operating-precision fraud (0.9), so that the default threshold is
    an operating point chosen on data the trees never saw, not p 0.8. The
    trees are exported into the scorer's own file (gbdt.h): the scorer
    never links XGBoost. A second replay with the new model scores the
    calibration part whole (rules, forest, supervised model) into the
    file's score table, which the scorer's --alert-precision and
    --alert-budget turn into an alert threshold.

    Labels: txw_data.labels (dispositions and chargebacks; a chargeback
    outranks a disposition of the same transaction): a transaction labelled
    fraud is positive, legit negative; duplicate and unknown are left out.
    Transactions without a label are left out too: analysts label what
    alerts showed them, so "not labelled" is not "legitimate". For
    evaluation, --labels-csv reads the generator's labels (tx_id, is_fraud,
    fraud_pattern) where every transaction is labelled, and
    --exclude-patterns leaves whole typologies out of training (neither
    positive nor negative): `make eval` holds money_mule and bust_out out,
    so their figures show how the model generalizes; nothing is tuned by
    looking at them.

    Too few labels (fewer than --min-fraud-labels frauds or
    --min-legit-labels legitimate ones among the rows): nothing is written,
    the reason is logged and the exit code is 0; the scorer runs on rules
    and forest (txw_scorer_supervised_loaded 0).                          */

#ifndef TXW_TRAIN_SUPERVISED_H
#define TXW_TRAIN_SUPERVISED_H

#include "gbdt.h"
#include "train.h"

#include <stdbool.h>
#include <stddef.h>
#include <xgboost/c_api.h>

typedef struct {
    int trees;
    int depth;
    double eta;
    uint64_t seed;
    double operating_precision;     //  the operating point's precision (supervised_operating)
} supervised_params_t;

//  What supervised_fit chose its operating point from.
typedef struct {
    bool chosen;                    //  false: none reached the precision; 0.8 kept
    double precision, recall;       //  of the calibration part at the point
    size_t fraud;                   //  labelled fraud in the calibration part
} supervised_operating_t;

//  The booster's trees as the scorer's model (no calibration yet: a = 1,
//  b = 0). signals are the signal of each of the booster's columns.
//  Returns NULL with the reason in err.
gbdt_t *supervised_export (BoosterHandle booster, const char *version, int features,
                           const int *signals, char *err, size_t err_size);

//  Platt scaling: a and b of p = 1 / (1 + exp (-(a * margin + b))) fitted
//  by Newton's method on the n margins and labels (0 or 1), with Platt's
//  smoothed targets. Returns 0, or -1 if both classes are not present or
//  the fit is not increasing (a <= 0: the trees do not rank this part).
int supervised_platt (const double *margins, const float *labels, size_t n,
                      float *a, float *b);

//  The operating point (the probability that scores 80, gbdt_score): the
//  lowest probability p of the n calibrated rows at which the rows with a
//  probability of p or more are labelled fraud at least this precision,
//  with at least SUPERVISED_OPERATING_MIN_FRAUD frauds among them. Returns
//  0 with *p and what it achieved, or -1 if no p does (*p untouched).
#define SUPERVISED_OPERATING_MIN_FRAUD  10
int supervised_operating (const double *probabilities, const float *labels, size_t n,
                          double precision, double *p, supervised_operating_t *at);

//  Where the calibration part of n labelled rows in event-time order
//  starts: the latest fifth of the rows, reaching back further if need be
//  until it holds at least a fifth of the frauds and a fifth of the
//  legitimate rows (labels bunched in time, e.g. analysts who confirmed an
//  early burst, left a latest fifth without a fraud, and nothing could be
//  calibrated). So the fit part keeps at least four fifths of each class.
size_t supervised_calibration_start (const float *labels, size_t n);

//  Fits the trees on rows [0, fit) and the calibration on [fit, n) (rows
//  in event-time order, features columns naming signals), and the
//  operating point on [fit, n) too (into *operating if not NULL). Returns
//  NULL with the reason in err.
gbdt_t *supervised_fit (const float *rows, const float *labels, size_t n, size_t fit,
                        int features, const int *signals, const supervised_params_t *params,
                        const char *version, supervised_operating_t *operating,
                        char *err, size_t err_size);

//  The whole step of txw-train (cfg->supervised_out). Returns the exit
//  code: 0 (trained, or too few labels: nothing written), 1 (logged).
int supervised_run (const train_config_t *cfg);

#endif
