/*  tail - live events from the push gateway, one line each                 */

#include "tail.h"
#include "api.h"
#include "render.h"
#include "rfc3339.h"
#include "clock.h"

#include <civetweb.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAX_MESSAGE   (64 * 1024 * 1024)
#define S_PAUSE_MAX_MS  10000
#define S_PROTOCOL      "txwatch"
#define S_KEY_PROTOCOL  "txwatch.key."

typedef struct {
    bool json;
    long count;                 //  stop after this many lines (0: never)
    long printed;
    uint64_t last_seq;          //  0 until the first message of a connection
    char *buf;                  //  a message arriving in fragments
    size_t len, cap;
    atomic_bool closed;
    atomic_bool done;
    atomic_int verdict;         //  the handshake's subprotocol: 0 not checked yet, 1 fine, -1 not
} s_tail_t;

static volatile sig_atomic_t s_interrupted = 0;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_interrupted = 1;
}

bool
ctl_tail_topics_valid (const char *topics)
{
    static const char *const names [] = { "alerts", "stats", "windows", "dead_letters" };
    const char *p = topics;
    if (!*p)
        return false;
    while (*p) {
        size_t len = strcspn (p, ",");
        bool known = len == 0;
        for (int i = 0; i < 4 && !known; i++)
            known = strlen (names [i]) == len && !strncmp (names [i], p, len);
        if (!known)
            return false;
        p += len + (p [len] == ','? 1: 0);
    }
    return true;
}

//  Prints one line: local time, then the text.
static void
s_line (s_tail_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_line (s_tail_t *self, const char *fmt, ...)
{
    char now [RFC3339_SIZE];
    rfc3339_format (now, sizeof now, txw_now_ms ());
    printf ("%s ", now);
    va_list args;
    va_start (args, fmt);
    vprintf (fmt, args);
    va_end (args);
    putchar ('\n');
    fflush (stdout);
    if (self->count && ++self->printed >= self->count)
        atomic_store (&self->done, true);
}

static void
s_print_alert (s_tail_t *self, json_t *a)
{
    char score [16], amount [64], reasons [256];
    s_line (self, "alert %s score=%s account=%s amount=%s reasons=%s region=%s",
            ctl_str (a, "key"), ctl_text (json_object_get (a, "score"), score, sizeof score),
            *ctl_str (a, "account_id")? ctl_str (a, "account_id"): "-",
            ctl_money (json_object_get (a, "amount_minor"), ctl_str (a, "currency"), amount, sizeof amount),
            ctl_reasons (json_object_get (a, "reasons"), reasons, sizeof reasons),
            *ctl_str (a, "region")? ctl_str (a, "region"): "-");
}

static void
s_print_stats (s_tail_t *self, const char *type, json_t *m)
{
    json_t *s = json_object_get (m, "stats");
    char count [32], rate [32], approved [16], flagged [32], volume [64];
    char extra [64] = "";
    if (!strcmp (type, "snapshot"))
        snprintf (extra, sizeof extra, " alerts=%zu", json_array_size (json_object_get (m, "alerts")));
    s_line (self, "%s%s count=%s tx/s=%s volume=%s approved=%s flagged=%s", type, extra,
            ctl_text (json_object_get (s, "count"), count, sizeof count),
            ctl_text (json_object_get (s, "tx_per_s"), rate, sizeof rate),
            ctl_money (json_object_get (s, "volume_minor"), ctl_str (s, "currency"), volume, sizeof volume),
            ctl_percent (json_object_get (s, "approval_rate"), approved, sizeof approved),
            ctl_text (json_object_get (s, "flagged"), flagged, sizeof flagged));
}

static void
s_print_window (s_tail_t *self, json_t *w)
{
    char count [32], volume [32], flagged [32];
    s_line (self, "window %s/%s start=%s count=%s volume_minor=%s flagged=%s%s",
            ctl_str (w, "dimension"), ctl_str (w, "key"), ctl_str (w, "window_start"),
            ctl_text (json_object_get (w, "count"), count, sizeof count),
            ctl_text (json_object_get (w, "volume_minor"), volume, sizeof volume),
            ctl_text (json_object_get (w, "flagged"), flagged, sizeof flagged),
            json_is_true (json_object_get (w, "closed"))? " closed": "");
}

static void
s_print_dead_letter (s_tail_t *self, json_t *d)
{
    char tx [80], field [48];
    s_line (self, "dead_letter reason=%s tx=%s field=%s %s", ctl_str (d, "reason"),
            ctl_text (json_object_get (d, "tx_id"), tx, sizeof tx),
            ctl_text (json_object_get (d, "field"), field, sizeof field), ctl_str (d, "message"));
}

static void
s_resync (struct mg_connection *conn)
{
    static const char op [] = "{\"op\":\"resync\"}";
    if (mg_websocket_client_write (conn, MG_WEBSOCKET_OPCODE_TEXT, op, sizeof op - 1) <= 0)
        fprintf (stderr, "txwctl tail: could not ask for a re-sync\n");
}

//  One whole text message from the gateway.
static void
s_message (s_tail_t *self, struct mg_connection *conn, const char *text, size_t len)
{
    json_t *m = json_loadb (text, len, 0, NULL);
    const char *type = m? ctl_str (m, "type"): "";
    json_t *seq_json = m? json_object_get (m, "seq"): NULL;
    uint64_t seq = json_is_integer (seq_json)? (uint64_t) json_integer_value (seq_json): 0;
    bool jumped = self->last_seq && seq != self->last_seq + 1;
    uint64_t expected = self->last_seq + 1;
    if (seq)
        self->last_seq = seq;
    if (self->json) {
        //  the JSON as received, one line (frames never hold raw newlines)
        printf ("%.*s\n", (int) len, text);
        fflush (stdout);
        if (self->count && ++self->printed >= self->count)
            atomic_store (&self->done, true);
    }
    else
    if (!m)
        s_line (self, "unreadable message (%zu bytes, not JSON)", len);
    else
    if (!strcmp (type, "hello")) {
        char topics [128] = "";
        size_t i, o = 0;
        json_t *t;
        json_array_foreach (json_object_get (m, "topics"), i, t) {
            int n = snprintf (topics + o, sizeof topics - o, "%s%s", i? ",": "",
                              json_string_value (t)? json_string_value (t): "");
            if (n < 0 || (size_t) n >= sizeof topics - o)
                break;
            o += (size_t) n;
        }
        s_line (self, "hello server=\"%s\" topics=%s", ctl_str (m, "server"), topics);
    }
    else
    if (!strcmp (type, "snapshot") || !strcmp (type, "stats"))
        s_print_stats (self, type, m);
    else
    if (!strcmp (type, "alert"))
        s_print_alert (self, json_object_get (m, "alert"));
    else
    if (!strcmp (type, "window"))
        s_print_window (self, json_object_get (m, "window"));
    else
    if (!strcmp (type, "dead_letter"))
        s_print_dead_letter (self, json_object_get (m, "dead_letter"));
    else
    if (!strcmp (type, "gap")) {
        char dropped [32];
        s_line (self, "gap dropped=%s reason=%s: re-sync requested",
                ctl_text (json_object_get (m, "dropped"), dropped, sizeof dropped),
                ctl_str (m, "reason"));
    }
    else
    if (strcmp (type, "pong"))
        s_line (self, "%s (unknown message type)", *type? type: "?");
    if (jumped && !atomic_load (&self->done)) {
        fprintf (stderr, "txwctl tail: seq jumped from %llu to %llu: %llu messages lost\n",
                 (unsigned long long) (expected - 1), (unsigned long long) seq,
                 (unsigned long long) (seq - expected));
        if (self->json || strcmp (type, "gap"))
            s_line (self, "seq_jump expected=%llu got=%llu: re-sync requested",
                    (unsigned long long) expected, (unsigned long long) seq);
    }
    if (jumped || !strcmp (type, "gap"))
        s_resync (conn);
    json_decref (m);
}

static int
s_on_data (struct mg_connection *conn, int flags, char *data, size_t len, void *arg)
{
    s_tail_t *self = arg;
    int opcode = flags & 0x0f;
    bool fin = flags & 0x80;
    if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (opcode != MG_WEBSOCKET_OPCODE_TEXT && opcode != MG_WEBSOCKET_OPCODE_CONTINUATION)
        return 1;               //  pings are answered by civetweb
    //  civetweb's reader starts before s_connect has looked at the answer
    while (atomic_load (&self->verdict) == 0)
        usleep (1000);
    if (atomic_load (&self->verdict) < 0)
        return 0;
    if (atomic_load (&self->done) || s_interrupted)
        return 0;
    if (fin && self->len == 0) {
        s_message (self, conn, data, len);
        return 1;
    }
    if (self->len + len > S_MAX_MESSAGE) {
        fprintf (stderr, "txwctl tail: message over %d bytes, reconnecting\n", S_MAX_MESSAGE);
        self->len = 0;
        return 0;
    }
    if (self->len + len > self->cap) {
        size_t cap = self->cap? self->cap: 65536;
        while (cap < self->len + len)
            cap *= 2;
        char *grown = realloc (self->buf, cap);
        if (!grown)
            return 0;
        self->buf = grown;
        self->cap = cap;
    }
    memcpy (self->buf + self->len, data, len);
    self->len += len;
    if (fin) {
        s_message (self, conn, self->buf, self->len);
        self->len = 0;
    }
    return 1;
}

static void
s_on_close (const struct mg_connection *conn, void *arg)
{
    (void) conn;
    s_tail_t *self = arg;
    atomic_store (&self->closed, true);
}

typedef struct {
    char host [256];
    int port;
    bool tls;
    char path [1024];
} s_target_t;

//  Splits ws[s]://host[:port][/path][?query] and adds topics to the query.
static int
s_parse_url (const char *url, const char *topics, s_target_t *t)
{
    const char *p;
    if (!strncmp (url, "ws://", 5)) {
        t->tls = false;
        p = url + 5;
    }
    else
    if (!strncmp (url, "wss://", 6)) {
        t->tls = true;
        p = url + 6;
    }
    else
        return -1;
    size_t hostport = strcspn (p, "/?");
    const char *rest = p + hostport;
    const char *colon = NULL;
    if (*p == '[') {
        const char *close = memchr (p, ']', hostport);
        if (!close)
            return -1;
        snprintf (t->host, sizeof t->host, "%.*s", (int) (close - p - 1), p + 1);
        colon = close + 1 < rest && close [1] == ':'? close + 1: NULL;
    }
    else {
        colon = memchr (p, ':', hostport);
        size_t host_len = colon? (size_t) (colon - p): hostport;
        if (host_len == 0 || host_len >= sizeof t->host)
            return -1;
        snprintf (t->host, sizeof t->host, "%.*s", (int) host_len, p);
    }
    t->port = t->tls? 443: 80;
    if (colon) {
        char *end;
        long port = strtol (colon + 1, &end, 10);
        if (end != rest || port < 1 || port > 65535)
            return -1;
        t->port = (int) port;
    }
    char *encoded = ctl_url_encode (topics);
    if (!encoded)
        return -1;
    int n = snprintf (t->path, sizeof t->path, "%s%stopics=%s", *rest == '/'? rest: "/",
                      strchr (rest, '?')? "&": (*rest == '?'? "&": "?"), encoded);
    if (*rest == '?')           //  no path, only a query
        n = snprintf (t->path, sizeof t->path, "/%s&topics=%s", rest, encoded);
    free (encoded);
    return n > 0 && (size_t) n < sizeof t->path? 0: -1;
}

//  The subprotocol the gateway selected, checked: returns true for
//  "txwatch", none (an older gateway) or the key's (civetweb's answer when
//  the handler does not choose: the last one offered).
static bool
s_protocol_fine (struct mg_connection *conn, char *error, size_t size)
{
    const char *selected = mg_get_header (conn, "Sec-WebSocket-Protocol");
    if (!selected || !strcmp (selected, S_PROTOCOL)
    ||  !strncmp (selected, S_KEY_PROTOCOL, sizeof S_KEY_PROTOCOL - 1))
        return true;
    snprintf (error, size, "the gateway selected the subprotocol \"%.64s\", not " S_PROTOCOL,
              selected);
    return false;
}

//  Connects with the handshake's extra header (see ctl_tail); NULL with
//  error set when it fails or the gateway selects a protocol not offered.
static struct mg_connection *
s_connect (const s_target_t *t, s_tail_t *self, const char *header, char *error, size_t size)
{
    atomic_store (&self->closed, false);
    atomic_store (&self->verdict, 0);
    self->last_seq = 0;
    self->len = 0;
    error [0] = 0;
    struct mg_connection *conn = mg_connect_websocket_client_extensions (
        t->host, t->port, t->tls, error, size, t->path, NULL, header, s_on_data, s_on_close, self);
    if (conn && !s_protocol_fine (conn, error, size)) {
        atomic_store (&self->verdict, -1);
        mg_close_connection (conn);
        return NULL;
    }
    atomic_store (&self->verdict, 1);
    return conn;
}

//  Says why a connection failed; after the gateway refused the upgrade
//  (a 401 without a good key), once, how to give a key.
static void
s_cannot_connect (ctl_api_t *api, const char *url, const char *error, bool *hinted)
{
    fprintf (stderr, "txwctl tail: cannot connect to %s: %s\n", url, *error? error: "refused");
    if (!*hinted && !strcmp (error, "Unexpected server reply")) {
        char hint [1400];
        fprintf (stderr, "txwctl tail: the gateway refused the WebSocket upgrade, as it does"
                 " without a valid API key; %s\n", ctl_api_key_hint (api, 401, hint, sizeof hint));
        *hinted = true;
    }
}

int
ctl_tail (ctl_api_t *api, const char *url, const char *topics, long count)
{
    s_target_t target;
    if (s_parse_url (url, topics, &target)) {
        fprintf (stderr, "txwctl tail: '%s' is not a ws:// or wss:// URL (TXW_GATEWAY_URL)\n", url);
        return CTL_USAGE;
    }
    const char *key;
    if (ctl_api_key (api, &key))
        return CTL_USAGE;
    //  civetweb's client writes the handshake itself and takes no extra
    //  headers, only the text of "Sec-WebSocket-Extensions: %s\r\n": the
    //  protocol header follows an empty extension list there. The key is
    //  checked (api.h), so it holds no line break of its own.
    char header [64 + TXW_APIKEY_LEN];
    snprintf (header, sizeof header, "\r\nSec-WebSocket-Protocol: " S_PROTOCOL "%s%s",
              key? ", " S_KEY_PROTOCOL: "", key? key: "");
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    mg_init_library (0);
    s_tail_t self = { .json = api->json, .count = count };
    atomic_init (&self.closed, false);
    atomic_init (&self.done, false);
    atomic_init (&self.verdict, 0);
    char error [256];
    bool hinted = false;
    struct mg_connection *conn = s_connect (&target, &self, header, error, sizeof error);
    int rc = CTL_OK;
    if (!conn) {
        s_cannot_connect (api, url, error, &hinted);
        rc = CTL_API_ERROR;
        goto done;
    }
    int pause_ms = 500;
    while (!s_interrupted && !atomic_load (&self.done)) {
        if (conn && !atomic_load (&self.closed)) {
            usleep (50 * 1000);
            continue;
        }
        if (conn) {
            mg_close_connection (conn);
            conn = NULL;
            fprintf (stderr, "txwctl tail: connection to %s closed; reconnecting in %d ms\n",
                     url, pause_ms);
        }
        for (int waited = 0; waited < pause_ms && !s_interrupted; waited += 50)
            usleep (50 * 1000);
        if (s_interrupted)
            break;
        conn = s_connect (&target, &self, header, error, sizeof error);
        if (conn)
            pause_ms = 500;
        else {
            s_cannot_connect (api, url, error, &hinted);
            pause_ms = pause_ms * 2 > S_PAUSE_MAX_MS? S_PAUSE_MAX_MS: pause_ms * 2;
        }
    }
done:
    if (conn)
        mg_close_connection (conn);
    explicit_bzero (header, sizeof header);
    free (self.buf);
    mg_exit_library ();
    return rc;
}
