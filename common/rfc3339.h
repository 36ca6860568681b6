/*  rfc3339 - event times as strict RFC 3339 text and back, fast

    Event times travel as text such as 2026-11-22T04:05:06.789+01:00. The
    validator reads millions of them and the producer writes millions, so
    both directions are plain integer civil-date arithmetic (Howard
    Hinnant's days_from_civil and civil_from_days): no strptime, gmtime_r,
    locale, time zone database or allocation. The parser takes exactly the
    grammar of RFC 3339 section 5.6, with real calendar checks.             */

#ifndef TXW_RFC3339_H
#define TXW_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#define RFC3339_SIZE 32         //  enough for any formatted time and its NUL

//  Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) from s (len bytes,
//  no terminator needed) into milliseconds since 1970-01-01T00:00:00Z.
//  'T' and 'Z' may be lower case (RFC 3339 5.6 note). Fraction digits past
//  the third are checked and truncated. A leap second (:60) is accepted
//  only where one can occur, 23:59:60 UTC, and counts as the next second.
//  Returns 0, or -1 if s is not such a timestamp or names no real date.
int rfc3339_parse (const char *s, size_t len, int64_t *ms);

//  Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (size
//  bytes, at least RFC3339_SIZE). Returns the length (24 for years 0..9999).
size_t rfc3339_format (char *out, size_t size, int64_t ms);

//  Days since 1970-01-01 of a proleptic Gregorian date (no checks).
int64_t rfc3339_days_from_civil (int64_t year, int month, int day);

//  Hour of day (0..23 UTC) and weekday (0 = Monday .. 6 = Sunday) of ms.
void rfc3339_hour_weekday (int64_t ms, int *hour, int *weekday);

#endif
