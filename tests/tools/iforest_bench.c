/*  iforest_bench - how fast the scorer's Isolation Forest scores, one core

    Trains a forest (200 trees, psi 256 by default) on 100,000 synthetic
    rows of 12 features, then scores 10,000,000 other rows single-threaded,
    row by row (iforest_score) and in batches (iforest_score_batch), and
    prints scores per second of wall time and of thread CPU time (the
    second is steadier on a shared machine). It also checks that both paths
    give the same scores, and that a planted anomaly outscores the rest.

    The Makefile links tools with libtxw.a only, not the scorer's modules,
    so this file includes the module's sources: acceptable for a bench tool,
    and it measures exactly the code the scorer runs.

    Usage: txw-iforest_bench [SCORE_ROWS [TREES [PSI]]]
           txw-iforest_bench --files FEATURES TRAIN TEST OUT [TREES [PSI [SEED]]]
    The second form is for tests/tools/iforest_vs_sklearn.py: it trains on
    TRAIN and scores TEST (raw little-endian float32 rows of FEATURES),
    writing one float64 score a row to OUT.                                 */

#include "../../services/scorer/iforest.c"
#include "../../services/scorer/iforest_train.c"
#include "../../services/scorer/iforest_score.c"
#include "../../services/scorer/iforest_file.c"

#include <inttypes.h>
#include <time.h>

#define S_FEATURES      12
#define S_TRAIN_ROWS    100000

static uint64_t s_state = 42;

static double
s_gauss (void)
{
    double u = ((double) (s_next (&s_state) >> 11) + 0.5) * 0x1.0p-53;
    double v = (double) (s_next (&s_state) >> 11) * 0x1.0p-53;
    return sqrt (-2 * log (u)) * cos (2 * M_PI * v);
}

//  Rows from two correlated clusters, 1 in 1000 of them far from both.
static void
s_rows (float *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float *row = rows + i * S_FEATURES;
        double centre = (i % 3 == 0)? 3: -1, common = s_gauss ();
        bool odd = s_next (&s_state) % 1000 == 0;
        for (int f = 0; f < S_FEATURES; f++)
            row [f] = (float) (centre + 0.6 * common + 0.8 * s_gauss () + (odd && f < 3? 7: 0));
    }
}

static double
s_seconds (clockid_t clock)
{
    struct timespec ts;
    clock_gettime (clock, &ts);
    return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
s_report (const char *what, size_t n, double wall, double cpu)
{
    printf ("%-20s %10zu rows  %7.3f s wall  %7.3f s cpu  %12.0f /s wall  %12.0f /s cpu\n",
            what, n, wall, cpu, n / wall, n / cpu);
}

//  Reads a raw float32 file of rows of `features`; NULL on error.
static float *
s_read_rows (const char *path, int features, size_t *n)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    rewind (file);
    float *rows = size > 0? malloc ((size_t) size): NULL;
    *n = size > 0? (size_t) size / (sizeof (float) * features): 0;
    if (rows && fread (rows, sizeof (float) * features, *n, file) != *n) {
        free (rows);
        rows = NULL;
    }
    fclose (file);
    return rows;
}

static int
s_files (int argc, char **argv)
{
    int features = atoi (argv [2]);
    iforest_params_t params = {
        .trees = argc > 6? atoi (argv [6]): 200,
        .sample_size = argc > 7? atoi (argv [7]): 256,
        .seed = argc > 8? strtoull (argv [8], NULL, 10): 1
    };
    size_t n_train = 0, n_test = 0;
    float *train = features > 0? s_read_rows (argv [3], features, &n_train): NULL;
    float *test = features > 0? s_read_rows (argv [4], features, &n_test): NULL;
    char err [256] = "cannot read the rows";
    iforest_t *forest = train && test
        ? iforest_train (train, n_train, features, &params, err, sizeof err): NULL;
    double *scores = malloc ((n_test + 1) * sizeof *scores);
    FILE *out = fopen (argv [5], "wb");
    int rc = 1;
    if (forest && scores && out) {
        iforest_score_batch (forest, test, n_test, scores);
        rc = fwrite (scores, sizeof *scores, n_test, out) == n_test? 0: 1;
    }
    else
        fprintf (stderr, "iforest_bench: %s\n", forest? "cannot write the scores": err);
    if (out && fclose (out))
        rc = 1;
    iforest_destroy (&forest);
    free (train);
    free (test);
    free (scores);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv [1], "--files") == 0)
        return argc >= 6? s_files (argc, argv): 2;
    size_t n = argc > 1? strtoull (argv [1], NULL, 10): 10000000;
    iforest_params_t params = {
        .trees = argc > 2? atoi (argv [2]): 200,
        .sample_size = argc > 3? atoi (argv [3]): 256,
        .seed = 7
    };
    float *train = malloc ((size_t) S_TRAIN_ROWS * S_FEATURES * sizeof *train);
    float *rows = malloc (n * S_FEATURES * sizeof *rows);
    double *batch = malloc (n * sizeof *batch);
    if (!train || !rows || !batch || n == 0) {
        fprintf (stderr, "iforest_bench: out of memory or no rows\n");
        return 1;
    }
    s_rows (train, S_TRAIN_ROWS);
    s_rows (rows, n);

    char err [256];
    double wall = s_seconds (CLOCK_MONOTONIC);
    iforest_t *forest = iforest_train (train, S_TRAIN_ROWS, S_FEATURES, &params, err, sizeof err);
    if (!forest) {
        fprintf (stderr, "iforest_bench: %s\n", err);
        return 1;
    }
    printf ("trained %d trees, psi %d, %zu nodes, %d steps a walk, in %.3f s\n",
            iforest_trees (forest), iforest_sample_size (forest), forest->node_count,
            forest->steps, s_seconds (CLOCK_MONOTONIC) - wall);

    double sum = 0;
    size_t mismatches = 0;
    wall = s_seconds (CLOCK_MONOTONIC);
    double cpu = s_seconds (CLOCK_THREAD_CPUTIME_ID);
    iforest_score_batch (forest, rows, n, batch);
    s_report ("iforest_score_batch", n, s_seconds (CLOCK_MONOTONIC) - wall,
              s_seconds (CLOCK_THREAD_CPUTIME_ID) - cpu);

    wall = s_seconds (CLOCK_MONOTONIC);
    cpu = s_seconds (CLOCK_THREAD_CPUTIME_ID);
    for (size_t i = 0; i < n; i++) {
        double score = iforest_score (forest, rows + i * S_FEATURES);
        mismatches += score != batch [i];
        sum += score;
    }
    s_report ("iforest_score", n, s_seconds (CLOCK_MONOTONIC) - wall,
              s_seconds (CLOCK_THREAD_CPUTIME_ID) - cpu);

    float outlier [S_FEATURES], inlier [S_FEATURES] = { 0 };
    for (int f = 0; f < S_FEATURES; f++)
        outlier [f] = 12;
    printf ("mean score %.4f, batch != single: %zu, outlier %.4f, centre %.4f\n",
            sum / n, mismatches, iforest_score (forest, outlier), iforest_score (forest, inlier));
    iforest_destroy (&forest);
    free (train);
    free (rows);
    free (batch);
    return mismatches? 1: 0;
}
