/*  test_metrics - the fine (HDR-style) latency histogram, its render, and
    the shared one                                                             */

#include "metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static int
s_teardown (void **state)
{
    (void) state;
    txw_metrics_reset ();
    return 0;
}

//  Below 128 us every microsecond is a step of its own.
static void
test_fine_exact_below_128_us (void **state)
{
    (void) state;
    txw_histogram_t *h = txw_histogram_new_fine ("t_seconds", "t", "t_fine_seconds");
    assert_int_equal (txw_histogram_quantile_us (h, 0.5), 0);      //  nothing yet
    for (int us = 1; us <= 100; us++)
        txw_histogram_observe_us (h, us);
    assert_int_equal (txw_histogram_quantile_us (h, 0.5), 50);
    assert_int_equal (txw_histogram_quantile_us (h, 0.99), 99);
    assert_int_equal (txw_histogram_quantile_us (h, 1), 100);
    assert_int_equal (txw_histogram_quantile_us (h, 0), 1);
    txw_histogram_observe_us (h, -5);           //  a clock step back: 0
    assert_int_equal (txw_histogram_quantile_us (h, 0), 0);
}

//  Above it, every quantile of a known spread is within 1/64 above the
//  true value and never below it.
static void
test_fine_relative_error (void **state)
{
    (void) state;
    txw_histogram_t *h = txw_histogram_new_fine ("t_seconds", "t", "t_fine_seconds");
    enum { N = 100000 };
    //  1 ms .. 100 ms, evenly: the q quantile is 1,000 + q * 99,000 us.
    for (int i = 1; i <= N; i++)
        txw_histogram_observe_us (h, 1000 + (int64_t) i * 99000 / N);
    static const double qs [] = { 0.5, 0.9, 0.99, 0.999 };
    for (size_t i = 0; i < sizeof qs / sizeof qs [0]; i++) {
        double truth = 1000 + qs [i] * 99000;
        double got = (double) txw_histogram_quantile_us (h, qs [i]);
        if (got < truth - 1 || got > truth * (1 + 1.0 / 64) + 1) {
            print_error ("q %.3f: %.0f us, the true value %.0f\n", qs [i], got, truth);
            fail ();
        }
    }
    //  A 19-hour outlier lands in the last step, and the tail shows it.
    txw_histogram_observe_us (h, INT64_C (1) << 40);
    assert_true (txw_histogram_quantile_us (h, 1) >= INT64_C (1) << 35);
    //  A plain histogram has no fine counts.
    txw_histogram_t *plain = txw_histogram_new ("p_seconds", "p");
    txw_histogram_observe_us (plain, 1000);
    assert_int_equal (txw_histogram_quantile_us (plain, 0.5), 0);
}

//  The render keeps the Prometheus histogram and adds the summary.
static void
test_fine_render (void **state)
{
    (void) state;
    txw_histogram_t *h = txw_histogram_new_fine ("lat_seconds", "send to scored",
                                                 "lat_fine_seconds");
    for (int i = 0; i < 1000; i++)
        txw_histogram_observe_us (h, i < 990? 1500: 40000);
    char *text = txw_metrics_render ();
    assert_non_null (strstr (text, "# TYPE lat_seconds histogram\n"));
    assert_non_null (strstr (text, "lat_seconds_bucket{le=\"0.002\"} 990\n"));
    assert_non_null (strstr (text, "# TYPE lat_fine_seconds summary\n"));
    assert_non_null (strstr (text, "lat_fine_seconds{quantile=\"0.5\"} 0.001503\n"));
    assert_non_null (strstr (text, "lat_fine_seconds{quantile=\"0.99\"} 0.001503\n"));
    assert_non_null (strstr (text, "lat_fine_seconds{quantile=\"0.999\"} 0.040447\n"));
    assert_non_null (strstr (text, "lat_fine_seconds_count 1000\n"));
    free (text);
}

//  A shared histogram is one metric however many ask for it, and a new
//  one after a reset (the old one's memory is gone: an input made after a
//  reset must not write into it).
static void
test_fine_shared (void **state)
{
    (void) state;
    txw_histogram_t *a = txw_histogram_fine_shared ("hop_seconds", "h", "hop_fine_seconds");
    txw_histogram_t *b = txw_histogram_fine_shared ("hop_seconds", "h", "hop_fine_seconds");
    assert_ptr_equal (a, b);
    txw_histogram_observe_us (a, 10);
    txw_histogram_observe_us (b, 20);
    assert_int_equal (txw_histogram_quantile_us (a, 1), 20);
    char *text = txw_metrics_render ();
    assert_non_null (text);
    const char *first = strstr (text, "# TYPE hop_seconds histogram");
    assert_non_null (first);
    assert_null (strstr (first + 1, "# TYPE hop_seconds histogram"));
    assert_non_null (strstr (text, "hop_seconds_count 2"));
    free (text);
    txw_metrics_reset ();
    txw_histogram_t *c = txw_histogram_fine_shared ("hop_seconds", "h", "hop_fine_seconds");
    assert_non_null (c);
    assert_int_equal (txw_histogram_quantile_us (c, 1), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_fine_exact_below_128_us, s_teardown),
        cmocka_unit_test_teardown (test_fine_relative_error, s_teardown),
        cmocka_unit_test_teardown (test_fine_render, s_teardown),
        cmocka_unit_test_teardown (test_fine_shared, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
