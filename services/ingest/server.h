/*  server - the HTTP side of txw-ingest

    One civetweb handler for every request: the route and its method, the
    rate limit per client address, the API key (keystore.h; posting
    transactions and corrections needs the analyst role, as every other
    change of records does) and the rate limit per key; then the body
    (media type, size, rows), the validator's checks on each row, the
    journal (through the loop, ingest_submit) and the answer with every
    row's outcome. Status codes and bodies are proto/SERVING.md's.          */

#ifndef TXW_INGEST_SERVER_H
#define TXW_INGEST_SERVER_H

#include "ingest.h"

typedef struct _ingest_server_t ingest_server_t;

//  Loads the rates and starts listening; journal is read for the stored
//  transactions that corrections name. Returns NULL (logged) on a bad
//  option or a port that cannot be bound.
ingest_server_t *ingest_server_new (const ingest_config_t *cfg, txw_service_t *svc,
                                    ingest_t *loop, ingest_journal_t *journal);
//  Loads the rates file again (SIGHUP), keeping the old rates on error.
void ingest_server_reload (ingest_server_t *self);
//  Stops listening (requests in progress finish first).
void ingest_server_destroy (ingest_server_t **self_p);

#endif
