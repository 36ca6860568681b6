/*  test_severity - the alert severity rule, and that PostgreSQL's is the same

    common/severity.c routes alerts in the notifier before they are stored;
    txw_data.alert_severity (proto/sql/021_workflow.sql) derives the stored
    column. The two must agree on every score and on both sides of every
    amount boundary, or an alert would be routed by one severity and listed
    under another.                                                           */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "severity.h"
#include "testdb.h"

#include <stdio.h>
#include <string.h>

static void
test_boundaries (void **state)
{
    (void) state;
    assert_int_equal (txw_severity (0, 0), TXW_SEVERITY_LOW);
    assert_int_equal (txw_severity (49, 10000000), TXW_SEVERITY_LOW);
    assert_int_equal (txw_severity (50, 0), TXW_SEVERITY_MEDIUM);
    assert_int_equal (txw_severity (74, 10000000), TXW_SEVERITY_MEDIUM);
    assert_int_equal (txw_severity (75, TXW_SEVERITY_LARGE_REP_MINOR - 1), TXW_SEVERITY_HIGH);
    assert_int_equal (txw_severity (75, TXW_SEVERITY_LARGE_REP_MINOR), TXW_SEVERITY_CRITICAL);
    assert_int_equal (txw_severity (89, -1), TXW_SEVERITY_HIGH);
    assert_int_equal (txw_severity (90, 0), TXW_SEVERITY_CRITICAL);
    assert_int_equal (txw_severity (100, -1), TXW_SEVERITY_CRITICAL);
}

static void
test_names (void **state)
{
    (void) state;
    for (int i = 0; i < TXW_SEVERITY_COUNT; i++) {
        txw_severity_t parsed;
        assert_true (txw_severity_parse (txw_severity_name ((txw_severity_t) i), &parsed));
        assert_int_equal (parsed, i);
    }
    txw_severity_t parsed = TXW_SEVERITY_HIGH;
    assert_false (txw_severity_parse ("urgent", &parsed));
    assert_false (txw_severity_parse ("", &parsed));
    assert_false (txw_severity_parse (NULL, &parsed));
    assert_int_equal (parsed, TXW_SEVERITY_HIGH);
    assert_string_equal (txw_severity_name (TXW_SEVERITY_COUNT), "low");
}

//  Every score 0..100 against amounts around the boundary, and a NULL
//  amount (region health alerts have none), in one query.
static void
test_same_as_sql (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    const int64_t amounts [] = { 0, 1, TXW_SEVERITY_LARGE_REP_MINOR - 1,
                                 TXW_SEVERITY_LARGE_REP_MINOR, INT64_MAX };
    const size_t amount_count = sizeof amounts / sizeof amounts [0];
    PGresult *res = PQexec (conn,
        "SELECT s, a, txw_data.alert_severity (s, a) FROM generate_series (0, 100) s, "
        "unnest (ARRAY [NULL, 0, 1, 499999, 500000, 9223372036854775807]::bigint []) a "
        "ORDER BY s, a NULLS FIRST");
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_int_equal (PQntuples (res), 101 * (amount_count + 1));
    for (int row = 0; row < PQntuples (res); row++) {
        int score = atoi (PQgetvalue (res, row, 0));
        int64_t amount = PQgetisnull (res, row, 1)? -1: strtoll (PQgetvalue (res, row, 1), NULL, 10);
        const char *want = txw_severity_name (txw_severity (score, amount));
        if (strcmp (want, PQgetvalue (res, row, 2)))
            fail_msg ("score %d amount %lld: C says %s, SQL says %s", score, (long long) amount,
                      want, PQgetvalue (res, row, 2));
    }
    PQclear (res);
    PQfinish (conn);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_boundaries),
        cmocka_unit_test (test_names),
        cmocka_unit_test (test_same_as_sql),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
