"""Every Python block of README.md runs as written, in order, in one namespace (as a reader
pasting them into one notebook would), on small demo data standing in for the reader's own
tables: ``customers``, ``sessions``, ``transactions``, ``products`` and a long time-series
frame ``df``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

import featurekit as fk

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


def readers_data() -> dict[str, object]:
    """What the README assumes the reader has: the retail tables and a long frame of series."""
    tables = fk.demo_data.retail_tables(60, seed=3)
    rng = np.random.default_rng(0)
    n_ids, length = 3, 1500
    df = pd.DataFrame({"id": np.repeat(np.arange(n_ids), length),
                       "time": np.tile(np.arange(length), n_ids),
                       "temperature": rng.normal(20.0, 3.0, n_ids * length),
                       "pressure": rng.normal(1000.0, 5.0, n_ids * length)})
    return {**tables, "df": df}


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 8


def test_every_python_block_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks write files (features.json, drawings)
    namespace = readers_data()
    for number, block in enumerate(BLOCKS, start=1):
        try:
            exec(compile(block, f"README.md python block {number}", "exec"), namespace)
        except Exception as error:  # name the block that failed
            raise AssertionError(f"README python block {number} failed: {error!r}\n{block}") from error
    assert (tmp_path / "features.json").exists() and (tmp_path / "retail.svg").exists()
