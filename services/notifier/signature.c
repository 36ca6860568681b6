/*  signature - the HMAC that lets a receiver trust a webhook               */

#include "signature.h"
#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _nt_signer_t {
    //  The HMAC keyed once: each signature starts from a copy, so the
    //  secret itself is not kept, and signing needs no lock.
    crypto_auth_hmacsha256_state keyed;
};

nt_signer_t *
nt_signer_new (const void *secret, size_t len)
{
    if (len < NT_SECRET_MIN) {
        log_error ("the webhook secret is %zu bytes; at least %d are needed", len, NT_SECRET_MIN);
        return NULL;
    }
    if (sodium_init () < 0) {
        log_error ("libsodium cannot be initialised");
        return NULL;
    }
    nt_signer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    crypto_auth_hmacsha256_init (&self->keyed, secret, len);
    return self;
}

int
nt_secret_read (const char *what, const char *path, char *out, size_t size)
{
    FILE *file = fopen (path, "re");
    if (!file) {
        log_error ("%s: cannot read '%s': %s", what, path, strerror (errno));
        return -1;
    }
    //  One byte more than the secret may have, to tell a file that is too long.
    size_t len = fread (out, 1, size, file);
    int error = ferror (file)? errno: 0;
    fclose (file);
    if (error || len == size) {
        if (error)
            log_error ("%s: cannot read '%s': %s", what, path, strerror (error));
        else
            log_error ("%s: '%s' is longer than %zu bytes: not a secret file", what, path,
                       size - 1);
        sodium_memzero (out, size);
        return -1;
    }
    while (len > 0 && (out [len - 1] == '\n' || out [len - 1] == '\r'))
        len--;
    out [len] = 0;
    return (int) len;
}

nt_signer_t *
nt_signer_load (const char *what, const char *path)
{
    char text [NT_SECRET_MAX + 1];
    int len = nt_secret_read (what, path, text, sizeof text);
    nt_signer_t *self = NULL;
    if (len >= 0 && len < NT_SECRET_MIN)
        log_error ("%s: the secret in '%s' is %d bytes; at least %d are needed "
                   "(e.g. head -c 32 /dev/urandom | base64 > FILE)", what, path, len,
                   NT_SECRET_MIN);
    else
    if (len >= 0)
        self = nt_signer_new (text, (size_t) len);
    sodium_memzero (text, sizeof text);
    return self;
}

void
nt_signer_destroy (nt_signer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero (*self_p, sizeof **self_p);
    free (*self_p);
    *self_p = NULL;
}

int
nt_signer_sign (const nt_signer_t *self, int64_t t, const void *body, size_t len,
                char *out, size_t size)
{
    if (size < NT_SIGNATURE_MAX)
        return -1;
    //  The time is signed as the header writes it: the receiver hashes the
    //  text it got, not a number it parsed.
    char stamp [24];
    int stamp_len = snprintf (stamp, sizeof stamp, "%lld", (long long) t);
    crypto_auth_hmacsha256_state state = self->keyed;
    crypto_auth_hmacsha256_update (&state, (const unsigned char *) stamp,
                                   (unsigned long long) stamp_len);
    crypto_auth_hmacsha256_update (&state, (const unsigned char *) ".", 1);
    crypto_auth_hmacsha256_update (&state, body, (unsigned long long) len);
    unsigned char mac [crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_final (&state, mac);
    sodium_memzero (&state, sizeof state);
    char hex [crypto_auth_hmacsha256_BYTES * 2 + 1];
    sodium_bin2hex (hex, sizeof hex, mac, sizeof mac);
    return snprintf (out, size, "t=%s,v1=%s", stamp, hex);
}
