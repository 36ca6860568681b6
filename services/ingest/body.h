/*  body - the body of POST /api/v1/transactions: rows and their hashes

    A body is one JSON object (one transaction), a JSON array of objects,
    or NDJSON (one object a line; blank lines are skipped). Each object
    holds the raw transaction's fields by name (TXW_RAW_TX_FIELDS,
    codec.h), each a string or null (absent); the amount may also be a
    JSON number, taken as its literal text, so 12.30 keeps its digits
    (the validator reads decimals exactly); ts may be an integer of
    milliseconds since the epoch, as on the wire. Any other value (true,
    an object, a number elsewhere) is the field's bad_type, which the
    checks report for that row. What is not a body of rows at all
    (malformed JSON, a row that is not an object, an unknown or repeated
    field name, more than the rows allowed) fails the whole body, named by
    line and column.

    Parsing is in place: strings are unescaped inside the caller's buffer
    (an escape is never shorter than what it stands for), and the rows'
    fields are views into it, valid while it lives.

    The canonical hash of a row is what idempotency compares: every field
    in table order, by kind (absent, text, integer time) and trimmed value,
    so a row posted again with other whitespace, key order or escapes is
    the same row, and any changed value makes another.                      */

#ifndef TXW_INGEST_BODY_H
#define TXW_INGEST_BODY_H

#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { INGEST_FORMAT_JSON, INGEST_FORMAT_NDJSON } ingest_format_t;

typedef enum {
    INGEST_BODY_OK = 0,
    INGEST_BODY_MALFORMED,      //  400, error says where and why
    INGEST_BODY_TOO_MANY        //  413: more rows than allowed
} ingest_body_rc_t;

typedef struct {
    size_t offset;              //  byte of the body where it went wrong
    size_t line;                //  1-based
    size_t column;              //  1-based, in bytes
    long row;                   //  the row it is in (0-based), -1 if none
    char message [160];
} ingest_body_error_t;

typedef struct {
    txw_raw_tx_t *items;
    size_t count;
    size_t capacity;
} ingest_rows_t;

//  Parses body (len bytes; changed in place) into rows (appended; start
//  with a zeroed ingest_rows_t). At most max_rows rows. On failure err
//  says where; rows then holds what was read before.
ingest_body_rc_t ingest_body_parse (char *body, size_t len, ingest_format_t format,
                                    size_t max_rows, ingest_rows_t *rows,
                                    ingest_body_error_t *err);
void ingest_rows_fini (ingest_rows_t *rows);

#define INGEST_HASH_SIZE    16

//  The canonical hash of a row's content (BLAKE2b, 128 bits).
void ingest_row_hash (const txw_raw_tx_t *raw, uint8_t hash [INGEST_HASH_SIZE]);

//  The canonical hash of a correction: its status and reason (not who
//  sent it, nor when: the same correction sent again by another key is
//  the same correction).
void ingest_correction_hash (const char *status, const char *reason,
                             uint8_t hash [INGEST_HASH_SIZE]);

#endif
