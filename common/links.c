/*  links - the endpoints a socket binds or connects and follows

    See transport_internal.h. A connecting socket keeps one target per list
    item: an item tcp://name:port (a host name, not a literal address) is
    registered with the resolver and connected to every address the name
    has, or to one for a keyed shard; any other item is connected as
    given. When the resolver's generation moves, the owner's next send,
    flush or receive connects the new addresses first and then disconnects
    the vanished ones, so a PUSH always has somewhere to go.                 */

#include "transport_internal.h"
#include "log.h"
#include "options.h"

#include <arpa/inet.h>
#include <string.h>

typedef struct {
    char given [256];           //  the list item, as written
    char port [16];
    int name;                   //  resolver slot; -1: connected as given
    int count;
    char addrs [TXW_ADDRS_MAX][TXW_ADDR_MAX];     //  connected now
} s_target_t;

struct _txw_links_t {
    zsock_t *sock;              //  borrowed
    bool one_address;           //  a keyed shard: one process per item
    s_target_t *targets;
    int count;
    uint64_t generation;
};

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
s_link_connect (txw_links_t *self, s_target_t *target, const char *addr, bool connect)
{
    char endpoint [TXW_ADDR_MAX + 32];
    snprintf (endpoint, sizeof endpoint, "tcp://%s:%s", addr, target->port);
    int rc = connect? zsock_connect (self->sock, "%s", endpoint)
                    : zsock_disconnect (self->sock, "%s", endpoint);
    if (rc != 0)
        log_error ("cannot %s %s (%s): %s", connect? "connect": "disconnect", endpoint,
                   target->given, zmq_strerror (zmq_errno ()));
    else
        txw_resolver_count_change ();
    return rc;
}

//  Brings one target's connections in line with the addresses its name has
//  now. Returns true if it changed anything.
static bool
s_target_follow (txw_links_t *self, s_target_t *target)
{
    char addrs [TXW_ADDRS_MAX][TXW_ADDR_MAX];
    int count = txw_resolver_name_addrs (target->name, addrs);
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

void
txw_links_follow (txw_links_t *self)
{
    if (!self)
        return;
    uint64_t generation = txw_resolver_generation ();
    if (generation == self->generation)
        return;
    self->generation = generation;
    for (int i = 0; i < self->count; i++)
        if (self->targets [i].name >= 0)
            s_target_follow (self, &self->targets [i]);
}

void
txw_links_destroy (txw_links_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_links_t *self = *self_p;
    for (int i = 0; i < self->count; i++)
        txw_resolver_name_release (self->targets [i].name);
    free (self->targets);
    free (self);
    *self_p = NULL;
}

//  Connects sock to every item of endpoints, following host names unless
//  the interval is 0. Returns NULL (logged) on a bad or empty list.
static txw_links_t *
s_links_new (zsock_t *sock, const char *endpoints, bool one_address)
{
    txw_links_t *self = calloc (1, sizeof *self);
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
    self->generation = txw_resolver_generation ();
    for (int i = 0; i < count; i++) {
        s_target_t *target = &self->targets [i];
        snprintf (target->given, sizeof target->given, "%s", items [i]);
        target->name = -1;
        self->count++;
        char host [256];
        if (txw_resolver_interval_ms () > 0
        &&  s_split_name (items [i], host, sizeof host, target->port, sizeof target->port))
            target->name = txw_resolver_name_register (host);
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
    txw_links_destroy (&self);
    return NULL;
}

int
txw_links_bind (zsock_t *sock, const char *endpoints, uint32_t roles)
{
    if (txw_curve_server (sock, roles))
        return -1;
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

txw_links_t *
txw_links_connect (zsock_t *sock, const char *endpoints, bool one_address)
{
    if (txw_curve_client (sock))
        return NULL;
    return s_links_new (sock, endpoints, one_address);
}
