"""Makes a source checkout importable without installing it: the build maps the top-level
``primitives/`` directory to ``featurekit.primitives`` (setuptools ``package-dir``); in a checkout
that is not the installed copy (a git worktree, a fresh clone) this module does the same mapping,
so the checkout imports its own primitives. Installed wheels carry ``featurekit/primitives`` and
skip it.

The mapping is a finder placed first on ``sys.meta_path`` (ahead of an editable install's finder,
which would point at another checkout): nothing is imported until ``featurekit.primitives`` is
asked for, so ``import featurekit`` stays cheap."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SOURCE = _PACKAGE.parent / "primitives" / "__init__.py"
_NAME = "featurekit.primitives"


class _CheckoutPrimitives(importlib.abc.MetaPathFinder):
    """Finds ``featurekit.primitives`` in this checkout's top-level ``primitives/``."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102 - the finder protocol
        if fullname != _NAME:
            return None
        return importlib.util.spec_from_file_location(
            _NAME, _SOURCE, submodule_search_locations=[str(_SOURCE.parent)])


if (_NAME not in sys.modules and not (_PACKAGE / "primitives").is_dir() and _SOURCE.is_file()
        and not any(type(finder).__name__ == "_CheckoutPrimitives" for finder in sys.meta_path)):
    sys.meta_path.insert(0, _CheckoutPrimitives())
