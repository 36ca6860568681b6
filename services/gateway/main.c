/*  txw-gateway - pushes alerts, windows and stats to WebSocket clients     */

#include "gateway.h"

TXW_STAGE (gateway, gateway_config_t)

int
main (int argc, char **argv)
{
    gateway_config_t cfg;
    const txw_option_t options [] = {
        TXW_SERVICE_OPTIONS (cfg.svc, "9105"),
        { "listen", TXW_OPT_STRING, "8081",
          "civetweb listening_ports for the dashboard and /ws (e.g. 127.0.0.1:8081)",
          &cfg.listen, 0, 0 },
        { "document-root", TXW_OPT_STRING, "build/dashboard",
          "folder of the dashboard bundle, read at start and served at / (index.html);\n"
          "      its regular files only, no subfolders", &cfg.document_root, 0, 0 },
        { "api-url", TXW_OPT_STRING, ":8080",
          "query API location for /config.json; \"\" same origin, \":PORT\" the page's host",
          &cfg.api_url, 0, 0 },
        { "alert-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7012",
          "scorer PUBs to subscribe to for fraud alerts, comma list (empty: none)",
          &cfg.alert_endpoints, 0, 0 },
        { "window-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7022",
          "aggregator PUBs for window updates and region health alerts (empty: none)",
          &cfg.window_endpoints, 0, 0 },
        { "dead-letter-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7002",
          "validator PUBs for dead letters (empty: none)", &cfg.dead_letter_endpoints, 0, 0 },
        { "database-url", TXW_OPT_STRING, "",
          "libpq connection string: the API keys /ws checks, the alerts and windows\n"
          "      seeded at start; empty: start empty and refuse /ws (unless --auth off)",
          &cfg.database_url, 0, 0 },
        { "auth", TXW_OPT_BOOL, "true",
          "/ws needs an API key; --auth off lets anyone in: for local debugging only",
          &cfg.auth, 0, 0 },
        { "key-cache-ms", TXW_OPT_INT, "5000",
          "how long an API key's check is reused; a key revoked elsewhere opens no\n"
          "      new connection after this time", &cfg.key_cache_ms, 0, 600000 },
        { "max-clients-per-key", TXW_OPT_INT, "20",
          "WebSocket clients at once per API key; more get HTTP 429",
          &cfg.max_clients_per_key, 1, 100000 },
        { "handshakes-per-client", TXW_OPT_DOUBLE, "5",
          "WebSocket handshakes per second one client address (an IPv6 /64) may make on\n"
          "      average, four times that at once; more get HTTP 429 (0: no limit)",
          &cfg.handshakes_per_client, 0, 1e6 },
        { "allowed-origins", TXW_OPT_STRING, "",
          "comma list of origins (e.g. http://localhost:8081) whose pages may open /ws\n"
          "      besides the gateway's own (its Host); other Origins get HTTP 403",
          &cfg.allowed_origins, 0, 0 },
        { "client-queue", TXW_OPT_INT, "256",
          "messages queued per client before stats and windows are dropped",
          &cfg.client_queue, 4, 1000000 },
        { "max-clients", TXW_OPT_INT, "1000",
          "WebSocket clients at once; more get HTTP 503", &cfg.max_clients, 1, 100000 },
        { "threads", TXW_OPT_INT, "0",
          "civetweb worker threads; civetweb holds one per open WebSocket, so it must\n"
          "      exceed --max-clients (0: max-clients + 16)", &cfg.threads, 0, 200000 },
        { "health-threshold", TXW_OPT_DOUBLE, "0.10",
          "declined-plus-failed share above which a region is unhealthy",
          &cfg.health_threshold, 0, 1 },
        { "reporting-currency", TXW_OPT_STRING, "EUR",
          "currency of window amounts (named in stats)", &cfg.reporting_currency, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-gateway",
        "Subscribes to the scorers' alerts, the aggregators' window updates and the\n"
        "validators' dead letters and pushes them, with stats every second, to\n"
        "WebSocket clients at /ws (proto/SERVING.md); serves the dashboard at /.");
    return txw_service_main ("gateway", &cfg.svc, &s_gateway_stage, &cfg);
}
