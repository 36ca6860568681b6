/*  txw-scorer - fraud scores, reason codes and alerts for one account shard */

#include "scorer.h"


TXW_STAGE (scorer, scorer_config_t)

int
main (int argc, char **argv)
{
    scorer_config_t cfg;
    const txw_option_t options [] = {
        TXW_SERVICE_OPTIONS (cfg.svc, "9102"),
        { "bind", TXW_OPT_STRING, "tcp://*:7011",
          "endpoints to bind the PULL that validators push to", &cfg.bind, 0, 0 },
        { "aggregator-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7021",
          "aggregator shards to push to, in shard order (routed by account)",
          &cfg.aggregator_endpoints, 0, 0 },
        { "publish", TXW_OPT_STRING, "tcp://*:7012",
          "endpoints to bind the PUB of alerts (account ids pseudonymised)", &cfg.publish, 0, 0 },
        { "alert-threshold", TXW_OPT_INT, "80", "score at or above which an alert is raised",
          &cfg.alert_threshold, 0, 100 },
        { "shard", TXW_OPT_INT, "0", "this scorer's shard number (for logs and metrics)",
          &cfg.shard, 0, 4095 },
        { "max-accounts", TXW_OPT_INT, "1000000",
          "accounts whose state is kept; the least recently seen are evicted beyond it",
          &cfg.max_accounts, 1, 50000000 },
        { "max-merchants", TXW_OPT_INT, "200000",
          "merchants whose cross-account state is kept (184 bytes each; 0: no "
          "merchant or device signals); the least recently seen in a set are evicted",
          &cfg.max_merchants, 0, 50000000 },
        { "max-devices", TXW_OPT_INT, "1000000",
          "devices whose accounts are kept for the device_accounts signal (96 "
          "bytes each; each account also takes 80 for its last merchants)", &cfg.max_devices, 1, 50000000 },
        { "dedupe-capacity", TXW_OPT_INT, "1000000",
          "transactions remembered so that a copy sent again does not count twice in its "
          "account's history (24 bytes each; in memory only)", &cfg.dedupe_capacity,
          1, 1073741824 },
        { "idle-evict-s", TXW_OPT_INT, "86400",
          "an account back after this long idle (in its own event time) starts "
          "afresh (0: never)", &cfg.idle_evict_s,
          0, 31622400 },
        { "rules", TXW_OPT_STRING, "",
          "rule file (JSON, see services/scorer/default-rules.json); empty: the "
          "compiled-in default. Re-read on SIGHUP or when it changes", &cfg.rules_file, 0, 0 },
        { "watch-s", TXW_OPT_INT, "5",
          "seconds between checks for a changed rule file (0: only on SIGHUP)",
          &cfg.watch_s, 0, 3600 },
        { "model", TXW_OPT_STRING, "",
          "anomaly model file (txw-train --out); empty: rules alone. Re-read "
          "on SIGHUP or when it changes", &cfg.model_file, 0, 0 },
        { "alert-precision", TXW_OPT_DOUBLE, "0",
          "instead of --alert-threshold: the lowest score whose alerts reached this "
          "precision on the supervised model's calibration part (0: off)",
          &cfg.alert_precision, 0, 1 },
        { "alert-budget", TXW_OPT_DOUBLE, "0",
          "instead of --alert-threshold: the lowest score that raised at most this many "
          "alerts an hour on the supervised model's calibration part (0: off)",
          &cfg.alert_budget, 0, 1e9 },
        { "supervised", TXW_OPT_STRING, "",
          "supervised model file (txw-train --supervised-out); empty or no file yet: "
          "supervised_p stays 0. Re-read on SIGHUP or when it changes",
          &cfg.supervised_file, 0, 0 },
        { "supervised-out", TXW_OPT_STRING, "",
          "write each transaction's id and supervised_p to this file (evaluation)",
          &cfg.supervised_out, 0, 0 },
        { "features-out", TXW_OPT_STRING, "",
          "write each transaction's model features and score to this CSV (evaluation)",
          &cfg.features_out, 0, 0 },
        { "database-url", TXW_OPT_STRING, "",
          "libpq connection string for checkpoints of per-account history; empty: none",
          &cfg.database_url, 0, 0 },
        { "checkpoint-s", TXW_OPT_INT, "10",
          "seconds between checkpoints of changed account history", &cfg.checkpoint_s, 1, 3600 },
        { "migrate", TXW_OPT_BOOL, "true", "apply pending schema migrations at start",
          &cfg.migrate, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-scorer",
        "Scores validated transactions for fraud from per-account rolling profiles\n"
        "and a transparent rule set, pushes scored transactions to the aggregator\n"
        "shard of their account, and raises alerts (stored and published).");
    return txw_service_main ("scorer", &cfg.svc, &s_scorer_stage, &cfg);
}
