/*  iforest - an Isolation Forest over dense float vectors, and its model file

    The anomaly model of the scorer (Liu, Ting and Zhou, "Isolation Forest",
    ICDM 2008). Each tree is grown on a random subsample of psi rows by
    splitting on a random feature (one that is not constant in the node) at
    a uniform random threshold between its minimum and maximum there, until
    a node holds one row or the height limit is reached. Unusual rows are
    isolated in few splits, so the mean path length E[h(x)] over the trees
    (plus c(size) at a leaf that still holds several rows) is short, and
    the score s(x) = 2^(-E[h(x)] / c(psi)) is close to 1; ordinary rows
    score about 0.5 or less.

    The module knows nothing of transactions: a row is F floats (1..32),
    row-major. Training is deterministic: the same rows, parameters and seed
    give the same model, bit for bit, on any machine (its own PRNG, no
    rand(), no threads).

    Scoring is the hot path: no allocation, no locks, read-only, so any
    number of threads may score with one model. The trees sit in one flat
    array of 8-byte nodes; a leaf loops on itself, so every walk takes the
    same number of steps with no branch to mispredict, several walks are
    interleaved to hide load latency, and a leaf's depth + c(size) is read
    with one load at the end. On a CPU with AVX-512 sixteen trees are
    walked per vector (about 1.6 million rows a second, 200 trees, one
    core of the build machine); elsewhere, or with TXW_IFOREST_SCALAR=1 in
    the environment when the model is trained or loaded, plain C (about
    0.5 million). Both give the same scores to the bit. NaN in a scored row
    goes to the "<" side of every split (a NaN compares false); training
    refuses NaN and infinity.

    The model file is little-endian, written byte by byte (no structs), to
    a temporary file renamed into place, and checked whole on load (sizes
    against the file length, indices, depths, a CRC-32), so a truncated,
    corrupt or hostile file is refused with a message, never trusted:

        "TXWIFOR1"  magic, 8 bytes
        u32         format version (1)
        u16 + bytes model version string (1..63 printable bytes)
        u32         features F (1..32)
        u8          1 if feature names follow, else 0
        F x (u16 + bytes) names (0..63 printable bytes each), if present
        u32         trees T, u32 psi, u32 height limit, u64 seed
        T x (u32 nodes, nodes x 8 bytes)
                    node: u32 word, u32 threshold (IEEE-754 single bits);
                    word = feature | left child << 8 for a split (right
                    child = left + 1, after its parent in the tree), or
                    255 | rows << 8 for a leaf (threshold 0)
        u32         CRC-32 (IEEE) of every byte before it                  */

#ifndef TXW_SCORER_IFOREST_H
#define TXW_SCORER_IFOREST_H

#include <stddef.h>
#include <stdint.h>

#define IFOREST_MAX_FEATURES    32
#define IFOREST_MAX_TREES       10000
#define IFOREST_MAX_SAMPLE      (1 << 20)
#define IFOREST_MAX_DEPTH       64
#define IFOREST_NAME_MAX        63      //  bytes of a version or feature name

typedef struct {
    int trees;          //  0: 200
    int sample_size;    //  psi; 0: 256. More than the rows: all rows
    int max_depth;      //  height limit; 0: ceil (log2 psi)
    uint64_t seed;
} iforest_params_t;

typedef struct _iforest_t iforest_t;

//  Grows a forest on n rows of `features` floats each (row-major). params
//  may be NULL for the defaults, seed 0. Returns NULL with the reason in
//  err on bad input (n < 2, a NaN or infinite value, features or a
//  parameter out of range) or when memory cannot be had.
iforest_t *iforest_train (const float *rows, size_t n, int features,
                          const iforest_params_t *params, char *err, size_t err_size);

//  Reads and checks a model file. Returns NULL with the reason in err
//  (prefixed with the path) if it cannot be read or is not a valid model.
iforest_t *iforest_load (const char *path, char *err, size_t err_size);

//  Writes the model with this version string (1..63 printable bytes) to
//  path atomically. Returns 0, or -1 with the reason in err.
int iforest_save (const iforest_t *self, const char *path, const char *version,
                  char *err, size_t err_size);

//  The same encoding into a new buffer (*data, *size; the caller frees it),
//  and the same checks when reading one back: for a file that embeds a
//  forest (model.h).
int iforest_save_buffer (const iforest_t *self, const char *version, uint8_t **data,
                         size_t *size, char *err, size_t err_size);
iforest_t *iforest_load_buffer (const void *data, size_t size, char *err, size_t err_size);
//  CRC-32 (IEEE) of size bytes, as the file uses.
uint32_t iforest_crc32 (const void *data, size_t size);

//  Frees the model; accepts NULL and *self_p == NULL; nulls the pointer.
void iforest_destroy (iforest_t **self_p);

//  Names the features, saved with the model: `features` strings of up to
//  63 printable bytes, or names NULL to drop them. Returns 0, or -1 with
//  the reason in err (the model's names are then unchanged).
int iforest_set_feature_names (iforest_t *self, const char *const *names,
                               char *err, size_t err_size);

//  The anomaly score of one row of iforest_features () floats, in (0, 1].
//  No allocation, no locks.
double iforest_score (const iforest_t *self, const float *x);

//  Scores n rows into out [n]: the same values as iforest_score, bit for
//  bit. Without AVX-512 each tree walks a block of 256 rows while it is in
//  cache (faster than row by row there); with it, rows go one by one,
//  sixteen trees a vector, which measured faster than sixteen rows a
//  vector through one tree.
void iforest_score_batch (const iforest_t *self, const float *rows, size_t n, double *out);

//  Mean path length E[h(x)] over the trees, before normalisation.
double iforest_path_length (const iforest_t *self, const float *x);

//  c(n): the mean path length of an unsuccessful search in a binary search
//  tree of n keys, 2 H(n - 1) - 2 (n - 1) / n with H(i) = ln (i) + Euler's
//  constant; c(2) = 1, c(1) = c(0) = 0.
double iforest_c (double n);

//  Sets the version string of a model trained here (1..63 printable bytes).
//  Returns 0, or -1 with the reason in err.
int iforest_set_version (iforest_t *self, const char *version, char *err, size_t err_size);

//  The version string the model was loaded with or given ("" for a model
//  trained here and not given one).
const char *iforest_version (const iforest_t *self);
int iforest_features (const iforest_t *self);
//  The name of feature i, or NULL if out of range or unnamed.
const char *iforest_feature_name (const iforest_t *self, int feature);
int iforest_trees (const iforest_t *self);
int iforest_sample_size (const iforest_t *self);

#endif
