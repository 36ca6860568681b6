/*  pagerduty - an alert as a PagerDuty Events API v2 event                 */

#include "pagerduty.h"
#include "format.h"
#include "json.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>

const char *
nt_pagerduty_severity (txw_severity_t severity)
{
    switch (severity) {
        case TXW_SEVERITY_CRITICAL: return "critical";
        case TXW_SEVERITY_HIGH:     return "error";
        case TXW_SEVERITY_MEDIUM:   return "warning";
        default:                    return "info";
    }
}

bool
nt_pagerduty_key_valid (const char *key)
{
    size_t len = 0;
    for (; key [len]; len++)
        if (!isalnum ((unsigned char) key [len]))
            return false;
    return len == NT_PAGERDUTY_KEY_LEN;
}

static char *
s_dump (json_t *event)
{
    if (!event)
        return NULL;
    char *text = json_dumps (event, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (event);
    return text;
}

char *
nt_pagerduty_trigger (const txw_alert_t *alert, const char *routing_key)
{
    nt_view_t view;
    if (nt_view_init (&view, alert))
        return NULL;
    json_t *reasons = json_object_get (view.object, "reasons");
    const char *first = json_string_value (json_array_get (reasons, 0));
    const char *region = nt_view_text (&view, "region");
    json_t *payload = json_pack ("{s:s, s:s, s:s, s:o, s:s, s:s, s:O}",
        "summary", view.summary,
        "source", NT_PAGERDUTY_SOURCE,
        "severity", nt_pagerduty_severity (view.severity),
        "timestamp", txw_json_time (alert->ts_ms),
        "component", nt_view_text (&view, "kind"),
        "class", first? first: nt_view_text (&view, "kind"),
        "custom_details", view.object);
    //  group is optional: a fraud alert without a region has none.
    if (payload && *region && json_object_set_new (payload, "group", json_string (region))) {
        json_decref (payload);
        payload = NULL;
    }
    json_t *event = payload? json_pack ("{s:s, s:s, s:s, s:o, s:s}",
        "routing_key", routing_key,
        "event_action", "trigger",
        "dedup_key", nt_view_text (&view, "key"),
        "payload", payload,
        "client", NT_PAGERDUTY_SOURCE): NULL;
    nt_view_free (&view);
    return s_dump (event);
}

char *
nt_pagerduty_resolve (const char *dedup_key, const char *routing_key)
{
    return s_dump (json_pack ("{s:s, s:s, s:o}", "routing_key", routing_key,
                              "event_action", "resolve", "dedup_key", txw_json_string (dedup_key)));
}
