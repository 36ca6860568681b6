/*  txrow - a transaction's row in txw_data.transactions: columns, COPY, decode  */

#include "txrow.h"
#include "reasons.h"
#include "rfc3339.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_names [TXW_TX_COLUMN_COUNT] = {
#define S_NAME(column, kind, member) #column,
    TXW_TX_COLUMNS (S_NAME)
#undef S_NAME
};
static const char *const s_kinds [TXW_TX_COLUMN_COUNT] = {
#define S_KIND(column, kind, member) #kind,
    TXW_TX_COLUMNS (S_KIND)
#undef S_KIND
};

static char s_columns [512], s_select [1024];
static txw_txrow_sql_t s_sql = { s_columns, s_select };
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_build (void)
{
    txw_pg_column_lists (s_names, s_kinds, TXW_TX_COLUMN_COUNT, s_columns, sizeof s_columns,
                         s_select, sizeof s_select);
}

const txw_txrow_sql_t *
txw_txrow_sql (void)
{
    pthread_once (&s_once, s_build);
    return &s_sql;
}

void
txw_txrow_copy_reasons (txw_copybuf_t *buf, uint32_t reasons)
{
    char text [320] = "{";
    size_t o = 1;
    o += txw_reasons_format (reasons, text + 1, sizeof text - 2);
    text [o++] = '}';
    txw_copybuf_raw (buf, text, o);
}

//  The bit set of a text[] literal; unknown names are left out.
static uint32_t
s_parse_reasons (const char *text)
{
    uint32_t reasons = 0;
    const char *p = text [0] == '{'? text + 1: text;
    while (*p && *p != '}') {
        size_t len = strcspn (p, ",}");
        for (int bit = 0; bit < TXW_REASON_COUNT; bit++) {
            const char *name = txw_reason_name (bit);
            if (strlen (name) == len && strncmp (name, p, len) == 0)
                reasons |= 1u << bit;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return reasons;
}

void
txw_txrow_copy (txw_copybuf_t *b, const txw_tx_t *tx, uint32_t shard)
{
#define S_COPY_TEXT(member)     txw_copybuf_str (b, tx->member);
#define S_COPY_OPTTEXT(member)  if (tx->member [0]) txw_copybuf_str (b, tx->member); \
                                else txw_copybuf_null (b);
#define S_COPY_TIME(member)     txw_copybuf_ts_ms (b, tx->member);
#define S_COPY_INT(member)      txw_copybuf_int (b, tx->member);
#define S_COPY_CHANNEL(member)  txw_copybuf_str (b, txw_channel_name (tx->member));
#define S_COPY_STATUS(member)   txw_copybuf_str (b, txw_status_name (tx->member));
#define S_COPY_SCORE(member)    txw_copybuf_int (b, tx->member);
#define S_COPY_REASONS(member)  txw_txrow_copy_reasons (b, tx->member);
#define S_COPY_SHARD(member)    txw_copybuf_int (b, shard);
#define S_COPY(column, kind, member) S_COPY_##kind (member)
    TXW_TX_COLUMNS (S_COPY)
#undef S_COPY
#undef S_COPY_TEXT
#undef S_COPY_OPTTEXT
#undef S_COPY_TIME
#undef S_COPY_INT
#undef S_COPY_CHANNEL
#undef S_COPY_STATUS
#undef S_COPY_SCORE
#undef S_COPY_REASONS
#undef S_COPY_SHARD
    txw_copybuf_end_row (b);
}

int
txw_txrow_columns (const PGresult *res, txw_txrow_cols_t *cols)
{
    cols->complete = txw_pg_columns (res, s_names, TXW_TX_COLUMN_COUNT, cols->index) == 0;
    return cols->complete? 0: -1;
}

int
txw_txrow_decode (const PGresult *res, int row, const txw_txrow_cols_t *cols, txw_tx_t *tx)
{
    if (!cols->complete)
        return -1;
    memset (tx, 0, sizeof *tx);
#define S_VALUE(column) PQgetvalue (res, row, cols->index [TXW_TX_COL_##column])
#define S_DECODE_TEXT(column, member) \
    snprintf (tx->member, sizeof tx->member, "%s", S_VALUE (column));
#define S_DECODE_OPTTEXT(column, member) S_DECODE_TEXT (column, member)
#define S_DECODE_TIME(column, member)   tx->member = strtoll (S_VALUE (column), NULL, 10);
#define S_DECODE_INT(column, member)    tx->member = strtoll (S_VALUE (column), NULL, 10);
#define S_DECODE_CHANNEL(column, member) { const char *v = S_VALUE (column);         \
    int code = txw_channel_parse (v, strlen (v)); tx->member = (uint8_t) (code < 0? 0: code); }
#define S_DECODE_STATUS(column, member) { const char *v = S_VALUE (column);          \
    int code = txw_status_parse (v, strlen (v)); tx->member = (uint8_t) (code < 0? 0: code); }
#define S_DECODE_SCORE(column, member)  { long v = strtol (S_VALUE (column), NULL, 10); \
    tx->member = (uint8_t) (v < 0? 0: v > 100? 100: v); }
#define S_DECODE_REASONS(column, member) tx->member = s_parse_reasons (S_VALUE (column));
#define S_DECODE_SHARD(column, member)
#define S_DECODE(column, kind, member) S_DECODE_##kind (column, member)
    TXW_TX_COLUMNS (S_DECODE)
#undef S_DECODE
#undef S_DECODE_TEXT
#undef S_DECODE_OPTTEXT
#undef S_DECODE_TIME
#undef S_DECODE_INT
#undef S_DECODE_CHANNEL
#undef S_DECODE_STATUS
#undef S_DECODE_SCORE
#undef S_DECODE_REASONS
#undef S_DECODE_SHARD
#undef S_VALUE
    tx->scored = true;
    int hour, weekday;
    rfc3339_hour_weekday (tx->ts_ms, &hour, &weekday);
    tx->hour = (uint8_t) hour;
    tx->weekday = (uint8_t) weekday;
    return 0;
}
