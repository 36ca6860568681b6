/*  auditlog - a service's own actions in the audit log (txw_data.audit)

    The query API writes the audit rows of what people do in the same
    statement as the action (services/query). Services record what they do
    by themselves with this: the scorer's rule and model reloads. Rows go
    through the background writer (pgwriter.h), so a slow or absent
    database never holds up scoring; a row the writer has to give up is
    counted (txw_audit_dropped_total) and logged, never silently lost.
    The principal is "service:<source id>", the role "service".           */

#ifndef TXW_AUDITLOG_H
#define TXW_AUDITLOG_H

typedef struct _txw_auditlog_t txw_auditlog_t;

//  Starts writing to database_url as service source_id. NULL if it
//  cannot start (logged).
txw_auditlog_t *txw_auditlog_new (const char *database_url, const char *source_id);

//  Queues one row: action ("rules.reload"), target (a file, "" for none)
//  and detail, a JSON object as text (NULL: {}).
void txw_auditlog_add (txw_auditlog_t *self, const char *action, const char *target,
                       const char *detail);

//  Waits up to timeout_ms for the queued rows; 0 when all are written.
int txw_auditlog_drain (txw_auditlog_t *self, int timeout_ms);

void txw_auditlog_destroy (txw_auditlog_t **self_p);

#endif
