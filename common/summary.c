/*  summary - the read model: totals of windows and the summaries made of them  */

#include "summary.h"
#include "json.h"

#include <math.h>

void
txw_totals_add (txw_totals_t *acc, const txw_totals_t *t)
{
    acc->count += t->count;
    acc->volume += t->volume;
    acc->approved += t->approved;
    acc->declined += t->declined;
    acc->failed += t->failed;
    acc->flagged += t->flagged;
    acc->score_sum += t->score_sum;
    acc->late += t->late;
}

double
txw_round (double x, int digits)
{
    double scale = pow (10, digits);
    return round (x * scale) / scale;
}

json_t *
txw_rate_json (int64_t num, int64_t den)
{
    return den > 0? json_real (txw_round ((double) num / (double) den, 4)): json_null ();
}

double
txw_wilson_lower (int64_t bad, int64_t n)
{
    if (n <= 0)
        return 0;
    const double z = 1.959964, z2 = z * z;
    double p = (double) bad / (double) n;
    double centre = p + z2 / (2.0 * n);
    double margin = z * sqrt (p * (1 - p) / n + z2 / (4.0 * n * n));
    return (centre - margin) / (1 + z2 / n);
}

bool
txw_region_unhealthy (const txw_totals_t *t, double threshold)
{
    return t->count > 0 && txw_wilson_lower (t->declined + t->failed, t->count) > threshold;
}

json_t *
txw_summary_realtime (const txw_totals_t *t, int64_t now_ms, int64_t minutes,
                      int64_t first_start_ms, const char *currency, int currency_exponent)
{
    double seconds = minutes * 60.0;
    if (first_start_ms != INT64_MAX) {
        double since_first = (double) (now_ms - first_start_ms) / 1000.0;
        if (since_first < seconds)
            seconds = since_first;
    }
    if (seconds < 1.0)
        seconds = 1.0;          //  a window just opened is not a spike
    return json_pack ("{s:I,s:o,s:o,s:I,s:I,s:s,s:i,s:f,s:o,s:o,s:o,s:I,s:o,s:o}",
        "minutes", (json_int_t) minutes, "from", txw_json_time (now_ms - minutes * 60000),
        "to", txw_json_time (now_ms),
        "count", (json_int_t) t->count, "volume_minor", (json_int_t) t->volume,
        "currency", currency, "currency_exponent", currency_exponent,
        "tx_per_s", txw_round ((double) t->count / seconds, 2),
        "approval_rate", txw_rate_json (t->approved, t->count),
        "decline_rate", txw_rate_json (t->declined, t->count),
        "failure_rate", txw_rate_json (t->failed, t->count),
        "flagged", (json_int_t) t->flagged,
        "flagged_rate", txw_rate_json (t->flagged, t->count),
        "mean_score", t->count? json_real (txw_round ((double) t->score_sum / (double) t->count, 2)):
                                json_null ());
}

json_t *
txw_summary_top_item (const char *key, const txw_totals_t *now, const txw_totals_t *before)
{
    json_t *change = before->count?
        json_real (txw_round ((double) (now->count - before->count) / (double) before->count, 4)):
        json_null ();
    return json_pack ("{s:o,s:I,s:I,s:I,s:o,s:I,s:o}",
        "key", txw_json_string (key), "count", (json_int_t) now->count,
        "volume_minor", (json_int_t) now->volume, "flagged", (json_int_t) now->flagged,
        "approval_rate", txw_rate_json (now->approved, now->count),
        "previous_count", (json_int_t) before->count, "change", change);
}

json_t *
txw_summary_branch (const char *branch_id, const txw_totals_t *t)
{
    return json_pack ("{s:o,s:I,s:I,s:o,s:o,s:I,s:o}",
        "branch_id", txw_json_string (branch_id), "count", (json_int_t) t->count,
        "volume_minor", (json_int_t) t->volume,
        "approval_rate", txw_rate_json (t->approved, t->count),
        "decline_rate", txw_rate_json (t->declined, t->count),
        "flagged", (json_int_t) t->flagged,
        "flagged_rate", txw_rate_json (t->flagged, t->count));
}

json_t *
txw_summary_region (const char *region, const txw_totals_t *t, json_t *alerts,
                    bool open_alert, double threshold)
{
    return json_pack ("{s:o,s:I,s:o,s:o,s:o,s:b,s:o}",
        "region", txw_json_string (region), "count", (json_int_t) t->count,
        "success_rate", txw_rate_json (t->approved, t->count),
        "decline_rate", txw_rate_json (t->declined, t->count),
        "failure_rate", txw_rate_json (t->failed, t->count),
        "healthy", !(open_alert || txw_region_unhealthy (t, threshold)), "alerts", alerts);
}
