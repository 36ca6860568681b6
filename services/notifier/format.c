/*  format - what every channel's message says about one alert              */

#include "format.h"
#include "alertjson.h"
#include "money.h"
#include "reasons.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Control characters (a newline in a message) become spaces: a summary is
//  one line wherever it is shown.
static void
s_one_line (char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            *s = ' ';
}

int
nt_view_init (nt_view_t *view, const txw_alert_t *alert)
{
    memset (view, 0, sizeof *view);
    view->object = txw_alert_json (alert);
    if (!view->object)
        return -1;
    view->severity = txw_severity (alert->score, alert->amount_rep_minor);
    const char *currency = nt_view_text (view, "currency");
    int exponent = txw_currency_exponent (currency, strlen (currency));
    if (!strcmp (alert->kind, "fraud") && exponent >= 0) {
        size_t len = txw_format_amount (view->amount, sizeof view->amount, alert->amount_minor,
                                        exponent);
        snprintf (view->amount + len, sizeof view->amount - len, " %s", currency);
    }
    size_t used = 0;
    for (int bit = 0; bit < TXW_REASON_COUNT; bit++)
        if (alert->reasons & (1u << bit))
            used += (size_t) snprintf (view->reasons + used, sizeof view->reasons - used, "%s%s",
                                       used? ", ": "", txw_reason_name (bit));
    char line [NT_SUMMARY_MAX * 2];
    const char *severity = txw_severity_name (view->severity);
    const char *region = nt_view_text (view, "region");
    if (!strcmp (alert->kind, "fraud"))
        snprintf (line, sizeof line, "%s fraud alert, score %d: %s at merchant %s%s%s",
                  severity, alert->score, *view->amount? view->amount: "no amount",
                  *nt_view_text (view, "merchant_id")? nt_view_text (view, "merchant_id"): "unknown",
                  *region? " in ": "", region);
    else
        snprintf (line, sizeof line, "%s %s alert%s%s: %s", severity,
                  nt_view_text (view, "kind"), *region? ", region ": "", region,
                  nt_view_text (view, "message"));
    s_one_line (line);
    nt_clip (line, NT_SUMMARY_MAX, view->summary);
    return 0;
}

void
nt_view_free (nt_view_t *view)
{
    json_decref (view->object);
    view->object = NULL;
}

const char *
nt_view_text (const nt_view_t *view, const char *field)
{
    const char *text = json_string_value (json_object_get (view->object, field));
    return text? text: "";
}

size_t
nt_clip (const char *s, size_t max, char *out)
{
    size_t len = strlen (s);
    if (len <= max) {
        memcpy (out, s, len + 1);
        return len;
    }
    //  Back from the cut to the start of a character (not a continuation
    //  byte), leaving room for the ellipsis.
    size_t cut = max >= 3? max - 3: 0;
    while (cut > 0 && ((unsigned char) s [cut] & 0xC0) == 0x80)
        cut--;
    memcpy (out, s, cut);
    size_t dots = max - cut < 3? max - cut: 3;
    memcpy (out + cut, "...", dots);
    out [cut + dots] = 0;
    return cut + dots;
}

json_t *
nt_clip_json (const char *s, size_t max)
{
    char *out = malloc (max + 1);
    if (!out)
        return NULL;
    nt_clip (s, max, out);
    json_t *text = json_string (out);
    free (out);
    return text;
}
