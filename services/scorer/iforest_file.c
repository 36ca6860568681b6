/*  iforest_file - the Isolation Forest model file: saving and loading     */

#include "iforest_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAGIC         "TXWIFOR1"
#define S_FORMAT        1u
#define S_MAX_FILE      (INT64_C (1) << 30)

//  CRC-32 (IEEE 802.3, reflected 0xEDB88320), four bits at a time.
static uint32_t
s_crc32 (const uint8_t *data, size_t size)
{
    static const uint32_t table [16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c
    };
    uint32_t crc = 0xffffffff;
    for (size_t i = 0; i < size; i++) {
        crc ^= data [i];
        crc = (crc >> 4) ^ table [crc & 15];
        crc = (crc >> 4) ^ table [crc & 15];
    }
    return ~crc;
}

typedef struct {
    uint8_t *data;
    size_t at;
} s_writer_t;

static void
s_put (s_writer_t *w, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; i++)
        w->data [w->at++] = (uint8_t) (value >> (8 * i));
}

static void
s_put_text (s_writer_t *w, const char *text)
{
    size_t len = strlen (text);
    s_put (w, len, 2);
    memcpy (w->data + w->at, text, len);
    w->at += len;
}

//  Encodes the model into a new buffer of *size bytes, or returns NULL.
static uint8_t *
s_encode (const iforest_t *self, const char *version, size_t *size)
{
    size_t total = 8 + 4 + 2 + strlen (version) + 4 + 1 + 4 + 4 + 4 + 8
                 + 4 * (size_t) self->trees + 8 * self->node_count + 4;
    for (int f = 0; self->named && f < self->features; f++)
        total += 2 + strlen (self->names [f]);
    s_writer_t w = { malloc (total), 0 };
    if (!w.data)
        return NULL;
    memcpy (w.data, S_MAGIC, 8);
    w.at = 8;
    s_put (&w, S_FORMAT, 4);
    s_put_text (&w, version);
    s_put (&w, (uint64_t) self->features, 4);
    s_put (&w, self->named, 1);
    for (int f = 0; self->named && f < self->features; f++)
        s_put_text (&w, self->names [f]);
    s_put (&w, (uint64_t) self->trees, 4);
    s_put (&w, (uint64_t) self->psi, 4);
    s_put (&w, (uint64_t) self->max_depth, 4);
    s_put (&w, self->seed, 8);
    for (int t = 0; t < self->trees; t++) {
        size_t start = self->tree_start [t], end = self->tree_start [t + 1];
        s_put (&w, end - start, 4);
        for (size_t i = start; i < end; i++) {
            s_put (&w, self->words [i], 4);
            s_put (&w, iforest_bits_of (self->thresholds [i]), 4);
        }
    }
    s_put (&w, s_crc32 (w.data, w.at), 4);
    *size = w.at;
    return w.data;
}

int
iforest_write_file (const char *path, const uint8_t *data, size_t size, char *err, size_t err_size)
{
    char temp [4096];
    if (snprintf (temp, sizeof temp, "%s.tmp-XXXXXX", path) >= (int) sizeof temp) {
        iforest_fail (err, err_size, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp (temp);
    if (fd < 0) {
        iforest_fail (err, err_size, "%s: %s", temp, strerror (errno));
        return -1;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t wrote = write (fd, data + done, size - done);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            break;
        done += (size_t) wrote;
    }
    if (done < size || fchmod (fd, 0644) || fsync (fd)) {
        iforest_fail (err, err_size, "%s: %s", temp, strerror (errno));
        close (fd);
        unlink (temp);
        return -1;
    }
    if (close (fd) || rename (temp, path)) {
        iforest_fail (err, err_size, "%s: %s", path, strerror (errno));
        unlink (temp);
        return -1;
    }
    return 0;
}

int
iforest_save (const iforest_t *self, const char *path, const char *version,
              char *err, size_t err_size)
{
    char reason [128];
    size_t size;
    uint8_t *data;
    if (iforest_save_buffer (self, version, &data, &size, reason, sizeof reason)) {
        iforest_fail (err, err_size, "%s: %s", path, reason);
        return -1;
    }
    int rc = iforest_write_file (path, data, size, err, err_size);
    free (data);
    return rc;
}

//  A bounds-checked cursor over the file's bytes.
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t at;
} s_reader_t;

static int
s_get (s_reader_t *r, int bytes, uint64_t *value)
{
    if (r->size - r->at < (size_t) bytes)
        return -1;
    *value = 0;
    for (int i = 0; i < bytes; i++)
        *value |= (uint64_t) r->data [r->at++] << (8 * i);
    return 0;
}

//  Reads a u16-prefixed string of at most IFOREST_NAME_MAX printable bytes.
static int
s_get_text (s_reader_t *r, char *text)
{
    uint64_t len;
    if (s_get (r, 2, &len) || len > IFOREST_NAME_MAX || r->size - r->at < len
    ||  !iforest_printable ((const char *) r->data + r->at, len))
        return -1;
    memcpy (text, r->data + r->at, len);
    text [len] = 0;
    r->at += len;
    return 0;
}

//  Reads the header up to the trees into a new model.
static iforest_t *
s_decode_header (s_reader_t *r, char *err, size_t err_size)
{
    char version [IFOREST_NAME_MAX + 1];
    uint64_t format, features, named, trees, psi, max_depth, seed;
    r->at = 8;
    if (s_get (r, 4, &format) || format != S_FORMAT) {
        iforest_fail (err, err_size, "unknown format version");
        return NULL;
    }
    if (s_get_text (r, version) || !version [0]
    ||  s_get (r, 4, &features) || features < 1 || features > IFOREST_MAX_FEATURES
    ||  s_get (r, 1, &named) || named > 1) {
        iforest_fail (err, err_size, "bad header (version string, feature count or names flag)");
        return NULL;
    }
    char names [IFOREST_MAX_FEATURES][IFOREST_NAME_MAX + 1];
    for (uint64_t f = 0; named && f < features; f++)
        if (s_get_text (r, names [f])) {
            iforest_fail (err, err_size, "bad name of feature %d", (int) f);
            return NULL;
        }
    if (s_get (r, 4, &trees) || trees < 1 || trees > IFOREST_MAX_TREES
    ||  s_get (r, 4, &psi) || psi < 2 || psi > IFOREST_MAX_SAMPLE
    ||  s_get (r, 4, &max_depth) || max_depth < 1 || max_depth > IFOREST_MAX_DEPTH
    ||  s_get (r, 8, &seed)) {
        iforest_fail (err, err_size, "bad header (trees, sample size or height limit)");
        return NULL;
    }
    iforest_t *self = iforest_new ((int) features, (int) trees, (int) psi, (int) max_depth, seed);
    if (!self) {
        iforest_fail (err, err_size, "out of memory");
        return NULL;
    }
    snprintf (self->version, sizeof self->version, "%s", version);
    self->named = named;
    if (named)
        memcpy (self->names, names, sizeof names);
    return self;
}

//  First pass over the trees: node counts against the bytes there are.
static int
s_count_nodes (iforest_t *self, s_reader_t *r, char *err, size_t err_size)
{
    for (int t = 0; t < self->trees; t++) {
        uint64_t count;
        if (s_get (r, 4, &count) || count < 1 || count > 2 * (uint64_t) self->psi - 1
        ||  (r->size - r->at) / 8 < count) {
            iforest_fail (err, err_size, "tree %d: bad node count or truncated", t);
            return -1;
        }
        r->at += 8 * count;
        self->tree_start [t + 1] = self->tree_start [t] + count;
    }
    if (r->at != r->size) {
        iforest_fail (err, err_size, "%zu unexpected bytes after the trees", r->size - r->at);
        return -1;
    }
    self->node_count = self->tree_start [self->trees];
    return 0;
}

static iforest_t *
s_decode (const uint8_t *data, size_t size, char *err, size_t err_size)
{
    if (size < 12 || memcmp (data, S_MAGIC, 8)) {
        iforest_fail (err, err_size, "not an Isolation Forest model (bad magic)");
        return NULL;
    }
    uint32_t crc = (uint32_t) data [size - 4] | (uint32_t) data [size - 3] << 8
                 | (uint32_t) data [size - 2] << 16 | (uint32_t) data [size - 1] << 24;
    if (s_crc32 (data, size - 4) != crc) {
        iforest_fail (err, err_size, "checksum mismatch: the file is corrupt or truncated");
        return NULL;
    }
    s_reader_t r = { data, size - 4, 0 };
    iforest_t *self = s_decode_header (&r, err, err_size);
    if (!self)
        return NULL;
    size_t trees_at = r.at;
    if (s_count_nodes (self, &r, err, err_size))
        goto fail;
    self->words = malloc (self->node_count * sizeof *self->words);
    self->thresholds = malloc (self->node_count * sizeof *self->thresholds);
    if (!self->words || !self->thresholds) {
        iforest_fail (err, err_size, "out of memory for %zu nodes", self->node_count);
        goto fail;
    }
    r.at = trees_at;
    for (int t = 0; t < self->trees; t++) {
        uint64_t value = 0;
        s_get (&r, 4, &value);      //  counted and checked above
        for (size_t i = self->tree_start [t]; i < self->tree_start [t + 1]; i++) {
            s_get (&r, 4, &value);
            self->words [i] = (uint32_t) value;
            s_get (&r, 4, &value);
            self->thresholds [i] = iforest_float_of ((uint32_t) value);
        }
    }
    if (iforest_compile (self, err, err_size))
        goto fail;
    return self;
fail:
    iforest_destroy (&self);
    return NULL;
}

//  Reads a whole file of at most S_MAX_FILE bytes into a new buffer.
static uint8_t *
s_read_file (const char *path, size_t *size, char *err, size_t err_size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st)) {
        iforest_fail (err, err_size, "%s", strerror (errno));
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    if (!S_ISREG (st.st_mode) || st.st_size > S_MAX_FILE) {
        iforest_fail (err, err_size, "not a regular file of at most %lld bytes",
                      (long long) S_MAX_FILE);
        close (fd);
        return NULL;
    }
    uint8_t *data = malloc ((size_t) st.st_size + 1);
    size_t done = 0;
    while (data) {
        ssize_t got = read (fd, data + done, (size_t) st.st_size + 1 - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || (done += (size_t) got) > (size_t) st.st_size)
            break;
    }
    if (!data || done != (size_t) st.st_size) {
        iforest_fail (err, err_size, data? "changed while being read": "out of memory");
        free (data);
        data = NULL;
    }
    close (fd);
    *size = done;
    return data;
}

iforest_t *
iforest_load (const char *path, char *err, size_t err_size)
{
    char reason [256] = "";
    size_t size = 0;
    uint8_t *data = s_read_file (path, &size, reason, sizeof reason);
    iforest_t *self = data? s_decode (data, size, reason, sizeof reason): NULL;
    free (data);
    if (!self)
        iforest_fail (err, err_size, "%s: %s", path, reason);
    return self;
}

int
iforest_save_buffer (const iforest_t *self, const char *version, uint8_t **data,
                     size_t *size, char *err, size_t err_size)
{
    if (iforest_check_version (version, err, err_size))
        return -1;
    *data = s_encode (self, version, size);
    if (!*data) {
        iforest_fail (err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

iforest_t *
iforest_load_buffer (const void *data, size_t size, char *err, size_t err_size)
{
    return s_decode (data, size, err, err_size);
}

uint32_t
iforest_crc32 (const void *data, size_t size)
{
    return s_crc32 (data, size);
}
