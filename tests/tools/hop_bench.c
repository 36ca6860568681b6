/*  hop_bench - the limit of one ZeroMQ hop: validated transactions pushed
    and pulled over loopback TCP, every record decoded

    The pipeline's stages pass batches of msgpack records between them; a
    stage can go no faster than one hop of that, with nothing else done. The
    sender encodes --count transactions (txw_tx_encode) into envelopes of
    --batch records as the stages do (txw_batch_*) and pushes them as fast
    as the socket takes them; the receiver, a thread of its own, pulls each
    envelope and decodes every record (txw_envelope_decode, txw_tx_decode).
    Prints records per second from the first envelope received to the last
    record decoded, the figure make bench puts beside the pipeline's.

    Usage: txw-hop_bench [--count 2000000] [--batch 500] [--port 25499]  */

#include "clock.h"
#include "codec.h"

#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    zsock_t *pull;
    long count;
    long decoded;
    long failed;
    int64_t first_us, last_us;
} s_receiver_t;

static void *
s_receive (void *arg)
{
    s_receiver_t *r = arg;
    txw_tx_t tx;
    while (r->decoded + r->failed < r->count) {
        zframe_t *frame = zframe_recv (r->pull);
        if (!frame)
            break;
        if (!r->first_us)
            r->first_us = txw_mono_us ();
        txw_envelope_t env;
        if (txw_envelope_decode (zframe_data (frame), zframe_size (frame), &env, NULL) == 0) {
            txw_cursor_t cur = env.records;
            for (uint32_t i = 0; i < env.count; i++)
                if (txw_tx_decode (&cur, false, &tx, NULL) == 0)
                    r->decoded++;
                else
                    r->failed++;
        }
        else
            r->failed++;
        zframe_destroy (&frame);
    }
    r->last_us = txw_mono_us ();
    return NULL;
}

//  An ordinary validated card payment, its ids and amount varied.
static void
s_tx (txw_tx_t *tx, long n)
{
    memset (tx, 0, sizeof *tx);
    snprintf (tx->tx_id, sizeof tx->tx_id, "HOP-%ld", n);
    snprintf (tx->account_id, sizeof tx->account_id, "A%06ld", n % 100000);
    tx->ts_ms = 1767225600000LL + n;
    tx->amount_minor = 1000 + n % 50000;
    tx->amount_rep_minor = tx->amount_minor;
    snprintf (tx->currency, sizeof tx->currency, "EUR");
    snprintf (tx->merchant_id, sizeof tx->merchant_id, "M%05ld", n % 20000);
    snprintf (tx->category, sizeof tx->category, "grocery");
    tx->channel = TXW_CHANNEL_POS;
    snprintf (tx->branch_id, sizeof tx->branch_id, "B%03ld", n % 200);
    snprintf (tx->region, sizeof tx->region, "R%ld", n % 8);
    snprintf (tx->country, sizeof tx->country, "DE");
    snprintf (tx->device_id, sizeof tx->device_id, "D%06ld", n % 100000);
    tx->status = TXW_STATUS_APPROVED;
}

int
main (int argc, char **argv)
{
    long count = 2000000, batch = 500, port = 25499;
    for (int i = 1; i + 1 < argc; i += 2) {
        long *v = !strcmp (argv [i], "--count")? &count: !strcmp (argv [i], "--batch")? &batch:
                  !strcmp (argv [i], "--port")? &port: NULL;
        char *end;
        if (!v || (*v = strtol (argv [i + 1], &end, 10)) <= 0 || *end) {
            fprintf (stderr, "usage: txw-hop_bench [--count N] [--batch N] [--port N]\n");
            return 2;
        }
    }
    if (batch > TXW_MAX_RECORDS || port > 65535) {
        fprintf (stderr, "--batch is at most %d, --port at most 65535\n", TXW_MAX_RECORDS);
        return 2;
    }
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%ld", port);
    s_receiver_t r = { .pull = zsock_new (ZMQ_PULL), .count = count };
    zsock_t *push = zsock_new (ZMQ_PUSH);
    if (!r.pull || !push || zsock_bind (r.pull, "%s", endpoint) < 0
    ||  zsock_connect (push, "%s", endpoint) < 0) {
        fprintf (stderr, "cannot bind or connect %s\n", endpoint);
        return 1;
    }
    pthread_t thread;
    if (pthread_create (&thread, NULL, s_receive, &r)) {
        fprintf (stderr, "cannot start the receiver\n");
        return 1;
    }
    txw_batch_t b;
    txw_batch_init (&b, TXW_MSG_TX, "hop_bench", (uint64_t) txw_now_us ());
    txw_tx_t tx;
    uint64_t seq = 0;
    for (long n = 0; n < count; ) {
        for (long k = 0; k < batch && n < count; k++, n++) {
            s_tx (&tx, n);
            txw_tx_encode (&b.pk, &tx);
            txw_batch_added (&b);
        }
        txw_batch_seal (&b, ++seq, txw_now_us ());
        zframe_t *frame = zframe_new (b.buf.data, b.buf.size);
        if (!frame || zframe_send (&frame, push, 0) < 0) {
            fprintf (stderr, "cannot send\n");
            return 1;
        }
        txw_batch_clear (&b);
    }
    pthread_join (thread, NULL);
    txw_batch_fini (&b);
    zsock_destroy (&push);
    zsock_destroy (&r.pull);
    double seconds = (double) (r.last_us - r.first_us) / 1e6;
    printf ("one ZeroMQ hop (PUSH -> PULL, loopback TCP, batches of %ld, every record decoded):"
            " %ld records in %.2f s = %.0f records/s%s\n", batch, r.decoded, seconds,
            seconds > 0? r.decoded / seconds: 0, r.failed? " (some failed to decode)": "");
    return r.failed || r.decoded != count;
}
