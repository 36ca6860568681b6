/*  fuzz_gbdt - the scorer's supervised model file (boosted trees)

    The input is loaded with gbdt_load_buffer as it is and with its CRC-32
    made right, so mutations reach the checks behind it. A model that loads
    must save (gbdt_save, to a tmpfs file) to the very same bytes (a file of
    format 1 to those bytes in format 2: its operating point added, and the
    saved file to itself again), and give every probe row (NaN included) a
    finite margin, a probability in [0, 1], contributions that sum to the
    margin, and an explanation; and its score scale must rise from 0 to 100
    and cross 80 at its operating point.                                   */

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
    bool format_1 = size >= 12 && data [8] == 1 && !data [9] && !data [10] && !data [11];
    if (format_1) {
        gbdt_t *again = gbdt_load_buffer (saved, saved_size, err, sizeof err);
        FUZZ_CHECK (again, "a format 1 file saved as format 2 is refused: %s", err);
        FUZZ_CHECK (saved_size == size + 4 && gbdt_operating (again) == GBDT_OPERATING_DEFAULT,
                    "a format 1 file of %zu bytes saved as %zu, operating point %g", size,
                    saved_size, gbdt_operating (again));
        gbdt_destroy (&again);
    }
    else
        FUZZ_CHECK (saved_size == size && !memcmp (saved, data, size),
                    "saved again, %zu bytes become %zu different ones", size, saved_size);
    double at = gbdt_operating (model), last = -1;
    FUZZ_CHECK (at >= GBDT_OPERATING_MIN && at <= GBDT_OPERATING_MAX, "operating point %g", at);
    FUZZ_CHECK (gbdt_score (model, 0) == 0 && gbdt_score (model, 1) == 100
                && floor (gbdt_score (model, at)) == 80
                && floor (gbdt_score (model, nextafter (at, 0))) == 79,
                "the scale is not 0, 80 and 100 at 0, %g and 1", at);
    for (int i = 0; i <= 64; i++) {
        double score = gbdt_score (model, i / 64.0);
        FUZZ_CHECK (score >= last && score <= 100, "the scale falls at %g", i / 64.0);
        last = score;
    }
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
