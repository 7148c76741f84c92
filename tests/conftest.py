"""Shared fixtures: small retail tables and the entity set built from them."""

from __future__ import annotations

import pandas as pd
import pytest

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.demo_data import retail_tables


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return retail_tables(40, seed=7)


@pytest.fixture
def retail(tables) -> fk.EntitySet:
    return retail_entityset(tables)
