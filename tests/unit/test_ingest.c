/*  test_ingest - txw-ingest's body parser, canonical hashes and journal

    Links txw-ingest's modules and the validator's (test_ingest_ALSO): a
    body is parsed into the rows the validator's checks judge, as the
    service does. Bodies good and bad (each error with its line and
    column), the hash's blindness to form and sensitivity to content, and
    the journal against the real schema (runs only when
    TXW_TEST_DATABASE_URL names a PostgreSQL it may write to): new, replay
    and conflict in one statement, a lease that ends and is claimed, an
    acknowledgement, the horizon's delete.                                   */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "body.h"
#include "checks.h"
#include "journal.h"
#include "log.h"
#include "money.h"
#include "testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Parses text (copied: parsing is in place) into rows; the copy is kept
//  in *buf for the rows' views.
static ingest_body_rc_t
s_parse (const char *text, ingest_format_t format, size_t max_rows, ingest_rows_t *rows,
         ingest_body_error_t *err, char **buf)
{
    size_t len = strlen (text);
    *buf = malloc (len + 1);
    assert_non_null (*buf);
    memcpy (*buf, text, len + 1);
    memset (rows, 0, sizeof *rows);
    return ingest_body_parse (*buf, len, format, max_rows, rows, err);
}

static void
s_assert_view (txw_str_t view, const char *expected)
{
    if (!expected) {
        assert_null (view.ptr);
        return;
    }
    assert_non_null (view.ptr);
    assert_int_equal (view.len, strlen (expected));
    assert_memory_equal (view.ptr, expected, view.len);
}

#define S_GOOD \
    "\"tx_id\":\"t-1\",\"ts\":\"2026-01-05T10:00:00Z\",\"account_id\":\"acc-1\"," \
    "\"amount\":\"12.30\",\"currency\":\"EUR\",\"merchant_id\":\"m-1\",\"category\":\"food\"," \
    "\"channel\":\"pos\",\"branch_id\":\"B1\",\"region\":\"north\",\"country\":\"DE\"," \
    "\"device_id\":\"d-1\",\"status\":\"approved\""

static void
test_one_object (void **state)
{
    (void) state;
    ingest_rows_t rows;
    ingest_body_error_t err;
    char *buf;
    assert_int_equal (s_parse ("{" S_GOOD ",\"product_id\":null,\"order_id\":\"o\\u002d1\"}",
                               INGEST_FORMAT_JSON, 10, &rows, &err, &buf), INGEST_BODY_OK);
    assert_int_equal (rows.count, 1);
    const txw_raw_tx_t *raw = &rows.items [0];
    assert_int_equal (raw->bad_field, -1);
    s_assert_view (raw->tx_id, "t-1");
    s_assert_view (raw->amount, "12.30");
    s_assert_view (raw->product_id, NULL);
    s_assert_view (raw->order_id, "o-1");
    s_assert_view (raw->device_type, NULL);
    assert_false (raw->ts_is_int);
    ingest_rows_fini (&rows);
    free (buf);
}

static void
test_numbers (void **state)
{
    (void) state;
    ingest_rows_t rows;
    ingest_body_error_t err;
    char *buf;
    //  The amount keeps its digits; ts may be milliseconds.
    assert_int_equal (s_parse ("{\"tx_id\":\"t\",\"amount\":12.30,\"ts\":1767607200000}",
                               INGEST_FORMAT_JSON, 10, &rows, &err, &buf), INGEST_BODY_OK);
    s_assert_view (rows.items [0].amount, "12.30");
    assert_true (rows.items [0].ts_is_int);
    assert_int_equal (rows.items [0].ts_ms, 1767607200000LL);
    assert_int_equal (rows.items [0].bad_field, -1);
    ingest_rows_fini (&rows);
    free (buf);
    //  A number elsewhere, a fraction or an overflow for ts, true, an
    //  object or an array: the first such field is the row's bad one.
    const char *bad [][2] = {
        { "{\"tx_id\":7}", "tx_id" },
        { "{\"ts\":1.5}", "ts" },
        { "{\"ts\":99999999999999999999}", "ts" },
        { "{\"amount\":true}", "amount" },
        { "{\"region\":{\"a\":[1,{\"b\":null}]}}", "region" },
        { "{\"country\":[],\"channel\":false}", "country" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_parse (bad [i][0], INGEST_FORMAT_JSON, 10, &rows, &err, &buf),
                          INGEST_BODY_OK);
        assert_true (rows.items [0].bad_field >= 0);
        assert_string_equal (txw_raw_field_names [rows.items [0].bad_field], bad [i][1]);
        ingest_rows_fini (&rows);
        free (buf);
    }
}

static void
test_arrays_and_ndjson (void **state)
{
    (void) state;
    ingest_rows_t rows;
    ingest_body_error_t err;
    char *buf;
    assert_int_equal (s_parse (" [ {\"tx_id\":\"a\"} ,\n{\"tx_id\":\"b\"},{}]\n", INGEST_FORMAT_JSON,
                               10, &rows, &err, &buf), INGEST_BODY_OK);
    assert_int_equal (rows.count, 3);
    s_assert_view (rows.items [1].tx_id, "b");
    s_assert_view (rows.items [2].tx_id, NULL);
    ingest_rows_fini (&rows);
    free (buf);
    assert_int_equal (s_parse ("{\"tx_id\":\"a\"}\r\n\n  \n{\"tx_id\":\"b\"}", INGEST_FORMAT_NDJSON,
                               10, &rows, &err, &buf), INGEST_BODY_OK);
    assert_int_equal (rows.count, 2);
    s_assert_view (rows.items [1].tx_id, "b");
    ingest_rows_fini (&rows);
    free (buf);
    //  The row limit.
    assert_int_equal (s_parse ("{}\n{}\n{}", INGEST_FORMAT_NDJSON, 2, &rows, &err, &buf),
                      INGEST_BODY_TOO_MANY);
    assert_int_equal (err.line, 3);
    ingest_rows_fini (&rows);
    free (buf);
}

static void
test_escapes (void **state)
{
    (void) state;
    ingest_rows_t rows;
    ingest_body_error_t err;
    char *buf;
    assert_int_equal (s_parse ("{\"region\":\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"}",
                               INGEST_FORMAT_JSON, 10, &rows, &err, &buf), INGEST_BODY_OK);
    s_assert_view (rows.items [0].region, "a\"b\\c/d\n\t\xC3\xA9\xF0\x9F\x98\x80");
    ingest_rows_fini (&rows);
    free (buf);
}

//  Each malformed body fails whole, at the line and column given.
static void
test_malformed (void **state)
{
    (void) state;
    struct {
        const char *body;
        ingest_format_t format;
        size_t line, column;
        long row;
        const char *says;
    } cases [] = {
        { "", INGEST_FORMAT_JSON, 1, 1, 0, "empty" },
        { "[]", INGEST_FORMAT_JSON, 1, 2, 0, "no transactions" },
        { "\n\n", INGEST_FORMAT_NDJSON, 3, 1, 0, "no transactions" },
        { "[1]", INGEST_FORMAT_JSON, 1, 2, 0, "must be a JSON object" },
        { "{\"tx_id\":\"a\"} x", INGEST_FORMAT_JSON, 1, 15, 1, "after the end" },
        { "{\n  \"tx_id\": \"a\",\n  \"colour\": \"red\"\n}", INGEST_FORMAT_JSON, 3, 3, 0,
          "unknown field \"colour\"" },
        { "{\"tx_id\":\"a\",\"tx_id\":\"b\"}", INGEST_FORMAT_JSON, 1, 14, 0, "given twice" },
        { "{\"tx_id\":\"a}", INGEST_FORMAT_JSON, 1, 13, 0, "not closed" },
        { "{\"tx_id\" \"a\"}", INGEST_FORMAT_JSON, 1, 10, 0, "expected ':'" },
        { "{\"tx_id\":\"a\\x\"}", INGEST_FORMAT_JSON, 1, 12, 0, "unknown escape" },
        { "{\"tx_id\":\"\\ud800\"}", INGEST_FORMAT_JSON, 1, 11, 0, "surrogate" },
        { "{\"tx_id\":\"a\tb\"}", INGEST_FORMAT_JSON, 1, 12, 0, "control character" },
        { "{\"amount\":01}", INGEST_FORMAT_JSON, 1, 12, 0, "expected ','" },
        { "{\"amount\":-}", INGEST_FORMAT_JSON, 1, 11, 0, "malformed number" },
        { "{\"amount\":nul}", INGEST_FORMAT_JSON, 1, 11, 0, "unexpected character" },
        { "{}\n{\"tx_id\":\n\"a\"}", INGEST_FORMAT_NDJSON, 2, 10, 1, "value is missing" },
        { "{} {}", INGEST_FORMAT_NDJSON, 1, 4, 1, "on its line" },
        { "{\"tx_id\":\"\xC3\"}", INGEST_FORMAT_JSON, 1, 1, -1, "UTF-8" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        ingest_rows_t rows;
        ingest_body_error_t err;
        char *buf;
        ingest_body_rc_t rc = s_parse (cases [i].body, cases [i].format, 10, &rows, &err, &buf);
        if (rc != INGEST_BODY_MALFORMED || err.line != cases [i].line
        ||  err.column != cases [i].column || err.row != cases [i].row
        ||  !strstr (err.message, cases [i].says))
            fail_msg ("case %zu '%s': rc %d at %zu:%zu row %ld: %s", i, cases [i].body, rc,
                      err.line, err.column, err.row, err.message);
        ingest_rows_fini (&rows);
        free (buf);
    }
    //  Nesting is bounded.
    char deep [200] = "{\"region\":";
    for (int i = 0; i < 40; i++)
        strcat (deep, "[");
    ingest_rows_t rows;
    ingest_body_error_t err;
    char *buf;
    assert_int_equal (s_parse (deep, INGEST_FORMAT_JSON, 10, &rows, &err, &buf),
                      INGEST_BODY_MALFORMED);
    assert_non_null (strstr (err.message, "nested deeper"));
    ingest_rows_fini (&rows);
    free (buf);
}

static void
s_hash_of (const char *body, uint8_t hash [INGEST_HASH_SIZE])
{
    ingest_rows_t rows;
    ingest_body_error_t err;
    char *buf;
    assert_int_equal (s_parse (body, INGEST_FORMAT_JSON, 10, &rows, &err, &buf), INGEST_BODY_OK);
    ingest_row_hash (&rows.items [0], hash);
    ingest_rows_fini (&rows);
    free (buf);
}

static void
test_hash (void **state)
{
    (void) state;
    uint8_t a [INGEST_HASH_SIZE], b [INGEST_HASH_SIZE];
    s_hash_of ("{\"tx_id\":\"t\",\"amount\":\"12.30\",\"region\":\"north\"}", a);
    //  Key order, whitespace, escapes, a number for the text, values
    //  trimmed, an empty or null field: the same content.
    const char *same [] = {
        "{ \"region\" : \"north\" , \"amount\" : 12.30, \"tx_id\" : \"t\" }",
        "{\"tx_id\":\"\\u0074\",\"amount\":\"12.30\",\"region\":\"nor\\u0074h\"}",
        "{\"tx_id\":\" t\",\"amount\":\"12.30 \",\"region\":\"north\",\"product_id\":null}",
        "{\"tx_id\":\"t\",\"amount\":\"12.30\",\"region\":\"north\",\"order_id\":\"  \"}",
    };
    for (size_t i = 0; i < sizeof same / sizeof same [0]; i++) {
        s_hash_of (same [i], b);
        assert_memory_equal (a, b, INGEST_HASH_SIZE);
    }
    //  Any other value, or a value in another field: another content.
    const char *other [] = {
        "{\"tx_id\":\"t\",\"amount\":\"12.3\",\"region\":\"north\"}",
        "{\"tx_id\":\"t\",\"amount\":\"12.30\",\"region\":\"North\"}",
        "{\"tx_id\":\"t\",\"amount\":\"12.30\",\"branch_id\":\"north\"}",
        "{\"tx_id\":\"t\",\"amount\":\"12.30\",\"region\":\"nort\",\"branch_id\":\"h\"}",
        "{\"tx_id\":\"t\",\"amount\":\"12.30\",\"region\":\"north\",\"ts\":0}",
        "{\"tx_id\":\"t\",\"amount\":\"12.30\",\"region\":\"north\",\"ts\":\"0\"}",
    };
    for (size_t i = 0; i < sizeof other / sizeof other [0]; i++) {
        s_hash_of (other [i], b);
        if (!memcmp (a, b, INGEST_HASH_SIZE))
            fail_msg ("'%s' hashes like the first", other [i]);
    }
    uint8_t c [INGEST_HASH_SIZE], d [INGEST_HASH_SIZE];
    ingest_correction_hash ("reversed", "ab", c);
    ingest_correction_hash ("reversed", "ab", d);
    assert_memory_equal (c, d, INGEST_HASH_SIZE);
    ingest_correction_hash ("reverseda", "b", d);
    assert_memory_not_equal (c, d, INGEST_HASH_SIZE);
}

//  A parsed row is judged by the validator's checks as a decoded one is.
static void
test_rows_through_checks (void **state)
{
    (void) state;
    char error [128];
    txw_rates_t *rates = txw_rates_load ("", "EUR", error, sizeof error);
    assert_non_null (rates);
    checks_t *checks = checks_new (rates, 946684800000LL, 300000);
    assert_non_null (checks);
    ingest_rows_t rows;
    ingest_body_error_t err;
    char *buf;
    assert_int_equal (s_parse ("{" S_GOOD "}\n{\"tx_id\":\"t-2\",\"amount\":12.345}",
                               INGEST_FORMAT_NDJSON, 10, &rows, &err, &buf), INGEST_BODY_OK);
    txw_tx_t tx;
    checks_verdict_t verdict;
    assert_int_equal (checks_apply (checks, &rows.items [0], 1767607200000LL, &tx, &verdict), 0);
    assert_string_equal (tx.tx_id, "t-1");
    assert_int_equal (tx.amount_minor, 1230);
    assert_int_equal (tx.ts_ms, 1767607200000LL);
    assert_int_equal (checks_apply (checks, &rows.items [1], 1767607200000LL, &tx, &verdict), -1);
    assert_int_equal (verdict.code, TXW_REJECT_MISSING_FIELD);
    ingest_rows_fini (&rows);
    free (buf);
    checks_destroy (&checks);
    txw_rates_destroy (&rates);
}

static ingest_entry_t
s_entry (ingest_kind_t kind, const char *tx_id, const char *content)
{
    ingest_entry_t e = { .kind = kind, .record = content, .record_len = strlen (content) };
    snprintf (e.tx_id, sizeof e.tx_id, "%s", tx_id);
    ingest_correction_hash (content, "", e.hash);
    return e;
}

static void
s_claimed (void *arg, ingest_kind_t kind, const char *tx_id, const void *record, size_t len)
{
    char *seen = arg;
    char line [128];
    snprintf (line, sizeof line, "%s:%s:%.*s;", ingest_kind_names [kind], tx_id, (int) len,
              (const char *) record);
    strcat (seen, line);
}

//  The journal against the real schema.
static void
test_journal (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.ingest_journal"), 0);
    ingest_journal_t *journal = ingest_journal_new (url, 1000, 5000);
    assert_non_null (journal);
    //  In one statement: two new ids, the first again (same content), and
    //  again with other content; a correction is a kind of its own.
    ingest_entry_t entries [] = {
        s_entry (INGEST_KIND_TRANSACTION, "j-a", "A"),
        s_entry (INGEST_KIND_TRANSACTION, "j-b", "B"),
        s_entry (INGEST_KIND_TRANSACTION, "j-a", "A"),
        s_entry (INGEST_KIND_TRANSACTION, "j-a", "other"),
        s_entry (INGEST_KIND_CORRECTION, "j-a", "reversed"),
    };
    assert_int_equal (ingest_journal_accept (journal, entries, 5), 0);
    assert_true (ingest_journal_ready (journal));
    assert_int_equal (entries [0].outcome, INGEST_NEW);
    assert_int_equal (entries [1].outcome, INGEST_NEW);
    assert_int_equal (entries [2].outcome, INGEST_REPLAY);
    assert_int_equal (entries [3].outcome, INGEST_CONFLICT);
    assert_int_equal (entries [4].outcome, INGEST_NEW);
    //  Later: what was journaled answers the same.
    ingest_entry_t later [] = {
        s_entry (INGEST_KIND_TRANSACTION, "j-b", "B"),
        s_entry (INGEST_KIND_CORRECTION, "j-a", "refunded"),
        s_entry (INGEST_KIND_TRANSACTION, "j-c", "C"),
    };
    assert_int_equal (ingest_journal_accept (journal, later, 3), 0);
    assert_int_equal (later [0].outcome, INGEST_REPLAY);
    assert_int_equal (later [1].outcome, INGEST_CONFLICT);
    assert_int_equal (later [2].outcome, INGEST_NEW);
    assert_int_equal (ingest_journal_pending (journal), 4);

    //  Leases ended: every record is claimed once, with what was journaled,
    //  and its lease renewed.
    assert_int_equal (txw_pg_exec (conn, "UPDATE txw_data.ingest_journal "
                                         "SET lease_until = now () - interval '1 s'"), 0);
    char seen [1024] = "";
    assert_int_equal (ingest_journal_claim (journal, 10, s_claimed, seen), 4);
    assert_non_null (strstr (seen, "transaction:j-a:A;"));
    assert_non_null (strstr (seen, "correction:j-a:reversed;"));
    assert_non_null (strstr (seen, "transaction:j-c:C;"));
    PGresult *res = PQexec (conn, "SELECT count(*) FROM txw_data.ingest_journal "
                                  "WHERE sends = 2 AND lease_until > now ()");
    assert_string_equal (PQgetvalue (res, 0, 0), "4");
    PQclear (res);

    //  Acknowledged, then deleted past a horizon of 0 hours.
    const char *ids [] = { "j-a", "j-b" };
    assert_int_equal (ingest_journal_ack (journal, INGEST_KIND_TRANSACTION, ids, 2), 0);
    assert_int_equal (ingest_journal_pending (journal), 2);
    assert_int_equal (ingest_journal_purge (journal, 1), 0);
    assert_int_equal (ingest_journal_purge (journal, 0), 2);
    assert_int_equal (ingest_journal_pending (journal), 2);

    ingest_stored_t stored;
    assert_int_equal (ingest_journal_stored (journal, "no-such-tx", &stored), 0);
    ingest_journal_destroy (&journal);
    assert_int_equal (txw_pg_exec (conn, "DELETE FROM txw_data.ingest_journal"), 0);
    PQfinish (conn);
}

int
main (void)
{
    txw_log_init ("test", TXW_LOG_ERROR);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_one_object),
        cmocka_unit_test (test_numbers),
        cmocka_unit_test (test_arrays_and_ndjson),
        cmocka_unit_test (test_escapes),
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_hash),
        cmocka_unit_test (test_rows_through_checks),
        cmocka_unit_test (test_journal),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
