/*  validator - the validation stage: raw transactions in, clean ones out

    Pulls raw transactions from the producers, judges each with checks.c,
    routes the good ones, normalised and enriched, to the scorer shard that
    owns their account, and turns the rest (and the rejections producers
    send along) into dead letters: published for observers and stored in
    PostgreSQL by deadletters.c. It keeps no state of its own, so any number
    of validators can share the producers' output.                          */

#ifndef TXW_VALIDATOR_H
#define TXW_VALIDATOR_H

#include "service.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    txw_service_config_t svc;
    const char *bind;
    const char *scorer_endpoints;
    const char *publish;
    const char *database_url;
    const char *rates;
    const char *reporting_currency;
    int64_t max_future_ms;
    const char *min_ts;
    const char *max_amount;
    int64_t dead_letter_queue;
    bool migrate;
} validator_config_t;

typedef struct _validator_t validator_t;

//  Builds the stage: sockets, rates, checks, dead-letter writer, metrics and
//  the admin port. cfg and svc are borrowed and must outlive the validator.
//  Returns NULL (logged) on a bad option or an endpoint that cannot be used.
validator_t *validator_new (const validator_config_t *cfg, txw_service_t *svc);

//  Runs until svc->stop, then flushes open batches and returns 0.
int validator_run (validator_t *self);

//  Stores what is still queued, closes everything; NULLs *self_p.
void validator_destroy (validator_t **self_p);

#endif
