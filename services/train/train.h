/*  train - an Isolation Forest for the scorer, from stored history

    `txw-train --out model.bin --database-url URL` reads the stored
    transactions (txw_data.transactions, oldest first, optionally between
    --from and --to) and replays them through a fresh account
    table exactly as the scorer would, so each transaction's features are
    what the scorer saw when it arrived. It never reads fraud labels: the
    forest learns what ordinary looks like. It then fits the forest, learns
    the calibration (where each raw score falls among the training scores,
    so the model_score signal reads as "more unusual than x% of history"),
    scores the training rows again to measure the hot loop, and saves the
    model atomically. --features-out also writes the feature matrix, for a
    reference model trained on exactly the same rows; --scores-out
    writes every training transaction's whole score (rules and the new
    model), so rules are tuned on the training part, never on test data.

    Scheduled retraining (a CronJob, a compose service, make run's timer)
    runs it on a recent span (--days): with fewer than --min-rows stored
    transactions it trains nothing and exits 0, so a first start runs on
    the rules alone until there is history enough. The model replaced is
    kept as <out>.prev, and `txw-train --out <out> --rollback` puts it back
    (one rename: the scorer watching <out> reloads it).                      */

#ifndef TXW_TRAIN_H
#define TXW_TRAIN_H

#include "replay.h"

#include <stdint.h>

//  --operating-precision's default, the rescoring loop's too.
#define TRAIN_OPERATING_PRECISION   0.9

typedef struct {
    const char *database_url;
    const char *rules_file;     //  "" for the default rules
    const char *from;           //  RFC 3339 or ""
    const char *to;
    int64_t days;               //  > 0: only the last days (the database's clock)
    const char *model_out;
    const char *features_out;   //  "" for none
    const char *scores_out;     //  "" for none: tx_id, score, reasons of the training part
    int64_t trees;
    int64_t sample_size;
    int64_t seed;
    int64_t max_rows;
    int64_t max_accounts;
    int64_t min_rows;           //  fewer stored transactions: nothing trained, exit 0
    //  The supervised model (supervised.h)
    const char *supervised_out; //  "" for none
    const char *supervised_scores_out;  //  "" for none: tx_id, score of its calibration part
    const char *labels_csv;     //  "" for txw_data.labels
    const char *exclude_patterns;   //  comma-separated fraud_pattern values left out
    int64_t min_fraud_labels;
    int64_t min_legit_labels;
    int64_t supervised_trees;
    int64_t supervised_depth;
    double operating_precision; //  the supervised model's operating point (supervised.h)
    int64_t max_merchants;      //  cross-account state while replaying (0: none)
    int64_t max_devices;
} train_config_t;

//  Reads the stored transactions in cfg's range, oldest first, and calls
//  fn for each (what every pass of txw-train replays). Returns 0 or -1
//  (logged).
int train_replay (const train_config_t *cfg, PGconn *conn, replay_visit_fn *fn, void *arg);

//  Returns the process exit code: 0, 1 on a failure (logged).
int train_run (const train_config_t *cfg);

//  The model file's previous version, for a rollback: <path>.prev becomes
//  a second name of the file at path (if there is one) before the new model
//  is renamed over path, so the scorer never sees a missing or partial
//  file. Returns 0, or -1 (logged).
int train_keep_previous (const char *path);

//  Makes <path>.prev the model at path again, and keeps the one it
//  replaces as <path>.prev. Returns the exit code: 0, 1 (logged).
int train_rollback (const char *path);

#endif
