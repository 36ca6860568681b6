/*  ratelimit - token buckets per key, and connections per key               */

#include "ratelimit.h"
#include "txset.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define S_CAPACITY_MAX  ((size_t) 1 << 24)

//  --- The table both classes keep: fixed entries, chained by a keyed hash --------

typedef struct {
    char key [TXW_RATELIMIT_KEY_MAX + 1];
    uint64_t hash;
    int64_t value;              //  a bucket's arrival time (µs), or connections
    uint32_t heap_at;           //  buckets: the entry's place in the heap
    int32_t next;               //  the next entry of its chain, or of the free list; -1
} s_entry_t;

typedef struct {
    s_entry_t *entries;         //  capacity of them
    int32_t *chains;            //  the first entry of each chain, or -1
    size_t mask;                //  chains - 1 (a power of two, >= 2 * capacity)
    int32_t free;               //  the first unused entry, or -1
    size_t count;
    size_t capacity;
    uint64_t k0, k1;            //  the hash key
} s_table_t;

static int
s_table_init (s_table_t *table, size_t capacity)
{
    if (capacity < 1 || capacity > S_CAPACITY_MAX)
        return -1;
    size_t chains = 16;
    while (chains < capacity * 2)
        chains *= 2;
    table->entries = calloc (capacity, sizeof *table->entries);
    table->chains = malloc (chains * sizeof *table->chains);
    if (!table->entries || !table->chains)
        return -1;
    for (size_t i = 0; i < chains; i++)
        table->chains [i] = -1;
    for (size_t i = 0; i < capacity; i++)
        table->entries [i].next = i + 1 < capacity? (int32_t) (i + 1): -1;
    table->free = 0;
    table->mask = chains - 1;
    table->capacity = capacity;
    //  Without the kernel's randomness, the clock is still not a chosen key.
    uint64_t k [2];
    if (getrandom (k, sizeof k, 0) != (ssize_t) sizeof k) {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        k [0] = (uint64_t) ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t) ts.tv_sec;
        k [1] = (uint64_t) (uintptr_t) table * 0xC2B2AE3D27D4EB4FULL ^ k [0];
    }
    table->k0 = k [0];
    table->k1 = k [1];
    return 0;
}

static void
s_table_fini (s_table_t *table)
{
    free (table->entries);
    free (table->chains);
}

//  The key as the table holds it (its first TXW_RATELIMIT_KEY_MAX bytes)
//  into name; returns its length.
static size_t
s_name (const char *key, char *name)
{
    size_t len = key? strnlen (key, TXW_RATELIMIT_KEY_MAX): 0;
    if (len)
        memcpy (name, key, len);
    name [len] = 0;
    return len;
}

static uint64_t
s_hash (const s_table_t *table, const char *name, size_t len)
{
    return txw_txset_hash (table->k0, table->k1, name, len);
}

//  The entry of name, or -1.
static int32_t
s_find (const s_table_t *table, const char *name, uint64_t hash)
{
    int32_t at = table->chains [hash & table->mask];
    while (at >= 0 && (table->entries [at].hash != hash || strcmp (table->entries [at].key, name)))
        at = table->entries [at].next;
    return at;
}

//  A new entry for name (not held), or -1 if the table is full.
static int32_t
s_add (s_table_t *table, const char *name, uint64_t hash)
{
    int32_t at = table->free;
    if (at < 0)
        return -1;
    s_entry_t *entry = &table->entries [at];
    table->free = entry->next;
    strcpy (entry->key, name);
    entry->hash = hash;
    entry->value = 0;
    entry->next = table->chains [hash & table->mask];
    table->chains [hash & table->mask] = at;
    table->count++;
    return at;
}

static void
s_remove (s_table_t *table, int32_t at)
{
    s_entry_t *entry = &table->entries [at];
    int32_t *link = &table->chains [entry->hash & table->mask];
    while (*link != at)
        link = &table->entries [*link].next;
    *link = entry->next;
    entry->next = table->free;
    table->free = at;
    table->count--;
}

//  --- Token buckets ---------------------------------------------------------------

struct _txw_ratelimit_t {
    pthread_mutex_t lock;
    s_table_t table;
    uint32_t *heap;             //  entries by arrival time, the earliest first
    int64_t interval_us;        //  between two tokens: 1 / rate
    int64_t tolerance_us;       //  how far ahead of now an arrival time may be
    int64_t overflow_tat;       //  the arrival time of the overflow bucket
    txw_counter_t *limited, *overflows;
    txw_gauge_t *entries;
};

txw_ratelimit_t *
txw_ratelimit_new (double rate, int burst, size_t capacity)
{
    if (!(rate >= 0.001 && rate <= 1e6) || burst < 1 || burst > 1000000
    ||  capacity < 1 || capacity > S_CAPACITY_MAX)
        return NULL;
    txw_ratelimit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->interval_us = llround (1e6 / rate);
    if (self->interval_us < 1)
        self->interval_us = 1;
    self->tolerance_us = self->interval_us * (burst - 1);
    self->overflow_tat = INT64_MIN;
    self->heap = malloc (capacity * sizeof *self->heap);
    if (!self->heap || s_table_init (&self->table, capacity)) {
        s_table_fini (&self->table);
        free (self->heap);
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
txw_ratelimit_destroy (txw_ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_ratelimit_t *self = *self_p;
    pthread_mutex_destroy (&self->lock);
    s_table_fini (&self->table);
    free (self->heap);
    free (self);
    *self_p = NULL;
}

void
txw_ratelimit_set_metrics (txw_ratelimit_t *self, txw_counter_t *limited,
                           txw_counter_t *overflows, txw_gauge_t *entries)
{
    self->limited = limited;
    self->overflows = overflows;
    self->entries = entries;
}

//  The heap holds every entry in use, ordered by arrival time, so that its
//  root is the bucket that refills first.
static int64_t
s_tat (const txw_ratelimit_t *self, size_t pos)
{
    return self->table.entries [self->heap [pos]].value;
}

static void
s_heap_set (txw_ratelimit_t *self, size_t pos, uint32_t at)
{
    self->heap [pos] = at;
    self->table.entries [at].heap_at = (uint32_t) pos;
}

static void
s_heap_up (txw_ratelimit_t *self, size_t pos)
{
    uint32_t at = self->heap [pos];
    int64_t tat = self->table.entries [at].value;
    while (pos > 0 && s_tat (self, (pos - 1) / 2) > tat) {
        s_heap_set (self, pos, self->heap [(pos - 1) / 2]);
        pos = (pos - 1) / 2;
    }
    s_heap_set (self, pos, at);
}

static void
s_heap_down (txw_ratelimit_t *self, size_t pos)
{
    size_t count = self->table.count;
    uint32_t at = self->heap [pos];
    int64_t tat = self->table.entries [at].value;
    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= count)
            break;
        if (child + 1 < count && s_tat (self, child + 1) < s_tat (self, child))
            child++;
        if (s_tat (self, child) >= tat)
            break;
        s_heap_set (self, pos, self->heap [child]);
        pos = child;
    }
    s_heap_set (self, pos, at);
}

//  Drops the buckets that have refilled by now (µs): they hold nothing.
static void
s_sweep (txw_ratelimit_t *self, int64_t now)
{
    while (self->table.count && s_tat (self, 0) <= now) {
        s_remove (&self->table, (int32_t) self->heap [0]);
        //  count is one less now: the last heap slot moves to the root.
        if (self->table.count) {
            s_heap_set (self, 0, self->heap [self->table.count]);
            s_heap_down (self, 0);
        }
    }
}

int
txw_ratelimit_take (txw_ratelimit_t *self, const char *key, int64_t now_ms)
{
    char name [TXW_RATELIMIT_KEY_MAX + 1];
    size_t len = s_name (key, name);
    uint64_t hash = s_hash (&self->table, name, len);
    int64_t now = now_ms * 1000;
    int wait_s = 0;
    bool overflowed = false;

    pthread_mutex_lock (&self->lock);
    int32_t at = s_find (&self->table, name, hash);
    if (at < 0) {
        s_sweep (self, now);
        at = s_add (&self->table, name, hash);
        if (at >= 0) {
            //  A new bucket is full, unless the overflow bucket, which this
            //  key may have drawn on until now, is lower: what went through
            //  there is not given again.
            self->table.entries [at].value = self->overflow_tat > now? self->overflow_tat: now;
            s_heap_set (self, self->table.count - 1, (uint32_t) at);
            s_heap_up (self, self->table.count - 1);
        }
        else
            overflowed = true;
    }
    int64_t *tat = overflowed? &self->overflow_tat: &self->table.entries [at].value;
    int64_t start = *tat > now? *tat: now;
    if (start - now > self->tolerance_us) {
        int64_t wait_us = start - now - self->tolerance_us;
        wait_s = (int) ((wait_us + 999999) / 1000000);
    }
    else {
        *tat = start + self->interval_us;
        if (!overflowed)
            s_heap_down (self, self->table.entries [at].heap_at);
    }
    if (self->entries)
        txw_gauge_set (self->entries, (int64_t) self->table.count);
    pthread_mutex_unlock (&self->lock);
    if (wait_s && self->limited)
        txw_counter_add (self->limited, 1);
    if (overflowed && self->overflows)
        txw_counter_add (self->overflows, 1);
    return wait_s;
}

size_t
txw_ratelimit_size (txw_ratelimit_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t count = self->table.count;
    pthread_mutex_unlock (&self->lock);
    return count;
}

void
txw_ratelimit_client_key (const char *addr, char *key, size_t size)
{
    if (!size)
        return;
    char text [INET6_ADDRSTRLEN + 8];
    size_t len = addr? strnlen (addr, sizeof text - 1): 0;
    if (len)
        memcpy (text, addr, len);
    text [len] = 0;
    //  [2001:db8::1] as well as 2001:db8::1
    char *p = text;
    if (*p == '[' && len >= 2 && p [len - 1] == ']') {
        p [len - 1] = 0;
        p++;
    }
    struct in6_addr a6;
    char out [INET6_ADDRSTRLEN + 8];
    if (inet_pton (AF_INET6, p, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED (&a6))
            inet_ntop (AF_INET, &a6.s6_addr [12], out, sizeof out);
        else {
            memset (&a6.s6_addr [8], 0, 8);
            inet_ntop (AF_INET6, &a6, out, sizeof out);
            strcat (out, "/64");
        }
        p = out;
    }
    snprintf (key, size, "%s", p);
}
