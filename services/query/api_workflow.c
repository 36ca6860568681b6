/*  api_workflow - an alert's changes: status, assignee, disposition, notes

    PATCH /api/v1/alerts/{id} changes any of status (open, investigating,
    closed), assignee and disposition, and may add a note; ack (close with
    a disposition and a note) and reopen (open again, without disposition)
    are its shorthands, and POST .../notes adds a note alone. Every change
    is one statement (s_change) that writes, from the rows it changed:

      - the alert row itself, and updated_at; closing also sets acked_at,
        acked_by and acked_key, leaving closed clears them, so readers of
        the acknowledgement (the gateway seed, txwctl, old clients) see a
        closed alert as acked;
      - one txw_data.alert_events row per field whose value changed (the
        notifier resolves an incident on status -> closed), and one per
        note (its new_value the note's id);
      - the note, in txw_data.alert_notes, its author the caller's key name;
      - when the disposition changed on a transaction's alert, its label
        in txw_data.labels (source 'disposition', replacing the one before)
        and the account's stale mark (reason 'disposition');
      - the audit row, with what the request asked.

    A request that changes no value writes nothing (no event, no audit row)
    and answers the alert as it is. The alert row is locked first (FOR
    UPDATE in the same statement), so two analysts changing one alert at
    once are ordered, and each event's old_value is the value it replaced.

    Labels: confirmed_fraud is fraud, false_positive legit, duplicate
    duplicate; suspicious and not_actionable say nothing of the truth and
    are 'unknown' (detail keeps the disposition), as is a disposition taken
    away (a reopen): a label row is replaced, never deleted, so a reader
    that follows set_at sees the withdrawal too.                            */

#include "api_private.h"
#include "codec.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_MAX       128     //  alert keys: "region_health:" + region + ":" + ms
#define S_NOTE_MAX      2000    //  bytes; the request body is at most 4 KiB
#define S_ASSIGNEE_MAX  64      //  the length of a key name

static const char *const s_statuses [] = { "open", "investigating", "closed", NULL };
static const char *const s_dispositions [] = {
    "confirmed_fraud", "false_positive", "suspicious", "duplicate", "not_actionable", NULL
};

//  What a request changes: a field is changed when its set_ flag is true
//  (a NULL value then clears it; status cannot be cleared).
typedef struct {
    const char *status;             //  NULL: unchanged
    bool set_assignee;
    const char *assignee;
    bool set_disposition;
    const char *disposition;
    const char *note;               //  NULL: no note
    const char *only_from;          //  a condition on the current status, or NULL
} s_change_t;

//  Checks an alert id from the path: a number or a key. Returns 0, or 400.
static int
s_alert_id (const char *id, bool *numeric, json_t **out)
{
    qerror_t err;
    size_t digits = strspn (id, "0123456789");
    *numeric = digits > 0 && digits <= 18 && !id [digits];
    if (!*numeric && !qparams_text_valid (id, S_KEY_MAX)) {
        qerror_set (&err, "id", "must be an alert id or key of at most %d bytes", S_KEY_MAX);
        return qapi_bad_parameter (&err, out);
    }
    return 0;
}

//  The alert id from the path (s_alert_id) and the body, an object of the
//  allowed members. Returns the body, or NULL with *status the answer's.
static json_t *
s_alert_body (const qrequest_t *req, const char *const *allowed, bool *numeric, int *status,
              json_t **out)
{
    *status = s_alert_id (req->arg, numeric, out);
    return *status? NULL: qapi_body_object (req, allowed, status, out);
}

//  The member name of body, if present and not null, as one of values
//  (into *set and *value). Returns 0, or -1 with err filled.
static int
s_body_enum (json_t *body, const char *name, const char *const *values, const char *list,
             bool *set, const char **value, qerror_t *err)
{
    json_t *member = json_object_get (body, name);
    *set = member != NULL;
    *value = NULL;
    if (!member || json_is_null (member))
        return 0;
    const char *text = json_string_value (member);
    for (int i = 0; text && values [i]; i++)
        if (!strcmp (text, values [i]))
            *value = values [i];
    return *value? 0: qerror_set (err, name, "must be one of %s", list);
}

//  The member name of body as free text of 1..max bytes without control
//  characters (borrowed from body), or NULL when absent or null.
static int
s_body_text (json_t *body, const char *name, int max, bool *set, const char **value,
             qerror_t *err)
{
    json_t *member = json_object_get (body, name);
    *set = member != NULL;
    *value = NULL;
    if (!member || json_is_null (member))
        return 0;
    if (!json_is_string (member) || !qparams_text_valid (json_string_value (member), (size_t) max))
        return qerror_set (err, name, "must be a string of 1 to %d bytes without control"
                           " characters", max);
    *value = json_string_value (member);
    return 0;
}

//  Runs change on the alert id (numeric or a key) for req's caller as the
//  audit action, then reads the alert (into *out, or 404). detail is the
//  audit row's detail (a JSON object's text). *note_id, if not NULL, gets
//  the id of the note added ("" if none). Returns the HTTP status.
static int
s_change (qapi_t *api, const qrequest_t *req, bool numeric, const s_change_t *change,
          const char *action, const char *detail, char *note_id, size_t note_size,
          json_t **out)
{
    char sql [4096];
    //  $1 id, $2 status, $3 set assignee, $4 assignee, $5 set disposition,
    //  $6 disposition, $7 note, $8 the caller's key name, $9 its key id,
    //  $10 its role, $11 the client, $12 the audit detail.
    int len = snprintf (sql, sizeof sql,
        "WITH target AS ("
        " SELECT alert_id, ts, status, assignee, disposition FROM txw_data.alerts"
        " WHERE %s%s%s FOR UPDATE),"
        " wanted AS ("
        " SELECT t.*, coalesce ($2::text, t.status) AS new_status,"
        "  CASE WHEN $3::bool THEN $4::text ELSE t.assignee END AS new_assignee,"
        "  CASE WHEN $5::bool THEN $6::text ELSE t.disposition END AS new_disposition FROM target t),"
        " changed AS ("
        " UPDATE txw_data.alerts a SET status = w.new_status, assignee = w.new_assignee,"
        "  disposition = w.new_disposition, updated_at = now(),"
        "  acked_at = CASE WHEN w.new_status <> 'closed' THEN NULL"
        "   WHEN w.status = 'closed' THEN a.acked_at ELSE now() END,"
        "  acked_by = CASE WHEN w.new_status <> 'closed' THEN NULL"
        "   WHEN w.status = 'closed' THEN a.acked_by ELSE $8 END,"
        "  acked_key = CASE WHEN w.new_status <> 'closed' THEN NULL"
        "   WHEN w.status = 'closed' THEN a.acked_key ELSE $9 END,"
        "  note = CASE WHEN w.new_status <> 'closed' THEN NULL"
        "   WHEN w.status = 'closed' THEN a.note ELSE $7 END"
        " FROM wanted w WHERE a.alert_id = w.alert_id AND a.ts = w.ts"
        "  AND ((w.new_status, w.new_assignee, w.new_disposition)"
        "   IS DISTINCT FROM (w.status, w.assignee, w.disposition) OR $7::text IS NOT NULL)"
        " RETURNING a.alert_id, a.ts, a.dedupe_key, a.tx_id, a.account_id,"
        "  w.status AS old_status, a.status, w.assignee AS old_assignee, a.assignee,"
        "  w.disposition AS old_disposition, a.disposition),"
        " events AS ("
        " INSERT INTO txw_data.alert_events (alert_id, ts, dedupe_key, field, old_value, new_value, actor)"
        " SELECT c.alert_id, c.ts, c.dedupe_key, f.field, f.old_value, f.new_value, $8"
        " FROM changed c, LATERAL (VALUES (1, 'status', c.old_status, c.status),"
        "  (2, 'assignee', c.old_assignee, c.assignee),"
        "  (3, 'disposition', c.old_disposition, c.disposition)) f (n, field, old_value, new_value)"
        " WHERE f.old_value IS DISTINCT FROM f.new_value ORDER BY f.n),"
        " noted AS ("
        " INSERT INTO txw_data.alert_notes (alert_id, ts, author, body)"
        " SELECT alert_id, ts, $8, $7 FROM changed WHERE $7::text IS NOT NULL"
        " RETURNING note_id, alert_id, ts),"
        " note_events AS ("
        " INSERT INTO txw_data.alert_events (alert_id, ts, dedupe_key, field, new_value, actor)"
        " SELECT n.alert_id, n.ts, c.dedupe_key, 'note', n.note_id::text, $8"
        " FROM noted n JOIN changed c USING (alert_id)),"
        " labelled AS ("
        " INSERT INTO txw_data.labels (tx_id, source, ts, account_id, label, detail, set_by)"
        " SELECT tx_id, 'disposition', ts, account_id, CASE disposition"
        "  WHEN 'confirmed_fraud' THEN 'fraud' WHEN 'false_positive' THEN 'legit'"
        "  WHEN 'duplicate' THEN 'duplicate' ELSE 'unknown' END, disposition, $8"
        " FROM changed WHERE disposition IS DISTINCT FROM old_disposition"
        "  AND tx_id IS NOT NULL AND account_id IS NOT NULL"
        " ON CONFLICT (tx_id, source) DO UPDATE SET label = excluded.label,"
        "  detail = excluded.detail, set_by = excluded.set_by, set_at = now()),"
        " staled AS ("
        " INSERT INTO txw_data.stale_accounts (account_id, reason)"
        " SELECT account_id, 'disposition' FROM changed"
        " WHERE disposition IS DISTINCT FROM old_disposition AND account_id IS NOT NULL"
        " ON CONFLICT DO NOTHING),"
        " logged AS ("
        " INSERT INTO txw_data.audit (principal, name, role, action, target, client, detail)"
        " SELECT $9, $8, $10, '%s', dedupe_key, $11,"
        "  jsonb_build_object ('alert_id', alert_id) || $12::jsonb FROM changed)"
        " SELECT (SELECT note_id FROM noted) AS note_id",
        numeric? "alert_id = $1::bigint": "dedupe_key = $1::text",
        change->only_from? " AND ": "", change->only_from? change->only_from: "", action);
    if (len < 0 || (size_t) len >= sizeof sql) {
        *out = qapi_error ("internal", "the change does not fit its statement");
        return 500;
    }
    const char *params [] = {
        req->arg, change->status, change->set_assignee? "true": "false", change->assignee,
        change->set_disposition? "true": "false", change->disposition, change->note,
        req->who->name, req->who->key_id, txw_role_name (req->who->role), req->client, detail
    };
    qpool_error_t perr;
    qconn_t *conn = qpool_checkout (api->pool, &perr);
    if (!conn)
        return qapi_db_error (&perr, out);
    PGresult *res = qpool_query (api->pool, conn, sql, QAPI_COUNT (params), params, &perr);
    if (res && note_id)
        snprintf (note_id, note_size, "%s", qapi_text (res, 0, txw_pg_column (res, "note_id")));
    bool done = res != NULL;
    PQclear (res);
    res = NULL;
    if (done)
        res = qpool_query (api->pool, conn, numeric?
            "SELECT " QAPI_ALERT_COLUMNS " FROM txw.alerts WHERE alert_id = $1::bigint":
            "SELECT " QAPI_ALERT_COLUMNS " FROM txw.alerts WHERE key = $1", 1, params, &perr);
    qpool_checkin (api->pool, conn);
    if (!res)
        return qapi_db_error (&perr, out);
    return qapi_one_row (res, &qapi_alert_table, "alert", req->arg, out);
}

//  Ends a request whose body (consumed) was read into change: the 400 of
//  err if rc, else the change, audited as action with the body as it was
//  read (only known members, checked), compact, as the detail.
static int
s_change_body (qapi_t *api, const qrequest_t *req, bool numeric, const s_change_t *change,
               const char *action, json_t *body, int rc, qerror_t *err, json_t **out)
{
    char *detail = rc? NULL: json_dumps (body, JSON_COMPACT | JSON_SORT_KEYS);
    int status = rc? qapi_bad_parameter (err, out):
                 s_change (api, req, numeric, change, action, detail? detail: "{}", NULL, 0,
                           out);
    free (detail);
    json_decref (body);
    return status;
}

//  --- PATCH /api/v1/alerts/{id} ---------------------------------------------------

int
qapi_alert_update (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "status", "assignee", "disposition", "note", NULL };
    bool numeric, set_status, set_note;
    int status;
    json_t *body = s_alert_body (req, allowed, &numeric, &status, out);
    if (!body)
        return status;
    s_change_t change = { 0 };
    qerror_t err;
    int rc = s_body_enum (body, "status", s_statuses, "open, investigating, closed",
                          &set_status, &change.status, &err);
    if (!rc && set_status && !change.status)
        rc = qerror_set (&err, "status", "must be one of open, investigating, closed");
    if (!rc)
        rc = s_body_text (body, "assignee", S_ASSIGNEE_MAX, &change.set_assignee,
                          &change.assignee, &err);
    if (!rc)
        rc = s_body_enum (body, "disposition", s_dispositions, "confirmed_fraud,"
                          " false_positive, suspicious, duplicate, not_actionable, null",
                          &change.set_disposition, &change.disposition, &err);
    if (!rc)
        rc = s_body_text (body, "note", S_NOTE_MAX, &set_note, &change.note, &err);
    if (!rc && set_note && !change.note)
        rc = qerror_set (&err, "note", "must be a string of 1 to %d bytes", S_NOTE_MAX);
    return s_change_body (api, req, numeric, &change, "alert.update", body, rc, &err, out);
}

//  --- POST /api/v1/alerts/{id}/ack and /reopen --------------------------------------

int
qapi_ack (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "disposition", "note", NULL };
    bool numeric, set_note;
    int status = s_alert_id (req->arg, &numeric, out);
    if (status)
        return status;
    qerror_t err;
    //  The acker used to be named in the body: now it is the caller's key.
    if (req->body_len && memmem (req->body, req->body_len, "\"by\"", 4)) {
        qerror_set (&err, "by", "the acker is the caller's API key; \"by\" is not accepted");
        return qapi_bad_parameter (&err, out);
    }
    json_t *body = qapi_body_object (req, allowed, &status, out);
    if (!body)
        return status;
    //  Only an alert not closed yet changes: acking twice keeps the first ack.
    s_change_t change = { .status = "closed", .only_from = "status <> 'closed'" };
    int rc = s_body_enum (body, "disposition", s_dispositions, "confirmed_fraud,"
                          " false_positive, suspicious, duplicate, not_actionable",
                          &change.set_disposition, &change.disposition, &err);
    change.set_disposition = true;      //  absent: closed without one
    if (!rc)
        rc = s_body_text (body, "note", S_NOTE_MAX, &set_note, &change.note, &err);
    return s_change_body (api, req, numeric, &change, "alert.ack", body, rc, &err, out);
}

int
qapi_reopen (qapi_t *api, const qrequest_t *req, json_t **out)
{
    bool numeric;
    int status = s_alert_id (req->arg, &numeric, out);
    if (status)
        return status;
    //  Open again as it was raised: no disposition (its label becomes
    //  'unknown'); the assignee stays, who is still on it.
    s_change_t change = { .status = "open", .set_disposition = true,
                          .only_from = "status <> 'open'" };
    return s_change (api, req, numeric, &change, "alert.reopen", "{}", NULL, 0, out);
}

//  --- /api/v1/alerts/{id}/notes ----------------------------------------------------

static const qapi_column_t s_note_columns [] = {
    { "id", QAPI_INT }, { "alert_id", QAPI_INT }, { "author", QAPI_TEXT },
    { "body", QAPI_TEXT }, { "created_at", QAPI_TIME }
};
static const qapi_table_t s_note_table = QAPI_TABLE (s_note_columns);

#define S_NOTE_COLUMNS \
    "n.note_id AS id, n.alert_id, n.author, n.body, " QAPI_MS_AS ("n.created_at", "created_at")

int
qapi_note_add (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { "body", NULL };
    bool numeric, set_note;
    int status;
    json_t *body = s_alert_body (req, allowed, &numeric, &status, out);
    if (!body)
        return status;
    s_change_t change = { 0 };
    qerror_t err;
    int rc = s_body_text (body, "body", S_NOTE_MAX, &set_note, &change.note, &err);
    if (!rc && !change.note)
        rc = qerror_set (&err, "body", "must be a string of 1 to %d bytes", S_NOTE_MAX);
    if (rc) {
        json_decref (body);
        return qapi_bad_parameter (&err, out);
    }
    char note_id [24] = "";
    json_t *alert = NULL;
    status = s_change (api, req, numeric, &change, "alert.note", "{}", note_id,
                       sizeof note_id, &alert);
    json_decref (body);
    if (status != 200) {
        *out = alert;
        return status;
    }
    json_decref (alert);
    const char *values [] = { note_id };
    PGresult *res = qapi_query1 (api, "SELECT " S_NOTE_COLUMNS " FROM txw_data.alert_notes n"
                                 " WHERE note_id = $1::bigint", 1, values, &status, out);
    if (!res)
        return status;
    status = qapi_one_row (res, &s_note_table, "note", note_id, out);
    return status == 200? 201: status;
}

int
qapi_notes (qapi_t *api, const qrequest_t *req, json_t **out)
{
    static const char *const allowed [] = { NULL };
    bool numeric;
    qparams_t params;
    qerror_t err;
    int status = s_alert_id (req->arg, &numeric, out);
    if (status)
        return status;
    if (qparams_parse (&params, req->query, allowed, &err))
        return qapi_bad_parameter (&err, out);
    const char *values [] = { req->arg };
    //  The alert even without notes (one row of NULLs), so that none is a 404.
    PGresult *res = qapi_query1 (api, numeric?
        "SELECT " S_NOTE_COLUMNS " FROM txw_data.alerts a LEFT JOIN txw_data.alert_notes n"
        " ON n.alert_id = a.alert_id AND n.ts = a.ts WHERE a.alert_id = $1::bigint"
        " ORDER BY n.note_id":
        "SELECT " S_NOTE_COLUMNS " FROM txw_data.alerts a LEFT JOIN txw_data.alert_notes n"
        " ON n.alert_id = a.alert_id AND n.ts = a.ts WHERE a.dedupe_key = $1"
        " ORDER BY n.note_id", 1, values, &status, out);
    if (!res)
        return status;
    if (!PQntuples (res)) {
        PQclear (res);
        return qapi_not_found (out, "alert", req->arg);
    }
    if (PQntuples (res) == 1 && PQgetisnull (res, 0, txw_pg_column (res, "id"))) {
        PQclear (res);
        *out = json_pack ("{s:[]}", "notes");
        return 200;
    }
    return qapi_list_answer (res, "notes", &s_note_table, out);
}
