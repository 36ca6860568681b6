/*  server - the gateway's HTTP side: files, /config.json and /ws clients

    One request handler answers every HTTP request: /config.json, and the
    dashboard's files from the table of files.h. civetweb's own file
    serving stays off (no document_root), and every answer, civetweb's own
    errors included, carries the security headers of access.h. civetweb
    also serves the WebSocket endpoint /ws. It keeps one worker thread per
    open WebSocket (it sits in the read loop), so --threads must exceed
    --max-clients; connections beyond --max-clients get an HTTP 503.

    A handshake is refused, before any WebSocket exists, with the gateway's
    own HTTP answer (civetweb sends none when the connect handler refuses:
    it only closes the connection): 403 for an Origin that is not allowed
    (access.h), 401 without a valid API key (keystore.h; a revoked key
    within --key-cache-ms), 503 when keys cannot be checked (no
    --database-url, or the database is away), 400 for bad topics, 429 past
    --max-clients-per-key connections of one key, 503 past --max-clients.
    The key comes in the subprotocol list (`txwatch, txwatch.key.<key>`),
    or for programs in Authorization: Bearer or X-API-Key; the handshake
    selects `txwatch`. Each client keeps its principal (key id, name,
    role); every role from viewer up gets the same masked feed.

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

#include "access.h"
#include "keystore.h"
#include "message.h"
#include "metrics.h"

#include <stdbool.h>
#include <stdint.h>

//  Why a handshake was refused (the label of txw_gateway_refused_upgrades_total).
typedef enum {
    GW_REFUSED_ORIGIN = 0,      //  403
    GW_REFUSED_NO_KEY,          //  401
    GW_REFUSED_BAD_KEY,         //  401: malformed, unknown, revoked
    GW_REFUSED_KEY_STORE,       //  503: no --database-url, or it cannot answer
    GW_REFUSED_KEY_LIMIT,       //  429: --max-clients-per-key
    GW_REFUSED_PROTOCOL,        //  400: a key as subprotocol without `txwatch`
    GW_REFUSED_HANDSHAKE,       //  400: Sec-WebSocket-Key is not 16 bytes in base64
    GW_REFUSED_RATE,            //  429: --handshakes-per-client
    GW_REFUSED_COUNT
} gw_refused_t;

typedef struct {
    txw_gauge_t *clients;
    txw_counter_t *sent [GW_TYPE_COUNT];
    txw_counter_t *dropped [GW_TYPE_COUNT];
    txw_counter_t *slow_closes;
    txw_counter_t *rejected;            //  503: beyond --max-clients
    txw_counter_t *refused [GW_REFUSED_COUNT];  //  handshakes refused, by reason
    txw_counter_t *bad_client_messages;
    txw_histogram_t *push_latency;      //  alert raised -> written to a client
} gw_metrics_t;

typedef struct {
    const char *listen;
    const char *document_root;
    const char *api_url;
    int64_t client_queue;
    int64_t max_clients;
    int64_t max_clients_per_key;
    double handshakes_per_client;   //  per second per client address (0: no limit)
    int64_t threads;
    txw_keystore_t *keys;       //  NULL: every upgrade is refused, unless auth_off
    bool auth_off;              //  --auth off: nobody is asked for a key
    const gw_origins_t *origins;    //  --allowed-origins
    int wake_fd;                //  written (one byte) when a snapshot is wanted
} gw_server_config_t;

typedef struct _gw_server_t gw_server_t;

//  Registers the metrics in m (before any thread runs), reads the
//  dashboard's files and starts civetweb. Returns NULL (logged) if it
//  cannot listen.
gw_server_t *gw_server_new (const gw_server_config_t *cfg, gw_metrics_t *m);
//  Stops civetweb (closing every connection) and waits for the writers.
void gw_server_destroy (gw_server_t **self_p);

//  Closes (code 4001) the connections whose API key was revoked since they
//  opened, as the key store says at now_ms (monotonic); keys it cannot
//  check now are left open. Returns how many it closed.
int gw_server_end_revoked (gw_server_t *self, int64_t now_ms);

//  Offers msg to every client that has had its snapshot and chose its topic.
void gw_server_broadcast (gw_server_t *self, gw_msg_t *msg);
//  Answers every client waiting for a snapshot; build is called once, only
//  if one waits, and returns a new message (NULL on failure: they wait on).
void gw_server_serve_snapshots (gw_server_t *self, gw_msg_t *(*build) (void *arg), void *arg);
int gw_server_clients (gw_server_t *self);

//  Registers the gateway's metrics into m. Called by gw_server_new.
void gw_metrics_init (gw_metrics_t *m);

#endif
