/*  admin - the admin HTTP port every service has

    /healthz answers 200 while the process runs; /readyz asks the service's
    readiness callback whether its dependencies are reachable (200 or 503,
    with a JSON body that says which); /metrics renders the metrics registry.
    Runs on civetweb's own threads, so callbacks must only read atomics.      */

#ifndef TXW_ADMIN_H
#define TXW_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct _txw_admin_t txw_admin_t;

//  Writes a short JSON object describing the dependencies into detail and
//  returns true if the service is ready.
typedef bool (txw_ready_fn) (void *arg, char *detail, size_t size);

//  Listens on port (0: no admin port; returns NULL without error then).
//  Returns NULL and logs if the port cannot be bound; *failed is set then.
txw_admin_t *txw_admin_new (int port, txw_ready_fn *ready, void *arg, bool *failed);

void txw_admin_destroy (txw_admin_t **self_p);

#endif
