/*  sender - the ZeroMQ sink: records and rejections to the validators     */

#include "sender.h"
#include "clock.h"
#include "log.h"
#include "transport.h"

#include <stdlib.h>

struct _sender_t {
    txw_out_t *out;
};

sender_t *
sender_new (const char *endpoints, const char *source_id, int hwm, int linger_ms,
            txw_service_t *svc)
{
    sender_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->out = txw_out_new (TXW_OUT_PUSH, endpoints, source_id, hwm, linger_ms);
    if (!self->out) {
        free (self);
        return NULL;
    }
    txw_out_count (self->out, svc->records_out, svc->batches_out);
    return self;
}

void
sender_destroy (sender_t **self_p, int drain_ms)
{
    if (!self_p || !*self_p)
        return;
    sender_t *self = *self_p;
    zsock_set_linger (txw_out_socket (self->out), drain_ms);
    txw_out_destroy (&self->out);
    free (self);
    *self_p = NULL;
}

int
sender_record (sender_t *self, record_t *rec)
{
    txw_batch_t *batch = txw_out_batch (self->out, TXW_MSG_RAW_TX);
    rec->raw.origin_us = txw_now_us ();
    txw_raw_tx_encode (&batch->pk, &rec->raw);
    return txw_out_added (self->out, batch);
}

int
sender_reject (sender_t *self, const txw_reject_t *rej)
{
    txw_batch_t *batch = txw_out_batch (self->out, TXW_MSG_REJECT);
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
