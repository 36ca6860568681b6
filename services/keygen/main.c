/*  keygen - makes CURVE certificates or the pseudonym key for txwatch

    Writes DIR/NAME.key (public: give it to the peers, put it in their
    --curve-allowed directory or use it as their --curve-server-key) and
    DIR/NAME.key_secret (secret: this process's --curve-secret-key or
    --curve-client-key only) in the zcert format zcert_load reads. An
    existing file is never overwritten, so a key in use cannot be replaced
    by mistake. NAME says what a certificate is for (ARCHITECTURE.md,
    "Transport"): "cluster" is the server certificate every bound socket
    serves with; a role's client certificate is named after the role
    (producer, validator, scorer, aggregator, gateway, notifier), alone or
    with a suffix (producer-ingest): the --curve-allowed directory admits a
    public key as the role its file name starts with.

    Usage: txw-keygen NAME DIR
           txw-keygen --all DIR
           txw-keygen --pseudonym-key [--force] FILE

    --all makes the whole set a deployment's key job needs, and only what
    is missing, so the job may run at every start (it exits 0 when the set
    is complete; keys already there are kept):
        DIR/server/cluster.key_secret   the server certificate (and .key):
                                        --curve-secret-key of the services
                                        that bind (validator, scorer,
                                        aggregator)
        DIR/public/cluster.key          --curve-server-key of every service
        DIR/ROLE/ROLE.key_secret        --curve-client-key of that role only
                                        (and its .key), one folder per role
        DIR/allowed/ROLE.key            the roles' public certificates:
                                        --curve-allowed of the services that
                                        bind
    One folder per secret lets each service mount only its own.

    The last form writes the secret key of the pseudonyms that replace
    account and device ids in alerts, dead letters and logs (common/pii.h):
    32 random bytes as 64 hex digits and a newline, readable by its owner
    only, for every service's --pseudonym-key-file. It prints the key's
    fingerprint, which the services log at start. An existing FILE is kept
    unless --force is given; then the new key replaces it atomically (a
    rotation: see ARCHITECTURE.md, Pseudonyms).

    For Kubernetes, put the files into Secrets and mount them read-only
    (see common/transport.h):
        txw-keygen --all keys
        kubectl create secret generic txw-curve-server \
            --from-file=keys/server/cluster.key_secret
        kubectl create secret generic txw-curve-public --from-file=keys/public/cluster.key
        kubectl create secret generic txw-curve-allowed --from-file=keys/allowed/
        kubectl create secret generic txw-curve-scorer \
            --from-file=keys/scorer/scorer.key_secret       (one per role)
        txw-keygen --pseudonym-key keys/pseudonym.key
        kubectl create secret generic txw-pseudonym --from-file=keys/pseudonym.key  */

#include "pii.h"
#include "transport.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
s_valid_name (const char *name)
{
    if (!*name || strlen (name) > 100)
        return false;
    for (const char *c = name; *c; c++)
        if (!(isalnum ((unsigned char) *c) || *c == '-' || *c == '_' || *c == '.'))
            return false;
    return *name != '.';
}

//  Writes all of text to fd. Returns 0 or -1 (errno set).
static int
s_write_all (int fd, const char *text, size_t len)
{
    while (len) {
        ssize_t n = write (fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        text += n;
        len -= (size_t) n;
    }
    return 0;
}

//  Writes a new pseudonym key to path: created 0600 and never over an
//  existing file, or with force into a temporary file beside it that then
//  replaces it, so a reader never sees half a key.
static int
s_pseudonym_key (const char *path, bool force)
{
    if (sodium_init () < 0) {
        fprintf (stderr, "error: libsodium cannot be initialised\n");
        return 1;
    }
    uint8_t key [TXW_PSEUDONYM_KEY_BYTES];
    randombytes_buf (key, sizeof key);
    char text [2 * TXW_PSEUDONYM_KEY_BYTES + 2];
    sodium_bin2hex (text, sizeof text - 1, key, sizeof key);
    strcat (text, "\n");
    char temp [4200];
    snprintf (temp, sizeof temp, "%s.tmp-%d", path, (int) getpid ());
    const char *target = force? temp: path;
    int fd = open (target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST && !force)
            fprintf (stderr, "error: %s already exists: not overwritten (--force replaces it)\n",
                     path);
        else
            fprintf (stderr, "error: cannot create %s: %s\n", target, strerror (errno));
        sodium_memzero (key, sizeof key);
        sodium_memzero (text, sizeof text);
        return 1;
    }
    int rc = s_write_all (fd, text, strlen (text));
    if (rc == 0)
        rc = fsync (fd);
    if (close (fd) != 0)
        rc = -1;
    if (rc == 0 && force && rename (temp, path) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf (stderr, "error: cannot write %s: %s\n", path, strerror (errno));
        unlink (target);
    }
    else {
        txw_pseudonym_key_set (key);
        printf ("%s\nfingerprint %s\n", path, txw_pseudonym_fingerprint_hex ());
    }
    sodium_memzero (key, sizeof key);
    sodium_memzero (text, sizeof text);
    return rc == 0? 0: 1;
}

//  Makes DIR/NAME.key and DIR/NAME.key_secret, DIR created if missing.
//  Returns 0 when made, 1 if either file exists (kept; with quiet, only
//  if both do, else an error), -1 on error (logged).
static int
s_cert_make (const char *name, const char *dir, bool quiet)
{
    if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
        fprintf (stderr, "error: cannot create %s: %s\n", dir, strerror (errno));
        return -1;
    }
    char path [4096], secret [4200];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    snprintf (secret, sizeof secret, "%s_secret", path);
    bool has_public = access (path, F_OK) == 0, has_secret = access (secret, F_OK) == 0;
    if (has_public || has_secret) {
        if (quiet && !(has_public && has_secret)) {
            fprintf (stderr, "error: %s exists without its %s: remove it or add the other "
                     "half\n", has_public? path: secret, has_public? "secret": "public part");
            return -1;
        }
        if (quiet)
            printf ("%s (kept)\n", secret);
        return 1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, "error: cannot make a key pair\n");
        return -1;
    }
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "created-by", "txw-keygen");
    //  The secret file is readable by its owner only.
    mode_t old_mask = umask (077);
    int rc = zcert_save (cert, path);
    umask (old_mask);
    zcert_destroy (&cert);
    if (rc != 0) {
        fprintf (stderr, "error: cannot write %s: %s\n", path, strerror (errno));
        return -1;
    }
    chmod (path, 0644);
    printf ("%s\n%s\n", path, secret);
    return 0;
}

//  Writes the public part of the certificate in from to the file to,
//  unless to already holds the same public key. Returns 0 or -1 (logged).
static int
s_public_copy (const char *from, const char *to)
{
    zcert_t *cert = zcert_load (from);
    if (!cert) {
        fprintf (stderr, "error: cannot load %s\n", from);
        return -1;
    }
    zcert_t *there = zcert_load (to);
    bool same = there && streq (zcert_public_txt (there), zcert_public_txt (cert));
    zcert_destroy (&there);
    int rc = 0;
    if (!same) {
        char temp [4200];
        snprintf (temp, sizeof temp, "%s.tmp-%d", to, (int) getpid ());
        //  Beside it, then renamed: a ZAP handler reading the folder never
        //  sees half a certificate.
        rc = zcert_save_public (cert, temp);
        if (rc == 0) {
            chmod (temp, 0644);
            rc = rename (temp, to);
        }
        if (rc != 0) {
            fprintf (stderr, "error: cannot write %s: %s\n", to, strerror (errno));
            unlink (temp);
        }
        else
            printf ("%s\n", to);
    }
    zcert_destroy (&cert);
    return rc == 0? 0: -1;
}

//  --all DIR: the server certificate, a client certificate per role and
//  the public folders, where missing (see the header).
static int
s_all (const char *dir)
{
    if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
        fprintf (stderr, "error: cannot create %s: %s\n", dir, strerror (errno));
        return 1;
    }
    char sub [4096], from [4200], to [4200];
    snprintf (sub, sizeof sub, "%s/server", dir);
    if (s_cert_make ("cluster", sub, true) < 0)
        return 1;
    snprintf (sub, sizeof sub, "%s/public", dir);
    if (mkdir (sub, 0755) != 0 && errno != EEXIST) {
        fprintf (stderr, "error: cannot create %s: %s\n", sub, strerror (errno));
        return 1;
    }
    snprintf (from, sizeof from, "%s/server/cluster.key", dir);
    snprintf (to, sizeof to, "%s/public/cluster.key", dir);
    if (s_public_copy (from, to))
        return 1;
    snprintf (sub, sizeof sub, "%s/allowed", dir);
    if (mkdir (sub, 0755) != 0 && errno != EEXIST) {
        fprintf (stderr, "error: cannot create %s: %s\n", sub, strerror (errno));
        return 1;
    }
    for (int role = TXW_PEER_NONE + 1; role <= TXW_PEER_MAX; role++) {
        const char *name = txw_peer_name (role);
        snprintf (sub, sizeof sub, "%s/%s", dir, name);
        if (s_cert_make (name, sub, true) < 0)
            return 1;
        snprintf (from, sizeof from, "%s/%s/%s.key", dir, name, name);
        snprintf (to, sizeof to, "%s/allowed/%s.key", dir, name);
        if (s_public_copy (from, to))
            return 1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc >= 2 && streq (argv [1], "--pseudonym-key")) {
        bool force = argc == 4 && streq (argv [2], "--force");
        if (argc == 3 && argv [2][0] != '-')
            return s_pseudonym_key (argv [2], false);
        if (force && argv [3][0] != '-')
            return s_pseudonym_key (argv [3], true);
        fprintf (stderr, "usage: txw-keygen --pseudonym-key [--force] FILE\n");
        return 2;
    }
    if (argc == 3 && streq (argv [1], "--all"))
        return s_all (argv [2]);
    if (argc != 3 || streq (argv [1], "--help")) {
        fprintf (stderr, "usage: txw-keygen NAME DIR\n"
                         "       txw-keygen --all DIR\n"
                         "       txw-keygen --pseudonym-key [--force] FILE\n"
                         "writes DIR/NAME.key (public) and DIR/NAME.key_secret (secret): NAME\n"
                         "is cluster (the servers) or a role, alone or as ROLE-SUFFIX (the\n"
                         "clients); --all the server certificate, one per role and the public\n"
                         "folders where missing; or FILE: the secret key of the pseudonyms\n"
                         "(--pseudonym-key-file)\n");
        return argc == 2 && streq (argv [1], "--help")? 0: 2;
    }
    const char *name = argv [1], *dir = argv [2];
    if (!s_valid_name (name)) {
        fprintf (stderr, "error: NAME may hold letters, digits, '-', '_' and '.' only\n");
        return 2;
    }
    int rc = s_cert_make (name, dir, false);
    if (rc == 1)
        fprintf (stderr, "error: %s/%s.key or its secret already exists: not overwritten\n",
                 dir, name);
    if (rc != 0)
        return 1;
    char file [200];
    snprintf (file, sizeof file, "%s.key", name);
    if (txw_peer_of_file (file) == TXW_PEER_NONE && !streq (name, "cluster"))
        fprintf (stderr, "note: %s names no role (producer, validator, scorer, aggregator, "
                 "gateway, notifier): a --curve-allowed directory ignores it\n", file);
    return 0;
}
