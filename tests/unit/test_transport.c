/*  test_transport - endpoints that follow DNS, and CURVE on the transport

    The resolver is replaced by a table this test changes, so that one name
    stands for 127.0.0.1, then 127.0.0.1 and 127.0.0.2, then 127.0.0.2
    (both are loopback on Linux): real PULL sockets bound on each address
    show where a real PUSH delivers. getaddrinfo itself is checked on
    localhost. CURVE runs with real certificates written to a temporary
    directory, one per role: the peer role tables and ZAP domains are
    checked as pure functions, then real handshakes show the ZAP handler's
    decisions (a key of an admitted role delivers; a key of another role, a
    key that is not allowed, the wrong server key or no CURVE get nothing
    through, and the refusals are counted), and the messages of admitted
    keys are checked by role, source binding and revocation.             */

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
    txw_in_t *a = txw_in_new_pull (a_ep, 100, TXW_PEERS_ANY);
    txw_in_t *b = txw_in_new_pull (b_ep, 100, TXW_PEERS_ANY);
    assert_non_null (a);
    assert_non_null (b);
    //  Without CURVE there are no keys and nothing to bind.
    assert_int_equal (txw_in_bind (a, "test", 4, "0123456789012345678901234567890123456789"), -1);

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

//  --- CURVE: the tables ---------------------------------------------------------

static void
test_peer_tables (void **state)
{
    (void) state;
    assert_int_equal (txw_peer_parse ("scorer", 6), TXW_PEER_SCORER);
    assert_int_equal (txw_peer_parse ("scorers", 7), TXW_PEER_NONE);
    assert_int_equal (txw_peer_parse ("score", 5), TXW_PEER_NONE);
    assert_int_equal (txw_peer_parse ("", 0), TXW_PEER_NONE);
    for (int peer = TXW_PEER_NONE + 1; peer <= TXW_PEER_MAX; peer++) {
        const char *name = txw_peer_name (peer);
        assert_int_equal (txw_peer_parse (name, strlen (name)), peer);
    }
    assert_string_equal (txw_peer_name (TXW_PEER_NONE), "");
    assert_string_equal (txw_peer_name (TXW_PEER_MAX + 1), "");

    //  The file name is the role: <role>.key or <role>-<anything>.key.
    assert_int_equal (txw_peer_of_file ("producer.key"), TXW_PEER_PRODUCER);
    assert_int_equal (txw_peer_of_file ("producer-ingest.key"), TXW_PEER_PRODUCER);
    assert_int_equal (txw_peer_of_file ("scorer-0-a.key"), TXW_PEER_SCORER);
    assert_int_equal (txw_peer_of_file ("notifier.key"), TXW_PEER_NOTIFIER);
    assert_int_equal (txw_peer_of_file ("producers.key"), TXW_PEER_NONE);
    assert_int_equal (txw_peer_of_file ("scorer-.key"), TXW_PEER_NONE);
    assert_int_equal (txw_peer_of_file ("scorer.key_secret"), TXW_PEER_NONE);
    assert_int_equal (txw_peer_of_file ("scorer"), TXW_PEER_NONE);
    assert_int_equal (txw_peer_of_file (".scorer.key"), TXW_PEER_NONE);
    assert_int_equal (txw_peer_of_file ("..data"), TXW_PEER_NONE);
    assert_int_equal (txw_peer_of_file ("cluster.key"), TXW_PEER_NONE);
    assert_int_equal (txw_peer_of_file (".key"), TXW_PEER_NONE);
    assert_int_equal (txw_peer_of_file ("-scorer.key"), TXW_PEER_NONE);

    //  Who sends what: scored transactions only from scorers, alerts from
    //  scorers and aggregators, nothing at all from the observers.
    for (int peer = TXW_PEER_NONE; peer <= TXW_PEER_MAX + 1; peer++) {
        assert_int_equal (txw_peer_sends (peer, TXW_MSG_SCORED_TX), peer == TXW_PEER_SCORER);
        assert_int_equal (txw_peer_sends (peer, TXW_MSG_ALERT),
                          peer == TXW_PEER_SCORER || peer == TXW_PEER_AGGREGATOR);
        assert_int_equal (txw_peer_sends (peer, TXW_MSG_RAW_TX), peer == TXW_PEER_PRODUCER);
        assert_int_equal (txw_peer_sends (peer, TXW_MSG_TX), peer == TXW_PEER_VALIDATOR);
        assert_int_equal (txw_peer_sends (peer, TXW_MSG_WINDOW), peer == TXW_PEER_AGGREGATOR);
        assert_int_equal (txw_peer_sends (peer, TXW_MSG_REJECT),
                          peer == TXW_PEER_PRODUCER || peer == TXW_PEER_VALIDATOR);
        assert_int_equal (txw_peer_sends (peer, TXW_MSG_ACK),
                          peer == TXW_PEER_VALIDATOR || peer == TXW_PEER_AGGREGATOR);
        //  corrections travel the transactions' path, one hop each
        assert_int_equal (txw_peer_sends (peer, TXW_MSG_CORRECTION),
                          peer == TXW_PEER_PRODUCER || peer == TXW_PEER_VALIDATOR
                          || peer == TXW_PEER_SCORER);
        for (uint32_t type = 0; type <= TXW_MSG_TYPE_MAX + 1; type += TXW_MSG_TYPE_MAX + 1)
            assert_false (txw_peer_sends (peer, type));
    }
    for (uint32_t type = 1; type <= TXW_MSG_TYPE_MAX; type++) {
        assert_false (txw_peer_sends (TXW_PEER_GATEWAY, type));
        assert_false (txw_peer_sends (TXW_PEER_NOTIFIER, type));
    }

    //  ZAP domains name the roles a bound socket admits, and nothing else
    //  admits anybody.
    char domain [128];
    assert_int_equal (txw_zap_domain (TXW_ADMIT_VALIDATOR_PUB, domain, sizeof domain), 20);
    assert_string_equal (domain, "txw:producer,gateway");
    assert_int_equal (txw_zap_domain_roles (domain, strlen (domain)), TXW_ADMIT_VALIDATOR_PUB);
    assert_int_equal (txw_zap_domain (TXW_ADMIT_AGGREGATOR_PULL, domain, sizeof domain), 10);
    assert_string_equal (domain, "txw:scorer");
    uint32_t admits [] = { TXW_ADMIT_VALIDATOR_PULL, TXW_ADMIT_SCORER_PULL,
                           TXW_ADMIT_SCORER_PUB, TXW_ADMIT_AGGREGATOR_PUB, TXW_PEERS_ANY };
    for (size_t i = 0; i < sizeof admits / sizeof admits [0]; i++) {
        assert_true (txw_zap_domain (admits [i], domain, sizeof domain) > 0);
        assert_int_equal (txw_zap_domain_roles (domain, strlen (domain)), admits [i]);
    }
    assert_int_equal (txw_zap_domain (TXW_PEERS_ANY, domain, 12), -1);
    assert_int_equal (txw_zap_domain (0, domain, sizeof domain), 4);
    const char *refused [] = { "", "txw", "txw:", "txw:scorer,", "txw:,scorer",
                               "txw:scorer,root", "other:scorer", "txw:scorerx", "TXW:scorer",
                               "txw:scorer gateway" };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++)
        assert_int_equal (txw_zap_domain_roles (refused [i], strlen (refused [i])), 0);
    assert_int_equal (txw_zap_domain_roles ("txw:scorer,notifier", 19),
                      TXW_PEER_BIT (TXW_PEER_SCORER) | TXW_PEER_BIT (TXW_PEER_NOTIFIER));
    //  The length given is the domain: no reading past it.
    assert_int_equal (txw_zap_domain_roles ("txw:scorer,root", 10), TXW_PEER_BIT (TXW_PEER_SCORER));

    //  The hops (ARCHITECTURE.md, "Transport").
    assert_int_equal (TXW_ADMIT_VALIDATOR_PULL, TXW_PEER_BIT (TXW_PEER_PRODUCER));
    assert_int_equal (TXW_ADMIT_SCORER_PULL, TXW_PEER_BIT (TXW_PEER_VALIDATOR));
    assert_int_equal (TXW_ADMIT_AGGREGATOR_PULL, TXW_PEER_BIT (TXW_PEER_SCORER));
    assert_false (TXW_ADMIT_SCORER_PUB & TXW_PEER_BIT (TXW_PEER_PRODUCER));
    assert_true (TXW_ADMIT_AGGREGATOR_PUB & TXW_PEER_BIT (TXW_PEER_PRODUCER));
    assert_true (TXW_ADMIT_VALIDATOR_PUB & TXW_PEER_BIT (TXW_PEER_PRODUCER));
}

//  --- CURVE: handshakes and messages -----------------------------------------------

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

//  Copies keys/<name>.key into the allowed directory as <as>.key.
static void
s_allow (const char *name, const char *as)
{
    char cmd [400];
    snprintf (cmd, sizeof cmd, "cp %s/keys/%s.key %s/allowed/%s.key", s_dir, name, s_dir, as);
    assert_int_equal (system (cmd), 0);
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
    else
        zsock_set_sndtimeo (sock, 0);
    assert_int_equal (zsock_connect (sock, "%s", endpoint), 0);
    return sock;
}

//  A client of role-certificate name (keys/<name>.key_secret) of the
//  server at endpoint.
static zsock_t *
s_client_of (const char *name, const char *endpoint)
{
    char secret [64];
    snprintf (secret, sizeof secret, "keys/%s.key_secret", name);
    return s_raw_client (ZMQ_PUSH, s_path (secret), s_path ("keys/server.key"), endpoint);
}

//  Sends one envelope of type under source with seq from a raw socket,
//  one heartbeat record as its content (the input does not look inside).
static void
s_raw_send (zsock_t *sock, uint32_t type, const char *source, uint64_t seq)
{
    txw_batch_t batch;
    txw_batch_init (&batch, type, source, 7);
    txw_heartbeat_t hb = { .watermark_ms = 1, .sent_ms = 1 };
    txw_heartbeat_encode (&batch.pk, &hb);
    txw_batch_added (&batch);
    txw_batch_seal (&batch, seq, 1);
    //  The handshake may still be under way: retry until it is queued.
    int rc = -1;
    for (int i = 0; i < 100 && rc < 0; i++) {
        rc = zmq_send (zsock_resolve (sock), batch.buf.data, batch.buf.size, 0);
        if (rc < 0)
            usleep (10 * 1000);
    }
    assert_true (rc >= 0);
    txw_batch_fini (&batch);
}

//  Receives what in gives until quiet for quiet_ms; counts the messages,
//  and those from source (NULL: none); checks each carries role.
static int
s_drain_from (txw_in_t *in, int quiet_ms, const char *source, int *from_source,
              const char *role)
{
    int count = 0;
    zmq_msg_t msg;
    txw_envelope_t env;
    if (from_source)
        *from_source = 0;
    while (txw_in_recv (in, quiet_ms, &msg, &env) == 1) {
        if (role)
            assert_string_equal (zmq_msg_gets (&msg, "User-Id"), role);
        if (source && from_source && env.source_id.len == strlen (source)
        &&  memcmp (env.source_id.ptr, source, env.source_id.len) == 0)
            (*from_source)++;
        zmq_msg_close (&msg);
        count++;
    }
    return count;
}

//  The value of a metric line (name with its labels) in /metrics.
static long long
s_metric (const char *line)
{
    char *text = txw_metrics_render ();
    assert_non_null (text);
    long long value = -1;
    char *at = strstr (text, line);
    while (at && at != text && at [-1] != '\n')
        at = strstr (at + 1, line);
    if (at && at [strlen (line)] == ' ')
        value = atoll (at + strlen (line) + 1);
    free (text);
    return value;
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

//  Forgets the events a monitor holds (refused clients try again).
static void
s_monitor_flush (zsock_t *monitor)
{
    while (s_handshake_event (monitor, 50))
        ;
}

static void
test_curve_setup (void **state)
{
    (void) state;
    snprintf (s_dir, sizeof s_dir, "/tmp/txw-curve-XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    char sub [128];
    snprintf (sub, sizeof sub, "%s/allowed", s_dir);
    assert_int_equal (mkdir (sub, 0700), 0);
    snprintf (sub, sizeof sub, "%s/keys", s_dir);
    assert_int_equal (mkdir (sub, 0700), 0);
    const char *names [] = { "server", "scorer", "scorer-b", "scorer-c", "producer",
                             "gateway", "validator", "rogue", "other" };
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++)
        s_cert (names [i], "keys");
    //  The roles' public certificates; the server's own names no role and
    //  is ignored, and so are hidden entries and secrets.
    s_allow ("scorer", "scorer");
    s_allow ("scorer-b", "scorer-b");
    s_allow ("producer", "producer-ingest");
    s_allow ("gateway", "gateway");
    s_allow ("validator", "validator");
    s_allow ("server", "cluster");
    s_allow ("rogue", ".hidden");
    char cmd [300];
    snprintf (cmd, sizeof cmd, "cp %s/keys/rogue.key_secret %s/allowed/scorer.key_secret",
              s_dir, s_dir);
    assert_int_equal (system (cmd), 0);

    //  Bad configurations are refused.
    txw_transport_config_t bad = { .resolve_ms = 0, .curve_secret_key = s_path ("keys/none") };
    assert_int_equal (txw_transport_configure (&bad), -1);
    //  A public certificate has no secret key to serve or connect with.
    bad.curve_secret_key = s_path ("allowed/gateway.key");
    assert_int_equal (txw_transport_configure (&bad), -1);
    bad = (txw_transport_config_t) { .curve_client_key = s_path ("allowed/gateway.key") };
    assert_int_equal (txw_transport_configure (&bad), -1);
    bad = (txw_transport_config_t) { .curve_server_key = s_path ("keys/server.key") };
    assert_int_equal (txw_transport_configure (&bad), -1);
    bad = (txw_transport_config_t) { .curve_allowed = s_path ("allowed") };
    assert_int_equal (txw_transport_configure (&bad), -1);
    bad = (txw_transport_config_t) { .curve_secret_key = s_path ("keys/server.key_secret"),
                                     .curve_allowed = s_path ("no-such-dir") };
    assert_int_equal (txw_transport_configure (&bad), -1);
    txw_transport_shutdown ();

    //  A client-only process (a producer, the gateway): CURVE on with its
    //  role certificate, and nothing to bind with.
    txw_transport_config_t client = {
        .curve_client_key = s_path ("keys/producer.key_secret"),
        .curve_server_key = s_path ("keys/server.key"),
    };
    assert_int_equal (txw_transport_configure (&client), 0);
    char ep [64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", s_port + 4);
    assert_null (txw_in_new_pull (ep, 100, TXW_PEERS_ANY));
    txw_out_t *push = txw_out_new (TXW_OUT_PUSH, ep, "p", 100, 1);
    assert_non_null (push);
    txw_out_destroy (&push);
    txw_transport_shutdown ();
    txw_metrics_reset ();
}

static void
test_curve (void **state)
{
    (void) state;
    //  This process is an aggregator that also connects as a scorer.
    txw_transport_config_t cfg = {
        .resolve_ms = 0,
        .curve_secret_key = s_path ("keys/server.key_secret"),
        .curve_client_key = s_path ("keys/scorer.key_secret"),
        .curve_server_key = s_path ("keys/server.key"),
        .curve_allowed = s_path ("allowed"),
    };
    assert_int_equal (txw_transport_configure (&cfg), 0);
    assert_int_equal (s_metric ("txw_curve_allowed_keys"), 5);
    char ep [64], pub_ep [64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", s_port + 2);
    snprintf (pub_ep, sizeof pub_ep, "tcp://127.0.0.1:%d", s_port + 3);
    txw_in_t *pull = txw_in_new_pull (ep, 100, TXW_ADMIT_AGGREGATOR_PULL);
    assert_non_null (pull);
    zsock_t *pull_sock = txw_in_socket (pull);
    assert_int_equal (zmq_socket_monitor (zsock_resolve (pull_sock), "inproc://test-monitor",
                      ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                      | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                      | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL), 0);
    zsock_t *monitor = zsock_new_pair (">inproc://test-monitor");
    assert_non_null (monitor);

    //  A scorer key: the transport's own PUSH delivers, and every message
    //  says who sent it.
    txw_out_t *push = txw_out_new (TXW_OUT_PUSH, ep, "good", 100, 1);
    assert_non_null (push);
    s_send (push, 10);
    int from_good;
    assert_int_equal (s_drain_from (pull, 500, "good", &from_good, "scorer"), 10);
    assert_int_equal (from_good, 10);
    assert_int_equal (s_handshake_event (monitor, 1000), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    assert_int_equal (s_metric ("txw_curve_handshakes_admitted_total"), 1);

    //  An allowed key of a role this socket does not admit (a producer, as
    //  producer-ingest.key): refused at the handshake, counted as role.
    zsock_t *producer = s_client_of ("producer", ep);
    zstr_send (producer, "injected");
    assert_int_equal (s_handshake_event (monitor, 2000), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert_int_equal (s_drain_from (pull, 300, NULL, NULL, NULL), 0);
    zsock_destroy (&producer);
    s_monitor_flush (monitor);
    assert_true (s_metric ("txw_curve_handshakes_refused_total{reason=\"role\"}") >= 1);
    assert_int_equal (s_metric ("txw_curve_handshakes_refused_total{reason=\"unknown_key\"}"), 0);

    //  A key that is not allowed (also under a hidden name, and beside a
    //  secret in the directory): refused, counted as unknown_key.
    zsock_t *rogue = s_client_of ("rogue", ep);
    zstr_send (rogue, "injected");
    assert_int_equal (s_handshake_event (monitor, 2000), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert_int_equal (s_drain_from (pull, 300, NULL, NULL, NULL), 0);
    zsock_destroy (&rogue);
    s_monitor_flush (monitor);
    assert_true (s_metric ("txw_curve_handshakes_refused_total{reason=\"unknown_key\"}") >= 1);
    //  The server certificate as a client: cluster.key names no role.
    zsock_t *server_as_client = s_client_of ("server", ep);
    zstr_send (server_as_client, "injected");
    assert_int_equal (s_handshake_event (monitor, 2000), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    zsock_destroy (&server_as_client);
    s_monitor_flush (monitor);

    //  An allowed key but the wrong server key, or no CURVE at all: the
    //  handshake fails before the ZAP handler is asked.
    zsock_t *confused = s_raw_client (ZMQ_PUSH, s_path ("keys/scorer.key_secret"),
                                      s_path ("keys/other.key"), ep);
    zstr_send (confused, "lost");
    assert_int_equal (s_drain_from (pull, 500, NULL, NULL, NULL), 0);
    zsock_destroy (&confused);
    zsock_t *plain = s_raw_client (ZMQ_PUSH, NULL, NULL, ep);
    zstr_send (plain, "plain");
    assert_int_equal (s_drain_from (pull, 500, NULL, NULL, NULL), 0);
    zsock_destroy (&plain);

    //  Per message: another scorer key may send scored transactions and
    //  alerts under a source id of its own, nothing a scorer never sends,
    //  and never under the source id the first key holds.
    zsock_t *scorer_b = s_client_of ("scorer-b", ep);
    s_raw_send (scorer_b, TXW_MSG_SCORED_TX, "b", 1);
    s_raw_send (scorer_b, TXW_MSG_ALERT, "b", 1);
    s_raw_send (scorer_b, TXW_MSG_RAW_TX, "b", 2);       //  a scorer sends no raw_tx
    s_raw_send (scorer_b, TXW_MSG_ACK, "b", 3);          //  nor acknowledgements
    s_raw_send (scorer_b, TXW_MSG_SCORED_TX, "good", 1000000);  //  a forged checkpoint
    s_raw_send (scorer_b, TXW_MSG_SCORED_TX, "b", 2);
    int from_b;
    assert_int_equal (s_drain_from (pull, 500, "b", &from_b, "scorer"), 3);
    assert_int_equal (from_b, 3);
    assert_int_equal (s_metric ("txw_curve_messages_refused_total{reason=\"type\"}"), 2);
    assert_int_equal (s_metric ("txw_curve_messages_refused_total{reason=\"source\"}"), 1);
    assert_int_equal (txw_in_stats (pull)->refused, 3);
    assert_int_equal (txw_in_stats (pull)->malformed, 0);
    //  The real sender goes on as if nothing happened: no replay, no gap.
    s_send (push, 5);
    assert_int_equal (s_drain_from (pull, 500, "good", &from_good, "scorer"), 5);
    assert_int_equal (from_good, 5);
    assert_int_equal (txw_in_stats (pull)->replays, 0);
    assert_int_equal (txw_in_stats (pull)->gaps, 0);

    //  A key leaves the directory: its open connection's messages are
    //  refused (revoked) and it cannot connect again. A key refused at the
    //  handshake is tried again by its client: once added to the directory
    //  it gets in without a restart of either side, and takes over the
    //  source id of the key that left (a rotation).
    zsock_t *scorer_c = s_client_of ("scorer-c", ep);
    s_raw_send (scorer_c, TXW_MSG_SCORED_TX, "b", 1);
    assert_int_equal (s_drain_from (pull, 300, NULL, NULL, NULL), 0);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm %s/allowed/scorer-b.key", s_dir);
    assert_int_equal (system (cmd), 0);
    s_allow ("scorer-c", "scorer-c");
    usleep (1600 * 1000);
    assert_int_equal (s_metric ("txw_curve_allowed_keys"), 5);
    s_raw_send (scorer_b, TXW_MSG_SCORED_TX, "b", 3);
    //  The refused handshake times out (3 s), the client tries again.
    int got = 0;
    from_b = 0;
    for (int i = 0; i < 40 && got == 0; i++) {
        got += s_drain_from (pull, 200, "b", &from_b, "scorer");
        if (got == 0)
            from_b = 0;
    }
    assert_int_equal (got, 1);
    assert_int_equal (from_b, 1);
    assert_int_equal (s_metric ("txw_curve_messages_refused_total{reason=\"revoked\"}"), 1);
    zsock_destroy (&scorer_b);
    //  ...but not the source id of a key that is still allowed.
    s_raw_send (scorer_c, TXW_MSG_SCORED_TX, "good", 99);
    assert_int_equal (s_drain_from (pull, 300, NULL, NULL, NULL), 0);
    assert_int_equal (s_metric ("txw_curve_messages_refused_total{reason=\"source\"}"), 2);
    zsock_destroy (&scorer_c);

    //  A restarted receiver (a new PULL) gets the bindings it kept with its
    //  checkpoints back before anything arrives (txw_in_bind): another
    //  allowed key cannot claim a source id by sending under it first. A
    //  kept key that has left the directory binds nothing (the rotation
    //  rule), nor does a key that is not one.
    char ep_restarted [64], scorer_key [41], b_key [41], c_key [41];
    snprintf (ep_restarted, sizeof ep_restarted, "tcp://127.0.0.1:%d", s_port + 5);
    const char *certs [] = { "keys/scorer.key", "keys/scorer-b.key", "keys/scorer-c.key" };
    char *texts [] = { scorer_key, b_key, c_key };
    for (int i = 0; i < 3; i++) {
        zcert_t *cert = zcert_load (s_path (certs [i]));
        assert_non_null (cert);
        snprintf (texts [i], 41, "%s", zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    txw_in_t *restarted = txw_in_new_pull (ep_restarted, 100, TXW_ADMIT_AGGREGATOR_PULL);
    assert_non_null (restarted);
    assert_int_equal (txw_in_bind (restarted, "good", 4, scorer_key), 0);
    assert_int_equal (txw_in_bind (restarted, "good", 4, scorer_key), 0);
    assert_int_equal (txw_in_bind (restarted, "good", 4, c_key), -1);
    assert_int_equal (txw_in_bind (restarted, "b", 1, b_key), -1);
    assert_int_equal (txw_in_bind (restarted, "x", 1, "not a key"), -1);
    long long by_source = s_metric ("txw_curve_messages_refused_total{reason=\"source\"}");
    zsock_t *forger = s_client_of ("scorer-c", ep_restarted);
    s_raw_send (forger, TXW_MSG_SCORED_TX, "good", 1000000);    //  a forged checkpoint
    s_raw_send (forger, TXW_MSG_SCORED_TX, "b", 4);             //  free: its key left
    assert_int_equal (s_drain_from (restarted, 500, "b", &from_b, "scorer"), 1);
    assert_int_equal (from_b, 1);
    assert_int_equal (s_metric ("txw_curve_messages_refused_total{reason=\"source\"}"),
                      by_source + 1);
    assert_int_equal (txw_in_stats (restarted)->refused, 1);
    zsock_destroy (&forger);
    //  The real sender's key is accepted, and each message names it.
    txw_out_t *push_again = txw_out_new (TXW_OUT_PUSH, ep_restarted, "good", 100, 1);
    assert_non_null (push_again);
    s_send (push_again, 3);
    zmq_msg_t msg;
    txw_envelope_t env;
    int from_real = 0;
    while (txw_in_recv (restarted, 500, &msg, &env) == 1) {
        assert_int_equal (env.source_id.len, 4);
        assert_memory_equal (env.source_id.ptr, "good", 4);
        assert_non_null (txw_in_key (restarted, &msg));
        assert_string_equal (txw_in_key (restarted, &msg), scorer_key);
        zmq_msg_close (&msg);
        from_real++;
    }
    assert_int_equal (from_real, 3);
    txw_out_destroy (&push_again);
    txw_in_destroy (&restarted);

    //  PUB: subscribers of the admitted roles receive (the gateway); a key
    //  of another role (a validator) and a rogue key receive nothing.
    txw_out_t *pub = txw_out_new_pub (pub_ep, TXW_ADMIT_SCORER_PUB, "pub", 100, 1);
    assert_non_null (pub);
    zsock_t *gateway = s_raw_client (ZMQ_SUB, s_path ("keys/gateway.key_secret"),
                                     s_path ("keys/server.key"), pub_ep);
    zsock_t *validator = s_raw_client (ZMQ_SUB, s_path ("keys/validator.key_secret"),
                                       s_path ("keys/server.key"), pub_ep);
    zsock_t *rogue_sub = s_raw_client (ZMQ_SUB, s_path ("keys/rogue.key_secret"),
                                       s_path ("keys/server.key"), pub_ep);
    int gateway_got = 0, others_got = 0;
    for (int i = 0; i < 40; i++) {
        s_send (pub, 1);
        zclock_sleep (50);
        zmsg_t *msg = NULL;
        while ((msg = zmsg_recv_nowait (gateway)) != NULL) {
            gateway_got++;
            zmsg_destroy (&msg);
        }
        while ((msg = zmsg_recv_nowait (validator)) != NULL
           ||  (msg = zmsg_recv_nowait (rogue_sub)) != NULL) {
            others_got++;
            zmsg_destroy (&msg);
        }
    }
    assert_true (gateway_got > 0);
    assert_int_equal (others_got, 0);
    zsock_destroy (&gateway);
    zsock_destroy (&validator);
    zsock_destroy (&rogue_sub);
    txw_out_destroy (&pub);

    txw_out_destroy (&push);
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
        cmocka_unit_test (test_peer_tables),
        cmocka_unit_test (test_curve_setup),
        cmocka_unit_test (test_curve),
    };
    return cmocka_run_group_tests_name ("transport", tests, NULL, NULL);
}
