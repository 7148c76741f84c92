"""Write Featuretools 1.31's feature matrices on the retail demo tables to tests/data, as the
reference our planner and engine are compared with (tests/test_featuretools_parity.py).

Run in an environment with featuretools 1.31 and pandas 2.2 (not featurekit's own):
    python tests/reference/make_featuretools_reference.py
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import featuretools as ft
import pandas as pd
from woodwork.logical_types import Boolean, Categorical, Datetime, NaturalLanguage

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
CUTOFF = pd.Timestamp("2030-01-01")  # after every row: all data used, time features fixed
N_CUSTOMERS = 25

# Every primitive of the catalogue that Featuretools 1.31 also has.
ALL_AGGREGATIONS = [
    "count", "sum", "mean", "std", "variance", "min", "max", "median", "skew", "kurtosis", "mode",
    "num_unique", "percent_true", "num_true", "all", "any", "first", "last", "entropy", "trend",
    "time_since_first", "time_since_last", "avg_time_between", "count_above_mean",
    "count_below_mean", "n_most_common",
]
ALL_TRANSFORMS = [
    "year", "month", "day", "weekday", "hour", "minute", "second", "week", "quarter",
    "day_of_year", "is_weekend", "num_characters", "num_words", "absolute", "is_null", "cum_sum",
    "cum_count", "cum_mean", "cum_min", "cum_max", "diff", "time_since_previous", "percentile",
    "lag", "age",
]


def load_demo_data():
    spec = importlib.util.spec_from_file_location(
        "demo_data", HERE.parent.parent / "featurekit" / "demo_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_entityset(demo) -> ft.EntitySet:
    tables = demo.retail_tables(N_CUSTOMERS)
    names = {"categorical": Categorical, "text": NaturalLanguage, "boolean": Boolean,
             "date_of_birth": Datetime}
    keys = {"customers": ("customer_id", "join_date"), "sessions": ("session_id", "session_start"),
            "transactions": ("transaction_id", "transaction_time"), "products": ("product_id", None)}
    es = ft.EntitySet("retail")
    for name, (index, time_index) in keys.items():
        types = {c: names[t] for c, t in demo.RETAIL_TYPES[name].items()}
        es.add_dataframe(dataframe_name=name, dataframe=tables[name], index=index,
                         time_index=time_index, logical_types=types)
    es.add_relationship("customers", "customer_id", "sessions", "customer_id")
    es.add_relationship("sessions", "session_id", "transactions", "session_id")
    es.add_relationship("products", "product_id", "transactions", "product_id")
    return es


def main() -> None:
    warnings.filterwarnings("ignore")
    demo = load_demo_data()
    DATA.mkdir(exist_ok=True)
    manifest = {}
    runs = {"defaults": {}, "catalogue": {"agg_primitives": ALL_AGGREGATIONS,
                                          "trans_primitives": ALL_TRANSFORMS}}
    for run, options in runs.items():
        es = build_entityset(demo)
        if run == "catalogue":
            es["customers"].ww.add_semantic_tags({"birthday": "date_of_birth"})
        targets = ["customers", "sessions", "transactions", "products"] if run == "defaults" else [
            "customers", "sessions"]
        for target in targets:
            matrix, features = ft.dfs(entityset=es, target_dataframe_name=target, max_depth=2,
                                      cutoff_time=CUTOFF, **options)
            names = [name for f in features for name in f.get_feature_names()]
            matrix = matrix[names]
            for column in matrix.columns:
                if str(matrix[column].dtype) == "category":
                    matrix[column] = matrix[column].astype(object).astype("string")
            out = DATA / f"featuretools_{run}_{target}.parquet"
            matrix.to_parquet(out)
            manifest[f"{run}/{target}"] = names
            print(out.name, matrix.shape)
    (DATA / "featuretools_reference.json").write_text(json.dumps(
        {"n_customers": N_CUSTOMERS, "cutoff": str(CUTOFF), "features": manifest,
         "catalogue": runs["catalogue"]}, indent=1))


if __name__ == "__main__":
    main()
