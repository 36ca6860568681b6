/*  test_scorer_gbdt - the supervised model's evaluator against its format

    gbdt_margin walks the trees in one of two laid-out forms (the dense
    one for models at most 8 deep, the general one for deeper models and
    rows with a NaN); both must give, bit for bit, the margin of the walk
    the file format defines (gbdt.h): from the root, left when x < value,
    a NaN to the split's default side, the leaves summed in single
    precision from the base margin, tree by tree. The trees are random,
    of uneven shapes (leaves at every level), and the rows hit thresholds
    exactly, go to either infinity and have NaNs. test_train_supervised
    checks the same evaluator against XGBoost's own predictions.          */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gbdt.h"
#include "rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_FEATURES      12
#define S_ROWS          2000

static uint64_t s_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
s_rand (void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return (uint32_t) (s_state >> 32);
}

//  Values from a few, so that rows often equal a threshold.
static float
s_value (void)
{
    static const float values [] = { -2.5f, -1, 0, 0.25f, 1, 1.5f, 3, 100 };
    return values [s_rand () % 8] + (s_rand () % 4 == 0? 0.125f: 0);
}

//  A random tree at most depth deep into nodes, laid out as the file's
//  (breadth first, right child after left). Returns the node count.
static uint32_t
s_tree (gbdt_node_t *nodes, int depth)
{
    uint8_t level [1024] = { 0 };
    uint32_t count = 1;
    for (uint32_t i = 0; i < count; i++) {
        float value = s_value ();
        if (level [i] == depth || (i && s_rand () % 4 == 0)) {
            nodes [i] = (gbdt_node_t) { GBDT_LEAF, value, value };
            continue;
        }
        uint32_t feature = s_rand () % S_FEATURES, default_left = s_rand () % 2;
        nodes [i] = (gbdt_node_t) { feature | default_left << 8 | count << 9, value, 0.5f };
        level [count] = level [count + 1] = (uint8_t) (level [i] + 1);
        count += 2;
    }
    return count;
}

//  The margin as gbdt.h defines it.
static float
s_reference (const gbdt_node_t *const *trees, int count, float base, const float *x)
{
    float sum = base;
    for (int t = 0; t < count; t++) {
        const gbdt_node_t *tree = trees [t];
        uint32_t at = 0;
        while ((tree [at].word & 0xff) != GBDT_LEAF) {
            float v = x [tree [at].word & 0xff];
            bool left = isnan (v)? (tree [at].word >> 8 & 1): v < tree [at].value;
            at = (tree [at].word >> 9) + !left;
        }
        sum += tree [at].value;
    }
    return sum;
}

static void
s_check_model (int count, int depth)
{
    static gbdt_node_t storage [64][1024];
    const gbdt_node_t *trees [64];
    uint32_t counts [64];
    const char *names [S_FEATURES];
    for (int f = 0; f < S_FEATURES; f++)
        names [f] = rules_signal_name (f);
    for (int t = 0; t < count; t++) {
        counts [t] = s_tree (storage [t], depth);
        trees [t] = storage [t];
    }
    char err [256];
    gbdt_t *model = gbdt_new ("gb-test", S_FEATURES, names, 0.1f, count, trees, counts,
                              err, sizeof err);
    assert_non_null (model);
    for (int r = 0; r < S_ROWS; r++) {
        float x [S_FEATURES];
        for (int f = 0; f < S_FEATURES; f++) {
            uint32_t pick = s_rand () % 64;
            x [f] = pick == 0? INFINITY: pick == 1? -INFINITY: s_value ();
            //  A NaN in a tenth of the rows.
            if (r % 10 == 0 && pick < 8)
                x [f] = NAN;
        }
        double margin = gbdt_margin (model, x);
        float expected = s_reference (trees, count, 0.1f, x);
        if (margin != (double) expected)
            fail_msg ("%d trees of depth %d, row %d: %.9g, not %.9g", count, depth, r,
                      margin, (double) expected);
    }
    gbdt_destroy (&model);
}

static void
test_margins_are_the_formats_bit_for_bit (void **state)
{
    (void) state;
    //  Tree counts on and off the walk's groups of 8; depths of the dense
    //  form (0: a leaf each) and of the general one (9).
    static const int counts [] = { 1, 7, 8, 13, 60, 64 };
    for (size_t c = 0; c < sizeof counts / sizeof counts [0]; c++)
        for (int depth = 0; depth <= 9; depth++)
            s_check_model (counts [c], depth);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_margins_are_the_formats_bit_for_bit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
