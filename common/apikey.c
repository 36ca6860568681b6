/*  apikey - API keys and roles                                              */

#include "apikey.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

static const char *const s_role_names [] = { "none", "viewer", "analyst", "admin" };

const char *
txw_role_name (txw_role_t role)
{
    return role >= TXW_ROLE_NONE && role <= TXW_ROLE_ADMIN? s_role_names [role]: "none";
}

txw_role_t
txw_role_parse (const char *name)
{
    for (int r = TXW_ROLE_VIEWER; r <= TXW_ROLE_ADMIN; r++)
        if (name && !strcmp (name, s_role_names [r]))
            return (txw_role_t) r;
    return TXW_ROLE_NONE;
}

static void
s_hash (const char *secret, txw_apikey_t *key)
{
    crypto_hash_sha256 (key->hash, (const unsigned char *) secret, TXW_APIKEY_SECRET_LEN);
}

int
txw_apikey_generate (char *text, size_t size, txw_apikey_t *key)
{
    if (size < TXW_APIKEY_LEN + 1 || sodium_init () < 0)
        return -1;
    uint8_t id [TXW_APIKEY_ID_LEN / 2], secret [32];
    randombytes_buf (id, sizeof id);
    randombytes_buf (secret, sizeof secret);
    memcpy (text, "txw_", 4);
    sodium_bin2hex (text + 4, TXW_APIKEY_ID_LEN + 1, id, sizeof id);
    text [4 + TXW_APIKEY_ID_LEN] = '_';
    char *s = text + 4 + TXW_APIKEY_ID_LEN + 1;
    sodium_bin2base64 (s, TXW_APIKEY_SECRET_LEN + 1, secret, sizeof secret,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero (secret, sizeof secret);
    memcpy (key->id, text + 4, TXW_APIKEY_ID_LEN);
    key->id [TXW_APIKEY_ID_LEN] = 0;
    s_hash (s, key);
    return 0;
}

static bool
s_is_hex (char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool
s_is_base64url (char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '_';
}

int
txw_apikey_parse (const char *text, size_t len, txw_apikey_t *key)
{
    if (len != TXW_APIKEY_LEN || memcmp (text, "txw_", 4)
    ||  text [4 + TXW_APIKEY_ID_LEN] != '_')
        return -1;
    for (size_t i = 0; i < TXW_APIKEY_ID_LEN; i++)
        if (!s_is_hex (text [4 + i]))
            return -1;
    const char *secret = text + 4 + TXW_APIKEY_ID_LEN + 1;
    for (size_t i = 0; i < TXW_APIKEY_SECRET_LEN; i++)
        if (!s_is_base64url (secret [i]))
            return -1;
    memcpy (key->id, text + 4, TXW_APIKEY_ID_LEN);
    key->id [TXW_APIKEY_ID_LEN] = 0;
    s_hash (secret, key);
    return 0;
}

bool
txw_apikey_matches (const txw_apikey_t *key, const uint8_t *stored, size_t stored_len)
{
    return stored_len == TXW_APIKEY_HASH_SIZE
        && sodium_memcmp (key->hash, stored, TXW_APIKEY_HASH_SIZE) == 0;
}

const char *
txw_apikey_presented (const char *authorization, const char *x_api_key,
                      const char *protocols, size_t *len)
{
    *len = 0;
    if (authorization && !strncasecmp (authorization, "Bearer ", 7)) {
        const char *p = authorization + 7;
        while (*p == ' ')
            p++;
        size_t n = strcspn (p, " \t");
        if (n) {
            *len = n;
            return p;
        }
    }
    if (x_api_key) {
        const char *p = x_api_key + strspn (x_api_key, " \t");
        size_t n = strcspn (p, " \t");
        if (n) {
            *len = n;
            return p;
        }
    }
    //  Sec-WebSocket-Protocol: a comma-separated list of tokens.
    static const char prefix [] = "txwatch.key.";
    for (const char *p = protocols; p && *p; ) {
        p += strspn (p, " \t,");
        size_t n = strcspn (p, " \t,");
        if (n > sizeof prefix - 1 && !strncmp (p, prefix, sizeof prefix - 1)) {
            *len = n - (sizeof prefix - 1);
            return p + sizeof prefix - 1;
        }
        p += n;
    }
    return NULL;
}
