/*  merchants_checkpoint - the scorer's cross-account state, saved to PostgreSQL */

#include "merchants_checkpoint.h"
#include "checkpoint.h"
#include "log.h"
#include "metrics.h"
#include "pgwriter.h"
#include "pii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_QUEUED    (1u << 20)      //  records waiting, at most

_Static_assert (sizeof (merchants_merchant_t) <= CHECKPOINT_RECORD_MAX, "merchant record too large");

struct _merchants_checkpoint_t {
    char consumer [64];
    uint8_t fingerprint [TXW_PSEUDONYM_FINGERPRINT_BYTES];
    PGconn *conn;               //  for restore only, closed after it
    txw_pgwriter_t *writer;
};

merchants_checkpoint_t *
merchants_checkpoint_new (const char *database_url, const char *consumer)
{
    merchants_checkpoint_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->consumer, sizeof self->consumer, "%s", consumer);
    txw_pseudonym_fingerprint (self->fingerprint);
    self->conn = txw_pg_connect (database_url);
    txw_pgwriter_config_t config = {
        .name = "cross-account checkpoints",
        //  The latest row of a record (n, the order COPY read them) wins.
        .stage_sql = "CREATE TEMP TABLE IF NOT EXISTS stage_cross"
                     " (kind smallint, key_hash bigint, layout int, state bytea, n bigserial)"
                     " ON COMMIT DELETE ROWS",
        .copy_sql = "COPY stage_cross (kind, key_hash, layout, state) FROM STDIN",
        .apply_sql = "INSERT INTO txw_data.scorer_cross_state AS s"
                     " (consumer, kind, key_hash, layout, state)"
                     " SELECT DISTINCT ON (kind, key_hash) $1, kind, key_hash, layout, state"
                     " FROM stage_cross ORDER BY kind, key_hash, n DESC"
                     " ON CONFLICT (consumer, kind, key_hash) DO UPDATE SET"
                     " layout = excluded.layout, state = excluded.state, updated_at = now()",
        .apply_param = self->consumer,
        .max_rows = S_MAX_QUEUED,
        .newest_wins = true,
        .metrics = {
            txw_counter_new ("txw_scorer_cross_checkpointed_total", NULL,
                             "merchant, device and visit records written to "
                             "txw_data.scorer_cross_state"),
            txw_counter_new ("txw_scorer_cross_checkpoint_dropped_total", NULL,
                             "cross-account records dropped: the database was away too long"),
            txw_counter_new ("txw_scorer_cross_checkpoint_failures_total", NULL,
                             "cross-account checkpoint writes that failed and are retried"),
            txw_gauge_new ("txw_scorer_cross_checkpoint_waiting", NULL,
                           "cross-account records waiting to be written")
        }
    };
    if (self->conn)
        self->writer = txw_pgwriter_new (database_url, &config);
    if (!self->writer)
        merchants_checkpoint_destroy (&self);
    return self;
}

void
merchants_checkpoint_destroy (merchants_checkpoint_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    merchants_checkpoint_t *self = *self_p;
    txw_pgwriter_destroy (&self->writer);
    PQfinish (self->conn);
    free (self);
    *self_p = NULL;
}

long
merchants_checkpoint_restore (merchants_checkpoint_t *self, merchants_t *state)
{
    if (!self->conn)
        return -1;
    const char *params [] = { self->consumer };
    //  Oldest first, so the newest win a full set.
    PGresult *res = PQexecParams (self->conn,
        "SELECT kind::text, layout::text, state FROM txw_data.scorer_cross_state"
        " WHERE consumer = $1 ORDER BY updated_at", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read cross-account state: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    long restored = 0, other = 0, refused = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        merchants_kind_t kind = (merchants_kind_t) atoi (PQgetvalue (res, i, 0));
        size_t size = merchants_record_size (kind), length = 0;
        unsigned char *bytes = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, i, 2),
                                                &length);
        if (!bytes || !size || atoi (PQgetvalue (res, i, 1)) != merchants_layout (kind)
        ||  length != size + TXW_PSEUDONYM_FINGERPRINT_BYTES
        ||  memcmp (bytes + size, self->fingerprint, TXW_PSEUDONYM_FINGERPRINT_BYTES))
            other++;
        else
        if (merchants_restore (state, kind, bytes, size) == 0)
            restored++;
        else
            refused++;
        PQfreemem (bytes);
    }
    PQclear (res);
    PQfinish (self->conn);              //  the writer has its own
    self->conn = NULL;
    if (other)
        log_warn ("%ld checkpointed merchant, device or visit records of %s were saved under "
                  "another pseudonym key or layout: those start fresh", other, self->consumer);
    if (refused)
        log_warn ("%ld checkpointed merchant, device or visit records not restored (invalid)",
                  refused);
    return restored;
}

static void
s_submit_one (void *arg, merchants_kind_t kind, const void *record)
{
    merchants_checkpoint_t *self = arg;
    txw_copybuf_t *buf = txw_pgwriter_row_begin (self->writer);
    if (!buf)
        return;                 //  counted as dropped by the writer
    txw_copybuf_int (buf, kind);
    txw_copybuf_int (buf, (int64_t) ((const merchants_key_t *) record)->hash);
    txw_copybuf_int (buf, merchants_layout (kind));
    checkpoint_state_field (buf, record, merchants_record_size (kind), self->fingerprint);
    txw_copybuf_end_row (buf);
    txw_pgwriter_row_end (self->writer);
}

size_t
merchants_checkpoint_submit (merchants_checkpoint_t *self, merchants_t *state)
{
    return merchants_collect_dirty (state, s_submit_one, self);
}

int
merchants_checkpoint_drain (merchants_checkpoint_t *self, int timeout_ms)
{
    return txw_pgwriter_drain (self->writer, timeout_ms);
}
