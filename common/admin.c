/*  admin - the admin HTTP port every service has                           */

#include "admin.h"
#include "log.h"
#include "metrics.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _txw_admin_t {
    struct mg_context *ctx;
    txw_ready_fn *ready;
    void *arg;
};

static void
s_reply (struct mg_connection *conn, int status, const char *type, const char *body)
{
    size_t len = strlen (body);
    mg_printf (conn,
        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        status, status == 200? "OK": "Service Unavailable", type, len);
    mg_write (conn, body, len);
}

static int
s_healthz (struct mg_connection *conn, void *cbdata)
{
    (void) cbdata;
    s_reply (conn, 200, "application/json", "{\"status\":\"alive\"}\n");
    return 200;
}

static int
s_readyz (struct mg_connection *conn, void *cbdata)
{
    txw_admin_t *self = cbdata;
    char detail [512] = "{}";
    bool ready = self->ready? self->ready (self->arg, detail, sizeof detail): true;
    char body [640];
    snprintf (body, sizeof body, "{\"ready\":%s,\"checks\":%s}\n",
              ready? "true": "false", detail);
    s_reply (conn, ready? 200: 503, "application/json", body);
    return ready? 200: 503;
}

static int
s_metrics (struct mg_connection *conn, void *cbdata)
{
    (void) cbdata;
    char *text = txw_metrics_render ();
    s_reply (conn, 200, "text/plain; version=0.0.4", text);
    free (text);
    return 200;
}

static int
s_log_message (const struct mg_connection *conn, const char *message)
{
    (void) conn;
    log_warn ("admin http: %s", message);
    return 1;
}

static int
s_log_http (const struct mg_connection *conn, const char *message)
{
    (void) conn;
    log_warn ("http: %s", message);
    return 1;
}

struct mg_context *
txw_http_start (const char **options, void *user_data, txw_http_log_fn *log_message)
{
    struct mg_callbacks callbacks;
    memset (&callbacks, 0, sizeof callbacks);
    callbacks.log_message = log_message? log_message: s_log_http;
    mg_init_library (0);
    return mg_start (&callbacks, user_data, options);
}

txw_admin_t *
txw_admin_new (const char *address, int port, txw_ready_fn *ready, void *arg, bool *failed)
{
    *failed = false;
    if (port <= 0)
        return NULL;
    txw_admin_t *self = calloc (1, sizeof *self);
    if (!self) {
        *failed = true;
        return NULL;
    }
    self->ready = ready;
    self->arg = arg;

    //  civetweb's form: address:port, an IPv6 address in brackets.
    char port_text [96];
    if (address && *address)
        snprintf (port_text, sizeof port_text, strchr (address, ':')? "[%s]:%d": "%s:%d",
                  address, port);
    else
        snprintf (port_text, sizeof port_text, "%d", port);
    char threads [16], timeout [16];
    snprintf (threads, sizeof threads, "%d", TXW_ADMIN_THREADS);
    snprintf (timeout, sizeof timeout, "%d", TXW_ADMIN_TIMEOUT_MS);
    const char *options [] = {
        "listening_ports", port_text,
        "num_threads", threads,
        //  Bounds the wait for a request's headers, counted from the
        //  first read (a client that sends a byte a second is cut off at
        //  the timeout too), and each write of the answer.
        "request_timeout_ms", timeout,
        //  One request per connection: an idle kept-alive connection would
        //  hold its worker for keep_alive_timeout_ms after each answer.
        "enable_keep_alive", "no",
        //  A probe's or a scrape's request is a few hundred bytes.
        "max_request_size", "8192",
        NULL
    };
    self->ctx = txw_http_start (options, self, s_log_message);
    if (!self->ctx) {
        log_error ("admin: cannot listen on %s", port_text);
        free (self);
        *failed = true;
        return NULL;
    }
    mg_set_request_handler (self->ctx, "/healthz$", s_healthz, self);
    mg_set_request_handler (self->ctx, "/readyz$", s_readyz, self);
    mg_set_request_handler (self->ctx, "/metrics$", s_metrics, self);
    log_info ("admin endpoints on port %d: /healthz /readyz /metrics", port);
    return self;
}

void
txw_admin_destroy (txw_admin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_admin_t *self = *self_p;
    mg_stop (self->ctx);
    free (self);
    *self_p = NULL;
}
