/*  keyfile - a new API key into a file of its own, safely                 */

#include "keyfile.h"
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_OLD_MAX   4096        //  a key file holds one key and perhaps a newline

//  Reads the key id of the key file at path into self->old_id. Returns 0,
//  or -1 if it cannot be read or holds anything but one key.
static int
s_read_old (ctl_keyfile_t *self)
{
    int fd = open (self->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    char text [S_OLD_MAX + 1];
    ssize_t len = read (fd, text, sizeof text);
    close (fd);
    int rc = -1;
    if (len > 0 && len <= S_OLD_MAX) {
        size_t n = (size_t) len;
        while (n && strchr (" \t\r\n", text [n - 1]))
            n--;
        txw_apikey_t key;
        if (txw_apikey_parse (text, n, &key) == 0) {
            memcpy (self->old_id, key.id, sizeof self->old_id);
            rc = 0;
        }
    }
    explicit_bzero (text, sizeof text);
    return rc;
}

int
ctl_keyfile_open (ctl_keyfile_t *self, const char *command, const char *path)
{
    self->fd = -1;
    self->old_id [0] = 0;
    self->temp [0] = 0;
    if (strlen (path) >= sizeof self->path) {
        fprintf (stderr, "txwctl %s: --out %s: the name is too long\n", command, path);
        return CTL_USAGE;
    }
    snprintf (self->path, sizeof self->path, "%s", path);
    struct stat st;
    if (lstat (path, &st) == 0) {
        if (!S_ISREG (st.st_mode)) {
            fprintf (stderr, "txwctl %s: --out %s exists and is not a regular file: refused\n",
                     command, path);
            return CTL_USAGE;
        }
        if (s_read_old (self)) {
            fprintf (stderr, "txwctl %s: --out %s exists and does not hold a txwatch key:"
                     " refused (only a stale key file is replaced)\n", command, path);
            return CTL_USAGE;
        }
    }
    else
    if (errno != ENOENT) {
        fprintf (stderr, "txwctl %s: --out %s: %s\n", command, path, strerror (errno));
        return CTL_USAGE;
    }
    snprintf (self->temp, sizeof self->temp, "%s.XXXXXX", path);
    self->fd = mkostemp (self->temp, O_CLOEXEC);      //  mode 0600
    if (self->fd < 0 || fchmod (self->fd, 0600)) {
        fprintf (stderr, "txwctl %s: --out %s: cannot create %s: %s\n", command, path,
                 self->temp, strerror (errno));
        ctl_keyfile_abort (self);
        return CTL_USAGE;
    }
    return 0;
}

int
ctl_keyfile_refuse_active (ctl_keyfile_t *self, const char *command)
{
    fprintf (stderr, "txwctl %s: --out %s holds the key %s, which is active: it is not replaced"
             " (revoke that key first, or choose another file)\n", command, self->path,
             self->old_id);
    ctl_keyfile_abort (self);
    return CTL_USAGE;
}

int
ctl_keyfile_write (ctl_keyfile_t *self, const char *command, const char *key)
{
    char line [TXW_APIKEY_LEN + 2];
    int len = snprintf (line, sizeof line, "%s\n", key);
    bool written = len > 0 && write (self->fd, line, (size_t) len) == len && fsync (self->fd) == 0;
    int error = errno;
    explicit_bzero (line, sizeof line);
    if (close (self->fd) && written) {
        written = false;
        error = errno;
    }
    self->fd = -1;
    if (!written) {
        fprintf (stderr, "txwctl %s: cannot write %s: %s\n", command, self->temp, strerror (error));
        ctl_keyfile_abort (self);
        return -1;
    }
    return 0;
}

int
ctl_keyfile_commit (ctl_keyfile_t *self, const char *command)
{
    //  A FILE that was not there is not overwritten if it appeared since.
    int rc = *self->old_id? rename (self->temp, self->path): link (self->temp, self->path);
    if (rc) {
        fprintf (stderr, "txwctl %s: cannot move the key to %s: %s; it is in %s\n", command,
                 self->path, strerror (errno), self->temp);
        self->temp [0] = 0;     //  kept: it holds the key
        return -1;
    }
    if (!*self->old_id)
        unlink (self->temp);
    self->temp [0] = 0;
    char folder [PATH_MAX];
    snprintf (folder, sizeof folder, "%s", self->path);
    int fd = open (dirname (folder), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
    return 0;
}

void
ctl_keyfile_abort (ctl_keyfile_t *self)
{
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
    if (*self->temp)
        unlink (self->temp);
    self->temp [0] = 0;
}
