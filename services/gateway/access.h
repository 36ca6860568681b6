/*  access - who may open /ws, and the headers every answer carries

    A browser page of any site can open a WebSocket to any host, with the
    user's network position (and, for servers that use cookies, the user's
    session): the WebSocket handshake is not subject to CORS. So the
    gateway checks the handshake's Origin itself. A page served by the
    gateway sends Origin http(s)://<Host>, the very host:port its request
    names in Host, so that origin is always allowed; others only when
    listed in --allowed-origins. A request without Origin comes from a
    program (txwctl), not a page, and is let through: it still needs a key.

    The API key itself travels in the subprotocol list, since a browser's
    WebSocket cannot set headers: the client offers `txwatch,
    txwatch.key.<key>` and the server selects `txwatch`, never the key
    (server.c registers `txwatch` as the only protocol it selects, so
    civetweb cannot echo another one).

    Every HTTP answer carries the security headers; an HTML document gets a
    Content-Security-Policy that lets it run only its own scripts and
    styles and talk only to its own origin, the gateway's WebSocket and the
    query API (--api-url). The policy names the WebSocket's ws:/wss: origin
    explicitly, although CSP 3 lets 'self' match it, for the browsers that
    predate that rule. A Host header that is not a plain host[:port] is
    never copied into a header.

    Pure functions, so the rules can be unit tested.                        */

#ifndef TXW_GATEWAY_ACCESS_H
#define TXW_GATEWAY_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#define GW_PROTOCOL             "txwatch"
#define GW_ORIGINS_MAX          32
#define GW_ORIGIN_MAX           256

//  The headers every answer of the gateway carries, CRLF after each.
#define GW_SECURITY_HEADERS \
    "X-Content-Type-Options: nosniff\r\n" \
    "X-Frame-Options: DENY\r\n" \
    "Referrer-Policy: no-referrer\r\n"
//  The policy of everything that is not the dashboard's HTML.
#define GW_CSP_NONE             "default-src 'none'; frame-ancestors 'none'"

typedef struct {
    char *buf;                  //  the list, split in place
    char *items [GW_ORIGINS_MAX];
    int count;
} gw_origins_t;

//  Reads --allowed-origins: a comma list of scheme://host[:port] (http or
//  https, no path; a trailing slash is dropped). Returns 0, or -1 (logged)
//  for a malformed item, "*" or "null".
int gw_origins_parse (gw_origins_t *self, const char *list);
void gw_origins_fini (gw_origins_t *self);

//  True when a handshake with this Origin (NULL: none sent) and Host may
//  go on: no Origin, an Origin whose host[:port] is Host, or a listed one.
bool gw_origin_allowed (const gw_origins_t *self, const char *origin, const char *host);

//  True when host is a plain Host header value: name, name:port or
//  [v6]:port, at most 255 characters, nothing a header could be split on.
bool gw_host_valid (const char *host);

//  Checks --api-url: "", ":PORT" or an absolute http(s) URL. Returns 0, or
//  -1 (logged) when it is none of those.
int gw_api_url_check (const char *api_url);

//  The query API's URL as the page at Host sees it (/config.json): ":PORT"
//  becomes http://<Host's name>:PORT; any other value is copied. Without a
//  valid Host ":PORT" stays as it is. Returns buf.
const char *gw_api_url_resolve (const char *api_url, const char *host, char *buf, size_t size);

//  The Content-Security-Policy of the dashboard's HTML for a page loaded
//  from Host. Returns buf.
const char *gw_csp_document (const char *api_url, const char *host, char *buf, size_t size);

#endif
