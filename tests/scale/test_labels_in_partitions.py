"""make_labels partition by partition gives the single-process labels, on frames and on
lazy parquet tables."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

import featurekit as fk
from featurekit.demo import RETAIL_KEYS, RETAIL_RELATIONSHIPS
from featurekit.demo_data import RETAIL_TYPES, retail_tables


@pytest.fixture(scope="module")
def retail() -> fk.EntitySet:
    return fk.demo.load_retail(n_customers=50, seed=8)


def spent_over_100(rows: pd.DataFrame) -> bool:
    return rows.amount.sum() > 100


@pytest.mark.parametrize("target", ["customers", "sessions"])
@pytest.mark.parametrize("options", [{}, {"gap": "10d", "min_data": "5d"},
                                     {"end": "2022-01-01", "max_per_instance": 3}])
@pytest.mark.parametrize("partitions", [3, "auto"])
def test_labels_by_function_equal_in_partitions(retail, target, options, partitions):
    single = fk.make_labels(retail, target, spent_over_100, window="30d", **options)
    parted = fk.make_labels(retail, target, spent_over_100, window="30d", partitions=partitions,
                            **options)
    pd.testing.assert_frame_equal(single, parted, check_exact=True)
    assert len(single) > 0


@pytest.mark.parametrize("target", ["customers", "sessions"])
def test_labels_by_expression_equal_in_partitions(retail, target):
    """A float label summed by polars' group-by agrees to its last bits: the single call's
    own sums depend on how polars splits the rows of every instance among its threads."""
    expression = pl.col("amount").sum()
    single = fk.make_labels(retail, target, expression, window="60d", gap="20d")
    parted = fk.make_labels(retail, target, expression, window="60d", gap="20d", partitions=4)
    pd.testing.assert_frame_equal(single, parted, check_exact=False, rtol=1e-12, atol=0.0)
    counted = pl.col("amount").count()
    pd.testing.assert_frame_equal(fk.make_labels(retail, target, counted, window="60d"),
                                  fk.make_labels(retail, target, counted, window="60d", partitions=3),
                                  check_exact=True)


def test_labels_from_lazy_parquet_tables(tmp_path):
    tables = retail_tables(30, seed=2)
    eager, lazy = fk.EntitySet("retail"), fk.EntitySet("retail")
    for name, frame in tables.items():
        index, time_index = RETAIL_KEYS[name]
        (tmp_path / name).mkdir()
        rows = pl.from_pandas(frame)
        for number, part in enumerate(rows.iter_slices(n_rows=max(1, rows.height // 2 + 1))):
            part.write_parquet(tmp_path / name / f"{number}.parquet")
        eager.add_table(name, rows, index=index, time_index=time_index, types=RETAIL_TYPES[name])
        lazy.add_table(name, tmp_path / name, index=index, time_index=time_index,
                       types=RETAIL_TYPES[name], lazy=True)
    for relationship in RETAIL_RELATIONSHIPS:
        eager.add_relationship(*relationship)
        lazy.add_relationship(*relationship)
    single = fk.make_labels(eager, "customers", spent_over_100, window="45d")
    pd.testing.assert_frame_equal(single, fk.make_labels(lazy, "customers", spent_over_100, window="45d"),
                                  check_exact=True)
    pd.testing.assert_frame_equal(single, fk.make_labels(lazy, "customers", spent_over_100, window="45d",
                                                         partitions=3), check_exact=True)


def test_unknown_partitions_are_refused_for_labels(retail):
    with pytest.raises(fk.ComputeError, match="partitions='many' is not a choice"):
        fk.make_labels(retail, "customers", spent_over_100, window="30d", partitions="many")
