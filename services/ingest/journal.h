/*  journal - txw-ingest's journal in PostgreSQL (txw_data.ingest_journal)

    What a 202 promises is here before the answer: each accepted record,
    its kind (a transaction, a correction), the hash of its canonical
    content and a lease. The journal is shared by every replica, so it is
    also the idempotency table: a record whose (tx_id, kind) is taken is a
    replay when its hash is the stored one, a conflict when it is not.

    Two connections, each used by one thread: journal writes (the loop)
    commit synchronously, the 202 waits for them; acknowledgements, claims,
    counts and the horizon's deletes (the keeper) commit without waiting
    for the WAL, since losing one only means a record is sent again, which
    the pipeline counts once. A connection that fails is
    dropped and made again at the next call. A third, locked, reads stored
    transactions for the workers.                                           */

#ifndef TXW_INGEST_JOURNAL_H
#define TXW_INGEST_JOURNAL_H

#include "body.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { INGEST_KIND_TRANSACTION, INGEST_KIND_CORRECTION, INGEST_KINDS } ingest_kind_t;

//  "transaction", "correction": the journal's kind column.
extern const char *const ingest_kind_names [INGEST_KINDS];

typedef enum {
    INGEST_NEW,                 //  journaled now: the caller sends it
    INGEST_REPLAY,              //  the same content was journaled before
    INGEST_CONFLICT             //  another content holds its id
} ingest_outcome_t;

typedef struct {
    ingest_kind_t kind;
    char tx_id [TXW_ID_MAX + 1];
    uint8_t hash [INGEST_HASH_SIZE];
    const void *record;         //  the wire record, msgpack
    size_t record_len;
    ingest_outcome_t outcome;   //  set by ingest_journal_accept
} ingest_entry_t;

typedef struct _ingest_journal_t ingest_journal_t;

//  lease_ms: how long a record sent waits for its acknowledgement before
//  any replica may claim it to send again (doubling with every send, up
//  to a minute). Connects on first use.
ingest_journal_t *ingest_journal_new (const char *url, int64_t lease_ms,
                                      int64_t statement_timeout_ms);
void ingest_journal_destroy (ingest_journal_t **self_p);

//  The loop's: journals entries in one statement (and reads back the ids
//  it found taken), setting each outcome. Returns 0, or -1 if the database failed:
//  then nothing is known to be journaled and nothing may be promised.
int ingest_journal_accept (ingest_journal_t *self, ingest_entry_t *entries, size_t count);

//  The keeper's, the next four. Marks the records of kind named in ids
//  (count ids) acknowledged.
//  Returns 0, or -1 (the ids are then sent again once their lease ends,
//  and acknowledged then).
int ingest_journal_ack (ingest_journal_t *self, ingest_kind_t kind,
                        const char *const *ids, size_t count);

//  Takes up to limit records whose lease has ended without an
//  acknowledgement, renews their lease for this replica, and hands each
//  to fn. Returns how many, or -1.
typedef void (ingest_claimed_fn) (void *arg, ingest_kind_t kind, const char *tx_id,
                                  const void *record, size_t len);
int ingest_journal_claim (ingest_journal_t *self, size_t limit, ingest_claimed_fn *fn, void *arg);

//  Deletes acknowledged records acknowledged more than horizon_h hours
//  ago. Returns how many, or -1.
int64_t ingest_journal_purge (ingest_journal_t *self, int64_t horizon_h);

//  Records not acknowledged yet (every replica's). -1 if unknown.
int64_t ingest_journal_pending (ingest_journal_t *self);

//  A stored transaction, as a correction needs it.
typedef struct {
    char account_id [TXW_ID_MAX + 1];
    int64_t ts_ms;
    char status [16];           //  approved, declined, failed, or a correction's
} ingest_stored_t;

//  Reads the stored transaction tx_id. Unlike the rest, callable from any
//  thread: a connection of its own, behind a lock (corrections are few).
//  Returns 1 with *out filled, 0 if there is none, -1 if the database
//  failed.
int ingest_journal_stored (ingest_journal_t *self, const char *tx_id, ingest_stored_t *out);

//  Whether the last journal write (or connection) succeeded.
bool ingest_journal_ready (const ingest_journal_t *self);

#endif
