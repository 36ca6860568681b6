/*  dimensions - the window dimensions, one table for every service         */

#include "dimensions.h"

#include <string.h>

const char *const txw_dimension_names [TXW_DIM_COUNT + 1] = {
#define S_NAME(NAME, name, key) name,
    TXW_DIMENSIONS (S_NAME)
#undef S_NAME
    NULL
};

//  ", overall, region, ...": txw_dimension_list skips to a name in it.
static const char s_list [] = ""
#define S_ITEM(NAME, name, key) ", " name
    TXW_DIMENSIONS (S_ITEM)
#undef S_ITEM
    ;

int
txw_dimension_parse (const char *name)
{
    for (int dim = 0; dim < TXW_DIM_COUNT; dim++)
        if (strcmp (txw_dimension_names [dim], name) == 0)
            return dim;
    return -1;
}

const char *
txw_dimension_key (int dim, const txw_tx_t *tx)
{
    switch (dim) {
#define S_KEY(NAME, name, key) case TXW_DIM_##NAME: return key;
        TXW_DIMENSIONS (S_KEY)
#undef S_KEY
    }
    return "";
}

const char *
txw_dimension_list (int first)
{
    const char *p = s_list;
    for (int dim = 0; dim < first && dim < TXW_DIM_COUNT; dim++)
        p += 2 + strlen (txw_dimension_names [dim]);
    return *p? p + 2: p;
}
