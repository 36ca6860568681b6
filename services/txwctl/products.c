/*  products - `txwctl products load`: a CSV catalogue into txw_data.products */

#include "products.h"
#include "api.h"
#include "db.h"
#include "money.h"
#include "pgutil.h"
#include "utf8.h"

#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_COMMAND   "products load"

enum { S_ID, S_NAME, S_CATEGORY, S_PRICE, S_CURRENCY, S_COLUMNS };
static const char *s_columns [S_COLUMNS] = {
    "product_id", "name", "category", "price", "currency"
};

//  Splits line in place into at most max fields, RFC 4180 quoting on one
//  line (a quoted field may hold commas and "" for a quote). Returns the
//  number of fields, or -1 if a quote is misplaced or not closed.
static int
s_split (char *line, char **fields, int max)
{
    int count = 0;
    char *p = line;
    for (;;) {
        char *start = p, *out = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"') {
                    if (p [1] != '"')
                        break;
                    p++;
                }
                *out++ = *p++;
            }
            p++;                        //  the closing quote
            if (*p && *p != ',')
                return -1;
        }
        else {
            while (*p && *p != ',') {
                if (*p == '"')
                    return -1;
                out++;
                p++;
            }
        }
        bool last = !*p;
        *out = 0;
        if (count < max)
            fields [count] = start;
        count++;
        if (last)
            return count;
        p++;
    }
}

static char *
s_trim (char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen (s);
    while (len && (s [len - 1] == ' ' || s [len - 1] == '\t'))
        s [--len] = 0;
    return s;
}

static int
s_fail (char *error, size_t size, const char *path, uint64_t line, const char *field,
        const char *fmt, ...)
{
    char detail [256];
    va_list args;
    va_start (args, fmt);
    vsnprintf (detail, sizeof detail, fmt, args);
    va_end (args);
    if (field)
        snprintf (error, size, "%s line %llu, %s: %s", path, (unsigned long long) line,
                  field, detail);
    else
        snprintf (error, size, "%s line %llu: %s", path, (unsigned long long) line, detail);
    return -1;
}

//  Checks the fields of one row into row. Returns 0, or -1 with error set.
static int
s_row (char **f, const char *path, uint64_t line, ctl_product_t *row, char *error, size_t size)
{
    size_t len = strlen (f [S_ID]);
    if (len == 0 || len > TXW_ID_MAX || !txw_id_chars_valid (f [S_ID], len))
        return s_fail (error, size, path, line, "product_id", "'%.64s' is not 1 to %d bytes of"
                       " [A-Za-z0-9_.:-]", f [S_ID], TXW_ID_MAX);
    memcpy (row->id, f [S_ID], len + 1);

    len = strlen (f [S_NAME]);
    bool control = false;
    for (const char *c = f [S_NAME]; *c; c++)
        control |= (unsigned char) *c < 0x20 || *c == 0x7f;
    if (len == 0 || len > CTL_PRODUCT_NAME_MAX)
        return s_fail (error, size, path, line, "name", "is %zu bytes, not 1 to %d", len,
                       CTL_PRODUCT_NAME_MAX);
    if (control || !txw_utf8_valid (f [S_NAME], len))
        return s_fail (error, size, path, line, "name", "%s",
                       "is not UTF-8 text without control characters");
    memcpy (row->name, f [S_NAME], len + 1);

    len = strlen (f [S_CATEGORY]);
    if (len == 0 || len > TXW_NAME_MAX)
        return s_fail (error, size, path, line, "category", "is %zu bytes, not 1 to %d", len,
                       TXW_NAME_MAX);
    for (size_t i = 0; i <= len; i++) {
        char c = f [S_CATEGORY] [i];
        row->category [i] = c >= 'A' && c <= 'Z'? (char) (c + 'a' - 'A'): c;
        if (c && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                   || c == '_'))
            return s_fail (error, size, path, line, "category", "'%.32s' has characters"
                           " outside [a-z0-9_]", f [S_CATEGORY]);
    }

    len = strlen (f [S_CURRENCY]);
    int exponent = len == 3? txw_currency_exponent (f [S_CURRENCY], 3): -1;
    if (exponent < 0)
        return s_fail (error, size, path, line, "currency", "'%.8s' is not an ISO 4217 code",
                       f [S_CURRENCY]);
    memcpy (row->currency, f [S_CURRENCY], 4);

    len = strlen (f [S_PRICE]);
    if (txw_parse_amount (f [S_PRICE], len, exponent, &row->price_minor))
        return s_fail (error, size, path, line, "price", "'%.32s' is not a decimal amount"
                       " with at most %d decimals (%s)", f [S_PRICE], exponent, row->currency);
    if (row->price_minor <= 0)
        return s_fail (error, size, path, line, "price", "'%.32s' is not above zero",
                       f [S_PRICE]);
    row->line = line;
    return 0;
}

static int
s_by_id (const void *a, const void *b)
{
    const ctl_product_t *x = a, *y = b;
    int c = strcmp (x->id, y->id);
    return c? c: x->line < y->line? -1: x->line > y->line;
}

int
ctl_products_read (const char *path, ctl_products_t *out, char *error, size_t size)
{
    memset (out, 0, sizeof *out);
    FILE *file = strcmp (path, "-") == 0? stdin: fopen (path, "r");
    if (!file) {
        snprintf (error, size, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    char *line = NULL;
    size_t capacity = 0, allocated = 0;
    uint64_t line_no = 0;
    int rc = 0;
    ssize_t n;
    while ((n = getline (&line, &capacity, file)) >= 0) {
        line_no++;
        while (n > 0 && (line [n - 1] == '\n' || line [n - 1] == '\r'))
            line [--n] = 0;
        if ((size_t) n != strlen (line)) {
            rc = s_fail (error, size, path, line_no, NULL, "%s", "holds a NUL byte");
            break;
        }
        char *text = line;
        if (line_no == 1 && memcmp (text, "\xEF\xBB\xBF", 3) == 0)
            text += 3;                  //  a UTF-8 byte order mark
        if (line_no > 1 && *text == 0)
            continue;                   //  a blank line, say at the end
        char *fields [S_COLUMNS];
        int count = s_split (text, fields, S_COLUMNS);
        if (count < 0) {
            rc = s_fail (error, size, path, line_no, NULL, "%s", "a quote is misplaced or"
                         " not closed on the line");
            break;
        }
        if (count != S_COLUMNS) {
            rc = s_fail (error, size, path, line_no, NULL, "has %d columns, expected %d (%s)",
                         count, S_COLUMNS, "product_id,name,category,price,currency");
            break;
        }
        for (int i = 0; i < S_COLUMNS; i++)
            fields [i] = s_trim (fields [i]);
        if (line_no == 1) {
            for (int i = 0; i < S_COLUMNS && !rc; i++)
                if (strcasecmp (fields [i], s_columns [i]))
                    rc = s_fail (error, size, path, line_no, NULL, "header column %d is '%.32s',"
                                 " expected '%s'", i + 1, fields [i], s_columns [i]);
            if (rc)
                break;
            continue;
        }
        if (out->count == allocated) {
            allocated = allocated? 2 * allocated: 1024;
            ctl_product_t *rows = realloc (out->rows, allocated * sizeof *rows);
            if (!rows) {
                rc = s_fail (error, size, path, line_no, NULL, "%s", "out of memory");
                break;
            }
            out->rows = rows;
        }
        if ((rc = s_row (fields, path, line_no, &out->rows [out->count], error, size)))
            break;
        out->count++;
    }
    if (!rc && ferror (file))
        rc = s_fail (error, size, path, line_no + 1, NULL, "cannot read: %s", strerror (errno));
    if (!rc && line_no == 0)
        rc = s_fail (error, size, path, 1, NULL, "%s", "the file is empty: a header row"
                     " product_id,name,category,price,currency is required");
    free (line);
    if (file != stdin)
        fclose (file);
    if (!rc) {
        //  One row per product: a second row of an id would silently win.
        qsort (out->rows, out->count, sizeof *out->rows, s_by_id);
        for (size_t i = 1; i < out->count && !rc; i++)
            if (!strcmp (out->rows [i].id, out->rows [i - 1].id))
                rc = s_fail (error, size, path, out->rows [i].line, "product_id", "'%s' is"
                             " given again (first on line %llu)", out->rows [i].id,
                             (unsigned long long) out->rows [i - 1].line);
    }
    if (rc)
        ctl_products_free (out);
    return rc;
}

void
ctl_products_free (ctl_products_t *self)
{
    free (self->rows);
    self->rows = NULL;
    self->count = 0;
}

//  Runs sql (no parameters) as ctl_db_query does.
static PGresult *
s_query (PGconn *conn, const char *sql)
{
    return ctl_db_query (conn, S_COMMAND, "014", sql, 0, NULL);
}

int
ctl_products_load (const char *database_url, const char *path, bool json)
{
    ctl_products_t products;
    char error [512];
    if (ctl_products_read (path, &products, error, sizeof error)) {
        fprintf (stderr, "txwctl " S_COMMAND ": %s; nothing loaded\n", error);
        return CTL_USAGE;
    }
    PGconn *conn = ctl_db_connect (S_COMMAND, database_url);
    if (!conn) {
        ctl_products_free (&products);
        return CTL_API_ERROR;
    }
    txw_copybuf_t buf;
    txw_copybuf_init (&buf);
    for (size_t i = 0; i < products.count; i++) {
        const ctl_product_t *p = &products.rows [i];
        txw_copybuf_str (&buf, p->id);
        txw_copybuf_str (&buf, p->name);
        txw_copybuf_str (&buf, p->category);
        txw_copybuf_int (&buf, p->price_minor);
        txw_copybuf_str (&buf, p->currency);
        txw_copybuf_end_row (&buf);
    }
    int rc = CTL_API_ERROR;
    PGresult *res = NULL, *done = NULL;
    char state [6] = "";
    if (!(res = s_query (conn, "BEGIN")))
        goto out;
    PQclear (res);
    if (!(res = s_query (conn, "CREATE TEMP TABLE products_load (product_id text, name text,"
                         " category text, price_minor bigint, currency text) ON COMMIT DROP")))
        goto out;
    PQclear (res);
    res = NULL;
    if (txw_pg_copy_try (conn, "COPY products_load FROM STDIN", &buf, state)) {
        fprintf (stderr, "txwctl " S_COMMAND ": PostgreSQL refused the rows (SQLSTATE %s): %s",
                 state, PQerrorMessage (conn));
        goto out;
    }
    //  xmax is 0 on a row this statement inserted; an update that changes
    //  nothing is skipped by its WHERE, so it returns no row at all.
    done = s_query (conn,
        "WITH written AS ("
        " INSERT INTO txw_data.products AS p (product_id, name, category, price_minor, currency)"
        " SELECT product_id, name, category, price_minor, currency FROM products_load"
        " ON CONFLICT (product_id) DO UPDATE SET name = excluded.name,"
        "  category = excluded.category, price_minor = excluded.price_minor,"
        "  currency = excluded.currency, updated_at = now ()"
        " WHERE (p.name, p.category, p.price_minor, p.currency)"
        "  IS DISTINCT FROM (excluded.name, excluded.category, excluded.price_minor,"
        "  excluded.currency)"
        " RETURNING xmax = 0 AS added)"
        " SELECT count (*) FILTER (WHERE added), count (*) FILTER (WHERE NOT added) FROM written");
    if (!done || !(res = s_query (conn, "COMMIT")))
        goto out;
    long long added = strtoll (PQgetvalue (done, 0, 0), NULL, 10);
    long long updated = strtoll (PQgetvalue (done, 0, 1), NULL, 10);
    long long unchanged = (long long) products.count - added - updated;
    if (json) {
        json_t *report = json_pack ("{s:s,s:I,s:I,s:I,s:I}", "file", path,
                                    "products", (json_int_t) products.count,
                                    "added", (json_int_t) added, "updated", (json_int_t) updated,
                                    "unchanged", (json_int_t) unchanged);
        char *text = report? json_dumps (report, JSON_COMPACT): NULL;
        printf ("%s\n", text? text: "{}");
        free (text);
        json_decref (report);
    }
    else
        printf ("loaded %zu products from %s: %lld added, %lld updated, %lld unchanged\n",
                products.count, path, added, updated, unchanged);
    fflush (stdout);
    rc = CTL_OK;
out:
    PQclear (res);
    PQclear (done);
    PQfinish (conn);            //  without COMMIT, nothing was written
    txw_copybuf_fini (&buf);
    ctl_products_free (&products);
    return rc;
}
