"""add_table(..., validate=False) keeps faulty data for checking; planning and computing refuse
an unchecked entity set until es.validate() has run add_table's checks."""

from __future__ import annotations

import warnings

import pandas as pd
import polars as pl
import pytest

import featurekit as fk
from featurekit.demo import RETAIL_KEYS, RETAIL_RELATIONSHIPS
from featurekit.demo_data import RETAIL_TYPES


def faulty_customers() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 2, 3], "score": ["1.5", "x", "3", "4"],
                         "joined": ["2020-01-01", "2020-01-02", "soon", "2020-01-04"]})


def unchecked_retail(tables: dict[str, pd.DataFrame]) -> fk.EntitySet:
    es = fk.EntitySet("retail")
    for name, (index, time_index) in RETAIL_KEYS.items():
        es.add_table(name, tables[name], index=index, time_index=time_index,
                     types=RETAIL_TYPES[name], validate=False)
    for parent, parent_key, child, child_key in RETAIL_RELATIONSHIPS:
        es.add_relationship(parent, parent_key, child, child_key)
    return es


def test_validate_true_still_refuses_faulty_data():
    with pytest.raises(fk.SchemaError, match="repeated values|do not parse"):
        fk.EntitySet().add_table("customers", faulty_customers(), index="id", time_index="joined")


def test_unchecked_table_is_kept_as_given_with_notes():
    data = faulty_customers()
    before = data.copy()
    es = fk.EntitySet().add_table("customers", data, index="id", time_index="joined",
                                  types={"score": "double"}, validate=False)
    table = es["customers"]
    pd.testing.assert_frame_equal(data, before)  # the caller's frame is untouched
    assert table.frame.equals(pl.from_pandas(before))  # no refusal, no conversion
    assert not table.checked and not es.checked
    assert table.schemas["score"].logical_type == "unknown"
    note = table.notes["score"]
    assert "1 values do not parse as numbers" in str(note) and "'x'" in str(note)
    assert (note.count, note.examples) == (1, ("x",))
    assert table.schemas["joined"].logical_type == "unknown"
    assert "time_index" in table.schemas["joined"].tags
    assert "soon" in str(table.notes["joined"]) and table.notes["joined"].count == 1
    assert "unchecked" in repr(table)


@pytest.mark.parametrize("call", ["plan", "compute", "dfs", "normalize", "make_labels"])
def test_unchecked_entity_set_is_refused_with_the_fix(call, tables):
    es = unchecked_retail(tables)
    checked = fk.demo.retail_entityset(tables)
    features = fk.plan(checked, target="customers", max_depth=1)
    run = {"plan": lambda: fk.plan(es, target="customers"),
           "compute": lambda: fk.compute(es, features),
           "dfs": lambda: fk.dfs(es, target="customers"),
           "normalize": lambda: es.normalize("sessions", "devices", "device"),
           "make_labels": lambda: fk.make_labels(es, "customers", pl.len(), window="30d")}[call]
    with pytest.raises(fk.SchemaError) as error:
        run()
    message = str(error.value)
    assert "'customers'" in message and "validate=False" in message
    assert "es.check()" in message and "fk.prep" in message and "es.validate()" in message


def test_validate_makes_the_same_entity_set_as_checked_construction(tables):
    es = unchecked_retail(tables)
    assert es.validate() is es and es.checked
    reference = fk.demo.retail_entityset(tables)
    for name, table in reference.tables.items():
        assert es[name].frame.equals(table.frame), name
        assert es[name].schemas == table.schemas, name
        assert es[name].checked
    expected, _ = fk.dfs(reference, target="customers", max_depth=2)
    matrix, _ = fk.dfs(es, target="customers", max_depth=2)
    pd.testing.assert_frame_equal(matrix, expected)


def test_validate_raises_the_first_problem_and_leaves_the_set_unchanged():
    es = fk.EntitySet().add_table("customers", faulty_customers(), index="id",
                                  time_index="joined", types={"score": "double"}, validate=False)
    frame = es["customers"].frame
    with pytest.raises(fk.SchemaError, match="table 'customers', column 'score': 1 of 4 values "
                       "do not parse as numbers"):
        es.validate()
    assert es["customers"].frame is frame and not es.checked
    fixed = faulty_customers().iloc[[0, 1, 3]].assign(score=["1.5", "2", "4"])
    es = fk.EntitySet().add_table("customers", fixed, index="id", time_index="joined",
                                  types={"score": "double"}, validate=False).validate()
    assert es["customers"].frame["score"].to_list() == [1.5, 2.0, 4.0]


def test_validate_checks_relationships_orphans_warn_or_raise_when_strict():
    parents = pd.DataFrame({"id": [1, 2]})
    children = pd.DataFrame({"child": [1, 2, 3], "id": [1.0, 2.0, 9.0]})
    for strict in (False, True):
        es = fk.EntitySet(strict=strict)
        es.add_table("p", parents, "id", validate=False).add_table("c", children, "child")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no orphan warning before validate()
            es.add_relationship("p", "id", "c", "id")
        assert not es.checked and es["c"].frame["id"].dtype == pl.Float64
        if strict:
            with pytest.raises(fk.SchemaError, match="1 rows refer to no row of 'p'"):
                es.validate()
            assert not es.checked
        else:
            with pytest.warns(fk.OrphanWarning, match="1 rows refer to no row of 'p'"):
                es.validate()
            assert es.checked and es["c"].frame["id"].dtype == pl.Int64  # aligned to the parent
            assert "foreign_key" in es["c"].schemas["id"].tags


def test_validate_refuses_keys_that_cannot_match():
    es = fk.EntitySet().add_table("p", pd.DataFrame({"id": [1, 2]}), "id", validate=False)
    es.add_table("c", pd.DataFrame({"child": [1], "id": ["a"]}), "child", validate=False)
    es.add_relationship("p", "id", "c", "id")
    with pytest.raises(fk.SchemaError, match="key type Categorical cannot match parent key p.id"):
        es.validate()


def test_validate_argument_must_be_a_flag():
    with pytest.raises(fk.SchemaError, match="validate must be True or False"):
        fk.EntitySet().add_table("t", pd.DataFrame({"id": [1]}), "id", validate="no")


def test_structural_mistakes_are_refused_even_unchecked():
    repeated = pd.DataFrame([[1, "a", 2.0]], columns=["id", "x", "x"])
    with pytest.raises(fk.SchemaError, match="column 'x': the column name appears more than"):
        fk.EntitySet().add_table("t", repeated, "id", validate=False)
    with pytest.raises(fk.SchemaError, match="the index column is absent"):
        fk.EntitySet().add_table("t", pd.DataFrame({"id": [1]}), "key", validate=False)
    with pytest.raises(fk.SchemaError, match="unknown logical type"):
        fk.EntitySet().add_table("t", pd.DataFrame({"id": [1]}), "id", types={"id": "dubble"},
                                 validate=False)


def test_a_pandas_column_mixing_numbers_and_text_is_kept_as_text():
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "amount": pd.Series([1.5, "$2", None, 3],
                                                                  dtype=object),
                          "code": pd.Series([7, "x", "y", "z"], dtype=object)})
    before = frame.copy()
    with pytest.raises(fk.SchemaError, match="Python values of types"):
        fk.EntitySet().add_table("t", frame, "id")
    es = fk.EntitySet().add_table("t", frame, "id", validate=False)
    pd.testing.assert_frame_equal(frame, before)
    assert es["t"].frame["amount"].to_list() == ["1.5", "$2", None, "3"]
    assert es["t"].notes["amount"].count == 3 and "float, int, str" in str(es["t"].notes["amount"])
    report = es.check()
    assert report.count("currency_signs", "t", "amount") == 1  # read as numbers, value by value
    assert report.count("mixed_types", "t", "code") == 4
    assert report.count("mixed_types", "t", "amount") == 0
    cleaned, _ = fk.prep.parse_numbers(es, columns=["amount"])
    assert cleaned.validate()["t"].frame["amount"].to_list() == [1.5, 2.0, None, 3.0]


def test_warnings_point_at_the_callers_line_from_add_table_and_validate():
    frame = pd.DataFrame({"id": [1, 2], "t": ["2020-01-01", None], "x": ["1", "a"]})
    for validate in (True, False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            es = fk.EntitySet().add_table("t", frame, "id", time_index="t",
                                          types={"x": "double"}, errors="coerce",
                                          validate=validate)
            if not validate:
                es.validate()
        assert {w.category for w in caught} == {fk.CoercionWarning, fk.MissingTimeWarning}
        assert {w.filename for w in caught} == {__file__}
