/*  money - ISO 4217 currencies, their minor units, and the rates table     */

#include "money.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Active ISO 4217 codes, grouped by their number of minor units.
static const char *s_exp0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
static const char *s_exp3 = "BHD IQD JOD KWD LYD OMR TND";
static const char *s_exp4 = "CLF UYW";
static const char *s_exp2 =
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL "
    "BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK "
    "DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF "
    "IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA "
    "MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB "
    "PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS "
    "SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS "
    "VES WST XCD YER ZAR ZMW ZWL";

static const char *s_countries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL "
    "BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV "
    "CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD "
    "GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM "
    "IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK "
    "LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW "
    "MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR "
    "PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS "
    "ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY "
    "UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

//  Indicative rates to EUR, used when no rates file is given. Operators are
//  expected to provide their own (--rates) and reload it with SIGHUP.
static const struct { const char *code; int64_t to_eur_nano; } s_builtin_rates [] = {
    { "EUR", 1000000000 }, { "USD", 920000000 }, { "GBP", 1170000000 },
    { "CHF", 1040000000 }, { "JPY", 6100000 }, { "SEK", 87000000 },
    { "NOK", 85000000 }, { "DKK", 134000000 }, { "PLN", 232000000 },
    { "CZK", 40000000 }, { "HUF", 2500000 }, { "CAD", 680000000 },
    { "AUD", 610000000 }, { "KWD", 2990000000 }, { "BHD", 2440000000 },
    { "CNY", 127000000 }, { "INR", 11000000 }, { "BRL", 170000000 },
    { "MXN", 51000000 }, { "KRW", 680000 }, { "SGD", 690000000 },
    { "HKD", 118000000 }, { "TRY", 27000000 }, { "ZAR", 50000000 }
};

//  Lookup tables indexed by the letters: 26^3 currencies, 26^2 countries.
static signed char s_exponent [26 * 26 * 26];
static bool s_country [26 * 26];
static bool s_tables_ready = false;

static int
s_code_index (const char *code, size_t len)
{
    int index = 0;
    for (size_t i = 0; i < len; i++) {
        if (code [i] < 'A' || code [i] > 'Z')
            return -1;
        index = index * 26 + (code [i] - 'A');
    }
    return index;
}

static void
s_fill (const char *list, size_t width, signed char value)
{
    for (const char *p = list; *p; p += width + (p [width]? 1: 0)) {
        int index = s_code_index (p, width);
        if (width == 3)
            s_exponent [index] = value;
        else
            s_country [index] = true;
        if (!p [width])
            break;
    }
}

static void
s_tables_init (void)
{
    if (s_tables_ready)
        return;
    memset (s_exponent, -1, sizeof s_exponent);
    s_fill (s_exp0, 3, 0);
    s_fill (s_exp2, 3, 2);
    s_fill (s_exp3, 3, 3);
    s_fill (s_exp4, 3, 4);
    s_fill (s_countries, 2, 1);
    s_tables_ready = true;
}

int
txw_currency_exponent (const char *code, size_t len)
{
    s_tables_init ();
    if (len != 3)
        return -1;
    int index = s_code_index (code, 3);
    return index < 0? -1: s_exponent [index];
}

bool
txw_country_valid (const char *code, size_t len)
{
    s_tables_init ();
    if (len != 2)
        return false;
    int index = s_code_index (code, 2);
    return index >= 0 && s_country [index];
}

//  --- Amounts ---------------------------------------------------------------

static const int64_t s_pow10 [] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
                                    10000000, 100000000, 1000000000 };

int
txw_parse_amount (const char *s, size_t len, int exponent, int64_t *out)
{
    if (len == 0 || len > 24 || exponent < 0 || exponent > 4)
        return -1;
    int64_t whole = 0;
    size_t i = 0;
    size_t digits = 0;
    for (; i < len && s [i] != '.'; i++) {
        if (s [i] < '0' || s [i] > '9')
            return -1;
        if (__builtin_mul_overflow (whole, 10, &whole)
        ||  __builtin_add_overflow (whole, s [i] - '0', &whole))
            return -1;
        digits++;
    }
    int64_t fraction = 0;
    int fraction_digits = 0;
    if (i < len) {
        i++;                    //  the dot
        if (i == len)
            return -1;          //  "12." is not an amount
        for (; i < len; i++) {
            if (s [i] < '0' || s [i] > '9')
                return -1;
            if (fraction_digits == exponent) {
                //  Trailing zeros beyond the exponent are harmless.
                if (s [i] != '0')
                    return -1;
                continue;
            }
            fraction = fraction * 10 + (s [i] - '0');
            fraction_digits++;
        }
    }
    if (digits == 0)
        return -1;
    //  Checked: whole * 10^exponent + fraction may not fit even when whole does.
    fraction *= s_pow10 [exponent - fraction_digits];
    int64_t minor;
    if (__builtin_mul_overflow (whole, s_pow10 [exponent], &minor)
    ||  __builtin_add_overflow (minor, fraction, &minor))
        return -1;
    *out = minor;
    return 0;
}

size_t
txw_format_amount (char *out, size_t size, int64_t minor, int exponent)
{
    const char *sign = minor < 0? "-": "";
    uint64_t abs_minor = minor < 0? (uint64_t) 0 - (uint64_t) minor: (uint64_t) minor;
    if (exponent <= 0)
        return (size_t) snprintf (out, size, "%s%llu", sign, (unsigned long long) abs_minor);
    uint64_t scale = (uint64_t) s_pow10 [exponent];
    return (size_t) snprintf (out, size, "%s%llu.%0*llu", sign,
                              (unsigned long long) (abs_minor / scale), exponent,
                              (unsigned long long) (abs_minor % scale));
}

//  --- Rates -------------------------------------------------------------------

struct _txw_rates_t {
    char reporting [4];
    int reporting_exponent;
    int64_t rate_nano [26 * 26 * 26];   //  0: no rate
    int count;
};

//  Parses a positive decimal rate into billionths; digits past the ninth
//  decimal are truncated.
static int
s_parse_rate (const char *s, int64_t *out)
{
    int64_t whole = 0, frac = 0;
    int frac_digits = 0;
    bool dot = false, any = false;
    for (; *s && !isspace ((unsigned char) *s); s++) {
        if (*s == '.') {
            if (dot)
                return -1;
            dot = true;
            continue;
        }
        if (!isdigit ((unsigned char) *s))
            return -1;
        any = true;
        if (dot) {
            if (frac_digits < 9) {
                frac = frac * 10 + (*s - '0');
                frac_digits++;
            }
        }
        else {
            //  At most 10^9 whole units, so whole * 10^9 + frac fits int64.
            whole = whole * 10 + (*s - '0');
            if (whole > 1000000000)
                return -1;
        }
    }
    int64_t value = whole * TXW_RATE_SCALE + frac * s_pow10 [9 - frac_digits];
    if (!any || value <= 0)
        return -1;
    *out = value;
    return 0;
}

txw_rates_t *
txw_rates_load (const char *path, const char *reporting, char *error, size_t error_size)
{
    int reporting_exponent = txw_currency_exponent (reporting, strlen (reporting));
    if (reporting_exponent < 0) {
        snprintf (error, error_size, "reporting currency '%s' is not an ISO 4217 code", reporting);
        return NULL;
    }
    txw_rates_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    snprintf (self->reporting, sizeof self->reporting, "%s", reporting);
    self->reporting_exponent = reporting_exponent;

    if (!path || !*path) {
        //  Built-in rates are to EUR; re-base them on the reporting currency.
        int64_t base = 0;
        for (size_t i = 0; i < sizeof s_builtin_rates / sizeof s_builtin_rates [0]; i++)
            if (!strcmp (s_builtin_rates [i].code, reporting))
                base = s_builtin_rates [i].to_eur_nano;
        if (!base) {
            snprintf (error, error_size, "no built-in rates for reporting currency %s: "
                      "give a rates file", reporting);
            free (self);
            return NULL;
        }
        for (size_t i = 0; i < sizeof s_builtin_rates / sizeof s_builtin_rates [0]; i++) {
            __int128 r = (__int128) s_builtin_rates [i].to_eur_nano * TXW_RATE_SCALE / base;
            self->rate_nano [s_code_index (s_builtin_rates [i].code, 3)] = (int64_t) r;
            self->count++;
        }
        return self;
    }

    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, error_size, "cannot open rates file %s: %s", path, strerror (errno));
        free (self);
        return NULL;
    }
    //  Whole lines of any length: a fixed buffer would read the rest of a
    //  long line (a comment, a rate with many decimals) as a line of its own.
    char *line = NULL;
    size_t line_size = 0;
    int line_no = 0;
    while (getline (&line, &line_size, file) > 0) {
        line_no++;
        char *p = line;
        while (isspace ((unsigned char) *p))
            p++;
        if (*p == '#' || *p == 0)
            continue;
        char *comma = strchr (p, ',');
        int64_t rate;
        if (!comma || comma - p != 3 || txw_currency_exponent (p, 3) < 0
        ||  s_parse_rate (comma + 1, &rate)) {
            //  A header line naming the columns is allowed once, at the top.
            if (self->count == 0 && !strncmp (p, "currency", 8))
                continue;
            snprintf (error, error_size, "%s line %d: expected 'CUR,rate' with an "
                      "ISO 4217 code and a positive decimal rate", path, line_no);
            free (line);
            fclose (file);
            free (self);
            return NULL;
        }
        self->rate_nano [s_code_index (p, 3)] = rate;
        self->count++;
    }
    free (line);
    fclose (file);
    int index = s_code_index (reporting, 3);
    if (!self->rate_nano [index]) {
        self->rate_nano [index] = TXW_RATE_SCALE;
        self->count++;
    }
    return self;
}

void
txw_rates_destroy (txw_rates_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

const char *
txw_rates_reporting (const txw_rates_t *self)
{
    return self->reporting;
}

int
txw_rates_count (const txw_rates_t *self)
{
    return self->count;
}

int
txw_rates_convert (const txw_rates_t *self, const char *currency,
                   int64_t amount_minor, int64_t *out)
{
    int index = s_code_index (currency, 3);
    int exponent = txw_currency_exponent (currency, 3);
    if (index < 0 || exponent < 0 || !self->rate_nano [index])
        return -1;
    //  out = amount * rate * 10^rep_exp / (1e9 * 10^cur_exp), half away from 0;
    //  a numerator beyond 128 bits is a result far beyond 64.
    __int128 num;
    __int128 den = (__int128) TXW_RATE_SCALE * s_pow10 [exponent];
    if (__builtin_mul_overflow ((__int128) amount_minor, self->rate_nano [index], &num)
    ||  __builtin_mul_overflow (num, s_pow10 [self->reporting_exponent], &num)
    ||  __builtin_add_overflow (num, num < 0? -den / 2: den / 2, &num))
        return -1;
    __int128 q = num / den;
    if (q > INT64_MAX || q < INT64_MIN)
        return -1;
    *out = (int64_t) q;
    return 0;
}
