/*  reasons - the scorer's reason codes, one bit each                        */

#include "reasons.h"

#include <stdio.h>

static const char *s_names [] = {
#define S_NAME(bit, NAME, name, text) [bit] = name,
    TXW_REASONS (S_NAME)
#undef S_NAME
};

static const char *s_texts [] = {
#define S_TEXT(bit, NAME, name, text) [bit] = text,
    TXW_REASONS (S_TEXT)
#undef S_TEXT
};

const char *
txw_reason_name (int bit)
{
    return bit >= 0 && bit < TXW_REASON_COUNT? s_names [bit]: NULL;
}

const char *
txw_reason_text (int bit)
{
    return bit >= 0 && bit < TXW_REASON_COUNT? s_texts [bit]: NULL;
}

size_t
txw_reasons_format (uint32_t reasons, char *out, size_t size)
{
    size_t o = 0;
    if (size)
        out [0] = 0;
    for (int bit = 0; bit < TXW_REASON_COUNT; bit++)
        if (reasons & (1u << bit)) {
            int n = snprintf (out + o, size - o, "%s%s", o? ",": "", s_names [bit]);
            if (n < 0 || (size_t) n >= size - o)
                break;
            o += (size_t) n;
        }
    return o;
}
