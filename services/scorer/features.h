/*  features - per-account rolling state that the fraud rules read

    The scorer owns the accounts of its shard, and every rule compares a
    transaction with what that account did before: how much it usually
    spends, how often, where and on which device. This module keeps that
    state in a fixed-size table so memory is bounded and the hot path never
    allocates: an open-addressing index (linear probing, backward-shift
    deletion, no tombstones) over a dense array of account records, with a
    least-recently-seen list for eviction when the table is full and a sweep
    of accounts idle for longer than a limit. All times are event times
    (tx->ts_ms), never wall time, so a replay scores the same way.

    One record is about 200 bytes, most of it the account id itself.          */

#ifndef TXW_SCORER_FEATURES_H
#define TXW_SCORER_FEATURES_H

#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FEATURES_RING       16      //  recent transactions kept per account
#define FEATURES_SEEN       4       //  recent countries / devices kept

//  Flags for ring entries, set by the caller of features_update.
#define FEATURES_SMALL      1u      //  a small online amount (card testing)

//  Event times beyond this (year 2255) are taken as this, so differences
//  of hostile times cannot overflow.
#define FEATURES_MAX_MS     (INT64_C (1) << 43)

typedef enum {
    FEATURES_ALL = 0, FEATURES_SMALL_ONLY, FEATURES_DECLINED_ONLY
} features_which_t;

typedef struct {
    uint64_t hash;                  //  mixed 64-bit hash of the id; 0: free
    int64_t last_ms;                //  latest event time seen
    float log_mean;                 //  Welford over log1p (amount)
    float log_m2;
    uint32_t count;                 //  transactions seen
    uint32_t lru_prev, lru_next;    //  entry index + 1, 0 = none
    uint32_t ring [FEATURES_RING];  //  event times, seconds since the epoch
    uint16_t small_mask;            //  ring entries with FEATURES_SMALL
    uint16_t decline_mask;          //  ring entries that were declined
    uint8_t ring_head;              //  next ring slot to write
    uint8_t ring_used;
    uint8_t country_next;           //  next slot to overwrite in countries
    uint8_t device_next;
    uint16_t countries [FEATURES_SEEN];     //  two letters packed; 0 empty
    uint16_t last_country;
    uint32_t devices [FEATURES_SEEN];       //  device id hashes; 0 empty
    uint32_t last_device;
    uint8_t id_len;
    char id [TXW_ID_MAX + 1];
} features_account_t;

typedef struct _features_t features_t;

//  Creates a table for at most max_accounts accounts (1 .. 2^30). Accounts
//  whose last event is more than idle_ms older than the newest event seen
//  are evicted (0: never). Returns NULL if memory cannot be had.
features_t *features_new (uint32_t max_accounts, int64_t idle_ms);
void features_destroy (features_t **self_p);

//  Returns the state of the account, creating an empty one (count 0) if it
//  is not held; that may evict the least recently seen account. now_ms is
//  the transaction's event time and advances the idle clock. Returns NULL
//  for an empty id or one longer than TXW_ID_MAX. The pointer is valid
//  until the next call to features_get.
features_account_t *features_get (features_t *self, const char *id, size_t len,
                                  int64_t now_ms);

//  Folds a transaction into the account after it has been scored. flags
//  is a set of FEATURES_* bits for the ring entry.
void features_update (features_account_t *acct, const txw_tx_t *tx, unsigned flags);

//  Transactions in the ring with event time within window_ms before now_ms
//  (at one-second resolution), all of them or only the small or declined
//  ones. The ring holds FEATURES_RING entries, so counts saturate there.
uint32_t features_count_within (const features_account_t *acct, int64_t now_ms,
                                int64_t window_ms, features_which_t which);
//  Standard deviation of log1p (amount), or 0 with fewer than two amounts.
double features_log_std (const features_account_t *acct);
bool features_country_seen (const features_account_t *acct, const char *country);
bool features_device_seen (const features_account_t *acct, const char *device_id);

//  Packs a two-letter country code (0 for anything else) and hashes a
//  device id (never 0 for a non-empty id, 0 for an empty one).
uint16_t features_country_code (const char *country);
uint32_t features_device_hash (const char *device_id);

size_t features_size (const features_t *self);
uint64_t features_evicted_cap (const features_t *self);
uint64_t features_evicted_idle (const features_t *self);

#endif
