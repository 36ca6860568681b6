/*  test_query_search - how the alert and label searches build their statement

    qapi_sql_t: each filter's "$$" becomes the next parameter number with
    its value, one "$$" used twice in a text is one parameter, a text
    without one adds none, and a statement or a parameter list that would
    not fit is flagged (overflow), never cut silently. Cursors: what
    qapi_cursor_format writes qapi_cursor_parse reads back, and anything
    else (no time, a time that is not digits or too long, no ':', nothing
    after it) is a 400 naming "cursor".                                     */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api_private.h"

static void
test_sql_numbers_parameters (void **state)
{
    (void) state;
    qapi_sql_t q;
    qapi_sql_init (&q, "SELECT 1 FROM t WHERE true");
    assert_int_equal (q.count, 0);
    qapi_sql_add (&q, " AND a = $$", "x");
    qapi_sql_add (&q, " AND b IS NULL", NULL);
    qapi_sql_add (&q, " AND (c = $$ OR d = $$)", "y");
    qapi_sql_add (&q, " LIMIT $$::int", "51");
    assert_false (q.overflow);
    assert_string_equal (q.sql, "SELECT 1 FROM t WHERE true AND a = $1 AND b IS NULL"
                                " AND (c = $2 OR d = $2) LIMIT $3::int");
    assert_int_equal (q.count, 3);
    assert_string_equal (q.values [0], "x");
    assert_string_equal (q.values [1], "y");
    assert_string_equal (q.values [2], "51");
    //  A lone '$' is text.
    qapi_sql_init (&q, "SELECT '$'");
    assert_string_equal (q.sql, "SELECT '$'");
    assert_int_equal (q.count, 0);
}

static void
test_sql_overflow (void **state)
{
    (void) state;
    qapi_sql_t q;
    qapi_sql_init (&q, "SELECT 1");
    for (int i = 0; i < QAPI_FILTERS_MAX; i++)
        qapi_sql_add (&q, " AND a = $$", "v");
    assert_false (q.overflow);
    assert_int_equal (q.count, QAPI_FILTERS_MAX);
    qapi_sql_add (&q, " AND b = $$", "w");
    assert_true (q.overflow);
    assert_int_equal (q.count, QAPI_FILTERS_MAX);

    char big [QAPI_SQL_MAX];
    memset (big, 'x', sizeof big - 1);
    big [sizeof big - 1] = 0;
    qapi_sql_init (&q, "SELECT ");
    assert_false (q.overflow);
    qapi_sql_add (&q, big, NULL);
    assert_true (q.overflow);
    assert_true (strlen (q.sql) < QAPI_SQL_MAX);
}

static void
test_cursor_round_trip (void **state)
{
    (void) state;
    char text [64], us [24];
    const char *rest;
    json_t *out = NULL;
    qapi_cursor_format (text, sizeof text, "1764549600123456", "disposition:tx-1:2");
    assert_string_equal (text, "1764549600123456:disposition:tx-1:2");
    assert_int_equal (qapi_cursor_parse (text, us, sizeof us, &rest, &out), 0);
    assert_null (out);
    assert_string_equal (us, "1764549600123456");
    assert_string_equal (rest, "disposition:tx-1:2");
}

static void
test_cursor_refused (void **state)
{
    (void) state;
    static const char *const bad [] = {
        "", ":17", "abc:17", "12a:17", "1764549600123456", "1764549600123456:",
        "1234567890123456789:17", "-5:17", " 5:17"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char us [24];
        const char *rest = NULL;
        json_t *out = NULL;
        assert_int_equal (qapi_cursor_parse (bad [i], us, sizeof us, &rest, &out), 400);
        assert_non_null (out);
        assert_string_equal (json_string_value (json_object_get (out, "parameter")), "cursor");
        json_decref (out);
    }
    //  A time too long for the caller's buffer is refused, not cut.
    char small [4];
    const char *rest;
    json_t *out = NULL;
    assert_int_equal (qapi_cursor_parse ("12345:1", small, sizeof small, &rest, &out), 400);
    json_decref (out);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_sql_numbers_parameters),
        cmocka_unit_test (test_sql_overflow),
        cmocka_unit_test (test_cursor_round_trip),
        cmocka_unit_test (test_cursor_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
