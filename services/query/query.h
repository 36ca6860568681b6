/*  query - the REST API service (txw-query): configuration and server

    proto/SERVING.md is the contract and proto/openapi.yaml its machine-
    readable form. main.c parses the options into a query_config_t; the
    server (server.c) owns the connection pool (pool.c), the response cache
    (cache.c) and the HTTP listener, and routes each request to its endpoint
    (api.h), whose parameters params.c checks.                              */

#ifndef TXW_QUERY_H
#define TXW_QUERY_H

#include "service.h"

typedef struct {
    txw_service_config_t svc;
    const char *listen;
    const char *database_url;
    int64_t pool_size;
    int64_t threads;
    int64_t cache_ttl_ms;
    int64_t cache_max_entries;
    const char *cors_origins;
    int64_t key_cache_ms;
    double rate_per_key;        //  requests per second (0: no limit)
    int64_t burst_per_key;
    double rate_per_client;
    int64_t burst_per_client;
    int64_t rate_limit_entries;
    double health_threshold;
    int64_t alert_threshold;
    const char *reporting_currency;
    int64_t statement_timeout_ms;
} query_config_t;

typedef struct _query_server_t query_server_t;

//  Starts listening. Returns NULL (logged) on a bad option or a port that
//  cannot be bound. The database may be down: requests get 503 until it
//  answers, and /readyz says so.
query_server_t *query_server_new (const query_config_t *cfg, txw_service_t *svc);

//  Serves until svc->stop is set; returns the exit code.
int query_server_run (query_server_t *self);

void query_server_destroy (query_server_t **self_p);

#endif
