"""``import featurekit`` is cheap and complete: every public submodule and name is an
attribute, loaded on first use, and kernels still cache outside the installed package."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import featurekit

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "polars", "pandas", "numba", "pyarrow", "sklearn", "scipy")


def run_python(code: str, **environment: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           **environment}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout


def public_submodules() -> list[str]:
    """Every public module and subpackage of featurekit, found on disk (``dfs`` is the
    planner's module; the attribute ``fk.dfs`` is the function, checked separately)."""
    names = {module.name for module in pkgutil.iter_modules(featurekit.__path__)}
    names.add("primitives")  # the top-level primitives/ directory, mapped by the build
    return sorted(name for name in names if not name.startswith("_") and name != "dfs")


def test_every_public_submodule_is_an_attribute_in_a_fresh_interpreter():
    names = public_submodules()
    assert {"selection", "timeseries", "sklearn", "primitives", "demo", "labels", "splits"} <= set(names)
    code = f"""
import importlib, json, sys
import featurekit as fk
listed = dir(fk)
result = {{}}
for name in {names!r}:
    # the module's own __getattr__, so a submodule imported as a side effect of an earlier
    # name cannot hide a missing entry
    found = fk.__getattr__(name)
    result[name] = [found is importlib.import_module("featurekit." + name), name in listed]
print(json.dumps(result))
"""
    result = json.loads(run_python(code))
    assert result == {name: [True, True] for name in names}


def test_selection_is_reachable_right_after_import():
    """The case reported by a new user: ``fk.selection`` right after ``import featurekit``."""
    code = "import featurekit as fk; print(fk.selection.select_relevant.__module__)"
    assert run_python(code).strip() == "featurekit.selection.relevance"


def test_import_featurekit_loads_no_numeric_library():
    code = f"import sys, featurekit; print([m for m in {HEAVY!r} if m in sys.modules])"
    assert run_python(code).strip() == "[]"


def test_public_names_keep_working_whatever_is_imported_first():
    """``fk.dfs`` is the function even after the planner module ``featurekit.dfs`` was
    imported (the import system sets the package attribute ``dfs`` to that module)."""
    code = """
from featurekit.dfs import plan
import featurekit as fk
from featurekit import EntitySet, compute, dfs, load_features, Rolling, __version__
import featurekit.engine
print(fk.dfs is featurekit.engine.dfs is dfs, fk.plan is plan, callable(fk.dfs),
      fk.EntitySet is EntitySet, fk.Rolling is Rolling, fk.__version__ == __version__)
es = fk.demo.load_retail(n_customers=3)
matrix, features = fk.dfs(es, target="customers", max_depth=1)
print(matrix.shape[0])
"""
    assert run_python(code).split() == ["True"] * 6 + ["3"]


def test_star_import_and_dir_list_the_public_names():
    names = featurekit.__all__
    code = "from featurekit import *; print(sorted(k for k in dir() if not k.startswith('__')))"
    imported = set(json.loads(run_python(code).replace("'", '"')))
    assert set(names) - {"__version__"} <= imported
    assert set(names) <= set(dir(featurekit))


def test_unknown_attribute_is_an_attribute_error():
    try:
        featurekit.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("fk.no_such_thing did not raise")


def test_every_kernel_module_caches_in_the_user_directory_when_imported_alone(tmp_path):
    """Whichever featurekit module is imported first, numba's cache directory is set before
    its kernels are defined (the package itself no longer imports numba)."""
    script = """
import importlib, sys
module = importlib.import_module(sys.argv[1])
for value in vars(module).values():
    for kernel in (value, getattr(value, "serial", None), getattr(value, "parallel", None)):
        cache = getattr(getattr(kernel, "_cache", None), "_cache_path", None)
        if cache is not None and getattr(kernel, "__module__", None) == module.__name__:
            print(cache)
"""
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(tmp_path))
    # featurekit.timeseries.kernels holds templates: its compiled kernels are generated
    # modules inside the cache directory (tests/timeseries/test_first_use.py)
    for name in ("featurekit.primitives.kernels", "featurekit.primitives.timeseries"):
        paths = subprocess.run([sys.executable, "-c", script, name], env=env, capture_output=True,
                               text=True, check=True, cwd=tmp_path).stdout.split()
        assert paths, f"{name} defines no cached kernel any more: update this list"
        assert all(path.startswith(str(tmp_path / "featurekit" / "numba")) for path in paths), name


def test_version_has_one_source(tmp_path):
    from featurekit import feature_files
    from featurekit._version import __version__

    assert featurekit.__version__ == __version__ == feature_files.__version__
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "featurekit._version.__version__" in pyproject
