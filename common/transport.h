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

    CURVE (optional, txw_transport_configure; ARCHITECTURE.md, "Transport"):
    every process has the client certificate of its role (peer roles below,
    --curve-client-key) and the servers share one server certificate
    (--curve-secret-key), so a client needs one server public key
    (--curve-server-key) whatever the endpoint. Bound sockets (PULL, PUB)
    are CURVE servers whose ZAP domain names the roles they admit; this
    process's ZAP handler (curve.c) maps a client's public key to its role
    through the allowed directory (--curve-allowed: <role>.key or
    <role>-<anything>.key) and admits it only if the socket admits that
    role. Every message then carries its sender's role (User-Id) and key,
    and a bound input takes from a role only the message types that role
    sends, and from a source id only the key that used it first.
    Connecting sockets (PUSH, SUB) are clients of the server public key.
    `txw-keygen --all DIR` makes the set (services/keygen/main.c): the
    folders server/ (cluster.key_secret: TXW_CURVE_SECRET_KEY of the
    services that bind), public/ (cluster.key: TXW_CURVE_SERVER_KEY),
    <role>/ (<role>.key_secret: TXW_CURVE_CLIENT_KEY of that role) and
    allowed/ (TXW_CURVE_ALLOWED), each a Secret to mount read-only in
    Kubernetes. The handler skips hidden entries (the ..data of a Secret
    volume) and re-reads the directory within a second when it changes, so
    a Secret update applies without a restart; a key removed from it is
    refused at the next handshake and its messages on open connections are
    refused too.                                                          */

#ifndef TXW_TRANSPORT_H
#define TXW_TRANSPORT_H

#include "in.h"
#include "out.h"
#include "resolver.h"
#include "router.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXW_MAX_ENDPOINTS   64      //  items in one endpoint list (and shards)

//  --- Configuration -----------------------------------------------------------

//  CURVE is on when either certificate with a secret is given. A process
//  that binds needs curve_secret_key; one that connects needs
//  curve_server_key and connects with curve_client_key, or with
//  curve_secret_key when it has no client certificate of its own.
typedef struct {
    int64_t resolve_ms;             //  re-resolve interval; 0: names go to libzmq as given
    const char *curve_secret_key;   //  the server certificate (secret) bound sockets serve with
    const char *curve_client_key;   //  this process's role certificate (secret) it connects with
    const char *curve_server_key;   //  public certificate of the servers this process connects to
    const char *curve_allowed;      //  directory of the client public certificates, by role
} txw_transport_config_t;

//  Applies cfg to every socket created afterwards: loads the certificates,
//  starts the ZAP handler, registers the resolver and CURVE metrics (call it
//  at start-up, before other threads run). Returns -1 (logged) for a
//  certificate or directory that cannot be used, or a CURVE option without
//  a certificate to turn CURVE on. Without a call the interval is 5 s and
//  there is no CURVE.
int txw_transport_configure (const txw_transport_config_t *cfg);
//  Stops the resolver thread and the ZAP handler, frees the certificates;
//  the metrics it registered are forgotten. Safe to call twice.
void txw_transport_shutdown (void);

//  --- Peer roles (CURVE) ------------------------------------------------------
//  The role a client certificate stands for. Each bound socket admits the
//  roles of its hop (TXW_ADMIT_*; the table in ARCHITECTURE.md, "Transport"),
//  and a bound input takes from each role only what txw_peer_sends allows.
//  txwctl and the test tools use no role of their own: a tool that speaks
//  ZeroMQ borrows the certificate of the role it stands in for.

typedef enum {
    TXW_PEER_NONE = 0,
    TXW_PEER_PRODUCER,
    TXW_PEER_VALIDATOR,
    TXW_PEER_SCORER,
    TXW_PEER_AGGREGATOR,
    TXW_PEER_GATEWAY,
    TXW_PEER_NOTIFIER,
    TXW_PEER_MAX = TXW_PEER_NOTIFIER
} txw_peer_t;

#define TXW_PEER_BIT(peer)  (1u << (peer))
#define TXW_PEERS_ANY       (((1u << (TXW_PEER_MAX + 1)) - 1) & ~1u)

//  Who may connect to each bound socket: the work inputs take their one
//  upstream role; the PUBs the roles that subscribe to them (the gateway to
//  every feed, the notifier to alerts, producers to acknowledgements).
#define TXW_ADMIT_VALIDATOR_PULL    TXW_PEER_BIT (TXW_PEER_PRODUCER)
#define TXW_ADMIT_VALIDATOR_PUB     (TXW_PEER_BIT (TXW_PEER_GATEWAY) | TXW_PEER_BIT (TXW_PEER_PRODUCER))
#define TXW_ADMIT_SCORER_PULL       TXW_PEER_BIT (TXW_PEER_VALIDATOR)
#define TXW_ADMIT_SCORER_PUB        (TXW_PEER_BIT (TXW_PEER_GATEWAY) | TXW_PEER_BIT (TXW_PEER_NOTIFIER))
#define TXW_ADMIT_AGGREGATOR_PULL   TXW_PEER_BIT (TXW_PEER_SCORER)
#define TXW_ADMIT_AGGREGATOR_PUB    (TXW_PEER_BIT (TXW_PEER_GATEWAY) | TXW_PEER_BIT (TXW_PEER_NOTIFIER) \
                                     | TXW_PEER_BIT (TXW_PEER_PRODUCER))

//  "producer" ... "notifier"; "" for TXW_PEER_NONE or out of range.
const char *txw_peer_name (int peer);
//  The role named by the len bytes of name exactly; TXW_PEER_NONE if none.
int txw_peer_parse (const char *name, size_t len);
//  The role a certificate file in the allowed directory admits its key as:
//  <role>.key or <role>-<anything>.key; TXW_PEER_NONE for any other name
//  (hidden entries, secrets, cluster.key).
int txw_peer_of_file (const char *file_name);
//  True if a peer of this role sends messages of type (codec.h): raw_tx and
//  reject from producers; tx, reject and ack from validators; scored_tx and
//  alert from scorers; alert, window and ack from aggregators; heartbeats
//  from any of these four; nothing from the gateway and the notifier.
bool txw_peer_sends (int peer, uint32_t type);
//  The ZAP domain of a bound socket that admits roles: "txw:" and the
//  roles' names, comma-separated ("txw:gateway,producer"). Returns the
//  length, or -1 if it does not fit.
int txw_zap_domain (uint32_t roles, char *out, size_t size);
//  The roles a ZAP domain admits; 0 for anything not made by txw_zap_domain.
uint32_t txw_zap_domain_roles (const char *domain, size_t len);

#endif
