/*  params - query-string parameters of the REST API, validated              */

#include "params.h"
#include "codec.h"
#include "rfc3339.h"

#include <civetweb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
qerror_set (qerror_t *err, const char *parameter, const char *fmt, ...)
{
    size_t i = 0;
    for (; parameter [i] && i < sizeof err->parameter - 1; i++) {
        unsigned char c = (unsigned char) parameter [i];
        err->parameter [i] = c >= 0x20 && c < 0x7f? (char) c: '?';
    }
    err->parameter [i] = 0;
    va_list args;
    va_start (args, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, args);
    va_end (args);
    return -1;
}

//  Length of the valid UTF-8 sequence at p (at most left bytes), or 0.
static size_t
s_utf8_len (const unsigned char *p, size_t left)
{
    size_t n = p [0] < 0x80? 1: (p [0] & 0xE0) == 0xC0? 2: (p [0] & 0xF0) == 0xE0? 3:
               (p [0] & 0xF8) == 0xF0? 4: 0;
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p [i] & 0xC0) != 0x80)
            return 0;
    uint32_t cp = n == 1? p [0]: n == 2? p [0] & 0x1F: n == 3? p [0] & 0x0F: p [0] & 0x07;
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p [i] & 0x3F);
    static const uint32_t least [] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < least [n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;               //  overlong, out of range or a surrogate
    return n;
}

bool
qparams_text_valid (const char *s, size_t max)
{
    size_t len = strlen (s);
    if (len == 0 || len > max)
        return false;
    const unsigned char *p = (const unsigned char *) s;
    for (size_t i = 0; i < len;) {
        if (p [i] < 0x20 || p [i] == 0x7f)
            return false;
        size_t n = s_utf8_len (p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool
qparams_id_valid (const char *s, size_t max)
{
    size_t len = strlen (s);
    return len > 0 && len <= max && txw_id_chars_valid (s, len);
}

//  Decodes src (len bytes) into out (size bytes). Returns 0, or -1 if it
//  does not fit, holds a NUL byte or is not UTF-8 (a control byte is left
//  for the typed readers to refuse).
static int
s_decode (const char *src, size_t len, char *out, size_t size)
{
    if (len >= size * 3)        //  cannot fit even if every byte is %XX
        return -1;
    int n = mg_url_decode (src, (int) len, out, (int) size, 1);
    if (n < 0 || (size_t) n >= size || strlen (out) != (size_t) n)
        return -1;
    const unsigned char *p = (const unsigned char *) out;
    for (size_t i = 0; i < (size_t) n;) {
        size_t k = s_utf8_len (p + i, (size_t) n - i);
        if (k == 0)
            return -1;
        i += k;
    }
    return 0;
}

static bool
s_allowed (const char *name, const char *const *allowed)
{
    for (; allowed && *allowed; allowed++)
        if (!strcmp (name, *allowed))
            return true;
    return false;
}

//  Adds one "name=value" item of len bytes.
static int
s_item (qparams_t *self, const char *item, size_t len, const char *const *allowed,
        qerror_t *err)
{
    const char *eq = memchr (item, '=', len);
    size_t name_len = eq? (size_t) (eq - item): len;
    char name [QPARAM_NAME_MAX + 1];
    if (s_decode (item, name_len, name, sizeof name)) {
        char shown [QPARAM_NAME_MAX + 1];
        snprintf (shown, sizeof shown, "%.*s", (int) (name_len < QPARAM_NAME_MAX? name_len:
                                                      QPARAM_NAME_MAX), item);
        return qerror_set (err, shown, "unknown parameter");
    }
    if (!s_allowed (name, allowed))
        return qerror_set (err, name, "unknown parameter");
    if (qparams_get (self, name))
        return qerror_set (err, name, "given more than once");
    if (self->count == QPARAMS_MAX)
        return qerror_set (err, name, "too many parameters");
    qparam_t *param = &self->items [self->count];
    const char *value = eq? eq + 1: item + len;
    if (s_decode (value, (size_t) (item + len - value), param->value, sizeof param->value))
        return qerror_set (err, name, "must be UTF-8 text of at most %d bytes without NUL",
                           QPARAM_VALUE_MAX);
    snprintf (param->name, sizeof param->name, "%s", name);
    self->count++;
    return 0;
}

int
qparams_parse (qparams_t *self, const char *query, const char *const *allowed,
               qerror_t *err)
{
    self->count = 0;
    if (!query)
        return 0;
    const char *p = query;
    while (*p) {
        const char *end = strchr (p, '&');
        size_t len = end? (size_t) (end - p): strlen (p);
        if (len && s_item (self, p, len, allowed, err))
            return -1;
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

const char *
qparams_get (const qparams_t *self, const char *name)
{
    for (int i = 0; i < self->count; i++)
        if (!strcmp (self->items [i].name, name))
            return self->items [i].value;
    return NULL;
}

//  Strict decimal: optional '-', 1..18 digits, nothing else.
static int
s_parse_int (const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '-')
        p++;
    size_t digits = strspn (p, "0123456789");
    if (digits == 0 || digits > 18 || p [digits])
        return -1;
    *out = strtoll (s, NULL, 10);
    return 0;
}

int
qparams_int (const qparams_t *self, const char *name, int64_t fallback,
             int64_t min, int64_t max, int64_t *out, qerror_t *err)
{
    const char *value = qparams_get (self, name);
    int64_t v = fallback;
    if (value && (s_parse_int (value, &v) || v < min || v > max))
        return qerror_set (err, name, "must be an integer from %lld to %lld",
                           (long long) min, (long long) max);
    *out = v;
    return 0;
}

int
qparams_enum (const qparams_t *self, const char *name, const char *const *values,
              int fallback, int *out, qerror_t *err)
{
    const char *value = qparams_get (self, name);
    if (!value) {
        *out = fallback;
        return 0;
    }
    for (int i = 0; values [i]; i++)
        if (!strcmp (value, values [i])) {
            *out = i;
            return 0;
        }
    char list [200] = "";
    size_t used = 0;
    for (int i = 0; values [i] && used < sizeof list; i++)
        used += (size_t) snprintf (list + used, sizeof list - used, "%s%s",
                                   i? ", ": "", values [i]);
    return qerror_set (err, name, "must be one of %s", list);
}

int
qparams_time (const qparams_t *self, const char *name, int64_t fallback,
              int64_t *out, qerror_t *err)
{
    const char *value = qparams_get (self, name);
    if (!value) {
        *out = fallback;
        return 0;
    }
    if (rfc3339_parse (value, strlen (value), out))
        return qerror_set (err, name,
                           "must be an RFC 3339 time such as 2026-11-22T21:04:05.123Z");
    return 0;
}

int
qparams_text (const qparams_t *self, const char *name, size_t max,
              const char *fallback, const char **out, qerror_t *err)
{
    const char *value = qparams_get (self, name);
    if (!value) {
        *out = fallback;
        return 0;
    }
    if (!qparams_text_valid (value, max))
        return qerror_set (err, name, "must be 1 to %zu bytes of text without control characters",
                           max);
    *out = value;
    return 0;
}

//  --- Periods ---------------------------------------------------------------------

void
qperiod_make (qperiod_t *self, int64_t minutes, int64_t end_ms)
{
    self->minutes = minutes;
    self->grain = minutes <= QPERIOD_WINDOWS_MAX? QGRAIN_WINDOW:
                  minutes <= QPERIOD_HOURLY_MAX? QGRAIN_HOUR: QGRAIN_DAY;
    self->grain_ms = self->grain == QGRAIN_HOUR? 3600000:
                     self->grain == QGRAIN_DAY? 86400000: 0;
    self->from_ms = end_ms - minutes * 60000;
    if (self->grain_ms) {
        int64_t rest = self->from_ms % self->grain_ms;
        self->from_ms -= rest < 0? rest + self->grain_ms: rest;
    }
}

int
qparams_period (const qparams_t *self, int64_t fallback, int64_t now_ms,
                qperiod_t *out, qerror_t *err)
{
    int64_t minutes;
    if (qparams_int (self, "minutes", fallback, 1, QPERIOD_MINUTES_MAX, &minutes, err))
        return -1;
    qperiod_make (out, minutes, now_ms);
    return 0;
}

//  --- Cache keys ------------------------------------------------------------------

typedef enum { S_TEXT, S_INT, S_TIME } s_kind_t;

typedef struct {
    const char *name;
    s_kind_t kind;              //  how the endpoint reads it
} s_param_t;

//  The query parameters of each cached endpoint: the allowed list of its
//  api_*.c function, with qparams_int (S_INT) and qparams_time (S_TIME)
//  marked. test_query checks each name against the endpoint itself. A name
//  missing here is refused (400); a number or time marked S_TEXT only
//  misses some normalisation; text marked S_INT would share keys between
//  different answers ("007" and "7"), so mark only what is read as such.
typedef struct {
    const char *endpoint;
    s_param_t params [QPARAMS_MAX + 1];
} s_endpoint_t;

static const s_endpoint_t s_endpoints [] = {
    { "stats_realtime", { { "minutes", S_INT } } },
    { "timeseries", { { "dimension", S_TEXT }, { "key", S_TEXT }, { "minutes", S_INT },
                      { "metric", S_TEXT } } },
    { "top", { { "by", S_TEXT }, { "minutes", S_INT }, { "limit", S_INT } } },
    { "branches", { { "minutes", S_INT } } },
    { "regions", { { "minutes", S_INT } } },
    { "alerts", { { "since", S_TIME }, { "until", S_TIME }, { "min_score", S_INT },
                  { "max_score", S_INT }, { "status", S_TEXT }, { "kind", S_TEXT },
                  { "severity", S_TEXT }, { "account", S_TEXT }, { "merchant", S_TEXT },
                  { "region", S_TEXT }, { "assignee", S_TEXT }, { "limit", S_INT },
                  { "cursor", S_TEXT } } },
    { "transaction", { { NULL } } },
    { "account", { { "limit", S_INT } } },
    { "customer_segments", { { "segment", S_TEXT }, { "limit", S_INT }, { "offset", S_INT } } },
    { "customers", { { "sort", S_TEXT }, { "limit", S_INT }, { "offset", S_INT } } },
    { "customer", { { "limit", S_INT } } },
    { "cohorts", { { "period", S_TEXT }, { "months", S_INT } } },
    { "dead_letters", { { "reason", S_TEXT }, { "limit", S_INT } } },
};

//  A key under construction; once full, it stays full.
typedef struct {
    char *buf;
    size_t size;
    size_t len;
    bool full;
} s_key_t;

//  Appends s percent-encoded: every byte but [A-Za-z0-9-._~/:] becomes %XX,
//  so that ' ', '?', '&', '=' and '%' only ever separate parts.
static void
s_key_put (s_key_t *key, const char *s)
{
    static const char hex [] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *) s; *p && !key->full; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || strchr ("-._~/:", *p);
        if (key->len + (plain? 1: 3) >= key->size) {
            key->full = true;
            break;
        }
        if (plain)
            key->buf [key->len++] = (char) *p;
        else {
            key->buf [key->len++] = '%';
            key->buf [key->len++] = hex [*p >> 4];
            key->buf [key->len++] = hex [*p & 15];
        }
    }
    if (key->size)
        key->buf [key->full? 0: key->len] = 0;
}

static void
s_key_sep (s_key_t *key, char c)
{
    if (!key->full && key->len + 1 < key->size) {
        key->buf [key->len++] = c;
        key->buf [key->len] = 0;
    }
    else
        key->full = true;
}

//  The canonical form of value (kind) into buf (RFC3339_SIZE bytes at
//  least), or value itself when the endpoint would refuse it. A canonical
//  form is always accepted and canonical itself, so it never equals a
//  refused value kept as it is.
static const char *
s_canonical (const char *value, s_kind_t kind, char *buf, size_t size)
{
    int64_t v, again;
    if (kind == S_INT && s_parse_int (value, &v) == 0) {
        snprintf (buf, size, "%lld", (long long) v);
        return buf;
    }
    if (kind == S_TIME && rfc3339_parse (value, strlen (value), &v) == 0) {
        size_t len = rfc3339_format (buf, size, v);
        if (rfc3339_parse (buf, len, &again) == 0 && again == v)
            return buf;
    }
    return value;
}

int
qparams_cache_key (const char *endpoint, const char *variant, const char *path,
                   const char *query, char *key, size_t size, qerror_t *err)
{
    const s_endpoint_t *spec = NULL;
    for (size_t i = 0; i < sizeof s_endpoints / sizeof s_endpoints [0] && !spec; i++)
        if (!strcmp (endpoint, s_endpoints [i].endpoint))
            spec = &s_endpoints [i];
    if (!spec)
        return qerror_set (err, "endpoint", "%s has no cache key", endpoint);
    const char *allowed [QPARAMS_MAX + 1];
    int names = 0;
    for (; spec->params [names].name; names++)
        allowed [names] = spec->params [names].name;
    allowed [names] = NULL;
    qparams_t params;
    if (qparams_parse (&params, query, allowed, err))
        return -1;

    //  The parameters by name (at most QPARAMS_MAX, and no name twice).
    const qparam_t *sorted [QPARAMS_MAX];
    for (int i = 0; i < params.count; i++) {
        int j = i;
        for (; j > 0 && strcmp (sorted [j - 1]->name, params.items [i].name) > 0; j--)
            sorted [j] = sorted [j - 1];
        sorted [j] = &params.items [i];
    }
    s_key_t out = { key, size, 0, size == 0 };
    s_key_put (&out, variant? variant: "");
    s_key_sep (&out, ' ');
    s_key_put (&out, path? path: "");
    s_key_sep (&out, '?');
    for (int i = 0; i < params.count; i++) {
        s_kind_t kind = S_TEXT;
        for (int n = 0; n < names; n++)
            if (!strcmp (spec->params [n].name, sorted [i]->name))
                kind = spec->params [n].kind;
        char buf [RFC3339_SIZE + 24];
        if (i)
            s_key_sep (&out, '&');
        s_key_put (&out, sorted [i]->name);
        s_key_sep (&out, '=');
        s_key_put (&out, s_canonical (sorted [i]->value, kind, buf, sizeof buf));
    }
    if (out.full) {
        if (size)
            key [0] = 0;
        return qerror_set (err, "path", "too long");
    }
    return 0;
}
