"""First use of the time-series kernels: only the calculators in use compile, a compilation
is announced, the cache is keyed by content (not install path), an unwritable cache warns,
and long extractions show a progress bar on a terminal only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from featurekit.primitives import timeseries as calc

import featurekit as fk
from featurekit.timeseries import drivers, kernels

# the package attribute ``extract`` is the function; the tests patch its module
extract_module = sys.modules["featurekit.timeseries.extract"]

ROOT = Path(__file__).resolve().parents[2]
MINIMAL_RUN = """
import numpy as np, pandas as pd, featurekit as fk
frame = pd.DataFrame({"id": np.repeat([1, 2], 5), "time": np.tile(np.arange(5), 2),
                      "value": np.arange(10.0) ** 2})
print(fk.timeseries.extract(frame, column_id="id", column_sort="time", settings="minimal")
      ["value__sum_values"].tolist())
"""
ANNOUNCEMENT = "featurekit: compiling time-series kernels, once, about"


def test_every_calculator_belongs_to_exactly_one_family():
    members = [code for codes in kernels.FAMILIES.values() for code in codes]
    assert sorted(members) == sorted(c.code for c in calc.CALCULATORS)
    assert set(kernels.COMPILE_SECONDS) == set(kernels.FAMILIES)


def test_a_kernel_holds_only_the_branches_of_its_families():
    """minimal compiles neither the spectra, the LAPACK fits nor the entropies."""
    everything = tuple(kernels.FAMILIES)
    modules = {family: f"module_{family}" for family in everything}
    summary = drivers.source(("summary",), modules) + drivers.family_source("summary")
    full = drivers.source(everything, modules) + "".join(map(drivers.family_source, everything))
    for call in ("real_dft", "welch_density", "ar_parameters", "augmented_dickey_fuller",
                 "approximate_entropies", "sample_entropy", "skewness", "module_basic"):
        assert call not in summary
        assert call in full
    assert "pairwise_sum" in summary and "sorted_median" in summary
    assert "skewness" not in drivers.family_source("spectral")
    assert kernels.families_of(np.array([11, 12, 33])) == ("summary",)
    assert kernels.families_of(np.array([67, 11])) == ("summary", "models")


def test_minimal_values_are_the_same_from_the_small_and_the_full_kernel():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"id": np.repeat(np.arange(4), 30), "time": np.tile(np.arange(30), 4),
                          "value": rng.normal(size=120)})
    small = fk.timeseries.extract(frame, column_id="id", column_sort="time", settings="minimal")
    full = fk.timeseries.extract(frame, column_id="id", column_sort="time",
                                 settings="comprehensive")
    pd.testing.assert_frame_equal(small, full[small.columns])
    values = frame.pivot(index="id", columns="time", values="value").to_numpy()
    np.testing.assert_allclose(small["value__mean"], values.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(small["value__standard_deviation"], values.std(axis=1), rtol=1e-12)
    np.testing.assert_allclose(small["value__median"], np.median(values, axis=1), rtol=1e-12)


def _copy_checkout(destination: Path) -> Path:
    """The package as a second install would hold it: same content, another path."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "featurekit", destination / "featurekit", ignore=ignore)
    shutil.copytree(ROOT / "primitives", destination / "primitives", ignore=ignore)
    return destination


def _run(checkout: Path, cache: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(checkout), "NUMBA_CACHE_DIR": str(cache)}
    environment.pop("NUMBA_DISABLE_JIT", None)
    return subprocess.run([sys.executable, "-c", MINIMAL_RUN], cwd=checkout, env=environment,
                          capture_output=True, text=True, check=True)


def _cache_files(cache: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}


def test_the_cache_is_keyed_by_content_not_by_install_path(tmp_path):
    cache = tmp_path / "cache"
    first = _copy_checkout(tmp_path / "install-a")
    second = _copy_checkout(tmp_path / "site-packages-b")
    expected = [float(sum(np.arange(5.0) ** 2)), float(sum(np.arange(5.0, 10.0) ** 2))]

    compiled = _run(first, cache)
    assert [float(v) for v in compiled.stdout.strip()[1:-1].split(",")] == expected
    assert compiled.stderr.count(ANNOUNCEMENT) == 1
    written = _cache_files(cache)
    assert any(name.endswith(".nbi") for name in written)
    assert not any(str(first) in name or str(second) in name for name in written)

    loaded = _run(second, cache)  # the same code elsewhere: nothing compiles, nothing written
    assert loaded.stdout == compiled.stdout
    assert ANNOUNCEMENT not in loaded.stderr
    assert _cache_files(cache) == written

    calculators = second / "primitives" / "timeseries.py"  # an edited calculator recompiles
    calculators.write_text(calculators.read_text().replace(
        "def pairwise_sum(x: np.ndarray) -> float:",
        "def pairwise_sum(x: np.ndarray) -> float:  # edited", 1))
    edited = _run(second, cache)
    assert edited.stdout == compiled.stdout
    assert edited.stderr.count(ANNOUNCEMENT) == 1
    assert _cache_files(cache) != written


def test_an_unwritable_cache_directory_warns_once_and_still_computes(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    unwritable = blocker / "cache"  # cannot be created, even by root
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(unwritable)}
    done = subprocess.run([sys.executable, "-c", MINIMAL_RUN], env=environment,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[30.0, 255.0]"
    assert done.stderr.count("CacheWarning") == 1
    assert str(unwritable) in done.stderr
    assert "NUMBA_CACHE_DIR" in done.stderr


def _windows_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"id": np.repeat([1, 2], 400), "time": np.tile(np.arange(400), 2),
                         "value": rng.normal(size=800)})


def _extract(**keywords) -> pd.DataFrame:
    return fk.timeseries.extract(_windows_frame(), column_id="id", column_sort="time",
                                 settings={"mean": None, "maximum": None},
                                 window=fk.timeseries.Rolling(size=10, step=1), **keywords)


def test_a_progress_bar_counts_the_windows_on_a_terminal(monkeypatch, capsys):
    closed = []

    class Recording(extract_module.tqdm):
        def close(self):
            if not self.disable:
                closed.append((self.n, self.total, self.delay))
            super().close()

    monkeypatch.setattr(extract_module, "tqdm", Recording)
    plain = _extract()
    assert capsys.readouterr().err == "" and closed == []  # not a terminal: no bar at all
    monkeypatch.setattr(extract_module, "_on_terminal", lambda: True)
    shown = _extract()
    windows = len(plain)
    assert closed == [(windows, windows, 2.0)]  # quiet unless the work lasts two seconds
    monkeypatch.setattr(extract_module, "PROGRESS_DELAY", 0.0)
    _extract()
    assert f"/{windows}" in capsys.readouterr().err
    pd.testing.assert_frame_equal(shown, plain)  # chunked for the bar, same values
    closed.clear()
    hidden = _extract(disable_progressbar=True)
    assert capsys.readouterr().err == "" and closed == []
    pd.testing.assert_frame_equal(hidden, plain)


def test_windows_split_over_threads_give_the_values_of_one_thread():
    one = _extract(n_jobs=1)
    every = _extract(n_jobs=-1)
    pd.testing.assert_frame_equal(one, every)
    values = _windows_frame()["value"].to_numpy()[:400]
    means = [values[max(0, end - 9): end + 1].mean() for end in range(400)]
    np.testing.assert_allclose(one.loc[1, "value__mean"].to_numpy(), means[9:], rtol=1e-12)


def test_kernels_asked_for_from_many_threads_at_once_are_made_once():
    """polars calls the extractor from its worker threads: generating a kernel's source (with
    the ast module) and importing it happen under a lock, and every thread gets the same
    compiled kernel."""
    from concurrent.futures import ThreadPoolExecutor

    from featurekit.timeseries import drivers

    key = ("summary",)
    first = drivers.driver(key)
    drivers._drivers.pop(key)
    with ThreadPoolExecutor(8) as pool:
        kernels = list(pool.map(lambda _: drivers.driver(key), range(32)))
    assert len({id(kernel) for kernel in kernels}) == 1
    assert kernels[0].py_func.__module__ == first.py_func.__module__
