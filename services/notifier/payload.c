/*  payload - the JSON body a webhook receives for one alert                */

#include "payload.h"
#include "pii.h"
#include "reasons.h"
#include "rfc3339.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
nt_alert_key (const txw_alert_t *alert, char *out, size_t size)
{
    if (!strcmp (alert->kind, "region_health"))
        snprintf (out, size, "region_health:%s:%" PRId64, alert->region, alert->ts_ms);
    else
        snprintf (out, size, "%s:%s", alert->kind, alert->tx_id);
}

//  A JSON string; bytes that are not UTF-8 (a publisher we do not control)
//  become '?'.
static json_t *
s_string (const char *s)
{
    json_t *j = json_string (s);
    if (j)
        return j;
    char clean [TXW_TEXT_MAX + 1];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *) s; *p && o + 1 < sizeof clean; p++)
        clean [o++] = *p < 0x80? (char) *p: '?';
    clean [o] = 0;
    return json_string (clean);
}

static json_t *
s_text_or_null (const char *s)
{
    return *s? s_string (s): json_null ();
}

static json_t *
s_time (int64_t ms)
{
    char text [RFC3339_SIZE];
    rfc3339_format (text, sizeof text, ms);
    return json_string (text);
}

static json_t *
s_reasons (uint32_t reasons)
{
    json_t *array = json_array ();
    for (int bit = 0; bit < TXW_REASON_COUNT && array; bit++)
        if (reasons & (1u << bit))
            json_array_append_new (array, json_string (txw_reason_name (bit)));
    return array;
}

static json_t *
s_object (const txw_alert_t *a)
{
    char key [NT_KEY_MAX];
    nt_alert_key (a, key, sizeof key);
    char account [TXW_ID_MAX + 1];
    txw_mask_id (a->account_id, strlen (a->account_id), account, sizeof account);
    bool fraud = strcmp (a->kind, "region_health") != 0;
    json_t *o = json_object ();
    if (!o)
        return NULL;
    json_object_set_new (o, "id", json_null ());
    json_object_set_new (o, "key", s_string (key));
    json_object_set_new (o, "kind", s_string (a->kind));
    json_object_set_new (o, "tx_id", s_text_or_null (a->tx_id));
    json_object_set_new (o, "ts", s_time (a->ts_ms));
    json_object_set_new (o, "account_id", s_text_or_null (account));
    json_object_set_new (o, "score", json_integer (a->score));
    json_object_set_new (o, "reasons", s_reasons (a->reasons));
    json_object_set_new (o, "amount_minor", fraud? json_integer (a->amount_minor): json_null ());
    json_object_set_new (o, "currency", s_text_or_null (a->currency));
    json_object_set_new (o, "amount_rep_minor",
                         fraud? json_integer (a->amount_rep_minor): json_null ());
    json_object_set_new (o, "merchant_id", s_text_or_null (a->merchant_id));
    json_object_set_new (o, "country", s_text_or_null (a->country));
    json_object_set_new (o, "channel", a->channel? json_string (txw_channel_name (a->channel)):
                                                   json_null ());
    json_object_set_new (o, "region", s_text_or_null (a->region));
    json_object_set_new (o, "message", s_string (a->message));
    json_object_set_new (o, "model_version", s_string (a->model_version));
    json_object_set_new (o, "raised_at", s_time (a->raised_ms));
    json_object_set_new (o, "status", json_string ("open"));
    json_object_set_new (o, "acked_at", json_null ());
    json_object_set_new (o, "acked_by", json_null ());
    return o;
}

char *
nt_alert_body (const txw_alert_t *alert)
{
    json_t *o = s_object (alert);
    if (!o)
        return NULL;
    char *text = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (o);
    return text;
}
