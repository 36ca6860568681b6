/*  gbdt - the supervised model the scorer evaluates: boosted trees

    txw-train fits gradient-boosted trees on labelled transactions with
    XGBoost (services/train/supervised.h) and exports them into this
    module's file; the scorer evaluates them itself, so it never links
    XGBoost, and the hot path allocates nothing. The trees' margin is the
    sum of one leaf per tree plus the base margin, exactly as XGBoost's
    prediction; the calibration (Platt scaling, fitted by txw-train on a
    later held-out part) turns it into a probability, the supervised_p
    signal. Per-feature contributions follow the path of the row through
    each tree (Saabas, XGBoost's approx_contribs): each split credits its
    feature with the change of the node's mean value, so the margin is the
    bias plus the contributions.

    Features are rule signals (rules.h), by name: a file names its columns
    and the loader maps each to the scorer's signal of that name, so a
    scorer with more signals still runs an older model; an unknown name, or
    supervised_p itself, refuses the file.

    File, little-endian:
        "TXWGBDT1"  magic, 8 bytes
        u32         format version (2; 1 is read too)
        u16 + bytes model version string (1..31 printable bytes)
        u32         features F (1..RULES_SIG_COUNT), F x (u16 + name)
        f32         base margin
        f32 x 2     calibration a, b: p = 1 / (1 + exp (-(a * margin + b)))
        f32         the operating point: the p that scores 80 (format 2;
                    a format 1 file, without it, has 0.8)
        f32         hours of event time the score table spans (0: none)
        101 x u32 x 3   the score table: of the calibration part, scored
                    by rules, forest and this model, how many transactions
                    had each score 0..100: all, labelled fraud, labelled
                    legitimate (for --alert-precision, --alert-budget)
        u32         trees T (1..GBDT_MAX_TREES)
        T x (u32 nodes N (1..GBDT_MAX_NODES), N x 12 bytes; a tree at
                    most GBDT_MAX_DEPTH deep)
                    node: u32 word, f32 value, f32 mean;
                    a split: word = feature | default left << 8 | left
                    child << 9 (right child = left + 1, both after their
                    parent), value = threshold (left when x < value);
                    a leaf: word = 0xff, value = leaf value; mean is the
                    node's cover-weighted mean leaf value (a leaf's own)
        u32         CRC-32 (IEEE) of every byte before it
    Checked whole on load: a truncated, corrupt or hostile file is refused
    with the reason, never trusted.                                        */

#ifndef TXW_SCORER_GBDT_H
#define TXW_SCORER_GBDT_H

#include "rules.h"

#include <stddef.h>
#include <stdint.h>

#define GBDT_MAX_TREES      4096
#define GBDT_MAX_NODES      65535
#define GBDT_MAX_DEPTH      32
#define GBDT_VERSION_MAX    31
#define GBDT_LEAF           0xffu

typedef struct {
    uint32_t word;
    float value;
    float mean;
} gbdt_node_t;

typedef struct _gbdt_t gbdt_t;

#define GBDT_SCORES         101     //  scores 0..100

//  The score the default alert threshold is, and the supervised_p it
//  stands for unless txw-train chose one (gbdt_score).
#define GBDT_ALERT_SCORE        80
#define GBDT_OPERATING_DEFAULT  0.8
#define GBDT_OPERATING_MIN      0.01
#define GBDT_OPERATING_MAX      0.99

//  The whole score (rules, forest and this model) on the calibration part.
typedef struct {
    float hours;                    //  of event time; 0: no table
    uint32_t all [GBDT_SCORES];
    uint32_t fraud [GBDT_SCORES];
    uint32_t legit [GBDT_SCORES];
} gbdt_scores_t;

//  A model from its parts (txw-train's export): features names signals,
//  trees [t] has counts [t] nodes laid out as in the file. Returns NULL
//  with the reason in err.
gbdt_t *gbdt_new (const char *version, int features, const char *const *names,
                  float base_margin, int trees, const gbdt_node_t *const *nodes,
                  const uint32_t *counts, char *err, size_t err_size);
void gbdt_destroy (gbdt_t **self_p);
void gbdt_set_calibration (gbdt_t *self, float a, float b);
//  The operating point: the probability that scores 80, chosen by
//  txw-train on the calibration part. Returns -1 (nothing set) outside
//  GBDT_OPERATING_MIN .. GBDT_OPERATING_MAX.
int gbdt_set_operating (gbdt_t *self, double p);
double gbdt_operating (const gbdt_t *self);
//  The score (0..100, before rounding down) of a probability: 80 x p /
//  operating below the operating point, 80 + 20 x (p - operating) / (1 -
//  operating) from it on. Monotonic, so it ranks as p does; rounded down,
//  it is 80 or more exactly when p is the operating point or more. At the
//  default, 0.8, the two pieces are one line and the score is 100 x p.
double gbdt_score (const gbdt_t *self, double p);

int gbdt_save (const gbdt_t *self, const char *path, char *err, size_t err_size);
gbdt_t *gbdt_load (const char *path, char *err, size_t err_size);
//  The same checks on bytes in memory (the fuzz target).
gbdt_t *gbdt_load_buffer (const void *data, size_t size, char *err, size_t err_size);

//  The model's row for a transaction's signals: x [f] is the signal its
//  column names. The one function training and scoring both use.
void gbdt_features (const gbdt_t *self, const rules_signals_t *signals, float *x);
//  The signals a new model is trained on: every one but supervised_p, in
//  the order of rules.h. Fills signals (RULES_SIG_COUNT) and returns the
//  count.
int gbdt_training_signals (int *signals);
//  The same gathering for a list of signals (what gbdt_features runs).
void gbdt_gather (const int *signals, int count, const rules_signals_t *in, float *x);

//  Raw margin (log-odds before calibration) and calibrated probability.
double gbdt_margin (const gbdt_t *self, const float *x);
double gbdt_probability (const gbdt_t *self, const float *x);
//  The calibration alone: the probability of a margin gbdt_margin gave.
double gbdt_calibrated (const gbdt_t *self, double margin);
//  Per-feature contributions to the margin; out [features] gets the bias.
//  The features' F + 1 values sum to gbdt_margin.
void gbdt_contributions (const gbdt_t *self, const float *x, float *out);
//  The k features contributing most (by absolute value), written as
//  "name +0.83, name -0.21, ..." into out.
void gbdt_explain (const gbdt_t *self, const float *x, int k, char *out, size_t size);

void gbdt_set_scores (gbdt_t *self, const gbdt_scores_t *scores);
const gbdt_scores_t *gbdt_scores (const gbdt_t *self);

//  The lowest alert threshold (1..100) at which the labelled transactions
//  of the score table reach this precision (their share of fraud), or -1
//  if none does or there is no table; *achieved gets the precision there.
int gbdt_threshold_for_precision (const gbdt_t *self, double precision, double *achieved);
//  The lowest alert threshold at which the table's transactions would
//  have raised at most this many alerts an hour, or -1 if none (or no
//  table); *achieved gets the rate there.
int gbdt_threshold_for_budget (const gbdt_t *self, double per_hour, double *achieved);

const char *gbdt_version (const gbdt_t *self);
int gbdt_feature_count (const gbdt_t *self);
const char *gbdt_feature_name (const gbdt_t *self, int feature);
int gbdt_tree_count (const gbdt_t *self);
void gbdt_calibration (const gbdt_t *self, float *a, float *b);

#endif
