/*  txw-notifier - sends alerts to webhooks, Slack, PagerDuty and email, each alert once */

#include "notifier.h"

TXW_STAGE (notifier, notifier_config_t)

int
main (int argc, char **argv)
{
    notifier_config_t cfg;
    const txw_option_t options [] = {
        TXW_SERVICE_OPTIONS (cfg.svc, "9106"),
        { "alert-endpoints", TXW_OPT_STRING, "tcp://127.0.0.1:7012,tcp://127.0.0.1:7022",
          "scorer and aggregator PUBs to subscribe to, comma list", &cfg.alert_endpoints, 0, 0 },
        { "webhook-url", TXW_OPT_STRING, "",
          "http(s) URLs to POST each alert to as JSON, comma list (each gets every alert\n"
          "      --kinds and --min-score pass); this or --channels-file is required",
          &cfg.webhook_url, 0, 0 },
        { "channels-file", TXW_OPT_STRING, "",
          "JSON file of channels (webhook, slack, pagerduty, email), each with its own\n"
          "      kinds and minimum severity; secrets in files it names (README, Notifier)",
          &cfg.channels_file, 0, 0 },
        { "min-score", TXW_OPT_INT, "0", "--webhook-url: alerts with a lower score are not sent",
          &cfg.min_score, 0, 100 },
        { "kinds", TXW_OPT_STRING, "fraud,region_health", "--webhook-url: alert kinds to send, comma list",
          &cfg.kinds, 0, 0 },
        { "timeout-ms", TXW_OPT_INT, "5000", "time limit of one HTTP attempt",
          &cfg.timeout_ms, 10, 600000 },
        { "max-attempts", TXW_OPT_INT, "8", "attempts per alert and channel entry before giving up",
          &cfg.max_attempts, 1, 1000 },
        { "backoff-ms", TXW_OPT_INT, "500",
          "delay before the first retry; doubles each time, with jitter", &cfg.backoff_ms, 0, 3600000 },
        { "backoff-max-ms", TXW_OPT_INT, "30000", "longest delay between attempts (Retry-After too)",
          &cfg.backoff_max_ms, 0, 86400000 },
        { "queue", TXW_OPT_INT, "10000",
          "alerts waiting for delivery; more are dropped (counted and logged)", &cfg.queue, 1, 10000000 },
        { "concurrency", TXW_OPT_INT, "8", "requests in flight per channel entry",
          &cfg.concurrency, 1, 1000 },
        { "drain-ms", TXW_OPT_INT, "5000",
          "on SIGTERM, how long queued alerts may still be delivered", &cfg.drain_ms, 0, 600000 },
        { "header", TXW_OPT_STRING, NULL,
          "extra request header, e.g. \"Authorization: Bearer x\"; keep secrets in\n"
          "      TXW_WEBHOOK_HEADER, which is read when --header is not given", &cfg.header, 0, 0 },
        { "webhook-secret-file", TXW_OPT_STRING, "",
          "file holding the secret that signs every request (X-Txwatch-Signature, HMAC-SHA256\n"
          "      of \"<unix time>.<body>\"; at least 16 bytes; line ends at its end ignored;\n"
          "      \"\": unsigned, with a warning at start)", &cfg.webhook_secret_file, 0, 0 },
        { "database-url", TXW_OPT_STRING, "",
          "PostgreSQL with the stored alerts: those not heard live (raised while the\n"
          "      notifier was down) are sent after a restart, in id order (\"\": live only)",
          &cfg.database_url, 0, 0 },
        { "cursor-name", TXW_OPT_STRING, "notifier",
          "the row of txw_data.notifier_cursor that keeps how far the stored alerts are sent",
          &cfg.cursor_name, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-notifier",
        "Subscribes to the scorers' and aggregators' alerts and sends each alert, once,\n"
        "with retries and back-off, to every channel whose kinds and severity take it:\n"
        "JSON webhooks (X-Txwatch-Alert-Key is the receiver's idempotency key; with a\n"
        "secret, X-Txwatch-Signature lets it check who sent the request and when:\n"
        "proto/SERVING.md, Webhooks), Slack, PagerDuty (resolved when the alert is\n"
        "closed) and email over SMTP.");
    return txw_service_main ("notifier", &cfg.svc, &s_notifier_stage, &cfg);
}
