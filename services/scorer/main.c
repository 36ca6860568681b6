/*  txw-scorer - fraud scores, reason codes and alerts for one account shard */

#include "scorer.h"
#include "train.h"

#include <stdio.h>

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
          "endpoints to bind the PUB of alerts (account ids masked)", &cfg.publish, 0, 0 },
        { "alert-threshold", TXW_OPT_INT, "80", "score at or above which an alert is raised",
          &cfg.alert_threshold, 0, 100 },
        { "shard", TXW_OPT_INT, "0", "this scorer's shard number (for logs and metrics)",
          &cfg.shard, 0, 4095 },
        { "max-accounts", TXW_OPT_INT, "1000000",
          "accounts whose state is kept; the least recently seen are evicted beyond it",
          &cfg.max_accounts, 1, 50000000 },
        { "idle-evict-s", TXW_OPT_INT, "86400",
          "evict accounts idle this long in event time (0: never)", &cfg.idle_evict_s,
          0, 31622400 },
        { "rules", TXW_OPT_STRING, "",
          "rule file (JSON, see services/scorer/default-rules.json); empty: the "
          "compiled-in default. Re-read on SIGHUP or when it changes", &cfg.rules_file, 0, 0 },
        { "watch-s", TXW_OPT_INT, "5",
          "seconds between checks for a changed rule file (0: only on SIGHUP)",
          &cfg.watch_s, 0, 3600 },
        { "model", TXW_OPT_STRING, "",
          "anomaly model file (txw-scorer --train-out); empty: rules alone. Re-read "
          "on SIGHUP or when it changes", &cfg.model_file, 0, 0 },
        { "features-out", TXW_OPT_STRING, "",
          "write each transaction's model features and score to this CSV (evaluation)",
          &cfg.features_out, 0, 0 },
        { "train-out", TXW_OPT_STRING, "",
          "train mode: train a model from the stored transactions (--database-url), "
          "save it here and exit", &cfg.train_out, 0, 0 },
        { "train-from", TXW_OPT_STRING, "", "train mode: first event time (RFC 3339)",
          &cfg.train_from, 0, 0 },
        { "train-to", TXW_OPT_STRING, "", "train mode: last event time (RFC 3339)",
          &cfg.train_to, 0, 0 },
        { "train-scores-out", TXW_OPT_STRING, "",
          "train mode: also write each training transaction's score and reasons (rules and "
          "the new model) to this file", &cfg.train_scores_out, 0, 0 },
        { "trees", TXW_OPT_INT, "100", "train mode: trees in the forest", &cfg.trees, 100, 10000 },
        { "sample-size", TXW_OPT_INT, "256", "train mode: rows each tree is grown on",
          &cfg.sample_size, 16, 65536 },
        { "seed", TXW_OPT_INT, "1", "train mode: random seed (same data and seed: same model)",
          &cfg.seed, 0, INT64_MAX },
        { "max-train-rows", TXW_OPT_INT, "2000000",
          "train mode: transactions kept for training (a uniform sample beyond)",
          &cfg.max_train_rows, 2, 100000000 },
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
    if (*cfg.train_out) {
        train_config_t train = {
            .database_url = cfg.database_url, .rules_file = cfg.rules_file,
            .from = cfg.train_from, .to = cfg.train_to, .model_out = cfg.train_out,
            .features_out = cfg.features_out, .scores_out = cfg.train_scores_out,
            .trees = cfg.trees,
            .sample_size = cfg.sample_size, .seed = cfg.seed,
            .max_rows = cfg.max_train_rows, .max_accounts = cfg.max_accounts
        };
        if (!*cfg.database_url) {
            fprintf (stderr, "error: --train-out needs --database-url (see --help)\n");
            return 2;
        }
        return train_run (&train);
    }
    return txw_service_main ("scorer", &cfg.svc, &s_scorer_stage, &cfg);
}
