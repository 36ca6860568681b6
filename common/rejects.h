/*  rejects - reason codes of dead letters

    Every rejected record becomes a dead letter with one of these codes (the
    machine-readable part) and a message for people. Producers use the csv_*
    codes for rows they cannot split; the validator uses the rest, but for
    the aggregator's (too_late, sum_overflow, db_refused, and tx_not_found,
    not_approved, already_corrected for corrections). The
    generator labels records it breaks on purpose with "invalid:<code>", so
    the tests can check that each is rejected for the right reason. Codes
    are only ever added.                                                     */

#ifndef TXW_REJECTS_H
#define TXW_REJECTS_H

#define TXW_REJECT_CODES(X)                                                       \
    X (CSV_COLUMNS,         "csv_columns",         "row has the wrong number of columns") \
    X (CSV_QUOTING,         "csv_quoting",         "row has a malformed quoted field")    \
    X (CSV_HEADER,          "csv_header",          "file header is not the expected columns") \
    X (MISSING_FIELD,       "missing_field",       "a required field is empty or absent") \
    X (BAD_TYPE,            "bad_type",            "a field has the wrong msgpack type")  \
    X (TOO_LONG,            "too_long",            "a field is longer than its limit")    \
    X (BAD_ID,              "bad_id",              "an identifier has characters outside [A-Za-z0-9_.:-]") \
    X (BAD_TIMESTAMP,       "bad_timestamp",       "ts is not RFC 3339")                  \
    X (TS_OUT_OF_RANGE,     "ts_out_of_range",     "ts is implausibly old or in the future") \
    X (BAD_AMOUNT,          "bad_amount",          "amount is not a decimal with the currency's minor units") \
    X (NON_POSITIVE_AMOUNT, "non_positive_amount", "amount is zero or negative")          \
    X (BAD_CURRENCY,        "bad_currency",        "currency is not an ISO 4217 code")    \
    X (NO_RATE,             "no_rate",             "no rate to the reporting currency")   \
    X (BAD_COUNTRY,         "bad_country",         "country is not an ISO 3166-1 alpha-2 code") \
    X (BAD_CHANNEL,         "bad_channel",         "channel is not pos, online, atm, transfer or mobile") \
    X (BAD_STATUS,          "bad_status",          "status is not approved, declined or failed") \
    X (TOO_LATE,            "too_late",            "event is older than the aggregator keeps windows for") \
    X (AMOUNT_TOO_LARGE,    "amount_too_large",    "amount is above the largest a transaction may have (--max-amount)") \
    X (SUM_OVERFLOW,        "sum_overflow",        "a window's amount sum would pass 2^63 - 1 minor units") \
    X (DB_REFUSED,          "db_refused",          "PostgreSQL refused the row (the message names its error)") \
    X (BAD_CORRECTION,      "bad_correction",      "status of a correction is not reversed, refunded or charged_back") \
    X (TX_NOT_FOUND,        "tx_not_found",        "the corrected transaction is not stored (tx_id, account_id and ts must name it)") \
    X (NOT_APPROVED,        "not_approved",        "only an approved transaction can be corrected") \
    X (ALREADY_CORRECTED,   "already_corrected",   "the transaction was corrected to another status before")

typedef enum {
#define S_REJECT_ENUM(NAME, code, text) TXW_REJECT_##NAME,
    TXW_REJECT_CODES (S_REJECT_ENUM)
#undef S_REJECT_ENUM
    TXW_REJECT_COUNT
} txw_reject_code_t;

static const char *const txw_reject_names [TXW_REJECT_COUNT] = {
#define S_REJECT_NAME(NAME, code, text) code,
    TXW_REJECT_CODES (S_REJECT_NAME)
#undef S_REJECT_NAME
};

static const char *const txw_reject_texts [TXW_REJECT_COUNT] = {
#define S_REJECT_TEXT(NAME, code, text) text,
    TXW_REJECT_CODES (S_REJECT_TEXT)
#undef S_REJECT_TEXT
};

#endif
