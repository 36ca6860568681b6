/*  email - an alert as an RFC 5322 message, for SMTP

    The message carries Date, From, To, Subject (the severity, the kind and
    the score: people sort mail by them), a Message-ID made from the alert's
    stable key, so a message sent again after a retry or a restart is known
    for the same one, X-Txwatch-Alert-Key, and a text/plain UTF-8 body with
    the alert's fields. Nothing an alert carries reaches a header unchecked:
    the key in the Subject and X-Txwatch-Alert-Key keeps printable ASCII
    only (anything else becomes '?'), the Message-ID is a hash, and the
    addresses come from the channels file, where they are checked at start.
    Body lines are CRLF-ended and short (RFC 5322's 998-byte limit); libcurl
    escapes a line that starts with a dot.                                   */

#ifndef TXW_NOTIFIER_EMAIL_H
#define TXW_NOTIFIER_EMAIL_H

#include "codec.h"

#include <stdbool.h>
#include <stdint.h>

#define NT_EMAIL_ADDRESS_MAX    254     //  RFC 5321's path limit, less the brackets

//  True if s is a plain address: local@domain in printable ASCII, without
//  spaces, brackets, quotes, commas or anything else a header could be
//  bent with.
bool nt_email_address_valid (const char *s);

//  The Message-ID for an alert key, "<txw.<hex>@domain>", domain the
//  sender's. out gets at most size bytes, terminated.
void nt_email_message_id (const char *key, const char *from, char *out, size_t size);

//  The whole message for alert from from to the to_count addresses in to,
//  dated now_ms (unix ms). Returns a string the caller frees, or NULL if
//  memory ran out.
char *nt_email_message (const txw_alert_t *alert, const char *from, const char *const *to,
                        int to_count, int64_t now_ms);

#endif
