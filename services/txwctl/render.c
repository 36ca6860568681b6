/*  render - readable, aligned text for people from the API's JSON         */

#include "render.h"
#include "money.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct _ctl_table_t {
    int columns;
    bool header;
    char **cells;               //  rows * columns, row-major
    size_t rows, capacity;
};

ctl_table_t *
ctl_table_new (int columns, const char *const *headers)
{
    ctl_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->columns = columns;
    if (headers) {
        self->header = true;
        if (ctl_table_row (self, headers)) {
            ctl_table_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
ctl_table_destroy (ctl_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ctl_table_t *self = *self_p;
    for (size_t i = 0; i < self->rows * (size_t) self->columns; i++)
        free (self->cells [i]);
    free (self->cells);
    free (self);
    *self_p = NULL;
}

//  A copy of s fit for one line: control bytes become spaces, and text
//  longer than CTL_CELL bytes is cut on a character boundary with "...".
static char *
s_cell (const char *s)
{
    size_t len = strlen (s);
    bool cut = len > CTL_CELL;
    if (cut) {
        len = CTL_CELL;
        while (len > 0 && ((unsigned char) s [len] & 0xc0) == 0x80)
            len--;
    }
    char *out = malloc (len + 4);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++)
        out [i] = (unsigned char) s [i] < 0x20 || s [i] == 0x7f? ' ': s [i];
    strcpy (out + len, cut? "...": "");
    return out;
}

int
ctl_table_row (ctl_table_t *self, const char *const *cells)
{
    if (self->rows == self->capacity) {
        size_t capacity = self->capacity? self->capacity * 2: 16;
        char **grown = realloc (self->cells, capacity * (size_t) self->columns * sizeof *grown);
        if (!grown)
            return -1;
        self->cells = grown;
        self->capacity = capacity;
    }
    char **row = self->cells + self->rows * (size_t) self->columns;
    for (int c = 0; c < self->columns; c++) {
        row [c] = s_cell (cells [c]? cells [c]: "-");
        if (!row [c]) {
            while (c-- > 0)
                free (row [c]);
            return -1;
        }
    }
    self->rows++;
    return 0;
}

int
ctl_table_pair (ctl_table_t *self, const char *key, const char *fmt, ...)
{
    char value [1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (value, sizeof value, fmt, args);
    va_end (args);
    const char *cells [2] = { key, value };
    return ctl_table_row (self, cells);
}

size_t
ctl_table_rows (const ctl_table_t *self)
{
    return self->rows - (self->header? 1: 0);
}

//  Characters on screen: UTF-8 continuation bytes take no column.
static size_t
s_width (const char *s)
{
    size_t width = 0;
    for (; *s; s++)
        if (((unsigned char) *s & 0xc0) != 0x80)
            width++;
    return width;
}

void
ctl_table_print (const ctl_table_t *self, FILE *out)
{
    size_t widths [32] = { 0 };
    int columns = self->columns < 32? self->columns: 32;
    for (size_t r = 0; r < self->rows; r++)
        for (int c = 0; c < columns; c++) {
            size_t w = s_width (self->cells [r * (size_t) self->columns + (size_t) c]);
            if (w > widths [c])
                widths [c] = w;
        }
    for (size_t r = 0; r < self->rows; r++) {
        for (int c = 0; c < columns; c++) {
            const char *cell = self->cells [r * (size_t) self->columns + (size_t) c];
            fputs (cell, out);
            if (c + 1 < columns)
                fprintf (out, "%*s", (int) (widths [c] - s_width (cell) + 2), "");
        }
        fputc ('\n', out);
    }
}

const char *
ctl_text (json_t *value, char *out, size_t size)
{
    if (json_is_string (value))
        snprintf (out, size, "%s", json_string_value (value));
    else
    if (json_is_integer (value))
        snprintf (out, size, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    else
    if (json_is_real (value)) {
        snprintf (out, size, "%.2f", json_real_value (value));
        //  12.50 -> 12.5, 3.00 -> 3
        char *dot = strchr (out, '.');
        if (dot) {
            char *end = out + strlen (out) - 1;
            while (end > dot && *end == '0')
                *end-- = 0;
            if (end == dot)
                *end = 0;
        }
    }
    else
    if (json_is_boolean (value))
        snprintf (out, size, "%s", json_is_true (value)? "yes": "no");
    else
        snprintf (out, size, "-");
    return out;
}

const char *
ctl_money (json_t *minor, const char *currency, char *out, size_t size)
{
    if (!json_is_integer (minor)) {
        snprintf (out, size, "-");
        return out;
    }
    int exponent = currency && strlen (currency) == 3? txw_currency_exponent (currency, 3): -1;
    char amount [48];
    txw_format_amount (amount, sizeof amount, (int64_t) json_integer_value (minor),
                       exponent < 0? 2: exponent);
    snprintf (out, size, "%s%s%s", currency && *currency? currency: "",
              currency && *currency? " ": "", amount);
    return out;
}

const char *
ctl_percent (json_t *rate, char *out, size_t size)
{
    if (json_is_number (rate))
        snprintf (out, size, "%.1f%%", json_number_value (rate) * 100);
    else
        snprintf (out, size, "-");
    return out;
}

const char *
ctl_reasons (json_t *reasons, char *out, size_t size)
{
    size_t o = 0;
    out [0] = 0;
    size_t i;
    json_t *item;
    json_array_foreach (reasons, i, item) {
        const char *code = json_is_string (item)? json_string_value (item):
                           ctl_str (item, "code");
        int n = snprintf (out + o, size - o, "%s%s", o? ",": "", code);
        if (n < 0 || (size_t) n >= size - o)
            break;
        o += (size_t) n;
    }
    if (!o)
        snprintf (out, size, "-");
    return out;
}

const char *
ctl_str (json_t *object, const char *key)
{
    const char *s = json_string_value (json_object_get (object, key));
    return s? s: "";
}
