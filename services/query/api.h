/*  api - the endpoints of the REST API: parameters, SQL, JSON

    One function per endpoint of proto/SERVING.md. Each validates its
    parameters (params.c), reads the stable views in schema txw with
    parameterised statements over a pooled connection (the writes: an
    alert's acknowledgement or reopening, API keys, the audit log), and
    builds the response body with jansson. The server (server.c) does the routing,
    caching and HTTP around them. Times come out of PostgreSQL as epoch
    milliseconds and are formatted here (RFC 3339, UTC, milliseconds), so
    every time in the API has the same form whatever the session settings.
    The endpoints are defined by family in api_*.c (api_private.h lists
    them), with what they share in api.c.                                   */

#ifndef TXW_QUERY_API_H
#define TXW_QUERY_API_H

#include "keystore.h"
#include "pool.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    qpool_t *pool;
    const char *currency;       //  reporting currency
    int currency_exponent;
    double health_threshold;
    int alert_threshold;
    txw_keystore_t *keys;       //  told when a key is revoked here
} qapi_t;

typedef struct {
    const char *query;          //  raw query string (after '?'), may be NULL
    const char *arg;            //  URL-decoded path argument, or NULL
    const char *body;           //  request body (POST), may be NULL
    size_t body_len;
    int64_t now_ms;             //  wall clock, UTC ms
    const txw_principal_t *who; //  the authenticated caller
    const char *client;         //  the caller's address, for the audit log
} qrequest_t;

//  An endpoint returns the HTTP status and sets *out to the body (success
//  or error object), which the caller owns.
typedef int (qapi_fn) (qapi_t *api, const qrequest_t *req, json_t **out);

qapi_fn qapi_stats_realtime;
qapi_fn qapi_timeseries;
qapi_fn qapi_top;               //  arg: dimension
qapi_fn qapi_branches;
qapi_fn qapi_regions;
qapi_fn qapi_alerts;
qapi_fn qapi_ack;               //  arg: numeric id or key
qapi_fn qapi_reopen;            //  arg: numeric id or key
qapi_fn qapi_alert_update;      //  arg: numeric id or key (PATCH)
qapi_fn qapi_notes;             //  arg: numeric id or key
qapi_fn qapi_note_add;          //  arg: numeric id or key
qapi_fn qapi_labels;
qapi_fn qapi_transaction;       //  arg: tx_id
qapi_fn qapi_account;           //  arg: account_id
qapi_fn qapi_customer_segments;
qapi_fn qapi_customers;
qapi_fn qapi_customer;          //  arg: account_id
qapi_fn qapi_cohorts;
qapi_fn qapi_recommendations;
qapi_fn qapi_dead_letters;
qapi_fn qapi_whoami;
qapi_fn qapi_keys;
qapi_fn qapi_key_create;
qapi_fn qapi_key_revoke;        //  arg: key_id
qapi_fn qapi_audit;

//  Records that req's caller did action to target (detail: a JSON object
//  or NULL) in txw_data.audit. Returns 0, or the status of the failure
//  with *out set: a read that cannot be audited is not served.
int qapi_audit_write (qapi_t *api, const qrequest_t *req, const char *action,
                      const char *target, const char *detail, json_t **out);

//  {"error":error,"message":message}; never NULL unless out of memory.
json_t *qapi_error (const char *error, const char *message);

//  The parameter reason-list of the dead letters, NULL-terminated.
extern const char *const qapi_reject_codes [];

#endif
