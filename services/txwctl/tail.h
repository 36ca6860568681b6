/*  tail - live events from the push gateway, one line each

    Connects to the gateway's /ws (proto/SERVING.md, "WebSocket") with
    civetweb's client API and prints every message as one line: the local
    time, the type and its main fields (or the JSON as received with
    --json). seq must grow by one; after a jump, or a gap message, it asks
    for a re-sync ({"op":"resync"}) and the gateway answers with a fresh
    snapshot. When the connection drops it reconnects with a growing pause
    (up to 10 s) until Ctrl-C.                                              */

#ifndef TXW_TXWCTL_TAIL_H
#define TXW_TXWCTL_TAIL_H

#include <stdbool.h>

//  True if topics is a comma list of alerts, stats, windows, dead_letters.
bool ctl_tail_topics_valid (const char *topics);

//  Runs until SIGINT/SIGTERM, or until count event lines (0: no limit).
//  Returns CTL_OK, CTL_USAGE for a bad URL, or CTL_API_ERROR when --count
//  was given and the gateway cannot be reached at all.
int ctl_tail (const char *url, const char *topics, bool json, long count);

#endif
