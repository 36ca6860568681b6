/*  alertjson - the alert object of proto/SERVING.md from a published alert

    The push gateway and the webhook notifier both send live alerts as the
    alert object of the REST API, and the aggregator stores each alert under
    the same stable key the API and acknowledgements use. This module is the
    one place that key and that object are made; its fields are converted
    by json.h, as the gateway's other messages are.                          */

#ifndef TXW_ALERTJSON_H
#define TXW_ALERTJSON_H

#include "codec.h"

#include <jansson.h>
#include <stddef.h>

//  Enough for any key txw_alert_key writes, with its terminator.
#define TXW_ALERT_KEY_MAX (TXW_ID_MAX + TXW_NAME_MAX * 2 + 32)

//  The alert's stable key: <kind>:<tx_id> (fraud:<tx_id>), or
//  <kind>:<region>:<ts ms> for a region_health alert and for any alert
//  without a tx_id. out gets at most size bytes, terminated.
void txw_alert_key (const txw_alert_t *alert, char *out, size_t size);

//  The alert object: id null (a live alert is not stored yet), its key,
//  status open, never acked, its severity (common/severity.h), and the account masked: its pseudonym
//  (common/pii.h; published alerts arrive masked, and masking a pseudonym
//  again changes nothing). New reference, or NULL if memory ran out.
json_t *txw_alert_json (const txw_alert_t *alert);

#endif
