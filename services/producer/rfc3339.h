/*  rfc3339 - event times as RFC 3339 UTC text and back, without libc time

    Records carry their event time as "2026-01-05T00:00:00.123Z". Formatting
    runs once per record, so it is plain integer civil-date arithmetic
    (Howard Hinnant's days_from_civil) rather than gmtime_r and strftime;
    parsing is used for --start and by the tests.                            */

#ifndef RFC3339_H
#define RFC3339_H

#include <stddef.h>
#include <stdint.h>

#define RFC3339_SIZE 32         //  enough for any formatted time and its NUL

//  Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (size
//  bytes, at least RFC3339_SIZE). Returns the length (24 for years 0..9999).
size_t rfc3339_format (char *out, size_t size, int64_t ms);

//  Parses a full RFC 3339 date-time (separator T, t or space; optional
//  fraction, truncated to ms; Z or a +hh:mm / -hh:mm offset). Returns 0 and
//  sets *ms, or -1 if s is not one.
int rfc3339_parse (const char *s, size_t len, int64_t *ms);

//  Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
int64_t rfc3339_days_from_civil (int64_t year, unsigned month, unsigned day);

//  Hour of day (0..23 UTC) and weekday (0 = Monday .. 6 = Sunday) of ms.
void rfc3339_hour_weekday (int64_t ms, int *hour, int *weekday);

#endif
