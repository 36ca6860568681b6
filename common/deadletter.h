/*  deadletter - a dead letter's row in txw_data.dead_letters, written once

    The validator stores the dead letters of its checks through a background
    writer (pgwriter), and the aggregator stores those of events too late to
    count inside its flush transaction. Both stage rows made here into the
    same temporary table and move them with the same statement, so a dead
    letter is stored the same way whoever found it: empty optional columns
    as NULL, text that PostgreSQL would refuse (invalid UTF-8, NUL) cleaned,
    and a replayed message storing nothing twice (the trigger of
    proto/sql/019 on its origin).                                             */

#ifndef TXW_DEADLETTER_H
#define TXW_DEADLETTER_H

#include "codec.h"
#include "pgutil.h"
#include "pgwriter.h"

#include <stdbool.h>
#include <stddef.h>

//  The stage table (one statement, ending in ';'), its COPY and the insert.
#define TXW_DEADLETTER_STAGE_SQL                                                \
    "CREATE TEMP TABLE IF NOT EXISTS stage_dead ("                              \
    " origin_source text, origin_seq bigint, origin_index int, line_no bigint," \
    " tx_id text, reason text, field text, message text, payload text,"         \
    " received_at timestamptz) ON COMMIT DELETE ROWS;"
#define TXW_DEADLETTER_COPY_SQL "COPY stage_dead FROM STDIN"
//  Dead letters are partitioned by day of received_at (proto/sql/019): the
//  days of the staged ones are made first; a trigger skips a copy of one
//  already stored in any partition.
#define TXW_DEADLETTER_INSERT_SQL                                               \
    "SELECT txw_data.ensure_event_partition ('dead_letters', d) FROM (SELECT"  \
    " DISTINCT date_trunc ('day', received_at, 'UTC') AS d FROM stage_dead)"    \
    " days ORDER BY d;"                                                         \
    "INSERT INTO txw_data.dead_letters (origin_source, origin_seq, origin_index," \
    " line_no, tx_id, reason, field, message, payload, received_at)"            \
    " SELECT origin_source, origin_seq, origin_index, line_no, tx_id, reason,"  \
    " field, message, payload, received_at FROM stage_dead"                     \
    " ON CONFLICT DO NOTHING"

//  Fills a dead letter's origin: record index of env, as its sender sent
//  it (source id and epoch, batch sequence number, index). The validator
//  and the aggregator both refuse records they received.
void txw_deadletter_origin (txw_reject_t *reject, const txw_envelope_t *env, uint32_t index);

//  Appends reject as one row of stage_dead.
void txw_deadletter_row (txw_copybuf_t *buf, const txw_reject_t *reject);

//  Fills what a refused correction shows in its dead letter: the tx_id
//  (kept when it is made of id characters), line_no, and a JSON payload of
//  its fields where the account is its pseudonym and the actor shows only
//  when common/pii.h finds its shape safe (the free-text reason is left
//  out: it may hold anything). The validator and the aggregator both
//  refuse corrections; the caller sets the origin, reason, field, message
//  and received_ms.
void txw_deadletter_correction (const txw_correction_t *c, txw_reject_t *rej);

//  A background writer of dead letters (pgwriter.h) for database_url.
txw_pgwriter_t *txw_deadletter_writer_new (const char *database_url, bool migrate,
                                           size_t max_rows, txw_pgwriter_metrics_t metrics);

//  Queues a copy of reject. Returns 0, or -1 if the queue is full (the row
//  is dropped and counted). Never blocks on the database.
int txw_deadletter_queue (txw_pgwriter_t *writer, const txw_reject_t *reject);

#endif
