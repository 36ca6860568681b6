/*  test_scorer_merchants - cross-account state: merchants, devices, visits

    Links the scorer's real modules (merchants.c, rules.c, profiles.c,
    merchants_checkpoint.c). Streams are crafted by hand in event time; the
    checkpoint round trip needs TXW_TEST_DATABASE_URL (skipped without). No
    test depends on timing.                                                   */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "merchants.h"
#include "merchants_checkpoint.h"
#include "pii.h"
#include "profiles.h"
#include "reasons.h"
#include "rules.h"
#include "testdb.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define S_T0        (1767225600000LL)     //  2026-01-01T00:00:00Z
#define S_MIN_MS    60000LL
#define S_HOUR_MS   3600000LL

static void
s_tx (txw_tx_t *tx, const char *account, const char *merchant, const char *device,
      int64_t ts_ms, int64_t amount, int channel)
{
    memset (tx, 0, sizeof *tx);
    static unsigned serial = 0;
    snprintf (tx->tx_id, sizeof tx->tx_id, "mt%u", ++serial);
    snprintf (tx->account_id, sizeof tx->account_id, "%s", account);
    snprintf (tx->merchant_id, sizeof tx->merchant_id, "%s", merchant);
    snprintf (tx->device_id, sizeof tx->device_id, "%s", device);
    tx->ts_ms = ts_ms;
    tx->amount_minor = tx->amount_rep_minor = amount;
    snprintf (tx->currency, sizeof tx->currency, "EUR");
    snprintf (tx->category, sizeof tx->category, "online_retail");
    snprintf (tx->country, sizeof tx->country, "DE");
    tx->channel = (uint8_t) channel;
    tx->status = TXW_STATUS_APPROVED;
    tx->hour = 14;
}

//  An account's hash as a profile would key it (the module takes the
//  caller's), from its id.
static void
s_keys (const txw_tx_t *tx, uint32_t history, bool small, merchants_tx_t *keys)
{
    uint64_t keyed [2];
    txw_keyed_hash128 (tx->account_id, strlen (tx->account_id), keyed);
    merchants_tx (tx, keys);
    merchants_tx_account (keys, keyed [0]? keyed [0]: 1, (uint32_t) keyed [1], history);
    keys->small = small;
}

//  Folds one transaction in and returns the view it had before.
static merchants_view_t
s_visit (merchants_t *m, const char *account, const char *merchant, const char *device,
         int64_t ts_ms, uint32_t history, bool small)
{
    txw_tx_t tx;
    s_tx (&tx, account, merchant, device, ts_ms, small? 150: 4500, TXW_CHANNEL_ONLINE);
    merchants_tx_t keys;
    s_keys (&tx, history, small, &keys);
    merchants_view_t view;
    merchants_view (m, &keys, &view);
    merchants_update (m, &keys);
    return view;
}

static int
s_setup (void **state)
{
    static const uint8_t key [TXW_PSEUDONYM_KEY_BYTES] = { 7, 1, 2, 3 };
    txw_pseudonym_key_set (key);
    *state = merchants_new (1000, 1000, 1000, 80);
    return *state? 0: -1;
}

static int
s_teardown (void **state)
{
    merchants_t *m = *state;
    merchants_destroy (&m);
    return 0;
}

//  Distinct accounts of the hour, each once, counting the transaction in;
//  the shares of small amounts and of new accounts among them.
static void
test_merchants_accounts_hour (void **state)
{
    merchants_t *m = *state;
    merchants_view_t v = s_visit (m, "a1", "shop", "", S_T0, 10, false);
    assert_int_equal (v.accounts_hour, 1);
    assert_int_equal (v.history, 0);
    s_visit (m, "a1", "shop", "", S_T0 + S_MIN_MS, 11, false);
    s_visit (m, "a2", "shop", "", S_T0 + 2 * S_MIN_MS, 0, true);
    s_visit (m, "a3", "shop", "", S_T0 + 3 * S_MIN_MS, 1, true);
    v = s_visit (m, "a4", "shop", "", S_T0 + 4 * S_MIN_MS, 20, false);
    assert_int_equal (v.accounts_hour, 4);          //  a1 once
    assert_int_equal (v.history, 4);
    assert_true (fabs (v.small_share - 0.5) < 1e-9);
    assert_true (fabs (v.new_account_share - 0.5) < 1e-9);
    //  An hour after a1's and a2's visits they no longer count.
    v = s_visit (m, "a5", "shop", "", S_T0 + 62 * S_MIN_MS + 30000, 20, true);
    assert_int_equal (v.accounts_hour, 3);          //  a3, a4, a5
    //  Another merchant knows none of it.
    v = s_visit (m, "a1", "other", "", S_T0 + 63 * S_MIN_MS, 20, false);
    assert_int_equal (v.accounts_hour, 1);
    assert_int_equal (merchants_size (m), 2);
}

//  The recent pace against the merchant's own usual: steady is about 1, a
//  burst far above; a young merchant is not read as busy.
static void
test_merchants_velocity (void **state)
{
    merchants_t *m = *state;
    int64_t ts = S_T0;
    merchants_view_t v;
    char account [16];
    for (int i = 0; i < 2 * 144; i++, ts += 10 * S_MIN_MS) {
        snprintf (account, sizeof account, "c%d", i % 40);
        v = s_visit (m, account, "steady", "", ts, 10, false);
        if (i == 3)
            assert_true (v.velocity > 0.5 && v.velocity < 2);
    }
    assert_true (v.velocity > 0.5 && v.velocity < 2);
    for (int i = 0; i < 30; i++) {
        snprintf (account, sizeof account, "b%d", i);
        v = s_visit (m, account, "steady", "", ts + i * 2000, 10, false);
    }
    assert_true (v.velocity >= 10);
    assert_int_equal (v.accounts_hour, MERCHANTS_RING);     //  the ring saturates
}

//  Distinct accounts on a device within a day; no device, no count.
static void
test_merchants_device_accounts (void **state)
{
    merchants_t *m = *state;
    merchants_view_t v = s_visit (m, "d1", "x", "attacker", S_T0, 5, true);
    assert_int_equal (v.device_accounts, 1);
    s_visit (m, "d1", "y", "attacker", S_T0 + 1000, 5, true);
    s_visit (m, "d2", "x", "attacker", S_T0 + 2000, 5, true);
    v = s_visit (m, "d3", "x", "attacker", S_T0 + 3000, 5, true);
    assert_int_equal (v.device_accounts, 3);
    v = s_visit (m, "d4", "x", "attacker", S_T0 + 25 * S_HOUR_MS, 5, true);
    assert_int_equal (v.device_accounts, 1);       //  a day later: only this one
    v = s_visit (m, "d4", "x", "", S_T0 + 25 * S_HOUR_MS, 5, true);
    assert_int_equal (v.device_accounts, 0);
    assert_int_equal (merchants_devices (m), 1);
    //  In person the device is the shop's terminal, which every customer
    //  uses: not a shared device, and not kept.
    char account [16];
    for (int i = 0; i < 5; i++) {
        txw_tx_t tx;
        snprintf (account, sizeof account, "p%d", i);
        s_tx (&tx, account, "x", "terminal", S_T0 + 26 * S_HOUR_MS + i, 4500, TXW_CHANNEL_POS);
        merchants_tx_t keys;
        s_keys (&tx, 5, false, &keys);
        merchants_view (m, &keys, &v);
        assert_int_equal (v.device_accounts, 0);
        merchants_update (m, &keys);
    }
    assert_int_equal (merchants_devices (m), 1);
}

//  An account that later sees fraud credits the merchants it bought at,
//  once each; the share decays with a half-life of a week, and shows on
//  the other customers of the merchant as their exposure.
static void
test_merchants_fraud_share (void **state)
{
    merchants_t *m = *state;
    char account [16];
    for (int i = 0; i < 15; i++) {
        snprintf (account, sizeof account, "v%d", i);
        s_visit (m, account, "compromised", "", S_T0 + i * S_MIN_MS, 10, false);
    }
    //  v0 .. v4 see fraud a day later, elsewhere.
    for (int i = 0; i < 5; i++) {
        txw_tx_t tx;
        snprintf (account, sizeof account, "v%d", i);
        s_tx (&tx, account, "elsewhere", "", S_T0 + 24 * S_HOUR_MS, 90000, TXW_CHANNEL_ONLINE);
        merchants_tx_t keys;
        s_keys (&tx, 11, false, &keys);
        assert_int_equal (merchants_fraud (m, &keys), 1);
        assert_int_equal (merchants_fraud (m, &keys), 0);          //  once only
    }
    merchants_view_t v = s_visit (m, "v9", "compromised", "", S_T0 + 25 * S_HOUR_MS, 12, false);
    double share = 5.0 / (15 + MERCHANTS_SHARE_PRIOR);
    assert_true (fabs (v.fraud_share - share) < 0.01);
    assert_true (fabs (v.exposed_fraud_share - share) < 0.01);
    //  Another customer, elsewhere: exposed through its visit to the merchant.
    v = s_visit (m, "v10", "elsewhere", "", S_T0 + 25 * S_HOUR_MS, 12, false);
    assert_true (fabs (v.exposed_fraud_share - share) < 0.01);
    assert_true (v.fraud_share < 1e-9);
    //  A week later (the merchant's event time) the share has halved
    //  visits and credits alike: the prior weighs more.
    v = s_visit (m, "v11", "compromised", "", S_T0 + 25 * S_HOUR_MS + 7 * 24 * S_HOUR_MS, 12,
                 false);
    double later = 2.5 / (7.5 + MERCHANTS_SHARE_PRIOR);
    assert_true (fabs (v.fraud_share - later) < 0.01);
    //  A visit more than the lookback before the fraud is not credited.
    txw_tx_t tx;
    s_tx (&tx, "v12", "elsewhere", "", S_T0 + 40LL * 24 * S_HOUR_MS, 90000, TXW_CHANNEL_ONLINE);
    merchants_tx_t keys;
    s_keys (&tx, 11, false, &keys);
    assert_int_equal (merchants_fraud (m, &keys), 0);
}

//  A full set evicts the record whose latest event is oldest, whatever
//  order the keys arrived in.
static void
test_merchants_eviction (void **state)
{
    (void) state;
    merchants_t *m = merchants_new (MERCHANTS_WAYS, 1, 1, 80);    //  one set of each
    assert_non_null (m);
    char merchant [16];
    for (int i = 0; i < MERCHANTS_WAYS; i++) {
        snprintf (merchant, sizeof merchant, "m%d", i);
        //  m3 is the oldest in event time, though not the first to come.
        s_visit (m, "a", merchant, "", S_T0 + (i == 3? 0: (i + 1) * S_MIN_MS), 5, false);
    }
    assert_int_equal (merchants_size (m), MERCHANTS_WAYS);
    assert_int_equal (merchants_evicted (m), 0);
    s_visit (m, "b", "m0", "", S_T0 + 20 * S_MIN_MS, 5, false);
    s_visit (m, "b", "newcomer", "", S_T0 + 21 * S_MIN_MS, 5, false);
    assert_int_equal (merchants_size (m), MERCHANTS_WAYS);
    //  The newcomer's merchant, and the account records (one way each).
    assert_true (merchants_evicted (m) >= 1);
    merchants_view_t v = s_visit (m, "c", "m3", "", S_T0 + 22 * S_MIN_MS, 5, false);
    assert_int_equal (v.history, 0);                //  m3 was the one evicted
    v = s_visit (m, "c", "m0", "", S_T0 + 23 * S_MIN_MS, 5, false);
    assert_int_equal (v.history, 2);                //  m0 stayed
    merchants_destroy (&m);
}

static void
s_copy (void *arg, merchants_kind_t kind, const void *record)
{
    merchants_t *into = arg;
    assert_int_equal (merchants_restore (into, kind, record, merchants_record_size (kind)), 0);
}

//  Event time only: the same stream gives the same state and signals, in
//  any table (one made resident first too), at any wall time; a collected
//  copy restores to the same.
static void
test_merchants_same_stream_same_state (void **state)
{
    (void) state;
    merchants_t *a = merchants_new (100, 100, 100, 80);
    merchants_t *b = merchants_new (100, 100, 100, 80);
    merchants_t *c = merchants_new (100, 100, 100, 80);
    //  Tables made resident first (the hot loop's measure) hold the same.
    assert_int_equal (merchants_populate (b), 0);
    char account [16];
    for (int i = 0; i < 50; i++) {
        snprintf (account, sizeof account, "s%d", i % 7);
        s_visit (a, account, i % 3? "p": "q", "dev", S_T0 + i * 7000, (uint32_t) i, i % 2);
        s_visit (b, account, i % 3? "p": "q", "dev", S_T0 + i * 7000, (uint32_t) i, i % 2);
    }
    assert_int_equal (merchants_collect_dirty (b, s_copy, c), 2 + 1 + 7);
    assert_int_equal (merchants_collect_dirty (b, s_copy, c), 0);      //  marks cleared
    merchants_t *all [] = { a, b, c };
    merchants_view_t v [3];
    for (int t = 0; t < 3; t++)
        v [t] = s_visit (all [t], "s1", "p", "dev", S_T0 + 60 * 7000, 3, true);
    assert_memory_equal (&v [0], &v [1], sizeof v [0]);
    assert_memory_equal (&v [0], &v [2], sizeof v [0]);
    assert_true (v [0].accounts_hour == 7 && v [0].device_accounts == 7);
    //  Not a valid record: refused.
    merchants_merchant_t bad;
    memset (&bad, 0, sizeof bad);
    assert_int_equal (merchants_restore (c, MERCHANTS_KIND_MERCHANT, &bad, sizeof bad), -1);
    assert_int_equal (merchants_restore (c, MERCHANTS_KIND_DEVICE, &bad, sizeof bad), -1);
    merchants_destroy (&a);
    merchants_destroy (&b);
    merchants_destroy (&c);
}

//  The rules read the signals and give them reason codes: cards tried at
//  one shop by several accounts from one device; a fraud that only the
//  cross-account rows push over the threshold does not feed them.
static void
test_merchants_rules (void **state)
{
    merchants_t *m = *state;
    rules_t *rules = rules_new (NULL, NULL);
    profiles_t *profiles = profiles_new (1000, 0);
    assert_non_null (rules);
    assert_non_null (profiles);
    rules_use_cross (rules, m);
    char account [16];
    txw_tx_t tx;
    //  Ordinary histories at home, then one tiny payment each at one shop
    //  from one attacker device.
    for (int i = 0; i < 6; i++) {
        snprintf (account, sizeof account, "h%d", i);
        for (int d = 0; d < 5; d++) {
            s_tx (&tx, account, "grocer", "phone", S_T0 + d * 24 * S_HOUR_MS + i * S_MIN_MS,
                  4500, TXW_CHANNEL_POS);
            snprintf (tx.device_id, sizeof tx.device_id, "phone-%d", i);
            assert_int_equal (rules_score_tx (rules, profiles, &tx, NULL, NULL), 0);
        }
    }
    uint32_t reasons = 0;
    for (int i = 0; i < 6; i++) {
        snprintf (account, sizeof account, "h%d", i);
        s_tx (&tx, account, "tiny-shop", "attacker", S_T0 + 6 * 24 * S_HOUR_MS + i * 30000,
              150, TXW_CHANNEL_ONLINE);
        assert_int_equal (rules_score_tx (rules, profiles, &tx, NULL, NULL), 0);
        if (i == 0)
            assert_false (tx.reasons & (TXW_REASON_MERCHANT_ACTIVITY | TXW_REASON_SHARED_DEVICE));
        reasons |= tx.reasons;
    }
    assert_true (reasons & TXW_REASON_MERCHANT_ACTIVITY);
    assert_true (reasons & TXW_REASON_SHARED_DEVICE);
    assert_true (tx.score >= 80);
    //  Without the cross-account state the same last payment scores lower.
    rules_use_cross (rules, NULL);
    s_tx (&tx, "h5", "tiny-shop", "attacker", S_T0 + 6 * 24 * S_HOUR_MS + 5 * 30000 + 1000,
          150, TXW_CHANNEL_ONLINE);
    rules_score_again (rules, profiles, &tx, NULL, NULL);
    assert_false (tx.reasons & (TXW_REASON_MERCHANT_ACTIVITY | TXW_REASON_SHARED_DEVICE));
    //  Those alerts were over the threshold only with the cross-account
    //  rows: "grocer" was credited no fraud.
    rules_use_cross (rules, m);
    s_tx (&tx, "h0", "grocer", "phone-0", S_T0 + 7 * 24 * S_HOUR_MS, 4500, TXW_CHANNEL_POS);
    merchants_tx_t keys;
    const profiles_account_t *acct = profiles_get (profiles, "h0", 2, tx.ts_ms);
    merchants_tx (&tx, &keys);
    merchants_tx_account (&keys, acct->hash, acct->id_check, acct->count);
    merchants_view_t view;
    merchants_view (m, &keys, &view);
    assert_true (view.fraud_share < 1e-9);
    profiles_destroy (&profiles);
    rules_destroy (&rules);
}

static void
s_stream (merchants_t *m)
{
    char account [16];
    for (int i = 0; i < 40; i++) {
        snprintf (account, sizeof account, "r%d", i % 9);
        s_visit (m, account, i % 2? "shop-a": "shop-b", i % 5? "": "shared", S_T0 + i * 9000,
                 (uint32_t) i, i % 3 == 0);
    }
}

//  A checkpoint through a real PostgreSQL restores the same state: the
//  same signals after a restart; rows under another key are left.
static void
test_merchants_checkpoint_round_trip (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.scorer_cross_state"
                                         " WHERE consumer = 'scorer-test-m'"), 0);
    merchants_t *before = merchants_new (100, 100, 100, 80);
    s_stream (before);
    merchants_checkpoint_t *cp = merchants_checkpoint_new (url, "scorer-test-m");
    assert_non_null (cp);
    merchants_t *empty = merchants_new (100, 100, 100, 80);
    assert_int_equal (merchants_checkpoint_restore (cp, empty), 0);
    merchants_destroy (&empty);
    size_t queued = merchants_checkpoint_submit (cp, before);
    assert_int_equal (queued, 2 + 1 + 9);
    assert_int_equal (merchants_checkpoint_drain (cp, 10000), 0);
    merchants_checkpoint_destroy (&cp);

    merchants_t *after = merchants_new (100, 100, 100, 80);
    cp = merchants_checkpoint_new (url, "scorer-test-m");
    assert_int_equal (merchants_checkpoint_restore (cp, after), (long) queued);
    merchants_checkpoint_destroy (&cp);
    merchants_view_t a = s_visit (before, "r1", "shop-a", "shared", S_T0 + 41 * 9000, 50, true);
    merchants_view_t b = s_visit (after, "r1", "shop-a", "shared", S_T0 + 41 * 9000, 50, true);
    assert_memory_equal (&a, &b, sizeof a);
    assert_true (a.accounts_hour > 1 && a.device_accounts > 1);

    //  Under another pseudonym key none of it is restored.
    static const uint8_t other [TXW_PSEUDONYM_KEY_BYTES] = { 9 };
    txw_pseudonym_key_set (other);
    merchants_t *foreign = merchants_new (100, 100, 100, 80);
    cp = merchants_checkpoint_new (url, "scorer-test-m");
    assert_int_equal (merchants_checkpoint_restore (cp, foreign), 0);
    merchants_checkpoint_destroy (&cp);
    merchants_destroy (&foreign);
    merchants_destroy (&before);
    merchants_destroy (&after);
    PQfinish (conn);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_merchants_accounts_hour, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_merchants_velocity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_merchants_device_accounts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_merchants_fraud_share, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_merchants_eviction, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_merchants_same_stream_same_state, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_merchants_rules, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_merchants_checkpoint_round_trip, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
