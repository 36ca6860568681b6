/*  txw-aggregator - event-time windows and storage for one shard            */

#include "aggregator.h"
#include "log.h"
#include "pgutil.h"

#include <stdio.h>

TXW_STAGE (aggregator, aggregator_config_t)

int
main (int argc, char **argv)
{
    aggregator_config_t cfg;
    const char *login_roles = "";
    const txw_option_t options [] = {
        TXW_SERVICE_OPTIONS (cfg.svc, "9103"),
        { "bind", TXW_OPT_STRING, "tcp://*:7021",
          "endpoints to bind the PULL that scorers push to", &cfg.bind, 0, 0 },
        { "publish", TXW_OPT_STRING, "tcp://*:7022",
          "endpoints to bind the PUB of window updates", &cfg.publish, 0, 0 },
        { "database-url", TXW_OPT_STRING, "",
          "libpq connection string; empty: store nothing", &cfg.database_url, 0, 0 },
        { "store", TXW_OPT_STRING, "all",
          "which scored transactions to store: all, flagged or none", &cfg.store, 0, 0 },
        { "shard", TXW_OPT_INT, "0", "this aggregator's shard number", &cfg.shard, 0, 4095 },
        { "window-s", TXW_OPT_INT, "60", "tumbling window size in seconds",
          &cfg.window_s, 1, 86400 },
        { "lateness-s", TXW_OPT_INT, "5", "allowed lateness before a window closes",
          &cfg.lateness_s, 0, 86400 },
        { "retention-s", TXW_OPT_INT, "3600",
          "how long closed windows stay updatable by late events", &cfg.retention_s, 0, 604800 },
        { "flush-ms", TXW_OPT_INT, "500", "database flush interval", &cfg.flush_ms, 10, 60000 },
        { "tick-ms", TXW_OPT_INT, "1000", "live window publish interval", &cfg.tick_ms, 50, 60000 },
        { "alert-threshold", TXW_OPT_INT, "80", "score at or above which a transaction is flagged",
          &cfg.alert_threshold, 0, 100 },
        { "max-pending", TXW_OPT_INT, "1000000",
          "rows buffered for the database before input pauses", &cfg.max_pending, 1000, 100000000 },
        { "dedupe-capacity", TXW_OPT_INT, "2000000",
          "transactions remembered to count each tx_id once (the de-duplication horizon; "
          "24 bytes each)", &cfg.dedupe_capacity, 1, 1073741824 },
        { "accounts", TXW_OPT_BOOL, "true",
          "keep per-account totals (txw.accounts) unless --store none", &cfg.accounts, 0, 0 },
        { "health-threshold", TXW_OPT_DOUBLE, "0.10",
          "declined-plus-failed share above which a region window is unhealthy",
          &cfg.health_threshold, 0, 0.99 },
        { "health-windows", TXW_OPT_INT, "3",
          "unhealthy windows in a row that raise a region health alert",
          &cfg.health_windows, 1, 1000 },
        { "health-min-tx", TXW_OPT_INT, "20",
          "transactions a region window needs to be judged", &cfg.health_min_tx, 1, 1000000000 },
        { "migrate", TXW_OPT_BOOL, "true", "apply pending schema migrations at start",
          &cfg.migrate, 0, 0 },
        { "migrate-only", TXW_OPT_BOOL, NULL,
          "apply pending migrations to --database-url and exit (a deployment's migration job)",
          &cfg.migrate_only, 0, 0 },
        { "login-roles", TXW_OPT_STRING, "",
          "with --migrate-only: also make or update one login role per GROUP=URL item "
          "(whitespace-separated; the URL's user and password are the login's, GROUP its "
          "txwatch group role: proto/SQL.md, \"Roles\")", &login_roles, 0, 0 },
        TXW_OPTIONS_END
    };
    txw_service_options (options, argc, argv, "txw-aggregator",
        "Keeps event-time windows per dimension for one shard of accounts, stores\n"
        "scored transactions, windows and alerts in PostgreSQL, and publishes\n"
        "live window updates for the push gateway.");
    if (*login_roles && !cfg.migrate_only) {
        fprintf (stderr, "error: --login-roles goes with --migrate-only\n");
        return 2;
    }
    if (cfg.migrate_only) {
        //  One connection, as the schema's owner: the migrations, then the
        //  service logins they made the groups for.
        PGconn *conn = *cfg.database_url? txw_pg_connect (cfg.database_url): NULL;
        int applied = conn? txw_pg_migrate (conn): -1;
        int logins = applied >= 0 && *login_roles? txw_pg_login_roles (conn, login_roles): 0;
        PQfinish (conn);
        if (applied < 0 || logins < 0) {
            fprintf (stderr, "error: %s%s\n", applied < 0? "migrations not applied":
                     "login roles not made (the migrations are applied)",
                     *cfg.database_url? "": ": --migrate-only needs --database-url");
            return 1;
        }
        log_info ("schema at version %d (%d migrations applied now, %d login roles)",
                  txw_migrations_latest (), applied, logins);
        return 0;
    }
    return txw_service_main ("aggregator", &cfg.svc, &s_aggregator_stage, &cfg);
}
