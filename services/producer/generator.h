/*  generator - synthetic transactions with labelled fraud and defects

    Draws ordinary spending from a population (population.h) with hour-of-
    day and weekday shapes in each account's local time, and mixes in, at
    the configured rates, fraud in eleven labelled patterns (below),
    deliberately broken records labelled with the dead-letter code the
    validator must give, and (with a simulated clock) late events.
    Everything depends only on the configuration and the seed: the same
    configuration gives the same records, byte for byte, in every run and
    whatever the sink. It allocates only in generator_new.

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

/*  The patterns. Amounts named in EUR are EUR-equivalent: times the
    account's currency scale (population.c). Legs "later" are emitted when
    their event time comes (a min-heap of pending legs); legs still pending
    when a run ends are never emitted, so a run shorter than a few of the
    longest delays (hours) holds fewer of those patterns' frauds than the
    rate asks for.

    amount_spike       one amount 10-50x the account's typical.
    card_testing       5-12 tiny online amounts in a row, one new device.
    account_takeover   1-2: new country and device, 5-20x typical, online.
    night_burst        3-6 in a row between 01:00 and 04:00 in the
                       account's local time (its home country's).
    impossible_travel  an ordinary purchase at home, then 1-5 minutes later
                       one in person on another continent (labelled).
    structuring        3-6 transfers of 9,000-9,990 EUR (under a 10,000
                       reporting limit), the first now, the others over the
                       next 20 minutes to 36 hours, to one or two P2P
                       beneficiaries ("P2P-A...", as ordinary P2P transfers).
    merchant_compromise  a merchant of grocery, fuel or restaurants is
                       compromised for 2-8 hours: 6-12 accounts buy there in
                       person in that window (ordinary, unlabelled), and
                       each of them, with chance 1/2, sees one card-not-
                       present purchase 1-24 hours later elsewhere (3-15x
                       typical, online or mobile, new device): labelled.
    card_testing_distributed  6-14 accounts, one after another, make 1-2
                       tiny online purchases (0.50-2 EUR) each at one online
                       shop, from one of three attacker devices.
    ato_drain          a small probe (1-5 EUR) online from a new device,
                       then 5 minutes to 6 hours later 1-2 transfers of 80-
                       95% of a balance of 25-60x typical to a new P2P
                       beneficiary, from that device: all labelled.
    money_mule         (UNSEEN) 5-12 accounts send the mule 150-900 EUR
                       each by P2P transfer over 4 hours (their transfers
                       are ordinary, unlabelled: the senders' side is not
                       what is wrong); 10 minutes to 3 hours after that the
                       mule sends 80-95% of it on in 2-4 transfers to other
                       P2P beneficiaries: labelled.
    bust_out           (UNSEEN) an account with an ordinary history makes
                       5-10 purchases in a row at 1.8-3.5x its usual amount
                       for the category (above its ordinary 95th
                       percentile), in electronics, jewelry, online retail
                       (gift cards), cash and travel.
    money_mule and bust_out are held out: `make eval` reports them as
    "unseen", and no rule, weight, threshold or signal is tuned by looking
    at how they score. Ordinary traffic has what their tells would
    otherwise give away for free: a third of ordinary transfers go to P2P
    beneficiaries, and one in a hundred is large (1,000-10,000 EUR, often
    round), some of them just under the structuring limit.

    Mix: episodes start with the relative weights in generator.c; in fraud
    records the old five make about half, the four new seen ones a third,
    the two unseen ones a seventh (by day, without night bursts).            */
typedef enum {
    GEN_PATTERN_NONE = 0,
    GEN_AMOUNT_SPIKE,
    GEN_CARD_TESTING,
    GEN_ACCOUNT_TAKEOVER,
    GEN_NIGHT_BURST,
    GEN_IMPOSSIBLE_TRAVEL,
    GEN_STRUCTURING,
    GEN_MERCHANT_COMPROMISE,
    GEN_CARD_TESTING_DISTRIBUTED,
    GEN_ATO_DRAIN,
    GEN_MONEY_MULE,
    GEN_BUST_OUT,
    GEN_PATTERN_COUNT
} generator_pattern_t;

//  The reporting limit structuring stays under, in EUR.
#define GENERATOR_STRUCTURING_LIMIT 10000

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

//  Activity weight of an instant, mean about 1 over a week: the traffic
//  shape of both clocks. Each account is active by the hour of day and
//  weekday of its home country's local time (tzcountry.h); this is the mix
//  over the population. Always 1 with a flat shape.
double generator_activity (const generator_t *self, int64_t ms);

//  "amount_spike", ... ; "" for GEN_PATTERN_NONE.
const char *generator_pattern_name (int pattern);

//  True for the patterns held out of all tuning (money_mule, bust_out).
bool generator_pattern_unseen (int pattern);

//  The dead-letter codes the generator injects, in the order it cycles
//  through them, and how many there are.
extern const int generator_invalid_codes [];
extern const int generator_invalid_count;

#endif
