/*  train - the scorer's train mode: an Isolation Forest from stored history */

#include "train.h"
#include "clock.h"
#include "log.h"
#include "model.h"
#include "pgutil.h"
#include "profiles.h"
#include "replay.h"
#include "reasons.h"
#include "rfc3339.h"
#include "rules.h"
#include "txfeatures.h"
#include "txrow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_FETCH     20000
#define S_SAMPLE    100000      //  transactions kept to time the hot loop

typedef struct {
    const train_config_t *cfg;
    float *rows;                //  max_rows x FEATURE_COUNT
    char (*ids) [TXW_ID_MAX + 1];   //  tx ids of the kept rows (for --features-out)
    size_t kept;                //  rows held
    uint64_t seen;              //  transactions replayed
    uint64_t rng;
    float current [FEATURE_COUNT];
    txw_tx_t *sample;           //  the first S_SAMPLE transactions, as read
    size_t sampled;
} s_trainer_t;

//  The model hook during the replay: keeps the features, answers 0.
static double
s_capture (void *arg, const rules_signals_t *signals)
{
    s_trainer_t *t = arg;
    features_from_signals (signals, t->current);
    return 0;
}

//  Reservoir sampling: beyond max_rows every transaction has the same
//  chance to be among the rows the forest is trained on.
static void
s_keep (s_trainer_t *t, const char *tx_id)
{
    size_t slot = t->kept;
    if (t->kept >= (size_t) t->cfg->max_rows) {
        t->rng ^= t->rng << 13;
        t->rng ^= t->rng >> 7;
        t->rng ^= t->rng << 17;
        uint64_t r = t->rng % t->seen;
        if (r >= (uint64_t) t->cfg->max_rows)
            return;
        slot = (size_t) r;
    }
    else
        t->kept++;
    memcpy (t->rows + slot * FEATURE_COUNT, t->current, sizeof t->current);
    snprintf (t->ids [slot], sizeof t->ids [slot], "%s", tx_id);
}

int
train_replay (const train_config_t *cfg, PGconn *conn, replay_visit_fn *fn, void *arg)
{
    char days [24];
    snprintf (days, sizeof days, "%lld", (long long) cfg->days);
    const char *params [] = { *cfg->from? cfg->from: NULL, *cfg->to? cfg->to: NULL, days };
    if (txw_pg_exec (conn, "BEGIN"))
        return -1;
    //  In event time (the supervised model's split and its hours need it);
    //  transactions of one time in the order the scorer scored them
    //  (stored_seq, proto/sql/028), as tx_ids sort as text ('T5-10' < 'T5-9').
    char query [1400];
    snprintf (query, sizeof query, "SELECT %s FROM txw_data.transactions"
        " WHERE ($1::timestamptz IS NULL OR ts >= $1) AND ($2::timestamptz IS NULL OR ts <= $2)"
        " AND ($3::int = 0 OR ts >= now () - $3::int * interval '1 day')"
        " ORDER BY ts, stored_seq NULLS FIRST, tx_id", txw_txrow_sql ()->select);
    bool ok = replay_cursor (conn, query, 3, params, S_FETCH, fn, arg) >= 0;
    txw_pg_exec (conn, ok? "COMMIT": "ROLLBACK");
    return ok? 0: -1;
}

//  The first pass: each transaction's features, as the scorer saw them.
typedef struct {
    s_trainer_t *t;
    rules_t *rules;
    profiles_t *profiles;
    const model_t *model;
    FILE *out;
} s_pass_t;

static void
s_learn (void *arg, txw_tx_t *tx)
{
    s_pass_t *pass = arg;
    s_trainer_t *t = pass->t;
    if (t->sampled < S_SAMPLE)
        t->sample [t->sampled++] = *tx;
    rules_score_tx (pass->rules, pass->profiles, tx, s_capture, t);
    t->seen++;
    s_keep (t, tx->tx_id);
}

//  The second pass (--train-scores-out): the whole score, rules and the new
//  model, of every training transaction, for tuning rules on the training
//  part only.
static void
s_rescore (void *arg, txw_tx_t *tx)
{
    s_pass_t *pass = arg;
    replay_score (pass->rules, pass->profiles, pass->model, tx);
    fprintf (pass->out, "%s\t%d\t", tx->tx_id, tx->score);
    char reasons [320];
    txw_reasons_format (tx->reasons, reasons, sizeof reasons);
    fprintf (pass->out, "%s\n", reasons);
}

static int
s_write_features (s_trainer_t *t, const model_t *model)
{
    FILE *file = fopen (t->cfg->features_out, "w");
    if (!file) {
        log_error ("cannot write %s", t->cfg->features_out);
        return -1;
    }
    features_csv_header (file);
    for (size_t r = 0; r < t->kept; r++) {
        const float *x = t->rows + r * FEATURE_COUNT;
        features_csv_row (file, t->ids [r], model_score (model, x), x);
    }
    return fclose (file) == 0? 0: -1;
}

//  Times the scorer's hot loop with the new model on one core: the forest
//  alone over the training rows, and the whole step per transaction
//  (account lookup, signals, features, forest, rules, account update) over
//  the first transactions read, as the scorer runs it between its sockets.
static void
s_measure (s_trainer_t *t, rules_t *rules, const model_t *model)
{
    size_t n = t->kept, rounds = (2000000 + n - 1) / n;
    double sink = 0;
    int64_t started = txw_mono_us ();
    for (size_t r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++)
            sink += model_score (model, t->rows + i * FEATURE_COUNT);
    int64_t forest_us = txw_mono_us () - started;
    profiles_t *profiles = profiles_new ((uint32_t) t->cfg->max_accounts, 0);
    if (!profiles)
        return;
    uint64_t flagged = 0;
    started = txw_mono_us ();
    for (size_t i = 0; i < t->sampled; i++) {
        txw_tx_t tx = t->sample [i];
        replay_score (rules, profiles, model, &tx);
        flagged += tx.score >= 80;
    }
    int64_t step_us = txw_mono_us () - started;
    profiles_destroy (&profiles);
    log_info ("hot loop on one core: forest %.0f scores/s (%zu rows x %zu, checksum %.2f);"
              " whole scoring step %.0f tx/s (%zu transactions, %llu flagged)",
              (double) (n * rounds) * 1e6 / (double) (forest_us? forest_us: 1), n, rounds, sink,
              (double) t->sampled * 1e6 / (double) (step_us? step_us: 1), t->sampled,
              (unsigned long long) flagged);
}

int
train_keep_previous (const char *path)
{
    char prev [4096], tmp [4096];
    snprintf (prev, sizeof prev, "%s.prev", path);
    snprintf (tmp, sizeof tmp, "%s.prev.tmp.%d", path, (int) getpid ());
    unlink (tmp);               //  left by a run killed here before
    bool linked = link (path, tmp) == 0;
    if (!linked && errno == ENOENT)
        return 0;               //  the first model
    if (!linked || rename (tmp, prev)) {
        log_error ("cannot keep the previous model as %s: %s", prev, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}

int
train_rollback (const char *path)
{
    char prev [4096], tmp [4096];
    snprintf (prev, sizeof prev, "%s.prev", path);
    snprintf (tmp, sizeof tmp, "%s.next.tmp.%d", path, (int) getpid ());
    //  The running model stays reachable as <path>.prev afterwards, so a
    //  second rollback rolls forward again. path is replaced by one rename.
    unlink (tmp);
    if (link (path, tmp) && errno != ENOENT) {
        log_error ("cannot roll back %s: %s", path, strerror (errno));
        return 1;
    }
    if (rename (prev, path)) {
        log_error ("cannot roll back to %s: %s", prev, strerror (errno));
        unlink (tmp);
        return 1;
    }
    if (access (tmp, F_OK) == 0 && rename (tmp, prev)) {
        log_error ("rolled back, but the model replaced is not kept as %s: %s", prev,
                   strerror (errno));
        unlink (tmp);
        return 1;
    }
    log_info ("rolled back: %s is the previous model again", path);
    return 0;
}

int
train_run (const train_config_t *cfg)
{
    s_trainer_t t = { .cfg = cfg, .rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t) cfg->seed };
    t.rows = malloc ((size_t) cfg->max_rows * FEATURE_COUNT * sizeof *t.rows);
    t.ids = malloc ((size_t) cfg->max_rows * sizeof *t.ids);
    t.sample = malloc (S_SAMPLE * sizeof *t.sample);
    char err [512];
    int rc = 1;
    PGconn *conn = NULL;
    rules_t *rules = NULL;
    model_t *model = NULL;
    profiles_t *profiles = profiles_new ((uint32_t) cfg->max_accounts, 0);
    if (!t.rows || !t.ids || !t.sample || !profiles) {
        log_error ("out of memory for %lld training rows", (long long) cfg->max_rows);
        goto done;
    }
    //  The rules alone: the features are the model's input, not its output.
    if (replay_load (cfg->rules_file, "", &rules, &model, err, sizeof err)) {
        log_error ("rule file refused: %s", err);
        goto done;
    }
    conn = txw_pg_connect (cfg->database_url);
    if (!conn)
        goto done;
    int64_t started = txw_mono_ms ();
    s_pass_t pass = { &t, rules, profiles, NULL, NULL };
    if (train_replay (cfg, conn, s_learn, &pass))
        goto done;
    //  Too little history makes a model that calls everything unusual: the
    //  scheduled retraining waits for enough, and the scorer keeps what it
    //  runs (the rules alone on a first start).
    if (t.seen < (uint64_t) cfg->min_rows) {
        log_info ("only %llu stored transactions in the range, fewer than --min-rows %lld:"
                  " no model trained, %s left as it is", (unsigned long long) t.seen,
                  (long long) cfg->min_rows, cfg->model_out);
        rc = 0;
        goto done;
    }
    char version [TXW_NAME_MAX + 1];
    time_t now = time (NULL);
    strftime (version, sizeof version, "if-%Y%m%dT%H%M", gmtime (&now));
    iforest_params_t params = { .trees = (int) cfg->trees, .sample_size = (int) cfg->sample_size,
                                .seed = (uint64_t) cfg->seed };
    const char *names [FEATURE_COUNT];
    for (int f = 0; f < FEATURE_COUNT; f++)
        names [f] = features_name (f);
    model = model_train (t.rows, t.kept, FEATURE_COUNT, names, &params, version,
                         err, sizeof err);
    if (!model) {
        log_error ("training failed: %s", err);
        goto done;
    }
    if (train_keep_previous (cfg->model_out) || model_save (model, cfg->model_out, err, sizeof err)) {
        log_error ("cannot save the model: %s", err);
        goto done;
    }
    log_info ("trained %s: %d trees of %d samples on %zu of %llu transactions in %.1f s,"
              " saved to %s", version, iforest_trees (model_forest (model)),
              iforest_sample_size (model_forest (model)), t.kept, (unsigned long long) t.seen,
              (txw_mono_ms () - started) / 1000.0, cfg->model_out);
    s_measure (&t, rules, model);
    if (*cfg->features_out && s_write_features (&t, model))
        goto done;
    if (*cfg->scores_out) {
        profiles_destroy (&profiles);
        pass.profiles = profiles = profiles_new ((uint32_t) cfg->max_accounts, 0);
        pass.model = model;
        pass.out = fopen (cfg->scores_out, "w");
        int failed = !profiles || !pass.out || train_replay (cfg, conn, s_rescore, &pass);
        if (pass.out && fclose (pass.out))
            failed = 1;
        if (failed) {
            log_error ("cannot write the training scores to %s", cfg->scores_out);
            goto done;
        }
    }
    rc = 0;
done:
    model_destroy (&model);
    rules_destroy (&rules);
    profiles_destroy (&profiles);
    PQfinish (conn);
    free (t.ids);
    free (t.sample);
    free (t.rows);
    return rc;
}
