/*  rfc3339 - event times as strict RFC 3339 text and back, fast

    Every field has a fixed width, so the scanner checks the separators at
    known offsets and converts digit pairs directly.                          */

#include "rfc3339.h"

#include <stdbool.h>
#include <stdio.h>

#define S_DAY_MS 86400000LL

//  Reads n digits at s into *value; returns false if any is not a digit.
static inline bool
s_digits (const char *s, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        unsigned d = (unsigned char) s [i] - '0';
        if (d > 9)
            return false;
        v = v * 10 + (int) d;
    }
    *value = v;
    return true;
}

static inline bool
s_leap_year (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
s_days_in_month (int year, int month)
{
    static const int days [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && s_leap_year (year)? 29: days [month - 1];
}

//  Howard Hinnant's days_from_civil: exact for every proleptic Gregorian
//  date, no tables, no loops.
int64_t
rfc3339_days_from_civil (int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0? year: year - 399) / 400;
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (month + (month > 2? -3: 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
rfc3339_parse (const char *s, size_t len, int64_t *ms)
{
    //  Shortest form: 2026-01-01T00:00:00Z (20 bytes). A fraction of more
    //  than 9 digits (nanoseconds) is not something any clock writes.
    if (len < 20 || len > 35)
        return -1;
    int year, month, day, hour, minute, second;
    if (!s_digits (s, 4, &year) || s [4] != '-'
    ||  !s_digits (s + 5, 2, &month) || s [7] != '-'
    ||  !s_digits (s + 8, 2, &day) || (s [10] != 'T' && s [10] != 't')
    ||  !s_digits (s + 11, 2, &hour) || s [13] != ':'
    ||  !s_digits (s + 14, 2, &minute) || s [16] != ':'
    ||  !s_digits (s + 17, 2, &second))
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > s_days_in_month (year, month)
    ||  hour > 23 || minute > 59 || second > 60)
        return -1;

    size_t i = 19;
    int millis = 0;
    if (s [i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s [i] >= '0' && s [i] <= '9') {
            if (i - start < 3)
                millis = millis * 10 + (s [i] - '0');
            i++;
        }
        size_t digits = i - start;
        if (digits == 0 || digits > 9)
            return -1;
        for (; digits < 3; digits++)
            millis *= 10;
    }
    if (i >= len)
        return -1;

    int offset_min = 0;
    if (s [i] == 'Z' || s [i] == 'z') {
        if (i + 1 != len)
            return -1;
    }
    else
    if (s [i] == '+' || s [i] == '-') {
        int off_hour, off_minute;
        if (i + 6 != len
        ||  !s_digits (s + i + 1, 2, &off_hour) || s [i + 3] != ':'
        ||  !s_digits (s + i + 4, 2, &off_minute)
        ||  off_hour > 23 || off_minute > 59)
            return -1;
        offset_min = off_hour * 60 + off_minute;
        if (s [i] == '-')
            offset_min = -offset_min;
    }
    else
        return -1;

    //  Local time minus its offset is UTC.
    int64_t minutes = rfc3339_days_from_civil (year, month, day) * 1440
                    + hour * 60 + minute - offset_min;
    if (second == 60) {
        //  Leap seconds are inserted at the end of a UTC day only.
        int64_t minute_of_day = ((minutes % 1440) + 1440) % 1440;
        if (minute_of_day != 1439)
            return -1;
    }
    *ms = (minutes * 60 + second) * 1000 + millis;
    return 0;
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0))? q - 1: q;
}

//  a - s_floor_div (a, b) * b, without the product (which overflows for a
//  near INT64_MIN).
static int64_t
s_floor_mod (int64_t a, int64_t b)
{
    int64_t r = a % b;
    return (r != 0 && (r < 0) != (b < 0))? r + b: r;
}

static void
s_civil_from_days (int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = s_floor_div (z, 146097);
    unsigned doe = (unsigned) (z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10? mp + 3: mp - 9;
    *year = (int64_t) yoe + era * 400 + (*month <= 2);
}

static char *
s_put2 (char *p, unsigned v)
{
    p [0] = (char) ('0' + v / 10);
    p [1] = (char) ('0' + v % 10);
    return p + 2;
}

size_t
rfc3339_format (char *out, size_t size, int64_t ms)
{
    int64_t days = s_floor_div (ms, S_DAY_MS);
    int64_t rest = s_floor_mod (ms, S_DAY_MS);
    int64_t year;
    unsigned month, day;
    s_civil_from_days (days, &year, &month, &day);
    unsigned msec = (unsigned) (rest % 1000);
    unsigned secs = (unsigned) (rest / 1000);
    if (year < 0 || year > 9999 || size < 25)
        return (size_t) snprintf (out, size, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                                  (long long) year, month, day, secs / 3600,
                                  secs / 60 % 60, secs % 60, msec);
    char *p = out;
    p = s_put2 (p, (unsigned) (year / 100));
    p = s_put2 (p, (unsigned) (year % 100));
    *p++ = '-';
    p = s_put2 (p, month);
    *p++ = '-';
    p = s_put2 (p, day);
    *p++ = 'T';
    p = s_put2 (p, secs / 3600);
    *p++ = ':';
    p = s_put2 (p, secs / 60 % 60);
    *p++ = ':';
    p = s_put2 (p, secs % 60);
    *p++ = '.';
    *p++ = (char) ('0' + msec / 100);
    p = s_put2 (p, msec % 100);
    *p++ = 'Z';
    *p = 0;
    return (size_t) (p - out);
}

void
rfc3339_hour_weekday (int64_t ms, int *hour, int *weekday)
{
    int64_t days = s_floor_div (ms, S_DAY_MS);
    *hour = (int) (s_floor_mod (ms, S_DAY_MS) / 3600000);
    //  1970-01-01 was a Thursday (3 when Monday is 0).
    int64_t wd = (days + 3) % 7;
    *weekday = (int) (wd < 0? wd + 7: wd);
}
