/*  merchants - cross-account state: what a merchant and a device see

    The account profiles (profiles.h) see one account at a time. Some fraud
    shows only across accounts: many cards tried at one merchant in a few
    minutes, a merchant whose recent customers are mostly brand-new
    accounts or tiny amounts, a compromised merchant whose customers go on
    to see fraud, one device used by many accounts. This module keeps that
    state, keyed by merchant and by device, and gives the rules their
    signals (rules.h: merchant_* and device_accounts).

    Three fixed-size tables, so memory is bounded and the hot path never
    allocates: merchants, devices, and for each account the last few
    merchants it bought at (to credit them when the account later sees
    fraud). Each is set-associative: a key's hash picks a set of
    MERCHANTS_WAYS records, and a new key takes the free record of its set
    or evicts the one whose latest event is oldest. That needs no list
    links, and which record goes depends on event times only. Keys are
    keyed hashes (txw_keyed_hash128, common/pii.h) as for account records:
    a checkpoint names no merchant, device or account to whoever lacks the
    pseudonym key. All times are event times (tx->ts_ms, seconds kept),
    never wall time, so a replay of the same stream scores the same way.

    Sharding: the scorer is sharded by account, so each scorer holds its
    own accounts' view of a merchant: the whole view with one scorer, a
    1/N sample with N (ARCHITECTURE.md, "Cross-account state", has the
    design for merging the shards' views). Counts such as "distinct
    accounts in the last hour" are therefore per scorer, and rules on them
    are written for one; shares (small amounts, new accounts, fraud) hold
    under sampling.

    "Later sees fraud": an account's transaction scored at or over the
    alert threshold by the rules other than these cross-account ones (so a
    merchant's own signals cannot feed themselves) credits the merchants
    the account bought at in the MERCHANTS_FRAUD_LOOKBACK_S before, once
    each. Credits and visits decay with a half-life of
    MERCHANTS_SHARE_HALF_LIFE_S (event time).

    The held-out typologies (money_mule, bust_out) are never looked at to
    choose these signals or their rules' weights (tests/eval/eval.sh).      */

#ifndef TXW_SCORER_MERCHANTS_H
#define TXW_SCORER_MERCHANTS_H

#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERCHANTS_WAYS          8       //  records per set
#define MERCHANTS_RING          16      //  recent accounts kept per merchant
#define MERCHANTS_DEVICE_RING   8       //  recent accounts kept per device
#define MERCHANTS_VISITS        4       //  merchants kept per account
#define MERCHANTS_HOUR_S        3600    //  "recent" at a merchant
#define MERCHANTS_DEVICE_S      86400   //  "recent" on a device
#define MERCHANTS_FAST_S        600     //  half-lives of the velocity counts:
#define MERCHANTS_SLOW_S        86400   //  recent pace against the usual one
#define MERCHANTS_SHARE_HALF_LIFE_S   (7 * 86400)
#define MERCHANTS_SHARE_PRIOR   5.0     //  fraud share: pseudo-visits without fraud
#define MERCHANTS_FRAUD_LOOKBACK_S    (30 * 86400)
#define MERCHANTS_NEW_HISTORY   3       //  an account with fewer prior txs is new

//  A record's key: the keyed 64-bit hash (never 0; 0 is a free record), a
//  second independent 32-bit check, and the latest event time (seconds).
typedef struct {
    uint64_t hash;
    uint32_t check;
    uint32_t last_s;
} merchants_key_t;

typedef struct {
    merchants_key_t key;
    uint32_t first_s;               //  first event seen
    uint32_t count;                 //  transactions seen
    float fast, slow;               //  decayed transaction counts at key.last_s
    float visits, frauds;           //  decayed new-account visits, fraud credits
    uint32_t accounts [MERCHANTS_RING];     //  account hashes (0 empty), one entry each
    uint32_t seen_s [MERCHANTS_RING];       //  their latest visit
    uint16_t small_mask;            //  that visit was a small online amount
    uint16_t new_mask;              //  the account was new then
    uint8_t dirty;                  //  changed since the last checkpoint
} merchants_merchant_t;

typedef struct {
    merchants_key_t key;
    uint32_t accounts [MERCHANTS_DEVICE_RING];
    uint32_t seen_s [MERCHANTS_DEVICE_RING];
    uint8_t dirty;
} merchants_device_t;

typedef struct {
    merchants_key_t key;            //  the account record's own hash and check
    uint64_t merchants [MERCHANTS_VISITS];  //  merchant hashes, 0 empty
    uint32_t visit_s [MERCHANTS_VISITS];
    uint8_t credited;               //  bit i: merchants [i] was credited a fraud
    uint8_t dirty;
} merchants_visits_t;

//  One transaction's keys, computed once for merchants_view and
//  merchants_update: the keyed hashes cost more than the look-ups.
typedef struct {
    uint64_t merchant, device;      //  0: none (empty id)
    uint32_t merchant_check, device_check;
    uint64_t account;               //  the account record's hash (profiles.h); 0: none
    uint32_t account_check;
    uint32_t ts_s;
    uint32_t history;               //  the account's prior transactions
    bool small;                     //  a small online amount (rules.h)
} merchants_tx_t;

//  The signals of one transaction, counting it in.
typedef struct {
    double history;                 //  transactions the merchant had before
    double velocity;                //  its pace in the last minutes / its usual
    double accounts_hour;           //  distinct accounts in the hour (<= MERCHANTS_RING)
    double small_share;             //  of those, the share whose visit was small online
    double new_account_share;       //  of those, the share that were new accounts
    double fraud_share;             //  decayed share of its customers who later saw fraud
    double exposed_fraud_share;     //  the highest fraud share among the merchants the
                                    //  account bought at in MERCHANTS_FRAUD_LOOKBACK_S
                                    //  (a compromised merchant's cards, used elsewhere)
    double device_accounts;         //  distinct accounts on the device in a day (0: no
                                    //  device, or in person: a terminal serves everyone)
} merchants_view_t;

typedef struct _merchants_t merchants_t;

//  Tables for up to max_merchants, max_devices and max_accounts records
//  (each rounded up to a power-of-two number of sets, at least 1, at most
//  2^30 records); alert_threshold is the score that counts as fraud for
//  the fraud share. NULL if memory cannot be had.
merchants_t *merchants_new (uint32_t max_merchants, uint32_t max_devices,
                            uint32_t max_accounts, int alert_threshold);
void merchants_destroy (merchants_t **self_p);
//  Makes every page of the tables resident now (they are otherwise touched
//  as keys arrive): what a scorer that has run a while has. For measuring
//  the steady state; a scorer leaves it lazy. Returns 0 or -1.
int merchants_populate (merchants_t *self);

int merchants_alert_threshold (const merchants_t *self);
//  A new threshold (the scorer's, recomputed when its supervised model is
//  reloaded), for the transactions scored from now on.
void merchants_set_alert_threshold (merchants_t *self, int alert_threshold);

//  Fills the keys of tx (merchant, device, time); the account's come from
//  its record (merchants_tx_account), small from the rules (false here).
void merchants_tx (const txw_tx_t *tx, merchants_tx_t *out);
//  account_hash / account_check / history from tx's account record (0 for
//  an account without one).
void merchants_tx_account (merchants_tx_t *tx, uint64_t account_hash, uint32_t account_check,
                           uint32_t history);
//  Starts reading the table lines tx's keys will look at (and, with
//  records, the records their tags name), so that the caller's other work
//  (the account's look-up and signals) hides the memory's latency: called
//  once after merchants_tx (the account's tags too if its keys are set
//  already), once more after merchants_tx_account.
void merchants_prefetch (const merchants_t *self, const merchants_tx_t *tx, bool records);

//  The signals for tx from the state before it, counting tx in. Reads only.
void merchants_view (const merchants_t *self, const merchants_tx_t *tx, merchants_view_t *out);

//  Folds tx into its merchant, device and account's visits (after it was
//  scored). May evict the record whose latest event is oldest in its set.
void merchants_update (merchants_t *self, const merchants_tx_t *tx);

//  tx's account saw fraud: credits, once each, the merchants it bought at
//  in the MERCHANTS_FRAUD_LOOKBACK_S before tx (not tx's own purchase,
//  which is not folded in yet). Returns how many were credited.
int merchants_fraud (merchants_t *self, const merchants_tx_t *tx);

size_t merchants_size (const merchants_t *self);     //  merchant records held
size_t merchants_devices (const merchants_t *self);
uint64_t merchants_evicted (const merchants_t *self); //  records of any kind evicted

//  --- Checkpoints -----------------------------------------------------------------
//  Kinds of record, as stored (txw_data.scorer_cross_state.kind).
typedef enum {
    MERCHANTS_KIND_MERCHANT = 1, MERCHANTS_KIND_DEVICE = 2, MERCHANTS_KIND_VISITS = 3
} merchants_kind_t;

//  The record layout of a kind (3000 + its size): rows of another layout
//  are not restored.
int merchants_layout (merchants_kind_t kind);
size_t merchants_record_size (merchants_kind_t kind);

//  Calls fn for every record changed since it was last collected, and
//  clears its mark.
typedef void (merchants_collect_fn) (void *arg, merchants_kind_t kind, const void *record);
size_t merchants_collect_dirty (merchants_t *self, merchants_collect_fn *fn, void *arg);

//  Puts a checkpointed record of size bytes back. Returns 0, or -1 if it
//  is not a valid record of that kind or its key is held already.
int merchants_restore (merchants_t *self, merchants_kind_t kind, const void *record,
                       size_t size);

#endif
