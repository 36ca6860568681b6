/*  test_notifier - the webhook back-off schedule, retry classification,
    Retry-After parsing, the alert's JSON body and key, and the delivery
    queue's bound (drops beyond --queue, undelivered alerts at exit)       */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "log.h"
#include "payload.h"
#include "policy.h"
#include "reasons.h"

static void
test_backoff_doubles_with_jitter_and_cap (void **state)
{
    (void) state;
    //  base 500, cap 30000: 500, 1000, 2000, ... 16000, 30000, 30000
    int64_t expect [] = { 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };
    for (int attempt = 1; attempt <= 9; attempt++) {
        int64_t full = expect [attempt - 1];
        //  random 0 gives the lower bound, a random that hits half gives the top
        assert_int_equal (nt_backoff_ms (attempt, 500, 30000, 0), full - full / 2);
        assert_int_equal (nt_backoff_ms (attempt, 500, 30000, (uint64_t) (full / 2)), full);
        for (uint64_t r = 1; r < 2000; r += 37) {
            int64_t d = nt_backoff_ms (attempt, 500, 30000, r * 0x9E3779B97F4A7C15ULL);
            assert_true (d >= full / 2 && d <= full);
        }
    }
    //  no overflow for absurd attempt numbers
    assert_true (nt_backoff_ms (1000, 500, 30000, 7) <= 30000);
    assert_int_equal (nt_backoff_ms (3, 0, 30000, 7), 0);
}

static void
test_classify (void **state)
{
    (void) state;
    assert_int_equal (nt_classify (CURLE_OK, 200), NT_OUTCOME_OK);
    assert_int_equal (nt_classify (CURLE_OK, 204), NT_OUTCOME_OK);
    assert_int_equal (nt_classify (CURLE_OK, 299), NT_OUTCOME_OK);
    long retry [] = { 408, 429, 500, 502, 503, 504, 599 };
    for (size_t i = 0; i < sizeof retry / sizeof retry [0]; i++)
        assert_int_equal (nt_classify (CURLE_OK, retry [i]), NT_OUTCOME_RETRY);
    long fail [] = { 301, 302, 400, 401, 403, 404, 405, 410, 413, 422 };
    for (size_t i = 0; i < sizeof fail / sizeof fail [0]; i++)
        assert_int_equal (nt_classify (CURLE_OK, fail [i]), NT_OUTCOME_FAIL);
    int network [] = { CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR,
                       CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_COULDNT_RESOLVE_HOST };
    for (size_t i = 0; i < sizeof network / sizeof network [0]; i++)
        assert_int_equal (nt_classify (network [i], 0), NT_OUTCOME_RETRY);
    assert_int_equal (nt_classify (CURLE_URL_MALFORMAT, 0), NT_OUTCOME_FAIL);
    assert_int_equal (nt_classify (CURLE_UNSUPPORTED_PROTOCOL, 0), NT_OUTCOME_FAIL);
    assert_string_equal (nt_outcome_name (NT_OUTCOME_RETRY), "retry");
}

static void
test_retry_after (void **state)
{
    (void) state;
    int64_t now = 1784246400000LL;          //  2026-07-17T00:00:00Z
    assert_int_equal (nt_retry_after_ms ("3", now), 3000);
    assert_int_equal (nt_retry_after_ms (" 0 ", now), 0);
    assert_int_equal (nt_retry_after_ms ("120", now), 120000);
    assert_int_equal (nt_retry_after_ms ("abc", now), -1);
    assert_int_equal (nt_retry_after_ms ("12x", now), -1);
    assert_int_equal (nt_retry_after_ms ("", now), -1);
    assert_int_equal (nt_retry_after_ms (NULL, now), -1);
    assert_int_equal (nt_retry_after_ms ("Fri, 17 Jul 2026 00:00:30 GMT", now), 30000);
    assert_int_equal (nt_retry_after_ms ("Thu, 16 Jul 2026 23:00:00 GMT", now), 0);
    //  A date past what ms can hold (found by tests/fuzz) waits a day, as
    //  delay-seconds do, and one long before now none
    assert_int_equal (nt_retry_after_ms ("Sat, 18 Jul 2026 00:00:00 GMT", now), 86400000);
    assert_int_equal (nt_retry_after_ms ("Jan 1 999999104", now), 86400000);
    assert_int_equal (nt_retry_after_ms ("Jan 1 1601", now), 0);
    //  Retry-After wins over the schedule but not over the cap
    assert_int_equal (nt_next_delay_ms (1, 3000, 500, 30000, 0), 3000);
    assert_int_equal (nt_next_delay_ms (1, 90000, 500, 30000, 0), 30000);
    assert_int_equal (nt_next_delay_ms (2, -1, 500, 30000, 0), 500);
}

static txw_alert_t
s_fraud_alert (void)
{
    txw_alert_t a;
    memset (&a, 0, sizeof a);
    strcpy (a.kind, "fraud");
    strcpy (a.tx_id, "tx-123");
    a.ts_ms = 1784246400123LL;
    strcpy (a.account_id, "acc-000123");        //  whole: the body must mask it
    a.score = 91;
    a.reasons = TXW_REASON_AMOUNT_SPIKE | TXW_REASON_NEW_DEVICE;
    a.amount_minor = 250000;
    strcpy (a.currency, "USD");
    a.amount_rep_minor = 230000;
    strcpy (a.merchant_id, "m-0042");
    strcpy (a.country, "DE");
    a.channel = 2;
    strcpy (a.model_version, "rules-1");
    a.raised_ms = 1784246400456LL;
    strcpy (a.region, "north");
    strcpy (a.message, "score 91");
    return a;
}

static void
test_fraud_alert_json (void **state)
{
    (void) state;
    txw_alert_t a = s_fraud_alert ();
    char key [TXW_ALERT_KEY_MAX];
    txw_alert_key (&a, key, sizeof key);
    assert_string_equal (key, "fraud:tx-123");
    char *body = nt_alert_body (&a);
    assert_non_null (body);
    json_error_t error;
    json_t *o = json_loads (body, 0, &error);
    assert_non_null (o);
    assert_true (json_is_null (json_object_get (o, "id")));
    assert_string_equal (json_string_value (json_object_get (o, "key")), "fraud:tx-123");
    assert_string_equal (json_string_value (json_object_get (o, "kind")), "fraud");
    assert_string_equal (json_string_value (json_object_get (o, "tx_id")), "tx-123");
    assert_string_equal (json_string_value (json_object_get (o, "ts")), "2026-07-17T00:00:00.123Z");
    assert_string_equal (json_string_value (json_object_get (o, "account_id")), "******0123");
    assert_null (strstr (body, "acc-000123"));
    assert_int_equal (json_integer_value (json_object_get (o, "score")), 91);
    json_t *reasons = json_object_get (o, "reasons");
    assert_int_equal (json_array_size (reasons), 2);
    assert_string_equal (json_string_value (json_array_get (reasons, 0)), "amount_spike");
    assert_string_equal (json_string_value (json_array_get (reasons, 1)), "new_device");
    assert_int_equal (json_integer_value (json_object_get (o, "amount_minor")), 250000);
    assert_string_equal (json_string_value (json_object_get (o, "currency")), "USD");
    assert_int_equal (json_integer_value (json_object_get (o, "amount_rep_minor")), 230000);
    assert_string_equal (json_string_value (json_object_get (o, "channel")), "online");
    assert_string_equal (json_string_value (json_object_get (o, "region")), "north");
    assert_string_equal (json_string_value (json_object_get (o, "raised_at")),
                         "2026-07-17T00:00:00.456Z");
    assert_string_equal (json_string_value (json_object_get (o, "status")), "open");
    assert_true (json_is_null (json_object_get (o, "acked_at")));
    assert_true (json_is_null (json_object_get (o, "acked_by")));
    assert_int_equal (json_object_size (o), 21);
    json_decref (o);
    free (body);
}

static void
test_region_health_json_and_bad_utf8 (void **state)
{
    (void) state;
    txw_alert_t a;
    memset (&a, 0, sizeof a);
    strcpy (a.kind, "region_health");
    strcpy (a.region, "R1");
    a.ts_ms = 1784246400000LL;
    a.score = 27;
    a.raised_ms = 1784246460000LL;
    strcpy (a.message, "bad \xff byte");
    char key [TXW_ALERT_KEY_MAX];
    txw_alert_key (&a, key, sizeof key);
    assert_string_equal (key, "region_health:R1:1784246400000");
    char *body = nt_alert_body (&a);
    assert_non_null (body);
    json_t *o = json_loads (body, 0, NULL);
    assert_non_null (o);
    assert_true (json_is_null (json_object_get (o, "tx_id")));
    assert_true (json_is_null (json_object_get (o, "account_id")));
    assert_true (json_is_null (json_object_get (o, "amount_minor")));
    assert_true (json_is_null (json_object_get (o, "channel")));
    assert_int_equal (json_array_size (json_object_get (o, "reasons")), 0);
    assert_string_equal (json_string_value (json_object_get (o, "message")), "bad \xEF\xBF\xBD byte");   //  U+FFFD
    json_decref (o);
    free (body);
}

//  A URL nobody listens on: every attempt is refused and retried, so alerts
//  stay queued; the queue bound drops the third, and the drain gives up on
//  the two it holds and says so.
static void
test_queue_bound_and_drain (void **state)
{
    (void) state;
    nt_delivery_config_t cfg = {
        .urls = { "http://127.0.0.1:1/hook" }, .url_count = 1, .timeout_ms = 500,
        .max_attempts = 1000, .backoff_ms = 5000, .backoff_max_ms = 5000,
        .queue_max = 2, .concurrency = 4
    };
    nt_delivery_t *delivery = nt_delivery_new (&cfg);
    assert_non_null (delivery);
    for (int i = 0; i < 3; i++) {
        char key [32];
        snprintf (key, sizeof key, "fraud:t-%d", i);
        char *body = strdup ("{}");
        int rc = nt_delivery_submit (delivery, key, &body);
        assert_null (body);                     //  taken either way
        assert_int_equal (rc, i < 2? 0: -1);
    }
    assert_int_equal (nt_delivery_pending (delivery), 2);
    assert_int_equal (nt_delivery_drain (delivery, 200), 2);
    assert_int_equal (nt_delivery_pending (delivery), 0);
    char *body = strdup ("{}");
    assert_int_equal (nt_delivery_submit (delivery, "fraud:late", &body), -1);
    nt_delivery_destroy (&delivery);
    nt_delivery_destroy (&delivery);
    assert_null (delivery);
}

int
main (void)
{
    txw_log_init ("test_notifier", TXW_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_backoff_doubles_with_jitter_and_cap),
        cmocka_unit_test (test_classify),
        cmocka_unit_test (test_retry_after),
        cmocka_unit_test (test_fraud_alert_json),
        cmocka_unit_test (test_region_health_json_and_bad_utf8),
        cmocka_unit_test (test_queue_bound_and_drain),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
