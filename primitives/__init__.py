"""The featurekit vocabulary: aggregation and transform primitives, and the registry that
finds them by name.

Examples
--------
>>> from featurekit.primitives import get_primitive
>>> get_primitive("mean").display_name
'MEAN'
"""

from __future__ import annotations

import difflib

from featurekit import _numba_cache  # noqa: F401  (numba's cache directory, before any kernel)

# isort: split
from featurekit.primitives.aggregation import *  # noqa: F403
from featurekit.primitives.aggregation import AGGREGATION_PRIMITIVES, DEFAULT_AGGREGATIONS
from featurekit.primitives.aggregation_counts import *  # noqa: F403
from featurekit.primitives.aggregation_counts import COUNT_AGGREGATIONS
from featurekit.primitives.aggregation_dates import *  # noqa: F403
from featurekit.primitives.aggregation_dates import DATE_AGGREGATIONS
from featurekit.primitives.aggregation_runs import *  # noqa: F403
from featurekit.primitives.aggregation_runs import RUN_AGGREGATIONS
from featurekit.primitives.base import (
    AggregationPrimitive,
    ComputeContext,
    Primitive,
    Segments,
    TransformPrimitive,
)
from featurekit.primitives.encoding import ENCODING_PRIMITIVES, OneHot, OneHotUnknown
from featurekit.primitives.transform import *  # noqa: F403
from featurekit.primitives.transform import DEFAULT_TRANSFORMS, TRANSFORM_PRIMITIVES
from featurekit.primitives.transform_compare import *  # noqa: F403
from featurekit.primitives.transform_compare import COMPARE_TRANSFORM_PRIMITIVES
from featurekit.primitives.transform_dates import *  # noqa: F403
from featurekit.primitives.transform_dates import DATE_PRIMITIVES
from featurekit.primitives.transform_numeric import *  # noqa: F403
from featurekit.primitives.transform_numeric import NUMERIC_TRANSFORM_PRIMITIVES
from featurekit.primitives.transform_parts import PART_PRIMITIVES
from featurekit.primitives.transform_places import PLACE_PRIMITIVES
from featurekit.primitives.transform_text import TEXT_PRIMITIVES
from featurekit.primitives.transform_windows import *  # noqa: F403
from featurekit.primitives.transform_windows import WINDOW_PRIMITIVES

from featurekit.errors import PlanError

_REGISTRY: dict[str, type[Primitive]] = {}
# Every class ever registered, by "module:qualname": a saved feature names its primitive's
# class, and loading accepts only a class found here (a later class of the same name, say a
# custom "mean", does not hide the built-in one from files that name the built-in).
_BY_IDENTITY: dict[str, type[Primitive]] = {}


def class_identity(cls: type) -> str:
    """``"module:qualname"``, how a features file names a primitive's class."""
    return f"{cls.__module__}:{cls.__qualname__}"


def register(cls: type[Primitive]) -> type[Primitive]:
    """Make a primitive class findable by its ``name`` (custom primitives made by the
    decorators register themselves; decorate a class-form primitive with ``@register``), and
    loadable from saved features in this process."""
    if not (isinstance(cls, type) and issubclass(cls, Primitive)):
        raise PlanError(f"register takes a primitive class, got {cls!r}. "
                        "Fix: subclass AggregationPrimitive or TransformPrimitive")
    if not isinstance(cls.name, str) or not cls.name:
        raise PlanError(f"primitive class {cls.__qualname__} has no name. "
                        'Fix: set its class attribute name = "my_primitive"')
    _REGISTRY[cls.name] = cls
    _BY_IDENTITY[class_identity(cls)] = cls
    return cls


def registered_class(name: str, identity: str) -> type[Primitive] | None:
    """The registered primitive class whose name is ``name`` and whose ``module:qualname`` is
    ``identity``, or None. Imports nothing but featurekit's own time-series primitives."""
    cls = _BY_IDENTITY.get(identity)
    if cls is None and identity.startswith("featurekit.primitives."):
        _register_timeseries_primitives()
        cls = _BY_IDENTITY.get(identity)
    return cls if cls is not None and cls.name == name else None


def registered_identity(name: str) -> str | None:
    """``"module:qualname"`` of the class registered as ``name``, or None."""
    cls = _REGISTRY.get(name)
    return None if cls is None else class_identity(cls)


for _cls in (*AGGREGATION_PRIMITIVES, *COUNT_AGGREGATIONS, *RUN_AGGREGATIONS, *DATE_AGGREGATIONS,
             *TRANSFORM_PRIMITIVES, *DATE_PRIMITIVES, *WINDOW_PRIMITIVES,  # calendar, windows
             *NUMERIC_TRANSFORM_PRIMITIVES, *COMPARE_TRANSFORM_PRIMITIVES,  # arithmetic, logic
             *TEXT_PRIMITIVES, *PLACE_PRIMITIVES, *PART_PRIMITIVES,  # text, places, e-mail, URL
             *ENCODING_PRIMITIVES):  # encode_features' one-hot columns
    register(_cls)
_REGISTRY.setdefault("var", _REGISTRY["variance"])


def _register_timeseries_primitives() -> None:
    """Register tsfresh's calculators as aggregations (``fft_coefficient``, ...) on first need:
    their numba catalogue takes a few tenths of a second to import, which ``import
    featurekit`` should not pay."""
    import featurekit.primitives.timeseries_aggregation  # noqa: F401


def timeseries_primitives(settings):
    """Aggregation primitives for a tsfresh preset or settings dict, one per parameter
    combination (see :mod:`featurekit.primitives.timeseries_aggregation`).

    Examples
    --------
    >>> [p.name for p in timeseries_primitives("minimal")][:3]
    ['sum_values', 'ts_median', 'ts_mean']
    """
    from featurekit.primitives.timeseries_aggregation import timeseries_primitives as build

    return build(settings)


def get_primitive(spec: str | Primitive | type[Primitive], kind: str | None = None) -> Primitive:
    """Return a primitive instance from a name ("mean"), a class or an instance."""
    if isinstance(spec, Primitive):
        primitive = spec
    elif isinstance(spec, type) and issubclass(spec, Primitive):
        primitive = spec()
    elif isinstance(spec, str):
        key = spec.strip().lower()
        if key not in _REGISTRY:
            _register_timeseries_primitives()
        if key not in _REGISTRY:
            close = difflib.get_close_matches(key, list(_REGISTRY), n=3)
            hint = f"did you mean {close}?" if close else f"choose from {sorted(_REGISTRY)}"
            raise PlanError(f"unknown primitive {spec!r}. Fix: {hint}")
        primitive = _REGISTRY[key]()
    else:
        raise PlanError(f"cannot use {spec!r} as a primitive. Fix: pass a name, class or instance")
    wanted = {"aggregation": AggregationPrimitive, "transform": TransformPrimitive}.get(kind or "")
    if wanted is not None and not isinstance(primitive, wanted):
        raise PlanError(f"primitive {primitive.name!r} is not a {kind} primitive. "
                        f"Fix: pass it in {'trans' if kind == 'aggregation' else 'agg'}_primitives")
    return primitive


def _describe_schema(schema) -> str:
    if schema is None:
        return "same as input"
    parts = [schema.logical_type] if schema.logical_type else []
    parts += sorted(schema.tags)
    return " ".join(parts) or "any"


def list_primitives(include_custom: bool = True) -> list[dict[str, str]]:
    """Name, kind, inputs, output and description of every registered primitive, read from
    the primitives' own metadata (this is what the docs are generated from)."""
    _register_timeseries_primitives()
    rows = []
    for name, cls in sorted(_REGISTRY.items()):
        if name != cls.name:  # an alias such as "var"
            continue
        if not include_custom and not cls.__module__.startswith("featurekit.primitives."):
            continue
        kind = "aggregation" if issubclass(cls, AggregationPrimitive) else "transform"
        doc = " ".join((cls.__doc__ or "").split())
        inputs = " | ".join(", ".join(_describe_schema(s) for s in signature)
                            for signature in cls.input_types)
        rows.append({"name": name, "kind": kind, "inputs": inputs,
                     "returns": _describe_schema(cls.return_type), "description": doc})
    return rows


def primitives_markdown() -> str:
    """The primitive reference as a markdown table (docs/primitives.md)."""
    lines = ["# Primitives", "",
             "Generated from the primitives' metadata by `featurekit primitives`; do not edit.", "",
             "| name | kind | inputs | returns | description |", "|---|---|---|---|---|"]
    for row in list_primitives(include_custom=False):
        cells = [row[key].replace("|", "\\|") for key in  # a "|" inside a cell ends it
                 ("name", "kind", "inputs", "returns", "description")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# The decorators take the short names ``aggregation`` and ``transform`` in this namespace
# (``@fk.primitives.aggregation(...)``); the catalogue modules of the same names stay
# importable as ``from featurekit.primitives.aggregation import Sum``.
from featurekit.primitives.custom import aggregation, transform  # noqa: E402

__all__ = [
    "AggregationPrimitive", "ComputeContext", "DEFAULT_AGGREGATIONS", "DEFAULT_TRANSFORMS",
    "OneHot", "OneHotUnknown",
    "Primitive", "Segments", "TransformPrimitive", "aggregation", "get_primitive", "list_primitives",
    "primitives_markdown", "register", "registered_class", "registered_identity", "timeseries_primitives", "transform",
]
