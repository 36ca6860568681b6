/*  fuzz_channels - the notifier's channels file (--channels-file)

    An operator writes the file; a mistake in it must stop the notifier
    with a reason, never crash it or start it half configured. The input is
    the file (through a memfd); nt_channels_load either refuses it (-1) or
    accepts channels that each have a name of [a-z0-9_-], a URL of their
    type's schemes, at least one kind, a PagerDuty routing key of 32
    letters and digits, and email addresses without header syntax. The
    secret files it names are read as they are (a path in the input may
    name any readable file: the checks of their content hold for each).   */

#include "channels.h"
#include "email.h"
#include "fuzz.h"
#include "log.h"
#include "pagerduty.h"

static bool
s_scheme (const char *url, const char *a, const char *b)
{
    return !strncmp (url, a, strlen (a)) || !strncmp (url, b, strlen (b));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  Every refused file is logged with its reason: above every level,
    //  so the fuzzer's output is not flooded.
    static bool quiet;
    if (!quiet) {
        txw_log_init ("fuzz_channels", (txw_log_level_t) (TXW_LOG_ERROR + 1));
        quiet = true;
    }
    nt_channels_t channels;
    memset (&channels, 0, sizeof channels);
    int rc = nt_channels_load (&channels, fuzz_memfile (0, data, size));
    FUZZ_CHECK (rc == 0 || rc == -1, "nt_channels_load returned %d", rc);
    FUZZ_CHECK (rc || channels.count >= 1, "accepted a file without channels");
    for (int i = 0; rc == 0 && i < channels.count; i++) {
        const nt_channel_t *c = &channels.items [i];
        size_t len = strlen (c->name);
        FUZZ_CHECK (len >= 1 && len <= NT_CHANNEL_NAME_MAX
                    && strspn (c->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len,
                    "channel name '%s'", c->name);
        FUZZ_CHECK (c->kinds [0] || c->kinds [1], "channel %s takes no kind", c->name);
        FUZZ_CHECK (c->min_score >= 0 && c->min_score <= 100, "min_score %d", c->min_score);
        FUZZ_CHECK (c->url, "channel %s has no URL", c->name);
        if (c->type == NT_CHANNEL_EMAIL) {
            FUZZ_CHECK (s_scheme (c->url, "smtp://", "smtps://"), "email URL %s", c->url);
            FUZZ_CHECK (nt_email_address_valid (c->from), "from '%s'", c->from);
            FUZZ_CHECK (c->to_count >= 1 && c->to_count <= NT_MAX_RECIPIENTS, "%d recipients",
                        c->to_count);
            for (int j = 0; j < c->to_count; j++)
                FUZZ_CHECK (nt_email_address_valid (c->to [j]), "to '%s'", c->to [j]);
        }
        else
            FUZZ_CHECK (s_scheme (c->url, "http://", "https://"), "URL %s", c->url);
        if (c->type == NT_CHANNEL_PAGERDUTY)
            FUZZ_CHECK (c->routing_key && nt_pagerduty_key_valid (c->routing_key),
                        "routing key of %s", c->name);
    }
    nt_channels_clear (&channels);
    return 0;
}
