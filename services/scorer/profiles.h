/*  profiles - per-account rolling state that the fraud rules read

    The scorer owns the accounts of its shard, and every rule compares a
    transaction with what that account did before: how much it usually
    spends, how often, where and on which device. This module keeps that
    state in a fixed-size table so memory is bounded and the hot path never
    allocates: an open-addressing index (linear probing, backward-shift
    deletion, no tombstones) over a dense array of account records, with a
    least-recently-seen list for eviction when the table is full; an
    account back after being idle for longer than a limit (in its own event
    time) starts afresh. All times are event times (tx->ts_ms), never wall
    time and never another account's, so a replay, or the same rows sorted
    by account, scores the same way.

    A record does not hold the account id: it is known by a 64-bit hash and
    a second, independent 32-bit check of the id, so two accounts would
    have to collide in 96 bits to be confused. Both, and the 32-bit hashes
    of the account's devices, are keyed (txw_keyed_hash128, common/pii.h:
    SipHash under a subkey of the pseudonym key), so a stolen checkpoint
    cannot be turned back into account or device ids by hashing every
    possible id; without the key, a record names nobody. (They are not
    the shard's hash: routing stays fnv1a64 (account) % shards, which is
    never stored.) A record also keeps 32-bit
    hashes of its last PROFILES_TX_SEEN transaction ids, so a copy sent
    again is not folded in twice, also after a restart from a checkpoint,
    and the hash of the order its latest transaction belonged to: the line
    items of one order (a basket) are one purchase to the velocity counts.
    A record also learns the account's home country, whose clock the time
    signals read (see profiles_home_country), and which of its recent
    transactions came just under the reporting limit (structuring). That
    makes a record 256 bytes, plus 16 bytes of index: 272 bytes an account.                   */

#ifndef TXW_SCORER_PROFILES_H
#define TXW_SCORER_PROFILES_H

#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROFILES_RING       16      //  recent transactions kept per account
#define PROFILES_TX_SEEN    15      //  recent transaction ids kept per account
#define PROFILES_SEEN       4       //  recent countries / devices kept
#define PROFILES_GAP_ALPHA  0.1     //  weight of the newest gap in the mean
#define PROFILES_BUCKETS    12      //  per-hour counts: twelve 5-minute buckets
#define PROFILES_BUCKET_S   300
#define PROFILES_ORDER_MS   300000  //  line items of one order: this close in event time
#define PROFILES_HOME_SURE  3       //  home country settled at this lead in the vote

//  Flags for ring entries, set by the caller of profiles_update.
#define PROFILES_SMALL      1u      //  a small online amount (card testing)
#define PROFILES_NEAR_LIMIT 2u      //  just under the reporting limit (structuring)

//  Event times beyond this (year 2255) are taken as this, so differences
//  of hostile times cannot overflow.
#define PROFILES_MAX_MS     (INT64_C (1) << 43)

typedef enum {
    PROFILES_ALL = 0, PROFILES_SMALL_ONLY, PROFILES_DECLINED_ONLY, PROFILES_NEAR_LIMIT_ONLY
} profiles_which_t;

typedef struct {
    uint64_t hash;                  //  keyed 64-bit hash of the id (never 0); 0: free
    int64_t last_ms;                //  latest event time seen
    float log_mean;                 //  Welford over the log amounts given
    float log_m2;
    float log_gap;                  //  moving mean of log (seconds between txs)
    uint32_t count;                 //  transactions seen
    uint32_t lru_prev, lru_next;    //  entry index + 1, 0 = none
    uint32_t ring [PROFILES_RING];  //  event times, seconds since the epoch
    uint16_t small_mask;            //  ring entries with PROFILES_SMALL
    uint16_t decline_mask;          //  ring entries that were declined
    uint8_t ring_head;              //  next ring slot to write
    uint8_t ring_used;
    uint8_t country_next;           //  next slot to overwrite in countries
    uint8_t device_next;
    uint16_t countries [PROFILES_SEEN];     //  two letters packed; 0 empty
    uint16_t last_country;
    uint16_t fresh_country;         //  the latest country that was new ...
    uint32_t fresh_country_s;       //  ... and when it first appeared
    uint32_t devices [PROFILES_SEEN];       //  keyed device id hashes; 0 empty
    uint32_t last_device;
    uint32_t fresh_device;          //  the same for devices
    uint32_t fresh_device_s;
    uint32_t id_check;              //  second keyed hash of the id
    uint32_t home_branch;           //  hash of the first branch seen; 0 none yet
    uint32_t bucket_last;           //  5-minute bucket of the latest event
    uint8_t buckets [PROFILES_BUCKETS];     //  transactions per bucket (saturating)
    uint16_t home_region;           //  16-bit hash of the first region seen
    uint8_t dirty;                  //  changed since the last checkpoint
    uint8_t tx_seen_head;           //  next slot of tx_seen to write
    uint32_t tx_seen [PROFILES_TX_SEEN];    //  tx id hashes (never 0); 0 empty
    uint16_t near_mask;             //  ring entries with PROFILES_NEAR_LIMIT
    uint16_t spare;                 //  zero
    uint32_t last_order;            //  order (id, merchant) hash of the latest transaction; 0 none
    uint16_t home_country;          //  two letters packed, learned (profiles_update); 0 none yet
    uint8_t home_votes;             //  its lead in the vote, PROFILES_HOME_SURE: settled
} profiles_account_t;

typedef struct _profiles_t profiles_t;

//  Creates a table for at most max_accounts accounts (1 .. 2^30). An
//  account whose next event comes more than idle_ms after its last starts
//  afresh (0: never). Returns NULL if memory cannot be had.
profiles_t *profiles_new (uint32_t max_accounts, int64_t idle_ms);
void profiles_destroy (profiles_t **self_p);

//  Returns the state of the account, creating an empty one (count 0) if it
//  is not held; that may evict the least recently seen account. now_ms is
//  the transaction's event time; an account idle for longer than the limit
//  before it comes back empty (count 0). Returns NULL
//  for an empty id or one longer than TXW_ID_MAX. The pointer is valid
//  until the next call to profiles_get.
profiles_account_t *profiles_get (profiles_t *self, const char *id, size_t len,
                                  int64_t now_ms);

//  An account id's keys as its record holds them (hash, never 0, and
//  check), for a caller that starts the look-up early: profiles_prefetch
//  starts reading the index where the record is found, so that other work
//  (the merchant's and device's keys) hides the memory's latency, and
//  profiles_get_keyed is profiles_get from the keys. profiles_key returns
//  -1 (and the keys 0) for an empty id or one longer than TXW_ID_MAX.
typedef struct {
    uint64_t hash;
    uint32_t check;
} profiles_key_t;

int profiles_key (const char *id, size_t len, profiles_key_t *key);
void profiles_prefetch (const profiles_t *self, const profiles_key_t *key);
profiles_account_t *profiles_get_keyed (profiles_t *self, const profiles_key_t *key,
                                        int64_t now_ms);

//  Folds a transaction into the account after it has been scored.
//  log_amount is what the amount statistics are kept on (the caller's
//  choice of scale, e.g. log1p of the amount over a category factor);
//  flags is a set of PROFILES_* bits for the ring entry. A further line
//  item of the latest transaction's order (profiles_same_order) adds to
//  the count and the amount statistics but not to the ring, the hour
//  buckets or the pace: the order stays one entry, at its first line's
//  time, with its first line's flags and status.
void profiles_update (profiles_account_t *acct, const txw_tx_t *tx, double log_amount,
                      unsigned flags);

//  Whether tx carries the order id of the latest transaction folded into
//  the account: a further line item of the same order.
bool profiles_same_order (const profiles_account_t *acct, const txw_tx_t *tx);
//  Event time (ms, at one-second resolution) of the ring entry before the
//  latest one, or -1 if there is none: for a further line item of the
//  latest order, when the account's previous purchase was.
int64_t profiles_before_latest_ms (const profiles_account_t *acct);

//  Transactions in the ring with event time less than window_ms from now_ms
//  (either side, at one-second resolution), all of them or only the small or declined
//  ones. The ring holds PROFILES_RING entries, so counts saturate there.
uint32_t profiles_count_within (const profiles_account_t *acct, int64_t now_ms,
                                int64_t window_ms, profiles_which_t which);
//  Transactions in the hour before now_ms (5-minute resolution, up to 255
//  a bucket): unlike the ring, this does not saturate for busy accounts.
uint32_t profiles_count_hour (const profiles_account_t *acct, int64_t now_ms);
//  Whether a branch (region) differs from the account's home one; false
//  while the account has none.
bool profiles_branch_away (const profiles_account_t *acct, const char *branch_id);
bool profiles_region_away (const profiles_account_t *acct, const char *region);

//  Transactions among the newest n in the ring (counting back from the
//  latest folded in), all or only the small or declined ones.
uint32_t profiles_count_last (const profiles_account_t *acct, uint32_t n,
                              profiles_which_t which);
//  How many transactions the account usually makes in window_ms, from its
//  typical gap between transactions; 0 before it has two.
double profiles_expected_within (const profiles_account_t *acct, int64_t window_ms);
//  Standard deviation of the log amounts, or 0 with fewer than two.
double profiles_log_std (const profiles_account_t *acct);
bool profiles_country_seen (const profiles_account_t *acct, const char *country);
bool profiles_device_seen (const profiles_account_t *acct, const char *device_id);
//  True if the country (device) is not among the recent ones, or was new
//  to the account less than fresh_ms before now_ms: a takeover session keeps
//  counting as new for its first transactions, not only the first one.
//  What an account's first two transactions show is its home, never fresh.
bool profiles_country_new (const profiles_account_t *acct, const char *country,
                           int64_t now_ms, int64_t fresh_ms);
bool profiles_device_new (const profiles_account_t *acct, const char *device_id,
                          int64_t now_ms, int64_t fresh_ms);

//  The country whose local time the account lives by: the one its first
//  purchases mostly came from. A majority vote (Boyer-Moore: a country
//  different from the candidate takes a vote away, the candidate's adds
//  one, and at no votes the next country becomes the candidate) over its
//  purchases until one country leads by PROFILES_HOME_SURE; then it is
//  settled for good. So a first purchase made on a trip is outvoted by the
//  ones at home, and a takeover from abroad later, however busy, cannot
//  move the account's clock. Before the account has any, the
//  transaction's own country (0 if it has none).
uint16_t profiles_home_country (const profiles_account_t *acct, const txw_tx_t *tx);

//  Packs a two-letter country code (0 for anything else) and hashes a
//  device id, keyed (never 0 for a non-empty id, 0 for an empty one).
uint16_t profiles_country_code (const char *country);
uint32_t profiles_device_hash (const char *device_id);

//  The hash profiles_has_tx and profiles_note_tx take (never 0).
uint32_t profiles_tx_hash (const char *tx_id);
//  Was this transaction among the account's last PROFILES_TX_SEEN?
bool profiles_has_tx (const profiles_account_t *acct, uint32_t tx_hash);
//  Notes a transaction folded into the account (profiles_update does not).
void profiles_note_tx (profiles_account_t *acct, uint32_t tx_hash);

//  --- Checkpoints -----------------------------------------------------------------
//  The record layout version: a checkpoint of another layout is not
//  restored. 2000 and up: keyed identities (the checkpoint also records the
//  key's fingerprint, services/scorer/checkpoint.c); 4000 and up: with the
//  home country; 6000 and up: with near_mask, in what was the sixteenth
//  slot of tx_seen. The layouts below 2000 (1184, 1248) held plain FNV-1a
//  hashes of the ids, which no keyed hash can be matched with: their
//  accounts start fresh. The older layouts of this size are restored
//  (profiles_upgrade): 4256 with near_mask cleared, 2256 also with the
//  home country fields (then padding) cleared, so the account learns its
//  home afresh.
#define PROFILES_LAYOUT     (6000 + (int) sizeof (profiles_account_t))
#define PROFILES_LAYOUT_TX16    4256
#define PROFILES_LAYOUT_NO_HOME 2256

//  Brings a record of an older layout of the same size (PROFILES_LAYOUT_TX16,
//  PROFILES_LAYOUT_NO_HOME) to this one, in place; 0, or -1 for a layout
//  it does not know.
int profiles_upgrade (profiles_account_t *record, int layout);

//  Copies up to max accounts changed since they were last collected into
//  out and clears their dirty mark; continues where the previous call
//  stopped, so a large table is collected over several calls. Returns how
//  many were copied; 0 once a full pass found nothing more.
size_t profiles_collect_dirty (profiles_t *self, profiles_account_t *out, size_t max);

//  Puts a checkpointed record back (at start-up). Returns 0, or -1 if the
//  table is full or the record is already held or not a valid record.
int profiles_restore (profiles_t *self, const profiles_account_t *record);

size_t profiles_size (const profiles_t *self);
uint64_t profiles_evicted_cap (const profiles_t *self);
uint64_t profiles_evicted_idle (const profiles_t *self);

#endif
