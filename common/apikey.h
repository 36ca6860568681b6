/*  apikey - API keys and roles: who may see and do what

    An API key is "txw_<key_id>_<secret>": key_id is 16 hex digits (8
    random bytes) that name the key in lists and audit rows, secret is 32
    random bytes in unpadded base64url (43 characters). Only the SHA-256
    of the secret is stored (txw_data.api_keys): the secret is as strong
    as a 256-bit key, so a fast hash is enough, and a copied table gives
    nobody a key. The whole key is shown once, when it is made.

    Roles are ordered, each adding to the one before:
      viewer   aggregates, masked alerts, dead letters, the live feed
      analyst  adds full transaction and account records, alert actions
      admin    adds keys, the audit log and configuration

    The key store (keystore.h) checks a presented key against PostgreSQL.  */

#ifndef TXW_APIKEY_H
#define TXW_APIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TXW_ROLE_NONE = 0,          //  no credentials, or not a role
    TXW_ROLE_VIEWER,
    TXW_ROLE_ANALYST,
    TXW_ROLE_ADMIN
} txw_role_t;

//  "viewer", "analyst", "admin"; "none" for TXW_ROLE_NONE.
const char *txw_role_name (txw_role_t role);
//  The role of a name, or TXW_ROLE_NONE.
txw_role_t txw_role_parse (const char *name);

#define TXW_APIKEY_ID_LEN       16
#define TXW_APIKEY_SECRET_LEN   43
#define TXW_APIKEY_LEN          (4 + TXW_APIKEY_ID_LEN + 1 + TXW_APIKEY_SECRET_LEN)
#define TXW_APIKEY_HASH_SIZE    32

typedef struct {
    char id [TXW_APIKEY_ID_LEN + 1];
    uint8_t hash [TXW_APIKEY_HASH_SIZE];    //  SHA-256 of the secret's text
} txw_apikey_t;

//  Makes a new key: its text (TXW_APIKEY_LEN + 1 bytes) into text, its id
//  and hash into key. Returns 0, or -1 if libsodium cannot start.
int txw_apikey_generate (char *text, size_t size, txw_apikey_t *key);

//  Reads a presented key (len bytes, not terminated). Returns 0, or -1 if
//  it does not have the form of a key.
int txw_apikey_parse (const char *text, size_t len, txw_apikey_t *key);

//  True when key's hash equals stored, compared in constant time.
bool txw_apikey_matches (const txw_apikey_t *key, const uint8_t *stored, size_t stored_len);

//  The key presented with an HTTP request: "Authorization: Bearer <key>"
//  or "X-API-Key: <key>" (either may be NULL). For a WebSocket, whose
//  browser API cannot set headers, the key travels as a subprotocol
//  "txwatch.key.<key>" in Sec-WebSocket-Protocol (protocols may be NULL).
//  Sets *len and returns the key's first byte, or NULL if none is given.
const char *txw_apikey_presented (const char *authorization, const char *x_api_key,
                                  const char *protocols, size_t *len);

#endif
