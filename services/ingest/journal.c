/*  journal - txw-ingest's journal in PostgreSQL (txw_data.ingest_journal)

    See journal.h. Rows travel as array parameters (text[], bytea[]) to
    one INSERT ... SELECT FROM unnest, which costs one statement and one
    commit whatever the number of rows. The arrays go in PostgreSQL's
    binary form (array_recv: a header, then each element's length and
    bytes), so neither side escapes, quotes or parses a record.             */

#include "journal.h"
#include "log.h"
#include "pgutil.h"

#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ingest_kind_names [INGEST_KINDS] = { "transaction", "correction" };

//  Rows a claim or a purge takes at once.
#define S_PURGE_BATCH   10000

struct _ingest_journal_t {
    char *url;
    int64_t lease_ms;
    int64_t statement_timeout_ms;
    PGconn *sync;               //  journal writes: commit waits for the WAL
    PGconn *async;              //  acknowledgements, claims, deletes
    PGconn *read;               //  stored transactions, for any thread
    pthread_mutex_t read_lock;
    atomic_bool ready;          //  written by the loop and the keeper
};

static const char *S_ACCEPT_SQL =
    "INSERT INTO txw_data.ingest_journal (tx_id, kind, content_hash, record, lease_until) "
    "SELECT t, $1, h, r, now () + make_interval (secs => $5::bigint / 1000.0) "
    "FROM unnest ($2::text [], $3::bytea [], $4::bytea []) AS u (t, h, r) "
    "ON CONFLICT (tx_id, kind) DO NOTHING "
    "RETURNING tx_id, content_hash";

static const char *S_TAKEN_SQL =
    "SELECT tx_id, content_hash FROM txw_data.ingest_journal "
    "WHERE kind = $1 AND tx_id = ANY ($2::text [])";

static const char *S_ACK_SQL =
    "UPDATE txw_data.ingest_journal SET acked_at = now () "
    "WHERE kind = $1 AND tx_id = ANY ($2::text []) AND acked_at IS NULL";

//  The lease doubles with every send, up to a minute, so records that a
//  stalled pipeline does not acknowledge are not sent again and again.
static const char *S_CLAIM_SQL =
    "UPDATE txw_data.ingest_journal j "
    "SET lease_until = now () + make_interval (secs => "
    "        least ($1::bigint * 2 ^ least (j.sends, 16), 60000) / 1000.0), "
    "    sends = j.sends + 1 "
    "WHERE (j.tx_id, j.kind) IN (SELECT tx_id, kind FROM txw_data.ingest_journal "
    "                            WHERE acked_at IS NULL AND lease_until < now () "
    "                            ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "RETURNING j.kind, j.tx_id, j.record";

static const char *S_PURGE_SQL =
    "DELETE FROM txw_data.ingest_journal WHERE (tx_id, kind) IN ("
    "    SELECT tx_id, kind FROM txw_data.ingest_journal "
    "    WHERE acked_at < now () - make_interval (hours => $1::int) LIMIT $2)";

static const char *S_STORED_SQL =
    "SELECT account_id, (extract (epoch FROM ts) * 1000)::bigint AS ts_ms, status "
    "FROM txw_data.transactions WHERE tx_id = $1 LIMIT 1";

static const char *S_PENDING_SQL =
    "SELECT count (*) FROM txw_data.ingest_journal WHERE acked_at IS NULL";

ingest_journal_t *
ingest_journal_new (const char *url, int64_t lease_ms, int64_t statement_timeout_ms)
{
    ingest_journal_t *self = calloc (1, sizeof *self);
    if (!self || !(self->url = strdup (url))) {
        free (self);
        return NULL;
    }
    self->lease_ms = lease_ms;
    self->statement_timeout_ms = statement_timeout_ms;
    pthread_mutex_init (&self->read_lock, NULL);
    return self;
}

void
ingest_journal_destroy (ingest_journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ingest_journal_t *self = *self_p;
    PQfinish (self->sync);
    PQfinish (self->async);
    PQfinish (self->read);
    pthread_mutex_destroy (&self->read_lock);
    free (self->url);
    free (self);
    *self_p = NULL;
}

//  The connection in *conn, made when missing; NULL if it cannot be.
static PGconn *
s_conn (ingest_journal_t *self, PGconn **conn, bool synchronous)
{
    if (*conn && PQstatus (*conn) == CONNECTION_OK)
        return *conn;
    PQfinish (*conn);
    char setup [160];
    snprintf (setup, sizeof setup, "SET statement_timeout = %lld; SET synchronous_commit = %s",
              (long long) self->statement_timeout_ms, synchronous? "on": "off");
    *conn = txw_pg_connect_session (self->url, setup);
    return *conn;
}

//  Runs sql; logs and drops the connection on failure. NULL on failure.
static PGresult *
s_exec_bin (ingest_journal_t *self, PGconn **conn, bool synchronous, const char *sql, int nparams,
            const char *const *params, const int *lengths, const int *formats, int result_format)
{
    PGconn *c = s_conn (self, conn, synchronous);
    if (!c)
        return NULL;
    PGresult *res = PQexecParams (c, sql, nparams, NULL, params, lengths, formats, result_format);
    ExecStatusType st = PQresultStatus (res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    log_error ("journal: %s", PQresultErrorMessage (res));
    PQclear (res);
    //  Whatever failed, the next call starts on a fresh connection (a
    //  statement timeout leaves it usable, but a broken one is not).
    PQfinish (*conn);
    *conn = NULL;
    return NULL;
}

//  Runs sql with text parameters only.
static PGresult *
s_exec (ingest_journal_t *self, PGconn **conn, bool synchronous, const char *sql, int nparams,
        const char *const *params, int result_format)
{
    return s_exec_bin (self, conn, synchronous, sql, nparams, params, NULL, NULL, result_format);
}

//  --- Arrays in binary form ---------------------------------------------------------

#define S_OID_BYTEA     17
#define S_OID_TEXT      25

static void
s_be32 (msgpack_sbuffer *b, uint32_t v)
{
    char x [4] = { (char) (v >> 24), (char) (v >> 16), (char) (v >> 8), (char) v };
    msgpack_sbuffer_write (b, x, 4);
}

//  Starts a one-dimensional array of count elements of type oid (count >= 1).
static void
s_array_start (msgpack_sbuffer *b, uint32_t oid, uint32_t count)
{
    s_be32 (b, 1);              //  dimensions
    s_be32 (b, 0);              //  no nulls
    s_be32 (b, oid);
    s_be32 (b, count);
    s_be32 (b, 1);              //  lower bound
}

static void
s_array_item (msgpack_sbuffer *b, const void *data, size_t len)
{
    s_be32 (b, (uint32_t) len);
    msgpack_sbuffer_write (b, data, len);
}

typedef struct {
    const char *tx_id;
    uint8_t hash [INGEST_HASH_SIZE];
    bool inserted;              //  by this statement
    bool given;                 //  the inserted one was handed to an entry
} s_found_t;

static int
s_found_cmp (const void *a, const void *b)
{
    return strcmp (((const s_found_t *) a)->tx_id, ((const s_found_t *) b)->tx_id);
}

//  Appends the rows of res (tx_id, content_hash in binary) to found.
static void
s_found_add (const PGresult *res, bool inserted, s_found_t *found, size_t *count)
{
    for (int i = 0; i < PQntuples (res); i++) {
        s_found_t *f = &found [(*count)++];
        f->tx_id = PQgetvalue (res, i, 0);
        memset (f->hash, 0, sizeof f->hash);
        size_t len = (size_t) PQgetlength (res, i, 1);
        memcpy (f->hash, PQgetvalue (res, i, 1), len < INGEST_HASH_SIZE? len: INGEST_HASH_SIZE);
        f->inserted = inserted;
        f->given = false;
    }
}

//  Journals the entries of one kind (indices in idx).
static int
s_accept_kind (ingest_journal_t *self, ingest_kind_t kind, ingest_entry_t *entries,
               const size_t *idx, size_t n)
{
    msgpack_sbuffer ids, hashes, records, rest;
    msgpack_sbuffer_init (&ids);
    msgpack_sbuffer_init (&hashes);
    msgpack_sbuffer_init (&records);
    msgpack_sbuffer_init (&rest);
    s_array_start (&ids, S_OID_TEXT, (uint32_t) n);
    s_array_start (&hashes, S_OID_BYTEA, (uint32_t) n);
    s_array_start (&records, S_OID_BYTEA, (uint32_t) n);
    for (size_t i = 0; i < n; i++) {
        const ingest_entry_t *e = &entries [idx [i]];
        s_array_item (&ids, e->tx_id, strlen (e->tx_id));
        s_array_item (&hashes, e->hash, INGEST_HASH_SIZE);
        s_array_item (&records, e->record, e->record_len);
    }
    int rc = -1;
    PGresult *taken = NULL;
    char lease [24];
    snprintf (lease, sizeof lease, "%lld", (long long) self->lease_ms);
    const char *params [5] = { ingest_kind_names [kind], ids.data, hashes.data, records.data, lease };
    const int lengths [5] = { 0, (int) ids.size, (int) hashes.size, (int) records.size, 0 };
    const int formats [5] = { 0, 1, 1, 1, 0 };
    PGresult *inserted = s_exec_bin (self, &self->sync, true, S_ACCEPT_SQL, 5, params, lengths,
                                     formats, 1);
    s_found_t *found = inserted? calloc (n, sizeof *found): NULL;
    if (!found)
        goto done;
    size_t count = 0;
    s_found_add (inserted, true, found, &count);
    qsort (found, count, sizeof *found, s_found_cmp);
    if (count < n) {
        //  Some ids were taken (or repeated in this request): their
        //  stored hashes say replay or conflict.
        uint32_t asked = 0;
        for (int pass = 0; pass < 2; pass++) {
            if (pass)
                s_array_start (&rest, S_OID_TEXT, asked);
            for (size_t i = 0; i < n; i++) {
                s_found_t key = { .tx_id = entries [idx [i]].tx_id };
                if (bsearch (&key, found, count, sizeof *found, s_found_cmp))
                    continue;
                if (pass)
                    s_array_item (&rest, key.tx_id, strlen (key.tx_id));
                else
                    asked++;
            }
        }
        const char *taken_params [2] = { ingest_kind_names [kind], rest.data };
        const int taken_lengths [2] = { 0, (int) rest.size };
        const int taken_formats [2] = { 0, 1 };
        taken = asked? s_exec_bin (self, &self->sync, true, S_TAKEN_SQL, 2, taken_params,
                                   taken_lengths, taken_formats, 1): NULL;
        if (asked && !taken)
            goto done;
        if (taken)
            s_found_add (taken, false, found, &count);
    }
    qsort (found, count, sizeof *found, s_found_cmp);
    for (size_t i = 0; i < n; i++) {
        ingest_entry_t *e = &entries [idx [i]];
        s_found_t key = { .tx_id = e->tx_id };
        s_found_t *f = bsearch (&key, found, count, sizeof *found, s_found_cmp);
        if (!f || memcmp (f->hash, e->hash, INGEST_HASH_SIZE))
            //  Not found: deleted between the two statements (past the
            //  horizon), so its content is unknown; refused, not guessed.
            e->outcome = INGEST_CONFLICT;
        else
        if (f->inserted && !f->given) {
            e->outcome = INGEST_NEW;
            f->given = true;
        }
        else
            e->outcome = INGEST_REPLAY;
    }
    rc = 0;
done:
    msgpack_sbuffer_destroy (&ids);
    msgpack_sbuffer_destroy (&hashes);
    msgpack_sbuffer_destroy (&records);
    msgpack_sbuffer_destroy (&rest);
    free (found);
    PQclear (inserted);
    PQclear (taken);
    return rc;
}

int
ingest_journal_accept (ingest_journal_t *self, ingest_entry_t *entries, size_t count)
{
    size_t *idx = malloc ((count? count: 1) * sizeof *idx);
    if (!idx)
        return -1;
    int rc = 0;
    for (int kind = 0; kind < INGEST_KINDS && rc == 0; kind++) {
        size_t n = 0;
        for (size_t i = 0; i < count; i++)
            if (entries [i].kind == (ingest_kind_t) kind)
                idx [n++] = i;
        if (n)
            rc = s_accept_kind (self, kind, entries, idx, n);
    }
    free (idx);
    atomic_store (&self->ready, rc == 0);
    return rc;
}

int
ingest_journal_ack (ingest_journal_t *self, ingest_kind_t kind, const char *const *ids,
                    size_t count)
{
    if (!count)
        return 0;
    msgpack_sbuffer list;
    msgpack_sbuffer_init (&list);
    s_array_start (&list, S_OID_TEXT, (uint32_t) count);
    for (size_t i = 0; i < count; i++)
        s_array_item (&list, ids [i], strlen (ids [i]));
    const char *params [2] = { ingest_kind_names [kind], list.data };
    const int lengths [2] = { 0, (int) list.size };
    const int formats [2] = { 0, 1 };
    PGresult *res = s_exec_bin (self, &self->async, false, S_ACK_SQL, 2, params, lengths, formats, 0);
    msgpack_sbuffer_destroy (&list);
    PQclear (res);
    return res? 0: -1;
}

int
ingest_journal_claim (ingest_journal_t *self, size_t limit, ingest_claimed_fn *fn, void *arg)
{
    char lease [24], max [24];
    snprintf (lease, sizeof lease, "%lld", (long long) self->lease_ms);
    snprintf (max, sizeof max, "%zu", limit);
    const char *params [2] = { lease, max };
    PGresult *res = s_exec (self, &self->async, false, S_CLAIM_SQL, 2, params, 1);
    if (!res)
        return -1;
    int n = PQntuples (res);
    for (int i = 0; i < n; i++) {
        const char *kind = PQgetvalue (res, i, 0);
        fn (arg, strcmp (kind, "correction")? INGEST_KIND_TRANSACTION: INGEST_KIND_CORRECTION,
            PQgetvalue (res, i, 1), PQgetvalue (res, i, 2), (size_t) PQgetlength (res, i, 2));
    }
    PQclear (res);
    return n;
}

int64_t
ingest_journal_purge (ingest_journal_t *self, int64_t horizon_h)
{
    char hours [24], batch [24];
    snprintf (hours, sizeof hours, "%lld", (long long) horizon_h);
    snprintf (batch, sizeof batch, "%d", S_PURGE_BATCH);
    const char *params [2] = { hours, batch };
    int64_t total = 0;
    while (true) {
        PGresult *res = s_exec (self, &self->async, false, S_PURGE_SQL, 2, params, 0);
        if (!res)
            return -1;
        int64_t n = atoll (PQcmdTuples (res));
        PQclear (res);
        total += n;
        if (n < S_PURGE_BATCH)
            return total;
    }
}

int64_t
ingest_journal_pending (ingest_journal_t *self)
{
    //  Also what /readyz says between journal writes.
    PGresult *res = s_exec (self, &self->async, false, S_PENDING_SQL, 0, NULL, 0);
    atomic_store (&self->ready, res != NULL);
    int64_t n = res? atoll (PQgetvalue (res, 0, 0)): -1;
    PQclear (res);
    return n;
}

int
ingest_journal_stored (ingest_journal_t *self, const char *tx_id, ingest_stored_t *out)
{
    pthread_mutex_lock (&self->read_lock);
    const char *params [1] = { tx_id };
    PGresult *res = s_exec (self, &self->read, false, S_STORED_SQL, 1, params, 0);
    int rc = res? PQntuples (res) > 0: -1;
    if (rc == 1) {
        snprintf (out->account_id, sizeof out->account_id, "%s", txw_pg_text (res, 0, "account_id"));
        out->ts_ms = txw_pg_int (res, 0, "ts_ms");
        snprintf (out->status, sizeof out->status, "%s", txw_pg_text (res, 0, "status"));
    }
    PQclear (res);
    pthread_mutex_unlock (&self->read_lock);
    return rc;
}

bool
ingest_journal_ready (const ingest_journal_t *self)
{
    return atomic_load (&self->ready);
}
