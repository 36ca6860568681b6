/*  params - query-string parameters of the REST API, validated

    Every endpoint names the parameters it accepts; anything else is an
    error, so that a typo never silently means "the default". Names and
    values are URL-decoded (form encoding: '+' is a space) into fixed
    buffers: no allocation, and a value longer than QPARAM_VALUE_MAX, a NUL
    byte or invalid UTF-8 is an error too. Each failure fills a qerror_t
    with the parameter's name and a message for people, which the server
    turns into 400 {"error":"bad_parameter","parameter":...,"message":...}.
    qparams_cache_key names a GET for the response cache by what its
    endpoint reads (below).                                                 */

#ifndef TXW_QUERY_PARAMS_H
#define TXW_QUERY_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QPARAMS_MAX         16
#define QPARAM_NAME_MAX     32
#define QPARAM_VALUE_MAX    256

typedef struct {
    char name [QPARAM_NAME_MAX + 1];
    char value [QPARAM_VALUE_MAX + 1];
} qparam_t;

typedef struct {
    qparam_t items [QPARAMS_MAX];
    int count;
} qparams_t;

typedef struct {
    char parameter [QPARAM_NAME_MAX * 2 + 1];
    char message [256];
} qerror_t;

//  Fills err and returns -1. The name is kept printable (other bytes: '?').
int qerror_set (qerror_t *err, const char *parameter, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Parses query (the part after '?', may be NULL or empty). allowed is a
//  NULL-terminated list of the names the endpoint accepts. Returns 0, or -1
//  with err filled: unknown name, a name given twice, a name or value that
//  is too long, holds a NUL byte or is not UTF-8, more than QPARAMS_MAX.
int qparams_parse (qparams_t *self, const char *query, const char *const *allowed,
                   qerror_t *err);

//  The decoded value of name, or NULL if it was not given.
const char *qparams_get (const qparams_t *self, const char *name);

//  An integer from min to max (decimal, optional '-', nothing else), or
//  fallback when absent. Returns 0 or -1 with err filled.
int qparams_int (const qparams_t *self, const char *name, int64_t fallback,
                 int64_t min, int64_t max, int64_t *out, qerror_t *err);

//  One of values (NULL-terminated); *out is its index, or fallback (an
//  index, or -1 for "none") when absent. Returns 0 or -1 with err filled.
int qparams_enum (const qparams_t *self, const char *name, const char *const *values,
                  int fallback, int *out, qerror_t *err);

//  An RFC 3339 time, in ms since the epoch; fallback when absent.
int qparams_time (const qparams_t *self, const char *name, int64_t fallback,
                  int64_t *out, qerror_t *err);

//  Free text of 1..max bytes without control characters (already known to
//  be UTF-8); *out is borrowed from self, fallback (may be NULL) when absent.
int qparams_text (const qparams_t *self, const char *name, size_t max,
                  const char *fallback, const char **out, qerror_t *err);

//  True if s is 1..max bytes of [A-Za-z0-9_.:-], the validator's id rule.
bool qparams_id_valid (const char *s, size_t max);

//  True if s is 1..max bytes of valid UTF-8 without control characters.
bool qparams_text_valid (const char *s, size_t max);

//  --- Periods ---------------------------------------------------------------------
//
//  The window sums of a period of up to a year are read from the grain that
//  fits it: the windows themselves up to a day, the hourly rollups up to 30
//  days, the daily rollups beyond (proto/sql/016_rollups.sql), so a long
//  period reads at most a few hundred rows per key. A period read from a
//  rollup starts at the start of the hour (of the UTC day) it falls in: it
//  is made of whole rollup rows, never of part of one.

#define QPERIOD_MINUTES_MAX     525600      //  a year
#define QPERIOD_WINDOWS_MAX     1440        //  a day: the windows themselves
#define QPERIOD_HOURLY_MAX      43200       //  30 days: the hourly rollups

typedef enum { QGRAIN_WINDOW, QGRAIN_HOUR, QGRAIN_DAY } qgrain_t;

typedef struct {
    int64_t minutes;            //  as asked
    qgrain_t grain;
    int64_t grain_ms;           //  0 for windows (their own size), else an hour or a day
    int64_t from_ms;            //  the first start read: now - minutes, then aligned
} qperiod_t;

//  The period of the last `minutes` (1..QPERIOD_MINUTES_MAX, fallback when
//  absent) before now_ms. Returns 0 or -1 with err filled (naming "minutes").
int qparams_period (const qparams_t *self, int64_t fallback, int64_t now_ms,
                    qperiod_t *out, qerror_t *err);

//  The period of minutes (1..QPERIOD_MINUTES_MAX) ending at end_ms.
void qperiod_make (qperiod_t *self, int64_t minutes, int64_t end_ms);

//  --- Cache keys ------------------------------------------------------------------
//
//  The response cache (cache.c) keys a GET by what the endpoint will read,
//  not by the bytes of its URL, or every spelling of the same request
//  (minutes=060, minutes=60, m%69nutes=60, the parameters in another order)
//  would be a miss that reaches PostgreSQL. A key is the variant, the path
//  and the parameters as qparams_parse decodes them, sorted by name, each
//  value in one canonical form where the endpoint reads it as a number or
//  a time: an integer as qparams_int reads it (060 -> 60, -0 -> 0), a time
//  as qparams_time reads it (2026-11-22T22:04:05+01:00 ->
//  2026-11-22T21:04:05.000Z); every other value (text, enums) as it is.
//  A value the endpoint would refuse is kept as it is, so it can never share
//  a key with an accepted one: it misses, and the endpoint answers 400.
//  Each part is percent-encoded, so different requests never share a key.
//  Only what the endpoint accepts is canonicalised: +60 (%2B60) is not an
//  integer to qparams_int, so it stays "+60" and is refused there.

//  A buffer this large holds any key qparams_cache_key writes for a path of
//  up to 1024 bytes and a variant of up to 32.
#define QPARAMS_KEY_MAX     (1024 * 3 + 32 * 3 + 2 \
                             + QPARAMS_MAX * (QPARAM_NAME_MAX * 3 + QPARAM_VALUE_MAX * 3 + 2) + 1)

//  Writes into key (size bytes) the cache key of a GET of endpoint, one of
//  the server's cached routes by name: stats_realtime, timeseries, top,
//  branches, regions, alerts, transaction, account, customer_segments,
//  customers, customer, cohorts, dead_letters (params.c
//  holds the parameters each accepts, which must match its api_*.c
//  function). variant is what else the answer depends on, such as the
//  caller's role (NULL: nothing); path is the decoded path (civetweb's
//  local_uri), query the raw query string (may be NULL). Returns 0, or -1
//  with err filled, to be answered with 400 (qapi_bad_parameter): whatever
//  qparams_parse refuses (an unknown name, a name given twice, a name or
//  value too long, not UTF-8 or with NUL, too many), a key that does not
//  fit (err names "path"), or an endpoint that is not listed ("endpoint").
int qparams_cache_key (const char *endpoint, const char *variant, const char *path,
                       const char *query, char *key, size_t size, qerror_t *err);

#endif
