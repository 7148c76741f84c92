"""First use of deep feature synthesis: what a fresh environment compiles, and that the serial
variants small inputs take give the values of the parallel ones large inputs take."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from featurekit.primitives import kernels

import featurekit as fk

ROOT = Path(__file__).resolve().parents[1]
FIRST_DFS = """
import json
import featurekit as fk
from numba.core.dispatcher import Dispatcher
es = fk.demo.load_retail(n_customers=300)
matrix, _ = fk.dfs(es, target="customers", max_depth=2)
compiled = {}
for name, module in list(__import__("sys").modules.items()):
    if name.startswith("featurekit"):
        for attribute, value in vars(module).items():
            for variant in (getattr(value, "serial", None), getattr(value, "parallel", None), value):
                if isinstance(variant, Dispatcher) and variant.signatures:
                    compiled[variant.py_func.__qualname__] = len(variant.signatures)
print(json.dumps({"shape": list(matrix.shape), "compiled": compiled}))
"""
# what the first fk.dfs on the retail demo compiles: serial kernels only, one signature each
EXPECTED_FIRST_DFS = {"_positions_serial", "_slot_starts", "_segment_moments_serial",
                      "_category_counts_serial", "_true_counts", "_segment_integers_serial"}


def test_the_first_dfs_compiles_a_few_serial_kernels_once_each(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(tmp_path)}
    environment.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run([sys.executable, "-c", FIRST_DFS], env=environment, check=True,
                          capture_output=True, text=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["shape"] == [300, 82]
    assert set(report["compiled"]) == EXPECTED_FIRST_DFS
    assert set(report["compiled"].values()) == {1}  # read-only and writable inputs share one
    assert any(path.suffix == ".nbi" for path in tmp_path.rglob("*"))


def test_a_kernel_picks_its_parallel_variant_for_long_inputs_only():
    assert kernels._segment_moments.on(10) is kernels._segment_moments.serial
    if kernels.numba.get_num_threads() > 1:
        assert kernels._segment_moments.on(kernels.PARALLEL_ROWS) is kernels._segment_moments.parallel
    names = {kernels._segment_moments.serial.py_func.__qualname__,
             kernels._segment_moments.parallel.py_func.__qualname__}
    assert len(names) == 2  # cached apart: neither loads the other's machine code


def test_read_only_views_share_the_buffer_and_leave_the_callers_array_writable():
    array = np.arange(5.0)
    view = kernels._read_only(array)
    assert not view.flags.writeable and array.flags.writeable
    assert np.shares_memory(view, array)
    assert kernels._read_only(view) is view


@pytest.mark.parametrize("keys", [np.array([127, -100, 5], np.int8), np.array([2**40, 2**40 + 7]),
                                  np.array([2**63 + 3, 2**63], np.uint64)])
def test_key_offsets_are_taken_in_64_bits(keys):
    low = int(keys.min())
    out = np.empty(len(keys), np.int32)
    kernels._fill_offsets(keys, low, out)
    assert out.tolist() == [int(k) - low for k in keys]


def test_variance_and_skew_follow_pandas():
    groups = [[1.0, 2.0, 4.0, 8.5], [3.0, 3.0, 3.0], [1.0, 2.0], [5.0], [], [1.0, np.inf, 2.0],
              [1e10, -3e10, 3.0, 0.5, 7.0]]
    count = np.array([np.isfinite(g).sum() + np.isinf(g).sum() for g in groups], np.int64)
    finite = [np.array(g)[np.isfinite(g)] for g in groups]
    m2 = np.array([((f - f.mean()) ** 2).sum() if len(f) else 0.0 for f in finite])
    m3 = np.array([((f - f.mean()) ** 3).sum() if len(f) else 0.0 for f in finite])
    m2[5] = m3[5] = np.nan  # an infinite value makes the centred moments NaN
    low = np.array([min(g, default=np.inf) for g in groups])
    high = np.array([max(g, default=-np.inf) for g in groups])
    expected_var = [pd.Series(g, dtype=float).var() for g in groups]
    expected_var[5] = np.nan
    np.testing.assert_allclose(kernels._variance(count, m2), expected_var, rtol=1e-12)
    expected_skew = [pd.Series(g, dtype=float).skew() for g in groups]
    expected_skew[1] = 0.0  # constant values: 0, as pandas 2 (Featuretools' pandas) gives
    expected_skew[5] = np.nan
    np.testing.assert_allclose(kernels._skew(count, m2, m3, low, high), expected_skew, rtol=1e-9)


def _several_cutoffs(retail: fk.EntitySet) -> pd.DataFrame:
    customers = retail["customers"].frame["customer_id"].to_list()
    times = pd.to_datetime(["2020-06-01", "2021-06-01"])
    return pd.DataFrame({"customer_id": np.repeat(customers, 2), "time": np.tile(times, len(customers))})


def test_serial_and_parallel_kernels_give_the_same_matrix(retail, monkeypatch):
    """Group-by and as-of kernels, threaded or not: the same values, bit for bit."""
    features = fk.plan(retail, target="customers", max_depth=2)
    cutoffs = _several_cutoffs(retail)
    serial = fk.compute(retail, features), fk.compute(retail, features, cutoff_time=cutoffs)
    monkeypatch.setattr(kernels, "PARALLEL_ROWS", 0)
    parallel = fk.compute(retail, features), fk.compute(retail, features, cutoff_time=cutoffs)
    threaded = kernels.numba.get_num_threads() > 1
    for kernel in (kernels._segment_moments, kernels._category_counts, kernels._positions,
                   kernels._sweep_moments, kernels._sort_slots_by_time):
        assert kernel.serial.signatures, kernel.__name__
        assert bool(kernel.parallel.signatures) == threaded, kernel.__name__
    for one, other in zip(serial, parallel, strict=True):
        pd.testing.assert_frame_equal(one, other)
