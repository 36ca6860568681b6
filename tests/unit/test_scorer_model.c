/*  test_scorer_model - the scorer's model file: calibration, round trip and
    refusal of damaged files                                                 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

#define ROWS 4000
#define FEATURES 3

static float s_rows [ROWS * FEATURES];

static void
s_data (void)
{
    uint64_t x = 12345;
    for (int i = 0; i < ROWS * FEATURES; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        s_rows [i] = (float) ((x >> 33) % 1000) / 100.0f;     //  0 .. 10
    }
}

static void
test_calibration (void **state)
{
    (void) state;
    s_data ();
    char err [256];
    iforest_params_t params = { .trees = 100, .seed = 7 };
    const char *names [] = { "a", "b", "c" };
    model_t *model = model_train (s_rows, ROWS, FEATURES, names, &params, "test-1", err, sizeof err);
    assert_non_null (model);
    assert_string_equal (model_version (model), "test-1");
    assert_string_equal (iforest_feature_name (model_forest (model), 2), "c");
    //  Over the training rows the calibrated score is close to uniform:
    //  about 2% of them at or above 0.98.
    int high = 0;
    for (int i = 0; i < ROWS; i++) {
        double s = model_score (model, s_rows + i * FEATURES);
        assert_true (s >= 0 && s <= 1);
        high += s >= 0.98;
    }
    assert_true (high >= ROWS / 100 && high <= ROWS * 3 / 100);
    //  Far outside the data: as unusual as it gets. Calibration keeps order.
    float out [FEATURES] = { 50, -40, 99 };
    assert_true (model_score (model, out) == 1.0);
    float a [FEATURES] = { 5, 5, 5 }, b [FEATURES] = { 9.9f, 0.1f, 9.9f };
    assert_true ((model_raw_score (model, a) < model_raw_score (model, b))
              == (model_score (model, a) <= model_score (model, b)));
    model_destroy (&model);
    assert_null (model);
}

static void
test_round_trip_and_damage (void **state)
{
    (void) state;
    s_data ();
    char err [256];
    iforest_params_t params = { .trees = 100, .seed = 3 };
    model_t *model = model_train (s_rows, ROWS, FEATURES, NULL, &params, "rt-1", err, sizeof err);
    char path [] = "/tmp/txw-model-XXXXXX";
    int fd = mkstemp (path);
    close (fd);
    assert_int_equal (model_save (model, path, err, sizeof err), 0);
    model_t *loaded = model_load (path, err, sizeof err);
    assert_non_null (loaded);
    assert_string_equal (model_version (loaded), "rt-1");
    for (int i = 0; i < ROWS; i += 7)
        assert_true (model_score (model, s_rows + i * FEATURES)
                  == model_score (loaded, s_rows + i * FEATURES));
    model_destroy (&loaded);

    //  Read the file, then damage it in several ways.
    FILE *file = fopen (path, "rb");
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    rewind (file);
    unsigned char *bytes = malloc ((size_t) size);
    assert_int_equal (fread (bytes, 1, (size_t) size, file), (size_t) size);
    fclose (file);
    long cuts [] = { 0, 7, 16, 100, size / 2, size - 1 };
    for (size_t c = 0; c < sizeof cuts / sizeof cuts [0]; c++) {
        file = fopen (path, "wb");
        fwrite (bytes, 1, (size_t) cuts [c], file);
        fclose (file);
        assert_null (model_load (path, err, sizeof err));
    }
    bytes [size / 3] ^= 0x40;
    file = fopen (path, "wb");
    fwrite (bytes, 1, (size_t) size, file);
    fclose (file);
    assert_null (model_load (path, err, sizeof err));
    assert_non_null (strstr (err, "checksum"));
    memcpy (bytes, "NOTMODEL", 8);
    file = fopen (path, "wb");
    fwrite (bytes, 1, (size_t) size, file);
    fclose (file);
    assert_null (model_load (path, err, sizeof err));
    assert_non_null (strstr (err, "not a txwatch model"));
    unlink (path);
    assert_null (model_load (path, err, sizeof err));
    free (bytes);
    model_destroy (&model);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_calibration),
        cmocka_unit_test (test_round_trip_and_damage),
    };
    return cmocka_run_group_tests_name ("scorer model file", tests, NULL, NULL);
}
