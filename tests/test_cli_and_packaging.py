"""The console command runs the main job, and the built wheel ships the primitives package."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import polars as pl

from featurekit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_demo_command_writes_the_matrix(tmp_path, capsys):
    out = tmp_path / "nested" / "features.parquet"
    assert main(["demo", "--customers", "30", "--out", str(out)]) == 0
    matrix = pl.read_parquet(out)
    assert matrix.height == 30 and "MEAN(sessions.SUM(transactions.amount))" in matrix.columns
    printed = capsys.readouterr().out
    assert "30 rows x 82 features" in printed and "compute" in printed
    assert [p.name for p in out.parent.iterdir()] == ["features.parquet"]  # no temporary left


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "featurekit", "demo", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--customers" in result.stdout


def test_wheel_contains_featurekit_primitives(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("featurekit-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "featurekit/primitives/aggregation.py" in names
    assert "featurekit/engine/lazy_plan.py" in names
    assert not any(name.startswith("primitives/") for name in names)
    licence = next(name for name in names if name.endswith(".dist-info/licenses/LICENSE"))
    assert "BSD 3-Clause License" in zipfile.ZipFile(wheel).read(licence).decode()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert "License-Expression: BSD-3-Clause" in metadata and "License-File: LICENSE" in metadata
    from featurekit._version import __version__

    assert f"Version: {__version__}" in metadata and "featurekit/_version.py" in names


def test_source_distribution_carries_the_licence(tmp_path):
    script = ("import sys; from setuptools import build_meta; "
              "print(build_meta.build_sdist(sys.argv[1]))")
    name = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.split()[-1]
    with tarfile.open(tmp_path / name) as archive:
        members = archive.getnames()
        licence = archive.extractfile(f"{name.removesuffix('.tar.gz')}/LICENSE").read().decode()
    assert "Copyright (c) 2026, the featurekit developers" in licence
    assert any(member.endswith("/primitives/aggregation.py") for member in members)


def test_primitive_reference_is_generated_from_metadata(capsys):
    assert main(["primitives"]) == 0
    printed = capsys.readouterr().out
    assert (ROOT / "docs" / "primitives.md").read_text() == printed, (
        "docs/primitives.md is stale: run `featurekit primitives > docs/primitives.md`")
    rows = [line for line in printed.splitlines() if line.startswith("| ")]
    for row in rows:  # five cells each: a "|" inside a cell (two input signatures) is escaped
        assert len(re.split(r"(?<!\\)\|", row)) == 7, row
    from featurekit.primitives import list_primitives

    assert len(printed.splitlines()) == 6 + len(list_primitives(include_custom=False))
    assert "| mean | aggregation | numeric | numeric |" in printed


def test_compiled_kernels_are_cached_outside_the_installed_package(tmp_path):
    """numba's cache files next to the sources would outlive ``pip uninstall`` and turn the
    next install's ``featurekit/`` into a namespace package; they go to a user directory."""
    script = ("import featurekit, pathlib; from featurekit.primitives import kernels; "
              "print(kernels._segment_moments.serial._cache._cache_path); print(pathlib.Path(featurekit.__file__).parent)")
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    cache_path, package = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                                         text=True, check=True).stdout.split()
    assert cache_path.startswith(str(tmp_path / "featurekit" / "numba"))
    assert not cache_path.startswith(str(Path(package).parent))
