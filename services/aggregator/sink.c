/*  sink - the aggregator's writes to PostgreSQL, one transaction per flush   */

#include "sink.h"
#include "accounts.h"
#include "baskets.h"
#include "alertjson.h"
#include "clock.h"
#include "deadletter.h"
#include "txrow.h"
#include "windowrow.h"
#include "log.h"
#include "metrics.h"
#include "pgutil.h"
#include "pii.h"
#include "rejects.h"
#include "reasons.h"
#include "txset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#define S_MAX_SOURCES 256

//  A set of days (since 1970-01-01, UTC), sorted and grown as needed: the
//  days a flush needs partitions for, and those known to have one. A file
//  may span years, so neither has a fixed size.
typedef struct {
    int64_t *day;
    size_t count;
    size_t capacity;
} s_days_t;

//  The position of day in set, or where it would go.
static size_t
s_days_at (const s_days_t *set, int64_t day)
{
    size_t low = 0, high = set->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (set->day [mid] < day)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

static bool
s_days_has (const s_days_t *set, int64_t day)
{
    size_t at = s_days_at (set, day);
    return at < set->count && set->day [at] == day;
}

//  Adds day; returns -1 if out of memory.
static int
s_days_add (s_days_t *set, int64_t day)
{
    size_t at = s_days_at (set, day);
    if (at < set->count && set->day [at] == day)
        return 0;
    if (set->count == set->capacity) {
        size_t capacity = set->capacity? set->capacity * 2: 64;
        int64_t *grown = realloc (set->day, capacity * sizeof *grown);
        if (!grown)
            return -1;
        set->day = grown;
        set->capacity = capacity;
    }
    memmove (set->day + at + 1, set->day + at, (set->count - at) * sizeof *set->day);
    set->day [at] = day;
    set->count++;
    return 0;
}

//  A CURVE public key in Z85 (TXW_CURVE_KEY_LEN).
#define S_KEY_MAX 40

typedef struct {
    char name [TXW_NAME_MAX * 2 + 1];
    uint64_t epoch;
    uint64_t seq;
    char key [S_KEY_MAX + 1];   //  the sender's CURVE key (Z85); "" for none
    bool dirty;
    //  As of the last flush the server answered COMMIT to.
    uint64_t committed_epoch;
    uint64_t committed_seq;
    bool committed;
} s_checkpoint_t;

struct _sink_t {
    char *url;
    char consumer [64];
    sink_store_t mode;
    uint32_t shard;
    int flag_threshold;
    PGconn *conn;
    int healthy;                //  read by the admin thread
    //  The last flush's failure, for readiness (the admin thread reads it
    //  under the lock) and the dead letters of refused rows.
    pthread_mutex_t status_lock;
    bool failing;
    char error_state [6];
    char error_text [256];
    bool careful;               //  the next flush writes rows one by one
    bool lock_timed_out;        //  the failing try could not make a partition in time
    txw_copybuf_t quarantine_rows;
    int64_t retry_at_ms;
    int64_t backoff_ms;

    txw_copybuf_t tx_rows;
    txw_copybuf_t alert_rows;
    txw_copybuf_t dead_rows;
    txw_copybuf_t window_rows;
    txw_copybuf_t window_additions;    //  to windows no longer in memory
    txw_copybuf_t seen_rows;           //  txw_data.tx_seen
    int64_t seen_next;                 //  seq of the next one
    int64_t seen_capacity;
    accounts_t *accounts;   //  NULL when customer totals are off
    txw_copybuf_t account_rows;
    txw_copybuf_t account_month_rows;
    txw_copybuf_t basket_rows;  //  purchases of orders (with the accounts)
    txw_copybuf_t correction_rows;          //  txw_data.tx_corrections
    txw_copybuf_t window_correction_rows;   //  to windows no longer in memory

    s_days_t days_known;        //  have a partition
    s_days_t days_needed;       //  by the rows of this flush, not yet known
    int64_t last_day;           //  of the last row added, known or needed

    s_checkpoint_t sources [S_MAX_SOURCES];
    int source_count;
    int64_t max_event_written;  //  as committed in txw_data.shard_state
    //  The connection was lost during COMMIT: whether that flush is stored
    //  is known only once the checkpoints are read back (s_resolve_commit).
    bool commit_unknown;
    int64_t unknown_max_event;  //  what that flush wrote as the shard's newest event
    //  Commits are asynchronous (not waiting for the WAL to reach disk),
    //  so what a commit holds is acknowledged only once the server's WAL
    //  is flushed past it (commit_lsn, sink_durable_lsn); a new connection
    //  first checks that the server still has every commit it answered
    //  (verify), since a crash loses the ones not yet on disk.
    uint64_t commit_lsn;
    bool had_conn;
    bool verify;
    bool lost;

    txw_counter_t *stored_tx;
    txw_counter_t *stored_windows;
    txw_counter_t *window_additions_stored;
    txw_counter_t *stored_alerts;
    txw_counter_t *stored_accounts;
    txw_counter_t *flushes;
    txw_counter_t *duplicate_batches;
    txw_counter_t *flush_errors;
    txw_counter_t *lock_timeouts;
    txw_counter_t *refused_rows;
    txw_counter_t *stored_corrections;
    txw_histogram_t *flush_time;
};

sink_t *
sink_new (const char *database_url, const char *consumer,
              sink_store_t mode, uint32_t shard, int flag_threshold,
              bool accounts)
{
    if (!database_url || !*database_url)
        return NULL;
    sink_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (database_url);
    snprintf (self->consumer, sizeof self->consumer, "%s", consumer);
    self->mode = mode;
    self->shard = shard;
    self->flag_threshold = flag_threshold;
    self->last_day = INT64_MIN;
    self->backoff_ms = 100;
    txw_copybuf_init (&self->tx_rows);
    txw_copybuf_init (&self->alert_rows);
    txw_copybuf_init (&self->dead_rows);
    txw_copybuf_init (&self->window_rows);
    txw_copybuf_init (&self->window_additions);
    txw_copybuf_init (&self->seen_rows);
    txw_copybuf_init (&self->quarantine_rows);
    pthread_mutex_init (&self->status_lock, NULL);
    txw_copybuf_init (&self->account_rows);
    txw_copybuf_init (&self->account_month_rows);
    txw_copybuf_init (&self->basket_rows);
    txw_copybuf_init (&self->correction_rows);
    txw_copybuf_init (&self->window_correction_rows);
    if (accounts && !(self->accounts = accounts_new (flag_threshold))) {
        sink_destroy (&self);
        return NULL;
    }
    self->stored_tx = txw_counter_new ("txw_stored_transactions_total", NULL,
                                       "scored transactions written to PostgreSQL");
    self->stored_windows = txw_counter_new ("txw_stored_windows_total", NULL,
                                            "window rows upserted");
    self->window_additions_stored = txw_counter_new ("txw_stored_window_additions_total", NULL,
        "rows added to stored windows for transactions older than the windows in memory");
    self->stored_alerts = txw_counter_new ("txw_stored_alerts_total", NULL,
                                           "alerts written (before de-duplication)");
    self->stored_accounts = txw_counter_new ("txw_stored_account_updates_total", NULL,
                                             "account totals added to txw_data.accounts");
    self->duplicate_batches = txw_counter_new ("txw_duplicate_tx_batches_total", NULL,
        "transaction batches holding an already stored tx_id (written through ON CONFLICT)");
    self->flushes = txw_counter_new ("txw_flushes_total", NULL, "database transactions committed");
    self->refused_rows = txw_counter_new ("txw_refused_rows_total", NULL,
        "rows PostgreSQL refused (a data error), stored as dead letters db_refused");
    self->flush_errors = txw_counter_new ("txw_flush_errors_total", NULL,
                                          "database flushes that failed and will be retried");
    self->lock_timeouts = txw_counter_new ("txw_partition_lock_timeouts_total", NULL,
        "flushes that could not make a partition within its lock_timeout (a lock held on the "
        "partitioned table, such as a backup's): rolled back and retried");
    self->stored_corrections = txw_counter_new ("txw_stored_corrections_total", NULL,
        "corrections written to txw_data.tx_corrections (with the changes they make)");
    self->flush_time = txw_histogram_new ("txw_flush_seconds", "time of one database flush");
    return self;
}

void
sink_destroy (sink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sink_t *self = *self_p;
    PQfinish (self->conn);
    txw_copybuf_fini (&self->tx_rows);
    txw_copybuf_fini (&self->alert_rows);
    txw_copybuf_fini (&self->dead_rows);
    txw_copybuf_fini (&self->window_rows);
    txw_copybuf_fini (&self->window_additions);
    txw_copybuf_fini (&self->seen_rows);
    txw_copybuf_fini (&self->quarantine_rows);
    pthread_mutex_destroy (&self->status_lock);
    txw_copybuf_fini (&self->account_rows);
    txw_copybuf_fini (&self->account_month_rows);
    txw_copybuf_fini (&self->basket_rows);
    txw_copybuf_fini (&self->correction_rows);
    txw_copybuf_fini (&self->window_correction_rows);
    accounts_destroy (&self->accounts);
    free (self->days_known.day);
    free (self->days_needed.day);
    free (self->url);
    free (self);
    *self_p = NULL;
}

bool
sink_status (sink_t *self, char *detail, size_t size)
{
    if (!__atomic_load_n (&self->healthy, __ATOMIC_RELAXED)) {
        snprintf (detail, size, "{\"postgres\":\"unreachable\"}");
        return false;
    }
    pthread_mutex_lock (&self->status_lock);
    bool failing = self->failing;
    char text [sizeof self->error_text * 2];
    txw_json_escape (text, sizeof text, self->error_text, strlen (self->error_text));
    if (failing)
        snprintf (detail, size, "{\"postgres\":\"flushes failing\",\"sqlstate\":\"%s\","
                  "\"error\":\"%s\"}", self->error_state, text);
    else
        snprintf (detail, size, "{\"postgres\":\"ok\"}");
    pthread_mutex_unlock (&self->status_lock);
    return !failing;
}

//  Keeps what went wrong for readiness and the dead letters, and logs it.
static void
s_failed (sink_t *self, const char *state, const char *text)
{
    pthread_mutex_lock (&self->status_lock);
    snprintf (self->error_state, sizeof self->error_state, "%s", state);
    snprintf (self->error_text, sizeof self->error_text, "%s", text);
    pthread_mutex_unlock (&self->status_lock);
    log_error ("SQL failed (SQLSTATE %s): %s", state, text);
    //  lock_not_available: only making a partition has a lock_timeout
    //  (proto/sql/029).
    if (!strcmp (state, "55P03"))
        self->lock_timed_out = true;
}

static void
s_set_failing (sink_t *self, bool failing)
{
    pthread_mutex_lock (&self->status_lock);
    self->failing = failing;
    pthread_mutex_unlock (&self->status_lock);
}

static void
s_set_healthy (sink_t *self, bool healthy)
{
    __atomic_store_n (&self->healthy, healthy? 1: 0, __ATOMIC_RELAXED);
}

size_t
sink_pending (const sink_t *self)
{
    return self->tx_rows.rows + self->alert_rows.rows + self->dead_rows.rows
         + self->window_additions.rows + self->seen_rows.rows + self->basket_rows.rows
         + self->correction_rows.rows + self->window_correction_rows.rows
         + (self->accounts? accounts_size (self->accounts): 0);
}

//  Staging tables live as long as the connection and empty at each commit.
static const char *s_stage_sql =
    "CREATE TEMP TABLE IF NOT EXISTS stage_tx"
    " (LIKE txw_data.transactions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS stage_windows"
    " (LIKE txw_data.windows INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS stage_window_additions"
    " (LIKE txw_data.windows INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS stage_alerts ("
    " dedupe_key text, kind text, tx_id text, ts timestamptz, account_id text,"
    " score smallint, reasons text[], amount_minor bigint, currency char(3),"
    " amount_rep_minor bigint, merchant_id text, country char(2), channel text,"
    " region text, message text, model_version text, raised_at timestamptz)"
    " ON COMMIT DELETE ROWS;"
    TXW_DEADLETTER_STAGE_SQL
    "CREATE TEMP TABLE IF NOT EXISTS stage_accounts"
    " (LIKE txw_data.accounts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS stage_account_months"
    " (LIKE txw_data.account_months) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS stage_corrections"
    " (LIKE txw_data.tx_corrections INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS stage_window_corrections ("
    " dimension text, key text, window_start timestamptz, shard int, approved bigint,"
    " approved_amount_minor_sum bigint) ON COMMIT DELETE ROWS;"
    BASKETS_STAGE_SQL;

//  Every account with new transactions is stale (proto/sql/021) until the
//  rescoring job takes it. The accounts of a flush are staged anyway, and
//  one already stale costs one index probe: the first mark's since stays.
//  A delta without transactions is a correction's, marked by it.
#define S_STALE_ON_TRANSACTIONS                                                 \
    "INSERT INTO txw_data.stale_accounts (account_id, reason)"                 \
    " SELECT account_id, 'transaction' FROM stage_accounts WHERE tx_count > 0" \
    " ON CONFLICT DO NOTHING"
//  A correction: its row (one per transaction: a second one is never
//  staged, see aggregator.c), the transaction's status, a chargeback's
//  fraud label and the account's stale mark. The totals it changes are
//  written by the window and account steps of the same flush.
#define S_CORRECTION_COLUMNS                                                    \
    "tx_id, ts, account_id, previous_status, status, amount_rep_minor, actor, reason," \
    " corrected_at, shard"
#define S_CORRECTION_APPLY                                                      \
    "INSERT INTO txw_data.tx_corrections (" S_CORRECTION_COLUMNS ")"           \
    " SELECT " S_CORRECTION_COLUMNS " FROM stage_corrections;"                 \
    "UPDATE txw_data.transactions t SET status = s.status FROM stage_corrections s" \
    " WHERE t.tx_id = s.tx_id AND t.ts = s.ts;"                                \
    "INSERT INTO txw_data.labels (tx_id, source, ts, account_id, label, detail, set_by, set_at)" \
    " SELECT tx_id, 'chargeback', ts, account_id, 'fraud', reason, actor, corrected_at" \
    " FROM stage_corrections WHERE status = 'charged_back' ON CONFLICT DO NOTHING;" \
    "INSERT INTO txw_data.stale_accounts (account_id, reason)"                 \
    " SELECT DISTINCT account_id, 'correction' FROM stage_corrections ON CONFLICT DO NOTHING"
//  What corrections take out of stored windows no longer in memory, summed
//  by window first (an UPDATE changes a row once a statement). Only rows
//  that exist change: a correction's window is stored, or its rows were
//  dropped by the retention and there is nothing left to correct. The
//  rollups follow through 016's trigger on UPDATE.
#define S_WINDOW_CORRECT                                                        \
    "UPDATE txw_data.windows w SET approved = w.approved + d.approved,"        \
    " approved_amount_minor_sum = w.approved_amount_minor_sum + d.approved_amount_minor_sum," \
    " updated_at = now() FROM (SELECT dimension, key, window_start, shard,"    \
    " sum(approved) AS approved, sum(approved_amount_minor_sum) AS approved_amount_minor_sum" \
    " FROM stage_window_corrections GROUP BY dimension, key, window_start, shard) d" \
    " WHERE w.dimension = d.dimension AND w.key = d.key"                       \
    " AND w.window_start = d.window_start AND w.shard = d.shard"

//  The statements that move staged rows into place.
#define S_TX_INSERT                                                             \
    "INSERT INTO txw_data.transactions SELECT * FROM stage_tx ON CONFLICT DO NOTHING"
#define S_ACCOUNT_COLUMNS                                                       \
    "account_id, tx_count, spend_rep_minor, approved_rep_minor, approved, declined, failed," \
    " flagged, score_sum, max_score, first_seen, last_seen"
#define S_ACCOUNT_UPSERT                                                        \
    "INSERT INTO txw_data.accounts AS a SELECT * FROM stage_accounts"          \
    " ON CONFLICT (account_id) DO UPDATE SET"                                  \
    " tx_count = a.tx_count + excluded.tx_count,"                              \
    " spend_rep_minor = a.spend_rep_minor + excluded.spend_rep_minor,"         \
    " approved_rep_minor = a.approved_rep_minor + excluded.approved_rep_minor," \
    " approved = a.approved + excluded.approved,"                              \
    " declined = a.declined + excluded.declined,"                              \
    " failed = a.failed + excluded.failed,"                                    \
    " flagged = a.flagged + excluded.flagged,"                                 \
    " score_sum = a.score_sum + excluded.score_sum,"                           \
    " max_score = greatest (a.max_score, excluded.max_score),"                 \
    " first_seen = least (a.first_seen, excluded.first_seen),"                 \
    " last_seen = greatest (a.last_seen, excluded.last_seen),"                 \
    " updated_at = now();"                                                     \
    S_STALE_ON_TRANSACTIONS
#define S_ACCOUNT_MONTH_UPSERT                                                  \
    "INSERT INTO txw_data.account_months AS a SELECT * FROM stage_account_months" \
    " ON CONFLICT (account_id, month) DO UPDATE SET"                           \
    " tx_count = a.tx_count + excluded.tx_count,"                              \
    " approved = a.approved + excluded.approved,"                              \
    " spend_rep_minor = a.spend_rep_minor + excluded.spend_rep_minor,"         \
    " approved_rep_minor = a.approved_rep_minor + excluded.approved_rep_minor"
//  Alerts are partitioned by month of ts (proto/sql/019): the months of the
//  staged ones are made first, and the key fixes ts, so (dedupe_key, ts)
//  is as unique as the key.
#define S_ALERT_INSERT                                                          \
    "SELECT txw_data.ensure_event_partition ('alerts', m) FROM (SELECT DISTINCT" \
    " date_trunc ('month', ts, 'UTC') AS m FROM stage_alerts) months ORDER BY m;" \
    "INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, account_id, score," \
    " reasons, amount_minor, currency, amount_rep_minor, merchant_id, country," \
    " channel, region, message, model_version, raised_at)"                     \
    " SELECT * FROM stage_alerts ON CONFLICT (dedupe_key, ts) DO NOTHING"

//  A WAL position as PostgreSQL prints it (hex "X/Y") as one number.
static uint64_t
s_lsn (const char *text)
{
    unsigned long long hi = 0, lo = 0;
    if (sscanf (text, "%llx/%llx", &hi, &lo) != 2)
        return UINT64_MAX;
    return (uint64_t) hi << 32 | (uint64_t) lo;
}

//  Runs sql, whose last statement selects one WAL position as text.
//  Returns 0 with *lsn, or -1 (res status kept in the log by the caller).
static int
s_query_lsn (sink_t *self, const char *sql, uint64_t *lsn)
{
    PGresult *res = PQexec (self->conn, sql);
    int rc = -1;
    if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1) {
        *lsn = s_lsn (PQgetvalue (res, 0, 0));
        rc = 0;
    }
    else
        log_error ("SQL failed: %s", PQresultErrorMessage (res));
    PQclear (res);
    return rc;
}

//  This shard's checkpoints as stored: source, epoch, seq, sender_key. NULL (logged)
//  if they cannot be read.
static PGresult *
s_read_checkpoints (sink_t *self)
{
    const char *params [] = { self->consumer };
    PGresult *res = PQexecParams (self->conn,
        "SELECT source, epoch, seq, sender_key FROM txw_data.checkpoints WHERE consumer = $1",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read checkpoints: %s", PQresultErrorMessage (res));
        PQclear (res);
        return NULL;
    }
    return res;
}

static int
s_connect (sink_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return 0;
    PQfinish (self->conn);
    self->conn = txw_pg_connect_session (self->url, s_stage_sql);
    if (!self->conn || txw_pg_exec (self->conn, "SET synchronous_commit = off")) {
        PQfinish (self->conn);
        self->conn = NULL;
        s_set_healthy (self, false);
        return -1;
    }
    //  A connection lost: did the server keep what it said it committed?
    if (self->had_conn)
        self->verify = true;
    self->had_conn = true;
    //  Partitions may have been made by another shard meanwhile: ask again.
    self->days_known.count = 0;
    self->last_day = INT64_MIN;
    s_set_healthy (self, true);
    return 0;
}

static s_checkpoint_t *
s_source (sink_t *self, const char *name, size_t len, bool create)
{
    if (len >= sizeof self->sources [0].name)
        len = sizeof self->sources [0].name - 1;
    for (int i = 0; i < self->source_count; i++)
        if (strlen (self->sources [i].name) == len
        &&  memcmp (self->sources [i].name, name, len) == 0)
            return &self->sources [i];
    if (!create || self->source_count == S_MAX_SOURCES)
        return NULL;
    s_checkpoint_t *src = &self->sources [self->source_count++];
    memcpy (src->name, name, len);
    src->name [len] = 0;
    return src;
}

bool
sink_seen (sink_t *self, const char *source, size_t len,
               uint64_t epoch, uint64_t seq, uint64_t *missing)
{
    *missing = 0;
    s_checkpoint_t *src = s_source (self, source, len, false);
    if (!src || src->epoch != epoch)
        return false;
    if (seq <= src->seq)
        return true;
    *missing = seq - src->seq - 1;
    return false;
}

void
sink_applied (sink_t *self, const char *source, size_t len,
                  uint64_t epoch, uint64_t seq, const char *key)
{
    s_checkpoint_t *src = s_source (self, source, len, true);
    if (!src)
        return;                 //  more upstreams than slots: not checkpointed
    if (epoch > src->epoch || (epoch == src->epoch && seq > src->seq)) {
        src->epoch = epoch;
        src->seq = seq;
        snprintf (src->key, sizeof src->key, "%s", key && strlen (key) == S_KEY_MAX? key: "");
        src->dirty = true;
    }
}

void
sink_each_key (sink_t *self, sink_key_fn *fn, void *arg)
{
    for (int i = 0; i < self->source_count; i++)
        if (*self->sources [i].key)
            fn (arg, self->sources [i].name, strlen (self->sources [i].name),
                self->sources [i].key);
}

int
sink_start (sink_t *self, bool migrate, windows_t *windows,
                int64_t retention_ms)
{
    //  Before s_connect: its staging tables are made LIKE the schema's.
    if (migrate && txw_pg_migrate_url (self->url) < 0)
        return -1;
    if (s_connect (self))
        return -1;
    PGresult *res = s_read_checkpoints (self);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples (res); i++) {
        const char *name = txw_pg_text (res, i, "source");
        s_checkpoint_t *src = s_source (self, name, strlen (name), true);
        if (src) {
            src->epoch = strtoull (txw_pg_text (res, i, "epoch"), NULL, 10);
            src->seq = strtoull (txw_pg_text (res, i, "seq"), NULL, 10);
            const char *key = txw_pg_text (res, i, "sender_key");
            snprintf (src->key, sizeof src->key, "%s", strlen (key) == S_KEY_MAX? key: "");
            src->committed_epoch = src->epoch;
            src->committed_seq = src->seq;
            src->committed = true;
        }
    }
    PQclear (res);

    char shard [16], retention [32];
    snprintf (shard, sizeof shard, "%u", self->shard);
    snprintf (retention, sizeof retention, "%lld", (long long) retention_ms);
    const char *wparams [] = { shard, retention };
    char select [2300];
    snprintf (select, sizeof select,
        "SELECT %s FROM txw_data.windows WHERE shard = $1::int AND window_start >="
        " (SELECT max(window_start) FROM txw_data.windows WHERE shard = $1::int)"
        "   - make_interval(secs => $2::bigint / 1000.0) - interval '1 hour'",
        txw_windowrow_sql ()->select);
    res = PQexecParams (self->conn, select, 2, NULL, wparams, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read windows: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    txw_windowrow_cols_t cols;
    if (txw_windowrow_columns (res, &cols)) {
        log_error ("cannot read windows: a column of txw_data.windows is missing");
        PQclear (res);
        return -1;
    }
    for (int i = 0; i < PQntuples (res); i++) {
        txw_window_t row;
        if (txw_windowrow_decode (res, i, &cols, &row) == 0)
            windows_restore (windows, row.dimension, &row);
    }
    int restored = PQntuples (res);
    PQclear (res);
    const char *params [] = { self->consumer };
    res = PQexecParams (self->conn,
        "SELECT max_event_ms FROM txw_data.shard_state WHERE consumer = $1",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read shard state: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    if (PQntuples (res) == 1)
        windows_set_max_event (windows, txw_pg_int (res, 0, "max_event_ms"));
    PQclear (res);
    self->max_event_written = windows_max_event (windows);
    log_info ("shard %u resumed: %d checkpoints, %d recent window rows",
              self->shard, self->source_count, restored);
    return 0;
}

//  --- Buffering -----------------------------------------------------------------

static void
s_need_day (sink_t *self, int64_t ts_ms)
{
    int64_t day = ts_ms >= 0? ts_ms / 86400000: (ts_ms - 86399999) / 86400000;
    if (day == self->last_day)
        return;                 //  the usual case: the same day as before
    self->last_day = day;
    if (s_days_has (&self->days_known, day))
        return;
    if (s_days_add (&self->days_needed, day))
        log_error ("out of memory: the partition for day %lld may be missing",
                   (long long) day);
}

void
sink_add_tx (sink_t *self, const txw_tx_t *tx)
{
    if (self->accounts) {
        accounts_add (self->accounts, tx);
        baskets_add (&self->basket_rows, tx, self->shard);
    }
    if (self->mode == SINK_STORE_NONE
    || (self->mode == SINK_STORE_FLAGGED && tx->score < self->flag_threshold))
        return;
    s_need_day (self, tx->ts_ms);
    txw_txrow_copy (&self->tx_rows, tx, self->shard);
}

void
sink_add_alert (sink_t *self, const txw_alert_t *a)
{
    txw_copybuf_t *b = &self->alert_rows;
    char key [TXW_ALERT_KEY_MAX];
    txw_alert_key (a, key, sizeof key);
    txw_copybuf_str (b, key);
    txw_copybuf_str (b, a->kind);
    txw_copybuf_str (b, a->tx_id);
    txw_copybuf_ts_ms (b, a->ts_ms);
    txw_copybuf_str (b, a->account_id);
    txw_copybuf_int (b, a->score);
    txw_txrow_copy_reasons (b, a->reasons);
    txw_copybuf_int (b, a->amount_minor);
    if (a->currency [0])
        txw_copybuf_str (b, a->currency);
    else
        txw_copybuf_null (b);
    txw_copybuf_int (b, a->amount_rep_minor);
    txw_copybuf_str (b, a->merchant_id);
    if (a->country [0])
        txw_copybuf_str (b, a->country);
    else
        txw_copybuf_null (b);
    txw_copybuf_str (b, txw_channel_name (a->channel));
    txw_copybuf_str (b, a->region);
    txw_copybuf_str (b, a->message);
    txw_copybuf_str (b, a->model_version);
    txw_copybuf_ts_ms (b, a->raised_ms);
    txw_copybuf_end_row (b);
}

void
sink_add_dead_letter (sink_t *self, const txw_reject_t *r)
{
    txw_deadletter_row (&self->dead_rows, r);
}

int
sink_load_seen (sink_t *self, txw_txset_t *set, uint64_t key [2])
{
    char shard [16], k0 [24], k1 [24], limit [24];
    snprintf (shard, sizeof shard, "%u", self->shard);
    //  key comes in random: it becomes the shard's key unless it has one.
    snprintf (k0, sizeof k0, "%lld", (long long) key [0]);
    snprintf (k1, sizeof k1, "%lld", (long long) key [1]);
    const char *insert [] = { shard, k0, k1 };
    PGresult *res = PQexecParams (self->conn,
        "INSERT INTO txw_data.tx_seen_key (shard, k0, k1) VALUES ($1::int, $2::bigint, $3::bigint)"
        " ON CONFLICT (shard) DO NOTHING", 3, NULL, insert, NULL, NULL, 0);
    bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
    PQclear (res);
    const char *one [] = { shard };
    res = ok? PQexecParams (self->conn, "SELECT k0, k1 FROM txw_data.tx_seen_key WHERE shard = $1::int",
                            1, NULL, one, NULL, NULL, 0): NULL;
    if (!res || PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
        log_error ("cannot read the de-duplication key: %s",
                   res? PQresultErrorMessage (res): PQerrorMessage (self->conn));
        PQclear (res);
        return -1;
    }
    key [0] = (uint64_t) strtoll (txw_pg_text (res, 0, "k0"), NULL, 10);
    key [1] = (uint64_t) strtoll (txw_pg_text (res, 0, "k1"), NULL, 10);
    PQclear (res);

    self->seen_capacity = (int64_t) txw_txset_capacity (set);
    snprintf (limit, sizeof limit, "%lld", (long long) self->seen_capacity);
    const char *read [] = { shard, limit };
    res = PQexecParams (self->conn,
        "SELECT seq, hash FROM txw_data.tx_seen WHERE shard = $1::int"
        " ORDER BY seq DESC LIMIT $2::bigint", 2, NULL, read, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        log_error ("cannot read the transactions seen: %s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    int rows = PQntuples (res);
    int seq = txw_pg_column (res, "seq"), hash = txw_pg_column (res, "hash");
    self->seen_next = rows? strtoll (PQgetvalue (res, 0, seq), NULL, 10) + 1: 1;
    for (int i = rows - 1; i >= 0; i--)         //  oldest first
        txw_txset_add (set, (uint64_t) strtoll (PQgetvalue (res, i, hash), NULL, 10));
    PQclear (res);
    log_info ("de-duplication: %d transactions seen before, horizon %lld", rows,
              (long long) self->seen_capacity);
    return 0;
}

void
sink_add_seen (sink_t *self, uint64_t hash)
{
    txw_copybuf_int (&self->seen_rows, self->shard);
    txw_copybuf_int (&self->seen_rows, self->seen_next++);
    txw_copybuf_int (&self->seen_rows, (int64_t) hash);
    txw_copybuf_end_row (&self->seen_rows);
}

//  --- Corrections ----------------------------------------------------------------

//  Appends one element of a PostgreSQL array literal: quoted, with quotes
//  and backslashes escaped (an id cannot hold them once validated, but
//  the aggregator does not rely on that).
static void
s_array_elem (FILE *f, bool first, const char *s)
{
    fputs (first? "\"": ",\"", f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc ('\\', f);
        fputc (*s, f);
    }
    fputc ('"', f);
}

int
sink_originals (sink_t *self, const txw_correction_t *c, size_t n, sink_original_t *out)
{
    if (s_connect (self))
        return -1;
    //  The tx_ids, event times and accounts as three array literals.
    char *arrays [3] = { NULL, NULL, NULL };
    size_t sizes [3];
    FILE *f [3];
    for (int a = 0; a < 3; a++)
        f [a] = open_memstream (&arrays [a], &sizes [a]);
    if (!f [0] || !f [1] || !f [2]) {
        log_error ("out of memory reading the transactions corrected");
        for (int a = 0; a < 3; a++)
            if (f [a])
                fclose (f [a]);
        for (int a = 0; a < 3; a++)
            free (arrays [a]);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char ts [24];
        snprintf (ts, sizeof ts, "%lld", (long long) c [i].ts_ms);
        s_array_elem (f [0], i == 0, c [i].tx_id);
        s_array_elem (f [1], i == 0, ts);
        s_array_elem (f [2], i == 0, c [i].account_id);
    }
    for (int a = 0; a < 3; a++)
        fclose (f [a]);
    //  Inside the LATERAL the columns are the transaction's own.
    char sql [2048];
    snprintf (sql, sizeof sql,
        "SELECT c.i, x.status AS corrected, t.* FROM unnest (('{' || $1 || '}')::text[],"
        " ('{' || $2 || '}')::bigint[], ('{' || $3 || '}')::text[])"
        " WITH ORDINALITY AS c (tx_id, ts_ms, account_id, i)"
        " LEFT JOIN LATERAL (SELECT %s FROM txw_data.transactions WHERE tx_id = c.tx_id"
        " AND ts = timestamptz 'epoch' + c.ts_ms * interval '1 millisecond'"
        " AND account_id = c.account_id) t ON true"
        " LEFT JOIN txw_data.tx_corrections x ON x.tx_id = c.tx_id",
        txw_txrow_sql ()->select);
    const char *params [] = { arrays [0], arrays [1], arrays [2] };
    PGresult *res = PQexecParams (self->conn, sql, 3, NULL, params, NULL, NULL, 0);
    for (int a = 0; a < 3; a++)
        free (arrays [a]);
    txw_txrow_cols_t cols;
    int rc = -1;
    if (PQresultStatus (res) != PGRES_TUPLES_OK)
        log_error ("cannot read the transactions corrected: %s", PQresultErrorMessage (res));
    else
    if (txw_txrow_columns (res, &cols))
        log_error ("cannot read the transactions corrected: a column is missing");
    else {
        memset (out, 0, n * sizeof *out);
        for (int row = 0; row < PQntuples (res); row++) {
            int64_t i = txw_pg_int (res, row, "i") - 1;
            if (i < 0 || (size_t) i >= n)
                continue;
            const char *corrected = txw_pg_text (res, row, "corrected");
            out [i].corrected = (uint8_t) txw_correction_status_parse (corrected,
                                                                       strlen (corrected));
            out [i].found = !txw_pg_null (res, row, "tx_id")
                         && txw_txrow_decode (res, row, &cols, &out [i].tx) == 0;
        }
        rc = 0;
    }
    PQclear (res);
    if (rc)
        s_set_healthy (self, PQstatus (self->conn) == CONNECTION_OK);
    return rc;
}

void
sink_add_correction (sink_t *self, const txw_correction_t *c, const txw_tx_t *original)
{
    if (self->accounts)
        accounts_unapprove (self->accounts, original);
    txw_copybuf_t *b = &self->correction_rows;
    txw_copybuf_str (b, original->tx_id);
    txw_copybuf_ts_ms (b, original->ts_ms);
    txw_copybuf_str (b, original->account_id);
    txw_copybuf_str (b, txw_status_name (original->status));
    txw_copybuf_str (b, txw_correction_status_name (c->status));
    txw_copybuf_int (b, original->amount_rep_minor);
    txw_copybuf_str (b, c->actor);
    if (c->reason [0])
        txw_copybuf_str (b, c->reason);
    else
        txw_copybuf_null (b);
    txw_copybuf_ts_ms (b, c->corrected_ms);
    txw_copybuf_int (b, self->shard);
    txw_copybuf_end_row (b);
}

void
sink_add_window_correction (sink_t *self, const txw_window_t *row)
{
    txw_copybuf_t *b = &self->window_correction_rows;
    txw_copybuf_str (b, row->dimension);
    txw_copybuf_str (b, row->key);
    txw_copybuf_ts_ms (b, row->window_start_ms);
    txw_copybuf_int (b, row->shard);
    txw_copybuf_int (b, row->approved);
    txw_copybuf_int (b, row->approved_amount_sum);
    txw_copybuf_end_row (b);
}

//  Window rows need their day's partition whatever --store says.
void
sink_add_window_addition (sink_t *self, const txw_window_t *row)
{
    s_need_day (self, row->window_start_ms);
    txw_windowrow_copy (&self->window_additions, row);
}

static void
s_window_row (void *arg, const win_entry_t *e)
{
    sink_t *self = arg;
    s_need_day (self, e->row.window_start_ms);
    txw_windowrow_copy (&self->window_rows, &e->row);
}

static void
s_account_row (void *arg, const accounts_delta_t *d)
{
    txw_copybuf_t *b = arg;
    txw_copybuf_str (b, d->account_id);
    txw_copybuf_int (b, d->tx_count);
    txw_copybuf_int (b, d->spend);
    txw_copybuf_int (b, d->approved_spend);
    txw_copybuf_int (b, d->approved);
    txw_copybuf_int (b, d->declined);
    txw_copybuf_int (b, d->failed);
    txw_copybuf_int (b, d->flagged);
    txw_copybuf_int (b, d->score_sum);
    txw_copybuf_int (b, d->max_score);
    txw_copybuf_ts_ms (b, d->first_ms);
    txw_copybuf_ts_ms (b, d->last_ms);
    txw_copybuf_end_row (b);
}

//  A row of txw_data.account_months (account_id, month, tx_count, approved,
//  spend_rep_minor, approved_rep_minor).
static void
s_account_month_row (void *arg, const accounts_delta_t *d)
{
    txw_copybuf_t *b = arg;
    char month [32];
    snprintf (month, sizeof month, "%04d-%02d-01", (int) (d->month / 12), (int) (d->month % 12 + 1));
    txw_copybuf_str (b, d->account_id);
    txw_copybuf_str (b, month);
    txw_copybuf_int (b, d->tx_count);
    txw_copybuf_int (b, d->approved);
    txw_copybuf_int (b, d->spend);
    txw_copybuf_int (b, d->approved_spend);
    txw_copybuf_end_row (b);
}

//  --- Flush ---------------------------------------------------------------------

//  Adds this flush's account deltas to the stored totals.
static int
s_write_checkpoints (sink_t *self, int64_t max_event_ms)
{
    if (max_event_ms != self->max_event_written && max_event_ms != INT64_MIN) {
        char value [24];
        snprintf (value, sizeof value, "%lld", (long long) max_event_ms);
        const char *params [] = { self->consumer, value };
        PGresult *res = PQexecParams (self->conn,
            "INSERT INTO txw_data.shard_state (consumer, max_event_ms)"
            " VALUES ($1, $2::bigint) ON CONFLICT (consumer) DO UPDATE"
            " SET max_event_ms = excluded.max_event_ms, updated_at = now()",
            2, NULL, params, NULL, NULL, 0);
        bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
        if (!ok)
            log_error ("shard state write failed: %s", PQresultErrorMessage (res));
        PQclear (res);
        if (!ok)
            return -1;
    }
    for (int i = 0; i < self->source_count; i++) {
        s_checkpoint_t *src = &self->sources [i];
        if (!src->dirty)
            continue;
        char epoch [24], seq [24];
        snprintf (epoch, sizeof epoch, "%llu", (unsigned long long) src->epoch);
        snprintf (seq, sizeof seq, "%llu", (unsigned long long) src->seq);
        //  The sender's key (NULL without CURVE roles) binds the source id
        //  to it again after a restart (sink_each_key).
        const char *params [] = { self->consumer, src->name, epoch, seq,
                                  *src->key? src->key: NULL };
        PGresult *res = PQexecParams (self->conn,
            "INSERT INTO txw_data.checkpoints (consumer, source, epoch, seq, sender_key)"
            " VALUES ($1, $2, $3::bigint, $4::bigint, $5)"
            " ON CONFLICT (consumer, source) DO UPDATE"
            " SET epoch = excluded.epoch, seq = excluded.seq,"
            " sender_key = excluded.sender_key, updated_at = now()",
            5, NULL, params, NULL, NULL, 0);
        bool ok = PQresultStatus (res) == PGRES_COMMAND_OK;
        if (!ok)
            log_error ("checkpoint write failed: %s", PQresultErrorMessage (res));
        PQclear (res);
        if (!ok)
            return -1;
    }
    return 0;
}

//  --- Writing a flush ------------------------------------------------------------

//  Runs sql; on failure keeps the SQLSTATE and message (readiness and the
//  dead letters of refused rows show them) and logs.
static int
s_sql (sink_t *self, const char *sql)
{
    char state [6], text [256];
    if (txw_pg_exec_try (self->conn, sql, state, text, sizeof text) == 0)
        return 0;
    s_failed (self, state, text);
    return -1;
}

//  Creates the partitions of the days this flush needs, before its
//  transaction: one statement (so one transaction) per table and up to 256
//  days. Making a partition locks its whole table until the transaction
//  ends; a flush that held one table's lock while it waited for another's
//  deadlocked with a backup's pg_dump, which locks every table in turn
//  (proto/sql/031_partition_one_table.sql).
static int
s_ensure_days (sink_t *self)
{
    static const char *tables [] = { "transactions", "windows", "windows_hourly", "windows_daily" };
    const s_days_t *needed = &self->days_needed;
    for (size_t t = 0; t < sizeof tables / sizeof tables [0]; t++)
        for (size_t first = 0; first < needed->count; first += 256) {
            char sql [256 * 24 + 160];
            size_t len = (size_t) snprintf (sql, sizeof sql,
                "SELECT txw_data.ensure_partition(date '1970-01-01' + d, '%s')"
                " FROM unnest('{", tables [t]);
            for (size_t i = first; i < needed->count && i < first + 256; i++)
                len += (size_t) snprintf (sql + len, sizeof sql - len, "%s%lld",
                                          i > first? ",": "", (long long) needed->day [i]);
            snprintf (sql + len, sizeof sql - len, "}'::int[]) AS d");
            if (s_sql (self, sql))
                return -1;
        }
    return 0;
}

//  A COPY that failed with state: its message is the connection's.
static void
s_copy_failed (sink_t *self, const char *state)
{
    char text [256];
    snprintf (text, sizeof text, "%s", PQerrorMessage (self->conn));
    text [strcspn (text, "\n")] = 0;
    s_failed (self, state, text);
}

static int
s_copy (sink_t *self, const char *copy_sql, const txw_copybuf_t *rows)
{
    char state [6];
    if (txw_pg_copy_try (self->conn, copy_sql, rows, state) == 0)
        return 0;
    s_copy_failed (self, state);
    return -1;
}

//  A refusal of the data itself (SQLSTATE class 22 data exception, 23
//  integrity violation, 54 program limit): the same row would be refused
//  again. Anything else (a lost connection, a deadlock) may pass next time.
static bool
s_refused_data (const char *state)
{
    return !strncmp (state, "22", 2) || !strncmp (state, "23", 2) || !strncmp (state, "54", 2);
}

//  Straight COPY into the table is the fast path. A tx_id stored before
//  (the same transaction from another producer, or a replayed file) makes
//  it fail with a unique violation; then this batch goes through a staging
//  table and INSERT ... ON CONFLICT DO NOTHING, which keeps the first copy.
static int
s_write_transactions (sink_t *self)
{
    char sqlstate [6], copy_direct [700], copy_stage [700];
    snprintf (copy_direct, sizeof copy_direct, "COPY txw_data.transactions (%s) FROM STDIN",
              txw_txrow_sql ()->columns);
    snprintf (copy_stage, sizeof copy_stage, "COPY stage_tx (%s) FROM STDIN",
              txw_txrow_sql ()->columns);
    if (s_sql (self, "SAVEPOINT direct_copy"))
        return -1;
    if (txw_pg_copy_try (self->conn, copy_direct, &self->tx_rows, sqlstate) == 0)
        return s_sql (self, "RELEASE SAVEPOINT direct_copy");
    if (strcmp (sqlstate, "23505") != 0) {
        s_copy_failed (self, sqlstate);
        return -1;
    }
    txw_counter_add (self->duplicate_batches, 1);
    if (s_sql (self, "ROLLBACK TO SAVEPOINT direct_copy")
    ||  s_copy (self, copy_stage, &self->tx_rows)
    ||  s_sql (self, S_TX_INSERT))
        return -1;
    return 0;
}

//  One kind of row a flush writes: COPY, then (for staged rows) the
//  statement that moves them into place.
typedef struct {
    const char *what;           //  the table, in a refused row's dead letter
    txw_copybuf_t *rows;
    char copy [1300];
    const char *then;           //  NULL: the COPY is the write
    const char *stage;          //  the stage table, emptied between single rows
    bool personal;              //  the first column is personal data
} s_step_t;

//  A row PostgreSQL refused becomes a dead letter naming the error; the
//  rest of the flush goes on.
static void
s_quarantine (sink_t *self, const s_step_t *step, const char *row, size_t len)
{
    txw_reject_t rej;
    memset (&rej, 0, sizeof rej);
    snprintf (rej.origin_source, sizeof rej.origin_source, "%s", self->consumer);
    snprintf (rej.reason, sizeof rej.reason, "%s", txw_reject_names [TXW_REJECT_DB_REFUSED]);
    snprintf (rej.field, sizeof rej.field, "%s", step->what);
    snprintf (rej.message, sizeof rej.message, "PostgreSQL refused a row of %s (SQLSTATE %s): %s",
              step->what, self->error_state, self->error_text);
    size_t first = strcspn (row, "\t\n");
    if (first > len)
        first = len;
    char key [TXW_TEXT_MAX];
    if (step->personal)
        txw_mask_id (row, first, key, sizeof key);
    else
        snprintf (key, sizeof key, "%.*s", (int) (first > 128? 128: first), row);
    if (!strcmp (step->what, "transactions"))
        snprintf (rej.tx_id, sizeof rej.tx_id, "%.*s", (int) (first > TXW_ID_MAX? TXW_ID_MAX: first), row);
    char text [TXW_TEXT_MAX];
    size_t n = txw_json_escape (text, sizeof text, key, strlen (key));
    snprintf (rej.payload, sizeof rej.payload, "{\"table\":\"%s\",\"first_column\":\"%.*s\"}",
              step->what, (int) n, text);
    rej.received_ms = txw_now_ms ();
    txw_deadletter_row (&self->quarantine_rows, &rej);
    txw_counter_add (self->refused_rows, 1);
    log_warn ("%s", rej.message);
}

//  Writes a step's rows one at a time, each under a savepoint: a row the
//  database refuses is quarantined, the others are written. A failure that
//  is not about the row (the connection) fails the flush.
static int
s_step_one_by_one (sink_t *self, const s_step_t *step)
{
    char empty [64] = "";
    if (step->stage)
        snprintf (empty, sizeof empty, "DELETE FROM %s", step->stage);
    const char *p = step->rows->data, *end = p + step->rows->len;
    while (p < end) {
        const char *nl = memchr (p, '\n', (size_t) (end - p));
        size_t n = nl? (size_t) (nl - p) + 1: (size_t) (end - p);
        txw_copybuf_t one = { (char *) p, n, n, 1, false };
        if (s_sql (self, "SAVEPOINT one_row"))
            return -1;
        bool ok = s_copy (self, step->copy, &one) == 0
               && (!step->then || s_sql (self, step->then) == 0)
               && (!*empty || s_sql (self, empty) == 0);
        if (!ok) {
            if (!s_refused_data (self->error_state)
            ||  s_sql (self, "ROLLBACK TO SAVEPOINT one_row"))
                return -1;
            s_quarantine (self, step, p, n);
        }
        if (s_sql (self, "RELEASE SAVEPOINT one_row"))
            return -1;
        p += n;
    }
    return 0;
}

static int
s_step (sink_t *self, const s_step_t *step, bool one_by_one)
{
    if (!step->rows->rows)
        return 0;
    if (one_by_one)
        return s_step_one_by_one (self, step);
    return s_copy (self, step->copy, step->rows) || (step->then && s_sql (self, step->then))? -1: 0;
}

static int
s_write (sink_t *self, int64_t max_event_ms)
{
    bool careful = self->careful;
    if (s_ensure_days (self) || s_sql (self, "BEGIN"))
        return -1;
    const txw_windowrow_sql_t *wsql = txw_windowrow_sql ();
    txw_copybuf_clear (&self->account_rows);
    txw_copybuf_clear (&self->account_month_rows);
    if (self->accounts && accounts_size (self->accounts)) {
        accounts_each (self->accounts, s_account_row, &self->account_rows);
        accounts_each_month (self->accounts, s_account_month_row, &self->account_month_rows);
    }
    s_step_t steps [] = {
        //  Transactions go straight in when the flush is trusted (below);
        //  one by one they go through the stage.
        { "transactions", &self->tx_rows, "", S_TX_INSERT, "stage_tx", false },
        { "windows", &self->window_rows, "", wsql->upsert, "stage_windows", false },
        //  After the whole rows: a window still in memory when its
        //  additions came is written whole first, then added to.
        { "windows", &self->window_additions, "", wsql->add, "stage_window_additions", false },
        { "accounts", &self->account_rows, "COPY stage_accounts (" S_ACCOUNT_COLUMNS ") FROM STDIN",
          S_ACCOUNT_UPSERT, "stage_accounts", true },
        { "account_months", &self->account_month_rows, "COPY stage_account_months FROM STDIN",
          S_ACCOUNT_MONTH_UPSERT, "stage_account_months", true },
        { "order_items", &self->basket_rows, BASKETS_COPY_SQL, BASKETS_WRITE_SQL,
          "stage_baskets", true },
        //  After the whole window rows, like the additions.
        { "windows", &self->window_correction_rows, "COPY stage_window_corrections FROM STDIN",
          S_WINDOW_CORRECT, "stage_window_corrections", false },
        { "tx_corrections", &self->correction_rows,
          "COPY stage_corrections (" S_CORRECTION_COLUMNS ") FROM STDIN", S_CORRECTION_APPLY,
          "stage_corrections", false },
        { "alerts", &self->alert_rows, "COPY stage_alerts FROM STDIN", S_ALERT_INSERT,
          "stage_alerts", false },
        { "dead_letters", &self->dead_rows, TXW_DEADLETTER_COPY_SQL, TXW_DEADLETTER_INSERT_SQL,
          "stage_dead", false },
        //  The hashes of the transactions counted (de-duplication).
        { "tx_seen", &self->seen_rows, "COPY txw_data.tx_seen (shard, seq, hash) FROM STDIN",
          NULL, NULL, false },
    };
    snprintf (steps [0].copy, sizeof steps [0].copy, "COPY stage_tx (%s) FROM STDIN",
              txw_txrow_sql ()->columns);
    snprintf (steps [1].copy, sizeof steps [1].copy, "COPY stage_windows (%s) FROM STDIN",
              wsql->columns);
    snprintf (steps [2].copy, sizeof steps [2].copy,
              "COPY stage_window_additions (%s) FROM STDIN", wsql->columns);
    txw_copybuf_clear (&self->quarantine_rows);
    for (size_t i = 0; i < sizeof steps / sizeof steps [0]; i++) {
        int rc = i == 0 && !careful && self->tx_rows.rows? s_write_transactions (self):
                 s_step (self, &steps [i], careful);
        if (rc)
            return -1;
    }
    //  The hashes beyond the de-duplication horizon go.
    if (self->seen_rows.rows) {
        char trim [160];
        snprintf (trim, sizeof trim, "DELETE FROM txw_data.tx_seen WHERE shard = %u AND seq < %lld",
                  self->shard, (long long) (self->seen_next - self->seen_capacity));
        if (s_sql (self, trim))
            return -1;
    }
    //  The dead letters of refused rows, themselves one by one: one the
    //  database refuses too is only logged.
    s_step_t quarantined = { "dead_letters", &self->quarantine_rows, TXW_DEADLETTER_COPY_SQL,
                             TXW_DEADLETTER_INSERT_SQL, "stage_dead", false };
    if (self->quarantine_rows.rows && s_step_one_by_one (self, &quarantined))
        return -1;
    if (s_write_checkpoints (self, max_event_ms))
        return -1;
    //  The commit and the WAL position after it, in one round trip.
    if (s_query_lsn (self, "COMMIT; SELECT pg_current_wal_insert_lsn ()::text",
                     &self->commit_lsn)) {
        //  The server may have committed before the connection went: the
        //  rows cannot simply be written again (customer totals add up).
        if (PQstatus (self->conn) != CONNECTION_OK)
            self->commit_unknown = true;
        return -1;
    }
    return 0;
}

//  On a new connection after one was lost: reads the checkpoints back.
//  Every source must be where the last answered COMMIT left it, or the
//  server lost commits it had answered (it crashed before they reached
//  disk): returns 1. A COMMIT whose answer was lost (commit_unknown)
//  made it if its sources' new sequence numbers are there: *made is set.
//  Returns 0 when all is well, -1 when it cannot tell.
static int
s_verify (sink_t *self, bool *made)
{
    PGresult *res = s_read_checkpoints (self);
    if (!res)
        return -1;
    int dirty = 0, advanced = 0, lost = 0;
    for (int i = 0; i < self->source_count; i++) {
        s_checkpoint_t *src = &self->sources [i];
        uint64_t epoch = 0, seq = 0;
        bool found = false;
        for (int r = 0; r < PQntuples (res) && !found; r++)
            if (!strcmp (PQgetvalue (res, r, 0), src->name)) {
                epoch = strtoull (PQgetvalue (res, r, 1), NULL, 10);
                seq = strtoull (PQgetvalue (res, r, 2), NULL, 10);
                found = true;
            }
        bool at_committed = src->committed? found && epoch == src->committed_epoch
                                                  && seq == src->committed_seq
                                          : !found;
        bool at_new = found && epoch == src->epoch && seq == src->seq;
        if (src->dirty)
            dirty++;
        if (self->commit_unknown && src->dirty && at_new)
            advanced++;
        else
        if (!at_committed)
            lost++;
    }
    PQclear (res);
    //  Without a source applied a flush held only whole window rows, which
    //  are written again harmlessly.
    *made = self->commit_unknown && dirty && advanced == dirty;
    return lost? 1: 0;
}

int
sink_durable_lsn (sink_t *self, uint64_t *lsn)
{
    if (!self->conn || PQstatus (self->conn) != CONNECTION_OK || self->verify)
        return -1;
    return s_query_lsn (self, "SELECT pg_current_wal_flush_lsn ()::text", lsn);
}

uint64_t
sink_commit_lsn (const sink_t *self)
{
    return self->commit_lsn;
}

bool
sink_lost (sink_t *self)
{
    bool lost = self->lost;
    self->lost = false;
    return lost;
}

bool
sink_blocked (const sink_t *self)
{
    return self->commit_unknown;
}

//  A flush is stored: counts it and lets go of what it held.
static void
s_flushed (sink_t *self, int64_t max_event_ms, int64_t started)
{
    self->max_event_written = max_event_ms;
    txw_counter_add (self->stored_tx, self->tx_rows.rows);
    txw_counter_add (self->stored_windows, self->window_rows.rows);
    txw_counter_add (self->window_additions_stored, self->window_additions.rows);
    txw_counter_add (self->stored_alerts, self->alert_rows.rows);
    txw_counter_add (self->stored_corrections, self->correction_rows.rows);
    if (self->accounts) {
        txw_counter_add (self->stored_accounts, accounts_size (self->accounts));
        accounts_clear (self->accounts);
    }
    txw_counter_add (self->flushes, 1);
    txw_copybuf_clear (&self->tx_rows);
    txw_copybuf_clear (&self->alert_rows);
    txw_copybuf_clear (&self->dead_rows);
    txw_copybuf_clear (&self->window_additions);
    txw_copybuf_clear (&self->seen_rows);
    txw_copybuf_clear (&self->basket_rows);
    txw_copybuf_clear (&self->correction_rows);
    txw_copybuf_clear (&self->window_correction_rows);
    for (int i = 0; i < self->source_count; i++) {
        s_checkpoint_t *src = &self->sources [i];
        if (src->dirty) {
            src->committed_epoch = src->epoch;
            src->committed_seq = src->seq;
            src->committed = true;
        }
        src->dirty = false;
    }
    for (size_t i = 0; i < self->days_needed.count; i++)
        if (s_days_add (&self->days_known, self->days_needed.day [i]))
            break;          //  asked again next time: harmless
    self->days_needed.count = 0;
    self->backoff_ms = 100;
    self->careful = false;
    s_set_healthy (self, true);
    s_set_failing (self, false);
    txw_histogram_observe_us (self->flush_time, txw_mono_us () - started);
}

int
sink_flush (sink_t *self, windows_t *windows)
{
    int64_t now = txw_mono_ms ();
    if (now < self->retry_at_ms)
        return -1;
    int64_t started = txw_mono_us ();
    txw_copybuf_clear (&self->window_rows);
    windows_drain_dirty (windows, true, s_window_row, self);
    bool any_checkpoint = false;
    for (int i = 0; i < self->source_count; i++)
        any_checkpoint |= self->sources [i].dirty;
    if (!self->window_rows.rows && !sink_pending (self) && !any_checkpoint)
        return 0;

    int64_t max_event_ms = windows_max_event (windows);
    if (s_connect (self) == 0 && self->verify) {
        bool made = false;
        int lost = s_verify (self, &made);
        if (lost < 0)
            goto failed;
        self->verify = false;
        if (lost) {
            log_error ("PostgreSQL lost flushes it had committed (it stopped before they "
                       "reached disk): this shard starts again from what it kept, and the "
                       "producers send the rest again");
            self->commit_unknown = false;
            self->lost = true;
            return -1;
        }
        if (self->commit_unknown) {
            self->commit_unknown = false;
            if (made) {
                log_warn ("the connection was lost during a COMMIT that the server made: "
                          "that flush is stored, not written again");
                //  Its WAL position is not known: the server's position now
                //  is past it.
                if (s_query_lsn (self, "SELECT pg_current_wal_insert_lsn ()::text",
                                 &self->commit_lsn))
                    self->commit_lsn = UINT64_MAX;
                s_flushed (self, self->unknown_max_event, started);
                //  Windows may have closed meanwhile: all go whole next time.
                windows_mark_all_dirty (windows);
                return 0;
            }
            log_warn ("the connection was lost during a COMMIT that the server did not make: "
                      "writing that flush again");
        }
    }
    if (s_connect (self) == 0) {
        if (s_write (self, max_event_ms) == 0) {
            s_flushed (self, max_event_ms, started);
            return 0;
        }
        if (self->commit_unknown)
            self->unknown_max_event = max_event_ms;
    }
failed:
    //  Keep everything for the next try; the windows go whole again.
    if (self->conn && PQtransactionStatus (self->conn) != PQTRANS_IDLE)
        txw_pg_exec (self->conn, "ROLLBACK");
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK)
        s_set_healthy (self, false);
    windows_mark_all_dirty (windows);
    txw_counter_add (self->flush_errors, 1);
    s_set_failing (self, true);
    //  A partition's lock is held elsewhere (a backup's pg_dump holds one on
    //  every table while it runs): waiting would have queued every other
    //  writer and reader of the table behind this one.
    if (self->lock_timed_out) {
        self->lock_timed_out = false;
        txw_counter_add (self->lock_timeouts, 1);
        log_warn ("a partition could not be made within its lock_timeout: another session"
                  " (a backup?) holds a lock on its table; the flush is tried again later");
    }
    //  The database refused some row: the next try writes them one by one
    //  and sets the refused ones aside, so one bad row never stops the rest.
    if (s_refused_data (self->error_state) && !self->careful) {
        self->careful = true;
        self->retry_at_ms = now;
        log_warn ("flush refused by PostgreSQL (SQLSTATE %s); writing the rows one by one",
                  self->error_state);
        return -1;
    }
    self->retry_at_ms = now + self->backoff_ms;
    log_warn ("flush failed; %zu rows kept, retrying in %lld ms",
              sink_pending (self), (long long) self->backoff_ms);
    self->backoff_ms = self->backoff_ms * 2 > 5000? 5000: self->backoff_ms * 2;
    return -1;
}
