/*  test_dimensions - the dimension table, its keys, and the copies in the
    OpenAPI document that must list the same names                            */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dimensions.h"

static void
test_names_and_keys (void **state)
{
    (void) state;
    assert_string_equal (txw_dimension_names [TXW_DIM_OVERALL], "overall");
    assert_null (txw_dimension_names [TXW_DIM_COUNT]);
    for (int dim = 0; dim < TXW_DIM_COUNT; dim++)
        assert_int_equal (txw_dimension_parse (txw_dimension_names [dim]), dim);
    assert_int_equal (txw_dimension_parse ("Region"), -1);
    assert_int_equal (txw_dimension_parse (""), -1);

    txw_tx_t tx = { .channel = TXW_CHANNEL_ONLINE };
    strcpy (tx.region, "R3");
    strcpy (tx.branch_id, "B012");
    strcpy (tx.merchant_id, "m-1");
    strcpy (tx.category, "grocery");
    assert_string_equal (txw_dimension_key (TXW_DIM_OVERALL, &tx), "all");
    assert_string_equal (txw_dimension_key (TXW_DIM_REGION, &tx), "R3");
    assert_string_equal (txw_dimension_key (TXW_DIM_BRANCH, &tx), "B012");
    assert_string_equal (txw_dimension_key (TXW_DIM_MERCHANT, &tx), "m-1");
    assert_string_equal (txw_dimension_key (TXW_DIM_CATEGORY, &tx), "grocery");
    assert_string_equal (txw_dimension_key (TXW_DIM_CHANNEL, &tx), "online");
    //  A transaction without a device type counts under "unknown".
    assert_string_equal (txw_dimension_key (TXW_DIM_DEVICE, &tx), "unknown");
    strcpy (tx.device_type, "ios");
    assert_string_equal (txw_dimension_key (TXW_DIM_DEVICE, &tx), "ios");

    //  The list for messages: every name, or those from a dimension on.
    char expect [256] = "";
    for (int dim = 0; dim < TXW_DIM_COUNT; dim++)
        snprintf (expect + strlen (expect), sizeof expect - strlen (expect), "%s%s",
                  dim? ", ": "", txw_dimension_names [dim]);
    assert_string_equal (txw_dimension_list (0), expect);
    assert_string_equal (txw_dimension_list (1), expect + strlen ("overall, "));
    assert_string_equal (txw_dimension_list (TXW_DIM_COUNT), "");
}

//  Every enum of dimension names in proto/openapi.yaml (the one with
//  overall, for series, and those without, for top lists) equals the table.
static void
test_openapi_lists_the_same_dimensions (void **state)
{
    (void) state;
    FILE *file = fopen ("proto/openapi.yaml", "r");
    assert_non_null (file);
    char all [256] = "[", top [256] = "[";
    for (int dim = 0; dim < TXW_DIM_COUNT; dim++) {
        snprintf (all + strlen (all), sizeof all - strlen (all), "%s%s",
                  dim? ", ": "", txw_dimension_names [dim]);
        if (dim > TXW_DIM_OVERALL)
            snprintf (top + strlen (top), sizeof top - strlen (top), "%s%s",
                      dim > 1? ", ": "", txw_dimension_names [dim]);
    }
    strcat (all, "]");
    strcat (top, "]");
    char line [1024];
    int with_overall = 0, without = 0;
    while (fgets (line, sizeof line, file)) {
        char *list = strstr (line, "enum: [");
        //  A dimension enum is one that names the region dimension.
        if (!list || !strstr (list, "region,"))
            continue;
        list += strlen ("enum: ");
        char *end = strchr (list, ']');
        assert_non_null (end);
        end [1] = 0;
        if (strncmp (list, "[overall", 8) == 0) {
            assert_string_equal (list, all);
            with_overall++;
        }
        else {
            assert_string_equal (list, top);
            without++;
        }
    }
    fclose (file);
    assert_true (with_overall >= 1);
    assert_true (without >= 2);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_names_and_keys),
        cmocka_unit_test (test_openapi_lists_the_same_dimensions),
    };
    return cmocka_run_group_tests_name ("dimensions", tests, NULL, NULL);
}
