/*  json - small converters from C values to JSON values (jansson)

    The pieces every JSON writer of the suite needs: text from a record
    that may not be valid UTF-8, optional text, times and reason codes.
    The alert object (alertjson.h), the gateway's messages, the query API
    and the read model (summary.h) all build on them, so each of these
    values looks the same wherever it is sent. Each returns a new
    reference. (Escaping text into a hand-written JSON string is
    txw_json_escape, log.h.)                                                */

#ifndef TXW_JSON_H
#define TXW_JSON_H

#include <jansson.h>
#include <stdint.h>

//  A JSON string of s; bytes that are not valid UTF-8 (a publisher we do not
//  control) become U+FFFD, by the strict rule of utf8.h. New reference.
json_t *txw_json_string (const char *s);

//  txw_json_string (s), or null when s is empty (a field the record lacks).
json_t *txw_json_text_or_null (const char *s);

//  A time as RFC 3339 text with milliseconds, UTC. New reference.
json_t *txw_json_time (int64_t ms);

//  The names of the reason codes set in reasons, lowest bit first.
json_t *txw_json_reasons (uint32_t reasons);

#endif
