/*  sender - the ZeroMQ sink: records and rejections to the validators     */

#include "sender.h"
#include "clock.h"
#include "journal.h"
#include "log.h"
#include "transport.h"

#include <stdlib.h>

struct _sender_t {
    txw_out_t *out;
    //  With acknowledgements: what is not yet stored, and where it says so.
    journal_t *journal;
    txw_in_t *acks;
    uint64_t origin_id;         //  this producer's life, in every acknowledgement
    uint64_t first_line [TXW_MSG_TYPE_MAX + 1];     //  of each open batch
    txw_log_limiter_t resend_log;
    txw_counter_t *acked;
    txw_counter_t *resent;
    txw_gauge_t *unacked;
};

//  Keeps each batch as it is sealed, until its records are acknowledged.
static void
s_sealed (void *arg, uint32_t type, uint64_t seq, const void *frame, size_t size,
          uint32_t records)
{
    sender_t *self = arg;
    if (journal_add (self->journal, type, seq, frame, size, records,
                     self->first_line [type], txw_mono_ms ()))
        log_error ("out of memory: a batch of %u records is sent without a copy to "
                   "send again", records);
    txw_gauge_set (self->unacked, (int64_t) journal_unacked (self->journal));
}

sender_t *
sender_new (const char *endpoints, const char *source_id, int hwm, int linger_ms,
            const sender_acks_t *acks, txw_service_t *svc)
{
    sender_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->out = txw_out_new (TXW_OUT_PUSH, endpoints, source_id, hwm, linger_ms);
    if (!self->out)
        goto err;
    txw_out_count (self->out, svc->records_out, svc->batches_out);
    if (acks && acks->endpoints && *acks->endpoints) {
        self->journal = journal_new ((size_t) acks->max_unacked, acks->timeout_ms);
        self->acks = txw_in_new_sub (acks->endpoints, TXW_MSG_BIT (TXW_MSG_ACK));
        if (!self->journal || !self->acks)
            goto err;
        self->origin_id = txw_out_origin_id (self->out);
        txw_out_on_seal (self->out, s_sealed, self);
        self->acked = txw_counter_new ("txw_producer_acknowledged_records_total", NULL,
            "records the pipeline acknowledged as stored (or stored as dead letters)");
        self->resent = txw_counter_new ("txw_producer_resent_batches_total", NULL,
            "batches sent again because their acknowledgement did not come in time");
        self->unacked = txw_gauge_new ("txw_producer_unacknowledged_records", NULL,
            "records sent and not yet acknowledged (kept to be sent again)");
    }
    return self;
err:
    sender_destroy (&self, 0);
    return NULL;
}

void
sender_destroy (sender_t **self_p, int drain_ms)
{
    if (!self_p || !*self_p)
        return;
    sender_t *self = *self_p;
    if (self->out) {
        zsock_set_linger (txw_out_socket (self->out), drain_ms);
        txw_out_destroy (&self->out);
    }
    txw_in_destroy (&self->acks);
    journal_destroy (&self->journal);
    free (self);
    *self_p = NULL;
}

//  Notes the file line of a batch's first record.
static txw_batch_t *
s_batch (sender_t *self, uint32_t type, uint64_t line_no)
{
    txw_batch_t *batch = txw_out_batch (self->out, type);
    if (batch->count == 0)
        self->first_line [type] = line_no;
    return batch;
}

int
sender_record (sender_t *self, record_t *rec)
{
    txw_batch_t *batch = s_batch (self, TXW_MSG_RAW_TX, rec->raw.line_no);
    rec->raw.origin_us = txw_now_us ();
    txw_raw_tx_encode (&batch->pk, &rec->raw);
    return txw_out_added (self->out, batch);
}

int
sender_reject (sender_t *self, const txw_reject_t *rej)
{
    txw_batch_t *batch = s_batch (self, TXW_MSG_REJECT, rej->line_no);
    txw_reject_encode (&batch->pk, rej);
    return txw_out_added (self->out, batch);
}

int
sender_flush (sender_t *self, bool force)
{
    return txw_out_flush (self->out, force);
}

int
sender_due_ms (sender_t *self)
{
    return txw_out_due_ms (self->out);
}

bool
sender_acknowledged (const sender_t *self)
{
    return self->journal != NULL;
}

//  Applies one message of acknowledgements.
static void
s_apply_acks (sender_t *self, const txw_envelope_t *env)
{
    if (env->type != TXW_MSG_ACK)
        return;
    txw_cursor_t cur = env->records;
    uint64_t acked = 0;
    for (uint32_t i = 0; i < env->count; i++) {
        txw_ack_t ack;
        if (txw_ack_decode (&cur, &ack, NULL))
            break;
        if (ack.origin_id == self->origin_id && journal_ack (self->journal, ack.origin_ref))
            acked++;
    }
    txw_counter_add (self->acked, acked);
}

static int
s_resend (void *arg, const void *frame, size_t size, uint32_t records)
{
    sender_t *self = arg;
    txw_counter_add (self->resent, 1);
    return txw_out_resend (self->out, frame, size, records);
}

void
sender_poll (sender_t *self, int timeout_ms)
{
    if (!self->journal)
        return;
    zmq_msg_t msg;
    txw_envelope_t env;
    int rc;
    while ((rc = txw_in_recv (self->acks, timeout_ms, &msg, &env)) != 0) {
        if (rc > 0) {
            s_apply_acks (self, &env);
            zmq_msg_close (&msg);
        }
        timeout_ms = 0;
    }
    size_t resent = journal_resend_due (self->journal, txw_mono_ms (), s_resend, self);
    uint64_t suppressed;
    if (resent && txw_log_limit (&self->resend_log, &suppressed))
        log_warn ("sent %zu batches again: not acknowledged in time (%zu records "
                  "unacknowledged; %llu more re-sends since the last line)", resent,
                  journal_unacked (self->journal), (unsigned long long) suppressed);
    txw_gauge_set (self->unacked, (int64_t) journal_unacked (self->journal));
}

bool
sender_full (const sender_t *self)
{
    return self->journal && journal_full (self->journal);
}

size_t
sender_unacked (const sender_t *self)
{
    return self->journal? journal_unacked (self->journal): 0;
}

uint64_t
sender_first_line (sender_t *self)
{
    uint64_t line = self->journal? journal_first_line (self->journal): 0;
    //  Records still in an open batch are not acknowledged either.
    static const uint32_t types [] = { TXW_MSG_RAW_TX, TXW_MSG_REJECT };
    for (int i = 0; i < 2; i++) {
        uint64_t first = self->first_line [types [i]];
        if (txw_out_batch (self->out, types [i])->count && first && (line == 0 || first < line))
            line = first;
    }
    return line;
}
