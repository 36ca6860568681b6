/*  delivery - posts queued alerts to every webhook URL, with retries       */

#include "delivery.h"
#include "clock.h"
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

//  One alert, shared by its deliveries (one per URL).
typedef struct _s_alert_t {
    struct _s_alert_t *next;        //  in the inbox
    char *key;
    char *body;
    size_t body_len;
    int64_t accepted_us;            //  monotonic, for the latency histogram
    int remaining;                  //  URLs that have not finished with it
    bool abandoned;                 //  a delivery was left undone at exit
} s_alert_t;

//  One alert on its way to one URL.
typedef struct _s_job_t {
    struct _s_job_t *prev, *next;
    s_alert_t *alert;
    int target;
    int attempt;                    //  attempts started so far
    int64_t due_ms;                 //  monotonic time of the next attempt
    CURL *easy;                     //  while in flight
    struct curl_slist *headers;
    int64_t retry_after_ms;         //  from the last answer, -1 if none
    char snippet [S_SNIPPET + 1];   //  start of the last answer's body
    size_t snippet_len;
} s_job_t;

typedef struct {
    s_job_t *head, *tail;
    size_t count;
} s_list_t;

typedef struct {
    const char *url;
    char label [96];                //  scheme://host:port, for logs (no path: it may hold a token)
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
    s_alert_t *finished;            //  alerts done for every URL, keys only
    atomic_bool accepting;
    atomic_bool draining;
    atomic_llong deadline_ms;
    atomic_llong pending;           //  alerts accepted and not finished
    s_target_t targets [NT_MAX_URLS];
    uint64_t random;
    uint64_t undone;
    txw_counter_t *ok, *retried, *failed, *dropped, *attempts;
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
    free ((*alert_p)->body);
    free (*alert_p);
    *alert_p = NULL;
}

//  An alert every URL is done with (delivered or given up): its key goes
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
    free (alert->body);
    alert->body = NULL;
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

//  Moves the inbox into one fresh job per URL.
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
        alert->remaining = self->cfg.url_count;
        for (int i = 0; i < self->cfg.url_count; i++) {
            s_job_t *job = calloc (1, sizeof *job);
            if (!job) {
                log_error ("out of memory: alert %s not delivered to %s", alert->key,
                           self->targets [i].label);
                txw_counter_add (self->failed, 1);
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

//  Starts the next attempt of job. Returns -1 if curl could not set it up.
static int
s_job_start (nt_delivery_t *self, s_job_t *job)
{
    s_target_t *target = &self->targets [job->target];
    job->attempt++;
    job->retry_after_ms = -1;
    job->snippet_len = 0;
    job->snippet [0] = 0;
    char attempt [16];
    snprintf (attempt, sizeof attempt, "%d", job->attempt);
    s_header_add (&job->headers, "Content-Type", "application/json");
    s_header_add (&job->headers, "X-Txwatch-Alert-Key", job->alert->key);
    s_header_add (&job->headers, "X-Txwatch-Attempt", attempt);
    struct curl_slist *grown = curl_slist_append (job->headers, "Expect:");
    if (grown)
        job->headers = grown;
    if (self->cfg.header && (grown = curl_slist_append (job->headers, self->cfg.header)))
        job->headers = grown;
    if (self->cfg.signer) {
        //  Signed as this attempt starts, over the bytes CURLOPT_POSTFIELDS
        //  sends: a retry carries a time of its own, as fresh as the first
        //  attempt's was. A request is never sent unsigned instead.
        char signature [NT_SIGNATURE_MAX];
        if (nt_signer_sign (self->cfg.signer, txw_now_ms () / 1000, job->alert->body,
                            job->alert->body_len, signature, sizeof signature) < 0
        ||  s_header_add (&job->headers, NT_SIGNATURE_HEADER, signature))
            goto err;
    }
    job->easy = curl_easy_init ();
    if (!job->easy || !job->headers)
        goto err;
    CURL *e = job->easy;
    curl_easy_setopt (e, CURLOPT_URL, target->url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_POSTFIELDS, job->alert->body);
    curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE, (long) job->alert->body_len);
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, job->headers);
    curl_easy_setopt (e, CURLOPT_USERAGENT, "txw-notifier/" TXW_VERSION);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long) self->cfg.timeout_ms);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long) self->cfg.timeout_ms);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, job);
    curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (e, CURLOPT_HEADERDATA, job);
    curl_easy_setopt (e, CURLOPT_PRIVATE, job);
    if (curl_multi_add_handle (self->multi, e) != CURLM_OK)
        goto err;
    txw_counter_add (self->attempts, 1);
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
        txw_counter_add (self->failed, 1);
        log_warn ("webhook %s: alert %s failed after %d attempts (last: %s)",
                  target->label, job->alert->key, job->attempt, why);
        s_job_finish (self, job);
        return;
    }
    int64_t delay = nt_next_delay_ms (job->attempt, job->retry_after_ms, self->cfg.backoff_ms,
                                      self->cfg.backoff_max_ms, s_random (self));
    txw_counter_add (self->retried, 1);
    log_info ("webhook %s: alert %s attempt %d: %s; retrying in %lld ms%s", target->label,
              job->alert->key, job->attempt, why, (long long) delay,
              job->retry_after_ms >= 0? " (Retry-After)": "");
    job->due_ms = txw_mono_ms () + delay;
    s_list_insert_due (&target->retry, job);
}

//  Starts the due jobs of every URL that has room; retries go first (they
//  are older), then first attempts.
static void
s_start_due (nt_delivery_t *self)
{
    int64_t now = txw_mono_ms ();
    for (int i = 0; i < self->cfg.url_count; i++) {
        s_target_t *target = &self->targets [i];
        while ((int64_t) target->flying.count < self->cfg.concurrency) {
            s_list_t *from = target->retry.head && target->retry.head->due_ms <= now?
                             &target->retry: target->fresh.head? &target->fresh: NULL;
            if (!from)
                break;
            s_job_t *job = from->head;
            s_list_remove (from, job);
            if (s_job_start (self, job)) {
                log_error ("webhook %s: cannot set up a transfer for alert %s",
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
        char why [S_SNIPPET + 64];
        if (code != CURLE_OK)
            snprintf (why, sizeof why, "%s", curl_easy_strerror (code));
        else
            snprintf (why, sizeof why, "HTTP %ld %s", status, job->snippet);
        switch (nt_classify (code, status)) {
            case NT_OUTCOME_OK:
                txw_counter_add (self->ok, 1);
                txw_histogram_observe_us (self->latency, txw_mono_us () - job->alert->accepted_us);
                log_debug ("webhook %s: alert %s delivered (attempt %d)", target->label,
                           job->alert->key, job->attempt);
                s_job_finish (self, job);
                break;
            case NT_OUTCOME_RETRY:
                s_schedule_retry (self, job, why);
                break;
            case NT_OUTCOME_FAIL:
                txw_counter_add (self->failed, 1);
                log_warn ("webhook %s: alert %s refused, not retried: %s", target->label,
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
    for (int i = 0; i < self->cfg.url_count; i++) {
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
    for (int i = 0; i < self->cfg.url_count; i++) {
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
    for (int i = 0; i < self->cfg.url_count; i++) {
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
                    log_warn ("webhook %s: alert %s not delivered at exit (%d attempts made)",
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
    for (int i = 0; i < cfg->url_count; i++) {
        self->targets [i].url = cfg->urls [i];
        s_label (cfg->urls [i], self->targets [i].label, sizeof self->targets [i].label);
    }
    const char *help = "webhook deliveries (one per alert and URL) by result";
    self->ok = txw_counter_new ("txw_webhook_deliveries_total", "result=\"ok\"", help);
    self->retried = txw_counter_new ("txw_webhook_deliveries_total", "result=\"retry\"", help);
    self->failed = txw_counter_new ("txw_webhook_deliveries_total", "result=\"failed\"", help);
    self->dropped = txw_counter_new ("txw_webhook_deliveries_total", "result=\"dropped\"", help);
    self->attempts = txw_counter_new ("txw_webhook_attempts_total", NULL, "HTTP requests made");
    self->queue_depth = txw_gauge_new ("txw_webhook_queue_depth", NULL,
                                       "alerts accepted and not yet finished for every URL");
    self->latency = txw_histogram_new ("txw_webhook_delivery_seconds",
                                       "from receiving an alert to a receiver's 2xx, retries included");
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
nt_delivery_submit (nt_delivery_t *self, const char *key, char **body_p)
{
    s_alert_t *alert = NULL;
    const char *why = "the notifier is stopping";
    if (!atomic_load (&self->accepting))
        goto drop;
    why = "out of memory";
    alert = calloc (1, sizeof *alert);
    if (!alert || !(alert->key = strdup (key)))
        goto drop;
    alert->body = *body_p;
    *body_p = NULL;
    alert->body_len = strlen (alert->body);
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
    txw_counter_add (self->dropped, (uint64_t) self->cfg.url_count);
    log_warn ("alert %s dropped: %s (%lld alerts waiting)", key, why,
              (long long) atomic_load (&self->pending));
    s_alert_free (&alert);
    free (*body_p);
    *body_p = NULL;
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
