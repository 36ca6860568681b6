/*  alertjson - the alert object of proto/SERVING.md from a published alert  */

#include "alertjson.h"
#include "json.h"
#include "pii.h"
#include "severity.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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
    //  The stored alert's severity (021's rule, common/severity.h), so a
    //  live alert reads as the API's: no reader derives it again.
    json_object_set_new (o, "severity", json_string (txw_severity_name (
        txw_severity ((int) a->score, fraud? a->amount_rep_minor: 0))));
    return o;
}
