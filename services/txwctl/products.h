/*  products - `txwctl products load`: a CSV catalogue into txw_data.products

    The catalogue is a CSV file with the header
    product_id,name,category,price,currency (what `txw-producer
    --catalogue-out` writes; header names in any case, quoting as RFC 4180
    on one line). Every row is checked before PostgreSQL is touched: the id
    as transaction ids are (1-64 bytes of [A-Za-z0-9_.:-]), a name of 1 to
    CTL_PRODUCT_NAME_MAX bytes of UTF-8 without control characters, a
    category like a transaction's (1-32 bytes of [a-z0-9_], folded to lower
    case), the price a positive decimal in major units with no more
    decimals than the ISO 4217 currency has. The first bad row stops the
    load with its line and field named, and nothing is written. A good file
    goes in as one transaction: COPY into a temporary table, then one
    upsert, so a failure half-way leaves the table as it was. Rows whose
    values did not change are left alone (their updated_at too).

    Like `keys create --database-url`, this connects to PostgreSQL itself,
    as the owner: no service role may write the catalogue (proto/SQL.md,
    "Roles").                                                               */

#ifndef TXW_TXWCTL_PRODUCTS_H
#define TXW_TXWCTL_PRODUCTS_H

#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_PRODUCT_NAME_MAX 200

typedef struct {
    char id [TXW_ID_MAX + 1];
    char name [CTL_PRODUCT_NAME_MAX + 1];
    char category [TXW_NAME_MAX + 1];
    int64_t price_minor;
    char currency [4];
    uint64_t line;
} ctl_product_t;

typedef struct {
    ctl_product_t *rows;
    size_t count;
} ctl_products_t;

//  Reads and checks the catalogue at path. Returns 0 with out filled (free
//  it with ctl_products_free), or -1 with the reason in error, "FILE line
//  N, FIELD: what is wrong", and out empty.
int ctl_products_read (const char *path, ctl_products_t *out, char *error, size_t size);
void ctl_products_free (ctl_products_t *self);

//  Loads the catalogue at path into the database: prints how many products
//  were added, updated and unchanged (json: as one object). Returns CTL_OK,
//  CTL_USAGE for a refused file (nothing loaded) or CTL_API_ERROR when
//  PostgreSQL fails (nothing loaded).
int ctl_products_load (const char *database_url, const char *path, bool json);

#endif
