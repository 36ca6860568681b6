/*  txwctl - the operator's command line for txwatch

    Talks to the query API (TXW_API_URL, default http://127.0.0.1:8080) for
    stats, alerts, acknowledgements, transactions, accounts, dead letters,
    API keys and the audit log, and to the push gateway (TXW_GATEWAY_URL,
    default ws://127.0.0.1:8081/ws) for `tail`, with the API key of
    --key-file, TXW_API_KEY or TXW_API_KEY_FILE (api.h). `keys create
    --database-url` talks to PostgreSQL alone, to make the first admin key
    (bootstrap.h), and so does `products load`, to load a product catalogue
    (products.h). Exit codes: 0 success, 1 the API, the network or the
    database failed (its message is printed), 2 bad usage.                  */

#include "api.h"
#include "commands.h"
#include "version.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: txwctl [--api URL] [--key-file FILE] [--json] COMMAND [OPTIONS]\n\n"
        "The txwatch operator tool: reads the query API, acknowledges alerts,\n"
        "manages API keys, reads the audit log and follows the live feed of the\n"
        "push gateway.\n\n"
        "commands:\n");
    for (const ctl_command_t *c = ctl_commands; c->name; c++)
        if (*c->synopsis)
            fprintf (out, "  %-13s %s\n", c->name, c->synopsis);
        else
            fprintf (out, "  %s\n", c->name);
    fprintf (out,
        "\noptions:\n"
        "  --api URL        query API base URL (TXW_API_URL, default http://127.0.0.1:8080)\n"
        "  --key-file FILE  the API key, in FILE (else TXW_API_KEY, else TXW_API_KEY_FILE);\n"
        "                   every command but `keys create --database-url` and\n"
        "                   `products load` needs one\n"
        "  --json           print the API's JSON instead of text\n"
        "  --help           this text; `txwctl COMMAND --help` for one command\n"
        "  --version        print the version\n\n"
        "environment: TXW_API_URL, TXW_API_KEY, TXW_API_KEY_FILE,\n"
        "             TXW_GATEWAY_URL (tail; default ws://127.0.0.1:8081/ws)\n"
        "exit codes: 0 success, 1 API, network or database error, 2 usage error\n");
}

int
main (int argc, char **argv)
{
    const char *env = getenv ("TXW_API_URL");
    ctl_api_t api = { .api_url = env && *env? env: "http://127.0.0.1:8080",
                      .json = false, .timeout_ms = 30000 };
    int i = 1;
    for (; i < argc && argv [i][0] == '-'; i++) {
        const char *arg = argv [i];
        if (!strcmp (arg, "--help") || !strcmp (arg, "-h")) {
            s_usage (stdout);
            return CTL_OK;
        }
        if (!strcmp (arg, "--version")) {
            printf ("txwctl %s\n", TXW_VERSION);
            return CTL_OK;
        }
        if (!strcmp (arg, "--json"))
            api.json = true;
        else
        if (!strcmp (arg, "--api") && i + 1 < argc)
            api.api_url = argv [++i];
        else
        if (!strncmp (arg, "--api=", 6))
            api.api_url = arg + 6;
        else
        if (!strcmp (arg, "--key-file") && i + 1 < argc)
            api.key_file = argv [++i];
        else
        if (!strncmp (arg, "--key-file=", 11))
            api.key_file = arg + 11;
        else {
            fprintf (stderr, "txwctl: unknown option '%s'\n(see txwctl --help)\n", arg);
            return CTL_USAGE;
        }
    }
    if (i == argc) {
        s_usage (stderr);
        return CTL_USAGE;
    }
    int words, rc;
    const ctl_command_t *command = ctl_command_select (argc - i, argv + i, &words, &rc);
    if (!command)
        return rc;
    //  The command sees its whole name as argv [0] ("keys create").
    i += words - 1;
    argv [i] = (char *) command->name;
    if (strncmp (api.api_url, "http://", 7) && strncmp (api.api_url, "https://", 8)) {
        fprintf (stderr, "txwctl: --api '%s' is not an http:// or https:// URL\n", api.api_url);
        return CTL_USAGE;
    }
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf (stderr, "txwctl: libcurl cannot start\n");
        return CTL_API_ERROR;
    }
    rc = command->run (&api, argc - i, argv + i);
    curl_global_cleanup ();
    return rc;
}
