/*  population - the synthetic bank the generator draws transactions from  */

#include "population.h"
#include "money.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Channel weights in txw_channel_t order: unknown, pos, online, atm,
//  transfer, mobile.
const population_category_info_t population_categories [CAT_COUNT] = {
    { "grocery",       22.0, 0.6, { 0, 0.80, 0.00, 0, 0.00, 0.20 } },
    { "fuel",           9.0, 1.2, { 0, 0.95, 0.00, 0, 0.00, 0.05 } },
    { "restaurants",   14.0, 0.8, { 0, 0.80, 0.00, 0, 0.00, 0.20 } },
    { "travel",         4.0, 5.0, { 0, 0.20, 0.60, 0, 0.00, 0.20 } },
    { "electronics",    5.0, 4.0, { 0, 0.40, 0.45, 0, 0.00, 0.15 } },
    { "online_retail", 14.0, 1.3, { 0, 0.00, 0.70, 0, 0.00, 0.30 } },
    { "jewelry",        1.0, 6.0, { 0, 0.90, 0.10, 0, 0.00, 0.00 } },
    { "gambling",       1.5, 1.5, { 0, 0.00, 0.60, 0, 0.00, 0.40 } },
    { "atm_cash",       8.0, 2.0, { 0, 0.00, 0.00, 1, 0.00, 0.00 } },
    { "transfer",       6.0, 6.0, { 0, 0.00, 0.10, 0, 0.60, 0.30 } },
    { "utilities",      5.0, 2.5, { 0, 0.00, 0.50, 0, 0.40, 0.10 } },
    { "pharmacy",       5.0, 0.6, { 0, 0.90, 0.00, 0, 0.00, 0.10 } },
    { "clothing",       5.0, 1.5, { 0, 0.60, 0.30, 0, 0.00, 0.10 } },
    { "entertainment",  4.0, 0.9, { 0, 0.30, 0.50, 0, 0.00, 0.20 } }
};

population_currency_info_t population_currencies [] = {
    { "EUR", 1.0, 2 }, { "USD", 1.1, 2 }, { "GBP", 0.85, 2 }, { "CHF", 0.95, 2 },
    { "SEK", 11.0, 2 }, { "JPY", 160.0, 0 }, { "PLN", 4.3, 2 }
};
#define S_CURRENCIES (sizeof population_currencies / sizeof population_currencies [0])

enum { S_EUR, S_USD, S_GBP, S_CHF, S_SEK, S_JPY, S_PLN };

//  Home countries first (regions take them in this order), then countries
//  that only appear as destinations.
const population_country_info_t population_countries [] = {
    { "DE", S_EUR, 0 }, { "FR", S_EUR, 0 }, { "NL", S_EUR, 0 }, { "ES", S_EUR, 0 },
    { "IT", S_EUR, 0 }, { "AT", S_EUR, 0 }, { "GB", S_GBP, 0 }, { "PL", S_PLN, 0 },
    { "BE", S_EUR, 0 }, { "IE", S_EUR, 0 }, { "SE", S_SEK, 0 }, { "PT", S_EUR, 0 },
    { "FI", S_EUR, 0 }, { "CH", S_CHF, 0 }, { "US", S_USD, 1 }, { "JP", S_JPY, 2 },
    { "CA", S_USD, 1 }, { "BR", S_USD, 3 }, { "AU", S_USD, 3 }, { "SG", S_USD, 2 },
    { "ZA", S_USD, 3 }, { "MX", S_USD, 1 }, { "TH", S_USD, 2 }, { "AE", S_USD, 2 }
};
const int population_country_count =
    (int) (sizeof population_countries / sizeof population_countries [0]);
#define S_HOME_COUNTRIES 16     //  DE .. JP may be somebody's home

//  Accounts that do not live in their region's country: country indexes.
static const int s_expat_country [] = { 14, 6, 13, 10, 15, 7 };
static const double s_expat_cum [] = { 25, 45, 65, 80, 90, 100 };

//  Fills each currency's exponent from the money module, so the generator
//  and the validator agree on minor units by construction.
static void
s_currency_exponents (void)
{
    for (size_t i = 0; i < S_CURRENCIES; i++)
        population_currencies [i].exponent =
            txw_currency_exponent (population_currencies [i].code, 3);
}

population_t *
population_new (prng_t *rng, uint32_t accounts, uint32_t merchants,
                uint32_t branches, uint32_t regions)
{
    s_currency_exponents ();
    population_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->account_count = accounts? accounts: 1;
    self->merchant_count = merchants > CAT_COUNT? merchants: CAT_COUNT;
    self->branch_count = branches? branches: 1;
    self->region_count = regions? regions: 1;
    self->accounts = calloc (self->account_count, sizeof *self->accounts);
    self->merchants = calloc (self->merchant_count, sizeof *self->merchants);
    self->branches = calloc (self->branch_count, sizeof *self->branches);
    self->regions = calloc (self->region_count, sizeof *self->regions);
    if (!self->accounts || !self->merchants || !self->branches || !self->regions)
        goto err;

    for (uint32_t r = 0; r < self->region_count; r++) {
        snprintf (self->regions [r].name, sizeof self->regions [r].name, "R%u", r);
        self->regions [r].country = (uint16_t) (r % S_HOME_COUNTRIES);
    }
    for (uint32_t b = 0; b < self->branch_count; b++) {
        snprintf (self->branches [b].id, sizeof self->branches [b].id, "B%03u", b);
        self->branches [b].region = (uint16_t) (b % self->region_count);
    }

    //  Merchants: one of each category first, so no category is empty.
    double cat_cum [CAT_COUNT], total = 0;
    for (int c = 0; c < CAT_COUNT; c++)
        cat_cum [c] = total += population_categories [c].weight;
    for (uint32_t m = 0; m < self->merchant_count; m++) {
        population_merchant_t *merchant = &self->merchants [m];
        snprintf (merchant->id, sizeof merchant->id, "M%05u", m);
        merchant->category = (uint8_t) (m < CAT_COUNT? m: prng_pick (rng, cat_cum, CAT_COUNT));
        merchant->region = (uint16_t) prng_below (rng, self->region_count);
        self->category_count [merchant->category]++;
    }
    for (int c = 0; c < CAT_COUNT; c++) {
        self->by_category [c] = malloc (self->category_count [c] * sizeof (uint32_t));
        if (!self->by_category [c])
            goto err;
        self->category_count [c] = 0;
    }
    for (uint32_t m = 0; m < self->merchant_count; m++) {
        int c = self->merchants [m].category;
        self->by_category [c] [self->category_count [c]++] = m;
    }

    for (uint32_t a = 0; a < self->account_count; a++) {
        population_account_t *account = &self->accounts [a];
        snprintf (account->id, sizeof account->id, "A%06u", a);
        account->region = (uint16_t) prng_below (rng, self->region_count);
        if (prng_uniform (rng) < 0.85)
            account->country = self->regions [account->region].country;
        else
            account->country = (uint16_t) s_expat_country [prng_pick (rng, s_expat_cum, 6)];
        account->currency = (uint8_t) population_countries [account->country].currency;
        //  A branch of the account's own region when there is one.
        uint32_t per_region = self->branch_count / self->region_count;
        if (per_region > 0) {
            uint32_t k = prng_below (rng, per_region);
            account->branch = account->region + k * self->region_count;
        }
        else
            account->branch = account->region % self->branch_count;
        //  Typical spend: lognormal around 35 EUR, in the home currency.
        double typical = 35.0 * exp (0.6 * prng_normal (rng));
        account->typical = (float) (typical * population_currencies [account->currency].scale);
        for (int k = 0; k < 3; k++)
            account->categories [k] = (uint8_t) prng_pick (rng, cat_cum, CAT_COUNT);
        account->device_count = (uint8_t) (prng_uniform (rng) < 0.3? 2: 1);
        account->devices [0] = a * 2;
        account->devices [1] = a * 2 + 1;
    }
    return self;
err:
    population_destroy (&self);
    return NULL;
}

void
population_destroy (population_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    population_t *self = *self_p;
    for (int c = 0; c < CAT_COUNT; c++)
        free (self->by_category [c]);
    free (self->accounts);
    free (self->merchants);
    free (self->branches);
    free (self->regions);
    free (self);
    *self_p = NULL;
}
