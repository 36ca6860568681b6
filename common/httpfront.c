/*  httpfront - who may ask an HTTP API, and how often (httpfront.h)      */

#include "httpfront.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>

int
txw_front_init (txw_front_t *self, const char *database_url, int64_t key_cache_ms,
                double rate_per_client, int64_t burst_per_client,
                double rate_per_key, int64_t burst_per_key, int64_t rate_limit_entries)
{
    memset (self, 0, sizeof *self);
    self->keys = txw_keystore_new (database_url, key_cache_ms);
    if (rate_per_client > 0)
        self->per_client = txw_ratelimit_new (rate_per_client, (int) burst_per_client,
                                              (size_t) rate_limit_entries);
    if (rate_per_key > 0)
        self->per_key = txw_ratelimit_new (rate_per_key, (int) burst_per_key,
                                           (size_t) rate_limit_entries);
    if (!self->keys || (rate_per_client > 0 && !self->per_client)
    ||  (rate_per_key > 0 && !self->per_key))
        return -1;
    return 0;
}

void
txw_front_destroy (txw_front_t *self)
{
    txw_keystore_destroy (&self->keys);
    txw_ratelimit_destroy (&self->per_client);
    txw_ratelimit_destroy (&self->per_key);
}

void
txw_front_metrics (txw_front_t *self, const char *prefix)
{
    char name [96];
    snprintf (name, sizeof name, "%s_auth_failures_total", prefix);
    self->auth_failures [0] = txw_counter_new (name, "reason=\"missing\"",
                                               "requests refused with 401, by reason");
    self->auth_failures [1] = txw_counter_new (name, "reason=\"invalid\"",
                                               "requests refused with 401, by reason");
    snprintf (name, sizeof name, "%s_forbidden_total", prefix);
    self->forbidden = txw_counter_new (name, NULL,
                                       "requests refused with 403: the key's role is too low");
    char limited [96], overflows [96], buckets [96];
    snprintf (limited, sizeof limited, "%s_rate_limited_total", prefix);
    snprintf (overflows, sizeof overflows, "%s_rate_limit_overflows_total", prefix);
    snprintf (buckets, sizeof buckets, "%s_rate_limit_buckets", prefix);
    txw_ratelimit_t *limits [2] = { self->per_client, self->per_key };
    const char *by [2] = { "by=\"client\"", "by=\"key\"" };
    for (int i = 0; i < 2; i++)
        if (limits [i])
            txw_ratelimit_set_metrics (limits [i],
                txw_counter_new (limited, by [i],
                                 "requests refused with 429, by what was over its limit"),
                txw_counter_new (overflows, by [i],
                                 "requests charged to the shared bucket because the table was full"),
                txw_gauge_new (buckets, by [i], "rate limit buckets held"));
}

static int
s_refuse (txw_refusal_t *refusal, int status, const char *error, const char *message)
{
    refusal->status = status;
    refusal->error = error;
    snprintf (refusal->message, sizeof refusal->message, "%s", message);
    refusal->retry_after [0] = 0;
    return status;
}

//  A token of key's bucket in limit (NULL: none): 0, or 429 refused.
static int
s_limit (txw_ratelimit_t *limit, const char *key, txw_refusal_t *refusal)
{
    int wait_s = limit? txw_ratelimit_take (limit, key, txw_mono_ms ()): 0;
    if (!wait_s)
        return 0;
    s_refuse (refusal, 429, "too_many_requests",
              "over the rate limit; retry after Retry-After seconds");
    snprintf (refusal->retry_after, sizeof refusal->retry_after, "%d", wait_s);
    return 429;
}

int
txw_front_client (txw_front_t *self, const char *remote_addr, txw_refusal_t *refusal)
{
    char client [TXW_RATELIMIT_KEY_MAX + 1];
    txw_ratelimit_client_key (remote_addr, client, sizeof client);
    return s_limit (self->per_client, client, refusal);
}

int
txw_front_caller (txw_front_t *self, const char *authorization, const char *x_api_key,
                  txw_role_t role, txw_principal_t *who, txw_refusal_t *refusal)
{
    size_t len;
    const char *key = txw_apikey_presented (authorization, x_api_key, NULL, &len);
    txw_auth_t auth = txw_keystore_verify (self->keys, key, len, txw_mono_ms (), who);
    if (auth == TXW_AUTH_UNAVAILABLE)
        return s_refuse (refusal, 503, "unavailable", "database unreachable");
    if (auth != TXW_AUTH_OK) {
        txw_counter_add (self->auth_failures [auth == TXW_AUTH_MISSING? 0: 1], 1);
        return s_refuse (refusal, 401, "unauthorized", auth == TXW_AUTH_MISSING?
                         "an API key is required: Authorization: Bearer <key>":
                         "the API key is not valid (malformed, unknown or revoked)");
    }
    if (who->role < role) {
        char message [128];
        snprintf (message, sizeof message, "this needs the %s role; the key has %s",
                  txw_role_name (role), txw_role_name (who->role));
        txw_counter_add (self->forbidden, 1);
        return s_refuse (refusal, 403, "forbidden", message);
    }
    return s_limit (self->per_key, who->key_id, refusal);
}
