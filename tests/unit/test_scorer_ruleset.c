/*  test_scorer_ruleset - rule files: the shipped default, good files and
    every kind of broken one (each refused whole, with a message naming it) */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ruleset.h"

static const char *s_good =
    "{ \"version\": \"team-7\", \"description\": \"test\",\n"
    "  \"rules\": [\n"
    "    { \"name\": \"big\", \"reason\": \"amount_spike\", \"weight\": 60,\n"
    "      \"when\": [[\"amount_ratio\", \">=\", 5], [\"history\", \">=\", 3]] },\n"
    "    { \"name\": \"quick_travel\", \"reason\": \"impossible_travel\", \"weight\": 30,\n"
    "      \"when\": [[\"country_changed\", \">=\", 1], [\"since_prev_s\", \"<=\", 600]],\n"
    "      \"note\": \"two countries within ten minutes\" },\n"
    "    { \"name\": \"trusted\", \"reason\": \"risky_category\", \"weight\": -10, \"hard\": true,\n"
    "      \"when\": [[\"history\", \">=\", 100]] }\n"
    "  ],\n"
    "  \"categories\": { \"jewelry\": { \"risk\": 3, \"amount_factor\": 6 } } }";

static void
test_good_file (void **state)
{
    (void) state;
    rules_set_t set;
    char err [256] = "";
    assert_int_equal (ruleset_parse (s_good, strlen (s_good), &set, err, sizeof err), 0);
    assert_string_equal (set.version, "team-7");
    assert_int_equal (set.count, 3);
    assert_string_equal (set.rules [1].name, "quick_travel");
    assert_int_equal (set.rules [1].when [1].signal, RULES_SIG_SINCE_PREV_S);
    assert_int_equal (set.rules [1].when [1].op, RULES_OP_LE);
    assert_true (set.rules [1].when [1].threshold == 600);
    assert_int_equal (set.rules [1].when [2].op, RULES_OP_NONE);
    assert_int_equal (set.rules [2].weight, -10);
    assert_false (set.rules [1].hard);
    assert_true (set.rules [2].hard);
    assert_int_equal (set.category_count, 1);
    assert_int_equal (set.categories [0].risk, 3);
    //  No "reporting_limit": the usual one, 10,000.00.
    assert_int_equal (set.reporting_limit_minor, RULES_REPORTING_LIMIT * 100);
    rules_t *rules = rules_new (&set, NULL);
    assert_non_null (rules);
    assert_string_equal (rules_model_version (rules), "team-7");
    rules_destroy (&rules);

    //  The same through a file.
    char path [] = "/tmp/txw-ruleset-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, s_good, strlen (s_good)), (ssize_t) strlen (s_good));
    close (fd);
    assert_int_equal (ruleset_load (path, &set, err, sizeof err), 0);
    assert_int_equal (set.count, 3);
    unlink (path);
    assert_int_equal (ruleset_load (path, &set, err, sizeof err), -1);
    assert_non_null (strstr (err, "No such file"));
}

static void
test_default_is_shipped (void **state)
{
    (void) state;
    const rules_set_t *set = ruleset_default ();
    assert_true (set->count >= 20);
    assert_string_equal (set->version, "rules-4");
    assert_ptr_equal (ruleset_default (), set);
    assert_int_equal (set->reporting_limit_minor, 1000000);     //  10,000.00
}

//  Each broken file is refused with a message that contains the expected text.
static void
test_broken_files (void **state)
{
    (void) state;
    static const struct { const char *json; const char *expect; } cases [] = {
        { "", "not valid JSON" },
        { "[1, 2]", "one JSON object" },
        { "{ \"version\": \"x\", \"rules\": [] }", "1 to 64 rules" },
        { "{ \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\", \"weight\": 1,"
          " \"when\": [[\"history\", \">=\", 1]] } ] }", "\"version\"" },
        { "{ \"version\": \"x\", \"rulez\": [] }", "unknown key 'rulez'" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"small_onlin\", \">=\", 1]] } ] }",
          "rules[0] (a): unknown signal 'small_onlin'" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] } ] }", "reason code" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 101, \"when\": [[\"history\", \">=\", 1]] } ] }", "-100 to 100" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 1.5, \"when\": [[\"history\", \">=\", 1]] } ] }", "integer" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">\", 1]] } ] }", "operator" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", \"3\"]] } ] }", "finite number" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [] } ] }", "1 to 3 conditions" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1], [\"history\", \">=\", 1],"
          " [\"history\", \">=\", 1], [\"history\", \">=\", 1]] } ] }", "1 to 3 conditions" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]], \"wieght\": 3 } ] }",
          "unknown key 'wieght'" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"hard\": 1, \"when\": [[\"history\", \">=\", 1]] } ] }",
          "rules[0] (a): \"hard\" must be true or false" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] },"
          " { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] } ] }", "used twice" },
        { "{ \"version\": \"x\", \"rules\": [ { \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] } ] }", "rules[0]: needs a \"name\"" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] } ],"
          " \"categories\": { \"jewelry\": { \"risk\": 4, \"amount_factor\": 1 } } }", "0 to 3" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] } ],"
          " \"categories\": { \"jewelry\": { \"risk\": 1, \"amount_factor\": 0 } } }", "0.01 to 1000" },
        { "{ \"version\": \"x\", \"version\": \"y\", \"rules\": [] }", "not valid JSON" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] } ], \"reporting_limit\": 0 }",
          "\"reporting_limit\" must be a number from 1" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] } ], \"reporting_limit\": \"10000\" }",
          "\"reporting_limit\" must be a number from 1" },
        { "{ \"version\": \"x\", \"rules\": [ { \"name\": \"a\", \"reason\": \"amount_spike\","
          " \"weight\": 10, \"when\": [[\"history\", \">=\", 1]] } ], \"reporting_limit\": 1e13 }",
          "\"reporting_limit\" must be a number from 1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        rules_set_t set;
        char err [256] = "";
        int rc = ruleset_parse (cases [i].json, strlen (cases [i].json), &set, err, sizeof err);
        if (rc != -1 || !strstr (err, cases [i].expect)) {
            print_error ("case %zu: rc %d, message '%s', expected '%s'\n", i, rc, err,
                         cases [i].expect);
            fail ();
        }
        assert_int_equal (set.count, 0);        //  nothing of a broken file is kept
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_good_file),
        cmocka_unit_test (test_default_is_shipped),
        cmocka_unit_test (test_broken_files),
    };
    return cmocka_run_group_tests_name ("scorer rule files", tests, NULL, NULL);
}
