"""tsfresh's time-series calculators as aggregation primitives for deep feature synthesis.

Every calculator of :mod:`featurekit.primitives.timeseries` becomes an ordered aggregation:
the child rows of each parent, in the order of the child's time index (then its index), are
one series, and the primitive's value is the calculator's value on that series, equal to
what ``fk.timeseries.extract`` gives for the same rows. Parameters are keyword arguments
named as in tsfresh and always appear in the feature name::

    FFT_COEFFICIENT(transactions.amount, coeff=0, attr="real")

A bare name (``agg_primitives=["fft_coefficient"]``) takes the first parameter combination
of tsfresh's comprehensive grid; :func:`timeseries_primitives` turns a preset or a tsfresh
settings dict into primitives, one per parameter combination. Calculators whose name is
already a built-in aggregation (``mean``, ``median``, ``variance``, ``kurtosis``,
``count_above_mean``, ``count_below_mean``) are registered with a ``ts_`` prefix, since
Featuretools' definitions keep the plain names (``TS_VARIANCE`` is tsfresh's population
variance, ``VARIANCE`` Featuretools' sample variance).

Missing values (null or NaN) are skipped: the series is the parent's remaining values in
time order. A parent without rows, or whose rows are all missing, gets a missing value, as
does a series too short for the calculator (where tsfresh gives NaN).

The primitives form one batch family: the engine hands every feature over the same column
and relationship path to :meth:`TimeSeriesAggregation.aggregate_segments` at once, which runs
the extractor's numba kernel once over all parents with every calculator and parameter
combination, so they share one sort, one FFT, one autocorrelation per parent, as in
``fk.timeseries.extract``. ``aggregate_expr`` computes a single feature the same way (one
kernel call over all groups) for callers outside the engine. The kernel itself lives with the
extractor (``featurekit.timeseries``) and is imported only when a feature is computed.

Examples
--------
>>> from featurekit.primitives import get_primitive
>>> get_primitive("fft_coefficient").generate_name(["amount"], "transactions")
'FFT_COEFFICIENT(transactions.amount, coeff=0, attr="real")'
>>> FftCoefficient(coeff=3, attr="abs").generate_name(["amount"], "transactions")
'FFT_COEFFICIENT(transactions.amount, coeff=3, attr="abs")'
>>> [p.generate_name(["amount"], "t") for p in timeseries_primitives({"c3": [{"lag": 1}]})]
['C3(t.amount, lag=1)']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

import numpy as np
import polars as pl
from featurekit.primitives import register
from featurekit.primitives.base import (
    DOUBLE_OUT,
    NUMERIC_IN,
    TIME_INDEX_IN,
    AggregationPrimitive,
    Segments,
)
from featurekit.primitives.timeseries import CALCULATORS, Calculator

from featurekit.errors import FeaturekitError, PlanError

#: Built-in aggregation names that tsfresh also uses; these calculators get a ``ts_`` prefix.
BUILT_IN_NAMES = frozenset(
    {"mean", "median", "variance", "kurtosis", "count_above_mean", "count_below_mean"}
)


class TimeSeriesAggregation(AggregationPrimitive):
    """Base of the time-series calculator primitives; ``calculator`` says which one."""

    calculator: ClassVar[Calculator]
    input_types = ((NUMERIC_IN,),)
    return_type = DOUBLE_OUT
    stack_on_self = False
    ordered = True
    batch_family = "timeseries"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if isinstance(self.params.get("widths"), list):  # a JSON round trip turns it into a list
            self.params["widths"] = tuple(self.params["widths"])
        self._plan()  # validates the parameters now, not when the features are computed

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        first = dict(cls.calculator.grid[0]) if cls.calculator.grid else {}
        first.update(cls.calculator.fixed_name_parts)
        return {p.name: first.get(p.name) for p in cls.calculator.parameters}

    def _plan(self):
        from featurekit.timeseries.settings import build_plan

        settings = {self.calculator.name: [self._calculator_params()] if self.params else None}
        try:
            return build_plan(settings, has_time=True)
        except FeaturekitError as problem:
            raise PlanError(f"primitive {self.display_name}: {problem}") from None

    def _calculator_params(self) -> dict[str, Any]:
        """The parameters as the calculator takes them (fixed name parts left out)."""
        fixed = self.calculator.fixed_name_parts
        return {
            key: value
            for key, value in self.params.items()
            if not (key in fixed and fixed[key] == value)
        }

    def args_string(self) -> str:
        """Every parameter, in the calculator's order, strings quoted as tsfresh quotes them."""
        shown = [(key, value) for key, value in self.params.items() if value is not None]
        return "".join(f", {key}={_render(value)}" for key, value in shown)

    @classmethod
    def aggregate_segments(
        cls, primitives: Sequence[AggregationPrimitive], segments: Segments
    ) -> list[pl.Series]:
        """Every primitive's calculator on every parent's series, in one kernel call: missing
        values (and, with a time input, rows without a time) are dropped, as in
        ``aggregate_expr``; a parent left with no values gets a missing value."""
        from featurekit.timeseries.kernels import run_plan

        plans = [primitive._plan() for primitive in primitives]  # type: ignore[attr-defined]
        codes = np.array([plan.codes[0] for plan in plans], dtype=np.int64)
        parameters = np.array([plan.parameters[0] for plan in plans], dtype=np.float64)
        # The kernel reuses a model fit (autoregression, Friedrich polynomial) across adjacent
        # rows with the same model parameters: put each calculator's rows together, the
        # fit's parameters (the last slots) outermost, as the extractor's plan has them.
        order = np.lexsort((*parameters.T, codes))
        codes, parameters = codes[order], parameters[order]
        values = segments.columns[0].cast(pl.Float64)
        present = (values.is_not_null() & values.is_not_nan()).fill_null(False)
        times = None
        if len(segments.columns) > 1:
            time = segments.columns[1]
            present = present & time.is_not_null()
            times = time.filter(present).dt.epoch("ns").cast(pl.Int64).to_numpy()
        kept = present.to_numpy()
        before = np.concatenate(([0], np.cumsum(kept, dtype=np.int64)))  # kept rows before i
        buffer = values.filter(present).to_numpy()
        computed = run_plan(
            buffer, before[segments.starts], before[segments.stops], codes, parameters, times
        )
        position = np.empty_like(order)
        position[order] = np.arange(order.shape[0])
        return [pl.Series(values=computed[:, row], nan_to_null=True) for row in position]

    def aggregate_expr(self, inputs: list[pl.Expr], context) -> pl.Expr:
        plan = self._plan()
        values = inputs[0].cast(pl.Float64)
        if self.calculator.needs_time:
            values = pl.struct(
                values.alias("value"), inputs[1].dt.epoch("ns").cast(pl.Int64).alias("time")
            )
        # One list per group, handed over as one column: the function is elementwise over
        # groups, so polars calls it once for all of them (or once per chunk of groups).
        return values.implode().map_batches(
            partial(_evaluate_groups, plan.codes, plan.parameters),
            return_dtype=pl.Float64,
            is_elementwise=True,
        )


def _render(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _present(element: pl.Expr) -> pl.Expr:
    return element.is_not_null() & element.is_not_nan()


def _evaluate_groups(codes: np.ndarray, parameters: np.ndarray, groups: pl.Series) -> pl.Series:
    """The calculator on every group's list of values (missing values dropped), in one
    kernel call over a single buffer with one (start, stop) pair per group."""
    from featurekit.timeseries.kernels import run_plan

    times = None
    if isinstance(groups.dtype.inner, pl.Struct):  # type: ignore[union-attr]
        element = pl.element()
        kept = groups.list.eval(
            element.filter(
                _present(element.struct.field("value"))
                & element.struct.field("time").is_not_null()
            )
        )
        flat = kept.explode().drop_nulls()
        buffer = flat.struct.field("value").to_numpy()
        times = flat.struct.field("time").to_numpy()
    else:
        kept = groups.list.eval(pl.element().filter(_present(pl.element())))
        buffer = kept.explode().drop_nulls().to_numpy()
    lengths = kept.list.len().fill_null(0).to_numpy().astype(np.int64)
    stops = np.cumsum(lengths)
    computed = run_plan(buffer, stops - lengths, stops, codes, parameters, times)
    return pl.Series(groups.name, computed[:, 0]).fill_nan(None)


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _primitive_class(calculator: Calculator) -> type[TimeSeriesAggregation]:
    name = f"ts_{calculator.name}" if calculator.name in BUILT_IN_NAMES else calculator.name
    class_name = _class_name(name)
    what = calculator.description or calculator.name.replace("_", " ")
    parameters = "; ".join(
        f"{p.name}: {p.allowed()}" for p in calculator.parameters if not p.name_only
    )
    doc = (
        f"tsfresh's {calculator.name} of the rows in time order: {what}"
        + (f" (parameters: {parameters})." if parameters else ".")
    )
    attributes: dict[str, Any] = {
        "name": name,
        "calculator": calculator,
        "description": doc,
        "__doc__": doc,
        "__module__": __name__,
        "__qualname__": class_name,
    }
    if calculator.needs_time:
        attributes["input_types"] = ((NUMERIC_IN, TIME_INDEX_IN),)
    return type(class_name, (TimeSeriesAggregation,), attributes)


TIMESERIES_PRIMITIVES: tuple[type[TimeSeriesAggregation], ...] = tuple(
    _primitive_class(calculator) for calculator in CALCULATORS
)
_BY_CALCULATOR = {cls.calculator.name: cls for cls in TIMESERIES_PRIMITIVES}
for _cls in TIMESERIES_PRIMITIVES:
    globals()[_cls.__qualname__] = _cls  # importable by name, hence picklable
    register(_cls)


def timeseries_primitives(
    settings: str | Mapping[str, Sequence[Mapping[str, Any]] | None],
) -> list[TimeSeriesAggregation]:
    """Primitives for a preset ("minimal", "efficient", "comprehensive") or a tsfresh settings
    dict ``{calculator: [parameter dicts] or None}``, one per parameter combination."""
    from featurekit.timeseries.settings import build_plan, resolve

    try:
        resolved = resolve(settings)
        build_plan(resolved, has_time=True)  # the extractor's checks and messages
    except FeaturekitError as problem:
        raise PlanError(str(problem)) from None
    primitives: list[TimeSeriesAggregation] = []
    for name, combinations in resolved.items():
        cls = _BY_CALCULATOR[name]
        fixed = cls.calculator.fixed_name_parts
        for combination in [None] if combinations is None else combinations:
            primitives.append(cls(**{**fixed, **dict(combination or {})}))
    return primitives


__all__ = [
    "BUILT_IN_NAMES", "TIMESERIES_PRIMITIVES", "TimeSeriesAggregation", "timeseries_primitives",
    *(cls.__qualname__ for cls in TIMESERIES_PRIMITIVES),
]
