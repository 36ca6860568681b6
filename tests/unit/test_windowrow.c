/*  test_windowrow - a window row written by COPY and upsert reads back equal

    Runs only when TXW_TEST_DATABASE_URL names a PostgreSQL it may write to:
    the statements of windowrow.h against the real schema, so a column
    added to the table without its row in TXW_WINDOW_COLUMNS fails here.     */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "testdb.h"
#include "windowrow.h"

static txw_window_t
s_window (const char *key, int64_t start_ms, int64_t count)
{
    txw_window_t w;
    memset (&w, 0, sizeof w);
    snprintf (w.dimension, sizeof w.dimension, "merchant");
    snprintf (w.key, sizeof w.key, "%s", key);
    w.window_start_ms = start_ms;
    w.window_ms = 60000;
    w.shard = 3;
    w.tx_count = count;
    w.amount_sum = 12345 * count;
    w.amount_min = count? 5: 0;
    w.amount_max = count? 9000: 0;
    w.approved_amount_sum = 1000 * count;
    w.approved = count - 1 > 0? count - 1: 0;
    w.declined = count? 1: 0;
    w.flagged = 2;
    w.score_sum = 77 * count;
    w.late = 1;
    w.closed = count % 2 == 0;
    return w;
}

static void
test_round_trip (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    const txw_windowrow_sql_t *sql = txw_windowrow_sql ();
    assert_non_null (strstr (sql->columns, "approved_amount_minor_sum"));
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.windows WHERE key LIKE 'wr-%'"), 0);
    //  The day of start below (windows are partitioned by day).
    assert_int_equal (txw_pg_exec (conn, "SELECT txw_data.ensure_partition('2026-01-05')"), 0);
    assert_int_equal (txw_pg_exec (conn, "CREATE TEMP TABLE stage_windows"
                                         " (LIKE txw_data.windows INCLUDING DEFAULTS)"), 0);
    int64_t start = 1767614400000LL;
    txw_window_t rows [3] = {
        s_window ("wr-a", start, 10), s_window ("wr-b", start + 60000, 3),
        s_window ("wr-empty", start, 0)
    };
    rows [2].amount_min = 42;       //  an empty window stores 0 whatever it held
    for (int round = 0; round < 2; round++) {
        txw_copybuf_t buf;
        txw_copybuf_init (&buf);
        for (int i = 0; i < 3; i++)
            txw_windowrow_copy (&buf, &rows [i]);
        char copy [1200];
        snprintf (copy, sizeof copy, "COPY stage_windows (%s) FROM STDIN", sql->columns);
        assert_int_equal (txw_pg_exec (conn, "BEGIN"), 0);
        assert_int_equal (txw_pg_copy (conn, copy, &buf), 0);
        assert_int_equal (txw_pg_exec (conn, sql->upsert), 0);
        assert_int_equal (txw_pg_exec (conn, "DELETE FROM stage_windows"), 0);
        assert_int_equal (txw_pg_exec (conn, "COMMIT"), 0);
        txw_copybuf_fini (&buf);
        rows [0].tx_count = 11;     //  the second round updates the row
    }
    rows [2].amount_min = 0;

    char select [2300];
    snprintf (select, sizeof select,
              "SELECT %s FROM txw_data.windows WHERE key LIKE 'wr-%%' ORDER BY key", sql->select);
    PGresult *res = PQexec (conn, select);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_int_equal (PQntuples (res), 3);
    txw_windowrow_cols_t cols;
    assert_int_equal (txw_windowrow_columns (res, &cols), 0);
    for (int i = 0; i < 3; i++) {
        txw_window_t back;
        assert_int_equal (txw_windowrow_decode (res, i, &cols, &back), 0);
        assert_memory_equal (&back, &rows [i], sizeof back);
    }
    PQclear (res);

    //  A result without a column is refused, not read by position.
    res = PQexec (conn, "SELECT dimension, key FROM txw_data.windows LIMIT 1");
    assert_int_equal (txw_windowrow_columns (res, &cols), -1);
    txw_window_t back;
    assert_int_equal (txw_windowrow_decode (res, 0, &cols, &back), -1);
    PQclear (res);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.windows WHERE key LIKE 'wr-%'"), 0);
    PQfinish (conn);
}

int
main (void)
{
    txw_log_init ("test", TXW_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip),
    };
    return cmocka_run_group_tests_name ("windowrow", tests, NULL, NULL);
}
