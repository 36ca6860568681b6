/*  slack - an alert as a Slack incoming-webhook message

    Slack's incoming webhooks take {"text", "blocks"} (Block Kit): a header
    block with the summary, a section whose fields are the kind, severity,
    score, amount, account (masked, as published), merchant, region and
    reasons, and a context block with the alert's key and message. "text"
    is the fallback notifications and old clients show. Text is kept within
    Slack's limits (header 150 characters, a field or a context element
    2000), and mrkdwn's control characters &, < and > are escaped as Slack
    documents, so an alert's text cannot become a link or a mention.        */

#ifndef TXW_NOTIFIER_SLACK_H
#define TXW_NOTIFIER_SLACK_H

#include "codec.h"

#define NT_SLACK_HEADER_MAX 150
#define NT_SLACK_TEXT_MAX   2000

//  The message as compact JSON. Returns a string the caller frees, or NULL
//  if memory ran out.
char *nt_slack_body (const txw_alert_t *alert);

#endif
