/*  supervised - the supervised model: boosted trees fitted on fraud labels */

#include "supervised.h"
#include "clock.h"
#include "log.h"
#include "merchants.h"
#include "pgutil.h"
#include "profiles.h"
#include "txset.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_CAL_SHARE     0.2     //  the later part the calibration is fitted on
#define S_ETA           0.2
#define S_SAMPLE        100000  //  transactions kept to time the hot loop
#define S_MEASURE_PASSES 3      //  its passes, the best counting
#define S_ALERT_THRESHOLD 80    //  the scorer's default, for its merchants' fraud credit

//  --- Export: XGBoost's trees into the scorer's file ---------------------------

//  One XGBoost tree's arrays (its JSON model), as read.
typedef struct {
    json_t *left, *right, *feature, *cond, *default_left, *hess;
    size_t count;
} s_xtree_t;

static double
s_at (json_t *array, size_t i)
{
    return json_number_value (json_array_get (array, i));
}

//  The cover-weighted mean leaf value under node id, as XGBoost's
//  FillNodeMeanValue computes it (in single precision), into mean [id].
static float
s_mean (const s_xtree_t *x, int id, float *mean, int depth)
{
    int left = (int) s_at (x->left, (size_t) id);
    float value;
    if (left < 0 || depth > 64)
        value = (float) s_at (x->cond, (size_t) id);
    else {
        int right = (int) s_at (x->right, (size_t) id);
        value = s_mean (x, left, mean, depth + 1) * (float) s_at (x->hess, (size_t) left);
        value += s_mean (x, right, mean, depth + 1) * (float) s_at (x->hess, (size_t) right);
        value /= (float) s_at (x->hess, (size_t) id);
    }
    mean [id] = value;
    return value;
}

//  Lays the tree out breadth first, so each split's children are next to
//  each other after it (gbdt.h). Returns the node count, or 0.
static uint32_t
s_layout (const s_xtree_t *x, int features, gbdt_node_t *out)
{
    float *mean = calloc (x->count, sizeof *mean);
    int *queue = malloc (x->count * sizeof *queue);
    uint32_t head = 0, tail = 0;
    bool ok = mean && queue;
    if (ok) {
        s_mean (x, 0, mean, 0);
        queue [tail++] = 0;
    }
    while (ok && head < tail) {
        int id = queue [head];
        int left = (int) s_at (x->left, (size_t) id);
        gbdt_node_t *node = out + head++;
        node->mean = mean [id];
        node->value = (float) s_at (x->cond, (size_t) id);
        if (left < 0) {
            node->word = GBDT_LEAF;
            continue;
        }
        int right = (int) s_at (x->right, (size_t) id);
        int feature = (int) s_at (x->feature, (size_t) id);
        if (feature < 0 || feature >= features || tail + 2 > x->count
        ||  left >= (int) x->count || right >= (int) x->count) {
            ok = false;
            break;
        }
        node->word = (uint32_t) feature | (uint32_t) (s_at (x->default_left, (size_t) id) != 0) << 8
                   | tail << 9;
        queue [tail++] = left;
        queue [tail++] = right;
    }
    free (mean);
    free (queue);
    return ok? tail: 0;
}

gbdt_t *
supervised_export (BoosterHandle booster, const char *version, int features,
                   const int *signals, char *err, size_t err_size)
{
    bst_ulong len = 0;
    const char *raw = NULL;
    if (XGBoosterSaveModelToBuffer (booster, "{\"format\": \"json\"}", &len, &raw)) {
        snprintf (err, err_size, "XGBoost: %s", XGBGetLastError ());
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb (raw, len, 0, &jerr);
    json_t *learner = json_object_get (root, "learner");
    json_t *trees = json_object_get (json_object_get (json_object_get (
        learner, "gradient_booster"), "model"), "trees");
    const char *base_text = json_string_value (json_object_get (
        json_object_get (learner, "learner_model_param"), "base_score"));
    const char *objective = json_string_value (json_object_get (
        json_object_get (learner, "objective"), "name"));
    size_t count = json_array_size (trees);
    if (!root || !count || !base_text || !objective || strcmp (objective, "binary:logistic")) {
        snprintf (err, err_size, "XGBoost's model is not the binary:logistic trees expected");
        json_decref (root);
        return NULL;
    }
    //  binary:logistic keeps base_score as a probability; its margin is the
    //  logit, in single precision as XGBoost's ProbToMargin.
    float base = (float) strtod (base_text, NULL);
    float base_margin = -logf (1.0f / base - 1.0f);
    gbdt_node_t **nodes = calloc (count, sizeof *nodes);
    uint32_t *counts = calloc (count, sizeof *counts);
    gbdt_t *self = NULL;
    const char *why = nodes && counts? NULL: "out of memory";
    for (size_t t = 0; !why && t < count; t++) {
        json_t *tree = json_array_get (trees, t);
        s_xtree_t x = { json_object_get (tree, "left_children"),
                        json_object_get (tree, "right_children"),
                        json_object_get (tree, "split_indices"),
                        json_object_get (tree, "split_conditions"),
                        json_object_get (tree, "default_left"),
                        json_object_get (tree, "sum_hessian"), 0 };
        x.count = json_array_size (x.left);
        if (!x.count || x.count > GBDT_MAX_NODES || json_array_size (x.right) != x.count
        ||  json_array_size (x.feature) != x.count || json_array_size (x.cond) != x.count
        ||  json_array_size (x.default_left) != x.count || json_array_size (x.hess) != x.count)
            why = "a tree's arrays do not match";
        else
        if (!(nodes [t] = malloc (x.count * sizeof **nodes)))
            why = "out of memory";
        else
        if (!(counts [t] = s_layout (&x, features, nodes [t])))
            why = "a tree does not lay out (children or features out of range)";
    }
    const char *names [RULES_SIG_COUNT];
    for (int f = 0; f < features; f++)
        names [f] = rules_signal_name (signals [f]);
    if (why)
        snprintf (err, err_size, "%s", why);
    else
        self = gbdt_new (version, features, names, base_margin, (int) count,
                         (const gbdt_node_t *const *) nodes, counts, err, err_size);
    for (size_t t = 0; nodes && t < count; t++)
        free (nodes [t]);
    free (nodes);
    free (counts);
    json_decref (root);
    return self;
}

//  --- Calibration ----------------------------------------------------------------

int
supervised_platt (const double *margins, const float *labels, size_t n, float *a_out,
                  float *b_out)
{
    double pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += labels [i] > 0.5f;
    double neg = (double) n - pos;
    if (pos < 1 || neg < 1)
        return -1;
    //  Platt's targets: the labels pulled towards the middle by one
    //  observation each, so a separable part does not drive a to infinity.
    double hi = (pos + 1) / (pos + 2), lo = 1 / (neg + 2);
    double a = 1, b = 0;
    for (int iter = 0; iter < 100; iter++) {
        double ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
        for (size_t i = 0; i < n; i++) {
            double t = labels [i] > 0.5f? hi: lo;
            double p = 1 / (1 + exp (-(a * margins [i] + b)));
            double w = p * (1 - p);
            ga += (p - t) * margins [i];
            gb += p - t;
            haa += w * margins [i] * margins [i];
            hab += w * margins [i];
            hbb += w;
        }
        double det = haa * hbb - hab * hab;
        if (det <= 0)
            break;
        double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
        //  Damped: a step never moves a or b by more than 5.
        double scale = fmax (1, fmax (fabs (da), fabs (db)) / 5);
        a -= da / scale;
        b -= db / scale;
        if (fabs (da) + fabs (db) < 1e-9)
            break;
    }
    if (!(a > 0) || !isfinite (b))
        return -1;
    *a_out = (float) a;
    *b_out = (float) b;
    return 0;
}

//  The calibrated rows by probability, highest first.
typedef struct {
    double p;
    bool fraud;
} s_ranked_t;

static int
s_by_p_down (const void *a, const void *b)
{
    double x = ((const s_ranked_t *) a)->p, y = ((const s_ranked_t *) b)->p;
    return x > y? -1: x < y;
}

int
supervised_operating (const double *probabilities, const float *labels, size_t n,
                      double precision, double *p, supervised_operating_t *at)
{
    s_ranked_t *ranked = n? malloc (n * sizeof *ranked): NULL;
    if (!ranked)
        return -1;
    size_t total_fraud = 0;
    for (size_t i = 0; i < n; i++) {
        ranked [i] = (s_ranked_t) { probabilities [i], labels [i] > 0.5f };
        total_fraud += ranked [i].fraud;
    }
    qsort (ranked, n, sizeof *ranked, s_by_p_down);
    //  From the top down, a point at each distinct probability (ties are
    //  alerted together): the lowest one still at the precision wins.
    size_t fraud = 0;
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        fraud += ranked [i].fraud;
        if (i + 1 < n && ranked [i + 1].p == ranked [i].p)
            continue;
        double share = (double) fraud / (double) (i + 1);
        if (fraud >= SUPERVISED_OPERATING_MIN_FRAUD && share >= precision
        &&  ranked [i].p >= GBDT_OPERATING_MIN && ranked [i].p <= GBDT_OPERATING_MAX) {
            *p = ranked [i].p;
            *at = (supervised_operating_t) { true, share, (double) fraud / (double) total_fraud,
                                             total_fraud };
            rc = 0;
        }
    }
    if (rc)
        *at = (supervised_operating_t) { false, 0, 0, total_fraud };
    free (ranked);
    return rc;
}

size_t
supervised_calibration_start (const float *labels, size_t n)
{
    size_t fraud = 0;
    for (size_t i = 0; i < n; i++)
        fraud += labels [i] > 0.5f;
    size_t start = (size_t) ((double) n * (1 - S_CAL_SHARE));
    //  The latest fifth, reaching back until it holds a fifth of each
    //  class (rounded up; the product's last bit is not a row more).
    size_t need_fraud = (size_t) ceil (S_CAL_SHARE * (double) fraud - 1e-9);
    size_t need_legit = (size_t) ceil (S_CAL_SHARE * (double) (n - fraud) - 1e-9);
    size_t got_fraud = 0, got_legit = 0, i = n;
    while (i > 0 && (i > start || got_fraud < need_fraud || got_legit < need_legit)) {
        i--;
        if (labels [i] > 0.5f)
            got_fraud++;
        else
            got_legit++;
    }
    return i;
}

//  --- Fitting -----------------------------------------------------------------------

static int
s_xgb (int rc, char *err, size_t err_size)
{
    if (rc)
        snprintf (err, err_size, "XGBoost: %s", XGBGetLastError ());
    return rc;
}

gbdt_t *
supervised_fit (const float *rows, const float *labels, size_t n, size_t fit, int features,
                const int *signals, const supervised_params_t *params, const char *version,
                supervised_operating_t *operating, char *err, size_t err_size)
{
    DMatrixHandle train = NULL;
    BoosterHandle booster = NULL;
    gbdt_t *self = NULL;
    double *margins = NULL;
    char value [32];
    if (s_xgb (XGDMatrixCreateFromMat (rows, fit, (bst_ulong) features, NAN, &train), err, err_size)
    ||  s_xgb (XGDMatrixSetFloatInfo (train, "label", labels, fit), err, err_size)
    ||  s_xgb (XGBoosterCreate (&train, 1, &booster), err, err_size))
        goto done;
    snprintf (value, sizeof value, "%d", params->depth);
    const char *settings [][2] = {
        { "objective", "binary:logistic" }, { "tree_method", "hist" }, { "max_depth", value },
        { "nthread", "1" }, { "verbosity", "0" }, { "base_score", "0.5" }
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings [0]; i++)
        if (s_xgb (XGBoosterSetParam (booster, settings [i][0], settings [i][1]), err, err_size))
            goto done;
    char eta [32], seed [32];
    snprintf (eta, sizeof eta, "%g", params->eta);
    snprintf (seed, sizeof seed, "%llu", (unsigned long long) params->seed);
    if (s_xgb (XGBoosterSetParam (booster, "eta", eta), err, err_size)
    ||  s_xgb (XGBoosterSetParam (booster, "seed", seed), err, err_size))
        goto done;
    for (int i = 0; i < params->trees; i++)
        if (s_xgb (XGBoosterUpdateOneIter (booster, i, train), err, err_size))
            goto done;
    if (!(self = supervised_export (booster, version, features, signals, err, err_size)))
        goto done;
    //  The calibration, on the later part the trees never saw.
    if (fit >= n) {
        snprintf (err, err_size, "the calibration part is empty");
        gbdt_destroy (&self);
        goto done;
    }
    margins = calloc (n - fit, sizeof *margins);
    if (!margins) {
        snprintf (err, err_size, "out of memory");
        gbdt_destroy (&self);
        goto done;
    }
    for (size_t i = fit; i < n; i++)
        margins [i - fit] = gbdt_margin (self, rows + i * (size_t) features);
    float a, b;
    if (supervised_platt (margins, labels + fit, n - fit, &a, &b)) {
        snprintf (err, err_size, "the calibration part has no fraud or no legitimate row, or"
                  " the trees do not rank it (no increasing calibration)");
        gbdt_destroy (&self);
        goto done;
    }
    gbdt_set_calibration (self, a, b);
    //  The operating point, on the same part: its probabilities in place
    //  of its margins (calibrated, not walked through the trees again).
    for (size_t i = 0; i < n - fit; i++)
        margins [i] = gbdt_calibrated (self, margins [i]);
    double point;
    supervised_operating_t chosen = { 0 };
    if (supervised_operating (margins, labels + fit, n - fit, params->operating_precision,
                              &point, &chosen) == 0)
        gbdt_set_operating (self, point);
    if (operating)
        *operating = chosen;
done:
    free (margins);
    XGBoosterFree (booster);
    XGDMatrixFree (train);
    return self;
}

//  --- Labels ------------------------------------------------------------------------

//  A label by the hash of its tx_id (or account_id), sorted for bsearch.
typedef struct {
    uint64_t hash;
    int label;                  //  1 fraud, 0 legit, -1 left out
} s_label_t;

typedef struct {
    s_label_t *items;
    size_t count, size;
} s_labels_t;

static int
s_by_hash (const void *a, const void *b)
{
    uint64_t x = ((const s_label_t *) a)->hash, y = ((const s_label_t *) b)->hash;
    return x < y? -1: x > y;
}

static uint64_t
s_hash (const char *id)
{
    return txw_txset_hash (0x7478772d6c61626cULL, 0x656c732d73757076ULL, id, strlen (id));
}

static int
s_add (s_labels_t *set, const char *id, int label)
{
    if (set->count == set->size) {
        size_t size = set->size? set->size * 2: 4096;
        s_label_t *items = realloc (set->items, size * sizeof *items);
        if (!items)
            return -1;
        set->items = items;
        set->size = size;
    }
    set->items [set->count++] = (s_label_t) { s_hash (id), label };
    return 0;
}

static const s_label_t *
s_find (const s_labels_t *set, const char *id)
{
    s_label_t key = { s_hash (id), 0 };
    return set->count? bsearch (&key, set->items, set->count, sizeof key, s_by_hash): NULL;
}

//  True if pattern is one of the comma-separated names in list.
static bool
s_listed (const char *list, const char *pattern)
{
    size_t len = strlen (pattern);
    for (const char *at = list; len && *at; ) {
        const char *end = strchr (at, ',');
        size_t n = end? (size_t) (end - at): strlen (at);
        if (n == len && !memcmp (at, pattern, len))
            return true;
        at += n + (end != NULL);
    }
    return false;
}

//  The generator's labelled CSV: tx_id first, is_fraud and fraud_pattern
//  among the last columns (after fields that may be quoted), so each row
//  is read from both ends.
static int
s_labels_csv (const train_config_t *cfg, s_labels_t *tx_labels)
{
    FILE *file = fopen (cfg->labels_csv, "r");
    if (!file) {
        log_error ("cannot read %s", cfg->labels_csv);
        return -1;
    }
    char line [4096];
    int from_end_fraud = -1, from_end_pattern = -1;
    if (fgets (line, sizeof line, file)) {
        line [strcspn (line, "\r\n")] = 0;
        int columns = 1;
        for (char *c = line; *c; c++)
            columns += *c == ',';
        int at = 0;
        for (char *name = strtok (line, ","); name; name = strtok (NULL, ","), at++) {
            if (!strcmp (name, "is_fraud"))
                from_end_fraud = columns - 1 - at;
            if (!strcmp (name, "fraud_pattern"))
                from_end_pattern = columns - 1 - at;
        }
    }
    if (from_end_fraud < 0 || from_end_pattern < 0 || strncmp (line, "tx_id", 5)) {
        log_error ("%s: no tx_id, is_fraud and fraud_pattern columns in its header",
                   cfg->labels_csv);
        fclose (file);
        return -1;
    }
    int rc = 0;
    while (rc == 0 && fgets (line, sizeof line, file)) {
        line [strcspn (line, "\r\n")] = 0;
        const char *fields [8] = { NULL };
        int max = from_end_fraud > from_end_pattern? from_end_fraud: from_end_pattern;
        char *end = line + strlen (line);
        for (int k = 0; k <= max && k < 8; k++) {
            char *comma = end > line? memrchr (line, ',', (size_t) (end - line)): NULL;
            if (!comma)
                break;
            *comma = 0;
            fields [k] = comma + 1;
            end = comma;
        }
        char *comma = strchr (line, ',');
        if (!fields [from_end_fraud] || !fields [from_end_pattern] || !comma)
            continue;
        *comma = 0;
        //  A held-out typology is out of training altogether: not fraud,
        //  and not legitimate either.
        int label = s_listed (cfg->exclude_patterns, fields [from_end_pattern])? -1
                  : *fields [from_end_fraud] == '1';
        rc = s_add (tx_labels, line, label);
    }
    fclose (file);
    return rc;
}

//  txw_data.labels (labels are per transaction): a chargeback outranks a
//  disposition of the same transaction (the bank's word over an
//  analyst's), then the later one.
static int
s_labels_db (PGconn *conn, s_labels_t *tx_labels)
{
    PGresult *res = PQexec (conn,
        "SELECT DISTINCT ON (tx_id) tx_id, label FROM txw_data.labels"
        " WHERE label IN ('fraud', 'legit')"
        " ORDER BY tx_id, source = 'chargeback' DESC, set_at DESC");
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read txw_data.labels: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples (res); i++)
        rc = s_add (tx_labels, PQgetvalue (res, i, 0), !strcmp (PQgetvalue (res, i, 1), "fraud"));
    PQclear (res);
    return rc;
}

//  --- The run ----------------------------------------------------------------------

typedef struct {
    const train_config_t *cfg;
    rules_t *rules;
    profiles_t *profiles;
    const model_t *model;
    s_labels_t labels;
    int signals [RULES_SIG_COUNT];
    int features;
    float current [RULES_SIG_COUNT];
    float *rows;                //  labelled rows, in event-time order
    float *y;
    size_t count, size;
    size_t fraud;
    bool failed;
    txw_tx_t *sample;           //  the first S_SAMPLE transactions, as read
    size_t sampled;
    //  The second pass: the score table of the calibration part
    size_t fit;                 //  labelled rows before it
    size_t labelled;            //  labelled rows seen so far
    int64_t from_ms, to_ms;     //  its event time
    gbdt_scores_t scores;
    FILE *scores_out;           //  --supervised-scores-out, or NULL
} s_run_t;

//  The model hook while replaying: the forest's score as the scorer's hook
//  gives it, and the row of every signal with it (what gbdt_features
//  gathers in the scorer).
static double
s_capture (void *arg, const rules_signals_t *signals)
{
    s_run_t *run = arg;
    rules_signals_t all = *signals;
    if (run->model)
        all.v [RULES_SIG_MODEL_SCORE] = replay_model ((void *) run->model, signals);
    gbdt_gather (run->signals, run->features, &all, run->current);
    return all.v [RULES_SIG_MODEL_SCORE];
}

static void
s_visit (void *arg, txw_tx_t *tx)
{
    s_run_t *run = arg;
    if (run->sampled < S_SAMPLE)
        run->sample [run->sampled++] = *tx;
    rules_score_tx (run->rules, run->profiles, tx, s_capture, run);
    const s_label_t *label = s_find (&run->labels, tx->tx_id);
    if (!label || label->label < 0 || run->failed)
        return;
    if (run->count == run->size) {
        size_t size = run->size? run->size * 2: 65536;
        float *rows = realloc (run->rows, size * (size_t) run->features * sizeof *rows);
        float *y = rows? realloc (run->y, size * sizeof *y): NULL;
        if (rows)
            run->rows = rows;
        if (!y) {
            run->failed = true;
            return;
        }
        run->y = y;
        run->size = size;
    }
    memcpy (run->rows + run->count * (size_t) run->features, run->current,
            (size_t) run->features * sizeof *run->rows);
    run->y [run->count++] = (float) label->label;
    run->fraud += label->label == 1;
}

//  The second pass, with the new model: every transaction from the first
//  labelled one of the calibration part on is scored whole (rules, forest,
//  supervised model) and counted by score, labelled or not, so the table
//  shows alerts an hour as well as precision.
static void
s_tally (void *arg, txw_tx_t *tx)
{
    s_run_t *run = arg;
    replay_score (run->rules, run->profiles, run->model, tx);
    const s_label_t *label = s_find (&run->labels, tx->tx_id);
    bool labelled = label && label->label >= 0;
    if (labelled && run->labelled++ == run->fit)
        run->from_ms = tx->ts_ms;
    if (run->labelled <= run->fit)
        return;
    int score = tx->score > 100? 100: tx->score;
    run->scores.all [score]++;
    if (labelled)
        (label->label? run->scores.fraud: run->scores.legit) [score]++;
    run->to_ms = tx->ts_ms;
    if (run->scores_out)
        fprintf (run->scores_out, "%s\t%d\n", tx->tx_id, score);
}

//  Fresh account and cross-account state for a pass over the span.
static int
s_fresh_state (s_run_t *run, merchants_t **cross)
{
    const train_config_t *cfg = run->cfg;
    profiles_destroy (&run->profiles);
    merchants_destroy (cross);
    run->profiles = profiles_new ((uint32_t) cfg->max_accounts, 0);
    if (cfg->max_merchants > 0)
        *cross = merchants_new ((uint32_t) cfg->max_merchants, (uint32_t) cfg->max_devices,
                                (uint32_t) cfg->max_accounts, S_ALERT_THRESHOLD);
    if (!run->profiles || (cfg->max_merchants > 0 && !*cross)) {
        log_error ("out of memory for the replay's account and merchant state");
        return -1;
    }
    rules_use_cross (run->rules, *cross);
    return 0;
}

//  One core's time so far (this thread's CPU time): the hot loop's figure
//  is the work of the step, not what else the machine runs meanwhile.
static double
s_cpu_s (void)
{
    struct timespec now;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

//  The scorer's whole step per transaction (account state, signals,
//  cross-account state, forest, supervised model, rules; one core): with
//  the rules alone, with the forest, and with the forest and the
//  supervised model. Each pass starts from fresh state (cross is the
//  replay's merchant state) and scores the first half of the sample
//  untimed, so the second half, timed, meets the state a running scorer
//  has (its records there, its tables' pages touched); the best of
//  S_MEASURE_PASSES passes counts.
static void
s_measure (s_run_t *run, const gbdt_t *self, merchants_t **cross)
{
    const model_t *forest [3] = { NULL, run->model, run->model };
    const gbdt_t *supervised [3] = { NULL, NULL, self };
    double rate [3] = { 0, 0, 0 };
    size_t half = run->sampled / 2;
    for (int kind = 0; kind < 3; kind++)
        for (int pass = 0; pass < S_MEASURE_PASSES; pass++) {
            if (s_fresh_state (run, cross))
                return;
            if (*cross && merchants_populate (*cross))
                log_warn ("the hot loop's cross-account tables could not be made resident"
                          " first: its figure includes their first touches");
            rules_use_supervised (run->rules, supervised [kind]);
            double started = 0;
            for (size_t i = 0; i < run->sampled; i++) {
                if (i == half)
                    started = s_cpu_s ();
                txw_tx_t tx = run->sample [i];
                replay_score (run->rules, run->profiles, forest [kind], &tx);
            }
            double took = s_cpu_s () - started;
            double pass_rate = (double) (run->sampled - half) / (took > 0? took: 1e-9);
            if (pass_rate > rate [kind])
                rate [kind] = pass_rate;
        }
    rules_use_supervised (run->rules, NULL);
    log_info ("hot loop on one core: whole scoring step %.0f tx/s with the supervised model"
              " (%s cross-account state), %.0f with the forest alone, %.0f with the rules"
              " alone (%zu transactions after %zu, best of %d)", rate [2],
              *cross? "with": "without", rate [1], rate [0], run->sampled - half, half,
              S_MEASURE_PASSES);
}

int
supervised_run (const train_config_t *cfg)
{
    s_run_t run = { .cfg = cfg };
    run.features = gbdt_training_signals (run.signals);
    char err [512];
    int rc = 1;
    merchants_t *cross = NULL;
    gbdt_t *self = NULL;
    PGconn *conn = txw_pg_connect (cfg->database_url);
    //  The rules and the forest as the scorer loads them: the one just
    //  trained at --out (none there: model_score stays 0, as in the scorer).
    model_t *model = NULL;
    if (!conn || replay_load (cfg->rules_file, cfg->model_out, &run.rules, &model,
                              err, sizeof err)) {
        if (conn)
            log_error ("cannot load the rules and forest: %s", err);
        goto done;
    }
    run.model = model;
    run.sample = malloc (S_SAMPLE * sizeof *run.sample);
    if (!run.sample || s_fresh_state (&run, &cross)) {
        log_error ("out of memory for the replay");
        goto done;
    }
    if (*cfg->labels_csv? s_labels_csv (cfg, &run.labels): s_labels_db (conn, &run.labels))
        goto done;
    if (run.labels.count)       //  qsort's array may not be NULL, even for none
        qsort (run.labels.items, run.labels.count, sizeof *run.labels.items, s_by_hash);
    int64_t started = txw_mono_ms ();
    if (train_replay (cfg, conn, s_visit, &run) || run.failed) {
        log_error ("the supervised model's replay failed");
        goto done;
    }
    size_t legit = run.count - run.fraud;
    if (run.fraud < (size_t) cfg->min_fraud_labels || legit < (size_t) cfg->min_legit_labels) {
        log_info ("too few labels for the supervised model: %zu fraud and %zu legitimate"
                  " transactions in the range (at least --min-fraud-labels %lld and"
                  " --min-legit-labels %lld): none trained, %s left as it is; the scorer"
                  " runs on rules and forest", run.fraud, legit,
                  (long long) cfg->min_fraud_labels, (long long) cfg->min_legit_labels,
                  cfg->supervised_out);
        rc = 0;
        goto done;
    }
    char version [GBDT_VERSION_MAX + 1];
    time_t now = time (NULL);
    strftime (version, sizeof version, "gb-%Y%m%dT%H%M", gmtime (&now));
    supervised_params_t params = { (int) cfg->supervised_trees, (int) cfg->supervised_depth,
                                   S_ETA, (uint64_t) cfg->seed, cfg->operating_precision };
    supervised_operating_t operating;
    size_t fit = supervised_calibration_start (run.y, run.count);
    self = supervised_fit (run.rows, run.y, run.count, fit, run.features, run.signals, &params,
                           version, &operating, err, sizeof err);
    if (!self) {
        log_error ("supervised model not trained: %s", err);
        goto done;
    }
    run.fit = fit;
    if (*cfg->supervised_scores_out && !(run.scores_out = fopen (cfg->supervised_scores_out, "w"))) {
        log_error ("cannot write the calibration part's scores to %s", cfg->supervised_scores_out);
        goto done;
    }
    rules_use_supervised (run.rules, self);
    if (s_fresh_state (&run, &cross) || train_replay (cfg, conn, s_tally, &run)) {
        log_error ("the supervised model's score table could not be made");
        goto done;
    }
    rules_use_supervised (run.rules, NULL);
    FILE *scores_out = run.scores_out;
    run.scores_out = NULL;
    if (scores_out && (ferror (scores_out) | fclose (scores_out))) {   //  closed either way
        log_error ("cannot write the calibration part's scores to %s", cfg->supervised_scores_out);
        goto done;
    }
    run.scores.hours = (float) ((double) (run.to_ms - run.from_ms) / 3600000.0);
    gbdt_set_scores (self, &run.scores);
    if (train_keep_previous (cfg->supervised_out)
    ||  gbdt_save (self, cfg->supervised_out, err, sizeof err)) {
        log_error ("cannot save the supervised model: %s", err);
        goto done;
    }
    float a, b;
    gbdt_calibration (self, &a, &b);
    log_info ("trained %s: %d trees of depth %lld on the first %zu of %zu labelled transactions"
              " (%zu fraud in all), calibrated on the last %zu (p = 1 / (1 + exp (-(%.3f margin"
              " %+.3f)))) in %.1f s, saved to %s", version, gbdt_tree_count (self),
              (long long) cfg->supervised_depth, fit, run.count, run.fraud, run.count - fit, a, b,
              (txw_mono_ms () - started) / 1000.0, cfg->supervised_out);
    if (operating.chosen)
        log_info ("operating point: supervised_p %.6f scores 80, where the calibration part's"
                  " alerts are %.3f fraud (--operating-precision %.3f) and catch %.3f of its"
                  " %zu frauds", gbdt_operating (self), operating.precision,
                  cfg->operating_precision, operating.recall, operating.fraud);
    else
        log_warn ("operating point: no probability of the calibration part reaches"
                  " --operating-precision %.3f with %d frauds above it (%zu frauds in the part):"
                  " supervised_p %.2f scores 80", cfg->operating_precision,
                  SUPERVISED_OPERATING_MIN_FRAUD, operating.fraud, gbdt_operating (self));
    s_measure (&run, self, &cross);
    rc = 0;
done:
    gbdt_destroy (&self);
    model_destroy (&model);
    rules_destroy (&run.rules);
    profiles_destroy (&run.profiles);
    merchants_destroy (&cross);
    PQfinish (conn);
    free (run.labels.items);
    free (run.rows);
    free (run.y);
    free (run.sample);
    if (run.scores_out)
        fclose (run.scores_out);
    return rc;
}
