/*  pii - keyed pseudonyms for personal data in anything meant for people

    Account and device ids are personal data. Stored transactions keep them
    whole (analysts look accounts up); wherever an id leaves the core
    pipeline in masked form (published alerts, the push feed, webhooks,
    logs, dead letters) it is replaced by its pseudonym:

        p~ and 16 lower-case hex digits: the first 64 bits of
        HMAC-SHA256 (key, id), e.g. p~3f9a0c1d2e4b5a67

    The same id gives the same token under one key, in every service, so an
    analyst can still follow an account from alert to alert; without the key
    the token cannot be turned back into the id, even by trying every
    possible id, and it shows none of the id's characters or its length.
    64 bits make collisions irrelevant: among ten million accounts the
    chance that any two share a token is about 3 in a million. Whoever holds
    the key finds the token of an account by computing the HMAC (see
    ARCHITECTURE.md, Pseudonyms). The '~' is outside the characters an id
    may have ([A-Za-z0-9_.:-]), so a token is never mistaken for an id, and
    masking a token again leaves it as it is.

    The key is process-wide, 32 bytes, shared by every service through
    --pseudonym-key-file (common/service.h; txw-keygen --pseudonym-key
    writes one). It is set once at start, before any thread hashes; after
    that every function here is thread-safe (read-only state). A process
    that never sets one gets a random key on first use.

    Dead letters hold rows that failed validation, where a field's position
    says nothing certain about what it holds (a stray comma shifts the
    columns). So their masking does not look at positions: every field is
    replaced by its pseudonym unless, as a whole, it has one of the shapes
    below, which no account, device, card or customer number has in
    practice (txw_pii_safe):
      - empty;
      - a decimal amount with a fraction ([-]digits.digits, at most 15
        digits before the point and 4 after) or a whole number of at most 6
        digits (longer digit strings may be account or card numbers);
      - an RFC 3339 time (rfc3339_parse accepts it), at most 40 bytes;
      - two or three upper-case letters (a country or currency code);
      - one of the known words, in any case: the statuses, the channels,
        the device types of the generator (pos_terminal, ios, android, web,
        atm) and the ingest format's column names;
      - a pseudonym already.
    Only the transaction id, which the dead letter stores in clear anyway
    (its tx_id column), stays as it is in the payload.                      */

#ifndef TXW_PII_H
#define TXW_PII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXW_PSEUDONYM_KEY_BYTES     32
#define TXW_PSEUDONYM_LEN           18      //  "p~" and 16 hex digits
#define TXW_PSEUDONYM_SIZE          (TXW_PSEUDONYM_LEN + 1)
#define TXW_PSEUDONYM_FINGERPRINT_BYTES 8   //  first bytes of SHA-256 (key)
#define TXW_PSEUDONYM_KEY_FILE_MAX  256     //  a key file is 64 hex digits and white space

//  --- The key (set once, at start) ---------------------------------------------

//  Reads the key from path: 64 hex digits, white space around them allowed,
//  nothing else. Returns 0, or -1 (logged, naming the file) if the file
//  cannot be read or does not hold exactly such a key; the key in use is
//  then unchanged.
int txw_pseudonym_key_load (const char *path);

//  Parses a key file's text (len bytes) into key. Returns 0 or -1.
int txw_pseudonym_key_parse (const char *text, size_t len,
                             uint8_t key [TXW_PSEUDONYM_KEY_BYTES]);

//  Sets the key from bytes (tests, and the loader above).
void txw_pseudonym_key_set (const uint8_t key [TXW_PSEUDONYM_KEY_BYTES]);

//  Sets a random key, known to this process only.
void txw_pseudonym_key_random (void);

//  True when the key in use is random (no key file): its pseudonyms match
//  no other process's and change with every start.
bool txw_pseudonym_key_is_random (void);

//  The key's fingerprint: the first TXW_PSEUDONYM_FINGERPRINT_BYTES of
//  SHA-256 of the 32 key bytes, as bytes or as 16 hex digits. It names the
//  key in logs and scorer checkpoints and reveals nothing of it.
void txw_pseudonym_fingerprint (uint8_t out [TXW_PSEUDONYM_FINGERPRINT_BYTES]);
const char *txw_pseudonym_fingerprint_hex (void);

//  --- Pseudonyms ----------------------------------------------------------------

//  Writes the pseudonym of id (len bytes) into out (size bytes, at least
//  TXW_PSEUDONYM_SIZE for the whole token; always terminated).
void txw_pseudonym (const char *id, size_t len, char *out, size_t size);

//  True if s (len bytes) has the shape of a pseudonym.
bool txw_pseudonym_is (const char *s, size_t len);

//  The masked form of an id for people: its pseudonym; a pseudonym stays as
//  it is (published alerts arrive masked), and an empty id stays empty.
//  out gets at most size bytes, always terminated.
void txw_mask_id (const char *s, size_t len, char *out, size_t size);

//  --- Dead letters -------------------------------------------------------------

//  True if s (len bytes, trimmed by the caller) has one of the shapes above
//  and may be shown as it is.
bool txw_pii_safe (const char *s, size_t len);

//  Masks a rejected row of comma-separated fields (line, len bytes: a CSV
//  line as read, possibly cut, possibly malformed) into out (size bytes,
//  always terminated): fields are split at every comma, quotes or not;
//  each is trimmed of spaces, tabs and one pair of surrounding double
//  quotes, then written as it is if txw_pii_safe, else as its pseudonym.
//  The first field stays as it is when it equals clear_first (the dead
//  letter's tx_id, stored in clear anyway; NULL or "" for none) and is
//  made of id characters only. A field that does not fit is left out with
//  all after it. The result is ASCII, and masking it again gives it back.
//  Returns the length written.
size_t txw_mask_row (const char *line, size_t len, const char *clear_first,
                     char *out, size_t size);

//  --- Keyed hashes -------------------------------------------------------------

//  A 128-bit keyed hash of s (SipHash-2-4 with 128-bit output) under a
//  subkey derived from the pseudonym key (libsodium's crypto_kdf, BLAKE2b),
//  for identities a service keeps or stores where HMAC would cost too much
//  per record (the scorer's account profiles): as secret as the pseudonyms,
//  unrelated to them, about 15 ns for a short id.
void txw_keyed_hash128 (const char *s, size_t len, uint64_t out [2]);

#endif
