/*  csv - the ingest format: splitting rows, streaming files, writing rows  */

#include "csv.h"
#include "clock.h"
#include "log.h"
#include "pii.h"
#include "rejects.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const *csv_columns = txw_raw_field_names;
const char *csv_label_columns [3] = { "is_fraud", "fraud_pattern", "injected" };

int
csv_split (char *line, size_t len, txw_str_t *fields, int max)
{
    int count = 0;
    size_t pos = 0;
    for (;;) {
        char *start = line + pos;
        size_t flen = 0;
        if (pos < len && line [pos] == '"') {
            //  Quoted: copy down over the doubled quotes as we go.
            pos++;
            char *out = start;
            for (;;) {
                if (pos >= len)
                    return -1;              //  no closing quote on this line
                if (line [pos] == '"') {
                    if (pos + 1 < len && line [pos + 1] == '"') {
                        out [flen++] = '"';
                        pos += 2;
                        continue;
                    }
                    pos++;
                    break;
                }
                out [flen++] = line [pos++];
            }
            if (pos < len && line [pos] != ',')
                return -1;                  //  text after the closing quote
        }
        else {
            while (pos < len && line [pos] != ',') {
                if (line [pos] == '"')
                    return -1;              //  a quote inside a bare field
                pos++;
            }
            flen = (size_t) (line + pos - start);
        }
        if (count < max)
            fields [count] = (txw_str_t) { start, (uint32_t) flen };
        count++;
        if (pos >= len)
            return count;
        pos++;                              //  the comma
    }
}

//  --- Reader ------------------------------------------------------------------

struct _csv_reader_t {
    FILE *file;
    char name [TXW_NAME_MAX * 2 + 1];       //  file name, for dead letters
    char *line;
    size_t capacity;
    size_t len;
    uint64_t line_no;
    int columns;                            //  in the header
    int field_of [CSV_MAX_FIELDS];          //  column -> raw field index, or -1
    txw_str_t fields [CSV_MAX_FIELDS];
    char saved [CSV_PAYLOAD_MAX + 1];       //  row before it was split
    size_t saved_len;
};

csv_reader_t *
csv_reader_new (const char *path)
{
    csv_reader_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (strcmp (path, "-") == 0)
        self->file = stdin;
    else
        self->file = fopen (path, "r");
    if (!self->file) {
        log_error ("cannot open %s: %s", path, strerror (errno));
        free (self);
        return NULL;
    }
    const char *base = strrchr (path, '/');
    snprintf (self->name, sizeof self->name, "%s",
              strcmp (path, "-") == 0? "stdin": base? base + 1: path);
    return self;
}

void
csv_reader_destroy (csv_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    csv_reader_t *self = *self_p;
    if (self->file && self->file != stdin)
        fclose (self->file);
    free (self->line);
    free (self);
    *self_p = NULL;
}

uint64_t
csv_reader_line (const csv_reader_t *self)
{
    return self->line_no;
}

//  Reads one physical line without its terminator. Returns 1, 0 at end of
//  file, -1 on a read error.
static int
s_read_line (csv_reader_t *self)
{
    errno = 0;
    ssize_t n = getline (&self->line, &self->capacity, self->file);
    if (n < 0) {
        if (ferror (self->file)) {
            log_error ("cannot read %s at line %llu: %s", self->name,
                       (unsigned long long) self->line_no + 1, strerror (errno));
            return -1;
        }
        return 0;
    }
    self->line_no++;
    if (n > 0 && self->line [n - 1] == '\n')
        n--;
    if (n > 0 && self->line [n - 1] == '\r')
        n--;
    self->line [n] = 0;
    self->len = (size_t) n;
    self->saved_len = self->len < CSV_PAYLOAD_MAX? self->len: CSV_PAYLOAD_MAX;
    //  Never cut a UTF-8 sequence in two.
    while (self->saved_len < self->len && self->saved_len > 0
    &&    ((unsigned char) self->line [self->saved_len] & 0xC0) == 0x80)
        self->saved_len--;
    memcpy (self->saved, self->line, self->saved_len);
    self->saved [self->saved_len] = 0;
    return 1;
}

static void
s_reject (csv_reader_t *self, txw_reject_t *rej, int code, const char *fmt, ...)
{
    memset (rej, 0, sizeof *rej);
    snprintf (rej->origin_source, sizeof rej->origin_source, "%s", self->name);
    rej->origin_seq = 0;
    rej->origin_index = (uint32_t) self->line_no;
    rej->line_no = self->line_no;
    //  The tx_id when a row after the header starts with a plain one. A
    //  refused header may be a row of some other layout: no tx_id there.
    size_t id_len = strcspn (self->saved, ",\"");
    if (code != TXW_REJECT_CSV_HEADER && id_len <= TXW_ID_MAX && self->saved [id_len] == ',')
        memcpy (rej->tx_id, self->saved, id_len);
    snprintf (rej->reason, sizeof rej->reason, "%s", txw_reject_names [code]);
    char detail [400];           //  leaves room for the file name and line
    va_list args;
    va_start (args, fmt);
    vsnprintf (detail, sizeof detail, fmt, args);
    va_end (args);
    snprintf (rej->message, sizeof rej->message, "%s line %llu: %s", self->name,
              (unsigned long long) self->line_no, detail);
    //  The row did not split, so no column can be trusted to be what the
    //  header says: every field is masked by its shape (common/pii.h).
    txw_mask_row (self->saved, self->saved_len, rej->tx_id, rej->payload, sizeof rej->payload);
    rej->received_ms = txw_now_ms ();
}

int
csv_reader_header (csv_reader_t *self, txw_reject_t *rej)
{
    int rc = s_read_line (self);
    if (rc <= 0) {
        self->line_no = 1;
        self->saved [0] = 0;
        self->saved_len = 0;
        s_reject (self, rej, TXW_REJECT_CSV_HEADER, "file is empty, a header row is required");
        return -1;
    }
    char *line = self->line;
    size_t len = self->len;
    if (len >= 3 && memcmp (line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;                          //  a UTF-8 byte order mark
        len -= 3;
    }
    int count = csv_split (line, len, self->fields, CSV_MAX_FIELDS);
    if (count < 0) {
        s_reject (self, rej, TXW_REJECT_CSV_HEADER, "header has a malformed quoted field");
        return -1;
    }
    if (count < TXW_RAW_CSV_CORE || count > CSV_MAX_FIELDS) {
        s_reject (self, rej, TXW_REJECT_CSV_HEADER,
                  "header has %d columns, expected at least the %d of the ingest format",
                  count, TXW_RAW_CSV_CORE);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        txw_str_t f = self->fields [i];
        while (f.len && (f.ptr [0] == ' ' || f.ptr [0] == '\t')) {
            f.ptr++;
            f.len--;
        }
        while (f.len && (f.ptr [f.len - 1] == ' ' || f.ptr [f.len - 1] == '\t'))
            f.len--;
        if (i < TXW_RAW_CSV_CORE) {
            if (f.len != strlen (csv_columns [i])
            ||  strncasecmp (f.ptr, csv_columns [i], f.len) != 0) {
                //  A file without a header shows its first row here.
                char token [TXW_PSEUDONYM_SIZE];
                if (!txw_pii_safe (f.ptr, f.len)) {
                    txw_mask_id (f.ptr, f.len, token, sizeof token);
                    f = (txw_str_t) { token, (uint32_t) strlen (token) };
                }
                s_reject (self, rej, TXW_REJECT_CSV_HEADER,
                          "header column %d is '%.*s', expected '%s'", i + 1,
                          (int) (f.len > 64? 64: f.len), f.ptr, csv_columns [i]);
                return -1;
            }
            self->field_of [i] = i;
            continue;
        }
        //  After the core: the optional fields by name, anything else
        //  (the labels --csv-out adds, say) ignored.
        self->field_of [i] = -1;
        for (int field = TXW_RAW_CSV_CORE; field < RECORD_FIELDS; field++) {
            if (f.len != strlen (csv_columns [field])
            ||  strncasecmp (f.ptr, csv_columns [field], f.len) != 0)
                continue;
            for (int j = TXW_RAW_CSV_CORE; j < i; j++)
                if (self->field_of [j] == field) {
                    s_reject (self, rej, TXW_REJECT_CSV_HEADER,
                              "header names column '%s' twice", csv_columns [field]);
                    return -1;
                }
            self->field_of [i] = field;
        }
    }
    self->columns = count;
    return 0;
}

csv_result_t
csv_reader_next (csv_reader_t *self, record_t *rec, txw_reject_t *rej)
{
    int rc = s_read_line (self);
    if (rc == 0)
        return CSV_EOF;
    if (rc < 0)
        return CSV_ERROR;
    int count = csv_split (self->line, self->len, self->fields, CSV_MAX_FIELDS);
    if (count < 0) {
        s_reject (self, rej, TXW_REJECT_CSV_QUOTING,
                  "malformed quoted field (a quote inside a bare field, text after a "
                  "closing quote, or no closing quote on the line)");
        return CSV_REJECT;
    }
    if (count != self->columns) {
        s_reject (self, rej, TXW_REJECT_CSV_COLUMNS, "row has %d columns, the header has %d",
                  count, self->columns);
        return CSV_REJECT;
    }
    record_reset (rec);
    for (int field = TXW_RAW_CSV_CORE; field < RECORD_FIELDS; field++)
        *record_field (rec, field) = (txw_str_t) { NULL, 0 };     //  absent
    for (int i = 0; i < count; i++)
        if (self->field_of [i] >= 0)
            *record_field (rec, self->field_of [i]) = self->fields [i];
    rec->raw.line_no = self->line_no;
    return CSV_ROW;
}

//  --- Writer ------------------------------------------------------------------

#define S_WRITE_BUFFER (1 << 20)

struct _csv_writer_t {
    FILE *file;
    char *path;
    char *buffer;
    int fields;                 //  record fields written: all, or all but order_id
};

static void
s_write_field (FILE *file, const char *s, size_t len)
{
    if (len == 0)
        return;                 //  an empty field (s may be NULL: no order)
    bool quote = false;
    for (size_t i = 0; i < len; i++)
        if (s [i] == ',' || s [i] == '"' || s [i] == '\n' || s [i] == '\r') {
            quote = true;
            break;
        }
    if (!quote) {
        fwrite_unlocked (s, 1, len, file);
        return;
    }
    putc_unlocked ('"', file);
    for (size_t i = 0; i < len; i++) {
        if (s [i] == '"')
            putc_unlocked ('"', file);
        putc_unlocked (s [i], file);
    }
    putc_unlocked ('"', file);
}

csv_writer_t *
csv_writer_new (const char *path)
{
    return csv_writer_open (path, false);
}

csv_writer_t *
csv_writer_open (const char *path, bool orders)
{
    //  order_id is the last field.
    _Static_assert (TXW_RAW_ORDER_ID == RECORD_FIELDS - 1, "order_id is not the last field");
    csv_writer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fields = orders? RECORD_FIELDS: TXW_RAW_ORDER_ID;
    self->path = strdup (path);
    self->file = strcmp (path, "-") == 0? stdout: fopen (path, "w");
    if (!self->file || !self->path) {
        log_error ("cannot create %s: %s", path, strerror (errno));
        goto err;
    }
    self->buffer = malloc (S_WRITE_BUFFER);
    if (self->buffer)
        setvbuf (self->file, self->buffer, _IOFBF, S_WRITE_BUFFER);
    for (int i = 0; i < self->fields; i++)
        fprintf (self->file, "%s,", csv_columns [i]);
    fprintf (self->file, "%s,%s,%s\n", csv_label_columns [0], csv_label_columns [1],
             csv_label_columns [2]);
    return self;
err:
    if (self->file && self->file != stdout)
        fclose (self->file);
    free (self->path);
    free (self);
    return NULL;
}

int
csv_writer_close (csv_writer_t **self_p)
{
    if (!self_p || !*self_p)
        return 0;
    csv_writer_t *self = *self_p;
    int rc = 0;
    if (fflush (self->file) != 0 || ferror (self->file))
        rc = -1;
    if (self->file != stdout) {
        if (fclose (self->file) != 0)
            rc = -1;
    }
    else
        setvbuf (stdout, NULL, _IOLBF, 0);
    if (rc)
        log_error ("cannot write %s: %s", self->path, strerror (errno));
    free (self->buffer);
    free (self->path);
    free (self);
    *self_p = NULL;
    return rc;
}

int
csv_writer_record (csv_writer_t *self, const record_t *rec)
{
    FILE *file = self->file;
    record_t *fields = (record_t *) rec;
    for (int i = 0; i < self->fields; i++) {
        const txw_str_t *f = record_field (fields, i);
        s_write_field (file, f->ptr, f->len);
        putc_unlocked (',', file);
    }
    putc_unlocked (rec->is_fraud? '1': '0', file);
    putc_unlocked (',', file);
    fputs_unlocked (rec->pattern_name, file);
    putc_unlocked (',', file);
    fputs_unlocked (rec->injected, file);
    putc_unlocked ('\n', file);
    return ferror (file)? -1: 0;
}
