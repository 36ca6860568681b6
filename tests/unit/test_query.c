/*  test_query - the query API's parameter validation and response cache

    Parameters: every way a query string can be wrong must be a 400 with the
    parameter's name (unknown, twice, out of range, not a number, not one of
    the values, not RFC 3339, not UTF-8, NUL, too long), and the right ones
    must decode (percent and form encoding). Cache: a stored body is served
    until its TTL has passed and not after, the cache never holds more than
    its bound (the oldest goes first), a key is replaced in place, an expired
    body is served stale only while one caller refreshes it, and hits and
    misses are counted. Cache keys: every spelling of one request (060 or
    60, encoded names, another order, a time with an offset) is one key,
    different requests never share one, what the endpoint refuses is
    refused or kept as it is, and each endpoint's list of parameters is
    the one its function takes. Periods: up to a year, each read from the
    right grain (windows to a day, hours to 30 days, days beyond), a
    rollup's period starting on a whole hour or UTC day.                  */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "dimensions.h"
#include "metrics.h"
#include "params.h"

static const char *const s_allowed [] = { "minutes", "since", "kind", "key", NULL };
static const char *const s_kinds [] = { "fraud", "region_health", NULL };

//  Parses query and reads minutes (1..1440, default 5); returns the rc.
static int
s_minutes (const char *query, int64_t *minutes, qerror_t *err)
{
    qparams_t params;
    if (qparams_parse (&params, query, s_allowed, err))
        return -1;
    return qparams_int (&params, "minutes", 5, 1, 1440, minutes, err);
}

static void
test_int_parameters (void **state)
{
    (void) state;
    int64_t minutes;
    qerror_t err;
    assert_int_equal (s_minutes (NULL, &minutes, &err), 0);
    assert_int_equal (minutes, 5);
    assert_int_equal (s_minutes ("", &minutes, &err), 0);
    assert_int_equal (minutes, 5);
    assert_int_equal (s_minutes ("minutes=1440", &minutes, &err), 0);
    assert_int_equal (minutes, 1440);
    assert_int_equal (s_minutes ("&minutes=1&", &minutes, &err), 0);
    assert_int_equal (minutes, 1);
    const char *bad [] = { "minutes=0", "minutes=1441", "minutes=-5", "minutes=abc",
                           "minutes=", "minutes", "minutes=+5", "minutes=5.0", "minutes=%205",
                           "minutes=99999999999999999999", "minutes=1e3", "minutes=0x10" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        memset (&err, 0, sizeof err);
        assert_int_equal (s_minutes (bad [i], &minutes, &err), -1);
        assert_string_equal (err.parameter, "minutes");
        assert_string_equal (err.message, "must be an integer from 1 to 1440");
    }
}

static void
test_unknown_and_repeated (void **state)
{
    (void) state;
    int64_t minutes;
    qerror_t err;
    assert_int_equal (s_minutes ("minuts=5", &minutes, &err), -1);
    assert_string_equal (err.parameter, "minuts");
    assert_string_equal (err.message, "unknown parameter");
    assert_int_equal (s_minutes ("minutes=5&minutes=6", &minutes, &err), -1);
    assert_string_equal (err.parameter, "minutes");
    assert_string_equal (err.message, "given more than once");
    //  The name is decoded before it is looked up, and printed safely.
    assert_int_equal (s_minutes ("minut%65s=7", &minutes, &err), 0);
    assert_int_equal (minutes, 7);
    assert_int_equal (s_minutes ("a%0Ab=1", &minutes, &err), -1);
    assert_string_equal (err.parameter, "a?b");
    //  A name too long for any parameter is unknown, not a crash.
    char query [400];
    memset (query, 'x', 300);
    strcpy (query + 300, "=1");
    assert_int_equal (s_minutes (query, &minutes, &err), -1);
    assert_string_equal (err.message, "unknown parameter");
}

static void
test_enum_time_text (void **state)
{
    (void) state;
    qparams_t params;
    qerror_t err;
    int kind;
    int64_t since;
    const char *key;
    assert_int_equal (qparams_parse (&params, "kind=region_health&since=2026-11-22T21%3A04%3A05.123Z"
                                     "&key=north+east", s_allowed, &err), 0);
    assert_int_equal (qparams_enum (&params, "kind", s_kinds, -1, &kind, &err), 0);
    assert_int_equal (kind, 1);
    assert_int_equal (qparams_time (&params, "since", 0, &since, &err), 0);
    assert_int_equal (since, 1795381445123LL);
    assert_int_equal (qparams_text (&params, "key", 64, NULL, &key, &err), 0);
    assert_string_equal (key, "north east");

    assert_int_equal (qparams_parse (&params, NULL, s_allowed, &err), 0);
    assert_int_equal (qparams_enum (&params, "kind", s_kinds, -1, &kind, &err), 0);
    assert_int_equal (kind, -1);
    assert_int_equal (qparams_time (&params, "since", 42, &since, &err), 0);
    assert_int_equal (since, 42);

    assert_int_equal (qparams_parse (&params, "kind=Fraud", s_allowed, &err), 0);
    assert_int_equal (qparams_enum (&params, "kind", s_kinds, -1, &kind, &err), -1);
    assert_string_equal (err.parameter, "kind");
    assert_string_equal (err.message, "must be one of fraud, region_health");

    const char *bad_times [] = { "since=yesterday", "since=2026-02-30T00:00:00Z",
                                 "since=2026-11-22T21:04:05", "since=2026-11-22T21:04:05+01:00",
                                 "since=" };
    for (size_t i = 0; i < sizeof bad_times / sizeof bad_times [0]; i++) {
        assert_int_equal (qparams_parse (&params, bad_times [i], s_allowed, &err), 0);
        assert_int_equal (qparams_time (&params, "since", 0, &since, &err), -1);
        assert_string_equal (err.parameter, "since");
    }
    //  An offset needs its '+' percent-encoded ('+' is a space in a query).
    assert_int_equal (qparams_parse (&params, "since=2026-11-22T22:04:05.123%2B01:00",
                                     s_allowed, &err), 0);
    assert_int_equal (qparams_time (&params, "since", 0, &since, &err), 0);
    assert_int_equal (since, 1795381445123LL);

    //  Text: control characters, NUL and invalid UTF-8 are refused.
    assert_int_equal (qparams_parse (&params, "key=a%01b", s_allowed, &err), 0);
    assert_int_equal (qparams_text (&params, "key", 64, NULL, &key, &err), -1);
    assert_int_equal (qparams_parse (&params, "key=a%00b", s_allowed, &err), -1);
    assert_string_equal (err.parameter, "key");
    assert_int_equal (qparams_parse (&params, "key=%FF", s_allowed, &err), -1);
    assert_int_equal (qparams_parse (&params, "key=%C0%AF", s_allowed, &err), -1);   //  overlong
    assert_int_equal (qparams_parse (&params, "key=M%C3%BCnchen", s_allowed, &err), 0);
    assert_int_equal (qparams_text (&params, "key", 64, NULL, &key, &err), 0);
    assert_string_equal (key, "M\xc3\xbcnchen");
    char query [700] = "key=";
    memset (query + 4, 'k', QPARAM_VALUE_MAX + 1);
    assert_int_equal (qparams_parse (&params, query, s_allowed, &err), -1);
    query [4 + QPARAM_VALUE_MAX] = 0;
    assert_int_equal (qparams_parse (&params, query, s_allowed, &err), 0);
    assert_int_equal (qparams_text (&params, "key", 64, NULL, &key, &err), -1);
}

static void
test_ids (void **state)
{
    (void) state;
    assert_true (qparams_id_valid ("tx-123_a.b:c", 64));
    assert_false (qparams_id_valid ("", 64));
    assert_false (qparams_id_valid ("tx 1", 64));
    assert_false (qparams_id_valid ("tx/1", 64));
    assert_false (qparams_id_valid ("x'; DROP TABLE t; --", 64));
    char long_id [80];
    memset (long_id, 'a', 65);
    long_id [65] = 0;
    assert_false (qparams_id_valid (long_id, 64));
    long_id [64] = 0;
    assert_true (qparams_id_valid (long_id, 64));
    assert_true (qparams_text_valid ("region_health:north east:1700000000000", 128));
    assert_false (qparams_text_valid ("a\tb", 128));
    assert_false (qparams_text_valid ("\xed\xa0\x80", 128));    //  a surrogate
}

//  Reads query's minutes as a period ending at now.
static int
s_period (const char *query, int64_t now, qperiod_t *period, qerror_t *err)
{
    static const char *const allowed [] = { "minutes", NULL };
    qparams_t params;
    if (qparams_parse (&params, query, allowed, err))
        return -1;
    return qparams_period (&params, 60, now, period, err);
}

static void
test_periods (void **state)
{
    (void) state;
    //  2026-11-22T21:04:05.123Z
    const int64_t now = 1795381445123LL, hour = 3600000, day = 86400000;
    qperiod_t period;
    qerror_t err;
    assert_int_equal (s_period (NULL, now, &period, &err), 0);
    assert_int_equal (period.minutes, 60);
    assert_int_equal (period.grain, QGRAIN_WINDOW);
    assert_int_equal (period.from_ms, now - 60 * 60000);     //  windows: as asked

    //  The boundaries of each grain, and where the period starts.
    const struct {
        const char *query;
        int64_t minutes;
        qgrain_t grain;
        int64_t from_ms;
    } cases [] = {
        { "minutes=1440", 1440, QGRAIN_WINDOW, now - 1440 * 60000LL },
        { "minutes=1441", 1441, QGRAIN_HOUR, 1795294800000LL },         //  21-T21:00Z
        { "minutes=10080", 10080, QGRAIN_HOUR, 1794776400000LL },       //  15-T21:00Z
        { "minutes=43200", 43200, QGRAIN_HOUR, 1792789200000LL },       //  10-23T21:00Z
        { "minutes=43201", 43201, QGRAIN_DAY, 1792713600000LL },        //  10-23T00:00Z
        { "minutes=525600", 525600, QGRAIN_DAY, 1763769600000LL },      //  2025-11-22
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        assert_int_equal (s_period (cases [i].query, now, &period, &err), 0);
        assert_int_equal (period.minutes, cases [i].minutes);
        assert_int_equal (period.grain, cases [i].grain);
        assert_int_equal (period.grain_ms, cases [i].grain == QGRAIN_HOUR? hour:
                                           cases [i].grain == QGRAIN_DAY? day: 0);
        assert_int_equal (period.from_ms, cases [i].from_ms);
        //  Whole rollup rows, and never less than asked.
        if (period.grain_ms)
            assert_int_equal (period.from_ms % period.grain_ms, 0);
        assert_true (period.from_ms <= now - period.minutes * 60000);
        assert_true (period.from_ms > now - period.minutes * 60000 - (period.grain_ms? period.grain_ms: 1));
    }
    //  On a whole hour already: nothing moves.
    qperiod_make (&period, 10080, 1795381200000LL);
    assert_int_equal (period.from_ms, 1795381200000LL - 10080 * 60000LL);
    //  Before 1970 (a faked clock) aligns down too.
    qperiod_make (&period, 2000, -1);                           //  from -33.33 h
    assert_int_equal (period.from_ms, -34 * hour);

    const char *bad [] = { "minutes=0", "minutes=525601", "minutes=-1", "minutes=1y",
                           "minutes=7d", "minutes=" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_period (bad [i], now, &period, &err), -1);
        assert_string_equal (err.parameter, "minutes");
        assert_string_equal (err.message, "must be an integer from 1 to 525600");
    }
}

static void
test_cache_expiry (void **state)
{
    (void) state;
    txw_counter_t *hits = txw_counter_new ("test_hits_total", NULL, "hits");
    txw_counter_t *misses = txw_counter_new ("test_misses_total", NULL, "misses");
    qcache_t *cache = qcache_new (1000, 8);
    assert_non_null (cache);
    qcache_set_metrics (cache, hits, misses, NULL);
    size_t size = 0;
    bool stale;
    assert_null (qcache_get (cache, "/a?x=1", 0, &size, &stale));
    qcache_put (cache, "/a?x=1", "{\"v\":1}", 7, 5000);
    char *body = qcache_get (cache, "/a?x=1", 5999, &size, &stale);
    assert_non_null (body);
    assert_int_equal (size, 7);
    assert_string_equal (body, "{\"v\":1}");
    free (body);
    //  Other query strings are other entries.
    assert_null (qcache_get (cache, "/a?x=2", 5000, &size, &stale));
    assert_null (qcache_get (cache, "/a", 5000, &size, &stale));
    //  Expired at exactly put + ttl: the first caller misses and refreshes,
    //  callers meanwhile get the expired body, marked stale.
    assert_null (qcache_get (cache, "/a?x=1", 6000, &size, &stale));
    body = qcache_get (cache, "/a?x=1", 6001, &size, &stale);
    assert_non_null (body);
    assert_true (stale);
    assert_string_equal (body, "{\"v\":1}");
    free (body);
    //  A refresher that gives up lets the next caller refresh.
    qcache_abandon (cache, "/a?x=1");
    assert_null (qcache_get (cache, "/a?x=1", 6002, &size, &stale));
    //  The refresher's put is fresh for a whole TTL.
    qcache_put (cache, "/a?x=1", "{\"v\":2}", 7, 6010);
    body = qcache_get (cache, "/a?x=1", 7009, &size, &stale);
    assert_string_equal (body, "{\"v\":2}");
    assert_false (stale);
    free (body);
    //  One TTL past the expiry, nothing is served, and the entry is gone.
    assert_null (qcache_get (cache, "/a?x=1", 8010, &size, &stale));
    assert_int_equal (qcache_size (cache), 0);
    assert_int_equal (txw_counter_value (hits), 3);
    assert_int_equal (txw_counter_value (misses), 6);
    //  A new value for the key replaces the old one in place.
    qcache_put (cache, "/a?x=1", "old", 3, 9000);
    qcache_put (cache, "/a?x=1", "newer", 5, 9100);
    assert_int_equal (qcache_size (cache), 1);
    body = qcache_get (cache, "/a?x=1", 10050, &size, &stale);
    assert_string_equal (body, "newer");
    free (body);
    qcache_clear (cache);
    assert_int_equal (qcache_size (cache), 0);
    qcache_destroy (&cache);
    qcache_destroy (&cache);
    assert_null (cache);
    txw_metrics_reset ();
}

static void
test_cache_bound (void **state)
{
    (void) state;
    qcache_t *cache = qcache_new (1000, 4);
    char key [32];
    for (int i = 0; i < 10; i++) {
        snprintf (key, sizeof key, "/k%d", i);
        qcache_put (cache, key, key, strlen (key), 100 + i);
        assert_true (qcache_size (cache) <= 4);
    }
    assert_int_equal (qcache_size (cache), 4);
    size_t size;
    bool stale;
    //  The oldest went first: k0..k5 are gone, k6..k9 are there.
    for (int i = 0; i < 10; i++) {
        snprintf (key, sizeof key, "/k%d", i);
        char *body = qcache_get (cache, key, 200, &size, &stale);
        if (i < 6)
            assert_null (body);
        else {
            assert_non_null (body);
            assert_string_equal (body, key);
        }
        free (body);
    }
    //  Dead entries (a TTL past expiry) are swept on insert below the bound.
    qcache_put (cache, "/late", "x", 1, 5000);
    assert_int_equal (qcache_size (cache), 1);
    qcache_destroy (&cache);

    //  TTL 0: a disabled cache stores nothing.
    cache = qcache_new (0, 4);
    qcache_put (cache, "/a", "x", 1, 0);
    assert_null (qcache_get (cache, "/a", 0, &size, &stale));
    assert_int_equal (qcache_size (cache), 0);
    qcache_destroy (&cache);
}

//  The key of a GET of endpoint at path with query (variant "v"), or NULL
//  with err filled; in one of two static buffers.
static const char *
s_key (const char *endpoint, const char *path, const char *query, qerror_t *err)
{
    static char keys [2][QPARAMS_KEY_MAX];
    static int turn;
    char *key = keys [turn++ % 2];
    return qparams_cache_key (endpoint, "v", path, query, key, QPARAMS_KEY_MAX, err)? NULL: key;
}

static void
test_cache_keys (void **state)
{
    (void) state;
    qerror_t err;
    const char *rt = "/api/v1/stats/realtime";
    //  One request, many spellings: one key.
    assert_string_equal (s_key ("stats_realtime", rt, "minutes=060", &err),
                         s_key ("stats_realtime", rt, "minutes=60", &err));
    assert_string_equal (s_key ("stats_realtime", rt, "&m%69nutes=0000060&", &err),
                         s_key ("stats_realtime", rt, "minutes=60", &err));
    assert_string_equal (s_key ("stats_realtime", rt, "minutes=-0", &err),
                         s_key ("stats_realtime", rt, "minutes=0", &err));
    assert_string_equal (s_key ("stats_realtime", rt, "", &err),
                         s_key ("stats_realtime", rt, NULL, &err));
    assert_string_equal (s_key ("alerts", "/api/v1/alerts",
                                "limit=05&kind=fraud&since=2026-11-22T22:04:05.123%2B01:00", &err),
                         s_key ("alerts", "/api/v1/alerts",
                                "since=2026-11-22T21%3A04%3A05.123Z&kind=fraud&limit=5", &err));
    //  The form of a key: variant, path, the parameters sorted and encoded.
    assert_string_equal (s_key ("alerts", "/api/v1/alerts", "limit=05&kind=fraud&min_score=+80"
                                "&since=2026-11-22t21:04:05.1z", &err),
                         "v /api/v1/alerts?kind=fraud&limit=5&min_score=%2080"
                         "&since=2026-11-22T21:04:05.100Z");
    assert_string_equal (s_key ("timeseries", "/api/v1/timeseries", "key=north+east", &err),
                         s_key ("timeseries", "/api/v1/timeseries", "key=north%20east", &err));
    assert_string_equal (s_key ("timeseries", "/api/v1/timeseries", "key=a%26b%3Dc", &err),
                         "v /api/v1/timeseries?key=a%26b%3Dc");

    //  Different requests: different keys. Text is never read as a number,
    //  and what the endpoint refuses is kept as it is (+60 is %2B60).
    const char *pairs [][4] = {
        { "timeseries", "key=007", "timeseries", "key=7" },
        { "stats_realtime", "minutes=%2B60", "stats_realtime", "minutes=60" },
        { "stats_realtime", "minutes=abc", "stats_realtime", "minutes=" },
        { "stats_realtime", "minutes=0000000000000000060", "stats_realtime", "minutes=60" },
        { "alerts", "since=2026-11-22T21:04:05Z", "alerts", "since=2026-11-22T21:04:05" },
        { "alerts", "kind=Fraud", "alerts", "kind=fraud" },
        { "branches", "minutes=5", "regions", "minutes=5" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs [0]; i++) {
        const char *a = s_key (pairs [i][0], "/p", pairs [i][1], &err);
        const char *b = s_key (pairs [i][2], pairs [i][0] == pairs [i][2]? "/p": "/q",
                               pairs [i][3], &err);
        assert_non_null (a);
        assert_non_null (b);
        assert_string_not_equal (a, b);
    }
    //  A path or variant cannot pass for parameters.
    char one [QPARAMS_KEY_MAX], two [QPARAMS_KEY_MAX];
    assert_int_equal (qparams_cache_key ("account", "v", "/api/v1/accounts/a?limit=1", NULL,
                                         one, sizeof one, &err), 0);
    assert_int_equal (qparams_cache_key ("account", "v", "/api/v1/accounts/a", "limit=1",
                                         two, sizeof two, &err), 0);
    assert_string_not_equal (one, two);
    assert_int_equal (qparams_cache_key ("account", "v /x", "/y", NULL, one, sizeof one, &err), 0);
    assert_int_equal (qparams_cache_key ("account", "v", "/x /y", NULL, two, sizeof two, &err), 0);
    assert_string_not_equal (one, two);
    //  The caller's role is part of the key.
    assert_int_equal (qparams_cache_key ("alerts", "viewer", "/api/v1/alerts", NULL,
                                         one, sizeof one, &err), 0);
    assert_int_equal (qparams_cache_key ("alerts", "analyst", "/api/v1/alerts", NULL,
                                         two, sizeof two, &err), 0);
    assert_string_not_equal (one, two);

    //  Refused, to be answered with 400: unknown, twice (in any spelling),
    //  a parameter of another endpoint, an endpoint without a list.
    assert_null (s_key ("stats_realtime", rt, "minutes=5&minuts=5", &err));
    assert_string_equal (err.parameter, "minuts");
    assert_string_equal (err.message, "unknown parameter");
    assert_null (s_key ("stats_realtime", rt, "minutes=60&m%69nutes=060", &err));
    assert_string_equal (err.parameter, "minutes");
    assert_string_equal (err.message, "given more than once");
    assert_null (s_key ("transaction", "/api/v1/transactions/t1", "limit=5", &err));
    assert_string_equal (err.message, "unknown parameter");
    assert_null (s_key ("ack", "/api/v1/alerts/1/ack", NULL, &err));
    assert_string_equal (err.parameter, "endpoint");

    //  The largest key fits QPARAMS_KEY_MAX; a smaller buffer is refused.
    char path [1025], query [1200];
    memset (path, ' ', 1024);
    path [1024] = 0;
    strcpy (query, "key=");
    for (int i = 0; i < 128; i++)
        strcat (query, "%C3%BC");
    strcat (query, "&dimension=%C3%BC&metric=%C3%BC&minutes=%C3%BC");
    assert_int_equal (qparams_cache_key ("timeseries", "12345678901234567890123456789012", path,
                                         query, one, sizeof one, &err), 0);
    assert_true (strlen (one) > 1024 * 3 + 256 * 3);
    assert_int_equal (qparams_cache_key ("timeseries", "v", path, query, one, 1024 * 3, &err), -1);
    assert_string_equal (err.parameter, "path");
    assert_string_equal (one, "");
}

//  The parameter lists of params.c against the endpoints themselves: for
//  every name any endpoint takes, the key refuses it twice exactly when
//  the endpoint does, and unknown exactly when the endpoint does.
static void
test_cache_key_lists (void **state)
{
    (void) state;
    static const char *const names [] = {
        "minutes", "dimension", "key", "metric", "by", "limit", "since", "min_score", "status",
        "kind", "reason", "revoked", "action", "principal", "before", "segment", "sort",
        "offset", "period", "months", "zz", NULL
    };
    const char *top_arg = txw_dimension_names [TXW_DIM_OVERALL + 1];
    const struct {
        const char *endpoint;
        qapi_fn *fn;
        const char *arg;
    } endpoints [] = {
        { "stats_realtime", qapi_stats_realtime, NULL }, { "timeseries", qapi_timeseries, NULL },
        { "top", qapi_top, top_arg }, { "branches", qapi_branches, NULL },
        { "regions", qapi_regions, NULL }, { "alerts", qapi_alerts, NULL },
        { "transaction", qapi_transaction, "t1" }, { "account", qapi_account, "a1" },
        { "dead_letters", qapi_dead_letters, NULL },
        { "customer_segments", qapi_customer_segments, NULL },
        { "customers", qapi_customers, NULL }, { "customer", qapi_customer, "a1" },
        { "cohorts", qapi_cohorts, NULL },
    };
    txw_principal_t who = { .key_id = "0123456789abcdef", .name = "test", .role = TXW_ROLE_ADMIN };
    qapi_t api = { .currency = "EUR", .currency_exponent = 2 };
    for (size_t e = 0; e < sizeof endpoints / sizeof endpoints [0]; e++)
        for (int n = 0; names [n]; n++) {
            char query [64];
            snprintf (query, sizeof query, "%s=1&%s=1", names [n], names [n]);
            qrequest_t req = { .query = query, .arg = endpoints [e].arg, .now_ms = 1795381445123LL,
                               .who = &who, .client = "127.0.0.1" };
            json_t *out = NULL;
            int status = endpoints [e].fn (&api, &req, &out);
            assert_int_equal (status, 400);
            const char *message = json_string_value (json_object_get (out, "message"));
            qerror_t err;
            char key [QPARAMS_KEY_MAX];
            assert_int_equal (qparams_cache_key (endpoints [e].endpoint, "v", "/p", query, key,
                                                 sizeof key, &err), -1);
            if (strcmp (message, err.message))
                fail_msg ("%s %s: the endpoint says \"%s\", the cache key \"%s\"",
                          endpoints [e].endpoint, names [n], message, err.message);
            json_decref (out);
        }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_int_parameters),
        cmocka_unit_test (test_unknown_and_repeated),
        cmocka_unit_test (test_enum_time_text),
        cmocka_unit_test (test_ids),
        cmocka_unit_test (test_periods),
        cmocka_unit_test (test_cache_expiry),
        cmocka_unit_test (test_cache_bound),
        cmocka_unit_test (test_cache_keys),
        cmocka_unit_test (test_cache_key_lists),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
