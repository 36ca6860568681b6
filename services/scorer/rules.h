/*  rules - the transparent fraud rule set: signals, rule table, combiner

    Scoring has three steps, each small enough to read and test alone:
    1. signals: numbers computed from the transaction and its account's
       state before the transaction (amount ratio to the account's usual,
       transactions in the last minute, new country, ...), one array;
    2. rules: rows of one table, each with a name, a reason bit, a weight
       and up to three conditions "signal >= x" or "signal <= x"; a row that
       holds adds its weight and sets its reason bit;
    3. combiner: without a supervised model, the sum of the weights of the
       rows that hold, capped to 0..100; with one, 100 times its calibrated
       probability (supervised_p, rounded down: 80 is p 0.8), raised to the
       sum of the "hard" rows that hold. The model has every other signal
       as a feature, the rules' included, so adding their weights to it
       would count them twice; the rows still set their reason bits (the
       explanation), and a hard row still alerts whatever the model says.
    The table is data, not code: a rule set (rules_set_t) is read from a
    JSON file by ruleset.h, the default one included, along with each
    merchant category's risk and usual ticket size. The anomaly model
    enters as one more signal (model_score, 0..1, an argument of
    rules_score_tx). Velocity signals are measured against the account's own pace
    ("usual" comes from its typical gap between transactions), so a busy
    account is not a burst.                                                   */

#ifndef TXW_SCORER_RULES_H
#define TXW_SCORER_RULES_H

#include "codec.h"
#include "merchants.h"
#include "profiles.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_MAX               64
#define RULES_MAX_CONDITIONS    3
#define RULES_MAX_CATEGORIES    64

#define RULES_SIGNALS(X)                                                        \
    X (HISTORY,             "history")          /* prior transactions         */ \
    X (AMOUNT_RATIO,        "amount_ratio")     /* amount / usual for category*/ \
    X (AMOUNT_Z,            "amount_z")         /* the same as a z-score      */ \
    X (AMOUNT_BASE_RATIO,   "amount_base_ratio") /* amount / usual, any category */ \
    X (TX_MINUTE,           "tx_minute")        /* incl. this one             */ \
    X (TX_HOUR,             "tx_hour")          /* incl. this one             */ \
    X (MINUTE_SURPRISE,     "minute_surprise")  /* (tx_minute - usual) / sd   */ \
    X (TX_BURST,            "tx_burst")         /* in the last 5 s, incl.     */ \
    X (BURST_SURPRISE,      "burst_surprise")   /* (tx_burst - usual) / sd    */ \
    X (HOUR_SURPRISE,       "hour_surprise")    /* (tx_hour - usual) / sd     */ \
    X (SMALL_ONLINE,        "small_online")     /* 1: small online amount     */ \
    X (SMALL_ONLINE_MINUTE, "small_online_minute") /* incl. this one          */ \
    X (NEW_COUNTRY,         "new_country")      /* 1: unseen or just new      */ \
    X (NEW_DEVICE,          "new_device")       /* 1: unseen or just new      */ \
    X (DEVICE_NEW_DAY,      "device_new_day")   /* 1: unseen or new today     */ \
    X (COUNTRY_CHANGED,     "country_changed")  /* 1: differs from last       */ \
    X (CONTINENT_CHANGED,   "continent_changed") /* 1: and another continent  */ \
    X (SINCE_PREV_S,        "since_prev_s")     /* seconds since previous tx  */ \
    X (NIGHT,               "night")            /* 1: local hour 1..4         */ \
    X (CATEGORY_RISK,       "category_risk")    /* 0..3                       */ \
    X (DECLINES_RECENT,     "declines_recent")  /* of the last 5, incl. this  */ \
    X (BRANCH_AWAY,         "branch_away")      /* 1: not the home branch     */ \
    X (REGION_AWAY,         "region_away")      /* 1: not the home region     */ \
    X (HOUR,                "hour")             /* 0..23 local (home country) */ \
    X (WEEKDAY,             "weekday")          /* 0 Monday .. 6 Sunday, local*/ \
    X (LOG_AMOUNT,          "log_amount")       /* ln (1 + amount, reporting) */ \
    X (CARD_PRESENT,        "card_present")     /* 1: pos or atm              */ \
    X (MODEL_SCORE,         "model_score")      /* 0..1 from the model        */ \
    /* Cross-account (merchants.h): 0 when the scorer keeps no such state */  \
    X (MERCHANT_HISTORY,    "merchant_history") /* merchant's prior txs       */ \
    X (MERCHANT_VELOCITY,   "merchant_velocity") /* recent pace / its usual   */ \
    X (MERCHANT_ACCOUNTS_HOUR, "merchant_accounts_hour") /* distinct, incl.   */ \
    X (MERCHANT_SMALL_SHARE, "merchant_small_share") /* small online, hour    */ \
    X (MERCHANT_NEW_ACCOUNT_SHARE, "merchant_new_account_share") /* hour      */ \
    X (MERCHANT_FRAUD_SHARE, "merchant_fraud_share") /* customers later fraud */ \
    X (EXPOSED_FRAUD_SHARE, "exposed_fraud_share") /* max of its merchants'  */ \
    X (DEVICE_ACCOUNTS,     "device_accounts")  /* distinct in a day, incl.   */ \
    /* Threshold avoidance: amounts in [0.9, 1) x the set's reporting limit */ \
    X (NEAR_LIMIT,          "near_limit")       /* 1: this one is             */ \
    X (NEAR_LIMIT_48H,      "near_limit_48h")   /* in the last 48 h, incl.    */ \
    /* The supervised model (gbdt.h), from every signal above; 0 without */   \
    X (SUPERVISED_P,        "supervised_p")     /* calibrated P (fraud), 0..1 */

typedef enum {
#define S_ENUM(NAME, name) RULES_SIG_##NAME,
    RULES_SIGNALS (S_ENUM)
#undef S_ENUM
    RULES_SIG_COUNT
} rules_signal_t;

typedef struct {
    double v [RULES_SIG_COUNT];
} rules_signals_t;

typedef enum { RULES_OP_NONE = 0, RULES_OP_GE, RULES_OP_LE } rules_op_t;

typedef struct {
    rules_signal_t signal;
    rules_op_t op;
    double threshold;
} rules_condition_t;

typedef struct {
    char name [TXW_NAME_MAX + 1];
    int reason_bit;                 //  0 .. TXW_REASON_COUNT - 1
    int weight;                     //  points added when every condition holds
    rules_condition_t when [RULES_MAX_CONDITIONS];  //  op NONE: unused
    bool hard;                      //  counts with a supervised model too
} rules_rule_t;

//  A merchant category's fraud risk (0..3) and its usual ticket size
//  against an account's everyday spending: amounts are compared with the
//  account's history after dividing by the factor, so a television is not
//  a spike because groceries are cheap. Unlisted: risk 0, factor 1.
typedef struct {
    char name [TXW_NAME_MAX + 1];
    int risk;
    double amount_factor;
} rules_category_t;

//  Everything a rule file holds.
typedef struct {
    char version [TXW_NAME_MAX + 1];
    rules_rule_t rules [RULES_MAX];
    size_t count;
    rules_category_t categories [RULES_MAX_CATEGORIES];
    size_t category_count;
    //  The amount (reporting currency, minor units) at which a transaction
    //  must be reported to the authorities: near_limit marks amounts from
    //  RULES_NEAR_LIMIT_SHARE of it up to just under it. "reporting_limit"
    //  in the file, in major units; RULES_REPORTING_LIMIT when absent.
    int64_t reporting_limit_minor;
} rules_set_t;

//  Tunables that define signals rather than rules.
#define RULES_SMALL_AMOUNT_MINOR    300     //  "small": at most 3.00 (reporting)
#define RULES_FRESH_MS              120000  //  a new country/device stays new 2 min
#define RULES_DEVICE_DAY_MS         (24 * 3600000)  //  device_new_day: for a day
#define RULES_RECENT_TX             5       //  "recent" declines: of the last 5
#define RULES_BURST_MS              5000    //  a burst: transactions within 5 s
#define RULES_SPREAD_PRIOR          0.6     //  typical spread of log amounts ...
#define RULES_SPREAD_PRIOR_N        3       //  ... worth this many observations
#define RULES_CLIP_Z                2.5     //  spikes are learnt clipped to this z
#define RULES_REPORTING_LIMIT       10000   //  major units (reporting), the usual one
#define RULES_NEAR_LIMIT_SHARE      0.9     //  "near" the limit: at least 90% of it
#define RULES_NEAR_LIMIT_MS         (48 * 3600000)  //  structuring: within two days

typedef struct _rules_t rules_t;

//  Creates the scoring state for a rule set (copied) or, with set NULL, the
//  default one (ruleset_default). model_version is what scored transactions
//  carry (NULL: the set's version). Returns NULL if a row is invalid (bad
//  reason bit or signal) or the set is over its limits.
rules_t *rules_new (const rules_set_t *set, const char *model_version);
void rules_destroy (rules_t **self_p);

//  Gives the rules cross-account state (merchants.h; NULL: none, the
//  default): rules_score_tx then fills the merchant_* and device_accounts
//  signals from it, folds each transaction into it, and credits the
//  account's earlier merchants when the transaction scores at or over the
//  state's alert threshold without the cross-account rows' points. The
//  state is not the rules': it outlives a reload, and is passed again to
//  the new rules.
void rules_use_cross (rules_t *self, merchants_t *cross);

//  Gives the rules the supervised model (gbdt.h; NULL: none, the default):
//  rules_score_tx then sets the supervised_p signal from every other one,
//  the forest's model_score included, and scores by it (the combiner
//  above). Not the rules' either: the scorer
//  loads and reloads it, and passes it again to new rules.
typedef struct _gbdt_t gbdt_t;
void rules_use_supervised (rules_t *self, const gbdt_t *supervised);
//  The signals of the last transaction scored whose supervised rule held
//  (reason model_supervised), for the alert's explanation; NULL if none.
const rules_signals_t *rules_supervised_signals (const rules_t *self);
//  The supervised_p of the last transaction scored (0 without a model).
double rules_supervised_p (const rules_t *self);

//  Name of a signal, or NULL; and the signal of a name, or -1 (for loading
//  a table from a file).
const char *rules_signal_name (int signal);
int rules_signal_parse (const char *name);
const char *rules_model_version (const rules_t *self);
size_t rules_count (const rules_t *self);

//  Fills signals from the account's state before tx (acct may be NULL: an
//  account with no history) and the model's score for tx (0..1).
void rules_signals (const rules_t *self, const profiles_account_t *acct,
                    const txw_tx_t *tx, double model_score, rules_signals_t *out);

//  Applies every row and returns the score (the combiner above: the rules'
//  sum, or with a supervised model its probability and the hard rows),
//  capped to 0..100; *reasons gets the reason bits of the rows that held.
uint8_t rules_combine (const rules_t *self, const rules_signals_t *signals,
                       uint32_t *reasons);

//  The anomaly model as the rules see it: its score (0..1) for the signals
//  of a transaction, which become the model_score signal.
typedef double (rules_model_fn) (void *arg, const rules_signals_t *signals);

//  The whole step for one transaction: looks its account up in profiles,
//  computes signals, asks the model (if not NULL), scores, folds tx into
//  the account, and marks tx as scored (score, reasons, model_version).
//  Never allocates. An account id that profiles cannot hold (empty, too
//  long) is scored as an account without history and -1 is returned;
//  otherwise 0.
//  Returns 1 instead of folding when the transaction is among the
//  account's last ones (profiles_has_tx): a copy, scored like
//  rules_score_again.
int rules_score_tx (rules_t *self, profiles_t *profiles, txw_tx_t *tx,
                    rules_model_fn *model, void *model_arg);

//  The same for a transaction the account has had before (a copy sent
//  again): scored, but not folded into the account a second time, so its
//  pace and usual amount do not count it twice.
int rules_score_again (rules_t *self, profiles_t *profiles, txw_tx_t *tx,
                       rules_model_fn *model, void *model_arg);

#endif
