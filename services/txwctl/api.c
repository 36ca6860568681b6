/*  api - the query API as txwctl sees it: one request, one JSON answer    */

#include "api.h"
#include "version.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_ANSWER (64 * 1024 * 1024)

typedef struct {
    char *data;
    size_t len, cap;
    bool too_big;
} s_buffer_t;

static size_t
s_on_body (char *data, size_t size, size_t nmemb, void *arg)
{
    s_buffer_t *buf = arg;
    size_t len = size * nmemb;
    if (buf->len + len + 1 > S_MAX_ANSWER) {
        buf->too_big = true;
        return 0;
    }
    if (buf->len + len + 1 > buf->cap) {
        size_t cap = buf->cap? buf->cap: 4096;
        while (cap < buf->len + len + 1)
            cap *= 2;
        char *grown = realloc (buf->data, cap);
        if (!grown)
            return 0;
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy (buf->data + buf->len, data, len);
    buf->len += len;
    buf->data [buf->len] = 0;
    return len;
}

char *
ctl_url_encode (const char *s)
{
    static const char hex [] = "0123456789ABCDEF";
    size_t len = strlen (s);
    char *out = malloc (len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
        ||  *p == '-' || *p == '_' || *p == '.' || *p == '~')
            out [o++] = (char) *p;
        else {
            out [o++] = '%';
            out [o++] = hex [*p >> 4];
            out [o++] = hex [*p & 15];
        }
    }
    out [o] = 0;
    return out;
}

//  Prints what the API said about a failed request.
static void
s_print_api_error (long status, const char *body, const char *url)
{
    json_t *o = body? json_loads (body, 0, NULL): NULL;
    const char *message = o? json_string_value (json_object_get (o, "message")): NULL;
    const char *error = o? json_string_value (json_object_get (o, "error")): NULL;
    const char *parameter = o? json_string_value (json_object_get (o, "parameter")): NULL;
    if (message)
        fprintf (stderr, "txwctl: %s%s%s (HTTP %ld%s%s)\n", parameter? parameter: "",
                 parameter? ": ": "", message, status, error? ", ": "", error? error: "");
    else
        fprintf (stderr, "txwctl: %s answered HTTP %ld%s%.200s\n", url, status,
                 body && *body? ": ": "", body? body: "");
    json_decref (o);
}

int
ctl_api_call (const ctl_api_t *api, const char *method, const char *path_and_query,
              const char *body, json_t **answer, char **raw)
{
    *answer = NULL;
    if (raw)
        *raw = NULL;
    size_t base_len = strlen (api->api_url);
    while (base_len && api->api_url [base_len - 1] == '/')
        base_len--;
    char *url = NULL;
    if (asprintf (&url, "%.*s%s", (int) base_len, api->api_url, path_and_query) < 0)
        return CTL_API_ERROR;
    int rc = CTL_API_ERROR;
    s_buffer_t buf = { 0 };
    struct curl_slist *headers = NULL;
    CURL *curl = curl_easy_init ();
    if (!curl) {
        fprintf (stderr, "txwctl: libcurl cannot start\n");
        goto done;
    }
    char errbuf [CURL_ERROR_SIZE] = "";
    headers = curl_slist_append (headers, "Accept: application/json");
    if (body)
        headers = curl_slist_append (headers, "Content-Type: application/json");
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "txwctl/" TXW_VERSION);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, api->timeout_ms);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &buf);
    if (!strcmp (method, "POST")) {
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body? body: "");
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) (body? strlen (body): 0));
    }
    CURLcode code = curl_easy_perform (curl);
    if (code != CURLE_OK) {
        fprintf (stderr, "txwctl: %s %s: %s\n", method, url,
                 buf.too_big? "answer too large": *errbuf? errbuf: curl_easy_strerror (code));
        goto done;
    }
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        s_print_api_error (status, buf.data, url);
        goto done;
    }
    json_error_t error;
    *answer = buf.data? json_loads (buf.data, 0, &error): NULL;
    if (!*answer) {
        fprintf (stderr, "txwctl: %s answered HTTP %ld without a JSON body%s%s\n", url, status,
                 buf.data? ": ": "", buf.data? error.text: "");
        goto done;
    }
    if (raw) {
        *raw = buf.data;
        buf.data = NULL;
    }
    rc = CTL_OK;
done:
    curl_slist_free_all (headers);
    if (curl)
        curl_easy_cleanup (curl);
    free (buf.data);
    free (url);
    return rc;
}
