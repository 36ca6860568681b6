/*  cache - a bounded, thread-safe TTL cache of response bodies

    The dashboard and txwctl poll the same few URLs; a response is kept for
    ttl_ms under its full request URI (path and query string), so a burst of
    identical requests costs one database round trip per TTL. Entries live in
    a hash table and, in insertion order, in a list: with one TTL for all,
    the oldest entry is the first to expire, so dead entries are swept from
    the head on every insert, and when the cache is full the head is
    replaced. Time is passed in (ms, monotonic) so the tests control it.

    Stale while revalidate: when an entry has expired, the first request
    for it misses and so refreshes it, while requests that come in
    meanwhile (up to one more TTL) get the expired body instead of all
    running the same query at once. So a sequence of requests sees a change
    after the TTL, and under load no request waits for the database but the
    refreshing one. A refresher that fails calls qcache_abandon.            */

#ifndef TXW_QUERY_CACHE_H
#define TXW_QUERY_CACHE_H

#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _qcache_t qcache_t;

//  ttl_ms 0 disables the cache (every get misses, puts are dropped).
//  Returns NULL if out of memory.
qcache_t *qcache_new (int64_t ttl_ms, size_t max_entries);
void qcache_destroy (qcache_t **self_p);

//  Counts hits and misses into these counters (each may be NULL) and the
//  number of entries into the gauge.
void qcache_set_metrics (qcache_t *self, txw_counter_t *hits, txw_counter_t *misses,
                         txw_gauge_t *entries);

//  Returns a copy of the body stored under key if it has not expired at
//  now_ms (the caller frees it; *size gets its length; *stale is false).
//  Past its TTL, the first caller gets NULL and is the entry's refresher
//  (it must qcache_put or qcache_abandon); until the refresher is done, or
//  one more TTL has passed, other callers get the expired body with
//  *stale set. NULL when there is nothing to serve.
char *qcache_get (qcache_t *self, const char *key, int64_t now_ms, size_t *size,
                  bool *stale);

//  Gives up refreshing key (the fresh response was an error), so that the
//  next caller refreshes it.
void qcache_abandon (qcache_t *self, const char *key);

//  Stores a copy of body under key until now_ms + ttl, replacing an older
//  entry for the same key. Drops the entry silently if out of memory.
void qcache_put (qcache_t *self, const char *key, const char *body, size_t size,
                 int64_t now_ms);

//  Forgets every entry (after a write such as an ack).
void qcache_clear (qcache_t *self);

//  Entries held, expired or not.
size_t qcache_size (qcache_t *self);

#endif
