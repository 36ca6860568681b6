/*  test_notifier_channels - the channels' formats and rules: Slack blocks,
    PagerDuty events, the email message, the channels file's checks, the
    routing by kind, severity and score, what an SMTP reply means, and
    (with a test database) how closes of alerts are followed for PagerDuty
    resolves: in event order, held until their resolves finish, waiting at
    a gap in the event ids, read again when the queue refuses one.
    Alerts carry hostile text (mrkdwn and JSON syntax, CR/LF meant to add
    headers, bytes that are not UTF-8, text longer than the limits): every
    format must stay well formed and within its receiver's limits.           */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertjson.h"
#include "catchup.h"
#include "channels.h"
#include "email.h"
#include "format.h"
#include "log.h"
#include "pagerduty.h"
#include "pii.h"
#include "policy.h"
#include "reasons.h"
#include "slack.h"
#include "testdb.h"
#include "utf8.h"

#define S_ROUTING_KEY "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12"

static txw_alert_t
s_alert (int score, int64_t amount_rep_minor)
{
    txw_alert_t a;
    memset (&a, 0, sizeof a);
    strcpy (a.kind, "fraud");
    strcpy (a.tx_id, "tx-123");
    a.ts_ms = 1784246400123LL;
    strcpy (a.account_id, "acc-000123");
    a.score = (uint8_t) score;
    a.reasons = TXW_REASON_AMOUNT_SPIKE | TXW_REASON_NEW_DEVICE;
    a.amount_minor = 250000;
    strcpy (a.currency, "EUR");
    a.amount_rep_minor = amount_rep_minor;
    strcpy (a.merchant_id, "m-0042");
    strcpy (a.country, "DE");
    strcpy (a.model_version, "rules-1");
    a.raised_ms = 1784246400456LL;
    strcpy (a.region, "north");
    strcpy (a.message, "score high");
    return a;
}

//  An alert whose every text field is hostile.
static txw_alert_t
s_hostile (void)
{
    txw_alert_t a = s_alert (95, 900000);
    strcpy (a.tx_id, "tx\r\nBcc: thief@example.com\r\n");
    strcpy (a.merchant_id, "<!channel> & \"quote\" *bold* <http://x|y>");
    strcpy (a.region, "r\xff\xfe");
    //  The longest message: "é" (2 bytes) over and over, a newline, and a
    //  byte that is not UTF-8 at the end.
    size_t at = 0;
    while (at + 2 < TXW_TEXT_MAX - 3) {
        memcpy (a.message + at, "\xc3\xa9", 2);
        at += 2;
    }
    memcpy (a.message + at, "\n\x80", 3);
    return a;
}

static json_t *
s_parse (char *text)
{
    assert_non_null (text);
    json_error_t error;
    json_t *o = json_loads (text, 0, &error);
    if (!o)
        fail_msg ("not JSON: %s: %s", error.text, text);
    free (text);
    return o;
}

static const char *
s_text (json_t *o, const char *path)
{
    //  path: keys split by '.', array indexes as numbers
    char copy [128];
    snprintf (copy, sizeof copy, "%s", path);
    json_t *at = o;
    for (char *save = NULL, *part = strtok_r (copy, ".", &save); part && at;
         part = strtok_r (NULL, ".", &save))
        at = json_is_array (at)? json_array_get (at, (size_t) atoi (part)): json_object_get (at, part);
    return json_string_value (at);
}

static void
s_valid_utf8_within (const char *text, size_t max)
{
    assert_non_null (text);
    assert_true (strlen (text) <= max);
    assert_true (txw_utf8_valid (text, strlen (text)));
}

static void
test_clip (void **state)
{
    (void) state;
    char out [16];
    assert_int_equal (nt_clip ("short", 10, out), 5);
    assert_string_equal (out, "short");
    //  "é" is 2 bytes: 10 bytes with "..." leave 7, so 3 whole characters.
    nt_clip ("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10, out);
    assert_string_equal (out, "\xc3\xa9\xc3\xa9\xc3\xa9...");
    s_valid_utf8_within (out, 10);
    nt_clip ("abcdef", 2, out);
    assert_string_equal (out, "..");
}

static void
test_slack_blocks (void **state)
{
    (void) state;
    txw_alert_t a = s_hostile ();
    json_t *o = s_parse (nt_slack_body (&a));
    s_valid_utf8_within (s_text (o, "text"), NT_SLACK_TEXT_MAX);
    json_t *blocks = json_object_get (o, "blocks");
    assert_int_equal (json_array_size (blocks), 3);
    assert_string_equal (s_text (o, "blocks.0.type"), "header");
    assert_string_equal (s_text (o, "blocks.0.text.type"), "plain_text");
    s_valid_utf8_within (s_text (o, "blocks.0.text.text"), NT_SLACK_HEADER_MAX);
    assert_string_equal (s_text (o, "blocks.1.type"), "section");
    json_t *fields = json_object_get (json_array_get (blocks, 1), "fields");
    assert_int_equal (json_array_size (fields), 8);
    for (size_t i = 0; i < json_array_size (fields); i++) {
        assert_string_equal (s_text (json_array_get (fields, i), "type"), "mrkdwn");
        s_valid_utf8_within (s_text (json_array_get (fields, i), "text"), NT_SLACK_TEXT_MAX);
    }
    assert_string_equal (s_text (fields, "0.text"), "*Kind*\nfraud");
    assert_string_equal (s_text (fields, "1.text"), "*Severity*\ncritical");
    assert_string_equal (s_text (fields, "2.text"), "*Score*\n95");
    assert_string_equal (s_text (fields, "3.text"), "*Amount*\n2500.00 EUR");
    //  The account as published: its pseudonym, never the id.
    assert_non_null (strstr (s_text (fields, "4.text"), "p~"));
    assert_null (strstr (s_text (fields, "4.text"), "acc-000123"));
    //  mrkdwn's control characters are escaped: no mention, no link.
    assert_string_equal (s_text (fields, "5.text"),
                         "*Merchant*\n&lt;!channel&gt; &amp; \"quote\" *bold* &lt;http://x|y&gt;");
    assert_string_equal (s_text (fields, "7.text"), "*Reasons*\namount_spike, new_device");
    assert_string_equal (s_text (o, "blocks.2.type"), "context");
    assert_string_equal (s_text (o, "blocks.2.elements.0.type"), "plain_text");
    s_valid_utf8_within (s_text (o, "blocks.2.elements.0.text"), NT_SLACK_TEXT_MAX);
    json_decref (o);
}

//  The longest message, every byte of it not UTF-8 (each becomes a 3-byte
//  U+FFFD): the header and the context stay within Slack's limits.
static void
test_slack_long_text (void **state)
{
    (void) state;
    txw_alert_t a = s_alert (60, 0);
    strcpy (a.kind, "region_health");
    memset (a.message, 0xff, TXW_TEXT_MAX);
    a.message [TXW_TEXT_MAX] = 0;
    json_t *o = s_parse (nt_slack_body (&a));
    s_valid_utf8_within (s_text (o, "blocks.0.text.text"), NT_SLACK_HEADER_MAX);
    s_valid_utf8_within (s_text (o, "blocks.2.elements.0.text"), NT_SLACK_TEXT_MAX);
    s_valid_utf8_within (s_text (o, "text"), NT_SLACK_TEXT_MAX);
    assert_string_equal (s_text (o, "blocks.1.fields.1.text"), "*Severity*\nmedium");
    assert_string_equal (s_text (o, "blocks.1.fields.3.text"), "*Amount*\n-");
    json_decref (o);
}

static void
test_pagerduty_events (void **state)
{
    (void) state;
    assert_string_equal (nt_pagerduty_severity (TXW_SEVERITY_CRITICAL), "critical");
    assert_string_equal (nt_pagerduty_severity (TXW_SEVERITY_HIGH), "error");
    assert_string_equal (nt_pagerduty_severity (TXW_SEVERITY_MEDIUM), "warning");
    assert_string_equal (nt_pagerduty_severity (TXW_SEVERITY_LOW), "info");
    assert_true (nt_pagerduty_key_valid (S_ROUTING_KEY));
    assert_false (nt_pagerduty_key_valid ("short"));
    assert_false (nt_pagerduty_key_valid ("R0ut1ngKeyR0ut1ngKeyR0ut1ngKey1\n"));

    txw_alert_t a = s_alert (80, 100);          //  high: "error"
    json_t *o = s_parse (nt_pagerduty_trigger (&a, S_ROUTING_KEY));
    assert_string_equal (s_text (o, "routing_key"), S_ROUTING_KEY);
    assert_string_equal (s_text (o, "event_action"), "trigger");
    assert_string_equal (s_text (o, "dedup_key"), "fraud:tx-123");
    assert_string_equal (s_text (o, "payload.severity"), "error");
    assert_string_equal (s_text (o, "payload.source"), NT_PAGERDUTY_SOURCE);
    assert_string_equal (s_text (o, "payload.timestamp"), "2026-07-17T00:00:00.123Z");
    assert_string_equal (s_text (o, "payload.component"), "fraud");
    assert_string_equal (s_text (o, "payload.group"), "north");
    assert_string_equal (s_text (o, "payload.class"), "amount_spike");
    assert_string_equal (s_text (o, "payload.summary"),
                         "high fraud alert, score 80: 2500.00 EUR at merchant m-0042 in north");
    assert_string_equal (s_text (o, "payload.custom_details.key"), "fraud:tx-123");
    json_decref (o);

    a = s_hostile ();
    o = s_parse (nt_pagerduty_trigger (&a, S_ROUTING_KEY));
    assert_string_equal (s_text (o, "payload.severity"), "critical");
    s_valid_utf8_within (s_text (o, "payload.summary"), NT_SUMMARY_MAX);
    assert_null (strpbrk (s_text (o, "payload.summary"), "\r\n"));
    json_decref (o);

    o = s_parse (nt_pagerduty_resolve ("fraud:tx-123", S_ROUTING_KEY));
    assert_string_equal (s_text (o, "event_action"), "resolve");
    assert_string_equal (s_text (o, "dedup_key"), "fraud:tx-123");
    assert_string_equal (s_text (o, "routing_key"), S_ROUTING_KEY);
    assert_null (json_object_get (o, "payload"));
    json_decref (o);
}

//  The header lines of message (up to the blank line), with continuation
//  lines folded into the line before.
static int
s_headers (const char *message, char lines [][1024], int max)
{
    int count = 0;
    const char *at = message;
    while (count < max) {
        const char *end = strstr (at, "\r\n");
        assert_non_null (end);
        if (end == at)
            return count;
        //  No bare CR or LF inside a line.
        for (const char *c = at; c < end; c++)
            assert_true (*c != '\r' && *c != '\n');
        if (*at == ' ' && count > 0)
            strncat (lines [count - 1], at, (size_t) (end - at));
        else
            snprintf (lines [count++], 1024, "%.*s", (int) (end - at), at);
        at = end + 2;
    }
    fail_msg ("too many header lines");
    return count;
}

static const char *
s_header (char lines [][1024], int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (!strncasecmp (lines [i], name, strlen (name)) && lines [i][strlen (name)] == ':')
            return lines [i] + strlen (name) + 2;
    return NULL;
}

static void
test_email_message (void **state)
{
    (void) state;
    assert_true (nt_email_address_valid ("desk@example.com"));
    assert_false (nt_email_address_valid ("desk@example.com\r\nBcc: x@y"));
    assert_false (nt_email_address_valid ("Desk <desk@example.com>"));
    assert_false (nt_email_address_valid ("a,b@example.com"));
    assert_false (nt_email_address_valid ("@example.com"));
    assert_false (nt_email_address_valid ("desk@"));
    assert_false (nt_email_address_valid ("a@b@c"));

    const char *to [] = { "desk@example.com", "oncall@example.com" };
    txw_alert_t a = s_hostile ();
    //  2026-07-17 12:34:56 UTC, a Friday
    char *message = nt_email_message (&a, "txwatch@alerts.example.com", to, 2, 1784291696000LL);
    assert_non_null (message);
    char lines [32][1024];
    memset (lines, 0, sizeof lines);
    int count = s_headers (message, lines, 32);
    assert_string_equal (s_header (lines, count, "Date"), "Fri, 17 Jul 2026 12:34:56 +0000");
    assert_string_equal (s_header (lines, count, "From"), "txwatch@alerts.example.com");
    assert_string_equal (s_header (lines, count, "To"), "desk@example.com, oncall@example.com");
    assert_null (s_header (lines, count, "Bcc"));
    const char *subject = s_header (lines, count, "Subject");
    assert_non_null (subject);
    assert_non_null (strstr (subject, "[txwatch] CRITICAL fraud alert, score 95"));
    for (int i = 0; i < count; i++)
        for (const char *c = lines [i]; *c; c++)
            assert_true (*c >= 0x20 && *c < 0x7f);      //  headers: printable ASCII
    char id [128], again [128], other [128];
    nt_email_message_id ("fraud:tx\r\nBcc: thief@example.com\r\n", "txwatch@alerts.example.com",
                         id, sizeof id);
    nt_email_message_id ("fraud:tx\r\nBcc: thief@example.com\r\n", "txwatch@alerts.example.com",
                         again, sizeof again);
    nt_email_message_id ("fraud:tx-124", "txwatch@alerts.example.com", other, sizeof other);
    assert_string_equal (s_header (lines, count, "Message-ID"), id);
    assert_string_equal (id, again);
    assert_string_not_equal (id, other);
    assert_int_equal (strlen (id), strlen ("<txw.@alerts.example.com>") + 32);
    assert_string_equal (s_header (lines, count, "Content-Type"), "text/plain; charset=utf-8");
    //  The body: valid UTF-8, CRLF lines within RFC 5322's limit, the
    //  message's newline and bad byte gone from it.
    const char *body = strstr (message, "\r\n\r\n") + 4;
    assert_true (txw_utf8_valid (body, strlen (body)));
    for (const char *line = body; *line; ) {
        const char *end = strstr (line, "\r\n");
        assert_non_null (end);
        assert_true (end - line <= 998);
        for (const char *c = line; c < end; c++)
            assert_true (*c != '\r' && *c != '\n');
        line = end + 2;
    }
    assert_non_null (strstr (body, "\r\nMerchant: <!channel> & \"quote\""));
    assert_non_null (strstr (body, "\r\nAmount: 2500.00 EUR\r\n"));
    assert_non_null (strstr (body, "\xef\xbf\xbd"));       //  the bad byte, as U+FFFD
    free (message);
}

//  --- The channels file ------------------------------------------------------------

static char s_dir [] = "/tmp/txw-channels-XXXXXX";

static const char *
s_file (const char *name, const char *text)
{
    static char path [256];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
    return path;
}

static int
s_load (const char *json, nt_channels_t *channels)
{
    memset (channels, 0, sizeof *channels);
    char text [4096];
    //  %D stands for the folder of the secret files.
    size_t at = 0;
    for (const char *c = json; *c && at < sizeof text - 64; c++)
        if (c [0] == '%' && c [1] == 'D') {
            at += (size_t) snprintf (text + at, sizeof text - at, "%s", s_dir);
            c++;
        }
        else
            text [at++] = *c;
    text [at] = 0;
    int rc = nt_channels_load (channels, s_file ("channels.json", text));
    if (rc)
        nt_channels_clear (channels);
    return rc;
}

static void
test_channels_file (void **state)
{
    (void) state;
    assert_non_null (mkdtemp (s_dir));
    s_file ("pd.key", S_ROUTING_KEY "\n");
    s_file ("slack.url", "https://hooks.slack.example/services/T/B/secret\n");
    s_file ("smtp.login", "mailer:pa:ss\n");
    s_file ("hook.secret", "0123456789abcdef0123456789abcdef\n");
    s_file ("short.key", "abc\n");
    nt_channels_t channels;
    assert_int_equal (s_load (
        "{\"channels\": ["
        " {\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/h\","
        "  \"secret_file\": \"%D/hook.secret\"},"
        " {\"name\": \"ops-slack\", \"type\": \"slack\", \"url_file\": \"%D/slack.url\","
        "  \"kinds\": [\"fraud\"], \"min_severity\": \"high\"},"
        " {\"name\": \"oncall\", \"type\": \"pagerduty\", \"routing_key_file\": \"%D/pd.key\","
        "  \"min_severity\": \"critical\", \"min_score\": 80},"
        " {\"name\": \"desk\", \"type\": \"email\", \"url\": \"smtps://mail.example:465\","
        "  \"from\": \"txw@example.com\", \"to\": [\"a@example.com\", \"b@example.com\"],"
        "  \"credentials_file\": \"%D/smtp.login\", \"kinds\": [\"region_health\"]}]}",
        &channels), 0);
    assert_int_equal (channels.count, 4);
    nt_channel_t *hook = &channels.items [0], *slack = &channels.items [1];
    nt_channel_t *pd = &channels.items [2], *mail = &channels.items [3];
    assert_non_null (hook->signer);
    assert_string_equal (slack->url, "https://hooks.slack.example/services/T/B/secret");
    assert_int_equal (slack->min_severity, TXW_SEVERITY_HIGH);
    assert_string_equal (pd->url, NT_PAGERDUTY_URL);
    assert_string_equal (pd->routing_key, S_ROUTING_KEY);
    assert_int_equal (pd->min_score, 80);
    assert_string_equal (mail->username, "mailer");
    assert_string_equal (mail->password, "pa:ss");
    assert_int_equal (mail->to_count, 2);
    assert_true (nt_channels_have (&channels, NT_CHANNEL_PAGERDUTY));

    //  Routing: kinds, severity (score and amount) and score.
    txw_alert_t low = s_alert (40, 0), high = s_alert (80, 100), critical = s_alert (80, 600000);
    txw_alert_t health = s_alert (95, 0);
    strcpy (health.kind, "region_health");
    assert_true (nt_channel_wants (hook, &low));
    assert_false (nt_channel_wants (slack, &low));
    assert_true (nt_channel_wants (slack, &high));
    assert_false (nt_channel_wants (slack, &health));
    assert_false (nt_channel_wants (pd, &high));
    assert_true (nt_channel_wants (pd, &critical));
    assert_false (nt_channel_wants (mail, &critical));
    assert_true (nt_channel_wants (mail, &health));
    nt_channels_clear (&channels);

    //  Each mistake stops the load (and is logged with the reason).
    const char *bad [] = {
        "not json",
        "{\"channels\": []}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\", \"url\": \"https://h\"}], \"more\": 1}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\", \"url\": \"https://h\", \"colour\": 1}]}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"sms\", \"url\": \"https://h\"}]}",
        "{\"channels\": [{\"name\": \"X Y\", \"type\": \"slack\", \"url\": \"https://h\"}]}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\", \"url\": \"ftp://h\"}]}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\"}]}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\", \"url\": \"https://h\","
        " \"url_file\": \"%D/slack.url\"}]}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\", \"url\": \"https://h\","
        " \"min_severity\": \"urgent\"}]}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\", \"url\": \"https://h\","
        " \"kinds\": [\"fraud\", \"weather\"]}]}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\", \"url\": \"https://h\","
        " \"min_score\": 101}]}",
        "{\"channels\": [{\"name\": \"x\", \"type\": \"slack\", \"url\": \"https://h\"},"
        " {\"name\": \"x\", \"type\": \"slack\", \"url\": \"https://h\"}]}",
        "{\"channels\": [{\"name\": \"p\", \"type\": \"pagerduty\"}]}",
        "{\"channels\": [{\"name\": \"p\", \"type\": \"pagerduty\", \"routing_key_file\": \"%D/none\"}]}",
        "{\"channels\": [{\"name\": \"p\", \"type\": \"pagerduty\", \"routing_key_file\": \"%D/short.key\"}]}",
        "{\"channels\": [{\"name\": \"m\", \"type\": \"email\", \"url\": \"smtp://h\","
        " \"from\": \"a@b\", \"to\": []}]}",
        "{\"channels\": [{\"name\": \"m\", \"type\": \"email\", \"url\": \"smtp://h\","
        " \"from\": \"a@b\\r\\nBcc: c@d\", \"to\": [\"e@f\"]}]}",
        "{\"channels\": [{\"name\": \"m\", \"type\": \"email\", \"url\": \"http://h\","
        " \"from\": \"a@b\", \"to\": [\"e@f\"]}]}",
        "{\"channels\": [{\"name\": \"m\", \"type\": \"email\", \"url\": \"smtp://h\","
        " \"from\": \"a@b\", \"to\": [\"e@f\"], \"credentials_file\": \"%D/short.key\"}]}",
        "{\"channels\": [{\"name\": \"w\", \"type\": \"webhook\", \"url\": \"http://h\","
        " \"secret_file\": \"%D/short.key\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (s_load (bad [i], &channels) != -1)
            fail_msg ("accepted: %s", bad [i]);
    assert_int_equal (nt_channels_load (&channels, "/nonexistent/channels.json"), -1);
    nt_channels_clear (&channels);
    char command [300];
    snprintf (command, sizeof command, "rm -rf '%s'", s_dir);
    assert_int_equal (system (command), 0);
}

//  --webhook-url's channel: every URL an entry of channel "webhook".
static void
test_webhook_options (void **state)
{
    (void) state;
    nt_channels_t channels;
    memset (&channels, 0, sizeof channels);
    assert_int_equal (nt_channels_add_webhooks (&channels, "http://a/1,https://b/2",
                                                "region_health", 30, NULL, "X-A: b"), 0);
    assert_int_equal (channels.count, 2);
    assert_string_equal (channels.items [1].name, "webhook");
    assert_string_equal (channels.items [1].header, "X-A: b");
    txw_alert_t fraud = s_alert (99, 0), health = s_alert (20, 0), health_ok = s_alert (30, 0);
    strcpy (health.kind, "region_health");
    strcpy (health_ok.kind, "region_health");
    assert_false (nt_channel_wants (&channels.items [0], &fraud));
    assert_false (nt_channel_wants (&channels.items [0], &health));
    assert_true (nt_channel_wants (&channels.items [0], &health_ok));
    nt_channels_clear (&channels);
    assert_int_equal (nt_channels_add_webhooks (&channels, "ftp://a", "fraud", 0, NULL, NULL), -1);
    nt_channels_clear (&channels);
    assert_int_equal (nt_channels_add_webhooks (&channels, "http://a", "fraud,weather", 0, NULL,
                                                NULL), -1);
    nt_channels_clear (&channels);
}

static void
test_classify_smtp (void **state)
{
    (void) state;
    assert_int_equal (nt_classify_smtp (CURLE_OK, 250), NT_OUTCOME_OK);
    assert_int_equal (nt_classify_smtp (CURLE_SEND_ERROR, 550), NT_OUTCOME_FAIL);  //  no such user
    assert_int_equal (nt_classify_smtp (CURLE_SEND_ERROR, 451), NT_OUTCOME_RETRY); //  try later
    assert_int_equal (nt_classify_smtp (CURLE_COULDNT_CONNECT, 0), NT_OUTCOME_RETRY);
    assert_int_equal (nt_classify_smtp (CURLE_LOGIN_DENIED, 535), NT_OUTCOME_FAIL);
    assert_int_equal (nt_classify_smtp (CURLE_USE_SSL_FAILED, 0), NT_OUTCOME_FAIL);
    assert_int_equal (nt_classify_smtp (CURLE_OPERATION_TIMEDOUT, 0), NT_OUTCOME_RETRY);
}

//  --- Closes from txw_data.alert_events -------------------------------------------

typedef struct {
    char keys [8][TXW_ALERT_KEY_MAX];
    int scores [8];
    int count;
    nt_catchup_take_t answer;
} s_offers_t;

static nt_catchup_take_t
s_offer (void *arg, const txw_alert_t *alert, const char *key)
{
    s_offers_t *offers = arg;
    assert_true (offers->count < 8);
    assert_string_equal (alert->kind, "fraud");
    snprintf (offers->keys [offers->count], TXW_ALERT_KEY_MAX, "%s", key);
    offers->scores [offers->count++] = alert->score;
    return offers->answer;
}

static long long
s_value (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    assert_int_equal (PQresultStatus (res), PGRES_TUPLES_OK);
    long long value = PQntuples (res)? strtoll (PQgetvalue (res, 0, 0), NULL, 10): -1;
    PQclear (res);
    return value;
}

//  A close of alert <tag> (stored by s_alerts), as the query API records it.
static void
s_close (PGconn *conn, const char *run, const char *tag, const char *field)
{
    char sql [512];
    snprintf (sql, sizeof sql,
        "INSERT INTO txw_data.alert_events (alert_id, ts, dedupe_key, field, old_value, new_value, actor)"
        " SELECT alert_id, ts, dedupe_key, '%s', 'open', 'closed', 'test' FROM txw_data.alerts"
        " WHERE dedupe_key = 'fraud:%s-%s'", field, run, tag);
    assert_int_equal (txw_pg_exec (conn, sql), 0);
}

static void
test_closes_followed (void **state)
{
    (void) state;
    TESTDB_OPEN (url, conn);
    char run [32], sql [1024], cursor [48];
    snprintf (run, sizeof run, "closes-%d", (int) getpid ());
    snprintf (cursor, sizeof cursor, "test-%s", run);
    snprintf (sql, sizeof sql,
        "SELECT txw_data.ensure_event_partition ('alerts', now ());"
        "INSERT INTO txw_data.alerts (dedupe_key, kind, tx_id, ts, score, reasons, message,"
        " model_version, raised_at) SELECT 'fraud:%s-' || t, 'fraud', '%s-' || t, now (), s, '{}',"
        " 'm', 'rules-1', now () FROM (VALUES ('a', 95), ('b', 30)) v (t, s)", run, run);
    assert_int_equal (txw_pg_exec (conn, sql), 0);
    s_offers_t offers = { .answer = NT_CATCHUP_SENT };
    nt_catchup_t *catchup = nt_catchup_new (url, cursor);
    assert_non_null (catchup);
    nt_catchup_follow_closes (catchup);
    //  The first start begins at the newest event: older closes are history.
    s_close (conn, run, "b", "status");
    nt_catchup_poll_closes (catchup, s_offer, &offers);
    assert_int_equal (offers.count, 0);

    //  A close is offered with what routing needs; another waits until the
    //  resolves of the first are finished; an assignee change is no close.
    s_close (conn, run, "a", "status");
    s_close (conn, run, "a", "assignee");
    nt_catchup_poll_closes (catchup, s_offer, &offers);
    assert_int_equal (offers.count, 1);
    char key [TXW_ALERT_KEY_MAX];
    snprintf (key, sizeof key, "fraud:%s-a", run);
    assert_string_equal (offers.keys [0], key);
    assert_int_equal (offers.scores [0], 95);
    s_close (conn, run, "b", "status");
    nt_catchup_poll_closes (catchup, s_offer, &offers);
    assert_int_equal (offers.count, 1);
    nt_catchup_close_finished (catchup);
    offers.answer = NT_CATCHUP_DONE;
    nt_catchup_poll_closes (catchup, s_offer, &offers);
    assert_int_equal (offers.count, 2);
    assert_int_equal (offers.scores [1], 30);
    nt_catchup_destroy (&catchup);
    snprintf (sql, sizeof sql, "SELECT event_id FROM txw_data.notifier_event_cursor WHERE name = '%s'",
              cursor);
    long long newest = s_value (conn, "SELECT max (event_id) FROM txw_data.alert_events");
    assert_int_equal (s_value (conn, sql), newest);

    //  After a restart: an id skipped (a transaction that may still commit)
    //  holds the reader for a while, then it goes on; a close the queue
    //  refuses is offered again.
    assert_true (s_value (conn, "SELECT nextval ('txw_data.alert_events_event_id_seq')") > 0);
    s_close (conn, run, "a", "status");
    catchup = nt_catchup_new (url, cursor);
    nt_catchup_follow_closes (catchup);
    offers.answer = NT_CATCHUP_LATER;
    nt_catchup_poll_closes (catchup, s_offer, &offers);
    assert_int_equal (offers.count, 2);             //  stopped at the gap
    usleep (2100 * 1000);
    nt_catchup_poll_closes (catchup, s_offer, &offers);
    assert_int_equal (offers.count, 3);             //  passed it; refused
    offers.answer = NT_CATCHUP_DONE;
    nt_catchup_poll_closes (catchup, s_offer, &offers);
    assert_int_equal (offers.count, 4);             //  offered again
    assert_string_equal (offers.keys [3], key);
    nt_catchup_destroy (&catchup);
    assert_int_equal (s_value (conn, sql), newest + 2);
    PQfinish (conn);
}

int
main (void)
{
    txw_log_init ("test_notifier_channels", TXW_LOG_ERROR);
    uint8_t pseudonym_key [TXW_PSEUDONYM_KEY_BYTES];
    for (int i = 0; i < TXW_PSEUDONYM_KEY_BYTES; i++)
        pseudonym_key [i] = (uint8_t) i;
    txw_pseudonym_key_set (pseudonym_key);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_clip),
        cmocka_unit_test (test_slack_blocks),
        cmocka_unit_test (test_slack_long_text),
        cmocka_unit_test (test_pagerduty_events),
        cmocka_unit_test (test_email_message),
        cmocka_unit_test (test_channels_file),
        cmocka_unit_test (test_webhook_options),
        cmocka_unit_test (test_classify_smtp),
        cmocka_unit_test (test_closes_followed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
