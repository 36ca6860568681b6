/*  test_options - flags, TXW_* variables and defaults from one table        */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "options.h"

typedef struct {
    const char *store;
    int64_t rate;
    double share;
    bool migrate;
    bool verbose;
} s_config_t;

static int
s_parse (s_config_t *cfg, int argc, char **argv)
{
    const txw_option_t table [] = {
        { "store", TXW_OPT_STRING, "all", "what to store", &cfg->store, 0, 0 },
        { "rate", TXW_OPT_INT, "200", "records per second", &cfg->rate, 0, 1000 },
        { "share", TXW_OPT_DOUBLE, "0.5", "a fraction", &cfg->share, 0, 1 },
        { "migrate", TXW_OPT_BOOL, "true", "apply migrations", &cfg->migrate, 0, 0 },
        { "verbose", TXW_OPT_BOOL, NULL, "talk more", &cfg->verbose, 0, 0 },
        TXW_OPTIONS_END
    };
    return txw_options_parse (table, argc, argv, "test", "a test");
}

static void
test_defaults_flags_and_variables (void **state)
{
    (void) state;
    s_config_t cfg;
    char *none [] = { "test", NULL };
    unsetenv ("TXW_RATE");
    assert_int_equal (s_parse (&cfg, 1, none), 0);
    assert_string_equal (cfg.store, "all");
    assert_int_equal (cfg.rate, 200);
    assert_true (cfg.migrate);
    assert_false (cfg.verbose);

    setenv ("TXW_RATE", "300", 1);
    assert_int_equal (s_parse (&cfg, 1, none), 0);
    assert_int_equal (cfg.rate, 300);
    char *flags [] = { "test", "--rate", "400", "--store=none", "--share", "0.25", NULL };
    assert_int_equal (s_parse (&cfg, 6, flags), 0);
    assert_int_equal (cfg.rate, 400);           //  a flag wins over the variable
    assert_string_equal (cfg.store, "none");
    assert_true (cfg.share == 0.25);
    unsetenv ("TXW_RATE");
}

static void
test_booleans (void **state)
{
    (void) state;
    s_config_t cfg;
    char *bare [] = { "test", "--verbose", "--rate", "5", NULL };
    assert_int_equal (s_parse (&cfg, 4, bare), 0);
    assert_true (cfg.verbose);
    assert_int_equal (cfg.rate, 5);
    char *spaced [] = { "test", "--migrate", "false", "--verbose", "no", NULL };
    assert_int_equal (s_parse (&cfg, 5, spaced), 0);
    assert_false (cfg.migrate);
    assert_false (cfg.verbose);
    char *joined [] = { "test", "--migrate=off", NULL };
    assert_int_equal (s_parse (&cfg, 2, joined), 0);
    assert_false (cfg.migrate);
    //  A word that is not a boolean is the next argument, not the value.
    char *next [] = { "test", "--verbose", "stray", NULL };
    assert_int_equal (s_parse (&cfg, 3, next), -1);
    char *bad [] = { "test", "--migrate=maybe", NULL };
    assert_int_equal (s_parse (&cfg, 2, bad), -1);
}

static void
test_errors (void **state)
{
    (void) state;
    s_config_t cfg;
    char *range [] = { "test", "--rate", "5000", NULL };
    assert_int_equal (s_parse (&cfg, 3, range), -1);
    char *nan [] = { "test", "--rate", "fast", NULL };
    assert_int_equal (s_parse (&cfg, 3, nan), -1);
    char *unknown [] = { "test", "--rat", "5", NULL };
    assert_int_equal (s_parse (&cfg, 3, unknown), -1);
    char *missing [] = { "test", "--store", NULL };
    assert_int_equal (s_parse (&cfg, 2, missing), -1);
    setenv ("TXW_SHARE", "2", 1);
    char *none [] = { "test", NULL };
    assert_int_equal (s_parse (&cfg, 1, none), -1);
    unsetenv ("TXW_SHARE");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_defaults_flags_and_variables),
        cmocka_unit_test (test_booleans),
        cmocka_unit_test (test_errors),
    };
    return cmocka_run_group_tests_name ("options", tests, NULL, NULL);
}
