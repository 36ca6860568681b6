/*  pgwriter - rows written to PostgreSQL in the background, never in the way

    Some rows must reach PostgreSQL, but a slow or absent database must
    never slow the records that pass: the validator's dead letters and the
    scorer's account checkpoints. The caller appends COPY rows to a bounded
    queue under a short lock; a writer thread of this module drains it.
    Every ~200 ms or 1000 rows (at once when asked to drain) it COPYs the
    rows into a temporary stage table and moves them into place with one
    statement (an insert or an upsert), in one transaction. While PostgreSQL
    is down it reconnects with a back-off and retries the same rows first,
    so rows are written in the order they were queued; the queue holds up to
    its bound. A batch the database refuses three times on a live connection
    is dropped, so one bad batch cannot block the rest. Everything dropped
    is counted.

    Why a thread and a lock rather than a zactor with a message a row: the
    hot path then appends bytes to a buffer it already has, with no
    allocation and no wake-up per row, and the bound is on rows and bytes.
    The thread's lifecycle is the actor's: new starts it, destroy makes one
    last attempt and joins it.                                                 */

#ifndef TXW_PGWRITER_H
#define TXW_PGWRITER_H

#include "metrics.h"
#include "pgutil.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _txw_pgwriter_t txw_pgwriter_t;

//  Where the writer reports; the caller registers them (any may be NULL).
typedef struct {
    txw_counter_t *stored;      //  rows committed
    txw_counter_t *dropped;     //  rows given up: queue full, refused, shutdown
    txw_counter_t *errors;      //  failed connections and writes
    txw_gauge_t *queued;        //  rows waiting
} txw_pgwriter_metrics_t;

typedef struct {
    const char *name;           //  in log lines: "dead letters"
    const char *stage_sql;      //  creates the temporary stage table
    const char *copy_sql;       //  "COPY <stage> FROM STDIN"
    //  Moves the stage's rows into place; may use $1. Rows queued at
    //  different times can share one batch, so an upsert must pick one row
    //  per key itself (DISTINCT ON), or PostgreSQL refuses the batch.
    const char *apply_sql;
    const char *apply_param;    //  the value of $1, or NULL
    bool migrate;               //  apply the migrations on the first connection
    size_t max_rows;            //  queue bound (rows waiting or being written)
    //  When the queue is full: false refuses the new row; true drops the
    //  rows still waiting instead, for rows where newer state replaces
    //  older (checkpoints).
    bool newest_wins;
    txw_pgwriter_metrics_t metrics;
} txw_pgwriter_config_t;

//  Starts the writer for database_url (libpq string); config's strings must
//  outlive it. Connects in the background: returns NULL only if the thread
//  cannot start (logged).
txw_pgwriter_t *txw_pgwriter_new (const char *database_url, const txw_pgwriter_config_t *config);

//  Stops the writer after one last attempt to store what is queued, then
//  frees everything. Rows it could not store are counted as dropped.
void txw_pgwriter_destroy (txw_pgwriter_t **self_p);

//  Opens one row: returns the COPY buffer to append its columns to, with
//  the queue locked, or NULL if the queue is full (the row is counted as
//  dropped, nothing is locked). A non-NULL return must be followed by
//  txw_pgwriter_row_end once the columns are appended. Never blocks on
//  the database.
txw_copybuf_t *txw_pgwriter_row_begin (txw_pgwriter_t *self);
void txw_pgwriter_row_end (txw_pgwriter_t *self);

//  Waits up to timeout_ms until every queued row is written, asking for an
//  immediate write. Returns 0, or -1 if rows are still waiting.
int txw_pgwriter_drain (txw_pgwriter_t *self, int timeout_ms);

//  Readable from any thread: did the last contact with PostgreSQL work?
bool txw_pgwriter_healthy (const txw_pgwriter_t *self);

//  Readable from any thread: how many rows, of those queued since the
//  start, are settled: committed, or given up after the database refused
//  them (counted as dropped). Rows settle in the order they were queued
//  (not with newest_wins), so a caller that keeps a note per queued row
//  knows which rows are done.
uint64_t txw_pgwriter_settled (const txw_pgwriter_t *self);

//  Rows queued or being written.
size_t txw_pgwriter_pending (txw_pgwriter_t *self);

#endif
