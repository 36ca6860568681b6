/*  maint - the maintenance tasks of txw-maint: retention and segments

    Retention removes expired data by whole partitions, never row by row:
    for each table it keeps, txw_data.drop_expired_partitions (migration
    015) detaches and drops the partitions whose upper bound is at or
    before as-of minus that table's days. A table that is not partitioned
    by time (yet) is skipped and said so: it is never trimmed row by row.
    Segments runs txw_data.refresh_segments (migration 017). Every run of a
    task is recorded in txw_data.maint_runs, logged and counted.            */

#ifndef MAINT_H
#define MAINT_H

#include <stdbool.h>
#include <stdint.h>

//  The tables retention keeps, in the order it visits them, each with the
//  days it keeps by default (--keep-<option>-days).
typedef struct {
    const char *table;          //  in txw_data
    const char *option;         //  "transactions": --keep-transactions-days
    const char *fallback;       //  default days, as option text
} maint_table_t;

#define MAINT_TABLES 7
extern const maint_table_t maint_tables [MAINT_TABLES];

typedef struct {
    const char *database_url;
    const char *as_of;          //  RFC 3339, checked; "" for the database's now ()
    int64_t keep_days [MAINT_TABLES];
    bool retention;
    bool segments;
} maint_config_t;

typedef struct _maint_t maint_t;

//  Registers the metrics; never fails.
maint_t *maint_new (const maint_config_t *cfg);
void maint_destroy (maint_t **self_p);

//  Runs the configured tasks once, on a connection of its own. Returns 0
//  when every task succeeded, else -1 (each failure logged and recorded).
int maint_run (maint_t *self);

//  True when the last run succeeded (or none ran yet); for /readyz.
bool maint_healthy (maint_t *self);

#endif
