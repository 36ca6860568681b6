/*  checkpoint - the scorer's per-account history, saved to PostgreSQL

    See checkpoint.h. Writes go through the shared background writer
    (common/pgwriter.h) with newer state winning over older when the queue
    is full; restore reads on a connection of its own, closed after.

    A row's state is the account record followed by the fingerprint of the
    pseudonym key its hashes were made under (common/pii.h), so a scorer
    restores only what its own key can match, and says what it left.      */

#include "checkpoint.h"
#include "log.h"
#include "metrics.h"
#include "pgutil.h"
#include "pgwriter.h"
#include "pii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_QUEUED    (1u << 20)      //  records waiting, at most

//  Bytes of a row's state: the record, then the key's fingerprint.
#define S_STATE_SIZE    (sizeof (profiles_account_t) + TXW_PSEUDONYM_FINGERPRINT_BYTES)

struct _checkpoint_t {
    char consumer [64];
    uint8_t fingerprint [TXW_PSEUDONYM_FINGERPRINT_BYTES];
    PGconn *conn;               //  for restore only, closed after it
    txw_pgwriter_t *writer;
};

void
checkpoint_state_field (txw_copybuf_t *b, const void *record, size_t size,
                        const uint8_t *fingerprint)
{
    static const char hex [] = "0123456789abcdef";
    char state [3 + 2 * (CHECKPOINT_RECORD_MAX + TXW_PSEUDONYM_FINGERPRINT_BYTES)];
    size_t o = 0;
    state [o++] = '\\';
    state [o++] = '\\';
    state [o++] = 'x';
    for (size_t part = 0; part < 2; part++) {
        const uint8_t *bytes = part? fingerprint: record;
        size_t n = part? TXW_PSEUDONYM_FINGERPRINT_BYTES: size < CHECKPOINT_RECORD_MAX?
                                                          size: CHECKPOINT_RECORD_MAX;
        for (size_t i = 0; i < n; i++) {
            state [o++] = hex [bytes [i] >> 4];
            state [o++] = hex [bytes [i] & 15];
        }
    }
    txw_copybuf_raw (b, state, o);
}

//  One row: the hash as a signed bigint, the layout, the record and the
//  key's fingerprint as hex bytea.
static void
s_row (txw_copybuf_t *b, const profiles_account_t *record, const uint8_t *fingerprint)
{
    txw_copybuf_int (b, (int64_t) record->hash);
    txw_copybuf_int (b, PROFILES_LAYOUT);
    checkpoint_state_field (b, record, sizeof *record, fingerprint);
    txw_copybuf_end_row (b);
}

checkpoint_t *
checkpoint_new (const char *database_url, const char *consumer, bool migrate)
{
    checkpoint_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->consumer, sizeof self->consumer, "%s", consumer);
    txw_pseudonym_fingerprint (self->fingerprint);
    if (migrate && txw_pg_migrate_url (database_url) < 0)
        goto err;
    self->conn = txw_pg_connect (database_url);
    if (!self->conn)
        goto err;
    txw_pgwriter_config_t config = {
        .name = "checkpoints",
        //  Checkpoints queued at different times can share a batch: the
        //  latest row of an account (n, the order COPY read them) wins.
        .stage_sql = "CREATE TEMP TABLE IF NOT EXISTS stage_state"
                     " (account_hash bigint, layout int, state bytea, n bigserial)"
                     " ON COMMIT DELETE ROWS",
        .copy_sql = "COPY stage_state (account_hash, layout, state) FROM STDIN",
        .apply_sql = "INSERT INTO txw_data.scorer_state AS s (consumer, account_hash, layout, state)"
                     " SELECT DISTINCT ON (account_hash) $1, account_hash, layout, state"
                     " FROM stage_state ORDER BY account_hash, n DESC"
                     " ON CONFLICT (consumer, account_hash) DO UPDATE SET layout = excluded.layout,"
                     " state = excluded.state, updated_at = now()",
        .apply_param = self->consumer,
        .max_rows = S_MAX_QUEUED,
        .newest_wins = true,
        .metrics = {
            txw_counter_new ("txw_checkpointed_accounts_total", NULL,
                             "account records written to txw_data.scorer_state"),
            txw_counter_new ("txw_checkpoint_dropped_total", NULL,
                             "account records dropped: the database was away too long"),
            txw_counter_new ("txw_checkpoint_failures_total", NULL,
                             "checkpoint writes that failed and are retried"),
            txw_gauge_new ("txw_checkpoint_waiting", NULL,
                           "account records waiting to be written")
        }
    };
    self->writer = txw_pgwriter_new (database_url, &config);
    if (!self->writer)
        goto err;
    return self;
err:
    checkpoint_destroy (&self);
    return NULL;
}

//  The rows this scorer can use: its consumer's, of this layout or the
//  two before it of the same size ($5, $6: profiles_upgrade), made under
//  this key. $3 is the state's size, $4 the fingerprint in hex.
#define S_USABLE "consumer = $1 AND layout IN ($2::int, $5::int, $6::int)" \
                 " AND length (state) = $3::int" \
                 " AND substring (state FROM $3::int - 7) = decode ($4, 'hex')"

//  The home country took what was the record's tail padding in layout
//  PROFILES_LAYOUT_NO_HOME, near_mask the last slot of tx_seen in
//  PROFILES_LAYOUT_TX16: the same size, so those rows restore upgraded.
_Static_assert (PROFILES_LAYOUT - 6000 == PROFILES_LAYOUT_TX16 - 4000
                && PROFILES_LAYOUT_TX16 - 4000 == PROFILES_LAYOUT_NO_HOME - 2000,
                "the record changed size: layouts 4256 and 2256 can no longer be read as it");

//  Says how many of the consumer's rows were left: made under another key,
//  or of an older layout (plain FNV-1a hashes). Their accounts start fresh.
static void
s_report_unusable (checkpoint_t *self, const char *const *params)
{
    PGresult *res = PQexecParams (self->conn,
        "SELECT count (*) FILTER (WHERE layout IN ($2::int, $5::int, $6::int)) AS other_key,"
        " count (*) FILTER (WHERE layout NOT IN ($2::int, $5::int, $6::int)) AS other_layout"
        " FROM txw_data.scorer_state WHERE consumer = $1 AND NOT (" S_USABLE ")",
        6, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_warn ("cannot count the account state left: %s", PQresultErrorMessage (res));
        PQclear (res);
        return;
    }
    long other_key = (long) txw_pg_int (res, 0, "other_key");
    long other_layout = (long) txw_pg_int (res, 0, "other_layout");
    PQclear (res);
    if (other_key || other_layout)
        log_warn ("%ld checkpointed accounts of %s were saved under another pseudonym key "
                  "and %ld with an older layout (unkeyed hashes): they cannot be matched to "
                  "accounts under key %s, so those accounts start fresh; the rows stay until "
                  "deleted (ARCHITECTURE.md, Pseudonyms)", other_key, self->consumer,
                  other_layout, txw_pseudonym_fingerprint_hex ());
}

long
checkpoint_restore (checkpoint_t *self, profiles_t *profiles)
{
    if (!self->conn)
        return -1;
    char layout [16], size [16], fingerprint [2 * TXW_PSEUDONYM_FINGERPRINT_BYTES + 1];
    char no_home [16], tx16 [16];
    snprintf (layout, sizeof layout, "%d", PROFILES_LAYOUT);
    snprintf (no_home, sizeof no_home, "%d", PROFILES_LAYOUT_NO_HOME);
    snprintf (tx16, sizeof tx16, "%d", PROFILES_LAYOUT_TX16);
    snprintf (size, sizeof size, "%zu", S_STATE_SIZE);
    for (int i = 0; i < TXW_PSEUDONYM_FINGERPRINT_BYTES; i++)
        snprintf (fingerprint + 2 * i, 3, "%02x", self->fingerprint [i]);
    const char *params [] = { self->consumer, layout, size, fingerprint, no_home, tx16 };
    s_report_unusable (self, params);
    //  Binary results: the state arrives as its bytes, the layout as a
    //  big-endian 4-byte integer.
    PGresult *res = PQexecParams (self->conn,
        "SELECT layout, state FROM txw_data.scorer_state"
        " WHERE " S_USABLE " ORDER BY updated_at",
        6, NULL, params, NULL, NULL, 1);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read account state: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    long restored = 0, refused = 0;
    int state = txw_pg_column (res, "state");
    int layout_column = txw_pg_column (res, "layout");
    for (int i = 0; i < PQntuples (res) && state >= 0 && layout_column >= 0; i++) {
        profiles_account_t record;
        const char *bytes = PQgetvalue (res, i, state);
        const unsigned char *be = (const unsigned char *) PQgetvalue (res, i, layout_column);
        if (PQgetlength (res, i, state) != (int) S_STATE_SIZE
        ||  PQgetlength (res, i, layout_column) != 4
        ||  memcmp (bytes + sizeof record, self->fingerprint, TXW_PSEUDONYM_FINGERPRINT_BYTES)) {
            refused++;
            continue;
        }
        int row_layout = (int) ((uint32_t) be [0] << 24 | (uint32_t) be [1] << 16
                              | (uint32_t) be [2] << 8 | be [3]);
        memcpy (&record, bytes, sizeof record);
        if (profiles_upgrade (&record, row_layout) == 0
        &&  profiles_restore (profiles, &record) == 0)
            restored++;
        else
            refused++;
    }
    PQclear (res);
    PQfinish (self->conn);              //  the writer has its own
    self->conn = NULL;
    if (refused)
        log_warn ("%ld checkpointed accounts not restored (table full or invalid)", refused);
    return restored;
}

void
checkpoint_submit (checkpoint_t *self, const profiles_account_t *records, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        txw_copybuf_t *buf = txw_pgwriter_row_begin (self->writer);
        if (!buf)
            continue;               //  counted as dropped by the writer
        s_row (buf, &records [i], self->fingerprint);
        txw_pgwriter_row_end (self->writer);
    }
}

int
checkpoint_drain (checkpoint_t *self, int timeout_ms)
{
    return txw_pgwriter_drain (self->writer, timeout_ms);
}

bool
checkpoint_healthy (const checkpoint_t *self)
{
    return txw_pgwriter_healthy (self->writer);
}

void
checkpoint_destroy (checkpoint_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    checkpoint_t *self = *self_p;
    txw_pgwriter_destroy (&self->writer);
    PQfinish (self->conn);
    free (self);
    *self_p = NULL;
}
