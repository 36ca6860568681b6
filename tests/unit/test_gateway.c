/*  test_gateway - window totals over shards, the stats formulas of the
    REST API, the per-client queue's drop and gap rules, who may open /ws
    (Origin, the policy and headers of access.h) and the files it serves   */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "files.h"
#include "message.h"
#include "queue.h"
#include "state.h"

#define MIN 60000LL
#define NOW (1700000000000LL - 1700000000000LL % MIN + 30000)   //  30 s into a window

static txw_window_t
s_row (const char *dim, const char *key, int64_t start, uint32_t shard, int64_t count,
       int64_t volume, int64_t approved, int64_t declined, int64_t failed, int64_t flagged,
       int64_t score_sum, bool closed)
{
    txw_window_t w;
    memset (&w, 0, sizeof w);
    strcpy (w.dimension, dim);
    strcpy (w.key, key);
    w.window_start_ms = start;
    w.window_ms = MIN;
    w.shard = shard;
    w.tx_count = count;
    w.amount_sum = volume;
    w.approved = approved;
    w.declined = declined;
    w.failed = failed;
    w.flagged = flagged;
    w.score_sum = score_sum;
    w.closed = closed;
    return w;
}

static void
s_add (gw_state_t *s, txw_window_t w)
{
    gw_window_t out;
    assert_int_equal (gw_state_window (s, &w, NOW, &out), 0);
}

static double
s_real (json_t *o, const char *key)
{
    json_t *v = json_object_get (o, key);
    assert_true (json_is_number (v));
    return json_number_value (v);
}

static void
test_windows_sum_over_shards (void **state)
{
    (void) state;
    gw_state_t *s = gw_state_new (0.10, "EUR");
    int64_t start = NOW - NOW % MIN;
    gw_window_t out;
    txw_window_t a = s_row ("overall", "all", start, 0, 10, 1000, 8, 1, 1, 2, 200, true);
    txw_window_t b = s_row ("overall", "all", start, 1, 5, 500, 5, 0, 0, 1, 50, false);
    assert_int_equal (gw_state_window (s, &a, NOW, &out), 0);
    assert_int_equal (out.t.count, 10);
    assert_int_equal (gw_state_window (s, &b, NOW, &out), 0);
    assert_int_equal (out.t.count, 15);
    assert_int_equal (out.t.volume, 1500);
    assert_int_equal (out.t.flagged, 3);
    assert_false (out.closed);            //  closed only once every shard is
    //  A shard's newer row replaces its older one, it is not added.
    b = s_row ("overall", "all", start, 1, 7, 700, 7, 0, 0, 1, 70, true);
    assert_int_equal (gw_state_window (s, &b, NOW, &out), 0);
    assert_int_equal (out.t.count, 17);
    assert_int_equal (out.t.volume, 1700);
    assert_true (out.closed);
    json_t *j = gw_window_json (&out);
    assert_int_equal (json_integer_value (json_object_get (j, "count")), 17);
    assert_int_equal (json_integer_value (json_object_get (j, "volume_minor")), 1700);
    assert_true (fabs (s_real (j, "mean_score") - 15.88) < 1e-9);     //  270 / 17
    assert_string_equal (json_string_value (json_object_get (j, "dimension")), "overall");
    json_decref (j);
    //  Unknown dimensions and rows older than the retention are ignored.
    txw_window_t bad = s_row ("planet", "mars", start, 0, 1, 1, 1, 0, 0, 0, 0, false);
    assert_int_equal (gw_state_window (s, &bad, NOW, &out), -1);
    txw_window_t old = s_row ("overall", "all", start - 200 * MIN, 0, 1, 1, 1, 0, 0, 0, 0, true);
    assert_int_equal (gw_state_window (s, &old, NOW, &out), -1);
    gw_state_destroy (&s);
}

//  Seeding reads the stored per-shard rows; a live row then replaces its
//  own shard's row only, so the sum stays exact.
static void
test_seed_row_replaced_by_live_rows (void **state)
{
    (void) state;
    gw_state_t *s = gw_state_new (0.10, "EUR");
    int64_t start = NOW - NOW % MIN;
    s_add (s, s_row ("region", "R1", start, 0, 100, 9000, 90, 10, 0, 0, 0, false));
    s_add (s, s_row ("region", "R1", start, 1, 40, 3000, 38, 2, 0, 0, 0, false));
    gw_window_t out;
    assert_true (gw_state_find (s, "region", "R1", start, &out));
    assert_int_equal (out.t.count, 140);
    s_add (s, s_row ("region", "R1", start, 1, 60, 5000, 55, 5, 0, 0, 0, false));
    assert_true (gw_state_find (s, "region", "R1", start, &out));
    assert_int_equal (out.t.count, 160);    //  shard 0 seeded, shard 1 live
    gw_state_destroy (&s);
}

static void
test_realtime_stats (void **state)
{
    (void) state;
    gw_state_t *s = gw_state_new (0.10, "EUR");
    int64_t cur = NOW - NOW % MIN;
    //  Two windows in the last 5 minutes over two shards, one older.
    s_add (s, s_row ("overall", "all", cur, 0, 60, 6000, 50, 6, 4, 3, 600, false));
    s_add (s, s_row ("overall", "all", cur, 1, 40, 4000, 40, 0, 0, 1, 400, false));
    s_add (s, s_row ("overall", "all", cur - MIN, 0, 100, 10000, 90, 5, 5, 0, 1000, true));
    s_add (s, s_row ("overall", "all", cur - 6 * MIN, 0, 999, 1, 999, 0, 0, 0, 0, true));
    json_t *r = gw_state_realtime (s, NOW, 5);
    assert_int_equal (json_integer_value (json_object_get (r, "count")), 200);
    assert_int_equal (json_integer_value (json_object_get (r, "volume_minor")), 20000);
    assert_int_equal (json_integer_value (json_object_get (r, "flagged")), 4);
    assert_int_equal (json_integer_value (json_object_get (r, "minutes")), 5);
    assert_int_equal (json_integer_value (json_object_get (r, "currency_exponent")), 2);
    assert_true (fabs (s_real (r, "approval_rate") - 0.9) < 1e-9);     //  180/200
    assert_true (fabs (s_real (r, "decline_rate") - 0.055) < 1e-9);
    assert_true (fabs (s_real (r, "failure_rate") - 0.045) < 1e-9);
    assert_true (fabs (s_real (r, "flagged_rate") - 0.02) < 1e-9);
    assert_true (fabs (s_real (r, "mean_score") - 10.0) < 1e-9);
    //  Seconds covered: from the first window counted (cur - 1 min) to now = 90 s.
    assert_true (fabs (s_real (r, "tx_per_s") - 2.22) < 1e-9);
    json_decref (r);
    //  Nothing in the period: rates are null, not zero.
    gw_state_t *empty = gw_state_new (0.10, "JPY");
    r = gw_state_realtime (empty, NOW, 5);
    assert_true (json_is_null (json_object_get (r, "approval_rate")));
    assert_true (json_is_null (json_object_get (r, "mean_score")));
    assert_int_equal (json_integer_value (json_object_get (r, "currency_exponent")), 0);
    json_decref (r);
    gw_state_destroy (&empty);
    gw_state_destroy (&s);
}

static void
test_top_branches_regions (void **state)
{
    (void) state;
    gw_state_t *s = gw_state_new (0.10, "EUR");
    int64_t cur = NOW - NOW % MIN;
    //  m-1: 30 now, 20 in the previous hour; m-2: 50 now, none before.
    s_add (s, s_row ("merchant", "m-1", cur, 0, 30, 3000, 27, 3, 0, 1, 0, false));
    s_add (s, s_row ("merchant", "m-1", cur - 70 * MIN, 0, 20, 2000, 20, 0, 0, 0, 0, true));
    s_add (s, s_row ("merchant", "m-2", cur - 10 * MIN, 1, 50, 100, 50, 0, 0, 0, 0, true));
    json_t *top = gw_state_top (s, "merchant", NOW);
    assert_int_equal (json_array_size (top), 2);
    json_t *first = json_array_get (top, 0), *second = json_array_get (top, 1);
    assert_string_equal (json_string_value (json_object_get (first, "key")), "m-2");
    assert_true (json_is_null (json_object_get (first, "change")));
    assert_string_equal (json_string_value (json_object_get (second, "key")), "m-1");
    assert_int_equal (json_integer_value (json_object_get (second, "previous_count")), 20);
    assert_true (fabs (s_real (second, "change") - 0.5) < 1e-9);
    assert_true (fabs (s_real (second, "approval_rate") - 0.9) < 1e-9);
    json_decref (top);

    s_add (s, s_row ("branch", "b-1", cur, 0, 10, 100, 9, 1, 0, 1, 0, false));
    s_add (s, s_row ("branch", "b-2", cur, 0, 5, 900, 5, 0, 0, 0, 0, false));
    json_t *branches = gw_state_branches (s, NOW);
    assert_int_equal (json_array_size (branches), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (branches, 0),
                                                             "branch_id")), "b-2");
    assert_true (fabs (s_real (json_array_get (branches, 1), "flagged_rate") - 0.1) < 1e-9);
    json_decref (branches);

    //  The health rule of common/summary.h (above 10% with 95% confidence):
    //  R1 at 30% of 200 declined or failed is unhealthy; R2 at 12% of 50 is
    //  not evidence enough (the lower Wilson bound is about 5.6%).
    s_add (s, s_row ("region", "R1", cur, 0, 200, 100, 140, 30, 30, 0, 0, false));
    s_add (s, s_row ("region", "R2", cur, 0, 50, 100, 44, 3, 3, 0, 0, false));
    //  R3 is fine by its counts but has a region health alert raised in the hour.
    s_add (s, s_row ("region", "R3", cur, 0, 50, 100, 50, 0, 0, 0, 0, false));
    json_t *alert = json_pack ("{s:s,s:s}", "kind", "region_health", "region", "R3");
    assert_true (gw_state_alert (s, alert, "region_health:R3:1", "region_health", "R3",
                                 NOW - 5 * MIN, true));
    assert_false (gw_state_alert (s, alert, "region_health:R3:1", "region_health", "R3",
                                  NOW - 5 * MIN, true));      //  second shard: same key
    json_decref (alert);
    json_t *regions = gw_state_regions (s, NOW);
    assert_int_equal (json_array_size (regions), 3);
    assert_false (json_is_true (json_object_get (json_array_get (regions, 0), "healthy")));
    assert_true (json_is_true (json_object_get (json_array_get (regions, 1), "healthy")));
    json_t *r3 = json_array_get (regions, 2);
    assert_false (json_is_true (json_object_get (r3, "healthy")));
    assert_int_equal (json_array_size (json_object_get (r3, "alerts")), 1);
    assert_true (fabs (s_real (json_array_get (regions, 0), "success_rate") - 0.7) < 1e-9);
    json_decref (regions);
    gw_state_destroy (&s);
}

static void
test_snapshot_and_stats_series (void **state)
{
    (void) state;
    gw_state_t *s = gw_state_new (0.10, "EUR");
    int64_t cur = NOW - NOW % MIN;
    s_add (s, s_row ("overall", "all", cur - MIN, 0, 10, 10, 10, 0, 0, 0, 0, true));
    s_add (s, s_row ("overall", "all", cur, 0, 10, 10, 10, 0, 0, 0, 0, false));
    for (int i = 0; i < 60; i++) {
        char key [32];
        snprintf (key, sizeof key, "fraud:t%d", i);
        json_t *a = json_pack ("{s:s}", "key", key);
        gw_state_alert (s, a, key, "fraud", "R1", NOW, true);
        json_decref (a);
    }
    json_t *snap = gw_state_snapshot (s, NOW);
    json_t *alerts = json_object_get (snap, "alerts");
    assert_int_equal (json_array_size (alerts), GW_ALERTS_KEPT);
    //  Newest first.
    assert_string_equal (json_string_value (json_object_get (json_array_get (alerts, 0), "key")),
                         "fraud:t59");
    assert_int_equal (json_array_size (json_object_get (snap, "series")), 2);
    json_decref (snap);
    //  The first stats body has both windows (changed), the next none, then
    //  only the window that changed again.
    json_t *st = gw_state_stats (s, NOW);
    assert_null (json_object_get (st, "alerts"));
    assert_int_equal (json_array_size (json_object_get (st, "series")), 2);
    json_decref (st);
    st = gw_state_stats (s, NOW);
    assert_int_equal (json_array_size (json_object_get (st, "series")), 0);
    json_decref (st);
    s_add (s, s_row ("overall", "all", cur, 1, 5, 5, 5, 0, 0, 0, 0, false));
    st = gw_state_stats (s, NOW);
    assert_int_equal (json_array_size (json_object_get (st, "series")), 1);
    assert_int_equal (json_integer_value (json_object_get (
        json_array_get (json_object_get (st, "series"), 0), "count")), 15);
    json_decref (st);
    //  Pruning forgets windows past two hours and a window, and empty series.
    s_add (s, s_row ("merchant", "m-9", cur, 0, 1, 1, 1, 0, 0, 0, 0, false));
    gw_state_prune (s, NOW + 200 * MIN);
    assert_int_equal (gw_state_windows (s), 0);
    gw_state_destroy (&s);
}

//  --- Queue -------------------------------------------------------------------

static uint64_t
s_pop_seq (gw_queue_t *q, int *type)
{
    gw_item_t item;
    assert_true (gw_queue_pop (q, &item));
    *type = item.msg->type;
    uint64_t seq = item.seq;
    gw_msg_unref (&item.msg);
    return seq;
}

static void
test_queue_drops_stats_then_gap (void **state)
{
    (void) state;
    gw_queue_t q;
    assert_int_equal (gw_queue_init (&q, 3), 0);
    gw_msg_t *stats = gw_msg_new (GW_STATS, NULL);
    gw_msg_t *window = gw_msg_new (GW_WINDOW, NULL);
    bool gap;
    assert_int_equal (gw_queue_push (&q, stats, &gap), GW_QUEUED);     //  seq 1
    assert_int_equal (gw_queue_push (&q, stats, &gap), GW_QUEUED);     //  seq 2
    assert_int_equal (gw_queue_push (&q, window, &gap), GW_QUEUED);    //  seq 3
    assert_int_equal (gw_queue_push (&q, stats, &gap), GW_DROPPED);    //  seq 4
    assert_int_equal (gw_queue_push (&q, window, &gap), GW_DROPPED);   //  seq 5
    int type;
    assert_int_equal (s_pop_seq (&q, &type), 1);
    //  Room for one: the gap (dropped 2) takes it, and the stats message is
    //  dropped in turn (seq 7), to be reported by the next gap.
    assert_int_equal (gw_queue_push (&q, stats, &gap), GW_DROPPED);
    assert_true (gap);
    assert_int_equal (s_pop_seq (&q, &type), 2);
    assert_int_equal (s_pop_seq (&q, &type), 3);
    gw_item_t item;
    assert_true (gw_queue_pop (&q, &item));
    assert_int_equal (item.seq, 6);
    assert_int_equal (item.msg->type, GW_GAP);
    assert_non_null (strstr (item.msg->tail, "\"dropped\":2,\"reason\":\"slow_client\""));
    gw_msg_unref (&item.msg);
    //  Room again: the next gap (dropped 1) then the message itself.
    assert_int_equal (gw_queue_push (&q, stats, &gap), GW_QUEUED);
    assert_true (gap);
    assert_true (gw_queue_pop (&q, &item));
    assert_int_equal (item.seq, 8);
    assert_non_null (strstr (item.msg->tail, "\"dropped\":1"));
    gw_msg_unref (&item.msg);
    assert_int_equal (s_pop_seq (&q, &type), 9);
    assert_int_equal (type, GW_STATS);
    assert_int_equal (q.dropped, 0);
    assert_int_equal (q.count, 0);
    //  Dropped, then nothing more comes: once the client has taken the
    //  queue, the gap comes by itself.
    for (int i = 0; i < 3; i++)
        assert_int_equal (gw_queue_push (&q, window, &gap), GW_QUEUED);   //  seq 10-12
    assert_int_equal (gw_queue_push (&q, window, &gap), GW_DROPPED);      //  seq 13
    for (int seq = 10; seq <= 12; seq++)
        assert_int_equal (s_pop_seq (&q, &type), seq);
    assert_true (gw_queue_pop (&q, &item));
    assert_int_equal (item.seq, 14);
    assert_int_equal (item.msg->type, GW_GAP);
    assert_non_null (strstr (item.msg->tail, "\"dropped\":1,"));
    gw_msg_unref (&item.msg);
    assert_false (gw_queue_pop (&q, &item));
    gw_msg_unref (&stats);
    gw_msg_unref (&window);
    gw_queue_fini (&q);
}

static void
test_queue_never_drops_alerts (void **state)
{
    (void) state;
    gw_queue_t q;
    assert_int_equal (gw_queue_init (&q, 2), 0);
    json_t *body = json_pack ("{s:{s:s}}", "alert", "key", "fraud:t1");
    gw_msg_t *alert = gw_msg_new (GW_ALERT, body);
    gw_msg_t *dead = gw_msg_new (GW_DEAD_LETTER, body);
    json_decref (body);
    assert_int_equal (gw_queue_push (&q, alert, NULL), GW_QUEUED);
    assert_int_equal (gw_queue_push (&q, alert, NULL), GW_QUEUED);
    assert_int_equal (gw_queue_push (&q, alert, NULL), GW_OVERFLOW);
    assert_int_equal (gw_queue_push (&q, dead, NULL), GW_OVERFLOW);
    assert_int_equal (q.count, 2);
    //  The frame puts the client's seq in front of the shared tail.
    char *buf = NULL;
    size_t cap = 0;
    size_t len = gw_msg_frame (alert, 42, &buf, &cap);
    assert_string_equal (buf, "{\"type\":\"alert\",\"seq\":42,\"alert\":{\"key\":\"fraud:t1\"}}");
    assert_int_equal (len, strlen (buf));
    gw_msg_t *pong = gw_msg_new (GW_PONG, NULL);
    gw_msg_frame (pong, 7, &buf, &cap);
    assert_string_equal (buf, "{\"type\":\"pong\",\"seq\":7}");
    free (buf);
    gw_msg_unref (&pong);
    gw_msg_unref (&alert);
    gw_msg_unref (&dead);
    gw_queue_fini (&q);
}

static void
test_topics (void **state)
{
    (void) state;
    assert_int_equal (gw_topics_parse_list ("alerts,stats"), GW_TOPIC_ALERTS | GW_TOPIC_STATS);
    assert_int_equal (gw_topics_parse_list ("windows,,dead_letters"),
                      GW_TOPIC_WINDOWS | GW_TOPIC_DEAD_LETTERS);
    assert_int_equal (gw_topics_parse_list ("alerts,bogus"), -1);
    assert_int_equal (gw_topics_parse_list (""), 0);
    assert_int_equal (gw_type_topic (GW_GAP), 0);
    assert_int_equal (gw_type_topic (GW_WINDOW), GW_TOPIC_WINDOWS);
}

static void
test_alert_json (void **state)
{
    (void) state;
    txw_alert_t a;
    memset (&a, 0, sizeof a);
    strcpy (a.kind, "region_health");
    strcpy (a.region, "R1");
    a.ts_ms = 1700000040000;
    a.raised_ms = 1700000100123;
    a.score = 25;
    strcpy (a.message, "bad \xff byte");
    char key [128];
    txw_alert_key (&a, key, sizeof key);
    assert_string_equal (key, "region_health:R1:1700000040000");
    json_t *o = txw_alert_json (&a);
    assert_true (json_is_null (json_object_get (o, "id")));
    assert_true (json_is_null (json_object_get (o, "tx_id")));
    assert_true (json_is_null (json_object_get (o, "amount_minor")));
    assert_string_equal (json_string_value (json_object_get (o, "status")), "open");
    assert_string_equal (json_string_value (json_object_get (o, "raised_at")),
                         "2023-11-14T22:15:00.123Z");
    assert_string_equal (json_string_value (json_object_get (o, "message")), "bad \xEF\xBF\xBD byte");   //  U+FFFD
    json_decref (o);
}

static void
test_origins (void **state)
{
    (void) state;
    gw_origins_t o;
    assert_int_equal (gw_origins_parse (&o, "http://localhost:8081, https://Dash.Example/"), 0);
    assert_int_equal (o.count, 2);
    //  No Origin: a program, not a page.
    assert_true (gw_origin_allowed (&o, NULL, "gw:8081"));
    //  The gateway's own origin: Origin's host:port is the Host header.
    assert_true (gw_origin_allowed (&o, "http://gw.internal:8081", "gw.internal:8081"));
    assert_true (gw_origin_allowed (&o, "https://GW.internal", "gw.internal"));
    assert_true (gw_origin_allowed (&o, "http://[::1]:8081", "[::1]:8081"));
    assert_false (gw_origin_allowed (&o, "http://gw.internal:8082", "gw.internal:8081"));
    assert_false (gw_origin_allowed (&o, "http://gw.internal", "gw.internal:8081"));
    assert_false (gw_origin_allowed (&o, "http://evil.example", "gw.internal:8081"));
    //  Listed ones, exactly (case aside).
    assert_true (gw_origin_allowed (&o, "http://localhost:8081", "gw:1"));
    assert_true (gw_origin_allowed (&o, "https://dash.example", "gw:1"));
    assert_false (gw_origin_allowed (&o, "http://dash.example", "gw:1"));
    assert_false (gw_origin_allowed (&o, "http://localhost:80811", "gw:1"));
    assert_false (gw_origin_allowed (&o, "http://localhost", "gw:1"));
    //  Not origins at all, or a Host that cannot be compared.
    assert_false (gw_origin_allowed (&o, "null", "gw:1"));
    assert_false (gw_origin_allowed (&o, "", "gw:1"));
    assert_false (gw_origin_allowed (&o, "file://", "gw:1"));
    assert_false (gw_origin_allowed (&o, "http://gw:1/x", "gw:1"));
    assert_false (gw_origin_allowed (&o, "http://a b", "a b"));
    assert_false (gw_origin_allowed (&o, "http://gw:1", NULL));
    gw_origins_fini (&o);
    //  An empty list: only the own origin.
    assert_int_equal (gw_origins_parse (&o, ""), 0);
    assert_true (gw_origin_allowed (&o, "http://h:1", "h:1"));
    assert_false (gw_origin_allowed (&o, "http://localhost:8081", "h:1"));
    gw_origins_fini (&o);
    assert_int_equal (gw_origins_parse (&o, "*"), -1);
    assert_int_equal (gw_origins_parse (&o, "null"), -1);
    assert_int_equal (gw_origins_parse (&o, "http://h:1/path"), -1);
    assert_int_equal (gw_origins_parse (&o, "ws://h:1"), -1);
    assert_int_equal (gw_origins_parse (&o, "localhost:8081"), -1);
}

static void
test_host_and_api_url (void **state)
{
    (void) state;
    assert_true (gw_host_valid ("dash.example:8081"));
    assert_true (gw_host_valid ("[::1]:8081"));
    assert_false (gw_host_valid (NULL));
    assert_false (gw_host_valid (""));
    assert_false (gw_host_valid ("x; script-src *"));
    assert_false (gw_host_valid ("x\r\nSet-Cookie: a"));
    assert_false (gw_host_valid ("a'b"));
    assert_int_equal (gw_api_url_check (""), 0);
    assert_int_equal (gw_api_url_check (":8080"), 0);
    assert_int_equal (gw_api_url_check ("https://api.example/base"), 0);
    assert_int_equal (gw_api_url_check (":0"), -1);
    assert_int_equal (gw_api_url_check (":x"), -1);
    assert_int_equal (gw_api_url_check ("ftp://api"), -1);
    assert_int_equal (gw_api_url_check ("https://api.example/a b"), -1);
    char buf [256];
    assert_string_equal (gw_api_url_resolve (":18080", "dash.example:8081", buf, sizeof buf),
                         "http://dash.example:18080");
    assert_string_equal (gw_api_url_resolve (":18080", "[::1]:8081", buf, sizeof buf),
                         "http://[::1]:18080");
    assert_string_equal (gw_api_url_resolve (":18080", "bad host", buf, sizeof buf), ":18080");
    assert_string_equal (gw_api_url_resolve ("", "h:1", buf, sizeof buf), "");
}

static void
test_csp (void **state)
{
    (void) state;
    char csp [2048];
    gw_csp_document (":18080", "dash.example:8081", csp, sizeof csp);
    assert_non_null (strstr (csp, "default-src 'none'; script-src 'self'; style-src 'self';"));
    assert_non_null (strstr (csp, "connect-src 'self' ws://dash.example:8081 wss://dash.example:8081 "
                                  "http://dash.example:18080;"));
    assert_non_null (strstr (csp, "frame-ancestors 'none'"));
    assert_null (strstr (csp, "unsafe"));
    gw_csp_document ("https://api.example/base/", "gw:1", csp, sizeof csp);
    assert_non_null (strstr (csp, "connect-src 'self' ws://gw:1 wss://gw:1 https://api.example;"));
    gw_csp_document ("", "gw:1", csp, sizeof csp);
    assert_non_null (strstr (csp, "connect-src 'self' ws://gw:1 wss://gw:1;"));
    //  A Host that is not a plain host[:port] is never copied in.
    gw_csp_document (":18080", "x; script-src *", csp, sizeof csp);
    assert_non_null (strstr (csp, "connect-src 'self';"));
    assert_null (strstr (csp, "script-src *"));
    gw_csp_document (":18080", NULL, csp, sizeof csp);
    assert_non_null (strstr (csp, "connect-src 'self';"));
}

static void
s_write_file (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void
test_files (void **state)
{
    (void) state;
    char root [] = "/tmp/test_gateway_files.XXXXXX";
    assert_non_null (mkdtemp (root));
    char path [512], outside [512];
    snprintf (path, sizeof path, "%s/index.html", root);
    s_write_file (path, "<!doctype html><title>t</title>");
    snprintf (path, sizeof path, "%s/main.js", root);
    s_write_file (path, "export {};");
    snprintf (path, sizeof path, "%s/.hidden", root);
    s_write_file (path, "secret");
    snprintf (path, sizeof path, "%s/sub", root);
    assert_int_equal (mkdir (path, 0700), 0);
    snprintf (path, sizeof path, "%s/sub/inner.css", root);
    s_write_file (path, "a{}");
    snprintf (outside, sizeof outside, "%s.outside", root);
    s_write_file (outside, "outside");
    snprintf (path, sizeof path, "%s/escape.txt", root);
    assert_int_equal (symlink (outside, path), 0);
    snprintf (path, sizeof path, "%s/linked.css", root);
    assert_int_equal (symlink ("sub/inner.css", path), 0);
    snprintf (path, sizeof path, "%s/dirlink", root);
    assert_int_equal (symlink ("sub", path), 0);

    gw_files_t *files = gw_files_load (root);
    assert_non_null (files);
    //  index.html, main.js, linked.css: not the hidden file, the folder,
    //  the link out of the root or the link to a folder.
    assert_int_equal (gw_files_count (files), 3);
    const gw_file_t *f = gw_files_find (files, "/");
    assert_non_null (f);
    assert_string_equal (f->name, "index.html");
    assert_string_equal (f->type, "text/html; charset=utf-8");
    assert_int_equal (f->size, strlen ("<!doctype html><title>t</title>"));
    assert_ptr_equal (gw_files_find (files, "/index.html"), f);
    f = gw_files_find (files, "/main.js");
    assert_non_null (f);
    assert_string_equal (f->type, "text/javascript; charset=utf-8");
    assert_memory_equal (f->data, "export {};", f->size);
    f = gw_files_find (files, "/linked.css");
    assert_non_null (f);
    assert_memory_equal (f->data, "a{}", 3);
    const char *missing [] = {
        "", "main.js", "//main.js", "/./main.js", "/main.js/", "/main%2ejs", "/.hidden",
        "/sub", "/sub/", "/sub/inner.css", "/escape.txt", "/dirlink", "/dirlink/inner.css",
        "/../index.html", "/index.html/..", "/MAIN.JS", NULL
    };
    assert_null (gw_files_find (files, NULL));
    for (int i = 0; missing [i]; i++)
        assert_null (gw_files_find (files, missing [i]));
    gw_files_destroy (&files);
    assert_null (files);

    //  A root that is not a folder serves nothing.
    files = gw_files_load (outside);
    assert_non_null (files);
    assert_int_equal (gw_files_count (files), 0);
    assert_null (gw_files_find (files, "/"));
    gw_files_destroy (&files);

    assert_string_equal (gw_content_type ("a.map"), "application/json");
    assert_string_equal (gw_content_type ("a.SVG"), "image/svg+xml");
    assert_string_equal (gw_content_type ("README"), "application/octet-stream");
    char cmd [1200];
    snprintf (cmd, sizeof cmd, "rm -rf '%s' '%s'", root, outside);
    assert_int_equal (system (cmd), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_windows_sum_over_shards),
        cmocka_unit_test (test_seed_row_replaced_by_live_rows),
        cmocka_unit_test (test_realtime_stats),
        cmocka_unit_test (test_top_branches_regions),
        cmocka_unit_test (test_snapshot_and_stats_series),
        cmocka_unit_test (test_queue_drops_stats_then_gap),
        cmocka_unit_test (test_queue_never_drops_alerts),
        cmocka_unit_test (test_topics),
        cmocka_unit_test (test_alert_json),
        cmocka_unit_test (test_origins),
        cmocka_unit_test (test_host_and_api_url),
        cmocka_unit_test (test_csp),
        cmocka_unit_test (test_files),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
