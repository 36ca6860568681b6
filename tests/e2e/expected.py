#!/usr/bin/env python3
"""expected.py - what the pipeline must store, computed from the generator's CSV

Reads the labelled CSV that `txw-producer --csv-out` writes and the rates
file given to the validator, and prints, independently of the C code:
  windows  TSV: dimension, key, window_start_ms, tx_count, amount_minor_sum,
           approved, declined, failed, late
  rejects  TSV: tx_id, reason   (rows labelled invalid:<reason>)
  accounts TSV: account_id, tx_count, spend_rep_minor, lifetime_value_rep_minor
           (approved spend), approved, declined, failed
  summary  key=value lines
Amounts are converted exactly as ARCHITECTURE.md says: integer minor units, rate in
billionths, rounded half away from zero.
"""
import csv, sys
from collections import defaultdict
from datetime import datetime, timezone

EXP = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "KWD": 3, "BHD": 3, "JOD": 3,
       "OMR": 3, "TND": 3, "IQD": 3, "LYD": 3}

def exponent(cur): return EXP.get(cur, 2)

def rates_from(path, reporting="EUR"):
    rates = {}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("currency"):
            continue
        cur, rate = line.split(",")[:2]
        whole, _, frac = rate.strip().partition(".")
        frac = (frac + "000000000")[:9]
        rates[cur] = int(whole) * 10**9 + int(frac)
    rates.setdefault(reporting, 10**9)
    return rates

def to_minor(amount, exp):
    whole, _, frac = amount.partition(".")
    frac = frac.rstrip("0") if len(frac) > exp else frac
    return int(whole) * 10**exp + int((frac + "0" * exp)[:exp] or 0)

def convert(minor, cur, rates, rep_exp=2):
    num = minor * rates[cur] * 10**rep_exp
    den = 10**9 * 10**exponent(cur)
    return (num + den // 2) // den

def ts_ms(text):
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(dt.timestamp() * 1000)

def main(csv_path, rates_path, window_ms=60000, lateness_ms=5000, out=sys.stdout):
    rates = rates_from(rates_path)
    windows = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    accounts = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    rejects = []
    max_ts = None
    valid = fraud = late_rows = 0
    patterns = defaultdict(int)
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            injected = row.get("injected", "")
            if injected.startswith("invalid:"):
                rejects.append((row["tx_id"], injected.split(":", 1)[1]))
                continue
            valid += 1
            if row.get("is_fraud") in ("1", "true"):
                fraud += 1
                patterns[row.get("fraud_pattern", "")] += 1
            t = ts_ms(row["ts"])
            start = t - t % window_ms
            late = max_ts is not None and start + window_ms <= max_ts - lateness_ms
            late_rows += late
            max_ts = t if max_ts is None else max(max_ts, t)
            cur = row["currency"].upper()
            rep = convert(to_minor(row["amount"], exponent(cur)), cur, rates)
            keys = {"overall": "all", "region": row["region"], "branch": row["branch_id"],
                    "merchant": row["merchant_id"], "category": row["category"].lower(),
                    "channel": row["channel"].lower(),
                    "device": (row.get("device_type") or "").strip().lower() or "unknown"}
            status = row["status"].lower()
            a = accounts[row["account_id"]]
            a[0] += 1
            a[1] += rep
            a[2] += rep if status == "approved" else 0
            a[3] += status == "approved"
            a[4] += status == "declined"
            a[5] += status == "failed"
            for dim, key in keys.items():
                w = windows[(dim, key, start)]
                w[0] += 1
                w[1] += rep
                w[2] += status == "approved"
                w[3] += status == "declined"
                w[4] += status == "failed"
                w[5] += late
    return windows, rejects, accounts, dict(valid=valid, fraud=fraud, late=late_rows,
                                            invalid=len(rejects), patterns=dict(patterns))

if __name__ == "__main__":
    what, csv_path, rates_path = sys.argv[1:4]
    windows, rejects, accounts, summary = main(csv_path, rates_path)
    if what == "windows":
        for (dim, key, start), v in sorted(windows.items()):
            print("\t".join([dim, key, str(start)] + [str(x) for x in v]))
    elif what == "accounts":
        for account, v in sorted(accounts.items()):
            print("\t".join([account] + [str(x) for x in v]))
    elif what == "rejects":
        for tx_id, reason in sorted(rejects):
            print(f"{tx_id}\t{reason}")
    else:
        for k, v in summary.items():
            print(f"{k}={v}")
