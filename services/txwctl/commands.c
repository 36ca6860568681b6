/*  commands - one function per txwctl command                              */

#include "commands.h"
#include "bootstrap.h"
#include "keyfile.h"
#include "products.h"
#include "render.h"
#include "rejects.h"
#include "tail.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  --- Option helpers ----------------------------------------------------------------

static int
s_usage_error (const char *command, const char *fmt, const char *value)
{
    fprintf (stderr, "txwctl %s: ", command);
    fprintf (stderr, fmt, value);
    fprintf (stderr, "\n(see txwctl %s --help)\n", command);
    return CTL_USAGE;
}

//  Parses an integer option value within min..max. Returns 0 or CTL_USAGE.
static int
s_int_option (const char *command, const char *option, const char *text, long min, long max,
              long *out)
{
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < min || value > max) {
        fprintf (stderr, "txwctl %s: --%s must be an integer from %ld to %ld, not '%s'\n"
                 "(see txwctl %s --help)\n", command, option, min, max, text, command);
        return CTL_USAGE;
    }
    *out = value;
    return 0;
}

//  Options every command takes.
#define S_COMMON_OPTIONS \
    { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, \
    { "key-file", required_argument, NULL, 'K' }

//  Handles the options every command takes; returns -1 if opt is not one.
static int
s_common_option (ctl_api_t *api, const char *command, int opt)
{
    if (opt == 'j') {
        api->json = true;
        return 0;
    }
    if (opt == 'K') {
        api->key_file = optarg;
        return 0;
    }
    if (opt == 'h') {
        ctl_command_usage (ctl_command_find (command), stdout);
        return 1;
    }
    return -1;
}

//  A command's own option: returns 0, or an exit code to stop with.
typedef int (s_option_fn) (int opt, const char *arg, void *ctx);

//  Runs getopt_long over argv (argv [0] is the command), handing the
//  command's own options to handle and checking the number of positional
//  arguments. Returns 0 to go on with *first_positional set, or -1 to stop
//  with *exit_code (0 after --help, CTL_USAGE after a usage error).
static int
s_parse (ctl_api_t *api, int argc, char **argv, const struct option *longopts,
         s_option_fn *handle, void *ctx, int positional_min, int positional_max,
         int *first_positional, int *exit_code)
{
    const char *command = argv [0];
    optind = 0;                 //  GNU: reinitialise
    opterr = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, ":h", longopts, NULL)) != -1) {
        if (opt == '?') {
            *exit_code = s_usage_error (command, "unknown option '%s'", argv [optind - 1]);
            return -1;
        }
        if (opt == ':') {
            *exit_code = s_usage_error (command, "option '%s' needs a value", argv [optind - 1]);
            return -1;
        }
        int rc = s_common_option (api, command, opt);
        if (rc == 1) {
            *exit_code = CTL_OK;
            return -1;
        }
        if (rc == 0)
            continue;
        rc = handle? handle (opt, optarg, ctx): CTL_USAGE;
        if (rc) {
            *exit_code = rc;
            return -1;
        }
    }
    int positional = argc - optind;
    if (positional < positional_min) {
        *exit_code = s_usage_error (command, "%s", "missing argument");
        return -1;
    }
    if (positional > positional_max) {
        *exit_code = s_usage_error (command, "unexpected argument '%s'", argv [optind + positional_max]);
        return -1;
    }
    *first_positional = optind;
    return 0;
}

//  Prints the raw JSON answer with a final newline (for --json).
static void
s_print_raw (const char *raw)
{
    size_t len = strlen (raw);
    fputs (raw, stdout);
    if (!len || raw [len - 1] != '\n')
        fputc ('\n', stdout);
}

//  Makes the request; in --json mode prints the answer and returns with
//  *answer NULL. Returns the exit code.
static int
s_fetch (ctl_api_t *api, const char *method, const char *path, const char *body, json_t **answer)
{
    char *raw = NULL;
    int rc = ctl_api_call (api, method, path, body, answer, &raw);
    if (rc == CTL_OK && api->json) {
        s_print_raw (raw);
        json_decref (*answer);
        *answer = NULL;
    }
    free (raw);
    return rc;
}

//  Prints a table, or the empty message when it has no rows.
static void
s_print_table (ctl_table_t *table, const char *empty)
{
    if (ctl_table_rows (table) == 0)
        printf ("%s\n", empty);
    else
        ctl_table_print (table, stdout);
}

//  --- stats ---------------------------------------------------------------------------

typedef struct { long minutes; long limit; long min_score; bool open; const char *disposition;
                 const char *note; const char *reason; const char *topics; long count;
                 bool all; const char *out; const char *database_url; bool if_none;
                 const char *action; const char *principal; long before;
                 const char *status; const char *severity; const char *account;
                 const char *merchant; const char *assignee; const char *cursor;
                 const char *command; } s_opts_t;

static int
s_stats_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'm')
        return s_int_option ("stats", "minutes", arg, 1, 1440, &o->minutes);
    return CTL_USAGE;
}

static int
s_stats (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "minutes", required_argument, NULL, 'm' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .minutes = 5 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_stats_option, &o, 0, 0, &first, &rc))
        return rc;
    char path [128];
    snprintf (path, sizeof path, "/api/v1/stats/realtime?minutes=%ld", o.minutes);
    json_t *s = NULL;
    rc = s_fetch (api, "GET", path, NULL, &s);
    if (rc || !s)
        return rc;
    char a [128], b [128];
    ctl_table_t *t = ctl_table_new (2, NULL);
    if (!t) {
        json_decref (s);
        return CTL_API_ERROR;
    }
    ctl_table_pair (t, "period", "last %s minutes, %s to %s", ctl_text (json_object_get (s, "minutes"), a, sizeof a),
                    ctl_str (s, "from"), ctl_str (s, "to"));
    ctl_table_pair (t, "transactions", "%s", ctl_text (json_object_get (s, "count"), a, sizeof a));
    ctl_table_pair (t, "throughput", "%s tx/s", ctl_text (json_object_get (s, "tx_per_s"), a, sizeof a));
    ctl_table_pair (t, "volume", "%s", ctl_money (json_object_get (s, "volume_minor"),
                                                  ctl_str (s, "currency"), a, sizeof a));
    ctl_table_pair (t, "approved", "%s", ctl_percent (json_object_get (s, "approval_rate"), a, sizeof a));
    ctl_table_pair (t, "declined", "%s", ctl_percent (json_object_get (s, "decline_rate"), a, sizeof a));
    ctl_table_pair (t, "failed", "%s", ctl_percent (json_object_get (s, "failure_rate"), a, sizeof a));
    ctl_table_pair (t, "flagged", "%s (%s)", ctl_text (json_object_get (s, "flagged"), a, sizeof a),
                    ctl_percent (json_object_get (s, "flagged_rate"), b, sizeof b));
    ctl_table_pair (t, "mean score", "%s", ctl_text (json_object_get (s, "mean_score"), a, sizeof a));
    ctl_table_print (t, stdout);
    ctl_table_destroy (&t);
    json_decref (s);
    return CTL_OK;
}

//  --- alerts and ack ---------------------------------------------------------------------

static int
s_alerts_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'o') {
        o->open = true;
        return 0;
    }
    if (opt == 'l')
        return s_int_option ("alerts", "limit", arg, 1, 1000, &o->limit);
    if (opt == 's')
        return s_int_option ("alerts", "min-score", arg, 0, 100, &o->min_score);
    //  The search's filters: the API checks their values (a 400 names one).
    const char **filter = opt == 'S'? &o->status: opt == 'V'? &o->severity:
                          opt == 'A'? &o->account: opt == 'M'? &o->merchant:
                          opt == 'N'? &o->assignee: opt == 'c'? &o->cursor: NULL;
    if (!filter)
        return CTL_USAGE;
    if (!*arg)
        return s_usage_error ("alerts", "%s", "a filter needs a value");
    *filter = arg;
    return 0;
}

//  The subject of an alert: its transaction, or the region for health.
static const char *
s_alert_subject (json_t *alert)
{
    const char *tx = ctl_str (alert, "tx_id");
    return *tx? tx: ctl_str (alert, "region");
}

//  Appends "&name=value", value URL-encoded, to *path (malloc'd). Returns
//  0, or -1 out of memory.
static int
s_query_add (char **path, const char *name, const char *value)
{
    if (!value)
        return 0;
    char *encoded = ctl_url_encode (value), *longer = NULL;
    int rc = encoded && asprintf (&longer, "%s&%s=%s", *path, name, encoded) >= 0? 0: -1;
    free (encoded);
    if (rc == 0) {
        free (*path);
        *path = longer;
    }
    return rc;
}

static int
s_alerts (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "open", no_argument, NULL, 'o' }, { "limit", required_argument, NULL, 'l' },
        { "min-score", required_argument, NULL, 's' }, { "status", required_argument, NULL, 'S' },
        { "severity", required_argument, NULL, 'V' }, { "account", required_argument, NULL, 'A' },
        { "merchant", required_argument, NULL, 'M' }, { "assignee", required_argument, NULL, 'N' },
        { "cursor", required_argument, NULL, 'c' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .limit = 50, .min_score = 0 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_alerts_option, &o, 0, 0, &first, &rc))
        return rc;
    if (o.open && o.status)
        return s_usage_error (argv [0], "%s", "--open is --status open: give one of them");
    char *path = NULL;
    if (asprintf (&path, "/api/v1/alerts?limit=%ld&min_score=%ld", o.limit, o.min_score) < 0)
        return CTL_API_ERROR;
    if (s_query_add (&path, "status", o.open? "open": o.status)
    ||  s_query_add (&path, "severity", o.severity) || s_query_add (&path, "account", o.account)
    ||  s_query_add (&path, "merchant", o.merchant) || s_query_add (&path, "assignee", o.assignee)
    ||  s_query_add (&path, "cursor", o.cursor)) {
        free (path);
        return CTL_API_ERROR;
    }
    json_t *answer = NULL;
    rc = s_fetch (api, "GET", path, NULL, &answer);
    free (path);
    if (rc || !answer)
        return rc;
    static const char *const headers [] = { "ID", "RAISED", "KIND", "SCORE", "STATUS",
                                            "SUBJECT", "ACCOUNT", "AMOUNT", "REASONS",
                                            "SEVERITY", "ASSIGNEE" };
    ctl_table_t *t = ctl_table_new (11, headers);
    size_t i;
    json_t *alert;
    json_array_foreach (json_object_get (answer, "alerts"), i, alert) {
        char id [32], score [16], amount [64], reasons [256];
        const char *cells [11] = {
            ctl_text (json_object_get (alert, "id"), id, sizeof id), ctl_str (alert, "raised_at"),
            ctl_str (alert, "kind"), ctl_text (json_object_get (alert, "score"), score, sizeof score),
            ctl_str (alert, "status"), s_alert_subject (alert),
            *ctl_str (alert, "account_id")? ctl_str (alert, "account_id"): "-",
            ctl_money (json_object_get (alert, "amount_minor"), ctl_str (alert, "currency"),
                       amount, sizeof amount),
            ctl_reasons (json_object_get (alert, "reasons"), reasons, sizeof reasons),
            ctl_str (alert, "severity"),
            *ctl_str (alert, "assignee")? ctl_str (alert, "assignee"): "-" };
        if (t)
            ctl_table_row (t, cells);
    }
    rc = t? CTL_OK: CTL_API_ERROR;
    if (t)
        s_print_table (t, "no alerts");
    //  On stderr: the table on stdout stays a table.
    if (t && *ctl_str (answer, "next_cursor"))
        fprintf (stderr, "more: the same command with --cursor %s\n", ctl_str (answer, "next_cursor"));
    ctl_table_destroy (&t);
    json_decref (answer);
    return rc;
}

static const char *const s_dispositions [] = {
    "confirmed_fraud", "false_positive", "suspicious", "duplicate", "not_actionable", NULL
};

#define S_NOTE_MAX  2000        //  bytes, as the API takes

static int
s_ack_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'd') {
        for (int i = 0; s_dispositions [i]; i++)
            if (!strcmp (arg, s_dispositions [i])) {
                o->disposition = arg;
                return 0;
            }
        return s_usage_error (o->command, "--disposition '%s': use confirmed_fraud, false_positive,"
                              " suspicious, duplicate or not_actionable", arg);
    }
    if (opt == 'b')
        return s_usage_error (o->command, "%s", "--by is gone: an ack is in the name of the API key"
                              " (see txwctl whoami)");
    if (opt == 'n') {
        if (!*arg || strlen (arg) > S_NOTE_MAX)
            return s_usage_error (o->command, "%s", "--note needs a text of 1 to 2000 bytes");
        o->note = arg;
        return 0;
    }
    return CTL_USAGE;
}

//  Sends body (may be NULL) with method to /api/v1/alerts/{id}, or to
//  /api/v1/alerts/{id}/action; the answer in *alert (NULL in --json mode).
static int
s_alert_call (ctl_api_t *api, const char *method, const char *id, const char *action,
              const char *body, json_t **alert)
{
    char *encoded = ctl_url_encode (id);
    char *path = NULL;
    int rc = CTL_API_ERROR;
    if (encoded && asprintf (&path, "/api/v1/alerts/%s%s%s", encoded, action? "/": "",
                             action? action: "") >= 0)
        rc = s_fetch (api, method, path, body, alert);
    else
        path = NULL;
    free (encoded);
    free (path);
    return rc;
}

static int
s_ack (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "disposition", required_argument, NULL, 'd' }, { "note", required_argument, NULL, 'n' },
        { "by", required_argument, NULL, 'b' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .command = "ack" };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_ack_option, &o, 1, 1, &first, &rc))
        return rc;
    const char *id = argv [first];
    if (!*id)
        return s_usage_error ("ack", "%s", "the alert ID is empty");
    //  The acker is the key's name: the API takes no "by" any more.
    char *body = NULL;
    if (o.disposition || o.note) {
        json_t *b = json_pack ("{s:s*,s:s*}", "disposition", o.disposition, "note", o.note);
        body = b? json_dumps (b, JSON_COMPACT): NULL;
        json_decref (b);
        if (!body)
            return CTL_API_ERROR;
    }
    json_t *alert = NULL;
    rc = s_alert_call (api, "POST", id, "ack", body, &alert);
    free (body);
    if (rc || !alert)
        return rc;
    char num [32];
    const char *disposition = ctl_str (alert, "disposition");
    printf ("alert %s (%s) is %s by %s at %s%s%s\n",
            ctl_text (json_object_get (alert, "id"), num, sizeof num),
            ctl_str (alert, "key"), ctl_str (alert, "status"),
            *ctl_str (alert, "acked_by")? ctl_str (alert, "acked_by"): "-",
            *ctl_str (alert, "acked_at")? ctl_str (alert, "acked_at"): "-",
            *disposition? " as ": "", disposition);
    if (*ctl_str (alert, "note")) {
        ctl_table_t *t = ctl_table_new (2, NULL);
        if (t) {
            ctl_table_pair (t, "note", "%s", ctl_str (alert, "note"));
            ctl_table_print (t, stdout);
        }
        ctl_table_destroy (&t);
    }
    json_decref (alert);
    return CTL_OK;
}

static int
s_reopen (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = { S_COMMON_OPTIONS, { 0 } };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, NULL, NULL, 1, 1, &first, &rc))
        return rc;
    if (!*argv [first])
        return s_usage_error ("reopen", "%s", "the alert ID is empty");
    json_t *alert = NULL;
    rc = s_alert_call (api, "POST", argv [first], "reopen", NULL, &alert);
    if (rc || !alert)
        return rc;
    char num [32];
    printf ("alert %s (%s) is %s\n", ctl_text (json_object_get (alert, "id"), num, sizeof num),
            ctl_str (alert, "key"), ctl_str (alert, "status"));
    json_decref (alert);
    return CTL_OK;
}

//  --- alerts assign, close, note: the workflow (PATCH and notes) --------------------------

//  Sends a body built by json_pack (consumed) as a PATCH of alert id, and
//  prints the alert as it is then. Returns the exit code.
static int
s_alert_patch (ctl_api_t *api, const char *id, json_t *body)
{
    char *text = body? json_dumps (body, JSON_COMPACT): NULL;
    json_decref (body);
    if (!text)
        return CTL_API_ERROR;
    json_t *alert = NULL;
    int rc = s_alert_call (api, "PATCH", id, NULL, text, &alert);
    free (text);
    if (rc || !alert)
        return rc;
    char num [32];
    const char *assignee = ctl_str (alert, "assignee"), *disposition = ctl_str (alert, "disposition");
    printf ("alert %s (%s) is %s, %s%s%s%s\n", ctl_text (json_object_get (alert, "id"), num, sizeof num),
            ctl_str (alert, "key"), ctl_str (alert, "status"),
            *assignee? "assigned to ": "unassigned", assignee,
            *disposition? ", as ": "", disposition);
    json_decref (alert);
    return CTL_OK;
}

static int
s_alerts_assign (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = { S_COMMON_OPTIONS, { 0 } };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, NULL, NULL, 2, 2, &first, &rc))
        return rc;
    const char *id = argv [first], *name = argv [first + 1];
    if (!*id || !*name)
        return s_usage_error (argv [0], "%s", "the alert ID and the NAME must not be empty");
    //  "-": nobody.
    return s_alert_patch (api, id, json_pack ("{s:s?}", "assignee", strcmp (name, "-")? name: NULL));
}

static int
s_alerts_close (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "disposition", required_argument, NULL, 'd' }, { "note", required_argument, NULL, 'n' },
        S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .command = argv [0] };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_ack_option, &o, 1, 1, &first, &rc))
        return rc;
    if (!*argv [first])
        return s_usage_error (argv [0], "%s", "the alert ID is empty");
    json_t *body = json_pack ("{s:s}", "status", "closed");
    if (body && o.disposition)
        json_object_set_new (body, "disposition", json_string (o.disposition));
    if (body && o.note)
        json_object_set_new (body, "note", json_string (o.note));
    return s_alert_patch (api, argv [first], body);
}

static int
s_alerts_note (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = { S_COMMON_OPTIONS, { 0 } };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, NULL, NULL, 2, 2, &first, &rc))
        return rc;
    const char *id = argv [first], *text = argv [first + 1];
    if (!*id || !*text || strlen (text) > S_NOTE_MAX)
        return s_usage_error (argv [0], "%s", "needs an alert ID and a TEXT of 1 to 2000 bytes");
    json_t *body = json_pack ("{s:s}", "body", text);
    char *raw = body? json_dumps (body, JSON_COMPACT): NULL;
    json_decref (body);
    if (!raw)
        return CTL_API_ERROR;
    json_t *note = NULL;
    rc = s_alert_call (api, "POST", id, "notes", raw, &note);
    free (raw);
    if (rc || !note)
        return rc;
    char num [32], alert [32];
    printf ("note %s on alert %s by %s at %s\n", ctl_text (json_object_get (note, "id"), num, sizeof num),
            ctl_text (json_object_get (note, "alert_id"), alert, sizeof alert),
            ctl_str (note, "author"), ctl_str (note, "created_at"));
    json_decref (note);
    return CTL_OK;
}

//  --- tx and account ----------------------------------------------------------------

//  GET prefix + encoded id; the answer in *answer (NULL in --json mode).
static int
s_get_by_id (ctl_api_t *api, const char *prefix, const char *id, const char *query,
             json_t **answer)
{
    char *encoded = ctl_url_encode (id);
    char *path = NULL;
    int rc = CTL_API_ERROR;
    if (encoded && asprintf (&path, "%s%s%s", prefix, encoded, query) >= 0)
        rc = s_fetch (api, "GET", path, NULL, answer);
    else
        path = NULL;
    free (encoded);
    free (path);
    return rc;
}

static void
s_tx_fields (ctl_table_t *t, json_t *tx)
{
    char a [256], b [64];
    ctl_table_pair (t, "transaction", "%s", ctl_str (tx, "tx_id"));
    ctl_table_pair (t, "time", "%s", ctl_str (tx, "ts"));
    ctl_table_pair (t, "account", "%s", ctl_str (tx, "account_id"));
    ctl_table_pair (t, "amount", "%s", ctl_money (json_object_get (tx, "amount_minor"),
                                                  ctl_str (tx, "currency"), a, sizeof a));
    ctl_table_pair (t, "reporting amount", "%s minor units",
                    ctl_text (json_object_get (tx, "amount_rep_minor"), b, sizeof b));
    ctl_table_pair (t, "status", "%s", ctl_str (tx, "status"));
    ctl_table_pair (t, "merchant", "%s (%s)", ctl_str (tx, "merchant_id"), ctl_str (tx, "category"));
    ctl_table_pair (t, "channel", "%s", ctl_str (tx, "channel"));
    ctl_table_pair (t, "branch", "%s, region %s, country %s", ctl_str (tx, "branch_id"),
                    ctl_str (tx, "region"), ctl_str (tx, "country"));
    ctl_table_pair (t, "device", "%s (%s)", ctl_str (tx, "device_id"),
                    ctl_text (json_object_get (tx, "device_type"), b, sizeof b));
    ctl_table_pair (t, "product", "%s", ctl_text (json_object_get (tx, "product_id"), a, sizeof a));
    ctl_table_pair (t, "score", "%s (model %s)", ctl_text (json_object_get (tx, "score"), b, sizeof b),
                    ctl_str (tx, "model_version"));
    size_t i;
    json_t *reason;
    json_array_foreach (json_object_get (tx, "reasons"), i, reason) {
        const char *code = json_is_string (reason)? json_string_value (reason): ctl_str (reason, "code");
        const char *text = json_is_object (reason)? ctl_str (reason, "description"): "";
        ctl_table_pair (t, i == 0? "reasons": "", "%s%s%s", code, *text? ": ": "", text);
    }
    if (json_array_size (json_object_get (tx, "reasons")) == 0)
        ctl_table_pair (t, "reasons", "-");
    ctl_table_pair (t, "stored", "%s", ctl_str (tx, "stored_at"));
}

static int
s_tx (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = { S_COMMON_OPTIONS, { 0 } };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, NULL, NULL, 1, 1, &first, &rc))
        return rc;
    if (!*argv [first])
        return s_usage_error ("tx", "%s", "the transaction ID is empty");
    json_t *tx = NULL;
    rc = s_get_by_id (api, "/api/v1/transactions/", argv [first], "", &tx);
    if (rc || !tx)
        return rc;
    ctl_table_t *t = ctl_table_new (2, NULL);
    if (t) {
        s_tx_fields (t, tx);
        ctl_table_print (t, stdout);
    }
    ctl_table_destroy (&t);
    json_decref (tx);
    return CTL_OK;
}

static int
s_account_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'l')
        return s_int_option ("account", "limit", arg, 1, 100, &o->limit);
    return CTL_USAGE;
}

static void
s_account_summary (json_t *acc)
{
    const char *cur = ctl_str (acc, "currency");
    json_t *risk = json_object_get (acc, "risk");
    char a [64], b [64], c [64], d [64];
    ctl_table_t *t = ctl_table_new (2, NULL);
    if (!t)
        return;
    ctl_table_pair (t, "account", "%s", ctl_str (acc, "account_id"));
    ctl_table_pair (t, "transactions", "%s (approved %s, declined %s, failed %s)",
                    ctl_text (json_object_get (acc, "tx_count"), a, sizeof a),
                    ctl_text (json_object_get (acc, "approved"), b, sizeof b),
                    ctl_text (json_object_get (acc, "declined"), c, sizeof c),
                    ctl_text (json_object_get (acc, "failed"), d, sizeof d));
    ctl_table_pair (t, "lifetime value", "%s", ctl_money (json_object_get (acc, "lifetime_value_minor"),
                                                          cur, a, sizeof a));
    ctl_table_pair (t, "spend", "%s", ctl_money (json_object_get (acc, "spend_minor"), cur, a, sizeof a));
    ctl_table_pair (t, "first seen", "%s", ctl_str (acc, "first_seen"));
    ctl_table_pair (t, "last seen", "%s", ctl_str (acc, "last_seen"));
    ctl_table_pair (t, "risk", "%s (flagged %s, max score %s, mean score %s)", ctl_str (risk, "level"),
                    ctl_text (json_object_get (risk, "flagged"), a, sizeof a),
                    ctl_text (json_object_get (risk, "max_score"), b, sizeof b),
                    ctl_text (json_object_get (risk, "mean_score"), c, sizeof c));
    ctl_table_print (t, stdout);
    ctl_table_destroy (&t);
}

static int
s_account (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "limit", required_argument, NULL, 'l' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .limit = 20 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_account_option, &o, 1, 1, &first, &rc))
        return rc;
    if (!*argv [first])
        return s_usage_error ("account", "%s", "the account ID is empty");
    char query [32];
    snprintf (query, sizeof query, "?limit=%ld", o.limit);
    json_t *acc = NULL;
    rc = s_get_by_id (api, "/api/v1/accounts/", argv [first], query, &acc);
    if (rc || !acc)
        return rc;
    s_account_summary (acc);
    static const char *const headers [] = { "TIME", "TX_ID", "AMOUNT", "STATUS", "SCORE",
                                            "MERCHANT", "REASONS" };
    ctl_table_t *t = ctl_table_new (7, headers);
    size_t i;
    json_t *tx;
    json_array_foreach (json_object_get (acc, "recent"), i, tx) {
        char amount [64], score [16], reasons [256];
        const char *cells [7] = {
            ctl_str (tx, "ts"), ctl_str (tx, "tx_id"),
            ctl_money (json_object_get (tx, "amount_minor"), ctl_str (tx, "currency"), amount, sizeof amount),
            ctl_str (tx, "status"), ctl_text (json_object_get (tx, "score"), score, sizeof score),
            ctl_str (tx, "merchant_id"), ctl_reasons (json_object_get (tx, "reasons"), reasons, sizeof reasons) };
        if (t)
            ctl_table_row (t, cells);
    }
    if (t) {
        printf ("\nrecent transactions\n");
        s_print_table (t, "none");
    }
    ctl_table_destroy (&t);
    json_decref (acc);
    return CTL_OK;
}

//  --- dead letters --------------------------------------------------------------------------

static int
s_dead_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'l')
        return s_int_option ("dead-letters", "limit", arg, 1, 1000, &o->limit);
    if (opt == 'r') {
        for (int i = 0; i < TXW_REJECT_COUNT; i++)
            if (!strcmp (arg, txw_reject_names [i])) {
                o->reason = arg;
                return 0;
            }
        return s_usage_error ("dead-letters", "unknown --reason '%s' (see common/rejects.h)", arg);
    }
    return CTL_USAGE;
}

static int
s_dead_letters (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "reason", required_argument, NULL, 'r' }, { "limit", required_argument, NULL, 'l' },
        S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .limit = 50 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_dead_option, &o, 0, 0, &first, &rc))
        return rc;
    char path [160];
    snprintf (path, sizeof path, "/api/v1/dead-letters?limit=%ld%s%s", o.limit,
              o.reason? "&reason=": "", o.reason? o.reason: "");
    json_t *answer = NULL;
    rc = s_fetch (api, "GET", path, NULL, &answer);
    if (rc || !answer)
        return rc;
    static const char *const headers [] = { "ID", "RECEIVED", "REASON", "FIELD", "TX_ID",
                                            "LINE", "MESSAGE" };
    ctl_table_t *t = ctl_table_new (7, headers);
    size_t i;
    json_t *d;
    json_array_foreach (json_object_get (answer, "dead_letters"), i, d) {
        char id [32], field [64], tx [80], line [32];
        const char *cells [7] = {
            ctl_text (json_object_get (d, "id"), id, sizeof id), ctl_str (d, "received_at"),
            ctl_str (d, "reason"), ctl_text (json_object_get (d, "field"), field, sizeof field),
            ctl_text (json_object_get (d, "tx_id"), tx, sizeof tx),
            ctl_text (json_object_get (d, "line_no"), line, sizeof line), ctl_str (d, "message") };
        if (t)
            ctl_table_row (t, cells);
    }
    if (t)
        s_print_table (t, "no dead letters");
    ctl_table_destroy (&t);
    json_decref (answer);
    return CTL_OK;
}

//  --- tail ----------------------------------------------------------------------------------

static int
s_tail_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 't') {
        o->topics = arg;
        return ctl_tail_topics_valid (arg)? 0:
               s_usage_error ("tail", "--topics '%s': use alerts, stats, windows, dead_letters", arg);
    }
    if (opt == 'c')
        return s_int_option ("tail", "count", arg, 1, 1000000000, &o->count);
    return CTL_USAGE;
}

static int
s_tail (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "topics", required_argument, NULL, 't' }, { "count", required_argument, NULL, 'c' },
        S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .topics = "alerts" };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_tail_option, &o, 0, 0, &first, &rc))
        return rc;
    const char *url = getenv ("TXW_GATEWAY_URL");
    return ctl_tail (api, url && *url? url: "ws://127.0.0.1:8081/ws", o.topics, o.count);
}

//  --- whoami ---------------------------------------------------------------------------------

static int
s_whoami (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = { S_COMMON_OPTIONS, { 0 } };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, NULL, NULL, 0, 0, &first, &rc))
        return rc;
    json_t *who = NULL;
    rc = s_fetch (api, "GET", "/api/v1/whoami", NULL, &who);
    if (rc || !who)
        return rc;
    ctl_table_t *t = ctl_table_new (2, NULL);
    rc = t? CTL_OK: CTL_API_ERROR;
    if (t) {
        ctl_table_pair (t, "name", "%s", ctl_str (who, "name"));
        ctl_table_pair (t, "role", "%s", ctl_str (who, "role"));
        ctl_table_pair (t, "key id", "%s", ctl_str (who, "key_id"));
        ctl_table_pair (t, "key from", "%s", api->key_source);
        ctl_table_print (t, stdout);
    }
    ctl_table_destroy (&t);
    json_decref (who);
    return rc;
}

//  --- keys -----------------------------------------------------------------------------------

static bool
s_is_key_id (const char *id)
{
    return strlen (id) == TXW_APIKEY_ID_LEN && strspn (id, "0123456789abcdef") == TXW_APIKEY_ID_LEN;
}

static int
s_keys_list_option (int opt, const char *arg, void *ctx)
{
    (void) arg;
    s_opts_t *o = ctx;
    if (opt == 'a') {
        o->all = true;
        return 0;
    }
    return CTL_USAGE;
}

static int
s_keys_list (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "all", no_argument, NULL, 'a' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { 0 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_keys_list_option, &o, 0, 0, &first, &rc))
        return rc;
    json_t *answer = NULL;
    rc = s_fetch (api, "GET", o.all? "/api/v1/keys?revoked=true": "/api/v1/keys", NULL, &answer);
    if (rc || !answer)
        return rc;
    static const char *const headers [] = { "KEY_ID", "NAME", "ROLE", "CREATED", "CREATED_BY",
                                            "REVOKED", "REVOKED_BY" };
    int columns = o.all? 7: 5;
    ctl_table_t *t = ctl_table_new (columns, headers);
    size_t i;
    json_t *key;
    json_array_foreach (json_object_get (answer, "keys"), i, key) {
        char revoked [64], revoked_by [128];
        const char *cells [7] = {
            ctl_str (key, "key_id"), ctl_str (key, "name"), ctl_str (key, "role"),
            ctl_str (key, "created_at"), ctl_str (key, "created_by"),
            ctl_text (json_object_get (key, "revoked_at"), revoked, sizeof revoked),
            ctl_text (json_object_get (key, "revoked_by"), revoked_by, sizeof revoked_by) };
        if (t)
            ctl_table_row (t, cells);
    }
    rc = t? CTL_OK: CTL_API_ERROR;
    if (t)
        s_print_table (t, o.all? "no keys": "no active keys");
    ctl_table_destroy (&t);
    json_decref (answer);
    return rc;
}

static int
s_keys_create_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'o') {
        if (!*arg)
            return s_usage_error ("keys create", "%s", "--out needs a file name");
        o->out = arg;
        return 0;
    }
    if (opt == 'D') {
        if (!*arg)
            return s_usage_error ("keys create", "%s", "--database-url needs a URL");
        o->database_url = arg;
        return 0;
    }
    if (opt == 'i') {
        o->if_none = true;
        return 0;
    }
    return CTL_USAGE;
}

//  Whether key_id is among the active keys (GET /api/v1/keys). Returns 0
//  with *active set, or an exit code (the error printed).
static int
s_key_active (ctl_api_t *api, const char *key_id, bool *active)
{
    json_t *answer = NULL;
    int rc = ctl_api_call (api, "GET", "/api/v1/keys", NULL, &answer, NULL);
    if (rc)
        return rc;
    *active = false;
    size_t i;
    json_t *key;
    json_array_foreach (json_object_get (answer, "keys"), i, key)
        if (!strcmp (ctl_str (key, "key_id"), key_id))
            *active = true;
    json_decref (answer);
    return 0;
}

//  keys create through the API: the key is made by txw-query, shown once.
static int
s_keys_create_api (ctl_api_t *api, const char *name, const char *role, const char *out)
{
    ctl_keyfile_t file;
    int rc;
    if (out && (rc = ctl_keyfile_open (&file, "keys create", out)))
        return rc;
    if (out && *file.old_id) {
        bool active;
        rc = s_key_active (api, file.old_id, &active);
        if (!rc && active)
            rc = ctl_keyfile_refuse_active (&file, "keys create");
        if (rc) {
            ctl_keyfile_abort (&file);
            return rc;
        }
    }
    json_t *b = json_pack ("{s:s,s:s}", "name", name, "role", role);
    char *body = b? json_dumps (b, JSON_COMPACT): NULL;
    json_decref (b);
    json_t *made = NULL;
    char *raw = NULL;
    rc = body? ctl_api_call (api, "POST", "/api/v1/keys", body, &made, &raw): CTL_API_ERROR;
    free (body);
    const char *key = ctl_str (made, "key");
    if (!rc && !*key) {
        fprintf (stderr, "txwctl keys create: the API's answer holds no key\n");
        rc = CTL_API_ERROR;
    }
    if (rc) {
        if (out)
            ctl_keyfile_abort (&file);
        json_decref (made);
        free (raw);
        return rc;
    }
    char made_as [256];
    snprintf (made_as, sizeof made_as, "made %s key %s (%s)", ctl_str (made, "role"),
              ctl_str (made, "key_id"), ctl_str (made, "name"));
    if (out) {
        rc = CTL_API_ERROR;
        if (ctl_keyfile_write (&file, "keys create", key))
            fprintf (stderr, "txwctl keys create: the key %s is made but not kept: revoke it with"
                     " `txwctl keys revoke %s`\n", ctl_str (made, "key_id"), ctl_str (made, "key_id"));
        else
        if (ctl_keyfile_commit (&file, "keys create") == 0) {
            fprintf (stderr, "txwctl keys create: %s, written to %s\n", made_as, out);
            rc = CTL_OK;
        }
        if (!rc && api->json) {
            json_object_del (made, "key");
            char *text = json_dumps (made, JSON_COMPACT);
            if (text)
                printf ("%s\n", text);
            free (text);
        }
    }
    else {
        if (api->json)
            s_print_raw (raw);
        else
            printf ("%s\n", key);
        fflush (stdout);
        fprintf (stderr, "txwctl keys create: %s; the key is shown only this once: keep it now\n",
                 made_as);
    }
    if (raw)
        explicit_bzero (raw, strlen (raw));
    free (raw);
    json_decref (made);
    return rc;
}

static int
s_keys_create (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "out", required_argument, NULL, 'o' }, { "database-url", required_argument, NULL, 'D' },
        { "if-none", no_argument, NULL, 'i' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { 0 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_keys_create_option, &o, 2, 2, &first, &rc))
        return rc;
    const char *name = argv [first], *role = argv [first + 1];
    size_t len = strlen (name);
    bool control = false;
    for (const char *c = name; *c; c++)
        control |= (unsigned char) *c < 0x20 || *c == 0x7f;
    if (len == 0 || len > 64 || control)
        return s_usage_error ("keys create", "%s", "NAME must be 1 to 64 bytes without control"
                              " characters");
    if (txw_role_parse (role) == TXW_ROLE_NONE)
        return s_usage_error ("keys create", "ROLE '%s': use viewer, analyst or admin", role);
    if (o.if_none && !o.database_url)
        return s_usage_error ("keys create", "%s", "--if-none goes with --database-url (bootstrap)");
    if (o.database_url)
        return ctl_bootstrap_key (o.database_url, name, role, o.if_none, o.out, api->json);
    return s_keys_create_api (api, name, role, o.out);
}

static int
s_products_load_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'D') {
        if (!*arg)
            return s_usage_error ("products load", "%s", "--database-url needs a URL");
        o->database_url = arg;
        return 0;
    }
    return CTL_USAGE;
}

static int
s_products_load (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "database-url", required_argument, NULL, 'D' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { 0 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_products_load_option, &o, 1, 1, &first, &rc))
        return rc;
    if (!o.database_url)
        return s_usage_error ("products load", "%s", "--database-url is required: the"
                              " catalogue goes straight into PostgreSQL");
    return ctl_products_load (o.database_url, argv [first], api->json);
}

static int
s_keys_revoke (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = { S_COMMON_OPTIONS, { 0 } };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, NULL, NULL, 1, 1, &first, &rc))
        return rc;
    const char *id = argv [first];
    if (!s_is_key_id (id))
        return s_usage_error ("keys revoke", "KEY_ID '%s' is not 16 lowercase hex digits"
                              " (see txwctl keys list)", id);
    char path [64];
    snprintf (path, sizeof path, "/api/v1/keys/%s", id);
    json_t *key = NULL;
    rc = s_fetch (api, "DELETE", path, NULL, &key);
    if (rc || !key)
        return rc;
    printf ("key %s (%s, %s) is revoked since %s by %s\n", ctl_str (key, "key_id"),
            ctl_str (key, "name"), ctl_str (key, "role"), ctl_str (key, "revoked_at"),
            ctl_str (key, "revoked_by"));
    json_decref (key);
    return CTL_OK;
}

//  --- audit ------------------------------------------------------------------------------------

static int
s_audit_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'a') {
        if (!*arg)
            return s_usage_error ("audit", "%s", "--action needs a name such as alert.ack");
        o->action = arg;
        return 0;
    }
    if (opt == 'p') {
        if (!*arg)
            return s_usage_error ("audit", "%s", "--principal needs a key id");
        o->principal = arg;
        return 0;
    }
    if (opt == 'l')
        return s_int_option ("audit", "limit", arg, 1, 1000, &o->limit);
    if (opt == 'b')
        return s_int_option ("audit", "before", arg, 1, 9007199254740991L, &o->before);
    return CTL_USAGE;
}

static int
s_audit (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "action", required_argument, NULL, 'a' }, { "principal", required_argument, NULL, 'p' },
        { "limit", required_argument, NULL, 'l' }, { "before", required_argument, NULL, 'b' },
        S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .limit = 50 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_audit_option, &o, 0, 0, &first, &rc))
        return rc;
    char *action = o.action? ctl_url_encode (o.action): NULL;
    char *principal = o.principal? ctl_url_encode (o.principal): NULL;
    char before [32] = "";
    if (o.before)
        snprintf (before, sizeof before, "&before=%ld", o.before);
    char *path = NULL;
    json_t *answer = NULL;
    rc = CTL_API_ERROR;
    if ((!o.action || action) && (!o.principal || principal)
    &&  asprintf (&path, "/api/v1/audit?limit=%ld%s%s%s%s%s", o.limit,
                  action? "&action=": "", action? action: "",
                  principal? "&principal=": "", principal? principal: "", before) >= 0)
        rc = s_fetch (api, "GET", path, NULL, &answer);
    else
        path = NULL;
    free (action);
    free (principal);
    free (path);
    if (rc || !answer)
        return rc;
    static const char *const headers [] = { "ID", "AT", "PRINCIPAL", "NAME", "ROLE", "ACTION",
                                            "TARGET", "CLIENT", "DETAIL" };
    ctl_table_t *t = ctl_table_new (9, headers);
    size_t i;
    json_t *entry;
    json_array_foreach (json_object_get (answer, "audit"), i, entry) {
        char id [32];
        json_t *detail = json_object_get (entry, "detail");
        char *detail_text = json_object_size (detail)? json_dumps (detail, JSON_COMPACT): NULL;
        const char *cells [9] = {
            ctl_text (json_object_get (entry, "id"), id, sizeof id), ctl_str (entry, "at"),
            ctl_str (entry, "principal"), *ctl_str (entry, "name")? ctl_str (entry, "name"): "-",
            *ctl_str (entry, "role")? ctl_str (entry, "role"): "-", ctl_str (entry, "action"),
            *ctl_str (entry, "target")? ctl_str (entry, "target"): "-",
            *ctl_str (entry, "client")? ctl_str (entry, "client"): "-",
            detail_text? detail_text: "-" };
        if (t)
            ctl_table_row (t, cells);
        free (detail_text);
    }
    rc = t? CTL_OK: CTL_API_ERROR;
    if (t)
        s_print_table (t, "no audit entries");
    ctl_table_destroy (&t);
    json_decref (answer);
    return rc;
}

//  --- Table ------------------------------------------------------------------------------------

const ctl_command_t ctl_commands [] = {
    { "stats", s_stats, "[--minutes N]",
      "Realtime totals over the last N minutes (1-1440, default 5): count, throughput,\n"
      "volume in the reporting currency, approval, decline and failure rates, flagged." },
    { "alerts", s_alerts, "[--open] [--limit N] [--min-score N]",
      "Recent alerts, newest first: --open only those open, --limit 1-1000\n"
      "(default 50), --min-score 0-100 (default 0). A viewer key sees accounts masked.\n"
      "The search's filters: see alerts search." },
    { "alerts search", s_alerts, "[--status S] [--severity S] [--account A] [--merchant M]"
      " [--assignee NAME] [--open] [--min-score N] [--limit N] [--cursor C]",
      "Searches the alerts of the last 24 hours, newest first: --status open,\n"
      "investigating or closed, --severity the least (low, medium, high, critical),\n"
      "--account (analyst or admin), --merchant, --assignee. When there are more,\n"
      "stderr says the --cursor that reads the next page (with the same filters)." },
    { "alerts assign", s_alerts_assign, "ID NAME",
      "Assigns an alert (numeric id or key) to NAME, 1-64 bytes, usually a key's name;\n"
      "- unassigns it. Analyst or admin; an event and an audit row." },
    { "alerts close", s_alerts_close, "ID [--disposition D] [--note TEXT]",
      "Closes an alert with what was found (--disposition as for ack, --note up to\n"
      "2000 bytes); on a closed alert it changes only the disposition. A disposition\n"
      "becomes the transaction's label. Analyst or admin; audited." },
    { "alerts note", s_alerts_note, "ID TEXT",
      "Adds a note (1-2000 bytes) to an alert, in the name of the API key. Audited." },
    { "ack", s_ack, "ID [--disposition D] [--note TEXT]",
      "Acknowledges an alert by numeric id or by key (fraud:<tx_id>, ...) in the name\n"
      "of the API key (analyst or admin), with what was found: --disposition\n"
      "confirmed_fraud, false_positive, suspicious, duplicate or not_actionable, and\n"
      "--note, up to 2000 bytes: it closes the alert. Acking a closed alert changes\n"
      "nothing: it prints who closed it first. Audited." },
    { "reopen", s_reopen, "ID",
      "Opens a closed alert again, clearing its ack, disposition and closing note\n"
      "(analyst or admin). Audited." },
    { "tx", s_tx, "ID", "One stored transaction with its score and reasons (analyst or admin;\n"
      "audited)." },
    { "account", s_account, "ID [--limit N]",
      "An account's totals, lifetime value, risk and its last N transactions (1-100,\n"
      "default 20). Analyst or admin; audited." },
    { "dead-letters", s_dead_letters, "[--reason R] [--limit N]",
      "Rejected records, newest first; --reason is a code of common/rejects.h (such as\n"
      "bad_amount), --limit 1-1000 (default 50)." },
    { "tail", s_tail, "[--topics alerts,stats,windows,dead_letters] [--count N]",
      "Live events from the push gateway (TXW_GATEWAY_URL), one line each, until\n"
      "Ctrl-C (or N events with --count). Reconnects when the connection drops and\n"
      "asks for a re-sync when messages were lost. Topics default to alerts. The\n"
      "API key goes to the gateway as the WebSocket subprotocol txwatch.key.<key>." },
    { "whoami", s_whoami, "",
      "The name, role and id of the API key in use, and where txwctl found it." },
    { "keys list", s_keys_list, "[--all]",
      "The active API keys (admin); --all adds the revoked ones with when and by whom." },
    { "keys create", s_keys_create, "NAME ROLE [--out FILE] [--database-url URL [--if-none]]",
      "Makes an API key for NAME (1-64 bytes) with ROLE viewer, analyst or admin and\n"
      "prints it on stdout, once: only its hash is stored (--json: the API's answer,\n"
      "with the key). Through the API with an admin key, or, to make the first admin\n"
      "key, straight in PostgreSQL with --database-url (created_by and the audit row\n"
      "say database:<role>). --if-none (with --database-url) makes nothing and exits 0\n"
      "when an active key of ROLE exists; concurrent runs make one key between them.\n"
      "--out FILE writes the key to FILE instead, mode 0600, atomically (a new file\n"
      "renamed into place). An existing FILE is replaced only when it holds a txwatch\n"
      "key that is no longer active (revoked, or from a database made afresh); a FILE\n"
      "holding an active key, or anything else, is refused before a key is made." },
    { "keys revoke", s_keys_revoke, "KEY_ID",
      "Revokes a key (admin): it stops working at once on this API replica and within\n"
      "txw-query's --key-cache-ms on the others. Revoking twice keeps the first." },
    { "products load", s_products_load, "FILE --database-url URL",
      "Loads a product catalogue (CSV: product_id,name,category,price,currency, as\n"
      "`txw-producer --catalogue-out` writes it; - for stdin) into txw_data.products,\n"
      "straight in PostgreSQL as the owner. Every row is checked first: a bad one\n"
      "stops the load with its line and field, and nothing is written. Products\n"
      "already there are updated; prints how many were added, updated, unchanged." },
    { "audit", s_audit, "[--action A] [--principal KEY_ID] [--limit N] [--before ID]",
      "The audit log, newest first (admin): key changes, acks and reopens, reads of\n"
      "transactions and accounts. --action such as alert.ack or key.create,\n"
      "--principal a key id (or database:<role>), --limit 1-1000 (default 50),\n"
      "--before an entry id, for the page after." },
    { NULL, NULL, NULL, NULL }
};

const ctl_command_t *
ctl_command_find (const char *name)
{
    for (const ctl_command_t *c = ctl_commands; c->name; c++)
        if (!strcmp (c->name, name))
            return c;
    return NULL;
}

//  Whether name is a group of commands ("keys" for "keys list", ...).
static bool
s_is_group (const char *name)
{
    size_t len = strlen (name);
    for (const ctl_command_t *c = ctl_commands; c->name; c++)
        if (!strncmp (c->name, name, len) && c->name [len] == ' ')
            return true;
    return false;
}

static void
s_group_usage (const char *group, FILE *out)
{
    size_t len = strlen (group);
    for (const ctl_command_t *c = ctl_commands; c->name; c++)
        if (!strncmp (c->name, group, len) && c->name [len] == ' ')
            fprintf (out, "usage: txwctl [OPTIONS] %s %s\n", c->name, c->synopsis);
    fprintf (out, "(txwctl %s SUBCOMMAND --help for one)\n", group);
}

const ctl_command_t *
ctl_command_select (int argc, char **argv, int *words, int *exit_code)
{
    *words = 1;
    //  "alerts" is a command and a group: "alerts assign ..." is the group's.
    char name [64] = "";
    if (argc > 1)
        snprintf (name, sizeof name, "%s %s", argv [0], argv [1]);
    const ctl_command_t *command = argc > 1? ctl_command_find (name): NULL;
    if (command) {
        *words = 2;
        return command;
    }
    command = ctl_command_find (argv [0]);
    if (command)
        return command;
    if (!s_is_group (argv [0])) {
        fprintf (stderr, "txwctl: unknown command '%s'\n(see txwctl --help)\n", argv [0]);
        *exit_code = CTL_USAGE;
        return NULL;
    }
    if (argc > 1 && (!strcmp (argv [1], "--help") || !strcmp (argv [1], "-h"))) {
        s_group_usage (argv [0], stdout);
        *exit_code = CTL_OK;
        return NULL;
    }
    if (argc > 1)
        fprintf (stderr, "txwctl: unknown command '%s %s'\n", argv [0], argv [1]);
    else
        fprintf (stderr, "txwctl: %s needs a subcommand\n", argv [0]);
    s_group_usage (argv [0], stderr);
    *exit_code = CTL_USAGE;
    return NULL;
}

void
ctl_command_usage (const ctl_command_t *command, FILE *out)
{
    fprintf (out, "usage: txwctl [--api URL] [--key-file FILE] [--json] %s%s%s\n\n%s\n\n"
             "  --json           print the API's JSON (tail: each message as received)\n"
             "  --key-file FILE  the API key (else TXW_API_KEY, else TXW_API_KEY_FILE)\n"
             "  --help           this text\n", command->name, *command->synopsis? " ": "",
             command->synopsis, command->help);
}
