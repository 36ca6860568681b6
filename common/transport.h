/*  transport - batched ZeroMQ outputs, keyed routing and sequenced inputs

    Every stage talks the same way (ARCHITECTURE.md, "Transport"):
    - an input binds a PULL (work) or connects a SUB (observers);
    - an output is a PUSH connected to every endpoint in a list, or a PUB
      that binds; records are packed into one batch per message type and a
      batch goes out when it is full or has lingered for linger_ms;
    - a keyed output (router) holds one PUSH per shard endpoint and sends a
      record to shard txw_shard_of (key) so a shard owns its keys' state;
    - a receiver tracks (source, epoch, seq) per sender and counts gaps and
      replays.
    A PUSH blocks at its high-water mark, which is how back-pressure reaches
    the upstream stage; the send loop wakes up to check for shutdown.

    Endpoints that follow DNS: in the list of a connecting socket (PUSH, SUB)
    an item tcp://name:port whose name has several addresses (a Kubernetes
    headless Service, a scaled compose service) connects to every address,
    and a resolver thread re-resolves the names every resolve interval; the
    socket's owner applies the changes (zmq_connect the new addresses,
    zmq_disconnect the vanished ones) the next time it sends, flushes or
    receives, so the hot loop never waits on DNS. A failed resolution keeps
    the addresses it had. A keyed shard endpoint never expands: shard i is
    one process, so it keeps one address and moves only when that address
    is gone from the answer (a restarted StatefulSet pod with a new IP).

    CURVE (optional, txw_transport_configure): bound sockets (PULL, PUB)
    become CURVE servers with this process's certificate, and zauth admits
    only clients whose public certificate is in the allowed directory;
    connecting sockets (PUSH, SUB) become CURVE clients of the server public
    key. In Kubernetes the certificates come from Secrets mounted as files,
    for example:
        kubectl create secret generic txw-curve \
            --from-file=cluster.key_secret --from-file=cluster.key
        kubectl create secret generic txw-curve-allowed \
            --from-file=cluster.key --from-file=producer-a.key
    mounted at /etc/txw/curve and /etc/txw/curve-allowed (readOnly), with
    TXW_CURVE_SECRET_KEY=/etc/txw/curve/cluster.key_secret,
    TXW_CURVE_SERVER_KEY=/etc/txw/curve/cluster.key and
    TXW_CURVE_ALLOWED=/etc/txw/curve-allowed. zauth skips the hidden ..data
    entries of a Secret volume and re-reads the directory when it changes,
    so a new allowed client is admitted without a restart.                   */

#ifndef TXW_TRANSPORT_H
#define TXW_TRANSPORT_H

#include "codec.h"
#include "metrics.h"

#include <czmq.h>
#include <stdbool.h>

#define TXW_MAX_ENDPOINTS   64
#define TXW_BATCH_RECORDS   512         //  records per batch before it is sent
#define TXW_BATCH_BYTES     (256 * 1024)

typedef struct _txw_out_t txw_out_t;

typedef enum { TXW_OUT_PUSH, TXW_OUT_PUB } txw_out_kind_t;

//  Creates an output. For PUSH, endpoints is a comma-separated list to
//  connect to; for PUB, a list to bind. source_id names this process in
//  every envelope. Returns NULL (logged) on a bad endpoint.
txw_out_t *txw_out_new (txw_out_kind_t kind, const char *endpoints,
                        const char *source_id, int hwm, int linger_ms);
void txw_out_destroy (txw_out_t **self_p);
//  The czmq socket, for options such as a longer linger before exit.
zsock_t *txw_out_socket (txw_out_t *self);

//  Returns the open batch for a message type; pack one record into its pk,
//  then call txw_out_added, which sends the batch once it is full.
txw_batch_t *txw_out_batch (txw_out_t *self, uint32_t type);
//  Returns -1 if a full batch could not be sent (shutdown while blocked).
int txw_out_added (txw_out_t *self, txw_batch_t *batch);
//  Sends batches older than the linger (or all when force). Returns -1 if a
//  send gave up because of shutdown.
int txw_out_flush (txw_out_t *self, bool force);
//  Milliseconds until the oldest open batch is due, or -1 if none is open.
int txw_out_due_ms (txw_out_t *self);
//  Counts the records and batches this output sends from now on (records
//  NULL: none). Counted when a batch leaves, so a batch dropped at
//  shutdown or by a PUB's high-water mark is not.
void txw_out_count (txw_out_t *self, txw_counter_t *records, txw_counter_t *batches);

//  The stop flag the send loop checks while blocked at the high-water mark.
void txw_transport_set_stop_flag (volatile int *flag);

//  --- Configuration -----------------------------------------------------------

typedef struct {
    int64_t resolve_ms;             //  re-resolve interval; 0: names go to libzmq as given
    const char *curve_secret_key;   //  this process's secret certificate file; NULL/"": no CURVE
    const char *curve_server_key;   //  public certificate of the servers this process connects to
    const char *curve_allowed;      //  directory of client public certificates bound sockets admit
} txw_transport_config_t;

//  Applies cfg to every socket created afterwards: loads the certificates,
//  starts zauth, registers the resolver metrics (call it at start-up, before
//  other threads run). Returns -1 (logged) for a certificate that cannot be
//  loaded or a CURVE option without --curve-secret-key. Without a call the
//  interval is 5 s and there is no CURVE.
int txw_transport_configure (const txw_transport_config_t *cfg);
//  Stops the resolver thread and zauth, frees the certificates; the metrics
//  it registered are forgotten. Safe to call twice.
void txw_transport_shutdown (void);

//  --- Endpoint resolution ---------------------------------------------------------

#define TXW_ADDR_MAX    48          //  an IPv4 or IPv6 address as text
#define TXW_ADDRS_MAX   32          //  addresses kept per name

//  Resolves host into at most max addresses, sorted and without duplicates.
//  Returns the count, or -1 if the name does not resolve.
typedef int (txw_resolve_fn) (const char *host, char (*addrs) [TXW_ADDR_MAX], int max);
//  The default: getaddrinfo, IPv4 (libzmq sockets here do not enable IPv6).
int txw_resolve (const char *host, char (*addrs) [TXW_ADDR_MAX], int max);
//  Replaces the resolver (NULL: txw_resolve), for tests.
void txw_transport_set_resolver (txw_resolve_fn *fn);

//  Set difference of the addresses connected now and the addresses just
//  resolved: add gets the indices in next to connect, drop the indices in
//  current to disconnect. Pure function; arrays hold up to the given counts.
void txw_addr_diff (const char *const *current, int current_count,
                    const char *const *next, int next_count,
                    int *add, int *add_count, int *drop, int *drop_count);
//  For an endpoint that must stay one process: the index in next of the
//  address to use, current itself if it is still there, else the first;
//  -1 if next is empty.
int txw_addr_pick (const char *current, const char *const *next, int next_count);

//  --- Keyed router ----------------------------------------------------------

typedef struct _txw_router_t txw_router_t;

//  One PUSH per endpoint in the list, in order: shard i is endpoint i.
txw_router_t *txw_router_new (const char *endpoints, const char *source_id,
                              int hwm, int linger_ms);
void txw_router_destroy (txw_router_t **self_p);
uint32_t txw_router_shards (txw_router_t *self);
txw_out_t *txw_router_pick (txw_router_t *self, const char *key, size_t len);
txw_out_t *txw_router_shard (txw_router_t *self, uint32_t shard);
int txw_router_flush (txw_router_t *self, bool force);
int txw_router_due_ms (txw_router_t *self);
//  txw_out_count on every shard.
void txw_router_count (txw_router_t *self, txw_counter_t *records, txw_counter_t *batches);

//  --- Input ------------------------------------------------------------------

typedef struct _txw_in_t txw_in_t;

typedef struct {
    uint64_t messages;
    uint64_t malformed;
    uint64_t gaps;              //  messages missing between sequence numbers
    uint64_t replays;           //  messages at or below the last sequence seen
} txw_in_stats_t;

//  PULL bound to a list of endpoints, or SUB connected to a list.
txw_in_t *txw_in_new_pull (const char *endpoints, int hwm);
//  A SUB takes every message: envelopes carry no topic prefix to filter on.
txw_in_t *txw_in_new_sub (const char *endpoints);
void txw_in_destroy (txw_in_t **self_p);
void *txw_in_socket (txw_in_t *self);
//  Applies endpoint changes the resolver found. txw_in_recv does it too; a
//  loop that polls the socket itself should call it every second or so.
void txw_in_refresh (txw_in_t *self);

//  Waits up to timeout_ms for a message. Returns 1 with *env decoded from
//  msg (the caller closes msg after use), 0 on timeout or interrupt, and -1
//  for a message that is not a valid envelope (counted, logged, closed).
int txw_in_recv (txw_in_t *self, int timeout_ms, zmq_msg_t *msg,
                 txw_envelope_t *env);
const txw_in_stats_t *txw_in_stats (txw_in_t *self);
//  Adds every gap this input detects to counter as well (NULL: none).
void txw_in_count_gaps (txw_in_t *self, txw_counter_t *counter);

//  Short text for a rejected frame, for logs: first bytes as hex.
void txw_hex_preview (const void *data, size_t size, char *out, size_t out_size);

#endif
