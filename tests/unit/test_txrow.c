/*  test_txrow - a transaction row written by COPY reads back equal

    Runs only when TXW_TEST_DATABASE_URL names a PostgreSQL it may write to:
    the statements of txrow.h against the real schema, so a column added to
    the table without its row in TXW_TX_COLUMNS fails here.                   */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "testdb.h"
#include "reasons.h"
#include "txrow.h"

static txw_tx_t
s_tx (const char *id, int64_t ts_ms, const char *product)
{
    txw_tx_t tx;
    memset (&tx, 0, sizeof tx);
    snprintf (tx.tx_id, sizeof tx.tx_id, "%s", id);
    tx.ts_ms = ts_ms;
    snprintf (tx.account_id, sizeof tx.account_id, "acc-1");
    tx.amount_minor = 123456;
    snprintf (tx.currency, sizeof tx.currency, "JPY");
    tx.amount_rep_minor = 76543;
    snprintf (tx.merchant_id, sizeof tx.merchant_id, "m-9");
    snprintf (tx.category, sizeof tx.category, "travel");
    tx.channel = TXW_CHANNEL_ATM;
    snprintf (tx.branch_id, sizeof tx.branch_id, "B7");
    snprintf (tx.region, sizeof tx.region, "R2");
    snprintf (tx.country, sizeof tx.country, "JP");
    snprintf (tx.device_id, sizeof tx.device_id, "d-1");
    snprintf (tx.product_id, sizeof tx.product_id, "%s", product);
    snprintf (tx.device_type, sizeof tx.device_type, "%s", *product? "ios": "");
    snprintf (tx.order_id, sizeof tx.order_id, "%s", *product? "o-1": "");
    tx.status = TXW_STATUS_DECLINED;
    tx.score = 87;
    tx.reasons = TXW_REASON_AMOUNT_SPIKE | TXW_REASON_NEW_DEVICE;
    snprintf (tx.model_version, sizeof tx.model_version, "rules-3");
    tx.scored = true;
    tx.hour = 12;               //  2026-01-05T12:00:00Z, a Monday
    tx.weekday = 0;
    return tx;
}

static void
test_round_trip (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    assert_int_equal (txw_pg_exec (conn, "SELECT txw_data.ensure_partition('2026-01-05')"), 0);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.transactions WHERE tx_id LIKE 'txrow-%'"), 0);
    int64_t ts = 1767614400000LL;
    txw_tx_t rows [2] = { s_tx ("txrow-1", ts, "p-1"), s_tx ("txrow-2", ts + 1, "") };
    rows [1].reasons = 0;
    txw_copybuf_t buf;
    txw_copybuf_init (&buf);
    for (int i = 0; i < 2; i++)
        txw_txrow_copy (&buf, &rows [i], 4);
    char copy [700];
    snprintf (copy, sizeof copy, "COPY txw_data.transactions (%s) FROM STDIN",
              txw_txrow_sql ()->columns);
    assert_int_equal (txw_pg_copy (conn, copy, &buf), 0);
    txw_copybuf_fini (&buf);

    char select [1400];
    snprintf (select, sizeof select, "SELECT %s FROM txw_data.transactions"
              " WHERE tx_id LIKE 'txrow-%%' ORDER BY tx_id", txw_txrow_sql ()->select);
    PGresult *res = PQexec (conn, select);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_int_equal (PQntuples (res), 2);
    txw_txrow_cols_t cols;
    assert_int_equal (txw_txrow_columns (res, &cols), 0);
    for (int i = 0; i < 2; i++) {
        txw_tx_t back;
        assert_int_equal (txw_txrow_decode (res, i, &cols, &back), 0);
        assert_memory_equal (&back, &rows [i], sizeof back);
    }
    PQclear (res);
    //  The shard is stored; an empty product, device type or order is NULL.
    res = PQexec (conn, "SELECT shard, product_id IS NULL, device_type IS NULL, order_id IS NULL"
                        " FROM txw_data.transactions WHERE tx_id = 'txrow-2'");
    assert_string_equal (PQgetvalue (res, 0, 0), "4");
    assert_string_equal (PQgetvalue (res, 0, 1), "t");
    assert_string_equal (PQgetvalue (res, 0, 2), "t");
    assert_string_equal (PQgetvalue (res, 0, 3), "t");
    PQclear (res);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.transactions WHERE tx_id LIKE 'txrow-%'"), 0);
    PQfinish (conn);
}

int
main (void)
{
    txw_log_init ("test", TXW_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip),
    };
    return cmocka_run_group_tests_name ("txrow", tests, NULL, NULL);
}
