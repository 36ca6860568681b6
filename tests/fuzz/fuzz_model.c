/*  fuzz_model - the scorer's model file: calibration table and forest

    The input is written to a memfd and loaded with model_load, as it is and
    with its lengths and both CRC-32s (the embedded forest's and the
    file's) made right, so mutations reach the checks behind them. A model
    that loads must save (model_save, to a tmpfs file) to the very same
    bytes, load again, and give every probe row the same calibrated score,
    in [0, 1], and the same raw score.                                      */

#include "model.h"
#include "fuzz.h"

#include <math.h>

#define S_PROBES 6

static uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t) p [0] | (uint32_t) p [1] << 8 | (uint32_t) p [2] << 16
         | (uint32_t) p [3] << 24;
}

static void
s_put32 (uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p [i] = (uint8_t) (v >> (8 * i));
}

static void
s_load (const uint8_t *data, size_t size)
{
    char err [512] = "";
    model_t *model = model_load (fuzz_memfile (0, data, size), err, sizeof err);
    if (!model) {
        FUZZ_CHECK (err [0], "refused without a reason");
        return;
    }
    const iforest_t *forest = model_forest (model);
    int features = iforest_features (forest);
    FUZZ_CHECK (features >= 1 && features <= IFOREST_MAX_FEATURES, "%d features", features);
    FUZZ_CHECK (!strcmp (model_version (model), iforest_version (forest)), "two versions");

    const char *saved_path = fuzz_temppath ("model.bin");
    FUZZ_CHECK (model_save (model, saved_path, err, sizeof err) == 0,
                "a loaded model does not save: %s", err);
    size_t saved_size;
    char *saved = fuzz_slurp (saved_path, &saved_size);
    FUZZ_CHECK (saved_size == size && !memcmp (saved, data, size),
                "saved again, %zu bytes become %zu different ones", size, saved_size);
    model_t *again = model_load (saved_path, err, sizeof err);
    FUZZ_CHECK (again, "a saved model does not load: %s", err);
    FUZZ_CHECK (!strcmp (model_version (again), model_version (model)), "version changed");

    static const float values [] = { 0, 1, -2, 0.25f, 1e9f, NAN, 7, -1e-9f };
    float row [IFOREST_MAX_FEATURES];
    for (int p = 0; p < S_PROBES; p++) {
        for (int f = 0; f < features; f++)
            row [f] = values [(p * 5 + f) % 8];
        double a = model_score (model, row), b = model_score (again, row);
        FUZZ_CHECK (a >= 0 && a <= 1, "probe %d: calibrated score %g", p, a);
        FUZZ_CHECK (!memcmp (&a, &b, sizeof a), "probe %d: %.17g, after a round trip %.17g",
                    p, a, b);
        double raw_a = model_raw_score (model, row), raw_b = model_raw_score (again, row);
        FUZZ_CHECK (!memcmp (&raw_a, &raw_b, sizeof raw_a), "probe %d: raw %.17g then %.17g",
                    p, raw_a, raw_b);
    }
    unlink (saved_path);
    free (saved);
    model_destroy (&again);
    model_destroy (&model);
    FUZZ_CHECK (!model, "destroy left the pointer");
}

//  Makes the forest length and both CRCs right, if the layout allows.
static bool
s_fix (uint8_t *d, size_t size)
{
    if (size < 24 || memcmp (d, "TXWMODL1", 8))
        return false;
    size_t at = 16 + 4 * (size_t) s_get32 (d + 12);
    if (at + 8 > size)
        return false;
    size_t forest = size - at - 8;
    s_put32 (d + at, (uint32_t) forest);
    if (forest >= 4)
        s_put32 (d + at + 4 + forest - 4, iforest_crc32 (d + at + 4, forest - 4));
    s_put32 (d + size - 4, iforest_crc32 (d, size - 4));
    return true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_load (data, size);
    uint8_t *copy = malloc (size? size: 1);
    memcpy (copy, data, size);
    if (s_fix (copy, size) && memcmp (copy, data, size))
        s_load (copy, size);
    free (copy);
    return 0;
}
