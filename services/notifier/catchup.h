/*  catchup - what the notifier must still send, from PostgreSQL

    The live feed is PUB/SUB: an alert published while the notifier is down
    or restarting, or dropped by a PUB, never reaches it. Every alert is
    also stored by the aggregator (txw_data.alerts, ids in commit order), so
    the notifier keeps a cursor there (txw_data.notifier_cursor, one row per
    --cursor-name) and reads the alerts after it, in id order. The cursor
    passes an alert only once its deliveries are finished (delivered, or
    given up by the retry policy): an alert stored while the notifier was
    down is sent after it restarts, and an alert heard live is not sent
    again. The first start begins at the newest stored alert (history is not
    replayed to receivers that never saw it).

    A delivery left undone at exit is sent again by the next start: at least
    once, with the same idempotency key, which is what receivers de-duplicate
    on.

    It also follows the alerts' changes (txw_data.alert_events, written by
    the query API) after a cursor of its own (txw_data.notifier_event_cursor,
    same name) when asked to: each close of an alert is offered to the
    notifier, which resolves the PagerDuty incidents the alert opened. The
    event cursor passes a close only once its resolves are finished, so a
    close made while the notifier was down is resolved after it restarts.
    Its first start, too, begins at the newest event.                        */

#ifndef TXW_NOTIFIER_CATCHUP_H
#define TXW_NOTIFIER_CATCHUP_H

#include "codec.h"

#include <stddef.h>
#include <stdint.h>

typedef struct _nt_catchup_t nt_catchup_t;

//  What the notifier did with a stored alert (nt_catchup_take_fn).
typedef enum {
    NT_CATCHUP_SENT,            //  handed to delivery: wait for it to finish
    NT_CATCHUP_DONE,            //  nothing to wait for (filtered, finished before)
    NT_CATCHUP_WAIT,            //  already on its way (heard live): wait for it
    NT_CATCHUP_LATER            //  cannot take it now (queue full): read it again
} nt_catchup_take_t;

typedef nt_catchup_take_t (nt_catchup_take_fn) (void *arg, const txw_alert_t *alert,
                                                const char *key);

//  Connects lazily to database_url; name is the cursor's row.
nt_catchup_t *nt_catchup_new (const char *database_url, const char *name);
//  Writes the cursor one last time and closes.
void nt_catchup_destroy (nt_catchup_t **self_p);

//  Reads up to room stored alerts after those already read, in id order,
//  and offers each to take; writes the cursor when it moved (at most once
//  a second). A database that does not answer is logged and tried again
//  at the next call.
void nt_catchup_poll (nt_catchup_t *self, size_t room, nt_catchup_take_fn *take, void *arg);
//  Follows the closes of alerts too, from the next poll on.
void nt_catchup_follow_closes (nt_catchup_t *self);

//  Reads the alert events after the event cursor, once the resolves of the
//  last closes read are finished, and offers each close of a stored alert to
//  take (the alert has its kind, score and amount_rep_minor, what routing
//  needs; key is its dedupe key): NT_CATCHUP_SENT holds the event cursor
//  until nt_catchup_close_finished is called once per close sent,
//  NT_CATCHUP_LATER reads it again at the next call. Writes the event
//  cursor when it moved (at most once a second).
void nt_catchup_poll_closes (nt_catchup_t *self, nt_catchup_take_fn *take, void *arg);

//  The resolves of one close sent are finished.
void nt_catchup_close_finished (nt_catchup_t *self);

//  A delivery finished: the alert with this key no longer holds the cursor.
void nt_catchup_finished (nt_catchup_t *self, const char *key);
//  Alerts read and not yet finished.
size_t nt_catchup_waiting (const nt_catchup_t *self);

#endif
