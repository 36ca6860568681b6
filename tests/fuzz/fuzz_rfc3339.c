/*  fuzz_rfc3339 - event times: strict RFC 3339 text to milliseconds and back

    The input is parsed as a timestamp. An accepted one is checked against
    glibc's timegm on the same fields (the calendar arithmetic), formatted
    with rfc3339_format and parsed again to the same millisecond (for the
    years the format writes as four digits, 0000..9999 UTC). Independently,
    the first 8 bytes are taken as a time in ms: its formatted text must
    parse back to it, and its hour and weekday must be in range.          */

#include "rfc3339.h"
#include "fuzz.h"

#include <time.h>

#define S_MIN_MS    (-62167219200000LL)         //  0000-01-01T00:00:00Z
#define S_MAX_MS    (253402300799999LL)         //  9999-12-31T23:59:59.999Z

static int
s_two (const char *s)
{
    return (s [0] - '0') * 10 + (s [1] - '0');
}

//  The same instant through the C library, from the fields of an accepted
//  timestamp (their layout is known once it is accepted).
static int64_t
s_reference_ms (const char *s, size_t len)
{
    struct tm tm = { 0 };
    tm.tm_year = s_two (s) * 100 + s_two (s + 2) - 1900;
    tm.tm_mon = s_two (s + 5) - 1;
    tm.tm_mday = s_two (s + 8);
    tm.tm_hour = s_two (s + 11);
    tm.tm_min = s_two (s + 14);
    tm.tm_sec = s_two (s + 17);            //  60 rolls over to the next minute
    int64_t seconds = (int64_t) timegm (&tm);
    size_t i = 19;
    int millis = 0;
    if (s [i] == '.') {
        int digits = 0;
        for (i++; s [i] >= '0' && s [i] <= '9'; i++, digits++)
            if (digits < 3)
                millis = millis * 10 + (s [i] - '0');
        for (; digits < 3; digits++)
            millis *= 10;
    }
    if (s [i] == '+' || s [i] == '-') {
        int offset = (s_two (s + i + 1) * 60 + s_two (s + i + 4)) * 60;
        seconds += s [i] == '+'? -offset: offset;
    }
    (void) len;
    return seconds * 1000 + millis;
}

static void
s_parse (const uint8_t *data, size_t size)
{
    //  The parser gets exactly size bytes (a read past them is caught); the
    //  reference and the messages get a terminated copy.
    char *exact = malloc (size? size: 1);
    memcpy (exact, data, size);
    char *text = fuzz_cstring (data, size);
    int64_t ms = 0;
    int rc = rfc3339_parse (exact, size, &ms);
    free (exact);
    FUZZ_CHECK (rc == 0 || rc == -1, "returned %d", rc);
    if (rc == 0) {
        int64_t expected = s_reference_ms (text, size);
        FUZZ_CHECK (ms == expected, "'%s' is %lld ms, timegm says %lld", text,
                    (long long) ms, (long long) expected);
        if (ms >= S_MIN_MS && ms <= S_MAX_MS) {
            char formatted [RFC3339_SIZE];
            size_t n = rfc3339_format (formatted, sizeof formatted, ms);
            int64_t again = 0;
            FUZZ_CHECK (n == 24 && rfc3339_parse (formatted, n, &again) == 0 && again == ms,
                        "'%s' is %lld ms, formatted '%s', which parses to %lld", text,
                        (long long) ms, formatted, (long long) again);
        }
    }
    free (text);
}

static void
s_format (const uint8_t *data, size_t size)
{
    if (size < 8)
        return;
    int64_t ms;
    memcpy (&ms, data, 8);
    char formatted [64];
    size_t n = rfc3339_format (formatted, sizeof formatted, ms);
    FUZZ_CHECK (n < sizeof formatted && n == strlen (formatted), "format of %lld gave %zu",
                (long long) ms, n);
    int hour = -1, weekday = -1;
    rfc3339_hour_weekday (ms, &hour, &weekday);
    FUZZ_CHECK (hour >= 0 && hour <= 23 && weekday >= 0 && weekday <= 6,
                "%lld ms: hour %d weekday %d", (long long) ms, hour, weekday);
    if (ms >= S_MIN_MS && ms <= S_MAX_MS) {
        int64_t again = 0;
        FUZZ_CHECK (n == 24 && rfc3339_parse (formatted, n, &again) == 0 && again == ms,
                    "%lld ms formats as '%s', which parses to %lld", (long long) ms,
                    formatted, (long long) again);
        FUZZ_CHECK (hour == s_two (formatted + 11), "%lld ms: hour %d in '%s'",
                    (long long) ms, hour, formatted);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_parse (data, size);
    s_format (data, size);
    return 0;
}
