/*  money - ISO 4217 currencies, their minor units, and the rates table

    Money is never a float. Amounts travel as integer minor units of their own
    currency (JPY has none, EUR two, KWD three). Volumes are added up in one
    reporting currency through a rates table: rate = how many units of the
    reporting currency one unit of the currency buys, kept as an integer in
    billionths, and conversions round half away from zero in 128-bit integer
    arithmetic, so every process (and the tests) get the very same cents.     */

#ifndef TXW_MONEY_H
#define TXW_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXW_RATE_SCALE 1000000000LL

//  Returns the number of minor units (0..4) of an ISO 4217 code, or -1 if
//  code (3 bytes, upper case) is not an active currency.
int txw_currency_exponent (const char *code, size_t len);

//  True if code is an ISO 3166-1 alpha-2 country (2 bytes, upper case).
bool txw_country_valid (const char *code, size_t len);

typedef struct _txw_rates_t txw_rates_t;

//  Rates to the reporting currency. With path NULL or "", the built-in table
//  (indicative rates, see money.c) is used. A file is CSV "currency,rate"
//  lines, '#' comments allowed. Returns NULL and sets *error (static text
//  with the line number in error_buf) if the file is unreadable or bad.
txw_rates_t *txw_rates_load (const char *path, const char *reporting,
                             char *error, size_t error_size);
void txw_rates_destroy (txw_rates_t **self_p);
const char *txw_rates_reporting (const txw_rates_t *self);
int txw_rates_count (const txw_rates_t *self);

//  Converts amount_minor of currency into reporting minor units. Returns 0,
//  or -1 if there is no rate for currency or the result overflows.
int txw_rates_convert (const txw_rates_t *self, const char *currency,
                       int64_t amount_minor, int64_t *out);

//  Parses a positive decimal "12.50" into minor units with the given
//  exponent. More fraction digits than the exponent allows is an error, as
//  is anything but digits and one dot. Returns 0 or -1.
int txw_parse_amount (const char *s, size_t len, int exponent, int64_t *out);

//  Formats minor units as a decimal string with the given exponent.
size_t txw_format_amount (char *out, size_t size, int64_t minor, int exponent);

#endif
