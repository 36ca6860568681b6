/*  body - the body of POST /api/v1/transactions: rows and their hashes

    See body.h. A small recursive-descent reader of exactly the JSON a
    body may hold, written for this and not a general parser: a general
    one would turn the amount into a double (and lose its digits) and
    build a tree only to copy it into the rows again.                      */

#include "body.h"
#include "utf8.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  How deep a nested value (a field's bad_type) may go before the body is
//  refused: the reader recurses, and no row needs any depth at all.
#define S_DEPTH_MAX     32

typedef struct {
    char *start;                //  of the body, for positions
    char *p;
    char *end;                  //  of what may be read (a line, for NDJSON)
    long row;
    ingest_body_error_t *err;
} s_reader_t;

static int
s_fail (s_reader_t *r, const char *at, const char *fmt, ...)
{
    ingest_body_error_t *err = r->err;
    err->offset = (size_t) (at - r->start);
    err->line = 1;
    err->column = 1;
    for (const char *c = r->start; c < at; c++) {
        if (*c == '\n') {
            err->line++;
            err->column = 1;
        }
        else
            err->column++;
    }
    err->row = r->row;
    va_list args;
    va_start (args, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, args);
    va_end (args);
    return -1;
}

static inline void
s_skip_space (s_reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int
s_hex4 (const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p [i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned) (c - '0');
        else
        if (c >= 'a' && c <= 'f')
            v |= (unsigned) (c - 'a' + 10);
        else
        if (c >= 'A' && c <= 'F')
            v |= (unsigned) (c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static char *
s_put_utf8 (char *w, unsigned cp)
{
    if (cp < 0x80)
        *w++ = (char) cp;
    else
    if (cp < 0x800) {
        *w++ = (char) (0xC0 | (cp >> 6));
        *w++ = (char) (0x80 | (cp & 0x3F));
    }
    else
    if (cp < 0x10000) {
        *w++ = (char) (0xE0 | (cp >> 12));
        *w++ = (char) (0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char) (0x80 | (cp & 0x3F));
    }
    else {
        *w++ = (char) (0xF0 | (cp >> 18));
        *w++ = (char) (0x80 | ((cp >> 12) & 0x3F));
        *w++ = (char) (0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char) (0x80 | (cp & 0x3F));
    }
    return w;
}

//  Reads a string at r->p (its opening quote), unescaped in place.
static int
s_string (s_reader_t *r, txw_str_t *out)
{
    char *q = ++r->p;
    char *w = q;
    while (true) {
        if (r->p >= r->end)
            return s_fail (r, r->p, "a string is not closed");
        unsigned char c = (unsigned char) *r->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return s_fail (r, r->p, "a control character in a string (escape it)");
        if (c != '\\') {
            *w++ = *r->p++;
            continue;
        }
        char *at = r->p;
        if (r->end - r->p < 2)
            return s_fail (r, at, "a string is not closed");
        char e = r->p [1];
        r->p += 2;
        switch (e) {
            case '"': *w++ = '"'; break;
            case '\\': *w++ = '\\'; break;
            case '/': *w++ = '/'; break;
            case 'b': *w++ = '\b'; break;
            case 'f': *w++ = '\f'; break;
            case 'n': *w++ = '\n'; break;
            case 'r': *w++ = '\r'; break;
            case 't': *w++ = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (r->end - r->p < 4 || s_hex4 (r->p, &cp))
                    return s_fail (r, at, "\\u needs four hex digits");
                r->p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return s_fail (r, at, "a lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (r->end - r->p < 6 || r->p [0] != '\\' || r->p [1] != 'u'
                    ||  s_hex4 (r->p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return s_fail (r, at, "a high surrogate without its low one");
                    r->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                w = s_put_utf8 (w, cp);
                break;
            }
            default:
                return s_fail (r, at, "an unknown escape \\%c", e);
        }
    }
    r->p++;                     //  the closing quote
    out->ptr = q;
    out->len = (uint32_t) (w - q);
    return 0;
}

//  Reads a number at r->p: its literal text, and whether it is an integer.
static int
s_number (s_reader_t *r, txw_str_t *out, bool *integer)
{
    char *q = r->p;
    *integer = true;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p < r->end && *r->p == '0')
        r->p++;
    else
    if (r->p < r->end && *r->p >= '1' && *r->p <= '9')
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    else
        return s_fail (r, q, "a malformed number");
    if (r->p < r->end && *r->p == '.') {
        *integer = false;
        r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return s_fail (r, q, "a malformed number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        *integer = false;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return s_fail (r, q, "a malformed number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    out->ptr = q;
    out->len = (uint32_t) (r->p - q);
    return 0;
}

static int
s_literal (s_reader_t *r, const char *word)
{
    size_t len = strlen (word);
    if ((size_t) (r->end - r->p) < len || memcmp (r->p, word, len))
        return s_fail (r, r->p, "an unexpected character '%c'", *r->p);
    r->p += len;
    return 0;
}

typedef enum { S_NULL, S_STRING, S_NUMBER, S_OTHER } s_type_t;

//  Reads any value; a string or number is left in *out.
static int
s_value (s_reader_t *r, int depth, s_type_t *type, txw_str_t *out, bool *integer)
{
    s_skip_space (r);
    if (r->p >= r->end)
        return s_fail (r, r->p, "a value is missing");
    if (depth > S_DEPTH_MAX)
        return s_fail (r, r->p, "nested deeper than %d", S_DEPTH_MAX);
    char c = *r->p;
    *type = S_OTHER;
    if (c == '"') {
        *type = S_STRING;
        return s_string (r, out);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        *type = S_NUMBER;
        return s_number (r, out, integer);
    }
    if (c == 'n') {
        *type = S_NULL;
        return s_literal (r, "null");
    }
    if (c == 't')
        return s_literal (r, "true");
    if (c == 'f')
        return s_literal (r, "false");
    if (c != '{' && c != '[')
        return s_fail (r, r->p, "an unexpected character '%c'", c);
    //  A nested object or array: read and dropped.
    char close = c == '{'? '}': ']';
    r->p++;
    s_skip_space (r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    while (true) {
        s_type_t inner;
        txw_str_t ignored;
        bool ignored_int;
        if (close == '}') {
            s_skip_space (r);
            if (r->p >= r->end || *r->p != '"')
                return s_fail (r, r->p, "expected a field name in quotes");
            if (s_string (r, &ignored))
                return -1;
            s_skip_space (r);
            if (r->p >= r->end || *r->p != ':')
                return s_fail (r, r->p, "expected ':' after a field name");
            r->p++;
        }
        if (s_value (r, depth + 1, &inner, &ignored, &ignored_int))
            return -1;
        s_skip_space (r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return 0;
        }
        return s_fail (r, r->p, "expected ',' or '%c'", close);
    }
}

//  The raw text field called name, or -1.
static int
s_field (const txw_str_t *name)
{
    for (int f = 0; f < TXW_RAW_TEXT_FIELDS; f++)
        if (strlen (txw_raw_field_names [f]) == name->len
        &&  !memcmp (txw_raw_field_names [f], name->ptr, name->len))
            return f;
    return -1;
}

//  An integer of milliseconds, or -1 if it does not fit.
static int
s_int64 (const txw_str_t *s, int64_t *out)
{
    const char *p = s->ptr, *end = s->ptr + s->len;
    bool negative = p < end && *p == '-';
    if (negative)
        p++;
    uint64_t v = 0;
    for (; p < end; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t) (*p - '0');
    }
    if (v > (uint64_t) INT64_MAX)
        return -1;
    *out = negative? -(int64_t) v: (int64_t) v;
    return 0;
}

//  Stores one field's value in raw; a value of a type the field cannot
//  take makes it the row's bad field (the first such, in body order).
static void
s_assign (txw_raw_tx_t *raw, int field, s_type_t type, const txw_str_t *value, bool integer)
{
    bool ok = type == S_STRING || type == S_NULL;
    if (type == S_NUMBER && field == TXW_RAW_AMOUNT)
        ok = true;
    if (type == S_NUMBER && field == TXW_RAW_TS && integer && s_int64 (value, &raw->ts_ms) == 0) {
        raw->ts_is_int = true;
        return;
    }
    if (!ok) {
        if (raw->bad_field < 0)
            raw->bad_field = field;
        return;
    }
    if (type != S_NULL)
        *txw_raw_text (raw, field) = *value;
}

//  Appends the row at r->p, which must be an object.
static int
s_row (s_reader_t *r, size_t max_rows, ingest_rows_t *rows, bool *too_many)
{
    s_skip_space (r);
    if (r->p >= r->end || *r->p != '{')
        return s_fail (r, r->p, "a transaction must be a JSON object");
    if (rows->count >= max_rows) {
        *too_many = true;
        return s_fail (r, r->p, "more than %zu transactions in one request", max_rows);
    }
    if (rows->count == rows->capacity) {
        size_t capacity = rows->capacity? rows->capacity * 2: 16;
        txw_raw_tx_t *items = realloc (rows->items, capacity * sizeof *items);
        if (!items)
            return s_fail (r, r->p, "out of memory");
        rows->items = items;
        rows->capacity = capacity;
    }
    txw_raw_tx_t *raw = &rows->items [rows->count];
    memset (raw, 0, sizeof *raw);
    raw->bad_field = -1;
    bool seen [TXW_RAW_TEXT_FIELDS] = { false };
    r->p++;
    s_skip_space (r);
    if (r->p < r->end && *r->p == '}')
        r->p++;
    else
    while (true) {
        s_skip_space (r);
        char *at = r->p;
        txw_str_t name, value = { NULL, 0 };
        if (r->p >= r->end || *r->p != '"')
            return s_fail (r, r->p, "expected a field name in quotes");
        if (s_string (r, &name))
            return -1;
        int field = s_field (&name);
        if (field < 0) {
            //  Named only when it is short printable text.
            bool plain = name.len <= 40;
            for (uint32_t i = 0; plain && i < name.len; i++)
                plain = name.ptr [i] >= 0x20 && name.ptr [i] < 0x7F && name.ptr [i] != '"';
            if (plain)
                return s_fail (r, at, "unknown field \"%.*s\"", (int) name.len, name.ptr);
            return s_fail (r, at, "unknown field");
        }
        if (seen [field])
            return s_fail (r, at, "field \"%s\" given twice", txw_raw_field_names [field]);
        seen [field] = true;
        s_skip_space (r);
        if (r->p >= r->end || *r->p != ':')
            return s_fail (r, r->p, "expected ':' after a field name");
        r->p++;
        s_type_t type;
        bool integer = false;
        if (s_value (r, 1, &type, &value, &integer))
            return -1;
        s_assign (raw, field, type, &value, integer);
        s_skip_space (r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            break;
        }
        return s_fail (r, r->p, "expected ',' or '}'");
    }
    rows->count++;
    r->row++;
    return 0;
}

static ingest_body_rc_t
s_json (s_reader_t *r, size_t max_rows, ingest_rows_t *rows, bool *too_many)
{
    s_skip_space (r);
    if (r->p >= r->end)
        return s_fail (r, r->p, "the body is empty");
    if (*r->p == '[') {
        r->p++;
        s_skip_space (r);
        if (r->p < r->end && *r->p == ']')
            return s_fail (r, r->p, "the array holds no transactions");
        while (true) {
            if (s_row (r, max_rows, rows, too_many))
                return -1;
            s_skip_space (r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == ']') {
                r->p++;
                break;
            }
            return s_fail (r, r->p, "expected ',' or ']' after a transaction");
        }
    }
    else
    if (s_row (r, max_rows, rows, too_many))
        return -1;
    s_skip_space (r);
    if (r->p < r->end)
        return s_fail (r, r->p, "text after the end of the JSON value");
    return 0;
}

static ingest_body_rc_t
s_ndjson (s_reader_t *r, size_t max_rows, ingest_rows_t *rows, bool *too_many)
{
    char *body_end = r->end;
    while (r->p < body_end) {
        char *nl = memchr (r->p, '\n', (size_t) (body_end - r->p));
        r->end = nl? nl: body_end;
        s_skip_space (r);
        if (r->p < r->end) {
            if (s_row (r, max_rows, rows, too_many))
                return -1;
            s_skip_space (r);
            if (r->p < r->end)
                return s_fail (r, r->p, "text after the transaction on its line");
        }
        r->p = nl? nl + 1: body_end;
    }
    r->end = body_end;
    if (rows->count == 0)
        return s_fail (r, r->p, "the body holds no transactions");
    return 0;
}

ingest_body_rc_t
ingest_body_parse (char *body, size_t len, ingest_format_t format, size_t max_rows,
                   ingest_rows_t *rows, ingest_body_error_t *err)
{
    s_reader_t r = { body, body, body + len, 0, err };
    memset (err, 0, sizeof *err);
    err->row = -1;
    bool too_many = false;
    //  JSON is UTF-8 (RFC 8259); a body that is not is refused whole,
    //  before anything in it is read as text. A NUL is refused too, as
    //  txw_utf8_valid does, since no field may hold one.
    if (!txw_utf8_valid (body, len)) {
        s_fail (&r, body, "the body is not valid UTF-8 (or holds a NUL byte)");
        err->row = -1;
        return INGEST_BODY_MALFORMED;
    }
    int rc = format == INGEST_FORMAT_NDJSON? s_ndjson (&r, max_rows, rows, &too_many):
                                             s_json (&r, max_rows, rows, &too_many);
    if (rc == 0)
        return INGEST_BODY_OK;
    return too_many? INGEST_BODY_TOO_MANY: INGEST_BODY_MALFORMED;
}

void
ingest_rows_fini (ingest_rows_t *rows)
{
    free (rows->items);
    memset (rows, 0, sizeof *rows);
}

void
ingest_row_hash (const txw_raw_tx_t *raw, uint8_t hash [INGEST_HASH_SIZE])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, INGEST_HASH_SIZE);
    for (int f = 0; f < TXW_RAW_TEXT_FIELDS; f++) {
        uint8_t head [9];
        size_t head_len = 1;
        const char *text = NULL;
        uint32_t len = 0;
        if (f == TXW_RAW_TS && raw->ts_is_int) {
            head [0] = 2;
            uint64_t v = (uint64_t) raw->ts_ms;
            for (int i = 0; i < 8; i++)
                head [1 + i] = (uint8_t) (v >> (56 - 8 * i));
            head_len = 9;
        }
        else {
            //  Trimmed as the checks trim; empty is absent, as for them.
            txw_str_t s = *txw_raw_text_of (raw, f);
            text = s.ptr;
            len = s.ptr? s.len: 0;
            while (len && (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')) {
                text++;
                len--;
            }
            while (len && (text [len - 1] == ' ' || text [len - 1] == '\t'
                           || text [len - 1] == '\r' || text [len - 1] == '\n'))
                len--;
            head [0] = len? 1: 0;
            for (int i = 0; i < 4; i++)
                head [1 + i] = (uint8_t) (len >> (24 - 8 * i));
            head_len = len? 5: 1;
        }
        crypto_generichash_update (&state, head, head_len);
        if (len)
            crypto_generichash_update (&state, (const uint8_t *) text, len);
    }
    crypto_generichash_final (&state, hash, INGEST_HASH_SIZE);
}

void
ingest_correction_hash (const char *status, const char *reason, uint8_t hash [INGEST_HASH_SIZE])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, INGEST_HASH_SIZE);
    //  Each with its terminating NUL, so no two pairs run together.
    crypto_generichash_update (&state, (const uint8_t *) status, strlen (status) + 1);
    crypto_generichash_update (&state, (const uint8_t *) reason, strlen (reason) + 1);
    crypto_generichash_final (&state, hash, INGEST_HASH_SIZE);
}
