/*  test_train_supervised - the supervised model: XGBoost's trees, our file

    The scorer evaluates the exported trees itself (services/scorer/gbdt.h),
    so this proves the evaluator is XGBoost's: on thousands of rows its
    margins equal XGBoosterPredictFromDense's to 1e-5 and its per-feature
    contributions XGBoost's approximate ones (pred_contribs with
    approx_contribs: Saabas path attribution). The file round-trips
    exactly; damaged, truncated and foreign files are refused with a
    reason; the calibration increases with the margin and refuses a part
    with one class, so such a part trains nothing. The operating point
    (the probability that scores 80) is the lowest probability of the
    calibration part at the asked precision, a file of format 1 (without
    one) loads with 0.8, and the score map ranks as the probability does
    and crosses 80 exactly there.                                          */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbdt.h"
#include "iforest_file.h"
#include "log.h"
#include "supervised.h"

#define ROWS        4000
#define FEATURES    8

static int s_signals [FEATURES];
static float s_rows [ROWS * FEATURES];
static float s_labels [ROWS];

//  Rows with a signal that depends on a few columns, a missing value now
//  and then, and noise; deterministic.
static void
s_data (void)
{
    uint64_t state = 42;
    for (int i = 0; i < ROWS; i++) {
        float *x = s_rows + i * FEATURES;
        for (int f = 0; f < FEATURES; f++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            x [f] = (float) ((state >> 33) % 10000) / 1000.0f;
        }
        if (i % 97 == 0)
            x [3] = NAN;
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        double noise = (double) ((state >> 33) % 1000) / 1000.0;
        s_labels [i] = (x [0] > 7 && x [1] < 4) || x [2] + noise > 9.5 || (x [3] > 8 && x [4] > 5);
    }
    //  Any signals but supervised_p (the names the file carries).
    for (int f = 0; f < FEATURES; f++)
        s_signals [f] = f;
}

static BoosterHandle
s_booster (void)
{
    DMatrixHandle train;
    BoosterHandle booster;
    assert_int_equal (XGDMatrixCreateFromMat (s_rows, ROWS, FEATURES, NAN, &train), 0);
    assert_int_equal (XGDMatrixSetFloatInfo (train, "label", s_labels, ROWS), 0);
    assert_int_equal (XGBoosterCreate (&train, 1, &booster), 0);
    XGBoosterSetParam (booster, "objective", "binary:logistic");
    XGBoosterSetParam (booster, "max_depth", "4");
    XGBoosterSetParam (booster, "tree_method", "hist");
    XGBoosterSetParam (booster, "nthread", "1");
    XGBoosterSetParam (booster, "verbosity", "0");
    XGBoosterSetParam (booster, "base_score", "0.3");
    for (int i = 0; i < 40; i++)
        assert_int_equal (XGBoosterUpdateOneIter (booster, i, train), 0);
    XGDMatrixFree (train);
    return booster;
}

static void
test_margins_and_contributions_are_xgboosts (void **state)
{
    (void) state;
    BoosterHandle booster = s_booster ();
    char err [256] = "";
    gbdt_t *model = supervised_export (booster, "gb-test", FEATURES, s_signals, err, sizeof err);
    assert_non_null (model);

    DMatrixHandle all;
    assert_int_equal (XGDMatrixCreateFromMat (s_rows, ROWS, FEATURES, NAN, &all), 0);
    bst_ulong len;
    const float *margins, *contribs;
    assert_int_equal (XGBoosterPredict (booster, all, 1, 0, 0, &len, &margins), 0);
    assert_int_equal (len, ROWS);
    float *want = malloc (ROWS * sizeof *want);
    memcpy (want, margins, ROWS * sizeof *want);
    //  option_mask 4 | 8: contributions, approximated (Saabas).
    assert_int_equal (XGBoosterPredict (booster, all, 4 | 8, 0, 0, &len, &contribs), 0);
    assert_int_equal (len, ROWS * (FEATURES + 1));
    double worst = 0, worst_contrib = 0;
    for (int i = 0; i < ROWS; i++) {
        const float *x = s_rows + i * FEATURES;
        worst = fmax (worst, fabs (gbdt_margin (model, x) - want [i]));
        float ours [FEATURES + 1];
        gbdt_contributions (model, x, ours);
        for (int f = 0; f <= FEATURES; f++)
            worst_contrib = fmax (worst_contrib, fabs (ours [f] - contribs [i * (FEATURES + 1) + f]));
    }
    assert_true (worst < 1e-5);
    assert_true (worst_contrib < 1e-5);

    //  The same margins from the in-place prediction on a dense array.
    char array [160];
    snprintf (array, sizeof array, "{\"data\": [%lu, true], \"shape\": [%d, %d], "
              "\"typestr\": \"<f4\", \"version\": 3}",
              (unsigned long) (uintptr_t) s_rows, ROWS, FEATURES);
    const bst_ulong *shape;
    bst_ulong dim;
    const float *dense;
    int rc = XGBoosterPredictFromDense (booster, array,
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0,"
        " \"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}", NULL, &shape, &dim, &dense);
    if (rc)
        print_error ("%s\n", XGBGetLastError ());
    assert_int_equal (rc, 0);
    for (int i = 0; i < ROWS; i++)
        assert_true (fabs (gbdt_probability (model, s_rows + i * FEATURES)
                           - dense [i]) < 1e-5);  //  uncalibrated: XGBoost's own
    free (want);
    XGDMatrixFree (all);
    XGBoosterFree (booster);
    gbdt_destroy (&model);
}

static void
test_file_round_trip_and_refusals (void **state)
{
    (void) state;
    BoosterHandle booster = s_booster ();
    char err [256] = "", path [] = "/tmp/test_gbdt_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    gbdt_t *model = supervised_export (booster, "gb-test", FEATURES, s_signals, err, sizeof err);
    gbdt_set_calibration (model, 1.5f, -0.25f);
    assert_int_equal (gbdt_set_operating (model, 0.55), 0);
    assert_int_equal (gbdt_set_operating (model, 1.5), -1);      //  refused, kept
    assert_int_equal (gbdt_set_operating (model, 0), -1);
    gbdt_scores_t scores = { .hours = 2.5f };
    scores.all [90] = 7;
    scores.fraud [90] = 5;
    gbdt_set_scores (model, &scores);
    assert_int_equal (gbdt_save (model, path, err, sizeof err), 0);
    gbdt_t *back = gbdt_load (path, err, sizeof err);
    assert_non_null (back);
    assert_string_equal (gbdt_version (back), "gb-test");
    assert_string_equal (gbdt_feature_name (back, 2), rules_signal_name (2));
    assert_memory_equal (gbdt_scores (back), &scores, sizeof scores);
    assert_true (gbdt_operating (back) == gbdt_operating (model));
    assert_true (gbdt_operating (back) <= 0.55 && gbdt_operating (back) > 0.5499999);
    for (int i = 0; i < ROWS; i++)
        assert_true (gbdt_probability (back, s_rows + i * FEATURES)
                     == gbdt_probability (model, s_rows + i * FEATURES));

    FILE *file = fopen (path, "rb");
    uint8_t data [1 << 16];
    size_t size = fread (data, 1, sizeof data, file);
    fclose (file);
    assert_true (size > 100 && size < sizeof data);
    //  The operating point is after the base margin and the calibration.
    size_t at = 8 + 4 + 2 + strlen ("gb-test") + 4 + 12;
    for (int f = 0; f < FEATURES; f++)
        at += 2 + strlen (gbdt_feature_name (model, f));
    float stored;
    memcpy (&stored, data + at, 4);
    assert_true (stored == (float) gbdt_operating (model));
    //  One out of range is refused, CRC or not.
    uint8_t bad [1 << 16];
    memcpy (bad, data, size);
    float wrong = 1.25f;
    memcpy (bad + at, &wrong, 4);
    uint32_t crc = iforest_crc32 (bad, size - 4);
    memcpy (bad + size - 4, &crc, 4);
    assert_null (gbdt_load_buffer (bad, size, err, sizeof err));
    assert_non_null (strstr (err, "operating point"));
    //  Format 1, without the operating point: loaded with 0.8.
    memcpy (bad, data, at);
    memcpy (bad + at, data + at + 4, size - at - 4);
    bad [8] = 1;
    crc = iforest_crc32 (bad, size - 8);
    memcpy (bad + size - 8, &crc, 4);
    gbdt_t *old = gbdt_load_buffer (bad, size - 4, err, sizeof err);
    assert_non_null (old);
    assert_true (gbdt_operating (old) == GBDT_OPERATING_DEFAULT);
    assert_memory_equal (gbdt_scores (old), &scores, sizeof scores);
    gbdt_destroy (&old);
    assert_null (gbdt_load_buffer (data, size - 7, err, sizeof err));
    assert_non_null (strstr (err, "checksum"));
    data [size / 2] ^= 1;
    assert_null (gbdt_load_buffer (data, size, err, sizeof err));
    assert_non_null (strstr (err, "checksum"));
    assert_null (gbdt_load_buffer ("TXWMODL1xxxxxxxx", 16, err, sizeof err));
    assert_non_null (strstr (err, "TXWGBDT1"));
    assert_null (gbdt_load ("/nonexistent/model.bin", err, sizeof err));
    assert_non_null (strstr (err, "/nonexistent/model.bin"));

    //  A column naming no signal of this scorer is refused, not guessed.
    const char *names [1] = { "no_such_signal" };
    gbdt_node_t leaf = { GBDT_LEAF, 0.5f, 0.5f };
    const gbdt_node_t *trees [1] = { &leaf };
    uint32_t counts [1] = { 1 };
    assert_null (gbdt_new ("gb-x", 1, names, 0, 1, trees, counts, err, sizeof err));
    assert_non_null (strstr (err, "no_such_signal"));
    //  A split whose child points back up would loop: refused.
    names [0] = "history";
    gbdt_node_t loop [3] = { { 0 | 0 << 9, 1, 0 }, { GBDT_LEAF, 1, 1 }, { GBDT_LEAF, 2, 2 } };
    trees [0] = loop;
    counts [0] = 3;
    assert_null (gbdt_new ("gb-x", 1, names, 0, 1, trees, counts, err, sizeof err));
    loop [0].word = 1u << 9;
    gbdt_t *small = gbdt_new ("gb-x", 1, names, 0, 1, trees, counts, err, sizeof err);
    assert_non_null (small);
    float x = 0;
    assert_true (gbdt_margin (small, &x) == 1.0);
    x = 5;
    assert_true (gbdt_margin (small, &x) == 2.0);
    gbdt_destroy (&small);

    unlink (path);
    gbdt_destroy (&back);
    gbdt_destroy (&model);
    XGBoosterFree (booster);
}

static void
test_calibration_is_monotonic (void **state)
{
    (void) state;
    enum { N = 2000 };
    double margins [N];
    float labels [N];
    uint64_t rng = 7;
    for (int i = 0; i < N; i++) {
        margins [i] = (i - N / 2) / 200.0;
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        //  True probability 1 / (1 + exp (-(2 m - 1))).
        double p = 1 / (1 + exp (-(2 * margins [i] - 1)));
        labels [i] = (double) (rng >> 11) / 9007199254740992.0 < p;
    }
    float a, b;
    assert_int_equal (supervised_platt (margins, labels, N, &a, &b), 0);
    assert_true (a > 1.5 && a < 2.5);
    assert_true (b > -1.5 && b < -0.5);
    //  Through a model: the probability never falls as the margin rises.
    const char *names [1] = { "history" };
    gbdt_node_t nodes [3] = { { 0 | 1u << 9, 0, 0 }, { GBDT_LEAF, -3, -3 }, { GBDT_LEAF, 3, 3 } };
    const gbdt_node_t *trees [1] = { nodes };
    uint32_t counts [1] = { 3 };
    char err [128];
    gbdt_t *model = gbdt_new ("gb-x", 1, names, 0, 1, trees, counts, err, sizeof err);
    gbdt_set_calibration (model, a, b);
    float x = -1;
    double low = gbdt_probability (model, &x);
    x = 1;
    assert_true (gbdt_probability (model, &x) > low);
    gbdt_destroy (&model);
    //  One class only: no calibration.
    for (int i = 0; i < N; i++)
        labels [i] = 0;
    assert_int_equal (supervised_platt (margins, labels, N, &a, &b), -1);
}

//  --alert-precision and --alert-budget: the lowest score that reaches the
//  precision, or stays within the alerts an hour, on the score table.
static void
test_thresholds_from_the_score_table (void **state)
{
    (void) state;
    const char *names [1] = { "history" };
    gbdt_node_t leaf = { GBDT_LEAF, 0, 0 };
    const gbdt_node_t *trees [1] = { &leaf };
    uint32_t counts [1] = { 1 };
    char err [128];
    gbdt_t *model = gbdt_new ("gb-x", 1, names, 0, 1, trees, counts, err, sizeof err);
    double achieved = 0;
    //  No table: no threshold.
    assert_int_equal (gbdt_threshold_for_precision (model, 0.5, &achieved), -1);
    assert_int_equal (gbdt_threshold_for_budget (model, 10, &achieved), -1);
    //  10 hours: 90 scores 9 fraud, 1 legit; 70: 3 fraud, 7 legit; 20: 1000 legit.
    gbdt_scores_t s = { .hours = 10 };
    s.fraud [90] = 9, s.legit [90] = 1, s.all [90] = 10;
    s.fraud [70] = 3, s.legit [70] = 7, s.all [70] = 12;    //  2 unlabelled
    s.legit [20] = 1000, s.all [20] = 1000;
    gbdt_set_scores (model, &s);
    assert_int_equal (gbdt_threshold_for_precision (model, 0.9, &achieved), 71);
    assert_true (fabs (achieved - 0.9) < 1e-9);
    assert_int_equal (gbdt_threshold_for_precision (model, 0.6, &achieved), 21);
    assert_true (fabs (achieved - 0.6) < 1e-9);
    assert_int_equal (gbdt_threshold_for_precision (model, 0.95, &achieved), -1);
    //  1 alert an hour: only the 90s (10 in 10 hours); 2.2: the 70s too.
    assert_int_equal (gbdt_threshold_for_budget (model, 1, &achieved), 71);
    assert_true (fabs (achieved - 1) < 1e-9);
    assert_int_equal (gbdt_threshold_for_budget (model, 2.2, &achieved), 21);
    assert_int_equal (gbdt_threshold_for_budget (model, 0.5, &achieved), 91);
    assert_true (achieved == 0);
    gbdt_destroy (&model);
}

//  A calibration part without fraud fits nothing (and txw-train writes
//  nothing); with both classes the fit is calibrated and increasing. The
//  label thresholds of txw-train itself are checked by the supervised e2e
//  suite, which needs a database.
//  The score map: 0 at 0, 80 at the operating point, 100 at 1, straight
//  between, increasing, and rounded down 80 or more exactly from the point.
static void
test_score_map (void **state)
{
    (void) state;
    char err [256] = "";
    const char *names [1] = { "history" };
    gbdt_node_t leaf = { GBDT_LEAF, 0.5f, 0.5f };
    const gbdt_node_t *trees [1] = { &leaf };
    uint32_t counts [1] = { 1 };
    gbdt_t *model = gbdt_new ("gb-x", 1, names, 0, 1, trees, counts, err, sizeof err);
    assert_non_null (model);
    //  Without a chosen point, 0.8: the score is 100 p.
    assert_true (gbdt_score (model, 0.37) == 100 * 0.37);
    assert_true (gbdt_score (model, 0.9) == 100 * 0.9);
    const double points [] = { 0.01, 0.2, 0.4131, 0.55, 0.8, 0.97, 0.99 };
    for (size_t k = 0; k < sizeof points / sizeof points [0]; k++) {
        double at = points [k];
        assert_int_equal (gbdt_set_operating (model, at), 0);
        at = gbdt_operating (model);            //  as a float
        assert_true (gbdt_score (model, 0) == 0);
        assert_true (gbdt_score (model, -1) == 0);
        assert_true (gbdt_score (model, NAN) == 0);
        assert_true (gbdt_score (model, 1) == 100);
        assert_true (gbdt_score (model, at) == 80);
        assert_true (floor (gbdt_score (model, nextafter (at, 0))) == 79);
        assert_true (fabs (gbdt_score (model, at / 2) - 40) < 1e-9);
        assert_true (gbdt_score (model, points [k]) >= 80);     //  rounded down: still 80
        double last = -1;
        for (int i = 0; i <= 10000; i++) {
            double p = i / 10000.0, score = gbdt_score (model, p);
            assert_true (score >= last && score >= 0 && score <= 100);
            assert_true ((floor (score) >= 80) == (p >= at));
            last = score;
        }
    }
    gbdt_destroy (&model);
}

//  The operating point: the lowest probability at the precision, with at
//  least SUPERVISED_OPERATING_MIN_FRAUD frauds at or above it; ties count
//  together; none reaching it leaves the point unset.
static void
test_operating_point (void **state)
{
    (void) state;
    //  100 rows at p = (100 - i) / 100: the top 20 fraud, then every other
    //  one of the next 20, then none.
    double p [100];
    float y [100];
    for (int i = 0; i < 100; i++) {
        p [i] = (100 - i) / 100.0;
        y [i] = i < 20 || (i < 40 && i % 2 == 0);
    }
    double point = -1;
    supervised_operating_t at;
    //  Precision 0.9: the top k rows hold 20 + ceil ((k - 20) / 2) frauds;
    //  k = 24 is the last at 0.9 (22 of 24 = 0.917; 25: 23 of 25 = 0.92;
    //  26: 23 of 26 = 0.885; 28: 24 of 28 = 0.857): k = 25, p 0.76.
    assert_int_equal (supervised_operating (p, y, 100, 0.9, &point, &at), 0);
    assert_true (fabs (point - 0.76) < 1e-12);
    assert_true (at.chosen);
    assert_true (fabs (at.precision - 23.0 / 25) < 1e-12);
    assert_true (fabs (at.recall - 23.0 / 30) < 1e-12);
    assert_int_equal (at.fraud, 30);
    //  Precision 1: the top 21, all fraud (the lowest of them, p 0.80).
    assert_int_equal (supervised_operating (p, y, 100, 1.0, &point, &at), 0);
    assert_true (fabs (point - 0.80) < 1e-12);
    //  A tie at the boundary is alerted whole: rows 20 (fraud) and 21 (not)
    //  at one probability; 21 of 22 is 0.955 < 0.96, so 0.81 again.
    p [21] = p [20];
    assert_int_equal (supervised_operating (p, y, 100, 0.96, &point, &at), 0);
    assert_true (fabs (point - 0.81) < 1e-12);
    //  Too few frauds above any point at the precision: none chosen.
    for (int i = 0; i < 100; i++)
        y [i] = i < SUPERVISED_OPERATING_MIN_FRAUD - 1;
    point = -1;
    assert_int_equal (supervised_operating (p, y, 100, 0.9, &point, &at), -1);
    assert_true (point == -1 && !at.chosen);
    assert_int_equal (supervised_operating (p, y, 0, 0.9, &point, &at), -1);
}

//  The calibration part: the latest fifth, or further back until it holds
//  a fifth of each class.
static void
test_calibration_start (void **state)
{
    (void) state;
    float y [100] = { 0 };
    //  Frauds spread out: the latest fifth, as it is.
    for (int i = 0; i < 100; i += 10)
        y [i] = 1;
    assert_int_equal (supervised_calibration_start (y, 100), 80);
    //  Frauds all early (rows 0..19): back to the 4th fraud from the end
    //  (a fifth of 20), row 16; the fit part keeps 16 of them.
    memset (y, 0, sizeof y);
    for (int i = 0; i < 20; i++)
        y [i] = 1;
    assert_int_equal (supervised_calibration_start (y, 100), 16);
    //  Legitimate rows all early: likewise for them (a fifth of 10 is 2).
    for (int i = 0; i < 100; i++)
        y [i] = i >= 10;
    assert_int_equal (supervised_calibration_start (y, 100), 8);
    //  A fifth of 5 frauds is 1 (not 2: 0.2 x 5 is not rounded up past
    //  1), and the latest fifth holds one, row 99, and 19 legitimate rows,
    //  a fifth of 95.
    memset (y, 0, sizeof y);
    y [10] = y [30] = y [50] = y [70] = y [99] = 1;
    assert_int_equal (supervised_calibration_start (y, 100), 80);
    //  One fraud, at the end: 20 legitimate rows are needed, one more.
    memset (y, 0, sizeof y);
    y [99] = 1;
    assert_int_equal (supervised_calibration_start (y, 100), 79);
    assert_int_equal (supervised_calibration_start (y, 0), 0);
}

static void
test_fit_needs_both_classes (void **state)
{
    (void) state;
    float labels [ROWS];
    for (int i = 0; i < ROWS; i++)
        labels [i] = s_labels [i] && i < ROWS / 2;     //  no fraud in the later part
    supervised_params_t params = { 10, 3, 0.3, 1, 0.9 };
    char err [256] = "";
    assert_null (supervised_fit (s_rows, labels, ROWS, ROWS / 2, FEATURES, s_signals, &params,
                                 "gb-x", NULL, err, sizeof err));
    assert_non_null (strstr (err, "calibration"));
    supervised_operating_t operating;
    gbdt_t *model = supervised_fit (s_rows, s_labels, ROWS, ROWS * 4 / 5, FEATURES, s_signals,
                                    &params, "gb-x", &operating, err, sizeof err);
    assert_non_null (model);
    float a, b;
    gbdt_calibration (model, &a, &b);
    assert_true (a > 0);
    //  The operating point is the calibration part's, at its precision.
    if (operating.chosen) {
        assert_true (operating.precision >= 0.9);
        assert_true (gbdt_operating (model) != GBDT_OPERATING_DEFAULT);
        size_t alerts = 0, fraud = 0;
        for (int i = ROWS * 4 / 5; i < ROWS; i++)
            if (gbdt_probability (model, s_rows + i * FEATURES) >= gbdt_operating (model)) {
                alerts++;
                fraud += s_labels [i] > 0.5f;
            }
        assert_true (alerts > 0 && fabs ((double) fraud / alerts - operating.precision) < 1e-9);
    }
    else
        assert_true (gbdt_operating (model) == GBDT_OPERATING_DEFAULT);
    gbdt_destroy (&model);
}

int
main (void)
{
    txw_log_init ("test", TXW_LOG_ERROR);
    s_data ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_margins_and_contributions_are_xgboosts),
        cmocka_unit_test (test_file_round_trip_and_refusals),
        cmocka_unit_test (test_calibration_is_monotonic),
        cmocka_unit_test (test_thresholds_from_the_score_table),
        cmocka_unit_test (test_score_map),
        cmocka_unit_test (test_operating_point),
        cmocka_unit_test (test_calibration_start),
        cmocka_unit_test (test_fit_needs_both_classes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
