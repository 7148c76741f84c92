"""Turn extraction settings (a preset name or tsfresh's dict form) into a kernel plan.

A plan lists, for every output column, its name suffix (the tsfresh column name without the
kind), the calculator's kernel code and its encoded parameters.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from featurekit.errors import PlanError
from featurekit.primitives import timeseries as catalogue
from featurekit.timeseries.kernels import PARAMETER_SLOTS

PRESETS = ("minimal", "efficient", "comprehensive")

Settings = str | Mapping[str, Sequence[Mapping[str, Any]] | None]


@dataclass(frozen=True)
class Plan:
    """The columns to compute for one kind: names, kernel codes and parameters."""

    suffixes: tuple[str, ...]
    codes: np.ndarray
    parameters: np.ndarray


def _closest(word: str, candidates: Sequence[str]) -> str:
    matches = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=0.0)
    return matches[0] if matches else ""


def resolve(settings: Settings) -> dict[str, Sequence[Mapping[str, Any]] | None]:
    """Settings as a ``{calculator: parameter list or None}`` dict, presets expanded."""
    if isinstance(settings, str):
        if settings not in PRESETS:
            raise PlanError(
                f"unknown settings preset {settings!r}. Fix: use one of {list(PRESETS)} "
                f"(did you mean {_closest(settings, PRESETS)!r}?)"
            )
        return dict(catalogue.preset(settings))
    if not isinstance(settings, Mapping):
        raise PlanError(
            f"settings must be a preset name or a dict, got {type(settings).__name__}. "
            "Fix: pass 'efficient' or {'mean': None, 'quantile': [{'q': 0.1}]}."
        )
    return dict(settings)


def build_plan(settings: Settings, has_time: bool = False) -> Plan:
    """Validate settings against the catalogue and build the kernel plan.

    Calculators that need timestamps are left out when ``has_time`` is false, as tsfresh
    leaves them out for series without a datetime index.
    """
    suffixes: list[str] = []
    codes: list[int] = []
    rows: list[tuple[float, ...]] = []
    seen: set[str] = set()
    for name, parameter_list in resolve(settings).items():
        calculator = catalogue.CALCULATORS_BY_NAME.get(name)
        if calculator is None:
            if name in catalogue.EXCLUDED:
                raise PlanError(
                    f"calculator {name!r} is not offered: {catalogue.EXCLUDED[name]}. "
                    "Fix: remove it from the settings."
                )
            if name in catalogue.NOT_YET_IMPLEMENTED:
                raise PlanError(
                    f"calculator {name!r} is not implemented in featurekit yet. "
                    "Fix: remove it from the settings."
                )
            known = list(catalogue.CALCULATORS_BY_NAME) + list(catalogue.NOT_YET_IMPLEMENTED)
            raise PlanError(
                f"unknown calculator {name!r}; did you mean {_closest(name, known)!r}? "
                "Fix: use a tsfresh calculator name."
            )
        combos: Sequence[Mapping[str, Any] | None]
        if parameter_list is not None and (
            isinstance(parameter_list, str | Mapping) or not isinstance(parameter_list, Sequence)
        ):
            raise PlanError(
                f"calculator {name!r}: the parameters must be a list of dicts or None, got "
                f"{type(parameter_list).__name__}. Fix: pass e.g. "
                f"{{{name!r}: {[calculator.example()] if calculator.parameters else None}}}"
            )
        if parameter_list is None:
            if calculator.parameters and not all(p.optional for p in calculator.parameters):
                raise PlanError(
                    f"calculator {name!r} needs parameters "
                    f"{[p.name for p in calculator.parameters]}. Fix: pass a list of dicts, "
                    f"e.g. {[dict(calculator.grid[0])] if calculator.grid else []}."
                )
            combos = [None]
        else:
            combos = list(parameter_list)
        for combo in combos:
            if combo is not None and not isinstance(combo, Mapping):
                raise PlanError(
                    f"calculator {name!r}: each parameter combination must be a dict, got "
                    f"{combo!r}. Fix: pass e.g. {[calculator.example()]}"
                )
            try:
                encoded = calculator.encode(combo)
            except KeyError as unknown:
                wrong = unknown.args[0]
                names = [p.name for p in calculator.parameters]
                hint = f"did you mean {_closest(wrong, names)!r}? " if names else ""
                raise PlanError(
                    f"calculator {name!r} has no parameter {wrong!r}; {hint}"
                    f"Fix: use parameters {names}."
                ) from None
            except ValueError as problem:
                raise PlanError(f"calculator {name!r}: {problem}") from None
            if calculator.needs_time and not has_time:
                continue  # validated all the same: the same settings may meet timed input
            suffix = calculator.column_suffix(combo)
            if suffix in seen:
                continue
            seen.add(suffix)
            suffixes.append(suffix)
            codes.append(calculator.code)
            rows.append(encoded + (0.0,) * (PARAMETER_SLOTS - len(encoded)))
    parameters = np.array(rows, dtype=np.float64).reshape(len(rows), PARAMETER_SLOTS)
    return Plan(tuple(suffixes), np.array(codes, dtype=np.int64), parameters)
