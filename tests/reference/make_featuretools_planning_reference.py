"""Write Featuretools 1.31's feature matrices for its planning controls (interesting values and
where primitives, seed features, drop_contains / drop_exact, primitive_options,
ignore_dataframes / ignore_columns, max_features) on the retail demo tables, with cutoff
times, to tests/data/featuretools_planning_* (compared in tests/test_featuretools_planning.py).

Run in an environment with featuretools 1.31 and pandas 2.2 (not featurekit's own):
    /work/venvs/ft/bin/python tests/reference/make_featuretools_planning_reference.py
"""

from __future__ import annotations

import json
import warnings

import featuretools as ft
import pandas as pd
from make_featuretools_reference import DATA, build_entityset, load_demo_data

N_CUSTOMERS = 25
AGGREGATIONS = ["count", "sum", "mean", "max", "mode", "num_unique", "percent_true"]
TRANSFORMS = ["month", "weekday"]


def cutoff_frame(demo, per_customer: int) -> pd.DataFrame:
    """``per_customer`` cutoffs for each customer, between 1 and 200 days after it joined
    (an instance is asked about once it exists: before, featurekit leaves its row missing)."""
    joined = demo.retail_tables(N_CUSTOMERS)["customers"].set_index("customer_id")["join_date"]
    rows = []
    for customer in range(1, N_CUSTOMERS + 1):
        for k in range(per_customer):
            days = 1 + (customer * 37 + k * 113) % 200
            rows.append((customer, joined[customer] + pd.Timedelta(days=days, hours=k)))
    return pd.DataFrame(rows, columns=["customer_id", "time"])


def seeds(es: ft.EntitySet) -> list:
    """A where aggregation on sessions and a MAX the run's primitives lack, for DFS to stack on."""
    amount = ft.Feature(es["transactions"].ww["amount"])
    fraud = ft.Feature(es["transactions"].ww["fraud"])
    return [
        ft.Feature(amount, parent_dataframe_name="sessions", primitive=ft.primitives.Sum,
                   where=fraud == True),  # noqa: E712  (Featuretools' spelling of a where clause)
        ft.Feature(amount, parent_dataframe_name="sessions", primitive=ft.primitives.Max),
    ]


RUNS = {
    "where_auto": {"interesting": "auto", "cutoffs": 2,
                   "dfs": {"where_primitives": ["count", "sum", "mean"]}},
    "where_given": {"interesting": {"sessions": {"device": ["mobile", "tablet"]},
                                    "products": {"brand": ["A"]}},
                    "cutoffs": 1, "dfs": {"where_primitives": ["count", "sum"]}},
    "seed": {"cutoffs": 2, "seed": True,
             "dfs": {"agg_primitives": ["count", "sum", "mean"]}},
    "drop": {"interesting": "auto", "cutoffs": 1,
             "dfs": {"drop_contains": ["MEAN("], "drop_exact": ["COUNT(sessions)", "MONTH(join_date)"],
                     "max_features": 30}},
    "options": {"cutoffs": 2, "dfs": {
        "ignore_dataframes": ["products"], "ignore_columns": {"customers": ["zip_code"]},
        "primitive_options": {
            "mean": {"ignore_dataframes": ["transactions"]},
            ("sum", "max"): {"include_columns": {"transactions": ["amount"]}},
            "num_unique": [{"ignore_columns": {"sessions": ["device"]}}],
            "mode": {"include_dataframes": ["sessions"]},
            "month": {"include_dataframes": ["customers"]},
        }}},
}


def main() -> None:
    warnings.filterwarnings("ignore")
    demo = load_demo_data()
    manifest = {}
    for run, spec in RUNS.items():
        es = build_entityset(demo)  # N_CUSTOMERS customers
        interesting = spec.get("interesting")
        if interesting == "auto":
            es.add_interesting_values()
        elif interesting:
            for table, values in interesting.items():
                es.add_interesting_values(dataframe_name=table, values=values)
        options = dict(spec["dfs"])
        if spec.get("seed"):
            options["seed_features"] = seeds(es)
        options.setdefault("agg_primitives", AGGREGATIONS)
        options.setdefault("trans_primitives", TRANSFORMS)
        cutoffs = cutoff_frame(demo, spec["cutoffs"])
        matrix, features = ft.dfs(entityset=es, target_dataframe_name="customers", max_depth=2,
                                  cutoff_time=cutoffs, cutoff_time_in_index=True, **options)
        names = [name for f in features for name in f.get_feature_names()]
        matrix = matrix[names].reset_index()
        for column in matrix.columns:
            if str(matrix[column].dtype) == "category":
                matrix[column] = matrix[column].astype(object).astype("string")
        matrix.to_parquet(DATA / f"featuretools_planning_{run}.parquet")
        found = {df.ww.name: {c: [v.item() if hasattr(v, "item") else v
                                  for v in df.ww.columns[c].metadata["interesting_values"]]
                              for c in df.columns
                              if df.ww.columns[c].metadata.get("interesting_values")}
                 for df in es.dataframes}
        manifest[run] = {"features": names, "interesting_values": found}
        print(run, matrix.shape, sum("WHERE" in n for n in names), "where-features")
    (DATA / "featuretools_planning_reference.json").write_text(json.dumps(
        {"n_customers": N_CUSTOMERS, "aggregations": AGGREGATIONS, "transforms": TRANSFORMS,
         "runs": manifest}, indent=1))


if __name__ == "__main__":
    main()
