/*  format - what every channel's message says about one alert

    Slack, PagerDuty and email each shape an alert their own way, but say
    the same things: its severity (common/severity.h, the rule the database
    stores), a one-line summary, the amount in its currency, the reasons.
    They are made here once, from the alert object the generic webhook
    sends (common/alertjson.h), so every channel shows the account masked
    as published alerts carry it and text that is valid UTF-8 whatever a
    publisher sent.                                                          */

#ifndef TXW_NOTIFIER_FORMAT_H
#define TXW_NOTIFIER_FORMAT_H

#include "codec.h"
#include "severity.h"

#include <jansson.h>
#include <stddef.h>

#define NT_SUMMARY_MAX  1024        //  bytes, PagerDuty's limit for payload.summary

typedef struct {
    json_t *object;                 //  the alert object (txw_alert_json)
    txw_severity_t severity;
    char amount [48];               //  "6000.00 EUR", or "" without one
    char reasons [512];             //  reason names, ", " between them
    char summary [NT_SUMMARY_MAX + 1];
} nt_view_t;

//  Fills view from alert. Returns 0, or -1 if memory ran out.
int nt_view_init (nt_view_t *view, const txw_alert_t *alert);
void nt_view_free (nt_view_t *view);

//  The text of a field of the alert object, "" if it is null or absent.
const char *nt_view_text (const nt_view_t *view, const char *field);

//  Copies the first bytes of s (valid UTF-8) that fit max bytes into out,
//  never splitting a character; a cut text ends with "..." within max.
//  out must hold max + 1 bytes. Returns the length written.
size_t nt_clip (const char *s, size_t max, char *out);

//  A JSON string of s clipped to max bytes as nt_clip does. New reference,
//  or NULL if memory ran out.
json_t *nt_clip_json (const char *s, size_t max);

#endif
