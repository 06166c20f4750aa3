#!/usr/bin/python3
"""Cross-validated AUC of scikit-learn's HistGradientBoostingClassifier on a feature CSV,
with the folds calcnode's trainer used (its --predictions file: row,fold,...).

usage: sklearn_cv.py DATA.csv FOLDS.csv   prints the mean per-fold AUC
Exit status 77 when scikit-learn is not installed (the test is then skipped)."""
import csv
import sys

try:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
except ImportError:
    print("scikit-learn is not installed", file=sys.stderr)
    sys.exit(77)

META = {"source", "sop_instance_uid", "cluster", "x", "y", "x0", "y0", "x1", "y1", "count"}

with open(sys.argv[1], newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = list(reader)
features = [i for i, name in enumerate(header)
            if name not in META and name != "label" and not name.startswith("truth_")]
label_at = header.index("label")
X = np.array([[float(r[i]) for i in features] for r in rows])
y = np.array([int(r[label_at]) for r in rows])

with open(sys.argv[2], newline="") as f:
    folds = {int(r["row"]): int(r["fold"]) for r in csv.DictReader(f)}
fold = np.array([folds[i] for i in range(len(rows))])

aucs = []
for k in sorted(set(fold)):
    train, test = fold != k, fold == k
    model = HistGradientBoostingClassifier(
        learning_rate=0.05, max_depth=3, max_iter=1000, early_stopping=True,
        validation_fraction=0.2, n_iter_no_change=30, class_weight="balanced",
        random_state=0)
    model.fit(X[train], y[train])
    aucs.append(roc_auc_score(y[test], model.predict_proba(X[test])[:, 1]))
print("%.6f" % (sum(aucs) / len(aucs)))
