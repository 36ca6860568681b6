/*  txrow - a transaction's row in txw_data.transactions: columns, COPY, decode

    One table of the columns, from which the COPY column list, the select
    list, the COPY row and the decode by column name are made. The
    aggregator COPYs scored transactions in; the offline trainer reads them
    back into the scorer's own record. (The query API's JSON has its own
    column table, read by name too.) A column added to the table is one row
    here (and a migration).                                                   */

#ifndef TXW_TXROW_H
#define TXW_TXROW_H

#include "codec.h"
#include "pgutil.h"

//  X (column, kind, member of txw_tx_t)
//    kind: TEXT (char array), OPTTEXT (empty is NULL), TIME (ms, timestamptz
//    in SQL), INT (int64), CHANNEL and STATUS (codes, names in SQL), SCORE
//    (uint8), REASONS (bit set, text[] of names in SQL), SHARD (the
//    aggregator shard that wrote it: not in txw_tx_t, member none).
#define TXW_TX_COLUMNS(X)                                           \
    X (tx_id,            TEXT,    tx_id)                            \
    X (ts,               TIME,    ts_ms)                            \
    X (account_id,       TEXT,    account_id)                       \
    X (amount_minor,     INT,     amount_minor)                     \
    X (currency,         TEXT,    currency)                         \
    X (amount_rep_minor, INT,     amount_rep_minor)                 \
    X (merchant_id,      TEXT,    merchant_id)                      \
    X (category,         TEXT,    category)                         \
    X (channel,          CHANNEL, channel)                          \
    X (branch_id,        TEXT,    branch_id)                        \
    X (region,           TEXT,    region)                           \
    X (country,          TEXT,    country)                          \
    X (device_id,        TEXT,    device_id)                        \
    X (product_id,       OPTTEXT, product_id)                       \
    X (status,           STATUS,  status)                           \
    X (score,            SCORE,   score)                            \
    X (reasons,          REASONS, reasons)                          \
    X (model_version,    TEXT,    model_version)                    \
    X (shard,            SHARD,   none)                             \
    X (device_type,      OPTTEXT, device_type)                      \
    X (order_id,         OPTTEXT, order_id)

enum {
#define TXW_TX_COLUMN_ENUM(column, kind, member) TXW_TX_COL_##column,
    TXW_TX_COLUMNS (TXW_TX_COLUMN_ENUM)
#undef TXW_TX_COLUMN_ENUM
    TXW_TX_COLUMN_COUNT
};

//  The statements' parts, made once from the table.
typedef struct {
    const char *columns;        //  "tx_id, ts, ...": for COPY
    const char *select;         //  the same, times as epoch ms, for decode
} txw_txrow_sql_t;
const txw_txrow_sql_t *txw_txrow_sql (void);

//  Appends a reason bit set as one text[] column: {amount_spike,new_device}.
void txw_txrow_copy_reasons (txw_copybuf_t *buf, uint32_t reasons);

//  Appends tx, written by aggregator shard, as one COPY row.
void txw_txrow_copy (txw_copybuf_t *buf, const txw_tx_t *tx, uint32_t shard);

//  Where each column is in a result selected with select. Returns 0, or
//  -1 if a column is missing (decode then refuses every row).
typedef struct {
    int index [TXW_TX_COLUMN_COUNT];
    bool complete;
} txw_txrow_cols_t;
int txw_txrow_columns (const PGresult *res, txw_txrow_cols_t *cols);

//  Decodes one row into tx (scored, hour and weekday derived). Returns 0,
//  or -1 if a column is missing.
int txw_txrow_decode (const PGresult *res, int row, const txw_txrow_cols_t *cols,
                      txw_tx_t *tx);

#endif
