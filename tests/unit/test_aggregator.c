/*  test_aggregator - windows (dimensions, watermark, lateness, retention),
    per-account totals and the region health rule                           */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "accounts.h"
#include "health.h"
#include "windows.h"

#define MIN 60000

static txw_tx_t
s_tx (int64_t ts_ms, int64_t amount, int status, int score, const char *region)
{
    txw_tx_t tx;
    memset (&tx, 0, sizeof tx);
    strcpy (tx.tx_id, "T");
    tx.ts_ms = ts_ms;
    strcpy (tx.account_id, "A1");
    tx.amount_rep_minor = amount;
    strcpy (tx.merchant_id, "M1");
    strcpy (tx.category, "grocery");
    tx.channel = TXW_CHANNEL_ONLINE;
    strcpy (tx.branch_id, "B1");
    strcpy (tx.region, region);
    tx.status = (uint8_t) status;
    tx.scored = true;
    tx.score = (uint8_t) score;
    return tx;
}

static void
test_counts_every_dimension (void **state)
{
    (void) state;
    windows_t *w = windows_new (3, MIN, 5000, 3600000, 80);
    txw_tx_t a = s_tx (10 * MIN + 1000, 500, TXW_STATUS_APPROVED, 10, "R1");
    txw_tx_t b = s_tx (10 * MIN + 2000, 300, TXW_STATUS_DECLINED, 90, "R2");
    txw_tx_t c = s_tx (10 * MIN + 3000, 700, TXW_STATUS_FAILED, 50, "R1");
    assert_int_equal (windows_add (w, &a, NULL, NULL), WIN_ON_TIME);
    assert_int_equal (windows_add (w, &b, NULL, NULL), WIN_ON_TIME);
    assert_int_equal (windows_add (w, &c, NULL, NULL), WIN_ON_TIME);
    const txw_window_t *all = windows_find (w, TXW_DIM_OVERALL, "all", 10 * MIN);
    assert_non_null (all);
    assert_int_equal (all->tx_count, 3);
    assert_int_equal (all->amount_sum, 1500);
    assert_int_equal (all->amount_min, 300);
    assert_int_equal (all->amount_max, 700);
    assert_int_equal (all->approved, 1);
    assert_int_equal (all->declined, 1);
    assert_int_equal (all->failed, 1);
    assert_int_equal (all->flagged, 1);
    assert_int_equal (all->approved_amount_sum, 500);
    assert_int_equal (all->score_sum, 150);
    assert_int_equal (all->shard, 3);
    const txw_window_t *r1 = windows_find (w, TXW_DIM_REGION, "R1", 10 * MIN);
    assert_int_equal (r1->tx_count, 2);
    assert_int_equal (r1->amount_sum, 1200);
    assert_non_null (windows_find (w, TXW_DIM_CHANNEL, "online", 10 * MIN));
    assert_non_null (windows_find (w, TXW_DIM_MERCHANT, "M1", 10 * MIN));
    assert_non_null (windows_find (w, TXW_DIM_BRANCH, "B1", 10 * MIN));
    assert_non_null (windows_find (w, TXW_DIM_CATEGORY, "grocery", 10 * MIN));
    //  A transaction without a device type counts under "unknown".
    assert_non_null (windows_find (w, TXW_DIM_DEVICE, "unknown", 10 * MIN));
    assert_null (windows_find (w, TXW_DIM_REGION, "R3", 10 * MIN));
    //  One window per dimension, and a second region.
    assert_int_equal (windows_size (w), TXW_DIM_COUNT + 1);
    windows_destroy (&w);
    windows_destroy (&w);
}

static void
test_watermark_closes_and_late_counts (void **state)
{
    (void) state;
    windows_t *w = windows_new (0, MIN, 5000, 10 * MIN, 80);
    txw_tx_t tx = s_tx (0 * MIN + 100, 100, TXW_STATUS_APPROVED, 0, "R1");
    windows_add (w, &tx, NULL, NULL);
    //  An event at 1:04 puts the watermark at 0:59: window 0 still open.
    tx = s_tx (1 * MIN + 4000, 100, TXW_STATUS_APPROVED, 0, "R1");
    windows_add (w, &tx, NULL, NULL);
    assert_int_equal (windows_advance (w, NULL, NULL), 0);
    //  An event out of order but within lateness is on time.
    tx = s_tx (0 * MIN + 59000, 100, TXW_STATUS_APPROVED, 0, "R1");
    assert_int_equal (windows_add (w, &tx, NULL, NULL), WIN_ON_TIME);
    //  1:05 moves the watermark to 1:00: window 0 closes (one row per dimension).
    tx = s_tx (1 * MIN + 5000, 100, TXW_STATUS_APPROVED, 0, "R1");
    windows_add (w, &tx, NULL, NULL);
    assert_int_equal (windows_watermark (w), 1 * MIN);
    assert_int_equal (windows_advance (w, NULL, NULL), TXW_DIM_COUNT);
    const txw_window_t *zero = windows_find (w, TXW_DIM_OVERALL, "all", 0);
    assert_true (zero->closed);
    assert_int_equal (zero->tx_count, 2);
    //  A late event still counts, and is marked late.
    tx = s_tx (0 * MIN + 30000, 100, TXW_STATUS_APPROVED, 0, "R1");
    assert_int_equal (windows_add (w, &tx, NULL, NULL), WIN_LATE);
    assert_int_equal (zero->tx_count, 3);
    assert_int_equal (zero->late, 1);
    //  A late event for a window never opened is late too, and counted.
    tx = s_tx (-5 * MIN, 100, TXW_STATUS_APPROVED, 0, "R9");
    assert_int_equal (windows_add (w, &tx, NULL, NULL), WIN_LATE);
    const txw_window_t *old = windows_find (w, TXW_DIM_REGION, "R9", -5 * MIN);
    assert_int_equal (old->tx_count, 1);
    assert_int_equal (old->late, 1);
    windows_destroy (&w);
}

static int s_visits;
static void
s_count (void *arg, const win_entry_t *e)
{
    (void) arg;
    (void) e;
    s_visits++;
}

static int s_rows;
static txw_window_t s_last_row;
static void
s_row (void *arg, const txw_window_t *row)
{
    (void) arg;
    s_rows++;
    s_last_row = *row;
}

static void
test_retention_and_dirty (void **state)
{
    (void) state;
    windows_t *w = windows_new (0, MIN, 0, 2 * MIN, 80);
    txw_tx_t tx = s_tx (100, 100, TXW_STATUS_APPROVED, 0, "R1");
    windows_add (w, &tx, NULL, NULL);
    s_visits = 0;
    windows_drain_dirty (w, true, s_count, NULL);
    assert_int_equal (s_visits, TXW_DIM_COUNT);
    s_visits = 0;
    windows_drain_dirty (w, true, s_count, NULL);
    assert_int_equal (s_visits, 0);
    //  Far ahead: window 0 closes, and after retention is forgotten once
    //  its final state has been stored and published.
    tx = s_tx (10 * MIN, 100, TXW_STATUS_APPROVED, 0, "R1");
    windows_add (w, &tx, NULL, NULL);
    windows_advance (w, NULL, NULL);
    assert_non_null (windows_find (w, TXW_DIM_OVERALL, "all", 0));
    windows_drain_dirty (w, true, s_count, NULL);
    windows_drain_dirty (w, false, s_count, NULL);
    windows_advance (w, NULL, NULL);
    assert_null (windows_find (w, TXW_DIM_OVERALL, "all", 0));
    //  Older than watermark minus retention and not in memory: not
    //  recreated; the rows it adds to the stored windows are handed over,
    //  one per dimension, each one late transaction in a closed window.
    tx = s_tx (5 * MIN, 100, TXW_STATUS_APPROVED, 0, "R1");
    s_rows = 0;
    assert_int_equal (windows_add (w, &tx, s_row, NULL), WIN_TOO_LATE);
    assert_null (windows_find (w, TXW_DIM_OVERALL, "all", 5 * MIN));
    assert_int_equal (s_rows, TXW_DIM_COUNT);
    assert_int_equal (s_last_row.tx_count, 1);
    assert_int_equal (s_last_row.late, 1);
    assert_int_equal (s_last_row.amount_sum, 100);
    assert_int_equal (s_last_row.amount_min, 100);
    assert_int_equal (s_last_row.window_start_ms, 5 * MIN);
    assert_true (s_last_row.closed);
    windows_destroy (&w);
}

//  A sum that would pass INT64_MAX refuses the transaction whole: no
//  window counts it, none wraps.
static void
test_sum_overflow_is_refused (void **state)
{
    (void) state;
    windows_t *w = windows_new (0, MIN, 0, 2 * MIN, 80);
    txw_tx_t tx = s_tx (100, INT64_MAX - 10, TXW_STATUS_APPROVED, 0, "R1");
    assert_int_equal (windows_add (w, &tx, NULL, NULL), WIN_ON_TIME);
    tx = s_tx (200, 11, TXW_STATUS_APPROVED, 0, "R2");
    assert_int_equal (windows_add (w, &tx, NULL, NULL), WIN_OVERFLOW);
    assert_int_equal (windows_find (w, TXW_DIM_OVERALL, "all", 0)->tx_count, 1);
    assert_int_equal (windows_find (w, TXW_DIM_OVERALL, "all", 0)->amount_sum, INT64_MAX - 10);
    assert_null (windows_find (w, TXW_DIM_REGION, "R2", 0));
    tx = s_tx (300, 10, TXW_STATUS_APPROVED, 0, "R2");
    assert_int_equal (windows_add (w, &tx, NULL, NULL), WIN_ON_TIME);
    assert_int_equal (windows_find (w, TXW_DIM_OVERALL, "all", 0)->amount_sum, INT64_MAX);
    windows_destroy (&w);
}

//  A window older than the retention but still in memory (not yet
//  forgotten) counts the transaction itself: its whole row, written later,
//  must hold it, or it would overwrite what was added to the stored row.
static void
test_older_window_still_in_memory (void **state)
{
    (void) state;
    windows_t *w = windows_new (0, MIN, 0, 2 * MIN, 80);
    txw_tx_t tx = s_tx (100, 100, TXW_STATUS_APPROVED, 0, "R1");
    windows_add (w, &tx, NULL, NULL);
    //  The watermark jumps far ahead before a tick could forget window 0.
    tx = s_tx (10 * MIN, 100, TXW_STATUS_APPROVED, 0, "R1");
    windows_add (w, &tx, NULL, NULL);
    tx = s_tx (200, 50, TXW_STATUS_DECLINED, 0, "R1");
    s_rows = 0;
    assert_int_equal (windows_add (w, &tx, s_row, NULL), WIN_LATE);
    assert_int_equal (s_rows, 0);
    assert_int_equal (windows_find (w, TXW_DIM_OVERALL, "all", 0)->tx_count, 2);
    //  A region never seen in that window is not in memory: that one
    //  dimension's row is handed over, the others count in memory.
    tx = s_tx (300, 10, TXW_STATUS_APPROVED, 0, "R9");
    assert_int_equal (windows_add (w, &tx, s_row, NULL), WIN_TOO_LATE);
    assert_int_equal (s_rows, 1);
    assert_string_equal (s_last_row.dimension, "region");
    assert_string_equal (s_last_row.key, "R9");
    assert_null (windows_find (w, TXW_DIM_REGION, "R9", 0));
    assert_int_equal (windows_find (w, TXW_DIM_OVERALL, "all", 0)->tx_count, 3);
    windows_destroy (&w);
}

static void
test_restore_and_growth (void **state)
{
    (void) state;
    windows_t *w = windows_new (1, MIN, 5000, 3600000, 80);
    txw_window_t row;
    memset (&row, 0, sizeof row);
    strcpy (row.key, "R1");
    row.window_start_ms = 7 * MIN;
    row.window_ms = MIN;
    row.tx_count = 40;
    row.amount_sum = 4000;
    row.amount_min = 10;
    row.amount_max = 900;
    windows_restore (w, "region", &row);
    txw_tx_t tx = s_tx (7 * MIN + 10, 5, TXW_STATUS_APPROVED, 0, "R1");
    windows_add (w, &tx, NULL, NULL);
    const txw_window_t *r1 = windows_find (w, TXW_DIM_REGION, "R1", 7 * MIN);
    assert_int_equal (r1->tx_count, 41);
    assert_int_equal (r1->amount_sum, 4005);
    assert_int_equal (r1->amount_min, 5);
    //  The restored row is written back under its own dimension name.
    assert_string_equal (r1->dimension, "region");
    assert_int_equal (r1->shard, 1);
    //  Many keys: the table grows and keeps every window.
    char region [16];
    for (int i = 0; i < 5000; i++) {
        snprintf (region, sizeof region, "X%d", i);
        tx = s_tx (7 * MIN + 20, 1, TXW_STATUS_APPROVED, 0, region);
        windows_add (w, &tx, NULL, NULL);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf (region, sizeof region, "X%d", i);
        const txw_window_t *x = windows_find (w, TXW_DIM_REGION, region, 7 * MIN);
        assert_non_null (x);
        assert_int_equal (x->tx_count, 1);
    }
    assert_int_equal (windows_find (w, TXW_DIM_OVERALL, "all", 7 * MIN)->tx_count, 5001);
    windows_destroy (&w);
}

static void
test_account_deltas (void **state)
{
    (void) state;
    accounts_t *a = accounts_new (80);
    txw_tx_t t1 = s_tx (5 * MIN, 1000, TXW_STATUS_APPROVED, 10, "R1");
    txw_tx_t t2 = s_tx (3 * MIN, 250, TXW_STATUS_DECLINED, 95, "R1");
    txw_tx_t t3 = s_tx (9 * MIN, 400, TXW_STATUS_APPROVED, 30, "R1");
    txw_tx_t other = s_tx (4 * MIN, 77, TXW_STATUS_FAILED, 0, "R2");
    strcpy (other.account_id, "A2");
    assert_int_equal (accounts_add (a, &t1), 0);
    assert_int_equal (accounts_add (a, &t2), 0);
    assert_int_equal (accounts_add (a, &t3), 0);
    assert_int_equal (accounts_add (a, &other), 0);
    assert_int_equal (accounts_size (a), 2);
    const accounts_delta_t *d = accounts_find (a, "A1");
    assert_non_null (d);
    assert_int_equal (d->tx_count, 3);
    assert_int_equal (d->spend, 1650);
    assert_int_equal (d->approved_spend, 1400);     //  the lifetime value
    assert_int_equal (d->approved, 2);
    assert_int_equal (d->declined, 1);
    assert_int_equal (d->failed, 0);
    assert_int_equal (d->flagged, 1);
    assert_int_equal (d->score_sum, 135);
    assert_int_equal (d->max_score, 95);
    assert_int_equal (d->first_ms, 3 * MIN);       //  out of order events
    assert_int_equal (d->last_ms, 9 * MIN);
    assert_int_equal (accounts_find (a, "A2")->failed, 1);
    accounts_clear (a);
    assert_int_equal (accounts_size (a), 0);
    assert_null (accounts_find (a, "A1"));
    //  Growth keeps every account.
    for (int i = 0; i < 20000; i++) {
        snprintf (t1.account_id, sizeof t1.account_id, "acc-%d", i);
        accounts_add (a, &t1);
        accounts_add (a, &t1);
    }
    assert_int_equal (accounts_size (a), 20000);
    assert_int_equal (accounts_find (a, "acc-12345")->tx_count, 2);
    accounts_destroy (&a);
    assert_null (a);
}

static txw_window_t
s_region_window (int64_t start, int64_t count, int64_t declined, int64_t failed)
{
    txw_window_t w;
    memset (&w, 0, sizeof w);
    strcpy (w.dimension, "region");
    strcpy (w.key, "north");
    w.window_start_ms = start;
    w.window_ms = MIN;
    w.tx_count = count;
    w.declined = declined;
    w.failed = failed;
    w.closed = true;
    return w;
}

static void
test_region_health (void **state)
{
    (void) state;
    health_t *h = health_new (0.10, 3, 20);
    txw_alert_t alert;
    txw_window_t w;
    //  Two bad windows, a good one, then three bad: one alert, on the third.
    //  Bad means the 95% lower bound is above 10%: 25 of 100 (lower bound
    //  17.5%) is bad; 14 of 100 (lower 8.5%) and 4 of 29 are not.
    w = s_region_window (1 * MIN, 100, 20, 5);  assert_false (health_observe (h, &w, &alert));
    w = s_region_window (2 * MIN, 100, 25, 0);  assert_false (health_observe (h, &w, &alert));
    w = s_region_window (3 * MIN, 100, 9, 5);   assert_false (health_observe (h, &w, &alert));
    w = s_region_window (4 * MIN, 100, 25, 0);  assert_false (health_observe (h, &w, &alert));
    w = s_region_window (5 * MIN, 300, 60, 15); assert_false (health_observe (h, &w, &alert));
    w = s_region_window (6 * MIN, 200, 40, 10); assert_true (health_observe (h, &w, &alert));
    assert_string_equal (alert.kind, "region_health");
    assert_string_equal (alert.region, "north");
    assert_int_equal (alert.ts_ms, 6 * MIN);
    assert_int_equal (alert.score, 25);         //  50 of 200
    assert_string_equal (alert.tx_id, "");
    assert_non_null (strstr (alert.message, "25.0%"));
    //  A small window with a high share is not enough evidence.
    health_t *quiet = health_new (0.10, 1, 20);
    w = s_region_window (1 * MIN, 29, 4, 0);    assert_false (health_observe (quiet, &w, &alert));
    w = s_region_window (2 * MIN, 29, 9, 0);    assert_true (health_observe (quiet, &w, &alert));
    health_destroy (&quiet);
    //  The streak goes on: no second alert. A repeated window is ignored.
    w = s_region_window (7 * MIN, 100, 25, 0);  assert_false (health_observe (h, &w, &alert));
    w = s_region_window (7 * MIN, 100, 25, 0);  assert_false (health_observe (h, &w, &alert));
    //  A missing window (no traffic) breaks the streak; so does a window too
    //  small to judge.
    w = s_region_window (9 * MIN, 100, 25, 0);  assert_false (health_observe (h, &w, &alert));
    w = s_region_window (10 * MIN, 100, 25, 0); assert_false (health_observe (h, &w, &alert));
    w = s_region_window (11 * MIN, 19, 19, 0);  assert_false (health_observe (h, &w, &alert));
    w = s_region_window (12 * MIN, 100, 25, 0); assert_false (health_observe (h, &w, &alert));
    w = s_region_window (13 * MIN, 100, 25, 0); assert_false (health_observe (h, &w, &alert));
    w = s_region_window (14 * MIN, 100, 25, 0); assert_true (health_observe (h, &w, &alert));
    //  Regions are judged apart.
    w = s_region_window (15 * MIN, 100, 25, 0);
    strcpy (w.key, "south");
    assert_false (health_observe (h, &w, &alert));
    assert_null (health_new (1.5, 3, 20));
    assert_null (health_new (0.1, 0, 20));
    health_destroy (&h);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_counts_every_dimension),
        cmocka_unit_test (test_watermark_closes_and_late_counts),
        cmocka_unit_test (test_retention_and_dirty),
        cmocka_unit_test (test_older_window_still_in_memory),
        cmocka_unit_test (test_sum_overflow_is_refused),
        cmocka_unit_test (test_restore_and_growth),
        cmocka_unit_test (test_account_deltas),
        cmocka_unit_test (test_region_health),
    };
    return cmocka_run_group_tests_name ("aggregator", tests, NULL, NULL);
}
