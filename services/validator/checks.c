/*  checks - validation, cleaning and enrichment of one raw transaction

    See checks.h. The good path is written for speed: fields are trimmed
    once into views, ids are checked against a byte table, the timestamp
    goes through the fixed-width scanner in rfc3339.c, and the only
    formatting (snprintf) happens on the reject path.                         */

#include "checks.h"
#include "log.h"
#include "pii.h"
#include "rfc3339.h"
#include "utf8.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _checks_t {
    const txw_rates_t *rates;       //  borrowed
    int64_t min_ts_ms;
    int64_t max_future_ms;
    int64_t max_rep_minor;
};

//  Raw field positions (codec.h, TXW_RAW_TX_FIELDS).
enum {
#define S_POSITION(NAME, member, wire, kind, required, pii) F_##NAME = TXW_RAW_##NAME,
    TXW_RAW_TX_FIELDS (S_POSITION)
#undef S_POSITION
    F_COUNT = TXW_RAW_TEXT_FIELDS
};

typedef enum { S_KIND_ID, S_KIND_NAME, S_KIND_LABEL, S_KIND_OTHER } s_kind_t;

//  No pii flag: what a rejected record shows does not depend on which field
//  a value came in (a sender's shifted fields put an account id anywhere),
//  only on its shape (common/pii.h, txw_pii_safe).
typedef struct {
    s_kind_t kind;
    bool required;
} s_field_t;

static const s_field_t s_fields [F_COUNT] = {
#define S_FIELD(NAME, member, wire, kind, required, pii) \
    [F_##NAME] = { S_KIND_##kind, required },
    TXW_RAW_TX_FIELDS (S_FIELD)
#undef S_FIELD
};

checks_t *
checks_new (const txw_rates_t *rates, int64_t min_ts_ms, int64_t max_future_ms)
{
    checks_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->rates = rates;
    self->min_ts_ms = min_ts_ms;
    self->max_future_ms = max_future_ms;
    self->max_rep_minor = INT64_MAX;
    return self;
}

void
checks_set_max_amount (checks_t *self, int64_t max_rep_minor)
{
    self->max_rep_minor = max_rep_minor;
}

void
checks_destroy (checks_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
checks_set_rates (checks_t *self, const txw_rates_t *rates)
{
    self->rates = rates;
}

checks_t *
checks_from_options (const char *rates_path, const char *reporting_currency,
                     const char *min_ts, int64_t max_future_ms, const char *max_amount,
                     txw_rates_t **rates_p)
{
    *rates_p = NULL;
    int64_t min_ts_ms;
    if (rfc3339_parse (min_ts, strlen (min_ts), &min_ts_ms)) {
        log_error ("--min-ts '%s' is not an RFC 3339 timestamp", min_ts);
        return NULL;
    }
    int exponent = txw_currency_exponent (reporting_currency, strlen (reporting_currency));
    int64_t max_minor;
    if (exponent < 0
    ||  txw_parse_amount (max_amount, strlen (max_amount), exponent, &max_minor)
    ||  max_minor <= 0) {
        log_error ("--max-amount must be a positive decimal in %s with at most %d fraction "
                   "digits, not '%s'", reporting_currency, exponent, max_amount);
        return NULL;
    }
    char error [256] = "";
    txw_rates_t *rates = txw_rates_load (rates_path, reporting_currency, error, sizeof error);
    if (!rates) {
        log_error ("cannot load rates%s%s: %s", *rates_path? " from ": "", rates_path, error);
        return NULL;
    }
    checks_t *self = checks_new (rates, min_ts_ms, max_future_ms);
    if (!self) {
        txw_rates_destroy (&rates);
        return NULL;
    }
    checks_set_max_amount (self, max_minor);
    *rates_p = rates;
    return self;
}

txw_rates_t *
checks_reload_rates (const char *rates_path, const char *reporting_currency,
                     const txw_rates_t *in_use)
{
    char error [256] = "";
    txw_rates_t *rates = txw_rates_load (rates_path, reporting_currency, error, sizeof error);
    if (rates)
        log_info ("rates reloaded: %d to %s", txw_rates_count (rates),
                  txw_rates_reporting (rates));
    else
        log_error ("rates not reloaded, keeping the %d in use: %s",
                   txw_rates_count (in_use), error);
    return rates;
}

//  JSON-escapes s into out (size bytes, terminated), strictly valid UTF-8.
static size_t
s_escape (char *out, size_t size, const char *s, size_t len)
{
    if (txw_utf8_valid (s, len))
        return txw_json_escape (out, size, s, len);
    char clean [TXW_TEXT_MAX + 1];
    size_t n = txw_utf8_clean (s, len, clean, sizeof clean);
    return txw_json_escape (out, size, clean, n);
}

static inline txw_str_t
s_view (const txw_raw_tx_t *raw, int field)
{
    return *txw_raw_text_of (raw, field);
}

static inline bool
s_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline txw_str_t
s_trim (txw_str_t s)
{
    if (!s.ptr)
        return s;
    while (s.len && s_space (s.ptr [0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && s_space (s.ptr [s.len - 1]))
        s.len--;
    return s;
}

static inline char
s_upper (char c)
{
    return c >= 'a' && c <= 'z'? (char) (c - 32): c;
}

static inline char
s_lower (char c)
{
    return c >= 'A' && c <= 'Z'? (char) (c + 32): c;
}

//  The tx_id a dead letter keeps in clear in its tx_id column
//  (checks_reject); its message and payload show it too, which hides
//  nothing more. id is trimmed.
static inline bool
s_tx_id_kept (txw_str_t id)
{
    return id.ptr && id.len <= TXW_ID_MAX && txw_utf8_valid (id.ptr, id.len);
}

//  Writes a short, printable rendering of a value for a message: as it is
//  when clear or of a safe shape, else its pseudonym; escaped, cut after
//  48 bytes.
static const char *
s_quote (const char *s, size_t len, bool clear, char *out, size_t size)
{
    char masked [TXW_PSEUDONYM_SIZE];
    if (!clear && !txw_pii_safe (s, len)) {
        txw_mask_id (s, len, masked, sizeof masked);
        s = masked;
        len = strlen (masked);
    }
    bool cut = len > 48;
    size_t n = s_escape (out, size - 4, s, cut? 48: len);
    if (cut)
        memcpy (out + n, "...", 4);
    return out;
}

static int
s_refuse (checks_verdict_t *verdict, txw_reject_code_t code, const char *field,
          const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

//  Fills verdict; returns -1 so that a check can end with return s_refuse.
static int
s_refuse (checks_verdict_t *verdict, txw_reject_code_t code, const char *field,
          const char *fmt, ...)
{
    verdict->code = code;
    verdict->field = field;
    va_list args;
    va_start (args, fmt);
    vsnprintf (verdict->message, sizeof verdict->message, fmt, args);
    va_end (args);
    return -1;
}

//  The same for the raw field with index field.
#define s_reject(verdict, code, field, ...) \
    s_refuse (verdict, code, txw_raw_field_names [field], __VA_ARGS__)

//  Rejects field f of the views with a message that quotes its value.
#define S_REJECT_VALUE(code, f, fmt, ...)                                       \
    do {                                                                        \
        char quoted_ [64];                                                      \
        s_quote (v [f].ptr, v [f].len, f == F_TX_ID && s_tx_id_kept (v [f]),  \
                 quoted_, sizeof quoted_);                                      \
        return s_reject (verdict, code, f, "%s '%s' " fmt,                      \
                         txw_raw_field_names [f], quoted_, ##__VA_ARGS__);      \
    } while (0)

//  True for digits with at most one dot and at least one digit.
static bool
s_numeric (const char *s, size_t len)
{
    bool dot = false, digit = false;
    for (size_t i = 0; i < len; i++) {
        if (s [i] >= '0' && s [i] <= '9')
            digit = true;
        else
        if (s [i] == '.' && !dot)
            dot = true;
        else
            return false;
    }
    return digit;
}

//  Copies a checked view (shorter than size) into a C string.
static inline void
s_copy (char *out, txw_str_t s)
{
    if (s.len)
        memcpy (out, s.ptr, s.len);
    out [s.len] = 0;
}

//  The same, folded to lower case (a LABEL field).
static inline void
s_copy_lower (char *out, txw_str_t s)
{
    for (uint32_t i = 0; i < s.len; i++)
        out [i] = s_lower (s.ptr [i]);
    out [s.len] = 0;
}

int
checks_apply (const checks_t *self, const txw_raw_tx_t *raw, int64_t now_ms,
             txw_tx_t *tx, checks_verdict_t *verdict)
{
    if (raw->bad_field >= 0) {
        int f = raw->bad_field < TXW_RAW_FIELDS? raw->bad_field: 0;
        verdict->code = TXW_REJECT_BAD_TYPE;
        verdict->field = txw_raw_field_names [f];
        snprintf (verdict->message, sizeof verdict->message,
                  "%s has the wrong type (%s expected)", verdict->field,
                  f == F_TS? "text or integer": f >= F_COUNT? "integer": "text");
        return -1;
    }
    txw_str_t v [F_COUNT];
    for (int f = 0; f < F_COUNT; f++)
        v [f] = s_trim (s_view (raw, f));

    for (int f = 0; f < F_COUNT; f++)
        if (s_fields [f].required && v [f].len == 0 && !(f == F_TS && raw->ts_is_int))
            return s_reject (verdict, TXW_REJECT_MISSING_FIELD, f,
                             "%s is empty or absent", txw_raw_field_names [f]);

    for (int f = 0; f < F_COUNT; f++) {
        size_t limit = s_fields [f].kind == S_KIND_ID? TXW_ID_MAX:
                       s_fields [f].kind == S_KIND_NAME
                    || s_fields [f].kind == S_KIND_LABEL? TXW_NAME_MAX: 0;
        if (limit && v [f].len > limit)
            S_REJECT_VALUE (TXW_REJECT_TOO_LONG, f, "is %u bytes, over the limit of %zu",
                            v [f].len, limit);
    }

    for (int f = 0; f < F_COUNT; f++) {
        if (s_fields [f].kind == S_KIND_ID) {
            if (!txw_id_chars_valid (v [f].ptr, v [f].len))
                S_REJECT_VALUE (TXW_REJECT_BAD_ID, f, "has characters outside [A-Za-z0-9_.:-]");
        }
        else
        //  msgpack str must be UTF-8, and what is not (or holds NUL) would
        //  break every later JSON rendering and PostgreSQL text column.
        if ((s_fields [f].kind == S_KIND_NAME || s_fields [f].kind == S_KIND_LABEL)
        &&  !txw_utf8_valid (v [f].ptr, v [f].len))
            S_REJECT_VALUE (TXW_REJECT_BAD_TYPE, f, "is not valid UTF-8 text");
    }

    int64_t ts_ms;
    if (raw->ts_is_int)
        ts_ms = raw->ts_ms;
    else
    if (rfc3339_parse (v [F_TS].ptr, v [F_TS].len, &ts_ms))
        S_REJECT_VALUE (TXW_REJECT_BAD_TIMESTAMP, F_TS,
                        "is not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.frac]Z or +HH:MM)");
    if (ts_ms < self->min_ts_ms || ts_ms - self->max_future_ms > now_ms) {
        char shown [64];
        if (raw->ts_is_int)
            snprintf (shown, sizeof shown, "%lld", (long long) ts_ms);
        else
            s_quote (v [F_TS].ptr, v [F_TS].len, false, shown, sizeof shown);
        if (ts_ms < self->min_ts_ms)
            return s_reject (verdict, TXW_REJECT_TS_OUT_OF_RANGE, F_TS,
                             "ts '%s' is before the earliest accepted time (%lld ms)",
                             shown, (long long) self->min_ts_ms);
        return s_reject (verdict, TXW_REJECT_TS_OUT_OF_RANGE, F_TS,
                         "ts '%s' is %lld ms ahead of the clock (at most %lld allowed)",
                         shown, (long long) (ts_ms - now_ms), (long long) self->max_future_ms);
    }

    txw_str_t c = v [F_CURRENCY];
    if (c.len != 3)
        S_REJECT_VALUE (TXW_REJECT_BAD_CURRENCY, F_CURRENCY, "is not an ISO 4217 code");
    char currency [4] = { s_upper (c.ptr [0]), s_upper (c.ptr [1]), s_upper (c.ptr [2]), 0 };
    int exponent = txw_currency_exponent (currency, 3);
    if (exponent < 0)
        S_REJECT_VALUE (TXW_REJECT_BAD_CURRENCY, F_CURRENCY, "is not an ISO 4217 code");

    txw_str_t a = v [F_AMOUNT];
    int64_t amount_minor;
    if (a.ptr [0] == '-') {
        if (s_numeric (a.ptr + 1, a.len - 1))
            S_REJECT_VALUE (TXW_REJECT_NON_POSITIVE_AMOUNT, F_AMOUNT, "is negative");
        S_REJECT_VALUE (TXW_REJECT_BAD_AMOUNT, F_AMOUNT, "is not a decimal amount");
    }
    if (txw_parse_amount (a.ptr, a.len, exponent, &amount_minor))
        S_REJECT_VALUE (TXW_REJECT_BAD_AMOUNT, F_AMOUNT,
                        "is not a decimal with at most %d fraction digits for %s",
                        exponent, currency);
    if (amount_minor == 0)
        S_REJECT_VALUE (TXW_REJECT_NON_POSITIVE_AMOUNT, F_AMOUNT, "is zero");

    //  The amount parsed, but a long run of digits may still be an account
    //  number in the wrong field: shown, or converted, only when safe.
    int64_t amount_rep_minor;
    char shown [64];
    if (!self->rates
    ||  txw_rates_convert (self->rates, currency, amount_minor, &amount_rep_minor)) {
        s_quote (a.ptr, a.len, false, shown, sizeof shown);
        return s_reject (verdict, TXW_REJECT_NO_RATE, F_CURRENCY,
                         "currency %s has no rate to %s (amount %s)", currency,
                         self->rates? txw_rates_reporting (self->rates): "?", shown);
    }
    if (amount_rep_minor > self->max_rep_minor) {
        int rep_exponent = txw_currency_exponent (txw_rates_reporting (self->rates), 3);
        char amount [48], limit [48];
        s_quote (a.ptr, a.len, false, shown, sizeof shown);
        txw_format_amount (limit, sizeof limit, self->max_rep_minor, rep_exponent);
        if (!txw_pii_safe (a.ptr, a.len))
            return s_reject (verdict, TXW_REJECT_AMOUNT_TOO_LARGE, F_AMOUNT,
                             "amount %s %s is above the largest a transaction may have "
                             "(%s %s)", shown, currency, limit,
                             txw_rates_reporting (self->rates));
        txw_format_amount (amount, sizeof amount, amount_rep_minor, rep_exponent);
        return s_reject (verdict, TXW_REJECT_AMOUNT_TOO_LARGE, F_AMOUNT,
                         "amount %s %s is %s %s, above the largest a transaction may "
                         "have (%s %s)", shown, currency, amount,
                         txw_rates_reporting (self->rates), limit,
                         txw_rates_reporting (self->rates));
    }

    txw_str_t k = v [F_COUNTRY];
    char country [3] = { 0 };
    if (k.len == 2) {
        country [0] = s_upper (k.ptr [0]);
        country [1] = s_upper (k.ptr [1]);
    }
    if (k.len != 2 || !txw_country_valid (country, 2))
        S_REJECT_VALUE (TXW_REJECT_BAD_COUNTRY, F_COUNTRY,
                        "is not an ISO 3166-1 alpha-2 code");

    int channel = txw_channel_parse (v [F_CHANNEL].ptr, v [F_CHANNEL].len);
    if (channel <= 0)
        S_REJECT_VALUE (TXW_REJECT_BAD_CHANNEL, F_CHANNEL,
                        "is not pos, online, atm, transfer or mobile");

    int status = txw_status_parse (v [F_STATUS].ptr, v [F_STATUS].len);
    if (status <= 0)
        S_REJECT_VALUE (TXW_REJECT_BAD_STATUS, F_STATUS,
                        "is not approved, declined or failed");

    //  Everything holds: normalise and enrich. Lengths are checked above.
    s_copy (tx->tx_id, v [F_TX_ID]);
    tx->ts_ms = ts_ms;
    s_copy (tx->account_id, v [F_ACCOUNT_ID]);
    tx->amount_minor = amount_minor;
    memcpy (tx->currency, currency, 4);
    s_copy (tx->merchant_id, v [F_MERCHANT_ID]);
    s_copy_lower (tx->category, v [F_CATEGORY]);
    tx->channel = (uint8_t) channel;
    s_copy (tx->branch_id, v [F_BRANCH_ID]);
    s_copy (tx->region, v [F_REGION]);
    memcpy (tx->country, country, 3);
    s_copy (tx->device_id, v [F_DEVICE_ID]);
    s_copy (tx->product_id, v [F_PRODUCT_ID]);
    s_copy_lower (tx->device_type, v [F_DEVICE_TYPE]);
    s_copy (tx->order_id, v [F_ORDER_ID]);
    tx->status = (uint8_t) status;
    tx->origin_us = raw->origin_us;
    int hour, weekday;
    rfc3339_hour_weekday (ts_ms, &hour, &weekday);
    tx->hour = (uint8_t) hour;
    tx->weekday = (uint8_t) weekday;
    tx->amount_rep_minor = amount_rep_minor;
    tx->scored = false;
    tx->score = 0;
    tx->reasons = 0;
    tx->model_version [0] = 0;
    return 0;
}

//  Appends "name":value to out at *pos if it fits in size - reserve.
static bool
s_json_member (char *out, size_t size, size_t *pos, size_t reserve,
               const char *name, const char *value, bool quoted)
{
    size_t need = strlen (name) + strlen (value) + (quoted? 6: 4);
    if (*pos + need + reserve >= size)
        return false;
    *pos += (size_t) snprintf (out + *pos, size - *pos, "%s\"%s\":%s%s%s",
                               *pos > 1? ",": "", name, quoted? "\"": "", value,
                               quoted? "\"": "");
    return true;
}

size_t
checks_payload (const txw_raw_tx_t *raw, char *out, size_t size)
{
    //  Room kept for ,"cut":true} when values do not all fit.
    const size_t reserve = 16;
    if (size < reserve + 2) {
        if (size)
            out [0] = 0;
        return 0;
    }
    size_t pos = 0;
    out [pos++] = '{';
    out [pos] = 0;
    bool cut = false;
    for (int f = 0; f < F_COUNT && !cut; f++) {
        txw_str_t s = s_view (raw, f);
        char value [200];
        bool quoted = true;
        if (f == F_TS && raw->ts_is_int) {
            snprintf (value, sizeof value, "%lld", (long long) raw->ts_ms);
            quoted = false;
        }
        else
        if (!s.ptr) {
            if (!s_fields [f].required)
                continue;
            snprintf (value, sizeof value, "null");
            quoted = false;
        }
        else {
            //  Shown only when safe by its shape, wherever it came: a
            //  sender's shifted fields must not show an id in clear.
            char masked [TXW_PSEUDONYM_SIZE];
            txw_str_t t = s_trim (s);
            const char *p = t.ptr;
            size_t len = t.len;
            if (f == F_TX_ID? !s_tx_id_kept (t): !txw_pii_safe (p, len)) {
                txw_mask_id (p, len, masked, sizeof masked);
                p = masked;
                len = strlen (masked);
            }
            bool long_value = len > 64;
            size_t n = s_escape (value, sizeof value - 4, p, long_value? 64: len);
            if (long_value)
                memcpy (value + n, "...", 4);
        }
        if (!s_json_member (out, size, &pos, reserve, txw_raw_field_names [f], value, quoted))
            cut = true;
    }
    if (!cut && raw->line_no) {
        char line [24];
        snprintf (line, sizeof line, "%llu", (unsigned long long) raw->line_no);
        cut = !s_json_member (out, size, &pos, reserve, "line_no", line, false);
    }
    if (cut)
        s_json_member (out, size, &pos, 2, "cut", "true", false);
    out [pos++] = '}';
    out [pos] = 0;
    return pos;
}

void
checks_reject (const txw_raw_tx_t *raw, const checks_verdict_t *verdict,
              txw_reject_t *reject)
{
    txw_str_t id = s_trim (raw->tx_id);
    reject->tx_id [0] = 0;
    if (id.ptr && id.len <= TXW_ID_MAX && txw_utf8_valid (id.ptr, id.len))
        s_copy (reject->tx_id, id);
    reject->line_no = raw->line_no;
    snprintf (reject->reason, sizeof reject->reason, "%s", txw_reject_names [verdict->code]);
    snprintf (reject->field, sizeof reject->field, "%s", verdict->field? verdict->field: "");
    snprintf (reject->message, sizeof reject->message, "%s", verdict->message);
    checks_payload (raw, reject->payload, sizeof reject->payload);
}

//  --- Corrections -------------------------------------------------------------

int
checks_correction (const checks_t *self, txw_correction_t *c, int64_t now_ms,
                   checks_verdict_t *verdict)
{
    const struct { const char *name; const char *value; } ids [] = {
        { "tx_id", c->tx_id }, { "account_id", c->account_id }
    };
    for (size_t i = 0; i < 2; i++) {
        size_t len = strlen (ids [i].value);
        if (len == 0)
            return s_refuse (verdict, TXW_REJECT_MISSING_FIELD, ids [i].name,
                                        "%s is empty or absent", ids [i].name);
        if (!txw_id_chars_valid (ids [i].value, len)) {
            char quoted [64];
            s_quote (ids [i].value, len, false, quoted, sizeof quoted);
            return s_refuse (verdict, TXW_REJECT_BAD_ID, ids [i].name,
                                        "%s '%s' has characters outside [A-Za-z0-9_.:-]",
                                        ids [i].name, quoted);
        }
    }
    if (c->ts_ms == 0)
        return s_refuse (verdict, TXW_REJECT_MISSING_FIELD, "ts",
                                    "ts (the original transaction's event time) is absent");
    if (c->ts_ms < self->min_ts_ms)
        return s_refuse (verdict, TXW_REJECT_TS_OUT_OF_RANGE, "ts",
                                    "ts %lld is before the earliest accepted time (%lld ms)",
                                    (long long) c->ts_ms, (long long) self->min_ts_ms);
    if (c->ts_ms - self->max_future_ms > now_ms)
        return s_refuse (verdict, TXW_REJECT_TS_OUT_OF_RANGE, "ts",
                                    "ts %lld is %lld ms ahead of the clock (at most %lld allowed)",
                                    (long long) c->ts_ms, (long long) (c->ts_ms - now_ms),
                                    (long long) self->max_future_ms);
    if (c->status == TXW_CORRECTION_UNKNOWN)
        return s_refuse (verdict, TXW_REJECT_BAD_CORRECTION, "status",
                                    "status is not reversed, refunded or charged_back");
    if (!txw_utf8_valid (c->actor, strlen (c->actor)))
        return s_refuse (verdict, TXW_REJECT_BAD_TYPE, "actor",
                                    "actor is not valid UTF-8 text");
    if (!txw_utf8_valid (c->reason, strlen (c->reason)))
        return s_refuse (verdict, TXW_REJECT_BAD_TYPE, "reason",
                                    "reason is not valid UTF-8 text");
    if (c->corrected_ms == 0)
        c->corrected_ms = now_ms;
    return 0;
}
