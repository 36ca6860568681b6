/*  service - what every txwatch process has: options, logs, admin, signals  */

#include "service.h"
#include "clock.h"
#include "pii.h"
#include "transport.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static txw_service_t *s_current = NULL;

static void
s_on_signal (int signum)
{
    if (!s_current)
        return;
    if (signum == SIGHUP)
        s_current->reload = 1;
    else
        s_current->stop = 1;
}

void
txw_service_options (const txw_option_t *table, int argc, char **argv,
                     const char *program, const char *summary)
{
    int rc = txw_options_parse (table, argc, argv, program, summary);
    if (rc > 0)
        exit (0);
    if (rc < 0)
        exit (2);
}

txw_service_t *
txw_service_new (const char *name, const txw_service_config_t *cfg)
{
    int level = txw_log_level_parse (cfg->log_level);
    if (level < 0) {
        fprintf (stderr, "error: --log-level must be debug, info, warn or error\n");
        return NULL;
    }
    txw_service_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->name = name;
    snprintf (self->admin_address, sizeof self->admin_address, "%s",
              cfg->admin_address? cfg->admin_address: "127.0.0.1");
    if (cfg->id && *cfg->id)
        snprintf (self->id, sizeof self->id, "%s", cfg->id);
    else {
        char host [40] = "";
        gethostname (host, sizeof host - 1);
        snprintf (self->id, sizeof self->id, "%s@%s", name, host);
    }
    txw_log_init (name, (txw_log_level_t) level);

    //  Before anything can mask an id: no id may ever be shown under a key
    //  other than the one asked for, so a bad key file stops the start.
    if (cfg->pseudonym_key_file && *cfg->pseudonym_key_file) {
        if (txw_pseudonym_key_load (cfg->pseudonym_key_file)) {
            free (self);
            return NULL;
        }
        log_info ("pseudonym key %s loaded (fingerprint %s)", cfg->pseudonym_key_file,
                  txw_pseudonym_fingerprint_hex ());
    }
    else {
        txw_pseudonym_key_random ();
        log_warn ("no --pseudonym-key-file: ids are masked under a random key (fingerprint "
                  "%s), so these pseudonyms match no other service's and change at every "
                  "restart", txw_pseudonym_fingerprint_hex ());
    }

    //  czmq would install its own SIGINT handler; ours only sets flags.
    zsys_handler_set (NULL);
    zsys_init ();
    s_current = self;
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGHUP, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
    txw_transport_set_stop_flag (&self->stop);
    txw_transport_config_t transport = {
        .resolve_ms = cfg->resolve_s * 1000,
        .curve_secret_key = cfg->curve_secret_key,
        .curve_client_key = cfg->curve_client_key,
        .curve_server_key = cfg->curve_server_key,
        .curve_allowed = cfg->curve_allowed,
    };
    if (txw_transport_configure (&transport)) {
        txw_transport_set_stop_flag (NULL);
        s_current = NULL;
        free (self);
        return NULL;
    }

    self->records_in = txw_counter_new ("txw_records_in_total", NULL, "records received");
    self->records_out = txw_counter_new ("txw_records_out_total", NULL, "records sent downstream");
    self->batches_in = txw_counter_new ("txw_batches_in_total", NULL, "batches (messages) received");
    self->batches_out = txw_counter_new ("txw_batches_out_total", NULL, "batches (messages) sent");
    self->malformed = txw_counter_new ("txw_malformed_messages_total", NULL,
                                       "messages dropped because they are not valid envelopes or records");
    self->gaps = txw_counter_new ("txw_sequence_gaps_total", NULL,
                                  "messages missing between received sequence numbers");
    self->errors = txw_counter_new ("txw_errors_total", NULL, "internal and dependency errors");
    self->latency = txw_histogram_new ("txw_processing_seconds",
                                       "time to process one received batch");
    return self;
}

int
txw_service_admin (txw_service_t *self, int port, txw_ready_fn *ready, void *arg)
{
    bool failed;
    self->admin = txw_admin_new (self->admin_address, port, ready, arg, &failed);
    return failed? -1: 0;
}

void
txw_service_batch_in (txw_service_t *self, uint64_t records, int64_t started_us)
{
    txw_counter_add (self->batches_in, 1);
    txw_counter_add (self->records_in, records);
    txw_histogram_observe_us (self->latency, txw_mono_us () - started_us);
}

void
txw_service_malformed (txw_service_t *self, const txw_envelope_t *env, uint32_t dropped,
                       const char *why)
{
    if (!env)
        dropped = 1;
    txw_counter_add (self->malformed, dropped);
    uint64_t suppressed;
    if (!txw_log_limit (&self->malformed_log, &suppressed))
        return;
    if (env)
        log_warn ("dropped %u of %u records of a %s message from %.*s seq %llu: %s "
                  "(%llu similar warnings suppressed)", dropped, env->count,
                  txw_msg_type_name ((int) env->type), (int) env->source_id.len,
                  env->source_id.ptr, (unsigned long long) env->seq, why,
                  (unsigned long long) suppressed);
    else
        log_warn ("dropped a message: %s (%llu similar warnings suppressed)", why,
                  (unsigned long long) suppressed);
}

int
txw_service_main (const char *name, const txw_service_config_t *service_config,
                  const txw_stage_t *stage, const void *config)
{
    txw_service_t *svc = txw_service_new (name, service_config);
    if (!svc)
        return 2;
    int rc = 1;
    void *self = stage->create (config, svc);
    if (self)
        rc = stage->run (self);
    stage->destroy (&self);
    txw_service_destroy (&svc);
    return rc;
}

void
txw_service_destroy (txw_service_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_service_t *self = *self_p;
    txw_admin_destroy (&self->admin);
    if (s_current == self)
        s_current = NULL;
    txw_transport_set_stop_flag (NULL);
    txw_transport_shutdown ();
    free (self);
    *self_p = NULL;
    txw_metrics_reset ();
}
