/*  txset - the transactions seen lately, to count each tx_id once

    A transaction sent again (a file ingested twice, the same rows in two
    files, a producer that re-sends what it is not sure arrived) must change
    no total. The aggregator shard that owns an account keeps the ids of the
    last `capacity` transactions it counted, as 64-bit keyed hashes
    (SipHash-2-4) in insertion order, and counts a transaction only if its
    id is not among them. That is the de-duplication horizon: the last
    `capacity` transactions of the shard (--dedupe-capacity), whatever their
    event time.

    False positives: two different ids with the same 64-bit hash would make
    the second look like a duplicate. For n ids held the chance that a new
    id collides with one of them is n / 2^64 (2 million held: 1.1e-13 per
    transaction). The hash is keyed with a random key kept with the set, so
    ids cannot be chosen to collide with someone else's.

    Memory: 24 bytes a transaction held (the ring, and an index at most half
    full). Insertion, lookup and eviction of the oldest are O(1).            */

#ifndef TXW_TXSET_H
#define TXW_TXSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _txw_txset_t txw_txset_t;

//  A set of at most capacity (1 .. 2^30) hashes. NULL if out of memory.
txw_txset_t *txw_txset_new (size_t capacity);
void txw_txset_destroy (txw_txset_t **self_p);

//  The 64-bit keyed hash of an id (SipHash-2-4 with key k0, k1).
uint64_t txw_txset_hash (uint64_t k0, uint64_t k1, const char *id, size_t len);

//  True if hash is held.
bool txw_txset_has (const txw_txset_t *self, uint64_t hash);

//  Adds hash unless it is held; when full, the oldest goes. Returns true if
//  added, false if it was held (a duplicate).
bool txw_txset_add (txw_txset_t *self, uint64_t hash);

size_t txw_txset_size (const txw_txset_t *self);
size_t txw_txset_capacity (const txw_txset_t *self);

#endif
