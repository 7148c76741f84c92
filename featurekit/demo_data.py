"""Deterministic retail tables (customers <- sessions <- transactions -> products) for demos,
tests and benchmarks; plain pandas so peers can load the very same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

ZIP_CODES = np.array(["02116", "10001", "60601", "94103", "98101"])
DEVICES = np.array(["desktop", "mobile", "tablet"])
BRANDS = np.array(["A", "B", "C"])
WORDS = np.array(["soft", "blue", "large", "organic", "cotton", "shirt", "lamp", "mug", "steel", "mini"])
START = np.datetime64("2020-01-01T00:00:00", "s")


def retail_tables(
    n_customers: int = 100,
    seed: int = 0,
    sessions_per_customer: int = 10,
    transactions_per_session: int = 10,
    n_products: int = 50,
) -> dict[str, pd.DataFrame]:
    """Return the four retail tables as pandas frames, keyed by table name.

    Session and transaction counts vary per parent around the given means, so some
    customers have no sessions and some sessions have no transactions.
    """
    if n_customers < 1:
        raise ValueError("n_customers must be at least 1")
    rng = np.random.default_rng(seed)

    customer_id = np.arange(1, n_customers + 1, dtype=np.int64)
    join_offset = rng.integers(0, 365 * 24 * 3600, n_customers)
    join_date = START + join_offset.astype("timedelta64[s]")
    birthday = np.datetime64("1950-01-01", "D") + rng.integers(0, 50 * 365, n_customers).astype(
        "timedelta64[D]"
    )
    customers = pd.DataFrame(
        {
            "customer_id": customer_id,
            "zip_code": ZIP_CODES[rng.integers(0, len(ZIP_CODES), n_customers)],
            "join_date": join_date.astype("datetime64[ns]"),
            "birthday": birthday.astype("datetime64[ns]"),
        }
    )

    sessions_each = rng.poisson(sessions_per_customer, n_customers)
    n_sessions = int(sessions_each.sum())
    session_customer = np.repeat(customer_id, sessions_each)
    session_start = np.repeat(join_date, sessions_each) + rng.integers(
        60, 2 * 365 * 24 * 3600, n_sessions
    ).astype("timedelta64[s]")
    sessions = pd.DataFrame(
        {
            "session_id": np.arange(1, n_sessions + 1, dtype=np.int64),
            "customer_id": session_customer,
            "device": DEVICES[rng.integers(0, len(DEVICES), n_sessions)],
            "session_start": session_start.astype("datetime64[ns]"),
        }
    )

    transactions_each = rng.poisson(transactions_per_session, n_sessions)
    n_transactions = int(transactions_each.sum())
    transaction_time = np.repeat(session_start, transactions_each) + rng.integers(
        0, 3600, n_transactions
    ).astype("timedelta64[s]")
    amount = np.round(rng.gamma(2.0, 40.0, n_transactions), 2)
    amount[rng.random(n_transactions) < 0.01] = np.nan  # a few missing amounts stay missing
    transactions = pd.DataFrame(
        {
            "transaction_id": np.arange(1, n_transactions + 1, dtype=np.int64),
            "session_id": np.repeat(sessions["session_id"].to_numpy(), transactions_each),
            "transaction_time": transaction_time.astype("datetime64[ns]"),
            "product_id": rng.integers(1, n_products + 1, n_transactions).astype(np.int64),
            "amount": amount,
        }
    )

    first_word = WORDS[rng.integers(0, len(WORDS), n_products)]
    second_word = WORDS[rng.integers(0, len(WORDS), n_products)]
    products = pd.DataFrame(
        {
            "product_id": np.arange(1, n_products + 1, dtype=np.int64),
            "brand": BRANDS[rng.integers(0, len(BRANDS), n_products)],
            "description": [f"{a} {b} item" for a, b in zip(first_word, second_word, strict=False)],
        }
    )
    return {
        "customers": customers,
        "sessions": sessions,
        "transactions": transactions,
        "products": products,
    }


# Logical types every consumer of the retail tables should declare (featurekit and peers alike).
RETAIL_TYPES: dict[str, dict[str, str]] = {
    "customers": {"zip_code": "categorical"},
    "sessions": {"device": "categorical"},
    "transactions": {"product_id": "categorical"},
    "products": {"product_id": "categorical", "brand": "categorical", "description": "text"},
}
