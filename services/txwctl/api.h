/*  api - the query API as txwctl sees it: one request, one JSON answer

    Every command is one HTTP request to txw-query (proto/SERVING.md). This
    module sends it with libcurl and sorts the outcome into the three things
    a command has to tell apart: a JSON answer, an error the API explained
    ({"error":..., "message":...}), and no usable answer at all (network
    down, not JSON). Errors are printed here, once, in one format.

    Every /api/v1 endpoint wants an API key (common/apikey.h). txwctl takes
    it from --key-file FILE, else TXW_API_KEY, else TXW_API_KEY_FILE, reads
    it once, when the first request needs it, checks its form (so nothing
    but a key's characters ever reaches a header) and sends it as
    "Authorization: Bearer <key>". The key is never printed: messages name
    where it came from. A 401 or 403 gets a hint on how to give a key, or
    which key was refused.                                                  */

#ifndef TXW_TXWCTL_API_H
#define TXW_TXWCTL_API_H

#include "apikey.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct {
    const char *api_url;        //  base, e.g. http://127.0.0.1:8080 (no trailing slash needed)
    bool json;                  //  --json: print the API's JSON as it came
    long timeout_ms;
    const char *key_file;       //  --key-file, or NULL
    //  The key, once ctl_api_key has read it.
    bool key_read;
    bool key_given;
    char key [TXW_APIKEY_LEN + 1];
    char key_source [1100];     //  "--key-file FILE", "TXW_API_KEY", ...: for messages
} ctl_api_t;

//  Exit codes shared by every command.
enum { CTL_OK = 0, CTL_API_ERROR = 1, CTL_USAGE = 2 };

//  The API key to send: from --key-file, TXW_API_KEY or TXW_API_KEY_FILE
//  (an empty variable counts as unset), read once. Sets *key to it, or to
//  NULL when none is given, and returns CTL_OK; returns CTL_USAGE (the
//  reason printed, never the file's text) when the file cannot be read or
//  what was given is not a key.
int ctl_api_key (ctl_api_t *api, const char **key);

//  What to tell the user when a key is missing ("give one with ...") or
//  was refused ("the key from SOURCE ..."): one line, no newline.
const char *ctl_api_key_hint (ctl_api_t *api, int status, char *buf, size_t size);

//  Sends method (GET, POST or DELETE) to base + path_and_query, with body
//  (JSON text, POST only, may be NULL) and the API key if one is given. On
//  a 2xx answer with a JSON body, returns CTL_OK with *answer set (caller
//  decrefs) and *raw the text (caller frees, may pass NULL). Otherwise
//  prints the error on stderr (with a hint after 401 and 403) and returns
//  CTL_API_ERROR, or CTL_USAGE if the key given cannot be used
//  (ctl_api_key).
int ctl_api_call (ctl_api_t *api, const char *method, const char *path_and_query,
                  const char *body, json_t **answer, char **raw);

//  Percent-encodes s for a URL path segment or query value. Caller frees;
//  NULL if memory ran out.
char *ctl_url_encode (const char *s);

#endif
