/*  severity - an alert's severity from its score and amount               */

#include "severity.h"

#include <string.h>

static const char *s_names [TXW_SEVERITY_COUNT] = { "low", "medium", "high", "critical" };

txw_severity_t
txw_severity (int score, int64_t amount_rep_minor)
{
    if (score >= 90 || (score >= 75 && amount_rep_minor >= TXW_SEVERITY_LARGE_REP_MINOR))
        return TXW_SEVERITY_CRITICAL;
    if (score >= 75)
        return TXW_SEVERITY_HIGH;
    if (score >= 50)
        return TXW_SEVERITY_MEDIUM;
    return TXW_SEVERITY_LOW;
}

const char *
txw_severity_name (txw_severity_t severity)
{
    return (unsigned) severity < TXW_SEVERITY_COUNT ? s_names [severity] : "low";
}

bool
txw_severity_parse (const char *name, txw_severity_t *out)
{
    for (int i = 0; name && i < TXW_SEVERITY_COUNT; i++)
        if (!strcmp (name, s_names [i])) {
            *out = (txw_severity_t) i;
            return true;
        }
    return false;
}
