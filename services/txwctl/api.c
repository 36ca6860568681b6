/*  api - the query API as txwctl sees it: one request, one JSON answer    */

#include "api.h"
#include "version.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_ANSWER    (64 * 1024 * 1024)
#define S_KEY_FILE_MAX  4096    //  a key file holds one key and perhaps a newline

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

//  --- The API key -----------------------------------------------------------------

//  Takes text (len bytes, whitespace around it allowed) as the key from
//  api->key_source. Returns 0, or CTL_USAGE (printed) if it is not a key.
static int
s_accept_key (ctl_api_t *api, const char *text, size_t len)
{
    while (len && strchr (" \t\r\n", text [len - 1]))
        len--;
    while (len && strchr (" \t\r\n", *text)) {
        text++;
        len--;
    }
    txw_apikey_t parsed;
    if (txw_apikey_parse (text, len, &parsed)) {
        fprintf (stderr, "txwctl: the API key from %s is not a txwatch key"
                 " (txw_<16 hex digits>_<43 base64url characters>)\n", api->key_source);
        return CTL_USAGE;
    }
    memcpy (api->key, text, len);
    api->key [len] = 0;
    api->key_given = true;
    return 0;
}

//  Reads the key from the file at path. Returns 0 or CTL_USAGE (printed).
static int
s_read_key_file (ctl_api_t *api, const char *path)
{
    FILE *file = fopen (path, "re");
    if (!file) {
        fprintf (stderr, "txwctl: cannot read the API key from %s: %s\n", api->key_source,
                 strerror (errno));
        return CTL_USAGE;
    }
    char text [S_KEY_FILE_MAX + 1];
    size_t len = fread (text, 1, sizeof text, file);
    bool failed = ferror (file);
    fclose (file);
    int rc;
    if (failed) {
        fprintf (stderr, "txwctl: cannot read the API key from %s\n", api->key_source);
        rc = CTL_USAGE;
    }
    else
    if (len > S_KEY_FILE_MAX) {
        fprintf (stderr, "txwctl: %s is too long to be an API key file\n", api->key_source);
        rc = CTL_USAGE;
    }
    else
        rc = s_accept_key (api, text, len);
    explicit_bzero (text, sizeof text);
    return rc;
}

int
ctl_api_key (ctl_api_t *api, const char **key)
{
    if (!api->key_read) {
        api->key_read = true;
        const char *env = getenv ("TXW_API_KEY");
        const char *env_file = getenv ("TXW_API_KEY_FILE");
        int rc = 0;
        if (api->key_file) {
            snprintf (api->key_source, sizeof api->key_source, "--key-file %s", api->key_file);
            rc = s_read_key_file (api, api->key_file);
        }
        else
        if (env && *env) {
            snprintf (api->key_source, sizeof api->key_source, "TXW_API_KEY");
            rc = s_accept_key (api, env, strlen (env));
        }
        else
        if (env_file && *env_file) {
            snprintf (api->key_source, sizeof api->key_source, "TXW_API_KEY_FILE %s", env_file);
            rc = s_read_key_file (api, env_file);
        }
        if (rc) {
            api->key_read = false;      //  asked again, it says so again
            *key = NULL;
            return rc;
        }
    }
    *key = api->key_given? api->key: NULL;
    return CTL_OK;
}

const char *
ctl_api_key_hint (ctl_api_t *api, int status, char *buf, size_t size)
{
    const char *key;
    if (ctl_api_key (api, &key) || !key)
        snprintf (buf, size, "no API key was given: use --key-file FILE, TXW_API_KEY_FILE=FILE"
                  " or TXW_API_KEY=KEY (an admin makes keys with `txwctl keys create`)");
    else
    if (status == 403)
        snprintf (buf, size, "the key from %s has too low a role for this (`txwctl whoami`"
                  " shows it); ask an admin for a key with a higher role", api->key_source);
    else
        snprintf (buf, size, "the key from %s was refused: it is revoked, mistyped or not"
                  " from this installation", api->key_source);
    return buf;
}

//  --- Requests ----------------------------------------------------------------------

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
ctl_api_call (ctl_api_t *api, const char *method, const char *path_and_query,
              const char *body, json_t **answer, char **raw)
{
    *answer = NULL;
    if (raw)
        *raw = NULL;
    const char *key;
    int key_rc = ctl_api_key (api, &key);
    if (key_rc)
        return key_rc;
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
    if (key) {
        char authorization [32 + TXW_APIKEY_LEN];
        snprintf (authorization, sizeof authorization, "Authorization: Bearer %s", key);
        headers = curl_slist_append (headers, authorization);
        explicit_bzero (authorization, sizeof authorization);
    }
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "txwctl/" TXW_VERSION);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, api->timeout_ms);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &buf);
    //  A body goes as POST's; any other method than GET and POST is named.
    if (!strcmp (method, "POST") || !strcmp (method, "PATCH")) {
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body? body: "");
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) (body? strlen (body): 0));
    }
    if (strcmp (method, "GET") && strcmp (method, "POST"))
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
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
        if (status == 401 || status == 403) {
            char hint [1400];
            fprintf (stderr, "txwctl: %s\n", ctl_api_key_hint (api, (int) status, hint, sizeof hint));
        }
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
