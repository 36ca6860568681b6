/*  reasons - the scorer's reason codes, one bit each

    A scored transaction carries a bit set of these; PostgreSQL stores the
    names as text[]. Codes are only ever appended: a bit keeps its meaning.  */

#ifndef TXW_REASONS_H
#define TXW_REASONS_H

#include <stddef.h>
#include <stdint.h>

#define TXW_REASONS(X)                                                              \
    X (0,  AMOUNT_SPIKE,       "amount_spike",       "amount far above the account's usual") \
    X (1,  VELOCITY_MINUTE,    "velocity_minute",    "many transactions in the last minute") \
    X (2,  VELOCITY_HOUR,      "velocity_hour",      "many transactions in the last hour")   \
    X (3,  CARD_TESTING,       "card_testing",       "burst of small amounts")               \
    X (4,  NEW_COUNTRY,        "new_country",        "country not seen for this account")    \
    X (5,  NEW_DEVICE,         "new_device",         "device not seen for this account")     \
    X (6,  IMPOSSIBLE_TRAVEL,  "impossible_travel",  "country changed faster than travel allows") \
    X (7,  NIGHT_ACTIVITY,     "night_activity",     "unusual activity at night")            \
    X (8,  NEW_DEVICE_HIGH_AMOUNT, "new_device_high_amount", "new device with a high amount") \
    X (9,  RISKY_CATEGORY,     "risky_category",     "merchant category with high fraud risk") \
    X (10, MODEL_ANOMALY,      "model_anomaly",      "the anomaly model scores it as unusual") \
    X (11, DECLINE_BURST,      "decline_burst",      "several declines in a row") \
    X (12, MERCHANT_ACTIVITY,  "merchant_activity",  "many accounts, small amounts or new accounts at the merchant this hour") \
    X (13, MERCHANT_FRAUD,     "merchant_fraud",     "the merchant's recent customers later saw fraud") \
    X (14, SHARED_DEVICE,      "shared_device",      "device used by many accounts") \
    X (15, MODEL_SUPERVISED,   "model_supervised",   "the model trained on fraud labels finds it likely fraud") \
    X (16, STRUCTURING,        "structuring",        "several amounts just under the reporting limit")

enum {
#define S_ENUM(bit, NAME, name, text) TXW_REASON_##NAME = 1u << bit,
    TXW_REASONS (S_ENUM)
#undef S_ENUM
};

#define TXW_REASON_COUNT 17

//  Name of reason bit i (0..TXW_REASON_COUNT-1), or NULL.
const char *txw_reason_name (int bit);
const char *txw_reason_text (int bit);
//  Writes the names of the set bits, comma-separated, into out.
size_t txw_reasons_format (uint32_t reasons, char *out, size_t size);

#endif
