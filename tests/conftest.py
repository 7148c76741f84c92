"""Shared fixtures: small retail tables and the entity set built from them.

The suite compiles its numba kernels into ``.pytest_cache/featurekit-numba`` of the checkout,
never into the user's cache: set before featurekit is imported, kept between runs (a fresh
clone, as in CI, compiles once per run), and inherited by the subprocesses tests start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TEST_CACHE = Path(__file__).resolve().parents[1] / ".pytest_cache" / "featurekit-numba"
os.environ["NUMBA_CACHE_DIR"] = str(TEST_CACHE)
if "numba" in sys.modules:  # a plugin imported numba first: its config read the old value
    sys.modules["numba"].config.CACHE_DIR = str(TEST_CACHE)

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import featurekit as fk  # noqa: E402
from featurekit.demo import retail_entityset  # noqa: E402
from featurekit.demo_data import retail_tables  # noqa: E402


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return retail_tables(40, seed=7)


@pytest.fixture
def retail(tables) -> fk.EntitySet:
    return retail_entityset(tables)
