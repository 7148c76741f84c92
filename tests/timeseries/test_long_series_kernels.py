"""The fast kernels for long series give exactly the values of the plain all-pairs definitions.

Sample and approximate entropy count template matches by rank sweeps (and a k-d tree for
templates of more than three points) instead of comparing all pairs; here they are checked against all-pairs counts written with numpy, on random,
random-walk, tie-heavy, constant and periodic series (and property-tested on small ones).
"""

from __future__ import annotations

import numpy as np
import pytest
from featurekit.primitives import timeseries as calc
from hypothesis import given, settings
from hypothesis import strategies as st

RATIOS = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 0.0, 0.25])


def within_counts(x: np.ndarray, length: int, templates: int, tolerance: float) -> np.ndarray:
    """For each of the first ``templates`` windows of ``length`` points, how many of them
    (itself included) differ from it by at most ``tolerance`` in every coordinate."""
    windows = np.lib.stride_tricks.sliding_window_view(x, length)[:templates]
    distance = np.abs(windows[:, None, :] - windows[None, :, :]).max(axis=2)
    return (distance <= tolerance).sum(axis=1)


def sample_entropy_all_pairs(x: np.ndarray) -> float:
    n = x.size
    if n < 2:
        return np.nan
    tolerance = 0.2 * x.std()
    b = within_counts(x, 2, n - 1, tolerance).sum() - (n - 1)
    a = within_counts(x, 3, n - 2, tolerance).sum() - (n - 2) if n > 2 else 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.log(np.float64(a) / np.float64(b)))


def approximate_entropy_all_pairs(x: np.ndarray, m: int, ratio: float) -> float:
    n = x.size
    if n <= m + 1:
        return 0.0
    tolerance = ratio * x.std()
    short, long = n - m + 1, n - m
    order = np.argsort(x[:short], kind="mergesort")  # the kernel's summation order
    short_share = within_counts(x, m, short, tolerance)[order] / short
    long_share = within_counts(x, m + 1, long, tolerance)[order[order < long]] / long
    phi_short = 0.0
    for share in short_share:
        phi_short += np.log(share)
    phi_long = 0.0
    for share in long_share:
        phi_long += np.log(share)
    return abs(phi_short / short - phi_long / long)


def series_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12)
    return {
        "noise": rng.normal(size=1500),
        "walk": np.cumsum(rng.normal(size=2000)),
        "ties": rng.integers(0, 4, size=1800).astype(float),
        "few_values": np.round(rng.normal(size=1200), 1),
        "constant": np.full(700, -2.5),
        "periodic": np.tile([1.0, 2.0, 3.0, 2.0, 1.0, 0.0], 300),
        "steps": np.repeat(rng.normal(size=40), 30),
        "tiny_scale": rng.normal(size=600) * 1e-200,
        "short": np.array([1.0, 2.0, 1.0, 3.0]),
    }


@pytest.mark.parametrize("name", list(series_cases()))
def test_sample_entropy_equals_all_pairs(name: str) -> None:
    x = series_cases()[name]
    expected = sample_entropy_all_pairs(x)
    got = calc.sample_entropy(x, x.std())
    np.testing.assert_array_equal(got, expected)  # integer counts: exactly equal


@pytest.mark.parametrize("m", [1, 2, 3])
@pytest.mark.parametrize("name", list(series_cases()))
def test_approximate_entropy_equals_all_pairs(name: str, m: int) -> None:
    x = series_cases()[name]
    got = calc.approximate_entropies(x, x.std(), m, RATIOS)
    expected = [approximate_entropy_all_pairs(x, m, ratio) for ratio in RATIOS]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(-3, 3), min_size=0, max_size=80),
    scale=st.sampled_from([1.0, 0.1, 1e-300, 1e300, 3.7]),
    m=st.integers(1, 4),
)
def test_entropies_equal_all_pairs_on_small_tied_series(values, scale, m) -> None:
    x = np.asarray(values, dtype=float) * scale
    with np.errstate(all="ignore"):
        std = x.std() if x.size else np.nan
        np.testing.assert_array_equal(calc.sample_entropy(x, std), sample_entropy_all_pairs(x))
        got = calc.approximate_entropies(x, std, m, RATIOS)
        expected = [approximate_entropy_all_pairs(x, m, ratio) for ratio in RATIOS]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_match_counts_are_exact_at_the_tolerance_boundary() -> None:
    # differences that round onto the tolerance, just inside and just outside it
    tolerance = 0.1
    base = np.array([0.3, 0.2, 0.30000000000000004, 0.4, 0.1, 0.2 + 1e-17, 0.5])
    x = np.tile(base, 50)
    for dims in (1, 2, 3, 4, 5):  # rank sweeps up to three points, the k-d tree beyond
        count = x.size - dims + 1
        counts = np.zeros(count, dtype=np.int64)
        calc.count_matches(calc.match_counter(x, dims, count), dims, count, tolerance, counts)
        np.testing.assert_array_equal(counts, within_counts(x, dims, count, tolerance))


@pytest.mark.parametrize("dims", [1, 2, 3, 4])
@pytest.mark.parametrize("name", ["noise", "ties", "steps", "constant"])
def test_match_counts_equal_all_pairs(name: str, dims: int) -> None:
    x = series_cases()[name][:900]
    count = x.size - dims  # fewer templates than the series holds, as the entropies use
    counter = calc.match_counter(x, dims, count)
    for tolerance in (0.0, 0.05 * x.std(), x.std(), np.inf):
        counts = np.zeros(count, dtype=np.int64)
        calc.count_matches(counter, dims, count, tolerance, counts)
        np.testing.assert_array_equal(counts, within_counts(x, dims, count, tolerance))


def ricker(points: int, width: float) -> np.ndarray:
    """The Ricker wavelet as scipy defined it before removing it (1.15)."""
    amplitude = 2 / (np.sqrt(3 * width) * np.pi**0.25)
    offsets = np.arange(0, points) - (points - 1.0) / 2
    return amplitude * (1 - offsets**2 / width**2) * np.exp(-(offsets**2) / (2 * width**2))


def cwt_peaks_reference(x: np.ndarray, max_width: int) -> float:
    """tsfresh's definition: scipy's find_peaks_cwt over widths 1..max_width."""
    from scipy.signal import find_peaks_cwt

    return float(len(find_peaks_cwt(x, np.arange(1, max_width + 1), wavelet=ricker)))


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(3, 600),
    kind=st.sampled_from(["walk", "noise", "ties", "sine", "steps"]),
    max_width=st.sampled_from([1, 2, 3, 5, 9]),
)
def test_number_cwt_peaks_equals_scipy(seed, length, kind, max_width) -> None:
    rng = np.random.default_rng(seed)
    x = {
        "walk": lambda: np.cumsum(rng.normal(size=length)),
        "noise": lambda: rng.normal(size=length),
        "ties": lambda: rng.integers(0, 3, size=length).astype(float),
        "sine": lambda: np.sin(np.arange(length) * 0.3) + 0.1 * rng.normal(size=length),
        "steps": lambda: np.repeat(rng.normal(size=length // 5 + 1), 5)[:length],
    }[kind]()
    if kind != "ties":
        assert calc.number_cwt_peaks(x, max_width) == cwt_peaks_reference(x, max_width)
        return
    # Exact ties in the data make exact ties in the transform, which scipy then breaks by the
    # last bit of numpy's convolution sums (their order is the BLAS build's). So for ties the
    # transform is checked to be scipy's within rounding, and the ridge search and noise
    # filter against scipy's own, run on featurekit's transform.
    from scipy.signal import _peak_finding as scipy_peaks

    widths = np.arange(1, max_width + 1)
    transform = np.empty((max_width, x.size))
    for row in range(max_width):
        calc.ricker_row(x, row + 1.0, transform[row])
    theirs = scipy_peaks._cwt(x, ricker, widths)
    np.testing.assert_allclose(transform, theirs, rtol=0, atol=1e-12 * max(1.0, np.abs(theirs).max()))
    ridges = scipy_peaks._identify_ridge_lines(transform, widths / 4.0, np.ceil(widths[0]))
    kept = scipy_peaks._filter_ridge_lines(transform, ridges)
    assert calc.number_cwt_peaks(x, max_width) == float(len(kept))


def test_number_cwt_peaks_on_a_long_series_equals_scipy() -> None:
    x = np.cumsum(np.random.default_rng(5).normal(size=20_000))
    for max_width in (1, 5):
        assert calc.number_cwt_peaks(x, max_width) == cwt_peaks_reference(x, max_width)


def dickey_fuller_reference(x: np.ndarray) -> tuple[float, float]:
    """Statistic and lags of the ADF test (constant, lags by AIC) with numpy's lstsq."""
    n = x.size
    max_lag = min(n // 2 - 2, int(np.ceil(12.0 * (n / 100.0) ** 0.25)))
    changes = np.diff(x)
    times = np.arange(max_lag, n - 1)
    lagged = np.column_stack([changes[times - lag] for lag in range(1, max_lag + 1)])
    full = np.column_stack([np.ones(times.size), x[times], lagged])
    target = changes[times]
    aics = []
    for lags in range(max_lag + 1):
        design = full[:, : lags + 2]
        coefficients, _, rank, _ = np.linalg.lstsq(design, target, rcond=None)
        rss = np.sum((target - design @ coefficients) ** 2)
        rows = times.size
        aics.append(rows * (np.log(2 * np.pi) + np.log(rss / rows) + 1) + 2 * rank)
    best = int(np.argmin(aics))
    times = np.arange(best, n - 1)
    columns = [x[times]] + [changes[times - lag] for lag in range(1, best + 1)]
    design = np.column_stack(columns + [np.ones(times.size)])
    target = changes[times]
    coefficients, _, rank, _ = np.linalg.lstsq(design, target, rcond=None)
    rss = np.sum((target - design @ coefficients) ** 2)
    scale = rss / (times.size - rank)
    error = np.sqrt(scale * np.linalg.inv(design.T @ design)[0, 0])
    return coefficients[0] / error, float(best)


@pytest.mark.parametrize("length", [30, 500, 5_000, 50_000])
@pytest.mark.parametrize("kind", ["walk", "noise", "trend"])
def test_augmented_dickey_fuller_equals_lstsq(kind: str, length: int) -> None:
    rng = np.random.default_rng(length)
    x = {
        "walk": lambda: np.cumsum(rng.normal(size=length)),
        "noise": lambda: rng.normal(size=length),
        "trend": lambda: (
            0.01 * np.arange(length) + np.sin(np.arange(length)) + rng.normal(size=length)
        ),
    }[kind]()
    statistic, _, lags = calc.augmented_dickey_fuller(x, 0)  # autolag by AIC
    expected_statistic, expected_lags = dickey_fuller_reference(x)
    assert lags == expected_lags
    np.testing.assert_allclose(statistic, expected_statistic, rtol=1e-9)
