"""Infinities, NaN and missing values, and integers beyond 2**53: every path that computes an
aggregation (one moment, one cutoff per instance walked, several cutoffs swept, text keys
that take polars' expressions) agrees with a plain numpy computation written here."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

import featurekit as fk

START = pd.Timestamp("2021-01-01")
LATE = pd.Timestamp("2030-01-01")
EARLY = pd.Timestamp("2000-01-01")
VALUES = st.one_of(st.sampled_from([np.inf, -np.inf, np.nan, None, 0.0, 1.0, -2.5, 1e100, -1e100]),
                   st.floats(-1e6, 1e6, allow_nan=False))
STATISTICS = ["count", "sum", "mean", "std", "min", "max", "skew"]


def oracle(values: list) -> dict[str, float]:
    """Featuretools' statistics of one parent's values in numpy: missing and NaN skipped,
    infinities as IEEE arithmetic has them; COUNT counts rows, SUM of nothing is 0."""
    numbers = np.array([v for v in values if v is not None and not np.isnan(v)], dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        if len(numbers) < 3 or np.isinf(numbers).any():
            skew = np.nan
        elif numbers.min() == numbers.max():
            skew = 0.0
        else:
            skew = float(scipy_stats.skew(numbers, bias=False))
        # deviations from a mean far from zero carry rounding of eps * |mean| each, so any
        # float skew (this reference's too) is good to about eps * |mean| / std
        spread = float(numbers.std()) if len(numbers) > 1 else 0.0
        skew_tolerance = (64 * np.finfo(float).eps * abs(float(numbers.mean())) / spread
                          if spread > 0 and np.isfinite(spread) else 0.0)
        return {
            "count": float(len(values)),
            "sum": float(numbers.sum()) if len(numbers) else 0.0,
            "mean": float(numbers.mean()) if len(numbers) else np.nan,
            "std": float(numbers.std(ddof=1)) if len(numbers) > 1 else np.nan,
            "min": float(numbers.min()) if len(numbers) else np.nan,
            "max": float(numbers.max()) if len(numbers) else np.nan,
            "skew": skew,
            "skew_tolerance": skew_tolerance,
            # a deviation's rounding, eps * |mean|, bounds how close to the truth a float std is
            "std_tolerance": (64 * np.finfo(float).eps * abs(float(numbers.mean()))
                              if len(numbers) and np.isfinite(numbers).all() else 0.0),
        }


def entityset(groups: list[list], text_keys: bool, kind: str) -> fk.EntitySet:
    """customers <- sessions <- events: each customer one session holding ``groups[i]``."""
    ids = [f"c{i}" if text_keys else i for i in range(len(groups))]
    values = [v for group in groups for v in group]
    owner = [ids[i] for i, group in enumerate(groups) for _ in group]
    customers = pd.DataFrame({"customer_id": ids, "joined": START})
    sessions = pd.DataFrame({"session_id": ids, "customer_id": ids, "start": START})
    events = pd.DataFrame({"event_id": np.arange(len(values)),
                           "session_id": pd.Series(owner, dtype=str if text_keys else "int64"),
                           "value": pd.array(values, dtype="Float64").astype(object),
                           "time": START + pd.to_timedelta(np.arange(1, len(values) + 1), unit="h")})
    events["value"] = [np.nan if v is None else v for v in values]
    tables = [customers, sessions, events]
    if kind == "polars":  # polars keeps NaN apart from missing: both must read as missing
        tables = [pl.from_pandas(t) for t in tables]
        tables[2] = tables[2].with_columns(pl.Series("value", values, dtype=pl.Float64, strict=False))
    es = fk.EntitySet("extreme")
    es.add_table("customers", tables[0], index="customer_id", time_index="joined")
    es.add_table("sessions", tables[1], index="session_id", time_index="start")
    es.add_table("events", tables[2], index="event_id", time_index="time")
    es.add_relationship(parent="customers", parent_key="customer_id", child="sessions", child_key="customer_id")
    es.add_relationship(parent="sessions", parent_key="session_id", child="events", child_key="session_id")
    return es


def features_of(es: fk.EntitySet) -> list:
    names = ["COUNT(events)", *(f"{s.upper()}(events.value)" for s in STATISTICS if s != "count")]
    return fk.plan(es, target="customers", agg_primitives=STATISTICS, trans_primitives=[], include=names)


def check(matrix, expected_rows: list[dict[str, float]]) -> None:
    frame = matrix.to_pandas() if isinstance(matrix, pl.DataFrame) else matrix.reset_index(drop=True)
    for statistic in STATISTICS:
        column = "COUNT(events)" if statistic == "count" else f"{statistic.upper()}(events.value)"
        got = pd.to_numeric(frame[column], errors="coerce").astype(float).to_numpy()
        want = np.array([row[statistic] for row in expected_rows])
        # skewness is dimensionless and cancels badly on near-symmetric data: an absolute
        # tolerance for it, relative ones for the rest
        atol = (max([1e-12] + [row[f"{statistic}_tolerance"] for row in expected_rows])
                if statistic in ("skew", "std") else 0)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=atol, equal_nan=True, err_msg=column)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=st.lists(st.lists(VALUES, min_size=0, max_size=6), min_size=1, max_size=5),
       text_keys=st.booleans(), kind=st.sampled_from(["pandas", "polars"]))
@example(groups=[[0.0, -1e150, 0.0, 0.0, 1e150]], text_keys=False, kind="pandas")  # cancelling
@example(groups=[[0.0, 0.0, 8.179778226376997e-189]], text_keys=False,
         kind="pandas")  # a variance below the smallest double: skew is 0 / 0, missing as pandas
def test_every_path_agrees_with_numpy_on_infinities_and_missing_values(groups, text_keys, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = entityset(groups, text_keys, kind)
    features = features_of(es)
    ids = es["customers"].frame["customer_id"].to_list()
    expected = [oracle(group) for group in groups]
    nothing = oracle([])
    check(fk.compute(es, features, return_type="pandas"), expected)
    check(fk.compute(es, features, cutoff_time=LATE, return_type="pandas"), expected)
    walked = pd.DataFrame({"customer_id": ids, "time": [LATE] * len(ids)})
    check(fk.compute(es, features, cutoff_time=walked, return_type="pandas"), expected)
    swept = pd.DataFrame({"customer_id": ids * 2, "time": [LATE] * len(ids) + [START] * len(ids)})
    # at START a customer and its session exist but no event is known yet (COUNT 0, SUM 0)
    before = [dict(nothing, count=0.0) for _ in ids]
    check(fk.compute(es, features, cutoff_time=swept, return_type="pandas"), expected + before)


BIG = 2**53 + 1


@pytest.mark.parametrize("text_keys", [False, True])
@pytest.mark.parametrize("cutoffs", ["none", "walked", "swept"])
def test_integers_beyond_two_to_the_53_stay_exact(text_keys, cutoffs):
    values = [[BIG, 2**60 + 3, -(2**62) + 7], [7, None], [BIG, BIG, 2**53 + 3]]
    flat = [v for group in values for v in group]
    ids = [f"c{i}" if text_keys else i for i in range(len(values))]
    owner = [ids[i] for i, group in enumerate(values) for _ in group]
    events = pl.DataFrame({"event_id": range(len(flat)), "customer_id": owner,
                           "n": pl.Series(flat, dtype=pl.Int64), "code": pl.Series(flat, dtype=pl.Int64),
                           "time": [START + pd.Timedelta(hours=h) for h in range(len(flat))]})
    es = fk.EntitySet("big")
    es.add_table("customers", pl.DataFrame({"customer_id": ids}), index="customer_id")
    es.add_table("events", events, index="event_id", time_index="time", types={"code": "categorical"})
    es.add_relationship(parent="customers", parent_key="customer_id", child="events", child_key="customer_id")
    features = fk.plan(es, target="customers", agg_primitives=["sum", "min", "max", "first", "last", "mode"],
                       trans_primitives=[], include=["*(events.n)", "MODE(events.code)"])
    if cutoffs == "none":
        matrix = fk.compute(es, features)
    else:
        repeat = 2 if cutoffs == "swept" else 1
        frame = pl.DataFrame({"customer_id": ids * repeat,
                              "time": [LATE.to_pydatetime()] * len(ids) + [EARLY.to_pydatetime()] * (
                                  len(ids) * (repeat - 1))})
        matrix = fk.compute(es, features, cutoff_time=frame).head(len(ids))
    for position, group in enumerate(values):
        present = [v for v in group if v is not None]
        row = matrix.row(position, named=True)
        assert row["SUM(events.n)"] == sum(present)
        assert row["MIN(events.n)"] == min(present)
        assert row["MAX(events.n)"] == max(present)
        assert row["FIRST(events.n)"] == group[0]
        assert row["LAST(events.n)"] == group[-1]
        counts = pd.Series(present).value_counts()
        assert row["MODE(events.code)"] == min(counts[counts == counts.max()].index)
    assert matrix.schema["SUM(events.n)"] == pl.Int64


@pytest.mark.parametrize("text_keys", [False, True])
def test_an_integer_sum_beyond_int64_is_an_error_not_a_wrapped_value(text_keys):
    ids = ["a", "b"] if text_keys else [1, 2]
    events = pd.DataFrame({"event_id": [1, 2, 3], "customer_id": [ids[0], ids[0], ids[1]],
                           "n": [2**62, 2**62, 5]})
    es = fk.EntitySet("overflow")
    es.add_table("customers", pd.DataFrame({"customer_id": ids}), index="customer_id")
    es.add_table("events", events, index="event_id")
    es.add_relationship(parent="customers", parent_key="customer_id", child="events", child_key="customer_id")
    features = fk.plan(es, target="customers", agg_primitives=["sum"], trans_primitives=[])
    with pytest.raises(fk.FeaturekitError, match="SUM of integer column 'n' exceeds the int64 range"):
        fk.compute(es, features)
    several = pd.DataFrame({"customer_id": [ids[0], ids[0], ids[1]], "time": [START, LATE, START]})
    with pytest.raises(fk.FeaturekitError, match="SUM of integer column 'n' exceeds the int64 range"):
        fk.compute(es, features, cutoff_time=several)  # swept
