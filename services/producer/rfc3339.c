/*  rfc3339 - event times as RFC 3339 UTC text and back, without libc time  */

#include "rfc3339.h"

#include <stdbool.h>
#include <stdio.h>

#define S_DAY_MS 86400000LL

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0))? q - 1: q;
}

int64_t
rfc3339_days_from_civil (int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = s_floor_div (y, 400);
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m > 2? m - 3: m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
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
    int64_t rest = ms - days * S_DAY_MS;
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

//  Reads exactly n digits at s [*pos]; returns -1 if they are not digits.
static int64_t
s_digits (const char *s, size_t len, size_t *pos, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++, (*pos)++) {
        if (*pos >= len || s [*pos] < '0' || s [*pos] > '9')
            return -1;
        v = v * 10 + (s [*pos] - '0');
    }
    return v;
}

static bool
s_expect (const char *s, size_t len, size_t *pos, char c)
{
    if (*pos >= len || s [*pos] != c)
        return false;
    (*pos)++;
    return true;
}

int
rfc3339_parse (const char *s, size_t len, int64_t *ms)
{
    static const unsigned mdays [12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    size_t pos = 0;
    int64_t year = s_digits (s, len, &pos, 4);
    if (year < 0 || !s_expect (s, len, &pos, '-'))
        return -1;
    int64_t month = s_digits (s, len, &pos, 2);
    if (month < 1 || month > 12 || !s_expect (s, len, &pos, '-'))
        return -1;
    int64_t day = s_digits (s, len, &pos, 2);
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day < 1 || day > mdays [month - 1] || (month == 2 && day == 29 && !leap))
        return -1;
    if (pos >= len || (s [pos] != 'T' && s [pos] != 't' && s [pos] != ' '))
        return -1;
    pos++;
    int64_t hour = s_digits (s, len, &pos, 2);
    if (hour < 0 || hour > 23 || !s_expect (s, len, &pos, ':'))
        return -1;
    int64_t minute = s_digits (s, len, &pos, 2);
    if (minute < 0 || minute > 59 || !s_expect (s, len, &pos, ':'))
        return -1;
    int64_t second = s_digits (s, len, &pos, 2);
    if (second < 0 || second > 60)
        return -1;
    if (second == 60)           //  a leap second folds into the one before
        second = 59;
    int64_t msec = 0;
    if (pos < len && s [pos] == '.') {
        pos++;
        int digits = 0;
        while (pos < len && s [pos] >= '0' && s [pos] <= '9') {
            if (digits < 3)
                msec = msec * 10 + (s [pos] - '0');
            digits++;
            pos++;
        }
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            msec *= 10;
    }
    int64_t offset_min = 0;
    if (pos < len && (s [pos] == 'Z' || s [pos] == 'z'))
        pos++;
    else
    if (pos < len && (s [pos] == '+' || s [pos] == '-')) {
        int sign = s [pos] == '-'? -1: 1;
        pos++;
        int64_t oh = s_digits (s, len, &pos, 2);
        if (oh < 0 || oh > 23 || !s_expect (s, len, &pos, ':'))
            return -1;
        int64_t om = s_digits (s, len, &pos, 2);
        if (om < 0 || om > 59)
            return -1;
        offset_min = sign * (oh * 60 + om);
    }
    else
        return -1;
    if (pos != len)
        return -1;
    int64_t days = rfc3339_days_from_civil (year, (unsigned) month, (unsigned) day);
    *ms = ((days * 24 + hour) * 60 + minute - offset_min) * 60000 + second * 1000 + msec;
    return 0;
}

void
rfc3339_hour_weekday (int64_t ms, int *hour, int *weekday)
{
    int64_t days = s_floor_div (ms, S_DAY_MS);
    *hour = (int) ((ms - days * S_DAY_MS) / 3600000);
    //  1970-01-01 was a Thursday (3 when Monday is 0).
    int64_t wd = (days + 3) % 7;
    *weekday = (int) (wd < 0? wd + 7: wd);
}
