"""Values where featurekit once differed from what tsfresh's own calculator tests expect, and
tsfresh parameters featurekit once read differently (augmented_dickey_fuller's autolag).

Each expected value is computed here independently (plain numpy) or worked out by hand.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import featurekit.timeseries as fkts
from featurekit.errors import FeaturekitError


def one_series(values: Any, settings: Any) -> pd.Series:
    values = np.asarray(values, dtype=float)
    frame = pd.DataFrame({"id": 0, "time": np.arange(len(values)), "value": values})
    return fkts.extract(frame, column_id="id", column_sort="time", settings=settings).iloc[0]


# ------------------------------------------------------------------------------------------
# skewness and kurtosis of a constant series: 0 (pandas 2, which tsfresh's tests assume)
# ------------------------------------------------------------------------------------------


def g1(x: np.ndarray) -> float:
    """Adjusted Fisher-Pearson skewness from its textbook formula."""
    n = len(x)
    d = x - x.mean()
    m2, m3 = np.mean(d**2), np.mean(d**3)
    return math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5


def g2(x: np.ndarray) -> float:
    """Unbiased excess kurtosis from its textbook formula."""
    n = len(x)
    d = x - x.mean()
    m2, m4 = np.mean(d**2), np.mean(d**4)
    return (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * m4 / m2**2 - 3 * (n - 1))


@pytest.mark.parametrize("length", [3, 4, 9])
def test_a_constant_series_has_skewness_and_kurtosis_zero(length):
    row = one_series([1.0] * length, {"skewness": None, "kurtosis": None})
    assert row["value__skewness"] == 0.0
    if length >= 4:
        assert row["value__kurtosis"] == 0.0
    else:
        assert math.isnan(row["value__kurtosis"])  # too short for the statistic


def test_skewness_and_kurtosis_of_a_varying_series_follow_the_formulas():
    x = np.array([1.0, 2.0, 3.0, 10.0, -4.0, 2.5])
    row = one_series(x, {"skewness": None, "kurtosis": None})
    assert row["value__skewness"] == pytest.approx(g1(x), rel=1e-12)
    assert row["value__kurtosis"] == pytest.approx(g2(x), rel=1e-12)
    assert math.isnan(one_series([1.0, 2.0], {"skewness": None})["value__skewness"])


# ------------------------------------------------------------------------------------------
# benford_correlation: constant digit frequencies have no correlation
# ------------------------------------------------------------------------------------------


def test_benford_correlation_of_equal_digit_frequencies_is_nan():
    assert math.isnan(one_series(np.arange(1, 10), {"benford_correlation": None}).iloc[0])
    assert math.isnan(one_series([0.0] * 6, {"benford_correlation": None}).iloc[0])  # no digit


def test_benford_correlation_is_the_pearson_correlation_of_digit_frequencies():
    x = np.array([1, 12, 19, 230, 3, 45, 0.7, 8, 99, 1.5, 2, 2.2])
    digits = np.array([int(f"{abs(v):e}"[0]) for v in x])
    observed = np.array([np.mean(digits == d) for d in range(1, 10)])
    benford = np.log10(1 + 1 / np.arange(1, 10))
    expected = np.corrcoef(observed, benford)[0, 1]
    got = one_series(x, {"benford_correlation": None}).iloc[0]
    assert got == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------------------------------
# parameters tsfresh refuses are refused
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "parameter"),
    [
        ({"approximate_entropy": [{"m": 2, "r": -0.5}]}, "'r'"),
        ({"mean_n_absolute_max": [{"number_of_maxima": 0}]}, "'number_of_maxima'"),
        ({"mean_n_absolute_max": [{"number_of_maxima": -1}]}, "'number_of_maxima'"),
        ({"augmented_dickey_fuller": [{"attr": ""}]}, "'attr'"),
        ({"augmented_dickey_fuller": [{"attr": "teststat", "autolag": "HQIC"}]}, "'autolag'"),
    ],
)
def test_parameters_tsfresh_refuses_are_refused_with_the_range(settings, parameter):
    with pytest.raises(FeaturekitError, match=parameter) as raised:
        one_series(np.arange(20.0), settings)
    assert "Fix:" in str(raised.value)


def test_mean_n_absolute_max_at_its_smallest_legal_maxima():
    x = np.array([3.0, -8.0, 1.0, 5.0])
    row = one_series(x, {"mean_n_absolute_max": [{"number_of_maxima": 1}, {"number_of_maxima": 2}]})
    assert list(row) == [8.0, 6.5]


# ------------------------------------------------------------------------------------------
# permutation_entropy with tied values: ties ordered by position (a stable argsort)
# ------------------------------------------------------------------------------------------


def stable_permutation_entropy(x: np.ndarray, tau: int, dimension: int) -> float:
    patterns = [
        tuple(np.argsort(x[start : start + dimension], kind="stable"))
        for start in range(0, len(x) - dimension + 1, tau)
    ]
    _, counts = np.unique(np.array(patterns), axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log(p)))


def test_permutation_entropy_orders_ties_by_position():
    # windows [1,1,2], [1,2,2] give the pattern (0,1,2); [2,2,1] gives (2,0,1)
    row = one_series([1.0, 1.0, 2.0, 2.0, 1.0], {"permutation_entropy": [{"tau": 1, "dimension": 3}]})
    assert row.iloc[0] == pytest.approx(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)))
    x = np.random.default_rng(5).integers(0, 3, 60).astype(float)  # many ties
    for tau, dimension in [(1, 3), (2, 4), (3, 5)]:
        settings = {"permutation_entropy": [{"tau": tau, "dimension": dimension}]}
        got = one_series(x, settings).iloc[0]
        assert got == pytest.approx(stable_permutation_entropy(x, tau, dimension), rel=1e-12)


# ------------------------------------------------------------------------------------------
# augmented_dickey_fuller's autolag: AIC (default), BIC, t-stat, None
# ------------------------------------------------------------------------------------------


def _ols(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    residual = float(np.sum((target - design @ coefficients) ** 2))
    scale = residual / (len(target) - design.shape[1])
    errors = np.sqrt(scale * np.diag(np.linalg.inv(design.T @ design)))
    return coefficients, residual, coefficients / errors


def adf_reference(x: np.ndarray, autolag: str | None) -> tuple[float, int]:
    """The ADF statistic (constant, no trend) and the lags used, from the textbook regressions:
    change on [constant, level, lagged changes]; lags chosen on the rows all candidates share."""
    n = len(x)
    max_lag = min(n // 2 - 2, math.ceil(12 * (n / 100) ** 0.25))
    dx = np.diff(x)

    def regression(lags: int, first: int) -> tuple[np.ndarray, np.ndarray]:
        times = np.arange(first, n - 1)
        columns = [np.ones(len(times)), x[times]] + [dx[times - k] for k in range(1, lags + 1)]
        return np.column_stack(columns), dx[times]

    used = max_lag
    if autolag in ("AIC", "BIC"):
        best = None
        for lags in range(max_lag + 1):
            design, target = regression(lags, max_lag)
            _, residual, _ = _ols(design, target)
            rows, k = design.shape
            log_likelihood = -rows / 2 * (math.log(2 * math.pi) + math.log(residual / rows) + 1)
            penalty = 2 * k if autolag == "AIC" else math.log(rows) * k
            criterion = -2 * log_likelihood + penalty
            if best is None or criterion < best:
                best, used = criterion, lags
    elif autolag == "t-stat":
        used = 0
        for lags in range(max_lag, -1, -1):
            _, _, t = _ols(*regression(lags, max_lag))
            if abs(t[-1]) >= 1.6448536269514722:
                used = lags
                break
    _, _, t = _ols(*regression(used, used))
    return float(t[1]), used


def adf_series() -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(size=150))
    ar = np.zeros(200)
    noise = rng.normal(size=200)
    for t in range(3, 200):
        ar[t] = 0.6 * ar[t - 1] - 0.3 * ar[t - 2] + 0.25 * ar[t - 3] + noise[t]
    seasonal = np.sin(np.arange(120) * 0.9) * 3 + rng.normal(size=120)
    return [walk, ar, seasonal, rng.normal(size=60)]


@pytest.mark.parametrize("autolag", ["AIC", "BIC", "t-stat", None])
def test_augmented_dickey_fuller_chooses_lags_as_asked(autolag):
    params = [{"attr": attr, "autolag": autolag} for attr in ("teststat", "usedlag")]
    for x in adf_series():
        row = one_series(x, {"augmented_dickey_fuller": params})
        name = f'value__augmented_dickey_fuller__attr_"{{}}"__autolag_"{autolag}"'
        statistic, used = adf_reference(x, autolag)
        assert row[name.format("usedlag")] == used
        assert row[name.format("teststat")] == pytest.approx(statistic, rel=1e-8)


def test_the_autolag_rules_differ_on_these_series_and_aic_is_the_default():
    """Otherwise the test above would not tell the rules apart."""
    chosen = {rule: [adf_reference(x, rule)[1] for x in adf_series()]
              for rule in ("AIC", "BIC", "t-stat", None)}
    assert len({tuple(v) for v in chosen.values()}) == 4, chosen
    x = adf_series()[1]
    default = one_series(x, {"augmented_dickey_fuller": [{"attr": "usedlag"}]})
    assert list(default.index) == ['value__augmented_dickey_fuller__attr_"usedlag"__autolag_"AIC"']
    assert default.iloc[0] == chosen["AIC"][1]


# ------------------------------------------------------------------------------------------
# query_similarity_count with a query: stumpy's distance profile, counted
# ------------------------------------------------------------------------------------------


def distances(x: np.ndarray, query: np.ndarray, normalize: bool) -> np.ndarray:
    """Distance of ``query`` to every subsequence of ``x``: z-normalised Euclidean (constant
    sequences: 0 to each other, sqrt(m) to any other) or plain Euclidean."""
    m = len(query)
    out = []
    for i in range(len(x) - m + 1):
        piece = x[i : i + m]
        if not normalize:
            out.append(np.sqrt(np.sum((piece - query) ** 2)))
            continue
        flat_piece, flat_query = np.ptp(piece) == 0, np.ptp(query) == 0
        if flat_piece or flat_query:
            out.append(0.0 if flat_piece and flat_query else math.sqrt(m))
            continue
        z_piece = (piece - piece.mean()) / piece.std()
        z_query = (query - query.mean()) / query.std()
        out.append(np.sqrt(np.sum((z_piece - z_query) ** 2)))
    return np.array(out)


@pytest.mark.parametrize("normalize", [True, False])
def test_query_similarity_count_counts_subsequences_within_the_threshold(normalize):
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.normal(size=80), [2.0] * 6, rng.normal(size=40)])
    query = rng.normal(size=5)
    profile = distances(x, query, normalize)
    thresholds = np.quantile(profile, [0.05, 0.3, 0.8])
    assert np.min(np.abs(profile[:, None] - thresholds[None, :])) > 0  # no tie at a threshold
    params = [{"query": query, "threshold": float(t), "normalize": normalize} for t in thresholds]
    row = one_series(x, {"query_similarity_count": params})
    assert list(row) == [float(np.sum(profile <= t)) for t in thresholds]


def test_query_similarity_count_finds_exact_and_scaled_copies_at_threshold_zero():
    query = [0.0, 1.0, 2.0]
    x = np.array([0, 1, 2, 0, 1, 2, 5, 0, 2, 4, 9, 1.0])  # two copies and one scaled copy
    params = [{"query": query, "threshold": 0.0}, {"query": query, "threshold": 0.0,
                                                   "normalize": False}]
    row = one_series(x, {"query_similarity_count": params})
    assert list(row) == [3.0, 2.0]
    assert list(row.index) == [
        "value__query_similarity_count__query_[0.0, 1.0, 2.0]__threshold_0.0",
        "value__query_similarity_count__normalize_False__query_[0.0, 1.0, 2.0]__threshold_0.0",
    ]


def test_query_similarity_count_is_nan_without_a_usable_query():
    x = np.arange(10.0)
    params = [{"query": None, "threshold": 0.0}, {"query": [1.0, 2.0], "threshold": 1.0},
              {"query": list(range(11)), "threshold": 1.0}]  # longer than the series
    assert one_series(x, {"query_similarity_count": params}).isna().all()
    with pytest.raises(FeaturekitError, match="'query'"):
        one_series(x, {"query_similarity_count": [{"query": [1.0, np.inf, 2.0]}]})
