/*  producer - the service loop: one source, one sink, paced, until done

    The source is the generator or a CSV file, the sink is the validators
    (sender) or a CSV file (--csv-out). Each step takes one record or one
    rejection from the source and gives it to the sink, so the records do
    not depend on the sink. The loop paces to --rate, sends lingering
    batches while it waits, stops at --count, --duration, end of file or
    SIGTERM, and drains before it returns.                                  */

#ifndef TXW_PRODUCER_H
#define TXW_PRODUCER_H

#include "config.h"
#include "service.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _producer_t producer_t;

//  Opens the source and the sink, registers the metrics and starts the
//  admin port. Returns NULL (logged) if one of them cannot be opened.
producer_t *producer_new (const producer_config_t *config, txw_service_t *svc);
void producer_destroy (producer_t **self_p);

//  Runs until done or stopped. Returns the process exit code: 0 when the
//  count, duration or file was done or a signal stopped it, 1 for a bad
//  header, a read error or a write error.
int producer_run (producer_t *self);

//  Writes the catalogue of --products to --catalogue-out (catalogue.h).
//  Returns the process exit code: 0, or 1 (logged) if it cannot.
int producer_catalogue_out (const producer_config_t *config);

#endif
