/*  test_transport - endpoints that follow DNS, and CURVE on the transport

    The resolver is replaced by a table this test changes, so that one name
    stands for 127.0.0.1, then 127.0.0.1 and 127.0.0.2, then 127.0.0.2
    (both are loopback on Linux): real PULL sockets bound on each address
    show where a real PUSH delivers. getaddrinfo itself is checked on
    localhost. CURVE runs with real certificates written to a temporary
    directory: the right keys deliver; a client whose key is not allowed,
    or that has the wrong server key, gets nothing through, and the server's
    monitor shows the authentication failure.                                */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "metrics.h"
#include "transport.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int s_mode;       //  what the fake resolver answers for "pool"
static int s_port;

static int
s_fake_resolve (const char *host, char (*addrs) [TXW_ADDR_MAX], int max)
{
    (void) max;
    if (strcmp (host, "pool") != 0)
        return txw_resolve (host, addrs, max);
    switch (atomic_load (&s_mode)) {
        case 1: strcpy (addrs [0], "127.0.0.1"); return 1;
        case 2: strcpy (addrs [0], "127.0.0.1"); strcpy (addrs [1], "127.0.0.2"); return 2;
        case 3: strcpy (addrs [0], "127.0.0.2"); return 1;
        default: return -1;
    }
}

//  Sends n envelopes of one heartbeat each.
static void
s_send (txw_out_t *out, int n)
{
    for (int i = 0; i < n; i++) {
        txw_batch_t *batch = txw_out_batch (out, TXW_MSG_HEARTBEAT);
        txw_heartbeat_t hb = { .watermark_ms = i, .sent_ms = i };
        txw_heartbeat_encode (&batch->pk, &hb);
        assert_int_equal (txw_out_added (out, batch), 0);
        assert_int_equal (txw_out_flush (out, true), 0);
    }
}

//  Counts what in receives until it has been quiet for quiet_ms.
static int
s_drain (txw_in_t *in, int quiet_ms)
{
    int count = 0;
    zmq_msg_t msg;
    txw_envelope_t env;
    while (txw_in_recv (in, quiet_ms, &msg, &env) == 1) {
        zmq_msg_close (&msg);
        count++;
    }
    return count;
}

static void
s_configure (int64_t resolve_ms, const char *secret, const char *server, const char *allowed)
{
    txw_transport_config_t cfg = {
        .resolve_ms = resolve_ms, .curve_secret_key = secret,
        .curve_server_key = server, .curve_allowed = allowed
    };
    assert_int_equal (txw_transport_configure (&cfg), 0);
}

//  --- Pure pieces -----------------------------------------------------------

static void
test_addr_diff_and_pick (void **state)
{
    (void) state;
    const char *current [] = { "10.0.0.1", "10.0.0.2", "10.0.0.3" };
    const char *next [] = { "10.0.0.2", "10.0.0.4", "10.0.0.3", "10.0.0.5" };
    int add [8], drop [8], adds, drops;
    txw_addr_diff (current, 3, next, 4, add, &adds, drop, &drops);
    assert_int_equal (adds, 2);
    assert_string_equal (next [add [0]], "10.0.0.4");
    assert_string_equal (next [add [1]], "10.0.0.5");
    assert_int_equal (drops, 1);
    assert_string_equal (current [drop [0]], "10.0.0.1");
    txw_addr_diff (current, 3, current, 3, add, &adds, drop, &drops);
    assert_int_equal (adds + drops, 0);
    txw_addr_diff (NULL, 0, next, 2, add, &adds, drop, &drops);
    assert_int_equal (adds, 2);
    assert_int_equal (drops, 0);

    assert_int_equal (txw_addr_pick ("10.0.0.3", next, 4), 2);
    assert_int_equal (txw_addr_pick ("10.0.0.1", next, 4), 0);
    assert_int_equal (txw_addr_pick (NULL, next, 4), 0);
    assert_int_equal (txw_addr_pick ("10.0.0.3", next, 0), -1);
}

static void
test_getaddrinfo (void **state)
{
    (void) state;
    char addrs [TXW_ADDRS_MAX][TXW_ADDR_MAX];
    int count = txw_resolve ("localhost", addrs, TXW_ADDRS_MAX);
    assert_true (count >= 1);
    bool loopback = false;
    for (int i = 0; i < count; i++)
        loopback |= strcmp (addrs [i], "127.0.0.1") == 0;
    assert_true (loopback);
    assert_int_equal (txw_resolve ("no-such-host.invalid", addrs, TXW_ADDRS_MAX), -1);
}

//  --- Following names --------------------------------------------------------

static void
test_push_follows_the_name (void **state)
{
    (void) state;
    s_configure (100, NULL, NULL, NULL);
    txw_transport_set_resolver (s_fake_resolve);
    char a_ep [64], b_ep [64], name_ep [64];
    snprintf (a_ep, sizeof a_ep, "tcp://127.0.0.1:%d", s_port);
    snprintf (b_ep, sizeof b_ep, "tcp://127.0.0.2:%d", s_port);
    snprintf (name_ep, sizeof name_ep, "tcp://pool:%d", s_port);
    txw_in_t *a = txw_in_new_pull (a_ep, 100);
    txw_in_t *b = txw_in_new_pull (b_ep, 100);
    assert_non_null (a);
    assert_non_null (b);

    atomic_store (&s_mode, 1);
    txw_out_t *out = txw_out_new (TXW_OUT_PUSH, name_ep, "test", 100, 1);
    assert_non_null (out);
    s_send (out, 20);
    assert_int_equal (s_drain (a, 300), 20);
    assert_int_equal (s_drain (b, 50), 0);

    //  The name grows to two addresses: both get work.
    atomic_store (&s_mode, 2);
    usleep (400 * 1000);
    s_send (out, 40);
    int got_a = s_drain (a, 300), got_b = s_drain (b, 300);
    assert_int_equal (got_a + got_b, 40);
    assert_true (got_a > 0 && got_b > 0);

    //  Resolution fails: the known addresses stay connected.
    atomic_store (&s_mode, 0);
    usleep (400 * 1000);
    s_send (out, 20);
    got_a = s_drain (a, 300);
    got_b = s_drain (b, 300);
    assert_int_equal (got_a + got_b, 20);
    assert_true (got_a > 0 && got_b > 0);

    //  127.0.0.1 vanishes: it gets nothing more.
    atomic_store (&s_mode, 3);
    usleep (400 * 1000);
    s_send (out, 20);
    assert_int_equal (s_drain (b, 300), 20);
    assert_int_equal (s_drain (a, 100), 0);
    txw_out_destroy (&out);

    //  A keyed shard never expands and moves only when its address goes.
    atomic_store (&s_mode, 2);
    txw_router_t *router = txw_router_new (name_ep, "test", 100, 1);
    assert_non_null (router);
    assert_int_equal (txw_router_shards (router), 1);
    s_send (txw_router_shard (router, 0), 20);
    assert_int_equal (s_drain (a, 300), 20);
    assert_int_equal (s_drain (b, 100), 0);
    atomic_store (&s_mode, 3);
    usleep (400 * 1000);
    s_send (txw_router_shard (router, 0), 20);
    assert_int_equal (s_drain (b, 300), 20);
    assert_int_equal (s_drain (a, 100), 0);
    atomic_store (&s_mode, 2);
    usleep (400 * 1000);
    s_send (txw_router_shard (router, 0), 20);
    assert_int_equal (s_drain (b, 300), 20);
    assert_int_equal (s_drain (a, 100), 0);
    txw_router_destroy (&router);

    //  --resolve-s 0: the name goes to libzmq as given, unexpanded.
    txw_transport_set_resolver (NULL);
    s_configure (0, NULL, NULL, NULL);
    snprintf (name_ep, sizeof name_ep, "tcp://localhost:%d", s_port);
    out = txw_out_new (TXW_OUT_PUSH, name_ep, "test", 100, 1);
    assert_non_null (out);
    s_send (out, 5);
    assert_int_equal (s_drain (a, 500), 5);
    txw_out_destroy (&out);

    txw_in_destroy (&a);
    txw_in_destroy (&b);
    txw_transport_shutdown ();
    txw_metrics_reset ();
}

static void
test_sub_follows_the_name (void **state)
{
    (void) state;
    s_configure (100, NULL, NULL, NULL);
    txw_transport_set_resolver (s_fake_resolve);
    char a_ep [64], b_ep [64], name_ep [64];
    snprintf (a_ep, sizeof a_ep, "tcp://127.0.0.1:%d", s_port + 1);
    snprintf (b_ep, sizeof b_ep, "tcp://127.0.0.2:%d", s_port + 1);
    snprintf (name_ep, sizeof name_ep, "tcp://pool:%d", s_port + 1);
    txw_out_t *pub_a = txw_out_new (TXW_OUT_PUB, a_ep, "a", 100, 1);
    txw_out_t *pub_b = txw_out_new (TXW_OUT_PUB, b_ep, "b", 100, 1);
    assert_non_null (pub_a);
    assert_non_null (pub_b);
    atomic_store (&s_mode, 1);
    txw_in_t *sub = txw_in_new_sub (name_ep, TXW_MSG_ALL);
    assert_non_null (sub);
    atomic_store (&s_mode, 2);
    usleep (400 * 1000);
    txw_in_refresh (sub);
    //  Subscriptions travel after the connection: publish until both arrive.
    bool from_a = false, from_b = false;
    for (int i = 0; i < 60 && !(from_a && from_b); i++) {
        s_send (pub_a, 1);
        s_send (pub_b, 1);
        zmq_msg_t msg;
        txw_envelope_t env;
        while (txw_in_recv (sub, 50, &msg, &env) == 1) {
            from_a |= env.source_id.len == 1 && env.source_id.ptr [0] == 'a';
            from_b |= env.source_id.len == 1 && env.source_id.ptr [0] == 'b';
            zmq_msg_close (&msg);
        }
    }
    assert_true (from_a);
    assert_true (from_b);
    txw_in_destroy (&sub);
    txw_out_destroy (&pub_a);
    txw_out_destroy (&pub_b);
    txw_transport_set_resolver (NULL);
    txw_transport_shutdown ();
    txw_metrics_reset ();
}

//  --- CURVE --------------------------------------------------------------------

static char s_dir [64];

static void
s_cert (const char *name, const char *subdir)
{
    zcert_t *cert = zcert_new ();
    char path [160];
    snprintf (path, sizeof path, "%s/%s/%s.key", s_dir, subdir, name);
    assert_int_equal (zcert_save (cert, path), 0);
    zcert_destroy (&cert);
}

static char *
s_path (const char *name)
{
    static char paths [4][160];
    static int next;
    char *path = paths [next++ % 4];
    snprintf (path, 160, "%s/%s", s_dir, name);
    return path;
}

//  A CURVE client made by hand with a certificate of its own.
static zsock_t *
s_raw_client (int type, const char *cert_file, const char *server_file, const char *endpoint)
{
    zsock_t *sock = zsock_new (type);
    if (cert_file) {
        zcert_t *cert = zcert_load (cert_file);
        zcert_t *server = zcert_load (server_file);
        assert_non_null (cert);
        assert_non_null (server);
        zcert_apply (cert, sock);
        zsock_set_curve_serverkey (sock, zcert_public_txt (server));
        zcert_destroy (&cert);
        zcert_destroy (&server);
    }
    if (type == ZMQ_SUB)
        zsock_set_subscribe (sock, "");
    assert_int_equal (zsock_connect (sock, "%s", endpoint), 0);
    return sock;
}

//  Waits for a handshake event on a monitor; returns the event or 0.
static int
s_handshake_event (zsock_t *monitor, int timeout_ms)
{
    zsock_set_rcvtimeo (monitor, timeout_ms);
    zmsg_t *msg = zmsg_recv (monitor);
    if (!msg)
        return 0;
    zframe_t *frame = zmsg_first (msg);
    uint16_t event = 0;
    if (zframe_size (frame) >= 2)
        memcpy (&event, zframe_data (frame), 2);
    zmsg_destroy (&msg);
    return event;
}

static void
test_curve (void **state)
{
    (void) state;
    snprintf (s_dir, sizeof s_dir, "/tmp/txw-curve-XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    char sub [128];
    snprintf (sub, sizeof sub, "%s/allowed", s_dir);
    assert_int_equal (mkdir (sub, 0700), 0);
    snprintf (sub, sizeof sub, "%s/keys", s_dir);
    assert_int_equal (mkdir (sub, 0700), 0);
    s_cert ("server", "keys");
    s_cert ("rogue", "keys");
    s_cert ("other", "keys");
    //  Only the server's public certificate is allowed.
    char cmd [300];
    snprintf (cmd, sizeof cmd, "cp %s/keys/server.key %s/allowed/", s_dir, s_dir);
    assert_int_equal (system (cmd), 0);

    //  Bad configurations are refused.
    txw_transport_config_t bad = { .resolve_ms = 0, .curve_secret_key = s_path ("keys/none") };
    assert_int_equal (txw_transport_configure (&bad), -1);
    //  A public certificate has no secret key to serve with.
    bad.curve_secret_key = s_path ("allowed/server.key");
    assert_int_equal (txw_transport_configure (&bad), -1);
    bad = (txw_transport_config_t) { .curve_server_key = s_path ("keys/server.key") };
    assert_int_equal (txw_transport_configure (&bad), -1);
    bad = (txw_transport_config_t) { .curve_secret_key = s_path ("keys/server.key_secret"),
                                     .curve_allowed = s_path ("no-such-dir") };
    assert_int_equal (txw_transport_configure (&bad), -1);
    txw_transport_shutdown ();

    s_configure (0, s_path ("keys/server.key_secret"), s_path ("keys/server.key"),
                 s_path ("allowed"));
    char ep [64], pub_ep [64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", s_port + 2);
    snprintf (pub_ep, sizeof pub_ep, "tcp://127.0.0.1:%d", s_port + 3);
    txw_in_t *pull = txw_in_new_pull (ep, 100);
    assert_non_null (pull);
    zsock_t *pull_sock = txw_in_socket (pull);
    assert_int_equal (zmq_socket_monitor (zsock_resolve (pull_sock), "inproc://test-monitor",
                      ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                      | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                      | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL), 0);
    zsock_t *monitor = zsock_new_pair (">inproc://test-monitor");
    assert_non_null (monitor);

    //  The right keys: the transport's own PUSH delivers.
    txw_out_t *push = txw_out_new (TXW_OUT_PUSH, ep, "good", 100, 1);
    assert_non_null (push);
    s_send (push, 10);
    assert_int_equal (s_drain (pull, 500), 10);
    assert_int_equal (s_handshake_event (monitor, 1000), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    txw_out_destroy (&push);

    //  A client key that is not allowed: the server refuses it.
    zsock_t *rogue = s_raw_client (ZMQ_PUSH, s_path ("keys/rogue.key_secret"),
                                   s_path ("keys/server.key"), ep);
    zsock_set_sndtimeo (rogue, 0);
    zstr_send (rogue, "injected");
    assert_int_equal (s_handshake_event (monitor, 2000), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert_int_equal (s_drain (pull, 300), 0);
    zsock_destroy (&rogue);

    //  An allowed key but the wrong server key: the handshake fails.
    zsock_t *confused = s_raw_client (ZMQ_PUSH, s_path ("keys/server.key_secret"),
                                      s_path ("keys/other.key"), ep);
    zsock_set_sndtimeo (confused, 0);
    zstr_send (confused, "lost");
    assert_int_equal (s_drain (pull, 500), 0);
    zsock_destroy (&confused);

    //  No CURVE at all: nothing gets through either.
    zsock_t *plain = s_raw_client (ZMQ_PUSH, NULL, NULL, ep);
    zsock_set_sndtimeo (plain, 0);
    zstr_send (plain, "plain");
    assert_int_equal (s_drain (pull, 500), 0);
    zsock_destroy (&plain);

    //  PUB: the allowed subscriber receives, the rogue one receives nothing.
    txw_out_t *pub = txw_out_new (TXW_OUT_PUB, pub_ep, "pub", 100, 1);
    assert_non_null (pub);
    txw_in_t *good = txw_in_new_sub (pub_ep, TXW_MSG_ALL);
    assert_non_null (good);
    zsock_t *rogue_sub = s_raw_client (ZMQ_SUB, s_path ("keys/rogue.key_secret"),
                                       s_path ("keys/server.key"), pub_ep);
    int good_got = 0, rogue_got = 0;
    for (int i = 0; i < 40; i++) {
        s_send (pub, 1);
        good_got += s_drain (good, 50);
        zmsg_t *msg = NULL;
        while ((msg = zmsg_recv_nowait (rogue_sub)) != NULL) {
            rogue_got++;
            zmsg_destroy (&msg);
        }
    }
    assert_true (good_got > 0);
    assert_int_equal (rogue_got, 0);
    zsock_destroy (&rogue_sub);
    txw_in_destroy (&good);
    txw_out_destroy (&pub);

    zsock_destroy (&monitor);
    txw_in_destroy (&pull);
    txw_transport_shutdown ();
    txw_metrics_reset ();
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    assert_int_equal (system (cmd), 0);
}

int
main (void)
{
    zsys_init ();
    //  A port range of our own for this run.
    s_port = 20000 + (int) (getpid () % 20000);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_addr_diff_and_pick),
        cmocka_unit_test (test_getaddrinfo),
        cmocka_unit_test (test_push_follows_the_name),
        cmocka_unit_test (test_sub_follows_the_name),
        cmocka_unit_test (test_curve),
    };
    return cmocka_run_group_tests_name ("transport", tests, NULL, NULL);
}
