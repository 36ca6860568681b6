/*  tzcountry - a country's local time offset from UTC at an instant

    The scorer reads an account's hour and weekday in the local time of its
    home country, and the generator draws activity by local hour, so both
    need "what is the clock on the wall in DE at this instant" for millions
    of transactions a second. This answers it from a table compiled in: no
    time zone database, no locale, no allocation, a few dozen integer
    operations (the year's transition days by Howard Hinnant's civil-date
    arithmetic, shared with rfc3339).

    One offset per country. Countries that span several zones get the zone
    where most of their people live: US and CA Eastern, MX Central (Mexico
    City), BR Brasilia, AU Sydney/Melbourne, RU Moscow, ID Jakarta. Accounts
    in the other zones read an hour or three off; for a night-time signal
    that is the price of not knowing the region.

    Daylight saving time, by rule family, as currently in force:
      EU    last Sunday of March to last Sunday of October, 01:00 UTC
      US    second Sunday of March 02:00 local to first Sunday of November
            02:00 local (daylight) - US, CA
      MX    first Sunday of April 02:00 local to last Sunday of October
            02:00 local (daylight), through 2022; Mexico abolished it then
      AU    first Sunday of October 02:00 local to first Sunday of April
            03:00 local (daylight) - southern hemisphere, spans the new year
      NZ    last Sunday of September 02:00 local to first Sunday of April
            03:00 local (daylight)
    Older rule changes (US before 2007, BR's DST before 2019) are not
    modelled: the data this scores is recent. Countries whose rules do not
    fit a fixed family (IL, EG, MA, CL, PY, IR, ...) are left out rather
    than answered wrongly, so they come back unknown.                       */

#ifndef TXW_TZCOUNTRY_H
#define TXW_TZCOUNTRY_H

#include <stdbool.h>
#include <stdint.h>

//  A two-letter code packed into 16 bits, first letter high: the packing
//  the scorer's profiles keep countries in.
#define TZCOUNTRY_CODE(a, b) ((uint16_t) ((uint8_t) (a) << 8 | (uint8_t) (b)))

//  Minutes to add to UTC for local time in country (ISO 3166-1 alpha-2,
//  upper case, exactly two letters then NUL) at utc_ms, milliseconds since
//  1970-01-01T00:00:00Z (beyond about 35,000 years either way, as at that
//  bound). An unknown or malformed country gives 0 and sets *known false;
//  known may be NULL.
int tzcountry_offset_min (const char *country, int64_t utc_ms, bool *known);

//  The same for a country packed by TZCOUNTRY_CODE (0 is unknown).
int tzcountry_offset_code (uint16_t code, int64_t utc_ms, bool *known);

//  Local hour (0..23) and weekday (0 = Monday .. 6 = Sunday) in the country
//  at utc_ms; UTC's for an unknown country. Returns whether it is known.
bool tzcountry_hour_weekday (uint16_t code, int64_t utc_ms, int *hour, int *weekday);

#endif
