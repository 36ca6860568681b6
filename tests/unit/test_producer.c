/*  test_producer - unit tests of the producer's generator, CSV and clock

    Links the producer's real modules (everything but main.c). The tests
    check properties the rest of the suite relies on: the same seed gives
    the same records, fraud arrives at the configured rate in every pattern,
    each pattern has its shape (the cross-account ones too: a compromised
    merchant's victims bought there), accounts keep their local hours, a
    record broken on purpose has exactly the defect its label names (and a
    valid record has none), CSV rows split the RFC 4180 way and bad rows
    become rejections, and event times format and parse as RFC 3339. No
    test depends on timing.                                                  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "catalogue.h"
#include "csv.h"
#include "generator.h"
#include "population.h"
#include "money.h"
#include "pii.h"
#include "record.h"
#include "rejects.h"
#include "rfc3339.h"
#include "tzcountry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_2026_01_05 1767571200000LL            //  a Monday, 00:00 UTC
#define S_NIGHT      (S_2026_01_05 + 3600000)   //  01:00 UTC

static generator_config_t
s_config (uint64_t seed, int64_t start_ms)
{
    generator_config_t config = {
        .seed = seed, .accounts = 10000, .merchants = 2000, .branches = 50,
        .regions = 8, .fraud_rate = 0.01, .invalid_rate = 0, .late_rate = 0,
        .simulated = true, .start_ms = start_ms, .event_rate = 200
    };
    return config;
}

static bool
s_view_eq (txw_str_t a, txw_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

static bool
s_view_is (txw_str_t a, const char *s)
{
    return a.len == strlen (s) && (a.len == 0 || memcmp (a.ptr, s, a.len) == 0);
}

//  Returns a bit per reject code the record would get from a validator that
//  checks each field on its own (bit 31: more than one field is broken is
//  detectable by the caller from the popcount).
static uint32_t
s_defects (const record_t *rec, int64_t start_ms)
{
    uint32_t defects = 0;
    const txw_raw_tx_t *raw = &rec->raw;
    int exponent = txw_currency_exponent (raw->currency.ptr, raw->currency.len);
    if (raw->currency.len != 3 || exponent < 0)
        defects |= 1u << TXW_REJECT_BAD_CURRENCY;
    if (!txw_country_valid (raw->country.ptr, raw->country.len))
        defects |= 1u << TXW_REJECT_BAD_COUNTRY;
    if (raw->tx_id.len == 0 || raw->account_id.len == 0 || raw->merchant_id.len == 0
    ||  raw->device_id.len == 0 || raw->branch_id.len == 0 || raw->region.len == 0)
        defects |= 1u << TXW_REJECT_MISSING_FIELD;
    int64_t ts;
    if (rfc3339_parse (raw->ts.ptr, raw->ts.len, &ts))
        defects |= 1u << TXW_REJECT_BAD_TIMESTAMP;
    else
    if (ts < rfc3339_days_from_civil (2000, 1, 1) * 86400000LL
    ||  ts > start_ms + 30LL * 86400000LL)
        defects |= 1u << TXW_REJECT_TS_OUT_OF_RANGE;
    if (exponent >= 0) {
        int64_t minor;
        if (raw->amount.len && raw->amount.ptr [0] == '-')
            defects |= 1u << TXW_REJECT_NON_POSITIVE_AMOUNT;
        else
        if (txw_parse_amount (raw->amount.ptr, raw->amount.len, exponent, &minor) == 0) {
            if (minor <= 0)
                defects |= 1u << TXW_REJECT_NON_POSITIVE_AMOUNT;
        }
        else
            defects |= 1u << TXW_REJECT_BAD_AMOUNT;
    }
    if (txw_channel_parse (raw->channel.ptr, raw->channel.len) == 0)
        defects |= 1u << TXW_REJECT_BAD_CHANNEL;
    if (txw_status_parse (raw->status.ptr, raw->status.len) == 0)
        defects |= 1u << TXW_REJECT_BAD_STATUS;
    return defects;
}

//  --- Generator ---------------------------------------------------------------

static void
test_determinism (void **state)
{
    (void) state;
    generator_config_t config = s_config (42, S_2026_01_05);
    config.invalid_rate = 0.02;
    config.late_rate = 0.02;
    config.fraud_rate = 0.05;
    //  Seven hours of event time, so every pattern's later legs come due.
    config.event_rate = 2;
    generator_t *a = generator_new (&config);
    generator_t *b = generator_new (&config);
    config.seed = 43;
    generator_t *c = generator_new (&config);
    assert_non_null (a);
    assert_non_null (b);
    assert_non_null (c);
    static record_t ra, rb, rc;
    int differ = 0, seen [GEN_PATTERN_COUNT] = { 0 };
    char expected_id [48];
    for (int i = 1; i <= 50000; i++) {
        //  now_ms differs: a simulated clock must not look at it.
        generator_next (a, &ra, 1000 + i);
        generator_next (b, &rb, 99999999 + i);
        generator_next (c, &rc, 1000 + i);
        for (int f = 0; f < RECORD_FIELDS; f++)
            assert_true (s_view_eq (*record_field (&ra, f), *record_field (&rb, f)));
        assert_int_equal (ra.is_fraud, rb.is_fraud);
        assert_string_equal (ra.pattern_name, rb.pattern_name);
        assert_string_equal (ra.injected, rb.injected);
        snprintf (expected_id, sizeof expected_id, "T42-%d", i);
        assert_true (s_view_is (ra.raw.tx_id, expected_id));
        if (!s_view_eq (ra.raw.account_id, rc.raw.account_id))
            differ++;
        seen [ra.pattern]++;
    }
    assert_int_equal (generator_count (a), 50000);
    for (int p = 1; p < GEN_PATTERN_COUNT; p++)
        assert_true (seen [p] > 0);
    //  Another seed gives other records.
    assert_true (differ > 40000);
    generator_destroy (&a);
    generator_destroy (&b);
    generator_destroy (&c);
    assert_null (a);
    generator_destroy (&a);             //  twice is safe
}

//  A run number changes the ids alone: a generator started again (make run
//  keeps its database) makes new transactions, not copies of stored ones.
static void
test_run_number (void **state)
{
    (void) state;
    generator_config_t config = s_config (42, S_2026_01_05);
    generator_t *plain = generator_new (&config);
    config.run = 1000000000;
    generator_t *rerun = generator_new (&config);
    assert_non_null (plain);
    assert_non_null (rerun);
    static record_t rp, rr;
    char expected_id [64];
    for (int i = 1; i <= 1000; i++) {
        generator_next (plain, &rp, 1000 + i);
        generator_next (rerun, &rr, 1000 + i);
        snprintf (expected_id, sizeof expected_id, "T42.1000000000-%d", i);
        assert_true (s_view_is (rr.raw.tx_id, expected_id));
        for (int f = 0; f < RECORD_FIELDS; f++)
            if (record_field (&rp, f)->ptr != rp.raw.tx_id.ptr)
                assert_true (s_view_eq (*record_field (&rp, f), *record_field (&rr, f)));
    }
    generator_destroy (&plain);
    generator_destroy (&rerun);
}

static void
s_check_fraud (int64_t start_ms, bool night)
{
    generator_config_t config = s_config (7, start_ms);
    config.fraud_rate = 0.02;
    generator_t *gen = generator_new (&config);
    assert_non_null (gen);
    static record_t rec;
    const int total = 300000;
    int fraud = 0, by_pattern [GEN_PATTERN_COUNT] = { 0 };
    int burst_len = 0;
    char burst_account [TXW_ID_MAX + 1] = "";
    int64_t last_ts = INT64_MIN;
    for (int i = 0; i < total; i++) {
        generator_next (gen, &rec, 0);
        assert_true (rec.ts_ms >= last_ts);         //  no late records asked for
        last_ts = rec.ts_ms;
        assert_int_equal (s_defects (&rec, start_ms), 0);
        assert_int_equal (rec.is_fraud, rec.pattern != GEN_PATTERN_NONE);
        assert_int_equal (rec.is_fraud, rec.pattern_name [0] != 0);
        //  Card testing: consecutive runs of 5-12 tiny online amounts from
        //  one account on one new device.
        bool testing = rec.pattern == GEN_CARD_TESTING;
        if (testing) {
            assert_true (s_view_is (rec.raw.channel, "online"));
            assert_memory_equal (rec.raw.device_id.ptr, "DX", 2);
            if (s_view_is (rec.raw.currency, "EUR")) {
                int64_t minor;
                assert_int_equal (txw_parse_amount (rec.raw.amount.ptr, rec.raw.amount.len,
                                                    2, &minor), 0);
                assert_true (minor >= 50 && minor <= 200);
            }
        }
        if (testing && burst_len > 0
        &&  s_view_is (rec.raw.account_id, burst_account))
            burst_len++;
        else {
            if (burst_len)
                assert_true (burst_len >= 5 && burst_len <= 12);
            burst_len = testing? 1: 0;
            if (testing)
                snprintf (burst_account, sizeof burst_account, "%.*s",
                          (int) rec.raw.account_id.len, rec.raw.account_id.ptr);
        }
        //  Night bursts: 01:00-04:00 where the account lives.
        if (rec.pattern == GEN_NIGHT_BURST) {
            int hour, weekday;
            tzcountry_hour_weekday (TZCOUNTRY_CODE (rec.raw.country.ptr [0],
                                                    rec.raw.country.ptr [1]),
                                    rec.ts_ms, &hour, &weekday);
            assert_true (hour >= 1 && hour < 4);
        }
        if (rec.pattern == GEN_ACCOUNT_TAKEOVER)
            assert_memory_equal (rec.raw.device_id.ptr, "DX", 2);
        if (rec.is_fraud) {
            fraud++;
            by_pattern [rec.pattern]++;
        }
    }
    //  25 minutes of event time: the old patterns in full, the new ones'
    //  first records; merchant compromise and money mule label only legs
    //  that come hours later (test_fraud_rate_over_days has them, and the
    //  rate over all patterns).
    for (int p = 1; p < GEN_PATTERN_COUNT; p++) {
        if (p == GEN_NIGHT_BURST && !night)
            assert_int_equal (by_pattern [p], 0);
        else
        if (p <= GEN_IMPOSSIBLE_TRAVEL)
            assert_true (by_pattern [p] >= 300);
        else
        if (p != GEN_MERCHANT_COMPROMISE && p != GEN_MONEY_MULE)
            assert_true (by_pattern [p] > 0);
    }
    assert_true (fraud > total * 0.02 * 0.5);
    generator_destroy (&gen);
}

static void
test_fraud_rate_and_patterns_at_night (void **state)
{
    (void) state;
    s_check_fraud (S_NIGHT, true);
}

static void
test_fraud_rate_and_patterns_by_day (void **state)
{
    (void) state;
    s_check_fraud (S_2026_01_05 + 12 * 3600000, false);
}

//  At a very high event rate more later legs are pending than the
//  generator keeps; an episode's legs then follow it at once instead of
//  being lost: impossible travel's second leg right after the first.
static void
test_impossible_travel_under_load (void **state)
{
    (void) state;
    generator_config_t config = s_config (13, S_2026_01_05 + 12 * 3600000LL);
    config.event_rate = 1e6;
    config.fraud_rate = 0.5;
    generator_t *gen = generator_new (&config);
    static record_t rec, prev;
    int travel = 0, right_after = 0;
    //  Some 300,000 records fill the 65,536 pending legs; the last 200,000
    //  are checked.
    for (int i = 0; i < 1000000; i++)
        generator_next (gen, &rec, 0);
    for (int i = 0; i < 200000; i++) {
        generator_next (gen, &rec, 0);
        if (rec.pattern == GEN_IMPOSSIBLE_TRAVEL) {
            travel++;
            assert_false (s_view_eq (rec.raw.country, record_view ("")));
            if (s_view_eq (prev.raw.account_id, rec.raw.account_id)
            &&  !s_view_eq (prev.raw.country, rec.raw.country))
                right_after++;
        }
        prev = rec;                 //  both views point into static tables
    }
    //  1.2 s of event time: no deferred leg comes due, every new one
    //  follows its first leg, abroad.
    assert_true (travel > 3000);
    assert_int_equal (right_after, travel);
    generator_destroy (&gen);
}

//  The number at the end of an id: of "A000123", "P2P-A000123", "M00042".
static uint32_t
s_account_number (txw_str_t id)
{
    uint32_t start = id.len;
    while (start > 0 && id.ptr [start - 1] >= '0' && id.ptr [start - 1] <= '9')
        start--;
    uint32_t n = 0;
    for (uint32_t i = start; i < id.len; i++)
        n = n * 10 + (uint32_t) (id.ptr [i] - '0');
    return n;
}

static bool
s_is_p2p (txw_str_t merchant)
{
    return merchant.len > 4 && memcmp (merchant.ptr, "P2P-A", 5) == 0;
}

//  Amount in minor units (2 decimals: the EUR records the tests look at).
static int64_t
s_minor (const record_t *rec)
{
    int64_t minor;
    assert_int_equal (txw_parse_amount (rec->raw.amount.ptr, rec->raw.amount.len, 2, &minor), 0);
    return minor;
}

#define S_LONG_RECORDS 300000   //  at 2 a second: about 42 hours, two nights
#define S_ACCOUNTS     10000

static generator_t *
s_long_generator (double fraud_rate, uint32_t merchants)
{
    generator_config_t config = s_config (21, S_2026_01_05);
    config.merchants = merchants;
    config.event_rate = 2;
    config.fraud_rate = fraud_rate;
    generator_t *gen = generator_new (&config);
    assert_non_null (gen);
    return gen;
}

//  Over days of event time (every pattern's later legs come due), fraud is
//  the configured share of records and every pattern is there. Ordinary
//  traffic shares the new patterns' forms: P2P transfers, and large ones
//  just under the structuring limit. Legs still pending at the end cost a
//  little of the rate.
static void
test_fraud_rate_over_days (void **state)
{
    (void) state;
    generator_t *gen = s_long_generator (0.02, 2000);
    static record_t rec;
    int fraud = 0, by_pattern [GEN_PATTERN_COUNT] = { 0 };
    int p2p_ordinary = 0, p2p_fraud = 0, near_limit_ordinary = 0;
    for (int i = 0; i < S_LONG_RECORDS; i++) {
        generator_next (gen, &rec, 0);
        fraud += rec.is_fraud;
        by_pattern [rec.pattern]++;
        if (s_is_p2p (rec.raw.merchant_id)) {
            assert_true (s_view_is (rec.raw.category, "transfer"));
            if (rec.is_fraud)
                p2p_fraud++;
            else
                p2p_ordinary++;
        }
        if (!rec.is_fraud && s_view_is (rec.raw.category, "transfer")
        &&  s_view_is (rec.raw.currency, "EUR")
        &&  s_minor (&rec) >= 900000 && s_minor (&rec) < 1000000)
            near_limit_ordinary++;
    }
    double share = (double) fraud / S_LONG_RECORDS;
    assert_true (share > 0.02 * 0.85 && share < 0.02 * 1.15);
    //  Night bursts only in the few night hours of each country.
    for (int p = 1; p < GEN_PATTERN_COUNT; p++)
        assert_true (by_pattern [p] >= (p == GEN_NIGHT_BURST? 10: 100));
    assert_true (p2p_ordinary > p2p_fraud);
    assert_true (near_limit_ordinary > 0);
    assert_true (generator_pattern_unseen (GEN_MONEY_MULE) && generator_pattern_unseen (GEN_BUST_OUT));
    assert_false (generator_pattern_unseen (GEN_STRUCTURING));
    generator_destroy (&gen);
}

//  Each new pattern has its shape.
static void
test_new_patterns (void **state)
{
    (void) state;
    //  Per account: beneficiaries of its structuring, the devices of its
    //  last four ATO probes (busy accounts are picked again) and the last
    //  probe's amount, P2P transfers it received; the time of its first
    //  merchant compromise fraud.
    static uint32_t structured_to [S_ACCOUNTS] [2];
    static uint32_t probe_device [S_ACCOUNTS] [4];
    static int probes [S_ACCOUNTS];
    static int64_t probe_minor [S_ACCOUNTS];
    static int received [S_ACCOUNTS];
    static int64_t compromised_at [S_ACCOUNTS];
    //  In-person purchases: merchant, time, account.
    static struct { uint32_t merchant, account; int64_t ts; } bought [S_LONG_RECORDS];
    int bought_count = 0;
    memset (structured_to, 0, sizeof structured_to);
    memset (probe_device, 0, sizeof probe_device);
    memset (probes, 0, sizeof probes);
    memset (received, 0, sizeof received);
    for (int a = 0; a < S_ACCOUNTS; a++)
        compromised_at [a] = INT64_MAX;

    static record_t rec;
    //  100,000 merchants: a merchant sees an in-person purchase about
    //  every 30 hours, so a crowd at one is the compromise's doing.
    generator_t *gen = s_long_generator (0.05, 100000);
    uint32_t run_merchant = UINT32_MAX;
    int run_len = 0, run_accounts = 0, structuring = 0, drains = 0, mules = 0;
    static int run_tries [S_ACCOUNTS];
    static uint32_t run_list [64];
    int bust_len = 0;
    uint32_t bust_account = UINT32_MAX;
    for (int i = 0; i < S_LONG_RECORDS; i++) {
        generator_next (gen, &rec, 0);
        uint32_t a = s_account_number (rec.raw.account_id);
        bool eur = s_view_is (rec.raw.currency, "EUR");
        if (s_is_p2p (rec.raw.merchant_id))
            received [s_account_number (rec.raw.merchant_id)]++;
        if (!rec.is_fraud && s_view_is (rec.raw.channel, "pos")) {
            bought [bought_count].merchant = s_account_number (rec.raw.merchant_id);
            bought [bought_count].account = a;
            bought [bought_count++].ts = rec.ts_ms;
        }

        //  Structuring: transfers just under the limit, to at most two
        //  P2P beneficiaries an account.
        if (rec.pattern == GEN_STRUCTURING) {
            structuring++;
            assert_true (s_view_is (rec.raw.category, "transfer"));
            assert_true (s_is_p2p (rec.raw.merchant_id));
            if (eur)
                assert_true (s_minor (&rec) >= 900000
                          && s_minor (&rec) < GENERATOR_STRUCTURING_LIMIT * 100);
            uint32_t to = s_account_number (rec.raw.merchant_id) + 1;
            uint32_t *seen = structured_to [a];
            if (!seen [0])
                seen [0] = to;
            else
            if (seen [0] != to && !seen [1])
                seen [1] = to;
            //  (an account may be picked for a second episode: rare)
        }
        //  Distributed card testing: back-to-back runs at one online shop,
        //  6-14 accounts, each once or twice, tiny amounts.
        if (rec.pattern == GEN_CARD_TESTING_DISTRIBUTED) {
            uint32_t m = s_account_number (rec.raw.merchant_id);
            assert_true (s_view_is (rec.raw.channel, "online"));
            assert_true (s_view_is (rec.raw.category, "online_retail"));
            if (eur)
                assert_true (s_minor (&rec) >= 50 && s_minor (&rec) <= 200);
            if (run_len && m != run_merchant) {
                assert_true (run_accounts >= 6 && run_accounts <= 14);
                for (int k = 0; k < run_accounts; k++)
                    run_tries [run_list [k]] = 0;
                run_len = run_accounts = 0;
            }
            run_merchant = m;
            run_len++;
            if (!run_tries [a]++)
                run_list [run_accounts++] = a;
            assert_true (run_tries [a] <= 2);
        }
        else
        if (run_len) {
            assert_true (run_accounts >= 6 && run_accounts <= 14);
            for (int k = 0; k < run_accounts; k++)
                run_tries [run_list [k]] = 0;
            run_len = run_accounts = 0;
        }
        //  Account takeover drain: a small probe from a new device, then
        //  transfers to a P2P beneficiary from that device, far larger.
        if (rec.pattern == GEN_ATO_DRAIN) {
            uint32_t device = s_account_number (rec.raw.device_id);
            assert_memory_equal (rec.raw.device_id.ptr, "DX", 2);
            if (s_view_is (rec.raw.category, "transfer")) {
                drains++;
                assert_true (s_is_p2p (rec.raw.merchant_id));
                bool probed = false;
                for (int k = 0; k < 4; k++)
                    probed |= probe_device [a] [k] == device;
                assert_true (probed);
                if (eur && probe_minor [a])
                    assert_true (s_minor (&rec) > 5 * probe_minor [a]);
            }
            else {
                probe_device [a] [probes [a]++ % 4] = device;
                probe_minor [a] = eur? s_minor (&rec): 0;
            }
        }
        //  Money mule: it sends on only after five or more accounts sent
        //  it money.
        if (rec.pattern == GEN_MONEY_MULE) {
            mules++;
            assert_true (s_view_is (rec.raw.category, "transfer"));
            assert_true (s_is_p2p (rec.raw.merchant_id));
            assert_true (received [a] >= 5);
        }
        //  Merchant compromise: card not present, elsewhere; remember
        //  when each card was first used.
        if (rec.pattern == GEN_MERCHANT_COMPROMISE) {
            assert_false (s_view_is (rec.raw.channel, "pos"));
            assert_memory_equal (rec.raw.device_id.ptr, "DX", 2);
            if (compromised_at [a] == INT64_MAX)
                compromised_at [a] = rec.ts_ms;
        }
        //  Bust-out: runs of 5-10 by one account.
        if (rec.pattern == GEN_BUST_OUT && a == bust_account)
            bust_len++;
        else {
            if (bust_len)
                assert_true (bust_len >= 5 && bust_len <= 10);
            bust_len = rec.pattern == GEN_BUST_OUT;
            bust_account = rec.pattern == GEN_BUST_OUT? a: UINT32_MAX;
        }
        if (rec.pattern == GEN_BUST_OUT) {
            static const char *const cats [] = { "electronics", "jewelry", "online_retail",
                                                 "atm_cash", "travel" };
            bool known = false;
            for (int k = 0; k < 5; k++)
                known |= s_view_is (rec.raw.category, cats [k]);
            assert_true (known);
        }
    }
    assert_true (structuring > 300 && drains > 100 && mules > 100);
    //  Every compromised card bought in person, before its first fraud, at
    //  a merchant where at least six in-person purchases fell within eight
    //  hours of its own (the compromise window, the common point of
    //  purchase).
    int compromised = 0;
    for (int v = 0; v < S_ACCOUNTS; v++) {
        if (compromised_at [v] == INT64_MAX)
            continue;
        compromised++;
        int best = 0;
        for (int i = 0; i < bought_count; i++) {
            if (bought [i].account != (uint32_t) v || bought [i].ts >= compromised_at [v])
                continue;
            int crowd = 0;
            for (int j = 0; j < bought_count; j++)
                crowd += bought [j].merchant == bought [i].merchant
                      && llabs (bought [j].ts - bought [i].ts) <= 8 * 3600000LL;
            if (crowd > best)
                best = crowd;
        }
        assert_true (best >= 6);
    }
    assert_true (compromised > 100);
    generator_destroy (&gen);
}

//  Accounts are active by their own local time: Tokyo's customers shop at
//  midday in Tokyo (03:00 UTC), not at midday in UTC.
static void
test_local_time (void **state)
{
    (void) state;
    generator_t *gen = s_long_generator (0.01, 2000);
    static record_t rec;
    int by_local_hour [2] [24] = { { 0 } };
    for (int i = 0; i < S_LONG_RECORDS; i++) {
        generator_next (gen, &rec, 0);
        if (rec.is_fraud || rec.pattern)
            continue;
        //  At home in DE, or in JP (expats, a few hundred accounts).
        int jp = s_view_is (rec.raw.country, "JP");
        if (!jp && !s_view_is (rec.raw.country, "DE"))
            continue;
        int hour, weekday;
        tzcountry_hour_weekday (TZCOUNTRY_CODE (rec.raw.country.ptr [0], rec.raw.country.ptr [1]),
                                rec.ts_ms, &hour, &weekday);
        by_local_hour [jp] [hour]++;
    }
    for (int jp = 0; jp < 2; jp++) {
        int night = 0, day = 0;
        for (int h = 1; h < 5; h++)
            night += by_local_hour [jp] [h];
        for (int h = 11; h < 15; h++)
            day += by_local_hour [jp] [h];
        assert_true (day > 200);
        assert_true (night * 4 < day);
    }
    generator_destroy (&gen);
}

static void
test_invalid_records_carry_their_defect (void **state)
{
    (void) state;
    generator_config_t config = s_config (3, S_2026_01_05);
    config.invalid_rate = 0.3;
    config.fraud_rate = 0.02;
    generator_t *gen = generator_new (&config);
    static record_t rec;
    int seen [TXW_REJECT_COUNT] = { 0 };
    int invalid = 0;
    const int total = 60000;
    for (int i = 0; i < total; i++) {
        generator_next (gen, &rec, 0);
        uint32_t defects = s_defects (&rec, S_2026_01_05);
        if (rec.invalid < 0) {
            assert_int_equal (defects, 0);
            assert_string_equal (rec.injected, "");
            continue;
        }
        invalid++;
        assert_false (rec.is_fraud);
        //  Exactly the labelled defect, and the label names it.
        assert_int_equal (defects, 1u << rec.invalid);
        char label [64];
        snprintf (label, sizeof label, "invalid:%s", txw_reject_names [rec.invalid]);
        assert_string_equal (rec.injected, label);
        seen [rec.invalid]++;
        if (rec.invalid == TXW_REJECT_BAD_CURRENCY)
            assert_true (s_view_is (rec.raw.currency, "XXQ"));
        if (rec.invalid == TXW_REJECT_BAD_COUNTRY)
            assert_true (s_view_is (rec.raw.country, "ZZ"));
        if (rec.invalid == TXW_REJECT_BAD_TIMESTAMP)
            assert_true (s_view_is (rec.raw.ts, "not-a-time"));
        if (rec.invalid == TXW_REJECT_BAD_CHANNEL)
            assert_true (s_view_is (rec.raw.channel, "fax"));
        if (rec.invalid == TXW_REJECT_BAD_STATUS)
            assert_true (s_view_is (rec.raw.status, "pending"));
        if (rec.invalid == TXW_REJECT_BAD_AMOUNT) {
            //  One decimal too many, and otherwise a fine positive amount.
            int exponent = txw_currency_exponent (rec.raw.currency.ptr, 3);
            int64_t minor;
            assert_int_equal (txw_parse_amount (rec.raw.amount.ptr, rec.raw.amount.len,
                                                exponent + 1, &minor), 0);
            assert_true (minor > 0);
        }
    }
    double share = (double) invalid / total;
    assert_true (share > 0.3 * 0.85 && share < 0.3 * 1.15);
    for (int i = 0; i < generator_invalid_count; i++)
        assert_true (seen [generator_invalid_codes [i]] > 1000);
    generator_destroy (&gen);
}

static void
test_late_records (void **state)
{
    (void) state;
    generator_config_t config = s_config (5, S_2026_01_05);
    config.late_rate = 0.05;
    generator_t *gen = generator_new (&config);
    static record_t rec;
    int late = 0;
    int64_t max_ts = INT64_MIN;
    for (int i = 0; i < 40000; i++) {
        generator_next (gen, &rec, 0);
        if (rec.late) {
            late++;
            assert_string_equal (rec.injected, "late");
            assert_int_equal (s_defects (&rec, S_2026_01_05), 0);
            int64_t behind = max_ts - rec.ts_ms;
            assert_true (behind >= 60000 && behind <= 180000);
        }
        else
        if (rec.ts_ms > max_ts)
            max_ts = rec.ts_ms;
    }
    assert_true (late > 1500 && late < 2500);
    generator_destroy (&gen);

    //  A live clock has nothing to be late against: none are made.
    config.simulated = false;
    gen = generator_new (&config);
    for (int i = 0; i < 5000; i++) {
        generator_next (gen, &rec, S_2026_01_05 + i);
        assert_false (rec.late);
        assert_int_equal (rec.ts_ms, S_2026_01_05 + i);
    }
    generator_destroy (&gen);
}

static void
test_activity_shape (void **state)
{
    (void) state;
    generator_config_t config = s_config (1, S_2026_01_05);
    config.accounts = 100;
    generator_t *gen = generator_new (&config);
    double sum = 0;
    for (int h = 0; h < 24 * 7; h++)
        sum += generator_activity (gen, S_2026_01_05 + h * 3600000LL);
    assert_true (sum / 168 > 0.99 && sum / 168 < 1.01);
    //  Quiet at night, busy at midday; Sunday quieter than Friday.
    assert_true (generator_activity (gen, S_2026_01_05 + 3 * 3600000LL)
               < generator_activity (gen, S_2026_01_05 + 12 * 3600000LL) / 5);
    assert_true (generator_activity (gen, S_2026_01_05 + (6 * 24 + 12) * 3600000LL)
               < generator_activity (gen, S_2026_01_05 + (4 * 24 + 12) * 3600000LL));
    generator_destroy (&gen);

    //  A flat shape weighs every hour of the week alike.
    config.flat = true;
    gen = generator_new (&config);
    for (int h = 0; h < 24 * 7; h++)
        assert_true (generator_activity (gen, S_2026_01_05 + h * 3600000LL) == 1.0);
    generator_destroy (&gen);
}

//  A flat shape sends the same stream whatever the hour: a live clock at
//  03:00 on a Monday and at 14:00 on a Saturday give the same records but
//  for their times, and no night bursts.
static void
test_flat_shape_ignores_the_hour (void **state)
{
    (void) state;
    generator_config_t config = s_config (9, 0);
    config.simulated = false;
    config.flat = true;
    config.fraud_rate = 0.05;
    generator_t *night = generator_new (&config);
    generator_t *day = generator_new (&config);
    int64_t monday_0300 = S_2026_01_05 + 3 * 3600000LL;
    int64_t saturday_1400 = S_2026_01_05 + (5 * 24 + 14) * 3600000LL;
    record_t a, b;
    int fraud = 0;
    for (int i = 0; i < 20000; i++) {
        generator_next (night, &a, monday_0300 + i * 5);
        generator_next (day, &b, saturday_1400 + i * 5);
        assert_true (s_view_eq (a.raw.account_id, b.raw.account_id));
        assert_true (s_view_eq (a.raw.amount, b.raw.amount));
        assert_int_equal (a.pattern, b.pattern);
        assert_int_not_equal (a.pattern, GEN_NIGHT_BURST);
        fraud += a.pattern != GEN_PATTERN_NONE;
    }
    //  100 s of event time: the new patterns' later legs are still due.
    assert_true (fraud > 20000 * 0.03 && fraud < 20000 * 0.06);
    generator_destroy (&night);
    generator_destroy (&day);
}

//  --- CSV -----------------------------------------------------------------------

static int
s_split (const char *text, txw_str_t *fields, int max)
{
    static char buf [1024];
    snprintf (buf, sizeof buf, "%s", text);
    return csv_split (buf, strlen (buf), fields, max);
}

static void
test_csv_split (void **state)
{
    (void) state;
    txw_str_t f [8];
    assert_int_equal (s_split ("a,b,c", f, 8), 3);
    assert_true (s_view_is (f [0], "a") && s_view_is (f [1], "b") && s_view_is (f [2], "c"));
    //  Empty fields, at the start, the middle and the end.
    assert_int_equal (s_split (",x,,", f, 8), 4);
    assert_true (s_view_is (f [0], "") && s_view_is (f [1], "x")
              && s_view_is (f [2], "") && s_view_is (f [3], ""));
    assert_int_equal (s_split ("", f, 8), 1);
    assert_true (s_view_is (f [0], ""));
    //  Quoted fields with commas and doubled quotes.
    assert_int_equal (s_split ("\"1,50\",\"say \"\"hi\"\"\",\"\",plain", f, 8), 4);
    assert_true (s_view_is (f [0], "1,50"));
    assert_true (s_view_is (f [1], "say \"hi\""));
    assert_true (s_view_is (f [2], ""));
    assert_true (s_view_is (f [3], "plain"));
    //  More fields than room: counted, not stored past max.
    assert_int_equal (s_split ("1,2,3,4,5,6,7,8,9,10", f, 8), 10);
    //  Broken quoting.
    assert_int_equal (s_split ("a,\"open", f, 8), -1);
    assert_int_equal (s_split ("a,\"x\"y,b", f, 8), -1);
    assert_int_equal (s_split ("a,b\"c,d", f, 8), -1);
}

static const char *s_header =
    "tx_id,ts,account_id,amount,currency,merchant_id,category,channel,"
    "branch_id,region,country,device_id,product_id,status";

static char *
s_temp_file (const char *content)
{
    static char path [64];
    snprintf (path, sizeof path, "/tmp/test_producer_%d.csv", (int) getpid ());
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (content, file);
    fclose (file);
    return path;
}

static void
test_csv_reader (void **state)
{
    (void) state;
    char content [2048];
    snprintf (content, sizeof content,
        "\xEF\xBB\xBF%s\r\n"
        "T1,2026-01-05T00:00:00Z,A1,\"1,50\",EUR,M1,grocery,pos,B1,R1,DE,D1,,approved\r\n"
        "T2,2026-01-05T00:00:00Z,A2,2.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved,extra\n"
        "T3,2026-01-05T00:00:00Z,A3\n"
        "T4,\"bad\"x,A4,2.00,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved\n"
        "\n"
        "T5,2026-01-05T00:00:00Z,A5,\"say \"\"hi\"\"\",EUR,M1,grocery,pos,B1,R1,DE,D1,P1,approved\n",
        s_header);
    char *path = s_temp_file (content);
    csv_reader_t *reader = csv_reader_new (path);
    assert_non_null (reader);
    static record_t rec;
    txw_reject_t rej;
    assert_int_equal (csv_reader_header (reader, &rej), 0);

    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_ROW);
    assert_true (s_view_is (rec.raw.tx_id, "T1"));
    assert_true (s_view_is (rec.raw.amount, "1,50"));
    assert_true (s_view_is (rec.raw.status, "approved"));   //  no \r left
    assert_int_equal (rec.raw.line_no, 2);

    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_REJECT);
    assert_string_equal (rej.reason, "csv_columns");
    assert_int_equal (rej.line_no, 3);
    assert_int_equal (rej.origin_index, 3);
    assert_string_equal (rej.tx_id, "T2");
    assert_non_null (strstr (rej.message, "line 3"));
    assert_non_null (strstr (rej.payload, "T2,2026-01-05"));
    assert_null (strstr (rej.payload, ",A2,"));             //  account masked

    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_REJECT);
    assert_string_equal (rej.reason, "csv_columns");
    assert_int_equal (rej.line_no, 4);

    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_REJECT);
    assert_string_equal (rej.reason, "csv_quoting");
    assert_int_equal (rej.line_no, 5);

    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_REJECT);
    assert_string_equal (rej.reason, "csv_columns");       //  a blank line
    assert_int_equal (rej.line_no, 6);

    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_ROW);
    assert_true (s_view_is (rec.raw.amount, "say \"hi\""));
    assert_true (s_view_is (rec.raw.product_id, "P1"));
    assert_int_equal (rec.raw.line_no, 7);
    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_EOF);
    csv_reader_destroy (&reader);
    assert_null (reader);

    //  Extra columns after the 14 are accepted when the header has them.
    snprintf (content, sizeof content, "%s,is_fraud\n"
              "T1,2026-01-05T00:00:00Z,A1,1.50,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved,1\n",
              s_header);
    reader = csv_reader_new (s_temp_file (content));
    assert_int_equal (csv_reader_header (reader, &rej), 0);
    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_ROW);
    assert_true (s_view_is (rec.raw.status, "approved"));
    assert_null (rec.raw.device_type.ptr);                  //  no such column
    assert_null (rec.raw.order_id.ptr);
    csv_reader_destroy (&reader);

    //  The optional order_id column, before device_type or after it.
    snprintf (content, sizeof content, "%s,ORDER_ID,device_type\n"
              "T1,2026-01-05T00:00:00Z,A1,1.50,EUR,M1,grocery,pos,B1,R1,DE,D1,P7,approved,O1-9,web\n"
              "T2,2026-01-05T00:00:00Z,A1,1.50,EUR,M1,grocery,pos,B1,R1,DE,D1,P8,approved,,web\n",
              s_header);
    reader = csv_reader_new (s_temp_file (content));
    assert_int_equal (csv_reader_header (reader, &rej), 0);
    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_ROW);
    assert_true (s_view_is (rec.raw.order_id, "O1-9"));
    assert_true (s_view_is (rec.raw.device_type, "web"));
    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_ROW);
    assert_int_equal (rec.raw.order_id.len, 0);             //  empty: none
    csv_reader_destroy (&reader);

    //  The optional device_type column is found by name after the core
    //  ones, in any case; a column named twice is a bad header.
    snprintf (content, sizeof content, "%s,note, Device_Type \n"
              "T1,2026-01-05T00:00:00Z,A1,1.50,EUR,M1,grocery,pos,B1,R1,DE,D1,,approved,x,IOS\n",
              s_header);
    reader = csv_reader_new (s_temp_file (content));
    assert_int_equal (csv_reader_header (reader, &rej), 0);
    assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_ROW);
    assert_true (s_view_is (rec.raw.device_type, "IOS"));
    assert_true (s_view_is (rec.raw.status, "approved"));
    csv_reader_destroy (&reader);
    snprintf (content, sizeof content, "%s,device_type,device_type\n", s_header);
    reader = csv_reader_new (s_temp_file (content));
    assert_int_equal (csv_reader_header (reader, &rej), -1);
    assert_string_equal (rej.reason, "csv_header");
    assert_non_null (strstr (rej.message, "twice"));
    csv_reader_destroy (&reader);

    //  A bad header, a missing one.
    reader = csv_reader_new (s_temp_file ("tx_id,when,account_id\nT1,x,y\n"));
    assert_int_equal (csv_reader_header (reader, &rej), -1);
    assert_string_equal (rej.reason, "csv_header");
    assert_int_equal (rej.line_no, 1);
    csv_reader_destroy (&reader);
    reader = csv_reader_new (s_temp_file (""));
    assert_int_equal (csv_reader_header (reader, &rej), -1);
    assert_string_equal (rej.reason, "csv_header");
    csv_reader_destroy (&reader);
    unlink (path);
    assert_null (csv_reader_new ("/nonexistent/file.csv"));
}

//  A row that does not split keeps no id in clear, wherever a stray comma
//  moved it (common/pii.h): not the id, not its last four characters.
static void
s_assert_no_ids (const txw_reject_t *rej)
{
    const char *ids [] = { "ACC-98XYZ", "98XYZ", "DEV-7QWTK", "7QWTK" };
    for (size_t i = 0; i < sizeof ids / sizeof ids [0]; i++)
        if (strstr (rej->payload, ids [i]) || strstr (rej->message, ids [i])
        ||  strstr (rej->tx_id, ids [i]))
            fail_msg ("'%s' shows in %s / %s / %s", ids [i], rej->payload, rej->message,
                      rej->tx_id);
}

static void
test_csv_reject_masks_shifted_rows (void **state)
{
    (void) state;
    char content [2048];
    snprintf (content, sizeof content, "%s\n"
        "T1,2026-01-05T00:00:00Z,ACC-98XYZ,12,50,EUR,M1,grocery,pos,B1,R1,DE,DEV-7QWTK,,approved\n"
        "T2,2026-01-05,T00:00:00Z,ACC-98XYZ,12.50,EUR,M1,grocery,pos,B1,R1,DE,DEV-7QWTK,,approved\n"
        "T3,2026-01-05T00:00:00Z,ACC-98XYZ,12.50,EUR,M1,grocery,pos,B1,R1,DE,DEV-7QWTK,approved\n",
        s_header);
    char *path = s_temp_file (content);
    csv_reader_t *reader = csv_reader_new (path);
    static record_t rec;
    txw_reject_t rej;
    assert_int_equal (csv_reader_header (reader, &rej), 0);
    char account [TXW_PSEUDONYM_SIZE], device [TXW_PSEUDONYM_SIZE], expected [256];
    txw_mask_id ("ACC-98XYZ", 9, account, sizeof account);
    txw_mask_id ("DEV-7QWTK", 9, device, sizeof device);
    for (int row = 1; row <= 3; row++) {
        assert_int_equal (csv_reader_next (reader, &rec, &rej), CSV_REJECT);
        assert_string_equal (rej.reason, "csv_columns");
        s_assert_no_ids (&rej);
        //  The ids are their pseudonyms, which the alerts show too.
        assert_non_null (strstr (rej.payload, account));
        assert_non_null (strstr (rej.payload, device));
        snprintf (expected, sizeof expected, "T%d", row);
        assert_string_equal (rej.tx_id, expected);
    }
    csv_reader_destroy (&reader);

    //  Without a header the first row is taken for one: it is refused, and
    //  neither its message nor its payload nor a tx_id shows its ids.
    reader = csv_reader_new (s_temp_file (
        "ACC-98XYZ,T1,2026-01-05T00:00:00Z,12.50,EUR,M1,grocery,pos,B1,R1,DE,DEV-7QWTK,,approved\n"));
    assert_int_equal (csv_reader_header (reader, &rej), -1);
    assert_string_equal (rej.reason, "csv_header");
    s_assert_no_ids (&rej);
    assert_string_equal (rej.tx_id, "");
    assert_non_null (strstr (rej.message, account));
    assert_int_equal (strncmp (rej.payload, account, strlen (account)), 0);
    assert_non_null (strstr (rej.payload, ",2026-01-05T00:00:00Z,12.50,EUR,"));
    csv_reader_destroy (&reader);
    unlink (path);
}

//  Generated records written with --csv-out and read back with --file are
//  the same records, baskets too; the order_id column is there only with a
//  catalogue.
static void
test_csv_round_trip (void **state)
{
    (void) state;
    for (int products = 0; products <= 500; products += 500) {
        char path [64];
        snprintf (path, sizeof path, "/tmp/test_producer_rt_%d.csv", (int) getpid ());
        generator_config_t config = s_config (11, S_2026_01_05);
        config.invalid_rate = 0.05;
        config.late_rate = 0.05;
        config.products = (uint32_t) products;
        generator_t *gen = generator_new (&config);
        csv_writer_t *writer = products? csv_writer_open (path, true): csv_writer_new (path);
        assert_non_null (writer);
        static record_t rec, back;
        //  One record with text that needs quoting.
        generator_next (gen, &rec, 0);
        rec.raw.merchant_id = record_view ("M\"1,2\"");
        assert_int_equal (csv_writer_record (writer, &rec), 0);
        for (int i = 0; i < 5000; i++) {
            generator_next (gen, &rec, 0);
            assert_int_equal (csv_writer_record (writer, &rec), 0);
        }
        assert_int_equal (csv_writer_close (&writer), 0);
        assert_null (writer);
        generator_destroy (&gen);

        FILE *file = fopen (path, "r");
        char header [512];
        assert_non_null (fgets (header, sizeof header, file));
        fclose (file);
        assert_int_equal (strstr (header, ",device_type,order_id,is_fraud,") != NULL, products > 0);
        assert_int_equal (strstr (header, ",device_type,is_fraud,") != NULL, products == 0);

        gen = generator_new (&config);
        csv_reader_t *reader = csv_reader_new (path);
        txw_reject_t rej;
        assert_int_equal (csv_reader_header (reader, &rej), 0);
        int orders = 0;
        for (int i = 0; i <= 5000; i++) {
            generator_next (gen, &rec, 0);
            if (i == 0)
                rec.raw.merchant_id = record_view ("M\"1,2\"");
            assert_int_equal (csv_reader_next (reader, &back, &rej), CSV_ROW);
            for (int f = 0; f < RECORD_FIELDS; f++) {
                txw_str_t a = *record_field (&rec, f), b = *record_field (&back, f);
                //  An absent order is an empty cell.
                if (f == TXW_RAW_ORDER_ID && !a.ptr && products)
                    assert_int_equal (b.len, 0);
                else
                    assert_true (s_view_eq (a, b));
            }
            orders += rec.raw.order_id.len > 0;
        }
        assert_int_equal (orders > 500, products > 0);
        assert_int_equal (csv_reader_next (reader, &back, &rej), CSV_EOF);
        csv_reader_destroy (&reader);
        generator_destroy (&gen);
        unlink (path);
    }
}

//  --- Catalogue and baskets ------------------------------------------------------

//  The same seed builds the same catalogue; its products are e-commerce
//  goods with sensible prices; a few are far more popular than the rest.
static void
test_catalogue (void **state)
{
    (void) state;
    catalogue_t *a = catalogue_new (5, 2000);
    catalogue_t *b = catalogue_new (5, 2000);
    catalogue_t *c = catalogue_new (6, 2000);
    assert_non_null (a);
    assert_int_equal (catalogue_count (a), 2000);
    int differ = 0;
    for (uint32_t i = 0; i < 2000; i++) {
        const catalogue_product_t *p = catalogue_product (a, i), *q = catalogue_product (b, i);
        assert_memory_equal (p, q, sizeof *p);
        const catalogue_product_t *r = catalogue_product (c, i);
        differ += strcmp (p->name, r->name) != 0 || p->price_minor != r->price_minor;
        char id [12];
        snprintf (id, sizeof id, "P%05u", i + 1);
        assert_string_equal (p->id, id);
        assert_true (p->category == CAT_ONLINE_RETAIL || p->category == CAT_CLOTHING
                  || p->category == CAT_ELECTRONICS);
        assert_true (p->price_minor >= 99 && p->price_minor % 100 == 99);
        assert_true (p->companion < 2000);
    }
    assert_true (differ > 1500);
    assert_true (catalogue_sells (a, CAT_CLOTHING));
    assert_false (catalogue_sells (a, CAT_GROCERY));

    //  Popularity: the 1% most bought products of a category take over a
    //  quarter of its sales (uniform would be 1%); other categories' none.
    prng_t rng;
    prng_seed (&rng, 1);
    static uint32_t sold [2000];
    int draws = 200000;
    for (int i = 0; i < draws; i++)
        sold [catalogue_pick (a, &rng, CAT_ONLINE_RETAIL)]++;
    uint32_t in_category = 0;
    for (uint32_t i = 0; i < 2000; i++) {
        if (catalogue_product (a, i)->category == CAT_ONLINE_RETAIL)
            in_category++;
        else
            assert_int_equal (sold [i], 0);
    }
    assert_int_equal (in_category, 1000);
    //  The top 10 of 1,000 by count.
    uint32_t top = 0;
    for (int k = 0; k < 10; k++) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < 2000; i++)
            if (sold [i] > sold [best])
                best = i;
        top += sold [best];
        sold [best] = 0;
    }
    assert_true (top > (uint32_t) draws / 4);

    //  The CSV: a header, a row per product, prices in major units.
    char path [64];
    snprintf (path, sizeof path, "/tmp/test_catalogue_%d.csv", (int) getpid ());
    assert_int_equal (catalogue_write_csv (a, path), 0);
    FILE *file = fopen (path, "r");
    char line [256];
    assert_non_null (fgets (line, sizeof line, file));
    assert_string_equal (line, "product_id,name,category,price,currency\n");
    assert_non_null (fgets (line, sizeof line, file));
    const catalogue_product_t *first = catalogue_product (a, 0);
    char expected [256];
    snprintf (expected, sizeof expected, "P00001,%s,%s,%lld.%02lld,EUR\n", first->name,
              population_categories [first->category].name,
              (long long) (first->price_minor / 100), (long long) (first->price_minor % 100));
    assert_string_equal (line, expected);
    int rows = 1;
    while (fgets (line, sizeof line, file))
        rows++;
    fclose (file);
    unlink (path);
    assert_int_equal (rows, 2000);
    assert_int_equal (catalogue_write_csv (a, "/nonexistent/dir/c.csv"), -1);
    catalogue_destroy (&a);
    catalogue_destroy (&b);
    catalogue_destroy (&c);
    assert_null (a);
}

//  With a catalogue, online purchases come as orders: 1 to 8 line items
//  back to back, one account, merchant, device and time, distinct products
//  of the catalogue, each amount the price times 1 to 3, a mean size near
//  2.5, mostly one or two categories, and pairs of products bought together
//  far more often than their popularity explains. Without one, no record
//  has an order.
static void
test_baskets (void **state)
{
    (void) state;
    generator_config_t config = s_config (21, S_2026_01_05);
    generator_t *plain = generator_new (&config);
    static record_t rec, first;
    for (int i = 0; i < 20000; i++) {
        generator_next (plain, &rec, 0);
        assert_null (rec.raw.order_id.ptr);
    }
    generator_destroy (&plain);

    enum { N = 2000 };
    config.products = N;
    generator_t *gen = generator_new (&config);
    catalogue_t *cat = catalogue_new (21, N);
    //  Orders with each product, and with each pair (i < j).
    static uint32_t with [N];
    uint32_t *pairs = calloc ((size_t) N * N, sizeof *pairs);
    assert_non_null (pairs);
    uint32_t items [8];
    int size = 0, orders = 0, line_items = 0, narrow = 0, sizes [9] = { 0 };
    char order [48] = "";
    for (int i = 0; i <= 200000; i++) {
        if (i < 200000)
            generator_next (gen, &rec, 0);
        bool same = i < 200000 && rec.raw.order_id.len
                 && s_view_is (rec.raw.order_id, order);
        if (size && !same) {
            //  The order that just ended.
            orders++;
            sizes [size]++;
            int categories [CAT_COUNT] = { 0 }, distinct = 0;
            for (int x = 0; x < size; x++) {
                with [items [x]]++;
                if (!categories [catalogue_product (cat, items [x])->category]++)
                    distinct++;
                for (int y = x + 1; y < size; y++) {
                    uint32_t lo = items [x] < items [y]? items [x]: items [y];
                    uint32_t hi = items [x] < items [y]? items [y]: items [x];
                    assert_true (lo != hi);
                    pairs [(size_t) lo * N + hi]++;
                }
            }
            narrow += distinct <= 2;
            size = 0;
        }
        if (i == 200000)
            break;
        if (rec.raw.product_id.len) {
            //  Every product named is in the catalogue, basket or not.
            unsigned n;
            assert_int_equal (sscanf (rec.raw.product_id.ptr, "P%5u", &n), 1);
            assert_true (n >= 1 && n <= N);
        }
        if (!rec.raw.order_id.len)
            continue;
        line_items++;
        if (size == 0) {
            snprintf (order, sizeof order, "%.*s", (int) rec.raw.order_id.len,
                      rec.raw.order_id.ptr);
            first = rec;
            first.raw.ts = (txw_str_t) { first.ts, rec.raw.ts.len };
            first.raw.device_id = (txw_str_t) { first.device_id, rec.raw.device_id.len };
        }
        else {
            assert_true (s_view_eq (rec.raw.account_id, first.raw.account_id));
            assert_true (s_view_eq (rec.raw.merchant_id, first.raw.merchant_id));
            assert_true (s_view_eq (rec.raw.device_id, first.raw.device_id));
            assert_true (s_view_eq (rec.raw.ts, first.raw.ts));
            assert_true (s_view_eq (rec.raw.status, first.raw.status));
        }
        assert_true (size < 8);
        unsigned n;
        assert_int_equal (sscanf (rec.raw.product_id.ptr, "P%5u", &n), 1);
        items [size++] = n - 1;
        assert_true (s_view_is (rec.raw.currency, "EUR"));
        assert_false (s_view_is (rec.raw.channel, "pos"));
        int64_t minor;
        assert_int_equal (txw_parse_amount (rec.raw.amount.ptr, rec.raw.amount.len, 2, &minor), 0);
        int64_t price = catalogue_product (cat, n - 1)->price_minor;
        assert_true (minor == price || minor == 2 * price || minor == 3 * price);
        assert_false (rec.is_fraud);
    }
    double mean = (double) line_items / orders;
    assert_true (orders > 10000);
    assert_true (mean > 2.2 && mean < 2.8);
    assert_true (sizes [1] > sizes [2] && sizes [2] > sizes [4] && sizes [8] > 0);
    assert_true (narrow > orders * 85 / 100);
    //  Lift: orders with both over what independent choices would give.
    //  The best pair seen at least 20 times is bought together many times
    //  more often than chance.
    double best = 0;
    for (size_t lo = 0; lo < N; lo++)
        for (size_t hi = lo + 1; hi < N; hi++) {
            uint32_t both = pairs [lo * N + hi];
            if (both < 20)
                continue;
            double lift = (double) both * orders / ((double) with [lo] * with [hi]);
            if (lift > best)
                best = lift;
        }
    assert_true (best > 10);
    free (pairs);
    catalogue_destroy (&cat);
    generator_destroy (&gen);
}

//  Customers have a taste: an order starts, about three times in ten, with
//  the companion of the product the customer last bought without it (what
//  it wants: an approved order that starts with it meets the want, and the
//  first product of an approved order bought without its companion is the
//  new want), and a customer's orders are mostly of one category. Every
//  order's merchant sells the category of its first product.
static void
test_taste (void **state)
{
    (void) state;
    enum { N = 2000, ACCOUNTS = 2000 };
    generator_config_t config = s_config (22, S_2026_01_05);
    config.accounts = ACCOUNTS;
    config.products = N;
    generator_t *gen = generator_new (&config);
    catalogue_t *cat = catalogue_new (22, N);
    static record_t rec;
    static uint32_t wants [ACCOUNTS];           //  1 + product, 0 for none
    static uint32_t by_category [ACCOUNTS] [CAT_COUNT];
    uint32_t items [8];
    int size = 0, account = 0, category = 0, with_want = 0, followed = 0, orders = 0;
    bool approved = false;
    char order [48] = "";
    for (int i = 0; i <= 200000; i++) {
        if (i < 200000)
            generator_next (gen, &rec, 0);
        bool same = i < 200000 && rec.raw.order_id.len
                 && s_view_is (rec.raw.order_id, order);
        if (size && !same) {
            //  The order that just ended.
            orders++;
            by_category [account] [category]++;
            assert_int_equal (catalogue_product (cat, items [0])->category, category);
            uint32_t *want = &wants [account];
            bool follow_up = false;
            if (*want) {
                with_want++;
                follow_up = items [0] == catalogue_product (cat, *want - 1)->companion;
                followed += follow_up;
            }
            if (approved) {
                if (follow_up)
                    *want = 0;
                for (int x = 0; x < size; x++) {
                    uint32_t companion = catalogue_product (cat, items [x])->companion;
                    bool in_order = false;
                    for (int y = 0; y < size; y++)
                        in_order |= items [y] == companion;
                    if (companion != items [x] && !in_order) {
                        *want = items [x] + 1;
                        break;
                    }
                }
            }
            size = 0;
        }
        if (i == 200000)
            break;
        if (!rec.raw.order_id.len)
            continue;
        if (size == 0) {
            snprintf (order, sizeof order, "%.*s", (int) rec.raw.order_id.len,
                      rec.raw.order_id.ptr);
            unsigned n;
            assert_int_equal (sscanf (rec.raw.account_id.ptr, "A%6u", &n), 1);
            assert_true (n < ACCOUNTS);
            account = (int) n;
            approved = s_view_is (rec.raw.status, "approved");
            for (category = 0; category < CAT_COUNT; category++)
                if (s_view_is (rec.raw.category, population_categories [category].name))
                    break;
            assert_true (category < CAT_COUNT);
        }
        unsigned n;
        assert_int_equal (sscanf (rec.raw.product_id.ptr, "P%5u", &n), 1);
        items [size++] = n - 1;
    }
    //  Three in ten follow-ups, and a few first products that are the
    //  wanted one by popularity alone (0.07 of orders without taste).
    assert_true (orders > 20000 && with_want > orders / 2);
    double share = (double) followed / with_want;
    assert_true (share > 0.28 && share < 0.40);
    //  Customers with ten orders or more: their most bought category has
    //  most of their orders, more than their ordinary preferences alone
    //  give (0.79 without a favourite; 0.86 with).
    uint32_t customers = 0, favourite = 0, total = 0;
    for (int a = 0; a < ACCOUNTS; a++) {
        uint32_t most = 0, all = 0;
        for (int c = 0; c < CAT_COUNT; c++) {
            all += by_category [a] [c];
            most = by_category [a] [c] > most? by_category [a] [c]: most;
        }
        if (all < 10)
            continue;
        customers++;
        favourite += most;
        total += all;
    }
    assert_true (customers > ACCOUNTS / 4);
    assert_true (favourite > total * 83 / 100);
    catalogue_destroy (&cat);
    generator_destroy (&gen);
}

//  --- RFC 3339 ------------------------------------------------------------------

static void
test_rfc3339 (void **state)
{
    (void) state;
    char buf [RFC3339_SIZE];
    assert_int_equal (rfc3339_format (buf, sizeof buf, 0), 24);
    assert_string_equal (buf, "1970-01-01T00:00:00.000Z");
    rfc3339_format (buf, sizeof buf, S_2026_01_05 + 123);
    assert_string_equal (buf, "2026-01-05T00:00:00.123Z");
    rfc3339_format (buf, sizeof buf, -1);
    assert_string_equal (buf, "1969-12-31T23:59:59.999Z");
    rfc3339_format (buf, sizeof buf, 1709251199000LL + 999);
    assert_string_equal (buf, "2024-02-29T23:59:59.999Z");

    int64_t ms;
    assert_int_equal (rfc3339_parse ("2026-01-05T00:00:00Z", 20, &ms), 0);
    assert_int_equal (ms, S_2026_01_05);
    const char *s = "2026-01-05T02:30:00.5+02:30";
    assert_int_equal (rfc3339_parse (s, strlen (s), &ms), 0);
    assert_int_equal (ms, S_2026_01_05 + 500);
    s = "2026-01-04t23:00:00.123456-01:00";
    assert_int_equal (rfc3339_parse (s, strlen (s), &ms), 0);
    assert_int_equal (ms, S_2026_01_05 + 123);
    const char *bad [] = {
        "not-a-time", "2026-01-05", "2026-01-05T00:00:00", "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-01-05T24:00:00Z", "2026-01-05T00:00:00.Z",
        "2026-01-05T00:00:00Zjunk", "2026-1-05T00:00:00Z", "2026-01-05T00:00:00+0200"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (rfc3339_parse (bad [i], strlen (bad [i]), &ms), -1);

    //  Format then parse gives the same instant, across four centuries.
    for (int64_t t = -2208988800000LL; t < 7258118400000LL; t += 987654321987LL / 1000) {
        size_t len = rfc3339_format (buf, sizeof buf, t);
        assert_int_equal (len, 24);
        assert_int_equal (rfc3339_parse (buf, len, &ms), 0);
        assert_int_equal (ms, t);
    }
    int hour, weekday;
    rfc3339_hour_weekday (S_2026_01_05 + 13 * 3600000LL + 5, &hour, &weekday);
    assert_int_equal (hour, 13);
    assert_int_equal (weekday, 0);
    rfc3339_hour_weekday (-1, &hour, &weekday);
    assert_int_equal (hour, 23);
    assert_int_equal (weekday, 2);              //  1969-12-31 was a Wednesday
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_determinism),
        cmocka_unit_test (test_run_number),
        cmocka_unit_test (test_fraud_rate_and_patterns_at_night),
        cmocka_unit_test (test_fraud_rate_and_patterns_by_day),
        cmocka_unit_test (test_impossible_travel_under_load),
        cmocka_unit_test (test_fraud_rate_over_days),
        cmocka_unit_test (test_new_patterns),
        cmocka_unit_test (test_local_time),
        cmocka_unit_test (test_invalid_records_carry_their_defect),
        cmocka_unit_test (test_late_records),
        cmocka_unit_test (test_activity_shape),
        cmocka_unit_test (test_flat_shape_ignores_the_hour),
        cmocka_unit_test (test_csv_split),
        cmocka_unit_test (test_csv_reader),
        cmocka_unit_test (test_csv_reject_masks_shifted_rows),
        cmocka_unit_test (test_csv_round_trip),
        cmocka_unit_test (test_catalogue),
        cmocka_unit_test (test_baskets),
        cmocka_unit_test (test_taste),
        cmocka_unit_test (test_rfc3339),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
