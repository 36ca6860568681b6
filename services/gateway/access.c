/*  access - who may open /ws, and the headers every answer carries          */

#include "access.h"
#include "log.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_HOST_MAX  255

bool
gw_host_valid (const char *host)
{
    if (!host || !*host)
        return false;
    size_t len = strlen (host);
    if (len > S_HOST_MAX)
        return false;
    //  Letters, digits and the punctuation of names, ports and [v6]: no
    //  space, comma, semicolon, quote or control character.
    return strspn (host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789.-_:[]") == len
        && host [0] != ':' && host [0] != '.';
}

//  The authority of an origin or URL ("http://h:1/x" -> "h:1", length 3),
//  or NULL when it is not http(s) with a valid host. *rest points after it.
static const char *
s_authority (const char *url, size_t *len, const char **rest)
{
    const char *p;
    if (!strncasecmp (url, "http://", 7))
        p = url + 7;
    else
    if (!strncasecmp (url, "https://", 8))
        p = url + 8;
    else
        return NULL;
    size_t n = strcspn (p, "/?#");
    char host [S_HOST_MAX + 1];
    if (n == 0 || n > S_HOST_MAX)
        return NULL;
    memcpy (host, p, n);
    host [n] = 0;
    if (!gw_host_valid (host))
        return NULL;
    *len = n;
    if (rest)
        *rest = p + n;
    return p;
}

int
gw_origins_parse (gw_origins_t *self, const char *list)
{
    memset (self, 0, sizeof *self);
    if (!list || !*list)
        return 0;
    self->buf = strdup (list);
    if (!self->buf)
        return -1;
    char *items [GW_ORIGINS_MAX + 1];
    int count = txw_split_list (self->buf, items, GW_ORIGINS_MAX + 1);
    if (count > GW_ORIGINS_MAX) {
        log_error ("--allowed-origins: at most %d origins", GW_ORIGINS_MAX);
        goto bad;
    }
    for (int i = 0; i < count; i++) {
        char *item = items [i];
        size_t len = strlen (item);
        if (len > 1 && item [len - 1] == '/')
            item [--len] = 0;
        size_t alen;
        const char *rest;
        if (!s_authority (item, &alen, &rest) || *rest || len >= GW_ORIGIN_MAX) {
            log_error ("--allowed-origins: '%s' is not an origin like http://localhost:8081 "
                       "(http or https, a host, an optional port, no path; * is refused)", item);
            goto bad;
        }
        self->items [self->count++] = item;
    }
    return 0;
bad:
    gw_origins_fini (self);
    return -1;
}

void
gw_origins_fini (gw_origins_t *self)
{
    free (self->buf);
    memset (self, 0, sizeof *self);
}

bool
gw_origin_allowed (const gw_origins_t *self, const char *origin, const char *host)
{
    if (!origin)
        return true;
    size_t alen;
    const char *rest;
    const char *authority = s_authority (origin, &alen, &rest);
    if (!authority || *rest)
        return false;           //  "null", a path, another scheme
    if (gw_host_valid (host) && strlen (host) == alen && !strncasecmp (authority, host, alen))
        return true;
    for (int i = 0; self && i < self->count; i++)
        if (!strcasecmp (origin, self->items [i]))
            return true;
    return false;
}

int
gw_api_url_check (const char *api_url)
{
    if (!*api_url)
        return 0;
    if (api_url [0] == ':') {
        char *end;
        long port = strtol (api_url + 1, &end, 10);
        if (api_url [1] >= '0' && api_url [1] <= '9' && !*end && port > 0 && port < 65536)
            return 0;
    }
    else {
        size_t alen;
        const char *rest;
        if (s_authority (api_url, &alen, &rest)
        &&  strspn (rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789-._~/%") == strlen (rest))
            return 0;
    }
    log_error ("--api-url '%s': use \"\" (same origin), \":PORT\" (the page's host on that "
               "port) or an http(s) URL", api_url);
    return -1;
}

//  The name part of a valid Host: "name", "name:port" or "[v6]:port".
static size_t
s_host_name_len (const char *host)
{
    size_t len = strlen (host);
    const char *colon = host [0] == '['? strstr (host, "]:"): strrchr (host, ':');
    if (colon)
        len = (size_t) (colon - host) + (host [0] == '['? 1: 0);
    return len;
}

const char *
gw_api_url_resolve (const char *api_url, const char *host, char *buf, size_t size)
{
    if (api_url [0] == ':' && gw_host_valid (host))
        snprintf (buf, size, "http://%.*s%s", (int) s_host_name_len (host), host, api_url);
    else
        snprintf (buf, size, "%s", api_url);
    return buf;
}

const char *
gw_csp_document (const char *api_url, const char *host, char *buf, size_t size)
{
    bool host_ok = gw_host_valid (host);
    char api [S_HOST_MAX + 32] = "";
    size_t alen;
    const char *authority;
    if (api_url [0] == ':' && host_ok)
        snprintf (api, sizeof api, " http://%.*s%s", (int) s_host_name_len (host), host, api_url);
    else
    if (api_url [0] && (authority = s_authority (api_url, &alen, NULL)))
        snprintf (api, sizeof api, " %.*s", (int) (authority + alen - api_url), api_url);
    char ws [2 * S_HOST_MAX + 16] = "";
    if (host_ok)
        snprintf (ws, sizeof ws, " ws://%s wss://%s", host, host);
    snprintf (buf, size,
              "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "font-src 'self'; manifest-src 'self'; connect-src 'self'%s%s; "
              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'", ws, api);
    return buf;
}
