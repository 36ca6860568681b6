/*  rescore - stale accounts scored again under the current rules and model

    An account is stale (txw_data.stale_accounts, migration 021) when its
    history changed after it was scored: a new transaction, a correction, a
    label, an analyst's disposition. A run takes the flags in batches, the
    oldest first, each batch in one database transaction: it deletes the
    flags it takes (SELECT ... FOR UPDATE SKIP LOCKED, so two runs never
    take the same account, and a marker that flags an account again waits
    for the batch and then flags it afresh), reads the accounts' recent
    transactions in one statement, replays each account through a fresh
    account table with the scorer's own step (services/train/replay.h), and
    writes the new scores beside the first ones (txw_data.rescores, 024)
    with the version that made them. A transaction whose new score reaches
    the alert threshold while its first one did not gets its fraud alert,
    under the scorer's key, for the notifier's catch-up to deliver. A run
    that fails or is killed rolls its batch back: the flags are still there
    for the next one.

    What is replayed: an account's last --history transactions that are
    within --horizon-days of its latest one (its own event time, never the
    wall clock). Older history is not seen: the replay starts the account
    afresh there, as the scorer does an account it has no state for.

    Where a loop runs the job (compose, make run), it also retrains the
    model it rescores with, the one the scorer watches (--retrain-every):
    the scheduled retraining of txw-train, on the last --retrain-days once
    there are --retrain-min-rows transactions; the scorer swaps the new
    file in by itself, and the next rescoring run reads it. With
    --supervised it then retrains the scorer's supervised model from the
    labels (txw_data.labels) as `txw-train --supervised-out` does, with
    txw-train's minimum of labels (50 fraud, 500 legitimate: fewer, no file
    is written and the scorer runs on rules and forest). Rescoring itself
    replays rules and forest only.                                           */

#ifndef TXW_RESCORE_H
#define TXW_RESCORE_H

#include "service.h"

typedef struct {
    txw_service_config_t svc;
    const char *database_url;
    const char *rules_file;     //  "" for the compiled-in default
    const char *model_file;     //  "" for none; a path without a file yet: none
    int64_t alert_threshold;
    int64_t batch;              //  accounts taken per database transaction
    int64_t history;            //  transactions replayed per account, the latest
    int64_t horizon_days;       //  ... within this many days of its latest
    int64_t idle_evict_s;       //  the scorer's: back after this long idle, afresh
    int64_t every;              //  seconds between runs; 0: one run, then exit
    //  With every: the model retrained (txw-train's train_run) into
    //  model_file every retrain_every seconds (0: never), the first at
    //  start, and before every run while there is no model file yet; and
    //  after it the supervised model (supervised_run) into supervised_file
    //  ("" for none), from the labels, when there are enough.
    int64_t retrain_every;
    const char *supervised_file;
    int64_t retrain_days;       //  on the transactions of the last days
    int64_t retrain_min_rows;   //  ... once there are this many
    int64_t retrain_max_rows;   //  ... a uniform sample of at most this many
} rescore_config_t;

typedef struct _rescore_t rescore_t;

//  Returns NULL (logged) if memory or the admin port cannot be had.
rescore_t *rescore_new (const rescore_config_t *cfg, txw_service_t *svc);
void rescore_destroy (rescore_t **self_p);

//  One run until no flag is left (or the stop flag): reads the rule and
//  model files afresh, then batches. Returns 0, or -1 (logged) if the files
//  or the database failed; batches committed before stay committed.
int rescore_once (rescore_t *self);

//  With every 0: one run, exit code 0 or 1. Else runs every cfg->every
//  seconds until stopped, retraining the model first when it is due
//  (readiness: the last run and the last retraining succeeded); exit 0.
int rescore_run (rescore_t *self);

#endif
