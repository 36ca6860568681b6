/*  keystore - checks presented API keys against txw_data.api_keys          */

#include "keystore.h"
#include "log.h"
#include "pgutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Known key ids at most; beyond it the entry looked up longest ago goes.
//  An attacker who fills the cache with unknown ids only costs himself
//  queries (each one rate-limited per client by the caller), and a key
//  evicted is just looked up again.
#define S_ENTRIES   1024

typedef struct {
    char key_id [TXW_APIKEY_ID_LEN + 1];    //  "" when the slot is free
    bool exists;                            //  an active key with this id
    uint8_t hash [TXW_APIKEY_HASH_SIZE];
    char name [65];
    txw_role_t role;
    int64_t fetched_ms;
    int64_t used_ms;
} s_entry_t;

struct _txw_keystore_t {
    char *url;
    int64_t ttl_ms;
    pthread_mutex_t lock;       //  the entries
    pthread_mutex_t db_lock;    //  the connection: one query at a time
    PGconn *conn;
    s_entry_t entries [S_ENTRIES];
};

txw_keystore_t *
txw_keystore_new (const char *database_url, int64_t ttl_ms)
{
    txw_keystore_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (database_url? database_url: "");
    if (!self->url) {
        free (self);
        return NULL;
    }
    self->ttl_ms = ttl_ms;
    pthread_mutex_init (&self->lock, NULL);
    pthread_mutex_init (&self->db_lock, NULL);
    return self;
}

void
txw_keystore_destroy (txw_keystore_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    txw_keystore_t *self = *self_p;
    if (self->conn)
        PQfinish (self->conn);
    pthread_mutex_destroy (&self->lock);
    pthread_mutex_destroy (&self->db_lock);
    free (self->url);
    free (self);
    *self_p = NULL;
}

//  The entry of key_id, or NULL. Called with lock held.
static s_entry_t *
s_find (txw_keystore_t *self, const char *key_id)
{
    for (int i = 0; i < S_ENTRIES; i++)
        if (!strcmp (self->entries [i].key_id, key_id))
            return &self->entries [i];
    return NULL;
}

//  A slot for a new entry: a free one, or the one used longest ago.
static s_entry_t *
s_slot (txw_keystore_t *self)
{
    s_entry_t *oldest = &self->entries [0];
    for (int i = 0; i < S_ENTRIES; i++) {
        s_entry_t *e = &self->entries [i];
        if (!*e->key_id)
            return e;
        if (e->used_ms < oldest->used_ms)
            oldest = e;
    }
    return oldest;
}

//  Reads key_id's row into *entry. Returns 0 (entry->exists says whether
//  an active key has that id) or -1 if the database cannot answer.
static int
s_fetch (txw_keystore_t *self, const char *key_id, s_entry_t *entry)
{
    pthread_mutex_lock (&self->db_lock);
    if (self->conn && PQstatus (self->conn) != CONNECTION_OK) {
        PQfinish (self->conn);
        self->conn = NULL;
    }
    if (!self->conn) {
        self->conn = txw_pg_connect (self->url);
        if (self->conn && txw_pg_exec (self->conn, "SET statement_timeout = 2000")) {
            PQfinish (self->conn);
            self->conn = NULL;
        }
    }
    int rc = -1;
    if (self->conn) {
        const char *values [] = { key_id };
        PGresult *res = PQexecParams (self->conn,
            "SELECT name, role, encode (secret_hash, 'hex') AS hash FROM txw_data.api_keys"
            " WHERE key_id = $1 AND revoked_at IS NULL", 1, NULL, values, NULL, NULL, 0);
        if (PQresultStatus (res) == PGRES_TUPLES_OK) {
            memset (entry, 0, sizeof *entry);
            snprintf (entry->key_id, sizeof entry->key_id, "%s", key_id);
            if (PQntuples (res) == 1) {
                const char *hex = txw_pg_text (res, 0, "hash");
                entry->exists = strlen (hex) == 2 * TXW_APIKEY_HASH_SIZE;
                for (int i = 0; entry->exists && i < TXW_APIKEY_HASH_SIZE; i++) {
                    unsigned byte;
                    if (sscanf (hex + 2 * i, "%2x", &byte) != 1)
                        entry->exists = false;
                    entry->hash [i] = (uint8_t) byte;
                }
                snprintf (entry->name, sizeof entry->name, "%s", txw_pg_text (res, 0, "name"));
                entry->role = txw_role_parse (txw_pg_text (res, 0, "role"));
                if (entry->role == TXW_ROLE_NONE)
                    entry->exists = false;
            }
            rc = 0;
        }
        else {
            log_warn ("keystore: cannot read API keys: %s", PQerrorMessage (self->conn));
            PQfinish (self->conn);
            self->conn = NULL;
        }
        PQclear (res);
    }
    pthread_mutex_unlock (&self->db_lock);
    return rc;
}

//  The entry of id, fresh: from the cache, or read again. Returns 0 with
//  *entry set, or -1 if the database cannot answer.
static int
s_entry (txw_keystore_t *self, const char *id, int64_t now_ms, s_entry_t *entry)
{
    bool cached = false;
    pthread_mutex_lock (&self->lock);
    s_entry_t *e = s_find (self, id);
    if (e && now_ms - e->fetched_ms < self->ttl_ms) {
        e->used_ms = now_ms;
        *entry = *e;
        cached = true;
    }
    pthread_mutex_unlock (&self->lock);
    if (cached)
        return 0;
    if (s_fetch (self, id, entry))
        return -1;
    entry->fetched_ms = entry->used_ms = now_ms;
    pthread_mutex_lock (&self->lock);
    e = s_find (self, id);
    *(e? e: s_slot (self)) = *entry;
    pthread_mutex_unlock (&self->lock);
    return 0;
}

txw_auth_t
txw_keystore_active (txw_keystore_t *self, const char *key_id, int64_t now_ms)
{
    s_entry_t entry;
    if (strlen (key_id) != TXW_APIKEY_ID_LEN)
        return TXW_AUTH_INVALID;
    if (s_entry (self, key_id, now_ms, &entry))
        return TXW_AUTH_UNAVAILABLE;
    return entry.exists? TXW_AUTH_OK: TXW_AUTH_INVALID;
}

txw_auth_t
txw_keystore_verify (txw_keystore_t *self, const char *key, size_t len, int64_t now_ms,
                     txw_principal_t *who)
{
    if (!key || !len)
        return TXW_AUTH_MISSING;
    txw_apikey_t presented;
    if (txw_apikey_parse (key, len, &presented))
        return TXW_AUTH_INVALID;

    s_entry_t entry;
    if (s_entry (self, presented.id, now_ms, &entry))
        return TXW_AUTH_UNAVAILABLE;
    if (!entry.exists || !txw_apikey_matches (&presented, entry.hash, sizeof entry.hash))
        return TXW_AUTH_INVALID;
    snprintf (who->key_id, sizeof who->key_id, "%s", entry.key_id);
    snprintf (who->name, sizeof who->name, "%s", entry.name);
    who->role = entry.role;
    return TXW_AUTH_OK;
}

void
txw_keystore_forget (txw_keystore_t *self, const char *key_id)
{
    pthread_mutex_lock (&self->lock);
    s_entry_t *e = s_find (self, key_id);
    if (e)
        memset (e, 0, sizeof *e);
    pthread_mutex_unlock (&self->lock);
}
