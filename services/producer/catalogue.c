/*  catalogue - the products the generator's e-commerce customers buy      */

#include "catalogue.h"
#include "log.h"
#include "money.h"
#include "population.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The categories products belong to: those of the ordinary spending that
//  already named a product (generator.c, s_fill). Out of every ten
//  products, five are online retail, three clothing, two electronics; the
//  price is lognormal around a median per category (euros).
static const struct {
    int category;
    int share;                  //  of every ten products
    double median;
    double sigma;
    const char *nouns [8];
} s_kinds [] = {
    { CAT_ONLINE_RETAIL, 5, 15, 0.8,
      { "Mug", "Lamp", "Book", "Candle", "Backpack", "Towel", "Puzzle", "Planter" } },
    { CAT_CLOTHING, 3, 30, 0.5,
      { "Shirt", "Jacket", "Jeans", "Dress", "Sneakers", "Scarf", "Hoodie", "Socks" } },
    { CAT_ELECTRONICS, 2, 80, 0.9,
      { "Headphones", "Charger", "Speaker", "Keyboard", "Monitor", "Camera", "Cable", "Tablet" } }
};
#define S_KINDS ((int) (sizeof s_kinds / sizeof s_kinds [0]))

static const char *s_adjectives [8] = {
    "Basic", "Classic", "Deluxe", "Compact", "Eco", "Pro", "Smart", "Vintage"
};

//  Popularity of the product ranked r (from 0): a Zipf law with exponent
//  1.1, so in a catalogue of 2,000 the first 1% of products take over half
//  of the sales and the first 10% about 80%.
#define S_ZIPF_EXPONENT 1.1

//  Chance that a product's companion is of another category.
#define S_COMPANION_ACROSS 0.3

struct _catalogue_t {
    catalogue_product_t *products;
    uint32_t count;
    //  Per category: its products, and their cumulative popularity.
    uint32_t *by_category [CAT_COUNT];
    double *cum [CAT_COUNT];
    uint32_t in_category [CAT_COUNT];
};

static int
s_kind_of (uint32_t index)
{
    int slot = (int) (index % 10);
    for (int k = 0; k < S_KINDS; k++) {
        if (slot < s_kinds [k].share)
            return k;
        slot -= s_kinds [k].share;
    }
    return 0;
}

catalogue_t *
catalogue_new (uint64_t seed, uint32_t count)
{
    catalogue_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->count = count;
    self->products = calloc (count, sizeof *self->products);
    uint32_t *rank = calloc (count, sizeof *rank);
    bool ok = self->products && rank;
    for (int c = 0; c < CAT_COUNT && ok; c++) {
        self->by_category [c] = calloc (count, sizeof (uint32_t));
        self->cum [c] = calloc (count, sizeof (double));
        ok = self->by_category [c] && self->cum [c];
    }
    if (!ok) {
        free (rank);
        catalogue_destroy (&self);
        return NULL;
    }
    //  A stream of its own: the generator's records do not depend on it.
    prng_t rng;
    prng_seed (&rng, seed ^ 0x70726f6475637473ULL);

    //  A random ranking (Fisher-Yates), so popularity is not the id order.
    for (uint32_t i = 0; i < count; i++)
        rank [i] = i;
    for (uint32_t i = count; i > 1; i--) {
        uint32_t j = prng_below (&rng, i);
        uint32_t t = rank [i - 1];
        rank [i - 1] = rank [j];
        rank [j] = t;
    }
    for (uint32_t i = 0; i < count; i++) {
        catalogue_product_t *p = &self->products [i];
        int kind = s_kind_of (i);
        snprintf (p->id, sizeof p->id, "P%05u", i + 1);
        snprintf (p->name, sizeof p->name, "%s %s %u",
                  s_adjectives [prng_below (&rng, 8)],
                  s_kinds [kind].nouns [prng_below (&rng, 8)], i + 1);
        p->category = (uint8_t) s_kinds [kind].category;
        double euros = s_kinds [kind].median * exp (s_kinds [kind].sigma * prng_normal (&rng));
        p->price_minor = (int64_t) fmax (1, fmin (round (euros), 100000)) * 100 - 1;
        p->weight = 1.0 / pow (rank [i] + 1, S_ZIPF_EXPONENT);
        uint32_t n = self->in_category [p->category]++;
        self->by_category [p->category] [n] = i;
        self->cum [p->category] [n] = (n? self->cum [p->category] [n - 1]: 0) + p->weight;
    }
    free (rank);
    //  Companions, drawn by popularity: mostly of the same category.
    for (uint32_t i = 0; i < count; i++) {
        catalogue_product_t *p = &self->products [i];
        int category = p->category;
        if (prng_uniform (&rng) < S_COMPANION_ACROSS) {
            int other = s_kinds [prng_below (&rng, S_KINDS)].category;
            if (self->in_category [other])
                category = other;
        }
        p->companion = catalogue_pick (self, &rng, category);
        if (p->companion == i)      //  one more try; a lone product is its own
            p->companion = catalogue_pick (self, &rng, category);
    }
    return self;
}

void
catalogue_destroy (catalogue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    catalogue_t *self = *self_p;
    for (int c = 0; c < CAT_COUNT; c++) {
        free (self->by_category [c]);
        free (self->cum [c]);
    }
    free (self->products);
    free (self);
    *self_p = NULL;
}

uint32_t
catalogue_count (const catalogue_t *self)
{
    return self->count;
}

const catalogue_product_t *
catalogue_product (const catalogue_t *self, uint32_t index)
{
    return &self->products [index];
}

bool
catalogue_sells (const catalogue_t *self, int category)
{
    return category >= 0 && category < CAT_COUNT && self->in_category [category] > 0;
}

uint32_t
catalogue_pick (const catalogue_t *self, prng_t *rng, int category)
{
    size_t n = prng_pick (rng, self->cum [category], self->in_category [category]);
    return self->by_category [category] [n];
}

int
catalogue_write_csv (const catalogue_t *self, const char *path)
{
    FILE *file = strcmp (path, "-") == 0? stdout: fopen (path, "w");
    if (!file) {
        log_error ("cannot create %s: %s", path, strerror (errno));
        return -1;
    }
    fprintf (file, "product_id,name,category,price,currency\n");
    for (uint32_t i = 0; i < self->count; i++) {
        const catalogue_product_t *p = &self->products [i];
        char price [40];
        txw_format_amount (price, sizeof price, p->price_minor, 2);
        //  Names are letters, digits and spaces: no quoting needed.
        fprintf (file, "%s,%s,%s,%s,%s\n", p->id, p->name,
                 population_categories [p->category].name, price, CATALOGUE_CURRENCY);
    }
    int rc = fflush (file) != 0 || ferror (file)? -1: 0;
    if (file != stdout && fclose (file) != 0)
        rc = -1;
    if (rc)
        log_error ("cannot write %s: %s", path, strerror (errno));
    return rc;
}
