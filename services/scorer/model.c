/*  model - the anomaly model the scorer loads: a forest and its calibration  */

#include "model.h"
#include "iforest_private.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAGIC         "TXWMODL1"
#define S_FORMAT        1
#define S_MAX_FILE      (512u << 20)

struct _model_t {
    iforest_t *forest;
    float quantiles [MODEL_QUANTILES];
    int count;
};

static int
s_fail (char *err, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (err, size, format, args);
    va_end (args);
    return -1;
}

static int
s_by_value (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

model_t *
model_train (const float *rows, size_t n, int features, const char *const *names,
             const iforest_params_t *params, const char *version, char *err, size_t err_size)
{
    model_t *self = calloc (1, sizeof *self);
    double *scores = n? malloc (n * sizeof *scores): NULL;
    if (!self || !scores) {
        s_fail (err, err_size, "out of memory");
        goto fail;
    }
    self->forest = iforest_train (rows, n, features, params, err, err_size);
    if (!self->forest || (names && iforest_set_feature_names (self->forest, names, err, err_size)))
        goto fail;
    if (iforest_set_version (self->forest, version, err, err_size))
        goto fail;
    iforest_score_batch (self->forest, rows, n, scores);
    qsort (scores, n, sizeof *scores, s_by_value);
    self->count = MODEL_QUANTILES;
    for (int q = 0; q < MODEL_QUANTILES; q++)
        self->quantiles [q] = (float) scores [(size_t) ((double) q / (MODEL_QUANTILES - 1) * (n - 1))];
    free (scores);
    return self;
fail:
    free (scores);
    model_destroy (&self);
    return NULL;
}

void
model_destroy (model_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    iforest_destroy (&(*self_p)->forest);
    free (*self_p);
    *self_p = NULL;
}

double
model_raw_score (const model_t *self, const float *x)
{
    return iforest_score (self->forest, x);
}

double
model_score (const model_t *self, const float *x)
{
    double raw = iforest_score (self->forest, x);
    const float *q = self->quantiles;
    int n = self->count;
    if (raw <= q [0])
        return 0;
    if (raw >= q [n - 1])
        return 1;
    //  The last quantile at or below raw, then linear between it and the next.
    int lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (q [mid] <= raw)
            lo = mid;
        else
            hi = mid;
    }
    double span = (double) q [hi] - q [lo];
    double frac = span > 0? (raw - q [lo]) / span: 0;
    return (lo + frac) / (n - 1);
}

const char *
model_version (const model_t *self)
{
    return iforest_version (self->forest);
}

const iforest_t *
model_forest (const model_t *self)
{
    return self->forest;
}

//  --- File --------------------------------------------------------------------

static void
s_put32 (uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p [i] = (uint8_t) (v >> (8 * i));
}

static uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t) p [0] | (uint32_t) p [1] << 8 | (uint32_t) p [2] << 16
         | (uint32_t) p [3] << 24;
}

int
model_save (const model_t *self, const char *path, char *err, size_t err_size)
{
    uint8_t *forest;
    size_t forest_len;
    if (iforest_save_buffer (self->forest, iforest_version (self->forest), &forest,
                             &forest_len, err, err_size))
        return -1;
    size_t len = 8 + 4 + 4 + 4 * (size_t) self->count + 4 + forest_len + 4;
    uint8_t *buf = malloc (len);
    if (!buf) {
        free (forest);
        return s_fail (err, err_size, "out of memory");
    }
    size_t o = 0;
    memcpy (buf, S_MAGIC, 8);
    o += 8;
    s_put32 (buf + o, S_FORMAT);
    o += 4;
    s_put32 (buf + o, (uint32_t) self->count);
    o += 4;
    for (int q = 0; q < self->count; q++, o += 4) {
        uint32_t bits;
        memcpy (&bits, &self->quantiles [q], 4);
        s_put32 (buf + o, bits);
    }
    s_put32 (buf + o, (uint32_t) forest_len);
    o += 4;
    memcpy (buf + o, forest, forest_len);
    o += forest_len;
    free (forest);
    s_put32 (buf + o, iforest_crc32 (buf, o));
    o += 4;

    int rc = iforest_write_file (path, buf, o, err, err_size);
    free (buf);
    return rc;
}

model_t *
model_load (const char *path, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        s_fail (err, err_size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    model_t *self = NULL;
    if (fseek (file, 0, SEEK_END) == 0) {
        long size = ftell (file);
        if (size >= 0 && (unsigned long) size <= S_MAX_FILE && fseek (file, 0, SEEK_SET) == 0
        &&  (buf = malloc ((size_t) size + 1)))
            len = fread (buf, 1, (size_t) size, file);
        if (!buf || len != (size_t) size) {
            s_fail (err, err_size, "%s: cannot read (or larger than 512 MiB)", path);
            goto done;
        }
    }
    const char *why = NULL;
    uint32_t count = len >= 16? s_get32 (buf + 12): 0;
    size_t at = 16 + 4 * (size_t) count;
    if (len < 16 + 4 + 4 || memcmp (buf, S_MAGIC, 8))
        why = "not a txwatch model file (no TXWMODL1 header)";
    else
    if (s_get32 (buf + 8) != S_FORMAT)
        why = "unsupported model format version";
    else
    if (iforest_crc32 (buf, len - 4) != s_get32 (buf + len - 4))
        why = "checksum mismatch: the file is damaged or truncated";
    else
    if (count < 2 || count > MODEL_QUANTILES || at + 4 + 4 > len)
        why = "bad calibration table size";
    else
    if (s_get32 (buf + at) != len - at - 8)
        why = "forest length does not match the file";
    if (why) {
        s_fail (err, err_size, "%s: %s", path, why);
        goto done;
    }
    self = calloc (1, sizeof *self);
    if (!self) {
        s_fail (err, err_size, "out of memory");
        goto done;
    }
    self->count = (int) count;
    for (uint32_t q = 0; q < count; q++) {
        uint32_t bits = s_get32 (buf + 16 + 4 * q);
        memcpy (&self->quantiles [q], &bits, 4);
        if (!isfinite (self->quantiles [q]) || (q && self->quantiles [q] < self->quantiles [q - 1]))
            why = "calibration is not an ascending list of scores";
    }
    char detail [256];
    if (!why && !(self->forest = iforest_load_buffer (buf + at + 4, len - at - 8,
                                                      detail, sizeof detail)))
        why = detail;
    if (why) {
        s_fail (err, err_size, "%s: %s", path, why);
        model_destroy (&self);
    }
done:
    fclose (file);
    free (buf);
    return self;
}
