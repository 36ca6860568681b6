/*  test_aggregator_corrections - corrections of stored transactions

    A correction takes an approved transaction out of the approved count
    and amount of its windows (in memory, or the stored row of a window
    forgotten) and of its account's totals and month, and nothing else.
    With TXW_TEST_DATABASE_URL, the sink's part runs against PostgreSQL:
    the originals are read back with what was corrected before, and one
    flush writes the correction, the transaction's status, the stored
    window's change, the account totals, a chargeback's label and the
    stale marks (of new transactions too).                                   */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "sink.h"
#include "testdb.h"
#include "windows.h"

#define S_SHARD 9023

static txw_tx_t
s_tx (const char *tx_id, const char *account, int64_t ts_ms, int64_t amount, int status)
{
    txw_tx_t tx;
    memset (&tx, 0, sizeof tx);
    snprintf (tx.tx_id, sizeof tx.tx_id, "%s", tx_id);
    snprintf (tx.account_id, sizeof tx.account_id, "%s", account);
    tx.ts_ms = ts_ms;
    tx.amount_minor = tx.amount_rep_minor = amount;
    strcpy (tx.currency, "EUR");
    strcpy (tx.merchant_id, "M1");
    strcpy (tx.category, "grocery");
    tx.channel = TXW_CHANNEL_POS;
    strcpy (tx.branch_id, "B1");
    strcpy (tx.region, "R1");
    strcpy (tx.country, "DE");
    strcpy (tx.device_id, "D1");
    tx.status = (uint8_t) status;
    tx.scored = true;
    tx.score = 10;
    return tx;
}

typedef struct {
    txw_window_t rows [TXW_DIM_COUNT * 2];
    int count;
} s_rows_t;

static void
s_keep (void *arg, const txw_window_t *row)
{
    s_rows_t *rows = arg;
    assert_true (rows->count < TXW_DIM_COUNT * 2);
    rows->rows [rows->count++] = *row;
}

//  In memory: approved and its amount fall in every dimension's window,
//  nothing else moves; a window forgotten gets its change as a row.
static void
test_windows_and_accounts (void **state)
{
    (void) state;
    windows_t *w = windows_new (1, 60000, 5000, 600000, 80);
    const int64_t t0 = 1767607200000;
    txw_tx_t a = s_tx ("T1", "A1", t0 + 1000, 1000, TXW_STATUS_APPROVED);
    txw_tx_t b = s_tx ("T2", "A1", t0 + 2000, 300, TXW_STATUS_APPROVED);
    assert_int_equal (windows_add (w, &a, NULL, NULL), WIN_ON_TIME);
    assert_int_equal (windows_add (w, &b, NULL, NULL), WIN_ON_TIME);
    s_rows_t stored = { .count = 0 };
    windows_correct (w, &a, s_keep, &stored);
    assert_int_equal (stored.count, 0);
    for (int dim = 0; dim < TXW_DIM_COUNT; dim++) {
        const txw_window_t *row = windows_find (w, dim, txw_dimension_key (dim, &a), t0);
        assert_non_null (row);
        assert_int_equal (row->tx_count, 2);
        assert_int_equal (row->amount_sum, 1300);
        assert_int_equal (row->amount_max, 1000);
        assert_int_equal (row->approved, 1);
        assert_int_equal (row->approved_amount_sum, 300);
    }
    //  A shard that has forgotten the minute hands the change out.
    windows_destroy (&w);
    w = windows_new (1, 60000, 5000, 600000, 80);
    windows_correct (w, &b, s_keep, &stored);
    assert_int_equal (stored.count, TXW_DIM_COUNT);
    for (int i = 0; i < stored.count; i++) {
        assert_int_equal (stored.rows [i].approved, -1);
        assert_int_equal (stored.rows [i].approved_amount_sum, -300);
        assert_int_equal (stored.rows [i].tx_count, 0);
        assert_int_equal (stored.rows [i].window_start_ms, t0);
        assert_int_equal (stored.rows [i].shard, 1);
    }
    assert_int_equal (windows_size (w), 0);
    windows_destroy (&w);

    accounts_t *acc = accounts_new (80);
    assert_int_equal (accounts_add (acc, &a), 0);
    assert_int_equal (accounts_unapprove (acc, &a), 0);
    const accounts_delta_t *d = accounts_find (acc, "A1");
    assert_int_equal (d->tx_count, 1);
    assert_int_equal (d->spend, 1000);
    assert_int_equal (d->approved, 0);
    assert_int_equal (d->approved_spend, 0);
    //  Alone (its transaction flushed long ago), a correction is a negative delta.
    assert_int_equal (accounts_unapprove (acc, &b), 0);
    const accounts_delta_t *m = accounts_find_month (acc, "A1", 2026, 1);
    assert_int_equal (m->approved, -1);
    assert_int_equal (m->approved_spend, -300);
    assert_int_equal (m->tx_count, 1);
    accounts_destroy (&acc);
}

static int64_t
s_int (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_int_equal (PQntuples (res), 1);
    int64_t v = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return v;
}

static void
s_text (PGconn *conn, const char *sql, const char *expected)
{
    PGresult *res = PQexec (conn, sql);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_int_equal (PQntuples (res), 1);
    assert_string_equal (PQgetvalue (res, 0, 0), expected);
    PQclear (res);
}

//  The change to a stored window, for the sink (as aggregator.c does).
static void
s_stored (void *arg, const txw_window_t *row)
{
    sink_add_window_correction (arg, row);
}

static void
s_correction (txw_correction_t *c, const txw_tx_t *tx, int status)
{
    memset (c, 0, sizeof *c);
    strcpy (c->tx_id, tx->tx_id);
    strcpy (c->account_id, tx->account_id);
    c->ts_ms = tx->ts_ms;
    c->status = (uint8_t) status;
    c->corrected_ms = tx->ts_ms + 86400000;
    strcpy (c->actor, "unit");
    strcpy (c->reason, "disputed");
}

//  Through the sink, against PostgreSQL.
static void
test_sink_applies_a_correction (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    //  Ids of this run: the database outlives it.
    char prefix [32], sql [1024];
    snprintf (prefix, sizeof prefix, "UC%d", (int) getpid ());
    snprintf (sql, sizeof sql,
              "DELETE FROM txw_data.windows WHERE shard = %d;"
              "DELETE FROM txw_data.checkpoints WHERE consumer = 'aggregator-%d';"
              "DELETE FROM txw_data.shard_state WHERE consumer = 'aggregator-%d';",
              S_SHARD, S_SHARD, S_SHARD);
    assert_int_equal (txw_pg_exec (conn, sql), 0);

    windows_t *w = windows_new (S_SHARD, 60000, 5000, 600000, 80);
    char consumer [32];
    snprintf (consumer, sizeof consumer, "aggregator-%d", S_SHARD);
    sink_t *sink = sink_new (url, consumer, SINK_STORE_ALL, S_SHARD, 80, true);
    assert_non_null (sink);
    assert_int_equal (sink_start (sink, false, w, 600000), 0);

    const int64_t t0 = 1767607200000;           //  2026-01-05T10:00:00Z
    char id [3][64], account [64];
    for (int i = 0; i < 3; i++)
        snprintf (id [i], sizeof id [i], "%s-T%d", prefix, i);
    snprintf (account, sizeof account, "%s-A", prefix);
    txw_tx_t tx [3] = {
        s_tx (id [0], account, t0 + 1000, 1000, TXW_STATUS_APPROVED),
        s_tx (id [1], account, t0 + 2000, 300, TXW_STATUS_APPROVED),
        s_tx (id [2], account, t0 + 3000, 50, TXW_STATUS_DECLINED),
    };
    for (int i = 0; i < 3; i++) {
        windows_add (w, &tx [i], NULL, NULL);
        sink_add_tx (sink, &tx [i]);
    }
    assert_int_equal (sink_flush (sink, w), 0);
    snprintf (sql, sizeof sql, "SELECT reason FROM txw_data.stale_accounts WHERE account_id = '%s'",
              account);
    s_text (conn, sql, "transaction");
    snprintf (sql, sizeof sql, "DELETE FROM txw_data.stale_accounts WHERE account_id = '%s'", account);
    assert_int_equal (txw_pg_exec (conn, sql), 0);

    //  The originals, one of another account, one unknown.
    txw_correction_t c [4];
    s_correction (&c [0], &tx [0], TXW_CORRECTION_CHARGED_BACK);
    s_correction (&c [1], &tx [2], TXW_CORRECTION_REVERSED);
    s_correction (&c [2], &tx [1], TXW_CORRECTION_REFUNDED);
    strcpy (c [2].account_id, "someone-else");
    s_correction (&c [3], &tx [1], TXW_CORRECTION_REFUNDED);
    strcat (c [3].tx_id, "-x\"\\");
    sink_original_t o [4];
    assert_int_equal (sink_originals (sink, c, 4, o), 0);
    assert_true (o [0].found);
    assert_string_equal (o [0].tx.tx_id, id [0]);
    assert_int_equal (o [0].tx.amount_rep_minor, 1000);
    assert_int_equal (o [0].tx.status, TXW_STATUS_APPROVED);
    assert_int_equal (o [0].corrected, 0);
    assert_true (o [1].found);
    assert_int_equal (o [1].tx.status, TXW_STATUS_DECLINED);
    assert_false (o [2].found);
    assert_false (o [3].found);

    //  A chargeback of the first: in memory, and its window stored once
    //  more for a shard that forgot it (a fresh window table).
    windows_correct (w, &o [0].tx, NULL, NULL);
    sink_add_correction (sink, &c [0], &o [0].tx);
    assert_int_equal (sink_flush (sink, w), 0);
    snprintf (sql, sizeof sql, "SELECT concat_ws (':', approved, approved_amount_minor_sum, tx_count)"
              " FROM txw_data.windows WHERE shard = %d AND dimension = 'overall'", S_SHARD);
    s_text (conn, sql, "1:300:3");
    windows_t *fresh = windows_new (S_SHARD, 60000, 5000, 600000, 80);
    windows_correct (fresh, &tx [1], s_stored, sink);
    assert_int_equal (sink_flush (sink, fresh), 0);
    s_text (conn, sql, "0:0:3");
    snprintf (sql, sizeof sql, "SELECT count (*) FROM txw_data.windows WHERE shard = %d"
              " AND (approved, approved_amount_minor_sum) <> (0, 0)", S_SHARD);
    assert_int_equal (s_int (conn, sql), 0);
    windows_destroy (&fresh);

    snprintf (sql, sizeof sql, "SELECT concat_ws (':', status, (SELECT concat_ws (':', previous_status,"
              " status, amount_rep_minor, actor, reason, shard) FROM txw_data.tx_corrections"
              " WHERE tx_id = '%s')) FROM txw_data.transactions WHERE tx_id = '%s'", id [0], id [0]);
    s_text (conn, sql, "charged_back:approved:charged_back:1000:unit:disputed:9023");
    snprintf (sql, sizeof sql, "SELECT concat_ws (':', source, label, set_by, detail)"
              " FROM txw_data.labels WHERE tx_id = '%s'", id [0]);
    s_text (conn, sql, "chargeback:fraud:unit:disputed");
    snprintf (sql, sizeof sql, "SELECT reason FROM txw_data.stale_accounts WHERE account_id = '%s'",
              account);
    s_text (conn, sql, "correction");
    snprintf (sql, sizeof sql, "SELECT concat_ws (':', tx_count, approved, approved_rep_minor)"
              " FROM txw_data.accounts WHERE account_id = '%s'", account);
    s_text (conn, sql, "3:1:300");
    snprintf (sql, sizeof sql, "SELECT concat_ws (':', tx_count, approved, approved_rep_minor)"
              " FROM txw_data.account_months WHERE account_id = '%s'", account);
    s_text (conn, sql, "3:1:300");

    //  Read again, the first is known corrected.
    assert_int_equal (sink_originals (sink, c, 1, o), 0);
    assert_true (o [0].found);
    assert_int_equal (o [0].corrected, TXW_CORRECTION_CHARGED_BACK);
    assert_int_equal (o [0].tx.status, TXW_STATUS_UNKNOWN);    //  charged_back is no txw_status_t

    sink_destroy (&sink);
    windows_destroy (&w);
    PQfinish (conn);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_windows_and_accounts),
        cmocka_unit_test (test_sink_applies_a_correction),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
