/*  test_pgwriter - the background PostgreSQL writer against a real server

    Rows go through a stage table and an upsert that takes a parameter;
    drain waits until they are committed; a full queue refuses the new row,
    or with newest_wins gives up the older rows instead; a database that
    cannot be reached never blocks the caller. Runs only when
    TXW_TEST_DATABASE_URL names a PostgreSQL it may write to.                */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "pgwriter.h"
#include "testdb.h"

static const char *s_down_url = "postgresql://127.0.0.1:1/none?connect_timeout=1";

static int64_t
s_count (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    int64_t n = PQresultStatus (res) == PGRES_TUPLES_OK? atoll (PQgetvalue (res, 0, 0)): -1;
    PQclear (res);
    return n;
}

static txw_pgwriter_config_t
s_config (const char *owner, size_t max_rows, bool newest_wins, txw_pgwriter_metrics_t metrics)
{
    txw_pgwriter_config_t config = {
        .name = "test rows",
        .stage_sql = "CREATE TEMP TABLE IF NOT EXISTS stage_t (k int, v text, n bigserial)"
                     " ON COMMIT DELETE ROWS",
        .copy_sql = "COPY stage_t (k, v) FROM STDIN",
        .apply_sql = "INSERT INTO test_pgwriter (owner, k, v)"
                     " SELECT DISTINCT ON (k) $1, k, v FROM stage_t ORDER BY k, n DESC"
                     " ON CONFLICT (owner, k) DO UPDATE SET v = excluded.v",
        .apply_param = owner,
        .max_rows = max_rows,
        .newest_wins = newest_wins,
        .metrics = metrics
    };
    return config;
}

static int
s_row (txw_pgwriter_t *writer, int k, const char *v)
{
    txw_copybuf_t *buf = txw_pgwriter_row_begin (writer);
    if (!buf)
        return -1;
    txw_copybuf_int (buf, k);
    txw_copybuf_str (buf, v);
    txw_copybuf_end_row (buf);
    txw_pgwriter_row_end (writer);
    return 0;
}

static void
test_rows_reach_the_table (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    assert_int_equal (txw_pg_exec (conn, "CREATE TABLE IF NOT EXISTS test_pgwriter"
                                         " (owner text, k int, v text, PRIMARY KEY (owner, k))"), 0);
    char owner [64];
    snprintf (owner, sizeof owner, "pgwriter-%d", (int) getpid ());

    txw_pgwriter_metrics_t metrics = {
        txw_counter_new ("test_pgw_stored_total", NULL, "t"),
        txw_counter_new ("test_pgw_dropped_total", NULL, "t"),
        txw_counter_new ("test_pgw_errors_total", NULL, "t"),
        txw_gauge_new ("test_pgw_queued", NULL, "t")
    };
    txw_pgwriter_config_t config = s_config (owner, 100000, false, metrics);
    txw_pgwriter_t *writer = txw_pgwriter_new (url, &config);
    assert_non_null (writer);
    //  2,500 rows with 500 keys written twice: the later value wins.
    for (int i = 0; i < 2500; i++)
        assert_int_equal (s_row (writer, i % 2000, i < 2000? "first": "second"), 0);
    assert_int_equal (txw_pgwriter_drain (writer, 10000), 0);
    assert_int_equal (txw_pgwriter_pending (writer), 0);
    assert_true (txw_pgwriter_healthy (writer));
    assert_int_equal (txw_counter_value (metrics.stored), 2500);
    assert_int_equal (txw_counter_value (metrics.dropped), 0);

    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM test_pgwriter WHERE owner = '%s'", owner);
    assert_int_equal (s_count (conn, sql), 2000);
    snprintf (sql, sizeof sql,
              "SELECT count(*) FROM test_pgwriter WHERE owner = '%s' AND v = 'second'", owner);
    assert_int_equal (s_count (conn, sql), 500);

    //  What is queued at destroy is written before it returns.
    for (int i = 0; i < 10; i++)
        assert_int_equal (s_row (writer, 5000 + i, "last"), 0);
    txw_pgwriter_destroy (&writer);
    assert_null (writer);
    snprintf (sql, sizeof sql, "SELECT count(*) FROM test_pgwriter WHERE owner = '%s'", owner);
    assert_int_equal (s_count (conn, sql), 2010);
    snprintf (sql, sizeof sql, "DELETE FROM test_pgwriter WHERE owner = '%s'", owner);
    assert_int_equal (txw_pg_exec (conn, sql), 0);
    PQfinish (conn);
}

static void
test_a_full_queue (void **state)
{
    (void) state;
    //  No server: rows wait, and the bound holds without blocking.
    txw_pgwriter_metrics_t metrics = {
        txw_counter_new ("test_full_stored_total", NULL, "t"),
        txw_counter_new ("test_full_dropped_total", NULL, "t"),
        txw_counter_new ("test_full_errors_total", NULL, "t"),
        NULL
    };
    txw_pgwriter_config_t config = s_config ("x", 10, false, metrics);
    txw_pgwriter_t *writer = txw_pgwriter_new (s_down_url, &config);
    assert_non_null (writer);
    int queued = 0;
    for (int i = 0; i < 25; i++)
        queued += s_row (writer, i, "v") == 0;
    assert_int_equal (queued, 10);
    assert_int_equal (txw_counter_value (metrics.dropped), 15);
    assert_int_equal (txw_pgwriter_drain (writer, 300), -1);
    assert_false (txw_pgwriter_healthy (writer));
    txw_pgwriter_destroy (&writer);
    assert_int_equal (txw_counter_value (metrics.dropped), 25);
    assert_int_equal (txw_counter_value (metrics.stored), 0);

    //  With newest_wins the rows waiting give way to the new one.
    txw_pgwriter_metrics_t newest = {
        txw_counter_new ("test_newest_stored_total", NULL, "t"),
        txw_counter_new ("test_newest_dropped_total", NULL, "t"),
        NULL, NULL
    };
    config = s_config ("x", 10, true, newest);
    writer = txw_pgwriter_new (s_down_url, &config);
    assert_non_null (writer);
    for (int i = 0; i < 25; i++)
        assert_int_equal (s_row (writer, i, "v"), 0);
    assert_true (txw_pgwriter_pending (writer) <= 10);
    assert_true (txw_pgwriter_pending (writer) >= 1);
    txw_pgwriter_destroy (&writer);
    assert_int_equal (txw_counter_value (newest.dropped), 25);
}

int
main (void)
{
    txw_log_init ("test", TXW_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_rows_reach_the_table),
        cmocka_unit_test (test_a_full_queue),
    };
    return cmocka_run_group_tests_name ("pgwriter", tests, NULL, NULL);
}
