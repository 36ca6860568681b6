/*  pool - a few PostgreSQL connections shared by the HTTP threads

    civetweb runs many request threads; the database gets at most `size`
    connections, made lazily on first use. A request checks one out (waiting
    on a condition variable up to wait_ms for one to come back), runs its
    parameterised statements and checks it in. A connection found broken is
    reset (PQreset) before use, and a statement that fails because the
    connection broke is retried once on the reset connection, so a restarted
    PostgreSQL costs no request an error once it is back. While the database
    is unreachable, checkouts fail at once with "database unreachable" (a
    503 for the client) after at most one connection attempt per 250 ms.
    Every connection runs with statement_timeout and TimeZone UTC.

    A monitor thread pings the database every second when no request has
    used it meanwhile; qpool_ready () is what /readyz reports.              */

#ifndef TXW_QUERY_POOL_H
#define TXW_QUERY_POOL_H

#include "metrics.h"

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct _qpool_t qpool_t;
typedef struct _qconn_t qconn_t;

typedef struct {
    int status;                 //  HTTP status for the client: 503 or 500
    const char *message;        //  static text
} qpool_error_t;

//  Makes no connection yet. Returns NULL if out of memory.
qpool_t *qpool_new (const char *url, int size, int statement_timeout_ms, int wait_ms);
void qpool_destroy (qpool_t **self_p);

//  Counts checkouts that had to wait, checkouts that gave up and
//  database errors (each may be NULL), and sets up the ready flag's monitor.
void qpool_set_metrics (qpool_t *self, txw_counter_t *waits, txw_counter_t *timeouts,
                        txw_counter_t *errors);

//  Starts the monitor thread. Returns 0 or -1.
int qpool_start_monitor (qpool_t *self);

//  Returns a connected connection, or NULL with err filled (503).
qconn_t *qpool_checkout (qpool_t *self, qpool_error_t *err);
//  Gives it back (NULL is ignored).
void qpool_checkin (qpool_t *self, qconn_t *conn);

//  Runs sql with nparams text parameters (NULL is SQL NULL). Returns the
//  result (PGRES_TUPLES_OK or PGRES_COMMAND_OK; the caller PQclears it), or
//  NULL with err filled: 503 when the database is unreachable or the
//  statement timed out, 500 for any other error (logged).
PGresult *qpool_query (qpool_t *self, qconn_t *conn, const char *sql, int nparams,
                       const char *const *params, qpool_error_t *err);

//  True when the last use of the database succeeded.
bool qpool_ready (qpool_t *self);

#endif
