/*  acks - alerts closed or reopened anywhere, pushed to every dashboard     */

#include "acks.h"
#include "log.h"
#include "pgutil.h"

#include <string.h>

#define S_POLL_MS       2000
#define S_BATCH         "1000"

//  Sends the status changes after event *after to the pipe; *after moves on.
static int
s_poll (PGconn *conn, zsock_t *pipe, char *after, size_t size)
{
    const char *params [] = { after };
    PGresult *res = PQexecParams (conn,
        "SELECT event_id, dedupe_key, new_value, actor,"
        " (extract (epoch FROM at) * 1000)::bigint AS at_ms FROM txw_data.alert_events"
        " WHERE event_id > $1::bigint AND field = 'status' ORDER BY event_id LIMIT " S_BATCH,
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_warn ("cannot read alert status changes: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    for (int i = 0; i < PQntuples (res); i++) {
        zsock_send (pipe, "ssss", txw_pg_text (res, i, "dedupe_key"), txw_pg_text (res, i, "at_ms"),
                    txw_pg_text (res, i, "actor"), txw_pg_text (res, i, "new_value"));
        snprintf (after, size, "%s", txw_pg_text (res, i, "event_id"));
    }
    PQclear (res);
    return 0;
}

//  Where to start: the changes from now on (the seeded alerts carry the
//  older ones).
static int
s_start (PGconn *conn, char *after, size_t size)
{
    PGresult *res = PQexec (conn,
        "SELECT coalesce (max (event_id), 0) AS last FROM txw_data.alert_events");
    int rc = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1? 0: -1;
    if (rc == 0)
        snprintf (after, size, "%s", txw_pg_text (res, 0, "last"));
    else
        log_warn ("cannot read the last alert event: %s", PQresultErrorMessage (res));
    PQclear (res);
    return rc;
}

void
gw_acks_actor (zsock_t *pipe, void *database_url)
{
    zsock_signal (pipe, 0);
    PGconn *conn = NULL;
    char after [24] = "";
    zpoller_t *poller = zpoller_new (pipe, NULL);
    while (poller) {
        if (!conn || PQstatus (conn) != CONNECTION_OK) {
            PQfinish (conn);
            conn = txw_pg_connect_session (database_url, "SET statement_timeout = 1000");
        }
        if (conn && !*after && s_start (conn, after, sizeof after))
            after [0] = 0;
        if (conn && *after && s_poll (conn, pipe, after, sizeof after))
            PQreset (conn);
        if (zpoller_wait (poller, S_POLL_MS))
            break;              //  $TERM (or anything) from the owner
        if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    PQfinish (conn);
}
