/*  severity - an alert's severity from its score and amount

    One rule, the same as txw_data.alert_severity in
    proto/sql/021_workflow.sql (tests compare the two):
      critical  score >= 90, or score >= 75 on 5,000.00 or more in the
                reporting currency (500,000 minor units)
      high      score >= 75
      medium    score >= 50
      low       below
    The notifier routes by it before an alert is stored; the database
    derives the stored column from the same rule.                           */

#ifndef TXW_SEVERITY_H
#define TXW_SEVERITY_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TXW_SEVERITY_LOW,
    TXW_SEVERITY_MEDIUM,
    TXW_SEVERITY_HIGH,
    TXW_SEVERITY_CRITICAL,
    TXW_SEVERITY_COUNT
} txw_severity_t;

//  The reporting-currency amount at or above which a high score is critical.
#define TXW_SEVERITY_LARGE_REP_MINOR 500000

//  amount_rep_minor < 0 means unknown (treated as 0).
txw_severity_t txw_severity (int score, int64_t amount_rep_minor);

//  "low", "medium", "high", "critical".
const char *txw_severity_name (txw_severity_t severity);

//  Parses a name; returns false if it is none of them.
bool txw_severity_parse (const char *name, txw_severity_t *out);

#endif
