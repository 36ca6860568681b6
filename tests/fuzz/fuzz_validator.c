/*  fuzz_validator - the validator's whole judgement of one raw record

    The first byte picks the reporting currency (EUR or JPY, built-in
    rates); the rest is one msgpack raw transaction, decoded as the
    validator does and checked by checks_apply with its default limits
    (min-ts 2000-01-01, 5 minutes ahead of a fixed clock). An accepted
    record must be clean: every required field there, ids of
    [A-Za-z0-9_.:-] within their limits, names valid UTF-8, a positive
    amount that formats and parses back in its currency's minor units, an
    ISO 4217 currency with a rate and the converted amount it gives, an
    ISO 3166 country, a known channel and status, hour and weekday of its
    time, lower case category; and it must survive the codec's round
    trip. A rejected one must name a validator reason code and a raw field,
    and its dead letter must hold a payload that is valid JSON with the
    account as its pseudonym unless its shape is safe (common/pii.h).
    txw_utf8_clean of the input must be valid UTF-8. The same bytes are
    also read as a correction and judged by checks_correction: an accepted
    one holds ids of [A-Za-z0-9_.:-], a time in range, a known status and
    UTF-8 texts; a refused one names a correction's code and field; either
    way its dead letter's payload is valid JSON without the account.      */

#include "checks.h"
#include "deadletter.h"
#include "utf8.h"
#include "pii.h"
#include "rfc3339.h"
#include "fuzz.h"

#include <jansson.h>

#define S_NOW_MS        1767607200000LL      //  2026-01-05T10:00:00Z
#define S_MIN_TS_MS     946684800000LL       //  2000-01-01T00:00:00Z
#define S_MAX_FUTURE_MS 300000

static bool
s_id_valid (const char *s, size_t max, bool required)
{
    //  An oracle of its own, not the validator's byte table.
    static const char allowed [] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-";
    size_t len = strlen (s);
    return len <= max && (len > 0 || !required) && strspn (s, allowed) == len;
}

static void
s_accepted (const txw_rates_t *rates, const txw_tx_t *tx)
{
    FUZZ_CHECK (s_id_valid (tx->tx_id, TXW_ID_MAX, true), "tx_id '%s'", tx->tx_id);
    FUZZ_CHECK (s_id_valid (tx->account_id, TXW_ID_MAX, true), "account_id '%s'", tx->account_id);
    FUZZ_CHECK (s_id_valid (tx->merchant_id, TXW_ID_MAX, true), "merchant_id '%s'", tx->merchant_id);
    FUZZ_CHECK (s_id_valid (tx->device_id, TXW_ID_MAX, true), "device_id '%s'", tx->device_id);
    FUZZ_CHECK (s_id_valid (tx->product_id, TXW_ID_MAX, false), "product_id '%s'", tx->product_id);
    const char *names [] = { tx->category, tx->branch_id, tx->region };
    for (int i = 0; i < 3; i++) {
        size_t len = strlen (names [i]);
        FUZZ_CHECK (len >= 1 && len <= TXW_NAME_MAX && txw_utf8_valid (names [i], len),
                    "name field %d '%s'", i, names [i]);
        FUZZ_CHECK (names [i][0] != ' ' && names [i][len - 1] != ' ', "name '%s' not trimmed",
                    names [i]);
    }
    for (const char *c = tx->category; *c; c++)
        FUZZ_CHECK (!(*c >= 'A' && *c <= 'Z'), "category '%s' not lower case", tx->category);
    FUZZ_CHECK (tx->ts_ms >= S_MIN_TS_MS && tx->ts_ms <= S_NOW_MS + S_MAX_FUTURE_MS,
                "ts %lld out of range", (long long) tx->ts_ms);
    int hour, weekday;
    rfc3339_hour_weekday (tx->ts_ms, &hour, &weekday);
    FUZZ_CHECK (tx->hour == hour && tx->weekday == weekday, "hour %d weekday %d, not %d %d",
                tx->hour, tx->weekday, hour, weekday);
    int exponent = txw_currency_exponent (tx->currency, 3);
    FUZZ_CHECK (strlen (tx->currency) == 3 && exponent >= 0, "currency '%s'", tx->currency);
    FUZZ_CHECK (tx->amount_minor > 0, "amount %lld", (long long) tx->amount_minor);
    char amount [48];
    int64_t again = -1;
    size_t n = txw_format_amount (amount, sizeof amount, tx->amount_minor, exponent);
    FUZZ_CHECK (txw_parse_amount (amount, n, exponent, &again) == 0 && again == tx->amount_minor,
                "amount %lld formats as '%s'", (long long) tx->amount_minor, amount);
    int64_t rep = 0;
    FUZZ_CHECK (txw_rates_convert (rates, tx->currency, tx->amount_minor, &rep) == 0
                && rep == tx->amount_rep_minor, "%lld %s is %lld reporting, not %lld",
                (long long) tx->amount_minor, tx->currency, (long long) rep,
                (long long) tx->amount_rep_minor);
    FUZZ_CHECK (strlen (tx->country) == 2 && txw_country_valid (tx->country, 2),
                "country '%s'", tx->country);
    FUZZ_CHECK (tx->channel > 0 && tx->channel < TXW_CHANNEL_COUNT, "channel %d", tx->channel);
    FUZZ_CHECK (tx->status > 0 && tx->status < TXW_STATUS_COUNT, "status %d", tx->status);
    FUZZ_CHECK (!tx->scored, "a validated record is scored");

    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    txw_tx_encode (&pk, tx);
    txw_cursor_t cur = { (const uint8_t *) buf.data, (const uint8_t *) buf.data + buf.size };
    txw_tx_t decoded;
    FUZZ_CHECK (txw_tx_decode (&cur, false, &decoded, NULL) == 0 && cur.p == cur.end,
                "an accepted record does not survive the codec");
    FUZZ_CHECK (!strcmp (decoded.tx_id, tx->tx_id) && decoded.amount_minor == tx->amount_minor
                && decoded.ts_ms == tx->ts_ms && !strcmp (decoded.category, tx->category),
                "an accepted record changes in the codec");
    msgpack_sbuffer_destroy (&buf);
}

static void
s_rejected (const txw_raw_tx_t *raw, const checks_verdict_t *verdict)
{
    FUZZ_CHECK ((int) verdict->code >= TXW_REJECT_MISSING_FIELD
                && verdict->code < TXW_REJECT_COUNT && verdict->code != TXW_REJECT_TOO_LATE,
                "reason code %d", verdict->code);
    bool known = false;
    for (int f = 0; f < TXW_RAW_FIELDS && verdict->field; f++)
        known = known || verdict->field == txw_raw_field_names [f];
    FUZZ_CHECK (known, "field '%s'", verdict->field? verdict->field: "(null)");
    size_t len = strnlen (verdict->message, sizeof verdict->message);
    FUZZ_CHECK (len >= 1 && len < sizeof verdict->message, "message of %zu bytes", len);
    FUZZ_CHECK (txw_utf8_valid (verdict->message, len), "message is not UTF-8: %s",
                verdict->message);

    txw_reject_t reject;
    memset (&reject, 0x55, sizeof reject);
    checks_reject (raw, verdict, &reject);
    FUZZ_CHECK (!strcmp (reject.reason, txw_reject_names [verdict->code]), "reason '%s'",
                reject.reason);
    size_t plen = strnlen (reject.payload, sizeof reject.payload);
    FUZZ_CHECK (plen < sizeof reject.payload, "payload not terminated");
    json_error_t error;
    json_t *payload = json_loadb (reject.payload, plen, 0, &error);
    FUZZ_CHECK (json_is_object (payload), "payload is not a JSON object (%s): %s", error.text,
                reject.payload);
    //  The account shows as its pseudonym (of the trimmed value) unless its
    //  shape is safe.
    const char *account = json_string_value (json_object_get (payload, "account_id"));
    if (account && raw->account_id.ptr) {
        const char *p = raw->account_id.ptr;
        size_t len = raw->account_id.len;
        while (len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
            p++;
            len--;
        }
        while (len && (p [len - 1] == ' ' || p [len - 1] == '\t' || p [len - 1] == '\r'
                   || p [len - 1] == '\n'))
            len--;
        char masked [TXW_PSEUDONYM_SIZE];
        txw_mask_id (p, len, masked, sizeof masked);
        bool safe = txw_pii_safe (p, len);
        FUZZ_CHECK (safe || !strcmp (account, masked), "account '%.*s' shows as '%s'",
                    (int) len, p, account);
    }
    json_decref (payload);
}

//  A decoded correction, judged as the validator does.
static void
s_correction (const checks_t *checks, txw_correction_t *c)
{
    checks_verdict_t verdict;
    memset (&verdict, 0, sizeof verdict);
    int rc = checks_correction (checks, c, S_NOW_MS, &verdict);
    if (rc == 0) {
        FUZZ_CHECK (*c->tx_id && txw_id_chars_valid (c->tx_id, strlen (c->tx_id))
                    && *c->account_id && txw_id_chars_valid (c->account_id, strlen (c->account_id)),
                    "correction accepted with a bad id");
        FUZZ_CHECK (c->ts_ms >= S_MIN_TS_MS && c->ts_ms <= S_NOW_MS + S_MAX_FUTURE_MS,
                    "correction accepted at %lld", (long long) c->ts_ms);
        FUZZ_CHECK (c->status > TXW_CORRECTION_UNKNOWN && c->status < TXW_CORRECTION_COUNT
                    && c->corrected_ms != 0, "correction accepted without status or time");
        FUZZ_CHECK (txw_utf8_valid (c->actor, strlen (c->actor))
                    && txw_utf8_valid (c->reason, strlen (c->reason)),
                    "correction accepted with text that is not UTF-8");
    }
    else {
        FUZZ_CHECK (rc == -1 && verdict.field && *verdict.field, "correction refused without a field");
        FUZZ_CHECK (verdict.code == TXW_REJECT_MISSING_FIELD || verdict.code == TXW_REJECT_BAD_ID
                    || verdict.code == TXW_REJECT_TS_OUT_OF_RANGE
                    || verdict.code == TXW_REJECT_BAD_CORRECTION
                    || verdict.code == TXW_REJECT_BAD_TYPE,
                    "correction refused as %s", txw_reject_names [verdict.code]);
        FUZZ_CHECK (txw_utf8_valid (verdict.message, strlen (verdict.message)),
                    "correction refusal message is not UTF-8");
    }
    txw_reject_t rej;
    memset (&rej, 0, sizeof rej);
    txw_deadletter_correction (c, &rej);
    json_error_t error;
    json_t *payload = json_loads (rej.payload, 0, &error);
    FUZZ_CHECK (payload, "correction payload is not JSON: %s", rej.payload);
    const char *account = json_string_value (json_object_get (payload, "account_id"));
    FUZZ_CHECK (account && (!*c->account_id || strcmp (account, c->account_id) != 0
                            || txw_pseudonym_is (account, strlen (account))),
                "correction payload shows the account %s", c->account_id);
    json_decref (payload);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static txw_rates_t *rates [2];
    static checks_t *checks [2];
    if (!rates [0]) {
        char error [256];
        rates [0] = txw_rates_load (NULL, "EUR", error, sizeof error);
        rates [1] = txw_rates_load (NULL, "JPY", error, sizeof error);
        for (int i = 0; i < 2; i++)
            checks [i] = checks_new (rates [i], S_MIN_TS_MS, S_MAX_FUTURE_MS);
    }
    if (size < 1)
        return 0;
    int config = data [0] & 1;
    uint8_t *copy = malloc (size - 1? size - 1: 1);
    memcpy (copy, data + 1, size - 1);

    //  Whatever the bytes, cleaning gives valid UTF-8 within the buffer.
    char clean [96];
    size_t n = txw_utf8_clean ((const char *) copy, size - 1, clean, sizeof clean);
    FUZZ_CHECK (n < sizeof clean && n == strlen (clean) && txw_utf8_valid (clean, n),
                "cleaned text of %zu bytes is not UTF-8", n);

    txw_cursor_t cur = { copy, copy + size - 1 };
    txw_raw_tx_t raw;
    if (txw_raw_tx_decode (&cur, &raw, NULL) == 0) {
        txw_tx_t tx;
        checks_verdict_t verdict;
        memset (&verdict, 0, sizeof verdict);
        int rc = checks_apply (checks [config], &raw, S_NOW_MS, &tx, &verdict);
        FUZZ_CHECK (rc == 0 || rc == -1, "checks_apply returned %d", rc);
        if (rc == 0)
            s_accepted (rates [config], &tx);
        else {
            FUZZ_CHECK (raw.bad_field < 0 || verdict.code == TXW_REJECT_BAD_TYPE,
                        "a field of the wrong type gave %s", txw_reject_names [verdict.code]);
            s_rejected (&raw, &verdict);
        }
    }
    cur = (txw_cursor_t) { copy, copy + size - 1 };
    txw_correction_t c;
    if (txw_correction_decode (&cur, &c, NULL) == 0)
        s_correction (checks [config], &c);
    free (copy);
    return 0;
}
