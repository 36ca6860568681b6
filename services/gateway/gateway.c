/*  gateway - the push gateway: pipeline feeds in, WebSocket messages out  */

#include "gateway.h"
#include "access.h"
#include "acks.h"
#include "alertjson.h"
#include "clock.h"
#include "json.h"
#include "keystore.h"
#include "message.h"
#include "money.h"
#include "seed.h"
#include "server.h"
#include "state.h"
#include "timers.h"
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_FEEDS         3
#define S_DRAIN_MAX     64      //  messages per input per wake-up, then the others
#define S_TICK_MS       1000

typedef struct {
    const char *name;
    txw_in_t *in;
    uint64_t gaps_seen;
} s_feed_t;

struct _gateway_t {
    const gateway_config_t *cfg;
    txw_service_t *svc;
    s_feed_t feeds [S_FEEDS];
    gw_state_t *state;
    gw_server_t *server;
    gw_server_config_t server_cfg;
    gw_metrics_t metrics;
    gw_origins_t origins;
    txw_keystore_t *keys;       //  NULL without --database-url
    int wake [2];               //  pipe: clients waiting for a snapshot
    zactor_t *acks;             //  acknowledgements from PostgreSQL, or NULL
    bool seeded;
    txw_counter_t *upstream_gaps;
    txw_counter_t *alerts_in;
    txw_counter_t *duplicate_alerts;
    txw_counter_t *windows_in;
    txw_counter_t *dead_letters_in;
    txw_counter_t *acks_in;
    txw_gauge_t *windows_kept;
    txw_counter_t *revoked_closes;
};

static bool
s_ready (void *arg, char *detail, size_t size)
{
    gateway_t *self = arg;
    snprintf (detail, size, "{\"clients\":%d,\"seeded\":%s}",
              self->server? gw_server_clients (self->server): 0, self->seeded? "true": "false");
    return true;
}

static int
s_feed_open (gateway_t *self, int i, const char *name, const char *endpoints)
{
    self->feeds [i].name = name;
    if (!endpoints || !*endpoints) {
        log_info ("no %s endpoints: that feed is off", name);
        return 0;
    }
    //  Not the acknowledgements the aggregators send their producers.
    uint32_t types = TXW_MSG_BIT (TXW_MSG_ALERT) | TXW_MSG_BIT (TXW_MSG_WINDOW)
                   | TXW_MSG_BIT (TXW_MSG_REJECT) | TXW_MSG_BIT (TXW_MSG_HEARTBEAT);
    self->feeds [i].in = txw_in_new_sub (endpoints, types);
    if (!self->feeds [i].in) {
        log_error ("bad %s endpoints '%s'", name, endpoints);
        return -1;
    }
    txw_in_count_gaps (self->feeds [i].in, self->svc->gaps);
    return 0;
}

gateway_t *
gateway_new (const gateway_config_t *cfg, txw_service_t *svc)
{
    int64_t threads = cfg->threads? cfg->threads: cfg->max_clients + 16;
    if (threads <= cfg->max_clients) {
        log_error ("--threads %lld must exceed --max-clients %lld: civetweb holds a thread "
                   "per open WebSocket", (long long) threads, (long long) cfg->max_clients);
        return NULL;
    }
    if (strlen (cfg->reporting_currency) != 3
    ||  txw_currency_exponent (cfg->reporting_currency, 3) < 0) {
        log_error ("--reporting-currency '%s' is not an ISO 4217 code", cfg->reporting_currency);
        return NULL;
    }
    if (gw_api_url_check (cfg->api_url))
        return NULL;
    gateway_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    self->wake [0] = self->wake [1] = -1;
    if (gw_origins_parse (&self->origins, cfg->allowed_origins))
        goto err;
    bool have_db = cfg->database_url && *cfg->database_url;
    if (!cfg->auth)
        log_warn ("*** --auth off: ANYONE who reaches %s can open /ws without an API key. "
                  "For local debugging only; never in a deployment. ***", cfg->listen);
    else
    if (!have_db)
        log_error ("no --database-url: API keys cannot be checked, so every /ws connection is "
                   "refused (503). Give --database-url, or --auth off for local debugging");
    if (cfg->auth && have_db && !(self->keys = txw_keystore_new (cfg->database_url,
                                                                   cfg->key_cache_ms)))
        goto err;
    self->upstream_gaps = txw_counter_new ("txw_gateway_upstream_gaps_total", NULL,
        "gap messages sent to clients because an input's sequence numbers jumped");
    self->alerts_in = txw_counter_new ("txw_gateway_alerts_in_total", NULL, "alerts received");
    self->duplicate_alerts = txw_counter_new ("txw_gateway_duplicate_alerts_total", NULL,
        "alerts received with a key already pushed (a region health alert from two shards)");
    self->windows_in = txw_counter_new ("txw_gateway_window_rows_in_total", NULL,
                                        "window rows received from aggregator shards");
    self->dead_letters_in = txw_counter_new ("txw_gateway_dead_letters_in_total", NULL,
                                             "dead letters received");
    self->acks_in = txw_counter_new ("txw_gateway_acks_total", NULL,
                                     "acknowledgements read from PostgreSQL and pushed");
    self->windows_kept = txw_gauge_new ("txw_gateway_windows", NULL, "windows held in memory");
    self->revoked_closes = txw_counter_new ("txw_gateway_revoked_closes_total", NULL,
        "connections closed with 4001 because their API key was revoked");
    self->state = gw_state_new (cfg->health_threshold, cfg->reporting_currency);
    if (!self->state || pipe2 (self->wake, O_NONBLOCK | O_CLOEXEC))
        goto err;
    if (cfg->database_url && *cfg->database_url) {
        self->seeded = gw_seed (self->state, cfg->database_url, txw_now_ms ()) == 0;
        self->acks = zactor_new (gw_acks_actor, (void *) cfg->database_url);
    }
    if (s_feed_open (self, 0, "alert", cfg->alert_endpoints)
    ||  s_feed_open (self, 1, "window", cfg->window_endpoints)
    ||  s_feed_open (self, 2, "dead-letter", cfg->dead_letter_endpoints))
        goto err;
    self->server_cfg = (gw_server_config_t) {
        .listen = cfg->listen, .document_root = cfg->document_root, .api_url = cfg->api_url,
        .client_queue = cfg->client_queue, .max_clients = cfg->max_clients,
        .max_clients_per_key = cfg->max_clients_per_key,
        .handshakes_per_client = cfg->handshakes_per_client, .threads = threads,
        .keys = self->keys, .auth_off = !cfg->auth, .origins = &self->origins,
        .wake_fd = self->wake [1]
    };
    self->server = gw_server_new (&self->server_cfg, &self->metrics);
    if (!self->server)
        goto err;
    if (txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self))
        goto err;
    log_info ("listening on %s (up to %lld clients, %lld per key, %lld threads, queue %lld), "
              "alerts from '%s', windows from '%s', dead letters from '%s'; keys %s, "
              "origins: its own%s%s", cfg->listen,
              (long long) cfg->max_clients, (long long) cfg->max_clients_per_key,
              (long long) threads, (long long) cfg->client_queue, cfg->alert_endpoints,
              cfg->window_endpoints, cfg->dead_letter_endpoints,
              !cfg->auth? "OFF": self->keys? "from the database": "unavailable (no --database-url)",
              *cfg->allowed_origins? ", ": "", cfg->allowed_origins);
    return self;
err:
    gateway_destroy (&self);
    return NULL;
}

void
gateway_destroy (gateway_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gateway_t *self = *self_p;
    zactor_destroy (&self->acks);
    gw_server_destroy (&self->server);
    txw_keystore_destroy (&self->keys);
    gw_origins_fini (&self->origins);
    for (int i = 0; i < S_FEEDS; i++)
        txw_in_destroy (&self->feeds [i].in);
    gw_state_destroy (&self->state);
    if (self->wake [0] >= 0)
        close (self->wake [0]);
    if (self->wake [1] >= 0)
        close (self->wake [1]);
    free (self);
    *self_p = NULL;
}

//  Hands one message body to the clients; body is released.
static void
s_push (gateway_t *self, gw_type_t type, json_t *body, int64_t raised_ms)
{
    gw_msg_t *msg = body? gw_msg_new (type, body): NULL;
    json_decref (body);
    if (!msg) {
        log_error ("out of memory: a %s message is lost", gw_type_name (type));
        return;
    }
    msg->raised_ms = raised_ms;
    gw_server_broadcast (self->server, msg);
    gw_msg_unref (&msg);
}

static int
s_apply_alert (gateway_t *self, txw_cursor_t *cur, const char **error)
{
    txw_alert_t alert;
    if (txw_alert_decode (cur, &alert, error))
        return -1;
    txw_counter_add (self->alerts_in, 1);
    char key [TXW_ALERT_KEY_MAX];
    txw_alert_key (&alert, key, sizeof key);
    json_t *object = txw_alert_json (&alert);
    if (!object)
        return 0;
    if (gw_state_alert (self->state, object, key, alert.kind, alert.region,
                        alert.raised_ms, true))
        s_push (self, GW_ALERT, json_pack ("{s:O}", "alert", object), alert.raised_ms);
    else
        txw_counter_add (self->duplicate_alerts, 1);
    json_decref (object);
    return 0;
}

static int
s_apply_window (gateway_t *self, txw_cursor_t *cur, const char **error)
{
    txw_window_t row;
    if (txw_window_decode (cur, &row, error))
        return -1;
    txw_counter_add (self->windows_in, 1);
    gw_window_t sum;
    if (gw_state_window (self->state, &row, txw_now_ms (), &sum) == 0)
        s_push (self, GW_WINDOW, json_pack ("{s:o}", "window", gw_window_json (&sum)), 0);
    return 0;
}

static int
s_apply_reject (gateway_t *self, txw_cursor_t *cur, const char **error)
{
    txw_reject_t rej;
    if (txw_reject_decode (cur, &rej, error))
        return -1;
    txw_counter_add (self->dead_letters_in, 1);
    s_push (self, GW_DEAD_LETTER, json_pack ("{s:o}", "dead_letter", gw_dead_letter_json (&rej)), 0);
    return 0;
}

static void
s_apply (gateway_t *self, const txw_envelope_t *env)
{
    int64_t started = txw_mono_us ();
    txw_cursor_t cur = env->records;
    const char *error = NULL;
    uint32_t applied = 0;
    for (; applied < env->count; applied++) {
        int rc;
        if (env->type == TXW_MSG_ALERT)
            rc = s_apply_alert (self, &cur, &error);
        else
        if (env->type == TXW_MSG_WINDOW)
            rc = s_apply_window (self, &cur, &error);
        else
        if (env->type == TXW_MSG_REJECT)
            rc = s_apply_reject (self, &cur, &error);
        else {
            error = "message type not used by the gateway";
            rc = -1;
        }
        if (rc)
            break;
    }
    if (applied < env->count && env->type != TXW_MSG_HEARTBEAT) {
        txw_service_malformed (self->svc, env, env->count - applied, error? error: "bad record");
    }
    txw_service_batch_in (self->svc, applied, started);
}

//  Tells every client that messages were lost upstream, if the input's
//  sequence numbers jumped since the last look.
static void
s_check_gaps (gateway_t *self, s_feed_t *feed)
{
    uint64_t gaps = txw_in_stats (feed->in)->gaps;
    if (gaps <= feed->gaps_seen)
        return;
    log_warn ("%llu %s messages lost upstream: clients are told to re-sync",
              (unsigned long long) (gaps - feed->gaps_seen), feed->name);
    txw_counter_add (self->upstream_gaps, 1);
    gw_msg_t *gap = gw_msg_gap (gaps - feed->gaps_seen, "upstream");
    if (gap) {
        gw_server_broadcast (self->server, gap);
        gw_msg_unref (&gap);
    }
    feed->gaps_seen = gaps;
}

//  Reads what one input has queued; the gap message, if any, goes out
//  before the message that revealed the jump.
static void
s_drain (gateway_t *self, s_feed_t *feed)
{
    for (int i = 0; i < S_DRAIN_MAX; i++) {
        zmq_msg_t msg;
        txw_envelope_t env;
        int rc = txw_in_recv (feed->in, 0, &msg, &env);
        if (rc == 0)
            break;
        if (rc < 0) {
            txw_service_malformed (self->svc, NULL, 1, "not a valid envelope");
            continue;
        }
        s_check_gaps (self, feed);
        s_apply (self, &env);
        zmq_msg_close (&msg);
    }
}

static gw_msg_t *
s_build_snapshot (void *arg)
{
    gateway_t *self = arg;
    json_t *body = gw_state_snapshot (self->state, txw_now_ms ());
    gw_msg_t *msg = body? gw_msg_new (GW_SNAPSHOT, body): NULL;
    json_decref (body);
    return msg;
}

//  One status change from the watcher (acks.h): the kept alert takes it
//  and every client subscribed to alerts hears of it, as an `ack` (a close
//  has its time and closer; a reopening has them null).
static void
s_apply_ack (gateway_t *self)
{
    char *key = NULL, *when = NULL, *by = NULL, *status = NULL;
    if (zsock_recv (self->acks, "ssss", &key, &when, &by, &status) == 0
    &&  key && when && by && status) {
        int64_t changed_ms = strtoll (when, NULL, 10);
        bool closed = !strcmp (status, "closed");
        gw_state_ack (self->state, key, status, changed_ms, by);
        txw_counter_add (self->acks_in, 1);
        s_push (self, GW_ACK, json_pack ("{s:{s:s,s:s,s:o,s:o}}", "ack", "key", key,
                                         "status", status,
                                         "acked_at", closed? txw_json_time (changed_ms): json_null (),
                                         "acked_by", closed? txw_json_text_or_null (by): json_null ()),
                0);
    }
    zstr_free (&key);
    zstr_free (&when);
    zstr_free (&by);
    zstr_free (&status);
}

//  Every second: follow the feeds' names, prune, push the stats.
static void
s_tick (void *arg)
{
    gateway_t *self = arg;
    int64_t now = txw_now_ms ();
    //  This loop polls the sockets itself: apply what the resolver found
    //  (a feed's name gained or lost addresses) once a second.
    for (int i = 0; i < S_FEEDS; i++)
        if (self->feeds [i].in)
            txw_in_refresh (self->feeds [i].in);
    gw_state_prune (self->state, now);
    txw_gauge_set (self->windows_kept, (int64_t) gw_state_windows (self->state));
    s_push (self, GW_STATS, gw_state_stats (self->state, now), 0);
}

//  Every --key-cache-ms (at least a second): connections whose API key was
//  revoked since they opened are closed.
static void
s_check_keys (void *arg)
{
    gateway_t *self = arg;
    int closed = gw_server_end_revoked (self->server, txw_mono_ms ());
    if (closed)
        txw_counter_add (self->revoked_closes, closed);
}

int
gateway_run (gateway_t *self)
{
    zmq_pollitem_t items [S_FEEDS + 2];
    s_feed_t *polled [S_FEEDS];
    int count = 0;
    for (int i = 0; i < S_FEEDS; i++)
        if (self->feeds [i].in) {
            items [count] = (zmq_pollitem_t) {
                zsock_resolve (txw_in_socket (self->feeds [i].in)), 0, ZMQ_POLLIN, 0 };
            polled [count++] = &self->feeds [i];
        }
    items [count] = (zmq_pollitem_t) { NULL, self->wake [0], ZMQ_POLLIN, 0 };
    int extra = 1;
    if (self->acks)
        items [count + extra++] = (zmq_pollitem_t) {
            zsock_resolve (zactor_sock (self->acks)), 0, ZMQ_POLLIN, 0 };
    txw_timers_t timers;
    txw_timers_init (&timers);
    txw_timers_add (&timers, S_TICK_MS, s_tick, self);
    txw_timers_add (&timers, self->cfg->key_cache_ms > 1000? self->cfg->key_cache_ms: 1000,
                    s_check_keys, self);
    while (!self->svc->stop) {
        int rc = zmq_poll (items, count + extra, txw_timers_wait_ms (&timers, 200));
        if (rc < 0 && errno != EINTR) {
            log_error ("zmq_poll: %s", zmq_strerror (errno));
            return 1;
        }
        for (int i = 0; rc > 0 && i < count; i++)
            if (items [i].revents & ZMQ_POLLIN)
                s_drain (self, polled [i]);
        if (rc > 0 && (items [count].revents & ZMQ_POLLIN)) {
            char buf [256];
            while (read (self->wake [0], buf, sizeof buf) > 0)
                ;
        }
        if (rc > 0 && extra > 1 && (items [count + 1].revents & ZMQ_POLLIN))
            s_apply_ack (self);
        gw_server_serve_snapshots (self->server, s_build_snapshot, self);
        txw_timers_run (&timers);
    }
    log_info ("stopping: closing %d clients", gw_server_clients (self->server));
    return 0;
}
