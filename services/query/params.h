/*  params - query-string parameters of the REST API, validated

    Every endpoint names the parameters it accepts; anything else is an
    error, so that a typo never silently means "the default". Names and
    values are URL-decoded (form encoding: '+' is a space) into fixed
    buffers: no allocation, and a value longer than QPARAM_VALUE_MAX, a NUL
    byte or invalid UTF-8 is an error too. Each failure fills a qerror_t
    with the parameter's name and a message for people, which the server
    turns into 400 {"error":"bad_parameter","parameter":...,"message":...}. */

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

#endif
