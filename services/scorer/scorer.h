/*  scorer - the fraud scoring stage: pull transactions, score, route, alert

    Pulls validated transactions from the validators, scores each one
    against its account's history (profiles.h, rules.h), and pushes the
    scored copy to the aggregator shard that owns the account. A score at or
    above the alert threshold also raises an alert: the full record goes to
    the same aggregator shard to be stored, and a copy with the account id
    replaced by its pseudonym (common/pii.h) is published for the push
    gateway. The scorer has no external
    dependency, so it is ready as soon as its sockets are bound.

    With a database, the account records that changed are checkpointed
    every few seconds (checkpoint.h) and read back at start; so are the
    merchant and device records (merchants.h, merchants_checkpoint.h),
    whose cross-account signals the rules read unless --max-merchants is 0.

    The anomaly model (model.h) adds its calibrated score as one more rule
    signal. The rule file and the model are read again on SIGHUP, or when
    either changes on disk. Both are checked whole before they replace the
    running ones, between two batches, so a reload loses nothing; a bad
    file is refused with a log line naming the problem, and the running set
    stays.                 */

#ifndef TXW_SCORER_H
#define TXW_SCORER_H

#include "service.h"

typedef struct {
    txw_service_config_t svc;
    const char *bind;
    const char *aggregator_endpoints;
    const char *publish;
    int64_t alert_threshold;
    double alert_precision;     //  > 0: the threshold from the supervised model's table
    double alert_budget;        //  > 0: alerts an hour, likewise
    int64_t shard;
    int64_t max_accounts;
    int64_t max_merchants;      //  cross-account state (merchants.h); 0: none
    int64_t max_devices;
    int64_t idle_evict_s;
    int64_t dedupe_capacity;
    const char *rules_file;     //  "" for the compiled-in default
    const char *model_file;     //  "" for none: model_score stays 0
    const char *features_out;   //  "" for none
    const char *supervised_file; //  "" for none: supervised_p stays 0
    const char *supervised_out; //  "" for none: each tx_id and its supervised_p
    int64_t watch_s;            //  seconds between checks of the files, 0: never
    const char *database_url;   //  "" for no checkpoints of account state
    int64_t checkpoint_s;
    bool migrate;
} scorer_config_t;

typedef struct _scorer_t scorer_t;

//  Returns NULL (logged) if a socket cannot be bound or connected or the
//  account table cannot be allocated. cfg and svc must outlive the scorer.
scorer_t *scorer_new (const scorer_config_t *cfg, txw_service_t *svc);
void scorer_destroy (scorer_t **self_p);

//  Runs until svc->stop, then scores what has already arrived and flushes
//  every output. Returns the process exit code: 0, or 1 if batches had to
//  be dropped at shutdown because no aggregator took them.
int scorer_run (scorer_t *self);

#endif
