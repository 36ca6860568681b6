/*  keygen - makes a CURVE certificate for txwatch services

    Writes DIR/NAME.key (public: give it to the peers, put it in their
    --curve-allowed directory or use it as their --curve-server-key) and
    DIR/NAME.key_secret (secret: this process's --curve-secret-key only) in
    the zcert format that zauth and zcert_load read. An existing file is
    never overwritten, so a key in use cannot be replaced by mistake.

    Usage: txw-keygen NAME DIR

    For Kubernetes, put the files into Secrets and mount them read-only
    (see common/transport.h):
        txw-keygen cluster keys && txw-keygen producer-a keys
        kubectl create secret generic txw-curve \
            --from-file=keys/cluster.key_secret --from-file=keys/cluster.key
        kubectl create secret generic txw-curve-allowed \
            --from-file=keys/cluster.key --from-file=keys/producer-a.key      */

#include <czmq.h>
#include <errno.h>
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

int
main (int argc, char **argv)
{
    if (argc != 3 || streq (argv [1], "--help")) {
        fprintf (stderr, "usage: txw-keygen NAME DIR\n"
                         "writes DIR/NAME.key (public) and DIR/NAME.key_secret (secret)\n");
        return argc == 2 && streq (argv [1], "--help")? 0: 2;
    }
    const char *name = argv [1], *dir = argv [2];
    if (!s_valid_name (name)) {
        fprintf (stderr, "error: NAME may hold letters, digits, '-', '_' and '.' only\n");
        return 2;
    }
    if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
        fprintf (stderr, "error: cannot create %s: %s\n", dir, strerror (errno));
        return 1;
    }
    char path [4096], secret [4200];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (access (path, F_OK) == 0 || access (secret, F_OK) == 0) {
        fprintf (stderr, "error: %s or its secret already exists: not overwritten\n", path);
        return 1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, "error: cannot make a key pair\n");
        return 1;
    }
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "created-by", "txw-keygen");
    //  The secret file is readable by its owner only.
    mode_t old_mask = umask (077);
    int rc = zcert_save (cert, path);
    umask (old_mask);
    if (rc != 0) {
        fprintf (stderr, "error: cannot write %s: %s\n", path, strerror (errno));
        zcert_destroy (&cert);
        return 1;
    }
    chmod (path, 0644);
    printf ("%s\n%s\n", path, secret);
    zcert_destroy (&cert);
    return 0;
}
