/*  server - the HTTP side of txw-query: routing, identity, cache, CORS, metrics

    One civetweb handler takes every request: it finds the route, answers
    OPTIONS preflights and wrong methods itself, serves the OpenAPI
    document to anyone, and for everything else checks the caller's API
    key (keystore.h) and that its role reaches the route's (401 without a
    valid key, 403 below the role). It then serves GET responses from
    the cache (cache.c) when it can, and otherwise calls the endpoint
    (api.h) and caches a 200. Every response, errors included, carries
    X-Process-Time (seconds spent in the handler), Cache-Control: no-store
    (the server-side cache already absorbs polling, and a browser or proxy
    must not show an acked alert as open), the CORS headers when the
    request's Origin is allowed, and X-Cache: hit|stale|miss on cacheable
    GETs (stale: an expired body served while another request refreshes it,
    cache.c).                                                              */

#include "query.h"
#include "admin.h"
#include "api.h"
#include "apikey.h"
#include "cache.h"
#include "clock.h"
#include "httpfront.h"
#include "money.h"
#include "openapi.h"
#include "params.h"
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
    txw_role_t role;            //  the least role allowed (NONE: open to all)
    const char *audit;          //  the audit action of a served read, or NULL
    qapi_fn *fn;                //  NULL: the OpenAPI description
} s_route_t;

//  Each role is proto/openapi.yaml's x-txwatch-role of the operation; the
//  role-matrix test (tests/e2e/auth.sh) checks every operation against it.
static const s_route_t s_routes [] = {
    { "stats_realtime", "/api/v1/stats/realtime", false, NULL, "GET", true, TXW_ROLE_VIEWER, NULL,
      qapi_stats_realtime },
    { "timeseries", "/api/v1/timeseries", false, NULL, "GET", true, TXW_ROLE_VIEWER, NULL,
      qapi_timeseries },
    { "top", "/api/v1/top/", true, NULL, "GET", true, TXW_ROLE_VIEWER, NULL, qapi_top },
    { "branches", "/api/v1/branches/performance", false, NULL, "GET", true, TXW_ROLE_VIEWER, NULL,
      qapi_branches },
    { "regions", "/api/v1/regions/health", false, NULL, "GET", true, TXW_ROLE_VIEWER, NULL,
      qapi_regions },
    { "alerts", "/api/v1/alerts", false, NULL, "GET", true, TXW_ROLE_VIEWER, NULL, qapi_alerts },
    { "ack", "/api/v1/alerts/", true, "/ack", "POST", false, TXW_ROLE_ANALYST, NULL, qapi_ack },
    { "reopen", "/api/v1/alerts/", true, "/reopen", "POST", false, TXW_ROLE_ANALYST, NULL,
      qapi_reopen },
    { "alert_update", "/api/v1/alerts/", true, NULL, "PATCH", false, TXW_ROLE_ANALYST, NULL,
      qapi_alert_update },
    { "notes", "/api/v1/alerts/", true, "/notes", "GET", false, TXW_ROLE_ANALYST, NULL,
      qapi_notes },
    { "note_add", "/api/v1/alerts/", true, "/notes", "POST", false, TXW_ROLE_ANALYST, NULL,
      qapi_note_add },
    { "labels", "/api/v1/labels", false, NULL, "GET", false, TXW_ROLE_ANALYST, NULL, qapi_labels },
    { "transaction", "/api/v1/transactions/", true, NULL, "GET", true, TXW_ROLE_ANALYST,
      "read.transaction", qapi_transaction },
    { "account", "/api/v1/accounts/", true, NULL, "GET", true, TXW_ROLE_ANALYST,
      "read.account", qapi_account },
    //  Before customer: "segments" is not an account id here.
    { "customer_segments", "/api/v1/customers/segments", false, NULL, "GET", true,
      TXW_ROLE_VIEWER, NULL, qapi_customer_segments },
    { "customers", "/api/v1/customers", false, NULL, "GET", true, TXW_ROLE_VIEWER, NULL,
      qapi_customers },
    { "customer", "/api/v1/customers/", true, NULL, "GET", true, TXW_ROLE_ANALYST,
      "read.customer", qapi_customer },
    { "cohorts", "/api/v1/cohorts", false, NULL, "GET", true, TXW_ROLE_VIEWER, NULL, qapi_cohorts },
    //  Not cached: a customer's answer is audited by the endpoint itself
    //  (analysts only), which a cached answer would skip.
    { "recommendations", "/api/v1/recommendations", false, NULL, "GET", false, TXW_ROLE_VIEWER,
      NULL, qapi_recommendations },
    { "dead_letters", "/api/v1/dead-letters", false, NULL, "GET", true, TXW_ROLE_VIEWER, NULL,
      qapi_dead_letters },
    { "whoami", "/api/v1/whoami", false, NULL, "GET", false, TXW_ROLE_VIEWER, NULL, qapi_whoami },
    { "keys", "/api/v1/keys", false, NULL, "GET", false, TXW_ROLE_ADMIN, NULL, qapi_keys },
    { "key_create", "/api/v1/keys", false, NULL, "POST", false, TXW_ROLE_ADMIN, NULL,
      qapi_key_create },
    { "key_revoke", "/api/v1/keys/", true, NULL, "DELETE", false, TXW_ROLE_ADMIN, NULL,
      qapi_key_revoke },
    { "audit", "/api/v1/audit", false, NULL, "GET", false, TXW_ROLE_ADMIN, NULL, qapi_audit },
    { "openapi", "/api/v1/openapi.yaml", false, NULL, "GET", false, TXW_ROLE_NONE, NULL, NULL },
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
    txw_front_t front;
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
    const char *retry_after;    //  Retry-After header (429), or NULL
} s_reply_t;

//  --- Routing ---------------------------------------------------------------------

//  Whether path is route r's; the argument, if any, decoded into buf.
static bool
s_route_matches (const s_route_t *r, const char *path, char *buf, size_t size,
                 const char **arg)
{
    *arg = NULL;
    if (!r->has_arg)
        return !strcmp (path, r->path);
    size_t plen = strlen (r->path);
    if (strncmp (path, r->path, plen))
        return false;
    const char *rest = path + plen;
    size_t len = strlen (rest);
    if (r->suffix) {
        size_t slen = strlen (r->suffix);
        if (len <= slen || strcmp (rest + len - slen, r->suffix))
            return false;
        len -= slen;
    }
    if (memchr (rest, '/', len))
        return false;
    if (len == 0 || len >= size)
        return false;
    memcpy (buf, rest, len);
    buf [len] = 0;
    *arg = buf;
    return true;
}

//  Finds the route of path and method; *arg (decoded, in buf) is its
//  argument. When the path exists but not with this method, returns its
//  first route with *wrong_method set. allow gets the path's methods.
static const s_route_t *
s_route (const char *path, const char *method, char *buf, size_t size, const char **arg,
         bool *wrong_method, char *allow, size_t allow_size)
{
    const s_route_t *found = NULL;
    *wrong_method = false;
    *allow = 0;
    size_t used = 0;
    for (size_t i = 0; i < S_ROUTES; i++) {
        const s_route_t *r = &s_routes [i];
        const char *a;
        char scratch [512];
        if (!s_route_matches (r, path, scratch, sizeof scratch, &a))
            continue;
        //  Once each (/customers/segments is also /customers/{id}'s path).
        if (!strstr (allow, r->method))
            used += snprintf (allow + used, used < allow_size? allow_size - used: 0, "%s, ",
                              r->method);
        if (!found || (strcmp (found->method, method) && !strcmp (r->method, method))) {
            found = r;
            *arg = a? buf: NULL;
            if (a)
                snprintf (buf, size, "%s", a);
        }
    }
    if (found) {
        snprintf (allow + used, used < allow_size? allow_size - used: 0, "OPTIONS");
        *wrong_method = strcmp (found->method, method) != 0;
    }
    return found;
}

//  --- Replies ---------------------------------------------------------------------

//  The value for Access-Control-Allow-Origin, or NULL.
static const char *
s_cors_origin (query_server_t *self, const char *origin)
{
    if (!origin)
        return NULL;
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
    //  JSON for programs: nothing in it may run, be framed or be sniffed.
    mg_response_header_add (conn, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add (conn, "Content-Security-Policy",
                            "default-src 'none'; frame-ancestors 'none'", -1);
    mg_response_header_add (conn, "Referrer-Policy", "no-referrer", -1);
    if (reply->status == 401)
        mg_response_header_add (conn, "WWW-Authenticate", "Bearer realm=\"txwatch\"", -1);
    if (reply->retry_after)
        mg_response_header_add (conn, "Retry-After", reply->retry_after, -1);
    if (reply->allow)
        mg_response_header_add (conn, "Allow", reply->allow, -1);
    if (reply->cache)
        mg_response_header_add (conn, "X-Cache", reply->cache, -1);
    if (self->cors_count)
        mg_response_header_add (conn, "Vary", "Origin", -1);
    if (origin) {
        mg_response_header_add (conn, "Access-Control-Allow-Origin", origin, -1);
        mg_response_header_add (conn, "Access-Control-Expose-Headers",
                                "X-Process-Time, X-Cache, Retry-After", -1);
        if (reply->preflight) {
            mg_response_header_add (conn, "Access-Control-Allow-Methods", reply->allow, -1);
            mg_response_header_add (conn, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, X-API-Key", -1);
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

//  Serves one routed request with its endpoint for who; returns the status.
//  A read of a full record (route->audit) is served only once its audit
//  row is written, from the cache or not.
static int
s_call (query_server_t *self, struct mg_connection *conn, const s_route_t *route,
        const char *arg, const txw_principal_t *who, int64_t started_us)
{
    const struct mg_request_info *ri = mg_get_request_info (conn);
    qrequest_t req = { ri->query_string, arg, NULL, 0, txw_now_ms (), who, ri->remote_addr };
    //  The key is the request as the endpoint reads it (060 and 60 are one
    //  entry), and viewers, who see pseudonyms, have entries of their own.
    char key [QPARAMS_KEY_MAX];
    qerror_t err;
    bool cacheable = route->cached;
    if (cacheable && qparams_cache_key (route->name, who->role >= TXW_ROLE_ANALYST? "full": "masked",
                                        ri->local_uri, ri->query_string, key, sizeof key, &err)) {
        s_reply_t reply = { .status = 400 };
        s_send_json (self, conn, started_us, &reply,
                     json_pack ("{s:s,s:s,s:s}", "error", "bad_parameter", "parameter", err.parameter,
                                "message", err.message));
        return 400;
    }
    s_reply_t reply = { .status = 200 };
    json_t *out = NULL;
    if (cacheable) {
        size_t size;
        bool stale;
        char *hit = qcache_get (self->cache, key, txw_mono_ms (), &size, &stale);
        if (hit) {
            int status = route->audit?
                qapi_audit_write (&self->api, &req, route->audit, arg, NULL, &out): 0;
            if (status) {
                free (hit);
                reply.status = status;
                s_send_json (self, conn, started_us, &reply, out);
                return status;
            }
            reply = (s_reply_t) { 200, "application/json", hit, size, NULL,
                                  stale? "stale": "hit", false, NULL };
            s_send (self, conn, started_us, &reply);
            free (hit);
            return 200;
        }
        reply.cache = "miss";
    }
    char body [S_BODY_MAX + 1];
    int body_len = 0;
    if (strcmp (ri->request_method, "GET") && (body_len = s_read_body (conn, body, sizeof body)) < 0) {
        json_t *error = json_pack ("{s:s,s:s,s:s}", "error", "bad_parameter", "parameter", "body",
                                   "message", "must be at most 4096 bytes");
        reply.status = 413;
        s_send_json (self, conn, started_us, &reply, error);
        return 413;
    }
    req.body = body;
    req.body_len = (size_t) body_len;
    reply.status = route->fn (&self->api, &req, &out);
    if (reply.status == 200 && route->audit) {
        json_t *error = NULL;
        int status = qapi_audit_write (&self->api, &req, route->audit, arg, NULL, &error);
        if (status) {
            json_decref (out);
            out = error;
            reply.status = status;
            cacheable = false;
            qcache_abandon (self->cache, key);
        }
    }
    char *text = out? json_dumps (out, S_JSON_FLAGS): NULL;
    if (text && cacheable && reply.status == 200)
        qcache_put (self->cache, key, text, strlen (text), txw_mono_ms ());
    else
    if (cacheable)
        qcache_abandon (self->cache, key);
    //  Cached alert lists would show the alert as it was.
    if (text && (route->fn == qapi_ack || route->fn == qapi_reopen || route->fn == qapi_alert_update
                 || route->fn == qapi_note_add) && reply.status / 100 == 2)
        qcache_clear (self->cache);
    free (text);
    s_send_json (self, conn, started_us, &reply, out);
    return reply.status;
}

static int
s_class (int status)
{
    return status >= 500? S_5XX: status >= 400? S_4XX: S_2XX;
}

//  Sends what the front door refused; returns its status.
static int
s_refuse (query_server_t *self, struct mg_connection *conn, int64_t started_us,
          const txw_refusal_t *refusal)
{
    s_reply_t reply = { .status = refusal->status,
                        .retry_after = *refusal->retry_after? refusal->retry_after: NULL };
    s_send_json (self, conn, started_us, &reply, qapi_error (refusal->error, refusal->message));
    return refusal->status;
}

static int
s_handle (struct mg_connection *conn, void *cbdata)
{
    query_server_t *self = cbdata;
    int64_t started_us = txw_mono_us ();
    const struct mg_request_info *ri = mg_get_request_info (conn);
    const char *method = ri->request_method;
    char arg_buf [512], allow [64];
    const char *arg = NULL;
    bool wrong_method;
    const s_route_t *route = s_route (ri->local_uri? ri->local_uri: "", method, arg_buf,
                                      sizeof arg_buf, &arg, &wrong_method, allow, sizeof allow);
    txw_principal_t who;
    txw_refusal_t refusal;
    int status;
    if (txw_front_client (&self->front, ri->remote_addr, &refusal))
        status = s_refuse (self, conn, started_us, &refusal);
    else
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
    if (wrong_method) {
        char message [80];
        snprintf (message, sizeof message, "use %s", allow);
        status = 405;
        s_send_error (self, conn, started_us, status, "method_not_allowed", message, allow);
    }
    else
    if (!route->fn) {
        status = 200;
        s_reply_t reply = { 200, "application/yaml; charset=utf-8", txw_openapi_yaml,
                            txw_openapi_yaml_size, NULL, NULL, false, NULL };
        s_send (self, conn, started_us, &reply);
    }
    else
    if (txw_front_caller (&self->front, mg_get_header (conn, "Authorization"),
                          mg_get_header (conn, "X-API-Key"), route->role, &who, &refusal))
        status = s_refuse (self, conn, started_us, &refusal);
    else
        status = s_call (self, conn, route, arg, &who, started_us);

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
    txw_front_metrics (&self->front, "txw_query");
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
        //  Any origin would let every page a user opens call the API with
        //  whatever it can make the browser send: origins are named.
        if (!strcmp (item, "*") || strncmp (item, "http", 4)) {
            log_error ("--cors-origins: \"%s\" is not an origin such as"
                       " http://localhost:8081", item);
            return -1;
        }
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
        //  A request must arrive whole within 3 s (civetweb counts from the
        //  start of the read), so slow clients hold a worker for 3-6 s at
        //  most; a kept-alive connection idles 1 s.
        "request_timeout_ms", "3000",
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "1000",
        "max_request_size", "16384",
        "tcp_nodelay", "1",
        //  civetweb would answer preflights itself, for any origin: we do.
        "access_control_allow_origin", "",
        "access_control_allow_methods", "",
        "access_control_allow_headers", "",
        NULL
    };
    self->ctx = txw_http_start (options, self, NULL);
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
    if (txw_front_init (&self->front, cfg->database_url, cfg->key_cache_ms,
                        cfg->rate_per_client, cfg->burst_per_client, cfg->rate_per_key,
                        cfg->burst_per_key, cfg->rate_limit_entries))
        goto err;
    if (!self->pool || !self->cache || s_cors_parse (self, cfg->cors_origins))
        goto err;
    self->api = (qapi_t) {
        .pool = self->pool, .currency = cfg->reporting_currency,
        .currency_exponent = txw_currency_exponent (cfg->reporting_currency, 3),
        .health_threshold = cfg->health_threshold, .alert_threshold = (int) cfg->alert_threshold,
        .keys = self->front.keys
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
    txw_front_destroy (&self->front);
    free (self->cors_buf);
    free (self);
    *self_p = NULL;
}
