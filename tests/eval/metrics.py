#!/usr/bin/env python3
"""metrics.py - detection quality of txwatch's scores against the labels

Usage: metrics.py [--targets] [--seen-only] LABELS.csv SCORES.tsv THRESHOLD [NAME]

LABELS.csv is the producer's --csv-out file (tx_id, ..., is_fraud,
fraud_pattern, injected). SCORES.tsv holds "tx_id<TAB>score" lines for the
test part only; higher means more suspicious. Prints, at score >=
THRESHOLD, two lines: "seen" (every fraud pattern but the held-out ones)
and "unseen" (only those), each against all legitimate transactions: ROC
AUC, precision, recall, and the false-positive rate (legitimate
transactions flagged / legitimate transactions). Then one line per fraud
pattern, marked seen or unseen (its AUC and recall count its frauds
against every legitimate transaction). --targets adds issue 15's targets
for the seen figures, each met or not met; it never fails the run.
--seen-only leaves the held-out patterns out altogether: for the training
part, which is what rule weights may be tuned on.

The held-out patterns (UNSEEN below, generator_pattern_unseen in the
producer) are only ever reported: no rule, weight, threshold or signal is
tuned by looking at how they score.
Standard library only, so it runs anywhere the tests run.
"""
import csv
import sys

UNSEEN = {"money_mule", "bust_out"}

# Issue 15's targets on the seen typologies: (name, key, at least?, value).
TARGETS = [("AUC", "auc", True, 0.99), ("precision", "precision", True, 0.9),
           ("recall", "recall", True, 0.85), ("FPR", "fpr", False, 0.002)]


def auc(pos, neg):
    """ROC AUC as the Mann-Whitney statistic, ties counted half."""
    if not pos or not neg:
        return float("nan")
    scored = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i, n = 0.0, 0, len(scored)
    while i < n:
        j = i
        while j < n and scored[j][0] == scored[i][0]:
            j += 1
        mid = (i + 1 + j) / 2.0            # mean rank of the tie block (1-based)
        rank_sum += mid * sum(1 for k in range(i, j) if scored[k][1] == 1)
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg))


def figures(pos, neg, threshold):
    """AUC, precision, recall and false-positive rate of frauds pos against
    legitimate neg."""
    tp = sum(1 for s in pos if s >= threshold)
    fp = sum(1 for s in neg if s >= threshold)
    nan = float("nan")
    return {"auc": auc(pos, neg),
            "precision": tp / (tp + fp) if tp + fp else nan,
            "recall": tp / len(pos) if pos else nan,
            "fpr": fp / len(neg) if neg else nan}


def main():
    args = sys.argv[1:]
    targets = "--targets" in args
    seen_only = "--seen-only" in args
    args = [a for a in args if a not in ("--targets", "--seen-only")]
    labels_path, scores_path, threshold = args[0], args[1], float(args[2])
    name = args[3] if len(args) > 3 else "score"
    labels = {}
    with open(labels_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["injected"].startswith("invalid"):
                continue
            pattern = row["fraud_pattern"] if row["is_fraud"] in ("1", "true") else ""
            if seen_only and pattern in UNSEEN:
                continue
            labels[row["tx_id"]] = pattern
    scores = {}
    with open(scores_path) as f:
        for line in f:
            tx_id, score = line.rstrip("\n").split("\t")[:2]
            if tx_id in labels:
                scores[tx_id] = float(score)
    pos = {}
    neg = []
    for tx_id, score in scores.items():
        pattern = labels[tx_id]
        if pattern:
            pos.setdefault(pattern, []).append(score)
        else:
            neg.append(score)
    at = f"@{threshold:g}"
    for kind, held_out in (("seen", False), ("unseen", True))[:1 if seen_only else 2]:
        frauds = [s for p, v in pos.items() if (p in UNSEEN) == held_out for s in v]
        r = figures(frauds, neg, threshold)
        head = f"{name:<34}" if kind == "seen" else " " * 34
        print(f"{head} {kind:<6} n={len(frauds) + len(neg):>7} fraud={len(frauds):>5}"
              f"  AUC {r['auc']:.4f}  precision{at} {r['precision']:.3f}"
              f"  recall{at} {r['recall']:.3f}  FPR {100 * r['fpr']:.3f}%")
        if targets and not held_out:
            verdicts = []
            for label, key, at_least, value in TARGETS:
                met = r[key] >= value if at_least else r[key] <= value
                shown = f"{100 * value:g}%" if key == "fpr" else f"{value:g}"
                verdicts.append(f"{label} {'>=' if at_least else '<='} {shown}"
                                f" {'met' if met else 'NOT met'}")
            print(f"{'':34} targets (seen): {', '.join(verdicts)}")
    for pattern in sorted(pos, key=lambda p: (p in UNSEEN, p)):
        p = pos[pattern]
        hit = sum(1 for s in p if s >= threshold)
        kind = "unseen" if pattern in UNSEEN else "seen"
        print(f"  {pattern:<26} {kind:<6} fraud={len(p):>5}  AUC {auc(p, neg):.4f}"
              f"  recall{at} {hit / len(p):.3f}")


if __name__ == "__main__":
    main()
