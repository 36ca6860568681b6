/*  delivery - sends queued alerts to their channels, with retries          */

#include "delivery.h"
#include "clock.h"
#include "email.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "version.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_POLL_MAX_MS       1000    //  longest sleep: the drain flag is checked this often
#define S_UNDONE_LOG_MAX    100     //  undelivered alerts logged one by one at exit
#define S_SNIPPET           120     //  bytes of a failed answer kept for the log

//  One alert, shared by its deliveries (one per target it is routed to).
typedef struct _s_alert_t {
    struct _s_alert_t *next;        //  in the inbox
    char *key;
    char *bodies [NT_MAX_CHANNELS]; //  per target; NULL: not routed there
    size_t body_lens [NT_MAX_CHANNELS];
    int64_t accepted_us;            //  monotonic, for the latency histogram
    int remaining;                  //  targets that have not finished with it
    bool abandoned;                 //  a delivery was left undone at exit
} s_alert_t;

//  One alert on its way to one target.
typedef struct _s_job_t {
    struct _s_job_t *prev, *next;
    s_alert_t *alert;
    int target;
    int attempt;                    //  attempts started so far
    int64_t due_ms;                 //  monotonic time of the next attempt
    CURL *easy;                     //  while in flight
    struct curl_slist *headers;     //  HTTP headers, or SMTP recipients
    size_t sent;                    //  SMTP: bytes of the message read by curl
    int64_t retry_after_ms;         //  from the last answer, -1 if none
    char snippet [S_SNIPPET + 1];   //  start of the last answer's body
    size_t snippet_len;
} s_job_t;

typedef struct {
    s_job_t *head, *tail;
    size_t count;
} s_list_t;

//  A channel's counters, shared by its entries (the URLs of --webhook-url).
typedef struct {
    txw_counter_t *ok, *retried, *failed, *dropped, *attempts;
} s_counts_t;

typedef struct {
    const nt_channel_t *channel;
    char label [NT_CHANNEL_NAME_MAX + 100]; //  name scheme://host:port, for logs (no path:
                                            //  it may hold a token)
    s_counts_t *counts;
    s_list_t fresh;                 //  first attempts, oldest first
    s_list_t retry;                 //  waiting for a retry, soonest first
    s_list_t flying;                //  transfers in flight
} s_target_t;

struct _nt_delivery_t {
    nt_delivery_config_t cfg;
    CURLM *multi;
    pthread_t thread;
    bool running;                   //  thread started and not joined
    pthread_mutex_t lock;           //  guards the inbox and the finished list
    s_alert_t *inbox_head, *inbox_tail;
    s_alert_t *finished;            //  alerts done for every target, keys only
    atomic_bool accepting;
    atomic_bool draining;
    atomic_llong deadline_ms;
    atomic_llong pending;           //  alerts accepted and not finished
    s_target_t targets [NT_MAX_CHANNELS];
    int target_count;
    s_counts_t counts [NT_MAX_CHANNELS];
    uint64_t random;
    uint64_t undone;
    txw_gauge_t *queue_depth;
    txw_histogram_t *latency;
};

//  --- Lists ------------------------------------------------------------------

static void
s_list_remove (s_list_t *list, s_job_t *job)
{
    if (job->prev) job->prev->next = job->next; else list->head = job->next;
    if (job->next) job->next->prev = job->prev; else list->tail = job->prev;
    job->prev = job->next = NULL;
    list->count--;
}

static void
s_list_append (s_list_t *list, s_job_t *job)
{
    job->next = NULL;
    job->prev = list->tail;
    if (list->tail) list->tail->next = job; else list->head = job;
    list->tail = job;
    list->count++;
}

//  Keeps the list sorted by due time; retries mostly go to the end, so the
//  walk starts there.
static void
s_list_insert_due (s_list_t *list, s_job_t *job)
{
    s_job_t *after = list->tail;
    while (after && after->due_ms > job->due_ms)
        after = after->prev;
    if (!after) {
        job->prev = NULL;
        job->next = list->head;
        if (list->head) list->head->prev = job; else list->tail = job;
        list->head = job;
        list->count++;
        return;
    }
    job->prev = after;
    job->next = after->next;
    if (after->next) after->next->prev = job; else list->tail = job;
    after->next = job;
    list->count++;
}

//  --- Alerts and jobs ------------------------------------------------------------

static uint64_t
s_random (nt_delivery_t *self)
{
    //  xorshift64*: jitter only, not security
    self->random ^= self->random >> 12;
    self->random ^= self->random << 25;
    self->random ^= self->random >> 27;
    return self->random * 0x2545F4914F6CDD1DULL;
}

static void
s_alert_free (s_alert_t **alert_p)
{
    if (!*alert_p)
        return;
    free ((*alert_p)->key);
    for (int i = 0; i < NT_MAX_CHANNELS; i++)
        free ((*alert_p)->bodies [i]);
    free (*alert_p);
    *alert_p = NULL;
}

//  An alert every target is done with (delivered or given up): its key goes
//  to the finished list for nt_delivery_take_finished; an alert left
//  undone at exit is only freed.
static void
s_alert_done (nt_delivery_t *self, s_alert_t *alert)
{
    long long left = atomic_fetch_sub (&self->pending, 1) - 1;
    txw_gauge_set (self->queue_depth, left);
    if (alert->abandoned) {
        s_alert_free (&alert);
        return;
    }
    for (int i = 0; i < NT_MAX_CHANNELS; i++) {
        free (alert->bodies [i]);
        alert->bodies [i] = NULL;
    }
    pthread_mutex_lock (&self->lock);
    alert->next = self->finished;
    self->finished = alert;
    pthread_mutex_unlock (&self->lock);
}

//  The job is out of every list; drops it and, with its last job, the alert.
static void
s_job_finish (nt_delivery_t *self, s_job_t *job)
{
    s_alert_t *alert = job->alert;
    if (--alert->remaining == 0)
        s_alert_done (self, alert);
    free (job);
}

//  Moves the inbox into one fresh job per target the alert is routed to.
static void
s_take_inbox (nt_delivery_t *self)
{
    pthread_mutex_lock (&self->lock);
    s_alert_t *alert = self->inbox_head;
    self->inbox_head = self->inbox_tail = NULL;
    pthread_mutex_unlock (&self->lock);
    int64_t now = txw_mono_ms ();
    while (alert) {
        s_alert_t *next = alert->next;
        alert->next = NULL;
        alert->remaining = 0;
        for (int i = 0; i < self->target_count; i++)
            alert->remaining += alert->bodies [i] != NULL;
        for (int i = 0; i < self->target_count; i++) {
            if (!alert->bodies [i])
                continue;
            s_job_t *job = calloc (1, sizeof *job);
            if (!job) {
                log_error ("out of memory: alert %s not delivered to %s", alert->key,
                           self->targets [i].label);
                txw_counter_add (self->targets [i].counts->failed, 1);
                if (--alert->remaining == 0) {
                    s_alert_done (self, alert);
                    break;
                }
                continue;
            }
            job->alert = alert;
            job->target = i;
            job->due_ms = now;
            job->retry_after_ms = -1;
            s_list_append (&self->targets [i].fresh, job);
        }
        alert = next;
    }
}

//  --- Transfers ----------------------------------------------------------------

static size_t
s_on_body (char *data, size_t size, size_t nmemb, void *arg)
{
    s_job_t *job = arg;
    size_t len = size * nmemb;
    size_t room = S_SNIPPET - job->snippet_len;
    size_t take = len < room? len: room;
    memcpy (job->snippet + job->snippet_len, data, take);
    job->snippet_len += take;
    job->snippet [job->snippet_len] = 0;
    return len;
}

static size_t
s_on_header (char *data, size_t size, size_t nmemb, void *arg)
{
    s_job_t *job = arg;
    size_t len = size * nmemb;
    static const char name [] = "retry-after:";
    if (len > sizeof name - 1 && !strncasecmp (data, name, sizeof name - 1)) {
        char value [64];
        size_t vlen = len - (sizeof name - 1);
        if (vlen >= sizeof value)
            vlen = sizeof value - 1;
        memcpy (value, data + sizeof name - 1, vlen);
        value [vlen] = 0;
        char *end = value + strcspn (value, "\r\n");
        *end = 0;
        job->retry_after_ms = nt_retry_after_ms (value, txw_now_ms ());
    }
    return len;
}

//  Header values must not carry control bytes (a hostile key could
//  otherwise inject headers); they become '_'. Returns -1 if out of memory.
static int
s_header_add (struct curl_slist **list, const char *name, const char *value)
{
    char line [512];
    int len = snprintf (line, sizeof line, "%s: %s", name, value);
    for (int i = 0; i < len && i < (int) sizeof line - 1; i++)
        if ((unsigned char) line [i] < 0x20 || line [i] == 0x7f)
            line [i] = '_';
    struct curl_slist *grown = curl_slist_append (*list, line);
    if (!grown)
        return -1;
    *list = grown;
    return 0;
}

//  SMTP: curl reads the message from the alert's body for this target.
static size_t
s_on_read (char *out, size_t size, size_t nmemb, void *arg)
{
    s_job_t *job = arg;
    size_t left = job->alert->body_lens [job->target] - job->sent;
    size_t take = size * nmemb < left? size * nmemb: left;
    memcpy (out, job->alert->bodies [job->target] + job->sent, take);
    job->sent += take;
    return take;
}

//  An HTTP POST of the target's JSON body. Returns -1 if out of memory or
//  the request cannot be signed.
static int
s_http_setup (nt_delivery_t *self, s_job_t *job)
{
    const nt_channel_t *channel = self->targets [job->target].channel;
    const char *body = job->alert->bodies [job->target];
    size_t len = job->alert->body_lens [job->target];
    char attempt [16];
    snprintf (attempt, sizeof attempt, "%d", job->attempt);
    if (s_header_add (&job->headers, "Content-Type", "application/json")
    ||  s_header_add (&job->headers, "X-Txwatch-Alert-Key", job->alert->key)
    ||  s_header_add (&job->headers, "X-Txwatch-Attempt", attempt))
        return -1;
    struct curl_slist *grown = curl_slist_append (job->headers, "Expect:");
    if (!grown)
        return -1;
    job->headers = grown;
    if (channel->header && !(grown = curl_slist_append (job->headers, channel->header)))
        return -1;
    job->headers = grown;
    if (channel->signer) {
        //  Signed as this attempt starts, over the bytes CURLOPT_POSTFIELDS
        //  sends: a retry carries a time of its own, as fresh as the first
        //  attempt's was. A request is never sent unsigned instead.
        char signature [NT_SIGNATURE_MAX];
        if (nt_signer_sign (channel->signer, txw_now_ms () / 1000, body, len, signature,
                            sizeof signature) < 0
        ||  s_header_add (&job->headers, NT_SIGNATURE_HEADER, signature))
            return -1;
    }
    CURL *e = job->easy;
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE, (long) len);
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, job->headers);
    curl_easy_setopt (e, CURLOPT_USERAGENT, "txw-notifier/" TXW_VERSION);
    curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (e, CURLOPT_HEADERDATA, job);
    return 0;
}

//  An SMTP transaction: MAIL FROM, RCPT TO each recipient, DATA with the
//  target's message. Returns -1 if out of memory.
static int
s_smtp_setup (nt_delivery_t *self, s_job_t *job)
{
    const nt_channel_t *channel = self->targets [job->target].channel;
    char path [NT_EMAIL_ADDRESS_MAX + 3];
    for (int i = 0; i < channel->to_count; i++) {
        snprintf (path, sizeof path, "<%s>", channel->to [i]);
        struct curl_slist *grown = curl_slist_append (job->headers, path);
        if (!grown)
            return -1;
        job->headers = grown;
    }
    snprintf (path, sizeof path, "<%s>", channel->from);
    job->sent = 0;
    CURL *e = job->easy;
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt (e, CURLOPT_MAIL_FROM, path);
    curl_easy_setopt (e, CURLOPT_MAIL_RCPT, job->headers);
    curl_easy_setopt (e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (e, CURLOPT_INFILESIZE_LARGE,
                      (curl_off_t) job->alert->body_lens [job->target]);
    curl_easy_setopt (e, CURLOPT_READFUNCTION, s_on_read);
    curl_easy_setopt (e, CURLOPT_READDATA, job);
    if (channel->ssl_reqd)
        curl_easy_setopt (e, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
    if (channel->username) {
        curl_easy_setopt (e, CURLOPT_USERNAME, channel->username);
        curl_easy_setopt (e, CURLOPT_PASSWORD, channel->password);
    }
    return 0;
}

//  Starts the next attempt of job. Returns -1 if curl could not set it up.
static int
s_job_start (nt_delivery_t *self, s_job_t *job)
{
    s_target_t *target = &self->targets [job->target];
    job->attempt++;
    job->retry_after_ms = -1;
    job->snippet_len = 0;
    job->snippet [0] = 0;
    job->easy = curl_easy_init ();
    if (!job->easy)
        goto err;
    CURL *e = job->easy;
    //  curl copies the option strings it is given (the MAIL FROM path
    //  lives on the setup's stack).
    if (target->channel->type == NT_CHANNEL_EMAIL? s_smtp_setup (self, job): s_http_setup (self, job))
        goto err;
    curl_easy_setopt (e, CURLOPT_URL, target->channel->url);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long) self->cfg.timeout_ms);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long) self->cfg.timeout_ms);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, job);
    curl_easy_setopt (e, CURLOPT_PRIVATE, job);
    if (curl_multi_add_handle (self->multi, e) != CURLM_OK)
        goto err;
    txw_counter_add (target->counts->attempts, 1);
    s_list_append (&target->flying, job);
    return 0;
err:
    curl_easy_cleanup (job->easy);
    job->easy = NULL;
    curl_slist_free_all (job->headers);
    job->headers = NULL;
    return -1;
}

static void
s_schedule_retry (nt_delivery_t *self, s_job_t *job, const char *why)
{
    s_target_t *target = &self->targets [job->target];
    if (job->attempt >= self->cfg.max_attempts) {
        txw_counter_add (target->counts->failed, 1);
        log_warn ("%s: alert %s failed after %d attempts (last: %s)",
                  target->label, job->alert->key, job->attempt, why);
        s_job_finish (self, job);
        return;
    }
    int64_t delay = nt_next_delay_ms (job->attempt, job->retry_after_ms, self->cfg.backoff_ms,
                                      self->cfg.backoff_max_ms, s_random (self));
    txw_counter_add (target->counts->retried, 1);
    log_info ("%s: alert %s attempt %d: %s; retrying in %lld ms%s", target->label,
              job->alert->key, job->attempt, why, (long long) delay,
              job->retry_after_ms >= 0? " (Retry-After)": "");
    job->due_ms = txw_mono_ms () + delay;
    s_list_insert_due (&target->retry, job);
}

//  Starts the due jobs of every target that has room; retries go first (they
//  are older), then first attempts.
static void
s_start_due (nt_delivery_t *self)
{
    int64_t now = txw_mono_ms ();
    for (int i = 0; i < self->target_count; i++) {
        s_target_t *target = &self->targets [i];
        while ((int64_t) target->flying.count < self->cfg.concurrency) {
            s_list_t *from = target->retry.head && target->retry.head->due_ms <= now?
                             &target->retry: target->fresh.head? &target->fresh: NULL;
            if (!from)
                break;
            s_job_t *job = from->head;
            s_list_remove (from, job);
            if (s_job_start (self, job)) {
                log_error ("%s: cannot set up a transfer for alert %s",
                           target->label, job->alert->key);
                s_schedule_retry (self, job, "transfer setup failed");
            }
        }
    }
}

//  Handles the transfers that finished. Returns how many did.
static int
s_collect (nt_delivery_t *self)
{
    int done = 0, left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read (self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode code = msg->data.result;
        s_job_t *job = NULL;
        long status = 0;
        curl_easy_getinfo (e, CURLINFO_PRIVATE, (char **) &job);
        curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle (self->multi, e);
        curl_easy_cleanup (e);
        curl_slist_free_all (job->headers);
        job->easy = NULL;
        job->headers = NULL;
        s_target_t *target = &self->targets [job->target];
        s_list_remove (&target->flying, job);
        done++;
        bool smtp = target->channel->type == NT_CHANNEL_EMAIL;
        char why [S_SNIPPET + 64];
        if (code != CURLE_OK && smtp && status)
            snprintf (why, sizeof why, "%s (SMTP %ld)", curl_easy_strerror (code), status);
        else
        if (code != CURLE_OK)
            snprintf (why, sizeof why, "%s", curl_easy_strerror (code));
        else
            snprintf (why, sizeof why, "%s %ld %s", smtp? "SMTP": "HTTP", status, job->snippet);
        switch (smtp? nt_classify_smtp (code, status): nt_classify (code, status)) {
            case NT_OUTCOME_OK:
                txw_counter_add (target->counts->ok, 1);
                txw_histogram_observe_us (self->latency, txw_mono_us () - job->alert->accepted_us);
                log_debug ("%s: alert %s delivered (attempt %d)", target->label,
                           job->alert->key, job->attempt);
                s_job_finish (self, job);
                break;
            case NT_OUTCOME_RETRY:
                s_schedule_retry (self, job, why);
                break;
            case NT_OUTCOME_FAIL:
                txw_counter_add (target->counts->failed, 1);
                log_warn ("%s: alert %s refused, not retried: %s", target->label,
                          job->alert->key, why);
                s_job_finish (self, job);
                break;
        }
    }
    return done;
}

//  How long the thread may sleep: until a retry is due, curl wants
//  attention, or the drain deadline.
static int
s_sleep_ms (nt_delivery_t *self)
{
    int64_t now = txw_mono_ms ();
    int64_t sleep = S_POLL_MAX_MS;
    for (int i = 0; i < self->target_count; i++) {
        s_target_t *target = &self->targets [i];
        if ((int64_t) target->flying.count >= self->cfg.concurrency)
            continue;
        if (target->fresh.head)
            return 0;
        if (target->retry.head && target->retry.head->due_ms - now < sleep)
            sleep = target->retry.head->due_ms - now;
    }
    long curl_ms = -1;
    if (curl_multi_timeout (self->multi, &curl_ms) == CURLM_OK && curl_ms >= 0 && curl_ms < sleep)
        sleep = curl_ms;
    if (atomic_load (&self->draining)) {
        int64_t left = atomic_load (&self->deadline_ms) - now;
        if (left < sleep)
            sleep = left;
    }
    return sleep < 0? 0: (int) sleep;
}

static bool
s_idle (nt_delivery_t *self)
{
    for (int i = 0; i < self->target_count; i++) {
        s_target_t *target = &self->targets [i];
        if (target->fresh.count || target->retry.count || target->flying.count)
            return false;
    }
    return true;
}

//  At exit: logs and frees every delivery not done.
static void
s_abandon (nt_delivery_t *self)
{
    for (int i = 0; i < self->target_count; i++) {
        s_target_t *target = &self->targets [i];
        s_list_t *lists [] = { &target->flying, &target->retry, &target->fresh };
        for (int l = 0; l < 3; l++)
            while (lists [l]->head) {
                s_job_t *job = lists [l]->head;
                s_list_remove (lists [l], job);
                if (job->easy) {
                    curl_multi_remove_handle (self->multi, job->easy);
                    curl_easy_cleanup (job->easy);
                    curl_slist_free_all (job->headers);
                }
                if (self->undone++ < S_UNDONE_LOG_MAX)
                    log_warn ("%s: alert %s not delivered at exit (%d attempts made)",
                              target->label, job->alert->key, job->attempt);
                job->alert->abandoned = true;
                s_job_finish (self, job);
            }
    }
}

static void *
s_run (void *arg)
{
    nt_delivery_t *self = arg;
    while (true) {
        s_take_inbox (self);
        if (atomic_load (&self->draining)
        && (txw_mono_ms () >= atomic_load (&self->deadline_ms) || s_idle (self)))
            break;
        s_start_due (self);
        int running = 0;
        CURLMcode rc = curl_multi_perform (self->multi, &running);
        if (rc != CURLM_OK)
            log_error ("curl_multi_perform: %s", curl_multi_strerror (rc));
        if (s_collect (self) > 0)
            continue;
        rc = curl_multi_poll (self->multi, NULL, 0, s_sleep_ms (self), NULL);
        if (rc != CURLM_OK) {
            log_error ("curl_multi_poll: %s", curl_multi_strerror (rc));
            usleep (100 * 1000);
        }
    }
    s_take_inbox (self);
    s_abandon (self);
    return NULL;
}

//  --- Interface ------------------------------------------------------------------

//  "scheme://host:port" of url, without user info, path or query.
static void
s_label (const char *url, char *out, size_t size)
{
    const char *host = strstr (url, "://");
    host = host? host + 3: url;
    size_t end = strcspn (host, "/?#");
    const char *at = memchr (host, '@', end);
    size_t scheme = (size_t) (host - url);
    if (at) {
        end -= (size_t) (at + 1 - host);
        host = at + 1;
    }
    snprintf (out, size, "%.*s%.*s", (int) scheme, url, (int) end, host);
}

//  Target i delivers to channel; entries of one name (the URLs of
//  --webhook-url) share their counters.
static void
s_target_init (nt_delivery_t *self, int i, const nt_channel_t *channel)
{
    s_target_t *target = &self->targets [i];
    target->channel = channel;
    char where [96];
    s_label (channel->url, where, sizeof where);
    snprintf (target->label, sizeof target->label, "%s %s %s",
              nt_channel_type_name (channel->type), channel->name, where);
    for (int j = 0; j < i; j++)
        if (!strcmp (self->targets [j].channel->name, channel->name)) {
            target->counts = self->targets [j].counts;
            return;
        }
    target->counts = &self->counts [i];
    const char *help = "deliveries (one per alert and channel entry) by channel and result";
    char labels [NT_CHANNEL_NAME_MAX + 64];
    const char *results [] = { "ok", "retry", "failed", "dropped" };
    txw_counter_t **counters [] = { &target->counts->ok, &target->counts->retried,
                                    &target->counts->failed, &target->counts->dropped };
    for (int r = 0; r < 4; r++) {
        snprintf (labels, sizeof labels, "channel=\"%s\",result=\"%s\"", channel->name, results [r]);
        *counters [r] = txw_counter_new ("txw_notifier_deliveries_total", labels, help);
    }
    snprintf (labels, sizeof labels, "channel=\"%s\"", channel->name);
    target->counts->attempts = txw_counter_new ("txw_notifier_attempts_total", labels,
                                                "HTTP requests and SMTP transactions started");
}

nt_delivery_t *
nt_delivery_new (const nt_delivery_config_t *cfg)
{
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error ("libcurl cannot be initialised");
        return NULL;
    }
    nt_delivery_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    pthread_mutex_init (&self->lock, NULL);
    atomic_init (&self->accepting, true);
    atomic_init (&self->draining, false);
    atomic_init (&self->deadline_ms, 0);
    atomic_init (&self->pending, 0);
    self->random = (uint64_t) txw_now_us () ^ ((uint64_t) getpid () << 32) ^ 0x9E3779B97F4A7C15ULL;
    self->target_count = cfg->channels->count;
    for (int i = 0; i < self->target_count; i++)
        s_target_init (self, i, &cfg->channels->items [i]);
    self->queue_depth = txw_gauge_new ("txw_notifier_queue_depth", NULL,
                                       "alerts accepted and not yet finished for every channel");
    self->latency = txw_histogram_new ("txw_notifier_delivery_seconds",
        "from receiving an alert to its delivery (a 2xx, or SMTP's acceptance), retries included");
    self->multi = curl_multi_init ();
    if (!self->multi) {
        log_error ("curl_multi_init failed");
        goto err;
    }
    if (pthread_create (&self->thread, NULL, s_run, self)) {
        log_error ("cannot start the delivery thread");
        goto err;
    }
    self->running = true;
    return self;
err:
    nt_delivery_destroy (&self);
    return NULL;
}

int
nt_delivery_submit (nt_delivery_t *self, const char *key, char **bodies)
{
    s_alert_t *alert = NULL;
    int routed = 0;
    for (int i = 0; i < self->target_count; i++)
        routed += bodies [i] != NULL;
    if (!routed)
        return -1;
    const char *why = "the notifier is stopping";
    if (!atomic_load (&self->accepting))
        goto drop;
    why = "out of memory";
    alert = calloc (1, sizeof *alert);
    if (!alert || !(alert->key = strdup (key)))
        goto drop;
    for (int i = 0; i < self->target_count; i++) {
        alert->bodies [i] = bodies [i];
        alert->body_lens [i] = bodies [i]? strlen (bodies [i]): 0;
        bodies [i] = NULL;
    }
    alert->accepted_us = txw_mono_us ();
    pthread_mutex_lock (&self->lock);
    long long pending = atomic_load (&self->pending);
    if (pending >= self->cfg.queue_max) {
        pthread_mutex_unlock (&self->lock);
        why = "the queue is full";
        goto drop;
    }
    atomic_fetch_add (&self->pending, 1);
    if (self->inbox_tail)
        self->inbox_tail->next = alert;
    else
        self->inbox_head = alert;
    self->inbox_tail = alert;
    pthread_mutex_unlock (&self->lock);
    txw_gauge_set (self->queue_depth, pending + 1);
    curl_multi_wakeup (self->multi);
    return 0;
drop:
    for (int i = 0; i < self->target_count; i++)
        if (bodies [i] || (alert && alert->bodies [i])) {
            txw_counter_add (self->targets [i].counts->dropped, 1);
            free (bodies [i]);
            bodies [i] = NULL;
        }
    log_warn ("alert %s dropped: %s (%lld alerts waiting)", key, why,
              (long long) atomic_load (&self->pending));
    s_alert_free (&alert);
    return -1;
}

size_t
nt_delivery_take_finished (nt_delivery_t *self, nt_finished_fn *fn, void *arg)
{
    pthread_mutex_lock (&self->lock);
    s_alert_t *alert = self->finished;
    self->finished = NULL;
    pthread_mutex_unlock (&self->lock);
    size_t count = 0;
    while (alert) {
        s_alert_t *next = alert->next;
        fn (arg, alert->key);
        s_alert_free (&alert);
        alert = next;
        count++;
    }
    return count;
}

int64_t
nt_delivery_pending (nt_delivery_t *self)
{
    return atomic_load (&self->pending);
}

uint64_t
nt_delivery_drain (nt_delivery_t *self, int64_t deadline_ms)
{
    if (!self->running)
        return self->undone;
    atomic_store (&self->accepting, false);
    atomic_store (&self->deadline_ms, txw_mono_ms () + deadline_ms);
    atomic_store (&self->draining, true);
    curl_multi_wakeup (self->multi);
    pthread_join (self->thread, NULL);
    self->running = false;
    if (self->undone)
        log_warn ("%llu deliveries were not done at exit", (unsigned long long) self->undone);
    return self->undone;
}

void
nt_delivery_destroy (nt_delivery_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nt_delivery_t *self = *self_p;
    if (self->running)
        nt_delivery_drain (self, 0);
    if (self->multi)
        curl_multi_cleanup (self->multi);
    while (self->finished) {
        s_alert_t *next = self->finished->next;
        s_alert_free (&self->finished);
        self->finished = next;
    }
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
    curl_global_cleanup ();
}
