/*  gateway - the push gateway: pipeline feeds in, WebSocket messages out

    One thread (the caller of gateway_run) receives from the SUB inputs
    (scorer alerts, aggregator windows and region health alerts, validator
    dead letters), keeps the state (state.h), turns every update into the
    messages of SERVING.md and hands them to the clients' queues
    (server.h). Once a second it prunes the state and pushes the stats
    message; whenever clients wait for a snapshot it builds one. An input
    whose sequence numbers jump tells every client with a gap message
    (reason "upstream").

    Who may connect: an API key checked against --database-url (keystore.h,
    answers reused for --key-cache-ms), from an allowed Origin (access.h),
    at most --max-clients-per-key connections per key (server.h).           */

#ifndef TXW_GATEWAY_H
#define TXW_GATEWAY_H

#include "service.h"

typedef struct {
    txw_service_config_t svc;
    const char *listen;
    const char *document_root;
    const char *api_url;
    const char *alert_endpoints;
    const char *window_endpoints;
    const char *dead_letter_endpoints;
    const char *database_url;
    const char *reporting_currency;
    const char *allowed_origins;
    bool auth;                  //  false: --auth off, /ws asks no key (debugging only)
    int64_t key_cache_ms;
    int64_t client_queue;
    int64_t max_clients;
    int64_t max_clients_per_key;
    double handshakes_per_client;
    int64_t threads;            //  0: max_clients + 16
    double health_threshold;
} gateway_config_t;

typedef struct _gateway_t gateway_t;

//  Returns NULL (logged) if an endpoint, an origin, --api-url or the
//  listening port is bad.
gateway_t *gateway_new (const gateway_config_t *cfg, txw_service_t *svc);
void gateway_destroy (gateway_t **self_p);
//  Runs until svc->stop. Returns the process exit code.
int gateway_run (gateway_t *self);

#endif
