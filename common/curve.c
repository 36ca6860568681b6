/*  curve - CURVE security of the transport's sockets, by peer role

    See transport_internal.h (the calls) and transport.h (how CURVE is
    configured, the roles and where the certificates come from). One
    process-wide state: the server certificate bound sockets serve with,
    the role certificate connecting sockets use, the servers' public key,
    and the ZAP handler (RFC 27), an actor serving inproc://zeromq.zap.01
    in czmq's context, where libzmq asks it about every CURVE client of a
    bound socket.

    The handler replaces zauth because zauth has one answer per process (a
    key in the directory may connect to every bound socket) and tells the
    socket nothing about who connected. Here the allowed directory maps a
    public key to a role by its file name (<role>.key, <role>-<any>.key);
    the socket's ZAP domain names the roles it admits (txw_zap_domain); the
    reply sets the User-Id to the role and the property X-Txw-Key to the
    key, so every message received on that connection carries both.

    The directory is read at start and then by the handler's thread once a
    second, parsed again only when a file in it changed (name, inode, size
    or times, through symbolic links: a Kubernetes Secret update swaps
    them). A directory that cannot be read keeps the keys read before. The
    keys are shared with the receiving threads (txw_curve_key_role) under
    a mutex, taken once per received message on a bound input.            */

#include "transport_internal.h"
#include "clock.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

//  An all-zero key is what zcert reports for a certificate file without a
//  secret part.
#define S_ZERO_KEY      "0000000000000000000000000000000000000000"
#define S_KEYS_MAX      1024        //  allowed keys in the directory
#define S_SCAN_MS       1000        //  how often the directory is looked at
#define S_IGNORED_MAX   512         //  bytes of ignored file names logged
//  How long a CURVE handshake may take (libzmq's default: 30 s). A client
//  refused by the ZAP handler (300) hears nothing back and tries again
//  after this: a key added to the allowed directory gets in that soon.
#define S_HANDSHAKE_MS  3000

typedef struct {
    char key [TXW_CURVE_KEY_LEN + 1];   //  Z85 public key
    int role;                           //  TXW_PEER_*; -1: in two roles' files
} s_key_t;

static struct {
    zcert_t *server;            //  the server certificate, with its secret key
    zcert_t *client;            //  this process's role certificate, with its secret key
    char server_key [TXW_CURVE_KEY_LEN + 1];    //  Z85 public key of the servers
    char allowed [PATH_MAX];    //  the allowed directory; "": no ZAP handler
    zactor_t *zap;
    //  The allowed keys, read by the receiving threads under the lock.
    pthread_mutex_t lock;
    s_key_t *keys;
    int key_count;
    //  The directory as last seen (the handler's thread, or start-up).
    uint64_t signature;
    bool scanned;
    bool dir_failed;
    txw_log_limiter_t refusal_log;      //  the handler's thread only
    //  Metrics, registered with the ZAP handler.
    txw_counter_t *admitted;
    txw_counter_t *refused_unknown;
    txw_counter_t *refused_role;
    txw_counter_t *messages_refused [TXW_REFUSED_COUNT];
    txw_gauge_t *allowed_keys;
} s_curve = { .lock = PTHREAD_MUTEX_INITIALIZER };

//  --- Roles ---------------------------------------------------------------------

static const char *const s_peer_names [TXW_PEER_MAX + 1] = {
    [TXW_PEER_PRODUCER] = "producer",
    [TXW_PEER_VALIDATOR] = "validator",
    [TXW_PEER_SCORER] = "scorer",
    [TXW_PEER_AGGREGATOR] = "aggregator",
    [TXW_PEER_GATEWAY] = "gateway",
    [TXW_PEER_NOTIFIER] = "notifier",
};

//  What each role sends (WIRE.md, the message types): the one table a
//  bound input checks every message against.
static const uint32_t s_peer_sends [TXW_PEER_MAX + 1] = {
    [TXW_PEER_PRODUCER] = TXW_MSG_BIT (TXW_MSG_RAW_TX) | TXW_MSG_BIT (TXW_MSG_REJECT)
                        | TXW_MSG_BIT (TXW_MSG_CORRECTION) | TXW_MSG_BIT (TXW_MSG_HEARTBEAT),
    [TXW_PEER_VALIDATOR] = TXW_MSG_BIT (TXW_MSG_TX) | TXW_MSG_BIT (TXW_MSG_REJECT)
                         | TXW_MSG_BIT (TXW_MSG_CORRECTION)
                         | TXW_MSG_BIT (TXW_MSG_ACK) | TXW_MSG_BIT (TXW_MSG_HEARTBEAT),
    [TXW_PEER_SCORER] = TXW_MSG_BIT (TXW_MSG_SCORED_TX) | TXW_MSG_BIT (TXW_MSG_ALERT)
                      | TXW_MSG_BIT (TXW_MSG_CORRECTION) | TXW_MSG_BIT (TXW_MSG_HEARTBEAT),
    [TXW_PEER_AGGREGATOR] = TXW_MSG_BIT (TXW_MSG_ALERT) | TXW_MSG_BIT (TXW_MSG_WINDOW)
                          | TXW_MSG_BIT (TXW_MSG_ACK) | TXW_MSG_BIT (TXW_MSG_HEARTBEAT),
};

static const char *const s_refused_names [TXW_REFUSED_COUNT] = {
    [TXW_REFUSED_TYPE] = "type",
    [TXW_REFUSED_SOURCE] = "source",
    [TXW_REFUSED_REVOKED] = "revoked",
    [TXW_REFUSED_IDENTITY] = "identity",
    [TXW_REFUSED_SOURCES_FULL] = "sources_full",
};

#define S_DOMAIN_PREFIX "txw:"

const char *
txw_peer_name (int peer)
{
    return peer > TXW_PEER_NONE && peer <= TXW_PEER_MAX? s_peer_names [peer]: "";
}

int
txw_peer_parse (const char *name, size_t len)
{
    for (int peer = TXW_PEER_NONE + 1; peer <= TXW_PEER_MAX; peer++)
        if (strlen (s_peer_names [peer]) == len && memcmp (s_peer_names [peer], name, len) == 0)
            return peer;
    return TXW_PEER_NONE;
}

int
txw_peer_of_file (const char *file_name)
{
    size_t len = strlen (file_name);
    if (len <= 4 || *file_name == '.' || strcmp (file_name + len - 4, ".key") != 0)
        return TXW_PEER_NONE;
    len -= 4;
    //  <role>.key, or <role>-<anything>.key with something after the dash.
    const char *dash = memchr (file_name, '-', len);
    if (dash && dash + 1 == file_name + len)
        return TXW_PEER_NONE;
    return txw_peer_parse (file_name, dash? (size_t) (dash - file_name): len);
}

bool
txw_peer_sends (int peer, uint32_t type)
{
    if (peer <= TXW_PEER_NONE || peer > TXW_PEER_MAX || type < 1 || type > TXW_MSG_TYPE_MAX)
        return false;
    return (s_peer_sends [peer] & TXW_MSG_BIT (type)) != 0;
}

int
txw_zap_domain (uint32_t roles, char *out, size_t size)
{
    size_t len = (size_t) snprintf (out, size, "%s", S_DOMAIN_PREFIX);
    const char *comma = "";
    for (int peer = TXW_PEER_NONE + 1; peer <= TXW_PEER_MAX && len < size; peer++)
        if (roles & TXW_PEER_BIT (peer)) {
            len += (size_t) snprintf (out + len, size - len, "%s%s", comma, s_peer_names [peer]);
            comma = ",";
        }
    return len < size? (int) len: -1;
}

uint32_t
txw_zap_domain_roles (const char *domain, size_t len)
{
    size_t prefix = strlen (S_DOMAIN_PREFIX);
    if (len <= prefix || memcmp (domain, S_DOMAIN_PREFIX, prefix) != 0)
        return 0;
    uint32_t roles = 0;
    const char *p = domain + prefix, *end = domain + len;
    while (p < end) {
        const char *comma = memchr (p, ',', (size_t) (end - p));
        const char *stop = comma? comma: end;
        int peer = txw_peer_parse (p, (size_t) (stop - p));
        if (peer == TXW_PEER_NONE)
            return 0;           //  a domain that is not all ours admits nobody
        roles |= TXW_PEER_BIT (peer);
        p = comma? comma + 1: end;
        if (comma && p == end)
            return 0;
    }
    return roles;
}

const char *
txw_refused_name (txw_refused_t reason)
{
    return reason < TXW_REFUSED_COUNT? s_refused_names [reason]: "";
}

//  --- The allowed directory -------------------------------------------------------

static uint64_t
s_fnv (uint64_t hash, const void *data, size_t size)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ p [i]) * 1099511628211ULL;
    return hash;
}

static int
s_key_compare (const void *a, const void *b)
{
    const s_key_t *x = a, *y = b;
    int rc = strcmp (x->key, y->key);
    return rc? rc: x->role - y->role;
}

//  The signature of the certificate files in the directory as they are
//  now (order-free: a sum), or 0 if it cannot be read.
static uint64_t
s_dir_signature (DIR *dir)
{
    uint64_t signature = 1;
    struct dirent *entry;
    rewinddir (dir);
    while ((entry = readdir (dir)) != NULL) {
        if (entry->d_name [0] == '.')
            continue;
        char path [PATH_MAX + 256];
        snprintf (path, sizeof path, "%s/%s", s_curve.allowed, entry->d_name);
        struct stat st;
        if (stat (path, &st) != 0 || !S_ISREG (st.st_mode))
            continue;
        uint64_t hash = s_fnv (14695981039346656037ULL, entry->d_name, strlen (entry->d_name));
        hash = s_fnv (hash, &st.st_ino, sizeof st.st_ino);
        hash = s_fnv (hash, &st.st_size, sizeof st.st_size);
        hash = s_fnv (hash, &st.st_mtim, sizeof st.st_mtim);
        hash = s_fnv (hash, &st.st_ctim, sizeof st.st_ctim);
        signature += hash;
    }
    return signature;
}

//  Reads the public key of the certificate file path into key. Not
//  zcert_load, which reads path_secret instead when there is one: a secret
//  file beside a public one must not change the key a file admits.
//  Returns 0, or -1 if the file holds no valid public key.
static int
s_public_key_load (const char *path, char *key)
{
    zconfig_t *root = zconfig_load (path);
    const char *text = root? zconfig_get (root, "curve/public-key", NULL): NULL;
    uint8_t binary [32];
    int rc = text && strlen (text) == TXW_CURVE_KEY_LEN
          && zmq_z85_decode (binary, text) != NULL? 0: -1;
    if (rc == 0)
        snprintf (key, TXW_CURVE_KEY_LEN + 1, "%s", text);
    zconfig_destroy (&root);
    return rc;
}

//  Reads the keys of every role certificate in the directory into keys
//  (sorted); names the files of no role in ignored. Returns the count.
static int
s_dir_read (DIR *dir, s_key_t *keys, char *ignored, size_t ignored_size)
{
    int count = 0;
    size_t ignored_len = 0;
    ignored [0] = 0;
    struct dirent *entry;
    rewinddir (dir);
    while ((entry = readdir (dir)) != NULL) {
        const char *name = entry->d_name;
        size_t len = strlen (name);
        if (*name == '.' || len < 4 || strcmp (name + len - 4, ".key") != 0)
            continue;           //  hidden entries (..data), secrets, other files
        char path [PATH_MAX + 256];
        snprintf (path, sizeof path, "%s/%s", s_curve.allowed, name);
        struct stat st;
        if (stat (path, &st) != 0 || !S_ISREG (st.st_mode))
            continue;
        int role = txw_peer_of_file (name);
        if (role == TXW_PEER_NONE) {
            if (ignored_len + len + 3 < ignored_size)
                ignored_len += (size_t) snprintf (ignored + ignored_len,
                                                  ignored_size - ignored_len, "%s%s",
                                                  ignored_len? ", ": "", name);
            continue;
        }
        if (count == S_KEYS_MAX) {
            log_warn ("--curve-allowed: more than %d certificates: '%s' ignored",
                      S_KEYS_MAX, path);
            continue;
        }
        if (s_public_key_load (path, keys [count].key)) {
            log_warn ("--curve-allowed: '%s' is not a public certificate: ignored", path);
            continue;
        }
        keys [count++].role = role;
    }
    //  One key in the files of two roles stands for neither: which role it
    //  plays would be a guess.
    qsort (keys, (size_t) count, sizeof *keys, s_key_compare);
    int kept = 0;
    for (int i = 0; i < count; i++) {
        if (kept && streq (keys [kept - 1].key, keys [i].key)) {
            if (keys [kept - 1].role != keys [i].role && keys [kept - 1].role >= 0) {
                log_error ("--curve-allowed: key %s is in the files of two roles (%s and "
                           "%s): refused as both", keys [i].key,
                           txw_peer_name (keys [kept - 1].role), txw_peer_name (keys [i].role));
                keys [kept - 1].role = -1;
            }
            continue;
        }
        keys [kept++] = keys [i];
    }
    return kept;
}

//  Reads the directory again if it changed since the last look (or force).
static void
s_dir_scan (bool force)
{
    DIR *dir = opendir (s_curve.allowed);
    if (!dir) {
        if (!s_curve.dir_failed)
            log_error ("--curve-allowed: cannot read '%s' (%s): the keys read before stay "
                       "allowed", s_curve.allowed, strerror (errno));
        s_curve.dir_failed = true;
        return;
    }
    if (s_curve.dir_failed)
        log_info ("--curve-allowed: '%s' can be read again", s_curve.allowed);
    s_curve.dir_failed = false;
    uint64_t signature = s_dir_signature (dir);
    if (!force && s_curve.scanned && signature == s_curve.signature) {
        closedir (dir);
        return;
    }
    s_key_t *keys = calloc (S_KEYS_MAX, sizeof *keys);
    if (!keys) {
        closedir (dir);
        return;
    }
    char ignored [S_IGNORED_MAX];
    int count = s_dir_read (dir, keys, ignored, sizeof ignored);
    closedir (dir);
    s_curve.signature = signature;
    s_curve.scanned = true;

    pthread_mutex_lock (&s_curve.lock);
    bool same = count == s_curve.key_count && s_curve.keys
             && memcmp (keys, s_curve.keys, (size_t) count * sizeof *keys) == 0;
    s_key_t *old = s_curve.keys;
    s_curve.keys = keys;
    s_curve.key_count = count;
    pthread_mutex_unlock (&s_curve.lock);
    free (old);
    if (same)
        return;
    int per_role [TXW_PEER_MAX + 1] = { 0 }, admitted = 0;
    for (int i = 0; i < count; i++)
        if (keys [i].role > 0) {
            per_role [keys [i].role]++;
            admitted++;
        }
    char summary [256] = "";
    size_t len = 0;
    for (int peer = TXW_PEER_NONE + 1; peer <= TXW_PEER_MAX; peer++)
        if (per_role [peer] && len < sizeof summary)
            len += (size_t) snprintf (summary + len, sizeof summary - len, "%s%s %d",
                                      len? ", ": "", txw_peer_name (peer), per_role [peer]);
    log_info ("--curve-allowed %s: %d keys admitted by role (%s)%s%s", s_curve.allowed,
              admitted, len? summary: "none", *ignored? "; ignored, no role in the name: ": "",
              ignored);
    if (s_curve.allowed_keys)
        txw_gauge_set (s_curve.allowed_keys, admitted);
}

int
txw_curve_key_role (const char *key)
{
    int role = TXW_PEER_NONE;
    pthread_mutex_lock (&s_curve.lock);
    s_key_t probe;
    snprintf (probe.key, sizeof probe.key, "%s", key);
    //  Sorted by key, one entry per key (s_dir_read).
    int lo = 0, hi = s_curve.key_count;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp (s_curve.keys [mid].key, probe.key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s_curve.key_count && streq (s_curve.keys [lo].key, probe.key)
    &&  s_curve.keys [lo].role > 0)
        role = s_curve.keys [lo].role;
    pthread_mutex_unlock (&s_curve.lock);
    return role;
}

//  --- The ZAP handler ----------------------------------------------------------------

//  Answers one ZAP request (RFC 27): 200 with the role as User-Id and the
//  key as a property, or 300 for a key or role refused here. After a 400
//  libzmq (4.3) gives the endpoint up for good on the client's side, so a
//  client that started before its key reached the allowed directory (a
//  Secret update is not instant) would stay out until restarted. After a
//  300 the client hears nothing; the handshake times out (S_HANDSHAKE_MS
//  on both sides) and the client connects again, and gets in once its
//  key is there. Each attempt is counted; the log says so once a second
//  at most.
static void
s_zap_answer (zsock_t *handler)
{
    zmsg_t *request = zmsg_recv (handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    char *sequence = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *identity = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credential = zmsg_pop (request);
    zmsg_destroy (&request);

    const char *status = "300", *text = "", *user = "";
    const char *why = NULL;
    char key [TXW_CURVE_KEY_LEN + 1] = "";
    int role = TXW_PEER_NONE;
    if (!version || !streq (version, "1.0")) {
        status = "500";
        text = "unknown ZAP version";
    }
    else
    if (!mechanism || !streq (mechanism, "CURVE") || !credential
    ||  zframe_size (credential) != 32) {
        status = "400";
        text = "CURVE only";
        why = "not a CURVE client";
        txw_counter_add (s_curve.refused_unknown, 1);
    }
    else {
        zmq_z85_encode (key, zframe_data (credential), 32);
        role = txw_curve_key_role (key);
        uint32_t admits = domain? txw_zap_domain_roles (domain, strlen (domain)): 0;
        if (role == TXW_PEER_NONE) {
            text = "key not allowed";
            why = "its key is not in the allowed directory";
            txw_counter_add (s_curve.refused_unknown, 1);
        }
        else
        if (!(admits & TXW_PEER_BIT (role))) {
            text = "role not admitted here";
            why = "its role is not admitted by this socket";
            txw_counter_add (s_curve.refused_role, 1);
        }
        else {
            status = "200";
            text = "OK";
            user = txw_peer_name (role);
            txw_counter_add (s_curve.admitted, 1);
        }
    }
    uint64_t suppressed;
    if (why && txw_log_limit (&s_curve.refusal_log, &suppressed))
        log_warn ("CURVE handshake refused from %s (key %s, role %s): %s; the socket "
                  "admits %s (%llu similar warnings suppressed)", address? address: "?",
                  *key? key: "-", role? txw_peer_name (role): "none", why,
                  domain && *domain? domain: "(no domain)", (unsigned long long) suppressed);

    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, sequence? sequence: "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, user);
    if (streq (status, "200")) {
        //  ZMTP metadata: a one-byte name length, the name, a four-byte
        //  big-endian value length, the value.
        uint8_t metadata [1 + sizeof TXW_CURVE_KEY_PROPERTY + 4 + TXW_CURVE_KEY_LEN];
        size_t name_len = strlen (TXW_CURVE_KEY_PROPERTY), n = 0;
        metadata [n++] = (uint8_t) name_len;
        memcpy (metadata + n, TXW_CURVE_KEY_PROPERTY, name_len);
        n += name_len;
        metadata [n++] = 0;
        metadata [n++] = 0;
        metadata [n++] = 0;
        metadata [n++] = TXW_CURVE_KEY_LEN;
        memcpy (metadata + n, key, TXW_CURVE_KEY_LEN);
        n += TXW_CURVE_KEY_LEN;
        zmsg_addmem (reply, metadata, n);
    }
    else
        zmsg_addmem (reply, "", 0);
    zmsg_send (&reply, handler);
    free (version);
    free (sequence);
    free (domain);
    free (address);
    free (identity);
    free (mechanism);
    zframe_destroy (&credential);
}

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *handler = zsock_new (ZMQ_REP);
    if (!handler || zsock_bind (handler, "inproc://zeromq.zap.01") < 0) {
        log_error ("cannot bind the ZAP handler: %s", zmq_strerror (zmq_errno ()));
        zsock_destroy (&handler);
        zsock_signal (pipe, 1);
        return;
    }
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    zsock_signal (pipe, 0);
    int64_t next_scan = txw_mono_ms () + S_SCAN_MS;
    while (poller) {
        int64_t wait = next_scan - txw_mono_ms ();
        void *which = zpoller_wait (poller, (int) (wait < 0? 0: wait));
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool stop = !command || streq (command, "$TERM");
            free (command);
            if (stop)
                break;
        }
        else
        if (which == handler)
            s_zap_answer (handler);
        else
        if (zpoller_terminated (poller))
            break;
        if (txw_mono_ms () >= next_scan) {
            s_dir_scan (false);
            next_scan = txw_mono_ms () + S_SCAN_MS;
        }
    }
    zpoller_destroy (&poller);
    zsock_destroy (&handler);
}

//  --- Configuration ------------------------------------------------------------------

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

//  Registers the metrics of the ZAP handler and of the checks of bound
//  inputs.
static void
s_metrics_register (void)
{
    const char *help = "CURVE handshakes of clients the ZAP handler refused: unknown_key "
                       "(not in --curve-allowed), role (a role the socket does not admit)";
    s_curve.refused_unknown = txw_counter_new ("txw_curve_handshakes_refused_total",
                                               "reason=\"unknown_key\"", help);
    s_curve.refused_role = txw_counter_new ("txw_curve_handshakes_refused_total",
                                            "reason=\"role\"", help);
    s_curve.admitted = txw_counter_new ("txw_curve_handshakes_admitted_total", NULL,
                                        "CURVE handshakes of clients the ZAP handler admitted");
    for (int r = 0; r < TXW_REFUSED_COUNT; r++) {
        char label [64];
        snprintf (label, sizeof label, "reason=\"%s\"", s_refused_names [r]);
        s_curve.messages_refused [r] = txw_counter_new ("txw_curve_messages_refused_total",
            label, "messages a bound input refused: type (not sent by the sender's role), "
            "source (the source id is bound to another key), revoked (the key left "
            "--curve-allowed), identity (no role on the message), sources_full (no room "
            "to bind a new source id)");
    }
    s_curve.allowed_keys = txw_gauge_new ("txw_curve_allowed_keys", NULL,
                                          "client keys in --curve-allowed that a role admits");
}

int
txw_curve_configure (const txw_transport_config_t *cfg)
{
    bool server = s_is_set (cfg->curve_secret_key);
    bool client = s_is_set (cfg->curve_client_key);
    if (!server && !client) {
        if (s_is_set (cfg->curve_server_key) || s_is_set (cfg->curve_allowed)) {
            log_error ("--curve-server-key and --curve-allowed need --curve-secret-key "
                       "or --curve-client-key");
            return -1;
        }
        return 0;
    }
    if (server) {
        s_curve.server = s_cert_load ("curve-secret-key", cfg->curve_secret_key, true);
        if (!s_curve.server)
            return -1;
    }
    //  Without a role certificate the server certificate connects too (the
    //  one-certificate setup of earlier versions: no role to admit it as).
    s_curve.client = client? s_cert_load ("curve-client-key", cfg->curve_client_key, true)
                           : zcert_dup (s_curve.server);
    if (!s_curve.client)
        return -1;
    if (s_is_set (cfg->curve_server_key)) {
        zcert_t *cert = s_cert_load ("curve-server-key", cfg->curve_server_key, false);
        if (!cert)
            return -1;
        snprintf (s_curve.server_key, sizeof s_curve.server_key, "%s", zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    if (server && s_is_set (cfg->curve_allowed)) {
        if (strlen (cfg->curve_allowed) >= sizeof s_curve.allowed) {
            log_error ("--curve-allowed: the path is too long");
            return -1;
        }
        snprintf (s_curve.allowed, sizeof s_curve.allowed, "%s", cfg->curve_allowed);
        DIR *dir = opendir (s_curve.allowed);
        if (!dir) {
            log_error ("--curve-allowed: cannot open directory '%s': %s",
                       cfg->curve_allowed, strerror (errno));
            s_curve.allowed [0] = 0;
            return -1;
        }
        closedir (dir);
        s_metrics_register ();
        s_dir_scan (true);
        s_curve.zap = zactor_new (s_zap_actor, NULL);
        if (!s_curve.zap) {
            log_error ("cannot start the ZAP handler");
            return -1;
        }
    }
    else
    if (server)
        log_warn ("CURVE without --curve-allowed: traffic is encrypted, but any client "
                  "key may connect to the sockets this process binds, and no role is checked");
    else
    if (s_is_set (cfg->curve_allowed))
        log_info ("--curve-allowed is not used: without --curve-secret-key this process "
                  "binds nothing with CURVE");
    log_info ("CURVE on: client key %s%s%s, %s", zcert_public_txt (s_curve.client),
              server? ", server key ": "", server? zcert_public_txt (s_curve.server): "",
              s_curve.zap? "clients admitted by role from the allowed directory":
              server? "any client": "binds nothing with CURVE (no --curve-secret-key)");
    return 0;
}

int
txw_curve_server (zsock_t *sock, uint32_t roles)
{
    if (!s_curve.client)
        return 0;
    if (!s_curve.server) {
        log_error ("CURVE is on but --curve-secret-key (the server certificate) is not "
                   "set: cannot bind");
        return -1;
    }
    char domain [256];
    if (txw_zap_domain (roles, domain, sizeof domain) < 0)
        return -1;
    zcert_apply (s_curve.server, sock);
    zsock_set_zap_domain (sock, domain);
    zsock_set_curve_server (sock, 1);
    zsock_set_handshake_ivl (sock, S_HANDSHAKE_MS);
    return 0;
}

int
txw_curve_client (zsock_t *sock)
{
    if (!s_curve.client)
        return 0;
    if (!*s_curve.server_key) {
        log_error ("CURVE is on but --curve-server-key is not set: cannot connect");
        return -1;
    }
    zcert_apply (s_curve.client, sock);
    zsock_set_curve_serverkey (sock, s_curve.server_key);
    zsock_set_handshake_ivl (sock, S_HANDSHAKE_MS);
    return 0;
}

bool
txw_curve_checks_roles (void)
{
    return s_curve.zap != NULL;
}

void
txw_curve_refused (txw_refused_t reason)
{
    if (reason < TXW_REFUSED_COUNT && s_curve.messages_refused [reason])
        txw_counter_add (s_curve.messages_refused [reason], 1);
}

void
txw_curve_shutdown (void)
{
    zactor_destroy (&s_curve.zap);
    zcert_destroy (&s_curve.server);
    zcert_destroy (&s_curve.client);
    s_curve.server_key [0] = 0;
    s_curve.allowed [0] = 0;
    pthread_mutex_lock (&s_curve.lock);
    free (s_curve.keys);
    s_curve.keys = NULL;
    s_curve.key_count = 0;
    pthread_mutex_unlock (&s_curve.lock);
    s_curve.signature = 0;
    s_curve.scanned = false;
    s_curve.dir_failed = false;
    //  The metrics are forgotten (the registry frees them).
    s_curve.admitted = s_curve.refused_unknown = s_curve.refused_role = NULL;
    for (int r = 0; r < TXW_REFUSED_COUNT; r++)
        s_curve.messages_refused [r] = NULL;
    s_curve.allowed_keys = NULL;
}
