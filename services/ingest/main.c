/*  txw-ingest - transactions and corrections over HTTP, into the pipeline  */

#include "ingest.h"

#include <stdio.h>
#include <string.h>

TXW_STAGE (ingest, ingest_config_t)

int
main (int argc, char **argv)
{
    ingest_config_t cfg;
    const txw_option_t options [] = {
        TXW_SERVICE_OPTIONS (cfg.svc, "9109"),
        { "listen", TXW_OPT_STRING, "8082",
          "civetweb listening_ports of the API, e.g. 8082 or 127.0.0.1:8082", &cfg.listen, 0, 0 },
        { "database-url", TXW_OPT_STRING, "",
          "libpq connection string of the journal and the API keys (required)",
          &cfg.database_url, 0, 0 },
        { "validator-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7001",
          "validators to push to, comma-separated (as txw-producer's --endpoints)",
          &cfg.validator_endpoints, 0, 0 },
        { "ack-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7022,tcp://127.0.0.1:7002",
          "PUBs of the aggregators and validators whose acknowledgements release\n"
          "      journaled records, comma-separated", &cfg.ack_endpoints, 0, 0 },
        { "ack-timeout-ms", TXW_OPT_INT, "5000",
          "a record's lease: not acknowledged by then, any replica sends it again\n"
          "      (the lease doubles with every send, up to a minute)", &cfg.ack_timeout_ms,
          100, 600000 },
        { "idempotency-horizon-h", TXW_OPT_INT, "168",
          "hours an acknowledged record stays in the journal: a tx_id posted again\n"
          "      within them is a replay or a conflict, after them a new transaction",
          &cfg.horizon_h, 0, 87600 },
        { "max-body-bytes", TXW_OPT_INT, "4194304", "largest request body (larger: 413)",
          &cfg.max_body_bytes, 1024, 1073741824 },
        { "max-rows", TXW_OPT_INT, "10000", "most transactions in one request (more: 413)",
          &cfg.max_rows, 1, 1000000 },
        { "threads", TXW_OPT_INT, "32",
          "HTTP worker threads; each request holds one until it is answered",
          &cfg.threads, 1, 1024 },
        { "request-timeout-ms", TXW_OPT_INT, "10000",
          "longest a request may take to arrive, and to wait for the journal (then 503)",
          &cfg.request_timeout_ms, 100, 600000 },
        { "rates", TXW_OPT_STRING, "",
          "CSV file of currency,rate to the reporting currency (empty: built-in); "
          "reloaded on SIGHUP; the validators' own", &cfg.rates, 0, 0 },
        { "reporting-currency", TXW_OPT_STRING, "EUR",
          "currency that volumes are converted to (the validators')", &cfg.reporting_currency,
          0, 0 },
        { "max-future-ms", TXW_OPT_INT, "300000",
          "how far ahead of the wall clock an event time may be (the validators')",
          &cfg.max_future_ms, 0, 1e15 },
        { "min-ts", TXW_OPT_STRING, "2000-01-01T00:00:00Z",
          "earliest event time accepted, RFC 3339 (the validators')", &cfg.min_ts, 0, 0 },
        { "max-amount", TXW_OPT_STRING, "1000000000",
          "largest amount of one transaction, in the reporting currency (the validators')",
          &cfg.max_amount, 0, 0 },
        { "key-cache-ms", TXW_OPT_INT, "5000",
          "how long an API key's check is reused; a key revoked elsewhere stops working\n"
          "      within this time", &cfg.key_cache_ms, 0, 600000 },
        { "rate-per-key", TXW_OPT_DOUBLE, "2000",
          "requests per second one API key may make on average (0: no limit)",
          &cfg.rate_per_key, 0, 1e6 },
        { "burst-per-key", TXW_OPT_INT, "4000", "requests one API key may make at once",
          &cfg.burst_per_key, 1, 1000000 },
        { "rate-per-client", TXW_OPT_DOUBLE, "4000",
          "requests per second one client address (an IPv6 /64) may make, keys or not\n"
          "      (0: no limit)", &cfg.rate_per_client, 0, 1e6 },
        { "burst-per-client", TXW_OPT_INT, "8000", "requests one client address may make at once",
          &cfg.burst_per_client, 1, 1000000 },
        { "rate-limit-entries", TXW_OPT_INT, "16384",
          "keys and addresses each rate limit table tracks (about 100 bytes each)",
          &cfg.rate_limit_entries, 16, 10000000 },
        { "statement-timeout-ms", TXW_OPT_INT, "5000",
          "longest a journal statement may run", &cfg.statement_timeout_ms, 1, 600000 },
        { "migrate", TXW_OPT_BOOL, "true", "apply pending schema migrations at start",
          &cfg.migrate, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-ingest",
        "Takes transactions over HTTP (POST /api/v1/transactions: JSON or NDJSON),\n"
        "checks each as the validator does, journals the accepted ones in PostgreSQL\n"
        "before answering 202, and sends them to the validators until the pipeline\n"
        "acknowledges them; corrects stored ones (PATCH /api/v1/transactions/{tx_id}).");
    if (!*cfg.database_url) {
        fprintf (stderr, "error: --database-url is required\n");
        return 2;
    }
    return txw_service_main ("ingest", &cfg.svc, &s_ingest_stage, &cfg);
}
