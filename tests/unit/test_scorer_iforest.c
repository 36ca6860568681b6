/*  test_scorer_iforest - the Isolation Forest: the paper's arithmetic on
    hand-built trees, training that finds planted anomalies, determinism,
    the model file round trip, and files that must be refused (truncated,
    corrupt, hostile) without a crash                                        */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glob.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iforest.h"

#define S_EULER 0.5772156649

static char s_dir [] = "/tmp/txw-iforest-XXXXXX";

//  ----------------------------------------------------------------------
//  Helpers: a PRNG for the data, model files written byte by byte

static uint64_t s_state;

static double
s_uniform (void)
{
    s_state = s_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((s_state >> 11) + 0.5) * 0x1.0p-53;
}

static double
s_gauss (void)
{
    return sqrt (-2 * log (s_uniform ())) * cos (2 * M_PI * s_uniform ());
}

static const char *
s_path (const char *name)
{
    static char paths [4][256];             //  a few may be in use at once
    static int next;
    char *path = paths [next++ % 4];
    snprintf (path, 256, "%s/%s", s_dir, name);
    return path;
}

typedef struct {
    uint8_t data [4096];
    size_t size;
} s_file_t;

static void
s_put (s_file_t *f, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; i++)
        f->data [f->size++] = (uint8_t) (value >> (8 * i));
}

static void
s_put_text (s_file_t *f, const char *text)
{
    s_put (f, strlen (text), 2);
    memcpy (f->data + f->size, text, strlen (text));
    f->size += strlen (text);
}

static void
s_put_float (s_file_t *f, float value)
{
    uint32_t bits;
    memcpy (&bits, &value, 4);
    s_put (f, bits, 4);
}

//  CRC-32 (IEEE) bit by bit: an implementation apart from the module's.
static uint32_t
s_crc32 (const uint8_t *data, size_t size)
{
    uint32_t crc = 0xffffffff;
    for (size_t i = 0; i < size; i++) {
        crc ^= data [i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
    }
    return ~crc;
}

static void
s_write (const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    assert_int_equal (fclose (file), 0);
}

//  Appends the CRC and writes the file.
static void
s_seal (s_file_t *f, const char *path)
{
    s_put (f, s_crc32 (f->data, f->size), 4);
    s_write (path, f->data, f->size);
}

static void
s_header (s_file_t *f, int features, int trees, int psi, int max_depth)
{
    f->size = 0;
    memcpy (f->data, "TXWIFOR1", 8);
    f->size = 8;
    s_put (f, 1, 4);
    s_put_text (f, "iforest-test-1");
    s_put (f, (uint64_t) features, 4);
    s_put (f, 0, 1);
    s_put (f, (uint64_t) trees, 4);
    s_put (f, (uint64_t) psi, 4);
    s_put (f, (uint64_t) max_depth, 4);
    s_put (f, 0, 8);
}

static void
s_split (s_file_t *f, int feature, uint32_t left, float threshold)
{
    s_put (f, (uint32_t) feature | left << 8, 4);
    s_put_float (f, threshold);
}

static void
s_leaf (s_file_t *f, uint32_t rows)
{
    s_put (f, 255 | rows << 8, 4);
    s_put (f, 0, 4);
}

//  The tiny tree of the tests, psi 4, two features:
//      0: x0 < 0.5 ? 1 : 2
//      1: leaf, 1 row                       (depth 1)
//      2: x1 < 2 ? 3 : 4
//      3: leaf, 2 rows  4: leaf, 1 row      (depth 2)
static void
s_tiny (s_file_t *f)
{
    s_header (f, 2, 1, 4, 2);
    s_put (f, 5, 4);
    s_split (f, 0, 1, 0.5f);
    s_leaf (f, 1);
    s_split (f, 1, 3, 2.0f);
    s_leaf (f, 2);
    s_leaf (f, 1);
}

static iforest_t *
s_load_expect_error (const char *path, const char *expect)
{
    char err [256] = "";
    iforest_t *forest = iforest_load (path, err, sizeof err);
    if (forest || !err [0] || !strstr (err, expect))
        fail_msg ("expected an error with \"%s\", got \"%s\"", expect, err);
    return forest;
}

//  Gaussian rows of `features` columns; every `every`-th row (0: none) is
//  an anomaly, drawn uniformly from a box 6 sd wide around 5 sd; labels.
static float *
s_data (size_t n, int features, size_t every, bool *anomaly)
{
    float *rows = malloc (n * features * sizeof *rows);
    assert_non_null (rows);
    for (size_t i = 0; i < n; i++) {
        bool odd = every && i % every == every - 1;
        if (anomaly)
            anomaly [i] = odd;
        for (int f = 0; f < features; f++)
            rows [i * features + f] = (float) (odd? 5 + 6 * (s_uniform () - 0.5): s_gauss ());
    }
    return rows;
}

//  The area under the ROC curve: P(score of an anomaly > score of a normal).
static double
s_auc (const double *score, const bool *anomaly, size_t n)
{
    double wins = 0, pairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; anomaly [i] && j < n; j++)
            if (!anomaly [j]) {
                wins += score [i] > score [j]? 1: score [i] == score [j]? 0.5: 0;
                pairs++;
            }
    return wins / pairs;
}

//  ----------------------------------------------------------------------

static void
test_c_of_n (void **state)
{
    (void) state;
    assert_true (iforest_c (0) == 0);
    assert_true (iforest_c (1) == 0);
    assert_true (iforest_c (2) == 1);
    //  c(3) = 2 (ln 2 + 0.5772156649) - 4/3 = 1.2073923576
    assert_float_equal (iforest_c (3), 1.2073923576, 1e-9);
    //  c(4) = 2 (ln 3 + 0.5772156649) - 6/4 = 1.8516559071
    assert_float_equal (iforest_c (4), 1.8516559071, 1e-9);
    //  c(256) = 2 (ln 255 + 0.5772156649) - 510/256 = 10.2447709201
    assert_float_equal (iforest_c (256), 10.2447709201, 1e-9);
    //  H(i) = ln i + Euler's constant, for a large n too.
    assert_float_equal (iforest_c (1e6), 2 * (log (999999) + S_EULER) - 2 * 999999 / 1e6, 1e-9);
}

static void
test_tiny_tree_path_length (void **state)
{
    (void) state;
    s_file_t f;
    s_tiny (&f);
    s_seal (&f, s_path ("tiny.bin"));
    char err [256] = "";
    iforest_t *forest = iforest_load (s_path ("tiny.bin"), err, sizeof err);
    assert_non_null (forest);
    assert_string_equal (iforest_version (forest), "iforest-test-1");
    assert_int_equal (iforest_features (forest), 2);
    assert_int_equal (iforest_trees (forest), 1);
    assert_int_equal (iforest_sample_size (forest), 4);
    assert_null (iforest_feature_name (forest, 0));

    //  Depth + c(leaf rows): 1 + c(1), 2 + c(2), 2 + c(1).
    float left [2] = { 0, 0 }, right_small [2] = { 1, 0 }, right_big [2] = { 1, 5 };
    float edge [2] = { 0.5f, 2.0f };        //  a threshold goes right
    float nan_row [2] = { NAN, 9 };         //  NaN goes left
    assert_true (iforest_path_length (forest, left) == 1);
    assert_true (iforest_path_length (forest, right_small) == 3);
    assert_true (iforest_path_length (forest, right_big) == 2);
    assert_true (iforest_path_length (forest, edge) == 2);
    assert_true (iforest_path_length (forest, nan_row) == 1);

    //  s = 2^(-E[h] / c(psi)), c(4) = 1.8516559.
    assert_float_equal (iforest_score (forest, left), exp2 (-1 / 1.8516559071), 1e-9);
    assert_float_equal (iforest_score (forest, right_small), exp2 (-3 / 1.8516559071), 1e-9);
    double out [2];
    float rows [4] = { 0, 0, 1, 0 };
    iforest_score_batch (forest, rows, 2, out);
    assert_true (out [0] == iforest_score (forest, left));
    assert_true (out [1] == iforest_score (forest, right_small));
    iforest_destroy (&forest);
    assert_null (forest);
    iforest_destroy (&forest);
}

static void
test_score_normalisation (void **state)
{
    (void) state;
    //  A root leaf of psi rows: E[h] = c(psi) exactly, so s = 0.5.
    s_file_t f;
    s_header (&f, 1, 3, 256, 8);
    for (int t = 0; t < 3; t++) {
        s_put (&f, 1, 4);
        s_leaf (&f, 256);
    }
    s_seal (&f, s_path ("half.bin"));
    char err [256] = "";
    iforest_t *forest = iforest_load (s_path ("half.bin"), err, sizeof err);
    assert_non_null (forest);
    float x [1] = { 3 };
    assert_float_equal (iforest_path_length (forest, x), iforest_c (256), 1e-6);
    assert_float_equal (iforest_score (forest, x), 0.5, 1e-7);
    iforest_destroy (&forest);

    //  E[h] -> 0 gives s -> 1: a point isolated at depth 1 under a large
    //  psi scores 2^(-1 / c(2^20)), close to 1, and higher than deeper ones.
    s_header (&f, 1, 1, 1 << 20, 2);
    s_put (&f, 5, 4);
    s_split (&f, 0, 1, 0);
    s_leaf (&f, 1);
    s_split (&f, 0, 3, 1);
    s_leaf (&f, (1 << 20) - 2);
    s_leaf (&f, 1);
    s_seal (&f, s_path ("one.bin"));
    forest = iforest_load (s_path ("one.bin"), err, sizeof err);
    assert_non_null (forest);
    float isolated [1] = { -1 }, crowd [1] = { 0.5f }, far [1] = { 2 };
    double c = iforest_c (1 << 20);
    assert_float_equal (iforest_score (forest, isolated), exp2 (-1 / c), 1e-7);
    assert_true (iforest_score (forest, isolated) > 0.97);
    assert_true (iforest_score (forest, isolated) < 1);
    assert_true (iforest_score (forest, far) < iforest_score (forest, isolated));
    assert_true (iforest_score (forest, crowd) < 0.5);
    iforest_destroy (&forest);
}

static bool
s_same_file (const char *a, const char *b)
{
    FILE *fa = fopen (a, "rb"), *fb = fopen (b, "rb");
    assert_non_null (fa);
    assert_non_null (fb);
    int ca, cb;
    do {
        ca = fgetc (fa);
        cb = fgetc (fb);
    } while (ca == cb && ca != EOF);
    fclose (fa);
    fclose (fb);
    return ca == cb;
}

static void
test_determinism (void **state)
{
    (void) state;
    s_state = 1;
    float *rows = s_data (3000, 5, 0, NULL);
    char err [256] = "";
    iforest_params_t params = { .trees = 100, .seed = 11 };
    iforest_t *a = iforest_train (rows, 3000, 5, &params, err, sizeof err);
    iforest_t *b = iforest_train (rows, 3000, 5, &params, err, sizeof err);
    params.seed = 12;
    iforest_t *c = iforest_train (rows, 3000, 5, &params, err, sizeof err);
    assert_non_null (a);
    assert_non_null (b);
    assert_non_null (c);
    assert_int_equal (iforest_trees (a), 100);
    assert_int_equal (iforest_sample_size (a), 256);
    size_t differ = 0;
    for (size_t i = 0; i < 3000; i++) {
        assert_true (iforest_score (a, rows + 5 * i) == iforest_score (b, rows + 5 * i));
        differ += iforest_score (a, rows + 5 * i) != iforest_score (c, rows + 5 * i);
    }
    assert_true (differ > 2900);
    //  The same seed writes the same bytes; another seed other trees.
    assert_int_equal (iforest_save (a, s_path ("a.bin"), "v1", err, sizeof err), 0);
    assert_int_equal (iforest_save (b, s_path ("b.bin"), "v1", err, sizeof err), 0);
    assert_int_equal (iforest_save (c, s_path ("c.bin"), "v1", err, sizeof err), 0);
    assert_true (s_same_file (s_path ("a.bin"), s_path ("b.bin")));
    assert_false (s_same_file (s_path ("a.bin"), s_path ("c.bin")));
    iforest_destroy (&a);
    iforest_destroy (&b);
    iforest_destroy (&c);
    free (rows);
}

static void
test_outlier_in_gaussian (void **state)
{
    (void) state;
    s_state = 2;
    float *rows = s_data (2000, 2, 0, NULL);
    char err [256] = "";
    iforest_t *forest = iforest_train (rows, 2000, 2, NULL, err, sizeof err);
    assert_non_null (forest);
    assert_int_equal (iforest_trees (forest), 200);
    float outlier [2] = { 6, -6 }, centre [2] = { 0, 0 };
    double top = iforest_score (forest, outlier);
    assert_true (top > 0.7);
    assert_true (iforest_score (forest, centre) < 0.5);
    for (size_t i = 0; i < 2000; i++) {
        double score = iforest_score (forest, rows + 2 * i);
        assert_true (score > 0 && score < 1);
        assert_true (score < top);
    }
    iforest_destroy (&forest);
    free (rows);
}

static void
test_planted_anomalies_auc (void **state)
{
    (void) state;
    const size_t n = 5000;
    s_state = 3;
    bool *anomaly = malloc (n * sizeof *anomaly);
    double *score = malloc (n * sizeof *score);
    float *rows = s_data (n, 6, 100, anomaly);     //  1 % anomalies
    char err [256] = "";
    iforest_params_t params = { .trees = 150, .seed = 5 };
    iforest_t *forest = iforest_train (rows, n, 6, &params, err, sizeof err);
    assert_non_null (forest);
    iforest_score_batch (forest, rows, n, score);
    double auc = s_auc (score, anomaly, n);
    print_message ("planted anomalies: AUC %.4f\n", auc);
    assert_true (auc > 0.97);
    iforest_destroy (&forest);
    free (rows);
    free (anomaly);
    free (score);
}

static void
test_batch_and_paths_agree (void **state)
{
    (void) state;
    s_state = 4;
    //  Tree counts that do and do not fill vectors of 16, wide rows too.
    static const struct { int trees, features; } cases [] = {
        { 200, 12 }, { 7, 3 }, { 33, 32 }, { 16, 17 }, { 1, 1 }
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases [0]; c++) {
        int features = cases [c].features;
        float *rows = s_data (1000, features, 50, NULL);
        char err [256] = "";
        iforest_params_t params = { .trees = cases [c].trees, .sample_size = 128, .seed = c };
        iforest_t *wide = iforest_train (rows, 1000, features, &params, err, sizeof err);
        assert_non_null (wide);
        setenv ("TXW_IFOREST_SCALAR", "1", 1);
        iforest_t *scalar = iforest_train (rows, 1000, features, &params, err, sizeof err);
        unsetenv ("TXW_IFOREST_SCALAR");
        assert_non_null (scalar);
        double batch [1000], scalar_batch [1000];
        iforest_score_batch (wide, rows, 1000, batch);
        iforest_score_batch (scalar, rows, 1000, scalar_batch);
        for (size_t i = 0; i < 1000; i++) {
            double single = iforest_score (wide, rows + i * features);
            assert_true (single == batch [i]);
            assert_true (single == iforest_score (scalar, rows + i * features));
            assert_true (single == scalar_batch [i]);
        }
        //  Odd batch lengths: the scalar path's partial blocks.
        iforest_score_batch (scalar, rows + features, 999, scalar_batch);
        for (size_t i = 0; i < 999; i++)
            assert_true (scalar_batch [i] == batch [i + 1]);
        iforest_destroy (&wide);
        iforest_destroy (&scalar);
        free (rows);
    }
}

static void
test_save_load_round_trip (void **state)
{
    (void) state;
    s_state = 5;
    float *rows = s_data (4000, 4, 40, NULL);
    char err [256] = "";
    iforest_params_t params = { .trees = 120, .sample_size = 300, .max_depth = 12, .seed = 99 };
    iforest_t *forest = iforest_train (rows, 4000, 4, &params, err, sizeof err);
    assert_non_null (forest);
    assert_string_equal (iforest_version (forest), "");
    const char *names [] = { "log_amount", "hour", "", "tx_minute" };
    assert_int_equal (iforest_set_feature_names (forest, names, err, sizeof err), 0);
    assert_string_equal (iforest_feature_name (forest, 1), "hour");
    assert_null (iforest_feature_name (forest, 2));
    assert_null (iforest_feature_name (forest, 4));
    assert_null (iforest_feature_name (forest, -1));
    assert_int_equal (iforest_save (forest, s_path ("model.bin"), "iforest-20261122-abc",
                                    err, sizeof err), 0);
    glob_t temps;                           //  no temporary file left behind
    assert_int_equal (glob (s_path ("*.tmp-*"), 0, NULL, &temps), GLOB_NOMATCH);
    globfree (&temps);
    iforest_t *loaded = iforest_load (s_path ("model.bin"), err, sizeof err);
    assert_non_null (loaded);
    assert_string_equal (iforest_version (loaded), "iforest-20261122-abc");
    assert_int_equal (iforest_features (loaded), 4);
    assert_int_equal (iforest_trees (loaded), 120);
    assert_int_equal (iforest_sample_size (loaded), 300);
    assert_string_equal (iforest_feature_name (loaded, 0), "log_amount");
    assert_string_equal (iforest_feature_name (loaded, 3), "tx_minute");
    assert_null (iforest_feature_name (loaded, 2));
    for (size_t i = 0; i < 4000; i++)
        assert_true (iforest_score (forest, rows + 4 * i) == iforest_score (loaded, rows + 4 * i));
    s_state = 6;
    float *other = s_data (4000, 4, 0, NULL);
    for (size_t i = 0; i < 4000; i++)
        assert_true (iforest_score (forest, other + 4 * i) == iforest_score (loaded, other + 4 * i));

    //  Saved again, the bytes are the same.
    assert_int_equal (iforest_save (loaded, s_path ("again.bin"), "iforest-20261122-abc",
                                    err, sizeof err), 0);
    assert_true (s_same_file (s_path ("model.bin"), s_path ("again.bin")));

    //  Names dropped, and refused names leave them as they were.
    const char *bad [] = { "ok", "tab\there", "x", "y" };
    assert_int_equal (iforest_set_feature_names (loaded, bad, err, sizeof err), -1);
    assert_non_null (strstr (err, "feature 1"));
    assert_string_equal (iforest_feature_name (loaded, 0), "log_amount");
    assert_int_equal (iforest_set_feature_names (loaded, NULL, err, sizeof err), 0);
    assert_null (iforest_feature_name (loaded, 0));

    //  Bad versions and paths are refused.
    assert_int_equal (iforest_save (forest, s_path ("v.bin"), "", err, sizeof err), -1);
    assert_non_null (strstr (err, "version"));
    assert_int_equal (iforest_save (forest, s_path ("v.bin"), "new\nline", err, sizeof err), -1);
    char long_version [80];
    memset (long_version, 'v', sizeof long_version - 1);
    long_version [sizeof long_version - 1] = 0;
    assert_int_equal (iforest_save (forest, s_path ("v.bin"), long_version, err, sizeof err), -1);
    assert_int_equal (iforest_save (forest, "/nonexistent-dir/m.bin", "v1", err, sizeof err), -1);
    assert_non_null (strstr (err, "No such file"));
    s_load_expect_error ("/nonexistent-dir/m.bin", "No such file");
    s_load_expect_error (s_dir, "not a regular file");

    iforest_destroy (&forest);
    iforest_destroy (&loaded);
    free (rows);
    free (other);
}

static void
test_bad_training_input (void **state)
{
    (void) state;
    float rows [8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    char err [256] = "";
    assert_null (iforest_train (rows, 1, 2, NULL, err, sizeof err));
    assert_non_null (strstr (err, "rows"));
    assert_null (iforest_train (NULL, 4, 2, NULL, err, sizeof err));
    assert_null (iforest_train (rows, 4, 0, NULL, err, sizeof err));
    assert_non_null (strstr (err, "features"));
    assert_null (iforest_train (rows, 4, 33, NULL, err, sizeof err));
    iforest_params_t bad [] = {
        { .trees = -1 }, { .trees = IFOREST_MAX_TREES + 1 }, { .sample_size = 1 },
        { .sample_size = -5 }, { .max_depth = IFOREST_MAX_DEPTH + 1 }, { .max_depth = -1 }
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_null (iforest_train (rows, 4, 2, &bad [i], err, sizeof err));
        assert_non_null (strstr (err, "out of range"));
    }
    rows [5] = NAN;
    assert_null (iforest_train (rows, 4, 2, NULL, err, sizeof err));
    assert_non_null (strstr (err, "row 2 feature 1"));
    rows [5] = INFINITY;
    assert_null (iforest_train (rows, 4, 2, NULL, err, sizeof err));
    rows [5] = 6;

    //  Tiny and degenerate data still make a valid forest: two rows, and
    //  rows all alike (every tree one leaf: everything scores 0.5).
    iforest_t *forest = iforest_train (rows, 2, 4, NULL, err, sizeof err);
    assert_non_null (forest);
    assert_int_equal (iforest_sample_size (forest), 2);
    iforest_destroy (&forest);
    float same [12] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    forest = iforest_train (same, 6, 2, NULL, err, sizeof err);
    assert_non_null (forest);
    assert_float_equal (iforest_score (forest, same), 0.5, 1e-7);
    assert_float_equal (iforest_score (forest, rows), 0.5, 1e-7);
    iforest_destroy (&forest);
}

static void
test_truncated_and_flipped_files (void **state)
{
    (void) state;
    s_state = 7;
    float *rows = s_data (200, 3, 0, NULL);
    char err [256] = "";
    iforest_params_t params = { .trees = 3, .sample_size = 8, .seed = 1 };
    iforest_t *forest = iforest_train (rows, 200, 3, &params, err, sizeof err);
    assert_non_null (forest);
    const char *names [] = { "a", "b", "c" };
    assert_int_equal (iforest_set_feature_names (forest, names, err, sizeof err), 0);
    assert_int_equal (iforest_save (forest, s_path ("small.bin"), "v7", err, sizeof err), 0);
    FILE *file = fopen (s_path ("small.bin"), "rb");
    assert_non_null (file);
    uint8_t data [4096];
    size_t size = fread (data, 1, sizeof data, file);
    fclose (file);
    assert_true (size > 50 && size < sizeof data);

    for (size_t len = 0; len < size; len++) {
        s_write (s_path ("cut.bin"), data, len);
        s_load_expect_error (s_path ("cut.bin"), len < 12? "magic": "");
    }
    for (size_t at = 0; at < size; at++)
        for (int bit = 0; bit < 8; bit += 3) {
            data [at] ^= (uint8_t) (1 << bit);
            s_write (s_path ("flip.bin"), data, size);
            s_load_expect_error (s_path ("flip.bin"), at < 8? "magic": "checksum");
            data [at] ^= (uint8_t) (1 << bit);
        }
    //  One byte more at the end.
    data [size] = 0;
    s_write (s_path ("long.bin"), data, size + 1);
    s_load_expect_error (s_path ("long.bin"), "checksum");
    s_write (s_path ("ok.bin"), data, size);
    iforest_t *loaded = iforest_load (s_path ("ok.bin"), err, sizeof err);
    assert_non_null (loaded);
    iforest_destroy (&loaded);
    iforest_destroy (&forest);
    free (rows);
}

//  Files with a valid checksum that lie: each is refused for what it is.
static void
test_hostile_files (void **state)
{
    (void) state;
    s_file_t f;
    const char *path = s_path ("hostile.bin");

    s_tiny (&f);
    memcpy (f.data, "TXWIFOR2", 8);
    s_seal (&f, path);
    s_load_expect_error (path, "magic");

    s_tiny (&f);
    f.data [8] = 2;                         //  format version 2
    s_seal (&f, path);
    s_load_expect_error (path, "format version");

    s_header (&f, 2, 1000000, 4, 2);        //  a million trees
    s_seal (&f, path);
    s_load_expect_error (path, "trees");

    s_header (&f, 2, 2, 4, 2);              //  two trees announced, one there
    s_put (&f, 1, 4);
    s_leaf (&f, 4);
    s_seal (&f, path);
    s_load_expect_error (path, "tree 1");

    s_header (&f, 2, 1, 4, 2);              //  a huge node count
    s_put (&f, 0xffffffff, 4);
    s_leaf (&f, 4);
    s_seal (&f, path);
    s_load_expect_error (path, "node count");

    s_header (&f, 40, 1, 4, 2);             //  too many features
    s_seal (&f, path);
    s_load_expect_error (path, "feature count");

    s_header (&f, 2, 1, 4, 2);              //  a child out of range
    s_put (&f, 3, 4);
    s_split (&f, 0, 2, 0.5f);
    s_leaf (&f, 2);
    s_leaf (&f, 2);
    s_seal (&f, path);
    s_load_expect_error (path, "out of order or range");

    s_header (&f, 2, 1, 4, 3);              //  a cycle: a child before its parent
    s_put (&f, 5, 4);
    s_split (&f, 0, 1, 0.5f);
    s_split (&f, 1, 0, 0.5f);
    s_leaf (&f, 2);
    s_leaf (&f, 1);
    s_leaf (&f, 1);
    s_seal (&f, path);
    s_load_expect_error (path, "out of order");

    s_header (&f, 2, 1, 4, 2);              //  a feature the rows do not have
    s_put (&f, 3, 4);
    s_split (&f, 2, 1, 0.5f);
    s_leaf (&f, 2);
    s_leaf (&f, 2);
    s_seal (&f, path);
    s_load_expect_error (path, "feature 2 of 2");

    s_header (&f, 2, 1, 4, 2);              //  a NaN threshold
    s_put (&f, 3, 4);
    s_split (&f, 0, 1, NAN);
    s_leaf (&f, 2);
    s_leaf (&f, 2);
    s_seal (&f, path);
    s_load_expect_error (path, "splits on");

    s_header (&f, 2, 1, 4, 1);              //  deeper than the height limit
    s_put (&f, 5, 4);
    s_split (&f, 0, 1, 0.5f);
    s_leaf (&f, 1);
    s_split (&f, 1, 3, 0.5f);
    s_leaf (&f, 2);
    s_leaf (&f, 1);
    s_seal (&f, path);
    s_load_expect_error (path, "height limit");

    s_header (&f, 2, 1, 4, 2);              //  a node nobody points at
    s_put (&f, 4, 4);
    s_split (&f, 0, 1, 0.5f);
    s_leaf (&f, 2);
    s_leaf (&f, 2);
    s_leaf (&f, 2);
    s_seal (&f, path);
    s_load_expect_error (path, "not reached");

    s_header (&f, 2, 1, 4, 2);              //  leaves holding more rows than psi
    s_put (&f, 3, 4);
    s_split (&f, 0, 1, 0.5f);
    s_leaf (&f, 3);
    s_leaf (&f, 3);
    s_seal (&f, path);
    s_load_expect_error (path, "leaves hold 6 rows");

    s_header (&f, 2, 1, 4, 2);              //  a leaf of 0 rows
    s_put (&f, 1, 4);
    s_leaf (&f, 0);
    s_seal (&f, path);
    s_load_expect_error (path, "leaf 0 is invalid");

    s_tiny (&f);                            //  bytes after the trees
    s_put (&f, 0, 4);
    s_seal (&f, path);
    s_load_expect_error (path, "unexpected bytes");

    s_header (&f, 2, 1, 4, 2);              //  a version string that is not text
    f.data [14] = '\n';
    s_put (&f, 1, 4);
    s_leaf (&f, 4);
    s_seal (&f, path);
    s_load_expect_error (path, "bad header");

    s_file_t g;                             //  a name longer than it says
    memcpy (g.data, "TXWIFOR1", 8);
    g.size = 8;
    s_put (&g, 1, 4);
    s_put_text (&g, "v");
    s_put (&g, 1, 4);
    s_put (&g, 1, 1);
    s_put (&g, 60000, 2);
    s_seal (&g, path);
    s_load_expect_error (path, "name of feature 0");

    s_write (path, (const uint8_t *) "", 0);
    s_load_expect_error (path, "magic");
}

static int
s_setup (void **state)
{
    (void) state;
    return mkdtemp (s_dir)? 0: -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    char command [300];
    snprintf (command, sizeof command, "rm -rf '%s'", s_dir);
    return system (command) == 0? 0: -1;
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_c_of_n),
        cmocka_unit_test (test_tiny_tree_path_length),
        cmocka_unit_test (test_score_normalisation),
        cmocka_unit_test (test_determinism),
        cmocka_unit_test (test_outlier_in_gaussian),
        cmocka_unit_test (test_planted_anomalies_auc),
        cmocka_unit_test (test_batch_and_paths_agree),
        cmocka_unit_test (test_save_load_round_trip),
        cmocka_unit_test (test_bad_training_input),
        cmocka_unit_test (test_truncated_and_flipped_files),
        cmocka_unit_test (test_hostile_files),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
