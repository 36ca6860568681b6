/*  notifier - alerts from the pipeline to webhooks, each alert once        */

#include "notifier.h"
#include "catchup.h"
#include "clock.h"
#include "payload.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RECENT_KEYS   65536   //  keys remembered to drop duplicates
#define S_MAX_KINDS     8
#define S_CATCHUP_MS    500     //  how often the stored alerts are read

//  What the notifier knows of a key it sent (values in recent).
#define S_IN_FLIGHT     ((void *) 1)
#define S_FINISHED      ((void *) 2)

struct _notifier_t {
    const notifier_config_t *cfg;
    txw_service_t *svc;
    txw_in_t *in;
    nt_delivery_t *delivery;
    nt_signer_t *signer;        //  NULL without --webhook-secret-file
    char *url_list;             //  writable copy that cfg.urls points into
    char *kind_list;
    char *kinds [S_MAX_KINDS];
    int kind_count;
    zhash_t *recent;            //  keys sent lately: S_IN_FLIGHT or S_FINISHED
    char **ring;                //  the same keys, oldest first, to forget them
    size_t ring_head, ring_count;
    nt_catchup_t *catchup;      //  NULL without a database
    int64_t catchup_at_ms;
    txw_counter_t *caught_up;
    txw_counter_t *alerts_in;
    txw_counter_t *filtered;
    txw_counter_t *duplicates;
};

static bool
s_ready (void *arg, char *detail, size_t size)
{
    notifier_t *self = arg;
    snprintf (detail, size, "{\"queue\":%lld}",
              (long long) (self->delivery? nt_delivery_pending (self->delivery): 0));
    return true;
}

//  Splits --webhook-url into cfg's URL array; each must be http(s).
static int
s_parse_urls (notifier_t *self, nt_delivery_config_t *dcfg)
{
    self->url_list = strdup (self->cfg->webhook_url? self->cfg->webhook_url: "");
    if (!self->url_list)
        return -1;
    char *items [NT_MAX_URLS + 1];
    int count = txw_split_list (self->url_list, items, NT_MAX_URLS + 1);
    if (count == 0) {
        log_error ("--webhook-url (TXW_WEBHOOK_URL) is required: where to POST alerts");
        return -1;
    }
    if (count > NT_MAX_URLS) {
        log_error ("--webhook-url: at most %d URLs", NT_MAX_URLS);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        if (strncmp (items [i], "http://", 7) && strncmp (items [i], "https://", 8)) {
            log_error ("--webhook-url: '%s' is not an http:// or https:// URL", items [i]);
            return -1;
        }
        dcfg->urls [i] = items [i];
    }
    dcfg->url_count = count;
    return 0;
}

static int
s_parse_kinds (notifier_t *self)
{
    self->kind_list = strdup (self->cfg->kinds);
    if (!self->kind_list)
        return -1;
    self->kind_count = txw_split_list (self->kind_list, self->kinds, S_MAX_KINDS);
    for (int i = 0; i < self->kind_count; i++)
        if (strcmp (self->kinds [i], "fraud") && strcmp (self->kinds [i], "region_health")) {
            log_error ("--kinds: '%s' is not fraud or region_health", self->kinds [i]);
            return -1;
        }
    if (self->kind_count == 0) {
        log_error ("--kinds is empty: no alert would ever be sent");
        return -1;
    }
    return 0;
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
        .timeout_ms = cfg->timeout_ms, .max_attempts = cfg->max_attempts,
        .backoff_ms = cfg->backoff_ms, .backoff_max_ms = cfg->backoff_max_ms,
        .queue_max = cfg->queue, .concurrency = cfg->concurrency, .header = cfg->header
    };
    if (s_parse_urls (self, &dcfg) || s_parse_kinds (self) || s_parse_header (&dcfg.header))
        goto err;
    if (cfg->webhook_secret_file && *cfg->webhook_secret_file) {
        self->signer = nt_signer_load (cfg->webhook_secret_file);
        if (!self->signer)
            goto err;
        dcfg.signer = self->signer;
    }
    else
        log_warn ("no --webhook-secret-file: webhooks are unsigned, so a receiver cannot tell "
                  "them from forged ones (proto/SERVING.md, Webhooks)");
    if (cfg->backoff_max_ms < cfg->backoff_ms) {
        log_error ("--backoff-max-ms %lld is below --backoff-ms %lld",
                   (long long) cfg->backoff_max_ms, (long long) cfg->backoff_ms);
        goto err;
    }
    self->alerts_in = txw_counter_new ("txw_notifier_alerts_in_total", NULL, "alerts received");
    self->filtered = txw_counter_new ("txw_notifier_alerts_filtered_total", NULL,
                                      "alerts not sent: kind not in --kinds or score below --min-score");
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
    }
    else
        log_warn ("no --database-url: alerts raised while the notifier is down are not sent "
                  "after it restarts");
    if (txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self))
        goto err;
    log_info ("alerts from %s (kinds %s, score >= %lld) to %d webhook URL(s); timeout %lld ms, "
              "%lld attempts, back-off %lld..%lld ms, queue %lld, %s%s", cfg->alert_endpoints,
              cfg->kinds, (long long) cfg->min_score, dcfg.url_count, (long long) cfg->timeout_ms,
              (long long) cfg->max_attempts, (long long) cfg->backoff_ms,
              (long long) cfg->backoff_max_ms, (long long) cfg->queue,
              self->signer? "signed (" NT_SIGNATURE_HEADER ")": "unsigned",
              dcfg.header? ", with an extra header": "");
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
    nt_signer_destroy (&self->signer);      //  after the thread that signs has stopped
    nt_catchup_destroy (&self->catchup);
    zhash_destroy (&self->recent);
    if (self->ring)
        for (size_t i = 0; i < self->ring_count; i++)
            free (self->ring [(self->ring_head + i) % S_RECENT_KEYS]);
    free (self->ring);
    free (self->url_list);
    free (self->kind_list);
    free (self);
    *self_p = NULL;
}

static bool
s_kind_wanted (notifier_t *self, const char *kind)
{
    for (int i = 0; i < self->kind_count; i++)
        if (!strcmp (self->kinds [i], kind))
            return true;
    return false;
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
    return s_kind_wanted (self, alert->kind) && alert->score >= self->cfg->min_score;
}

//  Hands an alert to delivery. Returns 0, or -1 if the queue refused it.
static int
s_send (notifier_t *self, const txw_alert_t *alert, const char *key)
{
    char *body = nt_alert_body (alert);
    if (!body) {
        log_error ("out of memory: alert %s not sent", key);
        txw_counter_add (self->svc->errors, 1);
        return -1;
    }
    if (nt_delivery_submit (self->delivery, key, &body))
        return -1;
    s_remember (self, key, S_IN_FLIGHT);
    return 0;
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
