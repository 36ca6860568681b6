/*  test_httpfront - the data APIs' front door (common/httpfront.h)

    Per client address: a burst passes, the next request is refused 429
    with Retry-After, and other addresses keep their own buckets (IPv6 by
    /64). No limit configured: nothing is refused. Keys: none presented or
    a malformed one is a 401 counted by reason, found before the key store
    asks the database. The metrics carry the service's prefix. (A valid
    key, 403 and the per-key limit need the database: tests/e2e/query.sh
    and ingest.sh.)                                                       */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "httpfront.h"

//  No database is reached in these tests.
#define S_NO_DATABASE "postgresql://127.0.0.1:1/none"

static void
test_client_limit (void **state)
{
    (void) state;
    txw_front_t front;
    //  A token every 1000 s, two at most: the third request waits.
    assert_int_equal (txw_front_init (&front, S_NO_DATABASE, 1000, 0.001, 2, 0, 0, 16), 0);
    assert_null (front.per_key);
    txw_refusal_t refusal;
    assert_int_equal (txw_front_client (&front, "192.0.2.7", &refusal), 0);
    assert_int_equal (txw_front_client (&front, "192.0.2.7", &refusal), 0);
    assert_int_equal (txw_front_client (&front, "192.0.2.7", &refusal), 429);
    assert_int_equal (refusal.status, 429);
    assert_string_equal (refusal.error, "too_many_requests");
    assert_true (atoi (refusal.retry_after) > 0);
    assert_int_equal (txw_front_client (&front, "192.0.2.8", &refusal), 0);
    //  One IPv6 client holds a /64.
    assert_int_equal (txw_front_client (&front, "2001:db8::1", &refusal), 0);
    assert_int_equal (txw_front_client (&front, "2001:db8::2", &refusal), 0);
    assert_int_equal (txw_front_client (&front, "2001:db8::3", &refusal), 429);
    txw_front_destroy (&front);

    assert_int_equal (txw_front_init (&front, S_NO_DATABASE, 1000, 0, 0, 0, 0, 16), 0);
    assert_null (front.per_client);
    for (int i = 0; i < 10; i++)
        assert_int_equal (txw_front_client (&front, "192.0.2.7", &refusal), 0);
    txw_front_destroy (&front);
}

static void
test_no_key (void **state)
{
    (void) state;
    txw_metrics_reset ();
    txw_front_t front;
    assert_int_equal (txw_front_init (&front, S_NO_DATABASE, 1000, 0, 0, 5, 5, 16), 0);
    txw_front_metrics (&front, "txw_test");
    txw_principal_t who;
    txw_refusal_t refusal;
    assert_int_equal (txw_front_caller (&front, NULL, NULL, TXW_ROLE_VIEWER, &who, &refusal), 401);
    assert_string_equal (refusal.error, "unauthorized");
    assert_non_null (strstr (refusal.message, "an API key is required"));
    assert_string_equal (refusal.retry_after, "");
    assert_int_equal (txw_front_caller (&front, "Bearer not-a-key", NULL, TXW_ROLE_VIEWER, &who,
                                        &refusal), 401);
    assert_non_null (strstr (refusal.message, "is not valid"));
    assert_int_equal (txw_front_caller (&front, NULL, "not-a-key-either", TXW_ROLE_ANALYST, &who,
                                        &refusal), 401);
    assert_int_equal (txw_counter_value (front.auth_failures [0]), 1);
    assert_int_equal (txw_counter_value (front.auth_failures [1]), 2);
    assert_int_equal (txw_counter_value (front.forbidden), 0);
    char *text = txw_metrics_render ();
    assert_non_null (strstr (text, "txw_test_auth_failures_total{reason=\"missing\"} 1"));
    assert_non_null (strstr (text, "txw_test_auth_failures_total{reason=\"invalid\"} 2"));
    assert_non_null (strstr (text, "txw_test_forbidden_total 0"));
    assert_non_null (strstr (text, "txw_test_rate_limited_total{by=\"key\"} 0"));
    //  No client limit: no metrics for it.
    assert_null (strstr (text, "by=\"client\""));
    free (text);
    txw_front_destroy (&front);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_client_limit),
        cmocka_unit_test (test_no_key),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
