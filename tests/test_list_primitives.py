"""fk.list_primitives(): Featuretools' table shape, built from the primitives' metadata."""

from __future__ import annotations

import pandas as pd
import pytest
from featurekit.primitives import get_primitive
from featurekit.primitives import list_primitives as primitive_rows

import featurekit as fk


def test_one_row_per_primitive_with_featuretools_columns():
    table = fk.list_primitives()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns)[:3] == ["name", "type", "description"]
    assert table.name.is_unique
    assert sorted(table.name) == sorted(row["name"] for row in primitive_rows())
    assert set(table.type) == {"aggregation", "transform"}
    for name, kind in table[["name", "type"]].itertuples(index=False):
        assert get_primitive(name, kind) is not None  # each row names a primitive of its type


def test_custom_primitives_are_listed_unless_excluded():
    @fk.primitives.transform(["numeric"], "numeric", name="double_it_for_listing")
    def double_it(values):
        return values * 2

    assert "double_it_for_listing" in set(fk.list_primitives().name)
    assert "double_it_for_listing" not in set(fk.list_primitives(include_custom=False).name)
    with pytest.raises(fk.FeaturekitError, match="include_custom must be True or False"):
        fk.list_primitives(include_custom="no")
