/*  payload - the JSON body a webhook receives for one alert

    The alert object of proto/SERVING.md, as the gateway pushes it
    (common/alertjson.h): id null (a live alert is not stored yet), its
    stable key (txw_alert_key), status open, and the account masked (its
    pseudonym, common/pii.h).                                               */

#ifndef TXW_NOTIFIER_PAYLOAD_H
#define TXW_NOTIFIER_PAYLOAD_H

#include "alertjson.h"
#include "codec.h"

//  Renders the alert as compact JSON. Returns a string the caller frees, or
//  NULL if memory ran out.
char *nt_alert_body (const txw_alert_t *alert);

#endif
