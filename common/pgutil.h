/*  pgutil - PostgreSQL connections, migrations and COPY buffers (libpq)

    Migrations are the numbered files in proto/sql/, compiled into the binary
    (build/gen/migrations.c). Each is applied once, in its own transaction,
    under an advisory lock so that several processes starting together do not
    race, and recorded in txw_data.schema_migrations.
    Bulk writes go through COPY in text format: a txw_copybuf_t collects rows
    with the escaping COPY needs and is sent in one PQputCopyData.           */

#ifndef TXW_PGUTIL_H
#define TXW_PGUTIL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int version;
    const char *name;
    const char *sql;
} txw_migration_t;

extern const txw_migration_t txw_migrations [];

//  Returns the highest migration version compiled in.
int txw_migrations_latest (void);

//  Connects; returns NULL and logs the reason on failure. Never blocks longer
//  than connect_timeout in the URL (default here: 5 s).
PGconn *txw_pg_connect (const char *url);

//  Connects for a writer's session: runs setup_sql (its temp tables; NULL
//  for none). Returns NULL and logs the reason on failure. The session's
//  commit mode is the caller's: the aggregator's sink commits without
//  waiting for the WAL and acknowledges only what the server reports on
//  disk (sink.h).
PGconn *txw_pg_connect_session (const char *url, const char *setup_sql);

//  Applies pending migrations. Returns the number applied, or -1 (logged).
//  When every one is applied already it changes nothing, so a role without
//  DDL rights passes (proto/SQL.md, "Roles").
int txw_pg_migrate (PGconn *conn);
//  The same on a connection of its own to url, closed after.
int txw_pg_migrate_url (const char *url);

//  Makes or updates one LOGIN role per item of spec, after the migrations:
//  whitespace-separated GROUP=URL items, URL a postgresql:// URI whose user
//  and password (if any; none keeps the role's as it is) are the login's,
//  GROUP the txwatch group role (012_roles) it joins, and leaves any other
//  group of txwatch. The password is sent as a verifier only. All or none,
//  in one transaction; needs CREATEROLE. Returns the logins made or
//  updated, or -1 (logged, never with a password).
int txw_pg_login_roles (PGconn *conn, const char *spec);

//  Runs a command without results; returns 0 or -1 (logged).
int txw_pg_exec (PGconn *conn, const char *sql);
//  The same without logging: on failure sqlstate (6 bytes) gets the error's
//  SQLSTATE and error (error_size bytes) its first line.
int txw_pg_exec_try (PGconn *conn, const char *sql, char *sqlstate, char *error,
                     size_t error_size);

//  Reading results by column name, never by position, so a select list can
//  gain or reorder columns without shifting what the code reads. A name the
//  result lacks is a programming error: it is logged and reads as NULL.
//  txw_pg_column returns the column's index or -1; txw_pg_null is true for
//  NULL (or a missing column); txw_pg_text gives "" for those, txw_pg_int 0.
int txw_pg_column (const PGresult *res, const char *name);
bool txw_pg_null (const PGresult *res, int row, const char *name);
const char *txw_pg_text (const PGresult *res, int row, const char *name);
int64_t txw_pg_int (const PGresult *res, int row, const char *name);

//  For a row module's column table (names, and kinds where "TIME" marks a
//  timestamptz column): writes the column list "a, b, ..." into columns
//  and the select list into select, where a time column reads as epoch
//  milliseconds under its own name. Both are always terminated.
void txw_pg_column_lists (const char *const *names, const char *const *kinds, int count,
                          char *columns, size_t columns_size, char *select, size_t select_size);

//  Looks up count columns by name in res into index. Returns 0, or -1 if
//  one is missing (its index is -1).
int txw_pg_columns (const PGresult *res, const char *const *names, int count, int *index);

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t rows;
    bool row_open;
} txw_copybuf_t;

void txw_copybuf_init (txw_copybuf_t *self);
void txw_copybuf_fini (txw_copybuf_t *self);
void txw_copybuf_clear (txw_copybuf_t *self);
//  Columns of the current row, in order; txw_copybuf_end_row closes it.
void txw_copybuf_str (txw_copybuf_t *self, const char *s);
void txw_copybuf_strn (txw_copybuf_t *self, const char *s, size_t len);
void txw_copybuf_int (txw_copybuf_t *self, int64_t v);
void txw_copybuf_null (txw_copybuf_t *self);
//  A timestamptz column from UTC milliseconds.
void txw_copybuf_ts_ms (txw_copybuf_t *self, int64_t ms);
//  A raw column value the caller has already escaped.
void txw_copybuf_raw (txw_copybuf_t *self, const char *s, size_t len);
void txw_copybuf_end_row (txw_copybuf_t *self);

//  Runs copy_sql ("COPY t (cols) FROM STDIN") with the buffer's rows.
//  Returns 0 or -1 (logged); inside a transaction the caller rolls back.
int txw_pg_copy (PGconn *conn, const char *copy_sql, const txw_copybuf_t *buf);
//  The same without logging: on failure sqlstate (6 bytes) gets the error's
//  SQLSTATE ("23505" for a unique violation), for callers that handle it.
int txw_pg_copy_try (PGconn *conn, const char *copy_sql, const txw_copybuf_t *buf,
                     char *sqlstate);

#endif
