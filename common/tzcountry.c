/*  tzcountry - a country's local time offset from UTC at an instant       */

#include "tzcountry.h"
#include "rfc3339.h"

#define S_DAY_MS    86400000LL
//  Instants beyond this (some 35,000 years) are taken as it, so that no
//  arithmetic below can overflow, whatever the caller passes.
#define S_MAX_MS    (INT64_C (1) << 50)

//  When a daylight saving period starts or ends: the nth Sunday of a month
//  (-1 the last one) at a minute of that day, counted in local standard
//  time, or in UTC for a rule with utc set.
typedef struct {
    uint8_t month;
    int8_t week;
    int16_t minute;
} s_when_t;

typedef struct {
    s_when_t start, end;        //  end before start in the year: southern
    bool utc;
    int16_t last_year;          //  0: still in force
} s_rule_t;

enum { R_NONE, R_EU, R_US, R_MX, R_AU, R_NZ };

//  An end "at 02:00 daylight time" is 01:00 standard time (03:00 daylight,
//  02:00 standard), so every minute below is one clock, per rule.
static const s_rule_t s_rules [] = {
    [R_EU] = { { 3, -1, 60 }, { 10, -1, 60 }, true, 0 },
    [R_US] = { { 3, 2, 120 }, { 11, 1, 60 }, false, 0 },
    [R_MX] = { { 4, 1, 120 }, { 10, -1, 60 }, false, 2022 },
    [R_AU] = { { 10, 1, 120 }, { 4, 1, 120 }, false, 0 },
    [R_NZ] = { { 9, -1, 120 }, { 4, 1, 120 }, false, 0 }
};

typedef struct {
    int16_t standard;           //  minutes east of UTC outside DST
    uint8_t rule;
    uint8_t known;
} s_zone_t;

//  Indexed by the two letters, so a lookup is one load.
#define S_CC(a, b) (((a) - 'A') * 26 + ((b) - 'A'))
#define S_Z(a, b, standard, rule) [S_CC (a, b)] = { standard, rule, 1 }

static const s_zone_t s_zones [26 * 26] = {
    //  Western, Central and Eastern European time, EU rule
    S_Z ('G', 'B', 0, R_EU), S_Z ('I', 'E', 0, R_EU), S_Z ('P', 'T', 0, R_EU),
    S_Z ('D', 'E', 60, R_EU), S_Z ('F', 'R', 60, R_EU), S_Z ('N', 'L', 60, R_EU),
    S_Z ('E', 'S', 60, R_EU), S_Z ('I', 'T', 60, R_EU), S_Z ('A', 'T', 60, R_EU),
    S_Z ('P', 'L', 60, R_EU), S_Z ('B', 'E', 60, R_EU), S_Z ('S', 'E', 60, R_EU),
    S_Z ('C', 'H', 60, R_EU), S_Z ('N', 'O', 60, R_EU), S_Z ('D', 'K', 60, R_EU),
    S_Z ('C', 'Z', 60, R_EU), S_Z ('S', 'K', 60, R_EU), S_Z ('H', 'U', 60, R_EU),
    S_Z ('S', 'I', 60, R_EU), S_Z ('H', 'R', 60, R_EU), S_Z ('L', 'U', 60, R_EU),
    S_Z ('M', 'T', 60, R_EU), S_Z ('L', 'I', 60, R_EU), S_Z ('M', 'C', 60, R_EU),
    S_Z ('A', 'D', 60, R_EU), S_Z ('S', 'M', 60, R_EU), S_Z ('V', 'A', 60, R_EU),
    S_Z ('R', 'S', 60, R_EU), S_Z ('B', 'A', 60, R_EU), S_Z ('M', 'E', 60, R_EU),
    S_Z ('M', 'K', 60, R_EU), S_Z ('A', 'L', 60, R_EU), S_Z ('F', 'I', 120, R_EU),
    S_Z ('G', 'R', 120, R_EU), S_Z ('R', 'O', 120, R_EU), S_Z ('B', 'G', 120, R_EU),
    S_Z ('E', 'E', 120, R_EU), S_Z ('L', 'V', 120, R_EU), S_Z ('L', 'T', 120, R_EU),
    S_Z ('C', 'Y', 120, R_EU), S_Z ('U', 'A', 120, R_EU),
    //  North America
    S_Z ('U', 'S', -300, R_US), S_Z ('C', 'A', -300, R_US), S_Z ('M', 'X', -360, R_MX),
    //  Southern hemisphere with DST
    S_Z ('A', 'U', 600, R_AU), S_Z ('N', 'Z', 720, R_NZ),
    //  No DST
    S_Z ('I', 'S', 0, R_NONE), S_Z ('G', 'H', 0, R_NONE), S_Z ('N', 'G', 60, R_NONE),
    S_Z ('Z', 'A', 120, R_NONE), S_Z ('T', 'R', 180, R_NONE), S_Z ('R', 'U', 180, R_NONE),
    S_Z ('B', 'Y', 180, R_NONE), S_Z ('S', 'A', 180, R_NONE), S_Z ('Q', 'A', 180, R_NONE),
    S_Z ('K', 'W', 180, R_NONE), S_Z ('B', 'H', 180, R_NONE), S_Z ('K', 'E', 180, R_NONE),
    S_Z ('A', 'E', 240, R_NONE), S_Z ('O', 'M', 240, R_NONE), S_Z ('P', 'K', 300, R_NONE),
    S_Z ('I', 'N', 330, R_NONE), S_Z ('L', 'K', 330, R_NONE), S_Z ('N', 'P', 345, R_NONE),
    S_Z ('B', 'D', 360, R_NONE), S_Z ('T', 'H', 420, R_NONE), S_Z ('V', 'N', 420, R_NONE),
    S_Z ('I', 'D', 420, R_NONE), S_Z ('S', 'G', 480, R_NONE), S_Z ('M', 'Y', 480, R_NONE),
    S_Z ('P', 'H', 480, R_NONE), S_Z ('C', 'N', 480, R_NONE), S_Z ('H', 'K', 480, R_NONE),
    S_Z ('T', 'W', 480, R_NONE), S_Z ('J', 'P', 540, R_NONE), S_Z ('K', 'R', 540, R_NONE),
    S_Z ('A', 'R', -180, R_NONE), S_Z ('B', 'R', -180, R_NONE), S_Z ('C', 'O', -300, R_NONE),
    S_Z ('P', 'E', -300, R_NONE), S_Z ('E', 'C', -300, R_NONE)
};

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

//  Day (since the epoch) of the rule's Sunday in year.
static int64_t
s_sunday (int64_t year, const s_when_t *when)
{
    int64_t day;
    int64_t weekday;            //  0 = Sunday; 1970-01-01 was a Thursday
    if (when->week < 0) {
        day = rfc3339_days_from_civil (year, when->month + 1, 1) - 1;
        weekday = ((day + 4) % 7 + 7) % 7;
        return day - weekday;
    }
    day = rfc3339_days_from_civil (year, when->month, 1);
    weekday = ((day + 4) % 7 + 7) % 7;
    return day + (7 - weekday) % 7 + 7 * (when->week - 1);
}

//  Ms since the epoch, on the rule's clock, of one of its transitions.
static int64_t
s_instant (int64_t year, const s_when_t *when)
{
    return (s_sunday (year, when) * 1440 + when->minute) * 60000;
}

//  A rule's DST period in one year, on the rule's clock (UTC, or local
//  standard time: then the same for every zone of the rule).
typedef struct {
    int64_t from, to;           //  the year: [from, to); from == to: none yet
    int64_t start, end;         //  DST from start until end (start > end: southern)
    bool none;                  //  the rule was no longer in force that year
} s_year_t;

static void
s_year (const s_rule_t *rule, int64_t ms, s_year_t *out)
{
    //  No transition is near the new year, so which clock picks the year
    //  does not matter.
    int64_t days = s_floor_div (ms, S_DAY_MS);
    int64_t year = 1970 + s_floor_div (days * 400, 146097);
    if (rfc3339_days_from_civil (year + 1, 1, 1) <= days)
        year++;
    else
    if (rfc3339_days_from_civil (year, 1, 1) > days)
        year--;
    out->from = rfc3339_days_from_civil (year, 1, 1) * S_DAY_MS;
    out->to = rfc3339_days_from_civil (year + 1, 1, 1) * S_DAY_MS;
    out->none = rule->last_year && year > rule->last_year;
    out->start = s_instant (year, &rule->start);
    out->end = s_instant (year, &rule->end);
}

static int
s_offset (const s_zone_t *zone, int64_t utc_ms)
{
    if (zone->rule == R_NONE)
        return zone->standard;
    const s_rule_t *rule = &s_rules [zone->rule];
    int64_t ms = rule->utc? utc_ms: utc_ms + zone->standard * 60000;
    //  Transactions come roughly in time order, so a year's transitions
    //  are worked out once per thread and rule (the last year seen), not
    //  per call: the scorer asks for every transaction. Thread-local, so
    //  no lock and no allocation; the answer does not depend on it.
    static __thread s_year_t cache [sizeof s_rules / sizeof s_rules [0]];
    s_year_t *year = &cache [zone->rule];
    if (ms < year->from || ms >= year->to)
        s_year (rule, ms, year);
    if (year->none)
        return zone->standard;
    bool dst = year->start < year->end? ms >= year->start && ms < year->end
                                      : ms >= year->start || ms < year->end;
    return zone->standard + (dst? 60: 0);
}

static int64_t
s_clamp (int64_t utc_ms)
{
    return utc_ms > S_MAX_MS? S_MAX_MS: utc_ms < -S_MAX_MS? -S_MAX_MS: utc_ms;
}

int
tzcountry_offset_code (uint16_t code, int64_t utc_ms, bool *known)
{
    utc_ms = s_clamp (utc_ms);
    unsigned a = (unsigned) (code >> 8) - 'A';
    unsigned b = (unsigned) (code & 0xff) - 'A';
    const s_zone_t *zone = a < 26 && b < 26? &s_zones [a * 26 + b]: NULL;
    if (known)
        *known = zone && zone->known;
    return zone && zone->known? s_offset (zone, utc_ms): 0;
}

int
tzcountry_offset_min (const char *country, int64_t utc_ms, bool *known)
{
    uint16_t code = country && country [0] && country [1] && !country [2]
                  ? TZCOUNTRY_CODE (country [0], country [1]): 0;
    return tzcountry_offset_code (code, utc_ms, known);
}

bool
tzcountry_hour_weekday (uint16_t code, int64_t utc_ms, int *hour, int *weekday)
{
    bool known;
    utc_ms = s_clamp (utc_ms);
    int offset = tzcountry_offset_code (code, utc_ms, &known);
    rfc3339_hour_weekday (utc_ms + (int64_t) offset * 60000, hour, weekday);
    return known;
}
