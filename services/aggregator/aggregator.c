/*  aggregator - the sink stage: windows, stored transactions, alerts        */

#include "aggregator.h"
#include "acks.h"
#include "clock.h"
#include "deadletter.h"
#include "health.h"
#include "rejects.h"
#include "ring.h"
#include "timers.h"
#include "txset.h"
#include "transport.h"
#include "windows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

typedef struct {
    uint64_t notes;             //  txw_acks_t.noted when the flush committed
    uint64_t lsn;
} s_mark_t;

struct _aggregator_t {
    const aggregator_config_t *cfg;
    txw_service_t *svc;
    txw_in_t *in;
    txw_out_t *pub;
    windows_t *windows;
    sink_t *sink;           //  NULL without a database
    health_t *health;
    txw_window_t *closing;      //  region windows closed by this tick
    size_t closing_count, closing_capacity;
    txw_counter_t *late;
    txw_counter_t *too_late;
    txw_log_limiter_t too_late_log;
    txw_counter_t *replays;
    txw_counter_t *refused;
    txw_counter_t *duplicates;
    //  Corrections by outcome: applied, a copy of one applied, refused (a
    //  dead letter; dropped without a database), or put off (the database
    //  could not be read).
    txw_counter_t *corrections [4];
    txw_log_limiter_t correction_log;
    txw_txset_t *seen;          //  the tx_ids counted lately
    uint64_t seen_key [2];
    txw_counter_t *alerts_in;
    txw_counter_t *windows_closed;
    txw_counter_t *windows_published;
    txw_counter_t *health_alerts;
    txw_gauge_t *open_windows;
    txw_gauge_t *watermark;
    txw_gauge_t *pending;
    //  The origins of the records applied, oldest first: sent back to
    //  their producers once the flush that holds them is on disk. Each
    //  committed flush leaves a mark: how many notes it covers, and the
    //  WAL position that must be flushed first.
    txw_acks_t acks;
    s_mark_t *marks;
    size_t mark_head, mark_count, mark_capacity;
    txw_counter_t *acked;
    txw_counter_t *restarts;
    sink_store_t mode;
    int bound;                  //  checkpoints whose source id s_bind_sources bound
};

static bool
s_ready (void *arg, char *detail, size_t size)
{
    aggregator_t *self = arg;
    if (!self->sink) {
        snprintf (detail, size, "{\"postgres\":\"not configured\"}");
        return true;
    }
    return sink_status (self->sink, detail, size);
}

static bool
s_has_database (const aggregator_t *self)
{
    return self->cfg->database_url && *self->cfg->database_url;
}

//  Builds the shard's state: windows, region health, the de-duplication
//  set and the sink, which reads back what PostgreSQL holds.
static int
s_open_state (aggregator_t *self, bool migrate)
{
    const aggregator_config_t *cfg = self->cfg;
    self->windows = windows_new ((uint32_t) cfg->shard, cfg->window_s * 1000,
                                 cfg->lateness_s * 1000, cfg->retention_s * 1000,
                                 (int) cfg->alert_threshold);
    self->health = health_new (cfg->health_threshold, (int) cfg->health_windows,
                               cfg->health_min_tx);
    self->seen = txw_txset_new ((size_t) cfg->dedupe_capacity);
    if (!self->windows || !self->health || !self->seen)
        return -1;
    if (s_has_database (self)) {
        char consumer [64];
        snprintf (consumer, sizeof consumer, "aggregator-%lld", (long long) cfg->shard);
        self->sink = sink_new (cfg->database_url, consumer, self->mode,
                               (uint32_t) cfg->shard, (int) cfg->alert_threshold,
                               cfg->accounts && self->mode != SINK_STORE_NONE);
        if (!self->sink
        ||  sink_start (self->sink, migrate, self->windows, cfg->retention_s * 1000)
        ||  sink_load_seen (self->sink, self->seen, self->seen_key))
            return -1;
    }
    return 0;
}

static void
s_close_state (aggregator_t *self)
{
    sink_destroy (&self->sink);
    health_destroy (&self->health);
    windows_destroy (&self->windows);
    txw_txset_destroy (&self->seen);
    self->closing_count = 0;
    txw_acks_fini (&self->acks);
    txw_acks_init (&self->acks);
    self->mark_count = 0;
}

static void s_bind_sources (aggregator_t *self);

aggregator_t *
aggregator_new (const aggregator_config_t *cfg, txw_service_t *svc)
{
    sink_store_t mode;
    if (!strcmp (cfg->store, "all"))
        mode = SINK_STORE_ALL;
    else
    if (!strcmp (cfg->store, "flagged"))
        mode = SINK_STORE_FLAGGED;
    else
    if (!strcmp (cfg->store, "none"))
        mode = SINK_STORE_NONE;
    else {
        log_error ("--store must be all, flagged or none, not '%s'", cfg->store);
        return NULL;
    }
    aggregator_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    self->late = txw_counter_new ("txw_late_events_total", NULL,
                                  "events counted into a window that had closed");
    self->too_late = txw_counter_new ("txw_too_late_events_total", NULL,
                                      "events older than the windows in memory (the retention), "
                                      "added to the stored windows");
    self->refused = txw_counter_new ("txw_refused_transactions_total", NULL,
                                     "transactions refused by the windows (a sum would overflow), "
                                     "dead-lettered");
    self->duplicates = txw_counter_new ("txw_duplicate_transactions_total", NULL,
        "transactions whose tx_id was counted before (within the de-duplication horizon): "
        "not counted again");
    const char *outcomes [4] = { "applied", "copy", "refused", "put_off" };
    for (int i = 0; i < 4; i++) {
        char labels [32];
        snprintf (labels, sizeof labels, "outcome=\"%s\"", outcomes [i]);
        self->corrections [i] = txw_counter_new ("txw_corrections_total", labels,
            "corrections: applied, copies of one applied (no change), refused as dead "
            "letters (or dropped without a database), put off while the database could "
            "not be read (their senders send them again)");
    }
    self->replays = txw_counter_new ("txw_replayed_messages_total", NULL,
                                     "messages skipped because they were applied before");
    self->alerts_in = txw_counter_new ("txw_alerts_in_total", NULL, "alerts received for storage");
    self->windows_closed = txw_counter_new ("txw_windows_closed_total", NULL, "windows closed by the watermark");
    self->windows_published = txw_counter_new ("txw_windows_published_total", NULL,
                                               "window updates published (ticks and closes)");
    self->health_alerts = txw_counter_new ("txw_region_health_alerts_total", NULL,
        "region health alerts raised (declined-plus-failed share too high)");
    self->open_windows = txw_gauge_new ("txw_windows", NULL, "windows held in memory");
    self->watermark = txw_gauge_new ("txw_watermark_timestamp_seconds", NULL,
                                     "event-time watermark (seconds since epoch)");
    self->pending = txw_gauge_new ("txw_pending_rows", NULL, "rows waiting for the next database flush");
    self->acked = txw_counter_new ("txw_acknowledged_records_total", NULL,
        "records acknowledged to their producers (stored, refused as dead letters, or copies)");
    txw_acks_init (&self->acks);

    self->restarts = txw_counter_new ("txw_state_rebuilds_total", NULL,
        "times this shard rebuilt its state from PostgreSQL after the server lost commits");
    self->mode = mode;
    //  A random key: kept as the shard's own the first time, and the key of
    //  a run without a database.
    if (getrandom (self->seen_key, sizeof self->seen_key, 0) != (ssize_t) sizeof self->seen_key)
        goto err;
    if (s_open_state (self, cfg->migrate))
        goto err;
    if (!self->sink)
        log_warn ("no --database-url: windows are published but nothing is stored");
    self->in = txw_in_new_pull (cfg->bind, (int) cfg->svc.hwm, TXW_ADMIT_AGGREGATOR_PULL);
    //  With a database the checkpoints count gaps, across restarts too.
    if (self->in && !self->sink)
        txw_in_count_gaps (self->in, svc->gaps);
    self->pub = txw_out_new_pub (cfg->publish, TXW_ADMIT_AGGREGATOR_PUB, svc->id, 1000,
                                 (int) cfg->svc.linger_ms);
    if (!self->in || !self->pub)
        goto err;
    s_bind_sources (self);
    txw_out_count (self->pub, svc->records_out, svc->batches_out);
    if (txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self))
        goto err;
    log_info ("shard %lld: pulling on %s, publishing on %s, windows %llds, lateness %llds, store %s",
              (long long) cfg->shard, cfg->bind, cfg->publish, (long long) cfg->window_s,
              (long long) cfg->lateness_s, cfg->store);
    return self;
err:
    aggregator_destroy (&self);
    return NULL;
}

void
aggregator_destroy (aggregator_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    aggregator_t *self = *self_p;
    txw_in_destroy (&self->in);
    txw_out_destroy (&self->pub);
    s_close_state (self);
    txw_acks_fini (&self->acks);
    free (self->closing);
    free (self->marks);
    free (self);
    *self_p = NULL;
}

//  A row a transaction older than the windows in memory adds to a stored
//  window (a backfill, a file in account order): it still counts.
static void
s_add_to_stored (void *arg, const txw_window_t *row)
{
    sink_add_window_addition (arg, row);
}

//  Counts a transaction older than the windows in memory; without a
//  database there is nowhere to add it, and the log says so.
static void
s_too_late (aggregator_t *self, const txw_tx_t *tx)
{
    txw_counter_add (self->too_late, 1);
    uint64_t suppressed;
    if (!self->sink && txw_log_limit (&self->too_late_log, &suppressed))
        log_warn ("transaction %s is older than the windows in memory and there is no "
                  "database to add it to: not counted (%llu more since the last line)",
                  tx->tx_id, (unsigned long long) suppressed);
}

//  Stores a dead letter of record index of env, found by this stage: its
//  origin, reason code, field and message (rej holds the rest).
static void
s_dead_letter (aggregator_t *self, const txw_envelope_t *env, uint32_t index,
               txw_reject_t *rej, int code, const char *field, const char *message)
{
    txw_deadletter_origin (rej, env, index);
    snprintf (rej->reason, sizeof rej->reason, "%s", txw_reject_names [code]);
    snprintf (rej->field, sizeof rej->field, "%s", field);
    snprintf (rej->message, sizeof rej->message, "%s", message);
    rej->received_ms = txw_now_ms ();
    sink_add_dead_letter (self->sink, rej);
}

//  A transaction the windows refuse becomes a dead letter (it is not
//  stored either: stored transactions and window totals always agree).
static void
s_refuse (aggregator_t *self, const txw_envelope_t *env, uint32_t index, const txw_tx_t *tx,
          int code, const char *message)
{
    txw_counter_add (self->refused, 1);
    if (!self->sink)
        return;
    txw_reject_t rej;
    memset (&rej, 0, sizeof rej);
    snprintf (rej.tx_id, sizeof rej.tx_id, "%s", tx->tx_id);
    snprintf (rej.payload, sizeof rej.payload, "{\"tx_id\":\"%s\",\"amount_minor\":%lld,"
              "\"currency\":\"%s\"}", tx->tx_id, (long long) tx->amount_minor, tx->currency);
    s_dead_letter (self, env, index, &rej, code, "amount", message);
}

static int s_flush_now (aggregator_t *self);

//  What a stored window no longer in memory loses to a correction.
static void
s_correct_stored (void *arg, const txw_window_t *row)
{
    sink_add_window_correction (arg, row);
}

enum { S_APPLIED, S_COPY, S_REFUSED, S_PUT_OFF };

//  Judges one correction against what PostgreSQL holds (o) and what this
//  chunk applied before it (c [0 .. i - 1]); applies it, or refuses it as a
//  dead letter. Returns its outcome.
static int
s_correct (aggregator_t *self, const txw_envelope_t *env, uint32_t index,
           const txw_correction_t *c, size_t i, const sink_original_t *o)
{
    uint8_t before = o [i].corrected;
    for (size_t k = 0; k < i && !before; k++)
        if (o [k].found && !strcmp (c [k].tx_id, c [i].tx_id)
        &&  o [k].tx.status == TXW_STATUS_APPROVED && !o [k].corrected)
            before = c [k].status;      //  applied earlier in this chunk
    int code = -1;
    char message [TXW_TEXT_MAX + 1];
    if (!o [i].found) {
        code = TXW_REJECT_TX_NOT_FOUND;
        snprintf (message, sizeof message, "no stored transaction %.64s of that account at "
                  "ts %lld (corrections need --store all, or the transaction flagged)",
                  c [i].tx_id, (long long) c [i].ts_ms);
    }
    else
    if (before == c [i].status)
        return S_COPY;
    else
    if (before) {
        code = TXW_REJECT_ALREADY_CORRECTED;
        snprintf (message, sizeof message, "transaction %.64s was corrected to %s before; "
                  "it cannot become %s", c [i].tx_id, txw_correction_status_name (before),
                  txw_correction_status_name (c [i].status));
    }
    else
    if (o [i].tx.status != TXW_STATUS_APPROVED) {
        code = TXW_REJECT_NOT_APPROVED;
        snprintf (message, sizeof message, "transaction %.64s is %s; only an approved one "
                  "can become %s", c [i].tx_id, txw_status_name (o [i].tx.status),
                  txw_correction_status_name (c [i].status));
    }
    if (code >= 0) {
        txw_reject_t rej;
        memset (&rej, 0, sizeof rej);
        txw_deadletter_correction (&c [i], &rej);
        s_dead_letter (self, env, index, &rej, code, code == TXW_REJECT_TX_NOT_FOUND? "tx_id":
                       "status", message);
        return S_REFUSED;
    }
    windows_correct (self->windows, &o [i].tx, s_correct_stored, self->sink);
    sink_add_correction (self->sink, &c [i], &o [i].tx);
    return S_APPLIED;
}

//  Applies the corrections of a message, a chunk at a time: the chunk's
//  originals are read from PostgreSQL in one statement, after a flush has
//  written everything applied before (the originals, and the corrections
//  of earlier chunks and messages). So what is stored is the whole truth:
//  txw_data.tx_corrections is the de-duplication set of corrections, and
//  a correction sent again after a crash finds the one its first copy
//  committed, or nothing if that flush never committed. Corrections are
//  rare, so the flush they force costs little. Returns the records taken
//  (applied, or put off for their senders to send again).
#define S_CORRECTION_CHUNK 256
static uint32_t
s_corrections (aggregator_t *self, const txw_envelope_t *env, txw_cursor_t *cur,
               const char **error)
{
    static txw_correction_t c [S_CORRECTION_CHUNK];
    static sink_original_t o [S_CORRECTION_CHUNK];
    uint32_t taken = 0;
    while (taken < env->count) {
        size_t n = 0;
        while (n < S_CORRECTION_CHUNK && taken + n < env->count
           &&  txw_correction_decode (cur, &c [n], error) == 0)
            n++;
        if (n == 0)
            break;              //  a broken record: the rest cannot be located
        uint64_t suppressed;
        if (!self->sink) {
            //  Without a database there is no stored original to correct,
            //  and sending them again would not change that.
            txw_counter_add (self->corrections [S_REFUSED], n);
            if (txw_log_limit (&self->correction_log, &suppressed))
                log_warn ("%zu corrections dropped: without --database-url there is nothing "
                          "to correct (%llu more lines suppressed)", n,
                          (unsigned long long) suppressed);
            for (size_t i = 0; i < n; i++)
                if (c [i].origin_id)
                    txw_acks_note (&self->acks, c [i].origin_id, c [i].origin_ref);
        }
        else
        if (s_flush_now (self) || !self->sink
        ||  sink_originals (self->sink, c, n, o)) {
            //  Not acknowledged: their senders' journals send them again.
            txw_counter_add (self->corrections [S_PUT_OFF], n);
            if (txw_log_limit (&self->correction_log, &suppressed))
                log_warn ("%zu corrections put off: PostgreSQL could not be read (%llu more "
                          "lines suppressed)", n, (unsigned long long) suppressed);
        }
        else
            for (size_t i = 0; i < n; i++) {
                int outcome = s_correct (self, env, taken + (uint32_t) i, c, i, o);
                txw_counter_add (self->corrections [outcome], 1);
                if (c [i].origin_id)
                    txw_acks_note (&self->acks, c [i].origin_id, c [i].origin_ref);
            }
        taken += (uint32_t) n;
        if (n < S_CORRECTION_CHUNK)
            break;
    }
    return taken;
}

//  Applies one received message. Returns the records applied.
static uint32_t
s_apply (aggregator_t *self, const txw_envelope_t *env, const char *key)
{
    char source [TXW_NAME_MAX * 2 + 16];
    int len = snprintf (source, sizeof source, "%.*s/%s", (int) env->source_id.len,
                        env->source_id.ptr, txw_msg_type_name ((int) env->type));
    uint64_t missing = 0;
    if (self->sink && sink_seen (self->sink, source, (size_t) len, env->epoch,
                                     env->seq, &missing)) {
        txw_counter_add (self->replays, 1);
        return 0;
    }
    if (missing) {
        //  PUB/SUB never reaches here; on PUSH/PULL a gap means batches were
        //  lost in a connection that closed (a restart while traffic flowed).
        txw_counter_add (self->svc->gaps, missing);
        log_warn ("%llu messages from %s never arrived (sequence %llu follows %llu)",
                  (unsigned long long) missing, source, (unsigned long long) env->seq,
                  (unsigned long long) (env->seq - missing - 1));
    }
    txw_cursor_t cur = env->records;
    const char *error = NULL;
    uint32_t applied = 0;
    if (env->type == TXW_MSG_SCORED_TX) {
        txw_tx_t tx;
        for (uint32_t i = 0; i < env->count; i++) {
            if (txw_tx_decode (&cur, true, &tx, &error))
                break;
            //  Whatever becomes of it below is in the next flush.
            if (tx.origin_id)
                txw_acks_note (&self->acks, tx.origin_id, tx.origin_ref);
            //  A tx_id counted before changes nothing (not stored again
            //  either: the first copy stands).
            uint64_t hash = txw_txset_hash (self->seen_key [0], self->seen_key [1],
                                            tx.tx_id, strlen (tx.tx_id));
            if (txw_txset_has (self->seen, hash)) {
                txw_counter_add (self->duplicates, 1);
                applied++;
                continue;
            }
            win_result_t result = windows_add (self->windows, &tx,
                                               self->sink? s_add_to_stored: NULL, self->sink);
            if (result == WIN_OVERFLOW) {
                s_refuse (self, env, i, &tx, TXW_REJECT_SUM_OVERFLOW,
                          "the amount would take its window's sum past 2^63 - 1 minor units");
                applied++;
                continue;
            }
            txw_txset_add (self->seen, hash);
            if (self->sink)
                sink_add_seen (self->sink, hash);
            if (result != WIN_ON_TIME)
                txw_counter_add (self->late, 1);
            if (result == WIN_TOO_LATE)
                s_too_late (self, &tx);
            if (self->sink)
                sink_add_tx (self->sink, &tx);
            applied++;
        }
    }
    else
    if (env->type == TXW_MSG_CORRECTION)
        applied = s_corrections (self, env, &cur, &error);
    else
    if (env->type == TXW_MSG_ALERT) {
        txw_alert_t alert;
        for (uint32_t i = 0; i < env->count; i++) {
            if (txw_alert_decode (&cur, &alert, &error))
                break;
            if (self->sink)
                sink_add_alert (self->sink, &alert);
            applied++;
        }
        txw_counter_add (self->alerts_in, applied);
    }
    else
        error = "message type not accepted by the aggregator";
    if (applied < env->count) {
        //  The records after a broken one cannot be located: count them all.
        txw_service_malformed (self->svc, env, env->count - applied,
                               error? error: "not a scored transaction");
    }
    if (self->sink)
        sink_applied (self->sink, source, (size_t) len, env->epoch, env->seq, key);
    return applied;
}

static void
s_publish_window (void *arg, const win_entry_t *e)
{
    aggregator_t *self = arg;
    txw_batch_t *batch = txw_out_batch (self->pub, TXW_MSG_WINDOW);
    txw_window_encode (&batch->pk, &e->row);
    txw_out_added (self->pub, batch);
    txw_counter_add (self->windows_published, 1);
}

//  Keeps the region windows the watermark closes, for the health rule.
static void
s_window_closed (void *arg, const win_entry_t *e)
{
    aggregator_t *self = arg;
    if (e->dim != TXW_DIM_REGION)
        return;
    if (self->closing_count == self->closing_capacity) {
        size_t capacity = self->closing_capacity? self->closing_capacity * 2: 64;
        txw_window_t *closing = realloc (self->closing, capacity * sizeof *closing);
        if (!closing) {
            log_error ("out of memory: region %s not judged for health", e->row.key);
            return;
        }
        self->closing = closing;
        self->closing_capacity = capacity;
    }
    self->closing [self->closing_count++] = e->row;
}

static int
s_by_start (const void *a, const void *b)
{
    const txw_window_t *x = a, *y = b;
    return x->window_start_ms < y->window_start_ms? -1: x->window_start_ms > y->window_start_ms;
}

//  Shows the health rule the region windows just closed, oldest first, and
//  raises its alerts: published for the gateway and stored with the flush.
static void
s_judge_regions (aggregator_t *self)
{
    if (self->closing_count == 0)
        return;                 //  closing may still be NULL: qsort needs an array
    qsort (self->closing, self->closing_count, sizeof *self->closing, s_by_start);
    for (size_t i = 0; i < self->closing_count; i++) {
        txw_alert_t alert;
        if (!health_observe (self->health, &self->closing [i], &alert))
            continue;
        log_warn ("%s", alert.message);
        txw_counter_add (self->health_alerts, 1);
        txw_batch_t *batch = txw_out_batch (self->pub, TXW_MSG_ALERT);
        txw_alert_encode (&batch->pk, &alert);
        txw_out_added (self->pub, batch);
        if (self->sink)
            sink_add_alert (self->sink, &alert);
    }
    self->closing_count = 0;
}

//  Sends the producers the acknowledgements of everything applied so far:
//  without a database, nothing more will make them safer.
static void
s_acknowledge (aggregator_t *self, size_t notes)
{
    txw_counter_add (self->acked, txw_acks_publish (&self->acks, self->pub, notes));
}

//  A flush committed: its notes wait for the WAL to reach disk.
static void
s_mark (aggregator_t *self)
{
    if (self->mark_count == self->mark_capacity
    &&  txw_ring_grow ((void **) &self->marks, sizeof *self->marks, &self->mark_head,
                       self->mark_count, &self->mark_capacity, 64)) {
        log_error ("out of memory: acknowledgements of a flush wait for the next one");
        return;                 //  the next mark covers these notes too
    }
    s_mark_t *m = &self->marks [(self->mark_head + self->mark_count++) % self->mark_capacity];
    m->notes = self->acks.noted;
    m->lsn = sink_commit_lsn (self->sink);
}

//  Acknowledges the flushes the server has written to disk.
static void
s_durable (void *arg)
{
    aggregator_t *self = arg;
    if (!self->sink || self->mark_count == 0)
        return;
    uint64_t flushed;
    if (sink_durable_lsn (self->sink, &flushed))
        return;
    uint64_t upto = 0;
    while (self->mark_count && self->marks [self->mark_head].lsn <= flushed) {
        upto = self->marks [self->mark_head].notes;
        self->mark_head = (self->mark_head + 1) % self->mark_capacity;
        self->mark_count--;
    }
    if (upto > self->acks.taken)
        s_acknowledge (self, (size_t) (upto - self->acks.taken));
}

//  A checkpoint's source ("<source id>/<message type>") and its sender's
//  key: binds the source id to that key in the input.
static void
s_bind_source (void *arg, const char *source, size_t len, const char *key)
{
    aggregator_t *self = arg;
    //  A message type's name has no '/': the last one ends the source id.
    size_t id_len = len;
    while (id_len > 0 && source [id_len - 1] != '/')
        id_len--;
    if (id_len > 0)
        len = id_len - 1;
    if (txw_in_bind (self->in, source, len, key) == 0)
        self->bound++;
}

//  With CURVE roles, binds every source id of the checkpoints to the key
//  stored with it before anything is received (at start and after a
//  rebuild): a key that sends first after a restart cannot claim a source
//  id another key holds and commit a forged checkpoint under it.
static void
s_bind_sources (aggregator_t *self)
{
    if (!self->sink || !self->in)
        return;
    self->bound = 0;
    sink_each_key (self->sink, s_bind_source, self);
    if (self->bound)
        log_info ("the source ids of %d checkpoints bound to the CURVE keys stored with them",
                  self->bound);
}

//  PostgreSQL lost commits it had answered: everything in memory is ahead
//  of it. Starts the shard again from what it kept; nothing applied since
//  its last durable point was acknowledged, so producers send it again.
static void
s_rebuild (aggregator_t *self)
{
    txw_counter_add (self->restarts, 1);
    for (;;) {
        s_close_state (self);
        if (s_open_state (self, false) == 0) {
            log_info ("shard state rebuilt from PostgreSQL");
            s_bind_sources (self);
            return;
        }
        if (self->svc->stop)
            break;
        log_error ("cannot rebuild the shard's state from PostgreSQL; trying again in 1 s");
        zclock_sleep (1000);
    }
    //  Stopping before PostgreSQL answered: no sink, so nothing more is
    //  stored or acknowledged; the producers send it all again.
    sink_destroy (&self->sink);
}

//  Every tick (a second): close the windows the watermark passed, judge
//  the regions, publish what changed.
static void
s_tick (void *arg)
{
    aggregator_t *self = arg;
    int closed = windows_advance (self->windows, s_window_closed, self);
    //  Their alerts wait while a flush's outcome is unknown (sink_blocked).
    if (!self->sink || !sink_blocked (self->sink))
        s_judge_regions (self);
    txw_counter_add (self->windows_closed, (uint64_t) closed);
    windows_drain_dirty (self->windows, false, s_publish_window, self);
    txw_out_flush (self->pub, true);
    txw_gauge_set (self->open_windows, (int64_t) windows_size (self->windows));
    if (!s_has_database (self))
        s_acknowledge (self, txw_acks_count (&self->acks));
    int64_t watermark = windows_watermark (self->windows);
    txw_gauge_set (self->watermark, watermark == INT64_MIN? 0: watermark / 1000);
}

//  Writes what is pending. Returns 0, or -1 if it is still pending (or
//  the shard's state was rebuilt: PostgreSQL lost commits).
static int
s_flush_now (aggregator_t *self)
{
    if (sink_flush (self->sink, self->windows) == 0) {
        s_mark (self);
        return 0;
    }
    if (sink_lost (self->sink))
        s_rebuild (self);
    return -1;
}

//  Every flush interval, or at once when the queue is long: write.
static void
s_flush (void *arg)
{
    aggregator_t *self = arg;
    if (!self->sink)
        return;
    s_flush_now (self);
    if (self->sink)
        txw_gauge_set (self->pending, (int64_t) sink_pending (self->sink));
}

//  Receives and applies one message if one comes within timeout_ms.
static int
s_receive (aggregator_t *self, int timeout_ms)
{
    zmq_msg_t msg;
    txw_envelope_t env;
    int rc = txw_in_recv (self->in, timeout_ms, &msg, &env);
    if (rc == 1) {
        int64_t started = txw_mono_us ();
        uint32_t applied = s_apply (self, &env, txw_in_key (self->in, &msg));
        zmq_msg_close (&msg);
        txw_service_batch_in (self->svc, applied, started);
    }
    else
    if (rc < 0)
        txw_service_malformed (self->svc, NULL, 1, "not a valid envelope");
    return rc;
}

int
aggregator_run (aggregator_t *self)
{
    txw_timers_t timers;
    txw_timers_init (&timers);
    txw_timers_add (&timers, self->cfg->tick_ms, s_tick, self);
    int flush = txw_timers_add (&timers, self->cfg->flush_ms, s_flush, self);
    txw_timers_add (&timers, 50, s_durable, self);
    while (!self->svc->stop) {
        int timeout = txw_timers_wait_ms (&timers, 100);
        //  With the database behind, stop taking input: PUSH/PULL then
        //  holds the upstream back instead of this process growing.
        if (self->sink && (sink_pending (self->sink) >= (size_t) self->cfg->max_pending
                           || sink_blocked (self->sink)))
            zclock_sleep (timeout);
        else
            s_receive (self, timeout);
        txw_timers_run (&timers);
        if (self->sink && sink_pending (self->sink) >= 50000)
            txw_timers_fire (&timers, flush);
    }
    if (!self->windows || !self->health || !self->seen) {
        log_error ("stopped without the shard's state (it could not be rebuilt)");
        return 1;
    }
    //  Drain: apply what has already arrived, then write it all.
    log_info ("stopping: draining queued messages");
    int64_t deadline = txw_mono_ms () + 2000;
    while (txw_mono_ms () < deadline && s_receive (self, 50) != 0)
        ;
    s_tick (self);
    int rc = 0;
    if (self->sink) {
        deadline = txw_mono_ms () + 10000;
        while (sink_flush (self->sink, self->windows) != 0) {
            if (txw_mono_ms () > deadline) {
                log_error ("could not write %zu pending rows at shutdown",
                           sink_pending (self->sink));
                rc = 1;
                break;
            }
            zclock_sleep (200);
        }
        if (rc == 0) {
            s_mark (self);
            //  Wait for the WAL, a few seconds at most, to acknowledge all.
            deadline = txw_mono_ms () + 3000;
            while (self->mark_count && txw_mono_ms () < deadline) {
                s_durable (self);
                if (self->mark_count)
                    zclock_sleep (50);
            }
        }
    }
    log_info ("stopped");
    return rc;
}
