/*  seed - the gateway's state at start, read from PostgreSQL

    Without it a restarted gateway would show empty charts and no alerts
    until traffic refills them. Reads the last 50 alerts (and the region
    health alerts of the last hour) from txw.alerts with account ids masked
    (their pseudonyms, common/pii.h), and the stored per-shard window rows (txw_data.windows)
    that the state keeps (two hours, for the trends of the top lists), so
    live rows from each shard replace exactly their own part.               */

#ifndef TXW_GATEWAY_SEED_H
#define TXW_GATEWAY_SEED_H

#include "state.h"

//  Returns 0, or -1 (logged) if the database cannot be read; the state then
//  holds what was read before the error.
int gw_seed (gw_state_t *state, const char *database_url, int64_t now_ms);

#endif
