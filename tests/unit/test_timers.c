/*  test_timers - the repeating jobs of a loop: order, rate, stalls, limits

    No assertion here depends on how fast the machine is: sleeps only make
    a timer due, and every check is about what ran, never about when.       */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <time.h>

#include "clock.h"
#include "timers.h"

static void
s_count (void *arg)
{
    (*(int *) arg)++;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

static void
test_due_and_wait (void **state)
{
    (void) state;
    txw_timers_t timers;
    txw_timers_init (&timers);
    //  Nothing to wait for: the cap.
    assert_int_equal (txw_timers_wait_ms (&timers, 100), 100);
    int fast = 0, slow = 0;
    assert_int_equal (txw_timers_add (&timers, 30, s_count, &fast), 0);
    assert_int_equal (txw_timers_add (&timers, 60000, s_count, &slow), 1);
    //  Never longer than the nearest interval, never more than the cap.
    int wait = txw_timers_wait_ms (&timers, 100000);
    assert_true (wait >= 0 && wait <= 30);
    assert_true (txw_timers_wait_ms (&timers, 5) <= 5);
    //  Not due: the minute timer does not run.
    txw_timers_run (&timers);
    assert_int_equal (slow, 0);
    //  Once due, each runs once per run.
    s_sleep_ms (40);
    int before = fast;
    txw_timers_run (&timers);
    assert_int_equal (fast, before + 1);
    assert_int_equal (slow, 0);
}

static void
test_stall_and_fire (void **state)
{
    (void) state;
    txw_timers_t timers;
    txw_timers_init (&timers);
    int n = 0;
    int id = txw_timers_add (&timers, 10, s_count, &n);
    //  A stall of many intervals runs the job once, not once per interval
    //  missed, and the next is a whole interval later.
    s_sleep_ms (60);
    int64_t before = txw_mono_ms ();
    txw_timers_run (&timers);
    assert_int_equal (n, 1);
    assert_true (timers.timer [id].due_ms >= before + 10);
    //  Fired by hand: runs now, whatever its time.
    txw_timers_fire (&timers, id);
    assert_true (n >= 2);
    txw_timers_fire (&timers, 99);              //  no such timer: nothing
    txw_timers_fire (&timers, -1);
}

static void
test_limits (void **state)
{
    (void) state;
    txw_timers_t timers;
    txw_timers_init (&timers);
    int n = 0;
    assert_int_equal (txw_timers_add (&timers, 0, s_count, &n), -1);
    for (int i = 0; i < TXW_TIMERS_MAX; i++)
        assert_int_equal (txw_timers_add (&timers, 1000, s_count, &n), i);
    assert_int_equal (txw_timers_add (&timers, 1000, s_count, &n), -1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_due_and_wait),
        cmocka_unit_test (test_stall_and_fire),
        cmocka_unit_test (test_limits),
    };
    return cmocka_run_group_tests_name ("timers", tests, NULL, NULL);
}
