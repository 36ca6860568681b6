/*  windowrow - a window's row in txw_data.windows: columns, COPY and decode  */

#include "windowrow.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_names [TXW_WINDOW_COLUMN_COUNT] = {
#define S_NAME(column, member, kind, merge) #column,
    TXW_WINDOW_COLUMNS (S_NAME)
#undef S_NAME
};

static const char *const s_merges [TXW_WINDOW_COLUMN_COUNT] = {
#define S_MERGE(column, member, kind, merge) #merge,
    TXW_WINDOW_COLUMNS (S_MERGE)
#undef S_MERGE
};

//  The key columns: an upsert leaves them alone.
static bool
s_is_key (int col)
{
    return strcmp (s_merges [col], "KEY") == 0;
}

static const char *const s_kinds [TXW_WINDOW_COLUMN_COUNT] = {
#define S_KIND(column, member, kind, merge) #kind,
    TXW_WINDOW_COLUMNS (S_KIND)
#undef S_KIND
};

static char s_columns [1024], s_select [2048], s_upsert [4096], s_add [8192];
static txw_windowrow_sql_t s_sql = { s_columns, s_select, s_upsert, s_add };
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_build (void)
{
    txw_pg_column_lists (s_names, s_kinds, TXW_WINDOW_COLUMN_COUNT, s_columns, sizeof s_columns,
                         s_select, sizeof s_select);
    size_t len = (size_t) snprintf (s_upsert, sizeof s_upsert,
        "INSERT INTO txw_data.windows (%s) SELECT %s FROM stage_windows"
        " ON CONFLICT (dimension, key, window_start, shard) DO UPDATE SET ",
        s_columns, s_columns);
    for (int c = 0; c < TXW_WINDOW_COLUMN_COUNT && len < sizeof s_upsert; c++)
        if (!s_is_key (c))
            len += (size_t) snprintf (s_upsert + len, sizeof s_upsert - len,
                                      "%s = excluded.%s, ", s_names [c], s_names [c]);
    if (len < sizeof s_upsert)
        snprintf (s_upsert + len, sizeof s_upsert - len, "updated_at = now()");

    //  The additions: grouped by key first (ON CONFLICT may touch a row
    //  once a statement), then merged into the stored row column by column.
    //  A stored row always counts at least one transaction, so its smallest
    //  and largest amounts are real ones.
    len = (size_t) snprintf (s_add, sizeof s_add, "INSERT INTO txw_data.windows (%s) SELECT ",
                             s_columns);
    for (int c = 0; c < TXW_WINDOW_COLUMN_COUNT && len < sizeof s_add; c++) {
        const char *m = s_merges [c];
        const char *fn = !strcmp (m, "SUM")? "sum": !strcmp (m, "MIN")? "min":
                         !strcmp (m, "MAX")? "max": !strcmp (m, "ANY")? "bool_or":
                         !strcmp (m, "SAME")? "max": "";
        len += (size_t) snprintf (s_add + len, sizeof s_add - len, "%s%s(%s)", c? ", ": "",
                                  fn, s_names [c]);
    }
    if (len < sizeof s_add)
        len += (size_t) snprintf (s_add + len, sizeof s_add - len,
            " FROM stage_window_additions GROUP BY dimension, key, window_start, shard"
            " ON CONFLICT (dimension, key, window_start, shard) DO UPDATE SET ");
    for (int c = 0; c < TXW_WINDOW_COLUMN_COUNT && len < sizeof s_add; c++) {
        const char *m = s_merges [c], *n = s_names [c];
        if (!strcmp (m, "SUM"))
            len += (size_t) snprintf (s_add + len, sizeof s_add - len,
                                      "%s = windows.%s + excluded.%s, ", n, n, n);
        else
        if (!strcmp (m, "MIN") || !strcmp (m, "MAX"))
            len += (size_t) snprintf (s_add + len, sizeof s_add - len,
                                      "%s = %s(windows.%s, excluded.%s), ", n,
                                      !strcmp (m, "MIN")? "least": "greatest", n, n);
        else
        if (!strcmp (m, "ANY"))
            len += (size_t) snprintf (s_add + len, sizeof s_add - len,
                                      "%s = windows.%s OR excluded.%s, ", n, n, n);
    }
    if (len < sizeof s_add)
        snprintf (s_add + len, sizeof s_add - len, "updated_at = now()");
}

const txw_windowrow_sql_t *
txw_windowrow_sql (void)
{
    pthread_once (&s_once, s_build);
    return &s_sql;
}

void
txw_windowrow_copy (txw_copybuf_t *b, const txw_window_t *w)
{
    //  An empty window has no smallest or largest amount: 0 by convention.
    txw_window_t row = *w;
    if (!row.tx_count)
        row.amount_min = row.amount_max = 0;
#define S_COPY_TEXT(value)  txw_copybuf_str (b, value)
#define S_COPY_TIME(value)  txw_copybuf_ts_ms (b, value)
#define S_COPY_INT(value)   txw_copybuf_int (b, value)
#define S_COPY_SHARD(value) txw_copybuf_int (b, value)
#define S_COPY_BOOL(value)  txw_copybuf_raw (b, (value)? "t": "f", 1)
#define S_COPY(column, member, kind, merge) S_COPY_##kind (row.member);
    TXW_WINDOW_COLUMNS (S_COPY)
#undef S_COPY
#undef S_COPY_TEXT
#undef S_COPY_TIME
#undef S_COPY_INT
#undef S_COPY_SHARD
#undef S_COPY_BOOL
    txw_copybuf_end_row (b);
}

int
txw_windowrow_columns (const PGresult *res, txw_windowrow_cols_t *cols)
{
    cols->complete = txw_pg_columns (res, s_names, TXW_WINDOW_COLUMN_COUNT, cols->index) == 0;
    return cols->complete? 0: -1;
}

int
txw_windowrow_decode (const PGresult *res, int row, const txw_windowrow_cols_t *cols,
                      txw_window_t *out)
{
    if (!cols->complete)
        return -1;
    memset (out, 0, sizeof *out);
#define S_VALUE(column) PQgetvalue (res, row, cols->index [TXW_WINDOW_COL_##column])
#define S_DECODE_TEXT(column, member) \
    snprintf (out->member, sizeof out->member, "%s", S_VALUE (column));
#define S_DECODE_TIME(column, member)   out->member = strtoll (S_VALUE (column), NULL, 10);
#define S_DECODE_INT(column, member)    out->member = strtoll (S_VALUE (column), NULL, 10);
#define S_DECODE_SHARD(column, member) \
    out->member = (uint32_t) strtoul (S_VALUE (column), NULL, 10);
#define S_DECODE_BOOL(column, member)   out->member = S_VALUE (column) [0] == 't';
#define S_DECODE(column, member, kind, merge)  S_DECODE_##kind (column, member)
    TXW_WINDOW_COLUMNS (S_DECODE)
#undef S_DECODE
#undef S_DECODE_TEXT
#undef S_DECODE_TIME
#undef S_DECODE_INT
#undef S_DECODE_SHARD
#undef S_DECODE_BOOL
#undef S_VALUE
    return 0;
}
