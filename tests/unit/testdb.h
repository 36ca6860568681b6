/*  testdb - the unit tests' PostgreSQL: TXW_TEST_DATABASE_URL

    tests/run.sh starts a private server and names it; a test that needs it
    opens it with TESTDB_OPEN, which skips the test when none is named.     */

#ifndef TXW_TESTS_TESTDB_H
#define TXW_TESTS_TESTDB_H

#include "pgutil.h"

#include <stdlib.h>

//  Declares url and conn: the test database, migrated and connected.
#define TESTDB_OPEN(url, conn)                                          \
    const char *url = getenv ("TXW_TEST_DATABASE_URL");                 \
    if (!url || !*url) {                                                \
        skip ();                                                        \
        return;                                                         \
    }                                                                   \
    assert_true (txw_pg_migrate_url (url) >= 0);                        \
    PGconn *conn = txw_pg_connect (url);                                \
    assert_non_null (conn)

#endif
