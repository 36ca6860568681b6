/*  db - txwctl's own connections to PostgreSQL (commands run as the owner)

    `keys create --database-url` and `products load` talk to PostgreSQL
    directly rather than through the query API. They use libpq rather
    than txw_pg_connect, whose failures are JSON log lines: these are a
    person's commands, and every message is for them, on stderr, prefixed
    with "txwctl <command>: ".                                              */

#ifndef TXW_CTL_DB_H
#define TXW_CTL_DB_H

#include <libpq-fe.h>

//  Connects to url (a postgresql:// URI or key=value string). NULL, with
//  the reason printed, if it cannot.
PGconn *ctl_db_connect (const char *command, const char *url);

//  Runs sql with count text params. Returns the result if it succeeded;
//  else prints the error and returns NULL. A missing table means the
//  schema predates migration (e.g. "014"), and the message says so.
PGresult *ctl_db_query (PGconn *conn, const char *command, const char *migration,
                        const char *sql, int count, const char *const *values);

#endif
