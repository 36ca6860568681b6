/*  scorer - the fraud scoring stage: pull transactions, score, route, alert */

#include "scorer.h"
#include "auditlog.h"
#include "checkpoint.h"
#include "clock.h"
#include "gbdt.h"
#include "profiles.h"
#include "pii.h"
#include "reasons.h"
#include "merchants.h"
#include "merchants_checkpoint.h"
#include "model.h"
#include "rules.h"
#include "ruleset.h"
#include "transport.h"
#include "txfeatures.h"
#include "timers.h"
#include "txset.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#define S_SCORE_BANDS   10

struct _scorer_t {
    const scorer_config_t *cfg;
    txw_service_t *svc;
    txw_in_t *in;
    txw_router_t *router;
    txw_out_t *pub;
    profiles_t *profiles;
    merchants_t *cross;         //  NULL with --max-merchants 0
    merchants_checkpoint_t *cross_checkpoint;
    rules_t *rules;
    model_t *model;             //  NULL without --model
    gbdt_t *supervised;         //  NULL without --supervised (or no file yet)
    FILE *features_out;         //  --features-out, or NULL
    FILE *supervised_out;       //  --supervised-out, or NULL
    const txw_tx_t *current;    //  the transaction being scored, for s_model
    checkpoint_t *checkpoint;   //  NULL without a database
    txw_auditlog_t *audit;      //  reloads, in txw_data.audit; NULL without a database
    profiles_account_t *collected;

    txw_counter_t *scored;
    txw_counter_t *alerts;
    txw_counter_t *unkeyed;
    txw_counter_t *bands [S_SCORE_BANDS];
    txw_counter_t *reasons [TXW_REASON_COUNT];
    txw_counter_t *evicted_cap;
    txw_counter_t *evicted_idle;
    txw_counter_t *again;
    txw_counter_t *corrections;
    txw_txset_t *seen;          //  tx_ids scored lately (this process's life)
    uint64_t seen_key [2];
    txw_gauge_t *accounts;
    txw_gauge_t *merchants;
    txw_gauge_t *devices;
    txw_counter_t *cross_evicted;
    uint64_t cross_evicted_seen;
    txw_gauge_t *shard;
    txw_histogram_t *e2e;


    uint64_t evicted_cap_seen;
    uint64_t evicted_idle_seen;
    txw_counter_t *reloads_ok;
    txw_counter_t *reloads_failed;
    struct stat rules_stat;     //  of the rule file as last read
    struct stat model_stat;
    struct stat supervised_stat;
    txw_gauge_t *supervised_loaded;
    txw_gauge_t *threshold;
    int alert_threshold;        //  --alert-threshold, or from --alert-precision/-budget
};

//  Ready once the sockets are bound: checkpoints are not on the scoring
//  path, so a database that is away shows in the detail only.
static bool
s_ready (void *arg, char *detail, size_t size)
{
    scorer_t *self = arg;
    snprintf (detail, size, "{\"checkpoints\":\"%s\",\"shard\":%lld}",
              !self->checkpoint? "off": checkpoint_healthy (self->checkpoint)? "ok": "failing",
              (long long) self->cfg->shard);
    return true;
}

#define S_COLLECT   65536       //  account records copied per collection step

//  Hands every account record changed since the last checkpoint to the
//  writer thread, in steps so one copy buffer serves any table size.
//  Every --checkpoint-s, and at exit: hands the changed accounts to the
//  background writer.
static void
s_checkpoint (void *arg)
{
    scorer_t *self = arg;
    if (!self->checkpoint)
        return;
    size_t n;
    while ((n = profiles_collect_dirty (self->profiles, self->collected, S_COLLECT)) > 0)
        checkpoint_submit (self->checkpoint, self->collected, n);
    if (self->cross_checkpoint)
        merchants_checkpoint_submit (self->cross_checkpoint, self->cross);
}

static void
s_metrics_new (scorer_t *self)
{
    self->scored = txw_counter_new ("txw_scored_total", NULL, "transactions scored");
    self->alerts = txw_counter_new ("txw_alerts_total", NULL,
                                    "fraud alerts raised (score at or above the threshold)");
    self->unkeyed = txw_counter_new ("txw_unkeyed_total", NULL,
                                     "transactions scored without account state (empty or too long id)");
    for (int b = 0; b < S_SCORE_BANDS; b++) {
        char labels [32];
        snprintf (labels, sizeof labels, "band=\"%d-%d\"", b * 10,
                  b == S_SCORE_BANDS - 1? 100: b * 10 + 9);
        self->bands [b] = txw_counter_new ("txw_score_bucket_total", labels,
                                           "scored transactions by score band");
    }
    for (int bit = 0; bit < TXW_REASON_COUNT; bit++) {
        char labels [64];
        snprintf (labels, sizeof labels, "reason=\"%s\"", txw_reason_name (bit));
        self->reasons [bit] = txw_counter_new ("txw_reason_total", labels,
                                               "scored transactions with this reason code");
    }
    self->reloads_ok = txw_counter_new ("txw_reloads_total", "result=\"ok\"",
                                        "rule and model reloads");
    self->reloads_failed = txw_counter_new ("txw_reloads_total", "result=\"refused\"",
                                            "rule and model reloads");
    self->evicted_cap = txw_counter_new ("txw_accounts_evicted_total", "cause=\"cap\"",
                                         "account states evicted");
    self->again = txw_counter_new ("txw_duplicate_transactions_total", NULL,
        "transactions whose tx_id was scored before (in this process's life): scored, "
        "not counted in the account's history again, no alert");
    self->corrections = txw_counter_new ("txw_corrections_forwarded_total", NULL,
        "corrections sent on to the aggregator shard of their account");
    self->evicted_idle = txw_counter_new ("txw_accounts_evicted_total", "cause=\"idle\"",
                                          "account states evicted");
    self->accounts = txw_gauge_new ("txw_accounts", NULL, "account states held");
    self->merchants = txw_gauge_new ("txw_scorer_merchants", NULL,
                                     "merchant states held (cross-account signals)");
    self->devices = txw_gauge_new ("txw_scorer_devices", NULL,
                                   "device states held (cross-account signals)");
    self->cross_evicted = txw_counter_new ("txw_scorer_cross_evicted_total", NULL,
        "merchant, device and account-visit states evicted for a newer one in their set");
    self->shard = txw_gauge_new ("txw_shard", NULL, "this scorer's shard number");
    self->supervised_loaded = txw_gauge_new ("txw_scorer_supervised_loaded", NULL,
        "1 while a supervised model sets supervised_p and the score is supervised_p on the "
        "model's scale (its operating point scores 80); "
        "0: the score is the rules' sum, with the forest (no model file yet, e.g. too few "
        "labels to train one)");
    self->threshold = txw_gauge_new ("txw_scorer_alert_threshold", NULL,
        "score at or above which a transaction raises its fraud alert: --alert-threshold, "
        "or from the supervised model's score table (--alert-precision, --alert-budget)");
    txw_gauge_set (self->shard, self->cfg->shard);
    self->e2e = txw_histogram_new_fine ("txw_e2e_latency_seconds",
                                        "producer send to scored, per transaction",
                                        "txw_e2e_latency_fine_seconds");
}

//  --- Rules, model and reloads --------------------------------------------------

//  The rule set and the model are one unit: both are read and checked
//  before either replaces what runs, and scored transactions carry both
//  versions ("rules-3+if-20261122T2140").
static int
s_load (scorer_t *self, rules_t **rules_p, model_t **model_p, gbdt_t **supervised_p)
{
    const char *rules_path = self->cfg->rules_file;
    const char *model_path = self->cfg->model_file;
    const char *supervised_path = self->cfg->supervised_file;
    rules_set_t *set = malloc (sizeof *set);
    char err [512];
    model_t *model = NULL;
    gbdt_t *supervised = NULL;
    rules_t *rules = NULL;
    if (!set)
        log_error ("out of memory reading %s", rules_path);
    else
    if (*rules_path && ruleset_load (rules_path, set, err, sizeof err))
        log_error ("rule file refused: %s", err);
    else
    if (*model_path && !(stat (model_path, &(struct stat) { 0 }) && errno == ENOENT)
    &&  !(model = model_load (model_path, err, sizeof err)))
        log_error ("model file refused: %s", err);
    else
    //  No supervised model file yet (txw-train writes none while labels are
    //  too few) is no supervised model: supervised_p stays 0.
    if (*supervised_path && !(stat (supervised_path, &(struct stat) { 0 }) && errno == ENOENT)
    &&  !(supervised = gbdt_load (supervised_path, err, sizeof err)))
        log_error ("supervised model file refused: %s", err);
    else {
        if (*supervised_path && !supervised)
            log_warn ("no supervised model file at %s: supervised_p stays 0 (the score is the"
                      " rules' sum)", supervised_path);
        //  No file at --model yet (before the first training): the rules
        //  alone, until the file watch sees one written there.
        if (*model_path && !model)
            log_warn ("no model file at %s: scoring with the rules alone", model_path);
        const rules_set_t *use = *rules_path? set: ruleset_default ();
        char version [TXW_NAME_MAX + 1];
        snprintf (version, sizeof version, "%.*s%s%.*s", 12, use->version, model? "+": "",
                  19, model? model_version (model): "");
        if (!(rules = rules_new (use, version)))
            log_error ("rule set refused: out of memory");
    }
    free (set);
    if (!rules) {
        model_destroy (&model);
        gbdt_destroy (&supervised);
        return -1;
    }
    rules_use_supervised (rules, supervised);
    *rules_p = rules;
    *model_p = model;
    *supervised_p = supervised;
    return 0;
}

//  True if the file at path is not the one st describes; st is updated.
static bool
s_file_changed (const char *path, struct stat *st)
{
    struct stat now;
    if (!*path || stat (path, &now))
        return false;           //  none, or gone for a moment (being replaced)
    bool changed = now.st_mtim.tv_sec != st->st_mtim.tv_sec
                || now.st_mtim.tv_nsec != st->st_mtim.tv_nsec
                || now.st_ino != st->st_ino || now.st_size != st->st_size;
    *st = now;
    return changed;
}

//  Replaces the running rules and model with a fresh read, if both are good.
//  Records a reload in the audit log (when there is a database): what
//  changed, why, and the versions before and after.
static void
s_audit_reload (scorer_t *self, const char *action, const char *why, const rules_t *now)
{
    if (!self->audit)
        return;
    json_t *detail = json_pack ("{s:s,s:s,s:s*,s:s*,s:s*,s:s*}", "why", why,
                                "was", rules_model_version (self->rules),
                                "now", now? rules_model_version (now): NULL,
                                "model_file", *self->cfg->model_file? self->cfg->model_file: NULL,
                                "supervised_was", self->supervised?
                                    gbdt_version (self->supervised): NULL,
                                "supervised_file", *self->cfg->supervised_file?
                                    self->cfg->supervised_file: NULL);
    char *text = detail? json_dumps (detail, JSON_COMPACT): NULL;
    txw_auditlog_add (self->audit, action, self->cfg->rules_file, text);
    free (text);
    json_decref (detail);
}

//  The alert threshold: --alert-threshold, or the lowest score at which
//  the score table of supervised (its calibration part, scored whole)
//  reaches --alert-precision or stays within --alert-budget alerts an hour.
//  At start, before the cross-account state is made with it, and for every
//  supervised model reloaded, whose table it follows (a reload whose model
//  gives none is refused). Returns it, or -1 (logged).
static int
s_alert_threshold (scorer_t *self, const gbdt_t *supervised)
{
    const scorer_config_t *cfg = self->cfg;
    double target = cfg->alert_precision > 0? cfg->alert_precision: cfg->alert_budget;
    const char *option = cfg->alert_precision > 0? "--alert-precision": "--alert-budget";
    if (cfg->alert_precision <= 0 && cfg->alert_budget <= 0)
        return (int) cfg->alert_threshold;
    if (cfg->alert_precision > 0 && cfg->alert_budget > 0) {
        log_error ("--alert-precision and --alert-budget are alternatives: give one");
        return -1;
    }
    if (!supervised || gbdt_scores (supervised)->hours <= 0) {
        log_error ("%s needs a supervised model file with a score table (--supervised)", option);
        return -1;
    }
    double achieved = 0;
    int threshold = cfg->alert_precision > 0
        ? gbdt_threshold_for_precision (supervised, target, &achieved)
        : gbdt_threshold_for_budget (supervised, target, &achieved);
    if (threshold < 0) {
        log_error ("%s %g: no alert threshold of %s's score table reaches it", option, target,
                   gbdt_version (supervised));
        return -1;
    }
    log_info ("alert threshold %d from %s %g: %s %.3f on the calibration part of %s"
              " (%.1f hours), instead of --alert-threshold %lld", threshold, option, target,
              cfg->alert_precision > 0? "precision": "alerts an hour", achieved,
              gbdt_version (supervised), (double) gbdt_scores (supervised)->hours,
              (long long) cfg->alert_threshold);
    return threshold;
}

//  Alerts and the cross-account state's fraud credit follow threshold from
//  the next transaction on.
static void
s_use_threshold (scorer_t *self, int threshold)
{
    if (threshold != self->alert_threshold)
        log_info ("alert threshold now %d, was %d", threshold, self->alert_threshold);
    self->alert_threshold = threshold;
    if (self->cross)
        merchants_set_alert_threshold (self->cross, threshold);
    txw_gauge_set (self->threshold, threshold);
}

static void
s_reload (scorer_t *self, const char *why)
{
    rules_t *rules;
    model_t *model;
    gbdt_t *supervised;
    int threshold = -1;
    if (s_load (self, &rules, &model, &supervised) == 0
    &&  (threshold = s_alert_threshold (self, supervised)) < 0) {
        rules_destroy (&rules);
        model_destroy (&model);
        gbdt_destroy (&supervised);
    }
    if (threshold < 0) {
        txw_counter_add (self->reloads_failed, 1);
        log_warn ("reload (%s) failed: still scoring with %s", why,
                  rules_model_version (self->rules));
        s_audit_reload (self, "scorer.reload_refused", why, NULL);
        return;
    }
    s_audit_reload (self, "scorer.reload", why, rules);
    char score [80] = "the rules' sum";
    if (supervised)
        snprintf (score, sizeof score, "supervised_p, %.9g of it scoring 80",
                  gbdt_operating (supervised));
    log_info ("reload (%s): now scoring with %s (%zu rules%s), supervised model %s (score: %s),"
              " was %s", why, rules_model_version (rules), rules_count (rules),
              model? " and the forest": "", supervised? gbdt_version (supervised): "none",
              score, rules_model_version (self->rules));
    rules_destroy (&self->rules);
    model_destroy (&self->model);
    gbdt_destroy (&self->supervised);
    self->rules = rules;
    self->model = model;
    self->supervised = supervised;
    txw_gauge_set (self->supervised_loaded, supervised != NULL);
    s_use_threshold (self, threshold);
    rules_use_cross (self->rules, self->cross);
    txw_counter_add (self->reloads_ok, 1);
}

//  Between batches: a SIGHUP reloads the rule and model files.
static void
s_check_reload (scorer_t *self)
{
    const scorer_config_t *cfg = self->cfg;
    if (!self->svc->reload)
        return;
    self->svc->reload = 0;
    s_file_changed (cfg->rules_file, &self->rules_stat);
    s_file_changed (cfg->model_file, &self->model_stat);
    s_file_changed (cfg->supervised_file, &self->supervised_stat);
    s_reload (self, "SIGHUP");
}

//  Every --watch-s: a rule or model file that changed on disk. A changed
//  file is read once, good or bad: a bad one is not retried every few
//  seconds, only when it changes again.
static void
s_watch_files (void *arg)
{
    scorer_t *self = arg;
    const scorer_config_t *cfg = self->cfg;
    bool rules_changed = s_file_changed (cfg->rules_file, &self->rules_stat);
    bool model_changed = s_file_changed (cfg->model_file, &self->model_stat);
    bool supervised_changed = s_file_changed (cfg->supervised_file, &self->supervised_stat);
    if (rules_changed || model_changed || supervised_changed)
        s_reload (self, rules_changed? "rule file changed": model_changed? "model file changed"
                  : "supervised model file changed");
}

//  The model hook: the transaction's features, written out when asked
//  (--features-out), then the calibrated forest score.
static double
s_model (void *arg, const rules_signals_t *signals)
{
    scorer_t *self = arg;
    float x [FEATURE_COUNT];
    features_from_signals (signals, x);
    double score = model_score (self->model, x);
    if (self->features_out)
        features_csv_row (self->features_out, self->current->tx_id, score, x);
    return score;
}

scorer_t *
scorer_new (const scorer_config_t *cfg, txw_service_t *svc)
{
    scorer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    s_metrics_new (self);
    self->seen = txw_txset_new ((size_t) cfg->dedupe_capacity);
    if (!self->seen
    ||  getrandom (self->seen_key, sizeof self->seen_key, 0) != (ssize_t) sizeof self->seen_key) {
        log_error ("cannot set up the set of transactions seen");
        goto err;
    }
    self->profiles = profiles_new ((uint32_t) cfg->max_accounts, cfg->idle_evict_s * 1000);
    if (!self->profiles) {
        log_error ("cannot allocate state for %lld accounts", (long long) cfg->max_accounts);
        goto err;
    }
    if (s_load (self, &self->rules, &self->model, &self->supervised)
    ||  (self->alert_threshold = s_alert_threshold (self, self->supervised)) < 0)
        goto err;
    txw_gauge_set (self->threshold, self->alert_threshold);
    if (cfg->max_merchants > 0) {
        self->cross = merchants_new ((uint32_t) cfg->max_merchants, (uint32_t) cfg->max_devices,
                                     (uint32_t) cfg->max_accounts, self->alert_threshold);
        if (!self->cross) {
            log_error ("cannot allocate state for %lld merchants", (long long) cfg->max_merchants);
            goto err;
        }
    }
    rules_use_cross (self->rules, self->cross);
    txw_gauge_set (self->supervised_loaded, self->supervised != NULL);
    if (self->supervised)
        log_info ("supervised model %s: %d trees over %d signals; the score is supervised_p,"
                  " %.9g of it scoring 80", gbdt_version (self->supervised),
                  gbdt_tree_count (self->supervised), gbdt_feature_count (self->supervised),
                  gbdt_operating (self->supervised));
    s_file_changed (cfg->rules_file, &self->rules_stat);
    s_file_changed (cfg->model_file, &self->model_stat);
    s_file_changed (cfg->supervised_file, &self->supervised_stat);
    if (*cfg->supervised_out && !(self->supervised_out = fopen (cfg->supervised_out, "w"))) {
        log_error ("cannot write %s", cfg->supervised_out);
        goto err;
    }
    if (*cfg->features_out) {
        self->features_out = fopen (cfg->features_out, "w");
        if (!self->features_out) {
            log_error ("cannot write %s", cfg->features_out);
            goto err;
        }
        features_csv_header (self->features_out);
    }
    if (*cfg->database_url) {
        if (txw_pseudonym_key_is_random ())
            log_warn ("no --pseudonym-key-file: the account history checkpointed now cannot "
                      "be restored by the next start, which has another key");
        char consumer [32];
        snprintf (consumer, sizeof consumer, "scorer-%lld", (long long) cfg->shard);
        self->checkpoint = checkpoint_new (cfg->database_url, consumer, cfg->migrate);
        self->audit = txw_auditlog_new (cfg->database_url, svc->id);
        if (!self->audit)
            goto err;
        self->collected = malloc (S_COLLECT * sizeof *self->collected);
        long restored = self->checkpoint && self->collected
                      ? checkpoint_restore (self->checkpoint, self->profiles): -1;
        if (restored < 0)
            goto err;
        log_info ("resumed the history of %ld accounts from the last checkpoint", restored);
        txw_gauge_set (self->accounts, restored);
        if (self->cross) {
            self->cross_checkpoint = merchants_checkpoint_new (cfg->database_url, consumer);
            restored = self->cross_checkpoint
                     ? merchants_checkpoint_restore (self->cross_checkpoint, self->cross): -1;
            if (restored < 0)
                goto err;
            log_info ("resumed %ld merchant, device and visit records from the last "
                      "checkpoint", restored);
            txw_gauge_set (self->merchants, (int64_t) merchants_size (self->cross));
            txw_gauge_set (self->devices, (int64_t) merchants_devices (self->cross));
        }
    }
    self->in = txw_in_new_pull (cfg->bind, (int) cfg->svc.hwm, TXW_ADMIT_SCORER_PULL);
    if (self->in)
        txw_in_count_gaps (self->in, svc->gaps);
    self->router = txw_router_new (cfg->aggregator_endpoints, svc->id, (int) cfg->svc.hwm,
                                   (int) cfg->svc.linger_ms);
    self->pub = txw_out_new_pub (cfg->publish, TXW_ADMIT_SCORER_PUB, svc->id, 1000,
                                 (int) cfg->svc.linger_ms);
    if (!self->in || !self->router || !self->pub)
        goto err;
    txw_router_count (self->router, svc->records_out, svc->batches_out);
    txw_out_count (self->pub, svc->records_out, svc->batches_out);
    if (txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self))
        goto err;
    log_info ("shard %lld: pulling on %s, pushing to %u aggregator shard(s) at %s, "
              "alerts at score >= %lld published on %s, up to %lld accounts, "
              "idle eviction after %llds, model %s (%zu rules)",
              (long long) cfg->shard, cfg->bind, txw_router_shards (self->router),
              cfg->aggregator_endpoints, (long long) self->alert_threshold, cfg->publish,
              (long long) cfg->max_accounts, (long long) cfg->idle_evict_s,
              rules_model_version (self->rules), rules_count (self->rules));
    return self;
err:
    scorer_destroy (&self);
    return NULL;
}

void
scorer_destroy (scorer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scorer_t *self = *self_p;
    txw_in_destroy (&self->in);
    txw_router_destroy (&self->router);
    txw_out_destroy (&self->pub);
    profiles_destroy (&self->profiles);
    merchants_checkpoint_destroy (&self->cross_checkpoint);
    merchants_destroy (&self->cross);
    txw_txset_destroy (&self->seen);
    rules_destroy (&self->rules);
    model_destroy (&self->model);
    if (self->features_out)
        fclose (self->features_out);
    if (self->supervised_out)
        fclose (self->supervised_out);
    gbdt_destroy (&self->supervised);
    checkpoint_destroy (&self->checkpoint);
    txw_auditlog_destroy (&self->audit);
    free (self->collected);
    free (self);
    *self_p = NULL;
}

//  --- Output ----------------------------------------------------------------

//  Sends the batches that are due (or all with force). Returns -1 if a
//  send gave up because of shutdown.
static int
s_flush (scorer_t *self, bool force)
{
    int rc = txw_router_flush (self->router, force);
    if (txw_out_flush (self->pub, force))
        rc = -1;
    return rc;
}

//  Milliseconds until a batch is due, at most 100 so shutdown is prompt.
static int
s_due_ms (scorer_t *self)
{
    int due = 100;
    int d = txw_router_due_ms (self->router);
    if (d >= 0 && d < due)
        due = d;
    d = txw_out_due_ms (self->pub);
    if (d >= 0 && d < due)
        due = d;
    return due;
}

//  Writes the human summary of an alert: score and what each reason means.
static void
s_alert_message (const txw_tx_t *tx, char *out, size_t size)
{
    size_t o = (size_t) snprintf (out, size, "score %u:", tx->score);
    const char *separator = " ";
    for (int bit = 0; bit < TXW_REASON_COUNT && o < size; bit++)
        if (tx->reasons & (1u << bit)) {
            o += (size_t) snprintf (out + o, size - o, "%s%s (%s)", separator,
                                    txw_reason_text (bit), txw_reason_name (bit));
            separator = "; ";
        }
}

//  Raises the alert for a scored transaction: the full record to the
//  account's aggregator shard, a copy with the account's pseudonym to the
//  PUB.
static void
s_alert (scorer_t *self, txw_out_t *shard, const txw_tx_t *tx)
{
    txw_alert_t alert;
    memset (&alert, 0, sizeof alert);
    snprintf (alert.kind, sizeof alert.kind, "fraud");
    memcpy (alert.tx_id, tx->tx_id, sizeof alert.tx_id);
    alert.ts_ms = tx->ts_ms;
    memcpy (alert.account_id, tx->account_id, sizeof alert.account_id);
    alert.score = tx->score;
    alert.reasons = tx->reasons;
    alert.amount_minor = tx->amount_minor;
    memcpy (alert.currency, tx->currency, sizeof alert.currency);
    alert.amount_rep_minor = tx->amount_rep_minor;
    memcpy (alert.merchant_id, tx->merchant_id, sizeof alert.merchant_id);
    memcpy (alert.country, tx->country, sizeof alert.country);
    alert.channel = tx->channel;
    memcpy (alert.model_version, tx->model_version, sizeof alert.model_version);
    alert.raised_ms = txw_now_ms ();
    s_alert_message (tx, alert.message, sizeof alert.message);
    //  The supervised model's reasons: its top 3 features, signed.
    const rules_signals_t *signals = rules_supervised_signals (self->rules);
    if (self->supervised && (tx->reasons & TXW_REASON_MODEL_SUPERVISED) && signals) {
        float x [RULES_SIG_COUNT];
        char top [160];
        gbdt_features (self->supervised, signals, x);
        gbdt_explain (self->supervised, x, 3, top, sizeof top);
        size_t used = strlen (alert.message);
        snprintf (alert.message + used, sizeof alert.message - used, "; model: %s", top);
    }

    txw_batch_t *batch = txw_out_batch (shard, TXW_MSG_ALERT);
    txw_alert_encode (&batch->pk, &alert);
    txw_out_added (shard, batch);

    txw_mask_id (tx->account_id, strnlen (tx->account_id, sizeof tx->account_id),
                 alert.account_id, sizeof alert.account_id);
    batch = txw_out_batch (self->pub, TXW_MSG_ALERT);
    txw_alert_encode (&batch->pk, &alert);
    txw_out_added (self->pub, batch);
    txw_counter_add (self->alerts, 1);
}

//  --- Input -------------------------------------------------------------------

//  Scores one transaction and sends it on.
static void
s_score (scorer_t *self, txw_tx_t *tx)
{
    self->current = tx;
    //  A copy of a transaction scored before (a re-sent file, a producer
    //  re-sending) is scored but does not count in its account's history
    //  again, nor raise its alert again; the aggregator does not count it.
    uint64_t hash = txw_txset_hash (self->seen_key [0], self->seen_key [1], tx->tx_id,
                                    strnlen (tx->tx_id, sizeof tx->tx_id));
    bool again = !txw_txset_add (self->seen, hash);
    int rc = (again? rules_score_again: rules_score_tx) (self->rules, self->profiles, tx,
                                                        self->model? s_model: NULL, self);
    if (rc < 0)
        txw_counter_add (self->unkeyed, 1);
    if (self->supervised_out)
        fprintf (self->supervised_out, "%s\t%.6f\n", tx->tx_id, rules_supervised_p (self->rules));
    if (rc == 1)
        again = true;           //  the account had it (a checkpoint from before a restart)
    if (again)
        txw_counter_add (self->again, 1);
    txw_out_t *shard = txw_router_pick (self->router, tx->account_id,
                                        strnlen (tx->account_id, sizeof tx->account_id));
    txw_batch_t *batch = txw_out_batch (shard, TXW_MSG_SCORED_TX);
    txw_tx_encode (&batch->pk, tx);
    txw_out_added (shard, batch);

    txw_counter_add (self->scored, 1);
    txw_counter_add (self->bands [tx->score >= 100? S_SCORE_BANDS - 1: tx->score / 10], 1);
    for (uint32_t bits = tx->reasons; bits; bits &= bits - 1)
        txw_counter_add (self->reasons [__builtin_ctz (bits)], 1);
    if (tx->score >= self->alert_threshold && !again)
        s_alert (self, shard, tx);
    if (tx->origin_us > 0) {
        int64_t age = txw_now_us () - tx->origin_us;
        if (age >= 0)
            txw_histogram_observe_us (self->e2e, age);
    }
}

//  Sends a correction on to the aggregator shard of its account, the one
//  that counted the original. The profile does not learn from it: a
//  profile describes how the account behaves (pace, amounts, places,
//  devices), and a reversal or a chargeback does not change what the
//  account did. What a chargeback teaches is a label (the aggregator
//  writes it), and the account is marked stale for the rescoring job.
static void
s_correction (scorer_t *self, const txw_correction_t *c)
{
    txw_out_t *shard = txw_router_pick (self->router, c->account_id,
                                        strnlen (c->account_id, sizeof c->account_id));
    txw_batch_t *batch = txw_out_batch (shard, TXW_MSG_CORRECTION);
    txw_correction_encode (&batch->pk, c);
    txw_out_added (shard, batch);
    txw_counter_add (self->corrections, 1);
}

//  Scores every record of one received message, or forwards its
//  corrections. Returns the records handled.
static uint32_t
s_apply (scorer_t *self, const txw_envelope_t *env)
{
    if (env->type != TXW_MSG_TX && env->type != TXW_MSG_CORRECTION) {
        txw_service_malformed (self->svc, env, env->count? env->count: 1,
                               "the scorer takes transactions and corrections only");
        return 0;
    }
    txw_cursor_t cur = env->records;
    const char *error = NULL;
    uint32_t applied = 0;
    if (env->type == TXW_MSG_CORRECTION) {
        txw_correction_t c;
        for (; applied < env->count; applied++) {
            if (txw_correction_decode (&cur, &c, &error))
                break;
            s_correction (self, &c);
        }
    }
    else {
        txw_tx_t tx;
        for (; applied < env->count; applied++) {
            if (txw_tx_decode (&cur, false, &tx, &error))
                break;
            s_score (self, &tx);
        }
    }
    if (applied < env->count) {
        //  The records after a broken one cannot be located: count them all.
        txw_service_malformed (self->svc, env, env->count - applied, error? error: "bad record");
    }
    return applied;
}

static void
s_update_gauges (scorer_t *self)
{
    txw_gauge_set (self->accounts, (int64_t) profiles_size (self->profiles));
    uint64_t cap = profiles_evicted_cap (self->profiles);
    uint64_t idle = profiles_evicted_idle (self->profiles);
    txw_counter_add (self->evicted_cap, cap - self->evicted_cap_seen);
    txw_counter_add (self->evicted_idle, idle - self->evicted_idle_seen);
    self->evicted_cap_seen = cap;
    self->evicted_idle_seen = idle;
    if (self->cross) {
        txw_gauge_set (self->merchants, (int64_t) merchants_size (self->cross));
        txw_gauge_set (self->devices, (int64_t) merchants_devices (self->cross));
        uint64_t evicted = merchants_evicted (self->cross);
        txw_counter_add (self->cross_evicted, evicted - self->cross_evicted_seen);
        self->cross_evicted_seen = evicted;
    }
}

//  Receives and scores one message if one comes within timeout_ms.
static int
s_receive (scorer_t *self, int timeout_ms)
{
    zmq_msg_t msg;
    txw_envelope_t env;
    int rc = txw_in_recv (self->in, timeout_ms, &msg, &env);
    if (rc == 1) {
        int64_t started = txw_mono_us ();
        uint32_t applied = s_apply (self, &env);
        zmq_msg_close (&msg);
        txw_service_batch_in (self->svc, applied, started);
        s_update_gauges (self);
    }
    else
    if (rc < 0)
        txw_service_malformed (self->svc, NULL, 1, "not a valid envelope");
    return rc;
}

int
scorer_run (scorer_t *self)
{
    txw_timers_t timers;
    txw_timers_init (&timers);
    if (self->checkpoint)
        txw_timers_add (&timers, self->cfg->checkpoint_s * 1000, s_checkpoint, self);
    if (self->cfg->watch_s > 0)
        txw_timers_add (&timers, self->cfg->watch_s * 1000, s_watch_files, self);
    while (!self->svc->stop) {
        s_receive (self, txw_timers_wait_ms (&timers, s_due_ms (self)));
        s_flush (self, false);
        s_check_reload (self);
        txw_timers_run (&timers);
    }
    //  Stop taking new work but score what is already queued here (the
    //  validators count it as delivered), then send everything.
    log_info ("stopping: scoring queued messages and flushing");
    int64_t deadline = txw_mono_ms () + 2000;
    while (txw_mono_ms () < deadline && s_receive (self, 0) == 1)
        ;
    int rc = s_flush (self, true) == 0? 0: 1;
    s_update_gauges (self);
    s_checkpoint (self);
    if (self->checkpoint && checkpoint_drain (self->checkpoint, 10000))
        log_error ("account history changed since the last checkpoint could not be saved");
    if (self->cross_checkpoint && merchants_checkpoint_drain (self->cross_checkpoint, 10000))
        log_error ("merchant and device state changed since the last checkpoint could not "
                   "be saved");
    if (self->audit && txw_auditlog_drain (self->audit, 5000))
        log_error ("reloads since the last write could not be recorded in the audit log");
    if (rc)
        log_error ("some batches were dropped at shutdown: no aggregator took them");
    log_info ("stopped: %llu scored, %llu alerts, %zu accounts held",
              (unsigned long long) txw_counter_value (self->scored),
              (unsigned long long) txw_counter_value (self->alerts),
              profiles_size (self->profiles));
    return rc;
}
