/*  channels - where alerts go, and which alerts go where                   */

#include "channels.h"
#include "email.h"
#include "log.h"
#include "options.h"
#include "pagerduty.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_URL_MAX       2048        //  a URL read from url_file
#define S_KEY_MAX       256         //  a routing key file (a key is 32 characters)
#define S_LOGIN_MAX     1024        //  an SMTP credentials file
#define S_TYPE_KEYS     6

static const char *s_type_names [] = { "webhook", "slack", "pagerduty", "email" };
static const char *s_kind_names [] = { "fraud", "region_health" };
static const char *s_http [] = { "http://", "https://", NULL };
static const char *s_smtp [] = { "smtp://", "smtps://", NULL };

//  The keys every channel takes, and those of each type besides.
static const char *s_common_keys [] = { "name", "type", "kinds", "min_severity", "min_score", NULL };
static const char *s_type_keys [][S_TYPE_KEYS] = {
    [NT_CHANNEL_WEBHOOK]   = { "url", "url_file", "secret_file" },
    [NT_CHANNEL_SLACK]     = { "url", "url_file" },
    [NT_CHANNEL_PAGERDUTY] = { "url", "routing_key_file" },
    [NT_CHANNEL_EMAIL]     = { "url", "from", "to", "credentials_file", "ssl_reqd" },
};

const char *
nt_channel_type_name (nt_channel_type_t type)
{
    return s_type_names [type];
}

//  True if url starts with one of schemes and has more after it.
static bool
s_scheme_ok (const char *url, const char *const *schemes)
{
    for (; *schemes; schemes++)
        if (!strncmp (url, *schemes, strlen (*schemes)) && url [strlen (*schemes)])
            return true;
    return false;
}

//  A new entry, zeroed, taking every kind, or NULL (logged) when full.
static nt_channel_t *
s_add (nt_channels_t *self, const char *what)
{
    if (self->count == NT_MAX_CHANNELS) {
        log_error ("%s: at most %d channels (each --webhook-url URL is one)", what,
                   NT_MAX_CHANNELS);
        return NULL;
    }
    nt_channel_t *channel = &self->items [self->count++];
    memset (channel, 0, sizeof *channel);
    channel->kinds [0] = channel->kinds [1] = true;
    return channel;
}

//  Loads a signer the channels own. NULL if it cannot (logged).
static const nt_signer_t *
s_signer (nt_channels_t *self, const char *what, const char *path)
{
    nt_signer_t *signer = nt_signer_load (what, path);
    if (signer)
        self->signers [self->signer_count++] = signer;
    return signer;
}

//  The index of a kind's name, or -1.
static int
s_kind (const char *name)
{
    for (int i = 0; i < 2; i++)
        if (!strcmp (name, s_kind_names [i]))
            return i;
    return -1;
}

int
nt_channels_add_webhooks (nt_channels_t *self, const char *urls, const char *kinds,
                          int min_score, const char *secret_file, const char *header)
{
    char *url_copy = strdup (urls), *kind_copy = strdup (kinds);
    char *url_items [NT_MAX_CHANNELS + 1], *kind_items [8];
    int rc = -1;
    if (!url_copy || !kind_copy)
        goto done;
    int url_count = txw_split_list (url_copy, url_items, NT_MAX_CHANNELS + 1);
    int kind_count = txw_split_list (kind_copy, kind_items, 8);
    bool wanted [2] = { false, false };
    for (int i = 0; i < kind_count; i++) {
        if (s_kind (kind_items [i]) < 0) {
            log_error ("--kinds: '%s' is not fraud or region_health", kind_items [i]);
            goto done;
        }
        wanted [s_kind (kind_items [i])] = true;
    }
    if (kind_count == 0) {
        log_error ("--kinds is empty: no alert would ever be sent");
        goto done;
    }
    const nt_signer_t *signer = NULL;
    if (secret_file && *secret_file && !(signer = s_signer (self, "--webhook-secret-file",
                                                            secret_file)))
        goto done;
    for (int i = 0; i < url_count; i++) {
        nt_channel_t *channel = s_add (self, "--webhook-url");
        if (!channel)
            goto done;
        if (!s_scheme_ok (url_items [i], s_http)) {
            log_error ("--webhook-url: '%s' is not an http:// or https:// URL", url_items [i]);
            goto done;
        }
        snprintf (channel->name, sizeof channel->name, "webhook");
        channel->type = NT_CHANNEL_WEBHOOK;
        if (!(channel->url = strdup (url_items [i])))
            goto done;
        memcpy (channel->kinds, wanted, sizeof wanted);
        channel->min_score = min_score;
        channel->signer = signer;
        channel->header = header;
    }
    rc = 0;
done:
    free (url_copy);
    free (kind_copy);
    return rc;
}

//  --- The channels file ----------------------------------------------------------

typedef struct {
    nt_channels_t *channels;
    const char *path;
    const char *name;           //  the channel being read, or NULL
    char what [160];            //  "--channels-file <path>: channel <name>"
} s_reader_t;

static void
s_what (s_reader_t *r)
{
    snprintf (r->what, sizeof r->what, "--channels-file %s: channel %s", r->path,
              r->name? r->name: "(unnamed)");
}

//  A string member, NULL if absent; -1 (logged) if present and not a string.
static int
s_string (s_reader_t *r, json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get (o, key);
    *out = v? json_string_value (v): NULL;
    if (v && !*out) {
        log_error ("%s: %s must be a string", r->what, key);
        return -1;
    }
    return 0;
}

//  A copy of the secret in the file named by key, in *out; NULL if key is
//  absent. Returns -1 (logged) if the file cannot be read or is empty.
static int
s_secret (s_reader_t *r, json_t *o, const char *key, size_t max, char **out)
{
    const char *path;
    *out = NULL;
    if (s_string (r, o, key, &path))
        return -1;
    if (!path)
        return 0;
    char what [200];
    snprintf (what, sizeof what, "%s: %s", r->what, key);
    char *text = malloc (max);
    if (!text)
        return -1;
    int len = nt_secret_read (what, path, text, max);
    if (len == 0)
        log_error ("%s: '%s' is empty", what, path);
    if (len > 0)
        *out = strdup (text);
    sodium_memzero (text, max);
    free (text);
    return *out? 0: -1;
}

//  The url, or the one in url_file: exactly one of them when both are
//  allowed; default_url when neither is given and there is one.
static int
s_url (s_reader_t *r, json_t *o, nt_channel_t *channel, const char *const *schemes,
       const char *default_url)
{
    const char *url;
    char *from_file = NULL;
    if (s_string (r, o, "url", &url) || (json_object_get (o, "url_file") &&
                                         s_secret (r, o, "url_file", S_URL_MAX, &from_file)))
        return -1;
    if (url && from_file) {
        log_error ("%s: url and url_file both given; keep one", r->what);
        free (from_file);
        return -1;
    }
    channel->url = from_file? from_file: strdup (url? url: default_url? default_url: "");
    if (!channel->url)
        return -1;
    if (!*channel->url) {
        log_error ("%s: url%s is required", r->what, channel->type == NT_CHANNEL_EMAIL? "":
                   " (or url_file)");
        return -1;
    }
    if (!s_scheme_ok (channel->url, schemes)) {
        //  The URL is not shown: its path may be a token (a Slack URL is).
        log_error ("%s: the URL%s must start with %s or %s", r->what,
                   from_file? " in url_file": "", schemes [0], schemes [1]);
        return -1;
    }
    return 0;
}

//  Every key of o is one the channel's type takes.
static int
s_check_keys (s_reader_t *r, json_t *o, nt_channel_type_t type)
{
    const char *key;
    json_t *value;
    json_object_foreach (o, key, value) {
        bool known = false;
        for (int i = 0; s_common_keys [i] && !known; i++)
            known = !strcmp (key, s_common_keys [i]);
        for (int i = 0; i < S_TYPE_KEYS && s_type_keys [type][i] && !known; i++)
            known = !strcmp (key, s_type_keys [type][i]);
        if (!known) {
            log_error ("%s: unknown key '%s' for a %s channel", r->what, key,
                       s_type_names [type]);
            return -1;
        }
    }
    return 0;
}

//  kinds, min_severity, min_score.
static int
s_rules (s_reader_t *r, json_t *o, nt_channel_t *channel)
{
    json_t *kinds = json_object_get (o, "kinds");
    if (kinds) {
        if (!json_is_array (kinds) || json_array_size (kinds) == 0) {
            log_error ("%s: kinds must be a non-empty array of fraud, region_health", r->what);
            return -1;
        }
        channel->kinds [0] = channel->kinds [1] = false;
        size_t i;
        json_t *kind;
        json_array_foreach (kinds, i, kind) {
            int k = json_is_string (kind)? s_kind (json_string_value (kind)): -1;
            if (k < 0) {
                log_error ("%s: kinds: item %zu is not fraud or region_health", r->what, i + 1);
                return -1;
            }
            channel->kinds [k] = true;
        }
    }
    const char *severity;
    if (s_string (r, o, "min_severity", &severity))
        return -1;
    if (severity && !txw_severity_parse (severity, &channel->min_severity)) {
        log_error ("%s: min_severity '%s' is not low, medium, high or critical", r->what,
                   severity);
        return -1;
    }
    json_t *score = json_object_get (o, "min_score");
    if (score && (!json_is_integer (score) || json_integer_value (score) < 0
               || json_integer_value (score) > 100)) {
        log_error ("%s: min_score must be an integer from 0 to 100", r->what);
        return -1;
    }
    channel->min_score = score? (int) json_integer_value (score): 0;
    return 0;
}

static int
s_email (s_reader_t *r, json_t *o, nt_channel_t *channel)
{
    const char *from;
    if (s_url (r, o, channel, s_smtp, NULL) || s_string (r, o, "from", &from))
        return -1;
    if (!from || !nt_email_address_valid (from)) {
        log_error ("%s: from must be a plain address (name@domain)", r->what);
        return -1;
    }
    json_t *to = json_object_get (o, "to");
    if (!json_is_array (to) || json_array_size (to) == 0 || json_array_size (to) > NT_MAX_RECIPIENTS) {
        log_error ("%s: to must be an array of 1 to %d addresses", r->what, NT_MAX_RECIPIENTS);
        return -1;
    }
    if (!(channel->from = strdup (from)))
        return -1;
    size_t i;
    json_t *address;
    json_array_foreach (to, i, address) {
        const char *text = json_string_value (address);
        if (!text || !nt_email_address_valid (text)) {
            log_error ("%s: to: item %zu is not a plain address (name@domain)", r->what, i + 1);
            return -1;
        }
        if (!(channel->to [channel->to_count++] = strdup (text)))
            return -1;
    }
    json_t *ssl = json_object_get (o, "ssl_reqd");
    if (ssl && !json_is_boolean (ssl)) {
        log_error ("%s: ssl_reqd must be true or false", r->what);
        return -1;
    }
    channel->ssl_reqd = json_is_true (ssl);
    char *login;
    if (s_secret (r, o, "credentials_file", S_LOGIN_MAX, &login))
        return -1;
    if (login) {
        size_t len = strlen (login);
        char *colon = strchr (login, ':');
        bool split = colon && colon != login;
        if (split) {
            *colon = 0;
            channel->username = strdup (login);
            channel->password = strdup (colon + 1);
        }
        sodium_memzero (login, len);
        free (login);
        if (!split) {
            log_error ("%s: credentials_file must hold one line user:password", r->what);
            return -1;
        }
        if (!channel->username || !channel->password)
            return -1;
        if (!channel->ssl_reqd && !strncmp (channel->url, "smtp://", 7))
            log_warn ("%s: the SMTP password may cross the network in clear: use smtps:// "
                      "or \"ssl_reqd\": true", r->what);
    }
    return 0;
}

static int
s_channel (s_reader_t *r, json_t *o, size_t index)
{
    r->name = NULL;
    s_what (r);
    if (!json_is_object (o)) {
        log_error ("--channels-file %s: channels item %zu is not an object", r->path, index + 1);
        return -1;
    }
    const char *name, *type;
    if (s_string (r, o, "name", &name) || s_string (r, o, "type", &type))
        return -1;
    size_t len = name? strlen (name): 0;
    if (len == 0 || len > NT_CHANNEL_NAME_MAX || strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len) {
        log_error ("--channels-file %s: channels item %zu: name must be 1 to %d of a-z, 0-9, _ and -",
                   r->path, index + 1, NT_CHANNEL_NAME_MAX);
        return -1;
    }
    for (int i = 0; i < r->channels->count; i++)
        if (!strcmp (r->channels->items [i].name, name)) {
            log_error ("--channels-file %s: two channels are named %s", r->path, name);
            return -1;
        }
    r->name = name;
    s_what (r);
    int t = 0;
    while (t < 4 && (!type || strcmp (type, s_type_names [t])))
        t++;
    if (t == 4) {
        log_error ("%s: type must be webhook, slack, pagerduty or email", r->what);
        return -1;
    }
    nt_channel_t *channel = s_add (r->channels, r->what);
    if (!channel)
        return -1;
    snprintf (channel->name, sizeof channel->name, "%s", name);
    channel->type = (nt_channel_type_t) t;
    if (s_check_keys (r, o, channel->type) || s_rules (r, o, channel))
        return -1;
    switch (channel->type) {
        case NT_CHANNEL_WEBHOOK: {
            const char *secret;
            if (s_url (r, o, channel, s_http, NULL) || s_string (r, o, "secret_file", &secret))
                return -1;
            char what [200];
            snprintf (what, sizeof what, "%s: secret_file", r->what);
            if (secret && !(channel->signer = s_signer (r->channels, what, secret)))
                return -1;
            if (!secret)
                log_warn ("%s: no secret_file: its webhooks are unsigned", r->what);
            return 0;
        }
        case NT_CHANNEL_SLACK:
            return s_url (r, o, channel, s_http, NULL);
        case NT_CHANNEL_PAGERDUTY:
            if (s_url (r, o, channel, s_http, NT_PAGERDUTY_URL)
            ||  s_secret (r, o, "routing_key_file", S_KEY_MAX, &channel->routing_key))
                return -1;
            if (!channel->routing_key || !nt_pagerduty_key_valid (channel->routing_key)) {
                log_error ("%s: routing_key_file must hold an integration key of %d letters and "
                           "digits", r->what, NT_PAGERDUTY_KEY_LEN);
                return -1;
            }
            return 0;
        case NT_CHANNEL_EMAIL:
            return s_email (r, o, channel);
    }
    return -1;
}

int
nt_channels_load (nt_channels_t *self, const char *path)
{
    s_reader_t r = { .channels = self, .path = path };
    json_error_t error;
    json_t *doc = json_load_file (path, JSON_REJECT_DUPLICATES, &error);
    if (!doc) {
        if (error.line > 0)
            log_error ("--channels-file %s: line %d: %s", path, error.line, error.text);
        else
            log_error ("--channels-file %s: %s", path, error.text);
        return -1;
    }
    int rc = -1;
    json_t *list = json_object_get (doc, "channels");
    if (!json_is_object (doc) || json_object_size (doc) != 1 || !json_is_array (list)
    ||  json_array_size (list) == 0) {
        log_error ("--channels-file %s: must be {\"channels\": [...]} with at least one channel "
                   "and no other key", path);
        goto done;
    }
    size_t i;
    json_t *item;
    json_array_foreach (list, i, item)
        if (s_channel (&r, item, i))
            goto done;
    rc = 0;
done:
    json_decref (doc);
    return rc;
}

void
nt_channels_clear (nt_channels_t *self)
{
    for (int i = 0; i < self->count; i++) {
        nt_channel_t *channel = &self->items [i];
        free (channel->url);
        free (channel->routing_key);
        free (channel->from);
        for (int j = 0; j < channel->to_count; j++)
            free (channel->to [j]);
        free (channel->username);
        if (channel->password) {
            sodium_memzero (channel->password, strlen (channel->password));
            free (channel->password);
        }
    }
    for (int i = 0; i < self->signer_count; i++)
        nt_signer_destroy (&self->signers [i]);
    memset (self, 0, sizeof *self);
}

bool
nt_channel_wants (const nt_channel_t *channel, const txw_alert_t *alert)
{
    int kind = s_kind (alert->kind);
    return kind >= 0 && channel->kinds [kind] && alert->score >= channel->min_score
        && txw_severity (alert->score, alert->amount_rep_minor) >= channel->min_severity;
}

bool
nt_channels_have (const nt_channels_t *self, nt_channel_type_t type)
{
    for (int i = 0; i < self->count; i++)
        if (self->items [i].type == type)
            return true;
    return false;
}
