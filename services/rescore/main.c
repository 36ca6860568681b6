/*  txw-rescore - stale accounts scored again under the current rules and model

    A scheduled job: `txw-rescore --database-url URL` runs once and exits 0,
    or 1 when the run failed (a Kubernetes CronJob's contract); with
    --every SECONDS it runs in a loop and serves its metrics on the admin
    port (compose, make run), and with --retrain-every also retrains the
    model (and the supervised model, --supervised). See rescore.h.           */

#include "rescore.h"

#include <stdio.h>

TXW_STAGE (rescore, rescore_config_t)

int
main (int argc, char **argv)
{
    rescore_config_t cfg;
    const txw_option_t options [] = {
        TXW_SERVICE_OPTIONS (cfg.svc, "9108"),
        { "database-url", TXW_OPT_STRING, "",
          "libpq connection string, as the rescoring login (group txw_rescore)",
          &cfg.database_url, 0, 0 },
        { "rules", TXW_OPT_STRING, "",
          "rule file the scorer runs (empty: the compiled-in default)", &cfg.rules_file, 0, 0 },
        { "model", TXW_OPT_STRING, "",
          "model file the scorer runs (txw-train --out; empty or not there yet: the rules "
          "alone); both are read afresh at every run", &cfg.model_file, 0, 0 },
        { "alert-threshold", TXW_OPT_INT, "80",
          "the scorer's: a new score at or above it, the first below, raises the alert",
          &cfg.alert_threshold, 0, 100 },
        { "batch", TXW_OPT_INT, "1000", "stale accounts taken per database transaction",
          &cfg.batch, 1, 1000000 },
        { "history", TXW_OPT_INT, "200",
          "an account's latest transactions replayed (and rescored)", &cfg.history, 1, 100000 },
        { "horizon-days", TXW_OPT_INT, "30",
          "... of those, the ones within this many days of its latest", &cfg.horizon_days,
          1, 36500 },
        { "idle-evict-s", TXW_OPT_INT, "86400",
          "the scorer's: an account back after this long idle (in its own event time) starts "
          "afresh (0: never)", &cfg.idle_evict_s, 0, 31622400 },
        { "every", TXW_OPT_INT, "0",
          "run every this many seconds, serving metrics, until stopped (0: once, exit 0 "
          "when it succeeded, 1 when it failed)", &cfg.every, 0, 31536000 },
        { "retrain-every", TXW_OPT_INT, "0",
          "with --every: retrain the model into --model every this many seconds, the first "
          "at start, and before every run while there is no model yet (0: never; txw-train "
          "does it in a Kubernetes CronJob)", &cfg.retrain_every,
          0, 31536000 },
        { "retrain-days", TXW_OPT_INT, "30", "... on the transactions of the last this many days",
          &cfg.retrain_days, 1, 36500 },
        { "retrain-min-rows", TXW_OPT_INT, "100000",
          "... once there are this many (fewer: the scorer keeps what it runs)",
          &cfg.retrain_min_rows, 2, 100000000 },
        { "retrain-max-rows", TXW_OPT_INT, "500000",
          "... a uniform sample of at most this many", &cfg.retrain_max_rows, 2, 100000000 },
        { "supervised", TXW_OPT_STRING, "",
          "... and after it the scorer's supervised model into this file (txw-train "
          "--supervised-out: from txw_data.labels; fewer than 50 fraud or 500 legitimate "
          "labels, none written; empty: none)", &cfg.supervised_file, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-rescore",
        "Scores the stale accounts' recent stored transactions again with the\n"
        "current rules and model, exactly as the scorer does, stores the new scores\n"
        "beside the first ones (txw.rescores), raises the alerts of transactions\n"
        "that became suspicious, and clears the accounts' flags.");
    if (!*cfg.database_url || (cfg.retrain_every && (!cfg.every || !*cfg.model_file))
    ||  (*cfg.supervised_file && !cfg.retrain_every)) {
        fprintf (stderr, "error: %s (see --help)\n", !*cfg.database_url?
                 "--database-url is required": !cfg.retrain_every?
                 "--supervised needs --retrain-every": "--retrain-every needs --every and --model");
        return 2;
    }
    return txw_service_main ("rescore", &cfg.svc, &s_rescore_stage, &cfg);
}
