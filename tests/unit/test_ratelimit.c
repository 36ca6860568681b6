/*  test_ratelimit - token buckets and connections per key

    Buckets: a burst passes and the next request waits for Retry-After
    seconds (rounded up, at least 1); a token comes back every 1 / rate;
    keys do not share buckets. Bounded memory: only refilled buckets are
    dropped, so no key regains tokens by being pushed out, and keys beyond
    the table share one overflow bucket. Against a reference: with room
    for every key the table answers exactly as one bucket per key does;
    with a small table, what each key is let through still fits its own
    rate and burst. Threads: a burst per key passes, whatever the
    interleaving, and the connection cap holds. Addresses: IPv6 clients count by /64. Connections: the
    cap per key, release, and the bounded table.                          */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

static void
test_burst_and_retry_after (void **state)
{
    (void) state;
    //  Two tokens a second, five at most.
    txw_ratelimit_t *limit = txw_ratelimit_new (2, 5, 16);
    assert_non_null (limit);
    for (int i = 0; i < 5; i++)
        assert_int_equal (txw_ratelimit_take (limit, "key-a", 1000), 0);
    assert_int_equal (txw_ratelimit_take (limit, "key-a", 1000), 1);    //  0.5 s, rounded up
    assert_int_equal (txw_ratelimit_take (limit, "key-a", 1499), 1);
    //  A refused request took nothing: one token is back after 0.5 s.
    assert_int_equal (txw_ratelimit_take (limit, "key-a", 1500), 0);
    assert_int_equal (txw_ratelimit_take (limit, "key-a", 1500), 1);
    //  Another key has its own bucket.
    assert_int_equal (txw_ratelimit_take (limit, "key-b", 1500), 0);
    //  Idle for long enough, the bucket is full again, and no fuller.
    for (int i = 0; i < 5; i++)
        assert_int_equal (txw_ratelimit_take (limit, "key-a", 60000), 0);
    assert_int_not_equal (txw_ratelimit_take (limit, "key-a", 60000), 0);
    txw_ratelimit_destroy (&limit);
    assert_null (limit);

    //  One token every 10 s: Retry-After counts whole seconds, rounded up.
    limit = txw_ratelimit_new (0.1, 1, 4);
    assert_int_equal (txw_ratelimit_take (limit, "k", 0), 0);
    assert_int_equal (txw_ratelimit_take (limit, "k", 0), 10);
    assert_int_equal (txw_ratelimit_take (limit, "k", 2500), 8);
    assert_int_equal (txw_ratelimit_take (limit, "k", 9001), 1);
    assert_int_equal (txw_ratelimit_take (limit, "k", 10000), 0);
    txw_ratelimit_destroy (&limit);

    assert_null (txw_ratelimit_new (0, 5, 16));
    assert_null (txw_ratelimit_new (1, 0, 16));
    assert_null (txw_ratelimit_new (1, 5, 0));
    txw_ratelimit_destroy (&limit);             //  NULL: nothing
}

//  A drained key cannot get a full bucket back by pushing its entry out
//  of the table with other keys: only refilled buckets are dropped, and
//  the newcomers share the overflow bucket meanwhile.
static void
test_no_reset_by_eviction (void **state)
{
    (void) state;
    txw_counter_t *limited = txw_counter_new ("test_limited_total", NULL, "refused");
    txw_counter_t *overflows = txw_counter_new ("test_overflows_total", NULL, "overflowed");
    txw_gauge_t *entries = txw_gauge_new ("test_buckets", NULL, "held");
    //  One token a second, three at most, two buckets.
    txw_ratelimit_t *limit = txw_ratelimit_new (1, 3, 2);
    txw_ratelimit_set_metrics (limit, limited, overflows, entries);
    for (int i = 0; i < 3; i++)
        assert_int_equal (txw_ratelimit_take (limit, "attacker", 0), 0);
    assert_int_equal (txw_ratelimit_take (limit, "attacker", 0), 1);
    //  A hundred other keys: one gets the second bucket, the rest share
    //  the overflow bucket, which lets three through.
    int passed = 0;
    for (int i = 0; i < 100; i++) {
        char key [24];
        snprintf (key, sizeof key, "other-%d", i);
        passed += txw_ratelimit_take (limit, key, 0) == 0;
    }
    assert_int_equal (passed, 1 + 3);
    assert_int_equal (txw_ratelimit_size (limit), 2);
    assert_int_equal (txw_counter_value (overflows), 99);
    //  The attacker's bucket is still empty.
    assert_int_equal (txw_ratelimit_take (limit, "attacker", 0), 1);
    assert_int_equal (txw_counter_value (limited), 1 + 96 + 1);

    //  After 1 s other-0's bucket is full again and goes for a newcomer,
    //  which starts no fuller than the overflow bucket (empty until 1 s,
    //  then one token): what went through there is not given again.
    assert_int_equal (txw_ratelimit_take (limit, "newcomer", 1000), 0);
    assert_int_equal (txw_ratelimit_take (limit, "newcomer", 1000), 1);
    assert_int_equal (txw_counter_value (overflows), 99);
    assert_int_equal (txw_ratelimit_size (limit), 2);
    //  The attacker got one token back in that second, no more.
    assert_int_equal (txw_ratelimit_take (limit, "attacker", 1000), 0);
    assert_int_equal (txw_ratelimit_take (limit, "attacker", 1000), 1);
    //  Long idle: every bucket refills and is dropped for new keys.
    for (int i = 0; i < 2; i++) {
        char key [24];
        snprintf (key, sizeof key, "later-%d", i);
        for (int j = 0; j < 3; j++)
            assert_int_equal (txw_ratelimit_take (limit, key, 100000), 0);
    }
    assert_int_equal (txw_counter_value (overflows), 99);
    txw_ratelimit_destroy (&limit);
    txw_metrics_reset ();
}

//  Keys are held by their first TXW_RATELIMIT_KEY_MAX bytes: longer keys
//  that share them share a bucket (stricter, never looser).
static void
test_long_keys (void **state)
{
    (void) state;
    txw_ratelimit_t *limit = txw_ratelimit_new (1, 1, 8);
    char a [200], b [200];
    memset (a, 'x', sizeof a - 1);
    a [sizeof a - 1] = 0;
    memcpy (b, a, sizeof b);
    b [150] = 'y';
    assert_int_equal (txw_ratelimit_take (limit, a, 0), 0);
    assert_int_equal (txw_ratelimit_take (limit, b, 0), 1);
    assert_int_equal (txw_ratelimit_take (limit, NULL, 0), 0);     //  NULL is ""
    assert_int_equal (txw_ratelimit_take (limit, "", 0), 1);
    txw_ratelimit_destroy (&limit);
}

//  One bucket per key, as GCRA defines it (the arrival time in µs).
typedef struct {
    int64_t tat [64];
    int64_t interval, tolerance;
} s_reference_t;

static int
s_reference_take (s_reference_t *ref, int key, int64_t now_ms)
{
    int64_t now = now_ms * 1000;
    int64_t start = ref->tat [key] > now? ref->tat [key]: now;
    if (start - now > ref->tolerance)
        return (int) ((start - now - ref->tolerance + 999999) / 1000000);
    ref->tat [key] = start + ref->interval;
    return 0;
}

static void
test_against_a_reference (void **state)
{
    (void) state;
    enum { KEYS = 64, OPS = 200000 };
    srand (7);
    for (int round = 0; round < 2; round++) {
        //  Room for every key: the same answers as one bucket per key.
        //  Room for a few: each key's passed requests still conform.
        size_t capacity = round == 0? KEYS: 5;
        txw_ratelimit_t *limit = txw_ratelimit_new (4, 6, capacity);
        txw_counter_t *limited = txw_counter_new ("test_limited_total", NULL, "refused");
        txw_counter_t *overflows = txw_counter_new ("test_overflows_total", NULL, "overflowed");
        txw_ratelimit_set_metrics (limit, limited, overflows, NULL);
        s_reference_t ref = { .interval = 250000, .tolerance = 250000 * 5 };
        s_reference_t check = ref;
        for (int k = 0; k < KEYS; k++)
            ref.tat [k] = check.tat [k] = INT64_MIN / 2;
        int64_t now = 0;
        int passed = 0;
        for (int i = 0; i < OPS; i++) {
            now += rand () % 3 == 0? rand () % 400: 0;
            int key = rand () % 8 == 0? rand () % KEYS: rand () % 4;
            char name [24];
            snprintf (name, sizeof name, "key-%d", key);
            int wait = txw_ratelimit_take (limit, name, now);
            assert_true (wait >= 0);
            if (round == 0)
                assert_int_equal (wait, s_reference_take (&ref, key, now));
            if (wait == 0) {
                //  A passed request must fit the key's own bucket.
                assert_int_equal (s_reference_take (&check, key, now), 0);
                passed++;
            }
            assert_true (txw_ratelimit_size (limit) <= capacity);
        }
        assert_true (passed > OPS / 20);
        assert_true (txw_counter_value (limited) > OPS / 20);
        if (round == 0)
            assert_int_equal (txw_counter_value (overflows), 0);
        else
            assert_true (txw_counter_value (overflows) > OPS / 100);
        txw_ratelimit_destroy (&limit);
        txw_metrics_reset ();
    }
}

//  Workers at once: with the clock standing still, exactly a burst per
//  key passes, however the takes interleave.
typedef struct {
    txw_ratelimit_t *limit;
    int passed;
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    for (int i = 0; i < 20000; i++) {
        char key [24];
        snprintf (key, sizeof key, "key-%d", i % 10);
        w->passed += txw_ratelimit_take (w->limit, key, 5000) == 0;
    }
    return NULL;
}

static void
test_threads (void **state)
{
    (void) state;
    enum { THREADS = 4 };
    txw_ratelimit_t *limit = txw_ratelimit_new (1, 50, 10);
    s_worker_t workers [THREADS];
    pthread_t threads [THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers [t] = (s_worker_t) { limit, 0 };
        assert_int_equal (pthread_create (&threads [t], NULL, s_worker, &workers [t]), 0);
    }
    int passed = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join (threads [t], NULL);
        passed += workers [t].passed;
    }
    assert_int_equal (passed, 10 * 50);
    txw_ratelimit_destroy (&limit);
}

static void
test_client_keys (void **state)
{
    (void) state;
    char key [TXW_RATELIMIT_KEY_MAX + 1];
    txw_ratelimit_client_key ("192.0.2.7", key, sizeof key);
    assert_string_equal (key, "192.0.2.7");
    txw_ratelimit_client_key ("::ffff:192.0.2.7", key, sizeof key);
    assert_string_equal (key, "192.0.2.7");
    txw_ratelimit_client_key ("2001:db8:1:2:3:4:5:6", key, sizeof key);
    assert_string_equal (key, "2001:db8:1:2::/64");
    txw_ratelimit_client_key ("[2001:db8:1:2::99]", key, sizeof key);
    assert_string_equal (key, "2001:db8:1:2::/64");
    txw_ratelimit_client_key ("::1", key, sizeof key);
    assert_string_equal (key, "::/64");
    txw_ratelimit_client_key ("not an address", key, sizeof key);
    assert_string_equal (key, "not an address");
    txw_ratelimit_client_key (NULL, key, sizeof key);
    assert_string_equal (key, "");
    char small [6];
    txw_ratelimit_client_key ("192.0.2.7", small, sizeof small);
    assert_string_equal (small, "192.0");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_burst_and_retry_after),
        cmocka_unit_test (test_no_reset_by_eviction),
        cmocka_unit_test (test_long_keys),
        cmocka_unit_test (test_against_a_reference),
        cmocka_unit_test (test_threads),
        cmocka_unit_test (test_client_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
