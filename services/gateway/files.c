/*  files - the dashboard bundle, read once at start and served from memory  */

#include "files.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct _gw_files_t {
    gw_file_t files [GW_FILES_MAX];
    size_t count;
    size_t bytes;
};

static const struct {
    const char *ext;
    const char *type;
} s_types [] = {
    { "html", "text/html; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "map", "application/json" },
    { "json", "application/json" },
    { "webmanifest", "application/manifest+json" },
    { "txt", "text/plain; charset=utf-8" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "ico", "image/x-icon" },
    { "webp", "image/webp" },
    { "woff2", "font/woff2" },
    { "woff", "font/woff" },
    { "wasm", "application/wasm" },
};

const char *
gw_content_type (const char *name)
{
    const char *dot = strrchr (name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof s_types / sizeof s_types [0]; i++)
            if (!strcasecmp (dot + 1, s_types [i].ext))
                return s_types [i].type;
    return "application/octet-stream";
}

static bool
s_name_ok (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > GW_FILE_NAME_MAX || name [0] == '.' || name [0] == '-')
        return false;
    return strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789._-") == len;
}

//  Reads one entry of the folder real (a resolved path) into f. Returns
//  0, 1 when the entry is not served (logged) or -1 when out of memory.
static int
s_load (gw_files_t *self, const char *real, const char *name, gw_file_t *f)
{
    char path [PATH_MAX], target [PATH_MAX];
    if ((size_t) snprintf (path, sizeof path, "%s/%s", real, name) >= sizeof path
    ||  !realpath (path, target)) {
        log_warn ("dashboard: %s/%s cannot be resolved: not served", real, name);
        return 1;
    }
    size_t rlen = strlen (real);
    if (strncmp (target, real, rlen) || (rlen > 1 && target [rlen] != '/')) {
        log_warn ("dashboard: %s leads out of --document-root (to %s): not served", name, target);
        return 1;
    }
    int fd = open (target, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat (fd, &st)) {
        log_warn ("dashboard: cannot open %s: %s", name, strerror (errno));
        if (fd >= 0)
            close (fd);
        return 1;
    }
    int rc = 1;
    if (!S_ISREG (st.st_mode))
        log_debug ("dashboard: %s is not a regular file: not served", name);
    else
    if (st.st_size > GW_FILE_MAX_BYTES || self->bytes + (size_t) st.st_size > GW_FILES_MAX_BYTES)
        log_warn ("dashboard: %s (%lld bytes) is over the size limits (%d per file, %d in all): "
                  "not served", name, (long long) st.st_size, GW_FILE_MAX_BYTES, GW_FILES_MAX_BYTES);
    else {
        size_t size = (size_t) st.st_size;
        f->data = malloc (size? size: 1);
        if (!f->data)
            rc = -1;
        else {
            size_t got = 0;
            while (got < size) {
                ssize_t n = read (fd, f->data + got, size - got);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                got += (size_t) n;
            }
            if (got == size) {
                snprintf (f->name, sizeof f->name, "%.*s", GW_FILE_NAME_MAX, name);
                f->size = size;
                f->type = gw_content_type (name);
                self->bytes += size;
                rc = 0;
            }
            else {
                log_warn ("dashboard: %s changed or failed while read: not served", name);
                free (f->data);
                f->data = NULL;
            }
        }
    }
    close (fd);
    return rc;
}

gw_files_t *
gw_files_load (const char *root)
{
    gw_files_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char real [PATH_MAX];
    DIR *dir = NULL;
    if (!root || !*root || !realpath (root, real) || !(dir = opendir (real))) {
        log_warn ("--document-root '%s' is not a folder that can be read: no dashboard files "
                  "are served", root? root: "");
        return self;
    }
    struct dirent *e;
    while ((e = readdir (dir))) {
        if (!strcmp (e->d_name, ".") || !strcmp (e->d_name, ".."))
            continue;
        if (!s_name_ok (e->d_name)) {
            log_debug ("dashboard: '%s' is not a served name (letters, digits, . - _)", e->d_name);
            continue;
        }
        if (self->count == GW_FILES_MAX) {
            log_warn ("dashboard: more than %d files in %s: the rest are not served",
                      GW_FILES_MAX, real);
            break;
        }
        int rc = s_load (self, real, e->d_name, &self->files [self->count]);
        if (rc < 0) {
            closedir (dir);
            gw_files_destroy (&self);
            return NULL;
        }
        if (rc == 0)
            self->count++;
    }
    closedir (dir);
    if (!gw_files_find (self, "/"))
        log_warn ("dashboard: no index.html in %s: / is a 404", real);
    log_info ("dashboard: %zu files (%zu bytes) from %s", self->count, self->bytes, real);
    return self;
}

void
gw_files_destroy (gw_files_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_files_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free (self->files [i].data);
    free (self);
    *self_p = NULL;
}

const gw_file_t *
gw_files_find (const gw_files_t *self, const char *path)
{
    if (!self || !path || path [0] != '/')
        return NULL;
    const char *name = path [1]? path + 1: "index.html";
    for (size_t i = 0; i < self->count; i++)
        if (!strcmp (self->files [i].name, name))
            return &self->files [i];
    return NULL;
}

size_t
gw_files_count (const gw_files_t *self)
{
    return self? self->count: 0;
}
