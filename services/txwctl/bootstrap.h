/*  bootstrap - the first admin key, straight into PostgreSQL

    Every API call wants a key, and only an admin key makes keys through
    the API, so the first one is made without it: `txwctl keys create NAME
    ROLE --database-url URL` generates a key as txw-query does
    (txw_apikey_generate) and inserts its row and its audit row (principal
    and created_by "database:<the PostgreSQL role>") in one transaction.
    Whoever can write txw_data.api_keys can make any key anyway, so this
    gives nobody more than the database already does.

    `make run` does it at every start with --if-none: nothing is made while
    an active key of ROLE exists. The transaction first takes
    LOCK TABLE txw_data.api_keys IN SHARE ROW EXCLUSIVE MODE, a lock that
    conflicts with itself and with every writer of the table, so between
    two bootstraps started together the second waits, then sees the
    first's key and makes none. With --out FILE (keyfile.h) the key is on
    disk before the transaction commits, and takes FILE's name after.     */

#ifndef TXW_TXWCTL_BOOTSTRAP_H
#define TXW_TXWCTL_BOOTSTRAP_H

#include <stdbool.h>

//  Makes the key (name and role already checked) and prints it on stdout,
//  or writes it to out (NULL: stdout); in json mode prints the key's row
//  as the API answers it. Returns CTL_OK (also when if_none found a key),
//  CTL_API_ERROR when PostgreSQL fails, or CTL_USAGE for a refused --out.
int ctl_bootstrap_key (const char *database_url, const char *name, const char *role,
                       bool if_none, const char *out, bool json);

#endif
