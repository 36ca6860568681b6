/*  correct - sends corrections (reversals, refunds, chargebacks) as a producer

    Reads CSV rows "tx_id,account_id,ts,status[,reason]" (ts RFC 3339 or
    epoch ms, status reversed, refunded or charged_back; a first line
    starting with tx_id is a header; the reason may not hold a comma) and
    pushes them to the validators as correction records, exactly as a
    producer or txw-ingest sends them. With --ack-endpoints (the
    aggregators' and validators' PUBs) it then waits until every record is
    acknowledged (applied, found to be a copy, or stored as a dead letter)
    and exits 0, or 1 after --timeout-ms. A row it cannot read is reported
    and not sent (exit 2 when any was); with --unchecked every row of four
    or more columns is sent as read, an unknown status or time as absent,
    for the validator to judge (tests of its dead letters). It keeps no journal: sending the
    same rows again is harmless (a correction is applied once), which is
    how a test or an operator repeats what was not acknowledged. The HTTP
    way is txw-ingest's PATCH /api/v1/transactions/{tx_id}.

    Usage: txw-correct --validators tcp://127.0.0.1:5555 [--file F.csv]
                       [--ack-endpoints tcp://...,tcp://...] [--actor NAME]
                       [--timeout-ms 10000] [--source-id correct] [--unchecked] */

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "options.h"
#include "rfc3339.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t *refs;             //  origin_ref of every record sent
    size_t count, capacity;
} s_sent_t;

//  Every sealed batch: the refs of its records, acknowledged one by one.
static void
s_sealed (void *arg, uint32_t type, uint64_t seq, const void *frame, size_t size,
          uint32_t records)
{
    (void) frame;
    (void) size;
    s_sent_t *sent = arg;
    if (sent->count + records > sent->capacity) {
        size_t capacity = (sent->count + records) * 2;
        uint64_t *refs = realloc (sent->refs, capacity * sizeof *refs);
        if (!refs) {
            log_error ("out of memory");
            exit (1);
        }
        sent->refs = refs;
        sent->capacity = capacity;
    }
    for (uint32_t i = 0; i < records; i++)
        sent->refs [sent->count++] = txw_origin_ref (type, seq, i);
}

//  Splits line at commas into at most max fields; returns the count.
static int
s_split (char *line, char **fields, int max)
{
    int n = 0;
    line [strcspn (line, "\r\n")] = 0;
    for (char *p = line; n < max; ) {
        fields [n++] = p;
        char *comma = n < max? strchr (p, ','): NULL;
        if (!comma)
            break;
        *comma = 0;
        p = comma + 1;
    }
    return n;
}

//  Reads one row into c. Returns 0, or -1 with the reason in why.
static int
s_row (char *line, const char *actor, bool unchecked, txw_correction_t *c, const char **why)
{
    char *f [5];
    int n = s_split (line, f, 5);
    memset (c, 0, sizeof *c);
    if (n < 4) {
        *why = "fewer than 4 columns";
        return -1;
    }
    txw_str_t id = { f [0], (uint32_t) strlen (f [0]) };
    txw_str_t account = { f [1], (uint32_t) strlen (f [1]) };
    if (txw_str_copy (c->tx_id, sizeof c->tx_id, id)
    ||  txw_str_copy (c->account_id, sizeof c->account_id, account)) {
        *why = "tx_id or account_id too long";
        return -1;
    }
    char *end;
    c->ts_ms = strtoll (f [2], &end, 10);
    if ((*f [2] == 0 || (*end && rfc3339_parse (f [2], strlen (f [2]), &c->ts_ms)))
    &&  !unchecked) {
        *why = "ts is neither RFC 3339 nor epoch ms";
        return -1;
    }
    c->status = (uint8_t) txw_correction_status_parse (f [3], strlen (f [3]));
    if (!c->status && !unchecked) {
        *why = "status is not reversed, refunded or charged_back";
        return -1;
    }
    snprintf (c->actor, sizeof c->actor, "%s", actor);
    if (n == 5)
        snprintf (c->reason, sizeof c->reason, "%s", f [4]);
    c->corrected_ms = txw_now_ms ();
    return 0;
}

//  Waits for the acknowledgement of every ref in sent. Returns 0 when all
//  came, -1 at the deadline.
static int
s_wait_acks (txw_in_t *acks, uint64_t origin, s_sent_t *sent, int64_t deadline)
{
    size_t left = sent->count;
    while (left && txw_mono_ms () < deadline) {
        zmq_msg_t msg;
        txw_envelope_t env;
        if (txw_in_recv (acks, 100, &msg, &env) != 1)
            continue;
        txw_cursor_t cur = env.records;
        txw_ack_t ack;
        for (uint32_t i = 0; i < env.count && txw_ack_decode (&cur, &ack, NULL) == 0; i++) {
            if (ack.origin_id != origin)
                continue;
            for (size_t k = 0; k < sent->count; k++)
                if (sent->refs [k] == ack.origin_ref) {
                    sent->refs [k] = 0;         //  0 is never a ref (type 9)
                    left--;
                    break;
                }
        }
        zmq_msg_close (&msg);
    }
    if (left)
        log_error ("%zu of %zu corrections not acknowledged in time", left, sent->count);
    return left? -1: 0;
}

int
main (int argc, char **argv)
{
    const char *validators, *file, *ack_endpoints, *actor, *source_id;
    int64_t timeout_ms;
    bool unchecked;
    const txw_option_t options [] = {
        { "validators", TXW_OPT_STRING, "tcp://127.0.0.1:5555",
          "validator endpoints to push to (comma-separated)", &validators, 0, 0 },
        { "file", TXW_OPT_STRING, "-", "CSV of corrections; - for stdin", &file, 0, 0 },
        { "ack-endpoints", TXW_OPT_STRING, "",
          "aggregator and validator PUBs to wait for acknowledgements on; empty: do not wait",
          &ack_endpoints, 0, 0 },
        { "actor", TXW_OPT_STRING, "txw-correct", "who makes the corrections", &actor, 0, 0 },
        { "source-id", TXW_OPT_STRING, "correct", "source id in the envelopes", &source_id, 0, 0 },
        { "timeout-ms", TXW_OPT_INT, "10000", "how long to wait for acknowledgements",
          &timeout_ms, 1, 3600000 },
        { "unchecked", TXW_OPT_BOOL, "false",
          "send rows with an unknown status or time too, for the validator to refuse",
          &unchecked, 0, 0 },
        TXW_OPTIONS_END
    };
    int rc = txw_options_parse (options, argc, argv, "txw-correct",
                                "Sends corrections of stored transactions as a producer.");
    if (rc)
        return rc > 0? 0: 2;
    FILE *in = strcmp (file, "-")? fopen (file, "r"): stdin;
    if (!in) {
        log_error ("cannot open %s", file);
        return 2;
    }
    txw_in_t *acks = *ack_endpoints? txw_in_new_sub (ack_endpoints, TXW_MSG_BIT (TXW_MSG_ACK)): NULL;
    txw_out_t *out = txw_out_new (TXW_OUT_PUSH, validators, source_id, 1000, 50);
    if (!out || (*ack_endpoints && !acks))
        return 2;
    s_sent_t sent = { 0 };
    txw_out_on_seal (out, s_sealed, &sent);
    //  A subscription takes a moment to reach the publishers.
    if (acks)
        zclock_sleep (300);
    char line [2048];
    int bad = 0;
    uint64_t line_no = 0;
    txw_correction_t c;
    while (fgets (line, sizeof line, in)) {
        line_no++;
        if (line_no == 1 && !strncmp (line, "tx_id", 5))
            continue;
        if (strspn (line, " \t\r\n") == strlen (line))
            continue;
        const char *why = NULL;
        if (s_row (line, actor, unchecked, &c, &why)) {
            log_error ("line %llu not sent: %s", (unsigned long long) line_no, why);
            bad++;
            continue;
        }
        c.line_no = line_no;
        txw_batch_t *batch = txw_out_batch (out, TXW_MSG_CORRECTION);
        txw_correction_encode (&batch->pk, &c);
        txw_out_added (out, batch);
    }
    if (in != stdin)
        fclose (in);
    txw_out_flush (out, true);
    printf ("%zu corrections sent\n", sent.count);
    if (acks) {
        rc = s_wait_acks (acks, txw_out_origin_id (out), &sent, txw_mono_ms () + timeout_ms);
        if (rc == 0)
            printf ("%zu corrections acknowledged\n", sent.count);
    }
    zsock_set_linger (txw_out_socket (out), 2000);
    txw_out_destroy (&out);
    txw_in_destroy (&acks);
    free (sent.refs);
    return rc? 1: bad? 2: 0;
}
