/*  seed - the gateway's state at start, read from PostgreSQL               */

#include "seed.h"
#include "log.h"
#include "pgutil.h"
#include "pii.h"
#include "windowrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

//  The alert object of the REST API, built by PostgreSQL except the
//  account id, which is masked here.
#define S_ALERTS_SQL \
    "SELECT json_build_object('id', alert_id, 'key', key, 'kind', kind, 'tx_id', tx_id," \
    " 'ts', " S_TIME ("ts") ", 'account_id', NULL, 'score', score, 'reasons', reasons," \
    " 'amount_minor', amount_minor, 'currency', currency, 'amount_rep_minor', amount_rep_minor," \
    " 'merchant_id', merchant_id, 'country', country, 'channel', channel, 'region', region," \
    " 'message', message, 'model_version', model_version, 'raised_at', " S_TIME ("raised_at") "," \
    " 'status', status, 'acked_at', " S_TIME ("acked_at") ", 'acked_by', acked_by," \
    " 'severity', severity)::text" \
    " AS alert, account_id, key, kind, region," \
    " (extract(epoch FROM raised_at) * 1000)::bigint AS raised_ms, status FROM txw.alerts "

static int
s_alerts (gw_state_t *state, PGconn *conn, const char *where, bool recent)
{
    char sql [2048];
    snprintf (sql, sizeof sql, "%s%s", S_ALERTS_SQL, where);
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read txw.alerts: %s", PQerrorMessage (conn));
        PQclear (res);
        return -1;
    }
    //  Newest first from the query; the state wants them oldest first.
    for (int i = PQntuples (res) - 1; i >= 0; i--) {
        json_error_t error;
        json_t *alert = json_loads (txw_pg_text (res, i, "alert"), 0, &error);
        if (!alert) {
            log_warn ("skipped a stored alert: %s", error.text);
            continue;
        }
        if (!txw_pg_null (res, i, "account_id")) {
            const char *account = txw_pg_text (res, i, "account_id");
            char masked [TXW_ID_MAX + 1];
            txw_mask_id (account, strlen (account), masked, sizeof masked);
            json_object_set_new (alert, "account_id", json_string (masked));
        }
        int64_t raised_ms = txw_pg_int (res, i, "raised_ms");
        //  Being investigated is not resolved: open to the counts.
        bool open = strcmp (txw_pg_text (res, i, "status"), "closed") != 0;
        const char *key = txw_pg_text (res, i, "key"), *region = txw_pg_text (res, i, "region");
        if (recent)
            gw_state_alert (state, alert, key, txw_pg_text (res, i, "kind"), region,
                            raised_ms, open);
        else
            gw_state_health_alert (state, alert, key, region, raised_ms, open);
        json_decref (alert);
    }
    PQclear (res);
    return 0;
}

static int
s_windows (gw_state_t *state, PGconn *conn, int64_t now_ms)
{
    //  The stored rows per shard (txw_data.windows, not the summed view), so
    //  a live row from a shard later replaces exactly that shard's part.
    char sql [2300];
    snprintf (sql, sizeof sql, "SELECT %s FROM txw_data.windows"
              " WHERE window_start >= now() - interval '2 hours'"
              " - make_interval(secs => window_ms / 1000.0)", txw_windowrow_sql ()->select);
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read txw_data.windows: %s", PQerrorMessage (conn));
        PQclear (res);
        return -1;
    }
    txw_windowrow_cols_t cols;
    if (txw_windowrow_columns (res, &cols)) {
        log_error ("cannot read txw_data.windows: a column is missing");
        PQclear (res);
        return -1;
    }
    int stored = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        txw_window_t row;
        gw_window_t out;
        if (txw_windowrow_decode (res, i, &cols, &row) == 0
        &&  gw_state_window (state, &row, now_ms, &out) == 0)
            stored++;
    }
    log_info ("seeded %d window rows from txw_data.windows", stored);
    PQclear (res);
    return 0;
}

int
gw_seed (gw_state_t *state, const char *database_url, int64_t now_ms)
{
    PGconn *conn = txw_pg_connect (database_url);
    if (!conn)
        return -1;
    int rc = s_windows (state, conn, now_ms);
    if (rc == 0)
        rc = s_alerts (state, conn, "ORDER BY raised_at DESC, alert_id DESC LIMIT 50", true);
    if (rc == 0)
        rc = s_alerts (state, conn, "WHERE kind = 'region_health' AND raised_at >= now() - "
                                    "interval '60 minutes' ORDER BY raised_at DESC LIMIT 1000",
                       false);
    if (rc == 0)
        log_info ("seeded the state from PostgreSQL");
    PQfinish (conn);
    return rc;
}
