/*  auditlog - a service's own actions in the audit log                    */

#include "auditlog.h"
#include "log.h"
#include "metrics.h"
#include "pgwriter.h"

#include <stdio.h>
#include <stdlib.h>

#define S_MAX_QUEUED    10000

struct _txw_auditlog_t {
    char principal [96];
    txw_pgwriter_t *writer;
};

txw_auditlog_t *
txw_auditlog_new (const char *database_url, const char *source_id)
{
    txw_auditlog_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->principal, sizeof self->principal, "service:%s", source_id);
    txw_pgwriter_config_t config = {
        .name = "audit rows",
        .stage_sql = "CREATE TEMP TABLE IF NOT EXISTS stage_audit"
                     " (name text, action text, target text, detail text, n bigserial)"
                     " ON COMMIT DELETE ROWS",
        .copy_sql = "COPY stage_audit (name, action, target, detail) FROM STDIN",
        .apply_sql = "INSERT INTO txw_data.audit (principal, name, role, action, target, detail)"
                     " SELECT $1, name, 'service', action, target, detail::jsonb"
                     " FROM stage_audit ORDER BY n",
        .apply_param = self->principal,
        .max_rows = S_MAX_QUEUED,
        .metrics = {
            txw_counter_new ("txw_audit_rows_total", NULL,
                             "this service's actions written to the audit log"),
            txw_counter_new ("txw_audit_dropped_total", NULL,
                             "audit rows given up: the database was away too long or refused them"),
            NULL, NULL
        }
    };
    self->writer = txw_pgwriter_new (database_url, &config);
    if (!self->writer) {
        free (self);
        return NULL;
    }
    return self;
}

void
txw_auditlog_add (txw_auditlog_t *self, const char *action, const char *target,
                  const char *detail)
{
    txw_copybuf_t *buf = txw_pgwriter_row_begin (self->writer);
    if (!buf) {
        log_warn ("audit log full: %s of %s not recorded", action, target);
        return;
    }
    txw_copybuf_str (buf, self->principal + 8);    //  the source id
    txw_copybuf_str (buf, action);
    txw_copybuf_str (buf, target? target: "");
    txw_copybuf_str (buf, detail? detail: "{}");
    txw_copybuf_end_row (buf);
    txw_pgwriter_row_end (self->writer);
}

int
txw_auditlog_drain (txw_auditlog_t *self, int timeout_ms)
{
    return txw_pgwriter_drain (self->writer, timeout_ms);
}

void
txw_auditlog_destroy (txw_auditlog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_pgwriter_destroy (&(*self_p)->writer);
    free (*self_p);
    *self_p = NULL;
}
