/*  rescore - stale accounts scored again under the current rules and model  */

#include "rescore.h"
#include "alertjson.h"
#include "clock.h"
#include "pgutil.h"
#include "reasons.h"
#include "replay.h"
#include "supervised.h"
#include "train.h"
#include "txrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_DAY_MS    86400000LL

struct _rescore_t {
    const rescore_config_t *cfg;
    txw_service_t *svc;
    bool healthy;               //  the last run succeeded (or none ran yet)
    bool trained;               //  the last retraining succeeded (or none ran yet)
    //  One run's scoring state and one batch's.
    rules_t *rules;
    model_t *model;
    profiles_t *profiles;
    txw_tx_t *account;          //  the current account's transactions, as scored
    size_t held;
    char *read;                 //  S_READ with the transactions' select list
    txw_copybuf_t rescores;
    txw_copybuf_t alerts;
    uint64_t batch_tx;
    uint64_t batch_alerts;

    txw_counter_t *accounts;
    txw_counter_t *transactions;
    txw_counter_t *raised;
    txw_counter_t *runs_ok;
    txw_counter_t *runs_failed;
};

//  The batch's stage tables, made once per connection; their rows go at
//  commit. The claimed accounts' column is not account_id, which the
//  transactions' select list names unqualified.
#define S_SETUP \
    "CREATE TEMP TABLE claimed (claimed_id text) ON COMMIT DELETE ROWS;" \
    "CREATE TEMP TABLE stage_rescores (tx_id text, ts timestamptz, account_id text," \
    " score smallint, reasons text[], model_version text) ON COMMIT DELETE ROWS;" \
    "CREATE TEMP TABLE stage_alerts (dedupe_key text, tx_id text, ts timestamptz," \
    " account_id text, score smallint, reasons text[], amount_minor bigint, currency text," \
    " amount_rep_minor bigint, merchant_id text, country text, channel text, message text," \
    " model_version text) ON COMMIT DELETE ROWS"

//  Takes up to $1 flags, the oldest first, skipping those another run holds.
#define S_CLAIM \
    "WITH taken AS (DELETE FROM txw_data.stale_accounts WHERE account_id IN" \
    " (SELECT account_id FROM txw_data.stale_accounts ORDER BY since LIMIT $1" \
    "  FOR UPDATE SKIP LOCKED) RETURNING account_id)" \
    " INSERT INTO claimed SELECT account_id FROM taken"

//  The taken accounts' last $1 transactions, by account, in the order the
//  scorer scored them (stored_seq, proto/sql/028: event time has ties and
//  late arrivals; rows from before it have none and came first): one
//  backward index scan of (account_id, ts) per account.
#define S_READ \
    "SELECT %s FROM claimed CROSS JOIN LATERAL (SELECT * FROM txw_data.transactions t" \
    " WHERE t.account_id = claimed.claimed_id ORDER BY t.ts DESC LIMIT $1) last" \
    " ORDER BY last.account_id, last.stored_seq NULLS FIRST, last.ts, last.tx_id"

//  The months' partitions first. A later rescore under the same version
//  replaces the earlier one: the account's history may have changed in
//  between.
#define S_STORE \
    "SELECT txw_data.ensure_rescore_partition (m) FROM (SELECT DISTINCT" \
    " date_trunc ('month', ts, 'UTC') AS m FROM stage_rescores) months ORDER BY m;" \
    "INSERT INTO txw_data.rescores (tx_id, ts, account_id, score, reasons, model_version)" \
    " SELECT * FROM stage_rescores ON CONFLICT (tx_id, ts, model_version) DO UPDATE" \
    " SET score = excluded.score, reasons = excluded.reasons, rescored_at = now()"

//  As the aggregator stores the scorer's alerts: the month's partition
//  first, and one alert per key.
#define S_ALERT \
    "SELECT txw_data.ensure_event_partition ('alerts', m) FROM (SELECT DISTINCT" \
    " date_trunc ('month', ts, 'UTC') AS m FROM stage_alerts) months ORDER BY m;" \
    "INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, account_id, score, reasons," \
    " amount_minor, currency, amount_rep_minor, merchant_id, country, channel, message," \
    " model_version, raised_at)" \
    " SELECT dedupe_key, 'fraud', tx_id, ts, account_id, score, reasons, amount_minor," \
    " currency, amount_rep_minor, merchant_id, country, channel, message, model_version, now ()" \
    " FROM stage_alerts ON CONFLICT (dedupe_key, ts) DO NOTHING"

static bool
s_ready (void *arg, char *detail, size_t size)
{
    rescore_t *self = arg;
    snprintf (detail, size, "{\"last_run\":\"%s\",\"last_retraining\":\"%s\"}",
              self->healthy? "ok": "failed", self->trained? "ok": "failed");
    return self->healthy && self->trained;
}

rescore_t *
rescore_new (const rescore_config_t *cfg, txw_service_t *svc)
{
    rescore_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    self->healthy = self->trained = true;
    txw_copybuf_init (&self->rescores);
    txw_copybuf_init (&self->alerts);
    self->accounts = txw_counter_new ("txw_rescored_accounts_total", NULL,
                                      "stale accounts taken and rescored");
    self->transactions = txw_counter_new ("txw_rescored_transactions_total", NULL,
                                          "stored transactions scored again");
    self->raised = txw_counter_new ("txw_rescore_alerts_total", NULL,
        "fraud alerts raised by rescoring (new score at or above the threshold, first below)");
    self->runs_ok = txw_counter_new ("txw_rescore_runs_total", "result=\"ok\"", "rescoring runs");
    self->runs_failed = txw_counter_new ("txw_rescore_runs_total", "result=\"failed\"",
                                         "rescoring runs");
    self->account = malloc ((size_t) cfg->history * sizeof *self->account);
    if (!self->account || asprintf (&self->read, S_READ, txw_txrow_sql ()->select) < 0) {
        self->read = NULL;
        log_error ("out of memory for %lld transactions an account", (long long) cfg->history);
        rescore_destroy (&self);
        return NULL;
    }
    if (cfg->every > 0 && txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self))
        rescore_destroy (&self);
    return self;
}

void
rescore_destroy (rescore_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rescore_t *self = *self_p;
    rules_destroy (&self->rules);
    model_destroy (&self->model);
    profiles_destroy (&self->profiles);
    txw_copybuf_fini (&self->rescores);
    txw_copybuf_fini (&self->alerts);
    free (self->account);
    free (self->read);
    free (self);
    *self_p = NULL;
}

//  --- One account -----------------------------------------------------------------

//  The alert of a transaction rescoring made suspicious: the scorer's
//  fields and key, and a message saying by what and from what.
static void
s_alert_row (rescore_t *self, const txw_tx_t *tx, unsigned first_score,
             const char *first_version)
{
    txw_alert_t key_of = { .kind = "fraud", .ts_ms = tx->ts_ms };
    memcpy (key_of.tx_id, tx->tx_id, sizeof key_of.tx_id);
    char key [TXW_ALERT_KEY_MAX], reasons [320], message [TXW_TEXT_MAX + 1];
    txw_alert_key (&key_of, key, sizeof key);
    txw_reasons_format (tx->reasons, reasons, sizeof reasons);
    snprintf (message, sizeof message, "raised by rescoring with %s: score %u (first scored %u"
              " by %s); reasons %s", tx->model_version, tx->score, first_score,
              *first_version? first_version: "an unnamed version", *reasons? reasons: "none");
    txw_copybuf_t *b = &self->alerts;
    txw_copybuf_str (b, key);
    txw_copybuf_str (b, tx->tx_id);
    txw_copybuf_ts_ms (b, tx->ts_ms);
    txw_copybuf_str (b, tx->account_id);
    txw_copybuf_int (b, tx->score);
    txw_txrow_copy_reasons (b, tx->reasons);
    txw_copybuf_int (b, tx->amount_minor);
    txw_copybuf_str (b, tx->currency);
    txw_copybuf_int (b, tx->amount_rep_minor);
    txw_copybuf_str (b, tx->merchant_id);
    txw_copybuf_str (b, tx->country);
    txw_copybuf_str (b, txw_channel_name (tx->channel));
    txw_copybuf_str (b, message);
    txw_copybuf_str (b, tx->model_version);
    txw_copybuf_end_row (b);
    self->batch_alerts++;
}

//  Replays the account held, in the scorer's order, from the horizon (before
//  its latest event time) on.
static void
s_score_account (rescore_t *self)
{
    if (!self->held)
        return;
    int64_t latest_ms = INT64_MIN;
    for (size_t i = 0; i < self->held; i++)
        if (self->account [i].ts_ms > latest_ms)
            latest_ms = self->account [i].ts_ms;
    int64_t from_ms = latest_ms - self->cfg->horizon_days * S_DAY_MS;
    int threshold = (int) self->cfg->alert_threshold;
    for (size_t i = 0; i < self->held; i++) {
        txw_tx_t *tx = &self->account [i];
        if (tx->ts_ms < from_ms)
            continue;
        unsigned first_score = tx->score;
        char first_version [TXW_NAME_MAX + 1];
        memcpy (first_version, tx->model_version, sizeof first_version);
        replay_score (self->rules, self->profiles, self->model, tx);
        txw_copybuf_t *b = &self->rescores;
        txw_copybuf_str (b, tx->tx_id);
        txw_copybuf_ts_ms (b, tx->ts_ms);
        txw_copybuf_str (b, tx->account_id);
        txw_copybuf_int (b, tx->score);
        txw_txrow_copy_reasons (b, tx->reasons);
        txw_copybuf_str (b, tx->model_version);
        txw_copybuf_end_row (b);
        self->batch_tx++;
        if (tx->score >= threshold && (int) first_score < threshold)
            s_alert_row (self, tx, first_score, first_version);
    }
    self->held = 0;
}

//  Rows come by account, in the scorer's order, at most --history an account.
static void
s_visit (void *arg, txw_tx_t *tx)
{
    rescore_t *self = arg;
    if (self->held && strcmp (self->account [0].account_id, tx->account_id))
        s_score_account (self);
    if (self->held < (size_t) self->cfg->history)
        self->account [self->held++] = *tx;
}

//  --- Batches ---------------------------------------------------------------------

//  One batch in one transaction. Returns the accounts taken (0: no flag
//  left), or -1 (rolled back, logged).
static long
s_batch (rescore_t *self, PGconn *conn)
{
    char limit [24], history [24];
    snprintf (limit, sizeof limit, "%lld", (long long) self->cfg->batch);
    snprintf (history, sizeof history, "%lld", (long long) self->cfg->history);
    txw_copybuf_clear (&self->rescores);
    txw_copybuf_clear (&self->alerts);
    self->batch_tx = self->batch_alerts = 0;
    self->held = 0;
    //  Accounts are independent: a fresh table a batch holds each one's
    //  replay alone, and one taken again later starts afresh.
    profiles_destroy (&self->profiles);
    self->profiles = profiles_new ((uint32_t) self->cfg->batch, self->cfg->idle_evict_s * 1000);
    if (!self->profiles) {
        log_error ("out of memory for %lld account states", (long long) self->cfg->batch);
        return -1;
    }
    if (txw_pg_exec (conn, "BEGIN"))
        return -1;
    const char *params [] = { limit };
    PGresult *res = PQexecParams (conn, S_CLAIM, 1, NULL, params, NULL, NULL, 0);
    long taken = -1;
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        log_error ("cannot take stale accounts: %s", PQresultErrorMessage (res));
    else
        taken = atol (PQcmdTuples (res));
    PQclear (res);
    if (taken > 0) {
        params [0] = history;
        res = PQexecParams (conn, self->read, 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus (res) != PGRES_TUPLES_OK) {
            log_error ("cannot read the accounts' transactions: %s", PQresultErrorMessage (res));
            taken = -1;
        }
        else
        if (replay_rows (res, s_visit, self) < 0)
            taken = -1;
        PQclear (res);
        s_score_account (self);
    }
    if (taken > 0 && self->rescores.rows
    && (txw_pg_copy (conn, "COPY stage_rescores FROM STDIN", &self->rescores)
        || txw_pg_exec (conn, S_STORE)))
        taken = -1;
    uint64_t raised = 0;
    if (taken > 0 && self->alerts.rows) {
        if (txw_pg_copy (conn, "COPY stage_alerts FROM STDIN", &self->alerts))
            taken = -1;
        else {
            res = PQexec (conn, S_ALERT);
            if (PQresultStatus (res) != PGRES_COMMAND_OK) {
                log_error ("cannot store the alerts: %s", PQresultErrorMessage (res));
                taken = -1;
            }
            else
                raised = strtoull (PQcmdTuples (res), NULL, 10);
            PQclear (res);
        }
    }
    if (txw_pg_exec (conn, taken >= 0? "COMMIT": "ROLLBACK"))
        taken = -1;
    if (taken > 0) {
        txw_counter_add (self->accounts, (uint64_t) taken);
        txw_counter_add (self->transactions, self->batch_tx);
        txw_counter_add (self->raised, raised);
        self->batch_alerts = raised;
    }
    return taken;
}

int
rescore_once (rescore_t *self)
{
    const rescore_config_t *cfg = self->cfg;
    char err [512];
    int rc = -1;
    PGconn *conn = NULL;
    rules_destroy (&self->rules);
    model_destroy (&self->model);
    if (replay_load (cfg->rules_file, cfg->model_file, &self->rules, &self->model,
                     err, sizeof err)) {
        log_error ("cannot rescore: %s", err);
        goto done;
    }
    conn = txw_pg_connect (cfg->database_url);
    if (!conn || txw_pg_exec (conn, S_SETUP))
        goto done;
    int64_t started = txw_mono_ms ();
    uint64_t accounts = 0, transactions = 0, alerts = 0;
    long taken = 0;
    while (!self->svc->stop && (taken = s_batch (self, conn)) > 0) {
        accounts += (uint64_t) taken;
        transactions += self->batch_tx;
        alerts += self->batch_alerts;
    }
    if (taken < 0)
        log_error ("rescoring stopped after %llu accounts: the batch in hand is rolled back,"
                   " its accounts stay stale", (unsigned long long) accounts);
    else {
        log_info ("rescored %llu stale accounts (%llu transactions) with %s in %.1f s:"
                  " %llu new alerts", (unsigned long long) accounts,
                  (unsigned long long) transactions, rules_model_version (self->rules),
                  (txw_mono_ms () - started) / 1000.0, (unsigned long long) alerts);
        rc = 0;
    }
done:
    PQfinish (conn);
    self->healthy = rc == 0;
    txw_counter_add (rc == 0? self->runs_ok: self->runs_failed, 1);
    return rc;
}

//  txw-train's scheduled run, into the model files the scorer watches (the
//  models replaced kept as <file>.prev): the forest, then the supervised
//  model on the forest just written, as `txw-train --supervised-out` does
//  (with its defaults: too few labels, no file and success).
static void
s_retrain (rescore_t *self)
{
    const rescore_config_t *cfg = self->cfg;
    train_config_t train = {
        .database_url = cfg->database_url, .rules_file = cfg->rules_file, .from = "", .to = "",
        .days = cfg->retrain_days, .model_out = cfg->model_file, .features_out = "",
        .scores_out = "", .trees = 100, .sample_size = 256, .seed = 1,
        .max_rows = cfg->retrain_max_rows, .max_accounts = 1000000,
        .min_rows = cfg->retrain_min_rows,
        .supervised_out = cfg->supervised_file, .supervised_scores_out = "", .labels_csv = "",
        .exclude_patterns = "", .min_fraud_labels = 50, .min_legit_labels = 500,
        .supervised_trees = 60, .supervised_depth = 4,
        .operating_precision = TRAIN_OPERATING_PRECISION, .max_merchants = 200000,
        .max_devices = 1000000
    };
    self->trained = train_run (&train) == 0
                 && (!*cfg->supervised_file || supervised_run (&train) == 0);
}

int
rescore_run (rescore_t *self)
{
    const rescore_config_t *cfg = self->cfg;
    if (cfg->every == 0)
        return rescore_once (self) == 0? 0: 1;
    bool retrain = cfg->retrain_every > 0 && *cfg->model_file;
    log_info ("rescoring stale accounts every %lld s%s%s", (long long) cfg->every,
              retrain? ", retraining the model first when due": "",
              retrain && *cfg->supervised_file? " (and the supervised model from the labels)": "");
    int64_t train_due = txw_mono_ms ();
    while (!self->svc->stop) {
        if (retrain && txw_mono_ms () >= train_due) {
            s_retrain (self);
            //  Until there is a first model (too little history yet), again
            //  at the next run: the scorer gets one as soon as it can.
            if (access (cfg->model_file, F_OK) == 0)
                train_due = txw_mono_ms () + cfg->retrain_every * 1000;
        }
        rescore_once (self);
        //  The next run starts --every seconds after this one ended.
        int64_t due = txw_mono_ms () + cfg->every * 1000;
        while (!self->svc->stop && txw_mono_ms () < due)
            nanosleep (&(struct timespec) { 0, 100 * 1000000L }, NULL);
    }
    return 0;
}
