#!/usr/bin/env python3
"""metrics.py - detection quality of txwatch's scores against the labels

Usage: metrics.py LABELS.csv SCORES.tsv THRESHOLD [NAME]

LABELS.csv is the producer's --csv-out file (tx_id, ..., is_fraud,
fraud_pattern, injected). SCORES.tsv holds "tx_id<TAB>score" lines for the
test part only; higher means more suspicious. Prints ROC AUC, and precision
and recall at score >= THRESHOLD, overall and per fraud pattern (a pattern's
AUC and recall count its frauds against every normal transaction).
Standard library only, so it runs anywhere the tests run.
"""
import csv
import sys


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


def main():
    labels_path, scores_path, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
    name = sys.argv[4] if len(sys.argv) > 4 else "score"
    labels = {}
    with open(labels_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["injected"].startswith("invalid"):
                continue
            labels[row["tx_id"]] = row["fraud_pattern"] if row["is_fraud"] in ("1", "true") else ""
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
    all_pos = [s for v in pos.values() for s in v]
    tp = sum(1 for s in all_pos if s >= threshold)
    fp = sum(1 for s in neg if s >= threshold)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / len(all_pos) if all_pos else float("nan")
    print(f"{name:<34} n={len(scores):>7} fraud={len(all_pos):>5}  AUC {auc(all_pos, neg):.4f}"
          f"  precision@{threshold:g} {precision:.3f}  recall@{threshold:g} {recall:.3f}")
    for pattern in sorted(pos):
        p = pos[pattern]
        hit = sum(1 for s in p if s >= threshold)
        print(f"  {pattern:<32} fraud={len(p):>5}  AUC {auc(p, neg):.4f}"
              f"  recall@{threshold:g} {hit / len(p):.3f}")


if __name__ == "__main__":
    main()
