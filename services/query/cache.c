/*  cache - a bounded, thread-safe TTL cache of response bodies              */

#include "cache.h"
#include "codec.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct _s_entry_t s_entry_t;
struct _s_entry_t {
    s_entry_t *next_in_bucket;
    s_entry_t *older, *newer;   //  insertion order
    uint64_t hash;
    int64_t expires_ms;
    bool refreshing;            //  a caller is computing the next body
    char *key;
    char *body;
    size_t size;
};

struct _qcache_t {
    pthread_mutex_t lock;
    int64_t ttl_ms;
    size_t max_entries;
    size_t count;
    size_t buckets;             //  a power of two
    s_entry_t **table;
    s_entry_t *oldest, *newest;
    txw_counter_t *hits, *misses;
    txw_gauge_t *entries;
};

qcache_t *
qcache_new (int64_t ttl_ms, size_t max_entries)
{
    qcache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ttl_ms = ttl_ms;
    self->max_entries = max_entries? max_entries: 1;
    self->buckets = 16;
    while (self->buckets < self->max_entries * 2)
        self->buckets *= 2;
    self->table = calloc (self->buckets, sizeof *self->table);
    if (!self->table) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
qcache_set_metrics (qcache_t *self, txw_counter_t *hits, txw_counter_t *misses,
                    txw_gauge_t *entries)
{
    self->hits = hits;
    self->misses = misses;
    self->entries = entries;
}

static void
s_entry_free (s_entry_t *entry)
{
    free (entry->key);
    free (entry->body);
    free (entry);
}

static s_entry_t *
s_find (qcache_t *self, const char *key, uint64_t hash)
{
    s_entry_t *e = self->table [hash & (self->buckets - 1)];
    while (e && (e->hash != hash || strcmp (e->key, key)))
        e = e->next_in_bucket;
    return e;
}

//  Unlinks entry from its bucket and the age list, and frees it.
static void
s_remove (qcache_t *self, s_entry_t *entry)
{
    s_entry_t **link = &self->table [entry->hash & (self->buckets - 1)];
    while (*link != entry)
        link = &(*link)->next_in_bucket;
    *link = entry->next_in_bucket;
    if (entry->older)
        entry->older->newer = entry->newer;
    else
        self->oldest = entry->newer;
    if (entry->newer)
        entry->newer->older = entry->older;
    else
        self->newest = entry->older;
    self->count--;
    s_entry_free (entry);
}

static void
s_count (txw_counter_t *counter)
{
    if (counter)
        txw_counter_add (counter, 1);
}

//  An expired entry may still be served until expires + ttl.
static bool
s_dead (qcache_t *self, const s_entry_t *entry, int64_t now_ms)
{
    return entry->expires_ms + self->ttl_ms <= now_ms;
}

char *
qcache_get (qcache_t *self, const char *key, int64_t now_ms, size_t *size, bool *stale)
{
    *stale = false;
    if (self->ttl_ms <= 0)
        return NULL;
    uint64_t hash = txw_hash (key, strlen (key));
    char *copy = NULL;
    pthread_mutex_lock (&self->lock);
    s_entry_t *entry = s_find (self, key, hash);
    if (entry && s_dead (self, entry, now_ms)) {
        s_remove (self, entry);
        entry = NULL;
    }
    if (entry && entry->expires_ms <= now_ms) {
        if (!entry->refreshing) {
            entry->refreshing = true;       //  this caller refreshes it
            entry = NULL;
        }
        else
            *stale = true;
    }
    if (entry && (copy = malloc (entry->size + 1))) {
        memcpy (copy, entry->body, entry->size + 1);
        *size = entry->size;
    }
    pthread_mutex_unlock (&self->lock);
    s_count (copy? self->hits: self->misses);
    return copy;
}

void
qcache_abandon (qcache_t *self, const char *key)
{
    if (self->ttl_ms <= 0)
        return;
    pthread_mutex_lock (&self->lock);
    s_entry_t *entry = s_find (self, key, txw_hash (key, strlen (key)));
    if (entry)
        entry->refreshing = false;
    pthread_mutex_unlock (&self->lock);
}

void
qcache_put (qcache_t *self, const char *key, const char *body, size_t size,
            int64_t now_ms)
{
    if (self->ttl_ms <= 0)
        return;
    s_entry_t *entry = calloc (1, sizeof *entry);
    if (!entry)
        return;
    entry->key = strdup (key);
    entry->body = malloc (size + 1);
    if (!entry->key || !entry->body) {
        s_entry_free (entry);
        return;
    }
    memcpy (entry->body, body, size);
    entry->body [size] = 0;
    entry->size = size;
    entry->hash = txw_hash (key, strlen (key));
    entry->expires_ms = now_ms + self->ttl_ms;

    pthread_mutex_lock (&self->lock);
    s_entry_t *old = s_find (self, key, entry->hash);
    if (old)
        s_remove (self, old);
    while (self->oldest && (s_dead (self, self->oldest, now_ms)
                            || self->count >= self->max_entries))
        s_remove (self, self->oldest);
    size_t at = entry->hash & (self->buckets - 1);
    entry->next_in_bucket = self->table [at];
    self->table [at] = entry;
    entry->older = self->newest;
    if (self->newest)
        self->newest->newer = entry;
    else
        self->oldest = entry;
    self->newest = entry;
    self->count++;
    if (self->entries)
        txw_gauge_set (self->entries, (int64_t) self->count);
    pthread_mutex_unlock (&self->lock);
}

void
qcache_clear (qcache_t *self)
{
    pthread_mutex_lock (&self->lock);
    while (self->oldest)
        s_remove (self, self->oldest);
    if (self->entries)
        txw_gauge_set (self->entries, 0);
    pthread_mutex_unlock (&self->lock);
}

size_t
qcache_size (qcache_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t count = self->count;
    pthread_mutex_unlock (&self->lock);
    return count;
}

void
qcache_destroy (qcache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qcache_t *self = *self_p;
    qcache_clear (self);
    pthread_mutex_destroy (&self->lock);
    free (self->table);
    free (self);
    *self_p = NULL;
}
