"""Where numba keeps featurekit's compiled kernels, and what makes a cached kernel valid.

numba's default writes ``.nbi``/``.nbc`` files next to the source, i.e. into site-packages,
where pip does not know them (an uninstall leaves a ``featurekit/`` directory behind that
shadows the next install) and where a read-only install cannot cache at all. Its cache
directory (``NUMBA_CACHE_DIR``) is keyed by the source file's absolute path, so
``pip install .`` and ``pip install -e .`` compile everything twice; and it knows only the
file defining each kernel, not the calculators of other files compiled into it.

Imported by each module that defines kernels, before the first kernel is defined, this:

- points numba at ``$XDG_CACHE_HOME/featurekit/numba`` (``~/.cache/...`` by default) unless
  the user has chosen a directory with ``NUMBA_CACHE_DIR``;
- registers a cache locator for featurekit's own kernels that files them by module name, not
  by install path, and stamps them with a hash of the *content* of every featurekit source
  file that defines kernels (an edited calculator invalidates the kernels that inline it);
- warns once (:class:`~featurekit.errors.CacheWarning`) when that directory cannot be
  written, naming it and ``NUMBA_CACHE_DIR``, and then caches in a temporary directory for
  the life of the process.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.util
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numba
from numba.core import caching

from featurekit.errors import CacheWarning

#: Module-name prefix of the time-series drivers generated at run time (see
#: ``featurekit.timeseries.kernels``): they are featurekit kernels too.
GENERATED_PREFIX = "featurekit_generated_"
_PACKAGE = Path(__file__).resolve().parent


def user_cache_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "featurekit", "numba")


if not os.environ.get("NUMBA_CACHE_DIR") and not numba.config.CACHE_DIR:
    numba.config.CACHE_DIR = user_cache_directory()


def cache_root() -> str:
    """The directory featurekit's kernels are cached in (numba's ``CACHE_DIR``)."""
    return os.path.abspath(numba.config.CACHE_DIR or user_cache_directory())


def _kernel_sources() -> list[Path]:
    """Every featurekit source file that defines numba kernels: in the package itself and in
    ``featurekit.primitives`` (a top-level directory in a source checkout)."""
    directories = [_PACKAGE]
    spec = importlib.util.find_spec("featurekit.primitives")
    if spec is not None and spec.submodule_search_locations:
        directories += [Path(p).resolve() for p in spec.submodule_search_locations]
    files = {path.resolve() for directory in directories for path in directory.rglob("*.py")}
    return [path for path in files if b"njit" in path.read_bytes()]


@functools.lru_cache(maxsize=1)
def kernels_digest() -> str:
    """SHA-256 over the contents of every kernel source file, not their paths or layout: two
    installs of the same code share their cache, and an edit to any of them invalidates it."""
    contents = sorted(hashlib.sha256(path.read_bytes()).digest() for path in _kernel_sources())
    return hashlib.sha256(numba.__version__.encode() + b"".join(contents)).hexdigest()


@functools.cache
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_fallback: list[str] = []


def _writable(directory: str) -> bool:
    try:
        os.makedirs(directory, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
        return True
    except OSError:
        return False


def _fallback_root(unwritable: str) -> str:
    """A per-process temporary cache, after one warning about the unwritable directory."""
    if not _fallback:
        _fallback.append(tempfile.mkdtemp(prefix="featurekit-numba-"))
        atexit.register(shutil.rmtree, _fallback[0], True)
        warnings.warn(
            f"featurekit cannot write its compiled kernels to {unwritable!r}, so every new "
            "process compiles them again (minutes). Set the environment variable "
            "NUMBA_CACHE_DIR to a writable directory to keep them.",
            CacheWarning,
            stacklevel=2,
        )
    return _fallback[0]


def writable_root() -> str:
    """``cache_root()``, or after one warning a temporary directory when it is unwritable."""
    root = cache_root()
    if _fallback or not _writable(root):
        return _fallback_root(root)
    return root


class ContentCacheLocator(caching._CacheLocator):
    """numba cache locator for featurekit's kernels: ``<cache root>/<module name>``, stamped
    by the content of the defining file and of every kernel source file."""

    def __init__(self, py_func, py_file: str, directory: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = directory

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self) -> str:
        return f"{_file_digest(self._py_file)}:{kernels_digest()}"

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file: str):
        module = getattr(py_func, "__module__", None) or ""
        ours = module.startswith(("featurekit.", GENERATED_PREFIX))
        if not ours or not os.path.isfile(py_file):
            return None
        directory = os.path.join(writable_root(), module)
        os.makedirs(directory, exist_ok=True)
        return cls(py_func, py_file, directory)


def _register() -> None:
    implementation = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    if ContentCacheLocator not in implementation._locator_classes:
        implementation._locator_classes.insert(0, ContentCacheLocator)


_register()
