"""Checks of the arguments of featurekit's public functions: a wrong kind of value (a number
where names are expected, a frame where a flag is) gets a featurekit error naming the
argument, what it got and what it takes, before any work starts."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from featurekit.errors import FeaturekitError, PlanError

# Featuretools' keywords of ``ft.dfs`` / ``ft.calculate_feature_matrix`` that featurekit
# spells otherwise or does not need, and what to do instead. (``ignore_dataframes``,
# ``drop_contains``, ``drop_exact``, ``seed_features``, ``primitive_options``,
# ``where_primitives`` and ``max_features`` are taken as Featuretools takes them.)
FEATURETOOLS_KEYWORDS = {
    "target_dataframe_name": "target=",
    "entities": "an EntitySet (fk.EntitySet, add_table, add_relationship)",
    "relationships": "an EntitySet (fk.EntitySet, add_table, add_relationship)",
    "dataframes": "an EntitySet (fk.EntitySet, add_table, add_relationship)",
    "n_jobs": "nothing: featurekit uses every core already",
    "dask_kwargs": "nothing: featurekit uses every core already",
    "chunk_size": "nothing: featurekit computes every instance in one pass",
    "approximate": "nothing: featurekit computes exact values in one pass",
    "save_progress": "nothing: featurekit computes every instance in one pass",
    "cutoff_time_in_index": "nothing: with a cutoff frame the matrix is indexed by (index, time)",
    "progress_callback": "verbose= (a progress bar on standard error)",
    "include_entities": "primitive_options={'mean': {'include_dataframes': ['sessions']}}",
    "include_dataframes": "primitive_options={'mean': {'include_dataframes': ['sessions']}}",
    "include_columns": "primitive_options={'mean': {'include_columns': {'sessions': ['x']}}}",
    "ignore_entities": "ignore_dataframes= (or ignore_tables=)",
    "ignore_variables": "ignore_columns=",
    "allowed_paths": "ignore_dataframes= or primitive_options= (per-primitive tables)",
    "groupby_trans_primitives": "nothing yet: featurekit plans no groupby transforms",
}


def check_flag(name: str, value: Any) -> None:
    """``value`` must be True or False."""
    if not isinstance(value, bool):
        raise FeaturekitError(f"{name} must be True or False, got {value!r}. Fix: pass {name}=True "
                              f"or {name}=False")


def check_text(name: str, value: Any, optional: bool = False) -> None:
    """``value`` must be a non-empty string (or None when ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise FeaturekitError(f"{name} must be a name (a non-empty string), got {value!r}. "
                              f"Fix: pass e.g. {name}='...'")


def check_count(name: str, value: Any, low: int = 0, optional: bool = True) -> None:
    """``value`` must be a whole number of at least ``low`` (or None when ``optional``)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise FeaturekitError(f"{name} must be a whole number, {low} or more, got {value!r}. "
                              f"Fix: pass e.g. {name}={max(low, 1)}")


def check_names(name: str, value: Any, optional: bool = True) -> list[str] | None:
    """``value`` must be a list (or tuple, set) of strings; returned as a list."""
    if value is None and optional:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise FeaturekitError(f"{name} takes a list of names, got {_shown(value)}. "
                              f"Fix: pass e.g. {name}=['name']")
    names = list(value)
    wrong = [item for item in names if not isinstance(item, str)]
    if wrong:
        raise FeaturekitError(f"{name} takes names (strings), got {wrong[:3]!r}. "
                              f"Fix: pass e.g. {name}=['name']")
    return names


def check_items(name: str, value: Any, optional: bool = True) -> list | None:
    """``value`` must be a list (or tuple) of items, not a string or a single value."""
    if value is None and optional:
        return None
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise FeaturekitError(f"{name} takes a list, got {_shown(value)}. Fix: pass e.g. "
                              f"{name}=['mean', 'max']")
    return list(value)


def check_names_by_table(name: str, value: Any) -> dict[str, list[str]]:
    """``value`` must map table names to lists of column names."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FeaturekitError(f"{name} takes a dict from table name to column names, got "
                              f"{_shown(value)}. Fix: pass e.g. {name}={{'customers': ['age']}}")
    return {check_text_key(name, table): check_names(f"{name}[{table!r}]", columns, optional=False)
            for table, columns in value.items()}


def check_text_key(name: str, key: Any) -> str:
    if not isinstance(key, str):
        raise FeaturekitError(f"{name} takes table names (strings) as keys, got {key!r}. "
                              f"Fix: pass e.g. {name}={{'customers': ['age']}}")
    return key


def check_callable(name: str, value: Any, also: tuple[type, ...] = ()) -> None:
    if not (callable(value) or isinstance(value, also)):
        raise FeaturekitError(f"{name} must be a function{' or a polars expression' if also else ''}, "
                              f"got {_shown(value)}. Fix: pass e.g. {name}=lambda rows: len(rows)")


def unknown_keywords(function: str, given: Iterable[str], known: Iterable[str]) -> None:
    """Refuse keywords ``function`` does not take, naming featurekit's equivalent of a
    Featuretools keyword, or the closest of ``known``."""
    known = list(dict.fromkeys(known))
    for keyword in given:
        if keyword in FEATURETOOLS_KEYWORDS:
            raise PlanError(f"{function}() has no argument {keyword!r} (Featuretools' name). "
                            f"Fix: use {FEATURETOOLS_KEYWORDS[keyword]}")
        close = difflib.get_close_matches(keyword, known, n=3)
        hint = f"did you mean {close}?" if close else f"use one of {sorted(known)}"
        raise PlanError(f"{function}() has no argument {keyword!r}. Fix: {hint}")


def _shown(value: Any) -> str:
    """A value for an error message: its repr when short, else its type."""
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"
