"""The numba window kernel: every requested calculator for every window in one parallel pass.

A *plan* is one row per output column: the calculator's code and up to four encoded
parameters (see ``primitives/timeseries.py``). For each window the kernel reads a view of
the shared values buffer, computes once what many calculators share (mean and variance,
one sort, one FFT, one Welch spectrum; the AR, Friedrich and Dickey-Fuller fits once per
model) and then evaluates every plan row. Chunks of windows run in parallel on threads; the
data is never copied per window, only small per-window temporaries are allocated.

The functions below are templates, not compiled as they stand: a kernel that inlined all
~75 calculators took minutes to compile, and ``settings="minimal"`` paid for all of them.
``driver`` generates, for the calculator *families* a plan uses, a module holding only
their branches (``drivers.py``), compiled on first use and cached on disk by content.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

import numba
import numpy as np
import scipy.linalg.cython_lapack
from threadpoolctl import ThreadpoolController

from featurekit.primitives import timeseries as calc
from featurekit.timeseries import drivers

PARAMETER_SLOTS = 4
NAN = np.nan

#: Codes whose calculator needs the sorted window.
SORTED_CODES = frozenset({4, 10, 28, 29, 30, 31, 32, 40, 42, 49})
FFT_COEFFICIENT_CODE = 50
FFT_AGGREGATED_CODE = 51
#: Codes whose calculator needs the Welch power spectral density of the window.
WELCH_CODES = frozenset({65, 66})
AR_CODE = 67
FRIEDRICH_CODE = 68
LANGEVIN_CODE = 69
ADF_CODE = 73
APEN_CODE = 72
QUERY_CODE = 62

def _integer_slots() -> np.ndarray:
    """For every kernel code, which parameter slots the kernels read as integers (integer
    parameters and the positions of string choices), from the calculators' declarations."""
    table = np.zeros((max(c.code for c in calc.CALCULATORS) + 1, PARAMETER_SLOTS), dtype=bool)
    for calculator in calc.CALCULATORS:
        for slot, parameter in enumerate(calculator.parameters):
            table[calculator.code, slot] = parameter.integer or parameter.choices is not None
    return table


#: ``INTEGER_SLOTS[code, slot]``: the kernels convert that parameter to an integer.
INTEGER_SLOTS = _integer_slots()

# The AR fit calls LAPACK (through scipy, which numba binds to); its own BLAS threads would
# fight the kernel's threads, so they are limited to one while the kernel runs.
_ = scipy.linalg.cython_lapack  # load scipy's BLAS before taking stock of thread pools
_THREADPOOLS = ThreadpoolController()


def _evaluate(
    code, p, x, srt, mean, variance, std, low, high, real, imag, available, density, hours
):
    n = x.shape[0]
    if code == 1:
        return 1.0 if variance > std else 0.0
    if code == 2 or code == 3:
        target = high if code == 2 else low
        count = 0
        for i in range(n):
            if x[i] == target:
                count += 1
        return 1.0 if count >= 2 else 0.0
    if code == 4:
        for i in range(1, n):
            if srt[i] == srt[i - 1]:
                return 1.0
        return 0.0
    if code == 5:
        return calc.pairwise_sum(x)
    if code == 6:
        total = 0.0
        for i in range(n):
            total += x[i] * x[i]
        return total
    if code == 7 or code == 19:
        changes = np.empty(max(n - 1, 0))
        for i in range(n - 1):
            changes[i] = abs(x[i + 1] - x[i])
        total = calc.pairwise_sum(changes)
        if code == 19:
            return total
        return total / (n - 1) if n > 1 else NAN
    if code == 8:
        return (x[n - 1] - x[0]) / (n - 1) if n > 1 else NAN
    if code == 9:
        return (x[n - 1] - x[n - 2] - x[1] + x[0]) / (2.0 * (n - 2)) if n > 2 else NAN
    if code == 10:
        return calc.sorted_median(srt)
    if code == 11:
        return mean
    if code == 12:
        return float(n)
    if code == 13:
        return std
    if code == 14:
        return std / mean if mean != 0.0 else NAN
    if code == 15:
        return variance
    if code == 16:
        return calc.skewness(x, mean)
    if code == 17:
        return calc.kurtosis(x, mean)
    if code == 18:
        squares = np.empty(n)
        for i in range(n):
            squares[i] = x[i] * x[i]
        return math.sqrt(calc.pairwise_sum(squares) / n)
    if code == 20 or code == 21:
        return calc.longest_strike(x, mean, code == 21)
    if code == 22 or code == 23:
        count = 0
        for i in range(n):
            if (x[i] > mean) if code == 22 else (x[i] < mean):
                count += 1
        return float(count)
    if code == 24:
        return calc.location_of_extreme(x, True, True)
    if code == 25:
        return calc.location_of_extreme(x, True, False)
    if code == 26:
        return calc.location_of_extreme(x, False, True)
    if code == 27:
        return calc.location_of_extreme(x, False, False)
    if 28 <= code <= 32:
        return calc.reoccurrence(srt, code - 28)
    if code == 33:
        return high
    if code == 34:
        return max(abs(low), abs(high))
    if code == 35:
        return low
    if code == 36:
        return calc.benford_correlation(x)
    if code == 37 or code == 38:
        return calc.lagged_products(x, int(p[0]), code == 37)
    if code == 39:
        return calc.cid_ce(x, mean, std, p[0] != 0.0)
    if code == 40:
        median = calc.sorted_median(srt)
        return 1.0 if abs(mean - median) < p[0] * (high - low) else 0.0
    if code == 41:
        return 1.0 if std > p[0] * (high - low) else 0.0
    if code == 42:
        return calc.sorted_quantile(srt, p[0])
    if code == 43:
        return calc.autocorrelation(x, mean, variance, int(p[0]))
    if code == 44:
        return calc.agg_autocorrelation(x, mean, variance, int(p[0]), int(p[1]))
    if code == 45:
        return calc.partial_autocorrelation(x, mean, int(p[0]))
    if code == 46:
        return calc.number_peaks(x, int(p[0]))
    if code == 47:
        return calc.binned_entropy(x, int(p[0]))
    if code == 48:
        return calc.index_mass_quantile(x, p[0])
    if code == 49:
        return calc.change_quantiles(x, srt, p[0], p[1], p[2] != 0.0, int(p[3]))
    if code == 50:
        return calc.fft_coefficient(real, imag, available, int(p[0]), int(p[1]))
    if code == 51:
        return calc.fft_aggregated(real, imag, available, int(p[0]))
    if code == 52:
        count = 0
        for i in range(n):
            if x[i] == p[0]:
                count += 1
        return float(count)
    if code == 53:
        count = 0
        for i in range(n):
            if p[0] <= x[i] < p[1]:
                count += 1
        return float(count)
    if code == 54:
        return calc.linear_regression(x, int(p[0]))
    if code == 55:
        chunk = int(p[1])
        if chunk < 1 or chunk >= n:
            return NAN
        chunks = (n + chunk - 1) // chunk
        aggregates = np.empty(chunks)
        for i in range(chunks):
            aggregates[i] = calc.aggregate(x[i * chunk : min((i + 1) * chunk, n)], int(p[2]))
        return calc.linear_regression(aggregates, int(p[0]))
    if code == 56:
        crossings = 0
        for i in range(n - 1):
            if (x[i] > p[0]) != (x[i + 1] > p[0]):
                crossings += 1
        return float(crossings)
    if code == 57:
        return calc.energy_ratio_by_chunks(x, int(p[0]), int(p[1]))
    if code == 58:
        count = 0
        for i in range(n):
            if abs(x[i] - mean) > p[0] * std:
                count += 1
        return count / n
    if code == 59 or code == 60:
        count = 0
        for i in range(n):
            if (x[i] >= p[0]) if code == 59 else (x[i] <= p[0]):
                count += 1
        return count / n
    if code == 61:
        return calc.permutation_entropy(x, int(p[0]), int(p[1]))
    if code == 62:
        return NAN
    if code == 63:
        k = int(p[0])
        if k < 1 or n <= k:
            return NAN
        magnitudes = np.sort(np.abs(x))
        return calc.pairwise_sum(magnitudes[n - k :]) / k
    if code == 75:
        return calc.number_cwt_peaks(x, int(p[0]))
    if code == 74:
        if hours.shape[0] != n:  # no timestamps: never read past the empty array
            return NAN
        return calc.regression_on(hours, x, int(p[0]))
    if code == 64:
        return calc.lempel_ziv_complexity(x, int(p[0]))
    if code == 65:
        return calc.fourier_entropy(density, int(p[0]))
    if code == 66:
        coefficient = int(p[0])
        return density[coefficient] if 0 <= coefficient < density.shape[0] else NAN
    if code == 70:
        return calc.cwt_coefficient(x, p[1], int(p[0]))
    if code == 71:
        return calc.sample_entropy(x, std)
    return NAN


def _all_approximate_entropies(x, std, codes, parameters, out, w):
    """Fill every approximate_entropy row of window ``w``, one pair scan per embedding m."""
    rows = codes.shape[0]
    done = np.zeros(rows, dtype=np.bool_)
    for r in range(rows):
        if codes[r] != APEN_CODE or done[r]:
            continue
        m = parameters[r, 0]
        members = 0
        for q in range(r, rows):
            if codes[q] == APEN_CODE and parameters[q, 0] == m:
                members += 1
        indices = np.empty(members, dtype=np.int64)
        ratios = np.empty(members)
        members = 0
        for q in range(r, rows):
            if codes[q] == APEN_CODE and parameters[q, 0] == m:
                indices[members] = q
                ratios[members] = parameters[q, 1]
                members += 1
        values = calc.approximate_entropies(x, std, int(m), ratios)
        for k in range(indices.shape[0]):
            out[w, indices[k]] = values[k]
            done[indices[k]] = True


def extract_windows(
    values: np.ndarray,
    times: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    codes: np.ndarray,
    parameters: np.ndarray,
    needs_sorted: bool,
    fft_coefficients: int,
    fft_full: bool,
    needs_welch: bool,
    out: np.ndarray,
) -> None:
    """Fill ``out[window, row]`` with plan row ``row`` evaluated on ``values[start:stop]``."""
    rows = codes.shape[0]
    for w in range(starts.shape[0]):
        x = values[starts[w] : stops[w]]
        n = x.shape[0]
        if n == 0:
            for r in range(rows):
                out[w, r] = NAN
            continue
        mean, variance = calc.mean_and_variance(x)
        std = math.sqrt(variance)
        low = x.min()
        high = x.max()
        srt = np.sort(x) if needs_sorted else np.empty(0)
        available = n // 2 + 1
        wanted = available if fft_full else min(fft_coefficients, available)
        real, imag = calc.real_dft(x, mean, wanted) if WITH_SPECTRA else (np.empty(0), np.empty(0))
        density = calc.welch_density(x) if WITH_SPECTRA and needs_welch else np.empty(0)
        hours = np.empty(n if times.shape[0] > 0 else 0)
        for i in range(hours.shape[0]):
            hours[i] = (times[starts[w] + i] - times[starts[w]]) / 1e9 / 3600.0
        # fits shared by consecutive rows with the same model parameters
        ar_order = -1
        ar_fit = np.empty(0)
        friedrich_key = -1
        friedrich_fit = np.empty(0)
        adf_fit = np.empty(0)
        adf_autolag = -2
        entropies_done = False
        for r in range(rows):
            code = codes[r]
            if code == AR_CODE:
                order = int(parameters[r, 1])
                if order != ar_order:
                    ar_fit = calc.ar_parameters(x, order)
                    ar_order = order
                out[w, r] = calc.ar_coefficient(ar_fit, int(parameters[r, 0]), order)
                continue
            if code == APEN_CODE:
                if not entropies_done:
                    _all_approximate_entropies(x, std, codes, parameters, out, w)
                    entropies_done = True
                continue
            if code == ADF_CODE:
                autolag = int(parameters[r, 1])
                if autolag != adf_autolag:
                    adf_fit = calc.augmented_dickey_fuller(x, autolag)
                    adf_autolag = autolag
                attribute = int(parameters[r, 0])
                out[w, r] = adf_fit[attribute] if 0 <= attribute < adf_fit.shape[0] else NAN
                continue
            if code == FRIEDRICH_CODE or code == LANGEVIN_CODE:
                first = 1 if code == FRIEDRICH_CODE else 0
                degree = int(parameters[r, first])
                quantiles = int(parameters[r, first + 1])
                key = degree * 1_000_003 + quantiles
                if key != friedrich_key:
                    friedrich_fit = calc.friedrich_polynomial(x, degree, quantiles)
                    friedrich_key = key
                if code == LANGEVIN_CODE:
                    out[w, r] = calc.max_langevin_fixed_point(friedrich_fit)
                else:
                    coefficient = int(parameters[r, 0])
                    inside = 0 <= coefficient < friedrich_fit.shape[0]
                    out[w, r] = friedrich_fit[coefficient] if inside else NAN
                continue
            out[w, r] = _evaluate(
                codes[r],
                parameters[r],
                x,
                srt,
                mean,
                variance,
                std,
                low,
                high,
                real,
                imag,
                available,
                density,
                hours,
            )


#: Calculator families: a generated kernel compiles the branches of the families its plan
#: uses. Families group calculators by what they compile (the LAPACK fits, the spectra, the
#: wavelets, ...), so a handful of kernels cover every plan.
FAMILIES: dict[str, tuple[int, ...]] = {
    "summary": (5, 10, 11, 12, 13, 15, 18, 33, 34, 35),
    "basic": (*range(1, 5), *range(6, 10), 14, *range(16, 18), *range(19, 33), 41, 52, 53, 56,
              58, 59, 60, 62, 63),
    "shape": (36, 37, 38, 39, 40, 42, 46, 48, 49, 57),
    "correlation": (43, 44, 45),
    "trend": (54, 55, 74),
    "spectral": (50, 51, 65, 66),
    "entropy": (47, 61, 64, 71, 72),
    "models": (67, 68, 69, 73),
    "wavelet": (70, 75),
}
#: ``FAMILY_INDEX[code]``: the position in ``FAMILIES`` of the code's family.
FAMILY_INDEX = np.full(max(c.code for c in calc.CALCULATORS) + 1, -1, dtype=np.int64)
for _position, _codes in enumerate(FAMILIES.values()):
    FAMILY_INDEX[list(_codes)] = _position
#: Generation-time switch of the template: the FFT and the Welch spectrum are computed only
#: in kernels of the spectral family (``drivers`` replaces the name by a constant).
WITH_SPECTRA = True
#: About how many seconds each family takes to compile on one core, for the message that
#: announces a compilation (measured on an otherwise idle machine; the driver itself ~3 s).
COMPILE_SECONDS = {
    "summary": 1, "basic": 3, "shape": 4, "correlation": 2, "trend": 3, "spectral": 5, "entropy": 5,
    "models": 12, "wavelet": 4,
}
DRIVER_SECONDS = 3


def families_of(codes: np.ndarray) -> tuple[str, ...]:
    """The families whose branches a kernel for these plan codes needs."""
    present = set(np.unique(codes).tolist())
    return tuple(name for name, members in FAMILIES.items() if present.intersection(members))


def _check_windows(
    values: np.ndarray, starts: np.ndarray, stops: np.ndarray, times: np.ndarray | None
) -> None:
    """Every window lies inside the buffer (the kernel reads ``values[start:stop]`` unchecked)."""
    starts = np.asarray(starts)
    stops = np.asarray(stops)
    inside = (starts >= 0) & (starts <= stops) & (stops <= values.shape[0])
    if starts.shape != stops.shape or not inside.all():
        raise ValueError("window bounds outside the values buffer (a featurekit bug)")
    if times is not None and times.shape[0] > 0 and times.shape[0] != values.shape[0]:
        raise ValueError("timestamps and values differ in length (a featurekit bug)")


def _integers_in_range(codes: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """The plan's parameters with every integer slot made a float that converts to an int64
    without overflow (NaN -> -1, clipped to [-1, MAX_POSITION + 1]).

    The settings check refuses such values before this point; this keeps a direct caller's
    plan from reaching numba's undefined float-to-integer conversion, and the kernels answer
    NaN for parameters outside their range.
    """
    parameters = np.asarray(parameters, dtype=np.float64)
    known = (codes >= 0) & (codes < INTEGER_SLOTS.shape[0])
    mask = np.zeros(parameters.shape, dtype=bool)
    mask[known] = INTEGER_SLOTS[codes[known]]
    if not mask.any():
        return parameters
    bounded = np.clip(np.nan_to_num(parameters, nan=-1.0), -1.0, calc.MAX_POSITION + 1.0)
    return np.where(mask, np.trunc(bounded), parameters)


def run_plan(
    values: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    codes: np.ndarray,
    parameters: np.ndarray,
    times: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Evaluate a plan over windows; returns a (windows x plan rows) float64 matrix.

    ``times`` (int64 nanoseconds, aligned with ``values``) is needed only by time-aware
    calculators such as linear_trend_timewise. ``progress`` is called with the number of
    windows finished, chunk by chunk.
    """
    codes = np.asarray(codes, dtype=np.int64)
    # NaN until written: a value the kernel could not compute never shows stale memory
    out = np.full((starts.shape[0], codes.shape[0]), np.nan)
    if out.size == 0:
        return out
    _check_windows(values, starts, stops, times)
    parameters = _integers_in_range(codes, parameters)
    needs_sorted = bool(np.isin(codes, list(SORTED_CODES)).any())
    fft_rows = codes == FFT_COEFFICIENT_CODE
    fft_coefficients = int(parameters[fft_rows, 0].max()) + 1 if fft_rows.any() else 0
    fft_full = bool((codes == FFT_AGGREGATED_CODE).any())
    needs_welch = bool(np.isin(codes, list(WELCH_CODES)).any())
    # One compiled signature only: the values buffer is always passed read-only (the kernel
    # never writes it, and polars hands out read-only views).
    buffer = np.ascontiguousarray(values, dtype=np.float64)
    if buffer.flags.writeable:
        buffer = buffer.view()
        buffer.flags.writeable = False
    kernel = drivers.driver(families_of(codes))
    arguments = (
        np.zeros(0, dtype=np.int64) if times is None else np.ascontiguousarray(times, np.int64),
        np.ascontiguousarray(starts, dtype=np.int64),
        np.ascontiguousarray(stops, dtype=np.int64),
        np.ascontiguousarray(codes, dtype=np.int64),
        np.ascontiguousarray(parameters, dtype=np.float64),
        needs_sorted,
        fft_coefficients,
        fft_full,
        needs_welch,
    )
    with _THREADPOOLS.limit(limits=1, user_api="blas"):
        _run_in_chunks(kernel, buffer, arguments, out, progress)
    _query_counts(buffer, starts, stops, codes, parameters, out)
    return out


def _query_counts(
    values: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    codes: np.ndarray,
    parameters: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill the query_similarity_count rows that have a query (plan rows carry the query's
    number; the array lives in the catalogue), one compiled pass over the windows each."""
    for row in np.flatnonzero(codes == QUERY_CODE):
        number = parameters[row, 0]
        if not 0 <= number < len(calc.QUERIES):  # no query (NaN): NaN, as tsfresh
            continue
        out[:, row] = calc.query_similarity_counts(
            values,
            np.ascontiguousarray(starts, dtype=np.int64),
            np.ascontiguousarray(stops, dtype=np.int64),
            calc.QUERIES[int(number)],
            float(parameters[row, 1]),
            bool(parameters[row, 2] != 0.0),
        )


def _run_in_chunks(
    kernel: Callable[..., None],
    buffer: np.ndarray,
    arguments: tuple,
    out: np.ndarray,
    progress: Callable[[int], None] | None,
) -> None:
    """Run ``kernel`` over consecutive chunks of windows on numba's number of threads (the
    compiled kernel releases the GIL), reporting each finished chunk's window count.

    Threads over chunks instead of numba's ``prange``: a parallel kernel took twice as long
    to compile, and chunks are what a progress bar counts.
    """
    times, starts, stops, codes, parameters, *flags = arguments
    windows = starts.shape[0]
    threads = max(1, min(numba.get_num_threads(), windows))
    pieces = threads * 4 if progress is None else max(threads * 4, 100)
    size = max(1, -(-windows // pieces))
    bounds = [(a, min(a + size, windows)) for a in range(0, windows, size)]

    def run(a: int, b: int) -> int:
        kernel(buffer, times, starts[a:b], stops[a:b], codes, parameters, *flags, out[a:b])
        return b - a

    if threads == 1:
        for a, b in bounds:
            done = run(a, b)
            if progress is not None:
                progress(done)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="featurekit") as pool:
        futures = [pool.submit(run, a, b) for a, b in bounds]
        try:
            for future in as_completed(futures):
                done = future.result()
                if progress is not None:
                    progress(done)
        finally:
            for future in futures:
                future.cancel()
