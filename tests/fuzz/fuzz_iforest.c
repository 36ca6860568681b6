/*  fuzz_iforest - the Isolation Forest file, loaded from a buffer

    Each input is tried as it is and with its CRC-32 made right (most
    mutations only break the checksum; the fixed copy lets them reach the
    checks behind it). A forest that loads must save to the very same
    bytes, load again, and score every probe row the same, in (0, 1], on
    both the AVX-512 and the scalar walk and in a batch.                    */

#include "iforest.h"
#include "fuzz.h"

#include <math.h>

#define S_PROBES 8

static void
s_probe_rows (int features, float *rows)
{
    static const float values [] = { 0, 1, -1, 0.5f, 1e6f, -1e-6f, NAN, 3.25f };
    for (int r = 0; r < S_PROBES; r++)
        for (int f = 0; f < features; f++)
            rows [r * features + f] = values [(r * 7 + f * 3) % 8] * (float) (f + 1);
}

static void
s_scores (const iforest_t *forest, const float *rows, double *out)
{
    int features = iforest_features (forest);
    for (int r = 0; r < S_PROBES; r++) {
        out [r] = iforest_score (forest, rows + r * features);
        FUZZ_CHECK (out [r] > 0 && out [r] <= 1, "probe %d scores %g", r, out [r]);
    }
    double batch [S_PROBES];
    iforest_score_batch (forest, rows, S_PROBES, batch);
    for (int r = 0; r < S_PROBES; r++)
        FUZZ_CHECK (!memcmp (&batch [r], &out [r], sizeof (double)),
                    "probe %d scores %.17g alone, %.17g in a batch", r, out [r], batch [r]);
}

static void
s_load (const uint8_t *data, size_t size)
{
    char err [256] = "";
    unsetenv ("TXW_IFOREST_SCALAR");
    iforest_t *forest = iforest_load_buffer (data, size, err, sizeof err);
    if (!forest) {
        FUZZ_CHECK (err [0], "refused without a reason");
        return;
    }
    int features = iforest_features (forest);
    FUZZ_CHECK (features >= 1 && features <= IFOREST_MAX_FEATURES, "%d features", features);
    FUZZ_CHECK (iforest_trees (forest) >= 1 && iforest_trees (forest) <= IFOREST_MAX_TREES,
                "%d trees", iforest_trees (forest));
    const char *version = iforest_version (forest);
    FUZZ_CHECK (strlen (version) >= 1 && strlen (version) <= IFOREST_NAME_MAX,
                "version '%s'", version);

    uint8_t *saved = NULL;
    size_t saved_size = 0;
    FUZZ_CHECK (iforest_save_buffer (forest, version, &saved, &saved_size, err, sizeof err) == 0,
                "a loaded forest does not save: %s", err);
    FUZZ_CHECK (saved_size == size && !memcmp (saved, data, size),
                "saved again, %zu bytes become %zu different ones", size, saved_size);

    setenv ("TXW_IFOREST_SCALAR", "1", 1);
    iforest_t *scalar = iforest_load_buffer (saved, saved_size, err, sizeof err);
    unsetenv ("TXW_IFOREST_SCALAR");
    FUZZ_CHECK (scalar, "a saved forest does not load: %s", err);
    FUZZ_CHECK (!strcmp (iforest_version (scalar), version)
                && iforest_features (scalar) == features
                && iforest_trees (scalar) == iforest_trees (forest)
                && iforest_sample_size (scalar) == iforest_sample_size (forest),
                "the forest changed in a round trip");
    for (int f = 0; f < features; f++) {
        const char *a = iforest_feature_name (forest, f), *b = iforest_feature_name (scalar, f);
        FUZZ_CHECK ((!a && !b) || (a && b && !strcmp (a, b)), "feature %d name changed", f);
    }
    float rows [S_PROBES * IFOREST_MAX_FEATURES];
    double wide [S_PROBES], plain [S_PROBES];
    s_probe_rows (features, rows);
    s_scores (forest, rows, wide);
    s_scores (scalar, rows, plain);
    for (int r = 0; r < S_PROBES; r++)
        FUZZ_CHECK (!memcmp (&wide [r], &plain [r], sizeof (double)),
                    "probe %d scores %.17g, %.17g on the scalar walk", r, wide [r], plain [r]);
    free (saved);
    iforest_destroy (&scalar);
    iforest_destroy (&forest);
    FUZZ_CHECK (!forest, "destroy left the pointer");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size? size: 1);
    memcpy (copy, data, size);
    s_load (copy, size);
    if (size >= 12) {
        uint32_t crc = iforest_crc32 (copy, size - 4);
        uint8_t want [4] = { (uint8_t) crc, (uint8_t) (crc >> 8), (uint8_t) (crc >> 16),
                             (uint8_t) (crc >> 24) };
        if (memcmp (copy + size - 4, want, 4)) {
            memcpy (copy + size - 4, want, 4);
            s_load (copy, size);
        }
    }
    free (copy);
    return 0;
}
