/*  keyfile - a new API key into a file of its own, safely

    `keys create --out FILE` must neither leave a half-written key nor lose
    a working one. The key goes to a new file next to FILE (FILE.XXXXXX,
    mode 0600 from the start), is synced, and only then takes FILE's name:
    link() when FILE did not exist (so a FILE that appears meanwhile is not
    overwritten), rename() over a FILE that was checked. An existing FILE
    may only be replaced when it holds a txwatch key that is no longer
    active: a stale key file, as after the database was made afresh. Any
    other FILE (not a key, not a regular file) is refused; whether the key
    it holds is active is the caller's to ask (the API or PostgreSQL) and
    ctl_keyfile_refuse_active's to say. All is checked before a key is
    made, so a refusal makes nothing.                                       */

#ifndef TXW_TXWCTL_KEYFILE_H
#define TXW_TXWCTL_KEYFILE_H

#include "apikey.h"

#include <limits.h>
#include <stdbool.h>

typedef struct {
    char path [PATH_MAX];
    char temp [PATH_MAX + 8];
    int fd;
    char old_id [TXW_APIKEY_ID_LEN + 1];    //  the id of the key FILE holds, or ""
} ctl_keyfile_t;

//  Checks FILE (see above) and creates the new file next to it. Returns 0,
//  or CTL_USAGE / CTL_API_ERROR with the reason printed as "txwctl
//  COMMAND: ...".
int ctl_keyfile_open (ctl_keyfile_t *self, const char *command, const char *path);

//  Prints why FILE is not replaced (it holds old_id, an active key), drops
//  the new file and returns CTL_USAGE.
int ctl_keyfile_refuse_active (ctl_keyfile_t *self, const char *command);

//  Writes the key and a newline to the new file and syncs it. Returns 0,
//  or -1 (printed; the new file is removed).
int ctl_keyfile_write (ctl_keyfile_t *self, const char *command, const char *key);

//  Gives the new file FILE's name and syncs the folder. Returns 0, or -1
//  (printed, with where the key is).
int ctl_keyfile_commit (ctl_keyfile_t *self, const char *command);

//  Removes the new file: nothing was made, or nothing is kept.
void ctl_keyfile_abort (ctl_keyfile_t *self);

#endif
