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


def write_retail_database(path: Any, n_customers: int = 200, faults: bool = True,
                          seed: int = 0) -> dict[str, Any]:
    """Write the retail demo data as a SQLite file with keys declared, with known faults
    planted when ``faults=True``; returns what was planted (see
    :func:`featurekit._demo_database.write_retail_database`)."""
    from featurekit._demo_database import write_retail_database as write

    return write(path, n_customers=n_customers, faults=faults, seed=seed)


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


SERIES_CLASSES = ("smooth", "rough", "periodic", "bursty")


def load_labelled_series(n_per_class: int = 50, length: int = 200, seed: int = 0):
    """Deterministic labelled series for classification examples: ``(series, labels)``.

    ``series`` is a long pandas frame (``id``, ``time``, ``value``); ``labels`` a Series of
    class names indexed by ``id``. Four classes of equal size, told apart by shape rather
    than level or scale (each series gets a random offset and amplitude): "smooth" (AR(1),
    phi 0.8), "rough" (AR(1), phi 0.3), "periodic" (a noisy sine of random frequency and
    phase) and "bursty" (AR(1), phi 0.5, with a few short spikes). The noise makes the
    classes overlap, so no classifier is perfect.

    >>> series, labels = load_labelled_series(n_per_class=3, length=20)
    >>> series.shape, labels.value_counts().tolist()
    ((240, 3), [3, 3, 3, 3])
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frames, labels = [], {}
    series_id = 0
    for index in range(n_per_class * len(SERIES_CLASSES)):
        label = SERIES_CLASSES[index % len(SERIES_CLASSES)]
        noise = rng.normal(0.0, 1.0, length)
        if label == "periodic":
            t = np.arange(length)
            values = (1.2 * np.sin(2 * np.pi * rng.uniform(0.02, 0.12) * t
                                   + rng.uniform(0, 2 * np.pi)) + 0.9 * noise)
        else:
            phi = {"smooth": 0.8, "rough": 0.3, "bursty": 0.5}[label]
            values = np.empty(length)
            values[0] = noise[0]
            for step in range(1, length):
                values[step] = phi * values[step - 1] + np.sqrt(1 - phi**2) * noise[step]
            if label == "bursty":
                for start in rng.integers(0, length - 3, rng.integers(1, 4)):
                    values[start:start + 3] += rng.choice([-1, 1]) * rng.uniform(2.0, 3.5)
        values = rng.uniform(-5, 5) + rng.uniform(0.5, 3.0) * values
        frames.append(pd.DataFrame({"id": series_id, "time": np.arange(length), "value": values}))
        labels[series_id] = label
        series_id += 1
    series = pd.concat(frames, ignore_index=True)
    return series, pd.Series(labels, name="label").rename_axis("id")
