/*  slack - an alert as a Slack incoming-webhook message                    */

#include "slack.h"
#include "format.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A mrkdwn text object "*label*\nvalue" with &, < and > escaped. The
//  fields are short (an id is at most 64 bytes, the reasons a few hundred),
//  so even escaped they stay far below Slack's 2000 characters.
static json_t *
s_field (const char *label, const char *value)
{
    size_t size = strlen (label) + strlen (value) * 5 + 4;
    char *out = malloc (size);
    if (!out)
        return NULL;
    size_t at = (size_t) snprintf (out, size, "*%s*\n", label);
    for (; *value; value++) {
        const char *escape = *value == '&'? "&amp;": *value == '<'? "&lt;":
                             *value == '>'? "&gt;": NULL;
        if (escape) {
            memcpy (out + at, escape, strlen (escape));
            at += strlen (escape);
        }
        else
            out [at++] = *value;
    }
    out [at] = 0;
    json_t *text = json_pack ("{s:s, s:s}", "type", "mrkdwn", "text", out);
    free (out);
    return text;
}

static json_t *
s_plain (const char *s, size_t max)
{
    json_t *text = nt_clip_json (s, max);
    return text? json_pack ("{s:s, s:o}", "type", "plain_text", "text", text): NULL;
}

char *
nt_slack_body (const txw_alert_t *alert)
{
    nt_view_t view;
    if (nt_view_init (&view, alert))
        return NULL;
    char score [8];
    snprintf (score, sizeof score, "%d", alert->score);
    const char *account = nt_view_text (&view, "account_id");
    const char *merchant = nt_view_text (&view, "merchant_id");
    const char *region = nt_view_text (&view, "region");
    const struct { const char *label, *value; } fields [] = {
        { "Kind", nt_view_text (&view, "kind") },
        { "Severity", txw_severity_name (view.severity) },
        { "Score", score },
        { "Amount", *view.amount? view.amount: "-" },
        { "Account", *account? account: "-" },
        { "Merchant", *merchant? merchant: "-" },
        { "Region", *region? region: "-" },
        { "Reasons", *view.reasons? view.reasons: "-" },
    };
    json_t *list = json_array ();
    for (size_t i = 0; list && i < sizeof fields / sizeof fields [0]; i++)
        if (json_array_append_new (list, s_field (fields [i].label, fields [i].value))) {
            json_decref (list);
            list = NULL;
        }
    //  The context: where to find the alert (its key) and what the
    //  pipeline said about it, clipped by s_plain (room for both whole).
    char context [NT_SLACK_TEXT_MAX * 2];
    snprintf (context, sizeof context, "%s: %s", nt_view_text (&view, "key"),
              nt_view_text (&view, "message"));
    json_t *body = list? json_pack ("{s:o, s:[{s:s, s:o}, {s:s, s:o}, {s:s, s:[o]}]}",
        "text", nt_clip_json (view.summary, NT_SLACK_TEXT_MAX),
        "blocks",
            "type", "header", "text", s_plain (view.summary, NT_SLACK_HEADER_MAX),
            "type", "section", "fields", list,
            "type", "context", "elements", s_plain (context, NT_SLACK_TEXT_MAX)): NULL;
    nt_view_free (&view);
    if (!body)
        return NULL;
    char *text = json_dumps (body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (body);
    return text;
}
