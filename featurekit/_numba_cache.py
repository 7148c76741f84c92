"""Where numba keeps featurekit's compiled kernels: a user cache directory, not the install.

numba's default writes ``.nbi``/``.nbc`` files next to the source, i.e. into site-packages.
pip does not know those files, so uninstalling or upgrading leaves a ``featurekit/`` directory
behind that shadows the next install as a namespace package (and a read-only install cannot
cache at all). Imported by each module that defines kernels (``featurekit.primitives``,
before its submodules, and ``featurekit.entityset``), before the first kernel is defined, this
points numba at ``$XDG_CACHE_HOME/featurekit/numba`` (``~/.cache/...`` by default),
unless the user has chosen a directory with ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

import os

import numba


def user_cache_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "featurekit", "numba")


if not os.environ.get("NUMBA_CACHE_DIR") and not numba.config.CACHE_DIR:
    numba.config.CACHE_DIR = user_cache_directory()
