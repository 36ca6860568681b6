/*  checks - validation, cleaning and enrichment of one raw transaction

    The validator's whole judgement of a record lives here, away from
    sockets and databases, so that every rule is unit-tested as it runs.
    checks_apply takes a decoded raw record (all fields still text, borrowed
    from the received frame) and either fills a normalised, enriched
    txw_tx_t or names the first rule it breaks: a reason code from
    rejects.h, the field, and a message for people. What a rejected record
    shows (message and payload) never depends on field positions: a value
    appears as it is only when its shape is safe (common/pii.h) or it is the
    tx_id the dead letter keeps anyway, else as its pseudonym. A good record
    costs no allocation and no formatting; only a rejected one pays for its
    message.                                                                 */

#ifndef TXW_VALIDATOR_RULES_H
#define TXW_VALIDATOR_RULES_H

#include "codec.h"
#include "money.h"
#include "rejects.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct _checks_t checks_t;

//  Why a record was rejected. field is a static name.
typedef struct {
    txw_reject_code_t code;
    const char *field;
    char message [TXW_TEXT_MAX + 1];
} checks_verdict_t;

//  Creates a rule set. rates is borrowed (see checks_set_rates); a ts before
//  min_ts_ms or more than max_future_ms ahead of the wall clock is out of
//  range. Returns NULL only when out of memory.
checks_t *checks_new (const txw_rates_t *rates, int64_t min_ts_ms, int64_t max_future_ms);

//  The largest amount of one transaction, in the reporting currency's minor
//  units: above it, amount_too_large. Without it: INT64_MAX.
void checks_set_max_amount (checks_t *self, int64_t max_rep_minor);
void checks_destroy (checks_t **self_p);

//  Replaces the borrowed rates table (after a reload). The caller keeps the
//  old one alive until this returns and frees it after.
void checks_set_rates (checks_t *self, const txw_rates_t *rates);

//  The rule set of the options the validator and ingest share: --rates
//  (rates_path, "" for the built-in table) in --reporting-currency, --min-ts
//  (RFC 3339), --max-future and --max-amount (a decimal in the reporting
//  currency). Returns it with *rates_p set to the table it borrows (the
//  caller's to free after it), or NULL with the bad option logged.
checks_t *checks_from_options (const char *rates_path, const char *reporting_currency,
                               const char *min_ts, int64_t max_future_ms,
                               const char *max_amount, txw_rates_t **rates_p);

//  Loads the rates again (on SIGHUP), to replace in_use with
//  checks_set_rates. Returns the new table, or NULL with the reason logged
//  (in_use stays).
txw_rates_t *checks_reload_rates (const char *rates_path, const char *reporting_currency,
                                  const txw_rates_t *in_use);

//  Checks raw against every rule, first failure wins, in the order of the
//  reason codes: bad_type, missing_field, too_long, bad_id, bad_timestamp,
//  ts_out_of_range, bad_currency, bad_amount, non_positive_amount, no_rate,
//  bad_country, bad_channel, bad_status. now_ms is the wall clock (taken
//  once per batch). Returns 0 with *tx filled, or -1 with *verdict filled
//  (tx is then undefined). Never fails for any other reason.
int checks_apply (const checks_t *self, const txw_raw_tx_t *raw, int64_t now_ms,
                 txw_tx_t *tx, checks_verdict_t *verdict);

//  Renders raw as compact JSON for a dead letter's payload: every field by
//  name, trimmed; the tx_id as checks_reject keeps it, every other value as
//  it is only if txw_pii_safe, else its pseudonym (whatever the field: a
//  sender's shifted fields put ids anywhere). Long values cut, always valid
//  UTF-8 and terminated. Returns the length written (less than size).
size_t checks_payload (const txw_raw_tx_t *raw, char *out, size_t size);

//  Fills the record-derived part of a dead letter (tx_id, reason, field,
//  message, payload, line_no) from raw and verdict; the caller sets the
//  origin and received_ms. tx_id is kept when it is valid text up to
//  TXW_ID_MAX bytes, and left empty otherwise.
void checks_reject (const txw_raw_tx_t *raw, const checks_verdict_t *verdict,
                   txw_reject_t *reject);

//  Checks a correction (decoded, so its texts are within their limits and
//  hold no NUL): tx_id and account_id present and made of id characters,
//  ts in the same range as a transaction's, a known status, actor and
//  reason valid UTF-8; a corrected_ms of 0 becomes now_ms. Returns 0, or
//  -1 with *verdict filled (codes missing_field, bad_id, ts_out_of_range,
//  bad_correction, bad_type; field names as on the wire).
int checks_correction (const checks_t *self, txw_correction_t *c, int64_t now_ms,
                       checks_verdict_t *verdict);

#endif
