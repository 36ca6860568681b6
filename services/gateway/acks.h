/*  acks - alerts closed or reopened anywhere, pushed to every dashboard

    An analyst closes (acknowledges), reopens or starts investigating an
    alert through the query API, which writes txw_data.alerts and, in the
    same statement, one txw_data.alert_events row per field changed; the
    gateway does not see that call. This actor follows the status events
    on its own connection (every two seconds, the events after the last one
    seen, by event_id: none is missed or seen twice, whatever the clocks)
    and hands each to the gateway's loop as a message of four frames: the
    alert's key, when (ms since the epoch, as text), by whom, and the new
    status (open, investigating, closed). The loop updates the kept alert
    and pushes an `ack` message, so every open dashboard shows it within a
    few seconds. A database that is away only delays them: the watcher
    reconnects and continues from the last event it saw.                   */

#ifndef TXW_GATEWAY_ACKS_H
#define TXW_GATEWAY_ACKS_H

#include <czmq.h>

//  The actor's argument is the libpq connection string (borrowed).
void gw_acks_actor (zsock_t *pipe, void *database_url);

#endif
