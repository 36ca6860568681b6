/*  signature - the HMAC that lets a receiver trust a webhook

    With --webhook-secret-file every request carries

        X-Txwatch-Signature: t=<unix seconds>,v1=<HMAC-SHA256, lowercase hex>

    where the HMAC, keyed with the secret, covers "<t>.<body>": the
    timestamp as written in the header, a dot, and the exact bytes of the
    body as sent. The receiver computes it again and refuses a timestamp far
    from its own clock, so a request captured on the way cannot be replayed
    later, nor its body changed (proto/SERVING.md, "Webhooks", has the
    verification in Python). The scheme is the payment providers' (Stripe's,
    under our header name): "v1" names it, so a later scheme, or a second
    secret while the first is retired, can be sent beside it.              */

#ifndef TXW_NOTIFIER_SIGNATURE_H
#define TXW_NOTIFIER_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#define NT_SIGNATURE_HEADER "X-Txwatch-Signature"
#define NT_SECRET_MIN       16      //  bytes: a shorter secret could be guessed
#define NT_SECRET_MAX       4096    //  bytes: a longer file is not a secret file
//  "t=", 20 characters of a 64-bit time, ",v1=", 64 hex digits, terminator
#define NT_SIGNATURE_MAX    (2 + 20 + 4 + 64 + 1)

typedef struct _nt_signer_t nt_signer_t;

//  A signer keyed with secret (len bytes). Returns NULL, logged, if the
//  secret is shorter than NT_SECRET_MIN or libsodium cannot start.
nt_signer_t *nt_signer_new (const void *secret, size_t len);

//  Reads the secret in the file at path into out (size bytes): its bytes as
//  they are, less the line ends (CR, LF) at its end, as `echo` leaves one,
//  terminated. Returns its length, or -1, logged with what (the option or
//  setting that named the file), if the file cannot be read or holds size
//  bytes or more. Every secret file (a signing secret, a PagerDuty routing
//  key, SMTP credentials) is read this way.
int nt_secret_read (const char *what, const char *path, char *out, size_t size);

//  A signer keyed with the secret in the file at path (nt_secret_read).
//  Returns NULL, logged with what and the reason, if the file cannot be
//  read, or holds a secret shorter than NT_SECRET_MIN bytes or longer than
//  NT_SECRET_MAX.
nt_signer_t *nt_signer_load (const char *what, const char *path);

void nt_signer_destroy (nt_signer_t **self_p);

//  Writes the header's value signing body (len bytes) at unix time t
//  (seconds) into out. Safe from any thread. Returns its length, or -1 if
//  size is below NT_SIGNATURE_MAX.
int nt_signer_sign (const nt_signer_t *self, int64_t t, const void *body, size_t len,
                    char *out, size_t size);

#endif
