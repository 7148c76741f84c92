"""The retail demo data as a SQLite file with primary and foreign keys declared, optionally
with known faults planted (duplicates, orphans, mixed formats, wrong scales, impossible
dates) so that checks and fixes can be shown and tested against exact counts."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from featurekit._atomic import atomic_path
from featurekit.demo_data import retail_tables
from featurekit.errors import FeaturekitError

ISO = "%Y-%m-%d %H:%M:%S"
US = "%m/%d/%Y %H:%M:%S"  # the second date format planted in sessions.session_start
FUTURE_YEARS = 180  # a typo'd century: 2021 written 2201


def _schema(faults: bool) -> str:
    """The four tables; an export with faults keeps no key constraint on transactions (the
    only way a SQLite table can hold repeated keys), but still declares its foreign keys."""
    transaction_key = "INTEGER NOT NULL" if faults else "INTEGER PRIMARY KEY"
    price = "INTEGER" if faults else "REAL"  # cents in products when faulty, dollars otherwise
    weight = "TEXT" if faults else "REAL"
    return f"""
CREATE TABLE customers (
    customer_id INTEGER PRIMARY KEY,
    zip_code VARCHAR(5),
    join_date DATETIME NOT NULL,
    birthday DATE
);
CREATE TABLE products (
    product_id INTEGER PRIMARY KEY,
    brand VARCHAR(1),
    description TEXT,
    price {price},
    weight_kg {weight}
);
CREATE TABLE sessions (
    session_id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers (customer_id),
    device VARCHAR(10),
    session_start DATETIME NOT NULL
);
CREATE TABLE transactions (
    transaction_id {transaction_key},
    session_id INTEGER REFERENCES sessions (session_id),
    transaction_time DATETIME NOT NULL,
    product_id INTEGER REFERENCES products (product_id),
    amount REAL,
    price REAL,
    fraud BOOLEAN
);
"""


def retail_database_tables(n_customers: int, seed: int) -> dict[str, pd.DataFrame]:
    """The clean tables written to the database: the retail demo tables plus a list price and
    a weight per product and the unit price paid per transaction (dollars)."""
    tables = retail_tables(n_customers, seed=seed)
    rng = np.random.default_rng(seed + 1)
    products = tables["products"].copy()
    products["price"] = np.round(rng.uniform(2.0, 80.0, len(products)), 2)
    products["weight_kg"] = np.round(rng.uniform(0.05, 5.0, len(products)), 2)
    transactions = tables["transactions"].copy()
    list_price = products.set_index("product_id")["price"].reindex(transactions["product_id"])
    discount = rng.choice([1.0, 1.0, 1.0, 0.9, 0.8], len(transactions))
    transactions["price"] = np.round(list_price.to_numpy() * discount, 2)
    tables["products"], tables["transactions"] = products, transactions
    return tables


def write_retail_database(path: str | os.PathLike[str], n_customers: int = 200,
                          faults: bool = True, seed: int = 0) -> dict[str, Any]:
    """Write the retail demo tables to a new SQLite file and describe what it holds.

    customers <- sessions <- transactions -> products, each with a primary key (but see
    below) and foreign keys declared; times are stored as text, as SQLite stores them. With
    ``faults=True`` known faults are planted, each in rows of its own so counts never overlap:

    - ``duplicate_rows``: exact copies of transactions;
    - ``duplicate_keys``: further transactions reusing an existing ``transaction_id`` with a
      different amount (the table is written without a key constraint, as an export might be);
    - ``orphans``: transactions whose ``session_id`` matches no session;
    - ``numbers_as_text``: ``products.weight_kg`` stored as text (every value);
    - ``currency_signs`` and ``decimal_commas``: some ``transactions.amount`` as ``"$12.50"``
      or ``"12,50"``;
    - ``two_date_formats``: some ``sessions.session_start`` as ``MM/DD/YYYY HH:MM:SS``;
    - ``scale``: ``products.price`` in cents while ``transactions.price`` is in dollars;
    - ``future_dates``: transactions dated 180 years ahead (a typo'd century);
    - ``before_parent``: sessions that start before their customer joined.

    Returns a dict: ``path``, ``faults`` (a list of records: kind, table, column, count,
    detail, examples of the planted rows' keys), ``rows`` per table and ``nulls`` (missing
    values present in the generated data, per table and column). The same description is
    written beside the database as ``<path>.faults.json``. The file is written whole or not
    at all; an existing file at ``path`` is replaced.

    >>> import tempfile, pathlib, featurekit as fk
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "retail.sqlite"
    >>> planted = fk.demo.write_retail_database(path, n_customers=20)
    >>> sorted({fault["kind"] for fault in planted["faults"]})[:3]
    ['before_parent', 'currency_signs', 'decimal_commas']
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) \
            or n_customers < 5:
        raise FeaturekitError(f"write_retail_database: n_customers must be an integer of at "
                              f"least 5, got {n_customers!r}. Fix: pass n_customers=200 or so")
    if not isinstance(faults, bool):
        raise FeaturekitError(f"write_retail_database: faults must be True or False, got "
                              f"{faults!r}. Fix: pass faults=True to plant the known faults")
    target = Path(path)
    tables = retail_database_tables(int(n_customers), seed)
    rows, planted = _text_rows(tables), []
    if faults:
        rows, planted = _plant_faults(tables, np.random.default_rng(seed + 2))
    description = {
        "path": str(target), "faults": planted,
        "rows": {name: len(table_rows) for name, table_rows in rows.items()},
        "nulls": _nulls(rows),
    }
    with atomic_path(target) as temporary:
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(_schema(faults))
            for name, frame in rows.items():
                columns = ", ".join(frame.columns)
                marks = ", ".join("?" * len(frame.columns))
                connection.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks})",
                                       frame.itertuples(index=False, name=None))
            connection.commit()
        finally:
            connection.close()
    with atomic_path(target.with_name(target.name + ".faults.json")) as temporary:
        temporary.write_text(json.dumps(description, indent=1))
    return description


def _text_rows(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Rows as SQLite receives them: times as ISO text, booleans as 0/1, missing as None."""
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for column in frame.columns:
            values = frame[column]
            if pd.api.types.is_datetime64_any_dtype(values):
                text = values.dt.strftime(ISO if column != "birthday" else "%Y-%m-%d")
                frame[column] = text.astype(object).where(values.notna(), None)
            elif pd.api.types.is_bool_dtype(values):
                frame[column] = values.astype(int)
            else:
                frame[column] = values.astype(object).where(values.notna(), None)
        out[name] = frame
    return out


def _nulls(rows: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    return [{"table": name, "column": column, "count": int(frame[column].isna().sum())}
            for name, frame in rows.items() for column in frame.columns
            if frame[column].isna().any()]


def _plant_faults(tables: dict[str, pd.DataFrame], rng: np.random.Generator
                  ) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    """Plant each fault in its own rows; return the rows to write and what was planted."""
    customers, sessions = tables["customers"], tables["sessions"].copy()
    transactions, products = tables["transactions"].copy(), tables["products"].copy()
    planted: list[dict[str, Any]] = []

    def fault(kind: str, table: str, column: str | None, count: int, detail: str,
              examples: list) -> None:
        planted.append({"kind": kind, "table": table, "column": column, "count": int(count),
                        "detail": detail, "examples": [_plain(value) for value in examples[:5]]})

    # sessions: a second date format, and sessions that start before their customer joined
    n_sessions = len(sessions)
    session_picks = rng.permutation(n_sessions)
    n_formats, n_early = max(2, n_sessions // 100), max(2, n_sessions // 150)
    us_rows, early_rows = session_picks[:n_formats], session_picks[n_formats:n_formats + n_early]
    joined = customers.set_index("customer_id")["join_date"]
    early_position = sessions.columns.get_loc("session_start")
    sessions.iloc[early_rows, early_position] = (
        joined.reindex(sessions["customer_id"].iloc[early_rows]).to_numpy()
        - pd.to_timedelta(rng.integers(1, 60, n_early), unit="D"))
    # transactions of a moved session move with it, so they stay after their session
    moved = sessions["session_id"].iloc[early_rows].to_numpy()
    shift = (sessions.set_index("session_id")["session_start"]
             - tables["sessions"].set_index("session_id")["session_start"])
    in_moved = transactions["session_id"].isin(moved)
    transactions.loc[in_moved, "transaction_time"] += shift.reindex(
        transactions.loc[in_moved, "session_id"]).to_numpy()

    # transactions: disjoint rows for each fault (the moved sessions' rows left alone)
    candidates = rng.permutation(np.flatnonzero(~in_moved.to_numpy()
                                                & transactions["amount"].notna().to_numpy()))
    n_transactions = len(transactions)
    size = max(2, n_transactions // 400)
    take = iter(np.array_split(candidates[:6 * size], 6))
    copy_rows, key_rows, orphan_rows, dollar_rows, comma_rows, future_rows = (
        next(take) for _ in range(6))
    n_copies, n_keys = len(copy_rows), len(key_rows)
    orphan_ids = int(sessions["session_id"].max()) + 1 + np.arange(len(orphan_rows))
    transactions.iloc[orphan_rows, transactions.columns.get_loc("session_id")] = orphan_ids
    time_position = transactions.columns.get_loc("transaction_time")
    transactions.iloc[future_rows, time_position] = transactions["transaction_time"].iloc[
        future_rows].apply(lambda time: time.replace(year=time.year + FUTURE_YEARS))

    rows = _text_rows({"customers": customers, "sessions": sessions,
                       "transactions": transactions, "products": products})
    start = rows["sessions"]["session_start"].to_numpy(copy=True)
    start[us_rows] = sessions["session_start"].iloc[us_rows].dt.strftime(US).to_numpy()
    rows["sessions"]["session_start"] = start
    amount = rows["transactions"]["amount"].to_numpy(copy=True)
    amount[dollar_rows] = [f"${value:.2f}" for value in transactions["amount"].iloc[dollar_rows]]
    amount[comma_rows] = [f"{value:.2f}".replace(".", ",")
                          for value in transactions["amount"].iloc[comma_rows]]
    rows["transactions"]["amount"] = amount
    rows["products"]["price"] = [int(round(value * 100)) for value in products["price"]]
    rows["products"]["weight_kg"] = [f"{value:.2f}" for value in products["weight_kg"]]

    exact = rows["transactions"].iloc[copy_rows]
    reused = rows["transactions"].iloc[key_rows].copy()
    reused["amount"] = [round(float(value) + 1.0, 2) for value in reused["amount"]]
    rows["transactions"] = pd.concat([rows["transactions"], exact, reused], ignore_index=True)

    ids = transactions["transaction_id"]
    fault("duplicate_rows", "transactions", None, n_copies,
          "extra rows that repeat an earlier row exactly (count = extra rows)",
          ids.iloc[copy_rows].tolist())
    fault("duplicate_keys", "transactions", "transaction_id", n_copies + n_keys,
          f"extra rows whose transaction_id an earlier row has (count = extra rows = "
          f"{n_copies + n_keys} repeated values, {2 * (n_copies + n_keys)} rows involved): "
          f"{n_copies} exact copies and {n_keys} with another amount",
          ids.iloc[np.concatenate([key_rows, copy_rows])].tolist())
    fault("orphans", "transactions", "session_id", len(orphan_rows),
          "transactions whose session_id matches no session", orphan_ids.tolist())
    fault("numbers_as_text", "products", "weight_kg", len(products),
          "every weight stored as text (e.g. '0.45')", products["product_id"].tolist())
    fault("currency_signs", "transactions", "amount", len(dollar_rows),
          "amounts written with a dollar sign ('$12.50'); the other amounts are numbers",
          ids.iloc[dollar_rows].tolist())
    fault("decimal_commas", "transactions", "amount", len(comma_rows),
          "amounts written with a decimal comma ('12,50')", ids.iloc[comma_rows].tolist())
    fault("two_date_formats", "sessions", "session_start", len(us_rows),
          "session starts written MM/DD/YYYY HH:MM:SS; the others YYYY-MM-DD HH:MM:SS",
          sessions["session_id"].iloc[us_rows].tolist())
    fault("scale", "products", "price", len(products),
          "products.price in cents while transactions.price is in dollars (factor 100)",
          products["product_id"].tolist())
    fault("future_dates", "transactions", "transaction_time", len(future_rows),
          f"transactions dated {FUTURE_YEARS} years ahead (a typo'd century)",
          ids.iloc[future_rows].tolist())
    fault("before_parent", "sessions", "session_start", n_early,
          "sessions that start 1 to 59 days before their customer's join_date",
          sessions["session_id"].iloc[early_rows].tolist())
    return rows, planted


def _plain(value: Any) -> Any:
    """A JSON-ready Python scalar."""
    return value.item() if isinstance(value, np.generic) else value
