/*  server - the gateway's HTTP side: files, /config.json and /ws clients

    civetweb serves the dashboard's files from --document-root and the
    WebSocket endpoint /ws. civetweb keeps one worker thread per open
    WebSocket (it sits in the read loop), so --threads must exceed
    --max-clients; connections beyond --max-clients get an HTTP 503.

    Each client has its own bounded queue (queue.h) and its own writer
    thread that calls mg_websocket_write. Why a thread per client and not a
    small pool: mg_websocket_write blocks until the socket takes the frame
    (up to civetweb's request timeout), and civetweb has no non-blocking
    write, so a pool thread writing to a stalled client would stall every
    client behind it. A dedicated thread with a 128 KiB stack costs little
    next to the worker thread civetweb already holds for the connection, and
    a slow client then only ever delays itself. The receive loop only
    appends to queues under a short lock and never writes to a socket.

    Messages reach clients through gw_server_broadcast (live updates, from
    the receive loop) and gw_server_serve_snapshots: a client that connects,
    re-syncs or subscribes asks for a snapshot, the receive loop is woken
    through wake_fd and answers all waiting clients with one snapshot. A new
    client receives broadcasts only after its snapshot, so hello and
    snapshot always come first.                                             */

#ifndef TXW_GATEWAY_SERVER_H
#define TXW_GATEWAY_SERVER_H

#include "message.h"
#include "metrics.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    txw_gauge_t *clients;
    txw_counter_t *sent [GW_TYPE_COUNT];
    txw_counter_t *dropped [GW_TYPE_COUNT];
    txw_counter_t *slow_closes;
    txw_counter_t *rejected;            //  503: beyond --max-clients
    txw_counter_t *bad_client_messages;
    txw_histogram_t *push_latency;      //  alert raised -> written to a client
} gw_metrics_t;

typedef struct {
    const char *listen;
    const char *document_root;
    const char *api_url;
    int64_t client_queue;
    int64_t max_clients;
    int64_t threads;
    int wake_fd;                //  written (one byte) when a snapshot is wanted
} gw_server_config_t;

typedef struct _gw_server_t gw_server_t;

//  Registers the metrics in m (before any thread runs) and starts civetweb.
//  Returns NULL (logged) if it cannot listen.
gw_server_t *gw_server_new (const gw_server_config_t *cfg, gw_metrics_t *m);
//  Stops civetweb (closing every connection) and waits for the writers.
void gw_server_destroy (gw_server_t **self_p);

//  Offers msg to every client that has had its snapshot and chose its topic.
void gw_server_broadcast (gw_server_t *self, gw_msg_t *msg);
//  Answers every client waiting for a snapshot; build is called once, only
//  if one waits, and returns a new message (NULL on failure: they wait on).
void gw_server_serve_snapshots (gw_server_t *self, gw_msg_t *(*build) (void *arg), void *arg);
int gw_server_clients (gw_server_t *self);

//  Registers the gateway's metrics into m. Called by gw_server_new.
void gw_metrics_init (gw_metrics_t *m);

#endif
