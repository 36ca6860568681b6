/*  transport_internal - what the transport modules share among themselves

    Private to common/transport.c, curve.c, resolver.c, links.c, out.c,
    router.c and in.c: services and tests include transport.h, never this.
    One section per module that provides it; each function is defined once,
    in the file its section names.                                           */

#ifndef TXW_TRANSPORT_INTERNAL_H
#define TXW_TRANSPORT_INTERNAL_H

#include "transport.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  --- CURVE (curve.c) ---------------------------------------------------------
//  The certificates, the servers' public key and the ZAP handler with the
//  allowed keys by role, set by txw_transport_configure; without them every
//  call here is a no-op.

//  The connection property (zmq_msg_gets) that holds the Z85 public key of
//  the client that sent a message; User-Id holds its role.
#define TXW_CURVE_KEY_PROPERTY  "X-Txw-Key"
#define TXW_CURVE_KEY_LEN       40

//  Why a bound input refused a message (txw_curve_messages_refused_total).
typedef enum {
    TXW_REFUSED_TYPE = 0,       //  the sender's role does not send this message type
    TXW_REFUSED_SOURCE,         //  the source id is bound to another key
    TXW_REFUSED_REVOKED,        //  the key left the allowed directory (or changed role)
    TXW_REFUSED_IDENTITY,       //  no role or key on the message (not a ZAP-checked peer)
    TXW_REFUSED_SOURCES_FULL,   //  a new source id, and every binding is in recent use
    TXW_REFUSED_COUNT
} txw_refused_t;

//  Loads the certificates of cfg and starts the ZAP handler on the allowed
//  directory. Returns -1 (logged) on a certificate or directory that cannot
//  be used, or a CURVE option without a certificate to turn CURVE on; 0
//  with CURVE off.
int txw_curve_configure (const txw_transport_config_t *cfg);
//  Stops the ZAP handler and frees the certificates. Safe to call twice.
void txw_curve_shutdown (void);
//  A bound socket becomes a CURVE server that admits the client roles in
//  roles (TXW_PEER_BIT each); call before bind. Returns -1 (logged) if
//  CURVE is on and there is no server certificate.
int txw_curve_server (zsock_t *sock, uint32_t roles);
//  A connecting socket becomes a CURVE client; call before connect.
//  Returns -1 if there is no server key to connect with.
int txw_curve_client (zsock_t *sock);
//  True when the ZAP handler checks roles: every message a bound socket
//  receives then carries its sender's role and key.
bool txw_curve_checks_roles (void);
//  The role the allowed directory gives a Z85 public key now (thread-safe);
//  TXW_PEER_NONE if the key is not there.
int txw_curve_key_role (const char *key);
//  Counts one message a bound input refused.
void txw_curve_refused (txw_refused_t reason);
//  The text of a reason, as in the metric's label.
const char *txw_refused_name (txw_refused_t reason);

//  --- Resolver: the name table and its thread (resolver.c) --------------------
//  Names are registered by the sockets that use them and resolved again by
//  one thread every interval; a change bumps the generation, which owners
//  compare with theirs (one atomic load) before they look at the table.

//  Sets the interval and registers the resolver metrics; the thread starts
//  with the first name registered.
void txw_resolver_configure (int64_t interval_ms);
//  Stops and joins the thread and forgets the metrics. Names registered
//  afterwards are resolved once and not followed.
void txw_resolver_shutdown (void);
//  The re-resolve interval; 0: names are not followed.
int64_t txw_resolver_interval_ms (void);
//  The generation of the table, bumped whenever a name's addresses change.
uint64_t txw_resolver_generation (void);
//  Counts one address connected or disconnected after a resolution.
void txw_resolver_count_change (void);

//  Registers a name for re-resolution, resolving it now if it is new.
//  Returns its slot, or -1 if the table is full.
int txw_resolver_name_register (const char *host);
//  Drops one reference to a slot (-1: none).
void txw_resolver_name_release (int slot);
//  Copies the addresses known for a name; returns the count (0: none yet).
int txw_resolver_name_addrs (int slot, char (*addrs) [TXW_ADDR_MAX]);

//  --- Links: the endpoints of a socket (links.c) ------------------------------
//  A connecting socket's links are the list items it was given; an item
//  tcp://name:port follows the addresses of its name, others are connected
//  as given.

typedef struct _txw_links_t txw_links_t;

//  Binds sock to every item of endpoints, as a CURVE server that admits
//  roles if CURVE is on. Returns -1 (logged) on a bad or empty list.
int txw_links_bind (zsock_t *sock, const char *endpoints, uint32_t roles);
//  Connects sock to every item of endpoints (a CURVE client if CURVE is
//  on); host names are followed unless the interval is 0. one_address: a
//  keyed shard, each item is one process and its name never expands.
//  Returns NULL (logged) on failure. sock is borrowed: destroy the links
//  before the socket.
txw_links_t *txw_links_connect (zsock_t *sock, const char *endpoints, bool one_address);
//  Applies what the resolver found since the last look; cheap when nothing
//  changed. NULL (a socket that binds): nothing.
void txw_links_follow (txw_links_t *self);
void txw_links_destroy (txw_links_t **self_p);

//  --- Output (out.c) -----------------------------------------------------------

//  A PUSH connected to one shard endpoint, for the router: the name never
//  expands, the PUSH keeps one address.
txw_out_t *txw_out_new_shard (const char *endpoint, const char *source_id,
                              int hwm, int linger_ms);

#endif
