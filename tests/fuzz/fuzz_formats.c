/*  fuzz_formats - an alert in the notifier's formats: Slack, PagerDuty, email

    Alerts come from publishers the notifier does not control (a scorer
    shard, or anything that can reach its SUB), so every text field may
    hold anything: quotes, CR/LF, bytes that are not UTF-8, the longest
    text the codec allows. The input fills the alert: a byte for the kind,
    one for the score, eight for each amount, then the text fields split at
    NUL bytes (each cut to its field's size). Whatever they hold:
    - the Slack message is JSON with blocks within Slack's limits, all text
      valid UTF-8;
    - the PagerDuty trigger is JSON whose summary is one line of at most
      1024 bytes, with one of PagerDuty's four severities;
    - the email's header is printable ASCII in CRLF lines (no alert text can
      add a header), and its body valid UTF-8 in CRLF lines of at most 998
      bytes.                                                                */

#include "email.h"
#include "fuzz.h"
#include "pagerduty.h"
#include "pii.h"
#include "slack.h"
#include "utf8.h"

#include <jansson.h>

//  Copies the next NUL-terminated piece of data into out (size bytes).
static void
s_take (const uint8_t **data, size_t *left, char *out, size_t size)
{
    size_t len = 0;
    while (len < *left && (*data) [len])
        len++;
    size_t copy = len < size - 1? len: size - 1;
    memcpy (out, *data, copy);
    out [copy] = 0;
    size_t used = len < *left? len + 1: len;
    *data += used;
    *left -= used;
}

static uint64_t
s_int (const uint8_t **data, size_t *left)
{
    uint64_t v = 0;
    for (int i = 0; i < 8 && *left; i++, (*data)++, (*left)--)
        v = (v << 8) | **data;
    return v;
}

static const char *
s_text (json_t *o, const char *key)
{
    return json_string_value (json_object_get (o, key));
}

static void
s_check_text (const char *what, const char *text, size_t max)
{
    FUZZ_CHECK (text, "%s: missing", what);
    FUZZ_CHECK (strlen (text) <= max, "%s: %zu bytes, above %zu", what, strlen (text), max);
    FUZZ_CHECK (txw_utf8_valid (text, strlen (text)), "%s: not UTF-8", what);
}

static void
s_slack (const txw_alert_t *alert)
{
    char *body = nt_slack_body (alert);
    FUZZ_CHECK (body, "no Slack body");
    json_t *o = json_loads (body, 0, NULL);
    FUZZ_CHECK (o, "the Slack body is not JSON: %s", body);
    s_check_text ("text", s_text (o, "text"), NT_SLACK_TEXT_MAX);
    json_t *blocks = json_object_get (o, "blocks");
    FUZZ_CHECK (json_array_size (blocks) == 3, "3 blocks");
    s_check_text ("header", s_text (json_object_get (json_array_get (blocks, 0), "text"), "text"),
                  NT_SLACK_HEADER_MAX);
    json_t *fields = json_object_get (json_array_get (blocks, 1), "fields");
    FUZZ_CHECK (json_array_size (fields) <= 10, "at most 10 fields");
    for (size_t i = 0; i < json_array_size (fields); i++)
        s_check_text ("field", s_text (json_array_get (fields, i), "text"), NT_SLACK_TEXT_MAX);
    json_t *elements = json_object_get (json_array_get (blocks, 2), "elements");
    s_check_text ("context", s_text (json_array_get (elements, 0), "text"), NT_SLACK_TEXT_MAX);
    json_decref (o);
    free (body);
}

static void
s_pagerduty (const txw_alert_t *alert)
{
    char *body = nt_pagerduty_trigger (alert, "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12");
    FUZZ_CHECK (body, "no PagerDuty body");
    json_t *o = json_loads (body, 0, NULL);
    FUZZ_CHECK (o, "the PagerDuty body is not JSON: %s", body);
    json_t *payload = json_object_get (o, "payload");
    const char *summary = s_text (payload, "summary");
    s_check_text ("summary", summary, 1024);
    FUZZ_CHECK (!strpbrk (summary, "\r\n"), "the summary is more than one line");
    const char *severity = s_text (payload, "severity");
    FUZZ_CHECK (severity && strstr (" critical error warning info ", severity)
                && strlen (severity) > 3, "severity %s", severity? severity: "(none)");
    FUZZ_CHECK (s_text (o, "dedup_key"), "no dedup_key");
    json_decref (o);
    free (body);
}

static void
s_email (const txw_alert_t *alert)
{
    const char *to [] = { "desk@bank.test" };
    char *message = nt_email_message (alert, "txwatch@bank.test", to, 1, 1784291696000LL);
    FUZZ_CHECK (message, "no message");
    char *body = strstr (message, "\r\n\r\n");
    FUZZ_CHECK (body, "no blank line after the header");
    for (const char *c = message; c < body + 2; c++)
        FUZZ_CHECK ((*c >= 0x20 && *c < 0x7f) || (c [0] == '\r' && c [1] == '\n')
                    || (c [0] == '\n' && c [-1] == '\r'), "header byte 0x%02x", (unsigned char) *c);
    body += 4;
    FUZZ_CHECK (txw_utf8_valid (body, strlen (body)), "the body is not UTF-8");
    for (const char *line = body; *line; ) {
        const char *end = strstr (line, "\r\n");
        FUZZ_CHECK (end, "a body line without CRLF");
        FUZZ_CHECK (end - line <= 998, "a body line of %td bytes", end - line);
        FUZZ_CHECK (!memchr (line, '\n', (size_t) (end - line)) && !memchr (line, '\r', (size_t) (end - line)),
                    "a bare CR or LF in the body");
        line = end + 2;
    }
    free (message);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static bool keyed;
    if (!keyed) {
        uint8_t key [TXW_PSEUDONYM_KEY_BYTES] = { 1 };
        txw_pseudonym_key_set (key);
        keyed = true;
    }
    if (size < 2)
        return 0;
    txw_alert_t alert;
    memset (&alert, 0, sizeof alert);
    snprintf (alert.kind, sizeof alert.kind, "%s", data [0] & 1? "region_health": "fraud");
    alert.score = data [1];
    data += 2;
    size -= 2;
    alert.amount_minor = (int64_t) s_int (&data, &size);
    alert.amount_rep_minor = (int64_t) s_int (&data, &size);
    alert.ts_ms = (int64_t) (s_int (&data, &size) % 4102444800000ULL);     //  before 2100
    alert.reasons = (uint32_t) s_int (&data, &size);
    s_take (&data, &size, alert.tx_id, sizeof alert.tx_id);
    s_take (&data, &size, alert.account_id, sizeof alert.account_id);
    s_take (&data, &size, alert.currency, sizeof alert.currency);
    s_take (&data, &size, alert.merchant_id, sizeof alert.merchant_id);
    s_take (&data, &size, alert.region, sizeof alert.region);
    s_take (&data, &size, alert.country, sizeof alert.country);
    s_take (&data, &size, alert.model_version, sizeof alert.model_version);
    s_take (&data, &size, alert.message, sizeof alert.message);
    s_slack (&alert);
    s_pagerduty (&alert);
    s_email (&alert);
    return 0;
}
