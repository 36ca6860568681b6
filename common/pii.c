/*  pii - keyed pseudonyms for personal data in anything meant for people

    See pii.h. The HMAC state after the key block is computed once when the
    key is set; a pseudonym copies it and hashes only the id (two SHA-256
    blocks, about 0.3 us). Everything derived from the key is written when
    it is set and only read after, so hashing threads share it freely.     */

#include "pii.h"
#include "codec.h"
#include "log.h"
#include "rfc3339.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct {
    bool set;
    bool random;
    crypto_auth_hmacsha256_state hmac;      //  after the key block
    uint8_t hash_key [crypto_shorthash_siphashx24_KEYBYTES];
    uint8_t fingerprint [TXW_PSEUDONYM_FINGERPRINT_BYTES];
    char fingerprint_hex [2 * TXW_PSEUDONYM_FINGERPRINT_BYTES + 1];
} s_key;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static const char s_hex [] = "0123456789abcdef";

//  libsodium must be initialised before its random numbers are used; the
//  call is cheap, thread-safe and idempotent. It fails only without a
//  random source, where no key could be made at all.
static void
s_sodium (void)
{
    if (sodium_init () < 0) {
        log_error ("libsodium cannot be initialised: no random source");
        abort ();
    }
}

//  A process that never set a key gets a random one on first use, so no
//  id is ever shown unkeyed (tests, tools that link a service's modules).
static void
s_default_key (void)
{
    if (!s_key.set)
        txw_pseudonym_key_random ();
}

static inline void
s_ready (void)
{
    pthread_once (&s_once, s_default_key);
}

void
txw_pseudonym_key_set (const uint8_t key [TXW_PSEUDONYM_KEY_BYTES])
{
    s_sodium ();
    crypto_auth_hmacsha256_init (&s_key.hmac, key, TXW_PSEUDONYM_KEY_BYTES);
    //  The keyed hashes use a subkey from another primitive (BLAKE2b), so
    //  no id, however chosen, has a pseudonym that gives the subkey away.
    crypto_kdf_derive_from_key (s_key.hash_key, sizeof s_key.hash_key, 1, "txwhash1", key);
    uint8_t digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, key, TXW_PSEUDONYM_KEY_BYTES);
    memcpy (s_key.fingerprint, digest, TXW_PSEUDONYM_FINGERPRINT_BYTES);
    for (int i = 0; i < TXW_PSEUDONYM_FINGERPRINT_BYTES; i++) {
        s_key.fingerprint_hex [2 * i] = s_hex [digest [i] >> 4];
        s_key.fingerprint_hex [2 * i + 1] = s_hex [digest [i] & 15];
    }
    s_key.fingerprint_hex [2 * TXW_PSEUDONYM_FINGERPRINT_BYTES] = 0;
    sodium_memzero (digest, sizeof digest);
    s_key.random = false;
    s_key.set = true;
}

void
txw_pseudonym_key_random (void)
{
    s_sodium ();
    uint8_t key [TXW_PSEUDONYM_KEY_BYTES];
    randombytes_buf (key, sizeof key);
    txw_pseudonym_key_set (key);
    sodium_memzero (key, sizeof key);
    s_key.random = true;
}

static int
s_hex_value (char c)
{
    return c >= '0' && c <= '9'? c - '0':
           c >= 'a' && c <= 'f'? c - 'a' + 10:
           c >= 'A' && c <= 'F'? c - 'A' + 10: -1;
}

static inline bool
s_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
txw_pseudonym_key_parse (const char *text, size_t len, uint8_t key [TXW_PSEUDONYM_KEY_BYTES])
{
    while (len && s_space (text [0])) {
        text++;
        len--;
    }
    while (len && s_space (text [len - 1]))
        len--;
    if (len != 2 * TXW_PSEUDONYM_KEY_BYTES)
        return -1;
    for (size_t i = 0; i < TXW_PSEUDONYM_KEY_BYTES; i++) {
        int high = s_hex_value (text [2 * i]), low = s_hex_value (text [2 * i + 1]);
        if (high < 0 || low < 0) {
            sodium_memzero (key, TXW_PSEUDONYM_KEY_BYTES);
            return -1;
        }
        key [i] = (uint8_t) (high << 4 | low);
    }
    return 0;
}

int
txw_pseudonym_key_load (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        log_error ("cannot read the pseudonym key file %s: %s", path, strerror (errno));
        return -1;
    }
    char text [TXW_PSEUDONYM_KEY_FILE_MAX + 1];
    size_t len = fread (text, 1, sizeof text, file);
    bool failed = ferror (file) != 0;
    fclose (file);
    uint8_t key [TXW_PSEUDONYM_KEY_BYTES];
    int rc = -1;
    if (failed)
        log_error ("cannot read the pseudonym key file %s", path);
    else
    if (len > TXW_PSEUDONYM_KEY_FILE_MAX || txw_pseudonym_key_parse (text, len, key))
        log_error ("pseudonym key file %s does not hold a key: 64 hex digits expected "
                   "(txw-keygen --pseudonym-key writes one)", path);
    else {
        txw_pseudonym_key_set (key);
        rc = 0;
    }
    sodium_memzero (text, sizeof text);
    sodium_memzero (key, sizeof key);
    return rc;
}

bool
txw_pseudonym_key_is_random (void)
{
    s_ready ();
    return s_key.random;
}

void
txw_pseudonym_fingerprint (uint8_t out [TXW_PSEUDONYM_FINGERPRINT_BYTES])
{
    s_ready ();
    memcpy (out, s_key.fingerprint, TXW_PSEUDONYM_FINGERPRINT_BYTES);
}

const char *
txw_pseudonym_fingerprint_hex (void)
{
    s_ready ();
    return s_key.fingerprint_hex;
}

//  --- Pseudonyms ----------------------------------------------------------------

void
txw_pseudonym (const char *id, size_t len, char *out, size_t size)
{
    if (size == 0)
        return;
    s_ready ();
    crypto_auth_hmacsha256_state state = s_key.hmac;
    uint8_t mac [crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_update (&state, (const unsigned char *) id, len);
    crypto_auth_hmacsha256_final (&state, mac);
    char token [TXW_PSEUDONYM_SIZE] = "p~";
    for (int i = 0; i < 8; i++) {
        token [2 + 2 * i] = s_hex [mac [i] >> 4];
        token [3 + 2 * i] = s_hex [mac [i] & 15];
    }
    token [TXW_PSEUDONYM_LEN] = 0;
    snprintf (out, size, "%s", token);
}

bool
txw_pseudonym_is (const char *s, size_t len)
{
    if (len != TXW_PSEUDONYM_LEN || s [0] != 'p' || s [1] != '~')
        return false;
    for (size_t i = 2; i < len; i++)
        if (!((s [i] >= '0' && s [i] <= '9') || (s [i] >= 'a' && s [i] <= 'f')))
            return false;
    return true;
}

void
txw_mask_id (const char *s, size_t len, char *out, size_t size)
{
    if (size == 0)
        return;
    if (len == 0)
        out [0] = 0;
    else
    if (txw_pseudonym_is (s, len))
        snprintf (out, size, "%.*s", (int) len, s);
    else
        txw_pseudonym (s, len, out, size);
}

//  --- Dead letters -------------------------------------------------------------

//  The words a dead letter may show as they are, besides the statuses and
//  channels of codec.h and the raw field names: the device types the
//  generator writes and the label columns --csv-out adds.
static const char *s_words [] = {
    "pos_terminal", "ios", "android", "web", "atm", "is_fraud", "fraud_pattern", "injected"
};

static bool
s_known_word (const char *s, size_t len)
{
    if (len == 0 || len > TXW_NAME_MAX)
        return false;
    if (txw_status_parse (s, len) > 0 || txw_channel_parse (s, len) > 0)
        return true;
    for (int f = 0; f < TXW_RAW_FIELDS; f++)
        if (strlen (txw_raw_field_names [f]) == len
        &&  strncasecmp (txw_raw_field_names [f], s, len) == 0)
            return true;
    for (size_t i = 0; i < sizeof s_words / sizeof s_words [0]; i++)
        if (strlen (s_words [i]) == len && strncasecmp (s_words [i], s, len) == 0)
            return true;
    return false;
}

//  [-]digits.digits (at most 15 and 4), or [-]digits (at most 6).
static bool
s_amount (const char *s, size_t len)
{
    size_t i = 0, whole = 0, fraction = 0;
    if (i < len && s [i] == '-')
        i++;
    while (i < len && s [i] >= '0' && s [i] <= '9') {
        i++;
        whole++;
    }
    if (whole == 0)
        return false;
    if (i == len)
        return whole <= 6;
    if (s [i++] != '.')
        return false;
    while (i < len && s [i] >= '0' && s [i] <= '9') {
        i++;
        fraction++;
    }
    return i == len && whole <= 15 && fraction >= 1 && fraction <= 4;
}

static bool
s_upper_code (const char *s, size_t len)
{
    if (len != 2 && len != 3)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s [i] < 'A' || s [i] > 'Z')
            return false;
    return true;
}

bool
txw_pii_safe (const char *s, size_t len)
{
    int64_t ms;
    return len == 0
        || s_amount (s, len)
        || s_upper_code (s, len)
        || s_known_word (s, len)
        || txw_pseudonym_is (s, len)
        || (len <= 40 && rfc3339_parse (s, len, &ms) == 0);
}

size_t
txw_mask_row (const char *line, size_t len, const char *clear_first, char *out, size_t size)
{
    if (size == 0)
        return 0;
    size_t o = 0, i = 0;
    bool first = true;
    out [0] = 0;
    while (i <= len) {
        size_t end = i;
        while (end < len && line [end] != ',')
            end++;
        const char *f = line + i;
        size_t n = end - i;
        while (n && (f [0] == ' ' || f [0] == '\t')) {
            f++;
            n--;
        }
        while (n && (f [n - 1] == ' ' || f [n - 1] == '\t'))
            n--;
        if (n >= 2 && f [0] == '"' && f [n - 1] == '"') {
            f++;
            n -= 2;
        }
        char token [TXW_PSEUDONYM_SIZE];
        const char *shown = f;
        size_t shown_len = n;
        bool clear = first && clear_first && *clear_first && n == strlen (clear_first)
                  && memcmp (f, clear_first, n) == 0 && txw_id_chars_valid (f, n);
        if (!clear && !txw_pii_safe (f, n)) {
            txw_mask_id (f, n, token, sizeof token);
            shown = token;
            shown_len = strlen (token);
        }
        //  The field and its comma, whole, or nothing more.
        size_t need = shown_len + (first? 0: 1);
        if (o + need + 1 > size)
            break;
        if (!first)
            out [o++] = ',';
        memcpy (out + o, shown, shown_len);
        o += shown_len;
        out [o] = 0;
        first = false;
        i = end + 1;
    }
    return o;
}

//  --- Keyed hashes -------------------------------------------------------------

void
txw_keyed_hash128 (const char *s, size_t len, uint64_t out [2])
{
    s_ready ();
    uint8_t digest [crypto_shorthash_siphashx24_BYTES];
    crypto_shorthash_siphashx24 (digest, (const unsigned char *) s, len, s_key.hash_key);
    memcpy (out, digest, sizeof digest);
}
