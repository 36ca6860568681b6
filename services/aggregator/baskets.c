/*  baskets - purchases of orders, for product recommendations              */

#include "baskets.h"

bool
baskets_purchase (const txw_tx_t *tx)
{
    return tx->status == TXW_STATUS_APPROVED && *tx->order_id && *tx->product_id;
}

bool
baskets_add (txw_copybuf_t *rows, const txw_tx_t *tx, uint32_t shard)
{
    if (!baskets_purchase (tx))
        return false;
    txw_copybuf_str (rows, tx->account_id);
    txw_copybuf_str (rows, tx->order_id);
    txw_copybuf_str (rows, tx->product_id);
    txw_copybuf_ts_ms (rows, tx->ts_ms);
    txw_copybuf_int (rows, shard);
    txw_copybuf_end_row (rows);
    return true;
}
