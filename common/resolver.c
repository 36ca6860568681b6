/*  resolver - endpoints that follow DNS

    See resolver.h (the public part) and transport_internal.h (the name
    table the links use). Names are registered by the sockets that use them
    and resolved again by one thread every interval; a change bumps the
    generation, which owners compare with theirs (one atomic load) before
    they look at the table. The first answer for a new name is waited for,
    so a socket starts with its peers; getaddrinfo never runs with the lock
    held.                                                                    */

#include "transport_internal.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#define S_NAMES_MAX 128

typedef struct {
    char host [256];
    int refs;
    bool ok;                    //  the last resolution succeeded
    int count;
    char addrs [TXW_ADDRS_MAX][TXW_ADDR_MAX];
} s_name_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running;
    bool stopping;
    int64_t interval_ms;
    txw_resolve_fn *resolve;
    s_name_t names [S_NAMES_MAX];
    atomic_uint_fast64_t generation;
    txw_counter_t *resolutions;
    txw_counter_t *failures;
    txw_counter_t *changes;
} s_dns = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .interval_ms = 5000,
};

static int
s_addr_compare (const void *a, const void *b)
{
    return strcmp (a, b);
}

int
txw_resolve (const char *host, char (*addrs) [TXW_ADDR_MAX], int max)
{
    struct addrinfo hints;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *result = NULL;
    if (getaddrinfo (host, NULL, &hints, &result) != 0)
        return -1;
    int count = 0;
    for (struct addrinfo *ai = result; ai && count < max; ai = ai->ai_next) {
        struct sockaddr_in *sin = (struct sockaddr_in *) ai->ai_addr;
        if (!inet_ntop (AF_INET, &sin->sin_addr, addrs [count], TXW_ADDR_MAX))
            continue;
        bool seen = false;
        for (int i = 0; i < count && !seen; i++)
            seen = streq (addrs [i], addrs [count]);
        if (!seen)
            count++;
    }
    freeaddrinfo (result);
    qsort (addrs, (size_t) count, TXW_ADDR_MAX, s_addr_compare);
    return count;
}

void
txw_transport_set_resolver (txw_resolve_fn *fn)
{
    pthread_mutex_lock (&s_dns.lock);
    s_dns.resolve = fn;
    pthread_mutex_unlock (&s_dns.lock);
}

static int
s_resolve (const char *host, char (*addrs) [TXW_ADDR_MAX])
{
    pthread_mutex_lock (&s_dns.lock);
    txw_resolve_fn *fn = s_dns.resolve? s_dns.resolve: txw_resolve;
    pthread_mutex_unlock (&s_dns.lock);
    int count = fn (host, addrs, TXW_ADDRS_MAX);
    if (s_dns.resolutions)
        txw_counter_add (s_dns.resolutions, 1);
    if (count <= 0 && s_dns.failures)
        txw_counter_add (s_dns.failures, 1);
    return count;
}

//  Stores a fresh answer for a name; a failure keeps the old addresses.
//  Returns true if the set changed. Holds the lock.
static bool
s_name_update (s_name_t *name, char (*addrs) [TXW_ADDR_MAX], int count)
{
    if (count <= 0) {
        if (name->ok)
            log_warn ("cannot resolve '%s': keeping its %d known address(es)",
                      name->host, name->count);
        name->ok = false;
        return false;
    }
    if (!name->ok)
        log_info ("'%s' resolves again", name->host);
    name->ok = true;
    if (count == name->count
    &&  memcmp (addrs, name->addrs, (size_t) count * TXW_ADDR_MAX) == 0)
        return false;
    memcpy (name->addrs, addrs, (size_t) count * TXW_ADDR_MAX);
    name->count = count;
    return true;
}

static void *
s_resolver_thread (void *arg)
{
    (void) arg;
    pthread_mutex_lock (&s_dns.lock);
    while (!s_dns.stopping) {
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (s_dns.interval_ms % 1000) * 1000000;
        until.tv_sec += s_dns.interval_ms / 1000 + ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        while (!s_dns.stopping
        &&     pthread_cond_timedwait (&s_dns.wake, &s_dns.lock, &until) != ETIMEDOUT)
            ;
        for (int i = 0; i < S_NAMES_MAX && !s_dns.stopping; i++) {
            if (s_dns.names [i].refs == 0)
                continue;
            char host [256];
            snprintf (host, sizeof host, "%s", s_dns.names [i].host);
            char addrs [TXW_ADDRS_MAX][TXW_ADDR_MAX];
            memset (addrs, 0, sizeof addrs);
            //  getaddrinfo may wait on a DNS server: never with the lock.
            pthread_mutex_unlock (&s_dns.lock);
            int count = s_resolve (host, addrs);
            pthread_mutex_lock (&s_dns.lock);
            if (s_dns.names [i].refs && streq (s_dns.names [i].host, host)
            &&  s_name_update (&s_dns.names [i], addrs, count))
                atomic_fetch_add (&s_dns.generation, 1);
        }
    }
    pthread_mutex_unlock (&s_dns.lock);
    return NULL;
}

void
txw_resolver_configure (int64_t interval_ms)
{
    s_dns.stopping = false;
    s_dns.interval_ms = interval_ms;
    s_dns.resolutions = txw_counter_new ("txw_resolutions_total", NULL,
                                         "host name resolutions of connect endpoints");
    s_dns.failures = txw_counter_new ("txw_resolution_failures_total", NULL,
                                      "host name resolutions that failed (old addresses kept)");
    s_dns.changes = txw_counter_new ("txw_endpoint_changes_total", NULL,
                                     "addresses connected or disconnected after a resolution");
}

void
txw_resolver_shutdown (void)
{
    pthread_mutex_lock (&s_dns.lock);
    bool running = s_dns.running;
    s_dns.stopping = true;
    pthread_cond_broadcast (&s_dns.wake);
    pthread_mutex_unlock (&s_dns.lock);
    if (running)
        pthread_join (s_dns.thread, NULL);
    pthread_mutex_lock (&s_dns.lock);
    s_dns.running = false;
    //  Sockets made after this still work; their names are resolved once.
    s_dns.resolutions = s_dns.failures = s_dns.changes = NULL;
    pthread_mutex_unlock (&s_dns.lock);
}

int64_t
txw_resolver_interval_ms (void)
{
    return s_dns.interval_ms;
}

uint64_t
txw_resolver_generation (void)
{
    return atomic_load_explicit (&s_dns.generation, memory_order_acquire);
}

void
txw_resolver_count_change (void)
{
    if (s_dns.changes)
        txw_counter_add (s_dns.changes, 1);
}

int
txw_resolver_name_register (const char *host)
{
    pthread_mutex_lock (&s_dns.lock);
    int slot = -1, free_slot = -1;
    for (int i = 0; i < S_NAMES_MAX && slot < 0; i++) {
        if (s_dns.names [i].refs && streq (s_dns.names [i].host, host))
            slot = i;
        else
        if (s_dns.names [i].refs == 0 && free_slot < 0)
            free_slot = i;
    }
    if (slot >= 0) {
        s_dns.names [slot].refs++;
        pthread_mutex_unlock (&s_dns.lock);
        return slot;
    }
    pthread_mutex_unlock (&s_dns.lock);
    if (free_slot < 0) {
        log_error ("more than %d host names to follow", S_NAMES_MAX);
        return -1;
    }
    //  The first answer is waited for: a socket starts with its peers.
    char addrs [TXW_ADDRS_MAX][TXW_ADDR_MAX];
    memset (addrs, 0, sizeof addrs);
    int count = s_resolve (host, addrs);
    pthread_mutex_lock (&s_dns.lock);
    s_name_t *name = &s_dns.names [free_slot];
    memset (name, 0, sizeof *name);
    snprintf (name->host, sizeof name->host, "%s", host);
    name->refs = 1;
    name->ok = true;
    s_name_update (name, addrs, count);
    if (count <= 0)
        log_warn ("cannot resolve '%s' yet: trying again every %lld ms", host,
                  (long long) s_dns.interval_ms);
    if (!s_dns.running && !s_dns.stopping) {
        if (pthread_create (&s_dns.thread, NULL, s_resolver_thread, NULL) == 0)
            s_dns.running = true;
        else
            log_error ("cannot start the resolver thread: names are not followed");
    }
    pthread_mutex_unlock (&s_dns.lock);
    return free_slot;
}

void
txw_resolver_name_release (int slot)
{
    pthread_mutex_lock (&s_dns.lock);
    if (slot >= 0 && s_dns.names [slot].refs > 0)
        s_dns.names [slot].refs--;
    pthread_mutex_unlock (&s_dns.lock);
}

int
txw_resolver_name_addrs (int slot, char (*addrs) [TXW_ADDR_MAX])
{
    pthread_mutex_lock (&s_dns.lock);
    int count = s_dns.names [slot].count;
    memcpy (addrs, s_dns.names [slot].addrs, (size_t) count * TXW_ADDR_MAX);
    pthread_mutex_unlock (&s_dns.lock);
    return count;
}

void
txw_addr_diff (const char *const *current, int current_count,
               const char *const *next, int next_count,
               int *add, int *add_count, int *drop, int *drop_count)
{
    *add_count = *drop_count = 0;
    for (int i = 0; i < next_count; i++) {
        bool known = false;
        for (int j = 0; j < current_count && !known; j++)
            known = streq (next [i], current [j]);
        if (!known)
            add [(*add_count)++] = i;
    }
    for (int j = 0; j < current_count; j++) {
        bool kept = false;
        for (int i = 0; i < next_count && !kept; i++)
            kept = streq (next [i], current [j]);
        if (!kept)
            drop [(*drop_count)++] = j;
    }
}

int
txw_addr_pick (const char *current, const char *const *next, int next_count)
{
    if (next_count <= 0)
        return -1;
    for (int i = 0; current && i < next_count; i++)
        if (streq (current, next [i]))
            return i;
    return 0;
}
