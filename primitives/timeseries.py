"""Time-series calculators for the extractor: what each computes, its parameters and presets.

All 75 calculators of tsfresh 0.21's comprehensive preset are here, each following the
definition of the tsfresh calculator of the same name (same values, same NaN cases) and
written from that definition. Each is described by a :class:`Calculator` record: its name,
its kernel code, its parameters (type, allowed range, checked before any kernel runs, and how
the value reaches the kernels), the parameter grid of the comprehensive preset and the flags
the presets are derived from (``minimal``, ``high_cost``, ``needs_time``). The numeric work is done by the ``@njit``
functions below, called by the window kernel in ``featurekit.timeseries.kernels`` on a view
of one window (the simplest statistics are inlined there); they never see frames, ids or
settings.

Known differences from tsfresh: permutation_entropy breaks ties between equal values by
position (tsfresh's result then depends on numpy's sort kernel); benford_correlation takes
the true leading digit of a subnormal value (tsfresh the first digit of its shortest printed
form, which can differ there). Calculators that tsfresh has and featurekit lacks would be listed
in :data:`NOT_YET_IMPLEMENTED`; it is empty.
tsfresh 0.21 defines one more calculator, ``matrix_profile``, that none of its presets
contains on a current Python: see :data:`EXCLUDED`.

The window kernels that inline these functions are cached by numba, stamped with a hash of
the content of every kernel source file (``featurekit/_numba_cache.py``), so an edited
calculator is recompiled on the next run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

NAN = np.nan

# --------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------


#: Largest position, lag, coefficient or point count a parameter may name. No series of more
#: rows fits in memory, and it keeps the kernels' index arithmetic far from int64 overflow.
MAX_POSITION = 2**31 - 1
#: Largest number of bins (histogram bins, quantile bins): the kernels hold a slot per bin.
MAX_BINS = 10**6
#: Largest degree of the Friedrich polynomial: the fit holds a column per power.
MAX_DEGREE = 100
#: Largest wavelet width: the kernels sample the wavelet at about 16 points per unit of width
#: and keep one transform row per width.
MAX_WAVELET_WIDTH = 1000
#: Largest permutation_entropy dimension: the kernel numbers the dimension! orderings in 64
#: bits (20! < 2**63); beyond it nearly every pattern of a series is unique anyway.
MAX_PERMUTATION_DIMENSION = 20


def _number_text(value: float) -> str:
    """A bound as written in messages: integers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _shown(value: Any) -> str:
    """A parameter value as quoted in messages, cut short if its text is long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Parameter:
    """One named parameter of a calculator: its type, its allowed range and how the kernels
    receive it (as a float). The range is the single source of truth for both entry points
    (``extract`` settings and the DFS primitives), the documentation and the tests.
    """

    name: str
    choices: tuple[str, ...] | None = None  # string parameters: encoded as their position
    boolean: bool = False
    integer: bool = False
    optional: bool = False  # may be None (encoded as NaN)
    name_only: bool = False  # appears in the column name only; the kernels ignore it
    low: float | None = None  # smallest allowed value (None: no lower bound)
    high: float | None = None  # largest allowed value (None: no upper bound)
    low_exclusive: bool = False  # the value must be strictly greater than ``low``
    infinite: bool = False  # +-inf are meaningful values (thresholds)
    nan: bool = False  # NaN is a meaningful value (value_count counts NaNs)
    below: str | None = None  # must be smaller than this other parameter
    member_of: str | None = None  # must be one of the values of this other parameter
    sequence: bool = False  # a list or tuple of numbers, each in the range
    none_only: bool = False  # only None is supported so far (query_similarity_count's query)
    default: Any = None  # the value an omitted parameter takes (tsfresh's default)
    subsequence: bool = False  # a sequence the kernels read whole: encoded as its number

    @property
    def numeric(self) -> bool:
        return self.choices is None and not self.boolean

    def allowed(self) -> str:
        """The allowed values in words, as error messages and the docs state them."""
        if self.none_only:
            return "None"
        if self.choices is not None:
            text = f"one of {list(self.choices)}"
        elif self.boolean:
            text = "True or False"
        else:
            noun = "integer" if self.integer else "number"
            if self.high is None and not self.integer and not self.infinite:
                noun = "finite number"
            bounds = self._range()
            if self.nan and self.infinite:
                bounds = bounds or "(NaN and infinities included)"
            elif self.infinite:
                bounds = bounds or "or an infinity (not NaN)"
            if self.sequence:
                text = f"a list of {noun}s" + (f", each {bounds}" if bounds else "")
            else:
                text = f"{'an' if noun == 'integer' else 'a'} {noun} {bounds}".rstrip()
            if self.below is not None:
                text += f", less than {self.below}"
            if self.member_of is not None:
                text += f", one of the {self.member_of}"
        return text + (" or None" if self.optional else "")

    def _range(self) -> str:
        """The bounds in words ("from 0 to 1"), empty when the parameter has none."""
        low = None if self.low is None else _number_text(self.low)
        high = None if self.high is None else _number_text(self.high)
        if low is not None and high is not None:
            if self.low_exclusive:
                return f"greater than {low} and at most {high}"
            return f"from {low} to {high}"
        if low is not None:
            return f"{'greater than' if self.low_exclusive else 'at least'} {low}"
        if high is not None:
            return f"at most {high}"
        return ""

    def _refuse(self, value: Any) -> ValueError:
        return ValueError(f"parameter {self.name!r} must be {self.allowed()}, got {_shown(value)}")

    def _check_number(self, value: Any) -> float:
        """``value`` as a float if it is a number of this parameter's type and range."""
        if isinstance(value, bool | np.bool_) or not isinstance(
            value, int | float | np.integer | np.floating
        ):
            raise self._refuse(value)
        try:
            number = float(value)
        except OverflowError:  # a Python integer beyond the float range
            number = math.inf if value > 0 else -math.inf
        if math.isnan(number):
            if not self.nan:
                raise self._refuse(value)
            return number
        if math.isinf(number) and not (self.infinite and not self.integer):
            raise self._refuse(value)
        if self.integer and not number.is_integer():
            raise self._refuse(value)
        exact = value if isinstance(value, int | np.integer) else number
        if self.low is not None and (
            exact <= self.low if self.low_exclusive else exact < self.low
        ):
            raise self._refuse(value)
        if self.high is not None and exact > self.high:
            raise self._refuse(value)
        return number

    def encode(self, value: Any) -> float:
        """Return the float the kernels receive for ``value``; raise ValueError if invalid."""
        if value is None:
            if self.optional:
                return NAN
            raise self._refuse(value)
        if self.none_only:
            raise ValueError(f"parameter {self.name!r} supports only None so far, got {value!r}")
        if self.choices is not None:
            if not isinstance(value, str) or value not in self.choices:
                raise self._refuse(value)
            return float(self.choices.index(value))
        if self.boolean:
            if not isinstance(value, bool | np.bool_):
                raise self._refuse(value)
            return float(bool(value))
        if self.sequence:
            if isinstance(value, np.ndarray) and self.subsequence and value.ndim == 1:
                value = value.tolist()
            if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
                raise self._refuse(value)
            numbers = [self._check_number(element) for element in value]
            return float(register_query(numbers)) if self.subsequence else 0.0
        number = self._check_number(value)
        return 0.0 if self.name_only else number


@dataclass(frozen=True)
class Calculator:
    """A time-series calculator: one output column per parameter combination."""

    name: str
    code: int
    parameters: tuple[Parameter, ...] = ()
    grid: tuple[Mapping[str, Any], ...] | None = None  # comprehensive preset's grid
    minimal: bool = False
    high_cost: bool = False
    description: str = ""
    fixed_name_parts: Mapping[str, Any] = field(default_factory=dict)
    needs_time: bool = False  # computed only when the series have datetime timestamps

    @property
    def presets(self) -> frozenset[str]:
        """The presets this calculator belongs to, derived from its flags."""
        names = {"comprehensive"}
        if not self.high_cost:
            names.add("efficient")
        if self.minimal:
            names.add("minimal")
        return frozenset(names)

    def encode(self, params: Mapping[str, Any] | None) -> tuple[float, ...]:
        """Encode one parameter combination as the kernel's float parameters."""
        params = dict(params or {})
        expected = {parameter.name for parameter in self.parameters}
        unknown = sorted(set(params) - expected)
        if unknown:
            raise KeyError(unknown[0])
        missing = [
            p.name
            for p in self.parameters
            if p.name not in params and not p.optional and p.default is None
        ]
        if missing:
            raise ValueError(f"parameter(s) {missing} missing. Fix: pass {self.example()}")
        encoded = []
        for parameter in self.parameters:
            value = params.get(parameter.name, parameter.default)
            try:
                encoded.append(parameter.encode(value))
            except ValueError as problem:
                raise ValueError(f"{problem}. Fix: {self._fix(parameter)}") from None
        for parameter in self.parameters:
            value = params.get(parameter.name)
            if value is None:
                continue
            other = params.get(parameter.below or parameter.member_of or "")
            if parameter.below is not None and other is not None and not value < other:
                raise ValueError(
                    f"parameter {parameter.name!r} must be less than {parameter.below} "
                    f"({_shown(other)}), got {_shown(value)}. Fix: {self._fix(parameter)}"
                )
            if parameter.member_of is not None and other is not None and value not in other:
                raise ValueError(
                    f"parameter {parameter.name!r} must be one of the {parameter.member_of} "
                    f"{_shown(other)}, got {_shown(value)}. Fix: {self._fix(parameter)}"
                )
        return tuple(encoded)

    def example(self) -> dict[str, Any]:
        """A valid parameter combination: the first of the comprehensive grid."""
        return dict(self.grid[0]) if self.grid else {}

    def _fix(self, parameter: Parameter) -> str:
        """How to correct ``parameter``: its range and a value known to be valid."""
        known = list(
            dict.fromkeys(
                repr(combo[parameter.name]) for combo in self.grid or () if parameter.name in combo
            )
        )
        shown = f" (tsfresh's comprehensive preset uses {', '.join(known[:6])})" if known else ""
        return f"pass a {parameter.name} within that range{shown}"

    def column_suffix(self, params: Mapping[str, Any] | None) -> str:
        """The part of the column name after the kind, following tsfresh's naming."""
        parts = dict(params or {})
        for key, default in self.fixed_name_parts.items():
            # always named, as tsfresh names it: its default when omitted, None as "None"
            value = parts.get(key, default)
            parts[key] = "None" if value is None else value
        if not parts:
            return self.name
        rendered = "__".join(f"{key}_{_render(parts[key])}" for key in sorted(parts))
        return f"{self.name}__{rendered}"


def _render(value: Any) -> str:
    """Render a parameter value in a column name: strings quoted, the rest by ``str``."""
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _grid(**axes: list[Any]) -> tuple[dict[str, Any], ...]:
    """The cartesian product of the given axes, first axis varying slowest."""
    combos: list[dict[str, Any]] = [{}]
    for key, values in axes.items():
        combos = [{**combo, key: value} for combo in combos for value in values]
    return tuple(combos)


def _float_steps(start: int, stop: int) -> list[float]:
    """``[i * 0.05 for i in range(start, stop)]``: the r grids, float noise included."""
    return [i * 0.05 for i in range(start, stop)]


F_AGG = ("mean", "median", "var", "std", "max", "min")
FFT_ATTR = ("real", "imag", "abs", "angle")
SPECTRUM_AGG = ("centroid", "variance", "skew", "kurtosis")
TREND_ATTR = ("pvalue", "rvalue", "intercept", "slope", "stderr")

# --------------------------------------------------------------------------------------
# Shared numeric helpers
# --------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def pairwise_sum(x: np.ndarray) -> float:
    """Sum with the blocked pairwise order numpy uses, so means match numpy bit for bit."""
    n = x.shape[0]
    if n < 8:
        total = 0.0
        for i in range(n):
            total += x[i]
        return total
    if n <= 128:
        r0, r1, r2, r3 = x[0], x[1], x[2], x[3]
        r4, r5, r6, r7 = x[4], x[5], x[6], x[7]
        whole = n - n % 8
        for i in range(8, whole, 8):
            r0 += x[i]
            r1 += x[i + 1]
            r2 += x[i + 2]
            r3 += x[i + 3]
            r4 += x[i + 4]
            r5 += x[i + 5]
            r6 += x[i + 6]
            r7 += x[i + 7]
        total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for i in range(whole, n):
            total += x[i]
        return total
    half = n // 2
    half -= half % 8
    return pairwise_sum(x[:half]) + pairwise_sum(x[half:])


@njit(cache=True, error_model="numpy")
def sorted_quantile(srt: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile of already sorted values (numpy's 'linear' method)."""
    n = srt.shape[0]
    if n == 0 or not 0.0 <= q <= 1.0:
        return NAN
    virtual = (n - 1) * q
    below = math.floor(virtual)
    if below < 0:
        below = 0.0
    if below > n - 1:
        below = float(n - 1)
    lower = int(below)
    upper = min(lower + 1, n - 1)
    gamma = virtual - below
    a = srt[lower]
    b = srt[upper]
    difference = b - a
    if gamma >= 0.5:
        return b - difference * (1.0 - gamma)
    return a + difference * gamma


@njit(cache=True, error_model="numpy")
def sorted_median(srt: np.ndarray) -> float:
    """numpy's median of already sorted values: the middle one, or the mean of the two
    middle ones (exact for infinite values, where interpolating gives NaN)."""
    n = srt.shape[0]
    if n == 0:
        return NAN
    if n % 2 == 1:
        return srt[n // 2]
    return (srt[n // 2 - 1] + srt[n // 2]) / 2.0


@njit(cache=True, error_model="numpy")
def aggregate(values: np.ndarray, how: int) -> float:
    """Apply one of F_AGG (mean, median, var, std, max, min) to ``values``."""
    n = values.shape[0]
    if n == 0:
        return NAN
    if how == 1:
        return sorted_median(np.sort(values))
    if how == 4:
        return values.max()
    if how == 5:
        return values.min()
    mean = pairwise_sum(values) / n
    if how == 0:
        return mean
    deviations = np.empty(n)
    for i in range(n):
        deviations[i] = (values[i] - mean) ** 2
    variance = pairwise_sum(deviations) / n
    if how == 2:
        return variance
    return math.sqrt(variance)


@njit(cache=True, error_model="numpy")
def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) by the continued fraction (modified Lentz), using the symmetry for large x."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - regularized_incomplete_beta(b, a, 1.0 - x)
    tiny = 1e-300
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    fraction = d
    for m in range(1, 500):
        m2 = 2 * m
        numerator = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2))
        d = 1.0 + numerator * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + numerator / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        fraction *= d * c
        numerator = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))
        d = 1.0 + numerator * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + numerator / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        step = d * c
        fraction *= step
        if abs(step - 1.0) < 1e-16:
            break
    return math.exp(log_front) * fraction / a


@njit(cache=True, error_model="numpy")
def student_two_sided_pvalue(t: float, dof: float) -> float:
    """P(|T| > |t|) for Student's t with ``dof`` degrees of freedom."""
    if math.isnan(t):
        return NAN
    if math.isinf(t):
        return 0.0
    return regularized_incomplete_beta(0.5 * dof, 0.5, dof / (dof + t * t))


@njit(cache=True, error_model="numpy")
def linear_regression(y: np.ndarray, attr: int) -> float:
    """Least squares of ``y`` on 0..n-1, attribute ``attr`` of TREND_ATTR, as scipy's linregress."""
    return regression_on(np.arange(y.shape[0]).astype(np.float64), y, attr)


@njit(cache=True, error_model="numpy")
def regression_on(xs: np.ndarray, y: np.ndarray, attr: int) -> float:
    """Least squares of ``y`` on ``xs``, attribute ``attr`` of TREND_ATTR, as scipy's linregress."""
    n = y.shape[0]
    if n < 2:
        return NAN
    x_mean = pairwise_sum(xs) / n
    y_mean = pairwise_sum(y) / n
    ssxm = 0.0
    ssym = 0.0
    ssxym = 0.0
    for i in range(n):
        dx = xs[i] - x_mean
        dy = y[i] - y_mean
        ssxm += dx * dx
        ssym += dy * dy
        ssxym += dx * dy
    ssxm /= n
    ssym /= n
    ssxym /= n
    slope = ssxym / ssxm
    if attr == 3:
        return slope
    if attr == 2:
        return y_mean - slope * x_mean
    denominator = math.sqrt(ssxm * ssym)
    r = ssxym / denominator if denominator != 0.0 else NAN
    if r > 1.0:
        r = 1.0
    elif r < -1.0:
        r = -1.0
    if attr == 1:
        return r
    if n == 2:
        if attr == 4:
            return 0.0
        return 1.0 if y[0] == y[1] else 0.0
    dof = n - 2.0
    if attr == 4:
        return math.sqrt((1.0 - r * r) * ssym / ssxm / dof)
    tiny = 1.0e-20
    t = r * math.sqrt(dof / ((1.0 - r + tiny) * (1.0 + r + tiny)))
    return student_two_sided_pvalue(t, dof)


@njit(cache=True, error_model="numpy")
def all_finite(x: np.ndarray) -> bool:
    """True when no value of ``x`` is NaN or infinite: LAPACK refuses such input (numba then
    raises, which a parallel kernel cannot report), so every linear-algebra call checks first."""
    for value in x.ravel():
        if not math.isfinite(value):
            return False
    return True


@njit(cache=True, error_model="numpy")
def mean_and_variance(x: np.ndarray) -> tuple[float, float]:
    """numpy's mean and population variance of ``x`` (NaN for an empty window)."""
    n = x.shape[0]
    if n == 0:
        return NAN, NAN
    mean = pairwise_sum(x) / n
    squares = np.empty(n)
    for i in range(n):
        squares[i] = (x[i] - mean) ** 2
    return mean, pairwise_sum(squares) / n


@njit(cache=True, error_model="numpy")
def autocovariance_adjusted(x: np.ndarray, mean: float, max_lag: int) -> np.ndarray:
    """sum((x_t - mean)(x_{t+k} - mean)) / (n - k) for k = 0..max_lag (max_lag < n)."""
    n = x.shape[0]
    result = np.zeros(max_lag + 1)
    for k in range(max_lag + 1):
        total = 0.0
        for t in range(n - k):
            total += (x[t] - mean) * (x[t + k] - mean)
        result[k] = total / (n - k)
    return result


# --------------------------------------------------------------------------------------
# Calculators without parameters (x: the window; srt: it sorted; mean/var: numpy's)
# --------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def skewness(x: np.ndarray, mean: float) -> float:
    """Adjusted Fisher-Pearson skewness (pandas' Series.skew); NaN below 3 points, 0 if flat
    (as pandas 2, which tsfresh's own tests expect; pandas 3 says NaN)."""
    n = x.shape[0]
    if n < 3:
        return NAN
    shift = pairwise_sum(x - mean) / n
    m2 = 0.0
    m3 = 0.0
    for i in range(n):
        d = x[i] - mean - shift
        m2 += d * d
        m3 += d * d * d
    if m2 == 0.0 or abs(m2) < 1e-14 * max(1.0, mean * mean):
        return 0.0
    return (n * (n - 1) ** 0.5 / (n - 2)) * (m3 / m2**1.5)


@njit(cache=True, error_model="numpy")
def kurtosis(x: np.ndarray, mean: float) -> float:
    """Unbiased excess kurtosis (pandas' Series.kurt); NaN below 4 points, 0 if flat
    (as pandas 2, which tsfresh's own tests expect; pandas 3 says NaN)."""
    n = x.shape[0]
    if n < 4:
        return NAN
    shift = pairwise_sum(x - mean) / n
    m2 = 0.0
    m4 = 0.0
    for i in range(n):
        d = x[i] - mean - shift
        d2 = d * d
        m2 += d2
        m4 += d2 * d2
    if m2 == 0.0 or abs(m2) < 1e-14 * max(1.0, mean * mean):
        return 0.0
    adjustment = 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))
    return n * (n + 1) * (n - 1) * m4 / ((n - 2) * (n - 3) * m2 * m2) - adjustment


@njit(cache=True, error_model="numpy")
def longest_strike(x: np.ndarray, mean: float, above: bool) -> float:
    """Length of the longest run of points strictly above (or below) the mean."""
    best = 0
    run = 0
    for i in range(x.shape[0]):
        inside = x[i] > mean if above else x[i] < mean
        if inside:
            run += 1
            if run > best:
                best = run
        else:
            run = 0
    return float(best)


@njit(cache=True, error_model="numpy")
def location_of_extreme(x: np.ndarray, maximum: bool, last: bool) -> float:
    """Relative position of the first (or last) maximum (or minimum)."""
    n = x.shape[0]
    if n == 0:
        return NAN
    best = 0
    for i in range(1, n):
        better = x[i] > x[best] if maximum else x[i] < x[best]
        tie = x[i] == x[best]
        if better or (last and tie):
            best = i
    if last:
        return 1.0 - (n - 1 - best) / n
    return best / n


@njit(cache=True, error_model="numpy")
def reoccurrence(srt: np.ndarray, what: int) -> float:
    """Statistics of repeated values from the sorted window.

    what: 0 share of distinct values that repeat, 1 share of points whose value repeats,
    2 sum of distinct repeated values, 3 sum of points whose value repeats,
    4 distinct values per point.
    """
    n = srt.shape[0]
    if n == 0:
        return NAN if what in (0, 1, 4) else 0.0
    distinct = 0
    repeated_distinct = 0
    repeated_points = 0
    sum_distinct = 0.0
    sum_points = 0.0
    i = 0
    while i < n:
        j = i + 1
        while j < n and srt[j] == srt[i]:
            j += 1
        distinct += 1
        if j - i > 1:
            repeated_distinct += 1
            repeated_points += j - i
            sum_distinct += srt[i]
            sum_points += srt[i] * (j - i)
        i = j
    if what == 0:
        return repeated_distinct / distinct
    if what == 1:
        return repeated_points / n
    if what == 2:
        return sum_distinct
    if what == 3:
        return sum_points
    return distinct / n


@njit(cache=True, error_model="numpy")
def first_digit(value: float) -> int:
    """Leading decimal digit of a positive finite number (0 for zero)."""
    if value == 0.0 or not math.isfinite(value):
        return 0
    exponent = math.floor(math.log10(value))
    scaled = value
    if exponent < -300:  # subnormal: 10 ** -exponent alone would overflow to inf
        scaled *= 1e300
        exponent += 300
    if exponent < 0:
        scaled = scaled * 10.0 ** (-exponent)
    else:
        scaled = scaled / 10.0**exponent
    for _ in range(3):  # log10's rounding leaves the scaled value at most a step off
        if scaled >= 10.0:
            scaled /= 10.0
        elif scaled < 1.0:
            scaled *= 10.0
    return int(scaled)


@njit(cache=True, error_model="numpy")
def benford_correlation(x: np.ndarray) -> float:
    """Pearson correlation of the leading-digit frequencies with Benford's law."""
    n = x.shape[0]
    if n == 0:
        return NAN
    counts = np.zeros(10)
    for i in range(n):
        counts[first_digit(abs(x[i]))] += 1.0
    observed = counts[1:] / n
    benford = np.empty(9)
    for d in range(1, 10):
        benford[d - 1] = math.log10(1.0 + 1.0 / d)
    if observed.max() == observed.min():
        return NAN  # constant frequencies have no correlation (numpy's corrcoef: NaN)
    mean_o = observed.mean()
    mean_b = benford.mean()
    sxy = 0.0
    sxx = 0.0
    syy = 0.0
    for i in range(9):
        sxy += (observed[i] - mean_o) * (benford[i] - mean_b)
        sxx += (observed[i] - mean_o) ** 2
        syy += (benford[i] - mean_b) ** 2
    if sxx == 0.0:
        return NAN
    return sxy / math.sqrt(sxx * syy)


# --------------------------------------------------------------------------------------
# Calculators with parameters
# --------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def lagged_products(x: np.ndarray, lag: int, reversal: bool) -> float:
    """c3 (mean of x_{t+2l} x_{t+l} x_t) or the time-reversal asymmetry statistic."""
    n = x.shape[0]
    if lag < 0:  # refused by the parameter check; never read before the window
        return NAN
    terms = n - 2 * lag
    if terms <= 0:
        return 0.0
    values = np.empty(terms)
    for t in range(terms):
        if reversal:
            values[t] = x[t + 2 * lag] * x[t + 2 * lag] * x[t + lag] - x[t + lag] * x[t] * x[t]
        else:
            values[t] = x[t + 2 * lag] * x[t + lag] * x[t]
    return pairwise_sum(values) / terms


@njit(cache=True, error_model="numpy")
def cid_ce(x: np.ndarray, mean: float, std: float, normalize: bool) -> float:
    """Complexity estimate: length of the (optionally z-normalised) series' polyline."""
    n = x.shape[0]
    if normalize:
        if std == 0.0:  # a series with infinities has a NaN deviation and a NaN value
            return 0.0
    total = 0.0
    for i in range(n - 1):
        if normalize:
            step = (x[i + 1] - mean) / std - (x[i] - mean) / std
        else:
            step = x[i + 1] - x[i]
        total += step * step
    return math.sqrt(total)


@njit(cache=True, error_model="numpy")
def autocorrelation(x: np.ndarray, mean: float, variance: float, lag: int) -> float:
    """Autocorrelation at ``lag`` normalised by the full-series variance."""
    n = x.shape[0]
    if lag < 0 or n <= lag or abs(variance) <= 1e-8:
        return NAN
    total = 0.0
    for t in range(n - lag):
        total += (x[t] - mean) * (x[t + lag] - mean)
    return total / ((n - lag) * variance)


@njit(cache=True, error_model="numpy")
def agg_autocorrelation(
    x: np.ndarray, mean: float, variance: float, how: int, max_lag: int
) -> float:
    """Aggregate (F_AGG) of the adjusted autocorrelations at lags 1..max_lag."""
    n = x.shape[0]
    if n == 0 or max_lag < 1:
        return NAN
    if abs(variance) < 1e-10 or n == 1:
        return aggregate(np.zeros(n), how)
    lags = min(max_lag, n - 1)
    acov = autocovariance_adjusted(x, mean, lags)
    acf = acov[1:] / acov[0]
    return aggregate(acf, how)


@njit(cache=True, error_model="numpy")
def partial_autocorrelation(x: np.ndarray, mean: float, lag: int) -> float:
    """Partial autocorrelation at ``lag`` by Levinson-Durbin on adjusted autocovariances."""
    n = x.shape[0]
    usable = n // 2 - 1  # statsmodels computes lags below half the length only
    if n <= 1 or usable <= 0 or lag > usable or lag < 0:
        return NAN
    if lag == 0:
        return 1.0
    acov = autocovariance_adjusted(x, mean, lag)
    phi = np.zeros(lag + 1)
    previous = np.zeros(lag + 1)
    error = acov[0]
    result = NAN
    for k in range(1, lag + 1):
        accumulated = acov[k]
        for j in range(1, k):
            accumulated -= previous[j] * acov[k - j]
        reflection = accumulated / error
        phi[k] = reflection
        for j in range(1, k):
            phi[j] = previous[j] - reflection * previous[k - j]
        error *= 1.0 - reflection * reflection
        for j in range(1, k + 1):
            previous[j] = phi[j]
        result = reflection
    return result


@njit(cache=True, error_model="numpy")
def number_peaks(x: np.ndarray, support: int) -> float:
    """Points greater than their ``support`` neighbours on each side."""
    n = x.shape[0]
    if support < 1:
        return NAN
    count = 0
    for i in range(support, n - support):
        peak = True
        for k in range(1, support + 1):
            if not (x[i] > x[i - k] and x[i] > x[i + k]):
                peak = False
                break
        if peak:
            count += 1
    return float(count)


@njit(cache=True, error_model="numpy")
def binned_entropy(x: np.ndarray, max_bins: int) -> float:
    """Entropy of the histogram of ``max_bins`` equal-width bins (numpy's bin edges)."""
    n = x.shape[0]
    if n == 0 or max_bins < 1 or max_bins > MAX_BINS or not all_finite(x):
        return NAN  # numpy's histogram refuses a non-finite range
    low = x.min()
    high = x.max()
    if low == high:
        low -= 0.5
        high += 0.5
    step = (high - low) / max_bins
    scale = max_bins / (high - low)
    if not (math.isfinite(step) and math.isfinite(scale) and step > 0.0):
        return NAN  # a range beyond the float range (or too narrow to split) has no bins
    edges = np.empty(max_bins + 1)
    for i in range(max_bins + 1):
        edges[i] = low + i * step
    edges[max_bins] = high
    counts = np.zeros(max_bins)
    for i in range(n):
        value = x[i]
        position = (value - low) * scale
        index = int(position) if position < max_bins else max_bins - 1
        if index < 0:
            index = 0
        if index > 0 and value < edges[index]:
            index -= 1
        elif index < max_bins - 1 and value >= edges[index + 1]:
            index += 1
        counts[index] += 1.0
    entropy = 0.0
    for i in range(max_bins):
        if counts[i] > 0:
            p = counts[i] / n
            entropy -= p * math.log(p)
    return entropy


@njit(cache=True, error_model="numpy")
def index_mass_quantile(x: np.ndarray, q: float) -> float:
    """Relative index where the cumulative absolute mass first reaches ``q``."""
    n = x.shape[0]
    total = 0.0
    for i in range(n):
        total += abs(x[i])
    if n == 0 or total == 0.0:
        return NAN
    running = 0.0
    for i in range(n):
        running += abs(x[i])
        if running / total >= q:
            return (i + 1) / n
    return 1.0 / n


@njit(cache=True, error_model="numpy")
def change_quantiles(
    x: np.ndarray, srt: np.ndarray, ql: float, qh: float, isabs: bool, how: int
) -> float:
    """Aggregate of consecutive changes while both points lie in the [ql, qh] quantile corridor."""
    n = x.shape[0]
    if ql >= qh or n == 0:
        return 0.0
    low = sorted_quantile(srt, ql)
    high = sorted_quantile(srt, qh)
    if low == high:
        return 0.0
    changes = np.empty(n)
    count = 0
    for i in range(n - 1):
        if low <= x[i] <= high and low <= x[i + 1] <= high:
            change = x[i + 1] - x[i]
            changes[count] = abs(change) if isabs else change
            count += 1
    if count == 0:
        return 0.0
    return aggregate(changes[:count], how)


@njit(cache=True, error_model="numpy")
def energy_ratio_by_chunks(x: np.ndarray, segments: int, focus: int) -> float:
    """Share of the total energy in chunk ``focus`` of ``segments`` near-equal chunks."""
    n = x.shape[0]
    total = 0.0
    for i in range(n):
        total += x[i] * x[i]
    if total == 0.0 or n == 0 or segments < 1 or not 0 <= focus < segments:
        return NAN
    base = n // segments
    extra = n % segments
    start = focus * base + min(focus, extra)
    size = base + (1 if focus < extra else 0)
    part = 0.0
    for i in range(start, min(start + size, n)):
        part += x[i] * x[i]
    return part / total


@njit(cache=True, error_model="numpy")
def permutation_entropy(x: np.ndarray, tau: int, dimension: int) -> float:
    """Entropy of the ordinal patterns of ``dimension`` consecutive points, one pattern
    starting every ``tau`` points (tsfresh's sub-windows; ``tau`` is their stride).

    Each pattern is the stable argsort of its points, numbered by its Lehmer code (its rank
    among the dimension! orderings), which fits in 64 bits up to 20 points.
    """
    n = x.shape[0]
    if tau < 1 or dimension < 1 or dimension > MAX_PERMUTATION_DIMENSION or n < dimension:
        return NAN
    count = (n - dimension) // tau + 1
    codes = np.empty(count, dtype=np.int64)
    ranks = np.empty(dimension, dtype=np.int64)
    for pattern in range(count):
        start = pattern * tau
        for j in range(dimension):
            ranks[j] = j
        for j in range(1, dimension):
            k = j
            while k > 0 and x[start + ranks[k]] < x[start + ranks[k - 1]]:
                ranks[k], ranks[k - 1] = ranks[k - 1], ranks[k]
                k -= 1
        code = 0
        for j in range(dimension):
            smaller_after = 0
            for k in range(j + 1, dimension):
                if ranks[k] < ranks[j]:
                    smaller_after += 1
            code = code * (dimension - j) + smaller_after
        codes[pattern] = code
    codes.sort()
    entropy = 0.0
    i = 0
    while i < count:
        j = i + 1
        while j < count and codes[j] == codes[i]:
            j += 1
        p = (j - i) / count
        entropy -= p * math.log(p)
        i = j
    return entropy


@njit(cache=True, error_model="numpy")
def smallest_factor(n: int) -> int:
    """The smallest prime factor of ``n`` (``n`` itself when prime)."""
    if n % 2 == 0:
        return 2
    factor = 3
    while factor * factor <= n:
        if n % factor == 0:
            return factor
        factor += 2
    return n


@njit(cache=True, error_model="numpy")
def fft_of_real(values: np.ndarray, cosines: np.ndarray, sines: np.ndarray) -> tuple:
    """Mixed-radix FFT (decimation in time, bottom-up) of real ``values``.

    ``cosines``/``sines`` hold cos/sin(2 pi j / n). The length is split into its prime
    factors; inputs are placed in digit-reversed order and blocks are combined level by
    level, each radix-p combination being a small DFT (so prime lengths cost n^2).
    """
    n = values.shape[0]
    factors = np.empty(64, dtype=np.int64)
    count = 0
    rest = n
    while rest > 1:
        factors[count] = smallest_factor(rest)
        rest //= factors[count]
        count += 1
    # block length below each level: sizes[d] = product of factors[d:]
    sizes = np.ones(count + 1, dtype=np.int64)
    for d in range(count - 1, -1, -1):
        sizes[d] = sizes[d + 1] * factors[d]
    out_re = np.empty(n)
    out_im = np.zeros(n)
    for i in range(n):
        position = 0
        digits = i
        for d in range(count):
            position += (digits % factors[d]) * sizes[d + 1]
            digits //= factors[d]
        out_re[position] = values[i]
    twisted_re = np.empty(n)
    twisted_im = np.empty(n)
    for d in range(count - 1, -1, -1):
        length = sizes[d]
        radix = factors[d]
        m = length // radix
        step = n // length
        radix_step = n // radix
        for block in range(0, n, length):
            for k1 in range(m):
                for q in range(radix):
                    y_re = out_re[block + q * m + k1]
                    y_im = out_im[block + q * m + k1]
                    index = ((q * k1) % length) * step
                    twisted_re[q] = y_re * cosines[index] + y_im * sines[index]
                    twisted_im[q] = y_im * cosines[index] - y_re * sines[index]
                for k2 in range(radix):
                    sum_re = 0.0
                    sum_im = 0.0
                    for q in range(radix):
                        index = ((q * k2) % radix) * radix_step
                        sum_re += twisted_re[q] * cosines[index] + twisted_im[q] * sines[index]
                        sum_im += twisted_im[q] * cosines[index] - twisted_re[q] * sines[index]
                    out_re[block + k1 + m * k2] = sum_re
                    out_im[block + k1 + m * k2] = sum_im
    return out_re, out_im


@njit(cache=True, error_model="numpy")
def real_dft(x: np.ndarray, mean: float, coefficients: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``coefficients`` terms of the real discrete Fourier transform of ``x``.

    The mean is removed before the transform and added back to term 0 only, which leaves
    the other terms unchanged but keeps them exactly zero for a constant series; the
    Nyquist term of an even length is computed exactly real. A mixed-radix FFT is used
    when many terms are wanted, a direct sum when only a few are.
    """
    n = x.shape[0]
    real = np.zeros(coefficients)
    imag = np.zeros(coefficients)
    if n == 0 or coefficients == 0:
        return real, imag
    cosines = np.empty(n)
    sines = np.empty(n)
    for m in range(n):
        angle = 2.0 * math.pi * m / n
        cosines[m] = math.cos(angle)
        sines[m] = math.sin(angle)
    if n % 2 == 0:  # exact values at the half turn, so the Nyquist term is real
        cosines[n // 2] = -1.0
        sines[n // 2] = 0.0
    if n % 4 == 0:
        cosines[n // 4] = 0.0
        sines[n // 4] = 1.0
        cosines[3 * n // 4] = 0.0
        sines[3 * n // 4] = -1.0
    centred = np.empty(n)
    for t in range(n):
        centred[t] = x[t] - mean
    factor_sum = 0
    rest = n
    while rest > 1:
        factor = smallest_factor(rest)
        factor_sum += factor
        rest //= factor
    if coefficients > 2 * factor_sum:
        full_re, full_im = fft_of_real(centred, cosines, sines)
        for k in range(coefficients):
            real[k] = full_re[k]
            imag[k] = full_im[k]
    else:
        for k in range(coefficients):
            re = 0.0
            im = 0.0
            index = 0
            for t in range(n):
                re += centred[t] * cosines[index]
                im -= centred[t] * sines[index]
                index += k
                if index >= n:
                    index -= n
            real[k] = re
            imag[k] = im
    if n % 2 == 0 and coefficients > n // 2:
        alternating = 0.0
        for t in range(n):
            alternating += centred[t] if t % 2 == 0 else -centred[t]
        real[n // 2] = alternating
        imag[n // 2] = 0.0
    real[0] = pairwise_sum(x)
    imag[0] = 0.0
    return real, imag


@njit(cache=True, error_model="numpy")
def fft_coefficient(
    real: np.ndarray, imag: np.ndarray, available: int, coeff: int, attr: int
) -> float:
    """One attribute (FFT_ATTR) of one real-FFT coefficient; NaN beyond the spectrum."""
    if coeff < 0 or coeff >= available or coeff >= real.shape[0]:
        return NAN
    re = real[coeff]
    im = imag[coeff]
    if attr == 0:
        return re
    if attr == 1:
        return im
    if attr == 2:
        return math.sqrt(re * re + im * im)
    return math.degrees(math.atan2(im, re))


@njit(cache=True, error_model="numpy")
def fft_aggregated(real: np.ndarray, imag: np.ndarray, available: int, aggtype: int) -> float:
    """Centroid, variance, skew or kurtosis of the absolute spectrum seen as a distribution."""
    total = 0.0
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for k in range(available):
        weight = math.sqrt(real[k] * real[k] + imag[k] * imag[k])
        total += weight
        m1 += weight * k
        m2 += weight * k * k
        m3 += weight * k * k * k
        m4 += weight * k * k * k * k
    m1 /= total
    m2 /= total
    m3 /= total
    m4 /= total
    variance = m2 - m1 * m1
    if aggtype == 0:
        return m1
    if aggtype == 1:
        return variance
    if not variance >= 0.5:
        return NAN
    if aggtype == 2:
        return (m3 - 3.0 * m1 * variance - m1**3) / variance**1.5
    # tsfresh 0.21's kurtosis subtracts 3 * centroid (not its fourth power); kept for parity
    return (m4 - 4.0 * m1 * m3 + 6.0 * m2 * m1 * m1 - 3.0 * m1) / (variance * variance)


@njit(cache=True, error_model="numpy")
def lempel_ziv_complexity(x: np.ndarray, bins: int) -> float:
    """Distinct phrases of the Lempel-Ziv parse of the binned series, per point.

    Values are binned by the upper edges of ``bins`` equal-width bins (left-closed search,
    as numpy's searchsorted). The phrase set is prefix-closed, so it is kept as a trie
    whose edges live in a dict keyed by (node, symbol).
    """
    n = x.shape[0]
    if n == 0 or bins < 1 or bins > MAX_BINS:
        return NAN
    low = x.min()
    high = x.max()
    step = (high - low) / bins
    edges = np.empty(bins)
    for i in range(1, bins + 1):
        edges[i - 1] = i * step + low
    edges[bins - 1] = high
    symbols = np.searchsorted(edges, x)
    children = dict()
    children[-1] = -1
    nodes = 1
    phrases = 0
    start = 0
    length = 1
    node = 0
    while start + length <= n:
        key = node * (bins + 1) + symbols[start + length - 1]
        child = children.get(key, -1)
        if child >= 0:
            node = child
            length += 1
        else:
            children[key] = nodes
            nodes += 1
            phrases += 1
            start += length
            length = 1
            node = 0
    return phrases / n


@njit(cache=True, error_model="numpy")
def welch_density(x: np.ndarray) -> np.ndarray:
    """Welch power spectral density (Hann window, half overlap, segments of min(n, 256))."""
    n = x.shape[0]
    size = min(n, 256)
    if size == 0:
        return np.empty(0)
    overlap = size // 2
    stride = size - overlap
    segments = (n - overlap) // stride
    window = np.empty(size)
    if size == 1:
        window[0] = 1.0
    else:
        for k in range(size):
            window[k] = 0.5 - 0.5 * math.cos(2.0 * math.pi * k / size)
    scale = 0.0
    for k in range(size):
        scale += window[k] * window[k]
    frequencies = size // 2 + 1
    density = np.zeros(frequencies)
    tapered = np.empty(size)
    for segment in range(segments):
        piece = x[segment * stride : segment * stride + size]
        centre = pairwise_sum(piece) / size
        for k in range(size):
            tapered[k] = (piece[k] - centre) * window[k]
        real, imag = real_dft(tapered, 0.0, frequencies)
        for f in range(frequencies):
            density[f] += real[f] * real[f] + imag[f] * imag[f]
    for f in range(frequencies):
        density[f] /= scale * segments
        last = frequencies - 1 if size % 2 == 0 else frequencies
        if 0 < f < last:
            density[f] *= 2.0
    return density


@njit(cache=True, error_model="numpy")
def fourier_entropy(density: np.ndarray, bins: int) -> float:
    """Binned entropy of the Welch density scaled by its maximum."""
    if density.shape[0] == 0:
        return NAN
    peak = density.max()
    if not (peak > 0.0) or not math.isfinite(peak):
        return NAN
    return binned_entropy(density / peak, bins)


@njit(cache=True, error_model="numpy")
def ar_parameters(x: np.ndarray, order: int) -> np.ndarray:
    """Intercept and lag coefficients of the least-squares AR(``order``) fit (minimum norm).

    Too short a series (fewer rows than parameters) gives an empty array instead of the
    ``order + 1`` values of a fit, which :func:`ar_coefficient` turns into tsfresh's values
    for that case.
    """
    n = x.shape[0]
    if order < 0 or n - order < order + 1:
        return np.empty(0)
    failed = np.full(order + 1, NAN)
    if not all_finite(x):
        return failed
    # Values near the ends of the float range overflow inside the fit: fit the series scaled
    # by a power of two (the lag coefficients do not change, the intercept scales with it).
    peak = max(abs(x.max()), abs(x.min()))
    exponent = 0
    if peak > 2.0**200 or 0.0 < peak < 2.0**-200:
        exponent = math.frexp(peak)[1]
    rows = n - order
    design = np.empty((rows, order + 1))
    target = np.empty(rows)
    for t in range(rows):
        design[t, 0] = 1.0
        for lag in range(1, order + 1):
            design[t, lag] = math.ldexp(x[order + t - lag], -exponent)
        target[t] = math.ldexp(x[order + t], -exponent)
    fit = np.linalg.pinv(design, rcond=1e-15) @ target
    fit[0] = math.ldexp(fit[0], exponent)
    if not all_finite(fit):
        return failed
    return fit


@njit(cache=True, error_model="numpy")
def ar_coefficient(parameters: np.ndarray, coeff: int, order: int) -> float:
    """Coefficient ``coeff`` (0: intercept) from :func:`ar_parameters` of that order."""
    if coeff > order or coeff < 0:
        return NAN
    if parameters.shape[0] != order + 1:  # no fit; tsfresh reports 0 for the last coefficient
        return 0.0 if coeff == order else NAN
    return parameters[coeff]


@njit(cache=True, error_model="numpy")
def friedrich_polynomial(x: np.ndarray, degree: int, quantiles: int) -> np.ndarray:
    """Polynomial (highest power first) fitted to the mean change per quantile bin of the level.

    NaN coefficients when the bins cannot be formed (repeated quantile edges, too few points).
    """
    if degree < 0 or degree > MAX_DEGREE or quantiles < 1 or quantiles > MAX_BINS:
        return np.empty(0)  # refused by the parameter check; every coefficient reads as NaN
    failed = np.full(degree + 1, NAN)
    n = x.shape[0]
    if n < 2 or not all_finite(x):
        return failed  # numpy's polyfit refuses non-finite values
    level = x[:-1]
    count = n - 1
    srt = np.sort(level)
    edges = np.empty(quantiles + 1)
    step = 1.0 / quantiles
    for i in range(quantiles + 1):
        edges[i] = sorted_quantile(srt, i * step if i < quantiles else 1.0)
    for i in range(quantiles):
        if edges[i + 1] == edges[i]:
            return failed
    sums_level = np.zeros(quantiles)
    sums_change = np.zeros(quantiles)
    members = np.zeros(quantiles)
    for t in range(count):
        bin_index = min(max(np.searchsorted(edges, level[t]) - 1, 0), quantiles - 1)
        sums_level[bin_index] += level[t]
        sums_change[bin_index] += x[t + 1] - x[t]
        members[bin_index] += 1.0
    used = 0
    for i in range(quantiles):
        if members[i] > 0:
            used += 1
    design = np.empty((used, degree + 1))
    target = np.empty(used)
    row = 0
    for i in range(quantiles):
        if members[i] > 0:
            mean_level = sums_level[i] / members[i]
            for power in range(degree + 1):
                design[row, power] = mean_level ** (degree - power)
            target[row] = sums_change[i] / members[i]
            row += 1
    scale = np.empty(degree + 1)
    for power in range(degree + 1):
        total = 0.0
        for r in range(used):
            total += design[r, power] * design[r, power]
        scale[power] = math.sqrt(total)
        # a power that overflows or vanishes for these levels leaves no fit (LAPACK refuses
        # non-finite input), as numpy's polyfit fails on it
        if not (0.0 < scale[power] < np.inf):
            return failed
        for r in range(used):
            design[r, power] /= scale[power]
    if not all_finite(target):  # changes beyond the float range
        return failed
    solution = np.linalg.lstsq(design, target, rcond=used * 2.220446049250313e-16)[0]
    solution = solution / scale
    if not all_finite(solution):
        return failed
    return solution


@njit(cache=True, error_model="numpy")
def max_langevin_fixed_point(coefficients: np.ndarray) -> float:
    """Largest real part among the roots of a Friedrich polynomial."""
    for value in coefficients:
        if not math.isfinite(value):
            return NAN
    first = -1
    last = -1
    for i in range(coefficients.shape[0]):
        if coefficients[i] != 0.0:
            if first < 0:
                first = i
            last = i
    if first < 0:
        return NAN
    trimmed = coefficients[first : last + 1]
    size = trimmed.shape[0]
    best = 0.0 if last < coefficients.shape[0] - 1 else -np.inf
    if size > 1:
        companion = np.zeros((size - 1, size - 1), dtype=np.complex128)
        for j in range(size - 1):
            companion[0, j] = -trimmed[j + 1] / trimmed[0]
        for j in range(1, size - 1):
            companion[j, j - 1] = 1.0
        for j in range(size - 1):
            if not math.isfinite(companion[0, j].real):
                return NAN  # coefficients too far apart in magnitude for the float range
        roots = np.linalg.eigvals(companion)
        for root in roots:
            if root.real > best:
                best = root.real
    if best == -np.inf:
        return NAN
    return best


@njit(cache=True, error_model="numpy")
def mexican_hat_integral() -> tuple[np.ndarray, float]:
    """Running integral of the Mexican-hat wavelet on 4096 points over [-8, 8], and the step."""
    points = 4096
    grid_step = 16.0 / (points - 1)
    grid = np.empty(points)
    for i in range(points):
        grid[i] = i * grid_step - 8.0
    grid[points - 1] = 8.0
    step = grid[1] - grid[0]
    norm = 2.0 / (math.sqrt(3.0) * math.pi**0.25)
    integral = np.empty(points)
    running = 0.0
    for i in range(points):
        t = grid[i]
        running += norm * (1.0 - t * t) * math.exp(-t * t / 2.0)
        integral[i] = running * step
    return integral, step


# Computed once at import (by the compiled function, so the values are the kernel's own).
MEXICAN_HAT_INTEGRAL, MEXICAN_HAT_STEP = mexican_hat_integral()


@njit(cache=True, error_model="numpy")
def cwt_coefficient(x: np.ndarray, width: float, coeff: int) -> float:
    """Term ``coeff`` of the Mexican-hat continuous wavelet transform at scale ``width``.

    The integrated wavelet is resampled at the scale, convolved with the series and
    differenced, then centred (the integrate-then-differentiate scheme of PyWavelets).
    """
    n = x.shape[0]
    if coeff < 0 or coeff >= n or not 0.0 < width <= MAX_WAVELET_WIDTH:
        return NAN
    integral = MEXICAN_HAT_INTEGRAL
    step = MEXICAN_HAT_STEP
    taps = int(width * 16.0 + 1.0)
    kernel = np.empty(taps)
    used = 0
    for k in range(taps):
        index = int(k / (width * step))
        if index < integral.shape[0]:
            kernel[used] = integral[index]
            used += 1
    reversed_kernel = kernel[:used][::-1]
    excess = (used - 2) / 2.0
    offset = int(math.floor(excess)) if excess > 0 else 0
    position = offset + coeff

    def full_convolution(m: int) -> float:
        total = 0.0
        for i in range(max(0, m - used + 1), min(n - 1, m) + 1):
            total += x[i] * reversed_kernel[m - i]
        return total

    return -math.sqrt(width) * (full_convolution(position + 1) - full_convolution(position))


#: Templates per leaf of the k-d tree that counts template matches.
TEMPLATE_LEAF = 16


@njit(cache=True, error_model="numpy")
def template_tree(x: np.ndarray, dims: int, count: int) -> tuple:
    """A k-d tree over the templates ``x[i : i + dims]`` for ``i < count``.

    Returns the template coordinates in tree order, the template each row holds, and per
    node (an implicit binary tree, children of ``k`` at ``2k+1`` and ``2k+2``) the rows it
    spans and its smallest and largest coordinate in every dimension. Each node is split
    at its middle row along its widest dimension, so ties and constant data still halve.
    """
    depth = 0
    while (count >> depth) > TEMPLATE_LEAF:
        depth += 1
    nodes = (1 << (depth + 1)) - 1
    index = np.arange(count)
    points = np.empty((count, dims))
    for i in range(count):
        for k in range(dims):
            points[i, k] = x[i + k]
    starts = np.zeros(nodes, dtype=np.int64)
    ends = np.zeros(nodes, dtype=np.int64)
    lows = np.empty((nodes, dims))
    highs = np.empty((nodes, dims))
    ends[0] = count
    for node in range(nodes):
        start = starts[node]
        end = ends[node]
        for k in range(dims):
            low = np.inf
            high = -np.inf
            for row in range(start, end):
                value = points[row, k]
                low = min(low, value)
                high = max(high, value)
            lows[node, k] = low
            highs[node, k] = high
        left = 2 * node + 1
        if left >= nodes:
            continue
        middle = (start + end) // 2
        if end - start > 1:
            axis = 0
            for k in range(1, dims):
                if highs[node, k] - lows[node, k] > highs[node, axis] - lows[node, axis]:
                    axis = k
            order = np.argsort(points[start:end, axis], kind="mergesort")
            moved = points[start:end].copy()
            moved_index = index[start:end].copy()
            for row in range(end - start):
                points[start + row] = moved[order[row]]
                index[start + row] = moved_index[order[row]]
        starts[left] = start
        ends[left] = middle
        starts[left + 1] = middle
        ends[left + 1] = end
    return points, index, starts, ends, lows, highs


@njit(cache=True, error_model="numpy")
def template_matches(tree: tuple, dims: int, tolerance: float, counts: np.ndarray) -> None:
    """``counts[i]``: templates (itself included) whose every coordinate is within
    ``tolerance`` of template ``i``'s (``abs(a - b) <= tolerance``, as the all-pairs
    definition compares).

    Exact: floating-point subtraction is monotone, so the values within tolerance of a
    coordinate form an interval, and a node's box is inside (or outside) the query as soon
    as its extreme values are (or its nearest value is not); only the nodes cut by the
    query's boundary are opened. Queries run in tree order, near to each other in memory.
    """
    points, index, starts, ends, lows, highs = tree
    rows = points.shape[0]
    nodes = starts.shape[0]
    stack = np.empty(128, dtype=np.int64)
    for query in range(rows):
        total = 0
        top = 1
        stack[0] = 0
        while top > 0:
            top -= 1
            node = stack[top]
            if ends[node] == starts[node]:
                continue
            inside = True
            outside = False
            for k in range(dims):
                q = points[query, k]
                low = lows[node, k]
                high = highs[node, k]
                if high < q:
                    if not abs(high - q) <= tolerance:
                        outside = True
                        break
                elif low > q:
                    if not abs(low - q) <= tolerance:
                        outside = True
                        break
                if inside and not (abs(low - q) <= tolerance and abs(high - q) <= tolerance):
                    inside = False
            if outside:
                continue
            if inside:
                total += ends[node] - starts[node]
                continue
            left = 2 * node + 1
            if left < nodes:
                stack[top] = left + 1
                stack[top + 1] = left
                top += 2
                continue
            for row in range(starts[node], ends[node]):
                within = True
                for k in range(dims):
                    if not abs(points[row, k] - points[query, k]) <= tolerance:
                        within = False
                        break
                if within:
                    total += 1
        counts[index[query]] = total


@njit(cache=True, error_model="numpy")
def dense_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rank of every value among the distinct values, and those values in order."""
    n = x.shape[0]
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(n, dtype=np.int64)
    values = np.empty(n)
    distinct = 0
    for a in range(n):
        i = order[a]
        if distinct == 0 or x[i] != values[distinct - 1]:
            values[distinct] = x[i]
            distinct += 1
        ranks[i] = distinct - 1
    return ranks, values[:distinct]


@njit(cache=True, error_model="numpy")
def tolerance_bounds(values: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """For every sorted distinct value, the first and last distinct values within tolerance.

    ``abs(a - b) <= tolerance`` holds on a contiguous run of the sorted values around ``a``
    (floating-point subtraction is monotone), so two binary searches find it exactly.
    """
    count = values.shape[0]
    first = np.empty(count, dtype=np.int64)
    last = np.empty(count, dtype=np.int64)
    for v in range(count):
        low = 0
        high = v  # the first index in [0, v] within tolerance; v itself always is
        while low < high:
            middle = (low + high) // 2
            if abs(values[middle] - values[v]) <= tolerance:
                high = middle
            else:
                low = middle + 1
        first[v] = low
        low = v
        high = count - 1  # the last index in [v, count) within tolerance
        while low < high:
            middle = (low + high + 1) // 2
            if abs(values[middle] - values[v]) <= tolerance:
                low = middle
            else:
                high = middle - 1
        last[v] = low
    return first, last


@njit(cache=True, error_model="numpy")
def plane_index(ranks: np.ndarray, count: int, distinct: int) -> tuple[np.ndarray, np.ndarray]:
    """For 3-point templates: a Fenwick tree over the second point's rank whose every node
    lists, sorted, the third point's ranks of the templates it covers (offsets, entries)."""
    sizes = np.zeros(distinct + 1, dtype=np.int64)
    for j in range(count):
        node = ranks[j + 1] + 1
        while node <= distinct:
            sizes[node] += 1
            node += node & -node
    offsets = np.zeros(distinct + 2, dtype=np.int64)
    for node in range(1, distinct + 1):
        offsets[node + 1] = offsets[node] + sizes[node]
    entries = np.empty(offsets[distinct + 1], dtype=np.int64)
    filled = offsets[:-1].copy()
    for j in range(count):
        node = ranks[j + 1] + 1
        while node <= distinct:
            entries[filled[node]] = ranks[j + 2]
            filled[node] += 1
            node += node & -node
    for node in range(1, distinct + 1):
        entries[offsets[node] : offsets[node + 1]].sort()
    return offsets, entries


@njit(cache=True, error_model="numpy")
def _lower_bound(entries: np.ndarray, start: int, end: int, value: int) -> int:
    while start < end:
        middle = (start + end) // 2
        if entries[middle] < value:
            start = middle + 1
        else:
            end = middle
    return start


@njit(cache=True, error_model="numpy")
def _plane_update(offsets, entries, inner, distinct, second, third, change) -> None:
    node = second + 1
    while node <= distinct:
        start = offsets[node]
        size = offsets[node + 1] - start
        position = _lower_bound(entries, start, start + size, third) - start + 1
        while position <= size:
            inner[start + position - 1] += change
            position += position & -position
        node += node & -node


@njit(cache=True, error_model="numpy")
def _plane_prefix(offsets, entries, inner, second, third_low, third_high) -> int:
    """Active templates whose second rank is <= ``second`` and third within the bounds."""
    total = 0
    node = second + 1
    while node > 0:
        start = offsets[node]
        end = offsets[node + 1]
        upper = _lower_bound(entries, start, end, third_high + 1) - start
        lower = _lower_bound(entries, start, end, third_low) - start
        while upper > 0:
            total += inner[start + upper - 1]
            upper -= upper & -upper
        while lower > 0:
            total -= inner[start + lower - 1]
            lower -= lower & -lower
        node -= node & -node
    return total


@njit(cache=True, error_model="numpy")
def ranked_matches(
    ranks: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    dims: int,
    count: int,
    order: np.ndarray,
    offsets: np.ndarray,
    entries: np.ndarray,
    counts: np.ndarray,
) -> None:
    """``counts[i]`` for templates of 1 to 3 points, from their ranks: templates ``j`` with
    ``first[r] <= rank <= last[r]`` in every coordinate, ``r`` the rank of ``i``'s value.

    The templates are swept in the order of their first rank (``order``); those whose first
    rank is within the current bounds form a sliding window (each enters and leaves once),
    and a Fenwick tree over the second rank (of sorted third ranks, for three points)
    counts the window's templates within the other bounds: O(n log n), O(n log^2 n).
    """
    distinct = first.shape[0]
    if dims == 1:
        cumulative = np.zeros(distinct + 1, dtype=np.int64)
        for j in range(count):
            cumulative[ranks[j] + 1] += 1
        for v in range(distinct):
            cumulative[v + 1] += cumulative[v]
        for i in range(count):
            r = ranks[i]
            counts[i] = cumulative[last[r] + 1] - cumulative[first[r]]
        return
    line = np.zeros(distinct + 1, dtype=np.int64)
    inner = np.zeros(entries.shape[0], dtype=np.int64)
    entering = 0
    leaving = 0
    for a in range(count):
        i = order[a]
        r = ranks[i]
        while entering < count and ranks[order[entering]] <= last[r]:
            j = order[entering]
            if dims == 2:
                node = ranks[j + 1] + 1
                while node <= distinct:
                    line[node] += 1
                    node += node & -node
            else:
                _plane_update(offsets, entries, inner, distinct, ranks[j + 1], ranks[j + 2], 1)
            entering += 1
        while ranks[order[leaving]] < first[r]:
            j = order[leaving]
            if dims == 2:
                node = ranks[j + 1] + 1
                while node <= distinct:
                    line[node] -= 1
                    node += node & -node
            else:
                _plane_update(offsets, entries, inner, distinct, ranks[j + 1], ranks[j + 2], -1)
            leaving += 1
        second = ranks[i + 1]
        low = first[second]
        high = last[second]
        if dims == 2:
            total = 0
            node = high + 1
            while node > 0:
                total += line[node]
                node -= node & -node
            node = low
            while node > 0:
                total -= line[node]
                node -= node & -node
        else:
            third = ranks[i + 2]
            total = _plane_prefix(offsets, entries, inner, high, first[third], last[third])
            total -= _plane_prefix(offsets, entries, inner, low - 1, first[third], last[third])
        counts[i] = total


@njit(cache=True, error_model="numpy")
def match_counter(x: np.ndarray, dims: int, count: int) -> tuple:
    """What :func:`count_matches` needs for the first ``count`` templates of ``dims``
    points, built once for any number of tolerances."""
    ranks, values = dense_ranks(x)
    order = np.argsort(ranks[:count], kind="mergesort")
    if dims == 3:
        offsets, entries = plane_index(ranks, count, values.shape[0])
    else:
        offsets = np.zeros(1, dtype=np.int64)
        entries = np.zeros(0, dtype=np.int64)
    if dims > 3:
        tree = template_tree(x, dims, count)
    else:
        tree = template_tree(x[:0], dims, 0)
    return ranks, values, order, offsets, entries, tree


@njit(cache=True, error_model="numpy")
def count_matches(
    counter: tuple, dims: int, count: int, tolerance: float, counts: np.ndarray
) -> None:
    """``counts[i]``: templates (itself included) within ``tolerance`` of template ``i`` in
    every coordinate: rank sweeps for up to three points, the k-d tree beyond."""
    ranks, values, order, offsets, entries, tree = counter
    if count == 0:
        return
    if dims > 3:
        template_matches(tree, dims, tolerance, counts)
        return
    first, last = tolerance_bounds(values, tolerance)
    ranked_matches(ranks, first, last, dims, count, order, offsets, entries, counts)


@njit(cache=True, error_model="numpy")
def sample_entropy(x: np.ndarray, std: float) -> float:
    """-log(A / B): template matches of length 3 (A) and 2 (B) within 0.2 standard deviations.

    A and B count the ordered pairs of distinct templates (length 2: the first n - 1;
    length 3: the first n - 2) whose coordinates all differ by at most the tolerance,
    by range counting over the templates' ranks (:func:`count_matches`) rather than by
    comparing all pairs.
    """
    n = x.shape[0]
    tolerance = 0.2 * std
    templates = n - 1
    if templates <= 0:
        return NAN
    if math.isnan(tolerance):
        return NAN
    b_counts = np.zeros(templates, dtype=np.int64)
    count_matches(match_counter(x, 2, templates), 2, templates, tolerance, b_counts)
    b_matches = b_counts.sum() - templates
    a_matches = 0
    if n - 2 > 0:
        a_counts = np.zeros(n - 2, dtype=np.int64)
        count_matches(match_counter(x, 3, n - 2), 3, n - 2, tolerance, a_counts)
        a_matches = a_counts.sum() - (n - 2)
    return -math.log(a_matches / b_matches)


@njit(cache=True, error_model="numpy")
def approximate_entropies(x: np.ndarray, std: float, m: int, ratios: np.ndarray) -> np.ndarray:
    """|phi(m) - phi(m+1)| for every tolerance ``ratios[k]`` standard deviations.

    phi(m) is the mean over the templates of length m of the log of the share of templates
    within the tolerance (itself included); those counts come from range counting over the
    templates' ranks (:func:`count_matches`), prepared once for every tolerance, rather
    than from all pairs. The logs are summed in the order of the templates' first
    values, as the reference scan did, so the value does not depend on the tree.
    """
    n = x.shape[0]
    count = ratios.shape[0]
    result = np.zeros(count)
    for t in range(count):
        if not ratios[t] >= 0.0:  # negative or NaN tolerances are refused by the check
            return np.full(count, NAN)
    if m < 1:
        return np.full(count, NAN)
    if n <= m + 1 or count == 0:
        return result
    short = n - m + 1
    long = n - m
    order = np.argsort(x[:short], kind="mergesort")
    short_counter = match_counter(x, m, short)
    long_counter = match_counter(x, m + 1, long)
    short_counts = np.zeros(short, dtype=np.int64)
    long_counts = np.zeros(long, dtype=np.int64)
    for t in range(count):
        tolerance = ratios[t] * std
        if math.isnan(tolerance):
            result[t] = NAN
            continue
        count_matches(short_counter, m, short, tolerance, short_counts)
        count_matches(long_counter, m + 1, long, tolerance, long_counts)
        phi_short = 0.0
        phi_long = 0.0
        for a in range(short):
            i = order[a]
            phi_short += math.log(short_counts[i] / short)
            if i < long:
                phi_long += math.log(long_counts[i] / long)
        result[t] = abs(phi_short / short - phi_long / long)
    return result


@njit(cache=True, error_model="numpy")
def _svd_solve(matrix: np.ndarray, target: np.ndarray, rows: int) -> tuple:
    """Minimum-norm solution of ``matrix @ c = target`` by SVD, the numerical rank (with the
    tolerance of a design of ``rows`` rows) and the diagonal of the pseudo-inverse of the
    Gram matrix."""
    columns = matrix.shape[1]
    u, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    largest = singular.max() if singular.shape[0] > 0 else 0.0
    cutoff = 1e-15 * largest
    rank_tolerance = largest * max(rows, columns) * 2.220446049250313e-16
    rank = 0
    projected = u.T @ target
    coefficients = np.zeros(columns)
    inverse_gram_diagonal = np.zeros(columns)
    for i in range(singular.shape[0]):
        if singular[i] > rank_tolerance:
            rank += 1
        if singular[i] > cutoff:
            for j in range(columns):
                coefficients[j] += vt[i, j] * projected[i] / singular[i]
                inverse_gram_diagonal[j] += (vt[i, j] / singular[i]) ** 2
    return coefficients, rank, inverse_gram_diagonal


#: Rows of the design read per step of the streamed QR factorisations of the Dickey-Fuller
#: regressions (more when the model has many columns), so memory does not grow with n.
QR_BLOCK_ROWS = 4096


@njit(cache=True, error_model="numpy")
def dickey_fuller_triangle(
    x: np.ndarray, changes: np.ndarray, lags: int, first: int, rows: int, leading: bool
) -> np.ndarray:
    """R factor of the QR factorisation of [design | target] for the Dickey-Fuller
    regression of ``changes[t]`` on the level ``x[t]``, ``lags`` lagged changes and a
    constant (first when ``leading``, else last), over ``t = first .. first + rows - 1``.

    The rows are read in blocks; Householder reflections fold each block into the triangle
    so far (a reflection touches one row of the triangle and the block's rows): the
    triangle of one factorisation of the whole design, with the memory of a block instead
    of the n x lags design.
    """
    columns = lags + 2
    width = columns + 1
    block = max(QR_BLOCK_ROWS, 4 * width)
    triangle = np.zeros((width, width))
    stored = np.empty((width, block))  # the block, one column of the design per row
    offset = 1 if leading else 0
    done = 0
    while done < rows:
        take = min(block, rows - done)
        piece = stored[:, :take]
        for s in range(take):
            t = first + done + s
            if leading:
                piece[0, s] = 1.0
            else:
                piece[columns - 1, s] = 1.0
            piece[offset, s] = x[t]
            for lag in range(1, lags + 1):
                piece[offset + lag, s] = changes[t - lag]
            piece[columns, s] = changes[t]
        for j in range(width):
            below = 0.0
            for s in range(take):
                below += piece[j, s] * piece[j, s]
            top = triangle[j, j]
            norm = math.sqrt(top * top + below)
            alpha = -norm if top > 0 else norm
            head = top - alpha
            v_norm2 = head * head + below
            if not v_norm2 > 0.0:
                continue
            for c in range(j + 1, width):
                dot = head * triangle[j, c]
                for s in range(take):
                    dot += piece[j, s] * piece[c, s]
                factor = 2.0 * dot / v_norm2
                triangle[j, c] -= factor * head
                for s in range(take):
                    piece[c, s] -= factor * piece[j, s]
            triangle[j, j] = alpha
        done += take
    return triangle[: min(width, rows)] if rows < width else triangle


@njit(cache=True, error_model="numpy")
def triangle_least_squares(triangle: np.ndarray, columns: int, rows: int) -> tuple:
    """Minimum-norm least squares (by SVD) of the target on the first ``columns``
    regressors, from the R factor of [design | target] (``rows`` rows): the design and
    its R factor share singular values and right vectors.

    Returns the coefficients, the residual sum of squares, the numerical rank and the
    diagonal of the pseudo-inverse of design'design (for standard errors)."""
    target_column = triangle.shape[1] - 1
    height = min(columns, triangle.shape[0])
    upper = np.zeros((columns, columns))
    rotated = np.zeros(columns)
    for r in range(height):
        for c in range(columns):
            upper[r, c] = triangle[r, c]
        rotated[r] = triangle[r, target_column]
    tail = 0.0
    for r in range(height, triangle.shape[0]):
        tail += triangle[r, target_column] ** 2
    coefficients, rank, inverse_gram_diagonal = _svd_solve(upper, rotated, rows)
    residual = tail
    for r in range(columns):
        fitted = 0.0
        for j in range(columns):
            fitted += upper[r, j] * coefficients[j]
        residual += (rotated[r] - fitted) ** 2
    return coefficients, residual, rank, inverse_gram_diagonal


@njit(cache=True, error_model="numpy")
def triangle_nested_residuals(triangle: np.ndarray, columns: int) -> np.ndarray:
    """Residual sums of squares of regressing the target on the first k columns, every
    k, from the R factor of [design | target]: entry k is the squared norm of the rotated
    target beyond its first k components; NaN from the first (numerically) dependent
    column on."""
    result = np.full(columns + 1, NAN)
    height = triangle.shape[0]
    usable = min(columns, height)
    largest = 0.0
    for j in range(usable):
        largest = max(largest, abs(triangle[j, j]))
    for j in range(usable):
        if not abs(triangle[j, j]) > 1e-10 * largest:
            usable = j
            break
    tail = 0.0
    for k in range(height - 1, -1, -1):
        tail += triangle[k, columns] ** 2
        if k <= usable:
            result[k] = tail
    for k in range(height, columns + 1):
        if k <= usable:
            result[k] = 0.0
    return result


@njit(cache=True, error_model="numpy")
def mackinnon_pvalue(statistic: float) -> float:
    """MacKinnon's (1994) approximate p-value of a Dickey-Fuller statistic (constant, N=1)."""
    if math.isnan(statistic):
        return NAN
    if statistic > 2.74:
        return 1.0
    if statistic < -18.83:
        return 0.0
    if statistic <= -1.61:
        z = 2.1659 + 1.4412 * statistic + 0.038269 * statistic**2
    else:
        z = 1.7339 + 0.93202 * statistic - 0.12745 * statistic**2 - 0.010368 * statistic**3
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@njit(cache=True, error_model="numpy")
def _nested_triangle(full: np.ndarray, columns: int) -> np.ndarray:
    """The R factor of [first ``columns`` regressors | target] read off the R factor of
    [all regressors | target]: the first columns and the target column."""
    target_column = full.shape[1] - 1
    nested = np.empty((full.shape[0], columns + 1))
    for r in range(full.shape[0]):
        for c in range(columns):
            nested[r, c] = full[r, c]
        nested[r, columns] = full[r, target_column]
    return nested


@njit(cache=True, error_model="numpy")
def _lags_by_criterion(full: np.ndarray, rows: int, max_lag: int, bic: bool) -> int:
    """The number of lags whose model (on the ``rows`` rows common to all) has the smallest
    AIC or BIC, from the R factor ``full`` of [constant, level, lags..., target]; the fewest
    lags among equals."""
    residuals = triangle_nested_residuals(full, max_lag + 2)
    best = np.inf
    best_lag = 0
    for lags in range(max_lag + 1):
        if math.isnan(residuals[lags + 2]):  # rank-deficient: fit this model on its own
            nested = _nested_triangle(full, lags + 2)
            _, residual, rank, _ = triangle_least_squares(nested, lags + 2, rows)
        else:
            residual = residuals[lags + 2]
            rank = lags + 2
        log_likelihood = -rows / 2.0 * (math.log(2.0 * math.pi) + math.log(residual / rows) + 1.0)
        penalty = math.log(rows) * rank if bic else 2.0 * rank
        criterion = -2.0 * log_likelihood + penalty
        if lags == 0 or criterion < best:
            best = criterion
            best_lag = lags
    return best_lag


@njit(cache=True, error_model="numpy")
def _lags_by_t_statistic(full: np.ndarray, rows: int, max_lag: int) -> int:
    """From max_lag down, the first number of lags whose last regressor has |t| at least the
    95% normal quantile (with no lags that regressor is the level); 0 if none has. ``full``
    is the R factor of [constant, level, lags..., target] over ``rows`` rows."""
    residuals = triangle_nested_residuals(full, max_lag + 2)
    for lags in range(max_lag, -1, -1):
        columns = lags + 2
        if math.isnan(residuals[columns]) or math.isnan(residuals[columns - 1]):
            nested = _nested_triangle(full, columns)
            coefficients, residual, rank, inverse = triangle_least_squares(nested, columns, rows)
            scale = residual / (rows - rank)
            t = coefficients[columns - 1] / math.sqrt(scale * inverse[columns - 1])
        else:
            # the last coefficient's t: its share of the explained sum of squares over the
            # residual variance (one QR factorisation serves every model)
            explained = max(residuals[columns - 1] - residuals[columns], 0.0)
            scale = residuals[columns] / (rows - columns)
            t = math.sqrt(explained / scale)
        if abs(t) >= 1.6448536269514722:
            return lags
    return 0


@njit(cache=True, error_model="numpy")
def augmented_dickey_fuller(x: np.ndarray, autolag: int) -> np.ndarray:
    """Augmented Dickey-Fuller test with a constant, as statsmodels' adfuller.

    ``autolag`` chooses the number of lags among 0..maxlag: 0 by AIC, 1 by BIC, 2 by the
    t-statistic of the last lag (the largest number whose last lag is significant at 5%),
    anything else (None) keeps maxlag. Returns (test statistic, MacKinnon p-value, lags
    used); NaNs when the series is constant, too short for even zero lags or not finite.
    Every fit comes from a QR factorisation streamed over blocks of rows, so memory stays
    that of a block whatever the length of the series.
    """
    result = np.full(3, NAN)
    n = x.shape[0]
    if n == 0 or not all_finite(x) or x.max() == x.min():
        return result
    # The statistic does not change when the series is scaled; values near the ends of the
    # float range are scaled by a power of two so that squares and sums stay finite.
    peak = max(abs(x.max()), abs(x.min()))
    series = x
    if peak > 2.0**200 or peak < 2.0**-200:
        series = x * math.ldexp(1.0, -math.frexp(peak)[1])  # exact: a power of two
    max_lag = int(math.ceil(12.0 * (n / 100.0) ** 0.25))
    max_lag = min(n // 2 - 2, max_lag)
    if max_lag < 0:
        return result
    changes = np.empty(n - 1)
    for t in range(n - 1):
        changes[t] = series[t + 1] - series[t]
    rows = n - 1 - max_lag
    if rows <= 0:
        return result
    best_lag = max_lag
    if 0 <= autolag <= 2:
        # every candidate model uses the same rows: [constant, level, lagged changes...]
        full = dickey_fuller_triangle(series, changes, max_lag, max_lag, rows, True)
        if not all_finite(full):
            return result
        if autolag == 2:
            best_lag = _lags_by_t_statistic(full, rows, max_lag)
        else:
            best_lag = _lags_by_criterion(full, rows, max_lag, autolag == 1)
    # refit with the chosen lags on every row they allow: [level, lagged changes..., constant]
    rows = n - 1 - best_lag
    triangle = dickey_fuller_triangle(series, changes, best_lag, best_lag, rows, False)
    if not all_finite(triangle):
        return result
    coefficients, residual, rank, inverse_gram_diagonal = triangle_least_squares(
        triangle, best_lag + 2, rows
    )
    scale = residual / (rows - rank)
    statistic = coefficients[0] / math.sqrt(scale * inverse_gram_diagonal[0])
    result[0] = statistic
    result[1] = mackinnon_pvalue(statistic)
    result[2] = best_lag
    return result


@njit(cache=True, error_model="numpy")
def ricker_wavelet(points: int, width: float) -> np.ndarray:
    """The Ricker (Mexican-hat) wavelet sampled at ``points`` points, scale ``width``."""
    amplitude = 2.0 / (math.sqrt(3.0 * width) * math.pi**0.25)
    squared_width = width * width
    wavelet = np.empty(points)
    for i in range(points):
        offset = i - (points - 1.0) / 2.0
        square = offset * offset
        wavelet[i] = (
            amplitude * (1.0 - square / squared_width) * math.exp(-square / (2.0 * squared_width))
        )
    return wavelet


@njit(cache=True, error_model="numpy")
def ricker_row(x: np.ndarray, width: float, row: np.ndarray) -> None:
    """``row``: the series convolved with the Ricker wavelet of scale ``width`` (numpy's
    "same" mode, at most ten points per unit of width)."""
    n = x.shape[0]
    points = min(10 * int(width), n)
    kernel = ricker_wavelet(points, width)
    start = (points - 1) // 2
    for j in range(n):
        position = j + start
        total = 0.0
        for i in range(max(0, position - points + 1), min(n - 1, position) + 1):
            total += x[i] * kernel[position - i]
        row[j] = total


@njit(cache=True, error_model="numpy")
def _fenwick_kth(tree: np.ndarray, k: int) -> int:
    """Position (0-based) of the ``k``-th (0-based) member counted by a Fenwick tree."""
    size = tree.shape[0] - 1
    step = 1
    while step * 2 <= size:
        step *= 2
    position = 0
    remaining = k + 1
    while step > 0:
        following = position + step
        if following <= size and tree[following] < remaining:
            position = following
            remaining -= tree[following]
        step //= 2
    return position


@njit(cache=True, error_model="numpy")
def number_cwt_peaks(x: np.ndarray, max_width: int) -> float:
    """Peaks found by ridge lines of the Ricker wavelet transform at widths 1..max_width.

    Follows scipy's find_peaks_cwt with its defaults: relative maxima of each width's
    transform are chained from the widest scale down (a ridge may skip one scale and moves
    at most width/4 columns per scale); a ridge counts if it spans at least a quarter of
    the widths and its smallest-scale response is at least the 10th percentile of the
    finest transform around it (window of a twentieth of the series).
    One transform row is kept at a time (and the finest one); each maximum finds its
    nearest ridge by binary search among the ridges' sorted columns, and the percentiles
    come from one sliding window over the ranks of the finest row: O(n log n) per width.
    """
    n = x.shape[0]
    widths = max_width
    if n == 0 or widths < 1 or widths > MAX_WAVELET_WIDTH:
        return NAN
    row_values = np.empty(n)
    top = -1
    for row in range(widths - 1, -1, -1):
        ricker_row(x, row + 1.0, row_values)
        for j in range(1, n - 1):
            if row_values[j] > row_values[j - 1] and row_values[j] > row_values[j + 1]:
                top = row
                break
        if top >= 0:
            break
    if top < 0:
        return 0.0
    capacity = 1
    last_col = np.empty(capacity, dtype=np.int64)
    last_row = np.empty(capacity, dtype=np.int64)
    last_value = np.empty(capacity)
    gap = np.zeros(capacity, dtype=np.int64)
    length = np.zeros(capacity, dtype=np.int64)
    active = np.empty(capacity, dtype=np.int64)  # line ids in list order
    finished = np.empty(capacity, dtype=np.int64)
    lines = 0
    active_count = 0
    finished_count = 0
    finest = np.empty(n)
    previous_cols = np.empty(capacity, dtype=np.int64)
    group_start = np.empty(capacity, dtype=np.int64)
    gap_threshold = 1.0
    for row in range(top, -1, -1):
        if row < top:
            ricker_row(x, row + 1.0, row_values)
        if row == 0:
            finest[:] = row_values
        maxima = 0
        for j in range(1, n - 1):
            if row_values[j] > row_values[j - 1] and row_values[j] > row_values[j + 1]:
                maxima += 1
        if lines + maxima > capacity:  # every maximum may start a line: grow the arrays
            capacity = max(2 * capacity, lines + maxima)
            last_col = _grown(last_col, capacity)
            last_row = _grown(last_row, capacity)
            last_value = _grown(last_value, capacity)
            gap = _grown(gap, capacity)
            length = _grown(length, capacity)
            active = _grown(active, capacity)
            finished = _grown(finished, capacity)
            previous_cols = _grown(previous_cols, capacity)
            group_start = _grown(group_start, capacity)
        reach = (row + 1.0) / 4.0
        known = active_count
        if row < top:
            for a in range(known):
                gap[active[a]] += 1
        # the known lines' columns, sorted (ties in list order), for nearest-line searches
        for a in range(known):
            previous_cols[a] = last_col[active[a]]
        by_column = np.argsort(previous_cols[:known], kind="mergesort")
        sorted_cols = previous_cols[:known][by_column]
        for b in range(known):
            if b > 0 and sorted_cols[b] == sorted_cols[b - 1]:
                group_start[b] = group_start[b - 1]
            else:
                group_start[b] = b
        for j in range(1, n - 1):
            if not (row_values[j] > row_values[j - 1] and row_values[j] > row_values[j + 1]):
                continue
            closest = -1
            best = 0
            if row < top and known > 0:
                # the first line in list order among those at the smallest distance
                right = np.searchsorted(sorted_cols, j)
                if right < known:
                    closest = by_column[right]
                    best = sorted_cols[right] - j
                if right > 0:
                    left = by_column[group_start[right - 1]]
                    distance = j - sorted_cols[right - 1]
                    if closest < 0 or distance < best or (distance == best and left < closest):
                        closest = left
                        best = distance
            if closest >= 0 and best <= reach:
                line = active[closest]
                last_col[line] = j
                last_row[line] = row
                last_value[line] = row_values[j]
                length[line] += 1
                gap[line] = 0
            else:
                last_col[lines] = j
                last_row[lines] = row
                last_value[lines] = row_values[j]
                length[lines] = 1
                gap[lines] = 0
                active[active_count] = lines
                active_count += 1
                lines += 1
        if row == top:
            continue
        kept = 0
        for a in range(active_count):
            line = active[a]
            if gap[line] > gap_threshold:
                finished[finished_count] = line
                finished_count += 1
            else:
                active[kept] = line
                kept += 1
        active_count = kept
    min_length = math.ceil(widths / 4.0)
    window = int(math.ceil(n / 20.0))
    half = window // 2
    odd = window % 2
    # long-enough lines by column, for one sliding window over the finest row
    candidates = np.empty(finished_count + active_count, dtype=np.int64)
    found = 0
    for group in range(2):
        count = finished_count if group == 0 else active_count
        for a in range(count):
            line = finished[a] if group == 0 else active[a]
            if length[line] >= min_length:
                candidates[found] = line
                found += 1
    candidates = candidates[:found]
    columns = np.empty(found, dtype=np.int64)
    for a in range(found):
        columns[a] = last_col[candidates[a]]
    by_position = np.argsort(columns, kind="mergesort")
    rank_order = np.argsort(finest, kind="mergesort")
    rank_of = np.empty(n, dtype=np.int64)
    for r in range(n):
        rank_of[rank_order[r]] = r
    members = np.zeros(n + 1, dtype=np.int64)
    window_start = 0
    window_end = 0
    peaks = 0
    for a in range(found):
        line = candidates[by_position[a]]
        column = last_col[line]
        start = max(column - half, 0)
        end = min(column + half + odd, n)
        while window_end < end:
            node = rank_of[window_end] + 1
            while node <= n:
                members[node] += 1
                node += node & -node
            window_end += 1
        while window_start < start:
            node = rank_of[window_start] + 1
            while node <= n:
                members[node] -= 1
                node += node & -node
            window_start += 1
        # noise: 10th percentile of the finest transform in the window around the column
        index = 10.0 / 100.0 * (end - start - 1)
        low = int(index)
        fraction = index % 1
        noise = finest[rank_order[_fenwick_kth(members, low)]]
        if fraction != 0:
            above = finest[rank_order[_fenwick_kth(members, low + 1)]]
            noise = noise + (above - noise) * fraction
        if abs(last_value[line] / noise) < 1.0:
            continue
        peaks += 1
    return float(peaks)


@njit(cache=True, error_model="numpy")
def query_similarity_count(
    x: np.ndarray, query: np.ndarray, threshold: float, normalize: bool
) -> float:
    """Subsequences of ``x`` within ``threshold`` of ``query`` (z-normalised Euclidean
    distance, or plain Euclidean without ``normalize``), as stumpy's mass computes them:
    two constant sequences are at distance 0, a constant and a varying one at sqrt(m), a
    subsequence with an infinity infinitely far. NaN for queries below 3 points (as tsfresh)
    and for series shorter than the query (no subsequence to compare)."""
    m = query.shape[0]
    n = x.shape[0]
    if m < 3 or n < m:
        return NAN
    q_mean = pairwise_sum(query) / m
    q_spread = 0.0
    q_constant = True
    for j in range(m):
        q_spread += (query[j] - q_mean) ** 2
        if query[j] != query[0]:
            q_constant = False
    count = 0
    for i in range(n - m + 1):
        piece = x[i : i + m]
        if not all_finite(piece):
            continue  # infinitely far
        if normalize:
            mean = pairwise_sum(piece) / m
            spread = 0.0
            product = 0.0
            constant = True
            for j in range(m):
                spread += (piece[j] - mean) ** 2
                product += (piece[j] - mean) * (query[j] - q_mean)
                if piece[j] != piece[0]:
                    constant = False
            if constant and q_constant:
                squared = 0.0
            elif constant or q_constant:
                squared = float(m)
            else:
                # one square root of the product: exactly 1 for a scaled copy of the query
                scale = math.sqrt(spread * q_spread)
                if not math.isfinite(scale) or scale == 0.0:
                    scale = math.sqrt(spread) * math.sqrt(q_spread)
                correlation = product / scale
                squared = abs(2.0 * m * (1.0 - correlation))
        else:
            squared = 0.0
            for j in range(m):
                squared += (piece[j] - query[j]) ** 2
        if math.sqrt(squared) <= threshold:
            count += 1
    return float(count)


@njit(cache=True, error_model="numpy")
def query_similarity_counts(
    values: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    query: np.ndarray,
    threshold: float,
    normalize: bool,
) -> np.ndarray:
    """:func:`query_similarity_count` of every window ``values[starts[w]:stops[w]]``."""
    out = np.full(starts.shape[0], NAN)
    for w in range(starts.shape[0]):
        out[w] = query_similarity_count(values[starts[w] : stops[w]], query, threshold, normalize)
    return out


#: The query subsequences of query_similarity_count, by number: a plan row carries the
#: number (its parameters are floats), the kernel reads the array.
QUERIES: list[np.ndarray] = []
_QUERY_NUMBERS: dict[bytes, int] = {}


def register_query(values: list[float]) -> int:
    """The number of the query ``values`` (the same number for the same values)."""
    array = np.ascontiguousarray(values, dtype=np.float64)
    key = array.tobytes()
    if key not in _QUERY_NUMBERS:
        _QUERY_NUMBERS[key] = len(QUERIES)
        QUERIES.append(array)
    return _QUERY_NUMBERS[key]


@njit(cache=True, error_model="numpy")
def _grown(values: np.ndarray, capacity: int) -> np.ndarray:
    """``values`` copied into a longer array of ``capacity`` entries."""
    grown = np.zeros(capacity, dtype=values.dtype)
    grown[: values.shape[0]] = values
    return grown


# --------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------

_R_GRID = _float_steps(0, 20)


def _position(name: str, low: int = 0, **rule: Any) -> Parameter:
    """An integer naming a lag, a coefficient, a chunk or a count of points."""
    return Parameter(name, integer=True, low=low, high=MAX_POSITION, **rule)


def _bins(name: str) -> Parameter:
    """A number of bins (histogram or quantile bins)."""
    return Parameter(name, integer=True, low=1, high=MAX_BINS)


def _fraction(name: str) -> Parameter:
    """A quantile or a share, between 0 and 1."""
    return Parameter(name, low=0, high=1)


def _threshold(name: str) -> Parameter:
    """A value compared with the series' values: any number, infinities included."""
    return Parameter(name, infinite=True)


CALCULATORS: tuple[Calculator, ...] = (
    Calculator(
        "variance_larger_than_standard_deviation", 1, description="variance > standard deviation"
    ),
    Calculator("has_duplicate_max", 2, description="the maximum occurs more than once"),
    Calculator("has_duplicate_min", 3, description="the minimum occurs more than once"),
    Calculator("has_duplicate", 4, description="some value occurs more than once"),
    Calculator("sum_values", 5, minimal=True, description="sum of the values"),
    Calculator("abs_energy", 6, description="sum of squares"),
    Calculator("mean_abs_change", 7, description="mean absolute consecutive change"),
    Calculator("mean_change", 8, description="mean consecutive change"),
    Calculator("mean_second_derivative_central", 9, description="mean central second difference"),
    Calculator("median", 10, minimal=True),
    Calculator("mean", 11, minimal=True),
    Calculator("length", 12, minimal=True),
    Calculator("standard_deviation", 13, minimal=True, description="population standard deviation"),
    Calculator("variation_coefficient", 14, description="standard deviation / mean"),
    Calculator("variance", 15, minimal=True, description="population variance"),
    Calculator("skewness", 16, description="adjusted Fisher-Pearson skewness"),
    Calculator("kurtosis", 17, description="unbiased excess kurtosis"),
    Calculator("root_mean_square", 18, minimal=True),
    Calculator("absolute_sum_of_changes", 19),
    Calculator("longest_strike_below_mean", 20),
    Calculator("longest_strike_above_mean", 21),
    Calculator("count_above_mean", 22),
    Calculator("count_below_mean", 23),
    Calculator("last_location_of_maximum", 24),
    Calculator("first_location_of_maximum", 25),
    Calculator("last_location_of_minimum", 26),
    Calculator("first_location_of_minimum", 27),
    Calculator("percentage_of_reoccurring_values_to_all_values", 28),
    Calculator("percentage_of_reoccurring_datapoints_to_all_datapoints", 29),
    Calculator("sum_of_reoccurring_values", 30),
    Calculator("sum_of_reoccurring_data_points", 31),
    Calculator("ratio_value_number_to_time_series_length", 32),
    Calculator("sample_entropy", 71, high_cost=True),
    Calculator("maximum", 33, minimal=True),
    Calculator("absolute_maximum", 34, minimal=True),
    Calculator("minimum", 35, minimal=True),
    Calculator(
        "benford_correlation", 36, description="correlation of leading digits with Benford's law"
    ),
    Calculator(
        "time_reversal_asymmetry_statistic",
        37,
        (_position("lag"),),
        _grid(lag=[1, 2, 3]),
    ),
    Calculator("c3", 38, (_position("lag"),), _grid(lag=[1, 2, 3])),
    Calculator(
        "cid_ce", 39, (Parameter("normalize", boolean=True),), _grid(normalize=[True, False])
    ),
    Calculator("symmetry_looking", 40, (Parameter("r"),), _grid(r=_R_GRID)),
    Calculator("large_standard_deviation", 41, (Parameter("r"),), _grid(r=_float_steps(1, 20))),
    Calculator(
        "quantile", 42, (_fraction("q"),), _grid(q=[0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    ),
    Calculator(
        "autocorrelation", 43, (_position("lag"),), _grid(lag=list(range(10)))
    ),
    Calculator(
        "agg_autocorrelation",
        44,
        (Parameter("f_agg", choices=F_AGG), _position("maxlag", low=1)),
        _grid(f_agg=["mean", "median", "var"], maxlag=[40]),
    ),
    Calculator(
        "partial_autocorrelation", 45, (_position("lag"),), _grid(lag=list(range(10)))
    ),
    Calculator(
        "number_cwt_peaks",
        75,
        (Parameter("n", integer=True, low=1, high=MAX_WAVELET_WIDTH),),
        _grid(n=[1, 5]),
    ),
    Calculator("number_peaks", 46, (_position("n", low=1),), _grid(n=[1, 3, 5, 10, 50])),
    Calculator("binned_entropy", 47, (_bins("max_bins"),), _grid(max_bins=[10])),
    Calculator(
        "index_mass_quantile",
        48,
        (_fraction("q"),),
        _grid(q=[0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]),
    ),
    Calculator(
        "cwt_coefficients",
        70,
        (
            _position("coeff"),
            Parameter("w", low=0, low_exclusive=True, high=MAX_WAVELET_WIDTH, member_of="widths"),
            Parameter(
                "widths",
                name_only=True,
                sequence=True,
                low=0,
                low_exclusive=True,
                high=MAX_WAVELET_WIDTH,
            ),
        ),
        tuple(
            {"widths": (2, 5, 10, 20), "coeff": coeff, "w": w}
            for coeff in range(15)
            for w in (2, 5, 10, 20)
        ),
    ),
    Calculator(
        "spkt_welch_density", 66, (_position("coeff"),), _grid(coeff=[2, 5, 8])
    ),
    Calculator(
        "ar_coefficient",
        67,
        (_position("coeff"), _position("k")),
        _grid(coeff=list(range(11)), k=[10]),
    ),
    Calculator(
        "change_quantiles",
        49,
        (
            _fraction("ql"),
            _fraction("qh"),
            Parameter("isabs", boolean=True),
            Parameter("f_agg", choices=F_AGG),
        ),
        tuple(
            {"ql": ql, "qh": qh, "isabs": isabs, "f_agg": f_agg}
            for ql in [0.0, 0.2, 0.4, 0.6, 0.8]
            for qh in [0.2, 0.4, 0.6, 0.8, 1.0]
            for isabs in [False, True]
            for f_agg in ["mean", "var"]
            if ql < qh
        ),
    ),
    Calculator(
        "fft_coefficient",
        50,
        (_position("coeff"), Parameter("attr", choices=FFT_ATTR)),
        tuple({"coeff": k, "attr": attr} for attr in FFT_ATTR for k in range(100)),
    ),
    Calculator(
        "fft_aggregated",
        51,
        (Parameter("aggtype", choices=SPECTRUM_AGG),),
        _grid(aggtype=list(SPECTRUM_AGG)),
    ),
    Calculator(
        "value_count",
        52,
        (Parameter("value", infinite=True, nan=True),),
        _grid(value=[0, 1, -1]),
    ),
    Calculator(
        "range_count",
        53,
        (_threshold("min"), _threshold("max")),
        ({"min": -1, "max": 1}, {"min": -1e12, "max": 0}, {"min": 0, "max": 1e12}),
    ),
    Calculator(
        "approximate_entropy",
        72,
        (_position("m", low=1), Parameter("r", low=0)),
        _grid(m=[2], r=[0.1, 0.3, 0.5, 0.7, 0.9]),
        high_cost=True,
    ),
    Calculator(
        "friedrich_coefficients",
        68,
        (
            _position("coeff"),
            Parameter("m", integer=True, low=1, high=MAX_DEGREE),
            _bins("r"),
        ),
        _grid(coeff=list(range(4)), m=[3], r=[30]),
    ),
    Calculator(
        "max_langevin_fixed_point",
        69,
        (Parameter("m", integer=True, low=1, high=MAX_DEGREE), _bins("r")),
        _grid(m=[3], r=[30]),
    ),
    Calculator(
        "linear_trend", 54, (Parameter("attr", choices=TREND_ATTR),), _grid(attr=list(TREND_ATTR))
    ),
    Calculator(
        "agg_linear_trend",
        55,
        (
            Parameter("attr", choices=TREND_ATTR),
            _position("chunk_len", low=1),
            Parameter("f_agg", choices=F_AGG),
        ),
        _grid(
            attr=["rvalue", "intercept", "slope", "stderr"],
            chunk_len=[5, 10, 50],
            f_agg=["max", "min", "mean", "var"],
        ),
    ),
    Calculator(
        "augmented_dickey_fuller",
        73,
        (
            Parameter("attr", choices=("teststat", "pvalue", "usedlag")),
            Parameter("autolag", choices=("AIC", "BIC", "t-stat"), optional=True, default="AIC"),
        ),
        _grid(attr=["teststat", "pvalue", "usedlag"]),
        fixed_name_parts={"autolag": "AIC"},
        description="lags chosen by AIC (default), BIC, t-stat or None (maxlag), as statsmodels",
    ),
    Calculator("number_crossing_m", 56, (_threshold("m"),), _grid(m=[0, -1, 1])),
    Calculator(
        "energy_ratio_by_chunks",
        57,
        (_position("num_segments", low=1), _position("segment_focus", below="num_segments")),
        _grid(num_segments=[10], segment_focus=list(range(10))),
    ),
    Calculator(
        "ratio_beyond_r_sigma",
        58,
        (Parameter("r"),),
        _grid(r=[0.5, 1, 1.5, 2, 2.5, 3, 5, 6, 7, 10]),
    ),
    Calculator(
        "linear_trend_timewise",
        74,
        (Parameter("attr", choices=TREND_ATTR),),
        _grid(attr=list(TREND_ATTR)),
        needs_time=True,
        description="x axis: hours since the window's first timestamp; datetime sort only",
    ),
    Calculator("count_above", 59, (_threshold("t"),), _grid(t=[0])),
    Calculator("count_below", 60, (_threshold("t"),), _grid(t=[0])),
    Calculator(
        "lempel_ziv_complexity",
        64,
        (_bins("bins"),),
        _grid(bins=[2, 3, 5, 10, 100]),
    ),
    Calculator(
        "fourier_entropy", 65, (_bins("bins"),), _grid(bins=[2, 3, 5, 10, 100])
    ),
    Calculator(
        "permutation_entropy",
        61,
        (
            _position("tau", low=1),
            Parameter("dimension", integer=True, low=2, high=MAX_PERMUTATION_DIMENSION),
        ),
        _grid(tau=[1], dimension=[3, 4, 5, 6, 7]),
    ),
    Calculator(
        "query_similarity_count",
        62,
        (
            Parameter("query", optional=True, sequence=True, subsequence=True),
            Parameter("threshold", infinite=True, default=0.0),
            Parameter("normalize", boolean=True, optional=True, default=True),  # None: True
        ),
        ({"query": None, "threshold": 0.0},),
        description="subsequences within the threshold of the query (z-normalised unless "
        "normalize=False); NaN without a query of 3+ points, as tsfresh",
    ),
    Calculator(
        "mean_n_absolute_max",
        63,
        (_position("number_of_maxima", low=1),),
        _grid(number_of_maxima=[7]),
    ),
)

CALCULATORS_BY_NAME: dict[str, Calculator] = {
    calculator.name: calculator for calculator in CALCULATORS
}

#: Calculators of tsfresh 0.21's ComprehensiveFCParameters that featurekit lacks so far.
NOT_YET_IMPLEMENTED: tuple[str, ...] = ()

#: tsfresh's preset membership of the calculators above, for when they arrive.
NOT_YET_IMPLEMENTED_HIGH_COST: frozenset[str] = frozenset()

#: Calculators tsfresh 0.21 defines but leaves out of every preset here, and why featurekit
#: leaves them out as well.
EXCLUDED: dict[str, str] = {
    "matrix_profile": (
        "tsfresh computes it only through the optional package 'matrixprofile', whose last "
        "release (1.1.10, 2021) has no wheels for Python 3.9 or later and whose source does "
        "not build (its build requirements do not parse), so tsfresh 0.21.2 drops it from "
        "ComprehensiveFCParameters ('Dependency not available for matrix_profile') and from "
        "every other preset, and has no values to compare against; tsfresh's own docstring "
        "calls it no longer supported"
    ),
}


def preset(name: str) -> dict[str, tuple[Mapping[str, Any], ...] | None]:
    """The settings of preset ``name`` ("minimal", "efficient" or "comprehensive")."""
    return {
        calculator.name: calculator.grid for calculator in CALCULATORS if name in calculator.presets
    }
