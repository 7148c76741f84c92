"""Custom primitives plan, compute, stack, save and pickle like built-ins."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
from custom_primitives import SecondLargest, doubled, mean_absolute, value_range

import featurekit as fk


def amounts_by_session(tables):
    return tables["transactions"].groupby("session_id")["amount"]


def test_decorated_numpy_aggregation_matches_pandas(tables, retail):
    matrix, features = fk.dfs(retail, target="sessions", agg_primitives=[value_range],
                              trans_primitives=[], max_depth=1)
    rows = amounts_by_session(tables)
    expected = rows.max() - rows.min()
    np.testing.assert_allclose(matrix.loc[expected.index, "VALUE_RANGE(transactions.amount)"], expected)


def test_polars_expression_and_class_forms(tables, retail):
    matrix, _ = fk.dfs(retail, target="sessions", agg_primitives=[mean_absolute, SecondLargest],
                       trans_primitives=[], max_depth=1)
    rows = amounts_by_session(tables)
    np.testing.assert_allclose(matrix.loc[rows.mean().index, "MEAN_ABS(transactions.amount)"],
                               rows.apply(lambda s: s.abs().mean()))
    second = rows.apply(lambda s: s.dropna().sort_values().iloc[-2] if s.notna().sum() > 1 else np.nan)
    np.testing.assert_allclose(matrix.loc[second.index, "SECOND_LARGEST(transactions.amount)"], second)


def test_custom_primitives_stack_and_are_found_by_name(tables, retail):
    features = fk.plan(retail, target="customers", agg_primitives=["mean", "value_range"],
                       trans_primitives=[doubled])
    names = [f.name for f in features]
    assert "MEAN(sessions.VALUE_RANGE(transactions.amount))" in names
    matrix = fk.compute(retail, features)
    per_session = amounts_by_session(tables).agg(lambda s: s.max() - s.min())
    sessions = tables["sessions"].assign(r=lambda s: s["session_id"].map(per_session))
    expected = sessions.groupby("customer_id")["r"].mean()
    np.testing.assert_allclose(matrix.loc[expected.index, "MEAN(sessions.VALUE_RANGE(transactions.amount))"],
                               expected)


def test_transform_function(tables, retail):
    matrix, _ = fk.dfs(retail, target="transactions", agg_primitives=[], trans_primitives=[doubled],
                       max_depth=1)
    amounts = tables["transactions"].set_index("transaction_id")["amount"]
    np.testing.assert_allclose(matrix.loc[amounts.index, "DOUBLED(amount)"], amounts * 2)


def test_custom_primitives_pickle_and_save(retail, tmp_path):
    features = fk.plan(retail, target="customers", agg_primitives=[value_range, mean_absolute, SecondLargest],
                       trans_primitives=[doubled])
    for primitive in (value_range(), mean_absolute(), SecondLargest(), doubled()):
        assert pickle.loads(pickle.dumps(primitive)) == primitive
    expected = fk.compute(retail, features)
    pd.testing.assert_frame_equal(fk.compute(retail, pickle.loads(pickle.dumps(features))), expected)
    fk.save_features(features, tmp_path / "f.json")
    pd.testing.assert_frame_equal(fk.compute(retail, fk.load_features(tmp_path / "f.json")), expected)
