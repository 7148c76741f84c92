"""Write Featuretools 1.31's values of its datetime and window transforms (holidays, month and
quarter ends, rolling / expanding / exponentially weighted statistics, time since) to
tests/data, as the reference tests/test_featuretools_time_transforms.py compares with.

Two tables are generated here (deterministic) and written beside the matrices:

- ``events``: times around holidays, month / quarter / year ends and a leap day, ties in
  time, missing values, a naive time index and a time-zone-aware second datetime column;
- ``visits``: the same kinds of values with missing times (Featuretools' time-based windows
  refuse those, so only row-count windows run over it).

Each run is a ``dfs`` call on one target with ``agg_primitives=[]`` and the listed transform
primitives (name and parameters, stored in the JSON so the test builds the same ones).

Run in an environment with featuretools 1.31 and pandas 2.2 (not featurekit's own):
    python tests/reference/make_featuretools_time_reference.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from woodwork.logical_types import Boolean, Categorical, Datetime, Double, Integer

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
PREFIX = "featuretools_time"
LATE = "2030-01-01"
WOODWORK = {"integer": Integer, "double": Double, "categorical": Categorical, "boolean": Boolean,
            "datetime": Datetime}
# Days a calendar primitive can get wrong: US federal holidays (and their observed days),
# month / quarter / year ends and starts, the leap day, a day of the week before each.
SPECIAL_DAYS = [
    "2019-12-24", "2019-12-25", "2019-12-31", "2020-01-01", "2020-01-20", "2020-02-17",
    "2020-02-28", "2020-02-29", "2020-03-01", "2020-03-31", "2020-04-01", "2020-05-25",
    "2020-06-30", "2020-07-03", "2020-07-04", "2020-09-07", "2020-09-30", "2020-10-01",
    "2020-11-11", "2020-11-26", "2020-12-25", "2020-12-31", "2021-01-01", "2021-02-28",
    "2021-03-01", "2021-06-19", "2021-07-01",
]
DATE_PRIMITIVES = [
    "date_to_holiday", "date_to_time_zone", "days_in_month", "distance_to_holiday",
    "is_federal_holiday", "is_first_week_of_month", "is_leap_year", "is_lunch_time",
    "is_month_end", "is_month_start", "is_quarter_end", "is_quarter_start",
    "is_working_hours", "is_year_end", "is_year_start", "nth_week_of_month", "part_of_day",
    "season", "time_since", "diff_datetime",
]
WINDOW_PRIMITIVES = [
    "cumulative_time_since_last_false", "cumulative_time_since_last_true", "expanding_count",
    "expanding_max", "expanding_mean", "expanding_min", "expanding_std", "expanding_trend",
    "exponential_weighted_average", "exponential_weighted_std",
    "exponential_weighted_variance", "rolling_count", "rolling_max", "rolling_mean",
    "rolling_min", "rolling_outlier_count", "rolling_std", "rolling_trend", "rate_of_change",
]
DEFAULTS = [(name, {}) for name in DATE_PRIMITIVES + WINDOW_PRIMITIVES]
# Non-default parameters: row-count and time-based windows, gaps in rows and in time.
PARAMETERS = [
    ("rolling_mean", {"window_length": "7d", "gap": 0, "min_periods": 1}),
    ("rolling_mean", {"window_length": "10d", "gap": "2d", "min_periods": 2}),
    ("rolling_mean", {"window_length": 5, "gap": 0, "min_periods": 2}),
    ("rolling_max", {"window_length": "3d", "gap": 2, "min_periods": 1}),
    ("rolling_min", {"window_length": 4, "gap": 2, "min_periods": 3}),
    ("rolling_std", {"window_length": "14d", "gap": "1d", "min_periods": 2}),
    ("rolling_count", {"window_length": "7d", "gap": 0, "min_periods": 0}),
    ("rolling_count", {"window_length": "5d", "gap": "1d", "min_periods": 2}),
    ("rolling_count", {"window_length": 4, "gap": 2, "min_periods": 2}),
    ("rolling_trend", {"window_length": "20d", "gap": 0, "min_periods": 3}),
    ("rolling_trend", {"window_length": 6, "gap": 0, "min_periods": 0}),
    ("rolling_outlier_count", {"window_length": 8, "gap": 0, "min_periods": 1}),
    ("rolling_outlier_count", {"window_length": "30d", "gap": "1d", "min_periods": 0}),
    ("expanding_count", {"gap": 0, "min_periods": 3}),
    ("expanding_mean", {"gap": 3, "min_periods": 2}),
    ("expanding_std", {"gap": 0, "min_periods": 4}),
    ("expanding_trend", {"gap": 2, "min_periods": 0}),
    ("exponential_weighted_average", {"span": 4}),
    ("exponential_weighted_average", {"alpha": 0.3, "ignore_na": True}),
    ("exponential_weighted_std", {"halflife": 2.5}),
    ("exponential_weighted_variance", {"com": 2.0, "ignore_na": True}),
    ("is_lunch_time", {"lunch_hour": 13}),
    ("is_working_hours", {"start_hour": 9, "end_hour": 17}),
    ("distance_to_holiday", {"holiday": "Christmas Day"}),
    ("distance_to_holiday", {"holiday": "Canada Day", "country": "Canada"}),
    ("date_to_holiday", {"country": "Canada"}),
    ("is_federal_holiday", {"country": "UK"}),
    ("time_since", {"unit": "days"}),
    ("diff_datetime", {"periods": 1}),
]
# Featuretools' savgol_filter fails on a column with missing values (see the README): it runs
# on the columns without any.
SAVGOL = [("savgol_filter", {}), ("savgol_filter", {"window_length": 7, "polyorder": 2}),
          ("savgol_filter", {"window_length": 9, "polyorder": 3, "deriv": 1, "mode": "nearest"}),
          ("savgol_filter", {"window_length": 5, "polyorder": 1, "mode": "wrap"})]
NO_AMOUNT = {"ignore_columns": {"events": ["amount"]}}
ROW_WINDOWS = [(name, params) for name, params in DEFAULTS + PARAMETERS
               if not any(isinstance(v, str) and v[-1] == "d" for v in params.values())]
TABLES = {
    "events": {"index": "event_id", "time_index": "time",
               "types": {"event_id": "integer", "customer_id": "integer", "amount": "double",
                         "quantity": "integer", "flag": "boolean", "time": "datetime",
                         "local_time": "datetime"}},
    "visits": {"index": "visit_id", "time_index": "seen_at",
               "types": {"visit_id": "integer", "customer_id": "integer",
                         "duration": "double", "returning": "boolean",
                         "seen_at": "datetime"}},
    "customers": {"index": "customer_id", "time_index": None,
                  "types": {"customer_id": "integer", "segment": "categorical"}},
}
RELATIONSHIPS = [["customers", "customer_id", "events", "customer_id"],
                 ["customers", "customer_id", "visits", "customer_id"]]
CUTOFFS = ["2020-01-01 00:00:00", "2020-03-01 12:00:00", "2020-07-04 09:30:00",
           "2021-01-01 00:00:00"]
RUNS = {
    "events_defaults": ("events", LATE, DEFAULTS, {}),
    "events_parameters": ("events", LATE, PARAMETERS, {}),
    "events_cutoffs": ("events", CUTOFFS, DEFAULTS + PARAMETERS, {}),
    "events_savgol": ("events", LATE, SAVGOL, NO_AMOUNT),
    "events_savgol_cutoffs": ("events", CUTOFFS[1:], SAVGOL, NO_AMOUNT),
    "visits_row_windows": ("visits", LATE, ROW_WINDOWS, {}),
    "visits_cutoffs": ("visits", CUTOFFS[1:3], ROW_WINDOWS, {}),
}


def _special_times(rng: np.random.Generator, size: int) -> np.ndarray:
    days = pd.to_datetime(rng.choice(SPECIAL_DAYS, size)).to_numpy()
    minutes = rng.integers(0, 24 * 60, size).astype("timedelta64[m]")
    return (days + minutes).astype("datetime64[ns]")


def make_tables(seed: int = 31) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 90
    times = np.sort(_special_times(rng, n))
    times[10:13] = times[10]  # ties in time: the index orders them
    times[40:42] = times[40]
    local = pd.Series(_special_times(rng, n)).dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    local[rng.random(n) < 0.1] = pd.NaT
    amount = rng.normal(50.0, 20.0, n).round(2)
    amount[rng.random(n) < 0.12] = np.nan
    amount[[25, 60]] = [900.0, -400.0]  # outliers
    events = pd.DataFrame({
        "event_id": np.arange(n),  # in time order, as Featuretools sorts them
        "customer_id": rng.integers(1, 5, n),
        "amount": amount,
        "quantity": rng.integers(1, 9, n),
        "flag": rng.random(n) < 0.4,
        "time": times,
        "local_time": local,
    })
    m = 50
    seen = np.sort(_special_times(rng, m))
    duration = rng.gamma(2.0, 30.0, m).round(1)
    duration[rng.random(m) < 0.15] = np.nan
    visits = pd.DataFrame({
        "visit_id": np.arange(m),
        "customer_id": rng.integers(1, 5, m),
        "duration": duration,
        "returning": rng.random(m) < 0.5,
        "seen_at": seen,
    })
    visits.loc[[m - 4, m - 2, m - 1], "seen_at"] = pd.NaT  # last in Featuretools' order too
    customers = pd.DataFrame({"customer_id": np.arange(1, 5), "segment": list("abca")})
    return {"events": events, "visits": visits, "customers": customers}


def build_entityset(tables: dict[str, pd.DataFrame]) -> ft.EntitySet:
    es = ft.EntitySet("time")
    for table, spec in TABLES.items():
        es.add_dataframe(dataframe_name=table, dataframe=tables[table].copy(), index=spec["index"],
                         time_index=spec["time_index"],
                         logical_types={c: WOODWORK[t] for c, t in spec["types"].items()})
    for parent, parent_key, child, child_key in RELATIONSHIPS:
        es.add_relationship(parent, parent_key, child, child_key)
    return es


def primitive(name: str, params: dict):
    return ft.primitives.get_transform_primitives()[name](**params)


def _write_small_parquet(matrix: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(matrix.reset_index(), preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), path, compression="zstd",
                   write_statistics=False, store_schema=False)


def _portable(matrix: pd.DataFrame) -> pd.DataFrame:
    """Categories as text, durations as seconds: what parquet and both libraries share."""
    for column in matrix.columns:
        dtype = str(matrix[column].dtype)
        if dtype == "category":
            matrix[column] = matrix[column].astype(object).astype("string")
        elif dtype.startswith("timedelta"):
            matrix[column] = matrix[column].dt.total_seconds()
    return matrix


def main() -> None:
    warnings.filterwarnings("ignore")
    DATA.mkdir(exist_ok=True)
    tables = make_tables()
    for table, frame in tables.items():
        frame.to_parquet(DATA / f"{PREFIX}_input_{table}.parquet", index=False)
    manifest = {}
    for key, (target, cutoff, specs, options) in RUNS.items():
        es = build_entityset(tables)
        index = TABLES[target]["index"]
        if isinstance(cutoff, list):
            rows = [(k, pd.Timestamp(t)) for k in tables[target][index] for t in cutoff]
            cutoff_time = pd.DataFrame(rows, columns=[index, "time"])
            cutoff_time["cutoff_moment"] = cutoff_time["time"]
        else:
            cutoff_time = pd.Timestamp(cutoff)
        matrix, features = ft.dfs(entityset=es, target_dataframe_name=target, max_depth=1,
                                  agg_primitives=[], cutoff_time=cutoff_time,
                                  trans_primitives=[primitive(n, p) for n, p in specs], **options)
        names = [name for f in features for name in f.get_feature_names()]
        if isinstance(cutoff, list):
            matrix = matrix.reset_index().rename(columns={"cutoff_moment": "time"})
            matrix = matrix.sort_values([index, "time"], kind="stable").set_index([index, "time"])
        matrix = _portable(matrix[names].copy())
        out = DATA / f"{PREFIX}_{key}.parquet"
        _write_small_parquet(matrix, out)
        manifest[key] = {"target": target, "cutoff": cutoff, "features": names, "options": options,
                         "primitives": [[n, p] for n, p in specs],
                         "types": {f.get_name(): str(f.column_schema.logical_type)
                                   for f in features}}
        print(out.name, matrix.shape)
    (DATA / f"{PREFIX}_reference.json").write_text(json.dumps(
        {"featuretools": ft.__version__, "tables": TABLES, "relationships": RELATIONSHIPS,
         "runs": manifest, "direct": direct_calls(tables)}, indent=1))


def direct_calls(tables: dict[str, pd.DataFrame]) -> dict:
    """What dfs does not show: DIFF_DATETIME (dfs keeps no time-delta feature by default), the
    primitives called on the columns themselves, and Featuretools' failure on missing values."""
    events = tables["events"]
    out = {}
    for periods in (0, 1, 3):
        values = ft.primitives.DiffDatetime(periods=periods)(events["time"])
        out[f"diff_datetime_{periods}"] = [None if pd.isna(v) else v.total_seconds() for v in values]
    zones = ft.primitives.DateToTimeZone()(events["local_time"])
    out["date_to_time_zone"] = [None if pd.isna(v) else v for v in zones]
    out["is_month_end_of_missing"] = [bool(v) for v in ft.primitives.IsMonthEnd()(
        pd.Series(pd.to_datetime([None, "2020-01-31"])))]
    # asked for every third event only: a primitive that does not declare it needs the whole
    # table sees only those rows (its value depends on which instances were asked for)
    subset = pd.DataFrame({"event_id": events["event_id"][::3], "time": pd.Timestamp(LATE)})
    matrix, _ = ft.dfs(entityset=build_entityset(tables), target_dataframe_name="events",
                       max_depth=1, agg_primitives=[], cutoff_time=subset,
                       trans_primitives=["cumulative_time_since_last_true", "rolling_mean"])
    matrix = matrix.loc[subset["event_id"]]
    out["subset_ids"] = [int(v) for v in subset["event_id"]]
    for name in ("CUMULATIVE_TIME_SINCE_LAST_TRUE(time, flag)", "ROLLING_MEAN(time, amount)"):
        out[f"subset {name}"] = [None if pd.isna(v) else float(v) for v in matrix[name]]
    try:
        ft.primitives.SavgolFilter()(events["amount"].copy())
        out["savgol_with_missing"] = "no error"
    except ValueError as error:
        out["savgol_with_missing"] = f"ValueError: {error}"
    return out


if __name__ == "__main__":
    main()
