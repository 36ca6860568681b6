/*  json - small converters from C values to JSON values (jansson)          */

#include "json.h"
#include "reasons.h"
#include "rfc3339.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

json_t *
txw_json_string (const char *s)
{
    json_t *j = json_string (s);
    if (j)
        return j;
    //  Not valid UTF-8: each stray byte becomes U+FFFD (3 bytes), by the
    //  same strict rule as text bound for PostgreSQL (utf8.h).
    size_t len = strlen (s);
    size_t size = len * 3 + 1;
    char *clean = malloc (size);
    if (!clean)
        return json_string ("");
    txw_utf8_clean (s, len, clean, size);
    j = json_string (clean);
    free (clean);
    return j? j: json_string ("");
}

json_t *
txw_json_text_or_null (const char *s)
{
    return *s? txw_json_string (s): json_null ();
}

json_t *
txw_json_time (int64_t ms)
{
    char text [RFC3339_SIZE];
    rfc3339_format (text, sizeof text, ms);
    return json_string (text);
}

json_t *
txw_json_reasons (uint32_t reasons)
{
    json_t *array = json_array ();
    for (int bit = 0; bit < TXW_REASON_COUNT && array; bit++)
        if (reasons & (1u << bit))
            json_array_append_new (array, json_string (txw_reason_name (bit)));
    return array;
}
