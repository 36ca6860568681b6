/*  render - readable, aligned text for people from the API's JSON

    txwctl prints tables whose columns line up, and key/value blocks, so an
    operator can read them in a terminal and grep them in a script. Money
    is integer minor units plus a currency in the API; it is shown as
    "EUR 1234.56" through txw_format_amount (common/money.h), never through
    a float. Times stay the API's RFC 3339 strings. A missing value is "-". */

#ifndef TXW_TXWCTL_RENDER_H
#define TXW_TXWCTL_RENDER_H

#include <jansson.h>
#include <stdio.h>

#define CTL_CELL 256            //  longest cell printed; longer text is cut with "..."

typedef struct _ctl_table_t ctl_table_t;

//  A table of columns columns; headers NULL for a key/value block (no
//  header line). Returns NULL if memory ran out.
ctl_table_t *ctl_table_new (int columns, const char *const *headers);
void ctl_table_destroy (ctl_table_t **self_p);
//  Adds a row of exactly columns cells (copied). Returns -1 if memory ran out.
int ctl_table_row (ctl_table_t *self, const char *const *cells);
//  Adds a two-cell row from a printf format (key/value blocks).
int ctl_table_pair (ctl_table_t *self, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
//  Prints the rows with every column padded to its widest cell; the last
//  column is not padded.
void ctl_table_print (const ctl_table_t *self, FILE *out);
size_t ctl_table_rows (const ctl_table_t *self);

//  Formats value for a cell into out (size bytes): strings as they are,
//  integers in decimal, reals with up to 2 decimals, null or absent "-".
const char *ctl_text (json_t *value, char *out, size_t size);
//  "EUR 1234.56" from minor units and an ISO 4217 code; "-" when minor is
//  null; unknown currencies get two decimals.
const char *ctl_money (json_t *minor, const char *currency, char *out, size_t size);
//  "91.0%" from a 0..1 fraction; "-" for null.
const char *ctl_percent (json_t *rate, char *out, size_t size);
//  Reason codes joined with commas, from strings or {"code":...} objects.
const char *ctl_reasons (json_t *reasons, char *out, size_t size);
//  The string member key of object, or "" when absent or not a string.
const char *ctl_str (json_t *object, const char *key);

#endif
