/*  test_txset - the de-duplication set: the hash, membership, the horizon  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txset.h"

//  The reference vectors of the SipHash paper: key 00 01 .. 0f, messages
//  00 01 .. (len - 1).
static void
test_siphash_vectors (void **state)
{
    (void) state;
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    char msg [64];
    for (int i = 0; i < 64; i++)
        msg [i] = (char) i;
    assert_true (txw_txset_hash (k0, k1, msg, 0) == 0x726fdb47dd0e0e31ULL);
    assert_true (txw_txset_hash (k0, k1, msg, 1) == 0x74f839c593dc67fdULL);
    assert_true (txw_txset_hash (k0, k1, msg, 8) == 0x93f5f5799a932462ULL);
    assert_true (txw_txset_hash (k0, k1, msg, 15) == 0xa129ca6149be45e5ULL);
    //  Another key, another hash.
    assert_true (txw_txset_hash (k0 + 1, k1, msg, 15) != 0xa129ca6149be45e5ULL);
}

static void
test_add_and_horizon (void **state)
{
    (void) state;
    assert_null (txw_txset_new (0));
    txw_txset_t *set = txw_txset_new (3);
    assert_true (txw_txset_add (set, 11));
    assert_false (txw_txset_add (set, 11));         //  a duplicate
    assert_true (txw_txset_add (set, 22));
    assert_true (txw_txset_add (set, 33));
    assert_int_equal (txw_txset_size (set), 3);
    //  Full: the oldest (11) goes, the others stay.
    assert_true (txw_txset_add (set, 44));
    assert_false (txw_txset_has (set, 11));
    assert_true (txw_txset_has (set, 22) && txw_txset_has (set, 33) && txw_txset_has (set, 44));
    assert_int_equal (txw_txset_size (set), 3);
    assert_true (txw_txset_add (set, 11));          //  beyond the horizon: new again
    assert_false (txw_txset_has (set, 22));
    txw_txset_destroy (&set);
    assert_null (set);
}

//  Against a plain list of the last `capacity` hashes, with many collisions
//  in the index (small values, a small table), through many evictions.
static void
test_matches_a_reference (void **state)
{
    (void) state;
    enum { CAP = 1000, OPS = 200000 };
    txw_txset_t *set = txw_txset_new (CAP);
    uint64_t *last = calloc (CAP, sizeof *last);
    size_t held = 0, head = 0;
    srand (7);
    for (int op = 0; op < OPS; op++) {
        uint64_t h = (uint64_t) (rand () % 3000) * 0x100000001ULL;
        bool in = false;
        for (size_t i = 0; i < held; i++)
            in |= last [i] == h;
        assert_int_equal (txw_txset_has (set, h), in);
        assert_int_equal (txw_txset_add (set, h), !in);
        if (!in) {
            last [head] = h;
            head = (head + 1) % CAP;
            if (held < CAP)
                held++;
        }
        assert_int_equal (txw_txset_size (set), held);
    }
    free (last);
    txw_txset_destroy (&set);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_siphash_vectors),
        cmocka_unit_test (test_add_and_horizon),
        cmocka_unit_test (test_matches_a_reference),
    };
    return cmocka_run_group_tests_name ("txset", tests, NULL, NULL);
}
