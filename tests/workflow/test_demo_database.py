"""fk.demo.write_retail_database writes a real SQLite file with keys declared, and the faults
it says it planted are there with exactly the counts it gives (counted here with plain
pandas/sqlite3), while faults=False writes data with none of them."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest

import featurekit as fk


def read(path, table: str) -> pd.DataFrame:
    with sqlite3.connect(path) as connection:
        return pd.read_sql_query(f"SELECT * FROM {table}", connection)


def counts_by_kind(description: dict) -> dict[str, int]:
    return {fault["kind"]: fault["count"] for fault in description["faults"]}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "retail.sqlite"
    return path, fk.demo.write_retail_database(path, n_customers=60, seed=3)


def test_schema_declares_keys_and_foreign_keys(faulty):
    path, _ = faulty
    with sqlite3.connect(path) as connection:
        foreign = {table: sorted((row[3], row[2], row[4]) for row in
                                 connection.execute(f"PRAGMA foreign_key_list({table})"))
                   for table in ("sessions", "transactions")}
        keys = {table: [row[1] for row in connection.execute(f"PRAGMA table_info({table})")
                        if row[5]] for table in ("customers", "sessions", "products")}
    assert foreign == {"sessions": [("customer_id", "customers", "customer_id")],
                       "transactions": [("product_id", "products", "product_id"),
                                        ("session_id", "sessions", "session_id")]}
    assert keys == {"customers": ["customer_id"], "sessions": ["session_id"],
                    "products": ["product_id"]}


def test_every_planted_fault_has_the_described_count(faulty):
    path, description = faulty
    expected = counts_by_kind(description)
    customers, sessions = read(path, "customers"), read(path, "sessions")
    transactions, products = read(path, "transactions"), read(path, "products")
    assert description["rows"] == {"customers": len(customers), "sessions": len(sessions),
                                   "transactions": len(transactions),
                                   "products": len(products)}
    amount = transactions["amount"]
    text = amount[amount.map(lambda value: isinstance(value, str))]
    start = sessions["session_start"]
    us_format = start.str.match(r"^\d\d/\d\d/\d{4} ")
    start_times = pd.to_datetime(start.where(~us_format), format="%Y-%m-%d %H:%M:%S").fillna(
        pd.to_datetime(start.where(us_format), format="%m/%d/%Y %H:%M:%S"))
    joined = pd.to_datetime(customers.set_index("customer_id")["join_date"])
    times = pd.to_datetime(transactions["transaction_time"])
    ratio = products["price"].median() / transactions["price"].median()
    found = {
        "duplicate_rows": int(transactions.duplicated().sum()),
        "duplicate_keys": int(transactions["transaction_id"].duplicated().sum()),
        "orphans": int((~transactions["session_id"].isin(sessions["session_id"])).sum()),
        "numbers_as_text": int(products["weight_kg"].map(
            lambda value: isinstance(value, str) and float(value) > 0).sum()),
        "currency_signs": int(text.str.match(r"^\$\d+\.\d\d$").sum()),
        "decimal_commas": int(text.str.match(r"^\d+,\d\d$").sum()),
        "two_date_formats": int(us_format.sum()),
        "scale": len(products) if 30 < ratio < 300 else 0,  # cents vs dollars: ~100
        "future_dates": int((times > pd.Timestamp.now()).sum()),
        "before_parent": int((start_times.to_numpy()
                              < joined.reindex(sessions["customer_id"]).to_numpy()).sum()),
    }
    assert found == expected
    assert len(text) == expected["currency_signs"] + expected["decimal_commas"]
    # no other time fault: every transaction with a session is at or after its start
    session_start = pd.Series(start_times.to_numpy(), index=sessions["session_id"])
    parent_start = session_start.reindex(transactions["session_id"]).to_numpy()
    assert int((times.to_numpy() < parent_start).sum()) == 0
    assert description["nulls"] == [{"table": "transactions", "column": "amount",
                                     "count": int(amount.isna().sum())}]


def test_description_is_written_beside_the_database(faulty):
    path, description = faulty
    beside = json.loads((path.parent / (path.name + ".faults.json")).read_text())
    assert beside == json.loads(json.dumps(description))


def test_clean_database_has_none_of_the_faults(tmp_path):
    path = tmp_path / "clean.sqlite"
    description = fk.demo.write_retail_database(path, n_customers=30, faults=False)
    assert description["faults"] == []
    transactions, sessions = read(path, "transactions"), read(path, "sessions")
    assert transactions["transaction_id"].is_unique
    assert transactions["session_id"].isin(sessions["session_id"]).all()
    assert transactions["amount"].map(lambda value: not isinstance(value, str)).all()
    assert not sessions["session_start"].str.contains("/").any()
    assert (pd.to_datetime(transactions["transaction_time"]) < pd.Timestamp.now()).all()


def test_same_seed_writes_the_same_rows(tmp_path):
    first = fk.demo.write_retail_database(tmp_path / "a.sqlite", n_customers=20, seed=5)
    second = fk.demo.write_retail_database(tmp_path / "b.sqlite", n_customers=20, seed=5)
    assert first["faults"] == second["faults"]
    for table in ("customers", "sessions", "transactions", "products"):
        pd.testing.assert_frame_equal(read(tmp_path / "a.sqlite", table),
                                      read(tmp_path / "b.sqlite", table))


@pytest.mark.parametrize("bad", [0, 2.5, "many", True])
def test_bad_size_is_refused_and_writes_nothing(tmp_path, bad):
    with pytest.raises(fk.FeaturekitError, match="n_customers"):
        fk.demo.write_retail_database(tmp_path / "x.sqlite", n_customers=bad)
    assert list(tmp_path.iterdir()) == []


def test_docstring_example_runs():
    import doctest

    import featurekit._demo_database as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
