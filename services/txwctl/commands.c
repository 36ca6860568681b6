/*  commands - one function per txwctl command                              */

#include "commands.h"
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
    { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }

//  Handles the options every command takes; returns -1 if opt is not one.
static int
s_common_option (ctl_api_t *api, const char *command, int opt)
{
    if (opt == 'j') {
        api->json = true;
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

typedef struct { long minutes; long limit; long min_score; bool open; const char *by;
                 const char *reason; const char *topics; long count; } s_opts_t;

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
    return CTL_USAGE;
}

//  The subject of an alert: its transaction, or the region for health.
static const char *
s_alert_subject (json_t *alert)
{
    const char *tx = ctl_str (alert, "tx_id");
    return *tx? tx: ctl_str (alert, "region");
}

static int
s_alerts (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "open", no_argument, NULL, 'o' }, { "limit", required_argument, NULL, 'l' },
        { "min-score", required_argument, NULL, 's' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { .limit = 50, .min_score = 0 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_alerts_option, &o, 0, 0, &first, &rc))
        return rc;
    char path [160];
    snprintf (path, sizeof path, "/api/v1/alerts?limit=%ld&min_score=%ld%s", o.limit,
              o.min_score, o.open? "&status=open": "");
    json_t *answer = NULL;
    rc = s_fetch (api, "GET", path, NULL, &answer);
    if (rc || !answer)
        return rc;
    static const char *const headers [] = { "ID", "RAISED", "KIND", "SCORE", "STATUS",
                                            "SUBJECT", "ACCOUNT", "AMOUNT", "REASONS" };
    ctl_table_t *t = ctl_table_new (9, headers);
    size_t i;
    json_t *alert;
    json_array_foreach (json_object_get (answer, "alerts"), i, alert) {
        char id [32], score [16], amount [64], reasons [256];
        const char *cells [9] = {
            ctl_text (json_object_get (alert, "id"), id, sizeof id), ctl_str (alert, "raised_at"),
            ctl_str (alert, "kind"), ctl_text (json_object_get (alert, "score"), score, sizeof score),
            ctl_str (alert, "status"), s_alert_subject (alert),
            *ctl_str (alert, "account_id")? ctl_str (alert, "account_id"): "-",
            ctl_money (json_object_get (alert, "amount_minor"), ctl_str (alert, "currency"),
                       amount, sizeof amount),
            ctl_reasons (json_object_get (alert, "reasons"), reasons, sizeof reasons) };
        if (t)
            ctl_table_row (t, cells);
    }
    rc = t? CTL_OK: CTL_API_ERROR;
    if (t)
        s_print_table (t, "no alerts");
    ctl_table_destroy (&t);
    json_decref (answer);
    return rc;
}

static int
s_ack_option (int opt, const char *arg, void *ctx)
{
    s_opts_t *o = ctx;
    if (opt == 'b') {
        if (!*arg)
            return s_usage_error ("ack", "%s", "--by needs a name");
        o->by = arg;
        return 0;
    }
    return CTL_USAGE;
}

static int
s_ack (ctl_api_t *api, int argc, char **argv)
{
    static const struct option longopts [] = {
        { "by", required_argument, NULL, 'b' }, S_COMMON_OPTIONS, { 0 } };
    s_opts_t o = { 0 };
    int first, rc;
    if (s_parse (api, argc, argv, longopts, s_ack_option, &o, 1, 1, &first, &rc))
        return rc;
    const char *id = argv [first];
    if (!*id)
        return s_usage_error ("ack", "%s", "the alert ID is empty");
    char *encoded = ctl_url_encode (id);
    char *path = NULL, *body = NULL;
    if (o.by) {
        json_t *b = json_pack ("{s:s}", "by", o.by);
        body = b? json_dumps (b, JSON_COMPACT): NULL;
        json_decref (b);
    }
    json_t *alert = NULL;
    rc = CTL_API_ERROR;
    if (!encoded || (o.by && !body) || asprintf (&path, "/api/v1/alerts/%s/ack", encoded) < 0)
        path = NULL;
    else
        rc = s_fetch (api, "POST", path, body, &alert);
    free (encoded);
    free (path);
    free (body);
    if (rc || !alert)
        return rc;
    char num [32];
    printf ("alert %s (%s) is %s by %s at %s\n", ctl_text (json_object_get (alert, "id"), num, sizeof num),
            ctl_str (alert, "key"), ctl_str (alert, "status"),
            *ctl_str (alert, "acked_by")? ctl_str (alert, "acked_by"): "-",
            *ctl_str (alert, "acked_at")? ctl_str (alert, "acked_at"): "-");
    json_decref (alert);
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
    return ctl_tail (url && *url? url: "ws://127.0.0.1:8081/ws", o.topics, api->json, o.count);
}

//  --- Table ------------------------------------------------------------------------------------

const ctl_command_t ctl_commands [] = {
    { "stats", s_stats, "[--minutes N]",
      "Realtime totals over the last N minutes (1-1440, default 5): count, throughput,\n"
      "volume in the reporting currency, approval, decline and failure rates, flagged." },
    { "alerts", s_alerts, "[--open] [--limit N] [--min-score N]",
      "Recent alerts, newest first: --open only those not acknowledged, --limit 1-1000\n"
      "(default 50), --min-score 0-100 (default 0)." },
    { "ack", s_ack, "ID [--by NAME]",
      "Acknowledges an alert by numeric id or by key (fraud:<tx_id>, ...); --by names\n"
      "who did (the API records \"api\" without it). Acking twice changes nothing." },
    { "tx", s_tx, "ID", "One stored transaction with its score and reasons." },
    { "account", s_account, "ID [--limit N]",
      "An account's totals, lifetime value, risk and its last N transactions (1-100,\n"
      "default 20)." },
    { "dead-letters", s_dead_letters, "[--reason R] [--limit N]",
      "Rejected records, newest first; --reason is a code of common/rejects.h (such as\n"
      "bad_amount), --limit 1-1000 (default 50)." },
    { "tail", s_tail, "[--topics alerts,stats,windows,dead_letters] [--count N]",
      "Live events from the push gateway (TXW_GATEWAY_URL), one line each, until\n"
      "Ctrl-C (or N events with --count). Reconnects when the connection drops and\n"
      "asks for a re-sync when messages were lost. Topics default to alerts." },
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

void
ctl_command_usage (const ctl_command_t *command, FILE *out)
{
    fprintf (out, "usage: txwctl [--api URL] [--json] %s %s\n\n%s\n\n"
             "  --json    print the API's JSON (tail: each message as received)\n"
             "  --help    this text\n", command->name, command->synopsis, command->help);
}
