/*  resolver - endpoints that follow DNS

    In the list of a connecting socket (PUSH, SUB) an item tcp://name:port
    whose name has several addresses (a Kubernetes headless Service, a
    scaled compose service) connects to every address, and a resolver
    thread re-resolves the names every resolve interval
    (txw_transport_configure; 5 s by default, 0: names go to libzmq as
    given); the socket's owner applies the changes (zmq_connect the new
    addresses, zmq_disconnect the vanished ones) the next time it sends,
    flushes or receives, so the hot loop never waits on DNS. A failed
    resolution keeps the addresses it had. A keyed shard endpoint never
    expands (router.h).

    This header holds the pieces callers and tests see: the resolve
    function, its replacement for tests, and the pure set arithmetic the
    sockets apply. The name table, the thread and the per-socket links are
    private (transport_internal.h). Callers include transport.h.           */

#ifndef TXW_RESOLVER_H
#define TXW_RESOLVER_H

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

#endif
