/*  test_apikey - API keys, roles and the key store

    Keys made here parse back to the same id and hash; anything else of
    the key's shape or not is refused; the presented key is found in
    Authorization, X-API-Key or a WebSocket subprotocol. The key store runs
    against a real PostgreSQL (TXW_TEST_DATABASE_URL): a stored key is
    accepted with its role, a wrong secret, an unknown id and a revoked key
    are not, and an unreachable database is "unavailable", never "ok".    */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "apikey.h"
#include "keystore.h"
#include "testdb.h"

static void
test_roles (void **state)
{
    (void) state;
    assert_int_equal (txw_role_parse ("viewer"), TXW_ROLE_VIEWER);
    assert_int_equal (txw_role_parse ("analyst"), TXW_ROLE_ANALYST);
    assert_int_equal (txw_role_parse ("admin"), TXW_ROLE_ADMIN);
    assert_int_equal (txw_role_parse ("Admin"), TXW_ROLE_NONE);
    assert_int_equal (txw_role_parse ("none"), TXW_ROLE_NONE);
    assert_int_equal (txw_role_parse (NULL), TXW_ROLE_NONE);
    assert_string_equal (txw_role_name (TXW_ROLE_ANALYST), "analyst");
    assert_string_equal (txw_role_name ((txw_role_t) 42), "none");
    assert_true (TXW_ROLE_VIEWER < TXW_ROLE_ANALYST && TXW_ROLE_ANALYST < TXW_ROLE_ADMIN);
}

static void
test_generate_and_parse (void **state)
{
    (void) state;
    char a [TXW_APIKEY_LEN + 1], b [TXW_APIKEY_LEN + 1];
    txw_apikey_t ka, kb, parsed;
    assert_int_equal (txw_apikey_generate (a, sizeof a, &ka), 0);
    assert_int_equal (txw_apikey_generate (b, sizeof b, &kb), 0);
    assert_int_equal (strlen (a), TXW_APIKEY_LEN);
    assert_memory_equal (a, "txw_", 4);
    assert_string_not_equal (a, b);
    assert_string_not_equal (ka.id, kb.id);
    assert_int_equal (txw_apikey_parse (a, strlen (a), &parsed), 0);
    assert_string_equal (parsed.id, ka.id);
    assert_true (txw_apikey_matches (&parsed, ka.hash, sizeof ka.hash));
    assert_false (txw_apikey_matches (&parsed, kb.hash, sizeof kb.hash));
    assert_false (txw_apikey_matches (&parsed, ka.hash, sizeof ka.hash - 1));
    //  A buffer too small makes nothing.
    char small [TXW_APIKEY_LEN];
    assert_int_equal (txw_apikey_generate (small, sizeof small, &ka), -1);
}

static void
test_parse_refuses (void **state)
{
    (void) state;
    char key [TXW_APIKEY_LEN + 1];
    txw_apikey_t k, parsed;
    assert_int_equal (txw_apikey_generate (key, sizeof key, &k), 0);
    assert_int_equal (txw_apikey_parse (key, strlen (key) - 1, &parsed), -1);
    assert_int_equal (txw_apikey_parse ("", 0, &parsed), -1);
    char bad [TXW_APIKEY_LEN + 1];
    const struct { int at; char c; } edits [] = {
        { 0, 'T' }, { 3, '-' }, { 4, 'G' }, { 10, 'A' }, { 20, '-' }, { 21, '+' },
        { 40, '/' }, { TXW_APIKEY_LEN - 1, '=' }, { 30, 0 }
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits [0]; i++) {
        memcpy (bad, key, sizeof bad);
        bad [edits [i].at] = edits [i].c;
        assert_int_equal (txw_apikey_parse (bad, TXW_APIKEY_LEN, &parsed), -1);
    }
    //  A wrong secret of the right shape parses, to a different hash.
    memcpy (bad, key, sizeof bad);
    bad [TXW_APIKEY_LEN - 1] = bad [TXW_APIKEY_LEN - 1] == 'A'? 'B': 'A';
    assert_int_equal (txw_apikey_parse (bad, TXW_APIKEY_LEN, &parsed), 0);
    assert_false (txw_apikey_matches (&parsed, k.hash, sizeof k.hash));
}

static void
test_presented (void **state)
{
    (void) state;
    size_t len;
    const char *p = txw_apikey_presented ("Bearer abc", NULL, NULL, &len);
    assert_non_null (p);
    assert_int_equal (len, 3);
    assert_memory_equal (p, "abc", 3);
    p = txw_apikey_presented ("bearer   xyz  ", NULL, NULL, &len);
    assert_int_equal (len, 3);
    assert_memory_equal (p, "xyz", 3);
    p = txw_apikey_presented ("Basic dXNlcg==", "k1", NULL, &len);
    assert_int_equal (len, 2);
    assert_memory_equal (p, "k1", 2);
    //  Blanks around a header's value are not part of the key (fuzz_apikey).
    p = txw_apikey_presented (NULL, "  k2 ", NULL, &len);
    assert_int_equal (len, 2);
    assert_memory_equal (p, "k2", 2);
    assert_null (txw_apikey_presented (NULL, " \t", NULL, &len));
    p = txw_apikey_presented (NULL, NULL, "txwatch, txwatch.key.txw_1_2", &len);
    assert_int_equal (len, 7);
    assert_memory_equal (p, "txw_1_2", 7);
    p = txw_apikey_presented (NULL, NULL, "txwatch.key.k9,txwatch", &len);
    assert_int_equal (len, 2);
    assert_memory_equal (p, "k9", 2);
    assert_null (txw_apikey_presented (NULL, NULL, "txwatch, txwatch.key.", &len));
    assert_null (txw_apikey_presented ("Bearer ", "", "txwatch", &len));
    assert_null (txw_apikey_presented (NULL, NULL, NULL, &len));
    assert_int_equal (len, 0);
}

//  Inserts a key of role into the test database; its text into text.
static void
s_insert (PGconn *conn, const char *name, const char *role, char *text, txw_apikey_t *key)
{
    assert_int_equal (txw_apikey_generate (text, TXW_APIKEY_LEN + 1, key), 0);
    char hex [2 * TXW_APIKEY_HASH_SIZE + 1], sql [512];
    for (int i = 0; i < TXW_APIKEY_HASH_SIZE; i++)
        snprintf (hex + 2 * i, 3, "%02x", key->hash [i]);
    snprintf (sql, sizeof sql, "INSERT INTO txw_data.api_keys (key_id, name, role, secret_hash,"
              " created_by) VALUES ('%s', '%s', '%s', decode ('%s', 'hex'), 'test_apikey')",
              key->id, name, role, hex);
    assert_int_equal (txw_pg_exec (conn, sql), 0);
}

static void
test_keystore (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    char analyst [TXW_APIKEY_LEN + 1], viewer [TXW_APIKEY_LEN + 1];
    txw_apikey_t ka, kv;
    s_insert (conn, "ks-analyst", "analyst", analyst, &ka);
    s_insert (conn, "ks-viewer", "viewer", viewer, &kv);

    txw_keystore_t *store = txw_keystore_new (url, 1000);
    assert_non_null (store);
    txw_principal_t who;
    assert_int_equal (txw_keystore_verify (store, analyst, strlen (analyst), 0, &who), TXW_AUTH_OK);
    assert_string_equal (who.key_id, ka.id);
    assert_string_equal (who.name, "ks-analyst");
    assert_int_equal (who.role, TXW_ROLE_ANALYST);
    assert_int_equal (txw_keystore_verify (store, viewer, strlen (viewer), 0, &who), TXW_AUTH_OK);
    assert_int_equal (who.role, TXW_ROLE_VIEWER);

    //  The right id with a wrong secret, from the cache and from the database.
    char wrong [TXW_APIKEY_LEN + 1];
    memcpy (wrong, analyst, sizeof wrong);
    wrong [TXW_APIKEY_LEN - 1] = wrong [TXW_APIKEY_LEN - 1] == 'A'? 'B': 'A';
    assert_int_equal (txw_keystore_verify (store, wrong, strlen (wrong), 10, &who), TXW_AUTH_INVALID);
    assert_int_equal (txw_keystore_verify (store, wrong, strlen (wrong), 5000, &who), TXW_AUTH_INVALID);
    assert_int_equal (txw_keystore_verify (store, NULL, 0, 0, &who), TXW_AUTH_MISSING);
    assert_int_equal (txw_keystore_verify (store, "nonsense", 8, 0, &who), TXW_AUTH_INVALID);
    char unknown [TXW_APIKEY_LEN + 1];
    txw_apikey_t ku;
    assert_int_equal (txw_apikey_generate (unknown, sizeof unknown, &ku), 0);
    assert_int_equal (txw_keystore_verify (store, unknown, strlen (unknown), 0, &who), TXW_AUTH_INVALID);

    //  Revoked: still good from the cache until it expires or is forgotten.
    char sql [256];
    snprintf (sql, sizeof sql, "UPDATE txw_data.api_keys SET revoked_at = now() WHERE key_id = '%s'",
              ka.id);
    assert_int_equal (txw_pg_exec (conn, sql), 0);
    assert_int_equal (txw_keystore_verify (store, analyst, strlen (analyst), 6000, &who), TXW_AUTH_INVALID);
    assert_int_equal (txw_keystore_verify (store, viewer, strlen (viewer), 6000, &who), TXW_AUTH_OK);
    snprintf (sql, sizeof sql, "UPDATE txw_data.api_keys SET revoked_at = now() WHERE key_id = '%s'",
              kv.id);
    assert_int_equal (txw_pg_exec (conn, sql), 0);
    assert_int_equal (txw_keystore_verify (store, viewer, strlen (viewer), 6500, &who), TXW_AUTH_OK);
    txw_keystore_forget (store, kv.id);
    assert_int_equal (txw_keystore_verify (store, viewer, strlen (viewer), 6500, &who), TXW_AUTH_INVALID);
    txw_keystore_destroy (&store);
    assert_null (store);

    //  A database that cannot be reached says so; it never lets a key in.
    store = txw_keystore_new ("postgresql://127.0.0.1:1/none?connect_timeout=1", 1000);
    assert_int_equal (txw_keystore_verify (store, viewer, strlen (viewer), 0, &who),
                      TXW_AUTH_UNAVAILABLE);
    txw_keystore_destroy (&store);
    PQfinish (conn);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_roles),
        cmocka_unit_test (test_generate_and_parse),
        cmocka_unit_test (test_parse_refuses),
        cmocka_unit_test (test_presented),
        cmocka_unit_test (test_keystore),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
