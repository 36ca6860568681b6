/*  channels - where alerts go, and which alerts go where

    A channel is one receiver with its own format and its own rules:
      webhook    the generic JSON alert object (payload.h), optionally signed
      slack      a Slack incoming webhook (slack.h)
      pagerduty  PagerDuty Events API v2 (pagerduty.h): trigger, and resolve
                 when the alert is closed
      email      an RFC 5322 message through SMTP (email.h)
    Each takes the alerts of its kinds whose severity (common/severity.h) is
    at least its min_severity and whose score is at least its min_score.
    The channels come from --channels-file, a JSON document checked whole at
    start (an unknown key, a bad severity, a missing or unreadable secret
    stops the notifier with the reason):

      { "channels": [
          { "name": "ops-slack", "type": "slack", "url_file": "/run/secrets/slack-url",
            "kinds": ["fraud"], "min_severity": "high" },
          { "name": "oncall", "type": "pagerduty", "routing_key_file": "/run/secrets/pd-key",
            "min_severity": "critical" },
          { "name": "fraud-desk", "type": "email", "url": "smtps://smtp.example.com",
            "from": "txwatch@example.com", "to": ["desk@example.com"],
            "credentials_file": "/run/secrets/smtp", "min_severity": "medium" } ] }

    Secrets are only ever read from files: a webhook's signing secret
    (secret_file), a Slack URL (url_file: its path is the token), a
    PagerDuty routing key (routing_key_file), SMTP "user:password"
    (credentials_file). --webhook-url and its options make one more channel,
    "webhook", with one entry per URL.                                       */

#ifndef TXW_NOTIFIER_CHANNELS_H
#define TXW_NOTIFIER_CHANNELS_H

#include "codec.h"
#include "severity.h"
#include "signature.h"

#include <stdbool.h>
#include <stdint.h>

#define NT_MAX_CHANNELS     16      //  entries, a --webhook-url URL each counting as one
#define NT_CHANNEL_NAME_MAX 32
#define NT_MAX_RECIPIENTS   16

typedef enum {
    NT_CHANNEL_WEBHOOK,
    NT_CHANNEL_SLACK,
    NT_CHANNEL_PAGERDUTY,
    NT_CHANNEL_EMAIL
} nt_channel_type_t;

typedef struct {
    char name [NT_CHANNEL_NAME_MAX + 1];    //  [a-z0-9_-]: a metric label as it is
    nt_channel_type_t type;
    char *url;
    bool kinds [2];                         //  fraud, region_health
    txw_severity_t min_severity;
    int min_score;
    const nt_signer_t *signer;              //  webhook: signs every request, or NULL
    const char *header;                     //  webhook from --webhook-url: --header, or NULL
    char *routing_key;                      //  pagerduty
    char *from;                             //  email
    char *to [NT_MAX_RECIPIENTS];
    int to_count;
    char *username, *password;              //  email, from credentials_file, or NULL
    bool ssl_reqd;                          //  email: STARTTLS required on smtp://
} nt_channel_t;

typedef struct {
    nt_channel_t items [NT_MAX_CHANNELS];
    int count;
    nt_signer_t *signers [NT_MAX_CHANNELS];     //  owned; the entries point to them
    int signer_count;
} nt_channels_t;

//  "webhook", "slack", "pagerduty", "email".
const char *nt_channel_type_name (nt_channel_type_t type);

//  Adds channel "webhook" with one entry per URL of the comma list urls
//  (http or https), for the kinds of the comma list kinds, score at least
//  min_score; signed with the secret in secret_file unless it is NULL or
//  "", with the extra header unless it is NULL. Returns 0, or -1 logged.
int nt_channels_add_webhooks (nt_channels_t *self, const char *urls, const char *kinds,
                              int min_score, const char *secret_file, const char *header);

//  Adds the channels of the file at path. Returns 0, or -1 logged with the
//  file, the channel and what is wrong. On an error the channels are left
//  for nt_channels_clear.
int nt_channels_load (nt_channels_t *self, const char *path);

//  Frees what the channels hold (the struct itself is the caller's).
void nt_channels_clear (nt_channels_t *self);

//  True if the channel takes this alert.
bool nt_channel_wants (const nt_channel_t *channel, const txw_alert_t *alert);

//  True if any channel is of this type.
bool nt_channels_have (const nt_channels_t *self, nt_channel_type_t type);

#endif
