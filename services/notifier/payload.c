/*  payload - the JSON body a webhook receives for one alert                */

#include "payload.h"

#include <jansson.h>

char *
nt_alert_body (const txw_alert_t *alert)
{
    json_t *o = txw_alert_json (alert);
    if (!o)
        return NULL;
    char *text = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (o);
    return text;
}
