/*  api - the query API as txwctl sees it: one request, one JSON answer

    Every command is one HTTP request to txw-query (proto/SERVING.md). This
    module sends it with libcurl and sorts the outcome into the three things
    a command has to tell apart: a JSON answer, an error the API explained
    ({"error":..., "message":...}), and no usable answer at all (network
    down, not JSON). Errors are printed here, once, in one format.          */

#ifndef TXW_TXWCTL_API_H
#define TXW_TXWCTL_API_H

#include <jansson.h>
#include <stdbool.h>

typedef struct {
    const char *api_url;        //  base, e.g. http://127.0.0.1:8080 (no trailing slash needed)
    bool json;                  //  --json: print the API's JSON as it came
    long timeout_ms;
} ctl_api_t;

//  Exit codes shared by every command.
enum { CTL_OK = 0, CTL_API_ERROR = 1, CTL_USAGE = 2 };

//  Sends method (GET or POST) to base + path_and_query, with body (JSON
//  text, POST only, may be NULL). On a 2xx answer with a JSON body, returns
//  CTL_OK with *answer set (caller decrefs) and *raw the text (caller
//  frees, may pass NULL). Otherwise prints the error on stderr and returns
//  CTL_API_ERROR.
int ctl_api_call (const ctl_api_t *api, const char *method, const char *path_and_query,
                  const char *body, json_t **answer, char **raw);

//  Percent-encodes s for a URL path segment or query value. Caller frees;
//  NULL if memory ran out.
char *ctl_url_encode (const char *s);

#endif
