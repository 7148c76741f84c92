"""Every time-series calculator parameter is checked against its declared range, in
``fk.timeseries.extract`` and in the DFS primitives alike.

- Boundary values (the smallest and largest allowed, every choice) give finite or NaN
  values, and an id's values never change when other ids' series change.
- Values outside the range raise a featurekit error naming the calculator, the parameter,
  its range and the fix, before any kernel runs.
- The kernels themselves never read outside their window, whatever the plan holds (the
  settings check bypassed).

The cases are generated from the calculators' declarations, so a new calculator or a new
bound is covered without editing this file. Everything that runs a kernel on boundary or
unchecked parameters runs in a child process (this file run as a script): a segmentation
fault fails the tests instead of killing pytest.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from featurekit.primitives import timeseries as catalogue
from featurekit.primitives import timeseries_primitives
from featurekit.primitives.timeseries import Calculator, Parameter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
import featurekit.timeseries as fkts
from featurekit.errors import FeaturekitError, PlanError

LARGEST_FLOAT = sys.float_info.max
# Series lengths around every calculator's edge cases (1 and 2 points, fewer points than a
# permutation pattern, a long one) and a constant series.
LENGTHS = (1, 2, 3, 7, 24, 41)
CONSTANT_ID = 6


# ------------------------------------------------------------------------------------------
# Cases, from the declarations
# ------------------------------------------------------------------------------------------


def boundary_values(parameter: Parameter) -> list[Any]:
    """The extreme allowed values of ``parameter`` (every value of a choice or a flag)."""
    if parameter.none_only:
        return [None]
    if parameter.choices is not None:
        return list(parameter.choices) + ([None] if parameter.optional else [])
    if parameter.boolean:
        return [False, True]
    if parameter.integer:
        assert parameter.low is not None and parameter.high is not None, parameter
        values: list[Any] = [int(parameter.low), int(parameter.high)]
    else:
        low = parameter.low
        if low is not None and parameter.low_exclusive:
            low = math.nextafter(low, math.inf)
        lows = [low] if low is not None else [-LARGEST_FLOAT]
        highs = [parameter.high] if parameter.high is not None else [LARGEST_FLOAT]
        if parameter.infinite:
            lows += [] if parameter.low is not None else [-math.inf]
            highs += [] if parameter.high is not None else [math.inf]
        values = lows + highs + ([math.nan] if parameter.nan else [])
    return [(value,) for value in values] if parameter.sequence else values


def _satisfy_relations(calculator: Calculator, combo: dict[str, Any], varied: str) -> None:
    """Adjust the other side of a cross-parameter rule so ``combo`` stays valid."""
    by_name = {p.name: p for p in calculator.parameters}
    for parameter in calculator.parameters:
        if parameter.below is not None and combo[parameter.name] >= combo[parameter.below]:
            other = by_name[parameter.below]
            if varied == parameter.name and combo[parameter.name] + 1 <= other.high:
                combo[parameter.below] = combo[parameter.name] + 1
            elif varied == parameter.name:
                combo[parameter.below] = int(other.high)
                combo[parameter.name] = int(other.high) - 1
            else:
                combo[parameter.name] = combo[parameter.below] - 1
        if parameter.member_of is not None:
            if varied == parameter.name:
                combo[parameter.member_of] = (combo[parameter.name],)
            elif varied == parameter.member_of:
                combo[parameter.name] = combo[parameter.member_of][0]


def boundary_combinations(calculator: Calculator) -> list[dict[str, Any] | None]:
    """The first combination of tsfresh's grid, then each parameter at each of its extremes."""
    base = calculator.example()
    combos: list[dict[str, Any] | None] = [base or None]
    for parameter in calculator.parameters:
        for value in boundary_values(parameter):
            combo = {**base, parameter.name: value}
            _satisfy_relations(calculator, combo, parameter.name)
            combos.append(combo)
    unique: dict[str, dict[str, Any] | None] = {}
    for combo in combos:
        unique.setdefault(repr(combo), combo)
    return list(unique.values())


def out_of_range_values(parameter: Parameter) -> list[Any]:
    """Values ``parameter`` must refuse: wrong types, just outside each bound, NaN/inf."""
    if parameter.none_only:
        return [[1.0, 2.0], 0.0]
    not_none = [] if parameter.optional else [None]
    if parameter.choices is not None:
        return ["no such choice", 0, *not_none]
    if parameter.boolean:
        return [1, "yes", *not_none]
    bad: list[Any] = ["1", True, *not_none]
    if parameter.low is not None:
        if parameter.integer:
            bad.append(int(parameter.low) - 1)
        elif parameter.low_exclusive:
            bad += [parameter.low, parameter.low - 1]
        else:
            bad += [math.nextafter(parameter.low, -math.inf), parameter.low - 0.5]
    if parameter.high is not None:
        bad.append(int(parameter.high) + 1 if parameter.integer else parameter.high + 0.5)
        if not parameter.integer:
            bad.append(math.nextafter(parameter.high, math.inf))
    if parameter.integer:
        bad += [int(parameter.low) + 0.5, 10**400]
    if not parameter.nan:
        bad.append(math.nan)
    if not parameter.infinite:
        bad += [math.inf, -math.inf]
    if parameter.sequence:
        return ["2, 5", [], *[[value] for value in bad if value is not None and value != "1"]]
    return bad


def out_of_range_cases() -> list[tuple[str, str, dict[str, Any], str]]:
    """(case id, calculator, parameter combination, the parameter at fault)."""
    cases = []
    for calculator in catalogue.CALCULATORS:
        base = calculator.example()
        for parameter in calculator.parameters:
            for value in out_of_range_values(parameter):
                combo = {**base, parameter.name: value}
                if parameter.member_of is not None and isinstance(value, int | float):
                    combo[parameter.member_of] = (value,)  # only the value's range is wrong
                case_id = f"{calculator.name}-{parameter.name}={value!r:.40}"
                cases.append((case_id, calculator.name, combo, parameter.name))
            if parameter.below is not None:
                combo = {**base, parameter.name: 4, parameter.below: 4}
                cases.append((f"{calculator.name}-{parameter.name}=below", calculator.name,
                              combo, parameter.name))
            if parameter.member_of is not None:
                combo = {**base, parameter.name: 3, parameter.member_of: (2, 5)}
                cases.append((f"{calculator.name}-{parameter.name}=member", calculator.name,
                              combo, parameter.name))
    return cases


OUT_OF_RANGE = out_of_range_cases()


def boundary_settings() -> dict[str, list[dict[str, Any] | None] | None]:
    return {
        calculator.name: (
            None if not calculator.parameters else boundary_combinations(calculator)
        )
        for calculator in catalogue.CALCULATORS
    }


# ------------------------------------------------------------------------------------------
# Data: series whose other ids can be changed
# ------------------------------------------------------------------------------------------


def series_frame(changed_ids: frozenset[int] = frozenset(), seed: int = 0) -> pd.DataFrame:
    """One long frame of series 0..6 (lengths LENGTHS plus a constant series); the ids in
    ``changed_ids`` get other values (same lengths), the rest are always the same."""
    rows = []
    for identifier, length in enumerate((*LENGTHS, 12)):
        own = np.random.default_rng(identifier)
        values = own.normal(size=length) * 3.0 + 0.5
        if identifier == CONSTANT_ID:
            values = np.full(length, 2.5)
        if identifier in changed_ids:
            other = np.random.default_rng(1000 + identifier + seed)
            values = other.normal(size=length) * 1e3 - 7.0
        rows.append(
            pd.DataFrame(
                {
                    "id": identifier,
                    "time": pd.Timestamp("2024-01-01")
                    + pd.to_timedelta(np.cumsum(np.arange(1, length + 1)), unit="h"),
                    "value": values,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


ALL_IDS = frozenset(range(len(LENGTHS) + 1))
ODD_IDS = frozenset(i for i in ALL_IDS if i % 2)
EVEN_IDS = ALL_IDS - ODD_IDS


def extract_all(frame: pd.DataFrame, settings_: Any) -> pd.DataFrame:
    timed = frame.set_index(pd.DatetimeIndex(frame["time"])).drop(columns="time")
    return fkts.extract(timed, column_id="id", column_value="value", settings=settings_)


def dfs_all(frame: pd.DataFrame, primitives: list) -> pd.DataFrame:
    es = fk.EntitySet("bounds")
    es.add_table("series", pd.DataFrame({"id": sorted(ALL_IDS)}), index="id")
    points = frame.assign(point=np.arange(len(frame)))
    es.add_table("points", points, index="point", time_index="time")
    es.add_relationship(parent="series", parent_key="id", child="points", child_key="id")
    features = fk.plan(es, target="series", agg_primitives=primitives, trans_primitives=[],
                       max_depth=1, include=["*(points.value*"])
    return fk.compute(es, features, return_type="pandas")


# ------------------------------------------------------------------------------------------
# The child process: every kernel run on boundary or unchecked parameters
# ------------------------------------------------------------------------------------------


def _outcome(call) -> dict[str, str]:
    try:
        call()
    except Exception as problem:  # the test reads which class was raised
        return {"raised": type(problem).__name__, "message": str(problem)}
    return {"raised": "", "message": ""}


def raw_kernel_cases() -> list[tuple[int, np.ndarray]]:
    """(code, parameters) with each slot in turn set to values no check would let through."""
    from featurekit.timeseries.kernels import PARAMETER_SLOTS
    from featurekit.timeseries.settings import build_plan

    hostile = [-1.0, -7.0, 0.0, 2.0**31, 2.0**62, 1e300, -1e300, math.nan, math.inf, -math.inf]
    cases = []
    for calculator in catalogue.CALCULATORS:
        combo = calculator.example()
        plan = build_plan({calculator.name: [combo] if combo else None}, has_time=True)
        base = plan.parameters[0]
        cases.append((calculator.code, base.copy()))
        for slot in range(max(len(calculator.parameters), 1)):
            for value in hostile:
                row = base.copy()
                row[slot % PARAMETER_SLOTS] = value
                cases.append((calculator.code, row))
    return cases


def run_raw_kernel(changed: bool) -> np.ndarray:
    """Every raw case over three back-to-back segments; only the outer ones change."""
    from featurekit.timeseries.kernels import run_plan

    cases = raw_kernel_cases()
    codes = np.array([code for code, _ in cases], dtype=np.int64)
    parameters = np.array([row for _, row in cases], dtype=np.float64)
    rng = np.random.default_rng(5 if changed else 4)
    middle = np.random.default_rng(3).normal(size=30)
    outer = [rng.normal(size=25) * (1e6 if changed else 1.0) for _ in range(2)]
    values = np.concatenate([outer[0], middle, outer[1]])
    times = np.arange(values.shape[0], dtype=np.int64) * 3_600_000_000_000
    starts = np.array([0, 25, 55, 25, 25], dtype=np.int64)
    stops = np.array([25, 55, 80, 26, 27], dtype=np.int64)
    return run_plan(values, starts, stops, codes, parameters, times)[[1, 3, 4]]


def worker(out: Path) -> None:
    """Compute everything the kernel-running tests check and write it under ``out``."""
    boundary = boundary_settings()
    for name, ids in (("same", frozenset()), ("odd", ODD_IDS), ("even", EVEN_IDS)):
        frame = series_frame(ids)
        extract_all(frame, boundary).to_parquet(out / f"extract_{name}.parquet")
        primitives = timeseries_primitives(boundary)
        dfs_all(frame, primitives).to_parquet(out / f"dfs_{name}.parquet")
    outcomes = {}
    frame = series_frame()
    for case_id, calculator, combo, _ in OUT_OF_RANGE:
        outcomes[case_id] = _outcome(lambda: extract_all(frame, {calculator: [combo]}))  # noqa: B023
    (out / "out_of_range.json").write_text(json.dumps(outcomes))
    np.save(out / "raw_same.npy", run_raw_kernel(changed=False))
    np.save(out / "raw_changed.npy", run_raw_kernel(changed=True))


@pytest.fixture(scope="module")
def computed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parameter_bounds")
    done = subprocess.run(
        [sys.executable, __file__, str(out)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=1800,
    )
    assert done.returncode == 0, (
        f"the child process running the kernels failed with code {done.returncode} "
        f"(a negative code is a signal, -11 a segmentation fault):\n{done.stderr[-3000:]}"
    )
    return out


# ------------------------------------------------------------------------------------------
# Boundary values: finite or NaN, and each id's own
# ------------------------------------------------------------------------------------------


def columns_of(frame: pd.DataFrame, calculator: str, dfs: bool) -> list[str]:
    if dfs:
        prefix = (f"TS_{calculator}" if calculator in _BUILT_IN else calculator).upper() + "("
        return [c for c in frame.columns if c.startswith(prefix)]
    return [c for c in frame.columns if c.split("__")[1] == calculator]


_BUILT_IN = {"mean", "median", "variance", "kurtosis", "count_above_mean", "count_below_mean"}
# tsfresh's own value for a series without any template match of length 3 is -log(0) = inf.
MAY_BE_INFINITE = {"sample_entropy"}


@pytest.mark.parametrize("route", ["extract", "dfs"])
@pytest.mark.parametrize("calculator", [c.name for c in catalogue.CALCULATORS])
def test_boundary_parameters_give_finite_or_missing_values_of_each_ids_own(
    computed, calculator, route
):
    same = pd.read_parquet(computed / f"{route}_same.parquet")
    columns = columns_of(same, calculator, route == "dfs")
    expected = len(boundary_combinations(catalogue.CALCULATORS_BY_NAME[calculator]))
    assert 1 <= len(columns) <= expected, (calculator, columns)
    values = same[columns].to_numpy(dtype=float)
    allowed = np.isfinite(values) | np.isnan(values)
    if calculator in MAY_BE_INFINITE:
        allowed |= np.isinf(values)
    assert allowed.all(), same[columns]
    for changed, kept in (("odd", EVEN_IDS), ("even", ODD_IDS)):
        other = pd.read_parquet(computed / f"{route}_{changed}.parquet")
        rows = sorted(kept)
        np.testing.assert_array_equal(
            other.loc[rows, columns].to_numpy(dtype=float),
            same.loc[rows, columns].to_numpy(dtype=float),
            err_msg=f"{calculator}: values of ids {rows} changed with ids {sorted(ALL_IDS - kept)}",
        )


def test_the_boundary_cases_reach_every_bound_of_every_parameter():
    for calculator in catalogue.CALCULATORS:
        combos = boundary_combinations(calculator)
        for parameter in calculator.parameters:
            seen = [c[parameter.name] for c in combos if c and parameter.name in c]
            if parameter.integer:
                # below another parameter, the largest reachable value is one less than its top
                top = parameter.high - (1 if parameter.below is not None else 0)
                assert parameter.low in seen and top in seen, (calculator.name, seen)


def test_the_dfs_route_runs_the_same_boundary_combinations_as_extract(computed):
    extracted = pd.read_parquet(computed / "extract_same.parquet")
    dfs = pd.read_parquet(computed / "dfs_same.parquet")
    boundary = boundary_settings()
    primitives = timeseries_primitives(boundary)
    # one feature per distinct name; the DFS name shows every parameter, extract's the set ones
    assert len(dfs.columns) == len({p.generate_name(["value"], "points") for p in primitives})
    assert len(extracted.columns) >= len(catalogue.CALCULATORS)
    # and the values agree where both name the same series (DFS drops nothing: no NaN input)
    mean_extract = extracted["value__mean"].to_numpy()
    np.testing.assert_allclose(dfs["TS_MEAN(points.value)"].to_numpy(float), mean_extract)


# ------------------------------------------------------------------------------------------
# Out of range: a featurekit error naming the calculator, the parameter, range and fix
# ------------------------------------------------------------------------------------------


def _expected_words(calculator: str, parameter_name: str, case_id: str) -> list[str]:
    parameter = {p.name: p for p in catalogue.CALCULATORS_BY_NAME[calculator].parameters}[
        parameter_name
    ]
    words = [calculator, repr(parameter_name), "Fix:"]
    if case_id.endswith("=below"):
        words.append(f"less than {parameter.below}")
    elif case_id.endswith("=member"):
        words.append(f"one of the {parameter.member_of}")
    else:
        words.append(parameter.allowed())
    return words


@pytest.mark.parametrize(
    ("case_id", "calculator", "combo", "parameter"), OUT_OF_RANGE, ids=[c[0] for c in OUT_OF_RANGE]
)
def test_out_of_range_parameters_are_refused_by_extract(computed, case_id, calculator, combo,
                                                        parameter):
    outcome = json.loads((computed / "out_of_range.json").read_text())[case_id]
    assert outcome["raised"] == "PlanError", outcome
    for word in _expected_words(calculator, parameter, case_id):
        assert word in outcome["message"], (word, outcome["message"])


@pytest.mark.parametrize(
    ("case_id", "calculator", "combo", "parameter"), OUT_OF_RANGE, ids=[c[0] for c in OUT_OF_RANGE]
)
def test_out_of_range_parameters_are_refused_by_the_dfs_primitives(case_id, calculator, combo,
                                                                   parameter):
    from featurekit.primitives.timeseries_aggregation import _BY_CALCULATOR

    cls = _BY_CALCULATOR[calculator]
    with pytest.raises(PlanError) as refused:
        cls(**combo)
    for word in _expected_words(calculator, parameter, case_id):
        assert word in str(refused.value)
    with pytest.raises(PlanError):
        timeseries_primitives({calculator: [combo]})


def test_every_parameter_has_out_of_range_cases():
    covered = {(c[1], c[3]) for c in OUT_OF_RANGE}
    for calculator in catalogue.CALCULATORS:
        for parameter in calculator.parameters:
            assert (calculator.name, parameter.name) in covered


def test_the_issues_examples_are_refused_before_any_kernel_runs():
    from featurekit.primitives.timeseries_aggregation import FftCoefficient

    with pytest.raises(PlanError, match=r"'coeff' must be an integer from 0 to 2147483647"):
        FftCoefficient(coeff=-1)
    with pytest.raises(PlanError, match=r"c3.*'lag' must be an integer from 0"):
        timeseries_primitives({"c3": [{"lag": -1}]})
    frame = series_frame()
    for settings_, words in [
        ({"quantile": [{"q": 1.5}]}, "'q' must be a number from 0 to 1, got 1.5"),
        ({"fourier_entropy": [{"bins": 0}]}, "'bins' must be an integer from 1 to 1000000"),
        ({"binned_entropy": [{"max_bins": 0}]}, "'max_bins' must be an integer from 1"),
        ({"lempel_ziv_complexity": [{"bins": 0}]}, "'bins' must be an integer from 1"),
        ({"friedrich_coefficients": [{"coeff": 0, "m": -1, "r": 30}]}, "'m' must be an integer"),
        ({"friedrich_coefficients": [{"coeff": 0, "m": 3, "r": 0}]}, "'r' must be an integer"),
        ({"agg_linear_trend": [{"attr": "slope", "chunk_len": -1, "f_agg": "mean"}]},
         "'chunk_len' must be an integer from 1"),
        ({"permutation_entropy": [{"tau": 1, "dimension": -1}]}, "'dimension' must be"),
        ({"autocorrelation": [{"lag": -2}]}, "'lag' must be an integer from 0"),
    ]:
        with pytest.raises(FeaturekitError, match=words):
            extract_all(frame, settings_)


def test_parameters_of_calculators_needing_time_are_checked_without_timestamps_too():
    frame = series_frame().drop(columns="time")
    with pytest.raises(FeaturekitError, match="'attr' must be one of"):
        fkts.extract(frame, column_id="id", settings={"linear_trend_timewise": [{"attr": "x"}]})


def test_settings_of_the_wrong_shape_are_refused_with_an_example():
    frame = series_frame()
    with pytest.raises(FeaturekitError, match=r"list of dicts or None.*\{'c3': \[\{'lag': 1\}\]\}"):
        extract_all(frame, {"c3": {"lag": 1}})
    with pytest.raises(FeaturekitError, match=r"must be a dict, got 'lag'"):
        extract_all(frame, {"c3": ["lag"]})
    with pytest.raises(FeaturekitError, match=r"\['lag'\] missing. Fix: pass \{'lag': 1\}"):
        extract_all(frame, {"c3": [{}]})


# ------------------------------------------------------------------------------------------
# The kernels alone, with no check in front: still never outside the window
# ------------------------------------------------------------------------------------------


def test_kernels_never_read_outside_their_window_whatever_the_parameters(computed):
    same = np.load(computed / "raw_same.npy")
    changed = np.load(computed / "raw_changed.npy")
    codes = [code for code, _ in raw_kernel_cases()]
    for window in range(same.shape[0]):
        differs = ~((same[window] == changed[window]) | (np.isnan(same[window]) &
                                                         np.isnan(changed[window])))
        assert not differs.any(), (
            f"window {window}: codes {sorted({codes[i] for i in np.flatnonzero(differs)})} "
            "read the neighbouring segments"
        )


# ------------------------------------------------------------------------------------------
# tsfresh's meaning at the boundaries (independent numpy)
# ------------------------------------------------------------------------------------------


def one_series(values: np.ndarray, settings_: Any) -> pd.Series:
    frame = pd.DataFrame({"id": 0, "time": np.arange(len(values)), "value": values})
    return fkts.extract(frame, column_id="id", column_sort="time", settings=settings_).iloc[0]


def test_legal_zero_lags_and_the_quantile_ends_mean_what_tsfresh_computes():
    x = np.random.default_rng(11).normal(size=17)
    row = one_series(
        x,
        {
            "c3": [{"lag": 0}],
            "time_reversal_asymmetry_statistic": [{"lag": 0}],
            "autocorrelation": [{"lag": 0}],
            "partial_autocorrelation": [{"lag": 0}],
            "quantile": [{"q": 0.0}, {"q": 1.0}],
            "ar_coefficient": [{"coeff": 0, "k": 0}],
            "fft_coefficient": [{"coeff": 0, "attr": "real"}],
            "energy_ratio_by_chunks": [{"num_segments": 1, "segment_focus": 0}],
        },
    )
    assert row["value__c3__lag_0"] == pytest.approx(np.mean(x**3), rel=1e-12)
    assert row["value__time_reversal_asymmetry_statistic__lag_0"] == pytest.approx(0.0, abs=1e-12)
    assert row["value__autocorrelation__lag_0"] == pytest.approx(1.0, rel=1e-12)
    assert row["value__partial_autocorrelation__lag_0"] == 1.0
    assert row["value__quantile__q_0.0"] == x.min()
    assert row["value__quantile__q_1.0"] == x.max()
    assert row["value__ar_coefficient__coeff_0__k_0"] == pytest.approx(x.mean(), rel=1e-12)
    assert row["value__fft_coefficient__attr_\"real\"__coeff_0"] == pytest.approx(x.sum())
    assert row["value__energy_ratio_by_chunks__num_segments_1__segment_focus_0"] == 1.0


def tsfresh_permutation_entropy(x: np.ndarray, tau: int, dimension: int) -> float:
    """tsfresh's definition: windows of ``dimension`` consecutive points, one starting every
    ``tau`` points; the entropy of their orderings."""
    starts = range(0, len(x) - dimension + 1, tau)
    patterns = [tuple(np.argsort(x[s : s + dimension], kind="stable")) for s in starts]
    if not patterns:
        return math.nan
    _, counts = np.unique(np.array(patterns), axis=0, return_counts=True)
    shares = counts / counts.sum()
    return float(-(shares * np.log(shares)).sum())


@pytest.mark.parametrize(("tau", "dimension"), [(1, 3), (2, 3), (3, 4), (5, 2), (1, 20), (4, 20),
                                                (50, 3), (1, 41), (2147483647, 2)])
def test_permutation_entropy_strides_by_tau_as_tsfresh_does(tau, dimension):
    x = np.random.default_rng(tau + dimension).permutation(40).astype(float)  # no ties
    if dimension > 20:
        with pytest.raises(FeaturekitError, match="'dimension' must be an integer from 2 to 20"):
            one_series(x, {"permutation_entropy": [{"tau": tau, "dimension": dimension}]})
        return
    row = one_series(x, {"permutation_entropy": [{"tau": tau, "dimension": dimension}]})
    got = row[f"value__permutation_entropy__dimension_{dimension}__tau_{tau}"]
    assert got == pytest.approx(tsfresh_permutation_entropy(x, tau, dimension), rel=1e-12)


# ------------------------------------------------------------------------------------------
# Property: an id's features never depend on another id's series
# ------------------------------------------------------------------------------------------

PROPERTY_SETTINGS = {
    **catalogue.preset("efficient"),
    "c3": [{"lag": 0}, {"lag": 3}, {"lag": 40}],
    "fft_coefficient": [{"coeff": k, "attr": "abs"} for k in (0, 1, 20, 2147483647)],
    "autocorrelation": [{"lag": 0}, {"lag": 1}, {"lag": 30}],
    "permutation_entropy": [{"tau": 2, "dimension": 3}, {"tau": 1, "dimension": 20}],
    "binned_entropy": [{"max_bins": 1}, {"max_bins": 1000}],
    "lempel_ziv_complexity": [{"bins": 1}, {"bins": 1000}],
    "number_peaks": [{"n": 1}, {"n": 25}],
}

finite_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
series_values = st.lists(finite_values, min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    series=st.lists(series_values, min_size=2, max_size=5),
    target=st.integers(min_value=0, max_value=4),
    replacement=series_values,
    replaced=st.integers(min_value=0, max_value=4),
)
def test_an_ids_features_never_change_when_another_ids_series_changes(
    series, target, replacement, replaced
):
    target %= len(series)
    replaced %= len(series)
    if replaced == target:
        replaced = (target + 1) % len(series)

    def frame_of(all_series: list[list[float]]) -> pd.DataFrame:
        return pd.concat(
            [pd.DataFrame({"id": i, "step": np.arange(len(s)), "value": np.array(s, dtype=float)})
             for i, s in enumerate(all_series)],
            ignore_index=True,
        )

    changed = list(series)
    changed[replaced] = replacement  # other values and usually another length
    before = fkts.extract(frame_of(series), column_id="id", column_sort="step",
                          settings=PROPERTY_SETTINGS)
    after = fkts.extract(frame_of(changed), column_id="id", column_sort="step",
                         settings=PROPERTY_SETTINGS)
    np.testing.assert_array_equal(before.loc[target].to_numpy(), after.loc[target].to_numpy())


if __name__ == "__main__":  # the child process of the ``computed`` fixture
    worker(Path(sys.argv[1]))
