/*  pagerduty - an alert as a PagerDuty Events API v2 event

    A trigger opens an incident (or adds to the open one) under dedup_key,
    the alert's stable key (common/alertjson.h), so a trigger sent again
    after a retry or a restart is the same incident; a resolve with the same
    dedup_key closes it, sent when an analyst closes the alert. The payload
    is what PagerDuty requires: summary (at most 1024 characters), source,
    severity (critical, error, warning or info from our critical, high,
    medium, low), timestamp, and the component (the kind), group (the
    region), class (the first reason) and custom_details (the alert object)
    it shows beside them. The routing key is the integration's secret: it
    travels in the body only, never in a log.                                */

#ifndef TXW_NOTIFIER_PAGERDUTY_H
#define TXW_NOTIFIER_PAGERDUTY_H

#include "codec.h"
#include "severity.h"

#include <stdbool.h>

#define NT_PAGERDUTY_URL        "https://events.pagerduty.com/v2/enqueue"
#define NT_PAGERDUTY_KEY_LEN    32      //  an integration (routing) key
#define NT_PAGERDUTY_SOURCE     "txwatch"

//  PagerDuty's severity for ours.
const char *nt_pagerduty_severity (txw_severity_t severity);

//  True if key looks like a routing key: NT_PAGERDUTY_KEY_LEN letters and
//  digits.
bool nt_pagerduty_key_valid (const char *key);

//  The trigger event for alert, as compact JSON. Returns a string the
//  caller frees, or NULL if memory ran out.
char *nt_pagerduty_trigger (const txw_alert_t *alert, const char *routing_key);

//  The resolve event for the alert with this key. Same contract.
char *nt_pagerduty_resolve (const char *dedup_key, const char *routing_key);

#endif
