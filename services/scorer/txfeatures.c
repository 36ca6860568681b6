/*  txfeatures - the anomaly model's view of a transaction                     */

#include "txfeatures.h"

#include <math.h>

static const char *s_names [] = {
#define S_NAME(NAME, name) name,
    FEATURES (S_NAME)
#undef S_NAME
};

const char *
features_name (int feature)
{
    return feature >= 0 && feature < FEATURE_COUNT? s_names [feature]: NULL;
}

void
features_csv_header (FILE *out)
{
    fprintf (out, "tx_id,model_score");
    for (int f = 0; f < FEATURE_COUNT; f++)
        fprintf (out, ",%s", s_names [f]);
    fputc ('\n', out);
}

void
features_csv_row (FILE *out, const char *tx_id, double model_score, const float *x)
{
    fprintf (out, "%s,%.6f", tx_id, model_score);
    for (int f = 0; f < FEATURE_COUNT; f++)
        fprintf (out, ",%.6g", x [f]);
    fputc ('\n', out);
}

static float
s_clip (double x, double limit)
{
    return (float) (x > limit? limit: x < -limit? -limit: x);
}

void
features_from_signals (const rules_signals_t *signals, float *out)
{
    const double *v = signals->v;
    bool history = v [RULES_SIG_HISTORY] > 0;
    out [FEATURE_LOG_AMOUNT] = (float) v [RULES_SIG_LOG_AMOUNT];
    out [FEATURE_AMOUNT_Z] = history? s_clip (v [RULES_SIG_AMOUNT_Z], 8): 0;
    out [FEATURE_LOG_AMOUNT_RATIO] = history && v [RULES_SIG_AMOUNT_RATIO] > 0
                                   ? s_clip (log (v [RULES_SIG_AMOUNT_RATIO]), 8): 0;
    out [FEATURE_HOUR] = (float) v [RULES_SIG_HOUR];
    out [FEATURE_WEEKDAY] = (float) v [RULES_SIG_WEEKDAY];
    out [FEATURE_TX_MINUTE] = s_clip (v [RULES_SIG_TX_MINUTE], 1000);
    out [FEATURE_TX_HOUR] = s_clip (v [RULES_SIG_TX_HOUR], 10000);
    out [FEATURE_LOG_SINCE_PREV] = history? (float) log1p (v [RULES_SIG_SINCE_PREV_S]): 20;
    out [FEATURE_NEW_COUNTRY] = (float) v [RULES_SIG_NEW_COUNTRY];
    out [FEATURE_NEW_DEVICE] = (float) v [RULES_SIG_NEW_DEVICE];
    out [FEATURE_COUNTRY_CHANGED] = (float) v [RULES_SIG_COUNTRY_CHANGED];
    out [FEATURE_CATEGORY_RISK] = (float) v [RULES_SIG_CATEGORY_RISK];
    out [FEATURE_BRANCH_AWAY] = (float) v [RULES_SIG_BRANCH_AWAY];
    out [FEATURE_REGION_AWAY] = (float) v [RULES_SIG_REGION_AWAY];
    out [FEATURE_SMALL_ONLINE_MINUTE] = s_clip (v [RULES_SIG_SMALL_ONLINE_MINUTE], 1000);
    out [FEATURE_LOG_HISTORY] = (float) log1p (v [RULES_SIG_HISTORY]);
}
