/*  rfc3339 - strict RFC 3339 timestamps to UTC milliseconds, fast

    Event times arrive as text such as 2026-11-22T04:05:06.789+01:00. The
    validator reads millions of them, so this is a hand-written scanner of
    the one grammar RFC 3339 section 5.6 allows (no strptime, no locale, no
    time zone database, no allocation): fixed-width fields, an optional
    fraction, and Z or a numeric offset, with real calendar checks (month
    lengths, leap years).                                                     */

#ifndef RFC3339_H
#define RFC3339_H

#include <stddef.h>
#include <stdint.h>

//  Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) from s (len bytes,
//  no terminator needed) into milliseconds since 1970-01-01T00:00:00Z.
//  'T' and 'Z' may be lower case (RFC 3339 5.6 note). Fraction digits past
//  the third are checked and truncated. A leap second (:60) is accepted
//  only where one can occur, 23:59:60 UTC, and counts as the next second.
//  Returns 0, or -1 if s is not such a timestamp or names no real date.
int rfc3339_parse (const char *s, size_t len, int64_t *ms);

//  Days since 1970-01-01 of a proleptic Gregorian date (no checks).
int64_t rfc3339_days_from_civil (int64_t year, int month, int day);

#endif
