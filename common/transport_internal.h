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
//  This process's certificate, the servers' public key and zauth, set by
//  txw_transport_configure; without them every call here is a no-op.

//  Loads the certificates of cfg and starts zauth on the allowed directory.
//  Returns -1 (logged) on a certificate or directory that cannot be used,
//  or a CURVE option without --curve-secret-key; 0 with CURVE off.
int txw_curve_configure (const txw_transport_config_t *cfg);
//  Stops zauth and frees the certificates. Safe to call twice.
void txw_curve_shutdown (void);
//  A bound socket becomes a CURVE server; call before bind.
void txw_curve_server (zsock_t *sock);
//  A connecting socket becomes a CURVE client; call before connect.
//  Returns -1 if there is no server key to connect with.
int txw_curve_client (zsock_t *sock);

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

//  Binds sock to every item of endpoints, as a CURVE server if CURVE is on.
//  Returns -1 (logged) on a bad or empty list.
int txw_links_bind (zsock_t *sock, const char *endpoints);
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
