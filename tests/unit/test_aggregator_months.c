/*  test_aggregator_months - per-account and per-month deltas (txw_data.account_months)

    The aggregator keeps, besides each account's totals, its totals per UTC
    calendar month, which the cohorts are built from: a transaction falls
    in the month of its event time, to the millisecond, whatever the order
    of arrival, and the months of an account add up to its totals.        */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "rfc3339.h"

static txw_tx_t
s_tx (const char *account, const char *ts, int64_t amount, int status)
{
    txw_tx_t tx;
    memset (&tx, 0, sizeof tx);
    strcpy (tx.tx_id, "T");
    snprintf (tx.account_id, sizeof tx.account_id, "%s", account);
    assert_int_equal (rfc3339_parse (ts, strlen (ts), &tx.ts_ms), 0);
    tx.amount_rep_minor = amount;
    tx.status = (uint8_t) status;
    tx.scored = true;
    return tx;
}

static void
s_add (accounts_t *a, const char *account, const char *ts, int64_t amount, int status)
{
    txw_tx_t tx = s_tx (account, ts, amount, status);
    assert_int_equal (accounts_add (a, &tx), 0);
}

static void
s_sum (void *arg, const accounts_delta_t *d)
{
    int64_t *sums = arg;
    sums [0] += d->tx_count;
    sums [1] += d->approved_spend;
    sums [2]++;
}

static void
test_months_split_at_utc_month_starts (void **state)
{
    (void) state;
    accounts_t *a = accounts_new (80);
    //  Out of order, across a month and a year boundary.
    s_add (a, "A1", "2026-02-01T00:00:00.000Z", 300, TXW_STATUS_APPROVED);
    s_add (a, "A1", "2026-01-31T23:59:59.999Z", 100, TXW_STATUS_APPROVED);
    s_add (a, "A1", "2025-12-31T23:00:00.000-02:00", 50, TXW_STATUS_DECLINED);   //  Jan 1 UTC
    s_add (a, "A1", "2025-12-31T23:59:59.999Z", 7, TXW_STATUS_APPROVED);
    s_add (a, "A2", "2026-01-15T12:00:00.000Z", 900, TXW_STATUS_FAILED);
    assert_int_equal (accounts_size (a), 2);
    assert_int_equal (accounts_months_size (a), 4);

    const accounts_delta_t *jan = accounts_find_month (a, "A1", 2026, 1);
    assert_non_null (jan);
    assert_int_equal (jan->tx_count, 2);
    assert_int_equal (jan->approved, 1);
    assert_int_equal (jan->spend, 150);
    assert_int_equal (jan->approved_spend, 100);
    assert_int_equal (jan->month, 2026 * 12 + 0);
    const accounts_delta_t *feb = accounts_find_month (a, "A1", 2026, 2);
    assert_non_null (feb);
    assert_int_equal (feb->tx_count, 1);
    assert_int_equal (feb->approved_spend, 300);
    const accounts_delta_t *dec = accounts_find_month (a, "A1", 2025, 12);
    assert_non_null (dec);
    assert_int_equal (dec->approved_spend, 7);
    assert_null (accounts_find_month (a, "A1", 2026, 3));
    assert_int_equal (accounts_find_month (a, "A2", 2026, 1)->failed, 1);
    //  The per-account totals are not a month.
    assert_int_equal (accounts_find (a, "A1")->month, 0);
    assert_int_equal (accounts_find (a, "A1")->tx_count, 4);

    accounts_clear (a);
    assert_int_equal (accounts_size (a), 0);
    assert_int_equal (accounts_months_size (a), 0);
    assert_null (accounts_find_month (a, "A1", 2026, 1));
    accounts_destroy (&a);
}

static void
test_months_add_up_to_the_totals (void **state)
{
    (void) state;
    accounts_t *a = accounts_new (80);
    //  Enough to grow both tables several times: 3,000 accounts over 12 months.
    char ts [32];
    for (int i = 0; i < 36000; i++) {
        char account [16];
        snprintf (account, sizeof account, "acc-%d", i % 3000);
        snprintf (ts, sizeof ts, "2026-%02d-%02dT10:00:00.000Z", 1 + (i / 3000) % 12, 1 + i % 28);
        s_add (a, account, ts, 1 + i % 97, i % 5? TXW_STATUS_APPROVED: TXW_STATUS_DECLINED);
    }
    assert_int_equal (accounts_size (a), 3000);
    assert_int_equal (accounts_months_size (a), 36000);
    int64_t totals [3] = { 0 }, months [3] = { 0 };
    accounts_each (a, s_sum, totals);
    accounts_each_month (a, s_sum, months);
    assert_int_equal (totals [0], 36000);
    assert_int_equal (months [0], totals [0]);
    assert_int_equal (months [1], totals [1]);
    assert_int_equal (months [2], 36000);
    assert_int_equal (accounts_find_month (a, "acc-7", 2026, 12)->tx_count, 1);
    accounts_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_months_split_at_utc_month_starts),
        cmocka_unit_test (test_months_add_up_to_the_totals),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
