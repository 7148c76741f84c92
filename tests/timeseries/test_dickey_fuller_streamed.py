"""The Dickey-Fuller fit streamed over blocks of rows equals the dense fit.

``augmented_dickey_fuller`` never builds the n x lags design: it folds blocks of rows into
the R factor of [design | target] and reads every candidate model (AIC, BIC, t-stat or
maxlag) off that triangle. Here the dense regressions are written with numpy's lstsq on the
whole design, for every autolag mode, on series that span several blocks, on series scaled
to the ends of the float range and on near-singular series; the triangle itself is checked
against numpy's QR; and the fit's memory does not grow with n x lags.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest
from featurekit.primitives import timeseries as calc

import featurekit.timeseries as fkts

AUTOLAG = {"AIC": 0, "BIC": 1, "t-stat": 2, None: 3}
NORMAL_95 = 1.6448536269514722


def _fit(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float, int, np.ndarray]:
    """Coefficients, residual sum of squares, rank and t-statistics of a dense OLS fit by
    the pseudo-inverse of the design (as statsmodels' OLS)."""
    inverse = np.linalg.pinv(design, rcond=1e-15)
    coefficients = inverse @ target
    rank = np.linalg.matrix_rank(design)
    residual = float(np.sum((target - design @ coefficients) ** 2))
    scale = residual / (len(target) - rank)
    errors = np.sqrt(scale * np.sum(inverse**2, axis=1))
    return coefficients, residual, int(rank), coefficients / errors


def dense_dickey_fuller(x: np.ndarray, autolag: str | None) -> tuple[float, int]:
    """ADF statistic (constant, no trend) and lags used, from the whole design in memory."""
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
            _, residual, rank, _ = _fit(design, target)
            rows = len(target)
            log_likelihood = -rows / 2 * (math.log(2 * math.pi) + math.log(residual / rows) + 1)
            penalty = 2 * rank if autolag == "AIC" else math.log(rows) * rank
            if best is None or -2 * log_likelihood + penalty < best:
                best, used = -2 * log_likelihood + penalty, lags
    elif autolag == "t-stat":
        used = 0
        for lags in range(max_lag, -1, -1):
            t = _fit(*regression(lags, max_lag))[3]
            if abs(t[-1]) >= NORMAL_95:
                used = lags
                break
    return float(_fit(*regression(used, used))[3][1]), used


def random_series(kind: str, length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "walk":
        return np.cumsum(rng.normal(size=length))
    if kind == "noise":
        return rng.normal(size=length)
    if kind == "ties":  # three values: many rows share their lagged changes
        return rng.integers(0, 3, length).astype(float)
    if kind == "steps":  # runs of five equal values: most changes are exactly zero
        return np.repeat(rng.normal(size=length // 5 + 1), 5)[:length]
    ar = np.zeros(length)
    noise = rng.normal(size=length)
    for t in range(3, length):  # an AR(3) process: the lag searches pick different lags
        ar[t] = 0.6 * ar[t - 1] - 0.3 * ar[t - 2] + 0.25 * ar[t - 3] + noise[t]
    return ar


def assert_equal_fits(x: np.ndarray, autolag: str | None, reference: np.ndarray) -> None:
    statistic, pvalue, lags = calc.augmented_dickey_fuller(x, AUTOLAG[autolag])
    expected_statistic, expected_lags = dense_dickey_fuller(reference, autolag)
    assert lags == expected_lags, (autolag, lags, expected_lags)
    assert statistic == pytest.approx(expected_statistic, rel=1e-8, abs=1e-10), autolag
    assert pvalue == calc.mackinnon_pvalue(statistic)


CASES = [(kind, length) for kind in ("walk", "noise", "ties", "steps", "ar")
         for length in (25, 400, 9_000)  # 9,000 rows: three blocks
         if (kind, length) != ("steps", 25)]  # five values, nine lags: a perfect fit


@pytest.mark.parametrize("autolag", list(AUTOLAG))
@pytest.mark.parametrize("kind,length", CASES)
def test_streamed_fit_equals_the_dense_fit(kind: str, length: int, autolag: str | None) -> None:
    x = random_series(kind, length, seed=length)
    assert_equal_fits(x, autolag, x)


@pytest.mark.parametrize("autolag", list(AUTOLAG))
@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300])
@pytest.mark.parametrize("kind", ["walk", "ar", "steps"])
def test_extreme_scales_give_the_dense_fit_of_the_plain_series(kind, scale, autolag) -> None:
    """The statistic does not depend on the series' unit; at these scales a dense fit in
    floats would overflow or underflow, so the plain series is the reference."""
    x = random_series(kind, 300, seed=11)
    assert_equal_fits(x * scale, autolag, x)


@pytest.mark.parametrize("autolag", list(AUTOLAG))
def test_near_singular_series_give_the_dense_fit(autolag: str | None) -> None:
    """Series whose level is almost collinear with the constant (1 + 1e-8 noise), series of
    long constant runs, and the shortest series with a lag: the fits stay determined."""
    rng = np.random.default_rng(4)
    cases = [1.0 + 1e-8 * rng.normal(size=n) for n in (12, 200, 5_000)]
    cases += [np.repeat(rng.normal(size=40), 25), np.array([0.0, 1.0, 0.0, 2.0, 0.0, 1.0])]
    for x in cases:
        statistic, _, lags = calc.augmented_dickey_fuller(x, AUTOLAG[autolag])
        expected_statistic, expected_lags = dense_dickey_fuller(x, autolag)
        assert lags == expected_lags
        assert statistic == pytest.approx(expected_statistic, rel=1e-6)


def perfect_fits() -> list[np.ndarray]:
    """Series an exact recurrence generates: the residual is rounding noise, so is the
    statistic (in any implementation); what must hold is that it is finite or NaN, and
    the same whatever else runs."""
    n = np.arange(500.0)
    return [0.5 * n + 2, n**2, np.tile([1.0, 2.0, 5.0], 170), np.sin(0.3 * n),
            np.tile([1.0, 2.0, 5.0], 170) * 1e300, np.sin(0.3 * n) * 1e-300,
            np.array([1.0, 2.0, 1.0, 2.0, 1.0])]


@pytest.mark.parametrize("autolag", list(AUTOLAG))
def test_perfect_fits_give_finite_or_missing_values(autolag: str | None) -> None:
    for x in perfect_fits():
        values = calc.augmented_dickey_fuller(x, AUTOLAG[autolag])
        assert all(math.isnan(v) or math.isfinite(v) for v in values)
        again = calc.augmented_dickey_fuller(x.copy(), AUTOLAG[autolag])
        np.testing.assert_array_equal(values, again)


def test_one_thread_equals_all_threads_and_ids_stay_apart() -> None:
    """Random, extreme, near-singular, perfect and invalid series side by side: each id's
    values are those it gets alone, with one thread or all."""
    rng = np.random.default_rng(8)
    windows = [random_series("walk", 6_000, 1), random_series("ar", 300, 2) * 1e300,
               1.0 + 1e-8 * rng.normal(size=200), np.full(50, 3.0), np.array([1.0, np.inf] * 30),
               *perfect_fits()[:4], random_series("steps", 9_000, 3) * 1e-300]
    frame = pd.concat(
        pd.DataFrame({"id": i, "time": np.arange(len(x)), "value": x})
        for i, x in enumerate(windows)
    )
    settings = {"augmented_dickey_fuller": [
        {"attr": attr, "autolag": autolag}
        for attr in ("teststat", "pvalue", "usedlag") for autolag in AUTOLAG
    ]}

    def extract(part: pd.DataFrame, n_jobs: int | None = None) -> pd.DataFrame:
        kwargs = {} if n_jobs is None else {"n_jobs": n_jobs}
        return fkts.extract(part, column_id="id", column_sort="time",
                            default_fc_parameters=settings, disable_progressbar=True, **kwargs)

    together = extract(frame)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = extract(frame, n_jobs=1)
    finally:
        numba.set_num_threads(previous)
    pd.testing.assert_frame_equal(together, single)
    for i, x in enumerate(windows):
        alone = extract(frame[frame["id"] == i])
        pd.testing.assert_series_equal(together.loc[i], alone.loc[i])
        for autolag, code in AUTOLAG.items():
            direct = calc.augmented_dickey_fuller(x, code)
            columns = [f'value__augmented_dickey_fuller__attr_"{attr}"__autolag_"{autolag}"'
                       for attr in ("teststat", "pvalue", "usedlag")]
            np.testing.assert_array_equal(together.loc[i, columns].to_numpy(float), direct)
    assert together.loc[[3, 4]].isna().all().all()  # constant; with an infinity


@pytest.mark.parametrize("lags,rows", [(0, 3), (3, 20), (5, 4), (12, 9_000)])
@pytest.mark.parametrize("leading", [True, False])
def test_triangle_is_the_r_factor_of_the_design(lags: int, rows: int, leading: bool) -> None:
    """|R| of [design | target] equals numpy's QR up to the sign of each row."""
    x = random_series("walk", rows + lags + 1, seed=rows)
    changes = np.diff(x)
    times = np.arange(lags, lags + rows)
    regressors = [x[times]] + [changes[times - k] for k in range(1, lags + 1)]
    constant = [np.ones(rows)]
    columns = constant + regressors if leading else regressors + constant
    matrix = np.column_stack(columns + [changes[times]])
    expected = np.linalg.qr(matrix, mode="r")
    triangle = calc.dickey_fuller_triangle(x, changes, lags, lags, rows, leading)
    assert triangle.shape == expected.shape
    signs = np.where(np.sign(np.diag(triangle)) == np.sign(np.diag(expected)), 1.0, -1.0)
    np.testing.assert_allclose(triangle * signs[:, None], expected, rtol=1e-9,
                               atol=1e-9 * np.abs(expected).max())


def test_memory_of_the_fit_does_not_grow_with_rows_times_lags() -> None:
    """300,000 points try 89 lags: the dense design alone would take 215 MB."""
    script = textwrap.dedent("""
        import resource
        import numpy as np
        from featurekit.primitives import timeseries as calc
        calc.augmented_dickey_fuller(np.cumsum(np.random.default_rng(0).normal(size=500)), 0)
        x = np.cumsum(np.random.default_rng(1).normal(size=300_000))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        values = calc.augmented_dickey_fuller(x, 0)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) / 1024, values[2])
    """)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=root)
    grown_mb, lags = map(float, done.stdout.split())
    assert 0 <= lags <= 89
    assert grown_mb < 60, grown_mb
