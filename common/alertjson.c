/*  alertjson - the alert object of proto/SERVING.md from a published alert  */

#include "alertjson.h"
#include "pii.h"
#include "reasons.h"
#include "rfc3339.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Length of the valid UTF-8 sequence at p (at most left bytes), or 0.
static size_t
s_utf8_len (const unsigned char *p, size_t left)
{
    size_t n = p [0] < 0x80? 1: (p [0] >> 5) == 6? 2: (p [0] >> 4) == 14? 3:
               (p [0] >> 3) == 30? 4: 0;
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p [i] & 0xc0) != 0x80)
            return 0;
    return n;
}

json_t *
txw_json_string (const char *s)
{
    json_t *j = json_string (s);
    if (j)
        return j;
    size_t len = strlen (s);
    char *clean = malloc (len + 1);
    if (!clean)
        return json_string ("");
    const unsigned char *p = (const unsigned char *) s;
    for (size_t i = 0; i < len;) {
        size_t n = s_utf8_len (p + i, len - i);
        if (n == 0) {
            clean [i++] = '?';
            continue;
        }
        memcpy (clean + i, p + i, n);
        i += n;
    }
    clean [len] = 0;
    j = json_string (clean);
    free (clean);
    return j? j: json_string ("");
}

json_t *
txw_json_text_or_null (const char *s)
{
    return *s? txw_json_string (s): json_null ();
}

json_t *
txw_json_time (int64_t ms)
{
    char text [RFC3339_SIZE];
    rfc3339_format (text, sizeof text, ms);
    return json_string (text);
}

json_t *
txw_json_reasons (uint32_t reasons)
{
    json_t *array = json_array ();
    for (int bit = 0; bit < TXW_REASON_COUNT && array; bit++)
        if (reasons & (1u << bit))
            json_array_append_new (array, json_string (txw_reason_name (bit)));
    return array;
}

void
txw_alert_key (const txw_alert_t *alert, char *out, size_t size)
{
    if (!strcmp (alert->kind, "region_health") || !alert->tx_id [0])
        snprintf (out, size, "%s:%s:%" PRId64, alert->kind, alert->region, alert->ts_ms);
    else
        snprintf (out, size, "%s:%s", alert->kind, alert->tx_id);
}

json_t *
txw_alert_json (const txw_alert_t *a)
{
    char key [TXW_ALERT_KEY_MAX];
    txw_alert_key (a, key, sizeof key);
    char account [TXW_ID_MAX + 1];
    txw_mask_id (a->account_id, strlen (a->account_id), account, sizeof account);
    bool fraud = strcmp (a->kind, "region_health") != 0;
    json_t *o = json_object ();
    if (!o)
        return NULL;
    json_object_set_new (o, "id", json_null ());
    json_object_set_new (o, "key", txw_json_string (key));
    json_object_set_new (o, "kind", txw_json_string (a->kind));
    json_object_set_new (o, "tx_id", txw_json_text_or_null (a->tx_id));
    json_object_set_new (o, "ts", txw_json_time (a->ts_ms));
    json_object_set_new (o, "account_id", txw_json_text_or_null (account));
    json_object_set_new (o, "score", json_integer (a->score));
    json_object_set_new (o, "reasons", txw_json_reasons (a->reasons));
    json_object_set_new (o, "amount_minor", fraud? json_integer (a->amount_minor): json_null ());
    json_object_set_new (o, "currency", txw_json_text_or_null (a->currency));
    json_object_set_new (o, "amount_rep_minor",
                         fraud? json_integer (a->amount_rep_minor): json_null ());
    json_object_set_new (o, "merchant_id", txw_json_text_or_null (a->merchant_id));
    json_object_set_new (o, "country", txw_json_text_or_null (a->country));
    json_object_set_new (o, "channel", a->channel? json_string (txw_channel_name (a->channel)):
                                                   json_null ());
    json_object_set_new (o, "region", txw_json_text_or_null (a->region));
    json_object_set_new (o, "message", txw_json_string (a->message));
    json_object_set_new (o, "model_version", txw_json_string (a->model_version));
    json_object_set_new (o, "raised_at", txw_json_time (a->raised_ms));
    json_object_set_new (o, "status", json_string ("open"));
    json_object_set_new (o, "acked_at", json_null ());
    json_object_set_new (o, "acked_by", json_null ());
    return o;
}
