/*  admin - the admin HTTP port every service has

    /healthz answers 200 while the process runs; /readyz asks the service's
    readiness callback whether its dependencies are reachable (200 or 503,
    with a JSON body that says which); /metrics renders the metrics registry.
    Runs on civetweb's own threads, so callbacks must only read atomics.

    A liveness probe must not fail because of other clients. civetweb
    holds one worker thread per connection from accept to close, and a
    worker waits for a request's headers until request_timeout_ms has
    passed since it began to read them (read_message; a poll that is
    already waiting ends first, so at most about twice that): each slow or
    idle connection takes a worker for that long, and a connection that
    finds every worker taken waits in civetweb's queue, first come first
    served. The port therefore has TXW_ADMIN_THREADS workers, a short
    TXW_ADMIN_TIMEOUT_MS and no keep-alive (one request per connection):
    fewer slow sockets than workers cost the probes nothing. That is a
    bound, not immunity: N >= TXW_ADMIN_THREADS sockets kept slow, each
    reopened as it is closed, delay a probe by about
    N / TXW_ADMIN_THREADS timeouts. Keep admin ports off networks such
    clients reach; tests/tools/slowloris.py measures it.                   */

#ifndef TXW_ADMIN_H
#define TXW_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

//  Worker threads, and the longest a request may take to arrive (its
//  headers) or its answer to leave, in ms.
#define TXW_ADMIN_THREADS       16
#define TXW_ADMIN_TIMEOUT_MS    2000

typedef struct _txw_admin_t txw_admin_t;

//  Writes a short JSON object describing the dependencies into detail and
//  returns true if the service is ready.
typedef bool (txw_ready_fn) (void *arg, char *detail, size_t size);

//  Listens on address (NULL or "": every interface) and port (0: no admin
//  port; returns NULL without error then).
//  Returns NULL and logs if the port cannot be bound; *failed is set then.
txw_admin_t *txw_admin_new (const char *address, int port, txw_ready_fn *ready, void *arg,
                            bool *failed);

void txw_admin_destroy (txw_admin_t **self_p);

//  Starts a civetweb listener (the admin port's, an API's) with options
//  (name, value pairs, NULL-ended) and user_data for its handlers; its
//  warnings go to log_message, NULL: logged as "http: <message>". Returns
//  NULL if it cannot listen (the caller logs where).
struct mg_connection;
struct mg_context;
typedef int (txw_http_log_fn) (const struct mg_connection *conn, const char *message);
struct mg_context *txw_http_start (const char **options, void *user_data,
                                   txw_http_log_fn *log_message);

#endif
