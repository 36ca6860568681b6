/*  test_pii - keyed pseudonyms, the key file, and dead-letter masking

    The known answers were computed independently with Python's hmac:
        python3 -c 'import hmac, hashlib; key = bytes (range (32));
            print (hmac.new (key, b"ACC-000123", hashlib.sha256).hexdigest ()[:16],
                   hashlib.sha256 (key).hexdigest ()[:16])'                     */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pii.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t s_key_a [TXW_PSEUDONYM_KEY_BYTES];      //  00 01 .. 1f
static uint8_t s_key_b [TXW_PSEUDONYM_KEY_BYTES];      //  ff fe .. e0

static int
s_setup (void **state)
{
    (void) state;
    for (int i = 0; i < TXW_PSEUDONYM_KEY_BYTES; i++) {
        s_key_a [i] = (uint8_t) i;
        s_key_b [i] = (uint8_t) (255 - i);
    }
    txw_pseudonym_key_set (s_key_a);
    return 0;
}

//  The pseudonym of id, in a buffer the next call reuses.
static const char *
s_token (const char *id)
{
    static char out [TXW_PSEUDONYM_SIZE];
    txw_pseudonym (id, strlen (id), out, sizeof out);
    return out;
}

//  --- Pseudonyms ----------------------------------------------------------------

static void
test_known_answers (void **state)
{
    (void) state;
    txw_pseudonym_key_set (s_key_a);
    assert_string_equal (s_token ("ACC-000123"), "p~e4521819aabb7938");
    assert_string_equal (s_token ("acc-000123"), "p~d25270054f25de7c");
    assert_string_equal (s_token (""), "p~d38b42096d80f45f");
    assert_string_equal (txw_pseudonym_fingerprint_hex (), "630dcd2966c43366");
    uint8_t fingerprint [TXW_PSEUDONYM_FINGERPRINT_BYTES];
    txw_pseudonym_fingerprint (fingerprint);
    assert_int_equal (fingerprint [0], 0x63);
    assert_int_equal (fingerprint [7], 0x66);
    assert_false (txw_pseudonym_key_is_random ());
}

static void
test_stable_under_one_key_only (void **state)
{
    (void) state;
    char first [TXW_PSEUDONYM_SIZE], again [TXW_PSEUDONYM_SIZE];
    txw_pseudonym_key_set (s_key_a);
    txw_pseudonym ("ACC-000123", 10, first, sizeof first);
    txw_pseudonym ("ACC-000123", 10, again, sizeof again);
    assert_string_equal (first, again);
    //  Only the id's bytes count, not what follows them.
    txw_pseudonym ("ACC-000123-and-more", 10, again, sizeof again);
    assert_string_equal (first, again);

    txw_pseudonym_key_set (s_key_b);
    txw_pseudonym ("ACC-000123", 10, again, sizeof again);
    assert_true (txw_pseudonym_is (again, strlen (again)));
    assert_string_not_equal (first, again);
    assert_string_not_equal (txw_pseudonym_fingerprint_hex (), "630dcd2966c43366");

    txw_pseudonym_key_random ();
    assert_true (txw_pseudonym_key_is_random ());
    txw_pseudonym ("ACC-000123", 10, again, sizeof again);
    assert_string_not_equal (first, again);
    txw_pseudonym_key_set (s_key_a);
}

//  A token shows nothing of the id: not the id, not its last four
//  characters, not its length. (Under key A none of these ids' tokens
//  holds those four characters by chance; checked with Python.)
static void
test_reveals_nothing (void **state)
{
    (void) state;
    txw_pseudonym_key_set (s_key_a);
    for (int n = 0; n < 1000; n++) {
        char id [32];
        snprintf (id, sizeof id, "ACC-%06d", n * 7919);
        char out [TXW_PSEUDONYM_SIZE];
        txw_mask_id (id, strlen (id), out, sizeof out);
        assert_int_equal (strlen (out), TXW_PSEUDONYM_LEN);
        assert_true (txw_pseudonym_is (out, strlen (out)));
        assert_null (strstr (out, id));
        assert_null (strstr (out, id + strlen (id) - 4));
    }
    //  Every length gives the same length.
    char shortest [TXW_PSEUDONYM_SIZE], longest [TXW_PSEUDONYM_SIZE];
    txw_mask_id ("A", 1, shortest, sizeof shortest);
    char id [65];
    memset (id, 'x', 64);
    id [64] = 0;
    txw_mask_id (id, 64, longest, sizeof longest);
    assert_int_equal (strlen (shortest), strlen (longest));
}

static void
test_mask_id (void **state)
{
    (void) state;
    txw_pseudonym_key_set (s_key_a);
    char out [TXW_PSEUDONYM_SIZE];
    //  A pseudonym stays as it is: masking twice changes nothing.
    txw_mask_id ("ACC-000123", 10, out, sizeof out);
    assert_string_equal (out, "p~e4521819aabb7938");
    char twice [TXW_PSEUDONYM_SIZE];
    txw_mask_id (out, strlen (out), twice, sizeof twice);
    assert_string_equal (twice, out);
    //  Nothing an id may be looks like one ('~' is not an id character).
    assert_false (txw_pseudonym_is ("p_e4521819aabb7938", 18));
    assert_false (txw_pseudonym_is ("p~E4521819AABB7938", 18));
    assert_false (txw_pseudonym_is ("p~e4521819aabb793", 17));
    txw_mask_id ("p_e4521819aabb7938", 18, out, sizeof out);
    assert_string_not_equal (out, "p_e4521819aabb7938");
    //  Empty stays empty; a short buffer is still terminated.
    txw_mask_id ("", 0, out, sizeof out);
    assert_string_equal (out, "");
    char tiny [6];
    txw_mask_id ("ACC-000123", 10, tiny, sizeof tiny);
    assert_string_equal (tiny, "p~e45");
}

//  Hashing threads share the key: every thread gets what one thread gets.
static void *
s_hash_many (void *arg)
{
    int *failures = arg;
    for (int n = 0; n < 20000; n++) {
        char id [32], out [TXW_PSEUDONYM_SIZE];
        snprintf (id, sizeof id, "ACC-%06d", n % 50);
        txw_pseudonym (id, strlen (id), out, sizeof out);
        if (n % 50 == 0 && strcmp (out, "p~217cb28acdf96d52"))
            (*failures)++;
        uint64_t h [2];
        txw_keyed_hash128 (id, strlen (id), h);
    }
    return NULL;
}

static void
test_threads (void **state)
{
    (void) state;
    txw_pseudonym_key_set (s_key_a);
    assert_string_equal (s_token ("ACC-000000"), "p~217cb28acdf96d52");
    pthread_t threads [4];
    int failures [4] = { 0 };
    for (int i = 0; i < 4; i++)
        assert_int_equal (pthread_create (&threads [i], NULL, s_hash_many, &failures [i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join (threads [i], NULL);
        assert_int_equal (failures [i], 0);
    }
}

//  --- The key file ---------------------------------------------------------------

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

static void
test_key_file (void **state)
{
    (void) state;
    char dir [] = "/tmp/test_pii.XXXXXX";
    assert_non_null (mkdtemp (dir));
    char path [64];
    snprintf (path, sizeof path, "%s/key", dir);

    //  What txw-keygen --pseudonym-key writes; upper case and spaces too.
    s_write (path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
    txw_pseudonym_key_set (s_key_b);
    assert_int_equal (txw_pseudonym_key_load (path), 0);
    assert_string_equal (txw_pseudonym_fingerprint_hex (), "630dcd2966c43366");
    assert_string_equal (s_token ("ACC-000123"), "p~e4521819aabb7938");
    s_write (path, "  000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F \r\n\n");
    txw_pseudonym_key_set (s_key_b);
    assert_int_equal (txw_pseudonym_key_load (path), 0);
    assert_string_equal (s_token ("ACC-000123"), "p~e4521819aabb7938");

    //  Anything else is refused, and the key in use stays.
    const char *bad [] = {
        "",
        "\n",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",        //  63
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0\n",      //  65
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n",       //  not hex
        "00010203 0405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",      //  a gap
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nmore\n",
        "secret\n",
    };
    txw_pseudonym_key_set (s_key_b);
    char expected [TXW_PSEUDONYM_SIZE];
    snprintf (expected, sizeof expected, "%s", s_token ("ACC-000123"));
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_write (path, bad [i]);
        if (txw_pseudonym_key_load (path) != -1)
            fail_msg ("key file %zu accepted", i);
        assert_string_equal (s_token ("ACC-000123"), expected);
    }
    //  A long file is refused without reading it all.
    char *long_text = malloc (10000);
    memset (long_text, '0', 9999);
    long_text [9999] = 0;
    s_write (path, long_text);
    free (long_text);
    assert_int_equal (txw_pseudonym_key_load (path), -1);
    unlink (path);
    assert_int_equal (txw_pseudonym_key_load (path), -1);       //  missing
    rmdir (dir);
    assert_string_equal (s_token ("ACC-000123"), expected);
    txw_pseudonym_key_set (s_key_a);
}

//  --- Keyed hashes -----------------------------------------------------------------

static void
test_keyed_hash (void **state)
{
    (void) state;
    uint64_t a [2], again [2], other [2], b [2];
    txw_pseudonym_key_set (s_key_a);
    txw_keyed_hash128 ("ACC-000123", 10, a);
    txw_keyed_hash128 ("ACC-000123", 10, again);
    txw_keyed_hash128 ("ACC-000124", 10, other);
    assert_true (a [0] == again [0] && a [1] == again [1]);
    assert_true (a [0] != other [0] && a [1] != other [1]);
    assert_true (a [0] != a [1]);
    txw_pseudonym_key_set (s_key_b);
    txw_keyed_hash128 ("ACC-000123", 10, b);
    assert_true (a [0] != b [0] && a [1] != b [1]);
    txw_pseudonym_key_set (s_key_a);
}

//  --- Dead letters -----------------------------------------------------------------

static void
test_safe_shapes (void **state)
{
    (void) state;
    const char *safe [] = {
        "", "12.50", "-12.50", "0.00", "92233720368547.58", "12.505", "0", "20", "999999",
        "-5", "2026-01-05T10:00:00Z", "2026-01-05T10:00:00.123+01:00", "EUR", "XYZ", "DE",
        "approved", "DECLINED", "pos", "online", "mobile", "atm", "ios", "android", "web",
        "pos_terminal", "account_id", "device_type", "is_fraud", "p~e4521819aabb7938"
    };
    const char *unsafe [] = {
        "ACC-000123", "1234567", "4111111111111111", "12,50", "+5", "12.", ".5", "1.2.3",
        "12.34567", "1234567890123456.00", "2026-01-05", "2026-02-30T10:00:00Z", "eur",
        "EURO", "D", "grocery", "alice", "p_e4521819aabb7938", "D-0001234", " EUR", "a b"
    };
    for (size_t i = 0; i < sizeof safe / sizeof safe [0]; i++)
        if (!txw_pii_safe (safe [i], strlen (safe [i])))
            fail_msg ("'%s' is not safe", safe [i]);
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe [0]; i++)
        if (txw_pii_safe (unsafe [i], strlen (unsafe [i])))
            fail_msg ("'%s' is safe", unsafe [i]);
}

//  No id of the row, nor its last four characters, in the masked row.
static void
s_no_ids (const char *masked)
{
    const char *ids [] = { "ACC-98XYZ", "98XYZ", "DEV-7QWTK", "7QWTK", "MER-ABCDE", "BR-NORTH" };
    for (size_t i = 0; i < sizeof ids / sizeof ids [0]; i++)
        if (strstr (masked, ids [i]))
            fail_msg ("'%s' shows in '%s'", ids [i], masked);
    for (const char *c = masked; *c; c++)
        assert_true (*c > 0x20 && *c < 0x7f);
}

static void
test_mask_row (void **state)
{
    (void) state;
    txw_pseudonym_key_set (s_key_a);
    char out [TXW_PSEUDONYM_SIZE * 20], again [sizeof out];
    //  A well-formed row: the tx_id (stored in clear anyway) and the safe
    //  fields show, every id is a pseudonym.
    const char *row = "T1,2026-01-05T10:00:00Z,ACC-98XYZ,12.50,EUR,MER-ABCDE,grocery,pos,"
                      "BR-NORTH,north,DE,DEV-7QWTK,,approved";
    txw_mask_row (row, strlen (row), "T1", out, sizeof out);
    s_no_ids (out);
    char account [TXW_PSEUDONYM_SIZE], device [TXW_PSEUDONYM_SIZE];
    txw_mask_id ("ACC-98XYZ", 9, account, sizeof account);
    txw_mask_id ("DEV-7QWTK", 9, device, sizeof device);
    char expected [512], merchant [TXW_PSEUDONYM_SIZE], category [TXW_PSEUDONYM_SIZE],
         branch [TXW_PSEUDONYM_SIZE], region [TXW_PSEUDONYM_SIZE];
    txw_mask_id ("MER-ABCDE", 9, merchant, sizeof merchant);
    txw_mask_id ("grocery", 7, category, sizeof category);
    txw_mask_id ("BR-NORTH", 8, branch, sizeof branch);
    txw_mask_id ("north", 5, region, sizeof region);
    snprintf (expected, sizeof expected, "T1,2026-01-05T10:00:00Z,%s,12.50,EUR,%s,%s,pos,%s,%s,"
              "DE,%s,,approved", account, merchant, category, branch, region, device);
    assert_string_equal (out, expected);
    //  The same pseudonym as the alerts show: correlation still works.
    assert_non_null (strstr (out, account));
    //  Masking again gives it back (the validator masks forwarded rows
    //  again; a row sent again must stay one dead letter).
    txw_mask_row (out, strlen (out), "T1", again, sizeof again);
    assert_string_equal (again, out);

    //  A stray comma in the amount shifts every later column by one: the
    //  device id lands in the product column, the account stays masked.
    row = "T2,2026-01-05T10:00:00Z,ACC-98XYZ,12,50,EUR,MER-ABCDE,grocery,pos,"
          "BR-NORTH,north,DE,DEV-7QWTK,,approved";
    txw_mask_row (row, strlen (row), "T2", out, sizeof out);
    s_no_ids (out);
    assert_non_null (strstr (out, device));
    //  A stray comma before the account: it moves to where the amount was.
    row = "T3,2026-01-05,T10:00:00Z,ACC-98XYZ,12.50,EUR,MER-ABCDE,grocery,pos,"
          "BR-NORTH,north,DE,DEV-7QWTK,,approved";
    txw_mask_row (row, strlen (row), "T3", out, sizeof out);
    s_no_ids (out);
    assert_non_null (strstr (out, account));
    //  Quotes, spaces and an id quoted with a comma inside.
    row = "T4, \"ACC-98XYZ\" ,\"DEV-7QWTK, second\",\"EUR\"";
    txw_mask_row (row, strlen (row), "T4", out, sizeof out);
    s_no_ids (out);
    assert_non_null (strstr (out, account));
    assert_non_null (strstr (out, ",EUR"));

    //  The first field stays only when it is the tx_id named, in id
    //  characters; nothing else is kept for being first.
    row = "ACC-98XYZ,12.50";
    txw_mask_row (row, strlen (row), NULL, out, sizeof out);
    s_no_ids (out);
    txw_mask_row (row, strlen (row), "T5", out, sizeof out);
    s_no_ids (out);
    txw_mask_row ("a b,1", 5, "a b", out, sizeof out);
    assert_null (strstr (out, "a b"));

    //  Cut rows: a field is left out whole, never cut in two.
    row = "T6,ACC-98XYZ,DEV-7QWTK";
    size_t len = txw_mask_row (row, strlen (row), "T6", out, 3 + TXW_PSEUDONYM_LEN + 3);
    assert_int_equal (len, strlen (out));
    snprintf (expected, sizeof expected, "T6,%s", account);
    assert_string_equal (out, expected);
    char tiny [2];
    txw_mask_row (row, strlen (row), NULL, tiny, sizeof tiny);
    assert_string_equal (tiny, "");
    //  An empty row, a lone comma.
    assert_int_equal (txw_mask_row ("", 0, NULL, out, sizeof out), 0);
    txw_mask_row (",", 1, NULL, out, sizeof out);
    assert_string_equal (out, ",");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_known_answers),
        cmocka_unit_test (test_stable_under_one_key_only),
        cmocka_unit_test (test_reveals_nothing),
        cmocka_unit_test (test_mask_id),
        cmocka_unit_test (test_threads),
        cmocka_unit_test (test_key_file),
        cmocka_unit_test (test_keyed_hash),
        cmocka_unit_test (test_safe_shapes),
        cmocka_unit_test (test_mask_row),
    };
    return cmocka_run_group_tests_name ("pii", tests, s_setup, NULL);
}
