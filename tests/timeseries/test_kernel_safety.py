"""The window kernel on series of any magnitude, with infinities, constant or of 0-3 points.

What must hold for every calculator of the comprehensive preset:

1. nothing raises (numba cannot report a linear-algebra failure from a parallel loop, so
   the kernels check their input instead of relying on exceptions);
2. an id's values depend only on its own series: the same whatever the other ids hold and
   whatever the number of threads (a value read from memory nobody wrote would differ);
3. every value is what tsfresh's definition gives (a plain numpy version written here, for
   the calculators where that is cheap) or NaN, the rule when a kernel cannot compute one.
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np
import pandas as pd
import pytest
from featurekit.primitives.timeseries import CALCULATORS_BY_NAME
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit.timeseries as fkts
from featurekit.timeseries.kernels import run_plan
from featurekit.timeseries.settings import build_plan

PLAN = build_plan("comprehensive")
INDEX = {suffix: i for i, suffix in enumerate(PLAN.suffixes)}
SCALES = (1e-300, 1e-200, 1e-150, 1e-10, 1.0, 1e10, 1e150, 1e200, 1e300)
FITS = ("ar_coefficient", "friedrich_coefficients", "max_langevin_fixed_point",
        "augmented_dickey_fuller")


@st.composite
def series(draw: st.DrawFn) -> np.ndarray:
    """A short series: random or constant, scaled by a power of ten, perhaps with +-inf."""
    length = draw(st.integers(0, 14))
    if draw(st.booleans()):
        base = np.full(length, draw(st.floats(-10, 10)))
    else:
        base = np.array(draw(st.lists(st.floats(-10, 10), min_size=length, max_size=length)))
    x = base * draw(st.sampled_from(SCALES))
    if length and draw(st.integers(0, 3)) == 0:
        positions = draw(st.lists(st.integers(0, length - 1), min_size=1, max_size=2))
        x[positions] = draw(st.sampled_from([np.inf, -np.inf]))
    return x.astype(np.float64)


def run(windows: list[np.ndarray], threads: int | None = None) -> np.ndarray:
    """The comprehensive plan on each series, one window per series."""
    lengths = np.array([len(w) for w in windows], dtype=np.int64)
    stops = np.cumsum(lengths)
    values = np.concatenate(windows) if windows else np.zeros(0)
    previous = numba.get_num_threads()
    try:
        if threads is not None:
            numba.set_num_threads(threads)
        return run_plan(values, stops - lengths, stops, PLAN.codes, PLAN.parameters)
    finally:
        numba.set_num_threads(previous)


# ------------------------------------------------------------------------------------------
# tsfresh's definitions, in plain numpy (only where cheap)
# ------------------------------------------------------------------------------------------


def _lagged(x: np.ndarray, lag: int, reversal: bool) -> float:
    n = len(x)
    if 2 * lag >= n:
        return 0.0
    a, b, c = x[2 * lag :], x[lag : n - lag], x[: n - 2 * lag]
    return float(np.mean(a * a * b - b * c * c) if reversal else np.mean(a * b * c))


def _autocorrelation(x: np.ndarray, lag: int) -> float:
    n = len(x)
    if n < lag:
        return math.nan
    v = np.var(x)
    if np.isclose(v, 0):
        return math.nan
    m = np.mean(x)
    return float(np.sum((x[: n - lag] - m) * (x[lag:] - m)) / ((n - lag) * v))


def _cid_ce(x: np.ndarray, normalize: bool) -> float:
    if normalize:
        s = np.std(x)
        if s == 0:
            return 0.0
        x = (x - np.mean(x)) / s
    d = np.diff(x)
    return float(np.sqrt(np.dot(d, d)))


def _energy_ratio(x: np.ndarray, segments: int, focus: int) -> float:
    total = np.sum(x * x)
    if total == 0 or len(x) == 0:
        return math.nan
    return float(np.sum(np.array_split(x, segments)[focus] ** 2) / total)


def _location(x: np.ndarray, maximum: bool, last: bool) -> float:
    if len(x) == 0:
        return math.nan
    pick = np.argmax if maximum else np.argmin
    if last:
        return 1.0 - pick(x[::-1]) / len(x)
    return pick(x) / len(x)


def _strike(flags: np.ndarray) -> float:
    best = run_length = 0
    for flag in flags:
        run_length = run_length + 1 if flag else 0
        best = max(best, run_length)
    return float(best)


def _mean_n_absolute_max(x: np.ndarray, k: int) -> float:
    return float(np.mean(np.sort(np.abs(x))[-k:])) if len(x) > k else math.nan


def references(x: np.ndarray) -> dict[str, float]:
    """tsfresh's value of each cheap calculator on ``x`` (numpy's warnings silenced)."""
    n = len(x)
    empty = n == 0
    out: dict[str, float] = {
        "length": float(n),
        "sum_values": float(np.sum(x)),
        "mean": math.nan if empty else float(np.mean(x)),
        "median": math.nan if empty else float(np.median(x)),
        "variance": math.nan if empty else float(np.var(x)),
        "standard_deviation": math.nan if empty else float(np.std(x)),
        "abs_energy": float(np.dot(x, x)),
        "mean_change": float((x[-1] - x[0]) / (n - 1)) if n > 1 else math.nan,
        "mean_second_derivative_central": (
            float((x[-1] - x[-2] - x[1] + x[0]) / (2 * (n - 2))) if n > 2 else math.nan
        ),
        "absolute_sum_of_changes": float(np.sum(np.abs(np.diff(x)))),
        "mean_abs_change": float(np.mean(np.abs(np.diff(x)))) if n > 1 else math.nan,
        "root_mean_square": float(np.sqrt(np.mean(x * x))) if n else math.nan,
        "first_location_of_maximum": _location(x, True, False),
        "last_location_of_maximum": _location(x, True, True),
        "first_location_of_minimum": _location(x, False, False),
        "last_location_of_minimum": _location(x, False, True),
        "mean_n_absolute_max__number_of_maxima_7": _mean_n_absolute_max(x, 7),
        "count_above__t_0": float(np.sum(x >= 0) / n) if n else math.nan,
        "count_below__t_0": float(np.sum(x <= 0) / n) if n else math.nan,
        "range_count__max_1__min_-1": float(np.sum((x >= -1) & (x < 1))),
        "value_count__value_0": float(np.sum(x == 0)),
    }
    if n:
        mean = np.mean(x)
        out["count_above_mean"] = float(np.sum(x > mean))
        out["count_below_mean"] = float(np.sum(x < mean))
        out["longest_strike_above_mean"] = _strike(x > mean)
        out["longest_strike_below_mean"] = _strike(x < mean)
        out["maximum"] = float(np.max(x))
        out["minimum"] = float(np.min(x))
        out["absolute_maximum"] = float(np.max(np.abs(x)))
        out["variation_coefficient"] = float(np.std(x) / mean) if mean != 0 else math.nan
        for q in (0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9):
            out[f"quantile__q_{q}"] = float(np.quantile(x, q))
        for r in (0.5, 1, 2, 10):
            beyond = np.sum(np.abs(x - mean) > r * np.std(x)) / n
            out[f"ratio_beyond_r_sigma__r_{r}"] = float(beyond)
    for m in (0, -1, 1):
        crossings = np.where(np.diff(x > m))[0].size
        out[f"number_crossing_m__m_{m}"] = float(crossings)
    for lag in (1, 2, 3):
        out[f"c3__lag_{lag}"] = _lagged(x, lag, False)
        out[f"time_reversal_asymmetry_statistic__lag_{lag}"] = _lagged(x, lag, True)
    for lag in range(10):
        out[f"autocorrelation__lag_{lag}"] = _autocorrelation(x, lag) if n else math.nan
    for normalize in (True, False):
        out[f"cid_ce__normalize_{normalize}"] = _cid_ce(x, normalize)
    for focus in range(10):
        out[f"energy_ratio_by_chunks__num_segments_10__segment_focus_{focus}"] = (
            _energy_ratio(x, 10, focus)
        )
    return out


def agrees(got: float, expected: float) -> bool:
    """Equal, both NaN, or within rounding (the kernels sum in their own order)."""
    if math.isnan(expected):
        return math.isnan(got)
    if math.isinf(expected) or math.isinf(got):
        return got == expected
    return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-300)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equal rows, NaN equal to NaN."""
    return bool(np.array_equal(a, b, equal_nan=True))


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=series(), others=st.lists(series(), min_size=2, max_size=6),
       replacements=st.lists(series(), min_size=2, max_size=6))
def test_an_id_depends_only_on_its_own_series(subject, others, replacements):
    """No exception; the subject's row is the same next to other ids, other neighbours,
    alone, and on one thread or all of them."""
    together = run([*others, subject, *others])
    elsewhere = run([*replacements, subject])
    alone = run([subject], threads=1)
    one_thread = run([*others, subject, *others], threads=1)
    row = together[len(others)]
    assert same(row, elsewhere[-1])
    assert same(row, alone[0])
    assert same(together, one_thread)
    assert same(together[: len(others)], together[len(others) + 1 :])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=series())
def test_values_are_tsfresh_definitions_or_nan(x):
    """The cheap calculators equal tsfresh's definitions (NaN where they give NaN); the
    linear-algebra fits give NaN or a finite value; nothing comes out of thin memory."""
    row = run([x])[0]
    if len(x) == 0:  # only a direct call makes an empty window: every value missing
        assert np.isnan(row).all()
        return
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        expected = references(x)
    wrong = {
        name: (row[INDEX[name]], value)
        for name, value in expected.items()
        if not agrees(row[INDEX[name]], value)
    }
    assert not wrong, wrong
    for suffix, i in INDEX.items():
        if suffix.startswith(FITS):
            assert math.isnan(row[i]) or math.isfinite(row[i]), (suffix, row[i])


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_fits_on_extreme_scales_match_the_unscaled_fit(scale):
    """AR lag coefficients and the Dickey-Fuller statistic do not depend on the unit of the
    series, so the series scaled by 1e-300 or 1e300 gives the values of the plain one."""
    x = np.sin(np.arange(80) * 0.37) + np.random.default_rng(3).normal(0, 0.3, 80)
    plain, scaled = run([x, x * scale])
    for suffix, i in INDEX.items():
        lagged_ar = suffix.startswith("ar_coefficient") and "coeff_0_" not in suffix
        if lagged_ar or suffix.startswith("augmented_dickey_fuller"):
            assert math.isclose(plain[i], scaled[i], rel_tol=1e-6, abs_tol=1e-9), suffix
    intercept = INDEX["ar_coefficient__coeff_0__k_10"]
    assert math.isclose(scaled[intercept], plain[intercept] * scale, rel_tol=1e-6)


def test_infinite_values_give_nan_fits_and_leave_other_ids_alone():
    """The case that used to raise a bare SystemError (one id) or fill the row with stale
    memory (several ids): the fits of the id with an infinity are NaN."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(4):
        x = rng.normal(size=60)
        if i == 1:
            x[5] = np.inf
        if i == 2:
            x = x * 1e300
        frames.append(pd.DataFrame({"id": i, "time": range(60), "value": x}))
    frame = pd.concat(frames)
    settings_ = {name: list(CALCULATORS_BY_NAME[name].grid) for name in FITS}
    everything = fkts.extract(frame, column_id="id", column_sort="time",
                              default_fc_parameters=settings_)
    single = fkts.extract(frame, column_id="id", column_sort="time",
                          default_fc_parameters=settings_, n_jobs=1)
    pd.testing.assert_frame_equal(everything, single)
    assert everything.loc[1].isna().all()
    for i in (0, 3):
        alone = fkts.extract(frame[frame["id"] == i], column_id="id", column_sort="time",
                             default_fc_parameters=settings_)
        pd.testing.assert_series_equal(everything.loc[i], alone.loc[i])
    ar = [c for c in everything.columns if "ar_coefficient" in c and "coeff_0_" not in c]
    assert everything.loc[2, ar].notna().all()
