/*  test_notifier - the webhook back-off schedule, retry classification,
    Retry-After parsing, the alert's JSON body and key, the delivery
    queue's bound (drops beyond --queue, undelivered alerts at exit), and
    the webhook signature: known answers, the header's form, the secret
    file's checks                                                          */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "log.h"
#include "payload.h"
#include "pii.h"
#include "policy.h"
#include "reasons.h"
#include "signature.h"

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
    //  The key of tests/unit/test_pii.c's known answers.
    uint8_t pseudonym_key [TXW_PSEUDONYM_KEY_BYTES];
    for (int i = 0; i < TXW_PSEUDONYM_KEY_BYTES; i++)
        pseudonym_key [i] = (uint8_t) i;
    txw_pseudonym_key_set (pseudonym_key);
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
    assert_string_equal (json_string_value (json_object_get (o, "account_id")),
                         "p~d25270054f25de7c");
    assert_null (strstr (body, "acc-000123"));
    assert_null (strstr (body, "0123"));
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
    assert_string_equal (json_string_value (json_object_get (o, "severity")), "critical");
    assert_int_equal (json_object_size (o), 22);
    json_decref (o);
    //  A published alert arrives with the pseudonym: the body is the same
    //  as for the stored alert the catch-up reads (the id whole).
    snprintf (a.account_id, sizeof a.account_id, "p~d25270054f25de7c");
    char *again = nt_alert_body (&a);
    assert_string_equal (again, body);
    free (again);
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
    assert_string_equal (json_string_value (json_object_get (o, "severity")), "low");
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
    nt_channels_t channels = { .count = 0 };
    assert_int_equal (nt_channels_add_webhooks (&channels, "http://127.0.0.1:1/hook",
                                                "fraud", 0, NULL, NULL), 0);
    nt_delivery_config_t cfg = {
        .channels = &channels, .timeout_ms = 500,
        .max_attempts = 1000, .backoff_ms = 5000, .backoff_max_ms = 5000,
        .queue_max = 2, .concurrency = 4
    };
    nt_delivery_t *delivery = nt_delivery_new (&cfg);
    assert_non_null (delivery);
    char *none [NT_MAX_CHANNELS] = { NULL };
    assert_int_equal (nt_delivery_submit (delivery, "fraud:nowhere", none), -1);
    for (int i = 0; i < 3; i++) {
        char key [32];
        snprintf (key, sizeof key, "fraud:t-%d", i);
        char *bodies [NT_MAX_CHANNELS] = { strdup ("{}") };
        int rc = nt_delivery_submit (delivery, key, bodies);
        assert_null (bodies [0]);               //  taken either way
        assert_int_equal (rc, i < 2? 0: -1);
    }
    assert_int_equal (nt_delivery_pending (delivery), 2);
    assert_int_equal (nt_delivery_drain (delivery, 200), 2);
    assert_int_equal (nt_delivery_pending (delivery), 0);
    char *bodies [NT_MAX_CHANNELS] = { strdup ("{}") };
    assert_int_equal (nt_delivery_submit (delivery, "fraud:late", bodies), -1);
    assert_null (bodies [0]);
    nt_delivery_destroy (&delivery);
    nt_delivery_destroy (&delivery);
    assert_null (delivery);
    nt_channels_clear (&channels);
}

//  Known answers, computed apart from libsodium with Python's hmac module:
//  hmac.new (secret, b"<t>." + body, hashlib.sha256).hexdigest ()
#define S_SECRET        "txwatch-test-secret-0123456789"
#define S_BODY          "{\"key\":\"fraud:tx-123\",\"score\":91}"
#define S_MAC           "210fc69d5b5c0188c12f155030bd4f0f31845d840776175675b4a5d79d50586b"
#define S_MAC_BINARY    "9ed7951af9352b12a787d2214ab38e5ae023f01778540623b25724656ffcf057"
#define S_MAC_LONG_KEY  "db90777703f4b03a7c9b2a1396f5946bb7e07d26a11ff80a826dac4838e36718"

static void
test_signature_known_answers (void **state)
{
    (void) state;
    nt_signer_t *signer = nt_signer_new (S_SECRET, strlen (S_SECRET));
    assert_non_null (signer);
    char header [NT_SIGNATURE_MAX];
    int len = nt_signer_sign (signer, 1784246400, S_BODY, strlen (S_BODY), header, sizeof header);
    assert_string_equal (header, "t=1784246400,v1=" S_MAC);
    assert_int_equal (len, (int) strlen (header));
    //  The body is bytes, not a C string: a NUL and a byte above 0x7f are signed too
    nt_signer_sign (signer, 1784246401, "a\0b\xff" "c", 5, header, sizeof header);
    assert_string_equal (header, "t=1784246401,v1=" S_MAC_BINARY);
    //  Another time, another signature over the same body
    nt_signer_sign (signer, 1784246401, S_BODY, strlen (S_BODY), header, sizeof header);
    assert_string_not_equal (header + 17, S_MAC);
    nt_signer_destroy (&signer);
    nt_signer_destroy (&signer);
    assert_null (signer);
    //  A key longer than SHA-256's block is hashed first (HMAC's rule), and
    //  an empty body is signed
    char long_key [100];
    memset (long_key, 'L', sizeof long_key);
    signer = nt_signer_new (long_key, sizeof long_key);
    assert_non_null (signer);
    nt_signer_sign (signer, 0, "", 0, header, sizeof header);
    assert_string_equal (header, "t=0,v1=" S_MAC_LONG_KEY);
    nt_signer_destroy (&signer);
}

static void
test_signature_header_form (void **state)
{
    (void) state;
    nt_signer_t *signer = nt_signer_new (S_SECRET, strlen (S_SECRET));
    assert_non_null (signer);
    char header [NT_SIGNATURE_MAX];
    //  The largest time fits: t=, 19 digits, ",v1=", 64 lowercase hex digits
    int len = nt_signer_sign (signer, INT64_MAX, S_BODY, strlen (S_BODY), header, sizeof header);
    assert_int_equal (len, 2 + 19 + 4 + 64);
    assert_memory_equal (header, "t=9223372036854775807,v1=", 25);
    for (int i = 25; i < len; i++)
        assert_non_null (strchr ("0123456789abcdef", header [i]));
    assert_int_equal (nt_signer_sign (signer, INT64_MIN, "", 0, header, sizeof header),
                      2 + 20 + 4 + 64);
    //  A buffer that could be too small for some time is refused, whatever the time
    char small [NT_SIGNATURE_MAX - 1];
    assert_int_equal (nt_signer_sign (signer, 1, "", 0, small, sizeof small), -1);
    assert_string_equal (NT_SIGNATURE_HEADER, "X-Txwatch-Signature");
    nt_signer_destroy (&signer);
    //  A secret shorter than 16 bytes is refused
    assert_null (nt_signer_new ("fifteen-bytes-x", 15));
    signer = nt_signer_new ("sixteen-bytes-xx", 16);
    assert_non_null (signer);
    nt_signer_destroy (&signer);
}

//  Writes len bytes of text to a new file under /tmp; returns its path.
static char *
s_secret_file (const char *text, size_t len)
{
    char *path = strdup ("/tmp/test_notifier_secret_XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, len), (ssize_t) len);
    close (fd);
    return path;
}

//  The signature from a secret file, or "" if it is refused.
static void
s_sign_with_file (const char *text, size_t len, char *header)
{
    char *path = s_secret_file (text, len);
    nt_signer_t *signer = nt_signer_load ("--webhook-secret-file", path);
    header [0] = 0;
    if (signer)
        nt_signer_sign (signer, 1784246400, S_BODY, strlen (S_BODY), header, NT_SIGNATURE_MAX);
    nt_signer_destroy (&signer);
    unlink (path);
    free (path);
}

static void
test_secret_file (void **state)
{
    (void) state;
    char header [NT_SIGNATURE_MAX];
    //  The secret as it is, or with the line end an editor or echo leaves
    const char *good [] = { S_SECRET, S_SECRET "\n", S_SECRET "\r\n", S_SECRET "\n\n" };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        s_sign_with_file (good [i], strlen (good [i]), header);
        assert_string_equal (header, "t=1784246400,v1=" S_MAC);
    }
    //  Spaces are part of the secret: only line ends are trimmed
    s_sign_with_file (S_SECRET " \n", strlen (S_SECRET) + 2, header);
    assert_true (*header);
    assert_string_not_equal (header, "t=1784246400,v1=" S_MAC);
    //  Too short once trimmed; empty
    s_sign_with_file ("fifteen-bytes-x\n", 16, header);
    assert_string_equal (header, "");
    s_sign_with_file ("", 0, header);
    assert_string_equal (header, "");
    //  Exactly the longest secret, and one byte more (a trailing line end
    //  does not make a longer file fit)
    char *big = malloc (NT_SECRET_MAX + 2);
    memset (big, 's', NT_SECRET_MAX + 1);
    s_sign_with_file (big, NT_SECRET_MAX, header);
    assert_true (*header);
    s_sign_with_file (big, NT_SECRET_MAX + 1, header);
    assert_string_equal (header, "");
    big [NT_SECRET_MAX] = '\n';
    big [NT_SECRET_MAX + 1] = 's';
    s_sign_with_file (big, NT_SECRET_MAX + 2, header);
    assert_string_equal (header, "");
    free (big);
    //  No such file; a folder
    assert_null (nt_signer_load ("--webhook-secret-file", "/nonexistent/txwatch-webhook-secret"));
    assert_null (nt_signer_load ("--webhook-secret-file", "/tmp"));
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
        cmocka_unit_test (test_signature_known_answers),
        cmocka_unit_test (test_signature_header_form),
        cmocka_unit_test (test_secret_file),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
