"""Featuretools' datetime and window transforms (holidays, month / quarter / year ends, rolling,
expanding and exponentially weighted statistics, time since): names, order and values equal
Featuretools 1.31's on the same tables, with and without cutoff times; rows after a cutoff
never move a value.

The reference matrices were written by Featuretools itself
(tests/reference/make_featuretools_time_reference.py) from input tables stored beside them.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from featurekit.primitives import get_primitive
from featuretools_reference import assert_same_values, cutoff_argument, entityset_from
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk

DATA = Path(__file__).parent / "data"
PREFIX = "featuretools_time"
REFERENCE = json.loads((DATA / f"{PREFIX}_reference.json").read_text())
RUNS = sorted(REFERENCE["runs"])
RTOL = 1e-9
# Featuretools answers False for a missing time here; we answer missing (README, "Choices")
FLAGS = ("IS_LEAP_YEAR", "IS_LUNCH_TIME", "IS_MONTH_END", "IS_MONTH_START", "IS_QUARTER_END",
         "IS_QUARTER_START", "IS_WORKING_HOURS", "IS_YEAR_END", "IS_YEAR_START")


def input_tables() -> dict[str, pd.DataFrame]:
    return {table: pd.read_parquet(DATA / f"{PREFIX}_input_{table}.parquet")
            for table in REFERENCE["tables"]}


def build(tables: dict[str, pd.DataFrame] | None = None) -> fk.EntitySet:
    return entityset_from("time", REFERENCE, input_tables() if tables is None else tables)


@pytest.fixture(scope="module")
def es() -> fk.EntitySet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.MissingTimeWarning)
        return build()


def primitives(run: dict) -> list:
    return [type(get_primitive(name))(**params) for name, params in run["primitives"]]


def plan(es: fk.EntitySet, run: dict, **options) -> list:
    return fk.plan(es, target=run["target"], max_depth=1, agg_primitives=[],
                   trans_primitives=primitives(run), **run["options"], **options)


def computed_and_reference(es: fk.EntitySet, key: str) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    run = REFERENCE["runs"][key]
    features = plan(es, run)
    target = es[run["target"]]
    matrix = fk.compute(es, features, cutoff_time=cutoff_argument(run, es))
    reference = pd.read_parquet(DATA / f"{PREFIX}_{key}.parquet")
    several = isinstance(run["cutoff"], list)
    reference = reference.set_index([target.index, "time"] if several else target.index)
    if several:
        # an instance created after its cutoff: Featuretools drops or fills it, we leave it
        # missing (README, "Cutoffs, our rules"); compared where the instance exists
        created = target.frame.to_pandas().set_index(target.index)[target.time_index]
        exists = np.array([created[k] <= moment for k, moment in reference.index])
        reference = reference[exists]
    return matrix.loc[reference.index], reference, features


@pytest.mark.parametrize("key", RUNS)
def test_same_feature_names_in_the_same_order(es, key):
    run = REFERENCE["runs"][key]
    assert [name for f in plan(es, run) for name in f.output_names] == run["features"]


@pytest.mark.parametrize("key", RUNS)
def test_same_values_as_featuretools(es, key):
    matrix, reference, features = computed_and_reference(es, key)
    assert list(matrix.columns) == list(reference.columns)
    assert len(reference) >= 40
    run = REFERENCE["runs"][key]
    table = input_tables()[run["target"]].set_index(REFERENCE["tables"][run["target"]]["index"])
    keys = reference.index.get_level_values(0)
    by_name = {f.name: f for f in features}
    for column in reference.columns:
        expected = reference[column]
        source = by_name[column].inputs[0].name if by_name[column].inputs else None
        if column.startswith(FLAGS):
            missing_time = table.loc[keys, source].isna().to_numpy()
            assert (expected[missing_time].astype(float) == 0).all()  # their False
            assert matrix[column][missing_time].isna().all()  # our missing
            expected = expected.astype("float64").where(~missing_time)
        if column in ("DATE_TO_TIME_ZONE(local_time)", "TIME_SINCE(local_time)") or (
                column.startswith("TIME_SINCE(local_time")):
            check_zone_difference(column, matrix[column], expected, table.loc[keys, source])
            continue
        assert_same_values(matrix[column], expected, RTOL)


def check_zone_difference(column: str, ours: pd.Series, theirs: pd.Series, times: pd.Series) -> None:
    """Featuretools' entity set turns a time-zone-aware column into naive wall-clock times: its
    DATE_TO_TIME_ZONE is always missing, and its TIME_SINCE counts from the wall clock (off by
    the zone's UTC offset). We keep the zone, and count from the instant (README, "Choices")."""
    assert str(times.dt.tz) == "America/New_York"
    if column.startswith("DATE_TO_TIME_ZONE"):
        assert theirs.isna().all()
        assert (ours[times.notna().to_numpy()].astype(str) == "America/New_York").all()
        assert ours[times.isna().to_numpy()].isna().all()
        return
    offsets = -times.map(lambda t: t.utcoffset().total_seconds() if pd.notna(t) else np.nan)
    unit = 86400.0 if "unit=days" in column else 1.0
    np.testing.assert_allclose(theirs.to_numpy() - ours.to_numpy(), offsets.to_numpy() / unit,
                               rtol=0, atol=1e-6)
    assert offsets.dropna().isin([14400.0, 18000.0]).all()  # both summer and winter time


def test_the_reference_covers_the_hard_cases(es):
    """The tables hold what the primitives can get wrong, and the reference shows it."""
    events = input_tables()["events"]
    days = set(events["time"].dt.strftime("%m-%d"))
    assert {"02-29", "12-31", "01-01", "03-31", "07-04"} <= days
    assert events["time"].duplicated().sum() >= 3 and events["amount"].isna().sum() >= 5
    assert str(events["local_time"].dt.tz) == "America/New_York"
    reference = pd.read_parquet(DATA / f"{PREFIX}_events_defaults.parquet")
    assert reference["IS_FEDERAL_HOLIDAY(time)"].astype(bool).sum() >= 5
    assert reference["IS_QUARTER_END(time)"].astype(bool).sum() >= 3
    assert set(reference["DATE_TO_HOLIDAY(time)"].dropna()) >= {"New Year's Day", "Christmas Day"}
    assert reference["ROLLING_OUTLIER_COUNT(time, amount)"].max() >= 0
    params = REFERENCE["runs"]["events_parameters"]["features"]
    assert "ROLLING_MEAN(time, amount, window_length=10d, gap=2d, min_periods=2)" in params


# ------------------------------------------------------------------ no leak
LEAK_PRIMITIVES = [
    ("rolling_mean", {}), ("rolling_mean", {"window_length": "5d", "gap": "1d"}),
    ("rolling_count", {"window_length": "3d", "gap": 0}), ("rolling_trend", {"window_length": 5}),
    ("rolling_outlier_count", {"window_length": 6, "gap": 0}), ("expanding_std", {}),
    ("expanding_count", {}), ("exponential_weighted_average", {"span": 3}),
    ("cumulative_time_since_last_true", {}), ("rate_of_change", {}), ("savgol_filter", {}),
    ("time_since", {}), ("is_federal_holiday", {}), ("distance_to_holiday", {}),
]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.integers(0, 500), seed=st.integers(0, 10_000), several=st.booleans())
def test_rows_after_the_cutoff_never_change_features(day, seed, several):
    """Rewriting every event after the cutoff (values, flags, times) and adding new ones
    leaves every window feature of every instance at every cutoff as it was."""
    moment = pd.Timestamp("2019-12-28") + pd.Timedelta(days=day, minutes=seed % 1440)
    tables = input_tables()
    rng = np.random.default_rng(seed)
    events = tables["events"]
    late = events["time"] > moment
    changed = events.copy()
    changed.loc[late, "amount"] = rng.normal(0, 1e4, late.sum()).round(2)
    changed.loc[late, "quantity"] = rng.integers(100, 200, late.sum())
    changed.loc[late, "flag"] = ~events.loc[late, "flag"]
    extra = events.sample(6, random_state=seed).copy()
    extra["event_id"] = events["event_id"].max() + 1 + np.arange(6)
    extra["time"] = moment + pd.to_timedelta(rng.integers(1, 5_000, 6), unit="min")
    extra["amount"] = rng.normal(0, 1e4, 6)
    changed = pd.concat([changed, extra], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.MissingTimeWarning)
        es = build(tables)
        other = build({**tables, "events": changed})
    features = fk.plan(es, target="events", max_depth=1, agg_primitives=[],
                       trans_primitives=[type(get_primitive(n))(**p) for n, p in LEAK_PRIMITIVES])
    keys = events["event_id"].to_numpy()
    if several:
        offsets = [pd.Timedelta(0), pd.Timedelta(days=20), pd.Timedelta(days=90, hours=3)]
        cutoff = pd.DataFrame([(k, moment - o) for k in keys for o in offsets],
                              columns=["event_id", "time"])
    else:
        cutoff = moment.to_pydatetime()
    before = fk.compute(es, features, cutoff_time=cutoff)
    after = fk.compute(other, features, cutoff_time=cutoff).loc[before.index]
    pd.testing.assert_frame_equal(after, before, check_exact=False, rtol=1e-12,
                                  check_categorical=False, check_dtype=False)
    # the rewrite is seen without a cutoff: the features could have leaked
    plain = fk.compute(es, features)
    if late.sum() >= 3:
        assert not fk.compute(other, features).loc[plain.index].equals(plain)


# ------------------------------------------------------------------ what dfs does not show
DIRECT = REFERENCE["direct"]


@pytest.mark.parametrize("periods", [0, 1, 3])
def test_diff_datetime_equals_featuretools(es, periods):
    """DIFF_DATETIME gives durations: like Featuretools, dfs leaves it out unless asked for
    every return type; its values equal Featuretools' primitive on the same column."""
    primitive = type(get_primitive("diff_datetime"))(periods=periods)
    plain = fk.plan(es, target="events", max_depth=1, agg_primitives=[], trans_primitives=[primitive])
    assert not any(f.name.startswith("DIFF_DATETIME") for f in plain)
    features = fk.plan(es, target="events", max_depth=1, agg_primitives=[],
                       trans_primitives=[primitive], return_types="all")
    name = "DIFF_DATETIME(time)" if periods == 0 else f"DIFF_DATETIME(time, periods={periods})"
    feature = next(f for f in features if f.name == name)
    matrix = fk.compute(es, [feature])
    seconds = matrix[name].dt.total_seconds().to_numpy()
    expected = np.array([np.nan if v is None else v for v in DIRECT[f"diff_datetime_{periods}"]])
    np.testing.assert_allclose(seconds, expected, equal_nan=True)


def test_date_to_time_zone_keeps_the_zone_featuretools_primitive_reports(es):
    """Featuretools' primitive names the zone of an aware column; its entity set loses the zone
    (the dfs matrix is missing everywhere). We keep it, as its primitive does."""
    features = fk.plan(es, target="events", max_depth=1, agg_primitives=[],
                       trans_primitives=["date_to_time_zone"])
    matrix = fk.compute(es, features)
    zones = [None if pd.isna(v) else str(v) for v in matrix["DATE_TO_TIME_ZONE(local_time)"]]
    assert zones == DIRECT["date_to_time_zone"]
    assert matrix["DATE_TO_TIME_ZONE(time)"].isna().all()  # naive times have no zone
    assert DIRECT["is_month_end_of_missing"] == [False, True]  # their False for a missing time


def test_savgol_filter_fills_missing_values_where_featuretools_fails(es):
    """Featuretools means to interpolate missing values before smoothing, but its check reads a
    pandas minimum that skips them: scipy then refuses the column. We interpolate (README)."""
    assert DIRECT["savgol_with_missing"].startswith("ValueError")
    from scipy.signal import savgol_filter

    features = fk.plan(es, target="events", max_depth=1, agg_primitives=[],
                       trans_primitives=["savgol_filter"])
    matrix = fk.compute(es, features)
    amount = input_tables()["events"].sort_values(["time", "event_id"])["amount"].to_numpy()
    missing = np.isnan(amount)
    assert missing.sum() >= 5
    filled = amount.copy()
    filled[missing] = np.interp(np.flatnonzero(missing), np.flatnonzero(~missing), amount[~missing])
    expected = savgol_filter(filled, window_length=len(amount) // 10 * 2 + 1, polyorder=3)
    np.testing.assert_allclose(matrix["SAVGOL_FILTER(amount)"].to_numpy(), expected, rtol=1e-9)


def test_time_since_last_true_does_not_depend_on_which_instances_are_asked(es):
    """Featuretools computes CUMULATIVE_TIME_SINCE_LAST_TRUE over the instances asked for only
    (the primitive does not declare that it needs the whole table): asked for every third
    event, it measures from the last true flag among those. We measure over every row known
    at the cutoff, as its ROLLING_MEAN does; so asking for a subset changes nothing."""
    ids = DIRECT["subset_ids"]
    features = fk.plan(es, target="events", max_depth=1, agg_primitives=[],
                       trans_primitives=["cumulative_time_since_last_true", "rolling_mean"])
    late = pd.Timestamp(REFERENCE["runs"]["events_defaults"]["cutoff"])
    subset = fk.compute(es, features, cutoff_time=pd.DataFrame({"event_id": ids, "time": late}))
    everyone = fk.compute(es, features, cutoff_time=late.to_pydatetime())
    name = "CUMULATIVE_TIME_SINCE_LAST_TRUE(time, flag)"
    for column in (name, "ROLLING_MEAN(time, amount)"):
        np.testing.assert_allclose(subset.loc[ids, column].to_numpy(dtype=float),
                                   everyone.loc[ids, column].to_numpy(dtype=float), equal_nan=True)
    theirs = np.array(DIRECT[f"subset {name}"], dtype=float)
    reference = pd.read_parquet(DATA / f"{PREFIX}_events_defaults.parquet").set_index("event_id")
    np.testing.assert_allclose(reference.loc[ids, name].to_numpy(dtype=float),
                               everyone.loc[ids, name].to_numpy(dtype=float), equal_nan=True)
    assert not np.allclose(theirs, everyone.loc[ids, name].to_numpy(dtype=float), equal_nan=True)
    np.testing.assert_allclose(np.array(DIRECT["subset ROLLING_MEAN(time, amount)"], dtype=float),
                               everyone.loc[ids, "ROLLING_MEAN(time, amount)"].to_numpy(dtype=float),
                               equal_nan=True)


# ------------------------------------------------------------------ independent computations
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_rolling_windows_of_time_follow_pandas_rolling(data):
    """Time-based windows with a gap in rows equal pandas' rolling over the shifted values;
    with a gap of time, the rows in (t - window - gap, t - gap] (a brute force here)."""
    n = data.draw(st.integers(1, 40))
    minutes = np.sort(data.draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n)))
    values = np.array(data.draw(st.lists(st.one_of(st.none(), st.floats(-100, 100)),
                                         min_size=n, max_size=n)), dtype=float)
    hours = data.draw(st.integers(1, 12))
    gap = data.draw(st.one_of(st.integers(0, 3), st.integers(0, 5).map(lambda h: f"{h}h")))
    min_periods = data.draw(st.integers(0, 3))
    statistic = data.draw(st.sampled_from(["mean", "max", "min", "std", "count"]))
    times = pd.Timestamp("2021-03-01") + pd.to_timedelta(minutes, unit="min")
    frame = pd.DataFrame({"row": np.arange(n), "time": times, "value": values})
    es = fk.EntitySet("one")
    es.add_table("rows", frame, index="row", time_index="time", types={"value": "double"})
    name = f"rolling_{statistic}"
    params = {"window_length": f"{hours}h", "gap": gap, "min_periods": min_periods}
    primitive = type(get_primitive(name))(**params)
    features = fk.plan(es, target="rows", max_depth=1, agg_primitives=[], trans_primitives=[primitive])
    ours = fk.compute(es, [f for f in features if f.name.startswith("ROLLING")])
    ours = ours.iloc[:, 0].to_numpy(dtype=float)
    series = pd.Series(np.ones(n) if statistic == "count" else values, index=times)
    if isinstance(gap, int):
        rolled = series.shift(gap).rolling(f"{hours}h", min_periods=min_periods)
        expected = getattr(rolled, statistic)().to_numpy().copy()
        if statistic == "count":
            expected[: gap if not min_periods else min_periods - 1 + gap] = np.nan
    else:
        expected = np.full(n, np.nan)
        skip, length = pd.Timedelta(gap), pd.Timedelta(hours=hours)
        for i in range(n):
            full = series.iloc[: i + 1][series.index[: i + 1] > times[i] - length - skip]
            kept = full[full.index <= times[i] - skip]
            if full.notna().sum() < min_periods or len(kept) < max(min_periods, 1):
                continue
            expected[i] = {"mean": kept.mean, "max": kept.max, "min": kept.min, "std": kept.std,
                           "count": kept.count}[statistic]()
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_demo_end_to_end_rolling_mean_and_federal_holiday():
    """``fk.dfs(trans_primitives=["rolling_mean", "is_federal_holiday"])`` on the demo data,
    checked against pandas and the holidays package directly."""
    import holidays

    es = fk.demo.load_retail()
    matrix, features = fk.dfs(es, target="transactions",
                              trans_primitives=["rolling_mean", "is_federal_holiday"])
    names = [f.name for f in features]
    assert "ROLLING_MEAN(transaction_time, amount)" in names
    assert "IS_FEDERAL_HOLIDAY(transaction_time)" in names
    rows = es["transactions"].frame.to_pandas().sort_values(["transaction_time", "transaction_id"])
    expected = rows["amount"].shift(1).rolling(3, min_periods=0).mean()
    ours = matrix.loc[rows["transaction_id"], "ROLLING_MEAN(transaction_time, amount)"]
    np.testing.assert_allclose(ours.to_numpy(dtype=float), expected.to_numpy(), rtol=1e-12,
                               equal_nan=True)
    calendar = holidays.US(years=range(1950, 2075))
    flags = rows["transaction_time"].dt.date.map(lambda day: day in calendar)
    assert (matrix.loc[rows["transaction_id"], "IS_FEDERAL_HOLIDAY(transaction_time)"]
            .astype(bool).to_numpy() == flags.to_numpy()).all()
    customers, _ = fk.dfs(es, target="customers", trans_primitives=["rolling_mean", "is_federal_holiday"])
    assert "MEAN(sessions.ROLLING_MEAN(sessions.session_start, amount))" not in customers  # depth 2
    assert customers.shape[0] == es["customers"].frame.height


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize(("name", "params", "words"), [
    ("rolling_mean", {"window_length": "M"}, "window_length"),
    ("rolling_mean", {"window_length": 0}, "window_length"),
    ("rolling_max", {"window_length": 3, "gap": "1d"}, "gap"),
    ("rolling_min", {"window_length": 2, "min_periods": 3}, "min_periods"),
    ("rolling_std", {"gap": -1}, "gap"),
    ("expanding_mean", {"gap": "1d"}, "gap"),
    ("exponential_weighted_average", {"span": 3, "alpha": 0.2}, "alpha"),
    ("exponential_weighted_std", {"alpha": 1.5}, "alpha"),
    ("distance_to_holiday", {"holiday": "Boxing Day"}, "holiday"),
    ("is_federal_holiday", {"country": "Atlantis"}, "Atlantis"),
    ("savgol_filter", {"window_length": 7}, "polyorder"),
    ("savgol_filter", {"window_length": 3, "polyorder": 5}, "window_length"),
    ("is_lunch_time", {"lunch_hour": 25}, "lunch_hour"),
    ("time_since", {"unit": "fortnights"}, "unit"),
])
def test_bad_parameters_are_refused_naming_the_primitive(name, params, words):
    with pytest.raises(fk.PlanError) as caught:
        type(get_primitive(name))(**params)
    message = str(caught.value)
    assert repr(name) in message and words in message and "Fix" in message


def test_a_window_of_time_over_times_out_of_row_order_is_refused():
    """A parent's time (``sessions.session_start`` on transactions) need not follow the rows'
    order; a window of time over it has no meaning (Featuretools' pandas refuses it too). Our
    error names the primitive and the fix; a window of rows over the same input still works."""
    es = fk.demo.load_retail()
    RollingMean = type(get_primitive("rolling_mean"))
    features = fk.plan(es, target="transactions", max_depth=2, agg_primitives=[],
                       trans_primitives=[RollingMean(window_length="2h"), RollingMean(window_length=4)])
    by_name = {f.name: f for f in features}
    with pytest.raises(fk.ComputeError) as caught:
        fk.compute(es, [by_name["ROLLING_MEAN(sessions.session_start, amount, window_length=2h)"]])
    assert "'rolling_mean'" in str(caught.value) and "Fix" in str(caught.value)
    rows = fk.compute(es, [by_name["ROLLING_MEAN(sessions.session_start, amount, window_length=4)"],
                           by_name["ROLLING_MEAN(transaction_time, amount, window_length=2h)"]])
    assert rows.notna().any().all()


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6), st.sampled_from([3.0, 1e6])),
                       min_size=1, max_size=300),
       window=st.integers(1, 60), shift=st.integers(0, 4), statistic=st.sampled_from(
           ["mean", "max", "min", "std", "count"]))
def test_sliding_windows_equal_each_window_computed_afresh(values, window, shift, statistic):
    """The one-pass kernel (running moments, monotonic queues) equals computing each window
    from its own values, also after large values have come and gone many times."""
    from featurekit.primitives import window_kernels as kernels

    data = np.array([np.nan if v is None else v for v in values])
    n = data.shape[0]
    stops = np.arange(1, n + 1, dtype=np.int64)
    starts = np.maximum(stops - window, 0)
    code = kernels.STATISTICS[statistic]
    sliding = kernels.sliding_statistic(data, starts, stops, shift, starts, stops, 1, 0, code)
    afresh = kernels.window_statistic(data, np.zeros(n), starts, stops, shift, starts, stops, 1, 0,
                                      code)
    np.testing.assert_allclose(sliding, afresh, rtol=1e-9, atol=1e-9 * max(1.0, np.nanmax(
        np.abs(data), initial=1.0)), equal_nan=True)


def test_saved_window_features_load_and_give_the_same_values(es, tmp_path):
    """A window of time ("1d", gap "1h") is a string where the default is a number of rows:
    saved features keep it, and loading them gives the same matrix."""
    make = lambda name, **params: type(get_primitive(name))(**params)  # noqa: E731
    features = fk.plan(es, target="events", max_depth=1, agg_primitives=[], trans_primitives=[
        make("rolling_mean", window_length="1d", gap="1h"), make("rolling_count", window_length=4),
        make("exponential_weighted_std", span=3), make("distance_to_holiday", holiday="Christmas Day"),
        make("date_to_holiday", country="Canada")])
    path = tmp_path / "features.json"
    fk.save_features(features, path)
    loaded = fk.load_features(path)
    assert [f.name for f in loaded] == [f.name for f in features]
    pd.testing.assert_frame_equal(fk.compute(es, loaded), fk.compute(es, features))


def test_an_aware_time_index_windows_by_instant_and_dates_by_its_own_clock():
    """Windows of time count elapsed time, the same in any zone; calendar parts read the
    zone's clock (late on December 31 in New York is already January 1 in UTC)."""
    events = input_tables()["events"][["event_id", "time", "amount"]]
    aware = events.assign(time=events["time"].dt.tz_localize("America/New_York"))
    utc = events.assign(time=aware["time"].dt.tz_convert("UTC").dt.tz_localize(None))
    make = lambda name, **params: type(get_primitive(name))(**params)  # noqa: E731
    primitives = [make("rolling_mean", window_length="2d", gap="6h"), make("expanding_std"),
                  make("is_year_start"), make("is_federal_holiday")]
    matrices = {}
    for name, frame in (("aware", aware), ("utc", utc)):
        es = fk.EntitySet(name)
        es.add_table("events", frame, index="event_id", time_index="time")
        features = fk.plan(es, target="events", max_depth=1, agg_primitives=[],
                           trans_primitives=primitives)
        cutoff = pd.Timestamp("2020-07-01", tz="UTC" if name == "aware" else None)
        matrices[name] = fk.compute(es, features, cutoff_time=cutoff)
    windows = ["ROLLING_MEAN(time, amount, window_length=2d, gap=6h)", "EXPANDING_STD(time, amount)"]
    pd.testing.assert_frame_equal(matrices["aware"][windows], matrices["utc"][windows])
    local = aware.set_index("event_id")["time"]
    known = local.index[local <= pd.Timestamp("2020-07-01", tz="UTC")]
    expected = (local.dt.month == 1) & (local.dt.day == 1)
    assert (matrices["aware"].loc[known, "IS_YEAR_START(time)"].astype(bool)
            == expected[known]).all()
    assert expected[known].sum() >= 1
    assert not (matrices["utc"].loc[known, "IS_YEAR_START(time)"].astype(bool)
                == expected[known]).all()  # the UTC clock says otherwise on some rows
