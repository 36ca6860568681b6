/*  utf8 - strict UTF-8 checks and cleaning for text bound for PostgreSQL

    PostgreSQL refuses a text value holding invalid UTF-8 or NUL, and one
    refused row fails its whole COPY. Text from outside (a CSV cell, a field
    of a forged message) is checked, and cleaned where it must be stored
    anyway (a dead letter keeps what arrived, as far as it can be shown).    */

#ifndef TXW_UTF8_H
#define TXW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

//  True if s is valid UTF-8 (shortest forms, no surrogates) without NUL.
bool txw_utf8_valid (const char *s, size_t len);

//  Copies s into out (size bytes, always terminated) with every byte that
//  is not part of a valid sequence, and NUL, replaced by U+FFFD; stops
//  before a character that would not fit. Returns the length written.
size_t txw_utf8_clean (const char *s, size_t len, char *out, size_t size);

#endif
