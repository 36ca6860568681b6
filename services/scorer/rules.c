/*  rules - the transparent fraud rule set: signals, rule table, combiner   */

#include "rules.h"
#include "gbdt.h"
#include "reasons.h"
#include "ruleset.h"
#include "tzcountry.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Reason bit numbers, from the one list in common/reasons.h.
enum {
#define S_BIT(bit, NAME, name, text) S_BIT_##NAME = bit,
    TXW_REASONS (S_BIT)
#undef S_BIT
};

static const char *s_signal_names [] = {
#define S_NAME(NAME, name) name,
    RULES_SIGNALS (S_NAME)
#undef S_NAME
};

//  Continents, coarsely, for travel that no flight makes in time. Codes not
//  listed have no continent and never count as a change.
static const char *s_continents [] = {
    //  1 Europe
    "AD AL AT BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GI GR HR HU IE IM IS IT "
    "LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SK SM UA VA XK",
    //  2 North and Central America, Caribbean
    "US CA MX GT BZ HN SV NI CR PA CU DO HT JM BS BB TT PR",
    //  3 South America
    "BR AR CL CO PE VE EC BO PY UY GY SR",
    //  4 Asia and the Middle East
    "CN JP KR KP IN PK BD LK NP TH VN MY SG ID PH KH LA MM TW HK MO MN KZ UZ TM KG TJ "
    "AF IR IQ SY JO LB IL PS SA AE QA KW BH OM YE TR GE AM AZ",
    //  5 Africa
    "ZA EG MA DZ TN LY NG GH KE ET TZ UG SN CI CM AO MZ ZW ZM NA BW RW SD",
    //  6 Oceania
    "AU NZ FJ PG",
};

struct _rules_t {
    rules_rule_t rules [RULES_MAX];
    size_t count;
    rules_category_t categories [RULES_MAX_CATEGORIES];
    size_t category_count;
    char model_version [TXW_NAME_MAX + 1];
    int64_t limit_minor;            //  the reporting limit (reporting currency)
    int64_t near_minor;             //  near_limit from here up to limit_minor
    uint8_t continent [26][26];     //  by the two letters, 0: unknown
    merchants_t *cross;             //  NULL: no cross-account signals
    const gbdt_t *supervised;       //  NULL: supervised_p stays 0
    rules_signals_t explained;      //  the last whose supervised rule held
    bool has_explained;
    double supervised_p;            //  of the last transaction scored
};

const char *
rules_signal_name (int signal)
{
    return signal >= 0 && signal < RULES_SIG_COUNT? s_signal_names [signal]: NULL;
}

int
rules_signal_parse (const char *name)
{
    for (int signal = 0; signal < RULES_SIG_COUNT; signal++)
        if (!strcmp (name, s_signal_names [signal]))
            return signal;
    return -1;
}

rules_t *
rules_new (const rules_set_t *set, const char *model_version)
{
    if (!set)
        set = ruleset_default ();
    if (set->count > RULES_MAX || set->category_count > RULES_MAX_CATEGORIES)
        return NULL;
    for (size_t r = 0; r < set->count; r++) {
        const rules_rule_t *rule = &set->rules [r];
        if (rule->reason_bit < 0 || rule->reason_bit >= TXW_REASON_COUNT)
            return NULL;
        for (int c = 0; c < RULES_MAX_CONDITIONS; c++) {
            const rules_condition_t *cond = &rule->when [c];
            if (cond->op != RULES_OP_NONE
            && ((int) cond->signal < 0 || cond->signal >= RULES_SIG_COUNT
                || (cond->op != RULES_OP_GE && cond->op != RULES_OP_LE)))
                return NULL;
        }
    }
    rules_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    memcpy (self->rules, set->rules, set->count * sizeof *set->rules);
    self->count = set->count;
    memcpy (self->categories, set->categories, set->category_count * sizeof *set->categories);
    self->category_count = set->category_count;
    snprintf (self->model_version, sizeof self->model_version, "%s",
              model_version? model_version: set->version);
    self->limit_minor = set->reporting_limit_minor > 0? set->reporting_limit_minor
                                                      : RULES_REPORTING_LIMIT * INT64_C (100);
    self->near_minor = (int64_t) ceil ((double) self->limit_minor * RULES_NEAR_LIMIT_SHARE);
    for (size_t c = 0; c < sizeof s_continents / sizeof s_continents [0]; c++)
        for (const char *p = s_continents [c]; p [0] && p [1]; p += p [2]? 3: 2)
            self->continent [p [0] - 'A'][p [1] - 'A'] = (uint8_t) (c + 1);
    return self;
}

void
rules_destroy (rules_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
rules_use_cross (rules_t *self, merchants_t *cross)
{
    self->cross = cross;
}

void
rules_use_supervised (rules_t *self, const gbdt_t *supervised)
{
    self->supervised = supervised;
}

const rules_signals_t *
rules_supervised_signals (const rules_t *self)
{
    return self->has_explained? &self->explained: NULL;
}

double
rules_supervised_p (const rules_t *self)
{
    return self->supervised_p;
}

const char *
rules_model_version (const rules_t *self)
{
    return self->model_version;
}

size_t
rules_count (const rules_t *self)
{
    return self->count;
}

//  Continent of a packed country code, 0 if unknown.
static int
s_continent (const rules_t *self, uint16_t code)
{
    int a = (code >> 8) - 'A', b = (code & 0xff) - 'A';
    return a >= 0 && a < 26 && b >= 0 && b < 26? self->continent [a][b]: 0;
}

//  The category's entry, or NULL (risk 0, factor 1).
static const rules_category_t *
s_category (const rules_t *self, const char *category)
{
    for (size_t i = 0; i < self->category_count; i++)
        if (!strcmp (category, self->categories [i].name))
            return &self->categories [i];
    return NULL;
}

//  The amount in the reporting currency (minor units), or as sent when
//  the validator could not convert it.
static inline int64_t
s_amount (const txw_tx_t *tx)
{
    return tx->amount_rep_minor > 0? tx->amount_rep_minor: tx->amount_minor;
}

//  Just under the reporting limit: what structuring keeps to.
static inline bool
s_near_limit (const rules_t *self, const txw_tx_t *tx)
{
    int64_t amount = s_amount (tx);
    return amount >= self->near_minor && amount < self->limit_minor;
}

//  The log amount that account statistics are kept on: log1p of the
//  amount in the reporting currency, less the log of the category factor.
static double
s_log_amount (const txw_tx_t *tx, const rules_category_t *category)
{
    int64_t amount = s_amount (tx);
    double x = log1p (amount > 0? (double) amount: 0.0);
    return category? x - log (category->amount_factor): x;
}

//  Spread of the account's log amounts, pulled towards a typical one by a
//  few pseudo-observations.
static double
s_spread (const profiles_account_t *acct)
{
    double m2 = acct->count >= 2? (double) acct->log_m2: 0;
    double dof = acct->count >= 2? acct->count - 1: 0;
    return sqrt ((m2 + RULES_SPREAD_PRIOR_N * RULES_SPREAD_PRIOR * RULES_SPREAD_PRIOR)
                 / (dof + RULES_SPREAD_PRIOR_N));
}

void
rules_signals (const rules_t *self, const profiles_account_t *acct, const txw_tx_t *tx,
               double model_score, rules_signals_t *out)
{
    double *v = out->v;
    memset (out, 0, sizeof *out);
    int64_t amount = s_amount (tx);
    bool small_online = tx->channel == TXW_CHANNEL_ONLINE
                     && amount <= RULES_SMALL_AMOUNT_MINOR;
    bool near_limit = s_near_limit (self, tx);
    bool declined = tx->status == TXW_STATUS_DECLINED;
    uint32_t history = acct? acct->count: 0;

    //  The clock on the wall at the account's home (not where this
    //  transaction happens, which moves when the account travels or is
    //  taken over): night is when its owner is usually asleep. From the
    //  event time, so a replay reads the same; UTC for a home country
    //  tzcountry does not know.
    int hour, weekday;
    tzcountry_hour_weekday (profiles_home_country (acct, tx), tx->ts_ms, &hour, &weekday);
    v [RULES_SIG_HISTORY] = history;
    v [RULES_SIG_HOUR] = hour;
    v [RULES_SIG_CARD_PRESENT] = tx->channel == TXW_CHANNEL_POS || tx->channel == TXW_CHANNEL_ATM;
    v [RULES_SIG_WEEKDAY] = weekday;
    v [RULES_SIG_LOG_AMOUNT] = log1p (amount > 0? (double) amount: 0.0);
    v [RULES_SIG_SMALL_ONLINE] = small_online;
    v [RULES_SIG_NIGHT] = hour >= 1 && hour <= 4;
    const rules_category_t *category = s_category (self, tx->category);
    v [RULES_SIG_CATEGORY_RISK] = category? category->risk: 0;
    v [RULES_SIG_MODEL_SCORE] = model_score;
    v [RULES_SIG_TX_MINUTE] = 1;
    v [RULES_SIG_TX_HOUR] = 1;
    v [RULES_SIG_SMALL_ONLINE_MINUTE] = small_online;
    v [RULES_SIG_MINUTE_SURPRISE] = 1;
    v [RULES_SIG_TX_BURST] = 1;
    v [RULES_SIG_BURST_SURPRISE] = 1;
    v [RULES_SIG_HOUR_SURPRISE] = 1;
    v [RULES_SIG_DECLINES_RECENT] = declined;
    v [RULES_SIG_SINCE_PREV_S] = 1e12;
    v [RULES_SIG_NEAR_LIMIT] = near_limit;
    v [RULES_SIG_NEAR_LIMIT_48H] = near_limit;
    if (history == 0)
        return;

    //  Amount against the account's usual, on the log scale. The spread
    //  is pulled towards a typical one by a few pseudo-observations, so a
    //  short or very regular history does not make every purchase look
    //  far out.
    double x = s_log_amount (tx, category);
    double diff = x - acct->log_mean;
    double spread = s_spread (acct);
    v [RULES_SIG_AMOUNT_RATIO] = exp (diff);
    v [RULES_SIG_AMOUNT_Z] = diff / spread;
    v [RULES_SIG_AMOUNT_BASE_RATIO] = exp (log1p (amount > 0? (double) amount: 0.0)
                                           - acct->log_mean);

    //  A further line item of the order the account's latest transaction
    //  began is the same purchase, which the counts below hold already:
    //  one order counts once, however many lines it has.
    bool line_item = profiles_same_order (acct, tx);
    if (line_item) {
        v [RULES_SIG_TX_MINUTE] = 0;
        v [RULES_SIG_TX_HOUR] = 0;
        v [RULES_SIG_SMALL_ONLINE_MINUTE] = 0;
        v [RULES_SIG_TX_BURST] = 0;
        v [RULES_SIG_DECLINES_RECENT] = 0;
    }
    int64_t ts = tx->ts_ms;
    v [RULES_SIG_TX_MINUTE] += profiles_count_within (acct, ts, 60000, PROFILES_ALL);
    v [RULES_SIG_TX_HOUR] += profiles_count_hour (acct, ts);
    if (small_online)
        v [RULES_SIG_SMALL_ONLINE_MINUTE] +=
            profiles_count_within (acct, ts, 60000, PROFILES_SMALL_ONLY);
    //  How far the counts are above the account's usual pace, in rough
    //  Poisson standard deviations (the +1 keeps quiet accounts sane).
    double usual = profiles_expected_within (acct, 60000);
    v [RULES_SIG_MINUTE_SURPRISE] = (v [RULES_SIG_TX_MINUTE] - usual) / sqrt (usual + 1);
    v [RULES_SIG_TX_BURST] += profiles_count_within (acct, ts, RULES_BURST_MS, PROFILES_ALL);
    usual = profiles_expected_within (acct, RULES_BURST_MS);
    v [RULES_SIG_BURST_SURPRISE] = (v [RULES_SIG_TX_BURST] - usual) / sqrt (usual + 1);
    usual = profiles_expected_within (acct, 3600000);
    v [RULES_SIG_HOUR_SURPRISE] = (v [RULES_SIG_TX_HOUR] - usual) / sqrt (usual + 1);
    v [RULES_SIG_DECLINES_RECENT] +=
        profiles_count_last (acct, RULES_RECENT_TX - 1, PROFILES_DECLINED_ONLY);
    //  The account's earlier amounts just under the limit, whatever this
    //  one is (a rule asks for both: this one near and others before it).
    v [RULES_SIG_NEAR_LIMIT_48H] +=
        profiles_count_within (acct, ts, RULES_NEAR_LIMIT_MS, PROFILES_NEAR_LIMIT_ONLY);

    v [RULES_SIG_NEW_COUNTRY] = profiles_country_new (acct, tx->country, ts, RULES_FRESH_MS);
    v [RULES_SIG_NEW_DEVICE] = profiles_device_new (acct, tx->device_id, ts, RULES_FRESH_MS);
    //  A device enrolled earlier today, then a large payment from it: the
    //  takeover's drain comes after the first use made the device known.
    v [RULES_SIG_DEVICE_NEW_DAY] = v [RULES_SIG_NEW_DEVICE] > 0
                                || profiles_device_new (acct, tx->device_id, ts, RULES_DEVICE_DAY_MS);
    uint16_t country = profiles_country_code (tx->country);
    if (country && acct->last_country && country != acct->last_country) {
        v [RULES_SIG_COUNTRY_CHANGED] = 1;
        int from = s_continent (self, acct->last_country);
        int to = s_continent (self, country);
        v [RULES_SIG_CONTINENT_CHANGED] = from && to && from != to;
    }
    v [RULES_SIG_BRANCH_AWAY] = profiles_branch_away (acct, tx->branch_id);
    v [RULES_SIG_REGION_AWAY] = profiles_region_away (acct, tx->region);
    //  For a further line item, the time since the purchase before its
    //  order.
    int64_t prev = line_item? profiles_before_latest_ms (acct): acct->last_ms;
    int64_t since = ts - prev;
    if (!line_item || prev >= 0)
        v [RULES_SIG_SINCE_PREV_S] = since > 0? since / 1000.0: 0;
}

static inline bool
s_holds (const rules_condition_t *cond, const double *v)
{
    switch (cond->op) {
        case RULES_OP_GE: return v [cond->signal] >= cond->threshold;
        case RULES_OP_LE: return v [cond->signal] <= cond->threshold;
        default:          return true;
    }
}

static uint8_t
s_cap (double points)
{
    return (uint8_t) (points < 0? 0: points > 100? 100: points);
}

//  The rows that hold: their reason bits, the sum of their weights, and in
//  *hard the sum of the hard rows' weights.
static int
s_points (const rules_t *self, const rules_signals_t *signals, uint32_t *reasons, int *hard)
{
    int points = 0;
    uint32_t bits = 0;
    *hard = 0;
    for (size_t r = 0; r < self->count; r++) {
        const rules_rule_t *rule = &self->rules [r];
        bool holds = true;
        for (int c = 0; c < RULES_MAX_CONDITIONS && holds; c++)
            holds = s_holds (&rule->when [c], signals->v);
        if (holds) {
            points += rule->weight;
            bits |= 1u << rule->reason_bit;
            if (rule->hard)
                *hard += rule->weight;
        }
    }
    *reasons = bits;
    return points;
}

//  The combiner (rules.h) of the rows' points.
static uint8_t
s_combine (const rules_t *self, const rules_signals_t *signals, int points, int hard)
{
    if (!self->supervised)
        return s_cap (points);
    //  The model's operating point scores 80 (gbdt_score), rounded down:
    //  a score of 80 or more is a probability at that point or above.
    uint8_t score = s_cap (floor (gbdt_score (self->supervised,
                                              signals->v [RULES_SIG_SUPERVISED_P])));
    return hard > score? s_cap (hard): score;
}

uint8_t
rules_combine (const rules_t *self, const rules_signals_t *signals, uint32_t *reasons)
{
    int hard;
    int points = s_points (self, signals, reasons, &hard);
    return s_combine (self, signals, points, hard);
}

//  The signals that come from the cross-account state.
static const rules_signal_t s_cross_signals [] = {
    RULES_SIG_MERCHANT_HISTORY, RULES_SIG_MERCHANT_VELOCITY, RULES_SIG_MERCHANT_ACCOUNTS_HOUR,
    RULES_SIG_MERCHANT_SMALL_SHARE, RULES_SIG_MERCHANT_NEW_ACCOUNT_SHARE,
    RULES_SIG_MERCHANT_FRAUD_SHARE, RULES_SIG_EXPOSED_FRAUD_SHARE, RULES_SIG_DEVICE_ACCOUNTS
};

//  Fills the cross-account signals of tx (counting it in) from its keys.
static void
s_cross_signals_fill (const rules_t *self, const merchants_tx_t *keys, rules_signals_t *signals)
{
    merchants_view_t view;
    merchants_view (self->cross, keys, &view);
    double *v = signals->v;
    v [RULES_SIG_MERCHANT_HISTORY] = view.history;
    v [RULES_SIG_MERCHANT_VELOCITY] = view.velocity;
    v [RULES_SIG_MERCHANT_ACCOUNTS_HOUR] = view.accounts_hour;
    v [RULES_SIG_MERCHANT_SMALL_SHARE] = view.small_share;
    v [RULES_SIG_MERCHANT_NEW_ACCOUNT_SHARE] = view.new_account_share;
    v [RULES_SIG_MERCHANT_FRAUD_SHARE] = view.fraud_share;
    v [RULES_SIG_EXPOSED_FRAUD_SHARE] = view.exposed_fraud_share;
    v [RULES_SIG_DEVICE_ACCOUNTS] = view.device_accounts;
}

//  Whether tx's score counts as fraud for its merchants: the rules' sum at
//  or over the threshold without the cross-account signals, so that what a
//  merchant's own signals add can never feed its fraud share. Without the
//  supervised model's probability too, which has them as features; and so
//  a merchant's fraud share is the same with and without a model, as
//  txw-train's replay, which has none, gave it to the model to learn from.
static bool
s_fraud_without_cross (const rules_t *self, const rules_signals_t *signals)
{
    rules_signals_t plain = *signals;
    for (size_t i = 0; i < sizeof s_cross_signals / sizeof s_cross_signals [0]; i++)
        plain.v [s_cross_signals [i]] = 0;
    plain.v [RULES_SIG_SUPERVISED_P] = 0;
    uint32_t reasons;
    int hard;
    return s_points (self, &plain, &reasons, &hard) >= merchants_alert_threshold (self->cross);
}

//  Looks the account up, computes the signals and scores tx; returns the
//  account (NULL if its id cannot be held), and whether tx is a small
//  online payment (the card-testing signal) in *small_online. With
//  cross-account state, keys gets tx's keys there and *fraud whether it
//  counts as fraud for its account's merchants.
static profiles_account_t *
s_score (rules_t *self, profiles_t *profiles, txw_tx_t *tx, rules_model_fn *model,
         void *model_arg, bool *small_online, merchants_tx_t *keys, bool *fraud)
{
    //  The account's keys first, so that its slot of the index is on its
    //  way while the merchant's and the device's keys are worked out.
    profiles_key_t account;
    profiles_key (tx->account_id, strnlen (tx->account_id, sizeof tx->account_id), &account);
    profiles_prefetch (profiles, &account);
    if (self->cross) {
        merchants_tx (tx, keys);
        merchants_tx_account (keys, account.hash, account.check, 0);
        merchants_prefetch (self->cross, keys, false);
    }
    profiles_account_t *acct = profiles_get_keyed (profiles, &account, tx->ts_ms);
    if (self->cross) {
        merchants_tx_account (keys, acct? acct->hash: 0, acct? acct->id_check: 0,
                              acct? acct->count: 0);
        merchants_prefetch (self->cross, keys, true);
    }
    rules_signals_t signals;
    rules_signals (self, acct, tx, 0, &signals);
    *small_online = signals.v [RULES_SIG_SMALL_ONLINE] > 0;
    if (self->cross) {
        keys->small = *small_online;
        s_cross_signals_fill (self, keys, &signals);
    }
    if (model)
        signals.v [RULES_SIG_MODEL_SCORE] = model (model_arg, &signals);
    if (self->supervised) {
        float x [RULES_SIG_COUNT];
        gbdt_features (self->supervised, &signals, x);
        signals.v [RULES_SIG_SUPERVISED_P] = gbdt_probability (self->supervised, x);
        self->supervised_p = signals.v [RULES_SIG_SUPERVISED_P];
    }
    int hard;
    int points = s_points (self, &signals, &tx->reasons, &hard);
    tx->score = s_combine (self, &signals, points, hard);
    //  Kept (rarely: alerts) for the alert's top contributing features.
    if (self->supervised && (tx->reasons & TXW_REASON_MODEL_SUPERVISED)) {
        self->explained = signals;
        self->has_explained = true;
    }
    tx->scored = true;
    memcpy (tx->model_version, self->model_version, sizeof tx->model_version);
    //  Only a sum at the threshold is worth the second look: the rows on
    //  cross-account signals and supervised_p add points, so leaving them
    //  out does not raise it (were one negative, merchants are credited less).
    *fraud = self->cross && points >= merchants_alert_threshold (self->cross)
          && s_fraud_without_cross (self, &signals);
    return acct;
}

int
rules_score_tx (rules_t *self, profiles_t *profiles, txw_tx_t *tx,
                rules_model_fn *model, void *model_arg)
{
    bool small_online, fraud;
    merchants_tx_t keys;
    profiles_account_t *acct = s_score (self, profiles, tx, model, model_arg, &small_online,
                                        &keys, &fraud);
    if (!acct)
        return -1;
    //  A copy of one of the account's last transactions (sent again after
    //  a restart, when the in-memory set no longer knows it): scored only.
    uint32_t tx_hash = profiles_tx_hash (tx->tx_id);
    if (profiles_has_tx (acct, tx_hash))
        return 1;
    profiles_note_tx (acct, tx_hash);
    //  The merchant counts a purchase once, not each line item of it; the
    //  account's earlier merchants are credited before this one is added.
    if (self->cross) {
        if (fraud)
            merchants_fraud (self->cross, &keys);
        if (!profiles_same_order (acct, tx))
            merchants_update (self->cross, &keys);
    }
    //  A spike is folded in clipped to the edge of the usual, so one huge
    //  purchase does not hide the next.
    double x = s_log_amount (tx, s_category (self, tx->category));
    if (tx->reasons & TXW_REASON_AMOUNT_SPIKE) {
        double edge = acct->log_mean + RULES_CLIP_Z * s_spread (acct);
        if (x > edge)
            x = edge;
    }
    profiles_update (acct, tx, x, (small_online? PROFILES_SMALL: 0)
                                | (s_near_limit (self, tx)? PROFILES_NEAR_LIMIT: 0));
    return 0;
}

int
rules_score_again (rules_t *self, profiles_t *profiles, txw_tx_t *tx,
                   rules_model_fn *model, void *model_arg)
{
    bool small_online, fraud;
    merchants_tx_t keys;
    return s_score (self, profiles, tx, model, model_arg, &small_online, &keys, &fraud)? 0: -1;
}
