/*  utf8 - strict UTF-8 checks and cleaning for text bound for PostgreSQL   */

#include "utf8.h"

#include <string.h>

bool
txw_utf8_valid (const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p [i];
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;      //  range of the second byte
        if (c >= 0xC2 && c <= 0xDF)
            n = 2;
        else
        if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0;                  //  no overlong forms
            if (c == 0xED)
                hi = 0x9F;                  //  no surrogates
        }
        else
        if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;                  //  nothing past U+10FFFF
        }
        else
            return false;                   //  NUL, continuation, C0, C1, F5+
        if (len - i < n || p [i + 1] < lo || p [i + 1] > hi)
            return false;
        for (size_t k = 2; k < n; k++)
            if (p [i + k] < 0x80 || p [i + k] > 0xBF)
                return false;
        i += n;
    }
    return true;
}

size_t
txw_utf8_clean (const char *s, size_t len, char *out, size_t size)
{
    if (size == 0)
        return 0;
    const unsigned char *p = (const unsigned char *) s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned c = p [i];
        size_t n = c >= 0x01 && c < 0x80? 1: c >= 0xC2 && c <= 0xDF? 2:
                   c >= 0xE0 && c <= 0xEF? 3: c >= 0xF0 && c <= 0xF4? 4: 0;
        const char *piece = s + i;
        size_t take = n;
        if (n == 0 || n > len - i || (n > 1 && !txw_utf8_valid (s + i, n))) {
            piece = "\xEF\xBF\xBD";
            n = 3;
            take = 1;
        }
        if (o + n >= size)
            break;
        memcpy (out + o, piece, n);
        o += n;
        i += take;
    }
    out [o] = 0;
    return o;
}
