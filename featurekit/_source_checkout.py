"""Makes a source checkout importable without installing it: the build maps the top-level
``primitives/`` directory to ``featurekit.primitives`` (setuptools ``package-dir``); in a checkout
that is not the installed copy (a git worktree, a fresh clone) this module does the same mapping,
so the checkout imports its own primitives. Installed wheels carry ``featurekit/primitives`` and
skip it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SOURCE = _PACKAGE.parent / "primitives" / "__init__.py"

if ("featurekit.primitives" not in sys.modules and not (_PACKAGE / "primitives").is_dir()
        and _SOURCE.is_file()):
    _spec = importlib.util.spec_from_file_location(
        "featurekit.primitives", _SOURCE, submodule_search_locations=[str(_SOURCE.parent)])
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["featurekit.primitives"] = _module
    _spec.loader.exec_module(_module)
