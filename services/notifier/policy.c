/*  policy - when a webhook delivery is done, retried, or given up          */

#include "policy.h"

#include <ctype.h>
#include <stdbool.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *
nt_outcome_name (nt_outcome_t outcome)
{
    return outcome == NT_OUTCOME_OK? "ok": outcome == NT_OUTCOME_RETRY? "retry": "failed";
}

//  curl errors that say the request can never work as configured; every
//  other error is a network problem worth another try.
static bool
s_curl_permanent (int code)
{
    switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_TOO_MANY_REDIRECTS:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_LOGIN_DENIED:
        case CURLE_USE_SSL_FAILED:
            return true;
        default:
            return false;
    }
}

nt_outcome_t
nt_classify (int curl_code, long http_status)
{
    if (curl_code != CURLE_OK)
        return s_curl_permanent (curl_code)? NT_OUTCOME_FAIL: NT_OUTCOME_RETRY;
    if (http_status >= 200 && http_status <= 299)
        return NT_OUTCOME_OK;
    if (http_status == 408 || http_status == 429 || (http_status >= 500 && http_status <= 599))
        return NT_OUTCOME_RETRY;
    if (http_status == 0)           //  completed without a status line
        return NT_OUTCOME_RETRY;
    return NT_OUTCOME_FAIL;
}

nt_outcome_t
nt_classify_smtp (int curl_code, long smtp_code)
{
    if (curl_code == CURLE_OK)
        return NT_OUTCOME_OK;
    if (smtp_code >= 500 && smtp_code <= 599)
        return NT_OUTCOME_FAIL;
    if (smtp_code >= 400 && smtp_code <= 499)
        return NT_OUTCOME_RETRY;
    return s_curl_permanent (curl_code)? NT_OUTCOME_FAIL: NT_OUTCOME_RETRY;
}

int64_t
nt_backoff_ms (int attempt, int64_t base_ms, int64_t max_ms, uint64_t random)
{
    if (base_ms <= 0)
        return 0;
    int64_t delay = base_ms;
    for (int i = 1; i < attempt && delay < max_ms; i++)
        delay *= 2;
    if (max_ms > 0 && delay > max_ms)
        delay = max_ms;
    int64_t half = delay / 2;
    return delay - half + (int64_t) (random % (uint64_t) (half + 1));
}

int64_t
nt_retry_after_ms (const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value)
        return -1;
    if (isdigit ((unsigned char) *value)) {
        char *end;
        long long seconds = strtoll (value, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end || seconds < 0)
            return -1;
        return seconds > 86400? 86400000: seconds * 1000;
    }
    time_t at = curl_getdate (value, NULL);
    if (at == -1)
        return -1;
    //  Compared in seconds first: a far date (curl takes any year) would
    //  overflow in ms. Like delay-seconds, at most a day.
    int64_t now_s = now_ms / 1000;
    if ((int64_t) at > now_s + 86400)
        return 86400000;
    if ((int64_t) at < now_s - 86400)
        return 0;
    int64_t delay = (int64_t) at * 1000 - now_ms;
    return delay > 0? delay: 0;
}

int64_t
nt_next_delay_ms (int attempt, int64_t retry_after_ms, int64_t base_ms, int64_t max_ms,
                  uint64_t random)
{
    if (retry_after_ms >= 0)
        return max_ms > 0 && retry_after_ms > max_ms? max_ms: retry_after_ms;
    return nt_backoff_ms (attempt, base_ms, max_ms, random);
}
