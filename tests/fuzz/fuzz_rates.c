/*  fuzz_rates - the rates file: "currency,rate" lines to the reporting currency

    The first byte picks the reporting currency, the rest is the file. The
    oracle reads the file by money.h's description: lines, '#' comments and
    blank lines skipped, a "currency..." header allowed before the first
    rate, then "CUR,rate" with an active ISO 4217 code and a positive
    decimal rate (digits past the ninth decimal truncated, at most 10^9
    whole units), the last line of a currency winning. A file loads exactly
    when every line is one of those, and then one unit of every currency
    converts to the rate it was given. Conversions of extreme amounts must
    stay exact or be refused: never overflow, and -x converts to minus what
    x converts to.                                                          */

#include "money.h"
#include "fuzz.h"

#include <ctype.h>

static const char *s_reporting [] = { "EUR", "USD", "JPY", "KWD", "CLF", "GBP", "XXQ" };
#define S_REPORTING (sizeof s_reporting / sizeof s_reporting [0])

#define S_CODES     (26 * 26 * 26)

static const int64_t s_pow10 [] = { 1, 10, 100, 1000, 10000 };

typedef struct {
    int64_t rate [S_CODES];             //  0: none
    int lines;                          //  rate lines (a currency may repeat)
} s_table_t;

static int
s_index (const char *code)
{
    return ((code [0] - 'A') * 26 + (code [1] - 'A')) * 26 + (code [2] - 'A');
}

//  The rate of one line (after "CUR,"), or -1.
static int64_t
s_rate (const char *s, const char *end)
{
    __int128 whole = 0, fraction = 0;
    int fraction_digits = 0;
    bool dot = false, any = false;
    for (; s < end && !isspace ((unsigned char) *s); s++) {
        if (*s == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!isdigit ((unsigned char) *s))
            return -1;
        any = true;
        if (!dot) {
            whole = whole * 10 + (*s - '0');
            if (whole > 1000000000)
                return -1;
        }
        else
        if (fraction_digits < 9) {
            fraction = fraction * 10 + (*s - '0');
            fraction_digits++;
        }
    }
    for (; fraction_digits < 9; fraction_digits++)
        fraction *= 10;
    __int128 value = whole * TXW_RATE_SCALE + fraction;
    return any && value > 0? (int64_t) value: -1;
}

//  Reads text (size bytes, no NUL) like the loader should. Returns 0 or -1.
static int
s_reference (const char *text, size_t size, const char *reporting, s_table_t *table)
{
    memset (table, 0, sizeof *table);
    const char *p = text, *end = text + size;
    while (p < end) {
        const char *eol = memchr (p, '\n', (size_t) (end - p));
        const char *line_end = eol? eol: end;
        const char *q = p;
        p = eol? eol + 1: end;
        while (q < line_end && isspace ((unsigned char) *q))
            q++;
        if (q == line_end || *q == '#')
            continue;
        int64_t rate = -1;
        if (line_end - q >= 4 && q [3] == ',' && txw_currency_exponent (q, 3) >= 0)
            rate = s_rate (q + 4, line_end);
        if (rate < 0) {
            if (table->lines == 0 && line_end - q >= 8 && !strncmp (q, "currency", 8))
                continue;
            return -1;
        }
        table->rate [s_index (q)] = rate;
        table->lines++;
    }
    if (!table->rate [s_index (reporting)]) {
        table->rate [s_index (reporting)] = TXW_RATE_SCALE;
        table->lines++;
    }
    return 0;
}

//  Converts one amount; checks it against 128-bit arithmetic when the
//  exact result fits, and the sign rule.
static void
s_convert (const txw_rates_t *rates, const char *code, int64_t amount)
{
    int64_t out = 0, negated = 0;
    int rc = txw_rates_convert (rates, code, amount, &out);
    if (rc == 0) {
        FUZZ_CHECK (amount == 0? out == 0: out == 0 || (out < 0) == (amount < 0),
                    "%s %lld converts to %lld", code, (long long) amount, (long long) out);
        if (amount != INT64_MIN && out != INT64_MIN) {
            int rc2 = txw_rates_convert (rates, code, -amount, &negated);
            FUZZ_CHECK (rc2 == 0 && negated == -out, "%s %lld converts to %lld, its negation to %lld",
                        code, (long long) amount, (long long) out, (long long) negated);
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *reporting = s_reporting [data [0] % S_REPORTING];
    const char *text = (const char *) data + 1;
    size_t len = size - 1;
    const char *path = fuzz_memfile (0, text, len);
    char error [512] = "";
    txw_rates_t *rates = txw_rates_load (path, reporting, error, sizeof error);
    if (!rates)
        FUZZ_CHECK (error [0] && strlen (error) < sizeof error, "refused without a reason");

    //  A NUL ends the text a C reader sees on that line: no opinion there.
    static s_table_t table;
    bool comparable = !memchr (text, 0, len) && txw_currency_exponent (reporting, 3) >= 0;
    if (comparable) {
        int expected = s_reference (text, len, reporting, &table);
        FUZZ_CHECK ((rates != NULL) == (expected == 0), "the file %s, but it %s (%s)",
                    rates? "loaded": "was refused", expected == 0? "is good": "is not",
                    error);
    }
    if (!rates)
        return 0;
    FUZZ_CHECK (!strcmp (txw_rates_reporting (rates), reporting), "reporting currency is %s",
                txw_rates_reporting (rates));
    if (comparable)
        FUZZ_CHECK (txw_rates_count (rates) == table.lines, "%d rates counted, %d lines",
                    txw_rates_count (rates), table.lines);

    int rep_exp = txw_currency_exponent (reporting, 3);
    char code [4] = "AAA";
    for (int index = 0; index < S_CODES; index++) {
        code [0] = (char) ('A' + index / 676);
        code [1] = (char) ('A' + index / 26 % 26);
        code [2] = (char) ('A' + index % 26);
        int exp = txw_currency_exponent (code, 3);
        if (exp < 0)
            continue;
        int64_t unit = 0;
        int rc = txw_rates_convert (rates, code, s_pow10 [exp], &unit);
        if (comparable) {
            FUZZ_CHECK ((rc == 0) == (table.rate [index] != 0), "%s: converts %s, rate %lld",
                        code, rc == 0? "": "not", (long long) table.rate [index]);
            if (rc == 0) {
                //  One unit is rate * 10^rep_exp / 1e9 reporting minor units, half up.
                __int128 num = (__int128) table.rate [index] * s_pow10 [rep_exp];
                int64_t expected = (int64_t) ((num + TXW_RATE_SCALE / 2) / TXW_RATE_SCALE);
                FUZZ_CHECK (unit == expected, "one %s converts to %lld, not %lld", code,
                            (long long) unit, (long long) expected);
            }
        }
        if (rc == 0) {
            static const int64_t amounts [] = { 1, 7, 1000000, INT64_MAX / 1000000000,
                                                INT64_MAX / 3, INT64_MAX, INT64_MIN,
                                                -INT64_MAX, -5 };
            for (size_t a = 0; a < sizeof amounts / sizeof amounts [0]; a++)
                s_convert (rates, code, amounts [a]);
        }
    }
    txw_rates_destroy (&rates);
    FUZZ_CHECK (rates == NULL, "destroy left the pointer");
    return 0;
}
