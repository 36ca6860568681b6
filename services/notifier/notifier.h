/*  notifier - alerts from the pipeline to their channels, each alert once

    The gateway scales to several replicas, so notifications sent from it
    would be delivered once per replica; one notifier delivers each alert
    once. It subscribes to the scorers' alert PUBs and the aggregators' PUBs
    (which also carry window records: everything but alerts is ignored),
    routes each alert to the channels whose kinds and severity take it
    (channels.h: generic webhooks, Slack, PagerDuty, email), drops
    duplicates by key (a region health alert can come from several
    aggregator shards) and hands each alert, in each channel's format, to
    the delivery thread (delivery.h) without ever waiting for a receiver;
    with a secret, each webhook request is signed (signature.h).
    With a database it also reads the stored alerts after its cursor
    (catchup.h), so an alert raised while it was down is sent after it
    restarts, and, with a PagerDuty channel, the closes of alerts, which
    resolve their incidents.                                               */

#ifndef TXW_NOTIFIER_H
#define TXW_NOTIFIER_H

#include "delivery.h"
#include "service.h"

typedef struct {
    txw_service_config_t svc;
    const char *alert_endpoints;
    const char *webhook_url;
    int64_t min_score;
    const char *kinds;
    int64_t timeout_ms;
    int64_t max_attempts;
    int64_t backoff_ms;
    int64_t backoff_max_ms;
    int64_t queue;
    int64_t concurrency;
    int64_t drain_ms;
    const char *header;
    const char *webhook_secret_file;    //  "" for none: webhooks unsigned
    const char *channels_file;  //  "" for none: only --webhook-url
    const char *database_url;   //  "" for none: no catch-up
    const char *cursor_name;
} notifier_config_t;

typedef struct _notifier_t notifier_t;

//  Returns NULL (logged) if the options are bad or a socket or the delivery
//  thread cannot be set up.
notifier_t *notifier_new (const notifier_config_t *cfg, txw_service_t *svc);
void notifier_destroy (notifier_t **self_p);

//  Runs until svc->stop, then delivers what is queued until --drain-ms and
//  logs the rest. Returns the process exit code.
int notifier_run (notifier_t *self);

#endif
