"""Ready-made entity sets for examples, tests and benchmarks."""

from __future__ import annotations

import warnings
from typing import Any

from featurekit.demo_data import RETAIL_TYPES, retail_tables
from featurekit.entityset import EntitySet

RETAIL_KEYS = {
    "customers": ("customer_id", "join_date"),
    "sessions": ("session_id", "session_start"),
    "transactions": ("transaction_id", "transaction_time"),
    "products": ("product_id", None),
}
RETAIL_RELATIONSHIPS = (
    ("customers", "customer_id", "sessions", "customer_id"),
    ("sessions", "session_id", "transactions", "session_id"),
    ("products", "product_id", "transactions", "product_id"),
)


def load_retail(
    n_customers: int = 100,
    seed: int = 0,
    return_type: str = "pandas",
    types: dict[str, dict[str, str]] | None = None,
) -> EntitySet:
    """A deterministic retail EntitySet: customers <- sessions <- transactions -> products.

    About 10 sessions per customer and 10 transactions per session, so ``n_customers=10_000``
    gives 100,000 sessions and 1,000,000 transactions. ``return_type`` picks the kind the
    tables are handed over as ("pandas" or "polars"), which sets the kind results come back as.
    ``types`` adds per-table type overrides, e.g. ``{"customers": {"birthday": "date_of_birth"}}``.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=10)
    >>> es["customers"].frame.height
    10
    """
    tables = retail_tables(n_customers, seed=seed)
    if return_type == "polars":
        import polars as pl

        tables = {name: pl.from_pandas(frame) for name, frame in tables.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the demo data has no orphans; fail loudly if it ever does
        return retail_entityset(tables, types=types)


def retail_entityset(
    tables: dict[str, Any],
    types: dict[str, dict[str, str]] | None = None,
    strict: bool = False,
) -> EntitySet:
    """An EntitySet over the four retail tables given in any supported kind (frames or paths),
    with the retail keys, relationships and logical types."""
    entityset = EntitySet("retail", strict=strict)
    for name, (index, time_index) in RETAIL_KEYS.items():
        table_types = {**RETAIL_TYPES[name], **(types or {}).get(name, {})}
        entityset.add_table(name, tables[name], index=index, time_index=time_index, types=table_types)
    for parent, parent_key, child, child_key in RETAIL_RELATIONSHIPS:
        entityset.add_relationship(parent=parent, parent_key=parent_key, child=child, child_key=child_key)
    return entityset
