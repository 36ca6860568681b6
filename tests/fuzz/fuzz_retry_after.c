/*  fuzz_retry_after - the Retry-After header of a webhook receiver's answer

    A receiver the notifier posts alerts to may answer 429 or 503 with
    Retry-After: delay-seconds or an HTTP date (RFC 9110 10.2.3). The
    value (up to its first NUL, as libcurl hands headers over) goes to
    nt_retry_after_ms. Digits after optional blanks, with only blanks or a
    line end after them, are seconds: exactly that many (capped at one
    day) in ms. Anything else is a date or refused (-1): a date gives a
    delay of 0 to one day, and what the next attempt waits never exceeds
    the configured maximum.                                                 */

#include "policy.h"
#include "fuzz.h"

#define S_NOW_MS 1767607200000LL        //  2026-01-05T10:00:00Z

//  The delay-seconds form by hand: -2 when the value is not that form.
static int64_t
s_seconds (const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -2;
    int64_t seconds = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        if (seconds <= 86400)
            seconds = seconds * 10 + (*s - '0');
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    if (*s)
        return -1;
    return (seconds > 86400? 86400: seconds) * 1000;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *value = fuzz_cstring (data, size);
    int64_t delay = nt_retry_after_ms (value, S_NOW_MS);
    int64_t expected = s_seconds (value);
    if (expected != -2)
        FUZZ_CHECK (delay == expected, "'%s' waits %lld ms, not %lld", value,
                    (long long) delay, (long long) expected);
    else
        FUZZ_CHECK (delay >= -1 && delay <= 86400000, "'%s' waits %lld ms", value,
                    (long long) delay);
    int64_t next = nt_next_delay_ms (3, delay, 1000, 60000, 12345);
    FUZZ_CHECK (next >= 0 && next <= 60000, "next attempt after %lld ms", (long long) next);
    free (value);
    return 0;
}
