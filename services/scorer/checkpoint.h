/*  checkpoint - the scorer's per-account history, saved to PostgreSQL

    Every few seconds the scorer collects the account records that changed
    (profiles_collect_dirty) and hands a copy here; a writer thread upserts
    them into txw_data.scorer_state, so the scoring loop never waits for the
    database. At start-up the shard's rows are read back into the account
    table, so a restarted scorer resumes with each account's usual amounts,
    pace, countries and devices instead of treating everyone as new.

    If PostgreSQL is away the batches wait and are retried in order (newer
    state overwrites older); beyond a memory cap the oldest are dropped and
    counted. What changed after the last checkpoint before a crash is lost:
    those accounts resume from their previous checkpoint. Rows belong to a
    shard (consumer "scorer-<shard>"): a scorer started with another shard
    count does not find its accounts' rows, and starts them fresh. They also
    belong to the pseudonym key (common/pii.h) the accounts were hashed
    under, whose fingerprint each row records: a scorer under another key
    (a rotation, or no --pseudonym-key-file) restores none of them, and
    rows from before keyed hashes (layouts below 2000) are never restored;
    it logs how many it left, and those accounts start fresh. Rows of the
    two layouts before this one are restored upgraded (profiles_upgrade):
    from before the structuring mask (4256) with no amount marked near the
    reporting limit, from before the home country (2256) also without it,
    which those accounts learn afresh from their next purchases.            */

#ifndef TXW_SCORER_CHECKPOINT_H
#define TXW_SCORER_CHECKPOINT_H

#include "pgutil.h"
#include "profiles.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _checkpoint_t checkpoint_t;

//  Connects (applying migrations if asked) and starts the writer thread.
//  Returns NULL (logged) if the database cannot be reached.
checkpoint_t *checkpoint_new (const char *database_url, const char *consumer, bool migrate);
void checkpoint_destroy (checkpoint_t **self_p);

//  Reads this consumer's rows into profiles (a fresh table). Returns the
//  number restored, or -1 (logged).
long checkpoint_restore (checkpoint_t *self, profiles_t *profiles);

//  Queues a copy of n records for writing. Never blocks on the database.
void checkpoint_submit (checkpoint_t *self, const profiles_account_t *records, size_t n);

//  Waits up to timeout_ms until everything queued is written. Returns 0, or
//  -1 if records are still waiting.
int checkpoint_drain (checkpoint_t *self, int timeout_ms);

//  Readable from any thread: did the last write reach PostgreSQL?
bool checkpoint_healthy (const checkpoint_t *self);

//  Appends a row's state column: the record's bytes (at most
//  CHECKPOINT_RECORD_MAX), then the pseudonym key's fingerprint, as one
//  hex bytea. The cross-account checkpoints (merchants_checkpoint.h)
//  store their records the same way.
#define CHECKPOINT_RECORD_MAX   512
void checkpoint_state_field (txw_copybuf_t *b, const void *record, size_t size,
                             const uint8_t *fingerprint);

#endif
