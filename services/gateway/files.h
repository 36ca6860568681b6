/*  files - the dashboard bundle, read once at start and served from memory

    The gateway used to hand --document-root to civetweb, whose file
    serving carries the directory-redirect code of CVE-2025-55763 (a heap
    overflow when a long URI names a folder without its trailing slash and
    has a query string; civetweb issues #1346 and #1356, versions 1.14 to
    1.16, fixed only on civetweb's master, commit 76e222bc) and a directory
    listing that is on by default. Civetweb's document_root is now never
    set, so none of that code can run: the gateway's own handler serves
    this table, and everything else is a 404.

    At start the folder's regular files are read into memory: only the
    folder itself (a subfolder is not entered), names of letters, digits,
    '.', '-' and '_' that do not start with a dot, at most GW_FILES_MAX
    files of GW_FILE_MAX_BYTES each and GW_FILES_MAX_BYTES in all. A
    symbolic link is followed only when its target is a regular file inside
    the folder (a Kubernetes ConfigMap volume is made of such links). A
    request names a file exactly ("/main.js"); "/" is index.html. Nothing
    is decoded or normalised, so "/./main.js", "//main.js" or "/main.js/"
    are not files. A new bundle needs a restart, like a new binary.        */

#ifndef TXW_GATEWAY_FILES_H
#define TXW_GATEWAY_FILES_H

#include <stddef.h>

#define GW_FILES_MAX        256
#define GW_FILE_NAME_MAX    128
#define GW_FILE_MAX_BYTES   (16 * 1024 * 1024)
#define GW_FILES_MAX_BYTES  (64 * 1024 * 1024)

typedef struct {
    char name [GW_FILE_NAME_MAX + 1];
    const char *type;           //  Content-Type
    char *data;
    size_t size;
} gw_file_t;

typedef struct _gw_files_t gw_files_t;

//  Reads the files of root (NULL or "": none). What is skipped is logged;
//  a folder that cannot be read gives an empty table (logged), NULL only
//  when out of memory.
gw_files_t *gw_files_load (const char *root);
void gw_files_destroy (gw_files_t **self_p);

//  The file a request path names ("/" is index.html), or NULL.
const gw_file_t *gw_files_find (const gw_files_t *self, const char *path);
size_t gw_files_count (const gw_files_t *self);

//  The Content-Type of a file name, by its extension.
const char *gw_content_type (const char *name);

#endif
