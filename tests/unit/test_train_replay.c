/*  test_train_replay - the replay txw-train and txw-rescore share

    The rule set and model load as the scorer loads them (the same
    model_version, no model while the file is not there yet, a bad file
    refused with its reason), a replay scores as the scorer's own step, and
    stored rows are read back in order through a result or a cursor (the
    cursor part only when TXW_TEST_DATABASE_URL names a PostgreSQL).        */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "replay.h"
#include "testdb.h"
#include "txfeatures.h"
#include "txrow.h"

#define ROWS 512

static char s_dir [] = "/tmp/test_replay_XXXXXX";

static void
s_path (char *out, size_t size, const char *name)
{
    snprintf (out, size, "%s/%s", s_dir, name);
}

static txw_tx_t
s_tx (const char *id, int64_t ts_ms, int64_t amount)
{
    txw_tx_t tx;
    memset (&tx, 0, sizeof tx);
    snprintf (tx.tx_id, sizeof tx.tx_id, "%s", id);
    tx.ts_ms = ts_ms;
    snprintf (tx.account_id, sizeof tx.account_id, "replay-acc");
    tx.amount_minor = tx.amount_rep_minor = amount;
    snprintf (tx.currency, sizeof tx.currency, "EUR");
    snprintf (tx.merchant_id, sizeof tx.merchant_id, "m-1");
    snprintf (tx.category, sizeof tx.category, "grocery");
    tx.channel = TXW_CHANNEL_POS;
    snprintf (tx.branch_id, sizeof tx.branch_id, "B1");
    snprintf (tx.region, sizeof tx.region, "R1");
    snprintf (tx.country, sizeof tx.country, "DE");
    snprintf (tx.device_id, sizeof tx.device_id, "d-1");
    tx.status = TXW_STATUS_APPROVED;
    tx.hour = 12;
    snprintf (tx.model_version, sizeof tx.model_version, "first");
    return tx;
}

static void
test_load_versions (void **state)
{
    (void) state;
    rules_t *rules = NULL;
    model_t *model = NULL;
    char err [512], path [300], bad [300];
    assert_int_equal (replay_load ("", "", &rules, &model, err, sizeof err), 0);
    assert_null (model);
    assert_string_equal (rules_model_version (rules), "rules-4");
    rules_destroy (&rules);

    //  No file at the model's path yet: the rules alone, as the scorer.
    s_path (path, sizeof path, "model.bin");
    assert_int_equal (replay_load ("", path, &rules, &model, err, sizeof err), 0);
    assert_null (model);
    assert_string_equal (rules_model_version (rules), "rules-4");
    rules_destroy (&rules);

    //  A model there: the scorer's "rules+model" version.
    static float rows [ROWS * FEATURE_COUNT];
    for (size_t i = 0; i < sizeof rows / sizeof rows [0]; i++)
        rows [i] = (float) ((i * 2654435761u) % 1000) / 1000.0f;
    iforest_params_t params = { .trees = 100, .sample_size = 256, .seed = 5 };
    model_t *trained = model_train (rows, ROWS, FEATURE_COUNT, NULL, &params, "if-test",
                                    err, sizeof err);
    assert_non_null (trained);
    assert_int_equal (model_save (trained, path, err, sizeof err), 0);
    model_destroy (&trained);
    assert_int_equal (replay_load ("", path, &rules, &model, err, sizeof err), 0);
    assert_non_null (model);
    assert_string_equal (rules_model_version (rules), "rules-4+if-test");
    rules_destroy (&rules);
    model_destroy (&model);

    //  A damaged model or a bad rule file is refused, with the reason.
    s_path (bad, sizeof bad, "bad.bin");
    FILE *file = fopen (bad, "w");
    assert_non_null (file);
    fputs ("not a model", file);
    fclose (file);
    assert_int_equal (replay_load ("", bad, &rules, &model, err, sizeof err), -1);
    assert_non_null (strstr (err, "not a txwatch model file"));
    assert_int_equal (replay_load (bad, "", &rules, &model, err, sizeof err), -1);
    assert_true (strlen (err) > 0);
    unlink (bad);
    unlink (path);
}

//  replay_score is the scorer's step: the same scores as rules_score_tx
//  with the model hook, and the same again from a fresh table.
static void
test_score_is_the_scorers (void **state)
{
    (void) state;
    rules_t *rules = NULL;
    model_t *model = NULL;
    char err [512];
    assert_int_equal (replay_load ("", "", &rules, &model, err, sizeof err), 0);
    profiles_t *a = profiles_new (16, 0), *b = profiles_new (16, 0);
    assert_non_null (a);
    assert_non_null (b);
    int64_t t0 = 1767614400000LL;
    int flagged = 0;
    for (int i = 0; i < 12; i++) {
        char id [32];
        snprintf (id, sizeof id, "r-%d", i);
        //  Ten ordinary purchases, then two far above the account's usual.
        txw_tx_t x = s_tx (id, t0 + i * 3600000LL, i < 10? 2000 + i * 10: 900000);
        txw_tx_t y = x;
        replay_score (rules, a, NULL, &x);
        rules_score_tx (rules, b, &y, NULL, NULL);
        assert_int_equal (x.score, y.score);
        assert_int_equal (x.reasons, y.reasons);
        assert_string_equal (x.model_version, "rules-4");
        flagged += x.score > 0;
    }
    assert_true (flagged > 0);
    profiles_destroy (&a);
    profiles_destroy (&b);
    rules_destroy (&rules);
}

typedef struct {
    int seen;
    char ids [8][TXW_ID_MAX + 1];
} s_visits_t;

static void
s_visit (void *arg, txw_tx_t *tx)
{
    s_visits_t *v = arg;
    if (v->seen < 8)
        snprintf (v->ids [v->seen], sizeof v->ids [0], "%s", tx->tx_id);
    v->seen++;
}

static void
test_cursor_reads_in_order (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    assert_int_equal (txw_pg_exec (conn, "SELECT txw_data.ensure_partition('2026-01-05')"), 0);
    assert_int_equal (txw_pg_exec (conn,
        "DELETE FROM txw_data.transactions WHERE tx_id LIKE 'replay-%'"), 0);
    txw_copybuf_t buf;
    txw_copybuf_init (&buf);
    for (int i = 0; i < 5; i++) {
        char id [32];
        snprintf (id, sizeof id, "replay-%d", 4 - i);
        txw_tx_t tx = s_tx (id, 1767614400000LL + (4 - i) * 1000, 1000);
        txw_txrow_copy (&buf, &tx, 0);
    }
    char sql [1600];
    snprintf (sql, sizeof sql, "COPY txw_data.transactions (%s) FROM STDIN",
              txw_txrow_sql ()->columns);
    assert_int_equal (txw_pg_copy (conn, sql, &buf), 0);
    txw_copybuf_fini (&buf);

    //  Two rows a fetch: three fetches, every row once, in the query's order.
    snprintf (sql, sizeof sql, "SELECT %s FROM txw_data.transactions WHERE tx_id LIKE $1"
              " ORDER BY ts", txw_txrow_sql ()->select);
    const char *params [] = { "replay-%" };
    s_visits_t v = { 0 };
    assert_int_equal (txw_pg_exec (conn, "BEGIN"), 0);
    assert_int_equal (replay_cursor (conn, sql, 1, params, 2, s_visit, &v), 5);
    assert_int_equal (txw_pg_exec (conn, "COMMIT"), 0);
    assert_int_equal (v.seen, 5);
    for (int i = 0; i < 5; i++) {
        char id [32];
        snprintf (id, sizeof id, "replay-%d", i);
        assert_string_equal (v.ids [i], id);
    }

    //  A result without the transactions' columns is refused, not guessed.
    PGresult *res = PQexec (conn, "SELECT tx_id FROM txw_data.transactions"
                                  " WHERE tx_id LIKE 'replay-%'");
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    assert_int_equal (replay_rows (res, s_visit, &v), -1);
    PQclear (res);
    //  A query that fails is -1 too, and the transaction is the caller's.
    assert_int_equal (txw_pg_exec (conn, "BEGIN"), 0);
    assert_int_equal (replay_cursor (conn, "SELECT nope FROM txw_data.transactions", 0, NULL,
                                     2, s_visit, &v), -1);
    assert_int_equal (txw_pg_exec (conn, "ROLLBACK"), 0);
    assert_int_equal (txw_pg_exec (conn,
        "DELETE FROM txw_data.transactions WHERE tx_id LIKE 'replay-%'"), 0);
    PQfinish (conn);
}

int
main (void)
{
    txw_log_init ("test", TXW_LOG_ERROR);
    if (!mkdtemp (s_dir))
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_load_versions),
        cmocka_unit_test (test_score_is_the_scorers),
        cmocka_unit_test (test_cursor_reads_in_order),
    };
    int failed = cmocka_run_group_tests (tests, NULL, NULL);
    rmdir (s_dir);
    return failed;
}
