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

    This header is the one callers include. It brings in one header per
    class and holds what is process-wide: the endpoint list bound and the
    configuration (resolve interval, CURVE).
        out.h        txw_out: batched output (PUSH or PUB), back-pressure,
                     the stop flag
        router.h     txw_router: keyed output, one txw_out per shard
        in.h         txw_in: sequenced input (PULL or SUB), gaps, replays
        resolver.h   endpoints that follow DNS: txw_resolve, txw_addr_*
    Private to these modules (transport_internal.h): the CURVE state
    (curve.c), the resolver's name table and thread (resolver.c) and the
    links of a connecting socket (links.c).

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

#include "in.h"
#include "out.h"
#include "resolver.h"
#include "router.h"

#include <stdint.h>

#define TXW_MAX_ENDPOINTS   64      //  items in one endpoint list (and shards)

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

#endif
