"""The benchmarks' seven-table diamond schema (benchmarks/diamond_data.py) builds in featurekit
and gives features over both paths to ``nation``: the benchmark measures what it claims to."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import featurekit as fk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from diamond_data import RELATIONSHIPS, SCHEMA, diamond_tables  # noqa: E402


@pytest.fixture(scope="module")
def tables():
    return diamond_tables(300, seed=1)


def test_tables_are_deterministic_and_keys_resolve(tables):
    again = diamond_tables(300, seed=1)
    for name, frame in tables.items():
        assert frame.equals(again[name]), name
    for parent, parent_key, child, child_key in RELATIONSHIPS:
        assert np.isin(tables[child][child_key], tables[parent][parent_key]).all(), (child, parent)
    assert len(tables) == 7 and len(tables["lineitem"]) == 1200


def test_both_paths_to_nation_give_features(tables):
    es = fk.EntitySet("tpch")
    for name, (index, time_index, types) in SCHEMA.items():
        es.add_table(name, tables[name], index=index, time_index=time_index, types=types)
    for parent, parent_key, child, child_key in RELATIONSHIPS:
        es.add_relationship(parent=parent, parent_key=parent_key, child=child,
                            child_key=child_key)
    matrix, features = fk.dfs(es, target="nation", max_depth=2)
    names = [feature.name for feature in features]
    assert len(names) > 200
    through_customer = [n for n in names if "customer.orders.lineitem" in n]
    through_supplier = [n for n in names if "supplier.lineitem" in n]
    assert through_customer and through_supplier
    # one independent value per path: the line items reaching each nation by each path
    lines = tables["lineitem"]
    by_supplier = lines.merge(tables["supplier"], left_on="l_suppkey", right_on="s_suppkey")
    by_customer = (lines.merge(tables["orders"], left_on="l_orderkey", right_on="o_orderkey")
                   .merge(tables["customer"], left_on="o_custkey", right_on="c_custkey"))
    for column, joined, key in (("SUM(supplier.lineitem.l_quantity)", by_supplier, "s_nationkey"),
                                ("SUM(customer.orders.lineitem.l_quantity)", by_customer,
                                 "c_nationkey")):
        expected = joined.groupby(key)["l_quantity"].sum().reindex(matrix.index, fill_value=0)
        assert np.array_equal(matrix[column].to_numpy(dtype=float),
                              expected.to_numpy(dtype=float)), column
