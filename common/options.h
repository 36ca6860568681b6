/*  options - one table per service gives flags, TXW_* variables and --help

    Each option has one name. `--rate 200`, `--rate=200` and TXW_RATE=200 set
    the same thing; a flag wins over the variable, the variable over the
    default. The table is also what --help prints, so the documentation can
    never drift from what the parser accepts.                                 */

#ifndef TXW_OPTIONS_H
#define TXW_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TXW_OPT_STRING,     //  target: const char **  (borrowed from argv/env/table)
    TXW_OPT_INT,        //  target: int64_t *, checked against min..max
    TXW_OPT_DOUBLE,     //  target: double *, checked against min..max
    TXW_OPT_BOOL        //  target: bool *; "--flag" alone means true; "--flag false",
                        //  "--flag=no" and the like set it false
} txw_opt_type_t;

typedef struct {
    const char *name;           //  "store" gives --store and TXW_STORE
    txw_opt_type_t type;
    const char *fallback;       //  default, as text; NULL for "unset"
    const char *help;
    void *target;
    double min, max;            //  numeric bounds; both 0 means unbounded
} txw_option_t;

#define TXW_OPTIONS_END { NULL, TXW_OPT_STRING, NULL, NULL, NULL, 0, 0 }

//  Fills every target from defaults, then TXW_* variables, then argv.
//  Returns 0 to go on, 1 when --help or --version was printed (exit 0), and
//  -1 after printing a one-line error for a bad flag or value (exit 2).
int txw_options_parse (const txw_option_t *table, int argc, char **argv,
                       const char *program, const char *summary);

//  Prints the --help text for table to stdout.
void txw_options_usage (const txw_option_t *table, const char *program,
                        const char *summary);

//  Splits a comma-separated list in place into at most max items; returns the
//  count. Empty items are skipped. The caller owns buf (a writable copy).
int txw_split_list (char *buf, char **items, int max);

#endif
