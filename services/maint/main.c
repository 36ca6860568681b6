/*  txw-maint - retention and segment refresh: a scheduled job

    `txw-maint [options] TASK...` runs each task once and exits 0 when all
    succeeded, 1 when one failed (a Kubernetes CronJob's contract); with
    --every SECONDS it runs them in a loop instead and serves its metrics
    on the admin port (compose, make run). See maint.h.                    */

#include "admin.h"
#include "clock.h"
#include "log.h"
#include "maint.h"
#include "options.h"
#include "rfc3339.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_stop = 1;
}

static bool
s_ready (void *arg, char *detail, size_t size)
{
    bool ok = maint_healthy ((maint_t *) arg);
    snprintf (detail, size, "{\"last_run\":\"%s\"}", ok? "ok": "failed");
    return ok;
}

//  Moves the task words out of argv (into tasks) so that the option parser
//  sees options only: a word that is not an option's value is a task.
static int
s_split_tasks (const txw_option_t *table, int argc, char **argv, char **tasks, int *ntasks)
{
    int kept = 1;
    *ntasks = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        if (arg [0] != '-') {
            tasks [(*ntasks)++] = argv [i];
            continue;
        }
        argv [kept++] = argv [i];
        if (strncmp (arg, "--", 2) != 0)
            continue;           //  -h, or a stray word the parser refuses
        const txw_option_t *opt = table;
        size_t len = strcspn (arg + 2, "=");
        for (; opt->name; opt++)
            if (strlen (opt->name) == len && !strncmp (opt->name, arg + 2, len))
                break;
        //  A value option's next word is its value (the parser checks it).
        if (opt->name && opt->type != TXW_OPT_BOOL && !arg [2 + len] && i + 1 < argc)
            argv [kept++] = argv [++i];
    }
    return kept;
}

int
main (int argc, char **argv)
{
    maint_config_t cfg;
    int64_t every, admin_port;
    const char *admin_address, *log_level;
    char names [MAINT_TABLES][48], helps [MAINT_TABLES][128];
    txw_option_t options [MAINT_TABLES + 8] = {
        { "database-url", TXW_OPT_STRING, "",
          "libpq connection string, as the maintenance login (group txw_maint)",
          &cfg.database_url, 0, 0 },
        { "as-of", TXW_OPT_STRING, "",
          "the time retention counts back from and segments are scored at (RFC 3339; "
          "empty: the database's clock); for tests and replays", &cfg.as_of, 0, 0 },
        { "every", TXW_OPT_INT, "0",
          "run the tasks every this many seconds, serving metrics, until stopped "
          "(0: once, exit 0 when all succeeded, 1 when one failed)", &every, 0, 31536000 },
        { "admin-port", TXW_OPT_INT, "9107",
          "with --every: admin HTTP port for /healthz, /readyz and /metrics (0: none)",
          &admin_port, 0, 65535 },
        { "admin-address", TXW_OPT_STRING, "127.0.0.1",
          "address the admin port listens on (0.0.0.0 in a container)", &admin_address, 0, 0 },
        { "log-level", TXW_OPT_STRING, "info", "debug, info, warn or error", &log_level, 0, 0 },
    };
    int n = 6;
    for (int i = 0; i < MAINT_TABLES; i++) {
        snprintf (names [i], sizeof names [i], "keep-%s-days", maint_tables [i].option);
        snprintf (helps [i], sizeof helps [i], "retention: days of txw_data.%s kept (a table "
                  "not partitioned by time is kept whole)", maint_tables [i].table);
        options [n++] = (txw_option_t) { names [i], TXW_OPT_INT, maint_tables [i].fallback,
                                         helps [i], &cfg.keep_days [i], 1, 36500 };
    }
    options [n] = (txw_option_t) TXW_OPTIONS_END;

    char *tasks [argc];
    int ntasks;
    int kept = s_split_tasks (options, argc, argv, tasks, &ntasks);
    int rc = txw_options_parse (options, kept, argv, "txw-maint",
        "Tasks, one or more among the options: retention, segments or all.\n"
        "retention drops the partitions of stored data older than each table's\n"
        "days (whole partitions, never rows); segments refreshes the customer\n"
        "segments (txw_data.refresh_segments). Each run is logged, counted and\n"
        "recorded in txw_data.maint_runs.");
    if (rc)
        return rc > 0? 0: 2;
    cfg.retention = cfg.segments = false;
    for (int i = 0; i < ntasks; i++) {
        if (!strcmp (tasks [i], "retention") || !strcmp (tasks [i], "all"))
            cfg.retention = true;
        if (!strcmp (tasks [i], "segments") || !strcmp (tasks [i], "all"))
            cfg.segments = true;
        if (strcmp (tasks [i], "retention") && strcmp (tasks [i], "segments")
            && strcmp (tasks [i], "all")) {
            fprintf (stderr, "error: unknown task '%s' (tasks: retention, segments, all)\n",
                     tasks [i]);
            return 2;
        }
    }
    int64_t as_of_ms;
    int level = txw_log_level_parse (log_level);
    const char *bad = level < 0? "--log-level must be debug, info, warn or error"
        : !ntasks? "no task given (tasks: retention, segments, all; see --help)"
        : !*cfg.database_url? "--database-url is required"
        : *cfg.as_of && rfc3339_parse (cfg.as_of, strlen (cfg.as_of), &as_of_ms)?
            "--as-of is not an RFC 3339 time such as 2026-01-31T00:00:00Z": NULL;
    if (bad) {
        fprintf (stderr, "error: %s\n", bad);
        return 2;
    }
    txw_log_init ("maint", (txw_log_level_t) level);
    maint_t *maint = maint_new (&cfg);
    if (!maint)
        return 1;
    if (every == 0) {
        rc = maint_run (maint) == 0? 0: 1;
        maint_destroy (&maint);
        return rc;
    }

    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
    bool failed = false;
    txw_admin_t *admin = txw_admin_new (admin_address, (int) admin_port, s_ready, maint, &failed);
    if (failed) {
        maint_destroy (&maint);
        return 1;
    }
    log_info ("running %s%s%s every %lld s", cfg.retention? "retention": "",
              cfg.retention && cfg.segments? " and ": "", cfg.segments? "segments": "",
              (long long) every);
    while (!s_stop) {
        maint_run (maint);
        //  Sleeps in short steps so that a stop is served at once; the next
        //  run starts --every seconds after this one ended (never overlaps).
        int64_t due = txw_mono_ms () + every * 1000;
        while (!s_stop && txw_mono_ms () < due)
            nanosleep (&(struct timespec) { 0, 100 * 1000000L }, NULL);
    }
    log_info ("stopped");
    txw_admin_destroy (&admin);
    maint_destroy (&maint);
    return 0;
}
