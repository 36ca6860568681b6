/*  notifier - alerts from the pipeline to their channels, each alert once  */

#include "notifier.h"
#include "catchup.h"
#include "channels.h"
#include "clock.h"
#include "email.h"
#include "pagerduty.h"
#include "payload.h"
#include "slack.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RECENT_KEYS   65536   //  keys remembered to drop duplicates
#define S_CATCHUP_MS    500     //  how often the stored alerts are read
//  The delivery key of a PagerDuty resolve: never an alert key (those start
//  with the kind), so its end is told from an alert's.
#define S_RESOLVE       "resolve:"

//  What the notifier knows of a key it sent (values in recent).
#define S_IN_FLIGHT     ((void *) 1)
#define S_FINISHED      ((void *) 2)

struct _notifier_t {
    const notifier_config_t *cfg;
    txw_service_t *svc;
    txw_in_t *in;
    nt_delivery_t *delivery;
    nt_channels_t channels;     //  one delivery target per entry
    zhash_t *recent;            //  keys sent lately: S_IN_FLIGHT or S_FINISHED
    char **ring;                //  the same keys, oldest first, to forget them
    size_t ring_head, ring_count;
    nt_catchup_t *catchup;      //  NULL without a database
    int64_t catchup_at_ms;
    txw_counter_t *caught_up;
    txw_counter_t *alerts_in;
    txw_counter_t *filtered;
    txw_counter_t *duplicates;
    txw_counter_t *resolves;
};

static bool
s_ready (void *arg, char *detail, size_t size)
{
    notifier_t *self = arg;
    snprintf (detail, size, "{\"queue\":%lld}",
              (long long) (self->delivery? nt_delivery_pending (self->delivery): 0));
    return true;
}

//  The extra header comes from --header or, for secrets kept out of the
//  process list, TXW_WEBHOOK_HEADER. Returns -1 if it is malformed.
static int
s_parse_header (const char **header)
{
    if (!*header || !**header)
        *header = getenv ("TXW_WEBHOOK_HEADER");
    if (*header && !**header)
        *header = NULL;
    if (!*header)
        return 0;
    const char *colon = strchr (*header, ':');
    if (!colon || colon == *header || strpbrk (*header, "\r\n")) {
        log_error ("--header must be one 'Name: value' line");
        return -1;
    }
    return 0;
}

notifier_t *
notifier_new (const notifier_config_t *cfg, txw_service_t *svc)
{
    notifier_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    nt_delivery_config_t dcfg = {
        .channels = &self->channels,
        .timeout_ms = cfg->timeout_ms, .max_attempts = cfg->max_attempts,
        .backoff_ms = cfg->backoff_ms, .backoff_max_ms = cfg->backoff_max_ms,
        .queue_max = cfg->queue, .concurrency = cfg->concurrency
    };
    const char *header = cfg->header;
    if (s_parse_header (&header))
        goto err;
    bool webhooks = cfg->webhook_url && *cfg->webhook_url;
    if (webhooks && nt_channels_add_webhooks (&self->channels, cfg->webhook_url, cfg->kinds,
                                              (int) cfg->min_score, cfg->webhook_secret_file,
                                              header))
        goto err;
    if (webhooks && !(cfg->webhook_secret_file && *cfg->webhook_secret_file))
        log_warn ("no --webhook-secret-file: webhooks are unsigned, so a receiver cannot tell "
                  "them from forged ones (proto/SERVING.md, Webhooks)");
    if (cfg->channels_file && *cfg->channels_file
    &&  nt_channels_load (&self->channels, cfg->channels_file))
        goto err;
    if (self->channels.count == 0) {
        log_error ("--webhook-url (TXW_WEBHOOK_URL) or --channels-file (TXW_CHANNELS_FILE) is "
                   "required: where to send alerts");
        goto err;
    }
    if (cfg->backoff_max_ms < cfg->backoff_ms) {
        log_error ("--backoff-max-ms %lld is below --backoff-ms %lld",
                   (long long) cfg->backoff_max_ms, (long long) cfg->backoff_ms);
        goto err;
    }
    self->alerts_in = txw_counter_new ("txw_notifier_alerts_in_total", NULL, "alerts received");
    self->filtered = txw_counter_new ("txw_notifier_alerts_filtered_total", NULL,
                                      "alerts not sent: no channel takes their kind and severity");
    self->resolves = txw_counter_new ("txw_notifier_resolves_total", NULL,
        "alerts closed by an analyst whose PagerDuty incidents were sent a resolve");
    self->duplicates = txw_counter_new ("txw_notifier_duplicate_alerts_total", NULL,
        "alerts received with a key already sent (a region health alert from two shards)");
    self->recent = zhash_new ();
    self->ring = calloc (S_RECENT_KEYS, sizeof *self->ring);
    if (!self->recent || !self->ring)
        goto err;
    self->delivery = nt_delivery_new (&dcfg);
    if (!self->delivery)
        goto err;
    self->in = txw_in_new_sub (cfg->alert_endpoints, TXW_MSG_BIT (TXW_MSG_ALERT));
    if (!self->in) {
        log_error ("bad --alert-endpoints '%s'", cfg->alert_endpoints);
        goto err;
    }
    txw_in_count_gaps (self->in, svc->gaps);
    self->caught_up = txw_counter_new ("txw_notifier_caught_up_alerts_total", NULL,
        "stored alerts sent that were not heard live (the notifier was down, or a PUB dropped them)");
    if (cfg->database_url && *cfg->database_url) {
        self->catchup = nt_catchup_new (cfg->database_url, cfg->cursor_name);
        if (!self->catchup)
            goto err;
        if (nt_channels_have (&self->channels, NT_CHANNEL_PAGERDUTY))
            nt_catchup_follow_closes (self->catchup);
    }
    else {
        log_warn ("no --database-url: alerts raised while the notifier is down are not sent "
                  "after it restarts");
        if (nt_channels_have (&self->channels, NT_CHANNEL_PAGERDUTY))
            log_warn ("no --database-url: PagerDuty incidents are not resolved when their alerts "
                      "are closed (the closes are read from txw_data.alert_events)");
    }
    if (txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self))
        goto err;
    for (int i = 0; i < self->channels.count; i++) {
        const nt_channel_t *channel = &self->channels.items [i];
        log_info ("channel %s (%s): %s%s%s, severity >= %s, score >= %d%s", channel->name,
                  nt_channel_type_name (channel->type),
                  channel->kinds [0]? "fraud": "", channel->kinds [0] && channel->kinds [1]? ",": "",
                  channel->kinds [1]? "region_health": "", txw_severity_name (channel->min_severity),
                  channel->min_score, channel->type != NT_CHANNEL_WEBHOOK? "":
                  channel->signer? ", signed (" NT_SIGNATURE_HEADER ")": ", unsigned");
    }
    log_info ("alerts from %s to %d channel entries; timeout %lld ms, %lld attempts, back-off "
              "%lld..%lld ms, queue %lld%s", cfg->alert_endpoints, self->channels.count,
              (long long) cfg->timeout_ms, (long long) cfg->max_attempts,
              (long long) cfg->backoff_ms, (long long) cfg->backoff_max_ms,
              (long long) cfg->queue, header? ", webhooks with an extra header": "");
    return self;
err:
    notifier_destroy (&self);
    return NULL;
}

void
notifier_destroy (notifier_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    notifier_t *self = *self_p;
    txw_in_destroy (&self->in);
    nt_delivery_destroy (&self->delivery);
    nt_channels_clear (&self->channels);    //  after the thread that uses them has stopped
    nt_catchup_destroy (&self->catchup);
    zhash_destroy (&self->recent);
    if (self->ring)
        for (size_t i = 0; i < self->ring_count; i++)
            free (self->ring [(self->ring_head + i) % S_RECENT_KEYS]);
    free (self->ring);
    free (self);
    *self_p = NULL;
}

//  Remembers a key sent (S_IN_FLIGHT) or finished; forgets the oldest
//  beyond S_RECENT_KEYS.
static void
s_remember (notifier_t *self, const char *key, void *state)
{
    if (zhash_lookup (self->recent, key)) {
        zhash_update (self->recent, key, state);
        return;
    }
    if (self->ring_count == S_RECENT_KEYS) {
        char *oldest = self->ring [self->ring_head];
        zhash_delete (self->recent, oldest);
        free (oldest);
        self->ring_head = (self->ring_head + 1) % S_RECENT_KEYS;
        self->ring_count--;
    }
    char *copy = strdup (key);
    if (!copy || zhash_insert (self->recent, key, state)) {
        free (copy);
        return;                 //  cannot remember it: sending twice beats not sending
    }
    self->ring [(self->ring_head + self->ring_count) % S_RECENT_KEYS] = copy;
    self->ring_count++;
}

static bool
s_wanted (notifier_t *self, const txw_alert_t *alert)
{
    for (int i = 0; i < self->channels.count; i++)
        if (nt_channel_wants (&self->channels.items [i], alert))
            return true;
    return false;
}

//  The alert in the channel's format. NULL if memory ran out.
static char *
s_body (const nt_channel_t *channel, const txw_alert_t *alert)
{
    switch (channel->type) {
        case NT_CHANNEL_SLACK:
            return nt_slack_body (alert);
        case NT_CHANNEL_PAGERDUTY:
            return nt_pagerduty_trigger (alert, channel->routing_key);
        case NT_CHANNEL_EMAIL:
            return nt_email_message (alert, channel->from, (const char *const *) channel->to,
                                     channel->to_count, txw_now_ms ());
        default:
            return nt_alert_body (alert);
    }
}

//  Hands bodies (one per channel entry, NULL where not routed) to delivery
//  under key. Returns 0, or -1 if one could not be made or the queue
//  refused them (freed either way).
static int
s_submit (notifier_t *self, const char *key, char **bodies, bool complete)
{
    if (!complete) {
        log_error ("out of memory: alert %s not sent", key);
        txw_counter_add (self->svc->errors, 1);
        for (int i = 0; i < self->channels.count; i++)
            free (bodies [i]);
        return -1;
    }
    return nt_delivery_submit (self->delivery, key, bodies);
}

//  Hands an alert to delivery, in the format of each channel that takes
//  it. Returns 0, or -1 if the queue refused it.
static int
s_send (notifier_t *self, const txw_alert_t *alert, const char *key)
{
    char *bodies [NT_MAX_CHANNELS] = { NULL };
    bool complete = true;
    for (int i = 0; i < self->channels.count; i++)
        if (nt_channel_wants (&self->channels.items [i], alert))
            complete &= (bodies [i] = s_body (&self->channels.items [i], alert)) != NULL;
    if (s_submit (self, key, bodies, complete))
        return -1;
    s_remember (self, key, S_IN_FLIGHT);
    return 0;
}

//  A closed alert: a resolve to each PagerDuty channel that took it.
static nt_catchup_take_t
s_take_closed (void *arg, const txw_alert_t *alert, const char *key)
{
    notifier_t *self = arg;
    char *bodies [NT_MAX_CHANNELS] = { NULL };
    bool complete = true, routed = false;
    for (int i = 0; i < self->channels.count; i++) {
        const nt_channel_t *channel = &self->channels.items [i];
        if (channel->type == NT_CHANNEL_PAGERDUTY && nt_channel_wants (channel, alert)) {
            routed = true;
            complete &= (bodies [i] = nt_pagerduty_resolve (key, channel->routing_key)) != NULL;
        }
    }
    if (!routed)
        return NT_CATCHUP_DONE;
    char resolve_key [sizeof S_RESOLVE + TXW_ALERT_KEY_MAX];
    snprintf (resolve_key, sizeof resolve_key, S_RESOLVE "%s", key);
    if (s_submit (self, resolve_key, bodies, complete))
        return NT_CATCHUP_LATER;
    txw_counter_add (self->resolves, 1);
    return NT_CATCHUP_SENT;
}

//  A live alert: sent unless sent before. One the queue refuses is not
//  remembered, so the catch-up sends it from PostgreSQL later.
static void
s_take_alert (notifier_t *self, const txw_alert_t *alert)
{
    txw_counter_add (self->alerts_in, 1);
    if (!s_wanted (self, alert)) {
        txw_counter_add (self->filtered, 1);
        return;
    }
    char key [TXW_ALERT_KEY_MAX];
    txw_alert_key (alert, key, sizeof key);
    if (zhash_lookup (self->recent, key)) {
        txw_counter_add (self->duplicates, 1);
        return;
    }
    s_send (self, alert, key);
}

//  A stored alert, in id order: sent unless heard live.
static nt_catchup_take_t
s_take_stored (void *arg, const txw_alert_t *alert, const char *key)
{
    notifier_t *self = arg;
    if (!s_wanted (self, alert))
        return NT_CATCHUP_DONE;
    void *state = zhash_lookup (self->recent, key);
    if (state == S_FINISHED)
        return NT_CATCHUP_DONE;
    if (state == S_IN_FLIGHT)
        return NT_CATCHUP_WAIT;
    if (s_send (self, alert, key))
        return NT_CATCHUP_LATER;
    txw_counter_add (self->caught_up, 1);
    return NT_CATCHUP_SENT;
}

static void
s_finished (void *arg, const char *key)
{
    notifier_t *self = arg;
    if (!strncmp (key, S_RESOLVE, strlen (S_RESOLVE))) {
        nt_catchup_close_finished (self->catchup);
        return;
    }
    if (zhash_lookup (self->recent, key))
        zhash_update (self->recent, key, S_FINISHED);
    if (self->catchup)
        nt_catchup_finished (self->catchup, key);
}

//  Notes the deliveries finished and reads what was stored meanwhile, with
//  room left in the queue for live alerts.
static void
s_catch_up (notifier_t *self)
{
    nt_delivery_take_finished (self->delivery, s_finished, self);
    int64_t now = txw_mono_ms ();
    if (!self->catchup || now < self->catchup_at_ms)
        return;
    self->catchup_at_ms = now + S_CATCHUP_MS;
    int64_t room = self->cfg->queue / 2 - nt_delivery_pending (self->delivery);
    nt_catchup_poll (self->catchup, room > 0? (size_t) room: 0, s_take_stored, self);
    nt_catchup_poll_closes (self->catchup, s_take_closed, self);
}

static void
s_apply (notifier_t *self, const txw_envelope_t *env)
{
    if (env->type != TXW_MSG_ALERT)
        return;                 //  window records on the aggregator PUB
    int64_t started = txw_mono_us ();
    txw_cursor_t cur = env->records;
    const char *error = NULL;
    uint32_t applied = 0;
    txw_alert_t alert;
    for (; applied < env->count; applied++) {
        if (txw_alert_decode (&cur, &alert, &error))
            break;
        s_take_alert (self, &alert);
    }
    if (applied < env->count) {
        txw_service_malformed (self->svc, env, env->count - applied, error? error: "bad alert");
    }
    txw_service_batch_in (self->svc, applied, started);
}

int
notifier_run (notifier_t *self)
{
    while (!self->svc->stop) {
        zmq_msg_t msg;
        txw_envelope_t env;
        int rc = txw_in_recv (self->in, 200, &msg, &env);
        s_catch_up (self);
        if (rc < 0)
            txw_service_malformed (self->svc, NULL, 1, "not a valid envelope");
        if (rc <= 0)
            continue;
        s_apply (self, &env);
        zmq_msg_close (&msg);
    }
    //  Stop taking alerts first, then give the queue its deadline.
    txw_in_destroy (&self->in);
    int64_t pending = nt_delivery_pending (self->delivery);
    log_info ("stopping: delivering %lld queued alerts for up to %lld ms", (long long) pending,
              (long long) self->cfg->drain_ms);
    uint64_t undone = nt_delivery_drain (self->delivery, self->cfg->drain_ms);
    if (!undone)
        log_info ("every queued alert was delivered or given up before exit");
    //  The cursor moves past what finished while draining, and is written.
    nt_delivery_take_finished (self->delivery, s_finished, self);
    if (self->catchup)
        nt_catchup_poll (self->catchup, 0, s_take_stored, self);
    return 0;
}
