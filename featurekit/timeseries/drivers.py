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
import threading
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

_HEADER = '''"""featurekit's time-series window kernel: {what}.

Generated from featurekit/timeseries/kernels.py by featurekit.timeseries.drivers; every
edit is lost. Its name is a hash of this text.
"""

from numba import njit

from featurekit.timeseries import kernels as _template

globals().update({{k: v for k, v in vars(_template).items() if not k.startswith("__")}})
'''

_drivers: dict[tuple[str, ...], Callable[..., None]] = {}
# One thread at a time generates and imports kernel modules: calls made from polars' worker
# threads would otherwise race on sys.modules, and CPython 3.11's ast module is not safe to
# use from several threads at once ("AST constructor recursion depth mismatch").
_generating = threading.Lock()


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


def _function(name: str, codes: Sequence[int], switches: dict[str, bool]) -> str:
    """The template ``name`` of ``kernels.py`` with only the branches ``codes`` can take."""
    from featurekit.timeseries import kernels

    names = {k: v for k, v in vars(kernels).items() if k.isupper() and isinstance(v, int)}
    tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(kernels, name))))
    function = tree.body[0]
    function.decorator_list = [ast.parse(TEMPLATES[name], mode="eval").body]
    _Pruner(codes, names, switches).visit(function)
    for node in ast.walk(function):  # a block whose every branch went keeps a ``pass``
        if getattr(node, "body", None) == []:
            node.body = [ast.Pass()]
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def family_source(family: str) -> str:
    """The module of one family's calculators: ``_evaluate`` with their branches only (and,
    for the entropies, ``_all_approximate_entropies``). Shared by every kernel that uses
    the family, so it compiles once whatever the other families of a call."""
    from featurekit.timeseries import kernels

    codes = kernels.FAMILIES[family]
    parts = [_HEADER.format(what=f"the calculators of the family {family!r}")]
    parts.append(_function("_evaluate", codes, {"WITH_SPECTRA": True}))
    if family == "entropy":
        parts.append(_function("_all_approximate_entropies", codes, {}))
    return "\n\n\n".join(parts) + "\n"


def source(families: Sequence[str], modules: dict[str, str]) -> str:
    """The kernel module for ``families``: ``extract_windows`` with the shared work and the
    fits those families need, and an ``_evaluate`` that hands each code to its family's
    module (``modules``: family -> module name)."""
    from featurekit.timeseries import kernels

    codes = sorted({code for family in families for code in kernels.FAMILIES[family]})
    parts = [_HEADER.format(what="the families " + ", ".join(families))]
    imports = [f"from {modules[f]} import _evaluate as _evaluate_{f}" for f in families]
    if "entropy" in families:
        imports.append(f"from {modules['entropy']} import _all_approximate_entropies")
    arguments = "code, p, x, srt, mean, variance, std, low, high, real, imag, available, " \
        "density, hours"
    dispatch = [f"@{TEMPLATES['_evaluate']}", f"def _evaluate({arguments}):",
                "    family = FAMILY_INDEX[code] if 0 <= code < FAMILY_INDEX.shape[0] else -1"]
    for family in families:
        dispatch += [f"    if family == {list(kernels.FAMILIES).index(family)}:",
                     f"        return _evaluate_{family}({arguments})"]
    dispatch.append("    return NAN")
    parts += ["\n".join(imports), "\n".join(dispatch)]
    switches = {"WITH_SPECTRA": "spectral" in families}
    parts.append(_function("extract_windows", codes, switches))
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


def _announce(families: Sequence[str]) -> None:
    from featurekit.timeseries import kernels

    seconds = kernels.DRIVER_SECONDS + sum(kernels.COMPILE_SECONDS[f] for f in families)
    print(f"featurekit: compiling time-series kernels, once, about {seconds} s "
          f"({', '.join(families) or 'the driver'})", file=sys.stderr, flush=True)


def driver(families: Sequence[str]) -> Callable[..., None]:
    """The compiled ``extract_windows`` for ``families``; the first time a kernel missing
    from the cache is asked for, one line on stderr says that it compiles and about how
    long that takes (from the families not compiled yet)."""
    key = tuple(families)
    kernel = _drivers.get(key)
    if kernel is not None:
        return kernel
    with _generating:
        kernel = _drivers.get(key)
        if kernel is None:
            members = {family: _module(family_source(family)) for family in key}
            kernel = _module(source(key, {f: m.__name__ for f, m in members.items()})).extract_windows
            _drivers[key] = kernel
            if not _cached(kernel):
                _announce([f for f, m in members.items() if not _cached(m._evaluate)])
    return kernel
