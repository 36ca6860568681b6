/*  fuzz_ingest - txw-ingest's request body: JSON or NDJSON rows

    The first byte picks the format (even: JSON, odd: NDJSON); the rest is
    the body, parsed in place as the service does, at most 64 rows. A
    failure must say where, inside the body. A body taken must be JSON
    that jansson takes too (each line for NDJSON; a number too large for a
    double aside, which jansson refuses and the amount keeps as text), and
    each row's text fields must be views inside the buffer holding the
    values jansson reads (for JSON, where the value is a string). A row's
    hash must not depend on anything but the row: the same body parsed
    again from another buffer gives the same hashes.                       */

#include "body.h"
#include "fuzz.h"

#include <jansson.h>

#define S_MAX_ROWS  64

static ingest_body_rc_t
s_parse (const uint8_t *data, size_t size, ingest_format_t format, char **buf,
         ingest_rows_t *rows, ingest_body_error_t *err)
{
    *buf = malloc (size + 1);
    memcpy (*buf, data, size);
    (*buf) [size] = 0;
    memset (rows, 0, sizeof *rows);
    return ingest_body_parse (*buf, size, format, S_MAX_ROWS, rows, err);
}

//  jansson's reading of text (len bytes), or NULL when it refuses it for
//  a reason other than a number's range.
static json_t *
s_reference (const char *text, size_t len, bool *refused)
{
    json_error_t error;
    json_t *root = json_loadb (text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    *refused = !root && !strstr (error.text, "overflow") && !strstr (error.text, "too big");
    return root;
}

static void
s_same_strings (const txw_raw_tx_t *raw, json_t *object)
{
    if (!json_is_object (object))
        return;
    for (int f = 0; f < TXW_RAW_TEXT_FIELDS; f++) {
        json_t *value = json_object_get (object, txw_raw_field_names [f]);
        if (!json_is_string (value))
            continue;
        txw_str_t view = *txw_raw_text_of (raw, f);
        FUZZ_CHECK (view.ptr && view.len == json_string_length (value)
                    && !memcmp (view.ptr, json_string_value (value), view.len),
                    "field %s differs from jansson's reading", txw_raw_field_names [f]);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ingest_format_t format = data [0] & 1? INGEST_FORMAT_NDJSON: INGEST_FORMAT_JSON;
    data++, size--;
    char *buf;
    ingest_rows_t rows;
    ingest_body_error_t err;
    ingest_body_rc_t rc = s_parse (data, size, format, &buf, &rows, &err);
    if (rc != INGEST_BODY_OK) {
        FUZZ_CHECK (err.offset <= size && err.line >= 1 && err.column >= 1 && *err.message,
                    "a failure at offset %zu of %zu, line %zu column %zu: '%s'", err.offset,
                    size, err.line, err.column, err.message);
        FUZZ_CHECK (rows.count <= S_MAX_ROWS, "%zu rows kept", rows.count);
        ingest_rows_fini (&rows);
        free (buf);
        return 0;
    }
    FUZZ_CHECK (rows.count >= 1 && rows.count <= S_MAX_ROWS, "%zu rows", rows.count);
    for (size_t i = 0; i < rows.count; i++)
        for (int f = 0; f < TXW_RAW_TEXT_FIELDS; f++) {
            txw_str_t view = *txw_raw_text_of (&rows.items [i], f);
            FUZZ_CHECK (!view.ptr || (view.ptr >= buf && view.ptr + view.len <= buf + size),
                        "row %zu field %d outside the body", i, f);
        }
    //  jansson reads the original text (the buffer is changed in place).
    bool refused;
    if (format == INGEST_FORMAT_JSON) {
        json_t *root = s_reference ((const char *) data, size, &refused);
        FUZZ_CHECK (!refused, "taken, but jansson refuses it");
        if (json_is_array (root)) {
            FUZZ_CHECK (json_array_size (root) == rows.count, "%zu rows, jansson %zu",
                        rows.count, json_array_size (root));
            for (size_t i = 0; i < rows.count; i++)
                s_same_strings (&rows.items [i], json_array_get (root, i));
        }
        else
        if (root)
            s_same_strings (&rows.items [0], root);
        json_decref (root);
    }
    else {
        const char *line = (const char *) data, *end = line + size;
        while (line < end) {
            const char *nl = memchr (line, '\n', (size_t) (end - line));
            size_t len = (size_t) ((nl? nl: end) - line);
            size_t blank = 0;
            while (blank < len && strchr (" \t\r", line [blank]))
                blank++;
            if (blank < len) {
                json_t *row = s_reference (line, len, &refused);
                FUZZ_CHECK (!refused, "a line taken, but jansson refuses it");
                json_decref (row);
            }
            line = nl? nl + 1: end;
        }
    }
    //  The hashes depend on the rows only.
    char *again;
    ingest_rows_t rows2;
    FUZZ_CHECK (s_parse (data, size, format, &again, &rows2, &err) == INGEST_BODY_OK,
                "the same body refused the second time");
    for (size_t i = 0; i < rows.count; i++) {
        uint8_t a [INGEST_HASH_SIZE], b [INGEST_HASH_SIZE];
        ingest_row_hash (&rows.items [i], a);
        ingest_row_hash (&rows2.items [i], b);
        FUZZ_CHECK (!memcmp (a, b, sizeof a), "row %zu hashes differently", i);
    }
    ingest_rows_fini (&rows2);
    free (again);
    ingest_rows_fini (&rows);
    free (buf);
    return 0;
}
