/*  generator - synthetic transactions with labelled fraud and defects     */

#include "generator.h"
#include "catalogue.h"
#include "money.h"
#include "population.h"
#include "prng.h"
#include "rejects.h"
#include "tzcountry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DAY_MS        86400000LL
#define S_HOUR_MS       3600000LL
#define S_MINUTE_MS     60000LL
//  Pending legs (a min-heap by due time): at 200 records a second and 1%
//  fraud some 25,000 are pending at once. When an episode could overflow
//  it, its legs follow it at once instead (S_EPISODE_LEGS at most).
#define S_DEFERRED_MAX  65536
#define S_EPISODE_LEGS  32

//  Baskets (--products): an order has 1 to S_BASKET_MAX line items, one
//  more with chance S_BASKET_MORE each time (a mean of 2.5). A line item
//  after the first is the companion of an earlier one with chance
//  S_BASKET_COMPANION, else of the basket's main category three times in
//  four, else of its second category.
#define S_BASKET_MAX        8
#define S_BASKET_MORE       0.61
#define S_BASKET_COMPANION  0.45
#define S_BASKET_MAIN       0.75
#define S_BASKET_BUDGET     3.0     //  times the account's typical for the category

//  Chance that an ordinary transaction is of one of the account's three
//  preferred categories (else of any, by its share of spending).
#define S_PREFERRED         0.65

//  Taste (--products): a customer comes back to what it buys. Its order
//  follows up an earlier one with chance S_TASTE_FOLLOW_UP when it still
//  wants something: the order starts with the companion of the product it
//  last bought without it (the case after the phone, the ink after the
//  printer). Otherwise the order is of its favourite category with chance
//  S_TASTE_FAVOURITE, else of the category its ordinary spending drew.
#define S_TASTE_FOLLOW_UP   0.3
#define S_TASTE_FAVOURITE   0.7

//  Ordinary transfers: a third go to another account (P2P), one in a
//  hundred is large (1,000-10,000 EUR), two in five of those round.
#define S_P2P_SHARE         0.33
#define S_LARGE_TRANSFER    0.01

static const char *s_pattern_names [GEN_PATTERN_COUNT] = {
    "", "amount_spike", "card_testing", "account_takeover", "night_burst",
    "impossible_travel", "structuring", "merchant_compromise",
    "card_testing_distributed", "ato_drain", "money_mule", "bust_out"
};

//  Episode shape per pattern: relative weight among fraud episodes, and the
//  expected fraud records and total records one episode emits (impossible
//  travel emits an ordinary home transaction before the fraudulent one,
//  merchant compromise its harvest purchases, money mule the transfers
//  into the mule). The new patterns' weights give the mix documented in
//  generator.h; they were set from the records each emits, never from how
//  anything scores them.
static const struct {
    double weight;
    double fraud_records;
    double total_records;
} s_episode [GEN_PATTERN_COUNT] = {
    { 0, 0, 0 },
    { 0.40, 1.0, 1.0 },         //  amount_spike
    { 0.06, 8.5, 8.5 },         //  card_testing: 5-12
    { 0.27, 1.5, 1.5 },         //  account_takeover: 1-2
    { 0.30, 4.5, 4.5 },         //  night_burst: 3-6, night hours only
    { 0.27, 1.0, 2.0 },         //  impossible_travel
    { 0.06, 4.5, 4.5 },         //  structuring: 3-6
    { 0.06, 4.5, 13.5 },        //  merchant_compromise: 6-12 harvested, half hit
    { 0.02, 13.0, 13.0 },       //  card_testing_distributed: 6-14 accounts, 1.3 each
    { 0.10, 2.5, 2.5 },         //  ato_drain: probe + 1-2
    { 0.07, 3.0, 11.5 },        //  money_mule: 5-12 in, 2-4 out
    { 0.03, 7.5, 7.5 }          //  bust_out: 5-10
};

const int generator_invalid_codes [] = {
    TXW_REJECT_BAD_CURRENCY, TXW_REJECT_BAD_COUNTRY, TXW_REJECT_NON_POSITIVE_AMOUNT,
    TXW_REJECT_MISSING_FIELD, TXW_REJECT_BAD_TIMESTAMP, TXW_REJECT_TS_OUT_OF_RANGE,
    TXW_REJECT_BAD_AMOUNT, TXW_REJECT_BAD_CHANNEL, TXW_REJECT_BAD_STATUS
};
const int generator_invalid_count =
    (int) (sizeof generator_invalid_codes / sizeof generator_invalid_codes [0]);

//  Traffic shape: hour-of-day curves for weekdays and weekends (quiet at
//  night, busy at midday and in the evening), times a weekday factor.
static const double s_hour_weekday [24] = {
    0.25, 0.15, 0.10, 0.08, 0.08, 0.15, 0.35, 0.65, 0.95, 1.10, 1.20, 1.35,
    1.50, 1.40, 1.20, 1.15, 1.25, 1.45, 1.55, 1.45, 1.25, 0.95, 0.65, 0.40
};
static const double s_hour_weekend [24] = {
    0.40, 0.28, 0.18, 0.12, 0.08, 0.08, 0.15, 0.25, 0.45, 0.75, 1.05, 1.30,
    1.45, 1.45, 1.35, 1.30, 1.30, 1.35, 1.40, 1.40, 1.30, 1.10, 0.85, 0.60
};
static const double s_day_factor [7] = { 0.95, 0.97, 1.00, 1.02, 1.15, 1.05, 0.80 };

//  What a pending leg emits.
typedef enum {
    LEG_TRAVEL,                 //  impossible travel's far-away purchase
    LEG_STRUCTURING,            //  a transfer under the limit to P2P other
    LEG_HARVEST,                //  a purchase in person at merchant other
    LEG_COMPROMISED,            //  card-not-present fraud on a harvested card
    LEG_DRAIN,                  //  major to P2P other from device
    LEG_MULE_IN,                //  account sends major to the mule, other
    LEG_MULE_OUT                //  the mule sends major on to P2P other
} s_leg_kind_t;

typedef struct {
    int64_t due_ms;
    uint32_t account;
    uint32_t other;             //  beneficiary account or merchant index
    uint32_t device;
    float major;                //  amount, major units of the account's currency
    uint8_t kind;               //  s_leg_kind_t
} s_deferred_t;

struct _generator_t {
    generator_config_t cfg;
    prng_t rng;
    population_t *pop;
    uint64_t index;                     //  records built
    double clock_ms;                    //  simulated event clock
    //  The fraud episode being emitted, if any.
    int ep_pattern;
    int ep_left;
    uint32_t ep_account;
    uint32_t ep_device;
    uint32_t ep_other;                  //  a merchant or beneficiary index
    double ep_major;                    //  money mule's first transfer in
    uint16_t ep_country;
    int ep_accounts_left;               //  distributed card testing
    bool ep_retry;                      //  its account tries once more
    int degraded_region;                //  region index with an outage, or -1
    //  Later legs of episodes, due in event time; and, when an episode
    //  could overflow them, its legs in order, emitted right after it.
    s_deferred_t deferred [S_DEFERRED_MAX];
    int deferred_count;
    s_deferred_t inline_legs [S_EPISODE_LEGS];
    int inline_count, inline_next;
    bool ep_inline;
    //  Local time: accounts per home country, and for the UTC hour
    //  tz_hour each country's activity weight and whether it is night
    //  there (01:00-04:00), the largest weight, and the population's mix.
    uint32_t country_accounts [32];
    int64_t tz_hour;
    double tz_act [32];
    bool tz_night [32];
    double tz_act_max, tz_mix;
    //  Chance that a decision starts a fraud episode, by day and by night,
    //  and the cumulative pattern weights for each.
    double p_fraud [2];
    double pattern_cum [2] [GEN_PATTERN_COUNT];
    double category_cum [CAT_COUNT];
    double channel_cum [CAT_COUNT] [TXW_CHANNEL_COUNT];
    //  Views of the static names, so the hot path never calls strlen.
    txw_str_t category_view [CAT_COUNT];
    txw_str_t channel_view [TXW_CHANNEL_COUNT];
    txw_str_t status_view [TXW_STATUS_COUNT];
    txw_str_t country_view [32];
    txw_str_t currency_view [8];
    //  Baskets (--products): the catalogue and the order being emitted.
    //  The line items after the first copy it (one checkout: same account,
    //  merchant, device, time and payment outcome) and differ in product,
    //  quantity and amount.
    catalogue_t *catalogue;
    uint64_t orders;                    //  orders started
    int64_t ord_budget;                 //  euro cents a line item may cost
    int ord_size;
    int ord_left;                       //  line items still to emit
    uint32_t ord_items [S_BASKET_MAX];  //  catalogue indexes
    record_t ord_first;
    char order_id [48];
    //  Per account, what it still wants: 1 + the catalogue index of the
    //  product it last bought without its companion, 0 for nothing. Four
    //  bytes an account, and only with a catalogue.
    uint32_t *wants;
};

static double s_activity [7] [24];
static bool s_activity_ready = false;

static void
s_activity_init (void)
{
    if (s_activity_ready)
        return;
    double sum = 0;
    for (int d = 0; d < 7; d++)
        for (int h = 0; h < 24; h++)
            sum += s_activity [d] [h] =
                (d >= 5? s_hour_weekend [h]: s_hour_weekday [h]) * s_day_factor [d];
    for (int d = 0; d < 7; d++)
        for (int h = 0; h < 24; h++)
            s_activity [d] [h] *= 168.0 / sum;
    s_activity_ready = true;
}

//  Each home country's activity weight and night at ms (local time, by
//  tzcountry); returns the mix over the population's accounts.
static double
s_local_activity (const generator_t *self, int64_t ms, double *act, bool *night)
{
    double sum = 0, accounts = 0;
    for (int c = 0; c < population_country_count && c < 32; c++) {
        act [c] = 0;
        night [c] = false;
        if (!self->country_accounts [c])
            continue;
        const char *code = population_countries [c].code;
        int hour, weekday;
        tzcountry_hour_weekday (TZCOUNTRY_CODE (code [0], code [1]), ms, &hour, &weekday);
        act [c] = s_activity [weekday] [hour];
        night [c] = hour >= 1 && hour < 4;
        sum += self->country_accounts [c] * act [c];
        accounts += self->country_accounts [c];
    }
    return sum / accounts;
}

//  The UTC hour of ms, counted from the epoch.
static int64_t
s_utc_hour (int64_t ms)
{
    return ms >= 0? ms / S_HOUR_MS: -((-ms + S_HOUR_MS - 1) / S_HOUR_MS);
}

double
generator_activity (const generator_t *self, int64_t ms)
{
    if (self->cfg.flat)
        return 1;
    //  The hour the generator is in (live pacing asks about it for every
    //  record) is in its tables already.
    if (s_utc_hour (ms) == self->tz_hour)
        return self->tz_mix;
    double act [32];
    bool night [32];
    return s_local_activity (self, ms, act, night);
}

//  Brings the local-time tables to the UTC hour of ms. Offsets change on
//  whole hours only (tzcountry's zones), so an hour's tables hold for all
//  of it.
static void
s_local_time (generator_t *self, int64_t ms)
{
    int64_t hour = s_utc_hour (ms);
    if (self->cfg.flat || hour == self->tz_hour)
        return;
    self->tz_hour = hour;
    self->tz_mix = s_local_activity (self, hour * S_HOUR_MS, self->tz_act, self->tz_night);
    self->tz_act_max = 0;
    for (int c = 0; c < 32; c++)
        self->tz_act_max = fmax (self->tz_act_max, self->tz_act [c]);
}

const char *
generator_pattern_name (int pattern)
{
    return pattern > 0 && pattern < GEN_PATTERN_COUNT? s_pattern_names [pattern]: "";
}

bool
generator_pattern_unseen (int pattern)
{
    return pattern == GEN_MONEY_MULE || pattern == GEN_BUST_OUT;
}

uint64_t
generator_count (const generator_t *self)
{
    return self->index;
}

//  Writes prefix and n as decimal, zero-padded to width; returns the end.
static char *
s_put_number (char *out, const char *prefix, uint64_t n, int width)
{
    while (*prefix)
        *out++ = *prefix++;
    char digits [24];
    int len = 0;
    do {
        digits [len++] = (char) ('0' + n % 10);
        n /= 10;
    } while (n);
    for (; width > len; width--)
        *out++ = '0';
    while (len)
        *out++ = digits [--len];
    *out = 0;
    return out;
}

static void
s_setup_rates (generator_t *self)
{
    double f = self->cfg.fraud_rate;
    for (int night = 0; night < 2; night++) {
        double weight = 0, fraud = 0, total = 0;
        for (int p = 1; p < GEN_PATTERN_COUNT; p++) {
            double w = (p == GEN_NIGHT_BURST && !night)? 0: s_episode [p].weight;
            weight += w;
            fraud += w * s_episode [p].fraud_records;
            total += w * s_episode [p].total_records;
            self->pattern_cum [night] [p] = weight;
        }
        fraud /= weight;
        total /= weight;
        //  Fraud share of records is q F / (1 + q (T - 1)); solve for q.
        double q = f > 0? f / (fraud - f * (total - 1)): 0;
        self->p_fraud [night] = q < 1? q: 1;
    }
}

generator_t *
generator_new (const generator_config_t *config)
{
    s_activity_init ();
    generator_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *config;
    if (self->cfg.event_rate <= 0)
        self->cfg.event_rate = 200;
    prng_seed (&self->rng, config->seed);
    self->pop = population_new (&self->rng, config->accounts, config->merchants,
                                config->branches, config->regions);
    if (!self->pop) {
        free (self);
        return NULL;
    }
    if (config->products) {
        self->catalogue = catalogue_new (config->seed, config->products);
        self->wants = calloc (self->pop->account_count, sizeof *self->wants);
        if (!self->catalogue || !self->wants) {
            generator_destroy (&self);
            return NULL;
        }
    }
    self->clock_ms = (double) config->start_ms;
    s_setup_rates (self);
    for (uint32_t a = 0; a < self->pop->account_count; a++)
        self->country_accounts [self->pop->accounts [a].country]++;
    self->tz_hour = INT64_MIN;
    self->degraded_region = -1;
    for (uint32_t r = 0; r < config->regions && config->degraded_region; r++)
        if (strcmp (self->pop->regions [r].name, config->degraded_region) == 0)
            self->degraded_region = (int) r;

    double total = 0;
    for (int c = 0; c < CAT_COUNT; c++) {
        self->category_cum [c] = total += population_categories [c].weight;
        self->category_view [c] = record_view (population_categories [c].name);
        double ch = 0;
        for (int k = 0; k < TXW_CHANNEL_COUNT; k++)
            self->channel_cum [c] [k] = ch += population_categories [c].channel_weight [k];
    }
    for (int k = 0; k < TXW_CHANNEL_COUNT; k++)
        self->channel_view [k] = record_view (txw_channel_name (k));
    for (int k = 0; k < TXW_STATUS_COUNT; k++)
        self->status_view [k] = record_view (txw_status_name (k));
    for (int k = 0; k < population_country_count && k < 32; k++)
        self->country_view [k] = record_view (population_countries [k].code);
    for (int k = 0; k < 7; k++)
        self->currency_view [k] = record_view (population_currencies [k].code);
    return self;
}

void
generator_destroy (generator_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    generator_t *self = *self_p;
    population_destroy (&self->pop);
    catalogue_destroy (&self->catalogue);
    free (self->wants);
    free (self);
    *self_p = NULL;
}

static int
s_status (generator_t *self, double declined, double failed)
{
    double u = prng_uniform (&self->rng);
    return u < declined? TXW_STATUS_DECLINED:
           u < declined + failed? TXW_STATUS_FAILED: TXW_STATUS_APPROVED;
}

//  Sets amount from major units of the account's currency; at least one
//  minor unit.
static void
s_set_amount (record_t *rec, const population_account_t *account, double major)
{
    int exponent = population_currencies [account->currency].exponent;
    double scale = exponent == 0? 1: exponent == 2? 100: pow (10, exponent);
    int64_t minor = llround (major * scale);
    if (minor < 1)
        minor = 1;
    if (minor > 100000000000LL)
        minor = 100000000000LL;
    size_t len = txw_format_amount (rec->amount, sizeof rec->amount, minor, exponent);
    rec->raw.amount = (txw_str_t) { rec->amount, (uint32_t) len };
}

//  Sets the device and its type. The type follows from the channel and the
//  device's number, so it costs no draw from the random stream: in person,
//  the terminal or the cash machine; otherwise the customer's own device,
//  whose number fixes what it is.
static void
s_set_device (record_t *rec, const char *prefix, uint32_t number, int channel)
{
    static const char *const own [] = { "ios", "android", "web" };
    char *end = s_put_number (rec->device_id, prefix, number, 7);
    rec->raw.device_id = (txw_str_t) { rec->device_id, (uint32_t) (end - rec->device_id) };
    const char *type = channel == TXW_CHANNEL_POS? "pos_terminal":
                       channel == TXW_CHANNEL_ATM? "atm":
                       channel == TXW_CHANNEL_MOBILE? own [number % 2]: own [number % 3];
    rec->raw.device_type = record_view (type);
}

//  Fills every field of an ordinary-looking transaction of account in
//  category at event time ts_ms. channel 0 draws one from the category.
static void
s_fill (generator_t *self, record_t *rec, uint32_t account_index, int category,
        int channel, double major, int64_t ts_ms)
{
    const population_t *pop = self->pop;
    const population_account_t *account = &pop->accounts [account_index];
    const population_merchant_t *merchant =
        population_merchant_of (pop, &self->rng, category);
    if (channel == 0)
        channel = (int) prng_pick (&self->rng, self->channel_cum [category], TXW_CHANNEL_COUNT);

    rec->ts_ms = ts_ms;
    size_t len = rfc3339_format (rec->ts, sizeof rec->ts, ts_ms);
    rec->raw.ts = (txw_str_t) { rec->ts, (uint32_t) len };
    rec->raw.account_id = record_view (account->id);
    s_set_amount (rec, account, major);
    rec->raw.currency = self->currency_view [account->currency];
    rec->raw.merchant_id = record_view (merchant->id);
    rec->raw.category = self->category_view [category];
    rec->raw.channel = self->channel_view [channel];
    rec->raw.branch_id = record_view (pop->branches [account->branch].id);
    rec->raw.region = record_view (pop->regions [account->region].name);
    rec->raw.country = self->country_view [account->country];
    uint32_t device = account->devices [account->device_count > 1
                                        ? prng_below (&self->rng, account->device_count): 0];
    s_set_device (rec, "D", device, channel);
    rec->raw.product_id = (txw_str_t) { rec->product_id, 0 };
    rec->product_id [0] = 0;
    rec->raw.order_id = (txw_str_t) { NULL, 0 };
    if ((category == CAT_ONLINE_RETAIL || category == CAT_ELECTRONICS
    ||   category == CAT_CLOTHING) && prng_uniform (&self->rng) < 0.8) {
        if (self->catalogue) {
            //  With a catalogue every product named is one of it.
            if (catalogue_sells (self->catalogue, category)) {
                uint32_t p = catalogue_pick (self->catalogue, &self->rng, category);
                rec->raw.product_id = record_view (catalogue_product (self->catalogue, p)->id);
            }
        }
        else {
            char *end = s_put_number (rec->product_id, "P", prng_below (&self->rng, 20000), 5);
            rec->raw.product_id = (txw_str_t) { rec->product_id,
                                                (uint32_t) (end - rec->product_id) };
        }
    }
    if ((int) account->region == self->degraded_region)
        rec->raw.status = self->status_view [s_status (self, self->cfg.degraded_share * 0.7,
                                                       self->cfg.degraded_share * 0.3)];
    else
        rec->raw.status = self->status_view [s_status (self, 0.038, 0.012)];
}

//  Names another account as the beneficiary of a transfer: a P2P
//  payment, "P2P-A000123".
static void
s_set_p2p (generator_t *self, record_t *rec, uint32_t beneficiary)
{
    int len = snprintf (rec->merchant_id, sizeof rec->merchant_id, "P2P-%s",
                        self->pop->accounts [beneficiary].id);
    rec->raw.merchant_id = (txw_str_t) { rec->merchant_id, (uint32_t) len };
}

//  An ordinary transaction: a preferred category most of the time, an
//  amount around the account's typical (for a transfer, now and then a
//  large one, and a third of them to another account), now and then
//  abroad. Returns its category.
static int
s_normal (generator_t *self, record_t *rec, uint32_t account_index, int64_t ts_ms)
{
    const population_account_t *account = &self->pop->accounts [account_index];
    int category = prng_uniform (&self->rng) < S_PREFERRED
                 ? account->categories [prng_below (&self->rng, 3)]
                 : (int) prng_pick (&self->rng, self->category_cum, CAT_COUNT);
    double major = account->typical * population_categories [category].amount_factor
                 * exp (0.6 * prng_normal (&self->rng));
    if (category == CAT_ATM_CASH) {
        double scale = population_currencies [account->currency].scale;
        double step = scale < 2? 10: scale < 20? 100: 1000;
        major = fmax (1, round (major / step)) * step;
    }
    double scale = population_currencies [account->currency].scale;
    bool large = category == CAT_TRANSFER && prng_uniform (&self->rng) < S_LARGE_TRANSFER;
    if (large) {
        //  Rent, a car, savings: some round, some just under a limit, as
        //  structuring's are.
        major = prng_between (&self->rng, 1000, 10000);
        if (prng_uniform (&self->rng) < 0.4)
            major = round (major / 500) * 500;
        major *= scale;
    }
    s_fill (self, rec, account_index, category, 0, major, ts_ms);
    if (category == CAT_TRANSFER && prng_uniform (&self->rng) < S_P2P_SHARE)
        s_set_p2p (self, rec, prng_below (&self->rng, self->pop->account_count));
    if (prng_uniform (&self->rng) < 0.015) {
        //  Legitimate travel within Europe.
        int country = (int) prng_below (&self->rng, 13);
        rec->raw.country = self->country_view [country];
    }
    return category;
}

//  --- Baskets ---------------------------------------------------------------

//  Sets line item n of the open order into rec: its product, a quantity of
//  one to three (one where more would exceed the budget) and the amount,
//  the price times the quantity (the catalogue's currency).
static void
s_line_item (generator_t *self, record_t *rec, int n)
{
    const catalogue_product_t *product = catalogue_product (self->catalogue,
                                                            self->ord_items [n]);
    double u = prng_uniform (&self->rng);
    int quantity = u < 0.80? 1: u < 0.95? 2: 3;
    if (product->price_minor * quantity > self->ord_budget)
        quantity = 1;
    rec->raw.product_id = record_view (product->id);
    size_t len = txw_format_amount (rec->amount, sizeof rec->amount,
                                    product->price_minor * quantity, 2);
    rec->raw.amount = (txw_str_t) { rec->amount, (uint32_t) len };
    rec->raw.currency = record_view (CATALOGUE_CURRENCY);
    rec->raw.order_id = record_view (self->order_id);
    self->ord_left = self->ord_size - n - 1;
}

static bool
s_in_basket (const generator_t *self, int n, uint32_t product)
{
    for (int i = 0; i < n; i++)
        if (self->ord_items [i] == product)
            return true;
    return false;
}

//  A product of category by popularity, within the order's budget if one
//  of a few draws is: people mostly buy what they usually spend on.
static uint32_t
s_affordable (generator_t *self, int category)
{
    uint32_t product = catalogue_pick (self->catalogue, &self->rng, category);
    for (int draws = 1; draws < 3
    &&   catalogue_product (self->catalogue, product)->price_minor > self->ord_budget; draws++)
        product = catalogue_pick (self->catalogue, &self->rng, category);
    return product;
}

//  The account's favourite category, one the catalogue sells: drawn once,
//  from the account's number and the seed (not from the stream), as likely
//  as its ordinary spending makes an online order of it. Favourites so
//  follow the account's preferences, and do not change the mix of
//  categories over all orders.
static int
s_favourite (const generator_t *self, uint32_t account_index)
{
    static const int shops [] = { CAT_ONLINE_RETAIL, CAT_CLOTHING, CAT_ELECTRONICS };
    const population_account_t *account = &self->pop->accounts [account_index];
    double cum [3], total = 0;
    for (int k = 0; k < 3; k++) {
        int c = shops [k];
        double drawn = (1 - S_PREFERRED) * population_categories [c].weight
                     / self->category_cum [CAT_COUNT - 1];
        for (int i = 0; i < 3; i++)
            drawn += account->categories [i] == c? S_PREFERRED / 3: 0;
        if (catalogue_sells (self->catalogue, c))
            total += drawn * (1 - population_categories [c].channel_weight [TXW_CHANNEL_POS]);
        cum [k] = total;
    }
    //  splitmix64's finaliser of the seed and the account: a uniform draw.
    uint64_t h = self->cfg.seed + 0x9e3779b97f4a7c15ULL * (account_index + 1ULL);
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    double u = (double) (h >> 11) * 0x1.0p-53 * total;
    int k = 0;
    while (k < 2 && cum [k] <= u)
        k++;
    return shops [k];
}

//  Turns rec, an ordinary purchase of account in category (one the
//  catalogue sells), into the first line item of a new order, and draws
//  the order's products. The account's taste may first change the order's
//  category (and so its merchant): to the one of a product it wants (which
//  the order then starts with), or to its favourite. The products are
//  mostly of category and of one second category, the account's own where
//  it prefers another one the catalogue sells, and often an earlier item's
//  companion, so some pairs are bought together far more often than their
//  popularity alone would make them. A line item is drawn again when it
//  costs well above what the account usually spends in the category (a
//  companion is taken as it is).
static void
s_basket_start (generator_t *self, record_t *rec, uint32_t account_index, int category)
{
    prng_t *rng = &self->rng;
    const population_account_t *account = &self->pop->accounts [account_index];
    uint32_t *wants = &self->wants [account_index];
    //  A declined or failed payment buys nothing: it neither meets nor
    //  makes a want.
    bool bought = rec->raw.status.ptr == self->status_view [TXW_STATUS_APPROVED].ptr;
    bool follow_up = *wants && prng_uniform (rng) < S_TASTE_FOLLOW_UP;
    uint32_t wanted = follow_up? catalogue_product (self->catalogue, *wants - 1)->companion: 0;
    int taste = follow_up? catalogue_product (self->catalogue, wanted)->category:
                prng_uniform (rng) < S_TASTE_FAVOURITE? s_favourite (self, account_index):
                category;
    if (taste != category) {
        category = taste;
        const population_merchant_t *merchant = population_merchant_of (self->pop, rng, category);
        rec->raw.merchant_id = record_view (merchant->id);
        rec->raw.category = self->category_view [category];
    }
    int second = category;
    for (int i = 0; i < 3 && second == category; i++)
        if (account->categories [i] != category
        &&  catalogue_sells (self->catalogue, account->categories [i]))
            second = account->categories [i];
    if (second == category) {
        static const int shops [] = { CAT_ONLINE_RETAIL, CAT_CLOTHING, CAT_ELECTRONICS };
        int other = shops [prng_below (rng, 3)];
        if (catalogue_sells (self->catalogue, other))
            second = other;
    }
    double euros = account->typical / population_currencies [account->currency].scale;
    self->ord_budget = (int64_t) (100 * S_BASKET_BUDGET * euros
                                  * population_categories [category].amount_factor);
    int size = 1;
    while (size < S_BASKET_MAX && prng_uniform (rng) < S_BASKET_MORE)
        size++;
    self->ord_items [0] = follow_up? wanted: s_affordable (self, category);
    int n = 1;
    for (; n < size; n++) {
        //  A product already in the basket is drawn again, up to four
        //  draws; then the basket is complete (a tiny catalogue runs out).
        uint32_t product;
        int draws = 0;
        do {
            if (prng_uniform (rng) < S_BASKET_COMPANION) {
                uint32_t earlier = self->ord_items [prng_below (rng, (uint32_t) n)];
                product = catalogue_product (self->catalogue, earlier)->companion;
            }
            else
                product = s_affordable (self, prng_uniform (rng) < S_BASKET_MAIN? category: second);
        } while (s_in_basket (self, n, product) && ++draws < 4);
        if (s_in_basket (self, n, product))
            break;
        self->ord_items [n] = product;
    }
    self->ord_size = n;
    //  The new want: the first product of the order bought without its
    //  companion. An order with none keeps the older want, unless it met it.
    if (bought) {
        if (follow_up)
            *wants = 0;
        for (int i = 0; i < n; i++) {
            uint32_t item = self->ord_items [i];
            uint32_t companion = catalogue_product (self->catalogue, item)->companion;
            if (companion != item && !s_in_basket (self, n, companion)) {
                *wants = item + 1;
                break;
            }
        }
    }
    self->orders++;
    char *p = s_put_number (self->order_id, "O", self->cfg.seed, 1);
    *p++ = '-';
    s_put_number (p, "", self->orders, 1);
    s_line_item (self, rec, 0);
    self->ord_first = *rec;
}

//  The next line item of the open order: the first one's fields, another
//  product.
static void
s_basket_next (generator_t *self, record_t *rec)
{
    const record_t *first = &self->ord_first;
    *rec = *first;
    //  Views of the first item's own text point into its copy here.
    rec->raw.ts = (txw_str_t) { rec->ts, first->raw.ts.len };
    rec->raw.device_id = (txw_str_t) { rec->device_id, first->raw.device_id.len };
    s_line_item (self, rec, self->ord_size - self->ord_left);
}

//  Accounts are not equally active: a skewed pick.
static uint32_t
s_pick_account (generator_t *self)
{
    double u = prng_uniform (&self->rng);
    uint32_t n = self->pop->account_count;
    uint32_t a = (uint32_t) (n * u * sqrt (u));
    return a < n? a: n - 1;
}

//  The skewed pick, thinned by each account's activity at its local time
//  (the tables of s_local_time): an account is as active at 12:00 in Tokyo
//  as one in Berlin at 12:00 in Berlin. A flat shape takes every pick.
static uint32_t
s_pick_local (generator_t *self)
{
    for (;;) {
        uint32_t a = s_pick_account (self);
        if (self->cfg.flat
        ||  prng_uniform (&self->rng) * self->tz_act_max
            < self->tz_act [self->pop->accounts [a].country])
            return a;
    }
}

static int
s_far_country (generator_t *self, int home)
{
    int continent = population_countries [home].continent;
    for (;;) {
        int c = (int) prng_below (&self->rng, (uint32_t) population_country_count);
        if (population_countries [c].continent != continent)
            return c;
    }
}

static int
s_other_country (generator_t *self, int home)
{
    for (;;) {
        int c = (int) prng_below (&self->rng, (uint32_t) population_country_count);
        if (c != home)
            return c;
    }
}

static void
s_label_fraud (record_t *rec, int pattern)
{
    rec->is_fraud = true;
    rec->pattern = pattern;
    rec->pattern_name = s_pattern_names [pattern];
}

//  The deferred legs are a binary min-heap on due_ms, so checking the
//  earliest is one comparison per record however many are pending.
static void
s_defer (generator_t *self, s_deferred_t leg)
{
    int i = self->deferred_count++;
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (self->deferred [parent].due_ms <= leg.due_ms)
            break;
        self->deferred [i] = self->deferred [parent];
        i = parent;
    }
    self->deferred [i] = leg;
}

static s_deferred_t
s_defer_pop (generator_t *self)
{
    s_deferred_t top = self->deferred [0];
    s_deferred_t last = self->deferred [--self->deferred_count];
    int n = self->deferred_count, i = 0;
    for (;;) {
        int child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && self->deferred [child + 1].due_ms < self->deferred [child].due_ms)
            child++;
        if (last.due_ms <= self->deferred [child].due_ms)
            break;
        self->deferred [i] = self->deferred [child];
        i = child;
    }
    if (n > 0)
        self->deferred [i] = last;
    return top;
}

//  Schedules a later leg of the open episode: into the heap, or, when the
//  episode started without room for all its legs, right after it (still
//  the pattern, just sooner).
static void
s_leg (generator_t *self, int kind, int64_t due_ms, uint32_t account, uint32_t other,
       uint32_t device, double major)
{
    s_deferred_t leg = { due_ms, account, other, device, (float) major, (uint8_t) kind };
    if (!self->ep_inline && self->deferred_count < S_DEFERRED_MAX)
        s_defer (self, leg);
    else
    if (self->inline_count < S_EPISODE_LEGS)
        self->inline_legs [self->inline_count++] = leg;
}

static uint32_t
s_new_device (generator_t *self)
{
    return 1000000 + prng_below (&self->rng, 9000000);
}

//  A P2P beneficiary other than account.
static uint32_t
s_beneficiary (generator_t *self, uint32_t account)
{
    uint32_t n = self->pop->account_count;
    uint32_t b = prng_below (&self->rng, n);
    return b == account && n > 1? (b + 1) % n: b;
}

//  Starts a fraud episode of account: what stays fixed, and its later legs.
static void
s_episode_start (generator_t *self, int pattern, uint32_t a, int64_t ts_ms)
{
    prng_t *rng = &self->rng;
    self->ep_pattern = pattern;
    self->ep_account = a;
    const population_account_t *account = &self->pop->accounts [a];
    double scale = population_currencies [account->currency].scale;
    self->ep_device = s_new_device (self);
    self->ep_country = (uint16_t) (prng_uniform (rng) < 0.5
                       ? s_far_country (self, account->country)
                       : s_other_country (self, account->country));
    self->ep_inline = self->deferred_count + S_EPISODE_LEGS > S_DEFERRED_MAX;
    self->ep_left = 1;
    switch (pattern) {
        case GEN_CARD_TESTING:      self->ep_left = prng_range (rng, 5, 12); break;
        case GEN_ACCOUNT_TAKEOVER:  self->ep_left = prng_range (rng, 1, 2); break;
        case GEN_NIGHT_BURST:       self->ep_left = prng_range (rng, 3, 6); break;
        case GEN_BUST_OUT:          self->ep_left = prng_range (rng, 5, 10); break;
        case GEN_IMPOSSIBLE_TRAVEL:
            //  Minutes later in event time, far away.
            s_leg (self, LEG_TRAVEL, ts_ms + prng_range (rng, 60000, 5 * 60000), a, 0, 0, 0);
            break;
        case GEN_STRUCTURING: {
            //  The first transfer now (the episode's record), the others
            //  spread over a day and a half, to one or two beneficiaries.
            uint32_t to [2] = { s_beneficiary (self, a), s_beneficiary (self, a) };
            int more = prng_range (rng, 2, 5), two = prng_uniform (rng) < 0.5;
            self->ep_other = to [0];
            for (int i = 0; i < more; i++)
                s_leg (self, LEG_STRUCTURING,
                       ts_ms + prng_range (rng, 20, 36 * 60) * S_MINUTE_MS,
                       a, to [two && prng_uniform (rng) < 0.5], 0, 0);
            break;
        }
        case GEN_MERCHANT_COMPROMISE: {
            //  The account buys at the compromised merchant now; the other
            //  harvested accounts within the window.
            static const int cats [] = { CAT_GROCERY, CAT_FUEL, CAT_RESTAURANTS };
            int category = cats [prng_below (rng, 3)];
            const population_merchant_t *m = population_merchant_of (self->pop, rng, category);
            self->ep_other = (uint32_t) (m - self->pop->merchants);
            int64_t window = prng_range (rng, 120, 480) * S_MINUTE_MS;
            int harvested = prng_range (rng, 6, 12);
            for (int i = 1; i < harvested; i++)
                s_leg (self, LEG_HARVEST, ts_ms + (int64_t) (prng_uniform (rng) * (double) window),
                       s_pick_local (self), self->ep_other, 0, 0);
            break;
        }
        case GEN_CARD_TESTING_DISTRIBUTED: {
            const population_merchant_t *m =
                population_merchant_of (self->pop, rng, CAT_ONLINE_RETAIL);
            self->ep_other = (uint32_t) (m - self->pop->merchants);
            self->ep_accounts_left = prng_range (rng, 6, 14);
            self->ep_retry = false;
            self->ep_left = self->ep_accounts_left;
            break;
        }
        case GEN_ATO_DRAIN: {
            //  The probe now; the drain of most of a balance, in one or
            //  two transfers, to one new beneficiary from the probe's device.
            double balance = account->typical * prng_between (rng, 25, 60);
            double drained = balance * prng_between (rng, 0.80, 0.95);
            int legs = prng_range (rng, 1, 2);
            uint32_t to = s_beneficiary (self, a);
            int64_t due = ts_ms + prng_range (rng, 5, 360) * S_MINUTE_MS;
            for (int i = 0; i < legs; i++) {
                s_leg (self, LEG_DRAIN, due, a, to, self->ep_device, drained / legs);
                due += prng_range (rng, 1, 30) * S_MINUTE_MS;
            }
            break;
        }
        case GEN_MONEY_MULE: {
            //  Held out (UNSEEN): only ever reported. The account is the
            //  mule. The first transfer in is the episode's record; the
            //  others over four hours, then the transfers out.
            int in = prng_range (rng, 5, 12), out = prng_range (rng, 2, 4);
            double euros = 0;
            self->ep_other = s_beneficiary (self, a);     //  the first sender
            for (int i = 0; i < in; i++) {
                double e = prng_between (rng, 150, 900);
                euros += e;
                uint32_t sender = i == 0? self->ep_other: s_beneficiary (self, a);
                double major = e * population_currencies [
                                   self->pop->accounts [sender].currency].scale;
                if (i == 0)
                    self->ep_major = major;
                else
                    s_leg (self, LEG_MULE_IN,
                           ts_ms + (int64_t) (prng_uniform (rng) * 4 * S_HOUR_MS),
                           sender, a, 0, major);
            }
            double each = euros * scale * prng_between (rng, 0.80, 0.95) / out;
            int64_t due = ts_ms + 4 * S_HOUR_MS + prng_range (rng, 10, 180) * S_MINUTE_MS;
            for (int i = 0; i < out; i++) {
                s_leg (self, LEG_MULE_OUT, due, a, s_beneficiary (self, a), 0,
                       each * prng_between (rng, 0.9, 1.1));
                due += prng_range (rng, 2, 40) * S_MINUTE_MS;
            }
            break;
        }
        default:
            break;
    }
}

//  A bank transfer of major from account a to P2P beneficiary to, from
//  device "DX<device>" (0: one of the account's own).
static void
s_transfer (generator_t *self, record_t *rec, uint32_t a, uint32_t to, double major,
            uint32_t device, int64_t ts_ms)
{
    s_fill (self, rec, a, CAT_TRANSFER, TXW_CHANNEL_TRANSFER, major, ts_ms);
    s_set_p2p (self, rec, to);
    if (device)
        s_set_device (rec, "DX", device, TXW_CHANNEL_TRANSFER);
}

//  A structuring transfer: just under the limit, in tens of EUR.
static void
s_structuring (generator_t *self, record_t *rec, uint32_t a, uint32_t to, int64_t ts_ms)
{
    const population_account_t *account = &self->pop->accounts [a];
    double euros = round (prng_between (&self->rng, 0.90, 0.999)
                          * GENERATOR_STRUCTURING_LIMIT / 10) * 10;
    s_transfer (self, rec, a, to, euros * population_currencies [account->currency].scale,
                0, ts_ms);
    rec->raw.status = self->status_view [TXW_STATUS_APPROVED];
    s_label_fraud (rec, GEN_STRUCTURING);
}

//  A purchase in person at merchant m, of its category, at an ordinary
//  amount: harvest at a compromised merchant (not itself fraud).
static void
s_harvest (generator_t *self, record_t *rec, uint32_t a, uint32_t m, int64_t ts_ms)
{
    const population_account_t *account = &self->pop->accounts [a];
    const population_merchant_t *merchant = &self->pop->merchants [m];
    s_fill (self, rec, a, merchant->category, TXW_CHANNEL_POS,
            account->typical * population_categories [merchant->category].amount_factor
            * exp (0.6 * prng_normal (&self->rng)), ts_ms);
    rec->raw.merchant_id = record_view (merchant->id);
    //  Half the harvested cards are used later, elsewhere.
    if (prng_uniform (&self->rng) < 0.5)
        s_leg (self, LEG_COMPROMISED, ts_ms + prng_range (&self->rng, 60, 24 * 60) * S_MINUTE_MS,
               a, 0, s_new_device (self), 0);
}

//  One record of distributed card testing: a tiny online purchase at the
//  episode's shop, by a new account or the last one trying again.
static void
s_distributed_test (generator_t *self, record_t *rec, int64_t ts_ms)
{
    prng_t *rng = &self->rng;
    if (self->ep_retry)
        self->ep_retry = false;
    else {
        self->ep_account = s_pick_account (self);
        self->ep_accounts_left--;
        self->ep_retry = prng_uniform (rng) < 0.3;
    }
    self->ep_left = self->ep_accounts_left + self->ep_retry;
    const population_account_t *account = &self->pop->accounts [self->ep_account];
    s_fill (self, rec, self->ep_account, CAT_ONLINE_RETAIL, TXW_CHANNEL_ONLINE,
            prng_between (rng, 0.50, 2.00) * population_currencies [account->currency].scale,
            ts_ms);
    rec->raw.merchant_id = record_view (self->pop->merchants [self->ep_other].id);
    s_set_device (rec, "DX", self->ep_device + prng_below (rng, 3), TXW_CHANNEL_ONLINE);
    rec->raw.status = self->status_view [s_status (self, 0.35, 0.05)];
    s_label_fraud (rec, GEN_CARD_TESTING_DISTRIBUTED);
}

//  The next record of the open episode.
static void
s_episode_next (generator_t *self, record_t *rec, int64_t ts_ms)
{
    prng_t *rng = &self->rng;
    uint32_t a = self->ep_account;
    const population_account_t *account = &self->pop->accounts [a];
    double scale = population_currencies [account->currency].scale;
    int pattern = self->ep_pattern;
    self->ep_left--;
    switch (pattern) {
        case GEN_AMOUNT_SPIKE: {
            static const int cats [] = { CAT_ELECTRONICS, CAT_JEWELRY, CAT_TRAVEL };
            int category = prng_uniform (rng) < 0.5? account->categories [0]
                                                   : cats [prng_below (rng, 3)];
            s_fill (self, rec, a, category, 0,
                    account->typical * prng_between (rng, 10, 50), ts_ms);
            rec->raw.status = self->status_view [s_status (self, 0.10, 0.01)];
            break;
        }
        case GEN_CARD_TESTING:
            s_fill (self, rec, a, CAT_ONLINE_RETAIL, TXW_CHANNEL_ONLINE,
                    prng_between (rng, 0.50, 2.00) * scale, ts_ms);
            s_set_device (rec, "DX", self->ep_device, TXW_CHANNEL_ONLINE);
            rec->raw.status = self->status_view [s_status (self, 0.35, 0.05)];
            break;
        case GEN_ACCOUNT_TAKEOVER: {
            static const int cats [] = { CAT_ELECTRONICS, CAT_JEWELRY, CAT_TRANSFER,
                                         CAT_ONLINE_RETAIL, CAT_TRAVEL, CAT_GAMBLING };
            int category = cats [prng_below (rng, 6)];
            int channel = category == CAT_TRANSFER? TXW_CHANNEL_TRANSFER:
                          prng_uniform (rng) < 0.6? TXW_CHANNEL_ONLINE: TXW_CHANNEL_MOBILE;
            s_fill (self, rec, a, category, channel,
                    account->typical * prng_between (rng, 5, 20), ts_ms);
            s_set_device (rec, "DX", self->ep_device, channel);
            rec->raw.country = self->country_view [self->ep_country];
            rec->raw.status = self->status_view [s_status (self, 0.15, 0.02)];
            break;
        }
        case GEN_NIGHT_BURST: {
            static const int cats [] = { CAT_ATM_CASH, CAT_ELECTRONICS, CAT_JEWELRY,
                                         CAT_GAMBLING, CAT_ONLINE_RETAIL };
            int category = cats [prng_below (rng, 5)];
            double major = account->typical * prng_between (rng, 2, 6);
            if (category == CAT_ATM_CASH)
                major = fmax (1, round (major / (10 * scale))) * 10 * scale;
            s_fill (self, rec, a, category, 0, major, ts_ms);
            break;
        }
        case GEN_IMPOSSIBLE_TRAVEL:
            //  The first leg: an ordinary purchase at home, in person.
            s_fill (self, rec, a, CAT_GROCERY, TXW_CHANNEL_POS,
                    account->typical * exp (0.5 * prng_normal (rng)), ts_ms);
            return;             //  not itself fraud
        case GEN_STRUCTURING:
            s_structuring (self, rec, a, self->ep_other, ts_ms);
            return;
        case GEN_MERCHANT_COMPROMISE:
            s_harvest (self, rec, a, self->ep_other, ts_ms);
            return;             //  not itself fraud
        case GEN_CARD_TESTING_DISTRIBUTED:
            s_distributed_test (self, rec, ts_ms);
            return;
        case GEN_ATO_DRAIN:
            //  The probe: small, online, from the new device.
            s_fill (self, rec, a, CAT_ONLINE_RETAIL,
                    prng_uniform (rng) < 0.6? TXW_CHANNEL_ONLINE: TXW_CHANNEL_MOBILE,
                    prng_between (rng, 1, 5) * scale, ts_ms);
            s_set_device (rec, "DX", self->ep_device, TXW_CHANNEL_ONLINE);
            break;
        case GEN_MONEY_MULE:
            //  The first transfer into the mule: the sender's, ordinary.
            s_transfer (self, rec, self->ep_other, a, self->ep_major, 0, ts_ms);
            return;
        case GEN_BUST_OUT: {
            //  Held out (UNSEEN): only ever reported.
            static const int cats [] = { CAT_ELECTRONICS, CAT_JEWELRY, CAT_ONLINE_RETAIL,
                                         CAT_ATM_CASH, CAT_TRAVEL };
            int category = cats [prng_below (rng, 5)];
            double major = account->typical * population_categories [category].amount_factor
                         * prng_between (rng, 1.8, 3.5);
            if (category == CAT_ATM_CASH) {
                double step = scale < 2? 10: scale < 20? 100: 1000;
                major = fmax (1, round (major / step)) * step;
            }
            s_fill (self, rec, a, category, 0, major, ts_ms);
            break;
        }
    }
    s_label_fraud (rec, pattern);
}

//  Emits a later leg of an episode.
static void
s_emit_leg (generator_t *self, record_t *rec, s_deferred_t leg, int64_t ts_ms)
{
    prng_t *rng = &self->rng;
    uint32_t a = leg.account;
    const population_account_t *account = &self->pop->accounts [a];
    switch (leg.kind) {
        case LEG_TRAVEL: {
            //  A card-present purchase far away.
            static const int cats [] = { CAT_ELECTRONICS, CAT_JEWELRY, CAT_RESTAURANTS,
                                         CAT_FUEL, CAT_CLOTHING };
            int category = cats [prng_below (rng, 5)];
            s_fill (self, rec, a, category, TXW_CHANNEL_POS,
                    account->typical * prng_between (rng, 1, 4), ts_ms);
            rec->raw.country = self->country_view [s_far_country (self, account->country)];
            s_label_fraud (rec, GEN_IMPOSSIBLE_TRAVEL);
            break;
        }
        case LEG_STRUCTURING:
            s_structuring (self, rec, a, leg.other, ts_ms);
            break;
        case LEG_HARVEST:
            s_harvest (self, rec, a, leg.other, ts_ms);
            break;
        case LEG_COMPROMISED: {
            //  Card not present, elsewhere, from the fraudster's device.
            static const int cats [] = { CAT_ELECTRONICS, CAT_ONLINE_RETAIL, CAT_TRAVEL,
                                         CAT_JEWELRY, CAT_GAMBLING };
            int category = cats [prng_below (rng, 5)];
            int channel = prng_uniform (rng) < 0.7? TXW_CHANNEL_ONLINE: TXW_CHANNEL_MOBILE;
            s_fill (self, rec, a, category, channel,
                    account->typical * prng_between (rng, 3, 15), ts_ms);
            s_set_device (rec, "DX", leg.device, channel);
            rec->raw.status = self->status_view [s_status (self, 0.15, 0.02)];
            s_label_fraud (rec, GEN_MERCHANT_COMPROMISE);
            break;
        }
        case LEG_DRAIN:
            s_transfer (self, rec, a, leg.other, leg.major, leg.device, ts_ms);
            s_label_fraud (rec, GEN_ATO_DRAIN);
            break;
        case LEG_MULE_IN:
            s_transfer (self, rec, a, leg.other, leg.major, 0, ts_ms);
            break;
        case LEG_MULE_OUT:
            s_transfer (self, rec, a, leg.other, leg.major, 0, ts_ms);
            rec->raw.status = self->status_view [TXW_STATUS_APPROVED];
            s_label_fraud (rec, GEN_MONEY_MULE);
            break;
    }
}

//  Breaks a valid record in one way, the one the label names.
static void
s_break (generator_t *self, record_t *rec, uint32_t account_index)
{
    const population_account_t *account = &self->pop->accounts [account_index];
    int exponent = population_currencies [account->currency].exponent;
    int code = generator_invalid_codes [prng_below (&self->rng,
                                                    (uint32_t) generator_invalid_count)];
    switch (code) {
        case TXW_REJECT_BAD_CURRENCY:
            rec->raw.currency = record_view ("XXQ");
            break;
        case TXW_REJECT_BAD_COUNTRY:
            rec->raw.country = record_view ("ZZ");
            break;
        case TXW_REJECT_NON_POSITIVE_AMOUNT: {
            int64_t minor = prng_uniform (&self->rng) < 0.5? 0: -5 * (int64_t) pow (10, exponent);
            size_t len = txw_format_amount (rec->amount, sizeof rec->amount, minor, exponent);
            rec->raw.amount = (txw_str_t) { rec->amount, (uint32_t) len };
            break;
        }
        case TXW_REJECT_MISSING_FIELD:
            rec->raw.account_id = (txw_str_t) { "", 0 };
            break;
        case TXW_REJECT_BAD_TIMESTAMP:
            rec->raw.ts = record_view ("not-a-time");
            break;
        case TXW_REJECT_TS_OUT_OF_RANGE: {
            int64_t ts;
            if (prng_uniform (&self->rng) < 0.5) {
                //  The same moment of a day in 1990 (365 days fit in 1990).
                int64_t year_ms = 365 * S_DAY_MS;
                int64_t within = rec->ts_ms % year_ms;
                if (within < 0)
                    within += year_ms;
                ts = rfc3339_days_from_civil (1990, 1, 1) * S_DAY_MS + within;
            }
            else {
                //  Two days and a century ahead: in the future of any wall
                //  clock (a simulated clock may run in the past) and beyond
                //  any --max-future-ms a validator is likely to be given
                //  (the end-to-end suite allows ten years), yet deterministic.
                ts = rec->ts_ms + 2 * S_DAY_MS + 36525 * S_DAY_MS;
            }
            rec->ts_ms = ts;
            size_t len = rfc3339_format (rec->ts, sizeof rec->ts, ts);
            rec->raw.ts = (txw_str_t) { rec->ts, (uint32_t) len };
            break;
        }
        case TXW_REJECT_BAD_AMOUNT: {
            //  One more decimal than the currency has, never a trailing 0.
            int64_t minor = (int64_t) prng_range (&self->rng, 100, 99999) * 10
                          + prng_range (&self->rng, 1, 9);
            size_t len = txw_format_amount (rec->amount, sizeof rec->amount, minor,
                                            exponent + 1);
            rec->raw.amount = (txw_str_t) { rec->amount, (uint32_t) len };
            break;
        }
        case TXW_REJECT_BAD_CHANNEL:
            rec->raw.channel = record_view ("fax");
            break;
        case TXW_REJECT_BAD_STATUS:
            rec->raw.status = record_view ("pending");
            break;
    }
    rec->invalid = code;
    snprintf (rec->injected, sizeof rec->injected, "invalid:%s", txw_reject_names [code]);
}

//  The event time of the next record; the simulated clock advances by an
//  exponential gap whose mean follows the activity shape.
static int64_t
s_tick (generator_t *self, int64_t now_ms)
{
    if (!self->cfg.simulated) {
        s_local_time (self, now_ms);
        return now_ms;
    }
    s_local_time (self, (int64_t) self->clock_ms);
    double rate = self->cfg.event_rate * (self->cfg.flat? 1: self->tz_mix);
    self->clock_ms += prng_exponential (&self->rng, 1000.0 / rate);
    s_local_time (self, (int64_t) self->clock_ms);
    return (int64_t) self->clock_ms;
}

static void
s_set_tx_id (generator_t *self, record_t *rec)
{
    char *p = s_put_number (rec->tx_id, "T", self->cfg.seed, 1);
    if (self->cfg.run)
        p = s_put_number (p, ".", self->cfg.run, 1);
    *p++ = '-';
    p = s_put_number (p, "", self->index, 1);
    rec->raw.tx_id = (txw_str_t) { rec->tx_id, (uint32_t) (p - rec->tx_id) };
}

void
generator_next (generator_t *self, record_t *rec, int64_t now_ms)
{
    record_reset (rec);
    self->index++;
    int64_t ts = s_tick (self, now_ms);

    //  The line items of an order go out back to back, at its time.
    if (self->ord_left > 0) {
        s_basket_next (self, rec);
        s_set_tx_id (self, rec);
        return;
    }

    //  An episode's records go out back to back, then the legs it had no
    //  room to defer; a later leg that has come due goes next, but never
    //  into the middle of an episode.
    if (self->ep_left > 0) {
        s_episode_next (self, rec, ts);
        s_set_tx_id (self, rec);
        return;
    }
    if (self->inline_next < self->inline_count) {
        s_emit_leg (self, rec, self->inline_legs [self->inline_next++], ts);
        if (self->inline_next == self->inline_count)
            self->inline_next = self->inline_count = 0;
        s_set_tx_id (self, rec);
        return;
    }
    if (self->deferred_count > 0 && self->deferred [0].due_ms <= ts) {
        s_emit_leg (self, rec, s_defer_pop (self), ts);
        s_set_tx_id (self, rec);
        return;
    }
    //  The account first, by its local activity; whether it is night where
    //  it lives picks the fraud mix. A flat shape draws the daytime mix at
    //  every hour, so what it sends does not depend on when it runs (night
    //  bursts need the daily shape).
    uint32_t account = s_pick_local (self);
    int night = !self->cfg.flat && self->tz_night [self->pop->accounts [account].country];

    double u = prng_uniform (&self->rng);
    double invalid = self->cfg.invalid_rate;
    double late = self->cfg.simulated? self->cfg.late_rate: 0;
    if (u < invalid) {
        s_normal (self, rec, account, ts);
        s_break (self, rec, account);
    }
    else
    if (u < invalid + late) {
        int64_t late_ts = ts - prng_range (&self->rng, 70000, 180000);
        s_normal (self, rec, account, late_ts);
        rec->late = true;
        strcpy (rec->injected, "late");
    }
    else
    if (u < invalid + late + self->p_fraud [night]) {
        int pattern = 1 + (int) prng_pick (&self->rng, self->pattern_cum [night] + 1,
                                           GEN_PATTERN_COUNT - 1);
        s_episode_start (self, pattern, account, ts);
        s_episode_next (self, rec, ts);
    }
    else {
        int category = s_normal (self, rec, account, ts);
        //  With a catalogue, an online shop's customer buys a basket (in
        //  person, one product as before).
        if (self->catalogue && catalogue_sells (self->catalogue, category)
        &&  rec->raw.channel.ptr != self->channel_view [TXW_CHANNEL_POS].ptr)
            s_basket_start (self, rec, account, category);
    }
    s_set_tx_id (self, rec);
}
