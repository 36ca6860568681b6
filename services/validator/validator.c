/*  validator - the validation stage: raw transactions in, clean ones out

    See validator.h. One loop, one thread: receive a batch, judge its
    records, pack the good ones straight into the batch of their scorer
    shard and the bad ones into the dead-letter PUB and queue; send batches
    when they fill or linger; act on the reload and stop flags. The only
    other thread is the dead-letter writer, which the loop never waits for. */

#include "validator.h"
#include "acks.h"
#include "clock.h"
#include "deadletter.h"
#include "money.h"
#include "pii.h"
#include "rejects.h"
#include "checks.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_POLL_MAX_MS   100

struct _validator_t {
    const validator_config_t *cfg;
    txw_service_t *svc;
    txw_in_t *in;
    txw_router_t *router;
    txw_out_t *pub;
    txw_rates_t *rates;
    checks_t *checks;
    txw_pgwriter_t *deadletters;        //  NULL without a database
    txw_counter_t *rejects [TXW_REJECT_COUNT];
    txw_counter_t *dead_stored;
    txw_counter_t *dead_dropped;
    txw_gauge_t *dead_queued;
    //  Shards whose send gave up at shutdown: not waited for again.
    txw_out_t *gave_up [TXW_MAX_ENDPOINTS];
    uint32_t gave_up_count;
    txw_log_limiter_t reject_log;
    txw_reject_t reject;                //  scratch, reused
    //  The origins of the dead letters queued for storage, in queue order:
    //  acknowledged to their producers once the writer has settled them.
    txw_acks_t acks;
    uint64_t dead_queued_total;         //  rows queued since the start
    bool acks_off;
    txw_counter_t *acked;
};

static bool
s_ready (void *arg, char *detail, size_t size)
{
    validator_t *self = arg;
    if (!self->deadletters) {
        snprintf (detail, size, "{\"postgres\":\"not configured\"}");
        return true;
    }
    bool ok = txw_pgwriter_healthy (self->deadletters);
    snprintf (detail, size, "{\"postgres\":\"%s\"}", ok? "ok": "unreachable");
    return ok;
}

static void
s_register_metrics (validator_t *self)
{
    for (int code = 0; code < TXW_REJECT_COUNT; code++) {
        char labels [64];
        snprintf (labels, sizeof labels, "reason=\"%s\"", txw_reject_names [code]);
        self->rejects [code] = txw_counter_new ("txw_rejects_total", labels,
                                                "records rejected, by reason");
    }
    self->dead_stored = txw_counter_new ("txw_dead_letters_stored_total", NULL,
                                         "dead letters committed to PostgreSQL");
    self->dead_dropped = txw_counter_new ("txw_dead_letters_dropped_total", NULL,
                                          "dead letters not stored: queue full, refused or lost at exit");
    self->dead_queued = txw_gauge_new ("txw_dead_letters_queued", NULL,
                                       "dead letters waiting to be stored");
    self->acked = txw_counter_new ("txw_acknowledged_records_total", NULL,
        "records acknowledged to their producers (their dead letters stored)");
}

validator_t *
validator_new (const validator_config_t *cfg, txw_service_t *svc)
{
    validator_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    s_register_metrics (self);

    self->checks = checks_from_options (cfg->rates, cfg->reporting_currency, cfg->min_ts,
                                        cfg->max_future_ms, cfg->max_amount, &self->rates);
    if (!self->checks)
        goto err;

    if (cfg->database_url && *cfg->database_url) {
        txw_pgwriter_metrics_t metrics = {
            self->dead_stored, self->dead_dropped, svc->errors, self->dead_queued
        };
        self->deadletters = txw_deadletter_writer_new (cfg->database_url, cfg->migrate,
                                                       (size_t) cfg->dead_letter_queue, metrics);
        if (!self->deadletters)
            goto err;
    }
    else
        log_warn ("no --database-url: dead letters are published but not stored");

    self->in = txw_in_new_pull (cfg->bind, (int) cfg->svc.hwm, TXW_ADMIT_VALIDATOR_PULL);
    if (self->in)
        txw_in_count_gaps (self->in, svc->gaps);
    self->router = txw_router_new (cfg->scorer_endpoints, svc->id, (int) cfg->svc.hwm,
                                   (int) cfg->svc.linger_ms);
    self->pub = txw_out_new_pub (cfg->publish, TXW_ADMIT_VALIDATOR_PUB, svc->id, 1000,
                                 (int) cfg->svc.linger_ms);
    if (!self->in || !self->router || !self->pub)
        goto err;
    txw_router_count (self->router, svc->records_out, svc->batches_out);
    txw_out_count (self->pub, svc->records_out, svc->batches_out);
    if (txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self))
        goto err;
    log_info ("pulling on %s, %u scorer shard(s) at %s, dead letters on %s, "
              "%d rates to %s", cfg->bind, txw_router_shards (self->router),
              cfg->scorer_endpoints, cfg->publish, txw_rates_count (self->rates),
              txw_rates_reporting (self->rates));
    return self;
err:
    validator_destroy (&self);
    return NULL;
}

void
validator_destroy (validator_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    validator_t *self = *self_p;
    txw_in_destroy (&self->in);
    txw_router_destroy (&self->router);
    txw_out_destroy (&self->pub);
    txw_pgwriter_destroy (&self->deadletters);
    checks_destroy (&self->checks);
    txw_rates_destroy (&self->rates);
    txw_acks_fini (&self->acks);
    free (self);
    *self_p = NULL;
}

//  Reloads the rates file; a bad file keeps the table in use.
static void
s_reload_rates (validator_t *self)
{
    txw_rates_t *rates = checks_reload_rates (self->cfg->rates, self->cfg->reporting_currency,
                                              self->rates);
    if (!rates) {
        txw_counter_add (self->svc->errors, 1);
        return;
    }
    checks_set_rates (self->checks, rates);
    txw_rates_destroy (&self->rates);
    self->rates = rates;
}

//  Publishes a dead letter and queues it for storage; the record it came
//  from (index of env) is acknowledged once it is stored, or at once
//  without a database. A dead letter the full queue refuses is not
//  acknowledged: its producer sends the record again.
static void
s_dead_letter (validator_t *self, const txw_envelope_t *env, uint32_t index,
               const txw_reject_t *reject)
{
    txw_batch_t *batch = txw_out_batch (self->pub, TXW_MSG_REJECT);
    txw_reject_encode (&batch->pk, reject);
    txw_out_added (self->pub, batch);
    uint64_t origin = txw_origin_id (env->source_id.ptr, env->source_id.len, env->epoch);
    uint64_t ref = txw_origin_ref (env->type, env->seq, index);
    if (!self->deadletters)
        txw_acks_note (&self->acks, origin, ref);
    else
    if (txw_deadletter_queue (self->deadletters, reject) == 0) {
        //  The writer settles the rows in queue order, so the notes must
        //  stay one per row; without memory for one, acknowledge no more
        //  dead letters (their producers send them again, stored once).
        self->dead_queued_total++;
        if (txw_acks_note (&self->acks, origin, ref) && !self->acks_off) {
            log_error ("out of memory: dead letters are no longer acknowledged");
            self->acks_off = true;
        }
    }
}

//  Acknowledges the dead letters stored since the last call.
static void
s_acknowledge (validator_t *self)
{
    size_t done = txw_acks_count (&self->acks);
    if (self->acks_off || done == 0)
        return;
    if (self->deadletters) {
        uint64_t waiting = self->dead_queued_total - txw_pgwriter_settled (self->deadletters);
        done = waiting >= done? 0: done - (size_t) waiting;
    }
    txw_counter_add (self->acked, txw_acks_publish (&self->acks, self->pub, done));
}

//  Counts the records from index on as malformed: after a broken record
//  the rest of the batch cannot be located.
static void
s_broken (validator_t *self, const txw_envelope_t *env, uint32_t index, const char *error)
{
    char why [TXW_TEXT_MAX];
    snprintf (why, sizeof why, "record %u: %s", index, error? error: "malformed");
    txw_service_malformed (self->svc, env, env->count - index, why);
}

//  Notes that a send to out gave up (only happens at shutdown).
static void
s_gave_up (validator_t *self, txw_out_t *out)
{
    for (uint32_t i = 0; i < self->gave_up_count; i++)
        if (self->gave_up [i] == out)
            return;
    if (self->gave_up_count < TXW_MAX_ENDPOINTS)
        self->gave_up [self->gave_up_count++] = out;
    txw_counter_add (self->svc->errors, 1);
}

static bool
s_has_given_up (validator_t *self, txw_out_t *out)
{
    for (uint32_t i = 0; i < self->gave_up_count; i++)
        if (self->gave_up [i] == out)
            return true;
    return false;
}

//  Sends a batch once a record is packed into it. Returns -1 when
//  stopping and a scorer is not taking batches: the rest of the message
//  (left records) would only wait out the same timeout, so it is dropped.
static int
s_added (validator_t *self, txw_out_t *out, txw_batch_t *batch, uint32_t left)
{
    if (txw_out_added (out, batch) == 0)
        return 0;
    s_gave_up (self, out);
    log_error ("stopping: dropped %u records of a batch a scorer did not take", left);
    return -1;
}

//  Judges a batch of raw transactions. Returns the records received.
static uint32_t
s_raw_batch (validator_t *self, const txw_envelope_t *env)
{
    txw_cursor_t cur = env->records;
    int64_t now_ms = txw_now_ms ();
    uint32_t index;
    txw_raw_tx_t raw;
    txw_tx_t tx;
    checks_verdict_t verdict;
    uint64_t origin = txw_origin_id (env->source_id.ptr, env->source_id.len, env->epoch);
    for (index = 0; index < env->count; index++) {
        const char *error = NULL;
        if (txw_raw_tx_decode (&cur, &raw, &error)) {
            s_broken (self, env, index, error);
            break;
        }
        if (checks_apply (self->checks, &raw, now_ms, &tx, &verdict) == 0) {
            tx.origin_id = origin;
            tx.origin_ref = txw_origin_ref (env->type, env->seq, index);
            txw_out_t *out = txw_router_pick (self->router, tx.account_id,
                                              strlen (tx.account_id));
            txw_batch_t *batch = txw_out_batch (out, TXW_MSG_TX);
            txw_tx_encode (&batch->pk, &tx);
            if (s_added (self, out, batch, env->count - index - 1)) {
                index = env->count;
                break;
            }
            continue;
        }
        txw_reject_t *reject = &self->reject;
        txw_deadletter_origin (reject, env, index);
        checks_reject (&raw, &verdict, reject);
        reject->received_ms = now_ms;
        txw_counter_add (self->rejects [verdict.code], 1);
        s_dead_letter (self, env, index, reject);
        uint64_t suppressed;
        if (txw_log_limit (&self->reject_log, &suppressed))
            log_debug ("rejected %s record %u from %s: %s: %s (%llu more since)",
                       reject->reason, index, reject->origin_source, reject->field,
                       reject->message, (unsigned long long) suppressed);
    }
    return index;
}

//  Refuses one correction: a dead letter like a refused transaction's.
static void
s_refuse_correction (validator_t *self, const txw_envelope_t *env, uint32_t index,
                     const txw_correction_t *c, const checks_verdict_t *verdict,
                     int64_t now_ms)
{
    txw_reject_t *reject = &self->reject;
    memset (reject, 0, sizeof *reject);
    txw_deadletter_origin (reject, env, index);
    txw_deadletter_correction (c, reject);
    snprintf (reject->reason, sizeof reject->reason, "%s", txw_reject_names [verdict->code]);
    snprintf (reject->field, sizeof reject->field, "%s", verdict->field);
    snprintf (reject->message, sizeof reject->message, "correction: %.480s", verdict->message);
    reject->received_ms = now_ms;
    txw_counter_add (self->rejects [verdict->code], 1);
    s_dead_letter (self, env, index, reject);
}

//  Judges a batch of corrections and sends the good ones, with their
//  origin, to the scorer shard of their account (the path of the
//  transaction they correct). A record that does not decode is still
//  located by skipping it, so it becomes a dead letter of its own and the
//  records after it are judged. Returns the records received.
static uint32_t
s_correction_batch (validator_t *self, const txw_envelope_t *env)
{
    txw_cursor_t cur = env->records;
    int64_t now_ms = txw_now_ms ();
    uint64_t origin = txw_origin_id (env->source_id.ptr, env->source_id.len, env->epoch);
    txw_correction_t c;
    checks_verdict_t verdict;
    uint32_t index;
    for (index = 0; index < env->count; index++) {
        txw_cursor_t record = cur;
        if (txw_cursor_skip (&cur)) {
            s_broken (self, env, index, "correction record cut short");
            break;
        }
        record.end = cur.p;
        const char *error = NULL;
        if (txw_correction_decode (&record, &c, &error)) {
            memset (&c, 0, sizeof c);
            verdict.code = TXW_REJECT_BAD_TYPE;
            verdict.field = "";
            snprintf (verdict.message, sizeof verdict.message, "%s (a field of the wrong "
                      "type, or a text over its limit or holding NUL)", error);
            s_refuse_correction (self, env, index, &c, &verdict, now_ms);
            continue;
        }
        if (checks_correction (self->checks, &c, now_ms, &verdict)) {
            s_refuse_correction (self, env, index, &c, &verdict, now_ms);
            continue;
        }
        c.origin_id = origin;
        c.origin_ref = txw_origin_ref (env->type, env->seq, index);
        txw_out_t *out = txw_router_pick (self->router, c.account_id, strlen (c.account_id));
        txw_batch_t *batch = txw_out_batch (out, TXW_MSG_CORRECTION);
        txw_correction_encode (&batch->pk, &c);
        if (s_added (self, out, batch, env->count - index - 1)) {
            index = env->count;
            break;
        }
    }
    return index;
}

//  Forwards rejections made by a producer into the dead-letter path.
static uint32_t
s_reject_batch (validator_t *self, const txw_envelope_t *env)
{
    txw_cursor_t cur = env->records;
    uint32_t index;
    for (index = 0; index < env->count; index++) {
        const char *error = NULL;
        txw_reject_t *reject = &self->reject;
        if (txw_reject_decode (&cur, reject, &error)) {
            s_broken (self, env, index, error);
            break;
        }
        //  Kept as the producer made it; only what storage cannot do
        //  without is filled in.
        if (!reject->origin_source [0])
            txw_deadletter_origin (reject, env, index);
        if (!reject->received_ms)
            reject->received_ms = txw_now_ms ();
        //  Its payload is masked again by the rule of common/pii.h, whatever
        //  the producer did (an older one, someone else's). A payload our
        //  producer masked comes out as it was, so a row sent again is
        //  still one dead letter (proto/sql/009).
        char masked [sizeof reject->payload];
        txw_mask_row (reject->payload, strlen (reject->payload), reject->tx_id,
                      masked, sizeof masked);
        memcpy (reject->payload, masked, sizeof masked);
        for (int code = 0; code < TXW_REJECT_COUNT; code++)
            if (!strcmp (reject->reason, txw_reject_names [code])) {
                txw_counter_add (self->rejects [code], 1);
                break;
            }
        s_dead_letter (self, env, index, reject);
    }
    return index;
}

//  Receives and handles one message if one comes within timeout_ms.
static void
s_receive (validator_t *self, int timeout_ms)
{
    zmq_msg_t msg;
    txw_envelope_t env;
    int rc = txw_in_recv (self->in, timeout_ms, &msg, &env);
    if (rc < 0) {
        txw_service_malformed (self->svc, NULL, 1, "not a valid envelope");
        return;
    }
    if (rc == 0)
        return;
    int64_t started = txw_mono_us ();
    uint32_t received = 0;
    if (env.type == TXW_MSG_RAW_TX)
        received = s_raw_batch (self, &env);
    else
    if (env.type == TXW_MSG_REJECT)
        received = s_reject_batch (self, &env);
    else
    if (env.type == TXW_MSG_CORRECTION)
        received = s_correction_batch (self, &env);
    else
        txw_service_malformed (self->svc, &env, env.count? env.count: 1,
                               "the validator takes raw transactions, corrections and rejections");
    zmq_msg_close (&msg);
    txw_service_batch_in (self->svc, received, started);
}

static int
s_poll_timeout (validator_t *self)
{
    int timeout = S_POLL_MAX_MS;
    int due = txw_router_due_ms (self->router);
    if (due >= 0 && due < timeout)
        timeout = due;
    due = txw_out_due_ms (self->pub);
    if (due >= 0 && due < timeout)
        timeout = due;
    return timeout;
}

int
validator_run (validator_t *self)
{
    while (!self->svc->stop) {
        if (self->svc->reload) {
            self->svc->reload = 0;
            s_reload_rates (self);
        }
        s_receive (self, s_poll_timeout (self));
        s_acknowledge (self);
        if (txw_router_due_ms (self->router) == 0)
            txw_router_flush (self->router, false);
        if (txw_out_due_ms (self->pub) == 0)
            txw_out_flush (self->pub, false);
    }
    log_info ("stopping: flushing open batches");
    //  Shard by shard, skipping any that already refused at shutdown, so a
    //  dead scorer costs one send timeout, not one per open batch.
    for (uint32_t i = 0; i < txw_router_shards (self->router); i++) {
        txw_out_t *out = txw_router_shard (self->router, i);
        if (!s_has_given_up (self, out) && txw_out_flush (out, true))
            s_gave_up (self, out);
    }
    txw_out_flush (self->pub, true);
    if (self->gave_up_count)
        log_error ("%u scorer shard(s) did not take their last batches before exit",
                   self->gave_up_count);
    if (self->deadletters)
        log_info ("storing %zu pending dead letters", txw_pgwriter_pending (self->deadletters));
    return 0;
}
