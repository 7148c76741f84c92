"""The embedded retail tables are deterministic and referentially sound."""

import pandas as pd

from featurekit.demo_data import retail_tables


def test_same_seed_gives_identical_tables():
    first, second = retail_tables(30, seed=3), retail_tables(30, seed=3)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_every_child_key_has_a_parent():
    tables = retail_tables(50)
    assert tables["sessions"]["customer_id"].isin(tables["customers"]["customer_id"]).all()
    assert tables["transactions"]["session_id"].isin(tables["sessions"]["session_id"]).all()
    assert tables["transactions"]["product_id"].isin(tables["products"]["product_id"]).all()


def test_transactions_happen_after_their_session_starts():
    tables = retail_tables(20)
    merged = tables["transactions"].merge(tables["sessions"], on="session_id")
    assert (merged["transaction_time"] >= merged["session_start"]).all()
