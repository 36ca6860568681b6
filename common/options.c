/*  options - one table per service gives flags, TXW_* variables and --help  */

#include "options.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_env_name (const char *name, char *out, size_t size)
{
    size_t o = snprintf (out, size, "TXW_");
    for (const char *p = name; *p && o + 1 < size; p++)
        out [o++] = *p == '-'? '_': (char) toupper ((unsigned char) *p);
    out [o] = 0;
}

static int
s_assign (const txw_option_t *opt, const char *value, const char *origin)
{
    char *end;
    switch (opt->type) {
        case TXW_OPT_STRING:
            *(const char **) opt->target = value;
            return 0;
        case TXW_OPT_BOOL:
            if (!value || !strcmp (value, "1") || !strcmp (value, "true")
            ||  !strcmp (value, "yes") || !strcmp (value, "on"))
                *(bool *) opt->target = true;
            else
            if (!strcmp (value, "0") || !strcmp (value, "false")
            ||  !strcmp (value, "no") || !strcmp (value, "off"))
                *(bool *) opt->target = false;
            else
                goto bad;
            return 0;
        case TXW_OPT_INT: {
            if (!value || !*value)
                goto bad;
            errno = 0;
            long long v = strtoll (value, &end, 10);
            if (errno || *end)
                goto bad;
            if ((opt->min || opt->max) && (v < opt->min || v > opt->max)) {
                fprintf (stderr, "error: %s %s=%s is out of range %.0f..%.0f\n",
                         origin, opt->name, value, opt->min, opt->max);
                return -1;
            }
            *(int64_t *) opt->target = v;
            return 0;
        }
        case TXW_OPT_DOUBLE: {
            if (!value || !*value)
                goto bad;
            errno = 0;
            double v = strtod (value, &end);
            if (errno || *end || v != v)
                goto bad;
            if ((opt->min || opt->max) && (v < opt->min || v > opt->max)) {
                fprintf (stderr, "error: %s %s=%s is out of range %g..%g\n",
                         origin, opt->name, value, opt->min, opt->max);
                return -1;
            }
            *(double *) opt->target = v;
            return 0;
        }
    }
bad:
    fprintf (stderr, "error: %s %s has a bad value '%s'\n",
             origin, opt->name, value? value: "");
    return -1;
}

void
txw_options_usage (const txw_option_t *table, const char *program,
                   const char *summary)
{
    printf ("Usage: %s [options]\n%s\n\nOptions (flag / environment variable, default):\n",
            program, summary);
    for (const txw_option_t *opt = table; opt->name; opt++) {
        char env [96];
        s_env_name (opt->name, env, sizeof env);
        const char *arg = opt->type == TXW_OPT_BOOL? " [true|false]": opt->type == TXW_OPT_STRING? " TEXT":
                          opt->type == TXW_OPT_INT? " N": " X";
        char flag [96];
        snprintf (flag, sizeof flag, "--%s%s", opt->name, arg);
        printf ("  %-30s %-28s default: %s\n      %s\n", flag, env,
                opt->fallback? (*opt->fallback? opt->fallback: "\"\""): "(unset)",
                opt->help);
    }
    printf ("  %-30s %-28s\n      %s\n", "--help", "", "print this help and exit");
    printf ("  %-30s %-28s\n      %s\n", "--version", "", "print the version and exit");
}

static bool
s_is_bool_word (const char *s)
{
    static const char *words [] = { "1", "0", "true", "false", "yes", "no", "on", "off", NULL };
    for (const char **w = words; *w; w++)
        if (!strcmp (s, *w))
            return true;
    return false;
}

int
txw_options_parse (const txw_option_t *table, int argc, char **argv,
                   const char *program, const char *summary)
{
    for (const txw_option_t *opt = table; opt->name; opt++) {
        if (opt->fallback || opt->type == TXW_OPT_STRING)
            if (s_assign (opt, opt->fallback, "default") && opt->fallback)
                return -1;
        if (!opt->fallback && opt->type == TXW_OPT_BOOL)
            *(bool *) opt->target = false;
    }
    for (const txw_option_t *opt = table; opt->name; opt++) {
        char env [96];
        s_env_name (opt->name, env, sizeof env);
        const char *value = getenv (env);
        if (value && s_assign (opt, value, env) != 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        if (!strcmp (arg, "--help") || !strcmp (arg, "-h")) {
            txw_options_usage (table, program, summary);
            return 1;
        }
        if (!strcmp (arg, "--version")) {
            printf ("%s %s\n", program, TXW_VERSION);
            return 1;
        }
        if (strncmp (arg, "--", 2) != 0) {
            fprintf (stderr, "error: unexpected argument '%s' (see --help)\n", arg);
            return -1;
        }
        const char *name = arg + 2;
        const char *eq = strchr (name, '=');
        size_t name_len = eq? (size_t) (eq - name): strlen (name);
        const txw_option_t *opt = table;
        for (; opt->name; opt++)
            if (strlen (opt->name) == name_len && !strncmp (opt->name, name, name_len))
                break;
        if (!opt->name) {
            fprintf (stderr, "error: unknown option '--%.*s' (see --help)\n",
                     (int) name_len, name);
            return -1;
        }
        const char *value = NULL;
        if (eq)
            value = eq + 1;
        else
        if (opt->type == TXW_OPT_BOOL) {
            //  "--migrate false" as well as "--migrate" and "--migrate=false".
            if (i + 1 < argc && s_is_bool_word (argv [i + 1]))
                value = argv [++i];
        }
        else {
            if (i + 1 >= argc) {
                fprintf (stderr, "error: option --%s needs a value\n", opt->name);
                return -1;
            }
            value = argv [++i];
        }
        if (s_assign (opt, value, "option") != 0)
            return -1;
    }
    return 0;
}

int
txw_split_list (char *buf, char **items, int max)
{
    int count = 0;
    char *save = NULL;
    for (char *tok = strtok_r (buf, ", \t", &save); tok && count < max;
         tok = strtok_r (NULL, ", \t", &save))
        items [count++] = tok;
    return count;
}
