"""Bad input gets a featurekit error naming the table, the column and the fix; the caller's
frames are never modified."""

from __future__ import annotations

import warnings

import pandas as pd
import polars as pl
import pytest

import featurekit as fk
from featurekit.demo import retail_entityset as build_retail


def small_tables():
    parents = pd.DataFrame({"pid": [1, 2, 3], "when": pd.to_datetime(["2024-01-01"] * 3)})
    children = pd.DataFrame({"cid": [10, 11, 12, 13], "pid": [1, 1, 2, 9], "x": [1.0, 2.0, 3.0, 4.0]})
    return parents, children


def assert_names(error: Exception, *parts: str) -> None:
    text = str(error)
    for part in parts:
        assert part in text, f"{part!r} missing from: {text}"
    assert "Fix:" in text


def test_duplicate_index_values_are_reported_with_count():
    frame = pd.DataFrame({"id": [1, 1, 2, 2, 3], "v": range(5)})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id")
    assert_names(caught.value, "'things'", "'id'", "4 rows")


def test_missing_index_column():
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"a": [1]}), index="id")
    assert_names(caught.value, "'things'", "'id'", "absent")


def test_missing_time_index_column():
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"id": [1]}), index="id", time_index="t")
    assert_names(caught.value, "'things'", "'t'")


def test_unparseable_time_index():
    frame = pd.DataFrame({"id": [1, 2], "t": ["2024-01-01", "not a date"]})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id", time_index="t")
    assert_names(caught.value, "'things'", "'t'", "not a date")


def test_string_time_index_is_parsed():
    frame = pd.DataFrame({"id": [1, 2], "t": ["2024-01-01", "2024-02-03 10:00:00"]})
    es = fk.EntitySet().add_table("things", frame, index="id", time_index="t")
    assert isinstance(es["things"].frame.schema["t"], pl.Datetime)


def test_type_override_naming_a_missing_column():
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"id": [1]}), index="id",
                                 types={"colour": "categorical"})
    assert_names(caught.value, "'things'", "'colour'")


def test_unknown_type_name():
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"id": [1], "c": ["a"]}), index="id",
                                 types={"c": "colour"})
    assert_names(caught.value, "'things'", "'c'", "'colour'")


@pytest.mark.parametrize(
    "arguments, named",
    [
        ({"parent": "nope", "parent_key": "pid", "child": "children", "child_key": "pid"}, "'nope'"),
        ({"parent": "parents", "parent_key": "pid", "child": "nope", "child_key": "pid"}, "'nope'"),
        ({"parent": "parents", "parent_key": "pid", "child": "children", "child_key": "zz"}, "'zz'"),
        ({"parent": "parents", "parent_key": "when", "child": "children", "child_key": "pid"}, "'when'"),
    ],
)
def test_relationship_naming_unknown_things(arguments, named):
    parents, children = small_tables()
    es = fk.EntitySet().add_table("parents", parents, index="pid").add_table("children", children, index="cid")
    with pytest.raises(fk.SchemaError) as caught:
        es.add_relationship(**arguments)
    assert_names(caught.value, named)


def test_key_dtypes_that_cannot_match():
    parents = pd.DataFrame({"pid": [1, 2]})
    children = pd.DataFrame({"cid": [1, 2], "pid": ["a", "b"]})
    es = fk.EntitySet().add_table("parents", parents, index="pid").add_table("children", children, index="cid")
    with pytest.raises(fk.SchemaError) as caught:
        es.add_relationship(parent="parents", parent_key="pid", child="children", child_key="pid")
    assert_names(caught.value, "'children'", "'pid'", "cast")


def test_float_child_keys_that_hold_integers_are_accepted():
    parents = pd.DataFrame({"pid": [1, 2]})
    children = pd.DataFrame({"cid": [1, 2, 3], "pid": [1.0, 2.0, None]})
    es = fk.EntitySet().add_table("parents", parents, index="pid").add_table("children", children, index="cid")
    es.add_relationship(parent="parents", parent_key="pid", child="children", child_key="pid")
    matrix = fk.compute(es, fk.plan(es, target="parents", agg_primitives=["count"], trans_primitives=[]))
    assert matrix["COUNT(children)"].tolist() == [1, 1]


def test_orphans_are_counted_in_a_warning_or_an_error_when_strict():
    parents, children = small_tables()
    for strict in (False, True):
        es = fk.EntitySet(strict=strict).add_table("parents", parents, index="pid")
        es.add_table("children", children, index="cid")
        if strict:
            with pytest.raises(fk.SchemaError) as caught:
                es.add_relationship(parent="parents", parent_key="pid", child="children", child_key="pid")
            assert_names(caught.value, "'children'", "'pid'", "1 rows")
        else:
            with pytest.warns(fk.OrphanWarning, match="1 rows"):
                es.add_relationship(parent="parents", parent_key="pid", child="children", child_key="pid")


def three_tables():
    a = pd.DataFrame({"a": [1, 2]})
    b = pd.DataFrame({"b": [1, 2], "a": [1, 2], "c": [1, 2]})
    c = pd.DataFrame({"c": [1, 2], "a": [1, 2], "b": [1, 2]})
    return fk.EntitySet().add_table("A", a, index="a").add_table("B", b, index="b").add_table("C", c, index="c")


def test_cycle_of_relationships_is_refused():
    es = three_tables()
    es.add_relationship(parent="A", parent_key="a", child="B", child_key="a")
    es.add_relationship(parent="B", parent_key="b", child="C", child_key="b")
    with pytest.raises(fk.SchemaError) as caught:
        es.add_relationship(parent="C", parent_key="c", child="B", child_key="c")
    assert_names(caught.value, "cycle", "'B'", "'c'")


def test_a_second_path_between_two_tables_is_accepted_and_named_by_path():
    """A -> C directly and A -> B -> C: C reaches A by two paths, so aggregations over C say
    which one they take; each counts the rows of its own path."""
    es = fk.EntitySet().add_table("A", pd.DataFrame({"a": [1, 2]}), index="a")
    es.add_table("B", pd.DataFrame({"b": [1, 2], "a": [1, 2]}), index="b")
    es.add_table("C", pd.DataFrame({"c": [1, 2, 3], "a": [1, 1, 1], "b": [2, 2, 1]}), index="c")
    es.add_relationship(parent="A", parent_key="a", child="B", child_key="a")
    es.add_relationship(parent="B", parent_key="b", child="C", child_key="b")
    es.add_relationship(parent="A", parent_key="a", child="C", child_key="a")
    matrix = fk.compute(es, fk.plan(es, target="A", agg_primitives=["count"], trans_primitives=[]))
    assert list(matrix.columns) == ["COUNT(B)", "COUNT(B.C)", "COUNT(C)"]
    b = es["B"].frame.to_pandas().set_index("b")
    c = es["C"].frame.to_pandas()
    by_b = c["b"].map(b["a"]).value_counts()  # C's rows by the A their B belongs to
    assert matrix["COUNT(B.C)"].tolist() == [by_b.get(a, 0) for a in matrix.index]
    assert matrix["COUNT(C)"].tolist() == [(c["a"] == a).sum() for a in matrix.index]
    assert matrix["COUNT(B.C)"].tolist() != matrix["COUNT(C)"].tolist()  # the paths differ


def test_the_same_relationship_twice_is_refused():
    es = three_tables()
    es.add_relationship(parent="A", parent_key="a", child="B", child_key="a")
    with pytest.raises(fk.SchemaError) as caught:
        es.add_relationship(parent="A", parent_key="a", child="B", child_key="a")
    assert_names(caught.value, "'B'", "'a'", "already added")


def test_unknown_target_and_primitive(retail):
    with pytest.raises(fk.PlanError, match="'shops'.*Fix"):
        fk.plan(retail, target="shops")
    with pytest.raises(fk.PlanError, match=r"mena.*did you mean \['mean'"):
        fk.plan(retail, target="customers", agg_primitives=["mena"])
    with pytest.raises(fk.PlanError, match="not a transform"):
        fk.plan(retail, target="customers", trans_primitives=["sum"])


def test_callers_frames_are_never_modified(tables):
    before = {name: frame.copy(deep=True) for name, frame in tables.items()}
    polars_tables = {name: pl.from_pandas(frame) for name, frame in tables.items()}
    polars_before = {name: frame.clone() for name, frame in polars_tables.items()}
    for source in (tables, polars_tables):
        es = build_retail(source)
        fk.dfs(es, target="customers")
        fk.dfs(es, target="transactions")
    for name in tables:
        pd.testing.assert_frame_equal(tables[name], before[name])
        assert polars_tables[name].equals(polars_before[name])


@pytest.mark.parametrize("kind", ["polars", "pyarrow", "parquet", "csv"])
def test_every_input_kind_gives_the_same_matrix(tables, tmp_path, kind):
    expected, _ = fk.dfs(build_retail(tables), target="customers")
    if kind == "polars":
        converted = {n: pl.from_pandas(t) for n, t in tables.items()}
    elif kind == "pyarrow":
        converted = {n: pl.from_pandas(t).to_arrow() for n, t in tables.items()}
    else:
        converted = {}
        for name, frame in tables.items():
            path = tmp_path / f"{name}.{kind}"
            if kind == "parquet":
                frame.to_parquet(path)
            else:
                frame.to_csv(path, index=False)
            converted[name] = path
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        matrix, _ = fk.dfs(build_retail(converted), target="customers", return_type="pandas")
    if kind == "csv":  # CSV has no types: zip codes come back as numbers, leading zeros lost
        assert (matrix.pop("zip_code").astype(int) == expected.pop("zip_code").astype(int)).all()
    pd.testing.assert_frame_equal(matrix, expected, check_dtype=False, check_categorical=False)


def test_result_kind_follows_the_target_table(tables):
    polars_es = build_retail({n: pl.from_pandas(t) for n, t in tables.items()})
    matrix, features = fk.dfs(polars_es, target="customers")
    assert isinstance(matrix, pl.DataFrame)
    assert matrix.columns[0] == "customer_id"
    assert isinstance(fk.compute(polars_es, features, return_type="pandas"), pd.DataFrame)


@pytest.mark.parametrize("keys", [[3, 1, 2, 3], [10**15, 5, 10**15], ["b", "a", "b"], [1, 2, 2]])
def test_repeated_index_values_are_found_in_any_order_and_type(keys):
    frame = pd.DataFrame({"id": keys})
    with pytest.raises(fk.SchemaError, match="repeated values"):
        fk.EntitySet().add_table("things", frame, index="id")
    unique = pd.DataFrame({"id": list(dict.fromkeys(keys))})
    assert fk.EntitySet().add_table("things", unique, index="id")["things"].frame.height == len(unique)
