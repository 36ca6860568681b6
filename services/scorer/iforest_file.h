/*  iforest_file - the Isolation Forest model file: saving and loading

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
        u32         CRC-32 (IEEE) of every byte before it

    A loaded model scores exactly as the one saved.                        */

#ifndef TXW_SCORER_IFOREST_FILE_H
#define TXW_SCORER_IFOREST_FILE_H

#include "iforest.h"

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

#endif
