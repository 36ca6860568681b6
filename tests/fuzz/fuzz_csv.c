/*  fuzz_csv - the ingest CSV: splitting one row, and the reader over a file

    csv_split gets the input as one line, in a buffer of exactly its size:
    the fields it returns must lie in order inside the line, and a row
    that splits must split again to the same fields once written back
    with RFC 4180 quoting. The reader gets the input as a file (a memfd):
    every row it returns is written with the real CSV writer, and that
    file, read again, must give the same rows, none rejected; every row it
    rejects must carry a CSV reason, its own line number and a payload
    of printable ASCII that masking again leaves as it is (common/pii.h).  */

#include "csv.h"
#include "fuzz.h"
#include "pii.h"
#include "rejects.h"

#define S_MAX 8                     //  a small max, so overflowing rows are tried

//  Hash of a row's 14 fields with their lengths, to compare rows later.
static uint64_t
s_row_hash (record_t *rec)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < RECORD_FIELDS; i++) {
        txw_str_t *f = record_field (rec, i);
        h = (h ^ txw_hash (f->ptr, f->len)) * 1099511628211ULL;
        h = (h ^ f->len) * 1099511628211ULL;
    }
    return h;
}

//  RFC 4180 quoting of one field (always quoted), for the split oracle.
static size_t
s_quote (char *out, const char *s, size_t len)
{
    size_t o = 0;
    out [o++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (s [i] == '"')
            out [o++] = '"';
        out [o++] = s [i];
    }
    out [o++] = '"';
    return o;
}

static void
s_split (const uint8_t *data, size_t size)
{
    char *line = malloc (size? size: 1);
    memcpy (line, data, size);
    txw_str_t fields [CSV_MAX_FIELDS];
    int count = csv_split (line, size, fields, CSV_MAX_FIELDS);
    FUZZ_CHECK (count >= -1, "csv_split returned %d", count);
    if (count >= 0) {
        FUZZ_CHECK (count >= 1, "a line of %zu bytes has no field", size);
        int stored = count < CSV_MAX_FIELDS? count: CSV_MAX_FIELDS;
        const char *at = line;
        size_t total = 0;
        for (int i = 0; i < stored; i++) {
            FUZZ_CHECK (fields [i].ptr >= at && fields [i].ptr + fields [i].len <= line + size,
                        "field %d lies outside the line or before field %d", i, i - 1);
            at = fields [i].ptr + fields [i].len;
            total += fields [i].len;
        }
        //  Quoted again, the fields split back to themselves.
        if (count <= CSV_MAX_FIELDS) {
            char *quoted = malloc (2 * total + 3 * (size_t) count + 1);
            size_t q = 0;
            for (int i = 0; i < count; i++) {
                if (i)
                    quoted [q++] = ',';
                q += s_quote (quoted + q, fields [i].ptr, fields [i].len);
            }
            char *copy = malloc (q? q: 1);
            memcpy (copy, quoted, q);
            txw_str_t again [CSV_MAX_FIELDS];
            int count2 = csv_split (quoted, q, again, CSV_MAX_FIELDS);
            FUZZ_CHECK (count2 == count, "%d fields, quoted again %d", count, count2);
            for (int i = 0; i < count; i++)
                FUZZ_CHECK (again [i].len == fields [i].len
                            && !memcmp (again [i].ptr, fields [i].ptr, fields [i].len),
                            "field %d changed when quoted again", i);
            free (copy);
            free (quoted);
        }
    }
    //  The same line with room for only a few fields: the same count.
    memcpy (line, data, size);
    txw_str_t few [S_MAX];
    int count_few = csv_split (line, size, few, S_MAX);
    FUZZ_CHECK (count_few == count, "%d fields with room for %d, %d with room for %d",
                count_few, S_MAX, count, CSV_MAX_FIELDS);
    free (line);
}

//  Reads path; writes every row to out_path (when not NULL). Returns the
//  number of rows and fills hashes [rows] (capacity max).
static size_t
s_read (const char *path, const char *out_path, uint64_t *hashes, size_t max,
        size_t *rejects, bool *header_ok)
{
    csv_reader_t *reader = csv_reader_new (path);
    FUZZ_CHECK (reader, "cannot open %s", path);
    txw_reject_t rej;
    record_t rec;
    memset (&rec, 0, sizeof rec);
    size_t rows = 0;
    *rejects = 0;
    *header_ok = csv_reader_header (reader, &rej) == 0;
    if (!*header_ok) {
        FUZZ_CHECK (!strcmp (rej.reason, txw_reject_names [TXW_REJECT_CSV_HEADER])
                    && rej.line_no == 1, "header refused as %s at line %llu", rej.reason,
                    (unsigned long long) rej.line_no);
        csv_reader_destroy (&reader);
        return 0;
    }
    csv_writer_t *writer = out_path? csv_writer_new (out_path): NULL;
    FUZZ_CHECK (!out_path || writer, "cannot create %s", out_path);
    for (;;) {
        memset (&rej, 0x55, sizeof rej);
        csv_result_t rc = csv_reader_next (reader, &rec, &rej);
        FUZZ_CHECK (rc != CSV_ERROR, "read error");
        if (rc == CSV_EOF)
            break;
        uint64_t line = csv_reader_line (reader);
        if (rc == CSV_REJECT) {
            (*rejects)++;
            FUZZ_CHECK (!strcmp (rej.reason, txw_reject_names [TXW_REJECT_CSV_QUOTING])
                        || !strcmp (rej.reason, txw_reject_names [TXW_REJECT_CSV_COLUMNS]),
                        "row rejected as '%.40s'", rej.reason);
            FUZZ_CHECK (rej.line_no == line && rej.origin_index == line,
                        "rejection at line %llu, reader at %llu",
                        (unsigned long long) rej.line_no, (unsigned long long) line);
            FUZZ_CHECK (memchr (rej.payload, 0, sizeof rej.payload)
                        && memchr (rej.message, 0, sizeof rej.message)
                        && memchr (rej.tx_id, 0, sizeof rej.tx_id),
                        "rejection text not terminated");
            //  The masked row is printable ASCII, and masking it again
            //  gives it back (the validator does: common/pii.h).
            char again [sizeof rej.payload];
            txw_mask_row (rej.payload, strlen (rej.payload), rej.tx_id, again, sizeof again);
            FUZZ_CHECK (!strcmp (again, rej.payload), "masking '%s' again gave '%s'",
                        rej.payload, again);
            for (const char *c = rej.payload; *c; c++)
                FUZZ_CHECK (*c > 0x20 && *c < 0x7f, "payload byte 0x%02x", (unsigned char) *c);
            continue;
        }
        FUZZ_CHECK (rc == CSV_ROW, "reader returned %d", rc);
        FUZZ_CHECK (rec.raw.line_no == line, "row line %llu, reader at %llu",
                    (unsigned long long) rec.raw.line_no, (unsigned long long) line);
        if (rows < max)
            hashes [rows] = s_row_hash (&rec);
        rows++;
        if (writer)
            FUZZ_CHECK (csv_writer_record (writer, &rec) == 0, "writer failed");
    }
    if (writer)
        FUZZ_CHECK (csv_writer_close (&writer) == 0, "writer close failed");
    csv_reader_destroy (&reader);
    return rows;
}

static void
s_reader (const uint8_t *data, size_t size)
{
    static uint64_t first [4096], second [4096];
    const char *path = fuzz_memfile (0, data, size);
    const char *out = fuzz_memfile (1, "", 0);
    size_t rejects, rejects2;
    bool header_ok, header_ok2;
    size_t rows = s_read (path, out, first, 4096, &rejects, &header_ok);
    if (!header_ok)
        return;
    size_t rows2 = s_read (out, NULL, second, 4096, &rejects2, &header_ok2);
    FUZZ_CHECK (header_ok2, "the writer's header is refused");
    FUZZ_CHECK (rejects2 == 0, "%zu rows written back are rejected", rejects2);
    FUZZ_CHECK (rows2 == rows, "%zu rows read, %zu read back", rows, rows2);
    for (size_t i = 0; i < rows && i < 4096; i++)
        FUZZ_CHECK (first [i] == second [i], "row %zu differs when read back", i);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_split (data, size);
    s_reader (data, size);
    return 0;
}
