"""Lazy parquet tables are validated like loaded ones, without loading them: bad sources,
keys and times get the same clear errors and warnings."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import featurekit as fk


def write(folder, frames: list[pl.DataFrame]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for number, frame in enumerate(frames):
        frame.write_parquet(folder / f"part-{number}.parquet")
    return str(folder)


@pytest.fixture
def orders(tmp_path) -> str:
    return write(tmp_path / "orders", [
        pl.DataFrame({"order": [1, 2, 3], "customer": [10, 10, 11], "total": [5.0, float("nan"), 2.0],
                      "at": pl.datetime_range(dt.datetime(2021, 1, 1), dt.datetime(2021, 1, 3), "1d",
                                              eager=True, time_unit="us")}),
        pl.DataFrame({"order": [4, 5], "customer": [12, 99], "total": [1.0, 3.0],
                      "at": [dt.datetime(2021, 2, 1), None]}, schema_overrides={"at": pl.Datetime("us")}),
    ])


@pytest.fixture
def customers(tmp_path) -> str:
    return write(tmp_path / "customers", [pl.DataFrame({"customer": [10, 11, 12], "region": ["a", "b", "a"]})])


def test_a_lazy_table_answers_like_a_loaded_one(orders, customers):
    lazy, eager = fk.EntitySet(), fk.EntitySet()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lazy.add_table("orders", orders, index="order", time_index="at", lazy=True)
        lazy.add_table("customers", customers, index="customer", lazy=True)
        lazy.add_relationship("customers", "customer", "orders", "customer")
    messages = sorted(str(w.message) for w in caught)
    assert any("1 of 5 rows have no time" in m for m in messages)
    assert any("1 rows refer to no row of 'customers'" in m for m in messages)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager.add_table("orders", pl.read_parquet(orders + "/*.parquet"), index="order", time_index="at")
        eager.add_table("customers", pl.read_parquet(customers + "/*.parquet"), index="customer")
        eager.add_relationship("customers", "customer", "orders", "customer")
    features = fk.plan(lazy, target="customers", agg_primitives=["sum", "count", "mean"])
    expected = fk.compute(eager, features)
    assert expected["SUM(orders.total)"].to_list() == [5.0, 2.0, 1.0]  # NaN is missing, not a value
    assert_frame_equal(fk.compute(lazy, features), expected)
    assert_frame_equal(fk.compute(lazy, features, partitions=2), expected)


def test_types_given_win_over_the_sample(tmp_path):
    path = write(tmp_path / "t", [pl.DataFrame({"id": [1, 2], "code": [7, 8], "size": [1, 2]})])
    es = fk.EntitySet().add_table("t", path, index="id", types={"code": "categorical", "size": "double"},
                                  lazy=True)
    assert es["t"].schemas["code"].logical_type == "categorical"
    assert es["t"].schemas["size"].logical_type == "double"


def test_a_conversion_that_is_more_than_a_cast_is_refused(tmp_path):
    path = write(tmp_path / "t", [pl.DataFrame({"id": [1, 2], "flag": ["yes", "no"]})])
    with pytest.raises(fk.SchemaError, match="'flag'.*more than a cast.*store it as Boolean"):
        fk.EntitySet().add_table("t", path, index="id", types={"flag": "boolean"}, lazy=True)


@pytest.mark.parametrize(("frames", "problem"), [
    ([pl.DataFrame({"id": [1, 2]}), pl.DataFrame({"id": [2, 3]})], r"2 rows with repeated values \(e.g. \[2\]\)"),
    ([pl.DataFrame({"id": [1, None]})], "the index has 1 missing values"),
    ([pl.DataFrame({"id": [1.0]}), pl.DataFrame({"id": [float("nan")]})], "1 NaN values, and NaN is not a key"),
    ([pl.DataFrame({"id": pl.Series([1, 2**63 + 5], dtype=pl.UInt64)})], "1 unsigned values above 2"),
])
def test_index_checked_over_every_file(tmp_path, frames, problem):
    path = write(tmp_path / "t", frames)
    with pytest.raises(fk.SchemaError, match=problem):
        fk.EntitySet().add_table("t", path, index="id", lazy=True)


def test_a_time_index_without_any_time_is_refused(tmp_path):
    path = write(tmp_path / "t", [pl.DataFrame({"id": [1, 2], "at": [None, None]},
                                               schema_overrides={"at": pl.Datetime("us")})])
    with pytest.raises(fk.SchemaError, match="holds no time at all"):
        fk.EntitySet().add_table("t", path, index="id", time_index="at", lazy=True)


def test_bad_sources_are_refused(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("id\n1\n")
    es = fk.EntitySet()
    with pytest.raises(fk.SchemaError, match="reads parquet files only.*CSV is read into memory"):
        es.add_table("t", str(csv), index="id", lazy=True)
    with pytest.raises(fk.SchemaError, match="lazy=True needs parquet files, got a DataFrame"):
        es.add_table("t", pl.DataFrame({"id": [1]}), index="id", lazy=True)
    with pytest.raises(fk.SchemaError, match="no parquet file matches"):
        es.add_table("t", str(tmp_path / "none-*.parquet"), index="id", lazy=True)
    with pytest.raises(fk.SchemaError, match="does not exist"):
        es.add_table("t", str(tmp_path / "missing"), index="id", lazy=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(fk.SchemaError, match="no parquet file matches"):
        es.add_table("t", str(tmp_path / "empty"), index="id", lazy=True)
    path = write(tmp_path / "ok", [pl.DataFrame({"id": [1], "x": [1.0]})])
    with pytest.raises(fk.SchemaError, match="make_index=True needs the rows in memory"):
        es.add_table("t", path, index="row", make_index=True, lazy=True)
    with pytest.raises(fk.SchemaError, match="errors='coerce' needs the rows in memory"):
        es.add_table("t", path, index="id", errors="coerce", lazy=True)
    with pytest.raises(fk.SchemaError, match="lazy must be True or False"):
        es.add_table("t", path, index="id", lazy="yes")
    with pytest.raises(fk.SchemaError, match="the index column is absent"):
        es.add_table("t", path, index="nope", lazy=True)
    assert "t" not in es.tables


def test_relationships_of_lazy_tables_check_key_types_and_orphans(tmp_path):
    parents = write(tmp_path / "p", [pl.DataFrame({"pid": ["a", "b"]})])
    children = write(tmp_path / "c", [pl.DataFrame({"cid": [1, 2, 3], "pid": [1, 2, 2]})])
    es = fk.EntitySet().add_table("p", parents, index="pid", lazy=True).add_table(
        "c", children, index="cid", lazy=True)
    with pytest.raises(fk.SchemaError, match="key type Int64 cannot match parent key p.pid of type"):
        es.add_relationship("p", "pid", "c", "pid")
    strict = fk.EntitySet(strict=True)
    strict.add_table("p", pl.DataFrame({"pid": np.array([1], dtype=np.int32)}), index="pid")
    strict.add_table("c", children, index="cid", lazy=True)
    with pytest.raises(fk.SchemaError, match="2 rows refer to no row of 'p'"):
        strict.add_relationship("p", "pid", "c", "pid")


def test_narrower_child_keys_are_read_as_the_parents_type(tmp_path):
    parents = write(tmp_path / "p", [pl.DataFrame({"pid": [1, 2]})])
    children = write(tmp_path / "c", [pl.DataFrame({"cid": [1, 2, 3], "pid": pl.Series([1, 2, 2], dtype=pl.Int16),
                                                    "v": [1.0, 2.0, 4.0]})])
    es = fk.EntitySet().add_table("p", parents, index="pid", lazy=True).add_table(
        "c", children, index="cid", lazy=True).add_relationship("p", "pid", "c", "pid")
    features = fk.plan(es, target="p", agg_primitives=["sum"], trans_primitives=[])
    assert fk.compute(es, features, partitions=2)["SUM(c.v)"].to_list() == [1.0, 6.0]


def test_an_integer_column_missing_values_after_the_sample_is_nullable(tmp_path, monkeypatch):
    """The sample sees no missing value, the second file has one: typed as a loaded table."""
    import featurekit.scale.sources as sources

    monkeypatch.setattr(sources, "SAMPLE_ROWS", 2)
    frames = [pl.DataFrame({"id": [1, 2], "n": [5, 6], "m": [1, 2]}),
              pl.DataFrame({"id": [3, 4], "n": [None, 7], "m": [3, 4]})]
    path = write(tmp_path / "t", frames)
    lazy = fk.EntitySet().add_table("t", path, index="id", lazy=True)
    eager = fk.EntitySet().add_table("t", pl.concat(frames), index="id")
    assert lazy["t"].schemas == eager["t"].schemas
    assert lazy["t"].schemas["n"].logical_type == "integer_nullable"
    assert lazy["t"].schemas["m"].logical_type == "integer"
