"""Write the tsfresh relevance fixtures that tests/selection/test_against_tsfresh.py compares to.

Run once, by hand, inside the tsfresh virtualenv (tsfresh is a test-time reference only,
never a featurekit dependency):

    /work/venv-tsfresh/bin/python tests/selection/make_reference.py

For every data set it writes ``tests/data/tsfresh_relevance_<data>_input.parquet`` (the
features and the target in a ``__target__`` column); for every case (a data set and options)
``tsfresh_relevance_<case>.parquet``, tsfresh's ``calculate_relevance_table`` for it, one row
per feature. ``tsfresh_relevance_cases.json`` maps each case to its data set and options.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
TARGET = "__target__"


def mixed_features(rng: np.random.Generator, signal: np.ndarray) -> pd.DataFrame:
    """Real features of graded strength (some near the FDR threshold), tied integers, binary
    and boolean features, constants."""
    n = len(signal)
    columns: dict[str, np.ndarray] = {}
    for i, strength in enumerate([0.0, 0.05, 0.15, 0.25, 0.35, 0.5, 0.8, 1.5, 0.0, 0.0]):
        columns[f"real_{i}"] = strength * signal + rng.normal(0.0, 1.0, n)
    columns["ties"] = np.round(0.4 * signal + rng.normal(0.0, 1.0, n))
    columns["counts"] = rng.poisson(2.0 + 0.5 * (signal > 0), n).astype(float)
    columns["binary_strong"] = (signal + rng.normal(0.0, 0.7, n) > 0).astype(float)
    columns["binary_weak"] = (0.2 * signal + rng.normal(0.0, 1.0, n) > 0.3).astype(float)
    columns["binary_noise"] = rng.integers(0, 2, n).astype(float)
    columns["binary_pm"] = np.where(rng.random(n) < 0.5 + 0.2 * np.tanh(signal), 5.0, -3.0)
    columns["flag"] = rng.random(n) < 0.3 + 0.2 * (signal > 0)
    columns["constant"] = np.full(n, 7.0)
    columns["zero"] = np.zeros(n)
    columns["real_signed_zero"] = np.where(rng.random(n) < 0.5, -0.0, 0.0) + (signal > 1) * 2.0
    return pd.DataFrame(columns)


def cases() -> dict[str, tuple[str, pd.DataFrame, pd.Series, dict]]:
    """case name -> (data set name, X, y, options)."""
    rng = np.random.default_rng(20261126)
    out: dict[str, tuple[str, pd.DataFrame, pd.Series, dict]] = {}

    y = rng.integers(0, 2, 150)
    X = mixed_features(rng, 2.0 * y - 1.0)
    out["binary"] = ("binary", X, pd.Series(y, name=TARGET), {})
    out["binary_bh"] = ("binary", X, pd.Series(y, name=TARGET), {"hypotheses_independent": True,
                                                       "fdr_level": 0.2})
    out["binary_smir"] = ("binary", X, pd.Series(y, name=TARGET),
                          {"test_for_binary_target_real_feature": "smir"})

    y = np.repeat([0, 1], 7)
    X = mixed_features(rng, 2.0 * y - 1.0)
    out["binary_small"] = ("binary_small", X, pd.Series(y, name=TARGET), {"fdr_level": 0.3})

    labels = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, 200)]
    signal = np.select([labels == "a", labels == "b", labels == "c"], [2.0, 0.7, -0.5], 0.0)
    X = mixed_features(rng, signal)
    out["multiclass"] = ("multiclass", X, pd.Series(labels, name=TARGET), {})
    out["multiclass_flag"] = ("multiclass", X, pd.Series(labels, name=TARGET), {"multiclass": True})
    out["multiclass_two"] = ("multiclass", X, pd.Series(labels, name=TARGET),
                             {"multiclass": True, "n_significant": 2, "fdr_level": 0.1})

    target = rng.normal(0.0, 1.0, 120)
    X = mixed_features(rng, target)
    out["regression"] = ("regression", X, pd.Series(target, name=TARGET), {})
    out["regression_bh"] = ("regression", X, pd.Series(target, name=TARGET), {"hypotheses_independent": True})

    target = rng.normal(0.0, 1.0, 20)
    X = mixed_features(rng, target)
    out["regression_small"] = ("regression_small", X, pd.Series(target, name=TARGET), {"fdr_level": 0.5})

    out["extracted"] = ("extracted", *extracted_case(rng))
    return out


def extracted_case(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series, dict]:
    """tsfresh's own efficient features of 36 short labelled series (imputed as tsfresh does):
    many binary, tied and constant columns, as real feature matrices have."""
    from tsfresh import extract_features
    from tsfresh.feature_extraction import EfficientFCParameters
    from tsfresh.utilities.dataframe_functions import impute

    frames, labels = [], []
    for series_id in range(36):
        label = series_id % 3
        t = np.arange(40)
        values = (np.sin(t * (0.3 + 0.15 * label)) + rng.normal(0.0, 0.6 + 0.2 * label, 40)
                  + (label == 2) * 0.02 * t)
        frames.append(pd.DataFrame({"id": series_id, "time": t, "value": values}))
        labels.append(label)
    long = pd.concat(frames, ignore_index=True)
    X = extract_features(long, column_id="id", column_sort="time",
                         default_fc_parameters=EfficientFCParameters(), n_jobs=0,
                         disable_progressbar=True)
    X = impute(X).reset_index(drop=True)
    return X, pd.Series(labels, name=TARGET), {"multiclass": True, "n_significant": 1,
                                               "fdr_level": 0.05}


def main() -> None:
    from tsfresh.feature_selection.relevance import calculate_relevance_table

    options_by_case = {}
    for name, (data, X, y, options) in cases().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = calculate_relevance_table(X, y, n_jobs=0, **options)
        table = table.reset_index(drop=True)
        table.to_parquet(DATA_DIR / f"tsfresh_relevance_{name}.parquet")
        X.assign(**{TARGET: y.to_numpy()}).to_parquet(
            DATA_DIR / f"tsfresh_relevance_{data}_input.parquet")
        options_by_case[name] = {"data": data, "options": options}
        print(f"{name}: {X.shape}, {int(table['relevant'].sum())} relevant")
    (DATA_DIR / "tsfresh_relevance_cases.json").write_text(
        json.dumps(options_by_case, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
