/*  record - one transaction on its way out, with the generator's labels

    The generator and the CSV reader both fill a record_t; the sender and the
    CSV writer both read one. That is what makes "--csv-out" and sending emit
    the very same records: one code path builds a record, and only the sink
    differs. The wire fields are txw_raw_tx_t views (text exactly as in the
    CSV); they point into the record's own buffers, into static tables, or
    into the CSV reader's line buffer. The labels (is_fraud, pattern,
    injected) are for the CSV output and the tests and never go on the wire. */

#ifndef TXW_PRODUCER_RECORD_H
#define TXW_PRODUCER_RECORD_H

#include "codec.h"
#include "rfc3339.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

//  The fields of the ingest format: raw_tx's text fields, in their order
//  (codec.h, proto/WIRE.md).
#define RECORD_FIELDS TXW_RAW_TEXT_FIELDS

typedef struct {
    txw_raw_tx_t raw;           //  the wire record (views)
    int64_t ts_ms;              //  event time the generator meant
    bool is_fraud;
    int pattern;                //  generator_pattern_t, 0 when none
    const char *pattern_name;   //  static text, "" when none
    int invalid;                //  TXW_REJECT_* the validator must give, or -1
    bool late;
    char injected [48];         //  "", "late" or "invalid:<code>"
    //  Storage for the fields the generator formats.
    char tx_id [64];            //  T<seed>.<run>-<n>: at most 52 bytes
    char ts [RFC3339_SIZE];
    char amount [40];
    char device_id [24];
    char merchant_id [24];      //  a P2P beneficiary, "P2P-A000123"
    char product_id [16];
} record_t;

//  A view of a NUL-terminated string (static, or in a buffer that outlives
//  the record's use).
static inline txw_str_t
record_view (const char *s)
{
    txw_str_t v = { s, (uint32_t) strlen (s) };
    return v;
}

//  The raw fields in CSV column order, for code that walks them.
static inline txw_str_t *
record_field (record_t *self, int index)
{
    return txw_raw_text (&self->raw, index);
}

//  Clears the labels and the non-field parts of the wire record.
static inline void
record_reset (record_t *self)
{
    self->raw.ts_is_int = false;
    self->raw.ts_ms = 0;
    self->raw.origin_us = 0;
    self->raw.line_no = 0;
    self->raw.bad_field = -1;
    self->ts_ms = 0;
    self->is_fraud = false;
    self->pattern = 0;
    self->pattern_name = "";
    self->invalid = -1;
    self->late = false;
    self->injected [0] = 0;
}

#endif
