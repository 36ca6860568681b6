/*  email - an alert as an RFC 5322 message, for SMTP                       */

#include "email.h"
#include "format.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_LINE_MAX  200         //  body lines are wrapped at this many bytes

bool
nt_email_address_valid (const char *s)
{
    size_t len = strlen (s);
    const char *at = strchr (s, '@');
    if (len == 0 || len > NT_EMAIL_ADDRESS_MAX || !at || at == s || !at [1] || strchr (at + 1, '@'))
        return false;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f || strchr ("<>()[]\\,;:\"", *s))
            return false;
    return true;
}

void
nt_email_message_id (const char *key, const char *from, char *out, size_t size)
{
    unsigned char hash [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (hash, (const unsigned char *) key, strlen (key));
    char hex [2 * 16 + 1];
    sodium_bin2hex (hex, sizeof hex, hash, 16);
    const char *domain = strchr (from, '@');
    snprintf (out, size, "<txw.%s@%s>", hex, domain? domain + 1: "txwatch.invalid");
}

//  Text for a header: printable ASCII kept, anything else '?', at most
//  max bytes.
static void
s_header_text (const char *s, size_t max, char *out)
{
    size_t i = 0;
    for (; s [i] && i < max; i++)
        out [i] = s [i] > 0x20 && s [i] < 0x7f? s [i]: '?';
    out [i] = 0;
}

//  "label: value" in lines of at most S_LINE_MAX bytes, cut between UTF-8
//  characters (value is valid UTF-8), the next ones indented; control
//  characters in value become spaces.
static void
s_body_line (FILE *f, const char *label, const char *value)
{
    size_t room = S_LINE_MAX - (size_t) fprintf (f, "%s: ", label);
    do {
        size_t take = strlen (value);
        if (take > room) {
            take = room;
            while (take > 0 && ((unsigned char) value [take] & 0xC0) == 0x80)
                take--;
        }
        for (size_t i = 0; i < take; i++)
            fputc ((unsigned char) value [i] < 0x20 || value [i] == 0x7f? ' ': value [i], f);
        fputs ("\r\n", f);
        value += take;
        if (*value) {
            fputs ("  ", f);
            room = S_LINE_MAX - 2;
        }
    } while (*value);
}

char *
nt_email_message (const txw_alert_t *alert, const char *from, const char *const *to,
                  int to_count, int64_t now_ms)
{
    nt_view_t view;
    if (nt_view_init (&view, alert))
        return NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    if (!f) {
        nt_view_free (&view);
        return NULL;
    }
    static const char *days [] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *months [] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t now = (time_t) (now_ms / 1000);
    struct tm tm;
    gmtime_r (&now, &tm);
    const char *key = nt_view_text (&view, "key");
    char safe_key [128], safe_kind [TXW_NAME_MAX + 1], message_id [128], severity [16];
    s_header_text (key, sizeof safe_key - 1, safe_key);
    s_header_text (nt_view_text (&view, "kind"), sizeof safe_kind - 1, safe_kind);
    nt_email_message_id (key, from, message_id, sizeof message_id);
    s_header_text (txw_severity_name (view.severity), sizeof severity - 1, severity);
    for (char *c = severity; *c; c++)
        *c = (char) (*c - 'a' + 'A');
    fprintf (f, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days [tm.tm_wday], tm.tm_mday,
             months [tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    fprintf (f, "From: %s\r\nTo: ", from);
    for (int i = 0; i < to_count; i++)
        fprintf (f, "%s%s", i? ",\r\n ": "", to [i]);
    fprintf (f, "\r\nSubject: [txwatch] %s %s alert, score %d (%s)\r\n", severity, safe_kind,
             alert->score, safe_key);
    fprintf (f, "Message-ID: %s\r\nX-Txwatch-Alert-Key: %s\r\n", message_id, safe_key);
    fputs ("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", f);
    s_body_line (f, "Summary", view.summary);
    fputs ("\r\n", f);
    char score [8];
    snprintf (score, sizeof score, "%d", alert->score);
    const struct { const char *label, *value; } fields [] = {
        { "Kind", nt_view_text (&view, "kind") },
        { "Severity", txw_severity_name (view.severity) },
        { "Score", score },
        { "Amount", view.amount },
        { "Account", nt_view_text (&view, "account_id") },
        { "Merchant", nt_view_text (&view, "merchant_id") },
        { "Region", nt_view_text (&view, "region") },
        { "Reasons", view.reasons },
        { "Transaction", nt_view_text (&view, "tx_id") },
        { "Time", nt_view_text (&view, "ts") },
        { "Message", nt_view_text (&view, "message") },
        { "Key", key },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields [0]; i++)
        if (*fields [i].value)
            s_body_line (f, fields [i].label, fields [i].value);
    nt_view_free (&view);
    if (fclose (f)) {
        free (text);
        return NULL;
    }
    return text;
}
