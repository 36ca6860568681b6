/*  log - JSON log lines on stderr                                            */

#include "log.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char s_service [64] = "txw";
static txw_log_level_t s_level = TXW_LOG_INFO;
static const char *s_level_names [] = { "debug", "info", "warn", "error" };

void
txw_log_init (const char *service, txw_log_level_t level)
{
    snprintf (s_service, sizeof s_service, "%s", service);
    s_level = level;
}

int
txw_log_level_parse (const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp (name, s_level_names [i]) == 0)
            return i;
    return -1;
}

//  Length of the valid UTF-8 sequence at s, or 0 if it is not valid.
static size_t
s_utf8_len (const unsigned char *s, size_t avail)
{
    size_t n;
    if (s [0] < 0x80)
        return 1;
    else
    if ((s [0] & 0xE0) == 0xC0 && s [0] >= 0xC2)
        n = 2;
    else
    if ((s [0] & 0xF0) == 0xE0)
        n = 3;
    else
    if ((s [0] & 0xF8) == 0xF0 && s [0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s [i] & 0xC0) != 0x80)
            return 0;
    //  No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF:
    //  PostgreSQL and JSON readers refuse them.
    if ((s [0] == 0xE0 && s [1] < 0xA0) || (s [0] == 0xED && s [1] >= 0xA0)
    ||  (s [0] == 0xF0 && s [1] < 0x90) || (s [0] == 0xF4 && s [1] >= 0x90))
        return 0;
    return n;
}

size_t
txw_json_escape (char *out, size_t size, const char *s, size_t len)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *) s;
    if (size == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        char esc [8];
        const char *piece = esc;
        size_t piece_len;
        unsigned char c = p [i];
        size_t n = 1;
        if (c == '"' || c == '\\') {
            esc [0] = '\\'; esc [1] = (char) c; piece_len = 2;
        }
        else
        if (c == '\n') { memcpy (esc, "\\n", 2); piece_len = 2; }
        else
        if (c == '\t') { memcpy (esc, "\\t", 2); piece_len = 2; }
        else
        if (c < 0x20 || c == 0x7f) {
            snprintf (esc, sizeof esc, "\\u%04x", c);
            piece_len = 6;
        }
        else {
            n = s_utf8_len (p + i, len - i);
            if (n == 0) {
                piece = "\xEF\xBF\xBD";
                piece_len = 3;
                n = 1;
            }
            else {
                piece = (const char *) p + i;
                piece_len = n;
            }
        }
        if (o + piece_len >= size)
            break;
        memcpy (out + o, piece, piece_len);
        o += piece_len;
        i += n;
    }
    out [o] = 0;
    return o;
}

void
txw_log (txw_log_level_t level, const char *fmt, ...)
{
    if (level < s_level)
        return;
    char msg [2048];
    va_list args;
    va_start (args, fmt);
    int len = vsnprintf (msg, sizeof msg, fmt, args);
    va_end (args);
    if (len < 0)
        return;
    if ((size_t) len >= sizeof msg)
        len = sizeof msg - 1;

    char escaped [4096];
    txw_json_escape (escaped, sizeof escaped, msg, (size_t) len);

    int64_t now = txw_now_ms ();
    time_t secs = (time_t) (now / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    char line [4400];
    int n = snprintf (line, sizeof line,
        "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"level\":\"%s\","
        "\"service\":\"%s\",\"pid\":%d,\"msg\":\"%s\"}\n",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
        tm.tm_sec, (int) (now % 1000), s_level_names [level], s_service,
        (int) getpid (), escaped);
    if (n > 0) {
        //  One write per line keeps lines whole when threads log at once.
        ssize_t rc = write (STDERR_FILENO, line, (size_t) n < sizeof line? (size_t) n: sizeof line - 1);
        (void) rc;
    }
}

bool
txw_log_limit (txw_log_limiter_t *self, uint64_t *suppressed)
{
    int64_t now = txw_mono_ms ();
    if (now < self->next_ms) {
        self->suppressed++;
        return false;
    }
    self->next_ms = now + 1000;
    *suppressed = self->suppressed;
    self->suppressed = 0;
    return true;
}
