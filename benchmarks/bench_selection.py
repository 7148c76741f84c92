"""Benchmark: selection and the scikit-learn pipeline, featurekit beside tsfresh, one run.

    python3 benchmarks/bench_selection.py [--per-class 50] [--length 200] [--folds 5]

1. Accuracy: extract(efficient) -> relevant features -> RandomForestClassifier, scored on
   the same stratified folds of ``fk.demo.load_labelled_series``. featurekit runs its
   ``Pipeline(TimeSeriesFeatures(impute=True), RelevantFeatures(), RandomForestClassifier)``;
   tsfresh runs ``Pipeline(RelevantFeatureAugmenter(EfficientFCParameters), same forest)``
   (extraction, imputation with training ranges, ``select_features`` on the training fold)
   in a subprocess of its virtualenv (``/work/venv-tsfresh`` or ``$TSFRESH_VENV``) on the
   very same rows and folds. Both forests: 200 trees, ``random_state=0``.
2. Extraction time: ``extract(efficient)`` of every series; featurekit's cold first call and
   the median of ``--repeats`` warm calls, tsfresh's median of ``--peer-repeats`` calls (its
   default ``n_jobs``). The ratio uses the medians.
3. ``relevance_table`` on 1,000 rows x 800 features (700 real, 100 binary; a binary and a
   real-valued target): median of ``--repeats`` calls, beside tsfresh's
   ``calculate_relevance_table`` on the same matrix (its default ``n_jobs``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEER_SCRIPT = r"""
import json, statistics, sys, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from tsfresh import extract_features
from tsfresh.feature_extraction import EfficientFCParameters
from tsfresh.feature_selection.relevance import calculate_relevance_table
from tsfresh.transformers import RelevantFeatureAugmenter

folder, repeats = sys.argv[1], int(sys.argv[2])
series = pd.read_parquet(f"{folder}/series.parquet")
labels = pd.read_parquet(f"{folder}/labels.parquet")["label"]
folds = json.load(open(f"{folder}/folds.json"))
out = {"accuracy": [], "relevant": []}
for test_ids in folds:
    test = labels.index.isin(test_ids)
    model = Pipeline([
        ("augmenter", RelevantFeatureAugmenter(column_id="id", column_sort="time",
                                               default_fc_parameters=EfficientFCParameters(),
                                               disable_progressbar=True)),
        ("forest", RandomForestClassifier(n_estimators=200, random_state=0)),
    ])
    model.set_params(augmenter__timeseries_container=series)
    X = pd.DataFrame(index=labels.index)
    model.fit(X[~test], labels[~test])
    out["accuracy"].append(float(model.score(X[test], labels[test])))
    out["relevant"].append(len(model.named_steps["augmenter"].feature_selector.relevant_features))
runs = []
for _ in range(repeats):
    start = time.perf_counter()
    features = extract_features(series, column_id="id", column_sort="time",
                                default_fc_parameters=EfficientFCParameters(),
                                disable_progressbar=True)
    runs.append(time.perf_counter() - start)
out["extract"] = runs
out["extract_columns"] = features.shape[1]
matrix = pd.read_parquet(f"{folder}/matrix.parquet")
for task in ("binary", "real"):
    target = matrix.pop(f"__{task}__") if f"__{task}__" in matrix else None
    out.setdefault("targets", {})[task] = target
tables = {}
for task in ("binary", "real"):
    target = out["targets"][task]
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        table = calculate_relevance_table(matrix, target)
        runs.append(time.perf_counter() - start)
    out[f"relevance_{task}"] = runs
    out[f"relevant_{task}"] = int(table["relevant"].sum())
del out["targets"]
print(json.dumps(out))
"""


def relevance_matrix(rows: int = 1000, features: int = 800, seed: int = 0) -> pd.DataFrame:
    """``rows`` x ``features``: 700 real columns (a tenth related to the targets), 100 binary
    ones, plus a binary ``__binary__`` and a real ``__real__`` target."""
    rng = np.random.default_rng(seed)
    binary_target = rng.integers(0, 2, rows)
    real_target = rng.normal(0.0, 1.0, rows) + binary_target
    columns = {}
    n_real = features - 100
    for i in range(n_real):
        strength = 0.3 if i % 10 == 0 else 0.0
        columns[f"real_{i}"] = strength * real_target + rng.normal(0.0, 1.0, rows)
    for i in range(100):
        shift = 0.15 if i % 10 == 0 else 0.0
        columns[f"binary_{i}"] = (rng.random(rows) < 0.4 + shift * binary_target).astype(float)
    frame = pd.DataFrame(columns)
    frame["__binary__"] = binary_target
    frame["__real__"] = real_target
    return frame


def timed(function, repeats: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    function()
    cold = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        runs.append(time.perf_counter() - start)
    return cold, runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true")
    arguments = parser.parse_args()

    from sklearn.base import clone
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    import featurekit as fk
    from featurekit.selection import relevance_table
    from featurekit.sklearn import RelevantFeatures, TimeSeriesFeatures

    series, labels = fk.demo.load_labelled_series(arguments.per_class, arguments.length, seed=0)
    split = StratifiedKFold(arguments.folds, shuffle=True, random_state=0)
    folds = [labels.index[test].tolist() for _, test in split.split(labels.index, labels)]
    X = pd.DataFrame(index=labels.index)
    pipeline = make_pipeline(
        TimeSeriesFeatures(series, column_id="id", column_sort="time", settings="efficient",
                           impute=True),
        RelevantFeatures(), RandomForestClassifier(n_estimators=200, random_state=0))
    accuracy, relevant = [], []
    for test_ids in folds:
        test = labels.index.isin(test_ids)
        model = clone(pipeline).fit(X[~test], labels[~test])
        accuracy.append(model.score(X[test], labels[test]))
        relevant.append(len(model[1].relevant_features_))
    extract_cold, extract_runs = timed(lambda: fk.timeseries.extract(
        series, column_id="id", column_sort="time", settings="efficient"), arguments.repeats)

    matrix = relevance_matrix()
    features = matrix.drop(columns=["__binary__", "__real__"])
    relevance = {}
    for task in ("binary", "real"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cold, runs = timed(lambda task=task: relevance_table(features, matrix[f"__{task}__"]),
                               arguments.repeats)
        table = relevance_table(features, matrix[f"__{task}__"])
        relevance[task] = (cold, runs, int(table["relevant"].sum()))

    peer = None
    venv = Path(os.environ.get("TSFRESH_VENV", "/work/venv-tsfresh"))
    if not arguments.no_peer and (venv / "bin" / "python").exists():
        with tempfile.TemporaryDirectory() as folder:
            series.to_parquet(f"{folder}/series.parquet")
            labels.to_frame().to_parquet(f"{folder}/labels.parquet")
            Path(f"{folder}/folds.json").write_text(json.dumps(folds))
            matrix.to_parquet(f"{folder}/matrix.parquet")
            done = subprocess.run([str(venv / "bin" / "python"), "-c", PEER_SCRIPT, folder,
                                   str(arguments.peer_repeats)], capture_output=True, text=True)
            if done.returncode:
                print("tsfresh failed:", done.stderr[-2000:])
            else:
                peer = json.loads(done.stdout.strip().splitlines()[-1])
    elif not arguments.no_peer:
        print(f"(no tsfresh virtualenv at {venv}: featurekit only)")

    n_series = labels.size
    print(f"data: {n_series} series x {arguments.length} points, {labels.nunique()} classes, "
          f"{arguments.folds} stratified folds; load average {os.getloadavg()[0]:.2f}")
    print()
    print("| pipeline accuracy | mean | folds | relevant features (per fold) |")
    print("| --- | --- | --- | --- |")
    print(f"| featurekit | {np.mean(accuracy):.3f} | {np.round(accuracy, 3).tolist()} | "
          f"{relevant} |")
    if peer:
        print(f"| tsfresh | {np.mean(peer['accuracy']):.3f} | "
              f"{np.round(peer['accuracy'], 3).tolist()} | {peer['relevant']} |")
    print()
    extract_median = statistics.median(extract_runs)
    print("| extract(efficient), all series | cold s | median s | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| featurekit | {extract_cold:.3f} | {extract_median:.3f} | |")
    if peer:
        peer_median = statistics.median(peer["extract"])
        print(f"| tsfresh ({peer['extract_columns']} columns) | | {peer_median:.3f} | "
              f"featurekit {peer_median / extract_median:.0f}x faster |")
    print()
    print("| relevance_table, 1,000 x 800 | target | median s | relevant | tsfresh median s | "
          "ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for task, (_cold, runs, count) in relevance.items():
        median = statistics.median(runs)
        row = f"| featurekit | {task} | {median:.3f} | {count} |"
        if peer:
            peer_median = statistics.median(peer[f"relevance_{task}"])
            row += (f" {peer_median:.3f} ({peer[f'relevant_{task}']} relevant) | "
                    f"{peer_median / median:.1f}x |")
        else:
            row += " | |"
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
