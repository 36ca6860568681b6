#!/usr/bin/python3
"""iforest_vs_sklearn - AUC of the scorer's Isolation Forest beside scikit-learn's

Informative only, not a test: both forests (200 trees, psi 256) are trained
without labels on the same synthetic rows with planted anomalies, and score
a separate test set; the area under the ROC curve of each is printed for
several data sets and seeds. The C forest runs through
build/tools/txw-iforest_bench --files.

Needs Debian's python3-sklearn (apt-get install -y python3-sklearn) and
/usr/bin/python3, which sees Debian's packages.

Usage: /usr/bin/python3 tests/tools/iforest_vs_sklearn.py [SEEDS]
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "build", "tools", "txw-iforest_bench")


def gaussian_box(rng, n, rate):
    """6-D standard normal; anomalies uniform in a box 4 sd wide around 4 sd."""
    x = rng.standard_normal((n, 6))
    y = rng.random(n) < rate
    x[y] = 4 + 4 * (rng.random((y.sum(), 6)) - 0.5)
    return x, y


def clusters(rng, n, rate):
    """12-D, two correlated clusters; anomalies shifted +3 on three features."""
    centre = np.where(rng.random(n) < 1 / 3, 3.0, -1.0)[:, None]
    x = centre + 0.6 * rng.standard_normal((n, 1)) + 0.8 * rng.standard_normal((n, 12))
    y = rng.random(n) < rate
    x[y, :3] += 3
    return x, y


def subtle(rng, n, rate):
    """8-D with mixed scales and skew; anomalies one 2.5 sd shift in a random feature."""
    scale = np.array([1, 10, 0.1, 100, 1, 5, 0.5, 2.0])
    x = rng.standard_normal((n, 8))
    x[:, 0] = rng.lognormal(0, 1, n)
    y = rng.random(n) < rate
    rows = np.flatnonzero(y)
    x[rows, rng.integers(1, 8, rows.size)] += 2.5 * rng.choice([-1, 1], rows.size)
    return x * scale, y


def binary_mix(rng, n, rate):
    """10-D: six continuous, four 0/1 flags; anomalies have rare flag combinations."""
    x = np.hstack([rng.standard_normal((n, 6)), (rng.random((n, 4)) < 0.05).astype(float)])
    y = rng.random(n) < rate
    x[y, 6:] = 1
    x[y, :2] += 1.5
    return x, y


DATA_SETS = [("gaussian_box", gaussian_box), ("clusters", clusters),
             ("subtle", subtle), ("binary_mix", binary_mix)]


def c_forest_scores(train, test, seed, work):
    paths = [os.path.join(work, name) for name in ("train.f32", "test.f32", "out.f64")]
    train.astype("<f4").tofile(paths[0])
    test.astype("<f4").tofile(paths[1])
    subprocess.run([BENCH, "--files", str(train.shape[1]), *paths, "200", "256", str(seed)],
                   check=True)
    return np.fromfile(paths[2], dtype="<f8")


def main():
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if not os.access(BENCH, os.X_OK):
        sys.exit("build the tool first: make build/tools/txw-iforest_bench")
    print(f"{'data set':14} {'seed':>4} {'txwatch AUC':>12} {'sklearn AUC':>12}")
    wins = ties = total = 0
    with tempfile.TemporaryDirectory() as work:
        for name, make in DATA_SETS:
            ours, theirs = [], []
            for seed in range(seeds):
                rng = np.random.default_rng(1000 + seed)
                train, _ = make(rng, 20000, 0.01)
                test, labels = make(rng, 20000, 0.01)
                c_auc = roc_auc_score(labels, c_forest_scores(train, test, seed + 1, work))
                forest = IsolationForest(n_estimators=200, max_samples=256, random_state=seed)
                forest.fit(train)
                sk_auc = roc_auc_score(labels, -forest.score_samples(test))
                ours.append(c_auc)
                theirs.append(sk_auc)
                wins += c_auc > sk_auc
                ties += c_auc == sk_auc
                total += 1
                print(f"{name:14} {seed:>4} {c_auc:12.4f} {sk_auc:12.4f}")
            print(f"{name:14} mean {np.mean(ours):12.4f} {np.mean(theirs):12.4f}")
    print(f"txwatch higher in {wins}, equal in {ties}, lower in {total - wins - ties} of {total} runs")


if __name__ == "__main__":
    main()
