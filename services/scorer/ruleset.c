/*  ruleset - reads a rule set from JSON and checks it whole                 */

#include "ruleset.h"
#include "reasons.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_FILE  (1024 * 1024)

//  Generated from default-rules.json at build time (build/gen).
extern const char txw_default_rules_json [];
extern const size_t txw_default_rules_json_size;

static int
s_fail (char *err, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (err, size, format, args);
    va_end (args);
    return -1;
}

static int
s_reason_bit (const char *name)
{
    for (int bit = 0; bit < TXW_REASON_COUNT; bit++)
        if (!strcmp (name, txw_reason_name (bit)))
            return bit;
    return -1;
}

//  Only the keys listed may appear in object.
static const char *
s_unknown_key (json_t *object, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        const char *const *a = allowed;
        while (*a && strcmp (*a, key))
            a++;
        if (!*a)
            return key;
    }
    return NULL;
}

static int
s_condition (json_t *item, rules_condition_t *cond, const char *where,
             char *err, size_t size)
{
    if (!json_is_array (item) || json_array_size (item) != 3)
        return s_fail (err, size, "%s: a condition is [\"signal\", \">=\" or \"<=\", number]", where);
    json_t *signal = json_array_get (item, 0);
    json_t *op = json_array_get (item, 1);
    json_t *value = json_array_get (item, 2);
    if (!json_is_string (signal))
        return s_fail (err, size, "%s: a condition's signal must be a string", where);
    int s = rules_signal_parse (json_string_value (signal));
    if (s < 0)
        return s_fail (err, size, "%s: unknown signal '%.40s'", where, json_string_value (signal));
    const char *o = json_is_string (op)? json_string_value (op): "";
    if (strcmp (o, ">=") && strcmp (o, "<="))
        return s_fail (err, size, "%s: operator must be \">=\" or \"<=\"", where);
    if (!json_is_number (value) || !isfinite (json_number_value (value)))
        return s_fail (err, size, "%s: threshold of '%s' must be a finite number", where,
                       json_string_value (signal));
    cond->signal = (rules_signal_t) s;
    cond->op = o [0] == '>'? RULES_OP_GE: RULES_OP_LE;
    cond->threshold = json_number_value (value);
    return 0;
}

static int
s_rule (json_t *item, size_t index, rules_rule_t *rule, char *err, size_t size)
{
    static const char *const keys [] = { "name", "reason", "weight", "hard", "when", "note",
                                         NULL };
    char where [TXW_NAME_MAX + 32];
    json_t *name = json_is_object (item)? json_object_get (item, "name"): NULL;
    if (!json_is_string (name) || !*json_string_value (name)
    ||  strlen (json_string_value (name)) > TXW_NAME_MAX)
        return s_fail (err, size, "rules[%zu]: needs a \"name\" of 1 to %d characters",
                       index, TXW_NAME_MAX);
    snprintf (rule->name, sizeof rule->name, "%s", json_string_value (name));
    snprintf (where, sizeof where, "rules[%zu] (%s)", index, rule->name);
    const char *unknown = s_unknown_key (item, keys);
    if (unknown)
        return s_fail (err, size, "%s: unknown key '%.40s'", where, unknown);
    json_t *reason = json_object_get (item, "reason");
    rule->reason_bit = json_is_string (reason)? s_reason_bit (json_string_value (reason)): -1;
    if (rule->reason_bit < 0)
        return s_fail (err, size, "%s: \"reason\" must be a reason code of common/reasons.h", where);
    json_t *weight = json_object_get (item, "weight");
    if (!json_is_integer (weight) || json_integer_value (weight) < -100
    ||  json_integer_value (weight) > 100)
        return s_fail (err, size, "%s: \"weight\" must be an integer from -100 to 100", where);
    rule->weight = (int) json_integer_value (weight);
    json_t *hard = json_object_get (item, "hard");
    if (hard && !json_is_boolean (hard))
        return s_fail (err, size, "%s: \"hard\" must be true or false", where);
    rule->hard = json_is_true (hard);
    json_t *when = json_object_get (item, "when");
    if (!json_is_array (when) || json_array_size (when) < 1
    ||  json_array_size (when) > RULES_MAX_CONDITIONS)
        return s_fail (err, size, "%s: \"when\" must list 1 to %d conditions", where,
                       RULES_MAX_CONDITIONS);
    for (size_t c = 0; c < json_array_size (when); c++)
        if (s_condition (json_array_get (when, c), &rule->when [c], where, err, size))
            return -1;
    return 0;
}

static int
s_categories (json_t *categories, rules_set_t *set, char *err, size_t size)
{
    if (!categories)
        return 0;
    if (!json_is_object (categories) || json_object_size (categories) > RULES_MAX_CATEGORIES)
        return s_fail (err, size, "\"categories\" must be an object of at most %d categories",
                       RULES_MAX_CATEGORIES);
    static const char *const keys [] = { "risk", "amount_factor", NULL };
    const char *name;
    json_t *value;
    json_object_foreach (categories, name, value) {
        rules_category_t *cat = &set->categories [set->category_count++];
        if (!*name || strlen (name) > TXW_NAME_MAX)
            return s_fail (err, size, "categories: a name must have 1 to %d characters", TXW_NAME_MAX);
        snprintf (cat->name, sizeof cat->name, "%s", name);
        const char *unknown = json_is_object (value)? s_unknown_key (value, keys): NULL;
        json_t *risk = json_object_get (value, "risk");
        json_t *factor = json_object_get (value, "amount_factor");
        if (!json_is_object (value) || unknown)
            return s_fail (err, size, "categories.%s: an object with \"risk\" and \"amount_factor\"%s%.40s",
                           name, unknown? ", not ": "", unknown? unknown: "");
        if (!json_is_integer (risk) || json_integer_value (risk) < 0 || json_integer_value (risk) > 3)
            return s_fail (err, size, "categories.%s: \"risk\" must be an integer from 0 to 3", name);
        if (!json_is_number (factor) || !(json_number_value (factor) >= 0.01)
        ||  !(json_number_value (factor) <= 1000))
            return s_fail (err, size, "categories.%s: \"amount_factor\" must be a number from 0.01 to 1000", name);
        cat->risk = (int) json_integer_value (risk);
        cat->amount_factor = json_number_value (factor);
    }
    return 0;
}

//  "reporting_limit": major units of the reporting currency, 1 to 10^12
//  (absent: RULES_REPORTING_LIMIT), kept in minor units.
static int
s_reporting_limit (json_t *limit, rules_set_t *set, char *err, size_t size)
{
    double major = limit? (json_is_number (limit)? json_number_value (limit): -1)
                        : RULES_REPORTING_LIMIT;
    if (!(major >= 1 && major <= 1e12))
        return s_fail (err, size, "\"reporting_limit\" must be a number from 1 to 10^12"
                       " (major units of the reporting currency)");
    set->reporting_limit_minor = (int64_t) llround (major * 100);
    return 0;
}

int
ruleset_parse (const char *text, size_t len, rules_set_t *set, char *err, size_t err_size)
{
    static const char *const keys [] = { "version", "description", "rules", "categories",
                                         "reporting_limit", NULL };
    memset (set, 0, sizeof *set);
    json_error_t jerr;
    json_t *root = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return s_fail (err, err_size, "not valid JSON at line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
    int rc = -1;
    const char *unknown = json_is_object (root)? s_unknown_key (root, keys): NULL;
    json_t *version = json_object_get (root, "version");
    json_t *rules = json_object_get (root, "rules");
    if (!json_is_object (root))
        s_fail (err, err_size, "the file must hold one JSON object");
    else
    if (unknown)
        s_fail (err, err_size, "unknown key '%.40s'", unknown);
    else
    if (!json_is_string (version) || !*json_string_value (version)
    ||  strlen (json_string_value (version)) > 16)
        s_fail (err, err_size, "\"version\" must be a string of 1 to 16 characters");
    else
    if (!json_is_array (rules) || json_array_size (rules) == 0
    ||  json_array_size (rules) > RULES_MAX)
        s_fail (err, err_size, "\"rules\" must be an array of 1 to %d rules", RULES_MAX);
    else {
        snprintf (set->version, sizeof set->version, "%s", json_string_value (version));
        rc = 0;
        for (size_t r = 0; r < json_array_size (rules) && rc == 0; r++) {
            rc = s_rule (json_array_get (rules, r), r, &set->rules [r], err, err_size);
            for (size_t q = 0; q < r && rc == 0; q++)
                if (!strcmp (set->rules [q].name, set->rules [r].name))
                    rc = s_fail (err, err_size, "rules[%zu]: the name '%s' is used twice",
                                 r, set->rules [r].name);
            set->count = r + 1;
        }
        if (rc == 0)
            rc = s_categories (json_object_get (root, "categories"), set, err, err_size);
        if (rc == 0)
            rc = s_reporting_limit (json_object_get (root, "reporting_limit"), set, err, err_size);
    }
    json_decref (root);
    if (rc)
        memset (set, 0, sizeof *set);
    return rc;
}

int
ruleset_load (const char *path, rules_set_t *set, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return s_fail (err, err_size, "%s: %s", path, strerror (errno));
    char *text = malloc (S_MAX_FILE + 1);
    size_t len = text? fread (text, 1, S_MAX_FILE + 1, file): 0;
    bool failed = ferror (file);
    fclose (file);
    if (!text || failed || len > S_MAX_FILE) {
        free (text);
        return s_fail (err, err_size, "%s: %s", path,
                       !text? "out of memory": failed? "read error": "larger than 1 MiB");
    }
    char detail [256];
    int rc = ruleset_parse (text, len, set, detail, sizeof detail);
    free (text);
    if (rc)
        s_fail (err, err_size, "%s: %s", path, detail);
    return rc;
}

static rules_set_t s_default;
static pthread_once_t s_default_once = PTHREAD_ONCE_INIT;

static void
s_parse_default (void)
{
    char err [256];
    if (ruleset_parse (txw_default_rules_json, txw_default_rules_json_size,
                       &s_default, err, sizeof err)) {
        fprintf (stderr, "the compiled-in rule set is broken: %s\n", err);
        abort ();
    }
}

const rules_set_t *
ruleset_default (void)
{
    pthread_once (&s_default_once, s_parse_default);
    return &s_default;
}
