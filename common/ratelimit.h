/*  ratelimit - token buckets per key, and connections per key

    A txw_ratelimit_t gives every key (an API key id, a client address)
    a bucket of burst tokens that refills at rate tokens a second; each
    request takes one, and a request that finds none is refused with the
    seconds until the next token, for Retry-After. It is kept as GCRA (one
    "theoretical arrival time" per key, in µs): no floating point on the
    way, and a bucket that is full again holds nothing worth keeping.

    Memory is bounded: at most capacity buckets, allocated up front. Only
    buckets that have refilled completely are ever dropped (at most
    burst / rate seconds after their key's last request), so forgetting a
    key never gives it tokens it would not have had anyway, and no one can
    refill his own bucket by pushing it out with other keys. When every
    bucket held still owes tokens, a new key gets no bucket of its own: all
    such keys share one overflow bucket with the same rate and burst, and a
    key that gets a bucket later starts no fuller than that one. So a flood
    of new keys (addresses) is limited as one client, never let through
    unlimited, and what each key is let through always fits its own rate
    and burst; the price is that, while the table is full, new clients
    share that one bucket. Size capacity above the keys active within
    burst / rate seconds (the overflow counter says when it is not).

    Keys are compared on their first TXW_RATELIMIT_KEY_MAX bytes (longer
    keys that share them share a bucket: stricter, never looser) and
    hashed with a random key per table (SipHash), so chosen keys cannot
    pile into one hash chain. A client address should be reduced with
    txw_ratelimit_client_key first: an IPv6 client usually holds a whole
    /64. Behind a proxy the address is the proxy's.

    Thread safe (one mutex): civetweb's workers call it.
    Time is passed in (monotonic ms, txw_mono_ms) so the tests control it. */

#ifndef TXW_RATELIMIT_H
#define TXW_RATELIMIT_H

#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXW_RATELIMIT_KEY_MAX   63

//  --- Token buckets ---------------------------------------------------------------

typedef struct _txw_ratelimit_t txw_ratelimit_t;

//  Buckets of burst (1 .. 1000000) tokens refilled at rate (0.001 ..
//  1000000) tokens a second, for at most capacity (1 .. 2^24) keys.
//  Returns NULL if an argument is out of range or out of memory.
txw_ratelimit_t *txw_ratelimit_new (double rate, int burst, size_t capacity);
void txw_ratelimit_destroy (txw_ratelimit_t **self_p);

//  Counts refusals and requests charged to the overflow bucket into these
//  counters, and the buckets held into the gauge (each may be NULL).
void txw_ratelimit_set_metrics (txw_ratelimit_t *self, txw_counter_t *limited,
                                txw_counter_t *overflows, txw_gauge_t *entries);

//  Takes a token from key's bucket at monotonic time now_ms. Returns 0 if
//  the request may go on, or else the whole seconds (at least 1, rounded
//  up) until a token is back: the value of Retry-After. A refused request
//  takes nothing.
int txw_ratelimit_take (txw_ratelimit_t *self, const char *key, int64_t now_ms);

//  Buckets held (some may have refilled since and not been dropped yet).
size_t txw_ratelimit_size (txw_ratelimit_t *self);

//  The rate-limit key of a client address (civetweb's remote_addr): an
//  IPv4 address as it is (also when written IPv4-mapped, ::ffff:a.b.c.d),
//  an IPv6 address as its /64 ("2001:db8:1:2::/64"), anything else as it
//  is. Writes at most size bytes (TXW_RATELIMIT_KEY_MAX + 1 is enough).
void txw_ratelimit_client_key (const char *addr, char *key, size_t size);

#endif
