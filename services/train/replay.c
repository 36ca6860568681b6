/*  replay - stored transactions through the scorer's own scoring step      */

#include "replay.h"
#include "log.h"
#include "ruleset.h"
#include "txfeatures.h"
#include "txrow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
replay_load (const char *rules_file, const char *model_file, rules_t **rules_p,
             model_t **model_p, char *err, size_t err_size)
{
    rules_set_t *set = malloc (sizeof *set);
    model_t *model = NULL;
    rules_t *rules = NULL;
    *err = 0;
    if (!set)
        snprintf (err, err_size, "out of memory");
    else
    if (!*rules_file || ruleset_load (rules_file, set, err, err_size) == 0) {
        if (*model_file && access (model_file, F_OK) && errno == ENOENT)
            log_info ("no model file at %s yet: scoring with the rules alone", model_file);
        else
        if (*model_file)
            model = model_load (model_file, err, err_size);
    }
    if (set && !*err) {
        //  As the scorer's s_load names the pair: up to 12 characters of
        //  the rule set's version, then "+" and up to 19 of the model's.
        const rules_set_t *use = *rules_file? set: ruleset_default ();
        char version [TXW_NAME_MAX + 1];
        int at = snprintf (version, sizeof version, "%.12s", use->version);
        if (model)
            snprintf (version + at, sizeof version - (size_t) at, "+%.19s", model_version (model));
        if (!(rules = rules_new (use, version)))
            snprintf (err, err_size, "rule set refused (over its limits or out of memory)");
    }
    free (set);
    if (!rules) {
        model_destroy (&model);
        return -1;
    }
    *rules_p = rules;
    *model_p = model;
    return 0;
}

double
replay_model (void *arg, const rules_signals_t *signals)
{
    float x [FEATURE_COUNT];
    features_from_signals (signals, x);
    return model_score (arg, x);
}

int
replay_score (rules_t *rules, profiles_t *profiles, const model_t *model, txw_tx_t *tx)
{
    return rules_score_tx (rules, profiles, tx, model? replay_model: NULL, (void *) model);
}

int64_t
replay_rows (const PGresult *res, replay_visit_fn *fn, void *arg)
{
    int n = PQntuples (res);
    txw_txrow_cols_t cols;
    if (n && txw_txrow_columns (res, &cols)) {
        log_error ("cannot read the stored transactions: a column is missing");
        return -1;
    }
    int64_t visited = 0;
    for (int i = 0; i < n; i++) {
        txw_tx_t tx;
        if (txw_txrow_decode (res, i, &cols, &tx) == 0) {
            fn (arg, &tx);
            visited++;
        }
    }
    return visited;
}

int64_t
replay_cursor (PGconn *conn, const char *query, int nparams, const char *const *params,
               int fetch, replay_visit_fn *fn, void *arg)
{
    char *declare = NULL;
    if (asprintf (&declare, "DECLARE replay NO SCROLL CURSOR FOR %s", query) < 0)
        return -1;
    PGresult *res = PQexecParams (conn, declare, nparams, NULL, params, NULL, NULL, 0);
    free (declare);
    bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    if (!ok)
        log_error ("cannot read the stored transactions: %s", PQresultErrorMessage (res));
    PQclear (res);
    int64_t visited = 0;
    char command [48];
    snprintf (command, sizeof command, "FETCH %d FROM replay", fetch);
    while (ok) {
        res = PQexec (conn, command);
        int64_t n = -1;
        if (PQresultStatus (res) != PGRES_TUPLES_OK)
            log_error ("cannot read the stored transactions: %s", PQresultErrorMessage (res));
        else
            n = replay_rows (res, fn, arg);
        int rows = PQntuples (res);
        PQclear (res);
        if (n < 0)
            ok = false;
        else
            visited += n;
        if (rows < fetch)
            break;
    }
    if (ok && txw_pg_exec (conn, "CLOSE replay"))
        ok = false;
    return ok? visited: -1;
}
