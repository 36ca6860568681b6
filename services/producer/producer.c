/*  producer - the service loop: one source, one sink, paced, until done   */

#include "producer.h"
#include "catalogue.h"
#include "clock.h"
#include "csv.h"
#include "generator.h"
#include "log.h"
#include "position.h"
#include "rejects.h"
#include "sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_FLUSH_EVERY   64          //  records between linger checks at full speed
#define S_MAX_CATCH_UP  1000000     //  us of backlog the pacer may make up
#define S_POSITION_MS   1000        //  how often a file's position is written

struct _producer_t {
    producer_config_t cfg;
    txw_service_t *svc;
    generator_t *generator;         //  source: one of these two
    csv_reader_t *reader;
    sender_t *sender;               //  sink: one of these two
    csv_writer_t *writer;
    volatile int ready;
    record_t record;                //  reused for every record
    txw_reject_t reject;
    uint64_t records;
    uint64_t rejects;
    //  A file sent with acknowledgements: where its position is kept, the
    //  first line to send, and when the position is written next.
    char position [4096];
    uint64_t resume_line;
    bool already_done;
    bool at_eof;
    int64_t position_due_ms;
    //  Metrics.
    txw_counter_t *rejects_by_reason [TXW_REJECT_COUNT];
    txw_counter_t *fraud_by_pattern [GEN_PATTERN_COUNT];
    txw_counter_t *invalid_by_reason [TXW_REJECT_COUNT];
    txw_counter_t *late;
};

static void
s_register_metrics (producer_t *self)
{
    static const int csv_codes [] = {
        TXW_REJECT_CSV_COLUMNS, TXW_REJECT_CSV_QUOTING, TXW_REJECT_CSV_HEADER
    };
    char labels [96];
    for (int i = 0; i < 3; i++) {
        int code = csv_codes [i];
        snprintf (labels, sizeof labels, "reason=\"%s\"", txw_reject_names [code]);
        self->rejects_by_reason [code] = txw_counter_new (
            "txw_rejects_total", labels, "records sent on as dead letters, by reason");
    }
    for (int p = 1; p < GEN_PATTERN_COUNT; p++) {
        snprintf (labels, sizeof labels, "pattern=\"%s\"", generator_pattern_name (p));
        self->fraud_by_pattern [p] = txw_counter_new (
            "txw_producer_fraud_injected_total", labels,
            "records labelled fraud by the generator, by pattern");
    }
    for (int i = 0; i < generator_invalid_count; i++) {
        int code = generator_invalid_codes [i];
        snprintf (labels, sizeof labels, "reason=\"%s\"", txw_reject_names [code]);
        self->invalid_by_reason [code] = txw_counter_new (
            "txw_producer_invalid_injected_total", labels,
            "records broken on purpose, by the dead-letter reason they must get");
    }
    self->late = txw_counter_new ("txw_producer_late_injected_total", NULL,
                                  "records injected late (70-180 s behind the event clock)");
}

static bool s_ready (void *arg, char *detail, size_t size);

//  A file sent with acknowledgements keeps its position: reads it, so the
//  same command resumes where the last run's acknowledgements stopped.
static void
s_open_position (producer_t *self)
{
    const producer_config_t *cfg = &self->cfg;
    if (!self->reader || !sender_acknowledged (self->sender) || !strcmp (cfg->file, "-")
    ||  !strcmp (cfg->position_file, "none"))
        return;
    if (*cfg->position_file)
        snprintf (self->position, sizeof self->position, "%s", cfg->position_file);
    else
        snprintf (self->position, sizeof self->position, "%s.position", cfg->file);
    uint64_t line;
    bool done;
    if (cfg->from_start || position_load (self->position, cfg->file, &line, &done))
        return;
    self->resume_line = line;
    self->already_done = done;
    if (!done && line > 2)
        log_info ("resuming %s at line %llu: the lines before it were acknowledged "
                  "(%s; --from-start sends it all again)", cfg->file,
                  (unsigned long long) line, self->position);
}

//  Writes a file's position: the first line not yet acknowledged.
static void
s_save_position (producer_t *self, bool at_end)
{
    if (!*self->position)
        return;
    uint64_t line = sender_first_line (self->sender);
    bool done = at_end && line == 0 && sender_unacked (self->sender) == 0;
    if (line == 0) {
        line = csv_reader_line (self->reader) + 1;
        if (line < self->resume_line)
            line = self->resume_line;
    }
    position_save (self->position, self->cfg.file, line, done);
    self->position_due_ms = txw_mono_ms () + S_POSITION_MS;
}

//  Between records: takes the acknowledgements that came, sends again what
//  timed out, keeps the position, and waits while the journal is full.
static void
s_keep_up (producer_t *self)
{
    if (!self->sender || !sender_acknowledged (self->sender))
        return;
    sender_poll (self->sender, 0);
    while (sender_full (self->sender) && !self->svc->stop) {
        sender_flush (self->sender, true);
        sender_poll (self->sender, 100);
    }
    if (*self->position && txw_mono_ms () >= self->position_due_ms)
        s_save_position (self, false);
}

//  At the end: waits until everything sent is acknowledged, sending again
//  what times out, as long as acknowledgements keep coming. Returns how
//  many records are still unacknowledged.
static size_t
s_await_acks (producer_t *self)
{
    if (!self->sender || !sender_acknowledged (self->sender))
        return 0;
    size_t left = sender_unacked (self->sender);
    int64_t quiet_since = txw_mono_ms ();
    if (left)
        log_info ("waiting for %zu records to be acknowledged", left);
    while (left && !self->svc->stop) {
        sender_poll (self->sender, 100);
        size_t now_left = sender_unacked (self->sender);
        if (now_left < left)
            quiet_since = txw_mono_ms ();
        else
        if (txw_mono_ms () - quiet_since > self->cfg.drain_timeout_ms) {
            log_error ("%zu records were not acknowledged: no acknowledgement came for "
                       "%lld ms (--drain-timeout-ms)%s", now_left,
                       (long long) self->cfg.drain_timeout_ms,
                       *self->position? "; running the same command again sends them": "");
            break;
        }
        left = now_left;
        if (*self->position && txw_mono_ms () >= self->position_due_ms)
            s_save_position (self, false);
    }
    return left;
}

int
producer_catalogue_out (const producer_config_t *config)
{
    catalogue_t *catalogue = catalogue_new ((uint64_t) config->seed,
                                            (uint32_t) config->products);
    if (!catalogue) {
        log_error ("cannot build the catalogue: out of memory");
        return 1;
    }
    int rc = catalogue_write_csv (catalogue, config->catalogue_out);
    if (rc == 0)
        log_info ("wrote %u products to %s", catalogue_count (catalogue), config->catalogue_out);
    catalogue_destroy (&catalogue);
    return rc? 1: 0;
}

producer_t *
producer_new (const producer_config_t *config, txw_service_t *svc)
{
    producer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *config;
    self->svc = svc;
    s_register_metrics (self);
    if (*config->file) {
        if (config->products)
            log_warn ("--products shapes generated records; ignored with --file (sent as it is)");
        self->reader = csv_reader_new (config->file);
        if (!self->reader)
            goto err;
    }
    else {
        generator_config_t gen = {
            .seed = (uint64_t) config->seed,
            .run = (uint64_t) config->run,
            .accounts = (uint32_t) config->accounts,
            .merchants = (uint32_t) config->merchants,
            .branches = (uint32_t) config->branches,
            .regions = (uint32_t) config->regions,
            .fraud_rate = config->fraud_rate,
            .invalid_rate = config->invalid_rate,
            .late_rate = config->late_rate,
            .simulated = config->simulated,
            .flat = config->flat,
            .start_ms = config->start_ms,
            .event_rate = config->event_rate,
            .degraded_region = config->degraded_region,
            .degraded_share = config->degraded_share,
            .products = (uint32_t) config->products
        };
        if (!config->simulated && config->late_rate > 0)
            log_warn ("--late-rate needs a simulated clock (--start TIME); ignored with --start now");
        self->generator = generator_new (&gen);
        if (!self->generator) {
            log_error ("cannot build the synthetic population: out of memory");
            goto err;
        }
    }
    if (*config->csv_out) {
        //  order_id when there are orders to write: a catalogue's baskets,
        //  or a file's (whose order ids are kept).
        self->writer = csv_writer_open (config->csv_out, config->products > 0 || *config->file);
        if (!self->writer)
            goto err;
    }
    else {
        sender_acks_t acks = {
            config->ack_endpoints, config->ack_timeout_ms, config->max_unacked
        };
        self->sender = sender_new (config->validator_endpoints, svc->id,
                                   (int) config->svc.hwm, (int) config->svc.linger_ms,
                                   &acks, svc);
        if (!self->sender)
            goto err;
        if (!sender_acknowledged (self->sender))
            log_info ("no --ack-endpoints: records lost in a crash downstream are not sent again");
        s_open_position (self);
    }
    self->ready = 1;
    if (txw_service_admin (svc, (int) config->svc.admin_port, s_ready, self))
        goto err;
    return self;
err:
    producer_destroy (&self);
    return NULL;
}

void
producer_destroy (producer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    producer_t *self = *self_p;
    generator_destroy (&self->generator);
    csv_reader_destroy (&self->reader);
    sender_destroy (&self->sender, (int) self->cfg.drain_timeout_ms);
    csv_writer_close (&self->writer);
    free (self);
    *self_p = NULL;
}

static bool
s_ready (void *arg, char *detail, size_t size)
{
    producer_t *self = (producer_t *) arg;
    bool ready = self->ready != 0;
    if (self->writer)
        snprintf (detail, size, "{\"output\":\"csv\",\"ready\":%s}", ready? "true": "false");
    else {
        char endpoints [256];
        const char *list = self->cfg.validator_endpoints;
        txw_json_escape (endpoints, sizeof endpoints, list, strlen (list));
        snprintf (detail, size, "{\"output\":\"push\",\"endpoints\":\"%s\",\"ready\":%s}",
                  endpoints, ready? "true": "false");
    }
    return ready;
}

//  Gives one record to the sink and counts it. Returns -1 on a write error.
static int
s_emit_record (producer_t *self, record_t *rec)
{
    if (self->writer) {
        if (csv_writer_record (self->writer, rec))
            return -1;
        txw_counter_add (self->svc->records_out, 1);    //  a sender counts its own
    }
    else
        sender_record (self->sender, rec);
    self->records++;
    if (rec->is_fraud)
        txw_counter_add (self->fraud_by_pattern [rec->pattern], 1);
    if (rec->invalid >= 0)
        txw_counter_add (self->invalid_by_reason [rec->invalid], 1);
    if (rec->late)
        txw_counter_add (self->late, 1);
    return 0;
}

//  Gives one rejection to the sink; a CSV sink cannot carry it, so it logs.
static void
s_emit_reject (producer_t *self, const txw_reject_t *rej)
{
    int code = 0;
    for (int i = 0; i < TXW_REJECT_COUNT; i++)
        if (strcmp (rej->reason, txw_reject_names [i]) == 0)
            code = i;
    if (self->rejects_by_reason [code])
        txw_counter_add (self->rejects_by_reason [code], 1);
    self->rejects++;
    if (self->sender)
        sender_reject (self->sender, rej);
    else
        log_warn ("%s: %s", rej->reason, rej->message);
}

//  Waits until the next record is due at the current rate, sending lingering
//  batches meanwhile. Returns 0 when due, -1 if stopped or out of time.
static int
s_pace (producer_t *self, int64_t *next_us, int64_t deadline_us)
{
    double rate = self->cfg.rate;
    if (self->generator && !self->cfg.simulated)
        rate *= generator_activity (self->generator, txw_now_ms ());
    int64_t now = txw_mono_us ();
    if (*next_us < now - S_MAX_CATCH_UP)
        *next_us = now - S_MAX_CATCH_UP;
    while (now < *next_us) {
        if (self->svc->stop || (deadline_us && now >= deadline_us))
            return -1;
        int64_t wait = *next_us - now;
        if (self->sender) {
            int due = sender_due_ms (self->sender);
            if (due >= 0 && due * 1000 < wait)
                wait = due * 1000 > 100? due * 1000: 100;
        }
        if (wait > 100000)
            wait = 100000;          //  look at the stop flag ten times a second
        usleep ((useconds_t) wait);
        if (self->sender)
            sender_flush (self->sender, false);
        s_keep_up (self);
        now = txw_mono_us ();
    }
    *next_us += (int64_t) (1e6 / rate);
    return 0;
}

//  One step of the file source. Returns 1 to go on, 0 at the end of the
//  file, -1 on a read or write error.
static int
s_step_file (producer_t *self)
{
    switch (csv_reader_next (self->reader, &self->record, &self->reject)) {
        case CSV_ROW:
            if (csv_reader_line (self->reader) < self->resume_line)
                return 1;       //  acknowledged in an earlier run
            return s_emit_record (self, &self->record) == 0? 1: -1;
        case CSV_REJECT:
            if (csv_reader_line (self->reader) < self->resume_line)
                return 1;
            s_emit_reject (self, &self->reject);
            return 1;
        case CSV_EOF:
            self->at_eof = true;
            return 0;
        case CSV_ERROR:
            break;
    }
    return -1;
}

int
producer_run (producer_t *self)
{
    const producer_config_t *cfg = &self->cfg;
    int64_t started_us = txw_mono_us ();
    int64_t deadline_us = cfg->duration? started_us + cfg->duration * 1000000: 0;
    int64_t next_us = started_us;
    uint64_t steps = 0;
    int rc = 0;
    if (self->generator)
        log_info ("generating: seed %lld, %s clock%s%s, rate %g/s, fraud %g, invalid %g, late %g, to %s",
                  (long long) cfg->seed, cfg->simulated? "simulated": "live",
                  cfg->simulated? " from ": "", cfg->simulated? cfg->start: "",
                  cfg->rate, cfg->fraud_rate, cfg->invalid_rate, cfg->late_rate,
                  self->writer? cfg->csv_out: cfg->validator_endpoints);
    else {
        if (self->already_done) {
            log_info ("%s was sent and acknowledged in full before (%s): nothing to send; "
                      "--from-start sends it again", cfg->file, self->position);
            goto done;
        }
        log_info ("ingesting %s at %g/s to %s", cfg->file, cfg->rate,
                  self->writer? cfg->csv_out: cfg->validator_endpoints);
        if (csv_reader_header (self->reader, &self->reject)) {
            log_error ("%s: %s; stopping", self->reject.reason, self->reject.message);
            s_emit_reject (self, &self->reject);
            rc = 1;
            goto done;
        }
    }
    while (!self->svc->stop) {
        if (cfg->count && self->records + self->rejects >= (uint64_t) cfg->count)
            break;
        if (cfg->rate > 0) {
            if (s_pace (self, &next_us, deadline_us))
                break;
        }
        else
        if (++steps % S_FLUSH_EVERY == 0) {
            if (deadline_us && txw_mono_us () >= deadline_us)
                break;
            if (self->sender)
                sender_flush (self->sender, false);
            s_keep_up (self);
        }
        if (self->generator) {
            generator_next (self->generator, &self->record, txw_now_ms ());
            if (s_emit_record (self, &self->record)) {
                rc = 1;
                break;
            }
        }
        else {
            int step = s_step_file (self);
            if (step <= 0) {
                rc = step < 0? 1: 0;
                break;
            }
        }
    }
done:
    self->ready = 0;
    if (self->sender) {
        sender_flush (self->sender, true);
        //  Records no stage acknowledged are not known to be stored: the
        //  exit status says so, and a script feeding files stops there.
        //  A producer told to stop (a signal) exits 0 as every service does.
        if (s_await_acks (self) && !self->svc->stop)
            rc = 1;
        if (self->reader && !self->already_done)
            s_save_position (self, self->at_eof);
    }
    if (self->writer && csv_writer_close (&self->writer))
        rc = 1;
    double seconds = (double) (txw_mono_us () - started_us) / 1e6;
    log_info ("%s: %llu records, %llu rejected rows in %.3f s (%.0f records/s)%s",
              self->svc->stop? "stopped": "done", (unsigned long long) self->records,
              (unsigned long long) self->rejects, seconds,
              seconds > 0? (double) self->records / seconds: 0.0,
              self->sender? "; draining to the validators": "");
    return rc;
}
