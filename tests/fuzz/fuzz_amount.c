/*  fuzz_amount - decimal amounts into minor units and back

    The first byte picks the exponent (-1 .. 5, so the invalid ones are
    tried too), the rest is the amount text. The oracle is the grammar of
    money.h computed in 128-bit integers: digits, optionally one dot and
    more digits, at most 24 bytes, no more fraction digits than the exponent
    unless the extra ones are zeros, and a value that fits int64. An amount
    is accepted exactly when it is one of those, with that value (never
    negative), and txw_format_amount of it is the normalised input (no
    leading zeros, exactly `exponent` fraction digits) and parses back to
    the same value.                                                          */

#include "money.h"
#include "fuzz.h"

//  The reference: returns true and the value if s is an amount.
static bool
s_reference (const char *s, size_t len, int exponent, int64_t *value)
{
    if (len == 0 || len > 24 || exponent < 0 || exponent > 4)
        return false;
    unsigned __int128 whole = 0, fraction = 0;
    size_t i = 0, digits = 0;
    for (; i < len && s [i] != '.'; i++, digits++) {
        if (s [i] < '0' || s [i] > '9')
            return false;
        whole = whole * 10 + (unsigned) (s [i] - '0');  //  24 digits fit
    }
    if (digits == 0)
        return false;
    int fraction_digits = 0;
    if (i < len) {
        if (++i == len)
            return false;
        for (; i < len; i++) {
            if (s [i] < '0' || s [i] > '9')
                return false;
            if (fraction_digits == exponent) {
                if (s [i] != '0')
                    return false;
                continue;
            }
            fraction = fraction * 10 + (unsigned) (s [i] - '0');
            fraction_digits++;
        }
    }
    unsigned __int128 scale = 1;
    for (int e = 0; e < exponent; e++)
        scale *= 10;
    for (int e = fraction_digits; e < exponent; e++)
        fraction *= 10;
    unsigned __int128 total = whole * scale + fraction;
    if (total > INT64_MAX)
        return false;
    *value = (int64_t) total;
    return true;
}

//  The normalised text of an accepted amount: whole part without leading
//  zeros, then exactly `exponent` fraction digits.
static void
s_normalise (const char *s, size_t len, int exponent, char *out, size_t size)
{
    size_t i = 0, o = 0;
    while (i + 1 < len && s [i] == '0' && s [i + 1] != '.')
        i++;
    for (; i < len && s [i] != '.' && o + 1 < size; i++)
        out [o++] = s [i];
    if (exponent > 0 && o + 1 < size)
        out [o++] = '.';
    int fraction_digits = 0;
    if (i < len)
        for (i++; i < len && fraction_digits < exponent && o + 1 < size; i++, fraction_digits++)
            out [o++] = s [i];
    for (; fraction_digits < exponent && o + 1 < size; fraction_digits++)
        out [o++] = '0';
    out [o] = 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int exponent = data [0] % 7 - 1;
    size_t len = size - 1;
    char *text = malloc (len? len: 1);         //  exactly len bytes, no NUL
    memcpy (text, data + 1, len);

    int64_t value = -42, expected = 0;
    int rc = txw_parse_amount (text, len, exponent, &value);
    bool valid = s_reference (text, len, exponent, &expected);
    FUZZ_CHECK (rc == 0 || rc == -1, "returned %d", rc);
    FUZZ_CHECK ((rc == 0) == valid, "'%.*s' (exponent %d) %s but is %s", (int) len, text,
                exponent, rc == 0? "accepted": "refused", valid? "an amount": "not one");
    if (rc == 0) {
        FUZZ_CHECK (value >= 0, "'%.*s' gave %lld", (int) len, text, (long long) value);
        FUZZ_CHECK (value == expected, "'%.*s' (exponent %d) gave %lld, not %lld", (int) len,
                    text, exponent, (long long) value, (long long) expected);
        char formatted [48], normal [64];
        size_t n = txw_format_amount (formatted, sizeof formatted, value, exponent);
        FUZZ_CHECK (n == strlen (formatted), "format returned %zu for '%s'", n, formatted);
        s_normalise (text, len, exponent, normal, sizeof normal);
        FUZZ_CHECK (strcmp (formatted, normal) == 0, "'%.*s' formats as '%s', not '%s'",
                    (int) len, text, formatted, normal);
        int64_t again = -1;
        FUZZ_CHECK (txw_parse_amount (formatted, n, exponent, &again) == 0 && again == value,
                    "'%s' does not parse back to %lld", formatted, (long long) value);
    }
    free (text);
    return 0;
}
