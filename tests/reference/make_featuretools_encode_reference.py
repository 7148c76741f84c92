"""Write what Featuretools 1.31 does right after DFS on the retail demo tables, as the reference
tests/test_encode_features.py, tests/test_describe_feature.py and tests/test_normalize.py
compare featurekit with:

- ``encode_features`` on the default matrices of ``customers`` and ``sessions`` under several
  options (the encoded columns' values, every column and feature name in order);
- ``describe_feature`` of every default feature of ``customers``, ``sessions`` and
  ``transactions`` (one sentence per feature name);
- ``normalize_dataframe`` of a small orders table into a customers table (the new table and
  what is left of the base table).

Run in an environment with featuretools 1.31 and pandas 2.2 (not featurekit's own):
    python tests/reference/make_featuretools_encode_reference.py
"""

from __future__ import annotations

import copy
import importlib.util
import json
import warnings
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
PREFIX = "featuretools_encode"

# name -> keyword arguments of encode_features
ENCODINGS = {
    "default": {},
    "top2": {"top_n": 2},
    "no_unknown": {"include_unknown": False},
    "drop_first": {"drop_first": True},
    "to_encode": {"to_encode": ["MODE(sessions.device)", "device"]},
    "top_by_feature": {"top_n": {"zip_code": 1, "device": 2}},
}


def _defaults_script():
    spec = importlib.util.spec_from_file_location("defaults", HERE / "make_featuretools_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def encode_runs(defaults, demo) -> dict:
    manifest = {}
    for target in ("customers", "sessions"):
        es = defaults.build_entityset(demo)
        matrix, features = ft.dfs(entityset=es, target_dataframe_name=target, max_depth=2,
                                  cutoff_time=defaults.CUTOFF)
        names = [name for f in features for name in f.get_feature_names()]
        matrix = matrix.ww[names]
        for run, options in ENCODINGS.items():
            encoded, encoded_features = ft.encode_features(matrix, features, **options)
            # the encoded columns as the positions of their true rows (the columns kept as they
            # were are DFS's, compared with Featuretools elsewhere)
            added = [column for column in encoded.columns if column not in matrix.columns]
            true_rows = {column: np.flatnonzero(encoded[column].to_numpy(bool)).tolist()
                         for column in added}
            manifest[f"{target}/{run}"] = {
                "options": options, "columns": list(encoded.columns),
                "features": [f.get_name() for f in encoded_features],
                "index": [str(key) for key in encoded.index], "true_rows": true_rows}
            print(target, run, encoded.shape)
    return manifest


def describe_runs(defaults, demo) -> dict:
    sentences = {}
    for target in ("customers", "sessions", "transactions"):
        es = defaults.build_entityset(demo)
        features = ft.dfs(entityset=es, target_dataframe_name=target, max_depth=2,
                          features_only=True)
        sentences[target] = {f.get_name(): ft.describe_feature(f) for f in features}
    return sentences


def orders_table() -> pd.DataFrame:
    """Orders of customers with a city each, out of time order, with ties in time and one
    order without a customer."""
    rng = np.random.default_rng(7)
    n = 40
    customer = rng.integers(0, 8, n).astype(float)
    customer[5] = np.nan
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 20, n), unit="D")
    return pd.DataFrame({
        "order_id": np.arange(100, 100 + n),
        "customer": customer,
        "city": np.array(["lyon", "oslo", "rome", "kyiv"])[rng.integers(0, 4, n)],
        "signup": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
        "ordered_at": times,
        "amount": rng.gamma(2.0, 10.0, n).round(2),
    })


NORMALIZE_RUNS = {
    "time_index": {"additional_columns": ["city"]},
    "copy_and_rename": {"additional_columns": ["city"], "copy_columns": ["amount"],
                        "new_dataframe_time_index": "first_seen"},
    "column_time_index": {"additional_columns": ["signup"], "make_time_index": "signup"},
    "no_time_index": {"copy_columns": ["city"], "make_time_index": False},
}


def normalize_runs() -> dict:
    orders = orders_table()
    orders.to_parquet(DATA / f"{PREFIX}_normalize_input.parquet")
    manifest = {}
    for run, options in NORMALIZE_RUNS.items():
        es = ft.EntitySet("shop")
        es.add_dataframe(dataframe_name="orders", dataframe=orders.copy(), index="order_id",
                         time_index="ordered_at",
                         logical_types={"city": "Categorical", "customer": "Double"})
        # a copy: Featuretools appends to the caller's copy_columns list
        es.normalize_dataframe("orders", "customers", "customer", **copy.deepcopy(options))
        new, base = es["customers"], es["orders"]
        new.reset_index(drop=True).to_parquet(DATA / f"{PREFIX}_normalize_{run}_new.parquet")
        base.reset_index(drop=True).to_parquet(DATA / f"{PREFIX}_normalize_{run}_base.parquet")
        manifest[run] = {"options": options, "new_columns": list(new.columns),
                         "new_time_index": new.ww.time_index, "base_columns": list(base.columns)}
        print("normalize", run, new.shape, base.shape)
    return manifest


def main() -> None:
    warnings.filterwarnings("ignore")
    defaults = _defaults_script()
    demo = defaults.load_demo_data()
    DATA.mkdir(exist_ok=True)
    reference = {"n_customers": defaults.N_CUSTOMERS, "cutoff": str(defaults.CUTOFF),
                 "encode": encode_runs(defaults, demo), "normalize": normalize_runs()}
    (DATA / f"{PREFIX}_reference.json").write_text(json.dumps(reference))
    (DATA / "featuretools_describe.json").write_text(json.dumps(describe_runs(defaults, demo),
                                                                indent=1))


if __name__ == "__main__":
    main()
