/*  ruleset - reads a rule set from JSON and checks it whole

    A rule file is what a fraud team edits: a version, rows of rules and
    the merchant categories' risk, for example

        { "version": "rules-4",
          "rules": [ { "name": "amount_spike", "reason": "amount_spike",
                       "weight": 50,
                       "when": [ ["history", ">=", 3], ["amount_ratio", ">=", 4] ] } ],
          "categories": { "jewelry": { "risk": 3, "amount_factor": 6.0 } } }

    Every part is checked before anything is used: known reason codes and
    signals, operators ">=" and "<=", weights -100..100, at most three
    conditions a rule, "hard" (optional: the row's weight counts with a
    supervised model too, rules.h) true or false, unique names, finite
    thresholds, no unknown keys (a typo must not silently mean "no
    condition"). The first problem found is returned as one line naming the
    rule, e.g.
    "rules[3] (card_testing): unknown signal 'small_onlin'", and nothing of
    the file is used. The default set is services/scorer/default-rules.json,
    compiled in.                                                              */

#ifndef TXW_SCORER_RULESET_H
#define TXW_SCORER_RULESET_H

#include "rules.h"

#include <stddef.h>

//  Parses text (len bytes) into *set. Returns 0, or -1 with the reason in err.
int ruleset_parse (const char *text, size_t len, rules_set_t *set, char *err, size_t err_size);

//  Reads and parses a file (at most 1 MiB). Returns 0, or -1 with the reason
//  in err (prefixed with the path).
int ruleset_load (const char *path, rules_set_t *set, char *err, size_t err_size);

//  The compiled-in default set, parsed once. Never NULL: the unit tests
//  prove the shipped file parses.
const rules_set_t *ruleset_default (void);

#endif
