/*  test_txwctl_products - `txwctl products load`: what a catalogue must be

    Every refusal names the line and the field and loads nothing; a good
    file loads, and loading it again adds nothing. The database half runs
    only when TXW_TEST_DATABASE_URL names a PostgreSQL it may write to.     */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "products.h"
#include "testdb.h"

#define S_HEADER "product_id,name,category,price,currency\n"

static char s_path [64];

//  Writes text to a fresh temporary file, named in s_path.
static void
s_write (const char *text)
{
    snprintf (s_path, sizeof s_path, "/tmp/txw-products-XXXXXX");
    int fd = mkstemp (s_path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
}

static void
test_good_file (void **state)
{
    (void) state;
    //  Header names in any case, a byte order mark, CRLF, a quoted name
    //  with a comma and a quote, a category folded to lower case, JPY
    //  without decimals, a blank last line.
    s_write ("\xEF\xBB\xBFProduct_ID, Name ,CATEGORY,price,currency\r\n"
             "P2,\"Mug, \"\"large\"\"\",Online_Retail,12.50,EUR\r\n"
             "P1,Tea,grocery,300,JPY\r\n"
             "\r\n");
    ctl_products_t products;
    char error [256] = "";
    assert_int_equal (ctl_products_read (s_path, &products, error, sizeof error), 0);
    assert_int_equal (products.count, 2);
    //  Sorted by id.
    assert_string_equal (products.rows [0].id, "P1");
    assert_int_equal (products.rows [0].price_minor, 300);
    assert_string_equal (products.rows [0].currency, "JPY");
    assert_int_equal (products.rows [0].line, 3);
    assert_string_equal (products.rows [1].name, "Mug, \"large\"");
    assert_string_equal (products.rows [1].category, "online_retail");
    assert_int_equal (products.rows [1].price_minor, 1250);
    ctl_products_free (&products);
    unlink (s_path);
}

static const struct {
    const char *what;
    const char *rows;           //  after the header
    const char *error;          //  what the message must hold
} s_refusals [] = {
    { "an id with a space", "P 1,Mug,shop,1.00,EUR\n", "line 2, product_id:" },
    { "an empty id", ",Mug,shop,1.00,EUR\n", "line 2, product_id:" },
    { "an empty name", "P1,,shop,1.00,EUR\n", "line 2, name:" },
    { "a name with a control character", "P1,Mu\x01g,shop,1.00,EUR\n", "line 2, name:" },
    { "a name that is not UTF-8", "P1,Mu\xC3g,shop,1.00,EUR\n", "line 2, name:" },
    { "a category with a dash", "P1,Mug,on-line,1.00,EUR\n", "line 2, category:" },
    { "a price with too many decimals", "P1,Mug,shop,1.005,EUR\n", "line 2, price:" },
    { "a price with decimals in yen", "P1,Mug,shop,1.5,JPY\n", "line 2, price:" },
    { "a zero price", "P1,Mug,shop,0.00,EUR\n", "line 2, price:" },
    { "a negative price", "P1,Mug,shop,-1.00,EUR\n", "line 2, price:" },
    { "a price that is not a number", "P1,Mug,shop,cheap,EUR\n", "line 2, price:" },
    { "an unknown currency", "P1,Mug,shop,1.00,XXQ\n", "line 2, currency:" },
    { "a missing column", "P1,Mug,shop,1.00\n", "line 2: has 4 columns" },
    { "an extra column", "P1,Mug,shop,1.00,EUR,x\n", "line 2: has 6 columns" },
    { "an open quote", "P1,\"Mug,shop,1.00,EUR\n", "line 2: a quote" },
    { "a bad row after good ones", "P1,Mug,shop,1.00,EUR\nP2,Cup,shop,2.00,EUR\nP3,,shop,1,EUR\n",
      "line 4, name:" },
    { "an id given twice", "P1,Mug,shop,1.00,EUR\nP2,Cup,shop,2.00,EUR\nP1,Mug,shop,1.50,EUR\n",
      "line 4, product_id: 'P1' is given again (first on line 2)" },
};

static void
test_refusals (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_refusals / sizeof s_refusals [0]; i++) {
        char text [512];
        snprintf (text, sizeof text, "%s%s", S_HEADER, s_refusals [i].rows);
        s_write (text);
        ctl_products_t products;
        char error [256] = "";
        int rc = ctl_products_read (s_path, &products, error, sizeof error);
        if (rc != -1 || !strstr (error, s_refusals [i].error) || !strstr (error, s_path))
            fail_msg ("%s: rc %d, '%s'", s_refusals [i].what, rc, error);
        assert_null (products.rows);
        assert_int_equal (products.count, 0);
        unlink (s_path);
    }
    //  A wrong header, an empty file, no file.
    ctl_products_t products;
    char error [256];
    s_write ("product_id,title,category,price,currency\nP1,Mug,shop,1.00,EUR\n");
    assert_int_equal (ctl_products_read (s_path, &products, error, sizeof error), -1);
    assert_non_null (strstr (error, "line 1: header column 2 is 'title', expected 'name'"));
    unlink (s_path);
    s_write ("");
    assert_int_equal (ctl_products_read (s_path, &products, error, sizeof error), -1);
    assert_non_null (strstr (error, "the file is empty"));
    unlink (s_path);
    assert_int_equal (ctl_products_read (s_path, &products, error, sizeof error), -1);
    assert_non_null (strstr (error, "cannot open"));
}

static void
s_counts (PGconn *conn, const char *sql, const char *expected)
{
    PGresult *res = PQexec (conn, sql);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_string_equal (PQgetvalue (res, 0, 0), expected);
    PQclear (res);
}

static void
test_load (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.products"
                                         " WHERE product_id LIKE 'tp-%'"), 0);
    s_write (S_HEADER "tp-1,Mug,online_retail,3.99,EUR\ntp-2,Lamp,online_retail,24.99,EUR\n");
    char good [64];
    snprintf (good, sizeof good, "%s", s_path);
    assert_int_equal (ctl_products_load (url, good, false), CTL_OK);
    s_counts (conn, "SELECT string_agg (product_id || '=' || price_minor || currency, ','"
                    " ORDER BY product_id) FROM txw.products WHERE product_id LIKE 'tp-%'",
              "tp-1=399EUR,tp-2=2499EUR");
    //  Again: nothing changes, not even when it was written.
    s_counts (conn, "SELECT count (*) FROM txw_data.products WHERE product_id LIKE 'tp-%'"
                    " AND updated_at = (SELECT min (updated_at) FROM txw_data.products"
                    " WHERE product_id LIKE 'tp-%')", "2");
    assert_int_equal (txw_pg_exec (conn, "UPDATE txw_data.products SET updated_at = '2001-01-01'"
                                         " WHERE product_id LIKE 'tp-%'"), 0);
    assert_int_equal (ctl_products_load (url, good, false), CTL_OK);
    s_counts (conn, "SELECT count (*) FROM txw_data.products WHERE product_id LIKE 'tp-%'"
                    " AND updated_at = '2001-01-01'", "2");
    //  A file with a bad last row changes nothing, not even its good rows.
    s_write (S_HEADER "tp-1,Mug,online_retail,4.49,EUR\ntp-3,Cup,online_retail,1.99,EUR\n"
                      "tp-4,Bad,online_retail,1.999,EUR\n");
    assert_int_equal (ctl_products_load (url, s_path, false), CTL_USAGE);
    unlink (s_path);
    s_counts (conn, "SELECT string_agg (product_id || '=' || price_minor, ','"
                    " ORDER BY product_id) FROM txw.products WHERE product_id LIKE 'tp-%'",
              "tp-1=399,tp-2=2499");
    //  A changed price is updated, a new product added.
    s_write (S_HEADER "tp-1,Mug,online_retail,4.49,EUR\ntp-3,Cup,online_retail,1.99,EUR\n");
    assert_int_equal (ctl_products_load (url, s_path, false), CTL_OK);
    unlink (s_path);
    s_counts (conn, "SELECT string_agg (product_id || '=' || price_minor || ':'"
                    " || (updated_at > '2001-01-01'), ',' ORDER BY product_id)"
                    " FROM txw.products WHERE product_id LIKE 'tp-%'",
              "tp-1=449:true,tp-2=2499:false,tp-3=199:true");
    //  No database: an error, not a crash.
    assert_int_equal (ctl_products_load ("postgresql://nobody@127.0.0.1:1/none", good, false),
                      CTL_API_ERROR);
    unlink (good);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.products"
                                         " WHERE product_id LIKE 'tp-%'"), 0);
    PQfinish (conn);
}

int
main (void)
{
    txw_log_init ("test", TXW_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_good_file),
        cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_load),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
