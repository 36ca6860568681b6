/*  test_tzcountry - local time offsets by country, both sides of DST changes

    Known instants a second before and at each transition of every rule
    family, then every hour of 2020-2030 against the system's time zone
    database (Debian's tzdata, which make deps installs; skipped without
    it) for the zone each country stands for.                               */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tzcountry.h"
#include "rfc3339.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_YEAR_MS   (INT64_C (365) * 86400000)

static int64_t
s_ms (const char *text)
{
    int64_t ms;
    assert_int_equal (rfc3339_parse (text, strlen (text), &ms), 0);
    return ms;
}

static int
s_offset (const char *country, const char *text)
{
    bool known = false;
    int offset = tzcountry_offset_min (country, s_ms (text), &known);
    assert_true (known);
    return offset;
}

static void
test_transitions (void **state)
{
    (void) state;
    //  EU: last Sundays of March and October 2026, 01:00 UTC.
    assert_int_equal (s_offset ("DE", "2026-03-29T00:59:59Z"), 60);
    assert_int_equal (s_offset ("DE", "2026-03-29T01:00:00Z"), 120);
    assert_int_equal (s_offset ("DE", "2026-10-25T00:59:59Z"), 120);
    assert_int_equal (s_offset ("DE", "2026-10-25T01:00:00Z"), 60);
    assert_int_equal (s_offset ("GB", "2021-03-28T00:59:59Z"), 0);
    assert_int_equal (s_offset ("GB", "2021-03-28T01:00:00Z"), 60);
    assert_int_equal (s_offset ("FI", "2026-07-01T12:00:00Z"), 180);
    //  US: 8 March 2026 02:00 EST, 1 November 2026 02:00 EDT.
    assert_int_equal (s_offset ("US", "2026-03-08T06:59:59Z"), -300);
    assert_int_equal (s_offset ("US", "2026-03-08T07:00:00Z"), -240);
    assert_int_equal (s_offset ("CA", "2026-11-01T05:59:59Z"), -240);
    assert_int_equal (s_offset ("CA", "2026-11-01T06:00:00Z"), -300);
    //  Mexico: DST through October 2022, none since.
    assert_int_equal (s_offset ("MX", "2022-04-03T07:59:59Z"), -360);
    assert_int_equal (s_offset ("MX", "2022-04-03T08:00:00Z"), -300);
    assert_int_equal (s_offset ("MX", "2022-10-30T06:59:59Z"), -300);
    assert_int_equal (s_offset ("MX", "2022-10-30T07:00:00Z"), -360);
    assert_int_equal (s_offset ("MX", "2023-07-01T12:00:00Z"), -360);
    //  Australia: ends 5 April 2026 03:00 AEDT, starts 4 October 02:00 AEST.
    assert_int_equal (s_offset ("AU", "2026-01-15T00:00:00Z"), 660);
    assert_int_equal (s_offset ("AU", "2026-04-04T15:59:59Z"), 660);
    assert_int_equal (s_offset ("AU", "2026-04-04T16:00:00Z"), 600);
    assert_int_equal (s_offset ("AU", "2026-10-03T15:59:59Z"), 600);
    assert_int_equal (s_offset ("AU", "2026-10-03T16:00:00Z"), 660);
    //  New Zealand: starts 27 September 2026 02:00 NZST.
    assert_int_equal (s_offset ("NZ", "2026-09-26T13:59:59Z"), 720);
    assert_int_equal (s_offset ("NZ", "2026-09-26T14:00:00Z"), 780);
    //  No DST.
    assert_int_equal (s_offset ("JP", "2026-07-01T00:00:00Z"), 540);
    assert_int_equal (s_offset ("IN", "2026-01-01T00:00:00Z"), 330);
    assert_int_equal (s_offset ("BR", "2026-01-01T00:00:00Z"), -180);
    assert_int_equal (s_offset ("ZA", "2026-07-01T00:00:00Z"), 120);
}

//  Every country the generator's population lives or pays in
//  (services/producer/population.c) is known.
static void
test_population_countries (void **state)
{
    (void) state;
    static const char *countries [] = { "DE", "FR", "NL", "ES", "IT", "AT", "GB", "PL", "BE",
        "IE", "SE", "PT", "FI", "CH", "US", "JP", "CA", "BR", "AU", "SG", "ZA", "MX", "TH", "AE" };
    for (size_t i = 0; i < sizeof countries / sizeof countries [0]; i++) {
        bool known = false;
        tzcountry_offset_min (countries [i], 1780000000000, &known);
        assert_true (known);
    }
}

static void
test_unknown (void **state)
{
    (void) state;
    const char *bad [] = { "XX", "de", "DEU", "D", "", "Z1", "\xff\xff", NULL };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        bool known = true;
        assert_int_equal (tzcountry_offset_min (bad [i], 1780000000000, &known), 0);
        assert_false (known);
    }
    bool known = true;
    assert_int_equal (tzcountry_offset_code (0, 1780000000000, &known), 0);
    assert_false (known);
    assert_int_equal (tzcountry_offset_min ("XX", 0, NULL), 0);
}

//  Any instant is answered, the extremes too (UBSan checks the arithmetic
//  in make sanitize).
static void
test_extremes (void **state)
{
    (void) state;
    int hour, weekday;
    const int64_t at [] = { INT64_MIN, -S_YEAR_MS * 3000, -1, 0, S_YEAR_MS * 8000, INT64_MAX };
    for (size_t i = 0; i < sizeof at / sizeof at [0]; i++) {
        int offset = tzcountry_offset_min ("AU", at [i], NULL);
        assert_true (offset == 600 || offset == 660);
        assert_true (tzcountry_hour_weekday (TZCOUNTRY_CODE ('U', 'S'), at [i], &hour, &weekday));
        assert_true (hour >= 0 && hour < 24 && weekday >= 0 && weekday < 7);
    }
}

static void
test_hour_weekday (void **state)
{
    (void) state;
    int hour, weekday;
    //  Saturday 23:30 UTC is Sunday 01:30 in Berlin in summer ...
    assert_true (tzcountry_hour_weekday (TZCOUNTRY_CODE ('D', 'E'),
                                         s_ms ("2026-07-04T23:30:00Z"), &hour, &weekday));
    assert_int_equal (hour, 1);
    assert_int_equal (weekday, 6);
    //  ... and Monday 02:00 UTC is Sunday 22:00 in New York.
    assert_true (tzcountry_hour_weekday (TZCOUNTRY_CODE ('U', 'S'),
                                         s_ms ("2026-07-06T02:00:00Z"), &hour, &weekday));
    assert_int_equal (hour, 22);
    assert_int_equal (weekday, 6);
    //  An unknown country reads UTC.
    assert_false (tzcountry_hour_weekday (TZCOUNTRY_CODE ('X', 'X'),
                                          s_ms ("2026-07-06T02:00:00Z"), &hour, &weekday));
    assert_int_equal (hour, 2);
    assert_int_equal (weekday, 0);
}

//  Every hour of 2020-2030 against the time zone database (tzdata), for
//  the zone each country is documented to stand for.
static void
test_against_tzdata (void **state)
{
    (void) state;
    static const struct { const char *country, *zone; } pairs [] = {
        { "GB", "Europe/London" },      { "PT", "Europe/Lisbon" },
        { "DE", "Europe/Berlin" },      { "PL", "Europe/Warsaw" },
        { "FI", "Europe/Helsinki" },    { "CH", "Europe/Zurich" },
        { "US", "America/New_York" },   { "CA", "America/Toronto" },
        { "MX", "America/Mexico_City" }, { "BR", "America/Sao_Paulo" },
        { "AU", "Australia/Sydney" },   { "NZ", "Pacific/Auckland" },
        { "JP", "Asia/Tokyo" },         { "SG", "Asia/Singapore" },
        { "TH", "Asia/Bangkok" },       { "AE", "Asia/Dubai" },
        { "ZA", "Africa/Johannesburg" }, { "IN", "Asia/Kolkata" }
    };
    if (access ("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0)
        skip ();
    char *saved = getenv ("TZ")? strdup (getenv ("TZ")): NULL;
    int64_t from = s_ms ("2020-01-01T00:30:00Z");
    int64_t to = s_ms ("2031-01-01T00:00:00Z");
    for (size_t i = 0; i < sizeof pairs / sizeof pairs [0]; i++) {
        setenv ("TZ", pairs [i].zone, 1);
        tzset ();
        for (int64_t ms = from; ms < to; ms += 3600000) {
            time_t t = (time_t) (ms / 1000);
            struct tm tm;
            localtime_r (&t, &tm);
            int offset = tzcountry_offset_min (pairs [i].country, ms, NULL);
            if (offset * 60 != tm.tm_gmtoff)
                fail_msg ("%s at %lld: %d min, %s says %ld s", pairs [i].country,
                          (long long) ms, offset, pairs [i].zone, (long) tm.tm_gmtoff);
        }
    }
    if (saved)
        setenv ("TZ", saved, 1);
    else
        unsetenv ("TZ");
    tzset ();
    free (saved);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_transitions),
        cmocka_unit_test (test_population_countries),
        cmocka_unit_test (test_unknown),
        cmocka_unit_test (test_extremes),
        cmocka_unit_test (test_hour_weekday),
        cmocka_unit_test (test_against_tzdata),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
