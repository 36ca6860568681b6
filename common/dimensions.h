/*  dimensions - the window dimensions, one table for every service

    Every scored transaction counts in one window of each dimension; the key
    of that window is the transaction's value in the dimension. The
    aggregator keeps the windows, the query API and the gateway read them,
    and proto/openapi.yaml lists them (test_dimensions compares it with this
    table). Adding a dimension is one row here, plus its tests and docs.
    Dimensions are only ever appended: stored rows name them by text.        */

#ifndef TXW_DIMENSIONS_H
#define TXW_DIMENSIONS_H

#include "codec.h"

//  X (NAME, "name", key of the window of txw_tx_t *tx)
#define TXW_DIMENSIONS(X)                                               \
    X (OVERALL,  "overall",  "all")                                     \
    X (REGION,   "region",   tx->region)                                \
    X (BRANCH,   "branch",   tx->branch_id)                             \
    X (MERCHANT, "merchant", tx->merchant_id)                           \
    X (CATEGORY, "category", tx->category)                              \
    X (CHANNEL,  "channel",  txw_channel_name (tx->channel))          \
    X (DEVICE,   "device",   tx->device_type [0]? tx->device_type: "unknown")

typedef enum {
#define TXW_DIM_ENUM(NAME, name, key) TXW_DIM_##NAME,
    TXW_DIMENSIONS (TXW_DIM_ENUM)
#undef TXW_DIM_ENUM
    TXW_DIM_COUNT
} txw_dimension_t;

//  The names in table order, then NULL (the form qparams_enum takes).
extern const char *const txw_dimension_names [TXW_DIM_COUNT + 1];

//  The dimension called name, or -1.
int txw_dimension_parse (const char *name);

//  The key of tx's window in dimension dim: borrowed from tx or static.
const char *txw_dimension_key (int dim, const txw_tx_t *tx);

//  "region, branch, ...": the names from dimension first on, for messages.
const char *txw_dimension_list (int first);

#endif
