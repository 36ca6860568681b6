/*  rules - the transparent fraud rule set: signals, rule table, combiner   */

#include "rules.h"
#include "reasons.h"

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

#define GE(sig, x)  { RULES_SIG_##sig, RULES_OP_GE, (x) }
#define LE(sig, x)  { RULES_SIG_##sig, RULES_OP_LE, (x) }

//  The default rule set. Rows with the same reason bit are tiers: a
//  stronger signal holds more rows and adds more points. The weights are
//  set so the generator's fraud patterns (amount spikes, card testing,
//  account takeover, night bursts) reach 80 on their own or with one
//  companion signal, while any single trait of normal traffic (a trip
//  abroad, a new phone, a busy hour, a jeweller) stays well below it;
//  test_simulation_weights in tests/unit/test_scorer.c checks both.
static const rules_rule_t s_default [] = {
    //  Amount far above the account's own geometric mean, with enough
    //  history to know what usual is.
    { "amount_spike",           S_BIT_AMOUNT_SPIKE,     50,
      { GE (HISTORY, 3), GE (AMOUNT_RATIO, 4), GE (AMOUNT_Z, 2.3) } },
    { "amount_spike_extreme",   S_BIT_AMOUNT_SPIKE,     35,
      { GE (HISTORY, 3), GE (AMOUNT_RATIO, 8), GE (AMOUNT_Z, 3) } },
    //  Velocity beyond the account's own pace, counting this transaction:
    //  a busy account buying every few seconds is not a burst.
    { "velocity_minute",        S_BIT_VELOCITY_MINUTE,  25,
      { GE (TX_MINUTE, 3), GE (MINUTE_SURPRISE, 2) } },
    { "velocity_minute_high",   S_BIT_VELOCITY_MINUTE,  15,
      { GE (TX_MINUTE, 6), GE (MINUTE_SURPRISE, 4) } },
    { "velocity_hour",          S_BIT_VELOCITY_HOUR,    15,
      { GE (TX_HOUR, 4), GE (HOUR_SURPRISE, 3) } },
    { "velocity_hour_high",     S_BIT_VELOCITY_HOUR,    10,
      { GE (TX_HOUR, 10), GE (HOUR_SURPRISE, 6) } },
    //  Card testing: small online amounts in quick succession, more so
    //  from a device the account has not used.
    { "card_testing",           S_BIT_CARD_TESTING,     45,
      { GE (SMALL_ONLINE, 1), GE (SMALL_ONLINE_MINUTE, 2) } },
    { "card_testing_burst",     S_BIT_CARD_TESTING,     25,
      { GE (SMALL_ONLINE, 1), GE (SMALL_ONLINE_MINUTE, 3) } },
    { "card_testing_new_device", S_BIT_CARD_TESTING,    20,
      { GE (SMALL_ONLINE_MINUTE, 2), GE (NEW_DEVICE, 1) } },
    //  Where and from what.
    { "new_country",            S_BIT_NEW_COUNTRY,      20,
      { GE (HISTORY, 2), GE (NEW_COUNTRY, 1) } },
    { "new_device",             S_BIT_NEW_DEVICE,       15,
      { GE (HISTORY, 2), GE (NEW_DEVICE, 1) } },
    { "new_country_and_device", S_BIT_NEW_COUNTRY,      15,
      { GE (HISTORY, 2), GE (NEW_COUNTRY, 1), GE (NEW_DEVICE, 1) } },
    { "impossible_travel",      S_BIT_IMPOSSIBLE_TRAVEL, 25,
      { GE (COUNTRY_CHANGED, 1), LE (SINCE_PREV_S, 3600) } },
    { "impossible_travel_far",  S_BIT_IMPOSSIBLE_TRAVEL, 35,
      { GE (CONTINENT_CHANGED, 1), GE (NEW_COUNTRY, 1), LE (SINCE_PREV_S, 6 * 3600) } },
    { "new_device_high_amount", S_BIT_NEW_DEVICE_HIGH_AMOUNT, 35,
      { GE (HISTORY, 2), GE (NEW_DEVICE, 1), GE (AMOUNT_BASE_RATIO, 3) } },
    //  Night activity only counts with a burst (several within seconds)
    //  beyond the account's own pace: one late purchase is normal.
    { "night_activity",         S_BIT_NIGHT_ACTIVITY,   35,
      { GE (NIGHT, 1), GE (TX_BURST, 2), GE (BURST_SURPRISE, 1.5) } },
    { "night_burst",            S_BIT_NIGHT_ACTIVITY,   40,
      { GE (NIGHT, 1), GE (TX_BURST, 3), GE (BURST_SURPRISE, 2) } },
    { "night_high_amount",      S_BIT_NIGHT_ACTIVITY,   20,
      { GE (NIGHT, 1), GE (TX_BURST, 2), GE (AMOUNT_BASE_RATIO, 2) } },
    //  Merchant categories with more fraud (see s_categories): a nudge.
    { "risky_category",         S_BIT_RISKY_CATEGORY,    5, { GE (CATEGORY_RISK, 1) } },
    { "risky_category_high",    S_BIT_RISKY_CATEGORY,    5, { GE (CATEGORY_RISK, 2) } },
    { "risky_category_top",     S_BIT_RISKY_CATEGORY,    5, { GE (CATEGORY_RISK, 3) } },
    { "decline_burst",          S_BIT_DECLINE_BURST,    30, { GE (DECLINES_RECENT, 3) } },
    //  The anomaly model's hook: model_score is 0 until a model is wired in.
    { "model_anomaly",          S_BIT_MODEL_ANOMALY,    40, { GE (MODEL_SCORE, 0.6) } },
    { "model_anomaly_strong",   S_BIT_MODEL_ANOMALY,    20, { GE (MODEL_SCORE, 0.8) } },
};

//  Merchant categories: fraud risk, 1 (a little) to 3, and the usual ticket
//  size against an account's everyday spending. Amounts are compared with
//  the account's history after dividing by the factor, so a television is
//  not a spike because groceries are cheap. Unlisted: risk 0, factor 1.
static const struct {
    const char *name;
    int risk;
    double amount_factor;
} s_categories [] = {
    { "jewelry",        3, 6.0 }, { "gambling",      3, 1.5 }, { "electronics",   2, 4.0 },
    { "online_retail",  1, 1.3 }, { "transfer",      1, 6.0 }, { "travel",        0, 5.0 },
    { "atm_cash",       0, 2.0 }, { "utilities",     0, 2.5 }, { "grocery",       0, 0.6 },
    { "pharmacy",       0, 0.6 }, { "restaurants",   0, 0.8 }, { "fuel",          0, 1.2 },
    { "clothing",       0, 1.5 }, { "entertainment", 0, 0.9 },
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
    char model_version [TXW_NAME_MAX + 1];
    uint8_t continent [26][26];     //  by the two letters, 0: unknown
};

const rules_rule_t *
rules_default (size_t *count)
{
    *count = sizeof s_default / sizeof s_default [0];
    return s_default;
}

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
rules_new (const rules_rule_t *table, size_t count, const char *model_version)
{
    if (!table)
        table = rules_default (&count);
    if (count > RULES_MAX)
        return NULL;
    for (size_t r = 0; r < count; r++) {
        if (table [r].reason_bit < 0 || table [r].reason_bit >= TXW_REASON_COUNT)
            return NULL;
        for (int c = 0; c < RULES_MAX_CONDITIONS; c++) {
            const rules_condition_t *cond = &table [r].when [c];
            if (cond->op != RULES_OP_NONE
            && ((int) cond->signal < 0 || cond->signal >= RULES_SIG_COUNT
                || (cond->op != RULES_OP_GE && cond->op != RULES_OP_LE)))
                return NULL;
        }
    }
    rules_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    memcpy (self->rules, table, count * sizeof *table);
    self->count = count;
    snprintf (self->model_version, sizeof self->model_version, "%s",
              model_version? model_version: RULES_MODEL_VERSION);
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

//  The category's row, or -1.
static int
s_category (const char *category)
{
    for (size_t i = 0; i < sizeof s_categories / sizeof s_categories [0]; i++)
        if (!strcmp (category, s_categories [i].name))
            return (int) i;
    return -1;
}

//  The log amount that account statistics are kept on: log1p of the
//  amount in the reporting currency, less the log of the category factor.
static double
s_log_amount (const txw_tx_t *tx, int category)
{
    int64_t amount = tx->amount_rep_minor > 0? tx->amount_rep_minor: tx->amount_minor;
    double x = log1p (amount > 0? (double) amount: 0.0);
    return category >= 0? x - log (s_categories [category].amount_factor): x;
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
    int64_t amount = tx->amount_rep_minor > 0? tx->amount_rep_minor: tx->amount_minor;
    bool small_online = tx->channel == TXW_CHANNEL_ONLINE
                     && amount <= RULES_SMALL_AMOUNT_MINOR;
    bool declined = tx->status == TXW_STATUS_DECLINED;
    uint32_t history = acct? acct->count: 0;

    v [RULES_SIG_HISTORY] = history;
    v [RULES_SIG_SMALL_ONLINE] = small_online;
    v [RULES_SIG_NIGHT] = tx->hour >= 1 && tx->hour <= 4;
    int category = s_category (tx->category);
    v [RULES_SIG_CATEGORY_RISK] = category >= 0? s_categories [category].risk: 0;
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

    int64_t ts = tx->ts_ms;
    v [RULES_SIG_TX_MINUTE] += profiles_count_within (acct, ts, 60000, PROFILES_ALL);
    v [RULES_SIG_TX_HOUR] += profiles_count_within (acct, ts, 3600000, PROFILES_ALL);
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

    v [RULES_SIG_NEW_COUNTRY] = profiles_country_new (acct, tx->country, ts, RULES_FRESH_MS);
    v [RULES_SIG_NEW_DEVICE] = profiles_device_new (acct, tx->device_id, ts, RULES_FRESH_MS);
    uint16_t country = profiles_country_code (tx->country);
    if (country && acct->last_country && country != acct->last_country) {
        v [RULES_SIG_COUNTRY_CHANGED] = 1;
        int from = s_continent (self, acct->last_country);
        int to = s_continent (self, country);
        v [RULES_SIG_CONTINENT_CHANGED] = from && to && from != to;
    }
    int64_t since = ts - acct->last_ms;
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

uint8_t
rules_combine (const rules_t *self, const rules_signals_t *signals, uint32_t *reasons)
{
    int points = 0;
    uint32_t bits = 0;
    for (size_t r = 0; r < self->count; r++) {
        const rules_rule_t *rule = &self->rules [r];
        bool holds = true;
        for (int c = 0; c < RULES_MAX_CONDITIONS && holds; c++)
            holds = s_holds (&rule->when [c], signals->v);
        if (holds) {
            points += rule->weight;
            bits |= 1u << rule->reason_bit;
        }
    }
    *reasons = bits;
    return (uint8_t) (points < 0? 0: points > 100? 100: points);
}

int
rules_score_tx (rules_t *self, profiles_t *profiles, txw_tx_t *tx, double model_score)
{
    profiles_account_t *acct = profiles_get (profiles, tx->account_id,
                                             strnlen (tx->account_id, sizeof tx->account_id),
                                             tx->ts_ms);
    rules_signals_t signals;
    rules_signals (self, acct, tx, model_score, &signals);
    tx->score = rules_combine (self, &signals, &tx->reasons);
    tx->scored = true;
    memcpy (tx->model_version, self->model_version, sizeof tx->model_version);
    if (!acct)
        return -1;
    //  A spike is folded in clipped to the edge of the usual, so one huge
    //  purchase does not hide the next.
    double x = s_log_amount (tx, s_category (tx->category));
    if (tx->reasons & TXW_REASON_AMOUNT_SPIKE) {
        double edge = acct->log_mean + RULES_CLIP_Z * s_spread (acct);
        if (x > edge)
            x = edge;
    }
    profiles_update (acct, tx, x, signals.v [RULES_SIG_SMALL_ONLINE] > 0? PROFILES_SMALL: 0);
    return 0;
}
