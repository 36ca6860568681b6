/*  httpfront - who may ask an HTTP API, and how often

    The front door both data APIs (the query API, ingest) put before their
    routes: a rate limit per client address, taken before any key is
    looked at so a flood of made-up keys is limited too; then the API key
    (keystore.h) and its role; then a rate limit per key. Each step either
    lets the request on or fills a txw_refusal_t (status, error code,
    message, Retry-After) that the server sends in its own framing. The
    metrics are named after the service: <prefix>_auth_failures_total,
    <prefix>_forbidden_total and the rate limits' (ratelimit.h).
    Thread safe as keystore and ratelimit are.                              */

#ifndef TXW_HTTPFRONT_H
#define TXW_HTTPFRONT_H

#include "keystore.h"
#include "metrics.h"
#include "ratelimit.h"

#include <stdint.h>

typedef struct {
    txw_keystore_t *keys;
    txw_ratelimit_t *per_client;        //  NULL: no limit per client address
    txw_ratelimit_t *per_key;           //  NULL: no limit per API key
    txw_counter_t *auth_failures [2];   //  no key, a key not valid
    txw_counter_t *forbidden;
} txw_front_t;

//  What to answer instead of serving the request.
typedef struct {
    int status;                 //  429, 401, 403 or 503
    const char *error;          //  the body's "error" code
    char message [128];
    char retry_after [16];      //  Retry-After, "" for none
} txw_refusal_t;

//  Opens the key store and the limits (a rate <= 0: no limit). Returns 0,
//  or -1 (out of memory) with what was made left for txw_front_destroy.
int txw_front_init (txw_front_t *self, const char *database_url, int64_t key_cache_ms,
                    double rate_per_client, int64_t burst_per_client,
                    double rate_per_key, int64_t burst_per_key, int64_t rate_limit_entries);
void txw_front_destroy (txw_front_t *self);

//  Registers the metrics, named "<prefix>_...".
void txw_front_metrics (txw_front_t *self, const char *prefix);

//  Takes a token of the client address's bucket: 0 to go on, or the
//  status of *refusal (429).
int txw_front_client (txw_front_t *self, const char *remote_addr, txw_refusal_t *refusal);

//  Checks the key presented in the Authorization or X-API-Key header
//  (either NULL) for at least role, then takes a token of its bucket: 0
//  with *who set, or the status of *refusal.
int txw_front_caller (txw_front_t *self, const char *authorization, const char *x_api_key,
                      txw_role_t role, txw_principal_t *who, txw_refusal_t *refusal);

#endif
