/*  acks - acknowledgements made anywhere, pushed to every dashboard          */

#include "acks.h"
#include "log.h"
#include "pgutil.h"

#include <string.h>

#define S_POLL_MS       2000
#define S_BATCH         "1000"

//  Sends the acks newer than *since to the pipe; *since moves on.
static int
s_poll (PGconn *conn, zsock_t *pipe, char *since, size_t size)
{
    const char *params [] = { since };
    PGresult *res = PQexecParams (conn,
        "SELECT key, (extract (epoch FROM acked_at) * 1000)::bigint AS acked_ms, acked_by,"
        " acked_at::text AS since FROM txw.alerts WHERE acked_at > $1::timestamptz"
        " ORDER BY acked_at LIMIT " S_BATCH, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_warn ("cannot read acknowledgements: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    for (int i = 0; i < PQntuples (res); i++) {
        zsock_send (pipe, "sss", txw_pg_text (res, i, "key"), txw_pg_text (res, i, "acked_ms"),
                    txw_pg_text (res, i, "acked_by"));
        snprintf (since, size, "%s", txw_pg_text (res, i, "since"));
    }
    PQclear (res);
    return 0;
}

//  Where to start: acks from now on (the seeded alerts carry the older ones).
static int
s_start (PGconn *conn, char *since, size_t size)
{
    PGresult *res = PQexec (conn, "SELECT now()::text AS now");
    int rc = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1? 0: -1;
    if (rc == 0)
        snprintf (since, size, "%s", txw_pg_text (res, 0, "now"));
    PQclear (res);
    return rc;
}

void
gw_acks_actor (zsock_t *pipe, void *database_url)
{
    zsock_signal (pipe, 0);
    PGconn *conn = NULL;
    char since [64] = "";
    zpoller_t *poller = zpoller_new (pipe, NULL);
    while (poller) {
        if (!conn || PQstatus (conn) != CONNECTION_OK) {
            PQfinish (conn);
            conn = txw_pg_connect_session (database_url, "SET statement_timeout = 1000");
        }
        if (conn && !*since && s_start (conn, since, sizeof since))
            since [0] = 0;
        if (conn && *since && s_poll (conn, pipe, since, sizeof since))
            PQreset (conn);
        if (zpoller_wait (poller, S_POLL_MS))
            break;              //  $TERM (or anything) from the owner
        if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    PQfinish (conn);
}
