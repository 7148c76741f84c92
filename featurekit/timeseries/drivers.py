"""Generate, compile and cache the window kernel for the calculator families a plan uses.

``kernels.py`` holds the kernel as plain Python templates. For a set of families, this
module keeps of them only the ``if code ...`` branches that some member code can take (and
folds the ``WITH_SPECTRA`` switch), writes the result as a module into numba's cache
directory under a name derived from its text, and imports it with ``@njit(cache=True)``:
compiling ``settings="minimal"`` then costs seconds, not the minutes of every calculator.

The first call of a kernel that is not cached yet prints one line on stderr saying so.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from featurekit import _numba_cache

#: The template functions, in the order they are defined, with their numba options.
TEMPLATES = {
    "_evaluate": 'njit(cache=True, error_model="numpy")',
    "_all_approximate_entropies": 'njit(cache=True, error_model="numpy")',
    "extract_windows": 'njit(nogil=True, cache=True, error_model="numpy")',
}
SWITCHES = ("WITH_SPECTRA",)

_HEADER = '''"""featurekit's time-series window kernel for the families {families}.

Generated from featurekit/timeseries/kernels.py by featurekit.timeseries.drivers; every
edit is lost. Its name is a hash of this text.
"""

from numba import njit

from featurekit.timeseries import kernels as _template

globals().update({{k: v for k, v in vars(_template).items() if not k.startswith("__")}})
'''

_drivers: dict[tuple[str, ...], Callable[..., None]] = {}
_announced: set[tuple[str, ...]] = set()


def _keeps(test: ast.expr, codes: Sequence[int], names: dict[str, Any]) -> bool | None:
    """Whether some code of ``codes`` can take a branch tested by ``test``; None when the
    test does not depend on ``code`` alone (such branches are kept)."""
    used = {node.id for node in ast.walk(test) if isinstance(node, ast.Name)}
    if "code" not in used or any(n != "code" and n not in names for n in used):
        return None
    expression = compile(ast.Expression(test), "<test>", "eval")
    return any(eval(expression, dict(names), {"code": code}) for code in codes)  # noqa: S307


class _Pruner(ast.NodeTransformer):
    """Drops branches no code of the kernel takes; replaces the switches by constants."""

    def __init__(self, codes: Sequence[int], names: dict[str, Any], switches: dict[str, bool]):
        self.codes = codes
        self.names = names
        self.switches = switches

    def visit_If(self, node: ast.If) -> Any:  # noqa: N802 - the ast visitor protocol
        self.generic_visit(node)
        if _keeps(node.test, self.codes, self.names) is False:
            return node.orelse or None
        return node

    def visit_Name(self, node: ast.Name) -> Any:  # noqa: N802
        if node.id in self.switches and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Constant(self.switches[node.id]), node)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> Any:  # noqa: N802
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And):
            constants = [v for v in node.test.values if isinstance(v, ast.Constant)]
            if any(not c.value for c in constants):
                return node.orelse
        return node


def source(families: Sequence[str]) -> str:
    """The text of the kernel module for ``families`` (names of ``kernels.FAMILIES``)."""
    from featurekit.timeseries import kernels

    codes = sorted({code for family in families for code in kernels.FAMILIES[family]})
    names = {k: v for k, v in vars(kernels).items() if k.isupper() and isinstance(v, int)}
    switches = {"WITH_SPECTRA": "spectral" in families}
    parts = [_HEADER.format(families=", ".join(families))]
    for name, decorator in TEMPLATES.items():
        if name == "_all_approximate_entropies" and "entropy" not in families:
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(kernels, name))))
        function = tree.body[0]
        function.decorator_list = [ast.parse(decorator, mode="eval").body]
        _Pruner(codes, names, switches).visit(function)
        for node in ast.walk(function):  # a block whose every branch went keeps a ``pass``
            for field in ("body", "orelse"):
                if field == "body" and getattr(node, field, None) == []:
                    node.body = [ast.Pass()]
        ast.fix_missing_locations(tree)
        parts.append(ast.unparse(tree))
    return "\n\n\n".join(parts) + "\n"


def _module(text: str) -> ModuleType:
    """Write ``text`` under a name derived from it in the cache directory and import it."""
    name = f"{_numba_cache.GENERATED_PREFIX}timeseries_{hashlib.sha256(text.encode()).hexdigest()[:20]}"
    if name in sys.modules:
        return sys.modules[name]
    directory = Path(_numba_cache.writable_root()) / "featurekit_generated"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)  # a concurrent process sees the whole file or none
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _cached(dispatcher: Any) -> bool:
    """Whether numba's on-disk cache holds a current compilation of ``dispatcher``."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - numba internals: when in doubt, announce
        return False


def _announce(families: tuple[str, ...]) -> None:
    from featurekit.timeseries import kernels

    seconds = kernels.DRIVER_SECONDS + sum(kernels.COMPILE_SECONDS[f] for f in families)
    print(f"featurekit: compiling time-series kernels, once, about {seconds} s "
          f"({', '.join(families)})", file=sys.stderr, flush=True)


def driver(families: Sequence[str]) -> Callable[..., None]:
    """The compiled ``extract_windows`` for ``families``; announces a compilation on stderr
    the first time a kernel that is not in the cache yet is asked for."""
    key = tuple(families)
    kernel = _drivers.get(key)
    if kernel is None:
        kernel = _module(source(key)).extract_windows
        _drivers[key] = kernel
        if not _cached(kernel) and key not in _announced:
            _announced.add(key)
            _announce(key)
    return kernel
