/*  csv - the ingest format: splitting rows, streaming files, writing rows

    The CSV ingest format (proto/WIRE.md) is a header row and the 14 core
    transaction fields in order; after them come the optional fields
    (device_type, order_id) found by their header name, and any other column is
    ignored, so --csv-out output (which appends the labels) can be fed back
    with --file. Quoting
    follows RFC 4180 (quoted fields, embedded commas, "" for a quote) except
    that a quoted field must end on its own line: a stray quote then costs
    one row, not the rest of the file. The reader streams with getline into
    one reused buffer, and turns every row it cannot split into a rejection
    (csv_columns, csv_quoting) instead of skipping it. The writer is plain
    buffered stdio.                                                          */

#ifndef TXW_PRODUCER_CSV_H
#define TXW_PRODUCER_CSV_H

#include "codec.h"
#include "record.h"

#include <stdbool.h>
#include <stddef.h>

#define CSV_MAX_FIELDS 64
#define CSV_PAYLOAD_MAX 200     //  bytes of a bad row kept in its dead letter

//  The header of the ingest format, and the label columns --csv-out adds.
extern const char *const *csv_columns;      //  RECORD_FIELDS of them, by field index
extern const char *csv_label_columns [3];

//  Splits line (len bytes, no line terminator) in place: quoted fields are
//  unquoted and unescaped where they stand. Stores views of at most max
//  fields and returns how many fields the line has (which may be more than
//  max), or -1 if a quoted field is malformed.
int csv_split (char *line, size_t len, txw_str_t *fields, int max);

//  --- Reader ------------------------------------------------------------------

typedef struct _csv_reader_t csv_reader_t;

typedef enum {
    CSV_EOF = 0,                //  no more rows
    CSV_ROW,                    //  a record was read
    CSV_REJECT,                 //  a row could not be split: see the rejection
    CSV_ERROR                   //  the file could not be read (logged)
} csv_result_t;

//  Opens path ("-" for stdin). Returns NULL (logged) if it cannot.
csv_reader_t *csv_reader_new (const char *path);
void csv_reader_destroy (csv_reader_t **self_p);

//  Reads and checks the header row. Returns 0, or -1 with rej filled in
//  (csv_header, line 1) if the header is missing or not the expected columns.
int csv_reader_header (csv_reader_t *self, txw_reject_t *rej);

//  Reads the next row. CSV_ROW fills rec's fields (views into the reader's
//  buffer, valid until the next call) and its line number; CSV_REJECT fills
//  rej. Never allocates once the buffer has grown to the longest line.
csv_result_t csv_reader_next (csv_reader_t *self, record_t *rec, txw_reject_t *rej);

//  Lines read so far.
uint64_t csv_reader_line (const csv_reader_t *self);

//  --- Writer ------------------------------------------------------------------

typedef struct _csv_writer_t csv_writer_t;

//  Creates path ("-" for stdout) and writes the header: the fields, with
//  order_id only if orders is set (a generator with a catalogue, so the
//  output of one without stays as it always was), then the label columns.
//  Returns NULL (logged) if it cannot.
csv_writer_t *csv_writer_open (const char *path, bool orders);
//  csv_writer_open without order_id.
csv_writer_t *csv_writer_new (const char *path);
//  Flushes and closes. Returns -1 (logged) if anything failed to write.
int csv_writer_close (csv_writer_t **self_p);

//  Writes one row: the fields of the header, is_fraud, fraud_pattern,
//  injected.
//  Returns -1 if the stream is in error (disk full...).
int csv_writer_record (csv_writer_t *self, const record_t *rec);

#endif
