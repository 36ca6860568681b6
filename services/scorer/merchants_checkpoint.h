/*  merchants_checkpoint - the scorer's cross-account state, saved to PostgreSQL

    As checkpoint.h does for account records: every --checkpoint-s the
    merchant, device and account-visit records (merchants.h) that changed
    are handed to a background writer (common/pgwriter.h) that upserts them
    into txw_data.scorer_cross_state (027), and at start-up the consumer's
    rows are read back, so a restarted scorer resumes each merchant's pace,
    recent accounts and fraud share. Rows carry the record's layout and the
    fingerprint of the pseudonym key their hashes were made under; rows of
    another layout or key are left (and counted in a log line), and those
    merchants start fresh. Rows belong to a shard (consumer
    "scorer-<shard>"), like the account rows.                                */

#ifndef TXW_SCORER_MERCHANTS_CHECKPOINT_H
#define TXW_SCORER_MERCHANTS_CHECKPOINT_H

#include "merchants.h"

#include <stdbool.h>

typedef struct _merchants_checkpoint_t merchants_checkpoint_t;

//  Connects and starts the writer thread (migrations are applied by
//  checkpoint_new). NULL (logged) if the database cannot be reached.
merchants_checkpoint_t *merchants_checkpoint_new (const char *database_url,
                                                  const char *consumer);
void merchants_checkpoint_destroy (merchants_checkpoint_t **self_p);

//  Reads this consumer's rows into state (fresh tables). Returns the number
//  restored, or -1 (logged).
long merchants_checkpoint_restore (merchants_checkpoint_t *self, merchants_t *state);

//  Queues a copy of every record changed since the last call. Never blocks
//  on the database. Returns how many were queued.
size_t merchants_checkpoint_submit (merchants_checkpoint_t *self, merchants_t *state);

//  Waits up to timeout_ms until everything queued is written: 0, or -1.
int merchants_checkpoint_drain (merchants_checkpoint_t *self, int timeout_ms);

#endif
