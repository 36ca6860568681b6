/*  transport - batched ZeroMQ outputs, keyed routing and sequenced inputs   */

#include "transport.h"
#include "clock.h"
#include "log.h"
#include "options.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

static volatile int *s_stop = NULL;

void
txw_transport_set_stop_flag (volatile int *flag)
{
    s_stop = flag;
}

//  --- CURVE -------------------------------------------------------------------

//  An all-zero key is what zcert reports for a certificate file without a
//  secret part.
#define S_ZERO_KEY "0000000000000000000000000000000000000000"

static struct {
    zcert_t *cert;              //  this process's certificate, with its secret key
    char server_key [41];       //  Z85 public key of the servers we connect to
    zactor_t *auth;
} s_curve;

static zcert_t *
s_cert_load (const char *option, const char *file, bool need_secret)
{
    zcert_t *cert = zcert_load (file);
    if (!cert) {
        log_error ("--%s: cannot load a certificate from '%s'", option, file);
        return NULL;
    }
    if (need_secret && streq (zcert_secret_txt (cert), S_ZERO_KEY)) {
        log_error ("--%s: '%s' holds no secret key (give the NAME.key_secret file)",
                   option, file);
        zcert_destroy (&cert);
    }
    return cert;
}

static bool
s_is_set (const char *text)
{
    return text && *text;
}

static int
s_curve_configure (const txw_transport_config_t *cfg)
{
    if (!s_is_set (cfg->curve_secret_key)) {
        if (s_is_set (cfg->curve_server_key) || s_is_set (cfg->curve_allowed)) {
            log_error ("--curve-server-key and --curve-allowed need --curve-secret-key");
            return -1;
        }
        return 0;
    }
    s_curve.cert = s_cert_load ("curve-secret-key", cfg->curve_secret_key, true);
    if (!s_curve.cert)
        return -1;
    if (s_is_set (cfg->curve_server_key)) {
        zcert_t *server = s_cert_load ("curve-server-key", cfg->curve_server_key, false);
        if (!server)
            return -1;
        snprintf (s_curve.server_key, sizeof s_curve.server_key, "%s",
                  zcert_public_txt (server));
        zcert_destroy (&server);
    }
    if (s_is_set (cfg->curve_allowed)) {
        DIR *dir = opendir (cfg->curve_allowed);
        if (!dir) {
            log_error ("--curve-allowed: cannot open directory '%s': %s",
                       cfg->curve_allowed, strerror (errno));
            return -1;
        }
        closedir (dir);
        s_curve.auth = zactor_new (zauth, NULL);
        if (!s_curve.auth
        ||  zstr_sendx (s_curve.auth, "CURVE", cfg->curve_allowed, NULL)
        ||  zsock_wait (s_curve.auth) != 0) {
            log_error ("cannot start the CURVE authenticator");
            return -1;
        }
    }
    else
        log_warn ("CURVE without --curve-allowed: traffic is encrypted, but any client "
                  "key may connect to this process");
    log_info ("CURVE on: public key %s, %s", zcert_public_txt (s_curve.cert),
              s_curve.auth? "clients checked against the allowed directory": "any client");
    return 0;
}

//  A bound socket becomes a CURVE server; call before bind.
static void
s_curve_server (zsock_t *sock)
{
    if (!s_curve.cert)
        return;
    zcert_apply (s_curve.cert, sock);
    zsock_set_zap_domain (sock, "txw");
    zsock_set_curve_server (sock, 1);
}

//  A connecting socket becomes a CURVE client; call before connect.
//  Returns -1 if there is no server key to connect with.
static int
s_curve_client (zsock_t *sock)
{
    if (!s_curve.cert)
        return 0;
    if (!*s_curve.server_key) {
        log_error ("CURVE is on but --curve-server-key is not set: cannot connect");
        return -1;
    }
    zcert_apply (s_curve.cert, sock);
    zsock_set_curve_serverkey (sock, s_curve.server_key);
    return 0;
}

//  --- Resolver ----------------------------------------------------------------

//  Names are registered by the sockets that use them and resolved again by
//  one thread every interval; a change bumps the generation, which owners
//  compare with theirs (one atomic load) before they look at the table.

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

//  Registers a name for re-resolution, resolving it now if it is new.
//  Returns its slot, or -1 if the table is full.
static int
s_name_register (const char *host)
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

static void
s_name_release (int slot)
{
    pthread_mutex_lock (&s_dns.lock);
    if (slot >= 0 && s_dns.names [slot].refs > 0)
        s_dns.names [slot].refs--;
    pthread_mutex_unlock (&s_dns.lock);
}

//  Copies the addresses known for a name; returns the count (0: none yet).
static int
s_name_addrs (int slot, char (*addrs) [TXW_ADDR_MAX])
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

int
txw_transport_configure (const txw_transport_config_t *cfg)
{
    txw_transport_shutdown ();
    s_dns.stopping = false;
    s_dns.interval_ms = cfg->resolve_ms;
    s_dns.resolutions = txw_counter_new ("txw_resolutions_total", NULL,
                                         "host name resolutions of connect endpoints");
    s_dns.failures = txw_counter_new ("txw_resolution_failures_total", NULL,
                                      "host name resolutions that failed (old addresses kept)");
    s_dns.changes = txw_counter_new ("txw_endpoint_changes_total", NULL,
                                     "addresses connected or disconnected after a resolution");
    if (s_curve_configure (cfg)) {
        txw_transport_shutdown ();
        return -1;
    }
    return 0;
}

void
txw_transport_shutdown (void)
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
    zactor_destroy (&s_curve.auth);
    zcert_destroy (&s_curve.cert);
    s_curve.server_key [0] = 0;
}

//  --- Links: the endpoints a connecting socket follows ------------------------

typedef struct {
    char given [256];           //  the list item, as written
    char port [16];
    int name;                   //  resolver slot; -1: connected as given
    int count;
    char addrs [TXW_ADDRS_MAX][TXW_ADDR_MAX];     //  connected now
} s_target_t;

typedef struct {
    zsock_t *sock;              //  borrowed
    bool one_address;           //  a keyed shard: one process per item
    s_target_t *targets;
    int count;
    uint64_t generation;
} s_links_t;

//  Splits tcp://host:port; returns false for anything that is not a host
//  name to follow (ipc://, inproc://, literal addresses, source addresses).
static bool
s_split_name (const char *endpoint, char *host, size_t host_size, char *port,
              size_t port_size)
{
    if (strncmp (endpoint, "tcp://", 6) != 0 || strchr (endpoint, ';'))
        return false;
    const char *start = endpoint + 6;
    const char *colon = strrchr (start, ':');
    if (!colon || colon == start || !colon [1] || *start == '['
    ||  (size_t) (colon - start) >= host_size || strlen (colon + 1) >= port_size)
        return false;
    snprintf (host, host_size, "%.*s", (int) (colon - start), start);
    snprintf (port, port_size, "%s", colon + 1);
    struct in_addr addr;
    return !streq (host, "*") && inet_pton (AF_INET, host, &addr) != 1;
}

static int
s_link_connect (s_links_t *self, s_target_t *target, const char *addr, bool connect)
{
    char endpoint [TXW_ADDR_MAX + 32];
    snprintf (endpoint, sizeof endpoint, "tcp://%s:%s", addr, target->port);
    int rc = connect? zsock_connect (self->sock, "%s", endpoint)
                    : zsock_disconnect (self->sock, "%s", endpoint);
    if (rc != 0)
        log_error ("cannot %s %s (%s): %s", connect? "connect": "disconnect", endpoint,
                   target->given, zmq_strerror (zmq_errno ()));
    else
    if (s_dns.changes)
        txw_counter_add (s_dns.changes, 1);
    return rc;
}

//  Brings one target's connections in line with the addresses its name has
//  now. Returns true if it changed anything.
static bool
s_target_follow (s_links_t *self, s_target_t *target)
{
    char addrs [TXW_ADDRS_MAX][TXW_ADDR_MAX];
    int count = s_name_addrs (target->name, addrs);
    if (count == 0)
        return false;
    const char *next [TXW_ADDRS_MAX], *current [TXW_ADDRS_MAX];
    for (int i = 0; i < count; i++)
        next [i] = addrs [i];
    if (self->one_address) {
        int pick = txw_addr_pick (target->count? target->addrs [0]: NULL, next, count);
        if (count > 1 && target->count == 0)
            log_warn ("shard endpoint %s has %d addresses: using %s (a shard endpoint "
                      "must name one process, e.g. scorer-0.scorer)", target->given,
                      count, next [pick]);
        count = 1;
        next [0] = next [pick];
    }
    for (int j = 0; j < target->count; j++)
        current [j] = target->addrs [j];
    int add [TXW_ADDRS_MAX], drop [TXW_ADDRS_MAX], adds, drops;
    txw_addr_diff (current, target->count, next, count, add, &adds, drop, &drops);
    if (adds == 0 && drops == 0)
        return false;
    //  Connect first, then disconnect, so a PUSH always has somewhere to go.
    char kept [TXW_ADDRS_MAX][TXW_ADDR_MAX];
    int kept_count = 0;
    for (int i = 0; i < adds; i++)
        if (s_link_connect (self, target, next [add [i]], true) == 0)
            log_info ("%s: connected %s", target->given, next [add [i]]);
    for (int i = 0; i < drops; i++) {
        s_link_connect (self, target, current [drop [i]], false);
        log_info ("%s: disconnected %s (no longer in its addresses)", target->given,
                  current [drop [i]]);
    }
    for (int i = 0; i < count; i++)
        snprintf (kept [kept_count++], TXW_ADDR_MAX, "%s", next [i]);
    memcpy (target->addrs, kept, (size_t) kept_count * TXW_ADDR_MAX);
    target->count = kept_count;
    return true;
}

//  Applies what the resolver found since the last look; cheap when nothing
//  changed.
static void
s_links_follow (s_links_t *self)
{
    if (!self)
        return;
    uint64_t generation = atomic_load_explicit (&s_dns.generation, memory_order_acquire);
    if (generation == self->generation)
        return;
    self->generation = generation;
    for (int i = 0; i < self->count; i++)
        if (self->targets [i].name >= 0)
            s_target_follow (self, &self->targets [i]);
}

static void
s_links_destroy (s_links_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_links_t *self = *self_p;
    for (int i = 0; i < self->count; i++)
        s_name_release (self->targets [i].name);
    free (self->targets);
    free (self);
    *self_p = NULL;
}

//  Connects sock to every item of endpoints, following host names unless
//  the interval is 0. Returns NULL (logged) on a bad or empty list.
static s_links_t *
s_links_new (zsock_t *sock, const char *endpoints, bool one_address)
{
    s_links_t *self = calloc (1, sizeof *self);
    char *copy = strdup (endpoints);
    char *items [TXW_MAX_ENDPOINTS];
    int count = copy? txw_split_list (copy, items, TXW_MAX_ENDPOINTS): 0;
    if (!self || !copy || count == 0) {
        log_error ("empty endpoint list");
        goto err;
    }
    self->sock = sock;
    self->one_address = one_address;
    self->targets = calloc ((size_t) count, sizeof (s_target_t));
    if (!self->targets)
        goto err;
    self->generation = atomic_load (&s_dns.generation);
    for (int i = 0; i < count; i++) {
        s_target_t *target = &self->targets [i];
        snprintf (target->given, sizeof target->given, "%s", items [i]);
        target->name = -1;
        self->count++;
        char host [256];
        if (s_dns.interval_ms > 0
        &&  s_split_name (items [i], host, sizeof host, target->port, sizeof target->port))
            target->name = s_name_register (host);
        if (target->name >= 0)
            s_target_follow (self, target);
        else
        if (zsock_connect (sock, "%s", items [i]) != 0) {
            log_error ("cannot connect %s: %s", items [i], zmq_strerror (zmq_errno ()));
            goto err;
        }
    }
    free (copy);
    return self;
err:
    free (copy);
    s_links_destroy (&self);
    return NULL;
}

//  --- Output ------------------------------------------------------------------

struct _txw_out_t {
    zsock_t *sock;
    void *handle;
    s_links_t *links;           //  PUSH: the endpoints it follows
    txw_out_kind_t kind;
    char source_id [TXW_NAME_MAX * 2 + 1];
    uint64_t epoch;
    uint64_t seq [TXW_MSG_TYPE_MAX + 1];
    txw_batch_t *batches [TXW_MSG_TYPE_MAX + 1];
    int linger_ms;
    txw_counter_t *records_sent;    //  optional: txw_out_count
    txw_counter_t *batches_sent;
};

//  Binds sock to every item of endpoints, as a CURVE server if CURVE is on.
static int
s_bind_all (zsock_t *sock, const char *endpoints)
{
    s_curve_server (sock);
    char *copy = strdup (endpoints);
    char *items [TXW_MAX_ENDPOINTS];
    int count = copy? txw_split_list (copy, items, TXW_MAX_ENDPOINTS): 0;
    int rc = count > 0? 0: -1;
    for (int i = 0; i < count && rc == 0; i++) {
        rc = zsock_bind (sock, "%s", items [i]) < 0? -1: 0;
        if (rc != 0)
            log_error ("cannot bind %s: %s", items [i], zmq_strerror (zmq_errno ()));
    }
    if (count == 0)
        log_error ("empty endpoint list");
    free (copy);
    return rc;
}

//  Connects sock to every item of endpoints (a CURVE client if CURVE is
//  on); host names are followed. Returns NULL (logged) on failure.
static s_links_t *
s_connect_all (zsock_t *sock, const char *endpoints, bool one_address)
{
    if (s_curve_client (sock))
        return NULL;
    return s_links_new (sock, endpoints, one_address);
}

static txw_out_t *
s_out_new (txw_out_kind_t kind, const char *endpoints, const char *source_id,
           int hwm, int linger_ms, bool one_address)
{
    txw_out_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->kind = kind;
    self->linger_ms = linger_ms;
    snprintf (self->source_id, sizeof self->source_id, "%s", source_id);
    self->epoch = (uint64_t) txw_now_us ();
    self->sock = zsock_new (kind == TXW_OUT_PUSH? ZMQ_PUSH: ZMQ_PUB);
    if (!self->sock)
        goto err;
    zsock_set_sndhwm (self->sock, hwm);
    zsock_set_linger (self->sock, 2000);
    //  A blocked send wakes every 100 ms to look at the stop flag.
    zsock_set_sndtimeo (self->sock, 100);
    if (kind == TXW_OUT_PUB) {
        if (s_bind_all (self->sock, endpoints))
            goto err;
    }
    else {
        self->links = s_connect_all (self->sock, endpoints, one_address);
        if (!self->links)
            goto err;
    }
    self->handle = zsock_resolve (self->sock);
    return self;
err:
    txw_out_destroy (&self);
    return NULL;
}

txw_out_t *
txw_out_new (txw_out_kind_t kind, const char *endpoints, const char *source_id,
             int hwm, int linger_ms)
{
    return s_out_new (kind, endpoints, source_id, hwm, linger_ms, false);
}

void
txw_out_destroy (txw_out_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_out_t *self = *self_p;
    for (int t = 0; t <= TXW_MSG_TYPE_MAX; t++)
        if (self->batches [t]) {
            txw_batch_fini (self->batches [t]);
            free (self->batches [t]);
        }
    s_links_destroy (&self->links);
    zsock_destroy (&self->sock);
    free (self);
    *self_p = NULL;
}

zsock_t *
txw_out_socket (txw_out_t *self)
{
    return self->sock;
}

txw_batch_t *
txw_out_batch (txw_out_t *self, uint32_t type)
{
    assert (type >= 1 && type <= TXW_MSG_TYPE_MAX);
    if (!self->batches [type]) {
        self->batches [type] = malloc (sizeof (txw_batch_t));
        assert (self->batches [type]);
        txw_batch_init (self->batches [type], type, self->source_id, self->epoch);
    }
    return self->batches [type];
}

//  Sends one sealed batch. PUB never blocks; PUSH blocks at the high-water
//  mark and retries until sent or told to stop.
static int
s_send (txw_out_t *self, txw_batch_t *batch)
{
    if (batch->count == 0)
        return 0;
    txw_batch_seal (batch, ++self->seq [batch->type], txw_now_us ());
    int rc;
    int64_t give_up_ms = 0;
    for (;;) {
        //  Also while blocked: the peers may be gone and new ones resolved.
        s_links_follow (self->links);
        rc = zmq_send (self->handle, batch->buf.data, batch->buf.size, 0);
        if (rc >= 0)
            break;
        if (zmq_errno () == EAGAIN || zmq_errno () == EINTR) {
            if (self->kind == TXW_OUT_PUB)
                break;
            //  On shutdown keep trying for a few seconds, so in-flight
            //  batches still drain to a live downstream, then give up.
            if (s_stop && *s_stop) {
                int64_t now = txw_mono_ms ();
                if (!give_up_ms)
                    give_up_ms = now + 5000;
                else
                if (now > give_up_ms) {
                    log_warn ("dropping a batch of %u records: downstream "
                              "not taking them at shutdown", batch->count);
                    break;
                }
            }
            continue;
        }
        log_error ("send failed: %s", zmq_strerror (zmq_errno ()));
        break;
    }
    if (rc >= 0 && self->records_sent) {
        txw_counter_add (self->records_sent, batch->count);
        txw_counter_add (self->batches_sent, 1);
    }
    txw_batch_clear (batch);
    return rc >= 0? 0: -1;
}

void
txw_out_count (txw_out_t *self, txw_counter_t *records, txw_counter_t *batches)
{
    self->records_sent = records;
    self->batches_sent = records? batches: NULL;
}

int
txw_out_added (txw_out_t *self, txw_batch_t *batch)
{
    txw_batch_added (batch);
    if (batch->count >= TXW_BATCH_RECORDS || batch->buf.size >= TXW_BATCH_BYTES)
        return s_send (self, batch);
    return 0;
}

int
txw_out_flush (txw_out_t *self, bool force)
{
    int rc = 0;
    int64_t now = txw_mono_ms ();
    s_links_follow (self->links);
    for (int t = 1; t <= TXW_MSG_TYPE_MAX; t++) {
        txw_batch_t *batch = self->batches [t];
        if (batch && batch->count
        &&  (force || now - batch->started_ms >= self->linger_ms))
            if (s_send (self, batch))
                rc = -1;
    }
    return rc;
}

int
txw_out_due_ms (txw_out_t *self)
{
    int due = -1;
    int64_t now = txw_mono_ms ();
    for (int t = 1; t <= TXW_MSG_TYPE_MAX; t++) {
        txw_batch_t *batch = self->batches [t];
        if (batch && batch->count) {
            int64_t left = batch->started_ms + self->linger_ms - now;
            if (left < 0)
                left = 0;
            if (due < 0 || left < due)
                due = (int) left;
        }
    }
    return due;
}

//  --- Router ------------------------------------------------------------------

struct _txw_router_t {
    txw_out_t *shards [TXW_MAX_ENDPOINTS];
    uint32_t count;
};

txw_router_t *
txw_router_new (const char *endpoints, const char *source_id, int hwm, int linger_ms)
{
    txw_router_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char *copy = strdup (endpoints);
    char *items [TXW_MAX_ENDPOINTS];
    int count = txw_split_list (copy, items, TXW_MAX_ENDPOINTS);
    for (int i = 0; i < count; i++) {
        //  Shard i must stay one process: its name never expands.
        self->shards [i] = s_out_new (TXW_OUT_PUSH, items [i], source_id, hwm, linger_ms,
                                      true);
        if (!self->shards [i]) {
            free (copy);
            txw_router_destroy (&self);
            return NULL;
        }
        self->count++;
    }
    free (copy);
    if (self->count == 0) {
        log_error ("no shard endpoints given");
        txw_router_destroy (&self);
    }
    return self;
}

void
txw_router_count (txw_router_t *self, txw_counter_t *records, txw_counter_t *batches)
{
    for (uint32_t i = 0; i < self->count; i++)
        txw_out_count (self->shards [i], records, batches);
}

void
txw_router_destroy (txw_router_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_router_t *self = *self_p;
    for (uint32_t i = 0; i < self->count; i++)
        txw_out_destroy (&self->shards [i]);
    free (self);
    *self_p = NULL;
}

uint32_t
txw_router_shards (txw_router_t *self)
{
    return self->count;
}

txw_out_t *
txw_router_pick (txw_router_t *self, const char *key, size_t len)
{
    return self->shards [txw_shard_of (key, len, self->count)];
}

txw_out_t *
txw_router_shard (txw_router_t *self, uint32_t shard)
{
    return shard < self->count? self->shards [shard]: NULL;
}

int
txw_router_flush (txw_router_t *self, bool force)
{
    int rc = 0;
    for (uint32_t i = 0; i < self->count; i++)
        if (txw_out_flush (self->shards [i], force))
            rc = -1;
    return rc;
}

int
txw_router_due_ms (txw_router_t *self)
{
    int due = -1;
    for (uint32_t i = 0; i < self->count; i++) {
        int d = txw_out_due_ms (self->shards [i]);
        if (d >= 0 && (due < 0 || d < due))
            due = d;
    }
    return due;
}

//  --- Input -------------------------------------------------------------------

#define S_MAX_SOURCES 256

typedef struct {
    uint64_t hash;              //  of source id and message type
    uint64_t epoch;
    uint64_t seq;
} s_source_t;

struct _txw_in_t {
    zsock_t *sock;
    void *handle;
    s_links_t *links;           //  SUB: the endpoints it follows
    txw_in_stats_t stats;
    s_source_t sources [S_MAX_SOURCES];
    int source_count;
    txw_counter_t *gap_counter;
    int64_t last_complaint_ms;
};

static txw_in_t *
s_in_new (int type, const char *endpoints, bool bind, int hwm)
{
    txw_in_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = zsock_new (type);
    if (!self->sock)
        goto err;
    zsock_set_rcvhwm (self->sock, hwm);
    zsock_set_linger (self->sock, 0);
    //  A frame larger than the protocol allows is refused by libzmq itself.
    zsock_set_maxmsgsize (self->sock, TXW_MAX_FRAME);
    if (bind) {
        if (s_bind_all (self->sock, endpoints))
            goto err;
    }
    else {
        //  Subscribe before connecting, so nothing published is missed.
        zsock_set_subscribe (self->sock, "");
        self->links = s_connect_all (self->sock, endpoints, false);
        if (!self->links)
            goto err;
    }
    self->handle = zsock_resolve (self->sock);
    return self;
err:
    txw_in_destroy (&self);
    return NULL;
}

txw_in_t *
txw_in_new_pull (const char *endpoints, int hwm)
{
    return s_in_new (ZMQ_PULL, endpoints, true, hwm);
}

txw_in_t *
txw_in_new_sub (const char *endpoints)
{
    return s_in_new (ZMQ_SUB, endpoints, false, 10000);
}

void
txw_in_destroy (txw_in_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_in_t *self = *self_p;
    s_links_destroy (&self->links);
    zsock_destroy (&self->sock);
    free (self);
    *self_p = NULL;
}

void *
txw_in_socket (txw_in_t *self)
{
    return self->sock;
}

void
txw_in_refresh (txw_in_t *self)
{
    s_links_follow (self->links);
}

const txw_in_stats_t *
txw_in_stats (txw_in_t *self)
{
    return &self->stats;
}

void
txw_in_count_gaps (txw_in_t *self, txw_counter_t *counter)
{
    self->gap_counter = counter;
}

void
txw_hex_preview (const void *data, size_t size, char *out, size_t out_size)
{
    const uint8_t *p = data;
    size_t o = 0;
    for (size_t i = 0; i < size && i < 16 && o + 3 < out_size; i++)
        o += (size_t) snprintf (out + o, out_size - o, "%02x", p [i]);
    out [o] = 0;
}

//  Tracks the sequence of (source, type): counts gaps and replays.
static void
s_track (txw_in_t *self, const txw_envelope_t *env)
{
    uint64_t hash = txw_hash (env->source_id.ptr, env->source_id.len) ^ env->type;
    s_source_t *src = NULL;
    for (int i = 0; i < self->source_count; i++)
        if (self->sources [i].hash == hash) {
            src = &self->sources [i];
            break;
        }
    if (!src) {
        //  Full table: reuse the slot of the oldest epoch.
        int slot = self->source_count < S_MAX_SOURCES? self->source_count++: 0;
        for (int i = 0; i < self->source_count && self->source_count == S_MAX_SOURCES; i++)
            if (self->sources [i].epoch < self->sources [slot].epoch)
                slot = i;
        src = &self->sources [slot];
        src->hash = hash;
        src->epoch = env->epoch;
        src->seq = env->seq;
        return;
    }
    if (env->epoch != src->epoch) {
        //  The sender restarted: a new epoch starts its count again.
        if (env->epoch > src->epoch) {
            src->epoch = env->epoch;
            src->seq = env->seq;
        }
        else
            self->stats.replays++;
        return;
    }
    if (env->seq <= src->seq)
        self->stats.replays++;
    else {
        if (env->seq > src->seq + 1) {
            self->stats.gaps += env->seq - src->seq - 1;
            if (self->gap_counter)
                txw_counter_add (self->gap_counter, env->seq - src->seq - 1);
        }
        src->seq = env->seq;
    }
}

int
txw_in_recv (txw_in_t *self, int timeout_ms, zmq_msg_t *msg, txw_envelope_t *env)
{
    s_links_follow (self->links);
    zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
    int rc = zmq_poll (&item, 1, timeout_ms);
    if (rc <= 0)
        return 0;
    zmq_msg_init (msg);
    if (zmq_msg_recv (msg, self->handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (msg);
        return 0;
    }
    self->stats.messages++;
    const char *error = NULL;
    const void *data = zmq_msg_data (msg);
    size_t size = zmq_msg_size (msg);
    if (zmq_msg_more (msg) || txw_envelope_decode (data, size, env, &error) != 0) {
        self->stats.malformed++;
        //  One complaint a second at most: garbage must not flood the log.
        int64_t now = txw_mono_ms ();
        if (now - self->last_complaint_ms >= 1000) {
            char hex [40];
            txw_hex_preview (data, size, hex, sizeof hex);
            log_warn ("dropped malformed message (%zu bytes, %s, starts %s); %llu so far",
                      size, error? error: "multipart", hex,
                      (unsigned long long) self->stats.malformed);
            self->last_complaint_ms = now;
        }
        //  Drain the rest of a multipart message.
        while (zmq_msg_more (msg)) {
            zmq_msg_close (msg);
            zmq_msg_init (msg);
            if (zmq_msg_recv (msg, self->handle, ZMQ_DONTWAIT) < 0)
                break;
        }
        zmq_msg_close (msg);
        return -1;
    }
    s_track (self, env);
    return 1;
}
