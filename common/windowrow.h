/*  windowrow - a window's row in txw_data.windows: columns, COPY and decode

    One table of the columns, from which the COPY column list, the upsert,
    the additive upsert (corrections to windows no longer in memory), the
    select list, the COPY row and the decode by column name are all made. The aggregator writes rows and restores its shard's recent ones;
    the gateway seeds its live state from them. A column added to the table
    is one row here (and a migration).                                       */

#ifndef TXW_WINDOWROW_H
#define TXW_WINDOWROW_H

#include "codec.h"
#include "pgutil.h"

//  X (column, member of txw_window_t, kind, merge)
//    kind: TEXT (char array), TIME (ms, timestamptz in SQL), INT (int64),
//    SHARD (uint32), BOOL; merge: how a correction adds to a stored row:
//    KEY (the key is (dimension, key, window_start, shard)), SUM, MIN,
//    MAX, SAME (equal in both), ANY (true if either is).
#define TXW_WINDOW_COLUMNS(X)                                             \
    X (dimension,                 dimension,           TEXT,  KEY)        \
    X (key,                       key,                 TEXT,  KEY)        \
    X (window_start,              window_start_ms,     TIME,  KEY)        \
    X (shard,                     shard,               SHARD, KEY)        \
    X (window_ms,                 window_ms,           INT,   SAME)       \
    X (tx_count,                  tx_count,            INT,   SUM)        \
    X (amount_minor_sum,          amount_sum,          INT,   SUM)        \
    X (amount_minor_min,          amount_min,          INT,   MIN)        \
    X (amount_minor_max,          amount_max,          INT,   MAX)        \
    X (approved_amount_minor_sum, approved_amount_sum, INT,   SUM)        \
    X (approved,                  approved,            INT,   SUM)        \
    X (declined,                  declined,            INT,   SUM)        \
    X (failed,                    failed,              INT,   SUM)        \
    X (flagged,                   flagged,             INT,   SUM)        \
    X (score_sum,                 score_sum,           INT,   SUM)        \
    X (late,                      late,                INT,   SUM)        \
    X (closed,                    closed,              BOOL,  ANY)

enum {
#define TXW_WINDOW_COLUMN_ENUM(column, member, kind, merge) TXW_WINDOW_COL_##column,
    TXW_WINDOW_COLUMNS (TXW_WINDOW_COLUMN_ENUM)
#undef TXW_WINDOW_COLUMN_ENUM
    TXW_WINDOW_COLUMN_COUNT
};

//  The statements, made once from the table.
typedef struct {
    const char *columns;        //  "dimension, key, window_start, ..."
    const char *select;         //  the same, times as epoch ms, for decode
    const char *upsert;         //  INSERT INTO txw_data.windows (...) SELECT ...
                                //  FROM stage_windows ON CONFLICT ... DO UPDATE
    const char *add;            //  the rows of stage_window_additions (several
                                //  per key may be) added to the stored ones
} txw_windowrow_sql_t;
const txw_windowrow_sql_t *txw_windowrow_sql (void);

//  Appends w as one COPY row in the order of columns.
void txw_windowrow_copy (txw_copybuf_t *buf, const txw_window_t *w);

//  Where each column is in a result selected with select. Returns 0, or
//  -1 if a column is missing (decode then refuses every row).
typedef struct {
    int index [TXW_WINDOW_COLUMN_COUNT];
    bool complete;
} txw_windowrow_cols_t;
int txw_windowrow_columns (const PGresult *res, txw_windowrow_cols_t *cols);

//  Decodes one row. Returns 0, or -1 if a column is missing (the caller
//  reports that once, from txw_windowrow_columns).
int txw_windowrow_decode (const PGresult *res, int row, const txw_windowrow_cols_t *cols,
                          txw_window_t *out);

#endif
