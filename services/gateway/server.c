/*  server - the gateway's HTTP side: files, /config.json and /ws clients

    A client's life: the connect handler (civetweb worker, before the
    handshake) checks the Origin, the API key, the topics, the key's
    connections and --max-clients, and registers it with its principal; the
    ready handler queues hello, starts its writer and asks for a snapshot;
    the data handler answers its ops; the close handler unregisters it,
    waits for a write in progress to end (the connection is reused by
    civetweb once the handler returns) and drops the registration's
    reference. The writer holds the other reference and frees the client
    when it leaves last.                                                     */

#include "server.h"
#include "apikey.h"
#include "clock.h"
#include "files.h"
#include "json.h"
#include "log.h"
#include "queue.h"
#include "ratelimit.h"
#include "version.h"

#include <civetweb.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define S_WRITER_STACK  (128 * 1024)
#define S_MAX_INBOUND   4096        //  bytes of one client frame; ops are tiny
#define S_CLOSE_TOO_SLOW 4008
#define S_CLOSE_TOO_BIG  1009
#define S_CLOSE_REVOKED  4001           //  the connection's API key was revoked

typedef struct _s_client_t s_client_t;

struct _s_client_t {
    gw_server_t *server;
    struct mg_connection *conn;
    pthread_mutex_t lock;       //  queue, topics and the flags below
    pthread_cond_t wake;        //  the writer waits here
    gw_queue_t queue;
    int topics;
    bool joined;                //  has had its snapshot: gets broadcasts
    bool want_snapshot;
    int close_code;             //  > 0: the writer closes with it; -1: done
    atomic_bool gone;           //  civetweb closed the connection
    pthread_mutex_t write_lock; //  held around mg_websocket_write
    atomic_int refs;
    txw_principal_t who;        //  the key it came with ("" id: --auth off)
    s_client_t *prev, *next;
    char *frame;                //  the writer's buffer
    size_t frame_cap;
};

struct _gw_server_t {
    const gw_server_config_t *cfg;
    gw_metrics_t *m;
    struct mg_context *ctx;
    gw_files_t *files;
    txw_ratelimit_t *handshakes;    //  per client address; NULL: no limit
    const char *protocol_names [1];
    struct mg_websocket_subprotocols protocols;
    pthread_mutex_t lock;       //  the client list
    s_client_t *clients;
    int count;
    atomic_int snapshot_wanted;
    atomic_int writers;
};

void
gw_metrics_init (gw_metrics_t *m)
{
    m->clients = txw_gauge_new ("txw_gateway_clients", NULL, "WebSocket clients connected");
    //  One family after the other: the text format wants them contiguous.
    char labels [GW_TYPE_COUNT][48];
    for (int t = 0; t < GW_TYPE_COUNT; t++) {
        snprintf (labels [t], sizeof labels [t], "type=\"%s\"", gw_type_name (t));
        m->sent [t] = txw_counter_new ("txw_gateway_messages_sent_total", labels [t],
                                       "messages written to clients, by type");
    }
    for (int t = 0; t < GW_TYPE_COUNT; t++)
        m->dropped [t] = txw_counter_new ("txw_gateway_messages_dropped_total", labels [t],
                                          "messages dropped for slow clients, by type");
    m->slow_closes = txw_counter_new ("txw_gateway_slow_client_closes_total", NULL,
        "clients closed with 4008 because an alert or dead letter did not fit their queue");
    m->rejected = txw_counter_new ("txw_gateway_rejected_clients_total", NULL,
                                   "connections refused with 503 beyond --max-clients");
    static const char *const reasons [GW_REFUSED_COUNT] = {
        "reason=\"origin\"", "reason=\"no_key\"", "reason=\"bad_key\"",
        "reason=\"key_store\"", "reason=\"key_limit\"", "reason=\"protocol\"",
        "reason=\"handshake\"", "reason=\"rate\""
    };
    for (int r = 0; r < GW_REFUSED_COUNT; r++)
        m->refused [r] = txw_counter_new ("txw_gateway_refused_upgrades_total", reasons [r],
            "WebSocket handshakes refused: origin 403, no_key and bad_key 401, key_store 503, "
            "key_limit and rate 429, protocol and handshake 400");
    m->bad_client_messages = txw_counter_new ("txw_gateway_bad_client_messages_total", NULL,
                                              "client frames ignored (not JSON, unknown op, too big)");
    m->push_latency = txw_histogram_new ("txw_gateway_push_latency_seconds",
                                         "from an alert's raised time to its write to a client");
}

//  --- Clients -----------------------------------------------------------------

static void
s_client_release (s_client_t *c)
{
    if (atomic_fetch_sub (&c->refs, 1) != 1)
        return;
    gw_queue_fini (&c->queue);
    pthread_mutex_destroy (&c->lock);
    pthread_mutex_destroy (&c->write_lock);
    pthread_cond_destroy (&c->wake);
    free (c->frame);
    free (c);
}

//  Writes one frame unless the connection is gone. Returns mg_websocket_write's result.
static int
s_write (s_client_t *c, int opcode, const char *data, size_t len)
{
    int rc = -1;
    pthread_mutex_lock (&c->write_lock);
    if (!atomic_load (&c->gone))
        rc = mg_websocket_write (c->conn, opcode, data, len);
    pthread_mutex_unlock (&c->write_lock);
    return rc;
}

static int
s_write_close (s_client_t *c, int code, const char *reason)
{
    char payload [64];
    payload [0] = (char) (code >> 8);
    payload [1] = (char) (code & 0xff);
    size_t len = strlen (reason);
    memcpy (payload + 2, reason, len);
    return s_write (c, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload, len + 2);
}

static void
s_discard_queue (s_client_t *c)
{
    gw_item_t item;
    while (gw_queue_pop (&c->queue, &item))
        gw_msg_unref (&item.msg);
}

//  Offers msg to a locked client and applies the flow-control outcome.
static void
s_offer (gw_server_t *self, s_client_t *c, gw_msg_t *msg)
{
    if (c->close_code)
        return;
    gw_push_t rc = gw_queue_push (&c->queue, msg, NULL);
    if (rc == GW_QUEUED)
        pthread_cond_signal (&c->wake);
    else
    if (rc == GW_DROPPED)
        txw_counter_add (self->m->dropped [msg->type], 1);
    else {
        //  An alert, dead letter or snapshot that does not fit: too slow.
        c->close_code = S_CLOSE_TOO_SLOW;
        c->joined = false;
        txw_counter_add (self->m->slow_closes, 1);
        txw_counter_add (self->m->dropped [msg->type], 1);
        pthread_cond_signal (&c->wake);
    }
}

static void
s_written (gw_server_t *self, const gw_msg_t *msg)
{
    txw_counter_add (self->m->sent [msg->type], 1);
    if (msg->type == GW_ALERT && msg->raised_ms > 0)
        txw_histogram_observe_us (self->m->push_latency, txw_now_us () - msg->raised_ms * 1000);
}

//  Appends one unmasked text frame (RFC 6455 5.2) holding msg with seq.
static int
s_append_frame (s_client_t *c, size_t *used, const gw_msg_t *msg, uint64_t seq)
{
    char prefix [64];
    int plen = snprintf (prefix, sizeof prefix, "{\"type\":\"%s\",\"seq\":%llu",
                         gw_type_name (msg->type), (unsigned long long) seq);
    size_t payload = (size_t) plen + msg->len;
    size_t need = *used + 10 + payload;
    if (need > c->frame_cap) {
        size_t cap = c->frame_cap? c->frame_cap: 4096;
        while (cap < need)
            cap *= 2;
        char *grown = realloc (c->frame, cap);
        if (!grown)
            return -1;
        c->frame = grown;
        c->frame_cap = cap;
    }
    unsigned char *h = (unsigned char *) c->frame + *used;
    size_t hlen;
    h [0] = 0x80 | MG_WEBSOCKET_OPCODE_TEXT;
    if (payload < 126) {
        h [1] = (unsigned char) payload;
        hlen = 2;
    }
    else
    if (payload < 65536) {
        h [1] = 126;
        h [2] = (unsigned char) (payload >> 8);
        h [3] = (unsigned char) payload;
        hlen = 4;
    }
    else {
        h [1] = 127;
        for (int i = 0; i < 8; i++)
            h [2 + i] = (unsigned char) ((uint64_t) payload >> (56 - 8 * i));
        hlen = 10;
    }
    memcpy (h + hlen, prefix, (size_t) plen);
    memcpy (h + hlen + plen, msg->tail, msg->len);
    *used += hlen + payload;
    return 0;
}

//  Writes the frames in c->frame with one send: civetweb's
//  mg_websocket_write would make two system calls per frame (header, then
//  payload) and one per message; a writer that fell behind sends what has
//  queued up in one go. The connection lock serialises with civetweb's
//  own writes (pong and close replies from the read loop).
static int
s_write_frames (s_client_t *c, size_t len)
{
    int rc = -1;
    pthread_mutex_lock (&c->write_lock);
    if (!atomic_load (&c->gone)) {
        mg_lock_connection (c->conn);
        rc = mg_write (c->conn, c->frame, len);
        mg_unlock_connection (c->conn);
    }
    pthread_mutex_unlock (&c->write_lock);
    return rc == (int) len? 1: -1;
}

#define S_BATCH_MAX     64          //  messages per send
#define S_BATCH_BYTES   (256 * 1024)

static void *
s_writer (void *arg)
{
    s_client_t *c = arg;
    gw_server_t *self = c->server;
    gw_item_t batch [S_BATCH_MAX];
    pthread_mutex_lock (&c->lock);
    while (true) {
        while (!atomic_load (&c->gone)
           &&  (c->close_code < 0
                || (c->close_code == 0 && c->queue.count == 0 && c->queue.dropped == 0)))
            pthread_cond_wait (&c->wake, &c->lock);
        if (atomic_load (&c->gone))
            break;
        if (c->close_code > 0) {
            int code = c->close_code;
            c->close_code = -1;
            s_discard_queue (c);
            pthread_mutex_unlock (&c->lock);
            const char *why = code == S_CLOSE_REVOKED? "key revoked": "too slow";
            log_info ("closing a client: %s (code %d)", why, code);
            s_write_close (c, code, why);
            pthread_mutex_lock (&c->lock);
            continue;
        }
        int count = 0;
        size_t used = 0;
        bool ok = true;
        while (count < S_BATCH_MAX && used < S_BATCH_BYTES && gw_queue_pop (&c->queue, &batch [count])) {
            if (s_append_frame (c, &used, batch [count].msg, batch [count].seq))
                ok = false;
            count++;
        }
        pthread_mutex_unlock (&c->lock);
        int rc = ok? s_write_frames (c, used): -1;
        for (int i = 0; i < count; i++) {
            if (rc > 0)
                s_written (self, batch [i].msg);
            gw_msg_unref (&batch [i].msg);
        }
        pthread_mutex_lock (&c->lock);
        if (rc <= 0 && !atomic_load (&c->gone)) {
            //  The socket is broken; civetweb's read loop will see it too.
            log_debug ("write to a client failed: dropping its queue");
            c->close_code = -1;
            c->joined = false;
            s_discard_queue (c);
        }
    }
    pthread_mutex_unlock (&c->lock);
    s_client_release (c);
    atomic_fetch_sub (&self->writers, 1);
    return NULL;
}

static void
s_want_snapshot (gw_server_t *self, s_client_t *c)
{
    pthread_mutex_lock (&c->lock);
    c->want_snapshot = true;
    pthread_mutex_unlock (&c->lock);
    atomic_store (&self->snapshot_wanted, 1);
    ssize_t n = write (self->cfg->wake_fd, "s", 1);
    (void) n;       //  a full pipe already means "wake up"
}

//  An error answer: a JSON body with static text (nothing of the request
//  is echoed; none at all for HEAD), the security headers and extra
//  (whole header lines, or "").
static void
s_reply_error (const struct mg_connection *conn, int status, const char *reason,
               const char *error, const char *message, const char *extra)
{
    char body [320];
    int len = snprintf (body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}", error, message);
    bool head = !strcmp (mg_get_request_info (conn)->request_method, "HEAD");
    mg_printf ((struct mg_connection *) conn,
               "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nCache-Control: no-store\r\n" GW_SECURITY_HEADERS
               "Content-Security-Policy: " GW_CSP_NONE "\r\n%sConnection: close\r\n\r\n%s",
               status, reason, len, extra, head? "": body);
}

//  Refuses a handshake for reason: counts it and answers.
static int
s_refuse (gw_server_t *self, const struct mg_connection *conn, gw_refused_t reason)
{
    static const struct {
        int status;
        const char *phrase, *error, *message, *extra;
    } s_answers [GW_REFUSED_COUNT] = {
        [GW_REFUSED_ORIGIN] = { 403, "Forbidden", "forbidden",
            "this Origin may not open the feed (see --allowed-origins)", "" },
        [GW_REFUSED_NO_KEY] = { 401, "Unauthorized", "unauthorized",
            "an API key is required: offer the subprotocols txwatch and txwatch.key.<key>",
            "WWW-Authenticate: Bearer realm=\"txwatch\"\r\n" },
        [GW_REFUSED_BAD_KEY] = { 401, "Unauthorized", "unauthorized",
            "the API key is not valid (malformed, unknown or revoked)",
            "WWW-Authenticate: Bearer realm=\"txwatch\"\r\n" },
        [GW_REFUSED_KEY_STORE] = { 503, "Service Unavailable", "unavailable",
            "API keys cannot be checked now", "Retry-After: 5\r\n" },
        [GW_REFUSED_KEY_LIMIT] = { 429, "Too Many Requests", "too_many_connections",
            "this API key has the most connections allowed (--max-clients-per-key)",
            "Retry-After: 5\r\n" },
        [GW_REFUSED_PROTOCOL] = { 400, "Bad Request", "bad_protocol",
            "a key given as subprotocol needs the subprotocol txwatch offered too", "" },
        [GW_REFUSED_HANDSHAKE] = { 400, "Bad Request", "bad_handshake",
            "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455)", "" },
        [GW_REFUSED_RATE] = { 429, "Too Many Requests", "too_many_requests",
            "too many handshakes from this address (--handshakes-per-client)", "Retry-After: 1\r\n" },
    };
    txw_counter_add (self->m->refused [reason], 1);
    s_reply_error (conn, s_answers [reason].status, s_answers [reason].phrase,
                   s_answers [reason].error, s_answers [reason].message, s_answers [reason].extra);
    return 1;
}

//  Who opens this connection: 0 with *who set, or 1 once refused.
static int
s_authenticate (gw_server_t *self, const struct mg_connection *conn, txw_principal_t *who)
{
    memset (who, 0, sizeof *who);
    if (self->cfg->auth_off) {
        snprintf (who->name, sizeof who->name, "anonymous (--auth off)");
        who->role = TXW_ROLE_VIEWER;
        return 0;
    }
    if (!self->cfg->keys)
        return s_refuse (self, conn, GW_REFUSED_KEY_STORE);
    size_t len = 0;
    const char *key = txw_apikey_presented (mg_get_header (conn, "Authorization"),
                                            mg_get_header (conn, "X-API-Key"), NULL, &len);
    //  Sec-WebSocket-Protocol may come in several header lines.
    const struct mg_request_info *req = mg_get_request_info (conn);
    bool as_protocol = false;
    for (int i = 0; !key && i < req->num_headers; i++)
        if (!strcasecmp (req->http_headers [i].name, "Sec-WebSocket-Protocol")) {
            key = txw_apikey_presented (NULL, NULL, req->http_headers [i].value, &len);
            as_protocol = key != NULL;
        }
    //  civetweb selects only `txwatch`; without it the answer would name no
    //  protocol and a browser would fail the connection anyway.
    if (as_protocol && !req->acceptedWebSocketSubprotocol)
        return s_refuse (self, conn, GW_REFUSED_PROTOCOL);
    txw_auth_t auth = txw_keystore_verify (self->cfg->keys, key, len, txw_mono_ms (), who);
    if (auth == TXW_AUTH_OK)
        return 0;
    return s_refuse (self, conn, auth == TXW_AUTH_MISSING? GW_REFUSED_NO_KEY:
                                 auth == TXW_AUTH_INVALID? GW_REFUSED_BAD_KEY:
                                 GW_REFUSED_KEY_STORE);
}

//  The connections of key_id. Called with the client list locked.
static int64_t
s_key_clients (gw_server_t *self, const char *key_id)
{
    int64_t count = 0;
    for (s_client_t *c = self->clients; c; c = c->next)
        if (!strcmp (c->who.key_id, key_id))
            count++;
    return count;
}

static int
s_ws_connect (const struct mg_connection *conn, void *arg)
{
    gw_server_t *self = arg;
    const struct mg_request_info *req = mg_get_request_info (conn);
    //  Each handshake may cost a key lookup: limited per address first.
    char client [TXW_RATELIMIT_KEY_MAX + 1];
    txw_ratelimit_client_key (req->remote_addr, client, sizeof client);
    if (self->handshakes && txw_ratelimit_take (self->handshakes, client, txw_mono_ms ()))
        return s_refuse (self, conn, GW_REFUSED_RATE);
    //  civetweb fails the handshake after this handler accepted it when the
    //  key is longer than it expects, and then never calls the close
    //  handler: the client's slot would be held for ever. RFC 6455 says 16
    //  bytes in base64, 24 characters; anything else is refused here.
    const char *ws_key = mg_get_header (conn, "Sec-WebSocket-Key");
    if (!ws_key || strlen (ws_key) != 24)
        return s_refuse (self, conn, GW_REFUSED_HANDSHAKE);
    if (!gw_origin_allowed (self->cfg->origins, mg_get_header (conn, "Origin"),
                            mg_get_header (conn, "Host")))
        return s_refuse (self, conn, GW_REFUSED_ORIGIN);
    txw_principal_t who;
    if (s_authenticate (self, conn, &who))
        return 1;
    int topics = GW_TOPICS_DEFAULT;
    if (req->query_string) {
        char list [256];
        int len = mg_get_var (req->query_string, strlen (req->query_string), "topics",
                              list, sizeof list);
        if (len >= 0)
            topics = gw_topics_parse_list (list);
        if (len == -2 || topics < 0) {
            s_reply_error (conn, 400, "Bad Request", "bad_parameter",
                           "topics: a comma list of alerts, stats, windows, dead_letters", "");
            return 1;
        }
    }
    s_client_t *c = calloc (1, sizeof *c);
    if (!c || gw_queue_init (&c->queue, (uint32_t) self->cfg->client_queue)) {
        free (c);
        s_reply_error (conn, 503, "Service Unavailable", "unavailable", "out of memory", "");
        return 1;
    }
    pthread_mutex_lock (&self->lock);
    if (*who.key_id && s_key_clients (self, who.key_id) >= self->cfg->max_clients_per_key) {
        pthread_mutex_unlock (&self->lock);
        gw_queue_fini (&c->queue);
        free (c);
        log_debug ("refused a connection of key %s (%s): %lld open", who.key_id, who.name,
                   (long long) self->cfg->max_clients_per_key);
        return s_refuse (self, conn, GW_REFUSED_KEY_LIMIT);
    }
    if (self->count >= self->cfg->max_clients) {
        pthread_mutex_unlock (&self->lock);
        gw_queue_fini (&c->queue);
        free (c);
        txw_counter_add (self->m->rejected, 1);
        s_reply_error (conn, 503, "Service Unavailable", "unavailable", "too many clients", "");
        return 1;
    }
    c->server = self;
    c->conn = (struct mg_connection *) conn;
    c->topics = topics;
    c->who = who;
    atomic_init (&c->refs, 1);
    atomic_init (&c->gone, false);
    pthread_mutex_init (&c->lock, NULL);
    pthread_mutex_init (&c->write_lock, NULL);
    pthread_cond_init (&c->wake, NULL);
    c->next = self->clients;
    if (self->clients)
        self->clients->prev = c;
    self->clients = c;
    self->count++;
    txw_gauge_set (self->m->clients, self->count);
    pthread_mutex_unlock (&self->lock);
    mg_set_user_connection_data (conn, c);
    log_debug ("client of key %s (%s, %s) connected", *who.key_id? who.key_id: "-", who.name,
               txw_role_name (who.role));
    return 0;
}

static gw_msg_t *
s_hello (gw_server_t *self, int topics)
{
    json_t *body = json_pack ("{s:s,s:o,s:I}", "server", "txw-gateway " TXW_VERSION,
                              "topics", gw_topics_json (topics),
                              "queue", (json_int_t) self->cfg->client_queue);
    gw_msg_t *msg = body? gw_msg_new (GW_HELLO, body): NULL;
    json_decref (body);
    return msg;
}

static void
s_ws_ready (struct mg_connection *conn, void *arg)
{
    gw_server_t *self = arg;
    s_client_t *c = mg_get_user_connection_data (conn);
    if (!c)
        return;
    c->conn = conn;
    gw_msg_t *hello = s_hello (self, c->topics);
    pthread_mutex_lock (&c->lock);
    if (hello)
        gw_queue_push (&c->queue, hello, NULL);
    pthread_mutex_unlock (&c->lock);
    gw_msg_unref (&hello);

    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setstacksize (&attr, S_WRITER_STACK);
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    atomic_fetch_add (&c->refs, 1);
    atomic_fetch_add (&self->writers, 1);
    int rc = pthread_create (&thread, &attr, s_writer, c);
    pthread_attr_destroy (&attr);
    if (rc) {
        atomic_fetch_sub (&c->refs, 1);
        atomic_fetch_sub (&self->writers, 1);
        log_error ("cannot start a client writer: %s", strerror (rc));
        s_write_close (c, 1013, "try again later");
        return;
    }
    s_want_snapshot (self, c);
}

static void
s_client_op (gw_server_t *self, s_client_t *c, const char *data, size_t len)
{
    json_error_t error;
    json_t *o = json_loadb (data, len, JSON_REJECT_DUPLICATES, &error);
    const char *op = json_is_object (o)? json_string_value (json_object_get (o, "op")): NULL;
    if (!op) {
        txw_counter_add (self->m->bad_client_messages, 1);
        log_debug ("ignored a client frame that is not {\"op\":...}: %s", o? "no op": error.text);
    }
    else
    if (!strcmp (op, "resync"))
        s_want_snapshot (self, c);
    else
    if (!strcmp (op, "ping")) {
        gw_msg_t *pong = gw_msg_new (GW_PONG, NULL);
        if (pong) {
            pthread_mutex_lock (&c->lock);
            s_offer (self, c, pong);
            pthread_mutex_unlock (&c->lock);
            gw_msg_unref (&pong);
        }
    }
    else
    if (!strcmp (op, "subscribe")) {
        json_t *list = json_object_get (o, "topics");
        int topics = json_is_array (list)? 0: -1;
        size_t i;
        json_t *name;
        json_array_foreach (list, i, name) {
            const char *s = json_string_value (name);
            int bit = s? gw_topic_parse (s, strlen (s)): 0;
            if (!bit)
                topics = -1;
            if (topics >= 0)
                topics |= bit;
        }
        if (topics < 0) {
            txw_counter_add (self->m->bad_client_messages, 1);
            log_debug ("ignored a subscribe op with bad topics");
        }
        else {
            pthread_mutex_lock (&c->lock);
            c->topics = topics;
            pthread_mutex_unlock (&c->lock);
            s_want_snapshot (self, c);
        }
    }
    else {
        txw_counter_add (self->m->bad_client_messages, 1);
        log_debug ("ignored an unknown client op");
    }
    json_decref (o);
}

static int
s_ws_data (struct mg_connection *conn, int bits, char *data, size_t len, void *arg)
{
    gw_server_t *self = arg;
    s_client_t *c = mg_get_user_connection_data (conn);
    int opcode = bits & 0x0f;
    if (!c || opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (len > S_MAX_INBOUND) {
        txw_counter_add (self->m->bad_client_messages, 1);
        log_debug ("closing a client that sent a frame of %zu bytes (limit %d)", len, S_MAX_INBOUND);
        s_write_close (c, S_CLOSE_TOO_BIG, "frame too big");
        return 0;
    }
    if (opcode == MG_WEBSOCKET_OPCODE_TEXT || opcode == MG_WEBSOCKET_OPCODE_BINARY)
        s_client_op (self, c, data, len);
    return 1;
}

static void
s_ws_close (const struct mg_connection *conn, void *arg)
{
    gw_server_t *self = arg;
    s_client_t *c = mg_get_user_connection_data (conn);
    if (!c)
        return;
    pthread_mutex_lock (&self->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        self->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    self->count--;
    txw_gauge_set (self->m->clients, self->count);
    pthread_mutex_unlock (&self->lock);

    pthread_mutex_lock (&c->lock);
    c->joined = false;
    atomic_store (&c->gone, true);
    pthread_cond_signal (&c->wake);
    pthread_mutex_unlock (&c->lock);
    //  civetweb reuses conn after this returns: wait out a write in progress.
    pthread_mutex_lock (&c->write_lock);
    pthread_mutex_unlock (&c->write_lock);
    mg_set_user_connection_data (conn, NULL);
    s_client_release (c);
}

//  --- HTTP ------------------------------------------------------------------------

#define S_CSP_MAX   2048

//  Sends a 200 with the security headers; HTML gets the dashboard's policy.
static void
s_reply (gw_server_t *self, struct mg_connection *conn, const char *type, const char *cache,
         const char *body, size_t len, bool head)
{
    char csp [S_CSP_MAX];
    if (!strncmp (type, "text/html", 9))
        gw_csp_document (self->cfg->api_url, mg_get_header (conn, "Host"), csp, sizeof csp);
    else
        snprintf (csp, sizeof csp, "%s", GW_CSP_NONE);
    mg_printf (conn, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
               "Cache-Control: %s\r\n" GW_SECURITY_HEADERS "Content-Security-Policy: %s\r\n\r\n",
               type, len, cache, csp);
    if (!head && len)
        mg_write (conn, body, len);
}

//  {"api_url":...}: a value starting with ':' is the page's own host on
//  that port, resolved here from the Host header when there is one.
static int
s_config_json (gw_server_t *self, struct mg_connection *conn, bool head)
{
    char url [512];
    gw_api_url_resolve (self->cfg->api_url, mg_get_header (conn, "Host"), url, sizeof url);
    json_t *o = json_pack ("{s:o}", "api_url", txw_json_string (url));
    char *body = o? json_dumps (o, JSON_COMPACT): NULL;
    json_decref (o);
    if (!body) {
        s_reply_error (conn, 500, "Internal Server Error", "internal", "out of memory", "");
        return 500;
    }
    s_reply (self, conn, "application/json", "no-store", body, strlen (body), head);
    free (body);
    return 200;
}

//  Every HTTP request that is not a WebSocket handshake: /config.json and
//  the dashboard's files, matched exactly on the path as sent (civetweb's
//  decode_url is off, and its cleaned local_uri is not used).
static int
s_http (struct mg_connection *conn, void *arg)
{
    gw_server_t *self = arg;
    const struct mg_request_info *req = mg_get_request_info (conn);
    const char *path = req->local_uri_raw;
    bool head = !strcmp (req->request_method, "HEAD");
    if (strcmp (req->request_method, "GET") && !head) {
        s_reply_error (conn, 405, "Method Not Allowed", "method_not_allowed", "use GET",
                       "Allow: GET, HEAD\r\n");
        return 405;
    }
    if (path && !strcmp (path, "/config.json"))
        return s_config_json (self, conn, head);
    const gw_file_t *file = gw_files_find (self->files, path);
    if (!file) {
        s_reply_error (conn, 404, "Not Found", "not_found", "no such file", "");
        return 404;
    }
    //  The bundle's names do not change with its content: revalidate.
    s_reply (self, conn, file->type, "no-cache", file->data, file->size, head);
    return 200;
}

static int
s_civetweb_log (const struct mg_connection *conn, const char *message)
{
    (void) conn;
    log_debug ("civetweb: %s", message);
    return 1;
}

gw_server_t *
gw_server_new (const gw_server_config_t *cfg, gw_metrics_t *m)
{
    gw_server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->m = m;
    gw_metrics_init (m);
    self->files = gw_files_load (cfg->document_root);
    if (!self->files) {
        log_error ("out of memory reading the dashboard's files");
        free (self);
        return NULL;
    }
    if (cfg->handshakes_per_client > 0) {
        self->handshakes = txw_ratelimit_new (cfg->handshakes_per_client,
                                              (int) (cfg->handshakes_per_client * 4 + 1), 4096);
        if (!self->handshakes) {
            gw_files_destroy (&self->files);
            free (self);
            return NULL;
        }
    }
    pthread_mutex_init (&self->lock, NULL);
    char threads [24];
    snprintf (threads, sizeof threads, "%lld", (long long) cfg->threads);
    const char *options [24];
    int n = 0;
    options [n++] = "listening_ports";
    options [n++] = cfg->listen;
    options [n++] = "num_threads";
    options [n++] = threads;
    //  The time a request's headers have to arrive (civetweb checks it
    //  after every read, so a client that trickles them is dropped soon
    //  after) and a write may block on a stalled client (see server.h).
    options [n++] = "request_timeout_ms";
    options [n++] = "10000";
    //  Pushes are small frames: without it Nagle holds one back until the
    //  client's delayed ACK, 40 ms.
    options [n++] = "tcp_nodelay";
    options [n++] = "1";
    //  No document_root, ever: civetweb's file serving (and the directory
    //  redirect of CVE-2025-55763 in it) must not run; files.h serves the
    //  bundle. Listings off too, should a later change set a root again.
    options [n++] = "enable_directory_listing";
    options [n++] = "no";
    //  Paths are matched as sent (files.h): no %-decoding before.
    options [n++] = "decode_url";
    options [n++] = "no";
    //  On civetweb's own answers (a malformed request, a header too big):
    //  the gateway's answers add these itself.
    options [n++] = "additional_header";
    options [n++] = GW_SECURITY_HEADERS "Content-Security-Policy: " GW_CSP_NONE;
    options [n] = NULL;
    struct mg_callbacks callbacks;
    memset (&callbacks, 0, sizeof callbacks);
    callbacks.log_message = s_civetweb_log;
    self->ctx = mg_start (&callbacks, self, options);
    if (!self->ctx) {
        log_error ("cannot listen on %s (or start %s threads)", cfg->listen, threads);
        gw_files_destroy (&self->files);
        txw_ratelimit_destroy (&self->handshakes);
        pthread_mutex_destroy (&self->lock);
        free (self);
        return NULL;
    }
    mg_set_request_handler (self->ctx, "/", s_http, self);
    //  The one protocol the handshake can select: civetweb picks the first
    //  offered one in this list, so the key (txwatch.key.<key>) is never
    //  echoed back. Without a list it would echo the last one offered.
    self->protocol_names [0] = GW_PROTOCOL;
    self->protocols = (struct mg_websocket_subprotocols) { 1, self->protocol_names };
    mg_set_websocket_handler_with_subprotocols (self->ctx, "/ws$", &self->protocols,
        s_ws_connect, s_ws_ready, s_ws_data, s_ws_close, self);
    return self;
}

void
gw_server_destroy (gw_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_server_t *self = *self_p;
    mg_stop (self->ctx);
    //  Every close handler has run: writers leave as soon as they wake.
    int64_t deadline = txw_mono_ms () + 5000;
    while (atomic_load (&self->writers) > 0 && txw_mono_ms () < deadline)
        usleep (10000);
    if (atomic_load (&self->writers) > 0)
        log_warn ("%d client writers still busy at exit", atomic_load (&self->writers));
    gw_files_destroy (&self->files);
    txw_ratelimit_destroy (&self->handshakes);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void
gw_server_broadcast (gw_server_t *self, gw_msg_t *msg)
{
    int topic = gw_type_topic (msg->type);
    pthread_mutex_lock (&self->lock);
    for (s_client_t *c = self->clients; c; c = c->next) {
        pthread_mutex_lock (&c->lock);
        if (c->joined && (!topic || (c->topics & topic)))
            s_offer (self, c, msg);
        pthread_mutex_unlock (&c->lock);
    }
    pthread_mutex_unlock (&self->lock);
}

void
gw_server_serve_snapshots (gw_server_t *self, gw_msg_t *(*build) (void *arg), void *arg)
{
    if (!atomic_exchange (&self->snapshot_wanted, 0))
        return;
    gw_msg_t *snapshot = build (arg);
    if (!snapshot) {
        atomic_store (&self->snapshot_wanted, 1);
        return;
    }
    pthread_mutex_lock (&self->lock);
    for (s_client_t *c = self->clients; c; c = c->next) {
        pthread_mutex_lock (&c->lock);
        if (c->want_snapshot) {
            c->want_snapshot = false;
            s_offer (self, c, snapshot);
            if (!c->close_code)
                c->joined = true;
        }
        pthread_mutex_unlock (&c->lock);
    }
    pthread_mutex_unlock (&self->lock);
    gw_msg_unref (&snapshot);
}

int
gw_server_end_revoked (gw_server_t *self, int64_t now_ms)
{
    if (!self->cfg->keys)
        return 0;
    //  The distinct keys of the connected clients, checked outside the
    //  lock: a check may ask the database.
    typedef struct { char id [TXW_APIKEY_ID_LEN + 1]; bool revoked; } s_key_t;
    s_key_t *keys = NULL;
    int count = 0, cap = 0;
    pthread_mutex_lock (&self->lock);
    for (s_client_t *c = self->clients; c; c = c->next) {
        if (!*c->who.key_id)
            continue;
        int i = 0;
        while (i < count && strcmp (keys [i].id, c->who.key_id))
            i++;
        if (i < count)
            continue;
        if (count == cap) {
            s_key_t *grown = realloc (keys, (cap? cap * 2: 16) * sizeof *keys);
            if (!grown)
                break;
            keys = grown;
            cap = cap? cap * 2: 16;
        }
        snprintf (keys [count].id, sizeof keys [count].id, "%s", c->who.key_id);
        keys [count++].revoked = false;
    }
    pthread_mutex_unlock (&self->lock);
    int revoked = 0;
    for (int i = 0; i < count; i++)
        if (txw_keystore_active (self->cfg->keys, keys [i].id, now_ms) == TXW_AUTH_INVALID)
            keys [i].revoked = ++revoked > 0;
    int closed = 0;
    if (revoked) {
        pthread_mutex_lock (&self->lock);
        for (s_client_t *c = self->clients; c; c = c->next)
            for (int i = 0; i < count; i++)
                if (keys [i].revoked && !strcmp (keys [i].id, c->who.key_id)) {
                    pthread_mutex_lock (&c->lock);
                    if (c->close_code == 0) {
                        c->close_code = S_CLOSE_REVOKED;
                        c->joined = false;
                        pthread_cond_signal (&c->wake);
                        closed++;
                    }
                    pthread_mutex_unlock (&c->lock);
                }
        pthread_mutex_unlock (&self->lock);
        log_info ("%d connections of %d revoked API keys closed", closed, revoked);
    }
    free (keys);
    return closed;
}

int
gw_server_clients (gw_server_t *self)
{
    pthread_mutex_lock (&self->lock);
    int count = self->count;
    pthread_mutex_unlock (&self->lock);
    return count;
}
