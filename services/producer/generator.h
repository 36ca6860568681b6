/*  generator - synthetic transactions with labelled fraud and defects

    Draws ordinary spending from a population (population.h) with hour-of-
    day and weekday shapes, and mixes in, at the configured rates, fraud in
    five labelled patterns, deliberately broken records labelled with the
    dead-letter code the validator must give, and (with a simulated clock)
    late events. Everything depends only on the configuration and the seed:
    the same configuration gives the same records, byte for byte, in every
    run and whatever the sink. It allocates only in generator_new.

    With a catalogue, online purchases are orders (baskets) and customers
    have a taste, as shoppers who come back to what they buy: a favourite
    category (fixed by the seed and the account, drawn as likely as their
    ordinary spending makes an online order of it, so that favourites do not
    change the mix of categories over all orders), and a want, the product
    they last bought without its companion (a phone without a case). Three
    orders in ten of a customer who wants something start with that
    companion, in its category; seven in ten of the others are of the
    favourite category, the rest of the one its ordinary spending drew. A
    declined order neither meets nor makes a want. The want is the taste's
    only state: four bytes an account, only with a catalogue.               */

#ifndef TXW_PRODUCER_GENERATOR_H
#define TXW_PRODUCER_GENERATOR_H

#include "record.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    GEN_PATTERN_NONE = 0,
    GEN_AMOUNT_SPIKE,           //  one amount 10-50x the account's typical
    GEN_CARD_TESTING,           //  5-12 tiny online amounts in a row, new device
    GEN_ACCOUNT_TAKEOVER,       //  new country and device, high amount, online
    GEN_NIGHT_BURST,            //  3-6 transactions between 01:00 and 04:00
    GEN_IMPOSSIBLE_TRAVEL,      //  far-away country minutes after a home one
    GEN_PATTERN_COUNT
} generator_pattern_t;

typedef struct {
    uint64_t seed;
    uint64_t run;               //  0, or the run number in the tx_ids
    uint32_t accounts, merchants, branches, regions;
    double fraud_rate;          //  share of records that are fraud
    double invalid_rate;        //  share of records broken on purpose
    double late_rate;           //  share of late records (simulated clock only)
    bool simulated;             //  event clock from start_ms, else wall clock
    bool flat;                  //  every hour alike: no daily or weekly shape
    int64_t start_ms;
    double event_rate;          //  simulated records per event-second (weight 1)
    const char *degraded_region;    //  a region with an outage ("" for none)
    double degraded_share;      //  share of its transactions declined or failed
    //  Catalogue size (catalogue.h); 0: no baskets. An order is one draw
    //  of the rates above, whatever its number of line items.
    uint32_t products;
} generator_config_t;

typedef struct _generator_t generator_t;

//  Builds the population. Returns NULL if memory runs out.
generator_t *generator_new (const generator_config_t *config);
void generator_destroy (generator_t **self_p);

//  Builds the next record into rec. Views point into rec, into static
//  tables or into the generator, and stay valid until the next call. now_ms
//  is the wall clock, the event time in live mode (ignored when simulated).
void generator_next (generator_t *self, record_t *rec, int64_t now_ms);

//  Records built so far.
uint64_t generator_count (const generator_t *self);

//  Activity weight of an instant (hour of day and weekday), mean about 1
//  over a week: the traffic shape of both clocks. Always 1 with a flat
//  shape.
double generator_activity (const generator_t *self, int64_t ms);

//  "amount_spike", ... ; "" for GEN_PATTERN_NONE.
const char *generator_pattern_name (int pattern);

//  The dead-letter codes the generator injects, in the order it cycles
//  through them, and how many there are.
extern const int generator_invalid_codes [];
extern const int generator_invalid_count;

#endif
