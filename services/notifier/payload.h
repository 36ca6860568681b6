/*  payload - the JSON body a webhook receives for one alert

    The alert object of proto/SERVING.md, as the gateway pushes it: id null
    (a live alert is not stored yet), its stable key, status open, and the
    account masked (published alerts arrive masked; masking again changes
    nothing, so a publisher that forgot cannot leak an account id).         */

#ifndef NT_PAYLOAD_H
#define NT_PAYLOAD_H

#include "codec.h"

#include <stddef.h>

#define NT_KEY_MAX (TXW_ID_MAX + TXW_NAME_MAX + 32)

//  The alert's stable key: fraud:<tx_id> or region_health:<region>:<ms>.
void nt_alert_key (const txw_alert_t *alert, char *out, size_t size);

//  Renders the alert as compact JSON. Returns a string the caller frees, or
//  NULL if memory ran out.
char *nt_alert_body (const txw_alert_t *alert);

#endif
