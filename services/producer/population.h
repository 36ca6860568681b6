/*  population - the synthetic bank the generator draws transactions from

    Accounts live in a region, hold a branch, a home country and currency
    (mostly EUR), a typical amount (lognormal across accounts), a few
    preferred merchant categories and one or two usual devices. Merchants
    have a category and a region; branches belong to regions. Everything is
    built once from the seed at start-up, so the hot path only indexes
    arrays, and the same seed always builds the same bank.                   */

#ifndef TXW_PRODUCER_POPULATION_H
#define TXW_PRODUCER_POPULATION_H

#include "codec.h"
#include "prng.h"

#include <stdint.h>

//  Merchant categories.
typedef enum {
    CAT_GROCERY = 0, CAT_FUEL, CAT_RESTAURANTS, CAT_TRAVEL, CAT_ELECTRONICS,
    CAT_ONLINE_RETAIL, CAT_JEWELRY, CAT_GAMBLING, CAT_ATM_CASH, CAT_TRANSFER,
    CAT_UTILITIES, CAT_PHARMACY, CAT_CLOTHING, CAT_ENTERTAINMENT,
    CAT_COUNT
} population_category_t;

typedef struct {
    const char *name;
    double weight;              //  share of ordinary spending
    double amount_factor;       //  times the account's typical amount
    double channel_weight [TXW_CHANNEL_COUNT];     //  indexed by txw_channel_t
} population_category_info_t;

typedef struct {
    const char *code;           //  ISO 3166-1 alpha-2
    int currency;               //  index into the currency table
    int continent;              //  0 Europe, 1 North America, 2 Asia, 3 other
} population_country_info_t;

typedef struct {
    const char *code;           //  ISO 4217
    double scale;               //  major units per EUR, roughly
    int exponent;               //  minor units (from txw_currency_exponent)
} population_currency_info_t;

extern const population_category_info_t population_categories [CAT_COUNT];
extern const population_country_info_t population_countries [];
extern const int population_country_count;
extern population_currency_info_t population_currencies [];

typedef struct {
    char id [12];               //  "A000123"
    uint16_t region;
    uint16_t country;           //  index into population_countries
    uint32_t branch;
    uint32_t devices [2];       //  usual device numbers
    uint8_t device_count;
    uint8_t categories [3];     //  preferred categories
    uint8_t currency;
    float typical;              //  typical amount, major units of currency
} population_account_t;

typedef struct {
    char id [12];               //  "M00042"
    uint8_t category;
    uint16_t region;
} population_merchant_t;

typedef struct {
    char id [12];               //  "B017"
    uint16_t region;
} population_branch_t;

typedef struct {
    char name [12];             //  "R3"
    uint16_t country;
} population_region_t;

typedef struct {
    population_account_t *accounts;
    uint32_t account_count;
    population_merchant_t *merchants;
    uint32_t merchant_count;
    uint32_t *by_category [CAT_COUNT];  //  merchant indexes per category
    uint32_t category_count [CAT_COUNT];
    population_branch_t *branches;
    uint32_t branch_count;
    population_region_t *regions;
    uint32_t region_count;
} population_t;

//  Builds a population from rng (which it advances). Counts must be at least
//  1. Returns NULL if memory runs out.
population_t *population_new (prng_t *rng, uint32_t accounts, uint32_t merchants,
                              uint32_t branches, uint32_t regions);
void population_destroy (population_t **self_p);

//  A random merchant of the category (every category has at least one).
static inline const population_merchant_t *
population_merchant_of (const population_t *self, prng_t *rng, int category)
{
    uint32_t n = self->category_count [category];
    return &self->merchants [self->by_category [category] [prng_below (rng, n)]];
}

#endif
