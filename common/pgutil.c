/*  pgutil - PostgreSQL connections, migrations and COPY buffers (libpq)     */

#include "pgutil.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
txw_migrations_latest (void)
{
    int latest = 0;
    for (const txw_migration_t *m = txw_migrations; m->name; m++)
        if (m->version > latest)
            latest = m->version;
    return latest;
}

static void
s_notice (void *arg, const char *message)
{
    (void) arg;
    //  NOTICEs (IF NOT EXISTS ...) are not news; a WARNING is something a
    //  function chose not to do (txw_data.drop_expired_partitions keeping
    //  a day), which the operator should read in the service's log.
    const char *prefix = "WARNING:";
    if (strncmp (message, prefix, strlen (prefix)))
        return;
    message += strlen (prefix);
    while (*message == ' ')
        message++;
    size_t len = strlen (message);
    while (len && (message [len - 1] == '\n' || message [len - 1] == ' '))
        len--;
    log_warn ("PostgreSQL: %.*s", (int) len, message);
}

PGconn *
txw_pg_connect (const char *url)
{
    const char *keys [] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *values [] = { url, "5", "txwatch", NULL };
    //  expand_dbname lets url be a URI or a key=value string.
    PGconn *conn = PQconnectdbParams (keys, values, 1);
    if (!conn || PQstatus (conn) != CONNECTION_OK) {
        char *msg = conn? PQerrorMessage (conn): "out of memory";
        size_t len = strlen (msg);
        while (len && (msg [len - 1] == '\n' || msg [len - 1] == ' '))
            len--;
        log_error ("cannot connect to PostgreSQL: %.*s", (int) len, msg);
        PQfinish (conn);
        return NULL;
    }
    PQsetNoticeProcessor (conn, s_notice, NULL);
    return conn;
}

PGconn *
txw_pg_connect_session (const char *url, const char *setup_sql)
{
    PGconn *conn = txw_pg_connect (url);
    if (conn && setup_sql && txw_pg_exec (conn, setup_sql)) {
        PQfinish (conn);
        conn = NULL;
    }
    return conn;
}

int
txw_pg_exec_try (PGconn *conn, const char *sql, char *sqlstate, char *error, size_t error_size)
{
    PGresult *res = PQexec (conn, sql);
    ExecStatusType status = PQresultStatus (res);
    int rc = (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)? 0: -1;
    if (rc) {
        const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
        const char *text = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf (sqlstate, 6, "%s", state? state: "XX000");
        snprintf (error, error_size, "%s", text? text: PQerrorMessage (conn));
    }
    PQclear (res);
    return rc;
}

int
txw_pg_exec (PGconn *conn, const char *sql)
{
    char state [6], error [256];
    int rc = txw_pg_exec_try (conn, sql, state, error, sizeof error);
    if (rc)
        log_error ("SQL failed (SQLSTATE %s): %s (%.80s)", state, error, sql);
    return rc;
}

int
txw_pg_column (const PGresult *res, const char *name)
{
    int col = PQfnumber (res, name);
    if (col < 0)
        log_error ("query result has no column %s", name);
    return col;
}

bool
txw_pg_null (const PGresult *res, int row, const char *name)
{
    int col = txw_pg_column (res, name);
    return col < 0 || PQgetisnull (res, row, col);
}

const char *
txw_pg_text (const PGresult *res, int row, const char *name)
{
    int col = txw_pg_column (res, name);
    return col < 0 || PQgetisnull (res, row, col)? "": PQgetvalue (res, row, col);
}

int64_t
txw_pg_int (const PGresult *res, int row, const char *name)
{
    return strtoll (txw_pg_text (res, row, name), NULL, 10);
}

void
txw_pg_column_lists (const char *const *names, const char *const *kinds, int count,
                     char *columns, size_t columns_size, char *select, size_t select_size)
{
    size_t c_len = 0, s_len = 0;
    columns [0] = select [0] = 0;
    for (int c = 0; c < count && c_len < columns_size && s_len < select_size; c++) {
        const char *sep = c? ", ": "";
        c_len += (size_t) snprintf (columns + c_len, columns_size - c_len, "%s%s", sep, names [c]);
        if (strcmp (kinds [c], "TIME") == 0)
            s_len += (size_t) snprintf (select + s_len, select_size - s_len,
                                        "%s(extract(epoch FROM %s) * 1000)::bigint AS %s",
                                        sep, names [c], names [c]);
        else
            s_len += (size_t) snprintf (select + s_len, select_size - s_len, "%s%s",
                                        sep, names [c]);
    }
}

int
txw_pg_columns (const PGresult *res, const char *const *names, int count, int *index)
{
    int rc = 0;
    for (int c = 0; c < count; c++)
        if ((index [c] = PQfnumber (res, names [c])) < 0)
            rc = -1;
    return rc;
}

//  Whether every migration compiled in is recorded. A service's own role
//  may read txw_data.schema_migrations but change nothing (012_roles), so a
//  service started with --migrate on a current schema stops here; any
//  error (no table yet, no privilege) means "not known to be current".
static bool
s_migrations_current (PGconn *conn)
{
    char versions [4096];
    size_t len = 0;
    int count = 0;
    versions [len++] = '{';
    for (const txw_migration_t *m = txw_migrations; m->name && len < sizeof versions - 16; m++)
        len += (size_t) snprintf (versions + len, sizeof versions - len, "%s%d",
                                  count++? ",": "", m->version);
    snprintf (versions + len, sizeof versions - len, "}");
    const char *params [] = { versions };
    PGresult *res = PQexecParams (conn,
        "SELECT count(*) FROM txw_data.schema_migrations WHERE version = ANY ($1::int[])",
        1, NULL, params, NULL, NULL, 0);
    bool current = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
                && strtol (PQgetvalue (res, 0, 0), NULL, 10) == count;
    PQclear (res);
    return current;
}

int
txw_pg_migrate (PGconn *conn)
{
    if (s_migrations_current (conn))
        return 0;
    //  Under the lock too: two processes creating the schema at once would
    //  otherwise collide on the catalog's unique keys.
    char state [6] = "", error [256];
    if (txw_pg_exec (conn, "BEGIN")
    ||  txw_pg_exec (conn, "SELECT pg_advisory_xact_lock(7243001)")
    ||  txw_pg_exec_try (conn, "CREATE SCHEMA IF NOT EXISTS txw_data", state, error, sizeof error)
    ||  txw_pg_exec (conn, "CREATE TABLE IF NOT EXISTS txw_data.schema_migrations ("
                           " version int PRIMARY KEY, name text NOT NULL,"
                           " applied_at timestamptz NOT NULL DEFAULT now())")
    ||  txw_pg_exec (conn, "COMMIT")) {
        if (!strcmp (state, "42501"))
            log_error ("migrations pending, and role %s may not apply them (%s): apply them as"
                       " the schema's owner (txw-aggregator --migrate-only) and start the"
                       " services with --migrate false (proto/SQL.md, \"Roles\")",
                       PQuser (conn), error);
        else
        if (*state)
            log_error ("SQL failed (SQLSTATE %s): %s (CREATE SCHEMA)", state, error);
        if (PQtransactionStatus (conn) != PQTRANS_IDLE)
            txw_pg_exec (conn, "ROLLBACK");
        return -1;
    }
    int applied = 0;
    for (const txw_migration_t *m = txw_migrations; m->name; m++) {
        if (txw_pg_exec (conn, "BEGIN")
        ||  txw_pg_exec (conn, "SELECT pg_advisory_xact_lock(7243001)"))
            return -1;
        char version [16];
        snprintf (version, sizeof version, "%d", m->version);
        const char *params [] = { version };
        PGresult *res = PQexecParams (conn,
            "SELECT 1 FROM txw_data.schema_migrations WHERE version = $1::int",
            1, NULL, params, NULL, NULL, 0);
        bool done = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) > 0;
        PQclear (res);
        if (done) {
            txw_pg_exec (conn, "COMMIT");
            continue;
        }
        if (txw_pg_exec (conn, m->sql)) {
            log_error ("migration %s failed", m->name);
            txw_pg_exec (conn, "ROLLBACK");
            return -1;
        }
        const char *record [] = { version, m->name };
        res = PQexecParams (conn,
            "INSERT INTO txw_data.schema_migrations (version, name) VALUES ($1::int, $2)",
            2, NULL, record, NULL, NULL, 0);
        bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
        PQclear (res);
        if (!ok || txw_pg_exec (conn, "COMMIT")) {
            txw_pg_exec (conn, "ROLLBACK");
            return -1;
        }
        log_info ("applied migration %s", m->name);
        applied++;
    }
    return applied;
}

int
txw_pg_migrate_url (const char *url)
{
    PGconn *conn = txw_pg_connect (url);
    int applied = conn? txw_pg_migrate (conn): -1;
    PQfinish (conn);
    return applied;
}

//  --- Service logins (012_roles) --------------------------------------------------

typedef struct {
    const char *group;
    char *user;
    char *password;             //  NULL: the login's password stays as it is
} s_login_t;

//  Parses item number index, GROUP=URL, into login; returns 0 or -1
//  (logged: never the item itself, which may hold a password).
static int
s_login_parse (char *item, int index, s_login_t *login)
{
    memset (login, 0, sizeof *login);
    char *url = strchr (item, '=');
    if (!url || url == item) {
        log_error ("login roles: item %d is not GROUP=URL", index);
        return -1;
    }
    *url++ = 0;
    login->group = item;
    if (strncmp (url, "postgresql://", 13) && strncmp (url, "postgres://", 11)) {
        log_error ("login roles: the URL of group %s is not a postgresql:// URI", item);
        return -1;
    }
    char *message = NULL;
    PQconninfoOption *options = PQconninfoParse (url, &message);
    if (!options) {
        //  The message may quote the URL, password and all: not logged.
        log_error ("login roles: the URL of group %s does not parse", item);
        PQfreemem (message);
        return -1;
    }
    for (PQconninfoOption *o = options; o->keyword; o++)
        if (o->val && *o->val) {
            if (!strcmp (o->keyword, "user"))
                login->user = strdup (o->val);
            else
            if (!strcmp (o->keyword, "password"))
                login->password = strdup (o->val);
        }
    PQconninfoFree (options);
    if (!login->user) {
        log_error ("login roles: the URL of group %s names no user", item);
        return -1;
    }
    return 0;
}

static void
s_login_free (s_login_t *login)
{
    if (login->password)
        explicit_bzero (login->password, strlen (login->password));
    free (login->user);
    free (login->password);
}

//  Makes or updates the login on conn, inside the caller's transaction.
static int
s_login_apply (PGconn *conn, const s_login_t *login)
{
    //  The server gets a SCRAM (or md5, as password_encryption says)
    //  verifier, never the password: statement logs cannot show it.
    char *verifier = NULL;
    if (login->password) {
        verifier = PQencryptPasswordConn (conn, login->password, login->user, NULL);
        if (!verifier) {
            log_error ("login roles: cannot make the password verifier of %s: %s",
                       login->user, PQerrorMessage (conn));
            return -1;
        }
    }
    const char *params [] = { login->user, login->group, verifier };
    PGresult *res = PQexecParams (conn, "SELECT txw_data.ensure_login ($1, $2, $3) AS done",
                                  3, NULL, params, NULL, NULL, 0);
    PQfreemem (verifier);
    int rc = 0;
    if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1)
        log_info ("login role %s in group %s: %s%s", login->user, login->group,
                  txw_pg_text (res, 0, "done"), login->password? ", password set": "");
    else {
        const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
        const char *text = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
        const char *hint = PQresultErrorField (res, PG_DIAG_MESSAGE_HINT);
        log_error ("login role %s in group %s refused (SQLSTATE %s): %s%s%s", login->user,
                   login->group, state? state: "XX000", text? text: PQerrorMessage (conn),
                   hint? "; ": "", hint? hint: "");
        rc = -1;
    }
    PQclear (res);
    return rc;
}

int
txw_pg_login_roles (PGconn *conn, const char *spec)
{
    char *copy = strdup (spec);
    s_login_t logins [64];
    int count = 0, rc = copy? 0: -1;
    char *save = NULL;
    for (char *item = copy? strtok_r (copy, " \t\r\n", &save): NULL; item && !rc;
         item = strtok_r (NULL, " \t\r\n", &save)) {
        if (count == (int) (sizeof logins / sizeof logins [0])) {
            log_error ("login roles: more than %d", count);
            rc = -1;
            break;
        }
        rc = s_login_parse (item, count + 1, &logins [count]);
        count++;
        for (int i = 0; !rc && i < count - 1; i++)
            if (!strcmp (logins [i].user, logins [count - 1].user)) {
                log_error ("login roles: %s is named twice (groups %s and %s)",
                           logins [i].user, logins [i].group, logins [count - 1].group);
                rc = -1;
            }
    }
    //  All or none, under the migrations' lock: two migration jobs at once
    //  would otherwise race to create the same role.
    if (!rc && count
    &&  (txw_pg_exec (conn, "BEGIN") || txw_pg_exec (conn, "SELECT pg_advisory_xact_lock(7243001)")))
        rc = -1;
    for (int i = 0; !rc && i < count; i++)
        rc = s_login_apply (conn, &logins [i]);
    if (!rc && count && txw_pg_exec (conn, "COMMIT"))
        rc = -1;
    if (rc && PQtransactionStatus (conn) != PQTRANS_IDLE)
        txw_pg_exec (conn, "ROLLBACK");
    for (int i = 0; i < count; i++)
        s_login_free (&logins [i]);
    if (copy)
        explicit_bzero (copy, strlen (spec));
    free (copy);
    return rc? -1: count;
}

//  --- COPY buffer -------------------------------------------------------------

void
txw_copybuf_init (txw_copybuf_t *self)
{
    memset (self, 0, sizeof *self);
}

void
txw_copybuf_fini (txw_copybuf_t *self)
{
    free (self->data);
    memset (self, 0, sizeof *self);
}

void
txw_copybuf_clear (txw_copybuf_t *self)
{
    self->len = 0;
    self->rows = 0;
    self->row_open = false;
}

static void
s_reserve (txw_copybuf_t *self, size_t more)
{
    if (self->len + more <= self->cap)
        return;
    size_t cap = self->cap? self->cap * 2: 65536;
    while (cap < self->len + more)
        cap *= 2;
    char *data = realloc (self->data, cap);
    if (!data)
        abort ();               //  out of memory in a bounded buffer: fatal
    self->data = data;
    self->cap = cap;
}

static void
s_separator (txw_copybuf_t *self)
{
    s_reserve (self, 1);
    if (self->row_open)
        self->data [self->len++] = '\t';
    self->row_open = true;
}

void
txw_copybuf_raw (txw_copybuf_t *self, const char *s, size_t len)
{
    s_separator (self);
    s_reserve (self, len);
    memcpy (self->data + self->len, s, len);
    self->len += len;
}

void
txw_copybuf_strn (txw_copybuf_t *self, const char *s, size_t len)
{
    s_separator (self);
    s_reserve (self, len * 2);
    char *out = self->data + self->len;
    for (size_t i = 0; i < len; i++) {
        char c = s [i];
        switch (c) {
            case '\\': *out++ = '\\'; *out++ = '\\'; break;
            case '\t': *out++ = '\\'; *out++ = 't'; break;
            case '\n': *out++ = '\\'; *out++ = 'n'; break;
            case '\r': *out++ = '\\'; *out++ = 'r'; break;
            case 0: break;      //  PostgreSQL text cannot hold NUL
            default: *out++ = c;
        }
    }
    self->len = (size_t) (out - self->data);
}

void
txw_copybuf_str (txw_copybuf_t *self, const char *s)
{
    txw_copybuf_strn (self, s, strlen (s));
}

void
txw_copybuf_int (txw_copybuf_t *self, int64_t v)
{
    char text [24];
    int n = snprintf (text, sizeof text, "%lld", (long long) v);
    txw_copybuf_raw (self, text, (size_t) n);
}

void
txw_copybuf_null (txw_copybuf_t *self)
{
    txw_copybuf_raw (self, "\\N", 2);
}

void
txw_copybuf_ts_ms (txw_copybuf_t *self, int64_t ms)
{
    time_t secs = (time_t) (ms >= 0? ms / 1000: (ms - 999) / 1000);
    int millis = (int) (ms - (int64_t) secs * 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    char text [40];
    int n = snprintf (text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    txw_copybuf_raw (self, text, (size_t) n);
}

void
txw_copybuf_end_row (txw_copybuf_t *self)
{
    s_reserve (self, 1);
    self->data [self->len++] = '\n';
    self->row_open = false;
    self->rows++;
}

int
txw_pg_copy_try (PGconn *conn, const char *copy_sql, const txw_copybuf_t *buf,
                 char *sqlstate)
{
    snprintf (sqlstate, 6, "XX000");
    PGresult *res = PQexec (conn, copy_sql);
    if (PQresultStatus (res) != PGRES_COPY_IN) {
        const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
        if (state)
            snprintf (sqlstate, 6, "%s", state);
        PQclear (res);
        return -1;
    }
    PQclear (res);
    int rc = 0;
    if (buf->len && PQputCopyData (conn, buf->data, (int) buf->len) != 1)
        rc = -1;
    if (PQputCopyEnd (conn, rc? "client error": NULL) != 1)
        rc = -1;
    while ((res = PQgetResult (conn)) != NULL) {
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
            if (state)
                snprintf (sqlstate, 6, "%s", state);
            rc = -1;
        }
        PQclear (res);
    }
    return rc;
}

int
txw_pg_copy (PGconn *conn, const char *copy_sql, const txw_copybuf_t *buf)
{
    char sqlstate [6];
    int rc = txw_pg_copy_try (conn, copy_sql, buf, sqlstate);
    if (rc)
        log_error ("COPY failed (SQLSTATE %s): %s", sqlstate, PQerrorMessage (conn));
    return rc;
}
