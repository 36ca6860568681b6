/*  server - the HTTP side of txw-query: routing, cache, CORS, metrics

    One civetweb handler takes every request: it finds the route, answers
    OPTIONS preflights and wrong methods itself, serves GET responses from
    the cache (cache.c) when it can, and otherwise calls the endpoint
    (api.h) and caches a 200. Every response, errors included, carries
    X-Process-Time (seconds spent in the handler), Cache-Control: no-store
    (the server-side cache already absorbs polling, and a browser or proxy
    must not show an acked alert as open), the CORS headers when the
    request's Origin is allowed, and X-Cache: hit|stale|miss on cacheable
    GETs (stale: an expired body served while another request refreshes it,
    cache.c).                                                              */

#include "query.h"
#include "api.h"
#include "cache.h"
#include "clock.h"
#include "money.h"
#include "openapi.h"
#include "pool.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BODY_MAX      4096
#define S_CORS_MAX      64
#define S_JSON_FLAGS    (JSON_COMPACT | JSON_REAL_PRECISION (15))

typedef struct {
    const char *name;           //  metric label
    const char *path;           //  the path, or the prefix before the argument
    bool has_arg;
    const char *suffix;         //  after the argument, or NULL
    const char *method;
    bool cached;
    qapi_fn *fn;                //  NULL: the OpenAPI description
} s_route_t;

static const s_route_t s_routes [] = {
    { "stats_realtime", "/api/v1/stats/realtime", false, NULL, "GET", true, qapi_stats_realtime },
    { "timeseries", "/api/v1/timeseries", false, NULL, "GET", true, qapi_timeseries },
    { "top", "/api/v1/top/", true, NULL, "GET", true, qapi_top },
    { "branches", "/api/v1/branches/performance", false, NULL, "GET", true, qapi_branches },
    { "regions", "/api/v1/regions/health", false, NULL, "GET", true, qapi_regions },
    { "alerts", "/api/v1/alerts", false, NULL, "GET", true, qapi_alerts },
    { "ack", "/api/v1/alerts/", true, "/ack", "POST", false, qapi_ack },
    { "transaction", "/api/v1/transactions/", true, NULL, "GET", true, qapi_transaction },
    { "account", "/api/v1/accounts/", true, NULL, "GET", true, qapi_account },
    { "dead_letters", "/api/v1/dead-letters", false, NULL, "GET", true, qapi_dead_letters },
    { "openapi", "/api/v1/openapi.yaml", false, NULL, "GET", false, NULL },
};
#define S_ROUTES    (sizeof s_routes / sizeof s_routes [0])
#define S_NOT_FOUND S_ROUTES    //  metric index of unrouted requests

enum { S_2XX, S_4XX, S_5XX, S_CLASSES };
static const char *const s_class_names [S_CLASSES] = { "2xx", "4xx", "5xx" };

struct _query_server_t {
    const query_config_t *cfg;
    txw_service_t *svc;
    qpool_t *pool;
    qcache_t *cache;
    qapi_t api;
    struct mg_context *ctx;
    char *cors_buf;
    char *cors [S_CORS_MAX];
    int cors_count;
    bool cors_any;
    txw_counter_t *requests [S_ROUTES + 1][S_CLASSES];
    txw_histogram_t *latency;
};

typedef struct {
    int status;
    const char *content_type;
    const char *body;
    size_t len;
    const char *allow;          //  Allow header, or NULL
    const char *cache;          //  X-Cache header, or NULL
    bool preflight;
} s_reply_t;

//  --- Routing ---------------------------------------------------------------------

//  Finds the route of path; *arg (decoded, in buf) is its argument.
static const s_route_t *
s_route (const char *path, char *buf, size_t size, const char **arg)
{
    *arg = NULL;
    for (size_t i = 0; i < S_ROUTES; i++) {
        const s_route_t *r = &s_routes [i];
        if (!r->has_arg) {
            if (!strcmp (path, r->path))
                return r;
            continue;
        }
        size_t plen = strlen (r->path);
        if (strncmp (path, r->path, plen))
            continue;
        const char *rest = path + plen;
        size_t len = strlen (rest);
        if (r->suffix) {
            size_t slen = strlen (r->suffix);
            if (len <= slen || strcmp (rest + len - slen, r->suffix))
                continue;
            len -= slen;
        }
        else
        if (strchr (rest, '/'))
            continue;
        if (len == 0 || len >= size)
            continue;
        memcpy (buf, rest, len);
        buf [len] = 0;
        *arg = buf;
        return r;
    }
    return NULL;
}

//  --- Replies ---------------------------------------------------------------------

//  The value for Access-Control-Allow-Origin, or NULL.
static const char *
s_cors_origin (query_server_t *self, const char *origin)
{
    if (!origin)
        return NULL;
    if (self->cors_any)
        return "*";
    for (int i = 0; i < self->cors_count; i++)
        if (!strcmp (origin, self->cors [i]))
            return origin;
    return NULL;
}

static void
s_send (query_server_t *self, struct mg_connection *conn, int64_t started_us,
        const s_reply_t *reply)
{
    const char *origin = s_cors_origin (self, mg_get_header (conn, "Origin"));
    char length [24], took [32];
    snprintf (length, sizeof length, "%zu", reply->len);
    mg_response_header_start (conn, reply->status);
    if (reply->content_type)
        mg_response_header_add (conn, "Content-Type", reply->content_type, -1);
    mg_response_header_add (conn, "Content-Length", length, -1);
    mg_response_header_add (conn, "Cache-Control", "no-store", -1);
    if (reply->allow)
        mg_response_header_add (conn, "Allow", reply->allow, -1);
    if (reply->cache)
        mg_response_header_add (conn, "X-Cache", reply->cache, -1);
    if (self->cors_count && !self->cors_any)
        mg_response_header_add (conn, "Vary", "Origin", -1);
    if (origin) {
        mg_response_header_add (conn, "Access-Control-Allow-Origin", origin, -1);
        mg_response_header_add (conn, "Access-Control-Expose-Headers", "X-Process-Time, X-Cache", -1);
        if (reply->preflight) {
            mg_response_header_add (conn, "Access-Control-Allow-Methods", reply->allow, -1);
            mg_response_header_add (conn, "Access-Control-Allow-Headers", "Content-Type", -1);
            mg_response_header_add (conn, "Access-Control-Max-Age", "600", -1);
        }
    }
    snprintf (took, sizeof took, "%.6f", (double) (txw_mono_us () - started_us) / 1e6);
    mg_response_header_add (conn, "X-Process-Time", took, -1);
    mg_response_header_send (conn);
    if (reply->len)
        mg_write (conn, reply->body, reply->len);
}

//  Sends a JSON body (consumed); a body that cannot be rendered is a 500.
static void
s_send_json (query_server_t *self, struct mg_connection *conn, int64_t started_us,
             s_reply_t *reply, json_t *body)
{
    char *text = body? json_dumps (body, S_JSON_FLAGS): NULL;
    json_decref (body);
    if (!text) {
        reply->status = 500;
        reply->body = "{\"error\":\"internal\",\"message\":\"cannot render the response\"}";
        reply->len = strlen (reply->body);
    }
    else {
        reply->body = text;
        reply->len = strlen (text);
    }
    reply->content_type = "application/json";
    s_send (self, conn, started_us, reply);
    free (text);
}

static void
s_send_error (query_server_t *self, struct mg_connection *conn, int64_t started_us,
              int status, const char *error, const char *message, const char *allow)
{
    s_reply_t reply = { .status = status, .allow = allow };
    s_send_json (self, conn, started_us, &reply, qapi_error (error, message));
}

//  --- Requests --------------------------------------------------------------------

//  Reads the request body into buf (size bytes). Returns its length, or -1
//  if it is larger than size - 1.
static int
s_read_body (struct mg_connection *conn, char *buf, size_t size)
{
    size_t len = 0;
    while (len < size) {
        int n = mg_read (conn, buf + len, size - len);
        if (n <= 0)
            break;
        len += (size_t) n;
    }
    if (len >= size)
        return -1;
    buf [len] = 0;
    return (int) len;
}

//  Serves one routed request with its endpoint; returns the status.
static int
s_call (query_server_t *self, struct mg_connection *conn, const s_route_t *route,
        const char *arg, int64_t started_us)
{
    const struct mg_request_info *ri = mg_get_request_info (conn);
    char key [2048];
    bool cacheable = route->cached
        && (size_t) snprintf (key, sizeof key, "%s?%s", ri->local_uri,
                              ri->query_string? ri->query_string: "") < sizeof key;
    s_reply_t reply = { .status = 200 };
    if (cacheable) {
        size_t size;
        bool stale;
        char *hit = qcache_get (self->cache, key, txw_mono_ms (), &size, &stale);
        if (hit) {
            reply = (s_reply_t) { 200, "application/json", hit, size, NULL,
                                  stale? "stale": "hit", false };
            s_send (self, conn, started_us, &reply);
            free (hit);
            return 200;
        }
        reply.cache = "miss";
    }
    char body [S_BODY_MAX + 1];
    int body_len = 0;
    if (!strcmp (ri->request_method, "POST") && (body_len = s_read_body (conn, body, sizeof body)) < 0) {
        json_t *error = json_pack ("{s:s,s:s,s:s}", "error", "bad_parameter", "parameter", "body",
                                   "message", "must be at most 4096 bytes");
        reply.status = 400;
        s_send_json (self, conn, started_us, &reply, error);
        return 400;
    }
    qrequest_t req = { ri->query_string, arg, body, (size_t) body_len, txw_now_ms () };
    json_t *out = NULL;
    reply.status = route->fn (&self->api, &req, &out);
    char *text = out? json_dumps (out, S_JSON_FLAGS): NULL;
    if (text && cacheable && reply.status == 200)
        qcache_put (self->cache, key, text, strlen (text), txw_mono_ms ());
    else
    if (cacheable)
        qcache_abandon (self->cache, key);
    if (text && !strcmp (route->name, "ack") && reply.status == 200)
        qcache_clear (self->cache);     //  cached alert lists would show it open
    free (text);
    s_send_json (self, conn, started_us, &reply, out);
    return reply.status;
}

static int
s_class (int status)
{
    return status >= 500? S_5XX: status >= 400? S_4XX: S_2XX;
}

static int
s_handle (struct mg_connection *conn, void *cbdata)
{
    query_server_t *self = cbdata;
    int64_t started_us = txw_mono_us ();
    const struct mg_request_info *ri = mg_get_request_info (conn);
    const char *method = ri->request_method;
    char arg_buf [512];
    const char *arg;
    const s_route_t *route = s_route (ri->local_uri? ri->local_uri: "", arg_buf,
                                      sizeof arg_buf, &arg);
    char allow [32] = "";
    if (route)
        snprintf (allow, sizeof allow, "%s, OPTIONS", route->method);
    int status;
    if (!route) {
        status = 404;
        s_send_error (self, conn, started_us, status, "not_found", "no such endpoint", NULL);
    }
    else
    if (!strcmp (method, "OPTIONS")) {
        status = 204;
        s_reply_t reply = { .status = status, .allow = allow, .preflight = true };
        s_send (self, conn, started_us, &reply);
    }
    else
    if (strcmp (method, route->method)) {
        char message [64];
        snprintf (message, sizeof message, "use %s", route->method);
        status = 405;
        s_send_error (self, conn, started_us, status, "method_not_allowed", message, allow);
    }
    else
    if (!route->fn) {
        status = 200;
        s_reply_t reply = { 200, "application/yaml; charset=utf-8", txw_openapi_yaml,
                            txw_openapi_yaml_size, NULL, NULL, false };
        s_send (self, conn, started_us, &reply);
    }
    else
        status = s_call (self, conn, route, arg, started_us);

    size_t index = route? (size_t) (route - s_routes): S_NOT_FOUND;
    txw_counter_add (self->requests [index][s_class (status)], 1);
    if (status >= 500)
        txw_counter_add (self->svc->errors, 1);
    txw_histogram_observe_us (self->latency, txw_mono_us () - started_us);
    return status;
}

//  --- Life cycle ------------------------------------------------------------------

static bool
s_ready (void *arg, char *detail, size_t size)
{
    query_server_t *self = arg;
    bool ready = qpool_ready (self->pool);
    snprintf (detail, size, "{\"postgres\":\"%s\"}", ready? "ok": "unreachable");
    return ready;
}

static int
s_log_message (const struct mg_connection *conn, const char *message)
{
    (void) conn;
    log_warn ("http: %s", message);
    return 1;
}

static void
s_metrics_new (query_server_t *self)
{
    for (size_t r = 0; r <= S_ROUTES; r++)
        for (int c = 0; c < S_CLASSES; c++) {
            char labels [96];
            snprintf (labels, sizeof labels, "endpoint=\"%s\",class=\"%s\"",
                      r < S_ROUTES? s_routes [r].name: "not_found", s_class_names [c]);
            self->requests [r][c] = txw_counter_new ("txw_query_requests_total", labels,
                                                     "API requests by endpoint and status class");
        }
    self->latency = txw_histogram_new ("txw_query_request_seconds",
                                       "time to answer one API request");
    qcache_set_metrics (self->cache,
        txw_counter_new ("txw_query_cache_hits_total", NULL, "GET responses served from the cache"),
        txw_counter_new ("txw_query_cache_misses_total", NULL, "cacheable GETs not in the cache"),
        txw_gauge_new ("txw_query_cache_entries", NULL, "responses held in the cache"));
    qpool_set_metrics (self->pool,
        txw_counter_new ("txw_query_pool_waits_total", NULL,
                         "requests that waited for a free database connection"),
        txw_counter_new ("txw_query_pool_timeouts_total", NULL,
                         "requests that found no free database connection in time"),
        txw_counter_new ("txw_query_db_errors_total", NULL,
                         "failed database connections and statements"));
}

static int
s_cors_parse (query_server_t *self, const char *list)
{
    self->cors_buf = strdup (list);
    if (!self->cors_buf)
        return -1;
    self->cors_count = txw_split_list (self->cors_buf, self->cors, S_CORS_MAX);
    for (int i = 0; i < self->cors_count; i++) {
        char *item = self->cors [i];
        while (*item == ' ')
            item++;
        size_t len = strlen (item);
        while (len && item [len - 1] == ' ')
            item [--len] = 0;
        self->cors [i] = item;
        if (!strcmp (item, "*"))
            self->cors_any = true;
    }
    return 0;
}

static int
s_listen (query_server_t *self)
{
    char threads [16];
    snprintf (threads, sizeof threads, "%lld", (long long) self->cfg->threads);
    const char *options [] = {
        "listening_ports", self->cfg->listen,
        "num_threads", threads,
        "request_timeout_ms", "10000",
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "5000",
        "tcp_nodelay", "1",
        //  civetweb would answer preflights itself, for any origin: we do.
        "access_control_allow_origin", "",
        "access_control_allow_methods", "",
        "access_control_allow_headers", "",
        NULL
    };
    struct mg_callbacks callbacks;
    memset (&callbacks, 0, sizeof callbacks);
    callbacks.log_message = s_log_message;
    mg_init_library (0);
    self->ctx = mg_start (&callbacks, self, options);
    if (!self->ctx) {
        log_error ("cannot listen on %s", self->cfg->listen);
        return -1;
    }
    mg_set_request_handler (self->ctx, "/", s_handle, self);
    log_info ("API on %s, %lld database connections at most, cache %lld ms",
              self->cfg->listen, (long long) self->cfg->pool_size,
              (long long) self->cfg->cache_ttl_ms);
    return 0;
}

query_server_t *
query_server_new (const query_config_t *cfg, txw_service_t *svc)
{
    query_server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->svc = svc;
    self->pool = qpool_new (cfg->database_url, (int) cfg->pool_size,
                            (int) cfg->statement_timeout_ms, (int) cfg->statement_timeout_ms);
    self->cache = qcache_new (cfg->cache_ttl_ms, (size_t) cfg->cache_max_entries);
    if (!self->pool || !self->cache || s_cors_parse (self, cfg->cors_origins))
        goto err;
    self->api = (qapi_t) {
        .pool = self->pool, .currency = cfg->reporting_currency,
        .currency_exponent = txw_currency_exponent (cfg->reporting_currency, 3),
        .health_threshold = cfg->health_threshold, .alert_threshold = (int) cfg->alert_threshold
    };
    s_metrics_new (self);
    if (qpool_start_monitor (self->pool)
    ||  txw_service_admin (svc, (int) cfg->svc.admin_port, s_ready, self)
    ||  s_listen (self))
        goto err;
    return self;
err:
    query_server_destroy (&self);
    return NULL;
}

int
query_server_run (query_server_t *self)
{
    while (!self->svc->stop)
        usleep (100 * 1000);
    log_info ("stopping");
    return 0;
}

void
query_server_destroy (query_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    query_server_t *self = *self_p;
    if (self->ctx)
        mg_stop (self->ctx);
    //  The admin port reads the pool's ready flag: close it first.
    txw_admin_destroy (&self->svc->admin);
    qpool_destroy (&self->pool);
    qcache_destroy (&self->cache);
    free (self->cors_buf);
    free (self);
    *self_p = NULL;
}
