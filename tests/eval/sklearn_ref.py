#!/usr/bin/python3
"""sklearn_ref.py - scikit-learn's IsolationForest on txwatch's own features

Usage: sklearn_ref.py TRAIN_FEATURES.csv TEST_FEATURES.csv > scores.tsv

Both files are what txw-scorer writes with --features-out (tx_id,
model_score, then one column per feature). The reference model is fitted on
the training features with the same settings as txwatch's forest (100 trees,
256 samples a tree) and scores the test features; a higher printed score is
more anomalous (the negated score_samples). Runs under Debian's python3,
where python3-sklearn lives. Prints its own timing to stderr.
"""
import csv
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    ids = [r[0] for r in rows]
    x = np.array([[float(v) for v in r[2:]] for r in rows], dtype=np.float32)
    return header[2:], ids, x


def main():
    names, _, train = read(sys.argv[1])
    names_test, ids, test = read(sys.argv[2])
    if names != names_test:
        sys.exit("feature columns differ between the two files")
    model = IsolationForest(n_estimators=100, max_samples=256, random_state=1)
    t0 = time.perf_counter()
    model.fit(train)
    t1 = time.perf_counter()
    scores = -model.score_samples(test)
    t2 = time.perf_counter()
    print(f"scikit-learn: fitted {len(train)} rows in {t1 - t0:.2f} s, scored {len(test)} rows"
          f" in {t2 - t1:.2f} s = {len(test) / (t2 - t1):,.0f} rows/s", file=sys.stderr)
    out = sys.stdout
    for tx_id, s in zip(ids, scores):
        out.write(f"{tx_id}\t{s:.6f}\n")


if __name__ == "__main__":
    main()
