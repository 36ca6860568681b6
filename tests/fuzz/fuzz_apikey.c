/*  fuzz_apikey - the API key a request presents, and its parsing

    The input is three header values separated by newlines: Authorization,
    X-API-Key and Sec-WebSocket-Protocol, as a client sends them to the
    query API or the gateway. txw_apikey_presented must point inside one
    of them with a length that stays inside it; txw_apikey_parse must
    accept exactly "txw_" + 16 lower-case hex + "_" + 43 base64url
    characters (checked here by hand) and give the same id and hash for
    the same key every time.                                               */

#include "apikey.h"
#include "fuzz.h"

//  The key's shape, by hand.
static bool
s_shaped (const char *p, size_t len)
{
    if (len != TXW_APIKEY_LEN || memcmp (p, "txw_", 4) || p [4 + TXW_APIKEY_ID_LEN] != '_')
        return false;
    for (size_t i = 4; i < 4 + TXW_APIKEY_ID_LEN; i++)
        if (!strchr ("0123456789abcdef", p [i]) || !p [i])
            return false;
    for (size_t i = 5 + TXW_APIKEY_ID_LEN; i < len; i++)
        if (!p [i] || !strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", p [i]))
            return false;
    return true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring (data, size);
    char *fields [3] = { text, NULL, NULL };
    for (int f = 1; f < 3; f++) {
        char *nl = fields [f - 1]? strchr (fields [f - 1], '\n'): NULL;
        if (nl) {
            *nl = 0;
            fields [f] = nl + 1;
        }
    }
    size_t len;
    const char *key = txw_apikey_presented (fields [0], fields [1], fields [2], &len);
    if (key) {
        bool inside = false;
        for (int f = 0; f < 3; f++)
            if (fields [f] && key >= fields [f] && key + len <= fields [f] + strlen (fields [f]))
                inside = true;
        FUZZ_CHECK (inside && len > 0, "the key (%zu bytes) is not inside a header", len);
        txw_apikey_t a, b;
        int rc = txw_apikey_parse (key, len, &a);
        FUZZ_CHECK ((rc == 0) == s_shaped (key, len), "parse says %d for '%.*s'", rc, (int) len, key);
        if (rc == 0) {
            FUZZ_CHECK (txw_apikey_parse (key, len, &b) == 0 && !strcmp (a.id, b.id)
                        && txw_apikey_matches (&a, b.hash, sizeof b.hash), "parsing is not stable");
            FUZZ_CHECK (strlen (a.id) == TXW_APIKEY_ID_LEN, "id '%s'", a.id);
        }
    }
    else
        FUZZ_CHECK (len == 0, "no key but length %zu", len);
    free (text);
    return 0;
}
