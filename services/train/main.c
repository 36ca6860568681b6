/*  txw-train - trains the scorer's Isolation Forest from stored transactions

    An offline program, not a service: it reads txw.transactions, replays
    them through the scorer's own modules (linked from services/scorer) and
    writes a model file that txw-scorer --model loads. See train.h.          */

#include "log.h"
#include "service.h"
#include "supervised.h"
#include "train.h"

#include <stdio.h>

int
main (int argc, char **argv)
{
    train_config_t cfg;
    const char *log_level;
    bool rollback;
    const txw_option_t options [] = {
        { "database-url", TXW_OPT_STRING, "",
          "libpq connection string of the database holding txw.transactions",
          &cfg.database_url, 0, 0 },
        { "out", TXW_OPT_STRING, "", "model file to write (atomically)", &cfg.model_out, 0, 0 },
        { "from", TXW_OPT_STRING, "", "first event time trained on (RFC 3339; empty: all)",
          &cfg.from, 0, 0 },
        { "to", TXW_OPT_STRING, "", "last event time trained on (RFC 3339; empty: all)",
          &cfg.to, 0, 0 },
        { "days", TXW_OPT_INT, "0",
          "only the transactions of the last this many days, by the database's clock "
          "(0: every one; with --from and --to, all three hold)", &cfg.days, 0, 36500 },
        { "rules", TXW_OPT_STRING, "",
          "rule file the scorer runs (empty: the compiled-in default), for --scores-out",
          &cfg.rules_file, 0, 0 },
        { "features-out", TXW_OPT_STRING, "",
          "also write the feature matrix to this CSV (a reference model's input)",
          &cfg.features_out, 0, 0 },
        { "scores-out", TXW_OPT_STRING, "",
          "also write each training transaction's score and reasons (rules and the new "
          "model) to this file, for tuning rules on the training part", &cfg.scores_out, 0, 0 },
        { "trees", TXW_OPT_INT, "100", "trees in the forest", &cfg.trees, 100, 10000 },
        { "sample-size", TXW_OPT_INT, "256", "rows each tree is grown on",
          &cfg.sample_size, 16, 65536 },
        { "seed", TXW_OPT_INT, "1", "random seed (same data and seed: same model)",
          &cfg.seed, 0, INT64_MAX },
        { "max-rows", TXW_OPT_INT, "2000000",
          "transactions kept for training (a uniform sample beyond)", &cfg.max_rows,
          2, 100000000 },
        { "max-accounts", TXW_OPT_INT, "1000000",
          "account histories held while replaying (as the scorer's --max-accounts)",
          &cfg.max_accounts, 1, 50000000 },
        { "min-rows", TXW_OPT_INT, "2",
          "stored transactions in the range needed to train: with fewer, nothing is "
          "written and the exit code is 0 (scheduled retraining waits for history)",
          &cfg.min_rows, 2, 100000000 },
        { "supervised-out", TXW_OPT_STRING, "",
          "also train the supervised model (boosted trees on fraud labels, with the new "
          "forest's score as a feature) and write it here for txw-scorer --supervised",
          &cfg.supervised_out, 0, 0 },
        { "labels-csv", TXW_OPT_STRING, "",
          "labels from this CSV (tx_id, is_fraud, fraud_pattern: the generator's, for "
          "evaluation) instead of txw_data.labels", &cfg.labels_csv, 0, 0 },
        { "exclude-patterns", TXW_OPT_STRING, "",
          "comma-separated fraud_pattern values of --labels-csv left out of training "
          "entirely (neither fraud nor legitimate): held-out typologies", &cfg.exclude_patterns,
          0, 0 },
        { "supervised-scores-out", TXW_OPT_STRING, "",
          "also write the score of every transaction of the supervised model's calibration "
          "part (the later fifth of its rows), scored whole with the new model as the scorer "
          "does, to this file (tx_id, score): what it may be tuned on",
          &cfg.supervised_scores_out, 0, 0 },
        { "min-fraud-labels", TXW_OPT_INT, "50",
          "fraud labels needed among the replayed transactions to train the supervised "
          "model: with fewer, none is written and the exit code is 0",
          &cfg.min_fraud_labels, 2, 100000000 },
        { "min-legit-labels", TXW_OPT_INT, "500",
          "legitimate labels needed likewise", &cfg.min_legit_labels, 2, 100000000 },
        { "supervised-trees", TXW_OPT_INT, "60", "boosted trees of the supervised model",
          &cfg.supervised_trees, 1, 4096 },
        { "supervised-depth", TXW_OPT_INT, "4", "depth of each boosted tree",
          &cfg.supervised_depth, 1, 10 },
        { "operating-precision", TXW_OPT_DOUBLE, "0.9",
          "the supervised model's operating point, the probability that scores 80 (the "
          "default alert threshold): the lowest at which its calibration part's alerts are "
          "this share fraud (none: 0.8)", &cfg.operating_precision, 0.5, 0.999 },
        { "max-merchants", TXW_OPT_INT, "200000",
          "merchant states while replaying for the supervised model (as the scorer's "
          "--max-merchants; 0: no cross-account signals)", &cfg.max_merchants, 0, 50000000 },
        { "max-devices", TXW_OPT_INT, "1000000",
          "device states likewise (as the scorer's --max-devices)", &cfg.max_devices,
          1, 50000000 },
        { "rollback", TXW_OPT_BOOL, "false",
          "instead of training: put back the model --out replaced (<out>.prev), keeping "
          "the current one as <out>.prev; the same for --supervised-out if given",
          &rollback, 0, 0 },
        { "log-level", TXW_OPT_STRING, "info", "debug, info, warn or error", &log_level, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-train",
        "Trains the scorer's Isolation Forest from the stored transactions: replays\n"
        "them through the scorer's own features, fits and calibrates the forest and\n"
        "writes a model file for txw-scorer --model; the forest never reads fraud\n"
        "labels. With --supervised-out, then trains the supervised model on them.");
    int level = txw_log_level_parse (log_level);
    if (level < 0 || (!rollback && !*cfg.database_url) || !*cfg.model_out) {
        fprintf (stderr, "error: %s (see --help)\n", level < 0? "bad --log-level"
                 : "--out is required, and --database-url unless --rollback");
        return 2;
    }
    txw_log_init ("train", (txw_log_level_t) level);
    if (rollback)
        return train_rollback (cfg.model_out)
            || (*cfg.supervised_out && train_rollback (cfg.supervised_out));
    int rc = train_run (&cfg);
    return rc || !*cfg.supervised_out? rc: supervised_run (&cfg);
}
