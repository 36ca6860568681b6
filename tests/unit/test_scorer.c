/*  test_scorer - per-account profiles, each fraud rule, the combiner

    Links the scorer's real modules (profiles.c, rules.c). Histories are
    crafted by hand so each rule is seen to fire on the pattern it is for
    and to stay quiet on a normal account; a small seeded simulation of
    normal traffic with injected fraud checks the weights as a whole. No
    test depends on timing.                                                   */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gbdt.h"
#include "pii.h"
#include "profiles.h"
#include "reasons.h"
#include "rules.h"
#include "ruleset.h"
#include "tzcountry.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define S_DAY_MS    (24 * 3600 * 1000LL)
#define S_HOUR_MS   (3600 * 1000LL)
#define S_T0        (1767225600000LL)     //  2026-01-01T00:00:00Z

//  --- Helpers -------------------------------------------------------------------

static void
s_tx (txw_tx_t *tx, const char *account, int64_t ts_ms, int64_t amount,
      int channel, const char *country, const char *device, const char *category)
{
    memset (tx, 0, sizeof *tx);
    static unsigned serial = 0;
    snprintf (tx->tx_id, sizeof tx->tx_id, "t%u", ++serial);
    snprintf (tx->account_id, sizeof tx->account_id, "%s", account);
    tx->ts_ms = ts_ms;
    tx->amount_minor = amount;
    tx->amount_rep_minor = amount;
    snprintf (tx->currency, sizeof tx->currency, "EUR");
    snprintf (tx->merchant_id, sizeof tx->merchant_id, "m1");
    snprintf (tx->category, sizeof tx->category, "%s", category);
    tx->channel = (uint8_t) channel;
    snprintf (tx->country, sizeof tx->country, "%s", country);
    snprintf (tx->device_id, sizeof tx->device_id, "%s", device);
    tx->status = TXW_STATUS_APPROVED;
    tx->hour = (uint8_t) ((ts_ms / S_HOUR_MS) % 24);
}

//  The log amount the profile tests keep statistics on.
static double
s_log (const txw_tx_t *tx)
{
    return log1p ((double) tx->amount_rep_minor);
}

typedef struct {
    profiles_t *profiles;
    rules_t *rules;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->profiles = profiles_new (10000, 0);
    f->rules = rules_new (NULL, NULL);
    assert_non_null (f->profiles);
    assert_non_null (f->rules);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    profiles_destroy (&f->profiles);
    profiles_destroy (&f->profiles);     //  twice is safe
    rules_destroy (&f->rules);
    assert_null (f->rules);
    free (f);
    return 0;
}

static uint8_t
s_score (fixture_t *f, txw_tx_t *tx)
{
    assert_int_equal (rules_score_tx (f->rules, f->profiles, tx, NULL, NULL), 0);
    assert_true (tx->scored);
    assert_string_equal (tx->model_version, ruleset_default ()->version);
    return tx->score;
}

//  A model that always answers the same score.
static double
s_fixed_model (void *arg, const rules_signals_t *signals)
{
    (void) signals;
    return *(double *) arg;
}

//  Twenty days of ordinary shopping: one purchase a day around 14:00, 40.00
//  to 60.00 at a grocery, in DE, from one phone. Returns the last time.
static int64_t
s_normal_history (fixture_t *f, const char *account)
{
    txw_tx_t tx;
    int64_t ts = S_T0;
    for (int day = 0; day < 20; day++) {
        ts = S_T0 + day * S_DAY_MS + 14 * S_HOUR_MS + (day % 5) * 600000;
        s_tx (&tx, account, ts, 4000 + (day % 5) * 500, TXW_CHANNEL_POS, "DE", "dev-1",
              "grocery");
        s_score (f, &tx);
        assert_true (tx.score < 80);
    }
    return ts;
}

//  --- Features --------------------------------------------------------------------

static void
test_profiles_counts_and_mean (void **state)
{
    fixture_t *f = *state;
    profiles_account_t *a = profiles_get (f->profiles, "acc-1", 5, S_T0);
    assert_non_null (a);
    assert_int_equal (a->count, 0);
    txw_tx_t tx;
    int64_t amounts [] = { 1000, 2000, 4000, 8000 };
    for (int i = 0; i < 4; i++) {
        s_tx (&tx, "acc-1", S_T0 + i * 1000, amounts [i], TXW_CHANNEL_POS, "DE", "d", "grocery");
        a = profiles_get (f->profiles, "acc-1", 5, tx.ts_ms);
        profiles_update (a, &tx, s_log (&tx), 0);
    }
    assert_int_equal (a->count, 4);
    assert_int_equal (profiles_size (f->profiles), 1);
    //  The mean of log1p amounts is the log of the geometric mean (~2828).
    double geo = exp (a->log_mean);
    assert_true (geo > 2800 && geo < 2860);
    //  Amounts double each time: log spread is ln 2 times sd (0,1,2,3).
    double expect = log (2.0) * sqrt (5.0 / 3.0);
    assert_true (fabs (profiles_log_std (a) - expect) < 0.01);
    assert_int_equal (a->last_ms, S_T0 + 3000);
    //  The same account comes back, another one is new.
    assert_ptr_equal (profiles_get (f->profiles, "acc-1", 5, S_T0 + 4000), a);
    profiles_account_t *b = profiles_get (f->profiles, "acc-2", 5, S_T0 + 4000);
    assert_ptr_not_equal (a, b);
    assert_int_equal (b->count, 0);
    assert_int_equal (profiles_size (f->profiles), 2);
    //  Ids the table cannot hold.
    assert_null (profiles_get (f->profiles, "", 0, S_T0));
    char long_id [TXW_ID_MAX + 2];
    memset (long_id, 'x', sizeof long_id);
    assert_null (profiles_get (f->profiles, long_id, TXW_ID_MAX + 1, S_T0));
}

static void
test_profiles_windows_by_event_time (void **state)
{
    fixture_t *f = *state;
    txw_tx_t tx;
    //  At 0 s, 30 s, 50 s (small), 10 min (declined), 50 min (small).
    int64_t offsets [] = { 0, 30000, 50000, 600000, 3000000 };
    profiles_account_t *a = NULL;
    for (int i = 0; i < 5; i++) {
        s_tx (&tx, "acc-w", S_T0 + offsets [i], 100, TXW_CHANNEL_ONLINE, "DE", "d", "x");
        if (i == 3)
            tx.status = TXW_STATUS_DECLINED;
        a = profiles_get (f->profiles, "acc-w", 5, tx.ts_ms);
        profiles_update (a, &tx, s_log (&tx), (i == 2 || i == 4)? PROFILES_SMALL: 0);
    }
    //  Seen from 55 s: the first three are within the minute.
    assert_int_equal (profiles_count_within (a, S_T0 + 55000, 60000, PROFILES_ALL), 3);
    assert_int_equal (profiles_count_within (a, S_T0 + 55000, 60000, PROFILES_SMALL_ONLY), 1);
    //  Seen from 61 s: only 30 s and 50 s.
    assert_int_equal (profiles_count_within (a, S_T0 + 61000, 60000, PROFILES_ALL), 2);
    //  Seen from 59 min: all five in the hour; one decline in 10 minutes.
    int64_t now = S_T0 + 59 * 60000;
    assert_int_equal (profiles_count_within (a, now, 3600000, PROFILES_ALL), 5);
    assert_int_equal (profiles_count_within (a, now, 3600000, PROFILES_SMALL_ONLY), 2);
    assert_int_equal (profiles_count_within (a, now, 600000, PROFILES_ALL), 1);
    assert_int_equal (profiles_count_within (a, S_T0 + 700000, 600000, PROFILES_DECLINED_ONLY), 1);
    //  Two hours later nothing is recent; the count of all time stays.
    assert_int_equal (profiles_count_within (a, S_T0 + 2 * S_HOUR_MS, 3600000, PROFILES_ALL), 0);
    assert_int_equal (a->count, 5);
    //  The ring keeps the newest PROFILES_RING entries and saturates.
    for (int i = 0; i < 40; i++) {
        s_tx (&tx, "acc-w", S_T0 + S_DAY_MS + i * 1000, 100, TXW_CHANNEL_ONLINE, "DE", "d", "x");
        a = profiles_get (f->profiles, "acc-w", 5, tx.ts_ms);
        profiles_update (a, &tx, s_log (&tx), 0);
    }
    assert_int_equal (profiles_count_within (a, S_T0 + S_DAY_MS + 40000, 60000, PROFILES_ALL),
                      PROFILES_RING);
    assert_int_equal (profiles_count_within (a, S_T0 + S_DAY_MS + 40000, 60000,
                                             PROFILES_SMALL_ONLY), 0);
}

static void
test_profiles_countries_and_devices (void **state)
{
    fixture_t *f = *state;
    txw_tx_t tx;
    profiles_account_t *a = profiles_get (f->profiles, "acc-c", 5, S_T0);
    const char *countries [] = { "DE", "FR", "DE", "IT", "ES", "NL" };
    for (int i = 0; i < 6; i++) {
        char device [16];
        snprintf (device, sizeof device, "dev-%d", i);
        s_tx (&tx, "acc-c", S_T0 + i * 1000, 100, TXW_CHANNEL_POS, countries [i], device, "x");
        a = profiles_get (f->profiles, "acc-c", 5, tx.ts_ms);
        profiles_update (a, &tx, s_log (&tx), 0);
    }
    //  Four recent countries: DE was pushed out by NL, FR onwards remain.
    assert_true (profiles_country_seen (a, "NL"));
    assert_true (profiles_country_seen (a, "FR"));
    assert_false (profiles_country_seen (a, "DE"));
    assert_false (profiles_country_seen (a, "US"));
    assert_int_equal (a->last_country, profiles_country_code ("NL"));
    //  Four recent devices: dev-2 .. dev-5.
    assert_true (profiles_device_seen (a, "dev-5"));
    assert_true (profiles_device_seen (a, "dev-2"));
    assert_false (profiles_device_seen (a, "dev-1"));
    //  Unknown or empty values are never new.
    assert_true (profiles_country_seen (a, ""));
    assert_true (profiles_device_seen (a, ""));
}

static void
test_profiles_evict_least_recent_at_cap (void **state)
{
    (void) state;
    profiles_t *profiles = profiles_new (4, 0);
    txw_tx_t tx;
    const char *ids [] = { "a1", "a2", "a3", "a4" };
    for (int i = 0; i < 4; i++) {
        s_tx (&tx, ids [i], S_T0 + i, 100, TXW_CHANNEL_POS, "DE", "d", "x");
        profiles_update (profiles_get (profiles, ids [i], 2, tx.ts_ms), &tx, s_log (&tx), 0);
    }
    //  Touch a1, so a2 is now the least recently seen.
    profiles_update (profiles_get (profiles, "a1", 2, S_T0 + 10), &tx, s_log (&tx), 0);
    profiles_get (profiles, "a5", 2, S_T0 + 11);
    assert_int_equal (profiles_size (profiles), 4);
    assert_int_equal (profiles_evicted_cap (profiles), 1);
    assert_int_equal (profiles_get (profiles, "a1", 2, S_T0 + 12)->count, 2);
    assert_int_equal (profiles_get (profiles, "a3", 2, S_T0 + 12)->count, 1);
    //  a2 is gone: it comes back empty (and evicts a4 in turn).
    assert_int_equal (profiles_get (profiles, "a2", 2, S_T0 + 13)->count, 0);
    assert_int_equal (profiles_evicted_cap (profiles), 2);
    assert_int_equal (profiles_get (profiles, "a4", 2, S_T0 + 14)->count, 0);
    assert_int_equal (profiles_size (profiles), 4);
    profiles_destroy (&profiles);
    assert_null (profiles);
}

//  A copy scored again is scored like the original would be now, but the
//  account's history does not take it in twice.
static void
test_score_again_leaves_history (void **state)
{
    fixture_t *f = *state;
    txw_tx_t tx;
    s_tx (&tx, "acct-again", S_T0, 2500, TXW_CHANNEL_POS, "DE", "d1", "grocery");
    s_score (f, &tx);
    const profiles_account_t *a = profiles_get (f->profiles, "acct-again", 10, tx.ts_ms);
    uint32_t count = a->count;
    assert_int_equal (count, 1);
    assert_int_equal (rules_score_again (f->rules, f->profiles, &tx, NULL, NULL), 0);
    assert_true (tx.scored);
    assert_int_equal (profiles_get (f->profiles, "acct-again", 10, tx.ts_ms)->count, count);
    //  The account itself knows its last transactions: rules_score_tx on a
    //  copy scores it and says so (1), without folding it in.
    assert_int_equal (rules_score_tx (f->rules, f->profiles, &tx, NULL, NULL), 1);
    assert_true (tx.scored);
    assert_int_equal (profiles_get (f->profiles, "acct-again", 10, tx.ts_ms)->count, count);
    //  Another transaction folds.
    s_tx (&tx, "acct-again", S_T0 + 1000, 2500, TXW_CHANNEL_POS, "DE", "d1", "grocery");
    s_score (f, &tx);
    assert_int_equal (profiles_get (f->profiles, "acct-again", 10, tx.ts_ms)->count, count + 1);
    //  The ids survive a checkpoint: restored, the copy is still known,
    //  and the account forgets ids beyond its last PROFILES_TX_SEEN.
    profiles_account_t saved [4];
    size_t n = 0, got;
    while ((got = profiles_collect_dirty (f->profiles, saved + n, 4 - n)) > 0 && n < 4)
        n += got;
    assert_int_equal (n, 1);
    profiles_t *restored = profiles_new (100, 0);
    assert_int_equal (profiles_restore (restored, &saved [0]), 0);
    profiles_account_t *a2 = profiles_get (restored, "acct-again", 10, tx.ts_ms);
    assert_true (profiles_has_tx (a2, profiles_tx_hash (tx.tx_id)));
    uint32_t first = profiles_tx_hash (tx.tx_id);
    for (int i = 0; i < PROFILES_TX_SEEN; i++) {
        char id [16];
        snprintf (id, sizeof id, "later-%d", i);
        profiles_note_tx (a2, profiles_tx_hash (id));
    }
    assert_false (profiles_has_tx (a2, first));
    profiles_destroy (&restored);
}

//  Idle is judged by the account's own event times: an account back after
//  more than the limit starts afresh, whatever other accounts did between,
//  so the same rows sorted by account score as in time order.
static void
test_profiles_evict_idle (void **state)
{
    (void) state;
    profiles_t *profiles = profiles_new (100, S_HOUR_MS);
    txw_tx_t tx;
    s_tx (&tx, "old", S_T0, 100, TXW_CHANNEL_POS, "DE", "d", "x");
    profiles_update (profiles_get (profiles, "old", 3, tx.ts_ms), &tx, s_log (&tx), 0);
    s_tx (&tx, "mid", S_T0 + 30 * 60000, 100, TXW_CHANNEL_POS, "DE", "d", "x");
    profiles_update (profiles_get (profiles, "mid", 3, tx.ts_ms), &tx, s_log (&tx), 0);
    //  Another account far ahead in event time forgets nobody.
    s_tx (&tx, "new", S_T0 + 5 * S_HOUR_MS, 100, TXW_CHANNEL_POS, "DE", "d", "x");
    profiles_update (profiles_get (profiles, "new", 3, tx.ts_ms), &tx, s_log (&tx), 0);
    assert_int_equal (profiles_evicted_idle (profiles), 0);
    assert_int_equal (profiles_size (profiles), 3);
    //  "mid" back 59 minutes after its last event: still known.
    assert_int_equal (profiles_get (profiles, "mid", 3, S_T0 + 89 * 60000)->count, 1);
    //  "old" back 61 minutes after its last event: starts afresh.
    assert_int_equal (profiles_get (profiles, "old", 3, S_T0 + 61 * 60000)->count, 0);
    assert_int_equal (profiles_evicted_idle (profiles), 1);
    assert_int_equal (profiles_size (profiles), 3);
    profiles_destroy (&profiles);
}

//  The home country is voted on by the account's purchases until one leads
//  by PROFILES_HOME_SURE: a first purchase abroad is outvoted, and once
//  settled, however many purchases come from elsewhere do not move it.
static void
test_profiles_home_country (void **state)
{
    (void) state;
    profiles_t *profiles = profiles_new (16, 0);
    txw_tx_t tx;
    //  Before any purchase: the transaction's own country.
    s_tx (&tx, "trip", S_T0, 100, TXW_CHANNEL_POS, "US", "d", "grocery");
    assert_int_equal (profiles_home_country (NULL, &tx), TZCOUNTRY_CODE ('U', 'S'));
    profiles_account_t *a = profiles_get (profiles, "trip", 4, S_T0);
    assert_int_equal (profiles_home_country (a, &tx), TZCOUNTRY_CODE ('U', 'S'));
    profiles_update (a, &tx, s_log (&tx), 0);
    static const char *seen [] = { "DE", "DE", "DE", "DE" };
    for (int i = 0; i < 4; i++) {
        s_tx (&tx, "trip", S_T0 + (i + 1) * S_DAY_MS, 100, TXW_CHANNEL_POS, seen [i], "d",
              "grocery");
        assert_int_equal (profiles_home_country (a, &tx), i < 2? TZCOUNTRY_CODE ('U', 'S')
                                                               : TZCOUNTRY_CODE ('D', 'E'));
        profiles_update (a, &tx, s_log (&tx), 0);
    }
    assert_int_equal (a->home_votes, PROFILES_HOME_SURE);
    //  A takeover from abroad, a burst of twenty, leaves the clock at home.
    for (int i = 0; i < 20; i++) {
        s_tx (&tx, "trip", S_T0 + 6 * S_DAY_MS + i * 1000, 100, TXW_CHANNEL_ONLINE, "BR",
              "x", "electronics");
        profiles_update (a, &tx, s_log (&tx), 0);
    }
    assert_int_equal (profiles_home_country (a, &tx), TZCOUNTRY_CODE ('D', 'E'));
    //  A record with a vote out of range is not restored.
    profiles_account_t bad = *a;
    bad.home_votes = PROFILES_HOME_SURE + 1;
    profiles_t *other = profiles_new (16, 0);
    assert_int_equal (profiles_restore (other, &bad), -1);
    assert_int_equal (profiles_restore (other, a), 0);
    profiles_destroy (&other);
    profiles_destroy (&profiles);
}

//  Per-hour counts come from 5-minute buckets and do not stop at the ring's
//  16 entries; branch and region are compared with the account's home.
static void
test_profiles_hour_buckets_and_home (void **state)
{
    (void) state;
    profiles_t *profiles = profiles_new (16, 0);
    txw_tx_t tx;
    profiles_account_t *a = NULL;
    //  40 transactions a minute apart, starting on a bucket boundary.
    int64_t t0 = S_T0 - S_T0 % 300000;
    for (int i = 0; i < 40; i++) {
        s_tx (&tx, "busy", t0 + i * 60000, 100, TXW_CHANNEL_POS, "DE", "d", "grocery");
        strcpy (tx.branch_id, i < 30? "B1": "B2");
        strcpy (tx.region, "north");
        a = profiles_get (profiles, "busy", 4, tx.ts_ms);
        profiles_update (a, &tx, s_log (&tx), 0);
    }
    int64_t last = t0 + 39 * 60000;
    //  The hour up to the last one: buckets of 5 minutes, so 36..40.
    uint32_t hour = profiles_count_hour (a, last);
    assert_true (hour >= 36 && hour <= 40);
    assert_int_equal (profiles_count_within (a, last, 3600000, PROFILES_ALL), 16);
    //  Two hours later nothing is in the last hour.
    assert_int_equal (profiles_count_hour (a, last + 2 * 3600000), 0);
    //  An event a day older than the newest is not counted into any bucket.
    s_tx (&tx, "busy", last - 86400000, 100, TXW_CHANNEL_POS, "DE", "d", "grocery");
    profiles_update (a, &tx, s_log (&tx), 0);
    assert_true (profiles_count_hour (a, last) == hour);
    //  Home is the first branch and region; another one is away.
    assert_false (profiles_branch_away (a, "B1"));
    assert_true (profiles_branch_away (a, "B2"));
    assert_false (profiles_region_away (a, "north"));
    assert_true (profiles_region_away (a, "south"));
    assert_false (profiles_branch_away (a, ""));
    assert_true (a->dirty);
    profiles_destroy (&profiles);
}

//  Checkpoint records: every changed account is collected once, and a
//  fresh table restored from them finds each account with its history.
static void
test_profiles_collect_and_restore (void **state)
{
    (void) state;
    enum { N = 300 };
    profiles_t *profiles = profiles_new (1000, 0);
    txw_tx_t tx;
    char id [16];
    for (int i = 0; i < N; i++)
        for (int k = 0; k <= i % 5; k++) {
            snprintf (id, sizeof id, "acc-%d", i);
            s_tx (&tx, id, S_T0 + k * 60000, 1000 + i, TXW_CHANNEL_POS, "DE", "d", "grocery");
            profiles_account_t *a = profiles_get (profiles, id, strlen (id), tx.ts_ms);
            profiles_update (a, &tx, s_log (&tx), 0);
        }
    static profiles_account_t out [N];
    size_t got = 0, n;
    while ((n = profiles_collect_dirty (profiles, out + got, 7)) > 0)
        got += n;
    assert_int_equal (got, N);
    assert_int_equal (profiles_collect_dirty (profiles, out, N), 0);
    profiles_t *restored = profiles_new (1000, 0);
    for (size_t i = 0; i < got; i++)
        assert_int_equal (profiles_restore (restored, &out [i]), 0);
    assert_int_equal (profiles_restore (restored, &out [0]), -1);   //  already held
    assert_int_equal (profiles_size (restored), N);
    for (int i = 0; i < N; i++) {
        snprintf (id, sizeof id, "acc-%d", i);
        profiles_account_t *a = profiles_get (restored, id, strlen (id), S_T0 + 3600000);
        assert_int_equal (a->count, (uint32_t) (i % 5 + 1));
        assert_false (a->dirty);
    }
    assert_int_equal (profiles_size (restored), N);     //  found, none created
    profiles_account_t bad = out [0];
    bad.count = 0;
    profiles_t *empty = profiles_new (10, 0);
    assert_int_equal (profiles_restore (empty, &bad), -1);
    bad = out [1];
    bad.ring_head = PROFILES_RING;
    assert_int_equal (profiles_restore (empty, &bad), -1);
    profiles_destroy (&empty);
    profiles_destroy (&restored);
    profiles_destroy (&profiles);
}

//  Records of the two layouts before are brought to this one: the slot that
//  was the sixteenth transaction id becomes an empty structuring mask, a
//  head that pointed at it starts again at the first slot, and the layout
//  before the home country also loses what was padding there.
static void
test_profiles_upgrade_layouts (void **state)
{
    (void) state;
    profiles_t *profiles = profiles_new (10, 0);
    txw_tx_t tx;
    s_tx (&tx, "old", S_T0, 950000, TXW_CHANNEL_TRANSFER, "DE", "", "transfer");
    profiles_account_t *a = profiles_get (profiles, "old", 3, tx.ts_ms);
    profiles_update (a, &tx, s_log (&tx), PROFILES_NEAR_LIMIT);
    assert_int_equal (profiles_count_within (a, S_T0, 60000, PROFILES_NEAR_LIMIT_ONLY), 1);
    profiles_account_t record = *a;
    record.near_mask = 0xffff;              //  an old id's bytes
    record.spare = 0xffff;
    record.tx_seen_head = PROFILES_TX_SEEN; //  was the sixteenth slot
    record.home_country = 0x4445;
    record.home_votes = 0xff;
    profiles_account_t tx16 = record, no_home = record, current = *a;
    assert_int_equal (profiles_upgrade (&tx16, PROFILES_LAYOUT_TX16), 0);
    assert_int_equal (tx16.near_mask, 0);
    assert_int_equal (tx16.spare, 0);
    assert_int_equal (tx16.tx_seen_head, 0);
    assert_int_equal (tx16.home_country, 0x4445);
    assert_int_equal (profiles_upgrade (&no_home, PROFILES_LAYOUT_NO_HOME), 0);
    assert_int_equal (no_home.near_mask, 0);
    assert_int_equal (no_home.home_country, 0);
    assert_int_equal (no_home.home_votes, 0);
    assert_int_equal (profiles_upgrade (&current, PROFILES_LAYOUT), 0);
    assert_memory_equal (&current, a, sizeof current);      //  left as it is
    assert_int_equal (profiles_upgrade (&current, 1248), -1);
    //  Unupgraded, the old head is refused; upgraded, the record restores.
    profiles_t *restored = profiles_new (10, 0);
    assert_int_equal (profiles_restore (restored, &record), -1);
    assert_int_equal (profiles_restore (restored, &no_home), 0);
    profiles_destroy (&restored);
    profiles_destroy (&profiles);
}

//  A record names its account and devices only through hashes keyed by the
//  pseudonym key: the same under one key, others under another key, so a
//  stolen checkpoint cannot be matched to ids by hashing every candidate,
//  and a scorer under a new key starts its accounts fresh.
static void
test_profiles_keyed_identity (void **state)
{
    (void) state;
    uint8_t key_a [TXW_PSEUDONYM_KEY_BYTES], key_b [TXW_PSEUDONYM_KEY_BYTES];
    for (int i = 0; i < TXW_PSEUDONYM_KEY_BYTES; i++) {
        key_a [i] = (uint8_t) i;
        key_b [i] = (uint8_t) (i * 7 + 1);
    }
    txw_pseudonym_key_set (key_a);
    txw_tx_t tx;
    profiles_t *profiles = profiles_new (10, 0);
    s_tx (&tx, "acct-keyed", S_T0, 2500, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
    profiles_account_t *a = profiles_get (profiles, "acct-keyed", 10, tx.ts_ms);
    profiles_update (a, &tx, s_log (&tx), 0);
    profiles_account_t saved;
    assert_int_equal (profiles_collect_dirty (profiles, &saved, 1), 1);
    //  Not the unkeyed FNV-1a of before, which anyone could compute.
    assert_true (saved.hash != txw_hash ("acct-keyed", 10));
    assert_true (saved.devices [0] != (uint32_t) (txw_hash ("dev-1", 5) >> 32));
    uint32_t device_a = profiles_device_hash ("dev-1");
    assert_int_equal (saved.devices [0], device_a);

    //  Under the same key the record is found again.
    profiles_t *same = profiles_new (10, 0);
    assert_int_equal (profiles_restore (same, &saved), 0);
    a = profiles_get (same, "acct-keyed", 10, tx.ts_ms + 1000);
    assert_int_equal (a->count, 1);
    assert_true (profiles_device_seen (a, "dev-1"));
    assert_int_equal (profiles_size (same), 1);

    //  Under another key it names nobody: the account starts fresh.
    txw_pseudonym_key_set (key_b);
    assert_true (profiles_device_hash ("dev-1") != device_a);
    profiles_t *other = profiles_new (10, 0);
    assert_int_equal (profiles_restore (other, &saved), 0);
    a = profiles_get (other, "acct-keyed", 10, tx.ts_ms + 1000);
    assert_int_equal (a->count, 0);
    assert_int_equal (profiles_size (other), 2);
    profiles_destroy (&other);
    profiles_destroy (&same);
    profiles_destroy (&profiles);
    txw_pseudonym_key_set (key_a);
}

//  Many accounts through a small table: every lookup must agree with a
//  plain array of what each held account has seen, so the index survives
//  any pattern of backward-shift deletions.
static void
test_profiles_index_under_churn (void **state)
{
    (void) state;
    enum { MAX = 257, IDS = 2000, STEPS = 200000 };
    profiles_t *profiles = profiles_new (MAX, 0);
    static uint32_t shadow [IDS];
    memset (shadow, 0, sizeof shadow);
    uint64_t rng = 42;
    txw_tx_t tx;
    s_tx (&tx, "x", S_T0, 100, TXW_CHANNEL_POS, "DE", "d", "x");
    for (int step = 0; step < STEPS; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        //  Skewed: a few hot accounts and a long tail.
        uint32_t id = (uint32_t) ((rng >> 33) % ((rng >> 20) & 1? 100: IDS));
        char key [16];
        int len = snprintf (key, sizeof key, "acct-%u", id);
        uint64_t evicted_before = profiles_evicted_cap (profiles);
        profiles_account_t *a = profiles_get (profiles, key, (size_t) len, S_T0);
        assert_non_null (a);
        if (a->count == 0)
            shadow [id] = 0;        //  new, or evicted earlier
        assert_int_equal (a->count, shadow [id]);
        profiles_update (a, &tx, s_log (&tx), 0);
        shadow [id]++;
        assert_true (profiles_evicted_cap (profiles) - evicted_before <= 1);
        assert_true (profiles_size (profiles) <= MAX);
    }
    assert_int_equal (profiles_size (profiles), MAX);
    profiles_destroy (&profiles);
}

//  --- Rules -----------------------------------------------------------------------

static void
test_rules_normal_account_is_quiet (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "normal");
    txw_tx_t tx;
    s_tx (&tx, "normal", ts + S_DAY_MS, 5200, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
    assert_int_equal (s_score (f, &tx), 0);
    assert_int_equal (tx.reasons, 0);
    //  A first transaction of an unknown account is quiet too.
    s_tx (&tx, "fresh", ts, 250000, TXW_CHANNEL_ONLINE, "US", "dev-9", "grocery");
    assert_int_equal (s_score (f, &tx), 0);
}

static void
test_rule_amount_spike (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "spike");
    txw_tx_t tx;
    //  Three times the usual: not a spike.
    s_tx (&tx, "spike", ts + S_HOUR_MS * 5, 15000, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
    s_score (f, &tx);
    assert_false (tx.reasons & TXW_REASON_AMOUNT_SPIKE);
    //  Twenty times: a spike, and an alert on its own.
    s_tx (&tx, "spike", ts + S_DAY_MS, 100000, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
    s_score (f, &tx);
    assert_true (tx.reasons & TXW_REASON_AMOUNT_SPIKE);
    assert_true (tx.score >= 80);
}

//  Structuring: amounts kept just under the reporting limit (10,000.00 by
//  default; near: from 9,000.00 up to 9,999.99). The first one is not
//  structuring (it may be an amount spike); a second within two days is,
//  and alerts; one at the limit or under 90% of it is not near.
static void
test_rule_structuring (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "smurf");
    txw_tx_t tx;
    s_tx (&tx, "smurf", ts + S_HOUR_MS, 950000, TXW_CHANNEL_TRANSFER, "DE", "dev-1", "transfer");
    s_score (f, &tx);
    assert_false (tx.reasons & TXW_REASON_STRUCTURING);
    //  At the limit and above: reported anyway, so not near it.
    s_tx (&tx, "smurf", ts + 2 * S_HOUR_MS, 1000000, TXW_CHANNEL_TRANSFER, "DE", "dev-1", "transfer");
    s_score (f, &tx);
    assert_false (tx.reasons & TXW_REASON_STRUCTURING);
    //  Below 90% of it: not near either.
    s_tx (&tx, "smurf", ts + 3 * S_HOUR_MS, 899999, TXW_CHANNEL_TRANSFER, "DE", "dev-1", "transfer");
    s_score (f, &tx);
    assert_false (tx.reasons & TXW_REASON_STRUCTURING);
    //  The second near the limit, a day and a half after the first.
    s_tx (&tx, "smurf", ts + S_HOUR_MS + 36 * S_HOUR_MS, 999999, TXW_CHANNEL_TRANSFER, "DE",
          "dev-1", "transfer");
    s_score (f, &tx);
    assert_true (tx.reasons & TXW_REASON_STRUCTURING);
    assert_true (tx.score >= 80);
    //  Another account: two near the limit three days apart are not.
    ts = s_normal_history (f, "patient");
    s_tx (&tx, "patient", ts + S_HOUR_MS, 950000, TXW_CHANNEL_TRANSFER, "DE", "dev-1", "transfer");
    s_score (f, &tx);
    s_tx (&tx, "patient", ts + S_HOUR_MS + 72 * S_HOUR_MS, 950000, TXW_CHANNEL_TRANSFER, "DE",
          "dev-1", "transfer");
    s_score (f, &tx);
    assert_false (tx.reasons & TXW_REASON_STRUCTURING);
    //  The signals count the earlier ones whatever this one is.
    rules_signals_t signals;
    const profiles_account_t *acct = profiles_get (f->profiles, "patient", 7, tx.ts_ms);
    s_tx (&tx, "patient", tx.ts_ms + S_HOUR_MS, 5000, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
    rules_signals (f->rules, acct, &tx, 0, &signals);
    assert_true (signals.v [RULES_SIG_NEAR_LIMIT] == 0);
    assert_true (signals.v [RULES_SIG_NEAR_LIMIT_48H] == 1);
}

//  The takeover's drain: a small first use makes a new device known, and a
//  large transfer from it follows hours later, when it is no longer
//  new_device (two minutes) but still device_new_day.
static void
test_rule_device_new_today (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "drained");
    txw_tx_t tx;
    rules_signals_t signals;
    s_tx (&tx, "drained", ts + S_HOUR_MS, 300, TXW_CHANNEL_ONLINE, "DE", "dev-x", "online_retail");
    s_score (f, &tx);
    int64_t probe = tx.ts_ms;
    const profiles_account_t *acct = profiles_get (f->profiles, "drained", 7, probe);
    s_tx (&tx, "drained", probe + 3 * S_HOUR_MS, 60000, TXW_CHANNEL_TRANSFER, "DE", "dev-x", "transfer");
    rules_signals (f->rules, acct, &tx, 0, &signals);
    assert_true (signals.v [RULES_SIG_NEW_DEVICE] == 0);
    assert_true (signals.v [RULES_SIG_DEVICE_NEW_DAY] == 1);
    s_score (f, &tx);
    assert_true (tx.reasons & TXW_REASON_NEW_DEVICE_HIGH_AMOUNT);
    //  A day after its first use the device is the account's own.
    acct = profiles_get (f->profiles, "drained", 7, probe + 25 * S_HOUR_MS);
    s_tx (&tx, "drained", probe + 25 * S_HOUR_MS, 60000, TXW_CHANNEL_TRANSFER, "DE", "dev-x", "transfer");
    rules_signals (f->rules, acct, &tx, 0, &signals);
    assert_true (signals.v [RULES_SIG_DEVICE_NEW_DAY] == 0);
    //  And a payment without a device never reads as a new one.
    s_tx (&tx, "drained", probe + 26 * S_HOUR_MS, 60000, TXW_CHANNEL_TRANSFER, "DE", "", "transfer");
    rules_signals (f->rules, acct, &tx, 0, &signals);
    assert_true (signals.v [RULES_SIG_DEVICE_NEW_DAY] == 0);
}

//  The reporting limit is the rule set's: a set with a limit of 1,000.00
//  finds structuring in amounts of 950.00.
static void
test_rule_structuring_own_limit (void **state)
{
    (void) state;
    rules_set_t set = *ruleset_default ();
    set.reporting_limit_minor = 100000;
    rules_t *rules = rules_new (&set, NULL);
    profiles_t *profiles = profiles_new (100, 0);
    txw_tx_t tx;
    for (int i = 0; i < 2; i++) {
        s_tx (&tx, "small-smurf", S_T0 + i * S_HOUR_MS, 95000, TXW_CHANNEL_TRANSFER, "DE",
              "dev-1", "transfer");
        assert_int_equal (rules_score_tx (rules, profiles, &tx, NULL, NULL), 0);
    }
    assert_true (tx.reasons & TXW_REASON_STRUCTURING);
    rules_destroy (&rules);
    profiles_destroy (&profiles);
}

static void
test_rule_velocity (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "fast") + S_DAY_MS;
    txw_tx_t tx;
    uint32_t seen = 0;
    //  Ten purchases 20 seconds apart.
    for (int i = 0; i < 10; i++) {
        s_tx (&tx, "fast", ts + i * 20000, 4500, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
        s_score (f, &tx);
        if (i < 2)
            assert_false (tx.reasons & TXW_REASON_VELOCITY_MINUTE);
        seen |= tx.reasons;
    }
    assert_true (seen & TXW_REASON_VELOCITY_MINUTE);
    assert_true (seen & TXW_REASON_VELOCITY_HOUR);
}

static void
test_rule_velocity_follows_the_accounts_pace (void **state)
{
    fixture_t *f = *state;
    txw_tx_t tx;
    //  A busy account (a business card, say) buying every six seconds for
    //  an hour: ten a minute is its normal, not a burst.
    for (int i = 0; i < 600; i++) {
        s_tx (&tx, "busy", S_T0 + i * 6000, 3000 + (i % 7) * 300, TXW_CHANNEL_POS, "DE",
              "dev-1", "grocery");
        s_score (f, &tx);
        if (i > 100) {
            assert_false (tx.reasons & TXW_REASON_VELOCITY_MINUTE);
            assert_false (tx.reasons & TXW_REASON_VELOCITY_HOUR);
        }
    }
}

static void
test_rule_impossible_travel_far (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "far");
    txw_tx_t tx;
    //  A card-present purchase in Japan three minutes after one at home.
    s_tx (&tx, "far", ts + 3 * 60000, 6000, TXW_CHANNEL_POS, "JP", "dev-1", "restaurants");
    s_score (f, &tx);
    assert_true (tx.reasons & TXW_REASON_IMPOSSIBLE_TRAVEL);
    assert_true (tx.reasons & TXW_REASON_NEW_COUNTRY);
    assert_true (tx.score >= 80);
    //  Back home: a change of country, but to a familiar one.
    s_tx (&tx, "far", ts + 10 * 60000, 5000, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
    s_score (f, &tx);
    assert_true (tx.reasons & TXW_REASON_IMPOSSIBLE_TRAVEL);
    assert_true (tx.score < 80);
}

static void
test_rule_card_testing_burst_alerts (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "cards") + S_DAY_MS;
    txw_tx_t tx;
    int flagged = 0;
    //  Eight tiny online amounts five seconds apart.
    for (int i = 0; i < 8; i++) {
        s_tx (&tx, "cards", ts + i * 5000, 50 + i * 10, TXW_CHANNEL_ONLINE, "DE", "dev-1",
              "online_retail");
        s_score (f, &tx);
        if (i >= 1)
            assert_true (tx.reasons & TXW_REASON_CARD_TESTING);
        if (i >= 2) {
            assert_true (tx.score >= 80);
            flagged++;
        }
    }
    assert_int_equal (flagged, 6);
    //  One small online purchase on its own is not card testing.
    s_tx (&tx, "cards", ts + S_DAY_MS, 150, TXW_CHANNEL_ONLINE, "DE", "dev-1", "online_retail");
    s_score (f, &tx);
    assert_false (tx.reasons & TXW_REASON_CARD_TESTING);
    assert_true (tx.score < 80);
}

static void
test_rule_account_takeover (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "ato");
    txw_tx_t tx;
    //  New country, new device, eight times the usual amount, soon after.
    s_tx (&tx, "ato", ts + 40 * 60000, 40000, TXW_CHANNEL_ONLINE, "BR", "dev-x", "electronics");
    s_score (f, &tx);
    assert_true (tx.reasons & TXW_REASON_NEW_COUNTRY);
    assert_true (tx.reasons & TXW_REASON_NEW_DEVICE);
    assert_true (tx.reasons & TXW_REASON_NEW_DEVICE_HIGH_AMOUNT);
    assert_true (tx.reasons & TXW_REASON_IMPOSSIBLE_TRAVEL);
    assert_true (tx.score >= 80);
}

static void
test_rule_travel_and_new_device_alone (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "trip");
    txw_tx_t tx;
    //  A holiday: another country two days later, usual amount.
    s_tx (&tx, "trip", ts + 2 * S_DAY_MS, 4500, TXW_CHANNEL_POS, "ES", "dev-1", "restaurant");
    s_score (f, &tx);
    assert_int_equal (tx.reasons, TXW_REASON_NEW_COUNTRY);
    assert_true (tx.score < 80);
    //  Back home within the hour: a change faster than travel allows.
    s_tx (&tx, "trip", ts + 2 * S_DAY_MS + 30 * 60000, 4500, TXW_CHANNEL_POS, "DE", "dev-1",
          "grocery");
    s_score (f, &tx);
    assert_true (tx.reasons & TXW_REASON_IMPOSSIBLE_TRAVEL);
    assert_false (tx.reasons & TXW_REASON_NEW_COUNTRY);
    assert_true (tx.score < 80);
    //  A new phone with a usual amount.
    s_tx (&tx, "trip", ts + 4 * S_DAY_MS, 4500, TXW_CHANNEL_MOBILE, "DE", "dev-2", "grocery");
    s_score (f, &tx);
    assert_int_equal (tx.reasons, TXW_REASON_NEW_DEVICE);
    assert_true (tx.score < 80);
}

static void
test_rule_night_activity (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "owl");
    //  02:00 UTC in January: 03:00 in Berlin, where the account lives.
    int64_t night = (ts / S_DAY_MS + 1) * S_DAY_MS + 2 * S_HOUR_MS;
    txw_tx_t tx;
    //  One purchase at night is normal.
    s_tx (&tx, "owl", night, 4500, TXW_CHANNEL_ONLINE, "DE", "dev-1", "grocery");
    s_score (f, &tx);
    assert_int_equal (tx.reasons, 0);
    //  A burst at night an hour later, a second apart.
    uint8_t last = 0;
    for (int i = 0; i < 5; i++) {
        s_tx (&tx, "owl", night + S_HOUR_MS + i * 1000, 6000, TXW_CHANNEL_ONLINE, "DE",
              "dev-1", "electronics");
        s_score (f, &tx);
        if (i >= 1)
            assert_true (tx.reasons & TXW_REASON_NIGHT_ACTIVITY);
        last = tx.score;
    }
    assert_true (last >= 80);
    //  The same burst in the afternoon is not night activity.
    int64_t day = night + 12 * S_HOUR_MS;
    for (int i = 0; i < 5; i++) {
        s_tx (&tx, "owl", day + i * 1000, 6000, TXW_CHANNEL_ONLINE, "DE", "dev-1", "grocery");
        s_score (f, &tx);
        assert_false (tx.reasons & TXW_REASON_NIGHT_ACTIVITY);
        assert_true (tx.score < 80);
    }
}

//  Hour, weekday and night are read on the clock of the account's home
//  country, not UTC's and not that of where the transaction happens.
static void
test_rule_night_by_home_clock (void **state)
{
    fixture_t *f = *state;
    txw_tx_t tx;
    //  A New York account shopping at 14:00 local (19:00 UTC, EST).
    int64_t ts = 0;
    for (int day = 0; day < 20; day++) {
        ts = S_T0 + day * S_DAY_MS + 19 * S_HOUR_MS + (day % 5) * 600000;
        s_tx (&tx, "nyc", ts, 4000 + (day % 5) * 500, TXW_CHANNEL_POS, "US", "dev-1", "grocery");
        s_score (f, &tx);
    }
    int64_t midnight = (ts / S_DAY_MS + 1) * S_DAY_MS;
    //  A burst at 02:00 UTC is 21:00 the evening before in New York: no night.
    for (int i = 0; i < 5; i++) {
        s_tx (&tx, "nyc", midnight + 2 * S_HOUR_MS + i * 1000, 6000, TXW_CHANNEL_ONLINE, "US",
              "dev-1", "electronics");
        s_score (f, &tx);
        assert_false (tx.reasons & TXW_REASON_NIGHT_ACTIVITY);
    }
    //  The same burst at 08:00 UTC is 03:00 there: night activity.
    for (int i = 0; i < 5; i++) {
        s_tx (&tx, "nyc", midnight + 8 * S_HOUR_MS + i * 1000, 6000, TXW_CHANNEL_ONLINE, "US",
              "dev-1", "electronics");
        s_score (f, &tx);
        if (i >= 1)
            assert_true (tx.reasons & TXW_REASON_NIGHT_ACTIVITY);
    }
    //  A Berlin account paying in New York at 20:30 local there is at 02:30
    //  (CET) by its home clock: the signals say so, and a Sunday in Berlin.
    ts = s_normal_history (f, "abroad");
    int64_t sunday = S_T0 + 24 * S_DAY_MS + 1 * S_HOUR_MS + 30 * 60000;   //  Sun 25 Jan, 01:30 UTC
    s_tx (&tx, "abroad", sunday, 4500, TXW_CHANNEL_POS, "US", "dev-1", "grocery");
    rules_signals_t signals;
    rules_signals (f->rules, profiles_get (f->profiles, "abroad", 6, sunday), &tx, 0, &signals);
    assert_int_equal ((int) signals.v [RULES_SIG_HOUR], 2);
    assert_int_equal ((int) signals.v [RULES_SIG_WEEKDAY], 6);
    assert_int_equal ((int) signals.v [RULES_SIG_NIGHT], 1);
    //  And in summer the offset is two hours: 23:30 UTC is 01:30 in Berlin.
    int64_t summer = S_T0 + 180 * S_DAY_MS + 23 * S_HOUR_MS + 30 * 60000;  //  30 June
    s_tx (&tx, "abroad", summer, 4500, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
    rules_signals (f->rules, profiles_get (f->profiles, "abroad", 6, summer), &tx, 0, &signals);
    assert_int_equal ((int) signals.v [RULES_SIG_HOUR], 1);
    assert_int_equal ((int) signals.v [RULES_SIG_NIGHT], 1);
}

//  The line items of one order (a basket: one account, one checkout, one
//  payment outcome) are one purchase to the velocity signals: a basket of
//  eight cheap items at once is neither a burst nor card testing nor a
//  run of declines, while the same eight as separate purchases are.
static void
test_rule_order_counts_once (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "basket") + S_DAY_MS;
    s_normal_history (f, "loose");
    txw_tx_t tx;
    rules_signals_t signals;
    for (int order = 0; order < 2; order++) {
        int64_t at = ts + order * S_HOUR_MS * 3;
        uint32_t seen = 0, loose_seen = 0;
        for (int i = 0; i < 8; i++) {
            s_tx (&tx, "basket", at, 99 + i * 20, TXW_CHANNEL_ONLINE, "DE", "dev-1",
                  "online_retail");
            snprintf (tx.order_id, sizeof tx.order_id, "O-%d", order);
            tx.status = order? TXW_STATUS_DECLINED: TXW_STATUS_APPROVED;
            profiles_account_t *acct = profiles_get (f->profiles, "basket", 6, at);
            rules_signals (f->rules, acct, &tx, 0, &signals);
            //  Whatever the line: one purchase this minute, this hour,
            //  this burst; the time since the one before the order.
            assert_int_equal (signals.v [RULES_SIG_TX_MINUTE], 1);
            assert_int_equal (signals.v [RULES_SIG_TX_BURST], 1);
            assert_int_equal (signals.v [RULES_SIG_TX_HOUR], 1);
            assert_int_equal (signals.v [RULES_SIG_SMALL_ONLINE_MINUTE], 1);
            assert_int_equal (signals.v [RULES_SIG_DECLINES_RECENT], order);
            assert_true (signals.v [RULES_SIG_SINCE_PREV_S] >= (order? 3 * 3600: 3600));
            s_score (f, &tx);
            assert_true (tx.score < 80);
            seen |= tx.reasons;
            //  The same lines, each without an order: eight purchases.
            s_tx (&tx, "loose", at, 99 + i * 20, TXW_CHANNEL_ONLINE, "DE", "dev-1",
                  "online_retail");
            tx.status = order? TXW_STATUS_DECLINED: TXW_STATUS_APPROVED;
            s_score (f, &tx);
            loose_seen |= tx.reasons;
        }
        assert_false (seen & (TXW_REASON_VELOCITY_MINUTE | TXW_REASON_CARD_TESTING
                              | TXW_REASON_DECLINE_BURST | TXW_REASON_NIGHT_ACTIVITY));
        assert_true (loose_seen & TXW_REASON_VELOCITY_MINUTE);
        assert_true (loose_seen & TXW_REASON_CARD_TESTING);
        assert_int_equal ((loose_seen & TXW_REASON_DECLINE_BURST) != 0, order);
    }
    //  Two orders are two purchases, and an order's lines all count in the
    //  amount statistics.
    profiles_account_t *acct = profiles_get (f->profiles, "basket", 6, ts + S_DAY_MS);
    assert_int_equal (acct->count, 20 + 16);
    assert_int_equal (profiles_count_within (acct, ts + S_HOUR_MS, 6 * S_HOUR_MS, PROFILES_ALL), 2);
    //  An order id seen again a day later is a new purchase.
    s_tx (&tx, "basket", ts + S_DAY_MS, 4500, TXW_CHANNEL_ONLINE, "DE", "dev-1", "online_retail");
    snprintf (tx.order_id, sizeof tx.order_id, "O-1");
    assert_false (profiles_same_order (acct, &tx));
    s_score (f, &tx);
    acct = profiles_get (f->profiles, "basket", 6, ts + S_DAY_MS);
    assert_int_equal (profiles_count_within (acct, ts + S_DAY_MS, 60000, PROFILES_ALL), 1);
    assert_int_equal (profiles_count_within (acct, ts + S_HOUR_MS, 6 * S_HOUR_MS, PROFILES_ALL), 2);
    //  That order's id again at once is a further line item of it; at
    //  another merchant it is another purchase.
    s_tx (&tx, "basket", ts + S_DAY_MS, 4500, TXW_CHANNEL_ONLINE, "DE", "dev-1",
          "online_retail");
    snprintf (tx.order_id, sizeof tx.order_id, "O-1");
    assert_true (profiles_same_order (acct, &tx));
    snprintf (tx.merchant_id, sizeof tx.merchant_id, "M-elsewhere");
    assert_false (profiles_same_order (acct, &tx));
}

static void
test_rule_risky_category_and_declines (void **state)
{
    fixture_t *f = *state;
    int64_t ts = s_normal_history (f, "risky") + S_DAY_MS;
    txw_tx_t tx;
    s_tx (&tx, "risky", ts, 4500, TXW_CHANNEL_POS, "DE", "dev-1", "jewelry");
    assert_int_equal (s_score (f, &tx), 15);
    assert_int_equal (tx.reasons, TXW_REASON_RISKY_CATEGORY);
    s_tx (&tx, "risky", ts + S_DAY_MS, 4500, TXW_CHANNEL_POS, "DE", "dev-1", "online_retail");
    assert_int_equal (s_score (f, &tx), 5);
    //  Three declines within ten minutes.
    ts += 3 * S_DAY_MS;
    for (int i = 0; i < 3; i++) {
        s_tx (&tx, "risky", ts + i * 240000, 4500, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
        tx.status = TXW_STATUS_DECLINED;
        s_score (f, &tx);
        if (i < 2)
            assert_false (tx.reasons & TXW_REASON_DECLINE_BURST);
    }
    assert_true (tx.reasons & TXW_REASON_DECLINE_BURST);
}

static void
test_rules_model_hook (void **state)
{
    fixture_t *f = *state;
    txw_tx_t tx;
    //  Midday in Berlin: the same transaction again is no night burst.
    s_tx (&tx, "model", S_T0 + 12 * S_HOUR_MS, 4500, TXW_CHANNEL_POS, "DE", "dev-1", "grocery");
    //  The model's calibrated score: unusual, then among the rarest.
    double model_score = 0.97;
    rules_score_tx (f->rules, f->profiles, &tx, s_fixed_model, &model_score);
    assert_int_equal (tx.reasons, 0);
    model_score = 0.99;
    rules_score_tx (f->rules, f->profiles, &tx, s_fixed_model, &model_score);
    assert_int_equal (tx.reasons, TXW_REASON_MODEL_ANOMALY);
    assert_int_equal (tx.score, 25);
    model_score = 0.999;
    rules_score_tx (f->rules, f->profiles, &tx, s_fixed_model, &model_score);
    assert_int_equal (tx.reasons, TXW_REASON_MODEL_ANOMALY);
    assert_int_equal (tx.score, 35);            //  below the alert threshold on its own
}

static void
test_rules_score_is_capped (void **state)
{
    (void) state;
    rules_rule_t table [] = {
        { "big",   0, 70, { { RULES_SIG_HISTORY, RULES_OP_GE, 0 } }, false },
        { "huge",  1, 70, { { RULES_SIG_HISTORY, RULES_OP_GE, 0 } }, false },
        { "never", 2, 70, { { RULES_SIG_HISTORY, RULES_OP_GE, 1 },
                            { RULES_SIG_NIGHT, RULES_OP_LE, 0 } }, false },
    };
    rules_set_t set = { .version = "test-1", .count = 3 };
    memcpy (set.rules, table, sizeof table);
    rules_t *rules = rules_new (&set, NULL);
    assert_non_null (rules);
    assert_string_equal (rules_model_version (rules), "test-1");
    rules_signals_t signals;
    txw_tx_t tx;
    s_tx (&tx, "cap", S_T0, 100, TXW_CHANNEL_POS, "DE", "d", "x");
    rules_signals (rules, NULL, &tx, 0, &signals);
    uint32_t reasons;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 100);
    assert_int_equal (reasons, 3);
    rules_destroy (&rules);
    //  Negative points floor at zero.
    set.rules [0].weight = set.rules [1].weight = -70;
    rules = rules_new (&set, "test-2");
    assert_string_equal (rules_model_version (rules), "test-2");
    assert_int_equal (rules_combine (rules, &signals, &reasons), 0);
    rules_destroy (&rules);
    //  Invalid rows are refused.
    set.rules [0].reason_bit = TXW_REASON_COUNT;
    assert_null (rules_new (&set, NULL));
    set.rules [0].reason_bit = 0;
    set.rules [1].when [0].signal = RULES_SIG_COUNT;
    assert_null (rules_new (&set, NULL));
}

//  With a supervised model the score is its probability on gbdt_score's
//  scale (100 times it at the default operating point), rounded down,
//  whatever the rules' sum; every row still sets its reason bit, and a
//  hard row's weight still counts.
static void
test_rules_score_by_supervised_model (void **state)
{
    (void) state;
    rules_rule_t table [] = {
        { "sum",  0, 5, { { RULES_SIG_HISTORY, RULES_OP_GE, 0 } }, false },
        { "hard", 1, 90, { { RULES_SIG_DEVICE_ACCOUNTS, RULES_OP_GE, 1 } }, true },
    };
    rules_set_t set = { .version = "test-1", .count = 2 };
    memcpy (set.rules, table, sizeof table);
    rules_t *rules = rules_new (&set, NULL);
    assert_non_null (rules);
    rules_signals_t signals;
    txw_tx_t tx;
    s_tx (&tx, "p", S_T0, 100, TXW_CHANNEL_POS, "DE", "d", "x");
    rules_signals (rules, NULL, &tx, 0, &signals);
    signals.v [RULES_SIG_SUPERVISED_P] = 0.95;
    uint32_t reasons;
    //  No model: the rules' sum (supervised_p is only a signal).
    assert_int_equal (rules_combine (rules, &signals, &reasons), 5);
    assert_int_equal (reasons, 1);
    //  One leaf: the margin is its value, p = 1 / (1 + exp (-margin)).
    const char *names [1] = { "history" };
    gbdt_node_t leaf = { GBDT_LEAF, 2.0f, 2.0f };
    const gbdt_node_t *trees [1] = { &leaf };
    uint32_t counts [1] = { 1 };
    char err [128];
    gbdt_t *model = gbdt_new ("gb-t", 1, names, 0, 1, trees, counts, err, sizeof err);
    assert_non_null (model);
    gbdt_set_calibration (model, 1, 0);
    rules_use_supervised (rules, model);
    assert_int_equal (rules_combine (rules, &signals, &reasons), 95);
    assert_int_equal (reasons, 1);              //  the rule's reason, not its points
    signals.v [RULES_SIG_SUPERVISED_P] = 0.8;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 80);
    signals.v [RULES_SIG_SUPERVISED_P] = 0.7999;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 79);   //  80 is p >= 0.8
    signals.v [RULES_SIG_SUPERVISED_P] = 0.01;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 1);
    //  With an operating point chosen, that probability scores 80.
    assert_int_equal (gbdt_set_operating (model, 0.5), 0);
    signals.v [RULES_SIG_SUPERVISED_P] = 0.5;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 80);
    signals.v [RULES_SIG_SUPERVISED_P] = 0.4999;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 79);
    signals.v [RULES_SIG_SUPERVISED_P] = 0.75;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 90);
    signals.v [RULES_SIG_SUPERVISED_P] = 0.25;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 40);
    assert_int_equal (gbdt_set_operating (model, GBDT_OPERATING_DEFAULT), 0);
    //  A hard row raises the score to its weight, never lowers it.
    signals.v [RULES_SIG_DEVICE_ACCOUNTS] = 1;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 90);
    assert_int_equal (reasons, 3);
    signals.v [RULES_SIG_SUPERVISED_P] = 0.97;
    assert_int_equal (rules_combine (rules, &signals, &reasons), 97);
    //  The whole step sets supervised_p from the model and scores by it.
    profiles_t *profiles = profiles_new (4, 0);
    assert_int_equal (rules_score_tx (rules, profiles, &tx, NULL, NULL), 0);
    double p = 1 / (1 + exp (-2.0));
    assert_true (fabs (rules_supervised_p (rules) - p) < 1e-6);
    assert_int_equal (tx.score, (int) floor (100 * p));
    assert_int_equal (tx.reasons, 1);
    //  Without the model again: the sum.
    rules_use_supervised (rules, NULL);
    s_tx (&tx, "p", S_T0 + 60000, 100, TXW_CHANNEL_POS, "DE", "d", "x");
    assert_int_equal (rules_score_tx (rules, profiles, &tx, NULL, NULL), 0);
    assert_int_equal (tx.score, 5);
    profiles_destroy (&profiles);
    gbdt_destroy (&model);
    rules_destroy (&rules);
}

static void
test_rules_default_table_is_valid (void **state)
{
    (void) state;
    const rules_set_t *set = ruleset_default ();
    size_t count = set->count;
    const rules_rule_t *table = set->rules;
    assert_true (count > 10 && count <= RULES_MAX);
    assert_true (set->category_count >= 10);
    uint32_t bits = 0;
    for (size_t r = 0; r < count; r++) {
        assert_true (table [r].name [0]);
        //  Points, but for the row that only marks the supervised model's
        //  reason: with a model its probability is the score (rules.h).
        if (1u << table [r].reason_bit == TXW_REASON_MODEL_SUPERVISED)
            assert_int_equal (table [r].weight, 0);
        else
            assert_true (table [r].weight > 0 && table [r].weight <= 100);
        //  Hard (alerting whatever the supervised model says): only what
        //  an institution must look at, structuring.
        assert_true (table [r].hard == (1u << table [r].reason_bit == TXW_REASON_STRUCTURING));
        bits |= 1u << table [r].reason_bit;
    }
    //  Every reason code has a rule.
    assert_int_equal (bits, (1u << TXW_REASON_COUNT) - 1);
    for (int s = 0; s < RULES_SIG_COUNT; s++)
        assert_int_equal (rules_signal_parse (rules_signal_name (s)), s);
    assert_int_equal (rules_signal_parse ("no_such_signal"), -1);
    assert_null (rules_signal_name (RULES_SIG_COUNT));
}

//  --- Simulation ------------------------------------------------------------------
//  A stream shaped like the producer's generator (services/producer): skewed
//  account activity, amounts by account and merchant category, some travel,
//  and its fraud episodes emitted back to back. Checks the weights as a
//  whole: most fraud scores >= 80 and normal traffic rarely does.

static uint64_t s_rng = 7;
static double
s_uniform (void)
{
    s_rng = s_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double) (s_rng >> 11) / (double) (1ULL << 53);
}

static double
s_gauss (void)
{
    double u = s_uniform () + 1e-12, v = s_uniform ();
    return sqrt (-2 * log (u)) * cos (2 * M_PI * v);
}

static const struct {
    const char *name;
    double weight, factor;
    int channel;
} s_cats [] = {
    { "grocery", 22, 0.6, TXW_CHANNEL_POS },     { "fuel", 9, 1.2, TXW_CHANNEL_POS },
    { "restaurants", 14, 0.8, TXW_CHANNEL_POS }, { "travel", 4, 5.0, TXW_CHANNEL_ONLINE },
    { "electronics", 5, 4.0, TXW_CHANNEL_POS },  { "online_retail", 14, 1.3, TXW_CHANNEL_ONLINE },
    { "jewelry", 1, 6.0, TXW_CHANNEL_POS },      { "gambling", 1.5, 1.5, TXW_CHANNEL_ONLINE },
    { "atm_cash", 8, 2.0, TXW_CHANNEL_ATM },     { "transfer", 6, 6.0, TXW_CHANNEL_TRANSFER },
    { "utilities", 5, 2.5, TXW_CHANNEL_ONLINE }, { "pharmacy", 5, 0.6, TXW_CHANNEL_POS },
    { "clothing", 5, 1.5, TXW_CHANNEL_POS },     { "entertainment", 4, 0.9, TXW_CHANNEL_ONLINE },
};
#define S_CATS (int) (sizeof s_cats / sizeof s_cats [0])
enum { S_GROCERY = 0, S_TRAVEL = 3, S_ELECTRONICS = 4, S_ONLINE = 5, S_JEWELRY = 6,
       S_GAMBLING = 7, S_ATM = 8, S_TRANSFER = 9 };
static const char *s_europe [] = { "DE", "FR", "NL", "ES", "IT", "AT", "GB", "PL", "BE",
                                   "IE", "SE", "PT", "FI" };
static const char *s_far [] = { "US", "JP", "BR", "AU", "SG", "ZA", "MX", "TH", "AE" };

static int
s_pick_category (void)
{
    double u = s_uniform () * 99.5;
    for (int c = 0; c < S_CATS; c++)
        if ((u -= s_cats [c].weight) < 0)
            return c;
    return 0;
}

typedef struct {
    char id [24];
    double typical;             //  minor units
    int categories [3];
    int devices;
    const char *country;
} s_account_t;

typedef enum { S_NORMAL = -1, S_SPIKE, S_CARDS, S_TAKEOVER, S_NIGHT, S_TRAVEL_FAR,
               S_PATTERNS } s_pattern_t;
static const char *s_pattern_names [S_PATTERNS] = { "amount spike", "card testing",
    "account takeover", "night burst", "impossible travel" };

typedef struct {
    fixture_t *f;
    s_account_t *accounts;
    int count;
    double clock_ms, rate;
    uint64_t normal, normal_flagged;
    uint64_t fraud [S_PATTERNS], fraud_flagged [S_PATTERNS];
    uint32_t false_alarms [1u << TXW_REASON_COUNT];     //  by reason set
    uint32_t missed [S_PATTERNS][1u << TXW_REASON_COUNT];
} s_sim_t;

static int
s_pick_account (s_sim_t *sim)
{
    double u = s_uniform ();
    int a = (int) (sim->count * u * sqrt (u));
    return a < sim->count? a: sim->count - 1;
}

//  Fills, scores and tallies one transaction of account a at the next tick.
static void
s_emit (s_sim_t *sim, int a, int category, double amount, int channel, const char *country,
        const char *device, bool declined, int pattern)
{
    sim->clock_ms += -log (s_uniform () + 1e-12) * 1000.0 / sim->rate;
    txw_tx_t tx;
    s_tx (&tx, sim->accounts [a].id, (int64_t) sim->clock_ms, amount < 1? 1: (int64_t) amount,
          channel, country, device, s_cats [category].name);
    if (declined)
        tx.status = TXW_STATUS_DECLINED;
    s_score (sim->f, &tx);
    if (pattern == S_NORMAL) {
        sim->normal++;
        sim->normal_flagged += tx.score >= 80;
        if (tx.score >= 80)
            sim->false_alarms [tx.reasons]++;
    }
    else {
        sim->fraud [pattern]++;
        sim->fraud_flagged [pattern] += tx.score >= 80;
        if (tx.score < 80)
            sim->missed [pattern][tx.reasons]++;
    }
}

static void
s_normal_tx (s_sim_t *sim)
{
    int a = s_pick_account (sim);
    s_account_t *acc = &sim->accounts [a];
    int c = s_uniform () < 0.65? acc->categories [(int) (s_uniform () * 3)]: s_pick_category ();
    char device [32];
    snprintf (device, sizeof device, "D%d-%d", a, (int) (s_uniform () * acc->devices));
    const char *country = s_uniform () < 0.015? s_europe [(int) (s_uniform () * 13)]: acc->country;
    s_emit (sim, a, c, acc->typical * s_cats [c].factor * exp (0.6 * s_gauss ()),
            s_cats [c].channel, country, device, s_uniform () < 0.038, S_NORMAL);
}

//  Whether it is night (01:00 to 04:59) where account a lives.
static bool
s_home_night (const s_sim_t *sim, int a)
{
    const char *country = sim->accounts [a].country;
    int hour, weekday;
    tzcountry_hour_weekday (TZCOUNTRY_CODE (country [0], country [1]), (int64_t) sim->clock_ms,
                            &hour, &weekday);
    return hour >= 1 && hour <= 4;
}

static void
s_episode (s_sim_t *sim, s_pattern_t pattern)
{
    int a = s_pick_account (sim);
    //  A night burst comes while the owner sleeps: at night where the
    //  account lives, whose clock the scorer reads.
    for (int tries = 0; pattern == S_NIGHT && !s_home_night (sim, a) && tries < 100; tries++)
        a = s_pick_account (sim);
    s_account_t *acc = &sim->accounts [a];
    char home_device [32], fraud_device [32];
    snprintf (home_device, sizeof home_device, "D%d-0", a);
    snprintf (fraud_device, sizeof fraud_device, "DX%d", (int) (s_uniform () * 1e6));
    const char *elsewhere = s_far [(int) (s_uniform () * 9)];
    if (pattern == S_SPIKE) {
        static const int cats [] = { S_ELECTRONICS, S_JEWELRY, S_TRAVEL };
        int c = s_uniform () < 0.5? acc->categories [0]: cats [(int) (s_uniform () * 3)];
        s_emit (sim, a, c, acc->typical * (10 + 40 * s_uniform ()), s_cats [c].channel,
                acc->country, home_device, s_uniform () < 0.1, pattern);
    }
    else
    if (pattern == S_CARDS) {
        int n = 5 + (int) (s_uniform () * 8);
        for (int i = 0; i < n; i++)
            s_emit (sim, a, S_ONLINE, 50 + 150 * s_uniform (), TXW_CHANNEL_ONLINE, acc->country,
                    fraud_device, s_uniform () < 0.35, pattern);
    }
    else
    if (pattern == S_TAKEOVER) {
        static const int cats [] = { S_ELECTRONICS, S_JEWELRY, S_TRANSFER, S_ONLINE,
                                     S_TRAVEL, S_GAMBLING };
        int n = 1 + (int) (s_uniform () * 2);
        for (int i = 0; i < n; i++) {
            int c = cats [(int) (s_uniform () * 6)];
            s_emit (sim, a, c, acc->typical * (5 + 15 * s_uniform ()), TXW_CHANNEL_ONLINE,
                    elsewhere, fraud_device, s_uniform () < 0.15, pattern);
        }
    }
    else
    if (pattern == S_NIGHT) {
        static const int cats [] = { S_ATM, S_ELECTRONICS, S_JEWELRY, S_GAMBLING, S_ONLINE };
        int n = 3 + (int) (s_uniform () * 4);
        for (int i = 0; i < n; i++) {
            int c = cats [(int) (s_uniform () * 5)];
            s_emit (sim, a, c, acc->typical * (2 + 4 * s_uniform ()), s_cats [c].channel,
                    acc->country, home_device, false, pattern);
        }
    }
    else {
        s_emit (sim, a, S_GROCERY, acc->typical * exp (0.5 * s_gauss ()), TXW_CHANNEL_POS,
                acc->country, home_device, false, S_NORMAL);
        //  The far leg, a few minutes later in event time.
        double saved = sim->clock_ms;
        sim->clock_ms += 60000 + s_uniform () * 240000;
        s_emit (sim, a, S_ELECTRONICS + (int) (s_uniform () * 2) * 2,
                acc->typical * (1 + 3 * s_uniform ()), TXW_CHANNEL_POS, elsewhere, home_device,
                false, pattern);
        sim->clock_ms = saved;
    }
}

//  Runs count records from start_ms at rate per second with 2 % fraud.
static void
s_stream (s_sim_t *sim, int64_t start_ms, double rate, int count, bool night)
{
    sim->clock_ms = (double) start_ms;
    sim->rate = rate;
    for (int i = 0; i < count; i++) {
        if (s_uniform () < 0.006) {
            //  Pattern weights as in the generator; night bursts only at night.
            double u = s_uniform () * (night? 1.30: 1.00);
            s_pattern_t p = u < 0.40? S_SPIKE: u < 0.46? S_CARDS: u < 0.73? S_TAKEOVER:
                            u < 1.00? S_TRAVEL_FAR: S_NIGHT;
            s_episode (sim, p);
        }
        else
            s_normal_tx (sim);
    }
}

//  Prints the three most frequent reason sets of a tally.
static void
s_print_top (const char *what, const uint32_t *by_reasons)
{
    uint32_t done [3] = { UINT32_MAX, UINT32_MAX, UINT32_MAX };
    for (int k = 0; k < 3; k++) {
        uint32_t best = 0, best_n = 0;
        for (uint32_t r = 0; r < (1u << TXW_REASON_COUNT); r++)
            if (by_reasons [r] > best_n && r != done [0] && r != done [1]) {
                best = r;
                best_n = by_reasons [r];
            }
        if (!best_n)
            break;
        done [k] = best;
        char names [256];
        txw_reasons_format (best, names, sizeof names);
        printf ("      %s: %u x {%s}\n", what, best_n, names);
    }
}

static void
test_simulation_weights (void **state)
{
    enum { ACCOUNTS = 3000 };
    static s_account_t accounts [ACCOUNTS];
    static s_sim_t sim;
    memset (&sim, 0, sizeof sim);
    sim.f = *state;
    sim.accounts = accounts;
    sim.count = ACCOUNTS;
    for (int i = 0; i < ACCOUNTS; i++) {
        s_account_t *acc = &accounts [i];
        snprintf (acc->id, sizeof acc->id, "A%06d", i);
        acc->typical = 3500 * exp (0.6 * s_gauss ());
        for (int k = 0; k < 3; k++)
            acc->categories [k] = s_pick_category ();
        acc->devices = s_uniform () < 0.3? 2: 1;
        acc->country = i % 10 == 9? s_far [i % 9]: s_europe [i % 13];
    }
    //  A morning at 50 records a second, then a night at 8.
    s_stream (&sim, S_T0 + 8 * S_HOUR_MS, 50, 40000, false);
    s_stream (&sim, S_T0 + S_DAY_MS + S_HOUR_MS, 8, 20000, true);

    uint64_t fraud = 0, caught = 0;
    double normal_rate = (double) sim.normal_flagged / (double) sim.normal;
    printf ("    normal: %llu transactions, %.2f%% scored >= 80\n",
            (unsigned long long) sim.normal, 100 * normal_rate);
    for (int p = 0; p < S_PATTERNS; p++) {
        printf ("    %s: %llu transactions, %.0f%% scored >= 80\n", s_pattern_names [p],
                (unsigned long long) sim.fraud [p],
                100.0 * (double) sim.fraud_flagged [p] / (double) (sim.fraud [p] + !sim.fraud [p]));
        fraud += sim.fraud [p];
        caught += sim.fraud_flagged [p];
    }
    double precision = (double) caught / (double) (caught + sim.normal_flagged);
    printf ("    recall %.2f, precision %.2f\n", (double) caught / (double) fraud, precision);
    s_print_top ("false alarms", sim.false_alarms);
    for (int p = 0; p < S_PATTERNS; p++)
        s_print_top (s_pattern_names [p], sim.missed [p]);
    //  What the end-to-end suite asks of the pipeline, with a margin.
    assert_true (normal_rate < 0.005);
    assert_true (caught * 10 >= fraud * 6);
    assert_true (precision >= 0.6);
    for (int p = 0; p < S_PATTERNS; p++)
        assert_true (sim.fraud_flagged [p] * 10 >= sim.fraud [p] * 3);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_profiles_counts_and_mean, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_score_again_leaves_history, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_profiles_windows_by_event_time, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_profiles_countries_and_devices, s_setup, s_teardown),
        cmocka_unit_test (test_profiles_evict_least_recent_at_cap),
        cmocka_unit_test (test_profiles_evict_idle),
        cmocka_unit_test (test_profiles_index_under_churn),
        cmocka_unit_test (test_profiles_home_country),
        cmocka_unit_test (test_profiles_hour_buckets_and_home),
        cmocka_unit_test (test_profiles_collect_and_restore),
        cmocka_unit_test (test_profiles_keyed_identity),
        cmocka_unit_test (test_profiles_upgrade_layouts),
        cmocka_unit_test_setup_teardown (test_rules_normal_account_is_quiet, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_amount_spike, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_velocity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_structuring, s_setup, s_teardown),
        cmocka_unit_test (test_rule_structuring_own_limit),
        cmocka_unit_test_setup_teardown (test_rule_device_new_today, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_velocity_follows_the_accounts_pace, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_impossible_travel_far, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_card_testing_burst_alerts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_order_counts_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_account_takeover, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_travel_and_new_device_alone, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_night_activity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_night_by_home_clock, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rule_risky_category_and_declines, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rules_model_hook, s_setup, s_teardown),
        cmocka_unit_test (test_rules_score_is_capped),
        cmocka_unit_test (test_rules_score_by_supervised_model),
        cmocka_unit_test (test_rules_default_table_is_valid),
        cmocka_unit_test_setup_teardown (test_simulation_weights, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
