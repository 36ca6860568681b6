/*  pubinject - publishes alert envelopes with chosen sequence numbers

    Binds a PUB like a scorer does and sends fraud alerts through the real
    codec and transport framing, so a subscriber (the push gateway) can be
    shown a sequence gap on purpose (--seqs 1,2,5) or a steady stream with
    raised_ms set to the send time (--rate 200 --count 6000) for latency
    benchmarks. Each envelope holds one alert with a unique tx_id, or with
    --kind window one overall window row (a flood of droppable messages).

    With --connect it is a PUSH that connects instead, like a scorer's
    push to an aggregator, and with --kind scored_tx it sends scored
    transactions (score 99, 1000.00 EUR each, tx_id forged-<seq>) under any
    --source and --epoch: a forged envelope for tests/e2e/curve.sh, with
    the CURVE certificate of the role it pretends to be
    (--curve-client-key, --curve-server-key).

    Usage: txw-pubinject --bind tcp://127.0.0.1:18612 [--seqs 1,2,5 | --rate R --count N]
                         [--wait-ms 1000] [--interval-ms 300] [--source pubinject]
           txw-pubinject --connect tcp://127.0.0.1:18421 --kind scored_tx --seqs 1000000
                         [--source scorer@host] [--epoch US]
                         [--curve-client-key F --curve-server-key F]  */

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "options.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t s_pad;           //  extra bytes of message text per alert

static txw_alert_t
s_alert (const char *source, uint64_t epoch, uint64_t n)
{
    txw_alert_t a;
    memset (&a, 0, sizeof a);
    snprintf (a.kind, sizeof a.kind, "fraud");
    snprintf (a.tx_id, sizeof a.tx_id, "%s-%llu-%llu", source,
              (unsigned long long) (epoch % 1000000), (unsigned long long) n);
    a.ts_ms = txw_now_ms ();
    //  Published alerts carry the account's pseudonym (common/pii.h).
    snprintf (a.account_id, sizeof a.account_id, "p~000000000000%04llu",
              (unsigned long long) (n % 10000));
    a.score = 95;
    a.reasons = 1u | (1u << 5);
    a.amount_minor = 250000;
    snprintf (a.currency, sizeof a.currency, "EUR");
    a.amount_rep_minor = 250000;
    snprintf (a.merchant_id, sizeof a.merchant_id, "m-0042");
    snprintf (a.country, sizeof a.country, "DE");
    a.channel = TXW_CHANNEL_ONLINE;
    snprintf (a.model_version, sizeof a.model_version, "inject-1");
    snprintf (a.region, sizeof a.region, "R1");
    int len = snprintf (a.message, sizeof a.message, "injected alert %llu", (unsigned long long) n);
    for (int64_t i = 0; i < s_pad && len < TXW_TEXT_MAX; i++)
        a.message [len++] = '.';
    a.message [len] = 0;
    return a;
}

//  A live overall window row of shard n % 4, in the current minute.
static txw_window_t
s_window (uint64_t n)
{
    txw_window_t w;
    memset (&w, 0, sizeof w);
    snprintf (w.dimension, sizeof w.dimension, "overall");
    snprintf (w.key, sizeof w.key, "all");
    w.window_ms = 60000;
    w.window_start_ms = txw_now_ms () / 60000 * 60000;
    w.shard = (uint32_t) (n % 4);
    w.tx_count = (int64_t) n;
    w.amount_sum = (int64_t) n * 100;
    w.approved = (int64_t) n;
    return w;
}

//  A scored transaction of account acct-<n % 50>, now.
static txw_tx_t
s_scored_tx (uint64_t n)
{
    txw_tx_t tx;
    memset (&tx, 0, sizeof tx);
    snprintf (tx.tx_id, sizeof tx.tx_id, "forged-%llu", (unsigned long long) n);
    tx.ts_ms = txw_now_ms ();
    snprintf (tx.account_id, sizeof tx.account_id, "acct-%llu", (unsigned long long) (n % 50));
    tx.amount_minor = 100000;
    snprintf (tx.currency, sizeof tx.currency, "EUR");
    snprintf (tx.merchant_id, sizeof tx.merchant_id, "m-0042");
    snprintf (tx.category, sizeof tx.category, "electronics");
    tx.channel = TXW_CHANNEL_ONLINE;
    snprintf (tx.region, sizeof tx.region, "R1");
    snprintf (tx.country, sizeof tx.country, "DE");
    tx.amount_rep_minor = 100000;
    tx.scored = true;
    tx.score = 99;
    snprintf (tx.model_version, sizeof tx.model_version, "forged-1");
    return tx;
}

static bool s_windows_kind;
static bool s_scored_kind;

//  Sends one envelope with seq holding one alert raised now (or a window).
static int
s_send (zsock_t *pub, txw_batch_t *batch, const char *source, uint64_t epoch,
        uint64_t seq, uint64_t n)
{
    txw_batch_clear (batch);
    if (s_windows_kind) {
        txw_window_t w = s_window (n);
        txw_window_encode (&batch->pk, &w);
    }
    else
    if (s_scored_kind) {
        txw_tx_t tx = s_scored_tx (n);
        txw_tx_encode (&batch->pk, &tx);
    }
    else {
        txw_alert_t a = s_alert (source, epoch, n);
        a.raised_ms = txw_now_ms ();
        txw_alert_encode (&batch->pk, &a);
    }
    txw_batch_added (batch);
    txw_batch_seal (batch, seq, txw_now_us ());
    if (zmq_send (zsock_resolve (pub), batch->buf.data, batch->buf.size, 0) < 0) {
        fprintf (stderr, "pubinject: send: %s\n", zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

//  Waits until N subscribers have subscribed, up to 30 s. A subscriber
//  sends its subscriptions together when it connects, one frame for each
//  prefix; subscribers are told apart by the first one of each.
static void
s_wait_subscribers (zsock_t *pub, int64_t n)
{
    int64_t deadline = txw_mono_us () + 30 * 1000000LL;
    int64_t seen = 0;
    zpoller_t *poller = zpoller_new (pub, NULL);
    zframe_t *first = NULL;
    while (seen < n && txw_mono_us () < deadline) {
        if (!zpoller_wait (poller, 100))
            continue;
        zframe_t *f = zframe_recv (pub);
        if (!f)
            break;
        if (zframe_size (f) > 0 && zframe_data (f) [0] == 1
        && (!first || zframe_eq (f, first))) {
            seen++;
            if (!first)
                first = zframe_dup (f);
        }
        zframe_destroy (&f);
    }
    zframe_destroy (&first);
    zpoller_destroy (&poller);
    if (seen < n)
        fprintf (stderr, "pubinject: %lld of %lld subscribers after 30 s\n",
                 (long long) seen, (long long) n);
}

int
main (int argc, char **argv)
{
    const char *bind, *connect, *seqs, *source, *kind, *client_key, *server_key;
    int64_t count, wait_ms, interval_ms, epoch_us, subscribers;
    double rate;
    const txw_option_t options [] = {
        { "bind", TXW_OPT_STRING, "tcp://127.0.0.1:7012", "endpoint to bind the PUB", &bind, 0, 0 },
        { "seqs", TXW_OPT_STRING, "", "sequence numbers to send, comma list (e.g. 1,2,5)", &seqs, 0, 0 },
        { "rate", TXW_OPT_DOUBLE, "200", "alerts per second in --count mode", &rate, 0.1, 1000000 },
        { "count", TXW_OPT_INT, "0", "send this many alerts, seq 1..count, at --rate", &count, 0, 100000000 },
        { "wait-ms", TXW_OPT_INT, "1000", "wait before the first send (subscribers connect)",
          &wait_ms, 0, 600000 },
        { "subscribers", TXW_OPT_INT, "0",
          "then wait (up to 30 s) until this many subscribers have subscribed", &subscribers, 0, 1000 },
        { "interval-ms", TXW_OPT_INT, "300", "pause between sends in --seqs mode", &interval_ms, 0, 60000 },
        { "source", TXW_OPT_STRING, "pubinject", "source id in the envelopes", &source, 0, 0 },
        { "pad", TXW_OPT_INT, "0", "extra message bytes per alert (bigger frames)", &s_pad, 0, 500 },
        { "kind", TXW_OPT_STRING, "alert",
          "alert, window (overall rows, 4 shards) or scored_tx", &kind, 0, 0 },
        { "connect", TXW_OPT_STRING, "", "connect a PUSH to this endpoint instead of --bind",
          &connect, 0, 0 },
        { "epoch", TXW_OPT_INT, "0", "epoch in the envelopes (0: now, in microseconds)",
          &epoch_us, 0, 9e18 },
        { "curve-client-key", TXW_OPT_STRING, "",
          "with --connect: the CURVE certificate (ROLE.key_secret) to connect with", &client_key, 0, 0 },
        { "curve-server-key", TXW_OPT_STRING, "",
          "with --curve-client-key: the server's public certificate", &server_key, 0, 0 },
        TXW_OPTIONS_END
    };
    int rc = txw_options_parse (options, argc, argv, "txw-pubinject",
        "Publishes alert envelopes with chosen sequence numbers (tests, benchmarks).");
    if (rc)
        return rc > 0? 0: 2;
    txw_log_init ("pubinject", TXW_LOG_WARN);
    s_windows_kind = !strcmp (kind, "window");
    s_scored_kind = !strcmp (kind, "scored_tx");
    if (*client_key && (!*connect || !*server_key)) {
        fprintf (stderr, "pubinject: --curve-client-key needs --connect and --curve-server-key\n");
        return 2;
    }
    //  An XPUB shows each subscriber's subscriptions, so --subscribers can
    //  wait for them (a slow joiner would miss the first sends).
    zsock_t *pub = zsock_new (*connect? ZMQ_PUSH: subscribers? ZMQ_XPUB: ZMQ_PUB);
    if (!pub)
        return 1;
    if (subscribers)
        zsock_set_xpub_verbose (pub, 1);
    zsock_set_sndhwm (pub, 100000);
    if (*client_key) {
        zcert_t *cert = zcert_load (client_key);
        zcert_t *server = zcert_load (server_key);
        if (!cert || !server) {
            fprintf (stderr, "pubinject: cannot load %s or %s\n", client_key, server_key);
            zcert_destroy (&cert);
            zcert_destroy (&server);
            zsock_destroy (&pub);
            return 1;
        }
        zcert_apply (cert, pub);
        zsock_set_curve_serverkey (pub, zcert_public_txt (server));
        zcert_destroy (&cert);
        zcert_destroy (&server);
    }
    if (*connect? zsock_connect (pub, "%s", connect) < 0: zsock_bind (pub, "%s", bind) < 0) {
        fprintf (stderr, "pubinject: cannot %s %s\n", *connect? "connect": "bind",
                 *connect? connect: bind);
        zsock_destroy (&pub);
        return 1;
    }
    //  A PUSH whose peer never takes it (a refused handshake) must not hang
    //  the tool at exit.
    if (*connect) {
        zsock_set_linger (pub, 2000);
        zsock_set_sndtimeo (pub, 5000);
    }
    uint64_t epoch = epoch_us? (uint64_t) epoch_us: (uint64_t) txw_now_us ();
    txw_batch_t batch;
    txw_batch_init (&batch, s_windows_kind? TXW_MSG_WINDOW: s_scored_kind? TXW_MSG_SCORED_TX:
                    TXW_MSG_ALERT, source, epoch);
    zclock_sleep ((int) wait_ms);
    if (subscribers && !*connect)
        s_wait_subscribers (pub, subscribers);
    rc = 0;
    if (*seqs) {
        char *copy = strdup (seqs);
        char *items [1024];
        int n = txw_split_list (copy, items, 1024);
        for (int i = 0; i < n && rc == 0; i++) {
            uint64_t seq = strtoull (items [i], NULL, 10);
            rc = s_send (pub, &batch, source, epoch, seq, seq);
            printf ("sent seq %llu\n", (unsigned long long) seq);
            fflush (stdout);
            zclock_sleep ((int) interval_ms);
        }
        free (copy);
    }
    else {
        int64_t start = txw_mono_us ();
        for (int64_t i = 1; i <= count && rc == 0; i++) {
            int64_t due = start + (int64_t) ((double) (i - 1) * 1e6 / rate);
            int64_t now = txw_mono_us ();
            if (due > now)
                usleep ((useconds_t) (due - now));
            rc = s_send (pub, &batch, source, epoch, (uint64_t) i, (uint64_t) i);
        }
        printf ("sent %lld alerts at %.1f/s\n", (long long) count, rate);
    }
    zclock_sleep (200);     //  let the last frames leave
    txw_batch_fini (&batch);
    zsock_destroy (&pub);
    return rc? 1: 0;
}
