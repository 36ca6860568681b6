/*  test_aggregator_baskets - purchases of orders and their co-purchase counts

    Only an approved line item with both an order and a product is a
    purchase. The flush statement (BASKETS_WRITE_SQL) counts every pair of
    an order once however the order's items are split over flushes, in
    whatever order, sent again or twice in one flush; and a product past
    BASKETS_PARTNERS_TRIM partners keeps its strongest BASKETS_PARTNERS.
    The database tests use shards of their own (9001, 9002), emptied first. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baskets.h"
#include "testdb.h"

static txw_tx_t
s_tx (const char *account, const char *order, const char *product, int status)
{
    txw_tx_t tx;
    memset (&tx, 0, sizeof tx);
    snprintf (tx.tx_id, sizeof tx.tx_id, "T-%s-%s", order, product);
    snprintf (tx.account_id, sizeof tx.account_id, "%s", account);
    snprintf (tx.order_id, sizeof tx.order_id, "%s", order);
    snprintf (tx.product_id, sizeof tx.product_id, "%s", product);
    tx.ts_ms = 1767600000000;       //  2026-01-05T08:00:00Z
    tx.status = (uint8_t) status;
    return tx;
}

static void
test_only_approved_items_of_an_order_are_purchases (void **state)
{
    (void) state;
    txw_copybuf_t rows;
    txw_copybuf_init (&rows);
    txw_tx_t tx = s_tx ("A1", "O1", "P1", TXW_STATUS_APPROVED);
    assert_true (baskets_add (&rows, &tx, 3));
    tx = s_tx ("A1", "O1", "P2", TXW_STATUS_DECLINED);
    assert_false (baskets_add (&rows, &tx, 3));
    tx = s_tx ("A1", "", "P3", TXW_STATUS_APPROVED);
    assert_false (baskets_add (&rows, &tx, 3));
    tx = s_tx ("A1", "O1", "", TXW_STATUS_APPROVED);
    assert_false (baskets_add (&rows, &tx, 3));
    assert_int_equal (rows.rows, 1);
    //  COPY data, not a string: no terminating NUL.
    const char *row = "A1\tO1\tP1\t2026-01-05 08:00:00.000+00\t3\n";
    assert_int_equal (rows.len, strlen (row));
    assert_memory_equal (rows.data, row, rows.len);
    txw_copybuf_fini (&rows);
}

static void
s_exec (PGconn *conn, const char *sql)
{
    char state [6], error [512];
    int rc = txw_pg_exec_try (conn, sql, state, error, sizeof error);
    if (rc)
        fprintf (stderr, "SQL failed (%s): %s\n", state, error);
    assert_int_equal (rc, 0);
}

static void
s_clean (PGconn *conn, int shard)
{
    char sql [512];
    snprintf (sql, sizeof sql,
              "DELETE FROM txw_data.order_items WHERE shard = %d;"
              "DELETE FROM txw_data.product_pairs WHERE shard = %d;"
              "DELETE FROM txw_data.product_orders WHERE shard = %d;"
              "DELETE FROM txw_data.basket_totals WHERE shard = %d;"
              "DELETE FROM txw_data.customer_products WHERE account_id LIKE 'UT%d-%%'",
              shard, shard, shard, shard, shard);
    s_exec (conn, sql);
}

//  One flush: the rows staged and written in one transaction, as the sink does.
static void
s_flush (PGconn *conn, const txw_copybuf_t *rows)
{
    s_exec (conn, BASKETS_STAGE_SQL);
    s_exec (conn, "BEGIN");
    char state [6];
    assert_int_equal (txw_pg_copy_try (conn, BASKETS_COPY_SQL, rows, state), 0);
    s_exec (conn, BASKETS_WRITE_SQL);
    s_exec (conn, "COMMIT");
}

static int64_t
s_value (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    int64_t v = PQgetisnull (res, 0, 0)? 0: strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return v;
}

#define S_ORDERS    60
#define S_PRODUCTS  12
#define S_SHARD     9001

static void
test_pairs_count_once_whatever_flushes_bring_an_order (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    s_clean (conn, S_SHARD);
    //  Each order buys a random set of products; its items are sent in a
    //  random order over random flushes, some twice (in one flush or two).
    srand (7);
    bool basket [S_ORDERS][S_PRODUCTS];
    int item_order [S_ORDERS * S_PRODUCTS * 2], item_product [S_ORDERS * S_PRODUCTS * 2];
    int items = 0;
    for (int o = 0; o < S_ORDERS; o++)
        for (int p = 0; p < S_PRODUCTS; p++) {
            basket [o][p] = rand () % 3 == 0;
            for (int copy = 0; basket [o][p] && copy < 1 + (rand () % 4 == 0); copy++) {
                item_order [items] = o;
                item_product [items] = p;
                items++;
            }
        }
    for (int i = items - 1; i > 0; i--) {
        int j = rand () % (i + 1), t = item_order [i];
        item_order [i] = item_order [j]; item_order [j] = t;
        t = item_product [i]; item_product [i] = item_product [j]; item_product [j] = t;
    }
    txw_copybuf_t rows;
    txw_copybuf_init (&rows);
    for (int i = 0; i < items; i++) {
        char account [32], order [32], product [32];
        snprintf (account, sizeof account, "UT%d-A%d", S_SHARD, item_order [i] % 7);
        snprintf (order, sizeof order, "O%d", item_order [i]);
        snprintf (product, sizeof product, "UT%d-P%02d", S_SHARD, item_product [i]);
        txw_tx_t tx = s_tx (account, order, product, TXW_STATUS_APPROVED);
        assert_true (baskets_add (&rows, &tx, S_SHARD));
        if (rand () % 8 == 0 || i == items - 1) {
            s_flush (conn, &rows);
            if (rand () % 4 == 0)
                s_flush (conn, &rows);      //  the same flush again: counts nothing
            txw_copybuf_clear (&rows);
        }
    }
    txw_copybuf_fini (&rows);

    int orders = 0;
    for (int o = 0; o < S_ORDERS; o++) {
        bool any = false;
        for (int p = 0; p < S_PRODUCTS; p++)
            any |= basket [o][p];
        orders += any;
    }
    char sql [512];
    snprintf (sql, sizeof sql, "SELECT orders FROM txw_data.basket_totals WHERE shard = %d", S_SHARD);
    assert_int_equal (s_value (conn, sql), orders);
    for (int p = 0; p < S_PRODUCTS; p++) {
        int with_p = 0, partners = 0;
        for (int o = 0; o < S_ORDERS; o++)
            with_p += basket [o][p];
        snprintf (sql, sizeof sql, "SELECT orders FROM txw_data.product_orders"
                  " WHERE shard = %d AND product_id = 'UT%d-P%02d'", S_SHARD, S_SHARD, p);
        assert_int_equal (s_value (conn, sql), with_p);
        for (int q = 0; q < S_PRODUCTS; q++) {
            if (q == p)
                continue;
            int together = 0;
            for (int o = 0; o < S_ORDERS; o++)
                together += basket [o][p] && basket [o][q];
            partners += together > 0;
            snprintf (sql, sizeof sql, "SELECT orders FROM txw_data.product_pairs WHERE shard = %d"
                      " AND product_id = 'UT%d-P%02d' AND other_id = 'UT%d-P%02d'",
                      S_SHARD, S_SHARD, p, S_SHARD, q);
            assert_int_equal (s_value (conn, sql), together);
        }
        snprintf (sql, sizeof sql, "SELECT partners FROM txw_data.product_orders"
                  " WHERE shard = %d AND product_id = 'UT%d-P%02d'", S_SHARD, S_SHARD, p);
        assert_int_equal (s_value (conn, sql), partners);
    }
    s_clean (conn, S_SHARD);
    PQfinish (conn);
}

static void
test_a_product_keeps_its_strongest_partners (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    s_clean (conn, 9002);
    int trim = atoi (BASKETS_PARTNERS_TRIM), keep = atoi (BASKETS_PARTNERS);
    //  Product X is bought with the others, each in an order of two; the
    //  lower a partner's number, the more orders (1 + (n < 20)): past the
    //  trim X keeps the 20 strong ones and then the lowest ids.
    txw_copybuf_t rows;
    txw_copybuf_init (&rows);
    for (int n = 0; n <= trim; n++)
        for (int copy = 0; copy < 1 + (n < 20); copy++) {
            char order [32], partner [32];
            snprintf (order, sizeof order, "O%d-%d", n, copy);
            snprintf (partner, sizeof partner, "UT9002-Q%04d", trim - n);
            txw_tx_t tx = s_tx ("UT9002-A", order, "UT9002-X", TXW_STATUS_APPROVED);
            baskets_add (&rows, &tx, 9002);
            tx = s_tx ("UT9002-A", order, partner, TXW_STATUS_APPROVED);
            baskets_add (&rows, &tx, 9002);
        }
    s_flush (conn, &rows);
    txw_copybuf_fini (&rows);
    assert_int_equal (s_value (conn, "SELECT partners FROM txw_data.product_orders"
                                     " WHERE shard = 9002 AND product_id = 'UT9002-X'"), keep);
    assert_int_equal (s_value (conn, "SELECT count(*) FROM txw_data.product_pairs"
                                     " WHERE shard = 9002 AND product_id = 'UT9002-X'"), keep);
    //  The strong ones are Q(trim)..Q(trim - 19); the weak ones kept are
    //  the lowest ids.
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM txw_data.product_pairs WHERE shard = 9002"
              " AND product_id = 'UT9002-X' AND (other_id > 'UT9002-Q%04d' OR other_id < 'UT9002-Q%04d')",
              trim - 20, keep - 20);
    assert_int_equal (s_value (conn, sql), keep);
    //  A partner's own single partner (X) is untouched; X's orders all count.
    assert_int_equal (s_value (conn, "SELECT count(*) FROM txw_data.product_pairs"
                                     " WHERE shard = 9002 AND other_id = 'UT9002-X'"), trim + 1);
    assert_int_equal (s_value (conn, "SELECT orders FROM txw_data.product_orders"
                                     " WHERE shard = 9002 AND product_id = 'UT9002-X'"), trim + 21);
    s_clean (conn, 9002);
    PQfinish (conn);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_only_approved_items_of_an_order_are_purchases),
        cmocka_unit_test (test_pairs_count_once_whatever_flushes_bring_an_order),
        cmocka_unit_test (test_a_product_keeps_its_strongest_partners),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
