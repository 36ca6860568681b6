/*  txw-validator - checks, cleans and enriches raw transactions             */

#include "validator.h"

TXW_STAGE (validator, validator_config_t)

int
main (int argc, char **argv)
{
    validator_config_t cfg;
    const txw_option_t options [] = {
        TXW_SERVICE_OPTIONS (cfg.svc, "9101"),
        { "bind", TXW_OPT_STRING, "tcp://*:7001",
          "endpoints to bind the PULL that producers push to", &cfg.bind, 0, 0 },
        { "scorer-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7011",
          "scorer shards to push to, comma-separated; shard i is item i",
          &cfg.scorer_endpoints, 0, 0 },
        { "publish", TXW_OPT_STRING, "tcp://*:7002",
          "endpoints to bind the PUB of dead letters", &cfg.publish, 0, 0 },
        { "database-url", TXW_OPT_STRING, "",
          "libpq connection string for dead letters; empty: store none",
          &cfg.database_url, 0, 0 },
        { "rates", TXW_OPT_STRING, "",
          "CSV file of currency,rate to the reporting currency (empty: built-in); "
          "reloaded on SIGHUP", &cfg.rates, 0, 0 },
        { "reporting-currency", TXW_OPT_STRING, "EUR",
          "currency that volumes are converted to", &cfg.reporting_currency, 0, 0 },
        { "max-future-ms", TXW_OPT_INT, "300000",
          "how far ahead of the wall clock an event time may be", &cfg.max_future_ms,
          0, 1e15 },
        { "min-ts", TXW_OPT_STRING, "2000-01-01T00:00:00Z",
          "earliest event time accepted (RFC 3339)", &cfg.min_ts, 0, 0 },
        { "max-amount", TXW_OPT_STRING, "1000000000",
          "largest amount of one transaction, in the reporting currency (a decimal); "
          "above it a transaction is a dead letter amount_too_large", &cfg.max_amount, 0, 0 },
        { "dead-letter-queue", TXW_OPT_INT, "100000",
          "dead letters held while PostgreSQL is slow or down; more are dropped",
          &cfg.dead_letter_queue, 1, 100000000 },
        { "migrate", TXW_OPT_BOOL, "true", "apply pending schema migrations at start",
          &cfg.migrate, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-validator",
        "Checks every raw transaction against the schema and ranges, cleans and\n"
        "enriches the good ones and routes them to the scorer shard of their\n"
        "account; rejected records become dead letters with a reason, published\n"
        "and stored in PostgreSQL.");
    return txw_service_main ("validator", &cfg.svc, &s_validator_stage, &cfg);
}
