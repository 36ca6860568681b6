/*  fuzz_ruleset - the scorer's JSON rule files, checked whole

    A set that ruleset_parse accepts must keep every promise of ruleset.h
    (known reasons and signals, operators, weights -100..100, 1 to 3
    conditions, unique names, finite thresholds, category risk 0..3 and
    factor 0.01..1000), must be taken by rules_new, and written back to
    JSON must parse to the very same set. A refused file leaves the set
    zeroed and says why.                                                    */

#include "ruleset.h"
#include "reasons.h"
#include "fuzz.h"

#include <jansson.h>
#include <math.h>

static void
s_check_set (const rules_set_t *set)
{
    size_t version = strnlen (set->version, sizeof set->version);
    FUZZ_CHECK (version >= 1 && version <= 16, "version of %zu bytes", version);
    FUZZ_CHECK (set->count >= 1 && set->count <= RULES_MAX, "%zu rules", set->count);
    for (size_t r = 0; r < set->count; r++) {
        const rules_rule_t *rule = &set->rules [r];
        size_t name = strnlen (rule->name, sizeof rule->name);
        FUZZ_CHECK (name >= 1 && name <= TXW_NAME_MAX, "rule %zu: name of %zu bytes", r, name);
        for (size_t q = 0; q < r; q++)
            FUZZ_CHECK (strcmp (set->rules [q].name, rule->name), "rule name '%s' twice",
                        rule->name);
        FUZZ_CHECK (rule->reason_bit >= 0 && rule->reason_bit < TXW_REASON_COUNT,
                    "rule %s: reason bit %d", rule->name, rule->reason_bit);
        FUZZ_CHECK (rule->weight >= -100 && rule->weight <= 100, "rule %s: weight %d",
                    rule->name, rule->weight);
        FUZZ_CHECK (rule->when [0].op != RULES_OP_NONE, "rule %s has no condition",
                    rule->name);
        bool ended = false;
        for (int c = 0; c < RULES_MAX_CONDITIONS; c++) {
            const rules_condition_t *cond = &rule->when [c];
            if (cond->op == RULES_OP_NONE) {
                ended = true;
                continue;
            }
            FUZZ_CHECK (!ended, "rule %s: condition %d after an unused one", rule->name, c);
            FUZZ_CHECK (cond->op == RULES_OP_GE || cond->op == RULES_OP_LE,
                        "rule %s: operator %d", rule->name, cond->op);
            FUZZ_CHECK ((int) cond->signal >= 0 && cond->signal < RULES_SIG_COUNT,
                        "rule %s: signal %d", rule->name, cond->signal);
            FUZZ_CHECK (isfinite (cond->threshold), "rule %s: threshold %g", rule->name,
                        cond->threshold);
        }
    }
    FUZZ_CHECK (set->category_count <= RULES_MAX_CATEGORIES, "%zu categories",
                set->category_count);
    for (size_t k = 0; k < set->category_count; k++) {
        const rules_category_t *cat = &set->categories [k];
        size_t name = strnlen (cat->name, sizeof cat->name);
        FUZZ_CHECK (name >= 1 && name <= TXW_NAME_MAX, "category %zu: name of %zu bytes", k,
                    name);
        for (size_t q = 0; q < k; q++)
            FUZZ_CHECK (strcmp (set->categories [q].name, cat->name),
                        "category '%s' twice", cat->name);
        FUZZ_CHECK (cat->risk >= 0 && cat->risk <= 3, "category %s: risk %d", cat->name,
                    cat->risk);
        FUZZ_CHECK (cat->amount_factor >= 0.01 && cat->amount_factor <= 1000,
                    "category %s: factor %g", cat->name, cat->amount_factor);
    }
}

//  The set as a rule file.
static char *
s_write (const rules_set_t *set)
{
    json_t *rules = json_array ();
    for (size_t r = 0; r < set->count; r++) {
        const rules_rule_t *rule = &set->rules [r];
        json_t *when = json_array ();
        for (int c = 0; c < RULES_MAX_CONDITIONS && rule->when [c].op != RULES_OP_NONE; c++)
            json_array_append_new (when, json_pack ("[s,s,f]",
                rules_signal_name (rule->when [c].signal),
                rule->when [c].op == RULES_OP_GE? ">=": "<=", rule->when [c].threshold));
        json_array_append_new (rules, json_pack ("{s:s,s:s,s:i,s:o}", "name", rule->name,
            "reason", txw_reason_name (rule->reason_bit), "weight", rule->weight,
            "when", when));
    }
    json_t *categories = json_object ();
    for (size_t k = 0; k < set->category_count; k++)
        json_object_set_new (categories, set->categories [k].name,
                             json_pack ("{s:i,s:f}", "risk", set->categories [k].risk,
                                        "amount_factor", set->categories [k].amount_factor));
    json_t *root = json_pack ("{s:s,s:o,s:o}", "version", set->version, "rules", rules,
                              "categories", categories);
    FUZZ_CHECK (root, "cannot build the JSON of a set");
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    FUZZ_CHECK (text, "cannot write the JSON of a set");
    return text;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static rules_set_t set, again;
    static const rules_set_t zero;
    char err [256] = "";
    int rc = ruleset_parse ((const char *) data, size, &set, err, sizeof err);
    FUZZ_CHECK (rc == 0 || rc == -1, "returned %d", rc);
    if (rc) {
        FUZZ_CHECK (err [0], "refused without a reason");
        FUZZ_CHECK (!memcmp (&set, &zero, sizeof set), "a refused file left a set behind");
        return 0;
    }
    s_check_set (&set);
    rules_t *rules = rules_new (&set, NULL);
    FUZZ_CHECK (rules, "rules_new refuses a set ruleset_parse accepted");
    FUZZ_CHECK (rules_count (rules) == set.count, "%zu rules in use of %zu",
                rules_count (rules), set.count);
    rules_destroy (&rules);

    char *text = s_write (&set);
    rc = ruleset_parse (text, strlen (text), &again, err, sizeof err);
    FUZZ_CHECK (rc == 0, "the set written back is refused: %s\n%s", err, text);
    FUZZ_CHECK (!memcmp (&set, &again, sizeof set), "the set written back differs:\n%s", text);
    free (text);
    return 0;
}
