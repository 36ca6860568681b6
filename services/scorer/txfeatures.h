/*  txfeatures - the anomaly model's view of a transaction

    The Isolation Forest sees each transaction as a short vector of numbers
    taken from the rule signals (rules.h), that is from the transaction and
    its account's history before it: how large the amount is, for the
    account and absolutely; when; how busy the account is; how long since
    its last transaction; whether country, device, branch or region are new
    to it; the merchant category's risk. The same function feeds training
    and scoring, so the model is always asked what it was taught. Values are
    put on scales where distance means something to a random split (logs of
    amounts and gaps, clipped z-scores). (Not features.h: that name would
    shadow glibc's own header.)                                             */

#ifndef TXW_SCORER_TXFEATURES_H
#define TXW_SCORER_TXFEATURES_H

#include "rules.h"

#include <stdio.h>

#define FEATURES(X)                                                             \
    X (LOG_AMOUNT,          "log_amount")       /* ln (1 + amount, reporting) */ \
    X (AMOUNT_Z,            "amount_z")         /* vs the account, clipped ±8 */ \
    X (LOG_AMOUNT_RATIO,    "log_amount_ratio") /* ln of amount / usual       */ \
    X (HOUR,                "hour")             /* 0..23 local (home country) */ \
    X (WEEKDAY,             "weekday")          /* 0..6, local                */ \
    X (TX_MINUTE,           "tx_minute")        /* incl. this one             */ \
    X (TX_HOUR,             "tx_hour")                                          \
    X (LOG_SINCE_PREV,      "log_since_prev_s") /* ln (1 + s), 20 if none     */ \
    X (NEW_COUNTRY,         "new_country")                                      \
    X (NEW_DEVICE,          "new_device")                                       \
    X (COUNTRY_CHANGED,     "country_changed")                                  \
    X (CATEGORY_RISK,       "category_risk")                                    \
    X (BRANCH_AWAY,         "branch_away")                                      \
    X (REGION_AWAY,         "region_away")                                      \
    X (SMALL_ONLINE_MINUTE, "small_online_minute")                              \
    X (LOG_HISTORY,         "log_history")      /* ln (1 + prior transactions)*/

typedef enum {
#define S_ENUM(NAME, name) FEATURE_##NAME,
    FEATURES (S_ENUM)
#undef S_ENUM
    FEATURE_COUNT
} feature_t;

//  Fills out [FEATURE_COUNT] from a transaction's signals.
void features_from_signals (const rules_signals_t *signals, float *out);

//  Name of feature i, or NULL.
const char *features_name (int feature);

//  The CSV that --features-out writes, in train mode and while scoring:
//  a header "tx_id,model_score,<feature names>", then one row a transaction.
void features_csv_header (FILE *out);
void features_csv_row (FILE *out, const char *tx_id, double model_score, const float *x);

#endif
