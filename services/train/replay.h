/*  replay - stored transactions through the scorer's own scoring step

    txw-train and txw-rescore both read transactions back from
    txw_data.transactions (common/txrow.h decodes them into the scorer's
    record) and score them again through a fresh account table, with the
    scorer's modules: profiles, rules and the model. This module is what
    they share: the rule set and model loaded as the scorer loads them (the
    same model_version string), the model hook, and the reading of a
    result or a cursor of stored rows.                                      */

#ifndef TXW_TRAIN_REPLAY_H
#define TXW_TRAIN_REPLAY_H

#include "model.h"
#include "pgutil.h"
#include "profiles.h"
#include "rules.h"

#include <stddef.h>
#include <stdint.h>

//  Called for each stored transaction read, in the order of the query.
typedef void (replay_visit_fn) (void *arg, txw_tx_t *tx);

//  Reads the rule file (empty: the compiled-in default) and the model file
//  (empty: none) as the scorer does, both checked whole, and makes the
//  scoring state whose transactions carry the scorer's model_version
//  ("rules-3+if-20261122T2140"). A model path where no file is yet is no
//  model (the scorer runs on the rules alone then too), logged. Returns 0,
//  or -1 with the reason in err.
int replay_load (const char *rules_file, const char *model_file, rules_t **rules_p,
                 model_t **model_p, char *err, size_t err_size);

//  The model hook of rules_score_tx for a model_t (arg): the transaction's
//  features, then the calibrated forest score.
double replay_model (void *arg, const rules_signals_t *signals);

//  Scores tx exactly as the scorer's step does (with the model if not
//  NULL), folding it into its account in profiles. rules_score_tx's result.
int replay_score (rules_t *rules, profiles_t *profiles, const model_t *model, txw_tx_t *tx);

//  Decodes every row of a result selected with txw_txrow_sql ()->select
//  and calls fn for each. Returns the rows visited, or -1 if a column is
//  missing (logged).
int64_t replay_rows (const PGresult *res, replay_visit_fn *fn, void *arg);

//  Runs query (selecting txw_txrow_sql ()->select columns, with nparams
//  text parameters) through a cursor in the connection's open transaction,
//  fetch rows at a time, and calls fn for each. Returns the rows visited,
//  or -1 (logged).
int64_t replay_cursor (PGconn *conn, const char *query, int nparams,
                       const char *const *params, int fetch, replay_visit_fn *fn, void *arg);

#endif
