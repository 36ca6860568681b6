/*  sink - the aggregator's writes to PostgreSQL, one transaction per flush

    Everything the aggregator applies between two flushes is written in one
    database transaction: scored transactions (COPY), the whole rows of the
    windows that changed (upsert), what transactions older than the windows
    in memory add to their stored windows, the per-account deltas (added to
    the customer totals, whose accounts are marked stale), corrections and
    what they change, alerts, dead letters, and the last sequence number
    applied from every upstream source, with the CURVE key of its sender
    (013_source_keys; none without CURVE roles). A restarted
    shard reads those checkpoints and its recent windows back, so it neither
    counts a replayed message twice nor overwrites a window with a partial
    one. If a flush fails nothing is lost: the buffers stay, the windows are
    marked to be written again, and the next flush retries after a back-off.
    If PostgreSQL refused a row (a data error, SQLSTATE class 22, 23 or 54),
    the retry writes the rows one by one under savepoints: a refused row
    becomes a dead letter db_refused naming the error, and the rest commits.
                                                                              */

#ifndef TXW_AGGREGATOR_SINK_H
#define TXW_AGGREGATOR_SINK_H

#include "codec.h"
#include "windows.h"

#include <stdbool.h>

typedef enum { SINK_STORE_ALL, SINK_STORE_FLAGGED, SINK_STORE_NONE } sink_store_t;

typedef struct _sink_t sink_t;

//  consumer names this shard in the checkpoint table ("aggregator-0").
//  accounts keeps the per-account totals (txw_data.accounts) too.
//  Connects lazily: returns NULL only for a bad argument.
sink_t *sink_new (const char *database_url, const char *consumer,
                          sink_store_t mode, uint32_t shard, int flag_threshold,
                          bool accounts);
void sink_destroy (sink_t **self_p);

//  Connects, applies migrations if asked, loads checkpoints and this
//  shard's recent windows into windows. Returns 0 or -1 (logged).
int sink_start (sink_t *self, bool migrate, windows_t *windows,
                    int64_t retention_ms);

//  True if (source, epoch, seq) was applied before (a replay to skip).
//  Otherwise *missing is how many messages of the same epoch came after the
//  last one applied and before this one: lost on the way, in this process's
//  life or while it was restarting.
bool sink_seen (sink_t *self, const char *source, size_t len,
                    uint64_t epoch, uint64_t seq, uint64_t *missing);
//  Records that (source, epoch, seq) is applied; committed with the next
//  flush, with key: the CURVE public key (Z85) of its sender, NULL for none
//  (CURVE roles off).
void sink_applied (sink_t *self, const char *source, size_t len,
                       uint64_t epoch, uint64_t seq, const char *key);
//  Calls fn for every checkpoint that has a sender's key (as loaded by
//  sink_start or applied since): its source name and the key, for the
//  input to bind the source id to that key again (txw_in_bind).
typedef void (sink_key_fn) (void *arg, const char *source, size_t len, const char *key);
void sink_each_key (sink_t *self, sink_key_fn *fn, void *arg);

//  Reads this shard's de-duplication key into key and the transactions it
//  counted lately into set (its capacity is the horizon kept). key comes
//  in random, and is kept as the shard's key if it has none yet. After
//  sink_start. Returns 0 or -1 (logged).
typedef struct _txw_txset_t txw_txset_t;
int sink_load_seen (sink_t *self, txw_txset_t *set, uint64_t key [2]);
//  A transaction counted: its hash is written with the next flush.
void sink_add_seen (sink_t *self, uint64_t hash);

void sink_add_tx (sink_t *self, const txw_tx_t *tx);
void sink_add_alert (sink_t *self, const txw_alert_t *alert);
void sink_add_dead_letter (sink_t *self, const txw_reject_t *rej);
//  A row to add to a stored window (windows_add): a transaction
//  older than the windows kept in memory.
void sink_add_window_addition (sink_t *self, const txw_window_t *row);

//  --- Corrections ---------------------------------------------------------------
//  A correction names a stored transaction: the aggregator reads the
//  originals from PostgreSQL (after a flush, so what it applied before is
//  there) and applies the ones that hold with the next flush.

//  What PostgreSQL holds for one correction: its original (found: the
//  transaction stored with that tx_id, ts and account) and the status a
//  correction of the same tx_id set before (0: none).
typedef struct {
    bool found;
    txw_tx_t tx;
    uint8_t corrected;          //  txw_correction_status_t
} sink_original_t;

//  Reads the originals of n corrections in one statement. Returns 0, or
//  -1 (logged) when the database cannot answer.
int sink_originals (sink_t *self, const txw_correction_t *c, size_t n, sink_original_t *out);
//  A correction of original (found, approved, not corrected before) that
//  holds: written with the next flush (txw_data.tx_corrections, the
//  transaction's status, a chargeback's label, the stale mark), and taken
//  out of the account's approved totals.
void sink_add_correction (sink_t *self, const txw_correction_t *c, const txw_tx_t *original);
//  What a correction takes out of a stored window no longer in memory
//  (windows_correct): added to the stored row with the next flush.
void sink_add_window_correction (sink_t *self, const txw_window_t *row);

//  Writes everything pending and the dirty windows in one transaction.
//  Returns 0, or -1 when the database is unreachable or refused the write.
//  When the connection is lost during COMMIT, the next call first reads
//  the checkpoints back to learn whether the server made it, so a flush
//  is never applied twice (its customer totals add up).
int sink_flush (sink_t *self, windows_t *windows);
//  True while the outcome of a COMMIT is unknown: the caller must add
//  nothing (no input, no alerts) until a flush has settled it.
bool sink_blocked (const sink_t *self);

//  Commits do not wait for the server's WAL to reach disk. What a flush
//  holds is durable once the WAL is flushed past sink_commit_lsn (read
//  just after that flush committed); sink_durable_lsn asks the server how
//  far it is (0, or -1 when it cannot tell).
uint64_t sink_commit_lsn (const sink_t *self);
int sink_durable_lsn (sink_t *self, uint64_t *lsn);
//  True once (then false again) when a new connection found that the
//  server lost commits it had answered (a crash before they reached
//  disk): the caller's state is ahead of the database and must be
//  rebuilt from it (a new sink, windows and de-duplication set), and
//  nothing since the last durable point acknowledged.
bool sink_lost (sink_t *self);

//  Rows waiting for the next flush (transactions, alerts, dead letters).
size_t sink_pending (const sink_t *self);
//  Readable from any thread: true if the last flush reached PostgreSQL and
//  was written; detail gets a JSON object saying so, or why not (the
//  database unreachable, or flushes failing with their SQLSTATE and error).
bool sink_status (sink_t *self, char *detail, size_t size);

#endif
