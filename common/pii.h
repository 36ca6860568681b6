/*  pii - masking of personal data in anything meant for people

    Account and device ids are personal data. Stored rows keep them whole
    (analysts look accounts up); dead-letter payloads, published alerts and
    logs carry them masked: all but the last four characters become '*'.   */

#ifndef TXW_PII_H
#define TXW_PII_H

#include <stddef.h>

//  Writes the masked form of s (len bytes) into out (size bytes, terminated).
void txw_mask_id (const char *s, size_t len, char *out, size_t size);

#endif
