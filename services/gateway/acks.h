/*  acks - acknowledgements made anywhere, pushed to every dashboard

    An analyst acknowledges an alert through the query API, which writes
    txw_data.alerts; the gateway does not see that call. This actor watches
    the table on its own connection (every two seconds, acks newer than the
    last one seen, via the partial index on acked_at) and hands each new
    acknowledgement to the gateway's loop as a message of three frames: the
    alert's key, when (ms since the epoch, as text) and by whom. The loop
    marks the kept alert acked and pushes an `ack` message, so every open
    dashboard shows it within a few seconds. A database that is away only
    delays them: the watcher reconnects and continues from the last ack it
    saw.                                                                      */

#ifndef TXW_GATEWAY_ACKS_H
#define TXW_GATEWAY_ACKS_H

#include <czmq.h>

//  The actor's argument is the libpq connection string (borrowed).
void gw_acks_actor (zsock_t *pipe, void *database_url);

#endif
