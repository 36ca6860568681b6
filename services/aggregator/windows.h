/*  windows - event-time tumbling windows per dimension, with a watermark

    Every scored transaction updates one window in each dimension of
    common/dimensions.h. The watermark is the
    largest event time seen minus the allowed lateness; a window closes when
    the watermark passes its end. An event for a window that has closed is
    late: it is still counted (totals stay exact) and the window's late
    counter says so. Closed windows are kept for the retention period so a
    late event updates the full row, and rows in memory are always written
    whole, so a window written twice is the same row. An event older than
    the retention counts into its windows still in memory, and for those
    already forgotten (written, then dropped) windows_add hands the caller
    the row it adds, which the sink adds to the stored one. A forgotten
    window never comes back into memory (the watermark only moves on), so
    a stored row is either written whole or added to, never both.            */

#ifndef TXW_AGGREGATOR_WINDOWS_H
#define TXW_AGGREGATOR_WINDOWS_H

#include "codec.h"
#include "dimensions.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    txw_window_t row;           //  what is written and published
    uint64_t hash;
    uint8_t dim;
    bool used;
    bool store_dirty;           //  changed since last written to PostgreSQL
    bool publish_dirty;         //  changed since last published
} win_entry_t;

typedef struct _windows_t windows_t;

//  What the visiting calls below call for each window entry.
typedef void (win_visit_fn) (void *arg, const win_entry_t *entry);

typedef enum {
    WIN_ON_TIME = 0,
    WIN_LATE,               //  counted into a closed window
    WIN_TOO_LATE,           //  older than retention: added to stored windows
    WIN_OVERFLOW            //  a sum would pass INT64_MAX: not counted at all
} win_result_t;

//  What windows_late_rows calls for each row.
typedef void (win_row_fn) (void *arg, const txw_window_t *row);

windows_t *windows_new (uint32_t shard, int64_t window_ms,
                                int64_t lateness_ms, int64_t retention_ms,
                                int flag_threshold);
void windows_destroy (windows_t **self_p);

//  Adds one scored transaction to its window in every dimension. A window
//  older than the retention and no longer in memory is not recreated:
//  older_fn (if not NULL) gets the row the transaction adds to it (one
//  transaction, counted late, closed), and the result is WIN_TOO_LATE. A
//  transaction that would take a window's amount sum past INT64_MAX is not
//  counted anywhere: WIN_OVERFLOW.
win_result_t windows_add (windows_t *self, const txw_tx_t *tx, win_row_fn *older_fn,
                          void *arg);

//  Takes an approved transaction counted before (tx, as stored) out of the
//  approved count and amount of its window in every dimension: a
//  correction made it reversed, refunded or charged back. It still
//  happened, so its count, amount sums, extremes and score stay. A window
//  in memory changes there (written whole and published with the next
//  tick); for one already forgotten, stored_fn gets the change, a row
//  whose approved and approved_amount_sum are the (negative) deltas.
void windows_correct (windows_t *self, const txw_tx_t *tx, win_row_fn *stored_fn, void *arg);
//  Puts back a row read from PostgreSQL at start-up (this shard's recent
//  windows), so a restarted shard keeps counting on top of them.
void windows_restore (windows_t *self, const char *dimension,
                          const txw_window_t *row);

//  Closes the windows the watermark has passed (marking them dirty), calls
//  closed_fn (if not NULL) for each, and forgets closed windows older than
//  the retention. Returns how many closed.
int windows_advance (windows_t *self, win_visit_fn *closed_fn, void *arg);

int64_t windows_watermark (const windows_t *self);
//  The largest event time applied (INT64_MIN before the first), and its
//  restoration after a restart.
int64_t windows_max_event (const windows_t *self);
void windows_set_max_event (windows_t *self, int64_t max_event_ms);
size_t windows_size (const windows_t *self);

//  Calls fn for every entry that is store_dirty (store) or publish_dirty
//  (publish) and clears that flag. fn may not add windows.
void windows_drain_dirty (windows_t *self, bool store,
                              win_visit_fn *fn, void *arg);
//  Sets the store-dirty flag again on every entry (after a failed write).
void windows_mark_all_dirty (windows_t *self);

//  Looks a window up; NULL if absent. For tests and the query of one key.
const txw_window_t *windows_find (windows_t *self, int dim,
                                      const char *key, int64_t start_ms);

#endif
