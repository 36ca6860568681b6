/*  keystore - checks presented API keys against txw_data.api_keys

    Used by every HTTP listener that serves data (the query API, the
    gateway's WebSocket). A key is looked up by its id and its secret's
    hash compared in constant time. Answers are kept for ttl_ms, known and
    unknown ids alike, so a flood of requests is not a flood of queries; a
    revoked key therefore stops working within ttl_ms on every replica
    (at once on the replica that revoked it, txw_keystore_forget). Thread
    safe: civetweb's workers call it concurrently. One connection of its
    own, opened on first use and again after an error.                     */

#ifndef TXW_KEYSTORE_H
#define TXW_KEYSTORE_H

#include "apikey.h"

#include <stdint.h>

typedef struct _txw_keystore_t txw_keystore_t;

typedef struct {
    char key_id [TXW_APIKEY_ID_LEN + 1];
    char name [65];
    txw_role_t role;
} txw_principal_t;

typedef enum {
    TXW_AUTH_OK,
    TXW_AUTH_MISSING,           //  no key presented: 401
    TXW_AUTH_INVALID,           //  malformed, unknown, revoked or wrong secret: 401
    TXW_AUTH_UNAVAILABLE        //  the database cannot say: 503
} txw_auth_t;

//  Makes no connection yet. Returns NULL if out of memory.
txw_keystore_t *txw_keystore_new (const char *database_url, int64_t ttl_ms);

//  Checks the key (len bytes, NULL for none) at monotonic time now_ms;
//  on TXW_AUTH_OK fills *who.
txw_auth_t txw_keystore_verify (txw_keystore_t *self, const char *key, size_t len,
                                int64_t now_ms, txw_principal_t *who);

//  Whether the key named key_id (already verified once) is still active,
//  answered like txw_keystore_verify (cached for ttl_ms): TXW_AUTH_OK, or
//  TXW_AUTH_INVALID once revoked, or TXW_AUTH_UNAVAILABLE. For holders of
//  long connections, which must end when their key is revoked.
txw_auth_t txw_keystore_active (txw_keystore_t *self, const char *key_id, int64_t now_ms);

//  Drops what is known of key_id (after revoking it here).
void txw_keystore_forget (txw_keystore_t *self, const char *key_id);

void txw_keystore_destroy (txw_keystore_t **self_p);

#endif
