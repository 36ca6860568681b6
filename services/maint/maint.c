/*  maint - the maintenance tasks of txw-maint: retention and segments     */

#include "maint.h"

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pgutil.h"
#include "rfc3339.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY 86400000LL

//  Window rows are kept 9 days: the hourly and daily rollups (016) already
//  hold everything they add up, exactly, and a window row must outlive the
//  time the aggregator may still update it, or a late update would insert
//  it again and the rollup trigger would count it twice. That time is at
//  most a day of --window-s, a day of --lateness-s and 7 of --retention-s
//  (their largest values). Alerts go by month of their event time and
//  dead letters by day of their arrival (proto/sql/019); rescores by month
//  of their transaction's event time, as long as the transactions (024). A table that is
//  not partitioned (a database before 019) is skipped, never trimmed row
//  by row.
const maint_table_t maint_tables [MAINT_TABLES] = {
    { "transactions",   "transactions", "90" },
    { "windows",        "windows",      "9" },
    { "windows_hourly", "hourly",       "365" },
    { "windows_daily",  "daily",        "365" },
    { "alerts",         "alerts",       "730" },
    { "dead_letters",   "dead-letters", "30" },
    { "rescores",       "rescores",     "90" },
};

typedef enum { TASK_RETENTION, TASK_SEGMENTS, TASKS } s_task_t;
static const char *s_task_names [TASKS] = { "retention", "segments" };

struct _maint_t {
    maint_config_t cfg;
    txw_counter_t *runs [TASKS];
    txw_counter_t *failures [TASKS];
    txw_gauge_t *last_success [TASKS];
    txw_counter_t *dropped [MAINT_TABLES];
    atomic_bool healthy;
};

maint_t *
maint_new (const maint_config_t *cfg)
{
    maint_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    for (int t = 0; t < TASKS; t++) {
        char labels [64];
        snprintf (labels, sizeof labels, "task=\"%s\"", s_task_names [t]);
        self->runs [t] = txw_counter_new ("txw_maint_runs_total", labels,
                                          "maintenance task runs, ended either way");
        self->failures [t] = txw_counter_new ("txw_maint_failures_total", labels,
                                              "maintenance task runs that failed");
        self->last_success [t] = txw_gauge_new ("txw_maint_last_success_timestamp_seconds",
                                                labels,
                                                "when a task last succeeded (0: not yet)");
    }
    for (int i = 0; i < MAINT_TABLES; i++) {
        char labels [96];
        snprintf (labels, sizeof labels, "table=\"%s\"", maint_tables [i].table);
        self->dropped [i] = txw_counter_new ("txw_maint_partitions_dropped_total", labels,
                                             "expired partitions detached and dropped");
    }
    atomic_store (&self->healthy, true);
    return self;
}

void
maint_destroy (maint_t **self_p)
{
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool
maint_healthy (maint_t *self)
{
    return atomic_load (&self->healthy);
}

//  The server's message of a failed result, without the severity and on
//  one line (what the log and the run record show).
static void
s_error (const PGresult *res, char *error, size_t size)
{
    const char *primary = PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY);
    snprintf (error, size, "%s", primary? primary: PQresultErrorMessage (res));
    error [strcspn (error, "\n")] = 0;
}

//  One value of a one-row query, copied into out; params may be NULL.
//  Returns 0, or -1 with the server's first line of error in error.
static int
s_value (PGconn *conn, const char *sql, int nparams, const char *const *params,
         char *out, size_t size, char *error, size_t error_size)
{
    PGresult *res = PQexecParams (conn, sql, nparams, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        s_error (res, error, error_size);
    else
    if (PQntuples (res) != 1)
        snprintf (error, error_size, "%d rows, not one", PQntuples (res));
    else {
        snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
        rc = 0;
    }
    PQclear (res);
    return rc;
}

//  The run's as-of time in milliseconds: --as-of, else the database's
//  clock (the one drop_expired_partitions checks the cutoff against).
static int
s_as_of (maint_t *self, PGconn *conn, int64_t *ms, char *error, size_t error_size)
{
    char text [64];
    const char *params [1] = { *self->cfg.as_of? self->cfg.as_of: NULL };
    if (s_value (conn, "SELECT (extract (epoch FROM coalesce ($1::timestamptz, now ())) * 1000)::bigint",
                 1, params, text, sizeof text, error, error_size))
        return -1;
    *ms = strtoll (text, NULL, 10);
    return 0;
}

//  Trims one table; fills entry. Returns 0, or -1 (logged, entry's error).
static int
s_trim (maint_t *self, PGconn *conn, int index, int64_t as_of_ms, json_t *entry)
{
    const char *table = maint_tables [index].table;
    int64_t days = self->cfg.keep_days [index];
    char qualified [96], cutoff [RFC3339_SIZE], kind [8], error [256];
    snprintf (qualified, sizeof qualified, "txw_data.%s", table);
    rfc3339_format (cutoff, sizeof cutoff, as_of_ms - days * MS_PER_DAY);
    json_object_set_new (entry, "keep_days", json_integer (days));
    json_object_set_new (entry, "cutoff", json_string (cutoff));

    const char *kind_params [1] = { qualified };
    if (s_value (conn, "SELECT coalesce ((SELECT relkind::text FROM pg_catalog.pg_class"
                       " WHERE oid = pg_catalog.to_regclass ($1)), '')",
                 1, kind_params, kind, sizeof kind, error, sizeof error)) {
        log_error ("retention: cannot look up %s: %s", qualified, error);
        json_object_set_new (entry, "error", json_string (error));
        return -1;
    }
    if (strcmp (kind, "p") != 0) {
        const char *why = *kind? "not partitioned: kept whole, never trimmed row by row"
                               : "absent from this database";
        log_info ("retention: %s skipped (%s)", qualified, why);
        json_object_set_new (entry, "skipped", json_string (why));
        return 0;
    }
    const char *params [2] = { table, cutoff };
    PGresult *res = PQexecParams (conn,
        "SELECT partition_name,"
        " (extract (epoch FROM range_start) * 1000)::bigint AS start_ms,"
        " (extract (epoch FROM range_end) * 1000)::bigint AS end_ms"
        " FROM txw_data.drop_expired_partitions ($1, $2::timestamptz)",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        s_error (res, error, sizeof error);
        log_error ("retention: dropping the partitions of %s before %s failed: %s",
                   qualified, cutoff, error);
        json_object_set_new (entry, "error", json_string (error));
        PQclear (res);
        return -1;
    }
    json_t *dropped = json_array ();
    json_object_set_new (entry, "dropped", dropped);
    for (int row = 0; row < PQntuples (res); row++) {
        char from [RFC3339_SIZE], to [RFC3339_SIZE];
        const char *name = txw_pg_text (res, row, "partition_name");
        rfc3339_format (from, sizeof from, txw_pg_int (res, row, "start_ms"));
        rfc3339_format (to, sizeof to, txw_pg_int (res, row, "end_ms"));
        log_info ("retention: dropped partition txw_data.%s of %s (%s to %s; cutoff %s, "
                  "%lld days kept)", name, qualified, from, to, cutoff, (long long) days);
        json_array_append_new (dropped, json_pack ("{s:s, s:s, s:s}", "partition", name,
                                                    "from", from, "to", to));
        txw_counter_add (self->dropped [index], 1);
    }
    if (PQntuples (res) == 0)
        log_info ("retention: %s has no partition before %s", qualified, cutoff);
    PQclear (res);
    return 0;
}

static int
s_retention (maint_t *self, PGconn *conn, json_t *detail)
{
    int64_t as_of_ms;
    char as_of [RFC3339_SIZE], error [256];
    if (s_as_of (self, conn, &as_of_ms, error, sizeof error)) {
        log_error ("retention: cannot read the as-of time: %s", error);
        json_object_set_new (detail, "error", json_string (error));
        return -1;
    }
    rfc3339_format (as_of, sizeof as_of, as_of_ms);
    json_object_set_new (detail, "as_of", json_string (as_of));
    json_t *tables = json_object ();
    json_object_set_new (detail, "tables", tables);
    int rc = 0;
    for (int i = 0; i < MAINT_TABLES; i++) {
        json_t *entry = json_object ();
        json_object_set_new (tables, maint_tables [i].table, entry);
        if (s_trim (self, conn, i, as_of_ms, entry))
            rc = -1;
    }
    return rc;
}

static int
s_segments (maint_t *self, PGconn *conn, json_t *detail)
{
    char present [8], result [4096], error [256];
    if (s_value (conn, "SELECT pg_catalog.to_regprocedure"
                       " ('txw_data.refresh_segments(timestamp with time zone)') IS NOT NULL",
                 0, NULL, present, sizeof present, error, sizeof error)) {
        log_error ("segments: cannot look up txw_data.refresh_segments: %s", error);
        json_object_set_new (detail, "error", json_string (error));
        return -1;
    }
    if (strcmp (present, "t") != 0) {
        const char *why = "txw_data.refresh_segments(timestamptz) does not exist: "
                          "this database lacks migration 017 (customers)";
        log_error ("segments: %s", why);
        json_object_set_new (detail, "error", json_string (why));
        return -1;
    }
    const char *params [1] = { *self->cfg.as_of? self->cfg.as_of: NULL };
    if (s_value (conn, "SELECT coalesce (txw_data.refresh_segments"
                       " (coalesce ($1::timestamptz, now ()))::text, '')",
                 1, params, result, sizeof result, error, sizeof error)) {
        log_error ("segments: the refresh failed: %s", error);
        json_object_set_new (detail, "error", json_string (error));
        return -1;
    }
    log_info ("segments: refreshed%s%s", *result? ": ": "", result);
    //  The function's own account of the refresh (JSON) goes into the run's
    //  record as it is; anything else as text.
    json_t *parsed = json_loads (result, JSON_DECODE_ANY, NULL);
    json_object_set_new (detail, "result", parsed? parsed: json_string (result));
    return 0;
}

//  Writes the run's row. started is the database's clock at the start, so
//  that both times come from one clock.
static void
s_record (PGconn *conn, const char *task, const char *started, bool ok, json_t *detail)
{
    char *text = json_dumps (detail, JSON_COMPACT | JSON_SORT_KEYS);
    const char *params [4] = { task, started, ok? "ok": "failed", text? text: "{}" };
    PGresult *res = PQexecParams (conn,
        "INSERT INTO txw_data.maint_runs (task, started_at, finished_at, outcome, detail)"
        " VALUES ($1, $2::timestamptz, clock_timestamp (), $3, $4::jsonb)",
        4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_COMMAND_OK)
        log_error ("%s: the run could not be recorded in txw_data.maint_runs: %s", task,
                   PQresultErrorMessage (res));
    PQclear (res);
    free (text);
}

int
maint_run (maint_t *self)
{
    bool wanted [TASKS] = { self->cfg.retention, self->cfg.segments };
    PGconn *conn = txw_pg_connect (self->cfg.database_url);
    int rc = 0;
    for (int t = 0; t < TASKS; t++) {
        if (!wanted [t])
            continue;
        txw_counter_add (self->runs [t], 1);
        char started [64] = "", error [256];
        if (!conn || s_value (conn, "SELECT clock_timestamp ()::text", 0, NULL, started,
                              sizeof started, error, sizeof error)) {
            //  Nothing can be recorded without the database: the log and
            //  the failure counter say it.
            if (conn)
                log_error ("%s: the database does not answer: %s", s_task_names [t], error);
            else
                log_error ("%s: cannot connect to the database", s_task_names [t]);
            txw_counter_add (self->failures [t], 1);
            rc = -1;
            continue;
        }
        json_t *detail = json_object ();
        int64_t began = txw_mono_ms ();
        int task_rc = t == TASK_RETENTION? s_retention (self, conn, detail)
                                         : s_segments (self, conn, detail);
        s_record (conn, s_task_names [t], started, task_rc == 0, detail);
        json_decref (detail);
        if (task_rc) {
            txw_counter_add (self->failures [t], 1);
            log_error ("%s: failed (recorded in txw_data.maint_runs)", s_task_names [t]);
            rc = -1;
        }
        else {
            txw_gauge_set (self->last_success [t], txw_now_ms () / 1000);
            log_info ("%s: done in %lld ms", s_task_names [t],
                      (long long) (txw_mono_ms () - began));
        }
    }
    PQfinish (conn);
    atomic_store (&self->healthy, rc == 0);
    return rc;
}
