/*  summary - the read model: totals of windows and the summaries made of them

    The query API answers from the window rows stored in PostgreSQL, the
    push gateway from the windows it holds live; both must give the same
    numbers for the same windows. Each fills txw_totals_t its own way (SQL
    sums, or adding its windows) and builds every summary here: realtime
    stats, a top-list item, a branch's performance and a region's health,
    with one rounding and one health rule. The health rule is also the
    aggregator's: a region is unhealthy when its declined-plus-failed share
    is above the threshold with 95% confidence (the lower Wilson bound), so
    the dashboard, the API and the alert agree.                               */

#ifndef TXW_SUMMARY_H
#define TXW_SUMMARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t count;              //  transactions
    int64_t volume;             //  amounts, reporting-currency minor units
    int64_t approved, declined, failed;
    int64_t flagged;            //  scored at or above the alert threshold
    int64_t score_sum;
    int64_t late;
} txw_totals_t;

//  acc += t.
void txw_totals_add (txw_totals_t *acc, const txw_totals_t *t);

//  x rounded to digits decimals.
double txw_round (double x, int digits);

//  num / den rounded to 4 decimals, or null when den is 0.
json_t *txw_rate_json (int64_t num, int64_t den);

//  The lower end of the 95% Wilson score interval of bad / n (0 for n 0).
double txw_wilson_lower (int64_t bad, int64_t n);

//  The health rule: declined plus failed above threshold (a fraction) with
//  95% confidence.
bool txw_region_unhealthy (const txw_totals_t *t, double threshold);

//  Realtime stats over the minutes before now_ms. first_start_ms is the
//  start of the earliest window counted (INT64_MAX for none): the rate per
//  second is over the time since then, at most the period, at least 1 s.
json_t *txw_summary_realtime (const txw_totals_t *t, int64_t now_ms, int64_t minutes,
                              int64_t first_start_ms, const char *currency,
                              int currency_exponent);

//  One item of a top list: the period's totals and the period before's.
json_t *txw_summary_top_item (const char *key, const txw_totals_t *now,
                              const txw_totals_t *before);

//  One branch's performance over the period.
json_t *txw_summary_branch (const char *branch_id, const txw_totals_t *t);

//  One region's health over the period; takes alerts (its region_health
//  alerts of the period, an array), healthy unless an open one is among
//  them or the rule says so.
json_t *txw_summary_region (const char *region, const txw_totals_t *t, json_t *alerts,
                            bool open_alert, double threshold);

#endif
