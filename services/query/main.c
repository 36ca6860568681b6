/*  txw-query - the REST API over the stored transactions, windows and alerts */

#include "money.h"
#include "query.h"

#include <stdio.h>
#include <string.h>

TXW_STAGE (query_server, query_config_t)

int
main (int argc, char **argv)
{
    query_config_t cfg;
    const txw_option_t options [] = {
        TXW_SERVICE_OPTIONS (cfg.svc, "9104"),
        { "listen", TXW_OPT_STRING, "8080",
          "civetweb listening_ports of the API, e.g. 8080 or 127.0.0.1:8080", &cfg.listen, 0, 0 },
        { "database-url", TXW_OPT_STRING, "", "libpq connection string (required)",
          &cfg.database_url, 0, 0 },
        { "pool-size", TXW_OPT_INT, "4", "PostgreSQL connections at most", &cfg.pool_size, 1, 256 },
        { "threads", TXW_OPT_INT, "64",
          "HTTP worker threads; each slow or idle client holds one for up to 3 s",
          &cfg.threads, 1, 1024 },
        { "cache-ttl-ms", TXW_OPT_INT, "1000",
          "how long a GET response is reused for the same URL (0: no cache)",
          &cfg.cache_ttl_ms, 0, 3600000 },
        { "cache-max-entries", TXW_OPT_INT, "1024", "responses the cache holds at most",
          &cfg.cache_max_entries, 1, 1000000 },
        { "cors-origins", TXW_OPT_STRING, "",
          "comma-separated origins allowed by CORS, e.g. the dashboard's\n"
          "      http://localhost:8081 (empty: no CORS headers; * is refused)",
          &cfg.cors_origins, 0, 0 },
        { "key-cache-ms", TXW_OPT_INT, "5000",
          "how long an API key's check is reused; a key revoked on another replica\n"
          "      stops working within this time", &cfg.key_cache_ms, 0, 600000 },
        { "rate-per-key", TXW_OPT_DOUBLE, "20",
          "requests per second one API key may make on average (0: no limit)",
          &cfg.rate_per_key, 0, 1e6 },
        { "burst-per-key", TXW_OPT_INT, "60", "requests one API key may make at once",
          &cfg.burst_per_key, 1, 1000000 },
        { "rate-per-client", TXW_OPT_DOUBLE, "50",
          "requests per second one client address (an IPv6 /64) may make, keys or not;\n"
          "      behind a proxy every client has its address: raise it or use 0",
          &cfg.rate_per_client, 0, 1e6 },
        { "burst-per-client", TXW_OPT_INT, "100", "requests one client address may make at once",
          &cfg.burst_per_client, 1, 1000000 },
        { "rate-limit-entries", TXW_OPT_INT, "16384",
          "keys and addresses each rate limit table tracks (about 100 bytes each)",
          &cfg.rate_limit_entries, 16, 10000000 },
        { "health-threshold", TXW_OPT_DOUBLE, "0.10",
          "declined-plus-failed share above which a region is unhealthy",
          &cfg.health_threshold, 0, 1 },
        { "alert-threshold", TXW_OPT_INT, "80",
          "score at or above which a transaction is flagged (account risk level)",
          &cfg.alert_threshold, 1, 100 },
        { "reporting-currency", TXW_OPT_STRING, "EUR",
          "currency of window and account amounts (ISO 4217)", &cfg.reporting_currency, 0, 0 },
        { "statement-timeout-ms", TXW_OPT_INT, "2000",
          "longest a database statement may run (also the longest wait for a connection)",
          &cfg.statement_timeout_ms, 1, 600000 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-query",
        "Serves the REST API of proto/SERVING.md: realtime statistics, time series,\n"
        "top lists, branch and region health, alerts (and their acknowledgement),\n"
        "transactions, accounts and dead letters, read from PostgreSQL.");
    if (!*cfg.database_url) {
        fprintf (stderr, "error: --database-url is required\n");
        return 2;
    }
    if (strlen (cfg.reporting_currency) != 3
    ||  txw_currency_exponent (cfg.reporting_currency, 3) < 0) {
        fprintf (stderr, "error: --reporting-currency must be an ISO 4217 code such as EUR\n");
        return 2;
    }
    return txw_service_main ("query", &cfg.svc, &s_query_server_stage, &cfg);
}
