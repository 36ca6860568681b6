/*  catalogue - the products the generator's e-commerce customers buy

    --products N builds N products from the seed alone (not from the
    generator's stream, so the catalogue is the same whatever else is
    configured, and with it off the generator's records stay exactly what
    they were). A product has an id (P00001 ...), a name, one of the
    generator's e-commerce merchant categories (online_retail, clothing,
    electronics), a price in euro cents ending in .99, and a popularity that
    follows a Zipf law over a random ranking: a few products sell far more
    than the long tail. Each product also has a companion, a product often
    bought with it, which gives the baskets structure beyond chance.
    --catalogue-out writes the catalogue as CSV for `txwctl products load`.  */

#ifndef TXW_PRODUCER_CATALOGUE_H
#define TXW_PRODUCER_CATALOGUE_H

#include "prng.h"

#include <stdbool.h>
#include <stdint.h>

#define CATALOGUE_MAX       1000000
#define CATALOGUE_CURRENCY  "EUR"

typedef struct {
    char id [12];               //  "P00042"
    char name [40];             //  "Classic Mug 42"
    uint8_t category;           //  population_category_t
    int64_t price_minor;        //  euro cents
    double weight;              //  popularity, relative
    uint32_t companion;         //  index of the product often bought with it
} catalogue_product_t;

typedef struct _catalogue_t catalogue_t;

//  Builds count products (1 .. CATALOGUE_MAX) from seed. Returns NULL if
//  memory runs out.
catalogue_t *catalogue_new (uint64_t seed, uint32_t count);
void catalogue_destroy (catalogue_t **self_p);

uint32_t catalogue_count (const catalogue_t *self);
const catalogue_product_t *catalogue_product (const catalogue_t *self, uint32_t index);

//  True if the catalogue has products of the category.
bool catalogue_sells (const catalogue_t *self, int category);

//  A product of the category, drawn by popularity; the category must be
//  one the catalogue sells.
uint32_t catalogue_pick (const catalogue_t *self, prng_t *rng, int category);

//  Writes the catalogue as CSV to path ("-" for stdout): a header
//  product_id,name,category,price,currency and one row per product, the
//  price in major units like the transaction CSV. Returns 0, or -1 (logged).
int catalogue_write_csv (const catalogue_t *self, const char *path);

#endif
