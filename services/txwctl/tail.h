/*  tail - live events from the push gateway, one line each

    Connects to the gateway's /ws (proto/SERVING.md, "WebSocket") with
    civetweb's client API and prints every message as one line: the local
    time, the type and its main fields (or the JSON as received with
    --json). seq must grow by one; after a jump, or a gap message, it asks
    for a re-sync ({"op":"resync"}) and the gateway answers with a fresh
    snapshot. When the connection drops it reconnects with a growing pause
    (up to 10 s) until Ctrl-C.

    The gateway wants the API key too, and a browser's WebSocket cannot set
    headers, so the key travels as a subprotocol (common/apikey.h): tail
    offers "Sec-WebSocket-Protocol: txwatch, txwatch.key.<key>" and the
    gateway selects "txwatch". An older gateway selects none, or, being
    civetweb, echoes the last one offered; anything else fails the
    connection. Without a key only "txwatch" is offered.                    */

#ifndef TXW_TXWCTL_TAIL_H
#define TXW_TXWCTL_TAIL_H

#include "api.h"

#include <stdbool.h>

//  True if topics is a comma list of alerts, stats, windows, dead_letters.
bool ctl_tail_topics_valid (const char *topics);

//  Runs until SIGINT/SIGTERM, or until count event lines (0: no limit),
//  printing the JSON as received when api->json, with api's key. Returns
//  CTL_OK, CTL_USAGE for a bad URL or key, or CTL_API_ERROR when the
//  gateway cannot be reached or refuses the first connection.
int ctl_tail (ctl_api_t *api, const char *url, const char *topics, long count);

#endif
