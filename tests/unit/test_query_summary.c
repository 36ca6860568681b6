/*  test_query_summary - the query API and the gateway give the same summaries

    The same window rows (two shards, overall, merchants, branches, regions,
    two periods) are stored in PostgreSQL and fed to the gateway's live
    state. The API fills the read model from SQL sums, the gateway from its
    windows; their realtime stats, top lists, branch performance and region
    health must be the same JSON. Links the query API's and the gateway's
    real modules; runs only when TXW_TEST_DATABASE_URL names a PostgreSQL it
    may write to.                                                              */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "testdb.h"
#include "pgutil.h"
#include "state.h"

#define MIN         60000LL
#define NOW         1767614400000LL             //  2026-01-05T12:00:00Z
#define CURRENT     (NOW - NOW % MIN)

//  dimension, key, minutes before the current window, shard, count, volume,
//  approved, declined, failed, flagged, score_sum, closed
typedef struct {
    const char *dimension, *key;
    int64_t minutes_back;
    uint32_t shard;
    int64_t count, volume, approved, declined, failed, flagged, score_sum;
    bool closed;
} s_window_t;

static const s_window_t s_windows [] = {
    { "overall",  "all",  3, 0,  10, 10000,  8, 1, 1, 1,  200, true  },
    { "overall",  "all",  3, 1,   5,  4000,  5, 0, 0, 0,   50, true  },
    { "overall",  "all",  0, 0,  20, 30000, 18, 2, 0, 2,  600, false },
    { "overall",  "all", 70, 0,  40, 40000, 40, 0, 0, 0,  400, true  },
    { "merchant", "m-A",  3, 0,  12,  5000, 10, 2, 0, 1,  300, true  },
    { "merchant", "m-A", 70, 0,   6,  1000,  6, 0, 0, 0,   60, true  },
    { "merchant", "m-B",  1, 1,  20,  2000, 20, 0, 0, 0,  100, false },
    { "merchant", "m-C", 10, 0,   2, 60000,  0, 2, 0, 2,  180, true  },
    { "merchant", "m-C", 10, 1,   1, 30000,  1, 0, 0, 0,   10, true  },
    { "merchant", "m-D", 70, 1,   9,  9000,  9, 0, 0, 0,   90, true  },
    { "branch",   "b-1",  3, 0,  10,  7000,  9, 1, 0, 1,  200, true  },
    { "branch",   "b-1",  1, 1,  10,  3000, 10, 0, 0, 0,  100, false },
    { "branch",   "b-2",  2, 0,   4, 20000,  2, 2, 0, 0,   40, true  },
    { "region",   "north", 3, 0, 100, 90000, 95, 3, 2, 1,  900, true },
    { "region",   "south", 2, 0, 300, 40000, 210, 50, 40, 0, 500, true },
    { "region",   "east",  2, 0,  10,  8000,  8, 2, 0, 0,  100, true },
};
#define S_WINDOWS (sizeof s_windows / sizeof s_windows [0])

static txw_window_t
s_row (const s_window_t *w)
{
    txw_window_t row;
    memset (&row, 0, sizeof row);
    snprintf (row.dimension, sizeof row.dimension, "%s", w->dimension);
    snprintf (row.key, sizeof row.key, "%s", w->key);
    row.window_start_ms = CURRENT - w->minutes_back * MIN;
    row.window_ms = MIN;
    row.shard = w->shard;
    row.tx_count = w->count;
    row.amount_sum = w->volume;
    row.amount_min = 1;
    row.amount_max = w->volume;
    row.approved = w->approved;
    row.declined = w->declined;
    row.failed = w->failed;
    row.flagged = w->flagged;
    row.score_sum = w->score_sum;
    row.closed = w->closed;
    row.approved_amount_sum = w->volume;
    return row;
}

//  Stores every window in PostgreSQL, replacing what an earlier run left.
static void
s_store (PGconn *conn)
{
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.windows"), 0);
    //  Every window is on the day of NOW (windows are partitioned by day).
    assert_int_equal (txw_pg_exec (conn, "SELECT txw_data.ensure_partition('2026-01-05')"), 0);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.alerts"
                                         " WHERE kind = 'region_health'"), 0);
    for (size_t i = 0; i < S_WINDOWS; i++) {
        txw_window_t row = s_row (&s_windows [i]);
        char sql [1024];
        snprintf (sql, sizeof sql,
            "INSERT INTO txw_data.windows (dimension, key, window_start, shard, window_ms,"
            " tx_count, amount_minor_sum, amount_minor_min, amount_minor_max,"
            " approved_amount_minor_sum, approved, declined, failed, flagged, score_sum,"
            " late, closed) VALUES ('%s', '%s', to_timestamp(%lld / 1000.0), %u, %lld,"
            " %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, 0, %s)",
            row.dimension, row.key, (long long) row.window_start_ms, row.shard,
            (long long) row.window_ms, (long long) row.tx_count, (long long) row.amount_sum,
            (long long) row.amount_min, (long long) row.amount_max,
            (long long) row.approved_amount_sum, (long long) row.approved,
            (long long) row.declined, (long long) row.failed, (long long) row.flagged,
            (long long) row.score_sum, row.closed? "true": "false");
        assert_int_equal (txw_pg_exec (conn, sql), 0);
    }
}

//  Calls an endpoint and returns the member of its body (a new reference).
static json_t *
s_api (qapi_t *api, qapi_fn *fn, const char *arg, const char *query, const char *member)
{
    qrequest_t req = { .query = query, .arg = arg, .now_ms = NOW };
    json_t *body = NULL;
    assert_int_equal (fn (api, &req, &body), 200);
    json_t *value = member? json_incref (json_object_get (body, member)): json_incref (body);
    json_decref (body);
    assert_non_null (value);
    return value;
}

static void
s_assert_same (const char *what, json_t *api, json_t *gateway)
{
    if (!json_equal (api, gateway)) {
        char *a = json_dumps (api, JSON_SORT_KEYS);
        char *g = json_dumps (gateway, JSON_SORT_KEYS);
        print_error ("%s differs:\n  api     %s\n  gateway %s\n", what, a, g);
        free (a);
        free (g);
        fail ();
    }
    json_decref (api);
    json_decref (gateway);
}

static void
test_api_and_gateway_agree (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    s_store (conn);
    PQfinish (conn);

    qapi_t api = {
        .pool = qpool_new (url, 2, 5000, 1000),
        .currency = "EUR", .currency_exponent = 2, .health_threshold = 0.10,
        .alert_threshold = 80
    };
    assert_non_null (api.pool);
    gw_state_t *gateway = gw_state_new (0.10, "EUR");
    assert_non_null (gateway);
    for (size_t i = 0; i < S_WINDOWS; i++) {
        txw_window_t row = s_row (&s_windows [i]);
        gw_window_t out;
        assert_int_equal (gw_state_window (gateway, &row, NOW, &out), 0);
    }

    s_assert_same ("realtime stats (5 minutes)",
                   s_api (&api, qapi_stats_realtime, NULL, "minutes=5", NULL),
                   gw_state_realtime (gateway, NOW, 5));
    s_assert_same ("realtime stats (60 minutes)",
                   s_api (&api, qapi_stats_realtime, NULL, "minutes=60", NULL),
                   gw_state_realtime (gateway, NOW, 60));
    s_assert_same ("top merchants",
                   s_api (&api, qapi_top, "merchant", "minutes=60", "items"),
                   gw_state_top (gateway, "merchant", NOW));
    s_assert_same ("branch performance",
                   s_api (&api, qapi_branches, NULL, "minutes=60", "branches"),
                   gw_state_branches (gateway, NOW));
    json_t *regions = s_api (&api, qapi_regions, NULL, "minutes=60", "regions");
    //  The rule: south (30% of 300) is unhealthy; east (20% of 10) is not
    //  evidence enough, north (5%) is healthy.
    assert_int_equal (json_array_size (regions), 3);
    assert_true (json_is_true (json_object_get (json_array_get (regions, 0), "healthy")));
    assert_true (json_is_true (json_object_get (json_array_get (regions, 1), "healthy")));
    assert_false (json_is_true (json_object_get (json_array_get (regions, 2), "healthy")));
    s_assert_same ("region health", regions, gw_state_regions (gateway, NOW));

    gw_state_destroy (&gateway);
    qpool_destroy (&api.pool);
}

int
main (void)
{
    txw_log_init ("test", TXW_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_api_and_gateway_agree),
    };
    return cmocka_run_group_tests_name ("query_summary", tests, NULL, NULL);
}
