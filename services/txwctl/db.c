/*  db - txwctl's own connections to PostgreSQL                             */

#include "db.h"

#include <stdio.h>
#include <string.h>

PGconn *
ctl_db_connect (const char *command, const char *url)
{
    const char *keys [] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *values [] = { url, "10", "txwctl", NULL };
    PGconn *conn = PQconnectdbParams (keys, values, 1);
    if (conn && PQstatus (conn) == CONNECTION_OK)
        return conn;
    const char *message = conn? PQerrorMessage (conn): "out of memory";
    fprintf (stderr, "txwctl %s: cannot connect to PostgreSQL: %.*s\n", command,
             (int) strcspn (message, "\n"), message);
    PQfinish (conn);
    return NULL;
}

PGresult *
ctl_db_query (PGconn *conn, const char *command, const char *migration,
              const char *sql, int count, const char *const *values)
{
    PGresult *res = PQexecParams (conn, sql, count, NULL, values, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus (res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return res;
    const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
    const char *message = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
    if (state && !strcmp (state, "42P01"))          //  undefined_table
        fprintf (stderr, "txwctl %s: %s: the schema is older than migration %s"
                 " (start a service with --migrate, such as txw-aggregator, first)\n",
                 command, message? message: "a table is missing", migration);
    else
        fprintf (stderr, "txwctl %s: PostgreSQL: %s\n", command,
                 message? message: PQerrorMessage (conn));
    PQclear (res);
    return NULL;
}
