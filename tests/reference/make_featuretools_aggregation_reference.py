"""Write Featuretools 1.31's feature matrices for the aggregation primitives featurekit added to
match it (counts, runs, dates, time since an event) to tests/data, as the reference
tests/test_featuretools_aggregations.py compares featurekit with.

The schema is ``customers <- sessions <- events``: missing values in every kind of column,
ties (equal values, equal times), customers without sessions, sessions without events,
boolean and datetime columns, a time-zone-aware datetime and, in a second schema, a
time-zone-aware time index. Each run aggregates with every new primitive (with its default
parameters, or with other ones) at several cutoff times, so rows after a cutoff are present.
The input tables are written next to the matrices, so both libraries read the same rows.

Run in an environment with featuretools 1.31 and pandas 2.2 (not featurekit's own):
    python tests/reference/make_featuretools_aggregation_reference.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd
from featuretools import primitives as fp
from woodwork.logical_types import (
    Boolean,
    BooleanNullable,
    Categorical,
    Datetime,
    Double,
    Integer,
    IntegerNullable,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
PREFIX = "featuretools_aggregation"
WOODWORK = {"integer": Integer, "integer_nullable": IntegerNullable, "double": Double,
            "categorical": Categorical, "boolean": Boolean, "boolean_nullable": BooleanNullable,
            "datetime": Datetime}

NEW_AGGREGATIONS = [
    "average_count_per_unique", "count_greater_than", "count_inside_nth_std",
    "count_inside_range", "count_less_than", "count_outside_nth_std", "count_outside_range",
    "date_first_event", "first_last_time_delta", "has_no_duplicates",
    "is_monotonically_decreasing", "is_monotonically_increasing", "is_unique",
    "max_consecutive_false", "max_consecutive_negatives", "max_consecutive_positives",
    "max_consecutive_true", "max_consecutive_zeros", "max_count", "max_min_delta",
    "median_count", "min_count", "n_most_common_frequency", "n_unique_days",
    "n_unique_days_of_calendar_year", "n_unique_days_of_month", "n_unique_months",
    "n_unique_weeks", "num_consecutive_greater_mean", "num_consecutive_less_mean",
    "num_false_since_last_true", "num_peaks", "num_true_since_last_false",
    "num_zero_crossings", "percent_unique", "time_since_last_false", "time_since_last_max",
    "time_since_last_min", "time_since_last_true",
]

# Non-default parameters, as (class name in featuretools.primitives, parameters).
WITH_PARAMETERS = [
    ("CountGreaterThan", {"threshold": 0}), ("CountLessThan", {"threshold": 1.5}),
    ("CountInsideNthSTD", {"n": 2}), ("CountOutsideNthSTD", {"n": 0.5}),
    ("CountInsideRange", {"lower": -1, "upper": 2.5, "skipna": False}),
    ("CountOutsideRange", {"lower": -1, "upper": 2.5, "skipna": False}),
    ("AverageCountPerUnique", {"skipna": False}), ("HasNoDuplicates", {"skipna": False}),
    ("MaxConsecutiveNegatives", {"skipna": False}), ("MaxConsecutivePositives", {"skipna": False}),
    ("MaxConsecutiveZeros", {"skipna": False}), ("MaxCount", {"skipna": False}),
    ("MaxMinDelta", {"skipna": False}), ("MedianCount", {"skipna": False}),
    ("MinCount", {"skipna": False}), ("NMostCommonFrequency", {"n": 2, "skipna": False}),
    ("NumConsecutiveGreaterMean", {"skipna": False}),
    ("NumConsecutiveLessMean", {"skipna": False}), ("PercentUnique", {"skipna": False}),
]

CUTOFFS = ["2024-03-10", "2024-06-01", "2024-12-31"]

# Featuretools 1.31 raises on an IntegerNullable column with missing values for these (a
# TypeError from pandas' NA or from putting a boolean default into an Int64 column); the runs
# leave sessions.visits out of them and the error is recorded in the JSON description.
FAILS_ON_NULLABLE_INTEGER = ["has_no_duplicates", "is_monotonically_decreasing",
                             "is_monotonically_increasing", "max_count", "median_count",
                             "min_count"]


def _times(rng: np.random.Generator, size: int) -> pd.Series:
    """Times on a coarse grid (ties are common), across the spring and autumn clock changes."""
    hours = rng.integers(0, 300, size) * 24 + rng.choice([0, 1, 22, 23], size)
    return pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(hours, unit="h"))


def _missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    values = values.astype(float)
    values[rng.random(values.shape[0]) < share] = np.nan
    return values


def make_tables(seed: int = 13) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_customers, n_sessions, n_events = 12, 90, 260
    customers = pd.DataFrame({"customer_id": np.arange(1, n_customers + 1)})
    # customers 11 and 12 have no sessions; customer 10 has one session
    owners = np.concatenate([[10], rng.integers(1, 10, n_sessions - 1)])
    sessions = pd.DataFrame({
        "session_id": np.arange(100, 100 + n_sessions),
        "customer_id": owners,
        "session_start": _times(rng, n_sessions),
        "amount": _missing(rng, rng.choice([-2.0, -0.5, 0.0, 0.0, 1.0, 1.5, 2.0, 3.0, 7.25],
                                           n_sessions), 0.15),
        "quantity": rng.choice([-3, -1, 0, 0, 1, 2, 2, 5, 12], n_sessions),
        "visits": pd.array(_missing(rng, rng.integers(0, 4, n_sessions), 0.2), dtype="Int64"),
        "flag": rng.random(n_sessions) < 0.6,
        "flag_nullable": pd.array(np.where(rng.random(n_sessions) < 0.2, None,
                                           rng.random(n_sessions) < 0.5), dtype="boolean"),
        "device": pd.Series(rng.choice(["mobile", "desktop", "tablet", None], n_sessions,
                                       p=[0.4, 0.3, 0.15, 0.15])),
        "visit_local": (_times(rng, n_sessions) + pd.to_timedelta(
            rng.integers(0, 60, n_sessions), unit="m")).dt.tz_localize("UTC").dt.tz_convert(
                "Europe/Paris"),
    })
    sessions.loc[rng.random(n_sessions) < 0.15, "visit_local"] = pd.NaT
    # a constant customer: equal values, equal times
    constant = sessions["customer_id"] == 10
    sessions.loc[constant, ["amount", "quantity"]] = [2.0, 2]
    events = pd.DataFrame({
        "event_id": np.arange(1000, 1000 + n_events),
        "session_id": rng.integers(100, 100 + n_sessions - 10, n_events),  # 10 sessions empty
        "event_time": _times(rng, n_events),
        "value": _missing(rng, rng.choice([-1.0, 0.0, 0.5, 1.0, 1.0, 4.0], n_events), 0.1),
        "ok": rng.random(n_events) < 0.5,
        "kind": pd.Series(rng.choice(["a", "b", "c"], n_events)),
    })
    return {"customers": customers, "sessions": sessions, "events": events}


SCHEMA = {
    "customers": {"index": "customer_id", "time_index": None, "types": {}},
    "sessions": {"index": "session_id", "time_index": "session_start",
                 "types": {"amount": "double", "quantity": "integer", "visits": "integer_nullable",
                           "flag": "boolean", "flag_nullable": "boolean_nullable",
                           "device": "categorical", "visit_local": "datetime"}},
    "events": {"index": "event_id", "time_index": "event_time",
               "types": {"value": "double", "ok": "boolean", "kind": "categorical"}},
}
RELATIONSHIPS = [("customers", "customer_id", "sessions", "customer_id"),
                 ("sessions", "session_id", "events", "session_id")]


def build_entityset(tables: dict[str, pd.DataFrame]) -> ft.EntitySet:
    es = ft.EntitySet("aggregations")
    for name, spec in SCHEMA.items():
        es.add_dataframe(dataframe_name=name, dataframe=tables[name].copy(), index=spec["index"],
                         time_index=spec["time_index"],
                         logical_types={c: WOODWORK[t] for c, t in spec["types"].items()})
    for parent, parent_key, child, child_key in RELATIONSHIPS:
        es.add_relationship(parent, parent_key, child, child_key)
    return es


def cutoff_frame(keys, times: list[str], tz: str | None = None) -> pd.DataFrame:
    rows = [(key, pd.Timestamp(t, tz=tz)) for key in keys for t in times]
    frame = pd.DataFrame(rows, columns=["customer_id", "time"])
    frame["cutoff_moment"] = frame["time"]
    return frame


def _options(primitives) -> dict:
    names = {p if isinstance(p, str) else p.name for p in primitives}
    return {name: {"ignore_columns": {"sessions": ["visits"]}}
            for name in FAILS_ON_NULLABLE_INTEGER if name in names}


def run(es: ft.EntitySet, keys, primitives, depth: int, tz: str | None = None):
    matrix, features = ft.dfs(entityset=es, target_dataframe_name="customers",
                              agg_primitives=primitives, trans_primitives=[], max_depth=depth,
                              cutoff_time=cutoff_frame(keys, CUTOFFS, tz), return_types="all",
                              primitive_options=_options(primitives))
    names = [name for f in features for name in f.get_feature_names()]
    matrix = matrix.reset_index()
    matrix = matrix.rename(columns={"cutoff_moment": "time"})[["customer_id", "time", *names]]
    for column in names:
        if str(matrix[column].dtype) == "category":  # N_MOST_COMMON_FREQUENCY: counts
            matrix[column] = pd.to_numeric(matrix[column].astype(object), errors="coerce")
        elif str(matrix[column].dtype) == "object":
            matrix[column] = matrix[column].astype(str)
    return matrix, names


def main() -> None:
    warnings.filterwarnings("ignore")
    DATA.mkdir(exist_ok=True)
    tables = make_tables()
    for name, table in tables.items():
        table.to_parquet(DATA / f"{PREFIX}_input_{name}.parquet")
    keys = tables["customers"]["customer_id"].tolist()
    with_parameters = [getattr(fp, cls)(**params) for cls, params in WITH_PARAMETERS]
    # Stacked on DATE_FIRST_EVENT, the date primitives fail in Featuretools (its default 0
    # for a parent without rows is not a date): depth 2 leaves it out, depth 1 has it.
    stackable = [name for name in NEW_AGGREGATIONS if name != "date_first_event"]
    runs = {"stacked": (stackable, 2), "flat": (NEW_AGGREGATIONS, 1),
            "parameters": (with_parameters, 1)}
    description = {"schema": SCHEMA, "relationships": RELATIONSHIPS, "cutoffs": CUTOFFS,
                   "primitives": NEW_AGGREGATIONS,
                   "parameters": [[cls, params] for cls, params in WITH_PARAMETERS], "runs": {}}
    for key, (primitives, depth) in runs.items():
        matrix, names = run(build_entityset(tables), keys, primitives, depth)
        description["runs"][key] = {"max_depth": depth, "features": names}
        if key == "stacked":  # ~1000 numeric features: one row per feature is far smaller
            description["runs"][key]["rows"] = [[int(k), str(t)] for k, t in
                                                zip(matrix["customer_id"], matrix["time"], strict=True)]
            matrix = matrix[names].astype(float).T.reset_index(drop=True)
            matrix.columns = [f"row{i}" for i in range(matrix.shape[1])]
        matrix.to_parquet(DATA / f"{PREFIX}_{key}.parquet")
        print(key, matrix.shape)
    # A time-zone-aware time index: the time-since primitives and the date ones.
    zoned = {name: table.copy() for name, table in tables.items()}
    for table, column in (("sessions", "session_start"), ("events", "event_time")):
        zoned[table][column] = zoned[table][column].dt.tz_localize("Europe/Paris",
                                                                   nonexistent="shift_forward",
                                                                   ambiguous=False)
    for name in ("sessions", "events"):
        zoned[name].to_parquet(DATA / f"{PREFIX}_input_zoned_{name}.parquet")
    matrix, names = run(build_entityset(zoned), keys, NEW_AGGREGATIONS, 1, "Europe/Paris")
    matrix.to_parquet(DATA / f"{PREFIX}_zoned.parquet")
    description["runs"]["zoned"] = {"max_depth": 1, "features": names}
    print("zoned", matrix.shape)
    description["errors"] = {}
    for name in FAILS_ON_NULLABLE_INTEGER:
        try:
            ft.dfs(entityset=build_entityset(tables), target_dataframe_name="customers",
                   agg_primitives=[name], trans_primitives=[], max_depth=1,
                   cutoff_time=cutoff_frame(keys, CUTOFFS), return_types="all")
        except TypeError as error:
            description["errors"][name] = f"{type(error).__name__}: {error}"
    (DATA / f"{PREFIX}_reference.json").write_text(json.dumps(description, indent=1))


if __name__ == "__main__":
    main()
