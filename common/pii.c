/*  pii - masking of personal data in anything meant for people              */

#include "pii.h"

void
txw_mask_id (const char *s, size_t len, char *out, size_t size)
{
    if (size == 0)
        return;
    size_t keep = len > 4? 4: len / 2;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < size; i++)
        out [o++] = i + keep < len? '*': s [i];
    out [o] = 0;
}
