/*  fuzz_gbdt - the scorer's supervised model file (boosted trees)

    The input is loaded with gbdt_load_buffer as it is and with its CRC-32
    made right, so mutations reach the checks behind it. A model that loads
    must save (gbdt_save, to a tmpfs file) to the very same bytes, and give
    every probe row (NaN included) a finite margin, a probability in
    [0, 1], contributions that sum to the margin, and an explanation.      */

#include "gbdt.h"
#include "fuzz.h"
#include "iforest_file.h"

#include <math.h>

#define S_PROBES 6

static void
s_load (const uint8_t *data, size_t size)
{
    char err [512] = "";
    gbdt_t *model = gbdt_load_buffer (data, size, err, sizeof err);
    if (!model) {
        FUZZ_CHECK (err [0], "refused without a reason");
        return;
    }
    int features = gbdt_feature_count (model);
    FUZZ_CHECK (features >= 1 && features <= RULES_SIG_COUNT, "%d features", features);
    const char *saved_path = fuzz_temppath ("gbdt.bin");
    FUZZ_CHECK (gbdt_save (model, saved_path, err, sizeof err) == 0,
                "a loaded model does not save: %s", err);
    size_t saved_size;
    char *saved = fuzz_slurp (saved_path, &saved_size);
    FUZZ_CHECK (saved_size == size && !memcmp (saved, data, size),
                "saved again, %zu bytes become %zu different ones", size, saved_size);
    static const float values [] = { 0, 1, -2, 0.25f, 1e9f, NAN, 7, -1e-9f };
    float row [RULES_SIG_COUNT], contrib [RULES_SIG_COUNT + 1];
    char text [200];
    for (int p = 0; p < S_PROBES; p++) {
        for (int f = 0; f < features; f++)
            row [f] = values [(p * 5 + f) % 8];
        double margin = gbdt_margin (model, row), prob = gbdt_probability (model, row);
        FUZZ_CHECK (!isnan (margin), "probe %d: margin NaN", p);
        FUZZ_CHECK (prob >= 0 && prob <= 1, "probe %d: probability %g", p, prob);
        gbdt_contributions (model, row, contrib);
        //  In single precision, as XGBoost: the sum is as exact as the
        //  largest terms allow.
        double sum = 0, scale = 1 + fabs (margin);
        for (int f = 0; f <= features; f++) {
            sum += contrib [f];
            scale += fabs (contrib [f]);
        }
        FUZZ_CHECK (fabs (sum - margin) <= 1e-3 * scale, "probe %d: contributions %g, margin %g",
                    p, sum, margin);
        gbdt_explain (model, row, 3, text, sizeof text);
        FUZZ_CHECK (strlen (text) < sizeof text, "explanation overflows");
    }
    unlink (saved_path);
    free (saved);
    gbdt_destroy (&model);
    FUZZ_CHECK (!model, "destroy left the pointer");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_load (data, size);
    if (size < 12)
        return 0;
    uint8_t *copy = malloc (size);
    memcpy (copy, data, size);
    uint32_t crc = iforest_crc32 (copy, size - 4);
    for (int i = 0; i < 4; i++)
        copy [size - 4 + i] = (uint8_t) (crc >> (8 * i));
    if (memcmp (copy, data, size))
        s_load (copy, size);
    free (copy);
    return 0;
}
