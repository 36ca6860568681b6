/*  deadletters - stores dead letters in PostgreSQL without holding up the flow

    Rejected records must reach txw_data.dead_letters, but a slow or absent
    database must never slow the transactions that pass. So the main loop
    only appends a COPY row to a bounded queue under a short lock, and a
    writer thread of this module drains it: every ~200 ms or 1000 rows it
    COPYs the rows into a temporary table and inserts them with ON CONFLICT
    DO NOTHING in one transaction (a replayed message stores nothing twice).
    While PostgreSQL is down the writer reconnects with a back-off, the
    queue holds up to its bound, and what does not fit is dropped and
    counted. Text that PostgreSQL would refuse (invalid UTF-8, NUL) is
    cleaned first, so one bad row cannot block the rest.                     */

#ifndef TXW_VALIDATOR_DEADLETTERS_H
#define TXW_VALIDATOR_DEADLETTERS_H

#include "codec.h"
#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _deadletters_t deadletters_t;

//  Where the writer reports; the caller registers them (any may be NULL).
typedef struct {
    txw_counter_t *stored;      //  rows committed
    txw_counter_t *dropped;     //  rows given up: queue full, refused, shutdown
    txw_counter_t *errors;      //  failed connections and writes
    txw_gauge_t *queued;        //  rows waiting
} deadletters_metrics_t;

//  Starts the writer for database_url (libpq string). With migrate, the
//  schema migrations are applied on the first connection. max_rows bounds
//  the queue. Connects in the background: returns NULL only if the thread
//  cannot start (logged).
deadletters_t *deadletters_new (const char *database_url, bool migrate,
                                size_t max_rows, deadletters_metrics_t metrics);

//  Stops the writer after one last attempt to store what is queued, then
//  frees everything. Rows it could not store are counted as dropped.
void deadletters_destroy (deadletters_t **self_p);

//  Queues a copy of one dead letter. Returns 0, or -1 if the queue is full
//  (the row is dropped and counted). Never blocks on the database.
int deadletters_add (deadletters_t *self, const txw_reject_t *reject);

//  Readable from any thread: did the last contact with PostgreSQL work?
bool deadletters_healthy (const deadletters_t *self);

//  Rows queued or being written.
size_t deadletters_pending (deadletters_t *self);

#endif
