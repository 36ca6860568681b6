/*  policy - when a delivery is done, retried, or given up

    The rules a delivery follows, kept apart from the transfer machinery so
    that they can be tested on their own:
    - a 2xx answer delivers the alert;
    - 408, 429, any 5xx and network errors (refused, reset, timed out) are
      worth another try after a back-off;
    - any other answer (a 4xx, a redirect) is a permanent failure: the
      receiver told us the request itself is wrong, so retrying cannot help;
    - by SMTP, the message is delivered once the server accepts it; a 4xx
      reply (RFC 5321's transient failures) and network errors are worth
      another try, a 5xx reply (a recipient refused, a message rejected)
      and a refused login or STARTTLS are permanent;
    - the back-off doubles from a base up to a cap, with jitter so that many
      alerts failing together do not retry together; a Retry-After header
      from the receiver wins over the schedule (still capped).               */

#ifndef TXW_NOTIFIER_POLICY_H
#define TXW_NOTIFIER_POLICY_H

#include <stdint.h>

typedef enum {
    NT_OUTCOME_OK = 0,          //  delivered
    NT_OUTCOME_RETRY,           //  try again later
    NT_OUTCOME_FAIL             //  permanent failure
} nt_outcome_t;

const char *nt_outcome_name (nt_outcome_t outcome);

//  Classifies one attempt from curl's result code (CURLcode, 0 = transfer
//  completed) and the HTTP status (0 if no answer).
nt_outcome_t nt_classify (int curl_code, long http_status);

//  Classifies one SMTP transaction from curl's result code and the last
//  SMTP reply code (0 if none).
nt_outcome_t nt_classify_smtp (int curl_code, long smtp_code);

//  Delay before the next attempt after failed attempt number attempt
//  (1-based): the base doubled attempt-1 times, capped at max_ms, then
//  jittered into [delay/2, delay] by random (any 64-bit random value).
int64_t nt_backoff_ms (int attempt, int64_t base_ms, int64_t max_ms, uint64_t random);

//  Parses a Retry-After header value: delay-seconds ("120") or an HTTP
//  date, relative to now_ms. Returns the delay in ms (0 for a date in the
//  past; at most a day, for the seconds form and for a date far ahead
//  alike), or -1 if the value is neither.
int64_t nt_retry_after_ms (const char *value, int64_t now_ms);

//  The delay before the next attempt: Retry-After when the receiver sent one
//  (retry_after_ms >= 0), else the back-off; never above max_ms.
int64_t nt_next_delay_ms (int attempt, int64_t retry_after_ms, int64_t base_ms,
                          int64_t max_ms, uint64_t random);

#endif
