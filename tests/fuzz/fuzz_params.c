/*  fuzz_params - query-string parameters of the REST API and their getters

    The input (up to its first NUL, as civetweb hands a query string over)
    is parsed against the names the endpoints accept. Parsed parameters
    must be allowed, unique, at most QPARAMS_MAX, values of at most
    QPARAM_VALUE_MAX bytes of UTF-8 without NUL; written back with every
    byte percent-encoded they must parse to the same list. A refusal names
    a printable parameter. Each typed getter must keep its promise: an
    integer within its bounds (and exactly the decimal given), an enum
    index that names the value, a time that formats and parses back, a
    text that is valid text of at most max bytes.                          */

#include "params.h"
#include "rfc3339.h"
#include "fuzz.h"

static const char *const s_allowed [] = {
    "minutes", "dimension", "key", "metric", "by", "limit", "since", "min_score",
    "status", "kind", "reason", NULL
};

static void
s_check_error (const qerror_t *err)
{
    FUZZ_CHECK (memchr (err->parameter, 0, sizeof err->parameter), "parameter not terminated");
    for (const char *p = err->parameter; *p; p++)
        FUZZ_CHECK (*p >= 0x20 && *p < 0x7f, "parameter '%s' is not printable", err->parameter);
    FUZZ_CHECK (err->message [0] && memchr (err->message, 0, sizeof err->message),
                "no message for '%s'", err->parameter);
}

//  True if s is a strict decimal of 1..18 digits after an optional '-'.
static bool
s_decimal (const char *s)
{
    if (*s == '-')
        s++;
    size_t digits = strspn (s, "0123456789");
    return digits >= 1 && digits <= 18 && !s [digits];
}

static void
s_getters (const qparams_t *params)
{
    qerror_t err;
    int64_t v = 0;
    for (const char *const *name = s_allowed; *name; name++) {
        const char *value = qparams_get (params, *name);
        //  Integers, with bounds that cut through the values tried.
        static const int64_t bounds [][2] = { { 1, 1440 }, { -5, 5 }, { INT64_MIN, INT64_MAX } };
        for (size_t b = 0; b < 3; b++) {
            int rc = qparams_int (params, *name, 7, bounds [b][0], bounds [b][1], &v, &err);
            if (!value)
                FUZZ_CHECK (rc == 0 && v == 7, "absent %s gave %d, %lld", *name, rc, (long long) v);
            else
            if (rc == 0) {
                FUZZ_CHECK (s_decimal (value), "%s='%s' accepted as %lld", *name, value,
                            (long long) v);
                FUZZ_CHECK (v >= bounds [b][0] && v <= bounds [b][1], "%s=%lld outside bounds",
                            *name, (long long) v);
                FUZZ_CHECK (v == strtoll (value, NULL, 10), "%s='%s' read as %lld", *name,
                            value, (long long) v);
            }
            else {
                s_check_error (&err);
                FUZZ_CHECK (!s_decimal (value) || strtoll (value, NULL, 10) < bounds [b][0]
                            || strtoll (value, NULL, 10) > bounds [b][1],
                            "%s='%s' refused", *name, value);
            }
        }
        static const char *const values [] = { "count", "volume", "flagged", "open", "", NULL };
        int index = -2;
        int rc = qparams_enum (params, *name, values, -1, &index, &err);
        if (rc == 0)
            FUZZ_CHECK (value? index >= 0 && index < 5 && !strcmp (values [index], value):
                               index == -1, "%s: enum index %d", *name, index);
        else
            s_check_error (&err);

        int64_t ms = 0;
        rc = qparams_time (params, *name, 123, &ms, &err);
        if (rc == 0 && value) {
            char formatted [RFC3339_SIZE];
            int64_t again = 0;
            size_t n = rfc3339_format (formatted, sizeof formatted, ms);
            FUZZ_CHECK (n >= 24 && (n != 24 || (rfc3339_parse (formatted, n, &again) == 0
                                                && again == ms)),
                        "%s='%s' is %lld ms, formatted '%s'", *name, value, (long long) ms,
                        formatted);
        }
        else
        if (rc == 0)
            FUZZ_CHECK (ms == 123, "absent time gave %lld", (long long) ms);
        else
            s_check_error (&err);

        const char *text = NULL;
        rc = qparams_text (params, *name, 16, "fallback", &text, &err);
        if (rc == 0 && value)
            FUZZ_CHECK (text == value && qparams_text_valid (text, 16) && strlen (text) <= 16,
                        "%s='%s' accepted as text", *name, value);
        else
        if (rc == 0)
            FUZZ_CHECK (text && !strcmp (text, "fallback"), "absent text is not the fallback");
        else
            s_check_error (&err);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *query = fuzz_cstring (data, size);
    qparams_t params;
    qerror_t err;
    memset (&err, 0x55, sizeof err);
    int rc = qparams_parse (&params, query, s_allowed, &err);
    FUZZ_CHECK (rc == 0 || rc == -1, "returned %d", rc);
    if (rc) {
        s_check_error (&err);
        free (query);
        return 0;
    }
    FUZZ_CHECK (params.count >= 0 && params.count <= QPARAMS_MAX, "%d parameters", params.count);
    size_t encoded_size = 1;
    for (int i = 0; i < params.count; i++) {
        const qparam_t *p = &params.items [i];
        bool allowed = false;
        for (const char *const *a = s_allowed; *a; a++)
            allowed = allowed || !strcmp (*a, p->name);
        FUZZ_CHECK (allowed, "parameter '%s' is not allowed", p->name);
        for (int k = 0; k < i; k++)
            FUZZ_CHECK (strcmp (params.items [k].name, p->name), "'%s' given twice", p->name);
        FUZZ_CHECK (strlen (p->value) <= QPARAM_VALUE_MAX, "value of %zu bytes", strlen (p->value));
        FUZZ_CHECK (qparams_get (&params, p->name) == p->value, "get '%s' finds another", p->name);
        encoded_size += 3 * (strlen (p->name) + strlen (p->value)) + 2;
    }
    //  Every byte percent-encoded: the same list again.
    char *encoded = malloc (encoded_size);
    size_t o = 0;
    for (int i = 0; i < params.count; i++) {
        if (i)
            encoded [o++] = '&';
        for (const char *s = params.items [i].name; *s; s++)
            o += (size_t) sprintf (encoded + o, "%%%02X", (unsigned char) *s);
        encoded [o++] = '=';
        for (const char *s = params.items [i].value; *s; s++)
            o += (size_t) sprintf (encoded + o, "%%%02X", (unsigned char) *s);
    }
    encoded [o] = 0;
    qparams_t again;
    rc = qparams_parse (&again, encoded, s_allowed, &err);
    FUZZ_CHECK (rc == 0, "'%s' encoded as '%s' is refused: %s %s", query, encoded,
                err.parameter, err.message);
    FUZZ_CHECK (again.count == params.count, "%d parameters, encoded %d", params.count,
                again.count);
    for (int i = 0; i < params.count; i++)
        FUZZ_CHECK (!strcmp (again.items [i].name, params.items [i].name)
                    && !strcmp (again.items [i].value, params.items [i].value),
                    "parameter %d changed when encoded", i);
    free (encoded);
    s_getters (&params);
    free (query);
    return 0;
}
