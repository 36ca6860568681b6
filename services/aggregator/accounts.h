/*  accounts - per-account totals since the last flush (customer analytics)

    Every scored transaction adds to its account's delta: count and spend,
    approved spend (the lifetime value), outcomes, flagged count, score sum
    and maximum, first and last event time. The sink writes the deltas with
    the flush that also commits the checkpoints and adds them to
    txw_data.accounts, so a replayed message is never added twice and a
    failed flush keeps its deltas for the next one. Only the accounts seen
    since the last flush are held, so memory follows the flush interval, not
    the number of customers. The same deltas are kept per account and
    calendar month (UTC) for txw_data.account_months, which the cohorts
    are built from (proto/sql/017_customers.sql), and written in the same
    flush.                                                                    */

#ifndef TXW_AGGREGATOR_ACCOUNTS_H
#define TXW_AGGREGATOR_ACCOUNTS_H

#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char account_id [TXW_ID_MAX + 1];
    int64_t tx_count;
    int64_t spend;              //  reporting-currency minor units
    int64_t approved_spend;
    int64_t approved, declined, failed;
    int64_t flagged;
    int64_t score_sum;
    int max_score;
    int64_t first_ms;
    int64_t last_ms;
    int32_t month;              //  year * 12 + month - 1 (UTC); 0 in the per-account totals
    uint64_t hash;              //  0: free slot
} accounts_delta_t;

typedef struct _accounts_t accounts_t;

accounts_t *accounts_new (int flag_threshold);
void accounts_destroy (accounts_t **self_p);

//  Adds one scored transaction to its account's delta. Returns -1 only when
//  memory runs out (the transaction is then not counted, and logged).
int accounts_add (accounts_t *self, const txw_tx_t *tx);

//  Takes an approved transaction counted before (tx, as stored) out of its
//  account's approved count and spend (the lifetime value) and those of
//  its month: a correction. Its count, spend and score stay. Returns -1
//  only when memory runs out (logged).
int accounts_unapprove (accounts_t *self, const txw_tx_t *tx);

size_t accounts_size (const accounts_t *self);

//  Calls fn for every account delta held.
typedef void (accounts_visit_fn) (void *arg, const accounts_delta_t *delta);
void accounts_each (accounts_t *self, accounts_visit_fn *fn, void *arg);

//  The per-month deltas: how many, and fn called for each.
size_t accounts_months_size (const accounts_t *self);
void accounts_each_month (accounts_t *self, accounts_visit_fn *fn, void *arg);

//  Forgets every delta (after they were committed).
void accounts_clear (accounts_t *self);

//  The delta held for one account, or NULL. For tests.
const accounts_delta_t *accounts_find (accounts_t *self, const char *account_id);
//  The delta of one account in one month (1..12), or NULL. For tests.
const accounts_delta_t *accounts_find_month (accounts_t *self, const char *account_id,
                                             int year, int month);

#endif
