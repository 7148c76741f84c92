"""``encode_features``: one-hot encode the categorical columns of a feature matrix the way
Featuretools 1.31 does (names ``device = mobile`` and ``device is unknown``, the same values
and column order), returning features that compute the same encoding on new data."""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from featurekit.arguments import check_flag, check_items, check_names
from featurekit.errors import FeaturekitError
from featurekit.feature import Feature, TransformFeature
from featurekit.frames import frame_kind
from featurekit.primitives.encoding import OneHot, OneHotUnknown

DEFAULT_TOP_N = 10
DISCRETE_TAGS = frozenset({"category", "foreign_key"})  # what Featuretools encodes


def encode_features(
    matrix: Any,
    features: Sequence[Feature],
    top_n: int | Mapping[str, int] = DEFAULT_TOP_N,
    include_unknown: bool = True,
    to_encode: Sequence[str] | None = None,
    inplace: bool = False,
    drop_first: bool = False,
    verbose: bool = False,
) -> tuple[Any, list[Feature]]:
    """One-hot encode the categorical features of ``matrix``; returns ``(matrix, features)``.

    A feature whose type is categorical (or a foreign key) becomes one boolean column per
    value among its ``top_n`` most frequent ones (ties: the larger value first), named
    ``device = mobile``, and with ``include_unknown`` one more, ``device is unknown``, true
    for any other value and for a missing one. ``top_n`` may be a dict from feature name to
    count (10 for names it lacks); ``drop_first`` keeps one value fewer (at least one);
    ``to_encode`` names the features to encode (default: every categorical one). Columns
    come in Featuretools' order: the features left as they are, the matrix's other columns
    (labels), then the encoded ones; the features come in their original order, each
    encoded one replaced by its encodings. Pass the features to ``fk.compute`` to encode new
    data the same way; features of several outputs are kept as they are. The matrix is a
    pandas, polars or pyarrow frame and is never modified unless ``inplace=True`` (pandas
    only). ``verbose`` is accepted for Featuretools' sake; encoding takes no time to report.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=20)
    >>> matrix, features = fk.dfs(es, target="sessions", agg_primitives=["count"],
    ...                           trans_primitives=[], max_depth=1)
    >>> encoded, encoded_features = fk.encode_features(matrix, features, top_n=2)
    >>> [f.name for f in encoded_features if f.name.startswith("device")]
    ['device = tablet', 'device = desktop', 'device is unknown']
    >>> fk.compute(es, encoded_features)[encoded.columns].equals(encoded)
    True
    """
    features = _check_features(features)
    check_flag("include_unknown", include_unknown)
    check_flag("inplace", inplace)
    check_flag("drop_first", drop_first)
    check_flag("verbose", verbose)
    to_encode = check_names("to_encode", to_encode)
    _check_top_n(top_n)
    kind = _kind_of(matrix)
    if inplace and kind != "pandas":
        raise FeaturekitError(f"inplace=True needs a pandas matrix; a {kind} frame cannot change "
                              "in place. Fix: pass inplace=False and use the matrix returned")
    columns = list(matrix.columns)
    named = [name for feature in features for name in feature.output_names]
    missing = [name for name in named if name not in columns]
    if missing:
        raise FeaturekitError(f"the matrix has no column {missing[0]!r} for feature {missing[0]!r} "
                              f"({len(missing)} feature column(s) absent). Fix: pass the matrix "
                              "and the features that fk.dfs or fk.compute returned together")
    if to_encode is not None:  # ignored, as Featuretools ignores them, but said
        unknown = [name for name in to_encode if name not in {f.name for f in features}]
        if unknown:
            warnings.warn(f"to_encode names {unknown!r}, which are not among the features given; "
                          "they are left out, as Featuretools does", UserWarning, stacklevel=2)
    frame = matrix if kind == "pandas" else _as_polars(matrix, kind)

    new_features: list[Feature] = []
    kept: list[str] = []
    encoded: list[tuple[str, Any]] = []  # (column name, values)
    dropped: list[str] = []
    for feature in features:
        if not _is_discrete(feature) or (to_encode is not None and feature.name not in to_encode):
            new_features.append(feature)
            kept.extend(feature.output_names)
            continue
        values = _top_values(frame[feature.name], _count_for(top_n, feature.name), drop_first)
        for value in values:
            one = TransformFeature((feature,), OneHot(value=value))
            new_features.append(one)
            encoded.append((one.name, _equals(frame[feature.name], one.primitive.value)))
        if include_unknown:
            unknown = TransformFeature((feature,), OneHotUnknown(values=values))
            new_features.append(unknown)
            encoded.append((unknown.name, _unknown(frame[feature.name], unknown.primitive.values)))
        dropped.append(feature.name)
    listed = set(named)
    leading = _leading_other_columns(columns, listed)
    others = [column for column in columns if column not in listed and column not in leading]
    order = [*leading, *kept, *others]
    clash = sorted(set(order) & {name for name, _ in encoded})
    if clash:
        raise FeaturekitError(f"the encoded column {clash[0]!r} has the name of a column of the "
                              "matrix. Fix: rename that column before encoding")
    return _assemble(matrix, frame, kind, order, encoded, dropped, inplace), new_features


def _check_features(features: Any) -> list[Feature]:
    features = check_items("features", features, optional=False)
    strangers = [f for f in features if not isinstance(f, Feature)]
    if strangers:
        raise FeaturekitError(f"features holds {len(strangers)} item(s) that are not features "
                              f"(e.g. {strangers[0]!r}). Fix: pass the features fk.dfs returned")
    if not features:
        raise FeaturekitError("features is empty. Fix: pass the features fk.dfs returned")
    return features


def _check_top_n(top_n: Any) -> None:
    counts = top_n.values() if isinstance(top_n, Mapping) else [top_n]
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
            raise FeaturekitError(f"top_n must be a whole number, 1 or more (or a dict from "
                                  f"feature name to such numbers), got {top_n!r}. Fix: pass e.g. "
                                  "top_n=10 or top_n={'device': 3}")
    if isinstance(top_n, Mapping) and not all(isinstance(key, str) for key in top_n):
        raise FeaturekitError(f"top_n's keys must be feature names, got {list(top_n)!r}. "
                              "Fix: pass e.g. top_n={'device': 3}")


def _kind_of(matrix: Any) -> str:
    try:
        if isinstance(matrix, (str, os.PathLike)):  # frame_kind reads paths; a matrix is in memory
            raise TypeError(matrix)
        return frame_kind(matrix)
    except FeaturekitError:
        raise
    except Exception:  # noqa: BLE001  (anything not a frame)
        raise FeaturekitError(f"matrix must be a pandas, polars or pyarrow frame, got "
                              f"{type(matrix).__name__}. Fix: pass the matrix fk.dfs returned") from None


def _as_polars(matrix: Any, kind: str) -> pl.DataFrame:
    if kind == "polars":
        return matrix
    if kind == "pyarrow":
        return pl.from_arrow(matrix)
    raise FeaturekitError(f"matrix must be a pandas, polars or pyarrow frame, got {kind}. "
                          "Fix: pass the matrix fk.dfs returned")


def _is_discrete(feature: Feature) -> bool:
    return feature.number_output_features == 1 and bool(DISCRETE_TAGS & feature.schema.tags)


def _count_for(top_n: int | Mapping[str, int], name: str) -> int:
    return top_n.get(name, DEFAULT_TOP_N) if isinstance(top_n, Mapping) else top_n


def _top_values(column: Any, count: int, drop_first: bool) -> tuple[Any, ...]:
    """The ``count`` most frequent present values, by count then by value, both descending
    (Featuretools' order); with ``drop_first`` one fewer, but at least one."""
    values, counts = _value_counts(column)
    if len(values) == 0:
        return ()
    if drop_first:
        count = max(min(len(values), count) - 1, 1)
    order = np.lexsort((_sort_keys(values), counts))[::-1]  # counts first, then values
    return tuple(_python(values[i]) for i in order[:count])


def _value_counts(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """The distinct present values of a column and how often each occurs."""
    if isinstance(column, pd.Series):
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)  # categories' own values, missing as NaN
        counts = column.value_counts(dropna=True, sort=False)
        return counts.index.to_numpy(), counts.to_numpy()
    if column.dtype == pl.Categorical or isinstance(column.dtype, pl.Enum):
        column = column.cast(pl.String)
    counts = column.drop_nulls().value_counts(name="__count")
    return counts[column.name].to_numpy(), counts["__count"].to_numpy()


def _sort_keys(values: np.ndarray) -> np.ndarray:
    """Values as something lexsort orders naturally (numbers by value, text by text)."""
    if values.dtype == object:
        try:
            return values.astype(float)
        except (TypeError, ValueError):
            return values.astype(str)
    return values


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _equals(column: Any, value: Any) -> Any:
    if isinstance(column, pd.Series):
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)  # categories' own values, missing as NaN
        return column.eq(value).fillna(False).astype(bool).to_numpy()
    if column.dtype == pl.Categorical or isinstance(column.dtype, pl.Enum):
        column = column.cast(pl.String)
    return (column == value).fill_null(False)


def _unknown(column: Any, values: tuple[Any, ...]) -> Any:
    if isinstance(column, pd.Series):
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)  # categories' own values, missing as NaN
        return (~column.isin(list(values))).to_numpy()
    if column.dtype == pl.Categorical or isinstance(column.dtype, pl.Enum):
        column = column.cast(pl.String)
    return ~column.is_in(list(values)).fill_null(False)


def _leading_other_columns(columns: list[str], listed: set[str]) -> list[str]:
    """Columns before the first feature column that are no feature: a polars or pyarrow
    matrix's index (and cutoff time) columns, which stay in front."""
    leading = []
    for column in columns:
        if column in listed:
            break
        leading.append(column)
    return leading


def _assemble(matrix: Any, frame: Any, kind: str, order: list[str],
              encoded: list[tuple[str, Any]], dropped: list[str], inplace: bool) -> Any:
    if kind == "pandas":
        added = pd.DataFrame({name: values for name, values in encoded}, index=frame.index)
        if inplace:
            for name in dropped:
                del matrix[name]
            with warnings.catch_warnings():  # pandas adds the columns one by one, as asked
                warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
                matrix[list(added.columns)] = added
            return matrix
        return pd.concat([frame[order], added], axis=1)
    result = frame.select(order).with_columns(
        [pl.Series(name, values) for name, values in encoded])
    return result.to_arrow() if kind == "pyarrow" else result


__all__ = ["encode_features"]
