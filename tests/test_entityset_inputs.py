"""What add_table and add_relationship do with awkward input: type overrides never lose a
value silently, time indexes parse or are refused by name, keys are scalars that can be
matched, names never collide with features or working columns, and the caller's frames are
never modified. Expected values come from plain Python, pandas or numpy in the tests."""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.engine import cutoffs, lazy_plan, per_cutoff

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
INT64_MAX = 2**63 - 1


def assert_names(error: BaseException, *parts: str) -> None:
    text = str(error)
    for part in parts:
        assert part in text, f"{part!r} missing from: {text}"
    assert "Fix:" in text


def one_table(values, name: str = "things", column: str = "v", **options) -> fk.EntitySet:
    frame = pd.DataFrame({"id": range(len(values)), column: pd.Series(values, dtype=object)})
    return fk.EntitySet().add_table(name, frame, index="id", **options)


def column_of(es: fk.EntitySet, column: str = "v", table: str = "things") -> list:
    return es[table].frame[column].to_list()


def same_floats(got: list, expected: list) -> bool:
    """Equal float lists, where an expected NaN must have become missing (NaN is missing)."""
    if len(got) != len(expected):
        return False
    expected = [None if b is not None and math.isnan(b) else b for b in expected]
    for a, b in zip(got, expected, strict=True):
        if a is None or b is None:
            if a is not b:
                return False
        elif math.isnan(b):
            if not math.isnan(a):
                return False
        elif a != b:
            return False
    return True


# ---------------------------------------------------------------- type overrides
def test_numeric_override_refuses_values_that_do_not_parse():
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["1.5", "2", "abc"], types={"v": "numeric"})
    assert_names(caught.value, "'things'", "'v'", "1 of 3 values", "numbers", "'abc'",
                 "errors='coerce'")


def test_numeric_override_with_coerce_warns_and_makes_them_missing():
    with pytest.warns(fk.CoercionWarning, match=r"'v'.*1 of 3 values.*'abc'"):
        es = one_table(["1.5", "2", "abc"], types={"v": "numeric"}, errors="coerce")
    assert column_of(es) == [1.5, 2.0, None]


def test_datetime_override_refuses_and_coerces():
    values = ["2024-01-01", "2024-01-02 10:00:00", "soon", "later"]
    with pytest.raises(fk.SchemaError) as caught:
        one_table(values, types={"v": "datetime"})
    assert_names(caught.value, "'v'", "2 of 4 values", "times", "'soon'", "'later'")
    with pytest.warns(fk.CoercionWarning, match="2 of 4"):
        es = one_table(values, types={"v": "datetime"}, errors="coerce")
    assert column_of(es) == [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2, 10), None, None]


def test_examples_are_at_most_five_and_distinct():
    values = [f"bad{i}" for i in range(9)] + ["bad0", "1"]
    with pytest.raises(fk.SchemaError) as caught:
        one_table(values, types={"v": "numeric"})
    shown = re.search(r"\(e\.g\. (\[.*?\])\)", str(caught.value)).group(1)
    assert eval(shown) == [f"bad{i}" for i in range(5)]  # noqa: S307 - our own message
    assert "10 of 11 values" in str(caught.value)


def test_errors_must_be_raise_or_coerce():
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["1"], errors="ignore")
    assert_names(caught.value, "'things'", "'ignore'", "coerce")


def test_index_arguments_must_be_column_names():
    frame = pd.DataFrame({"id": [1], "t": [1]})
    for options in ({"index": ["id"]}, {"index": None}, {"index": "id", "time_index": ["t"]}):
        with pytest.raises(fk.SchemaError) as caught:
            fk.EntitySet().add_table("things", frame, **options)
        assert_names(caught.value, "'things'", "must name one column")


@pytest.mark.parametrize("types", [["v"], "numeric"])
def test_types_must_be_a_dict(types):
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["1"], types=types)
    assert_names(caught.value, "'things'", "types=")


def test_type_name_that_is_not_a_string():
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["1"], types={"v": 5})
    assert_names(caught.value, "'v'", "unknown logical type 5")


def test_blank_strings_are_missing_not_errors():
    es = one_table(["1", "", "  ", None, " 2.5 "], types={"v": "numeric"})
    assert column_of(es) == [1.0, None, None, None, 2.5]


SPELLINGS = {"true": True, "t": True, "yes": True, "y": True, "1": True,
             "false": False, "f": False, "no": False, "n": False, "0": False}


@pytest.mark.parametrize("word", sorted(SPELLINGS))
def test_boolean_spellings_in_any_case(word):
    values = [word, word.upper(), f" {word.title()} ", None]
    es = one_table(values, types={"v": "boolean"})
    assert column_of(es) == [SPELLINGS[word]] * 3 + [None]
    assert es["things"].schemas["v"].logical_type == "boolean"


def test_boolean_override_refuses_other_strings_and_numbers():
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["yes", "maybe", "no", "2"], types={"v": "boolean"})
    assert_names(caught.value, "'v'", "2 of 4 values", "booleans", "'maybe'", "'2'")
    es = fk.EntitySet().add_table("things", pd.DataFrame({"id": [1, 2, 3], "v": [1, 0, 1]}),
                                  index="id", types={"v": "boolean"})
    assert column_of(es) == [True, False, True]
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"id": [1, 2], "v": [1, 2]}),
                                 index="id", types={"v": "boolean"})
    assert_names(caught.value, "1 of 2 values", "[2]")


def test_integer_override_keeps_whole_numbers_exact_and_refuses_fractions():
    big = "9007199254740993"  # 2**53 + 1: a float64 would round it
    es = one_table(["7", " -12 ", big, None], types={"v": "integer"})
    assert column_of(es) == [7, -12, int(big), None]
    assert es["things"].frame["v"].dtype == pl.Int64
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["1", "1.5", "x"], types={"v": "integer"})
    assert_names(caught.value, "2 of 3 values", "integers")
    floats = pd.DataFrame({"id": [1, 2, 3, 4], "v": [1.0, 2.0, np.nan, 2.5]})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", floats, index="id", types={"v": "integer"})
    assert_names(caught.value, "1 of 3 values", "2.5")
    es = fk.EntitySet().add_table("things", floats.head(3), index="id", types={"v": "integer"})
    assert column_of(es) == [1, 2, None]


def test_date_of_birth_override_parses_and_tags():
    es = one_table(["1990-05-01", "2001-12-31"], types={"v": "date_of_birth"})
    assert column_of(es) == [dt.datetime(1990, 5, 1), dt.datetime(2001, 12, 31)]
    assert "date_of_birth" in es["things"].schemas["v"].tags
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["1990-05-01", "unknown"], types={"v": "date_of_birth"})
    assert_names(caught.value, "'v'", "1 of 2 values", "'unknown'")
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"id": [1], "v": [1990]}), index="id",
                                 types={"v": "date_of_birth"})
    assert_names(caught.value, "'v'", "Int64", "datetime")


def test_id_override_makes_a_categorical_of_any_scalar():
    frame = pd.DataFrame({"id": [1, 2], "v": [1.5, 2.0]})
    es = fk.EntitySet().add_table("things", frame, index="id", types={"v": "id", "id": "id"})
    assert es["things"].schemas["v"].logical_type == "categorical"
    assert es["things"].schemas["id"].tags == frozenset({"index"})
    assert column_of(es) == [1.5, 2.0]


NESTED = {
    "list": pl.Series("v", [[1, 2], [3]]),
    "struct": pl.Series("v", [{"x": 1}, {"x": 2}]),
    "list of strings": pl.Series("v", [["a"], ["b", "c"]]),
}


@pytest.mark.parametrize("kind", sorted(NESTED))
@pytest.mark.parametrize("type_name", ["categorical", "text", "integer", "numeric", "boolean",
                                       "datetime", "ordinal", "id"])
def test_nested_values_under_a_scalar_type_are_refused(kind, type_name):
    frame = pl.DataFrame({"id": [1, 2]}).with_columns(NESTED[kind])
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id", types={"v": type_name})
    assert_names(caught.value, "'things'", "'v'", "cannot be read as")


def test_python_objects_are_refused_by_name():
    frame = pd.DataFrame({"id": [1, 2], "v": [object(), object()]})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id", types={"v": "categorical"})
    assert_names(caught.value, "'things'", "'v'", "object")
    mixed = pd.DataFrame({"id": [1, 2], "v": [dt.datetime(2024, 1, 1), "2024-01-02"]})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", mixed, index="id")
    assert_names(caught.value, "'v'", "datetime", "str")


def test_list_of_strings_is_not_guessed_as_a_location():
    frame = pl.DataFrame({"id": [1, 2], "v": [["a"], ["b"]], "w": [[1.0, 2.0], [3.0, 4.0]]})
    es = fk.EntitySet().add_table("things", frame, index="id")
    assert es["things"].schemas["v"].logical_type == "unknown"
    assert es["things"].schemas["w"].logical_type == "latlong"


def test_latlong_override_needs_pairs_of_numbers():
    frame = pl.DataFrame({"id": [1, 2, 3], "v": [[1.0, 2.0], [3.0], [4.0, 5.0]]})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id", types={"v": "latlong"})
    assert_names(caught.value, "'v'", "1 of 3 values", "pairs")
    with pytest.raises(fk.SchemaError):
        one_table(["1,2"], types={"v": "latlong"})


@pytest.mark.parametrize("type_name, values", [
    ("numeric", pd.to_datetime(["2024-01-01", "2024-01-02"])),
    ("datetime", [1, 2]),
    ("timedelta", ["1d", "2d"]),
])
def test_types_without_a_lossless_reading_are_refused(type_name, values):
    frame = pd.DataFrame({"id": [1, 2], "v": values})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id", types={"v": type_name})
    assert_names(caught.value, "'v'", type_name)


def test_numbers_from_a_categorical_column_and_booleans_as_numbers():
    frame = pl.DataFrame({"id": [1, 2], "v": ["1.5", "2"], "b": [True, False]})
    frame = frame.with_columns(pl.col("v").cast(pl.Categorical))
    es = fk.EntitySet().add_table("things", frame, index="id", types={"v": "numeric", "b": "numeric"})
    assert column_of(es) == [1.5, 2.0]
    assert column_of(es, "b") == [1, 0]
    assert es["things"].schemas["b"].is_numeric


def test_a_typed_index_is_checked_after_conversion():
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"id": ["1", "x"]}), index="id",
                                 types={"id": "numeric"})
    assert_names(caught.value, "'id'", "1 of 2 values", "'x'")
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"id": ["1", "01"]}), index="id",
                                 types={"id": "integer"})
    assert_names(caught.value, "'id'", "repeated")


def test_every_input_kind_gets_the_same_refusal(tmp_path):
    rows = {"id": [1, 2, 3], "v": ["1.5", "2", "abc"]}
    path = tmp_path / "things.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    inputs = [pd.DataFrame(rows), pl.DataFrame(rows), pa.table(rows), str(path)]
    for data in inputs:
        with pytest.raises(fk.SchemaError) as caught:
            fk.EntitySet().add_table("things", data, index="id", types={"v": "numeric"})
        assert_names(caught.value, "'things'", "'v'", "1 of 3 values", "'abc'")


# ---------------------------------------------------------------- property tests
def python_float(text):
    """None for blank, "bad" when Python refuses, else the float."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return "bad"


def python_int(text):
    text = text.strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        return "bad"
    return number if -(2**63) <= number <= INT64_MAX else "bad"


GOOD_NUMBER_TEXT = st.one_of(
    st.sampled_from(["nan", "-inf", "Infinity", "1e400", ".5", "5.", "1.5e-3", " 3 ", ""]),
    st.floats(allow_nan=False).map(repr),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
)
NUMBER_TEXT = st.one_of(GOOD_NUMBER_TEXT, st.text(alphabet="0123456789.eE+- \tnaifINFty",
                                                  max_size=8))


def lists_of(good, any_text, max_size=12):
    """Half the time only values that parse (so the values are compared), else any text."""
    return st.one_of(st.lists(good, min_size=1, max_size=max_size),
                     st.lists(any_text, min_size=1, max_size=max_size))


def expect_refusal_or_values(build, strings, oracle, as_list):
    expected = [oracle(s) for s in strings]
    bad = sum(1 for e in expected if e == "bad")
    present = sum(1 for e in expected if e is not None)
    if bad:
        with pytest.raises(fk.SchemaError) as caught:
            build()
        assert f"{bad} of {present} values" in str(caught.value)
        return None
    got = as_list(build())
    return got, expected


@pytest.mark.parametrize("kind", ["pandas", "polars"])
@SETTINGS
@given(strings=lists_of(GOOD_NUMBER_TEXT, NUMBER_TEXT))
def test_numbers_parse_like_python_or_are_counted(kind, strings):
    rows = {"id": list(range(len(strings))), "v": strings}
    data = pd.DataFrame(rows) if kind == "pandas" else pl.DataFrame(rows)

    def build():
        return fk.EntitySet().add_table("things", data, index="id", types={"v": "numeric"})

    outcome = expect_refusal_or_values(build, strings, python_float, column_of)
    if outcome is not None:
        got, expected = outcome
        assert same_floats(got, expected)
    else:  # the same values coerced: the refused ones become missing, the rest as Python reads
        with pytest.warns(fk.CoercionWarning):
            es = fk.EntitySet().add_table("things", data, index="id", types={"v": "numeric"},
                                          errors="coerce")
        expected = [None if e == "bad" else e for e in map(python_float, strings)]
        assert same_floats(column_of(es), expected)


@SETTINGS
@given(strings=lists_of(st.integers(min_value=-(2**63), max_value=INT64_MAX).map(str),
                       st.one_of(st.text(alphabet="0123456789+-. x", max_size=6),
                                 st.integers(min_value=-(2**64), max_value=2**64).map(str))))
def test_integers_parse_like_python_or_are_counted(strings):
    data = pd.DataFrame({"id": range(len(strings)), "v": strings})
    outcome = expect_refusal_or_values(
        lambda: fk.EntitySet().add_table("things", data, index="id", types={"v": "integer"}),
        strings, python_int, column_of)
    if outcome is not None:
        got, expected = outcome
        assert got == expected


BOOLEAN_TEXT = st.one_of(
    st.tuples(st.sampled_from(sorted(SPELLINGS) + ["maybe", "tru", "2", "ja", "-1"]),
              st.sampled_from([str.lower, str.upper, str.title]),
              st.sampled_from(["", " ", "\t"])).map(lambda t: t[2] + t[1](t[0]) + t[2]),
    st.just(""),
)


@SETTINGS
@given(strings=lists_of(BOOLEAN_TEXT.filter(lambda t: t.strip().lower() in SPELLINGS or
                                             not t.strip()), BOOLEAN_TEXT))
def test_booleans_parse_from_their_spellings_or_are_counted(strings):
    def oracle(text):
        text = text.strip().lower()
        return None if not text else SPELLINGS.get(text, "bad")

    data = pd.DataFrame({"id": range(len(strings)), "v": strings})
    outcome = expect_refusal_or_values(
        lambda: fk.EntitySet().add_table("things", data, index="id", types={"v": "boolean"}),
        strings, oracle, column_of)
    if outcome is not None:
        got, expected = outcome
        assert got == expected


ISO_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"]
GOOD_TIME_TEXT = st.tuples(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
    st.sampled_from(ISO_FORMATS)).map(lambda t: t[0].strftime(t[1]))
TIME_TEXT = st.one_of(
    GOOD_TIME_TEXT,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,!?", max_size=8),  # no digit: never a time
)


@pytest.mark.parametrize("role", ["override", "time_index"])
@SETTINGS
@given(strings=lists_of(GOOD_TIME_TEXT, TIME_TEXT, max_size=10))
def test_times_parse_like_python_or_are_counted(role, strings):
    def oracle(text):
        text = text.strip()
        if not text:
            return None
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return "bad"

    data = pd.DataFrame({"id": range(len(strings)), "v": strings})
    options = {"types": {"v": "datetime"}} if role == "override" else {"time_index": "v"}
    expected = [oracle(s) for s in strings]
    if role == "time_index" and all(e is None for e in expected):
        with pytest.raises(fk.SchemaError, match="no time at all"):
            fk.EntitySet().add_table("things", data, index="id", **options)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.MissingTimeWarning)
        outcome = expect_refusal_or_values(
            lambda: fk.EntitySet().add_table("things", data, index="id", **options),
            strings, oracle, column_of)
    if outcome is not None:
        got, expected = outcome
        assert got == expected


# ---------------------------------------------------------------- time index
BAD_TIMES = ["yesterday", "soon"]


def test_unparseable_time_index_is_refused_by_name_for_every_input_kind(tmp_path):
    rows = {"id": [1, 2], "when": BAD_TIMES}
    path = tmp_path / "things.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    inputs = {
        "pandas object": pd.DataFrame({"id": [1, 2], "when": pd.Series(BAD_TIMES, dtype=object)}),
        "pandas string": pd.DataFrame({"id": [1, 2], "when": pd.Series(BAD_TIMES, dtype="string")}),
        "polars": pl.DataFrame(rows),
        "pyarrow": pa.table(rows),
        "csv": str(path),
        "categorical": pl.DataFrame(rows).with_columns(pl.col("when").cast(pl.Categorical)),
    }
    for kind, data in inputs.items():
        with pytest.raises(fk.SchemaError) as caught:
            fk.EntitySet().add_table("things", data, index="id", time_index="when")
        assert_names(caught.value, "'things'", "'when'", "2 of 2 values", "time index",
                     "'yesterday'")
        assert kind


def test_times_in_several_offsets_are_read_as_the_same_instants_in_utc():
    strings = ["2024-01-01T10:00:00+01:00", "2024-01-01T10:00:00-05:00", "2024-01-01T10:00:00Z"]
    es = one_table(strings, time_index="v")
    expected = [dt.datetime.fromisoformat(s.replace("Z", "+00:00")) for s in strings]
    assert column_of(es) == expected
    assert es["things"].frame["v"].dtype.time_zone == "UTC"
    stamps = [pd.Timestamp("2024-01-01 10:00", tz="Europe/Paris"),
              pd.Timestamp("2024-01-01 10:00", tz="America/New_York")]
    es = one_table(stamps, time_index="v")
    assert column_of(es) == [s.to_pydatetime() for s in stamps]
    assert es["things"].frame["v"].dtype.time_zone == "UTC"


def test_times_with_and_without_a_zone_are_refused():
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["2024-01-01T10:00:00+01:00", "2024-01-01T10:00:00"], time_index="v")
    assert_names(caught.value, "'things'", "'v'", "time zone", "1 do not")
    with pytest.raises(fk.SchemaError) as caught:
        one_table([pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02")],
                  time_index="v")
    assert_names(caught.value, "'things'", "'v'", "time zone")


@pytest.mark.parametrize("values", [[True, False], pd.to_timedelta([1, 2], unit="D")])
def test_time_index_that_is_not_a_time_is_refused(values):
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", pd.DataFrame({"id": [1, 2], "when": values}),
                                 index="id", time_index="when")
    assert_names(caught.value, "'things'", "'when'", "not a time")


def test_categorical_time_index_of_date_strings_is_parsed():
    frame = pd.DataFrame({"id": [1, 2], "when": pd.Categorical(["2024-01-01", "2024-03-02"])})
    es = fk.EntitySet().add_table("things", frame, index="id", time_index="when")
    assert column_of(es, "when") == [dt.datetime(2024, 1, 1), dt.datetime(2024, 3, 2)]


def test_time_index_of_python_dates():
    frame = pd.DataFrame({"id": [1, 2], "when": [dt.date(2024, 1, 1), dt.date(2024, 2, 29)]})
    es = fk.EntitySet().add_table("things", frame, index="id", time_index="when")
    assert column_of(es, "when") == [dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 29)]
    assert es["things"].schemas["when"].logical_type == "datetime"


@pytest.mark.parametrize("data", [
    pd.DataFrame({"id": [1, 2], "when": [None, None]}),
    pd.DataFrame({"id": [1, 2], "when": [np.nan, np.nan]}),
    pd.DataFrame({"id": [1, 2], "when": pd.to_datetime([None, None])}),
    pd.DataFrame({"id": [1, 2], "when": ["", " "]}),
    pl.DataFrame({"id": [1, 2], "when": [None, None]}),
])
def test_time_index_with_no_time_at_all_is_refused(data):
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", data, index="id", time_index="when")
    assert_names(caught.value, "'things'", "'when'", "no time")


def test_an_empty_table_with_a_time_index_is_accepted():
    frame = pl.DataFrame({"id": [], "when": []}, schema={"id": pl.Int64, "when": pl.Datetime})
    es = fk.EntitySet().add_table("things", frame, index="id", time_index="when")
    assert es["things"].frame.height == 0


@pytest.mark.parametrize("values, dtype", [([3, 1, 2], pl.Int64), ([0.5, 2.5, 1.0], pl.Float64)])
def test_numeric_time_index_stays_numeric(values, dtype):
    es = fk.EntitySet().add_table("things", pl.DataFrame({"id": [1, 2, 3], "step": values}),
                                  index="id", time_index="step")
    assert es["things"].frame["step"].dtype == dtype
    assert column_of(es, "step") == values
    assert "time_index" in es["things"].schemas["step"].tags


def test_missing_times_keep_their_rows_and_are_counted_in_one_warning():
    frame = pl.DataFrame({"id": [1, 2, 3, 4], "when": ["2024-01-01", None, "", "2024-01-04"]})
    with pytest.warns(fk.MissingTimeWarning) as caught:
        es = fk.EntitySet().add_table("things", frame, index="id", time_index="when")
    messages = [str(w.message) for w in caught if issubclass(w.category, fk.MissingTimeWarning)]
    assert len(messages) == 1
    assert "'things'" in messages[0] and "'when'" in messages[0] and "2 of 4 rows" in messages[0]
    assert "cutoff" in messages[0]
    assert es["things"].frame.height == 4
    assert es["things"].frame["when"].null_count() == 2


def test_nan_in_a_float_time_index_is_a_missing_time():
    frame = pl.DataFrame({"id": [1, 2, 3], "step": [1.0, float("nan"), 3.0]})
    with pytest.warns(fk.MissingTimeWarning, match="1 of 3 rows"):
        es = fk.EntitySet().add_table("things", frame, index="id", time_index="step")
    assert column_of(es, "step") == [1.0, None, 3.0]


def test_no_warning_without_missing_times(recwarn):
    one_table(["2024-01-01", "2024-01-02"], time_index="v")
    assert not [w for w in recwarn if issubclass(w.category, fk.MissingTimeWarning)]


def test_coerced_time_index_warns_twice_with_counts():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        es = one_table(["2024-01-01", "soon", "2024-01-03"], time_index="v", errors="coerce")
    assert [w.category for w in caught] == [fk.CoercionWarning, fk.MissingTimeWarning]
    assert "1 of 3 values" in str(caught[0].message) and "'soon'" in str(caught[0].message)
    assert "1 of 3 rows" in str(caught[1].message)
    assert column_of(es) == [dt.datetime(2024, 1, 1), None, dt.datetime(2024, 1, 3)]


def test_nanosecond_strings_keep_their_nanoseconds():
    es = one_table(["2024-01-01 00:00:00.000000500", "2024-01-01 00:00:00"], time_index="v")
    assert es["things"].frame["v"].cast(pl.Int64).to_list() == [
        pd.Timestamp("2024-01-01").value + 500, pd.Timestamp("2024-01-01").value]
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["2300-01-01 00:00:00.000000500"], time_index="v")
    assert_names(caught.value, "'v'", "nanosecond")


@pytest.mark.parametrize("type_name", ["categorical", "boolean", "text"])
def test_time_index_typed_as_something_else_is_refused(type_name):
    with pytest.raises(fk.SchemaError) as caught:
        one_table(["2024-01-01"], time_index="v", types={"v": type_name})
    assert_names(caught.value, "'v'", "time index", type_name)


def test_time_index_typed_as_integer_from_strings():
    es = one_table(["3", "1"], time_index="v", types={"v": "integer"})
    assert column_of(es) == [3, 1]
    assert "time_index" in es["things"].schemas["v"].tags


# ---------------------------------------------------------------- keys
def parents_and_children(parent_keys, child_keys, child_index=None):
    parents = pl.DataFrame({"pid": parent_keys})
    children = pl.DataFrame({"cid": child_index if child_index is not None
                             else list(range(len(child_keys))),
                             "pid": child_keys,
                             "x": [float(i + 1) for i in range(len(child_keys))]})
    return parents, children


def related(parents, children) -> fk.EntitySet:
    es = fk.EntitySet().add_table("parents", parents, index="pid")
    es.add_table("children", children, index="cid")
    return es.add_relationship(parent="parents", parent_key="pid", child="children",
                               child_key="pid")


def test_nan_in_a_float_index_is_refused():
    frame = pl.DataFrame({"id": [1.0, float("nan"), 3.0]})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id")
    assert_names(caught.value, "'things'", "'id'", "1 NaN", "not a key")


def test_nan_in_a_polars_foreign_key_is_a_missing_key_as_null_is():
    parents, children = parents_and_children([1.0, 2.0], [1.0, 1.0, float("nan")])
    for frame in (children, children.with_columns(pl.col("pid").fill_nan(None))):
        es = related(parents, frame)
        assert es["children"].frame["pid"].null_count() == 1
        matrix = fk.compute(es, fk.plan(es, target="parents", agg_primitives=["count"],
                                        trans_primitives=[]), return_type="polars")
        assert matrix.sort("pid")["COUNT(children)"].to_list() == [2, 0]


def test_pandas_nan_in_a_foreign_key_is_missing():
    parents = pd.DataFrame({"pid": [1, 2]})
    children = pd.DataFrame({"cid": [1, 2, 3], "pid": [1.0, np.nan, 2.0]})
    es = related(parents, children)
    assert es["children"].frame["pid"].null_count() == 1


BIG = 2**63 + 5


def test_unsigned_index_above_the_signed_range_is_refused_with_the_fix():
    frame = pl.DataFrame({"id": pl.Series([1, BIG, BIG + 1], dtype=pl.UInt64)})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id")
    assert_names(caught.value, "'things'", "'id'", "2 unsigned values", "strings")


def test_unsigned_foreign_key_above_the_signed_range_is_refused():
    parents, children = parents_and_children(pl.Series([1, 2], dtype=pl.UInt64),
                                             pl.Series([1, BIG], dtype=pl.UInt64))
    es = fk.EntitySet().add_table("parents", parents, index="pid")
    es.add_table("children", children, index="cid")
    with pytest.raises(fk.SchemaError) as caught:
        es.add_relationship(parent="parents", parent_key="pid", child="children", child_key="pid")
    assert_names(caught.value, "'children'", "'pid'", "1 unsigned values", "foreign key")


def expected_aggregates(parent_keys, child_keys):
    children = pd.DataFrame({"pid": [int(k) for k in child_keys],
                             "x": [float(i + 1) for i in range(len(child_keys))]})
    grouped = children.groupby("pid")["x"]
    keys = sorted(int(k) for k in parent_keys)
    return ([int(grouped.count().get(k, 0)) for k in keys],
            [float(grouped.sum().get(k, 0.0)) for k in keys])


@pytest.mark.parametrize("parent_dtype, child_dtype", [
    (pl.UInt64, pl.UInt64), (pl.UInt64, pl.Int64), (pl.Int64, pl.UInt64), (pl.UInt32, pl.Int64),
])
@pytest.mark.parametrize("with_cutoffs", [False, True])
def test_unsigned_keys_work_end_to_end(parent_dtype, child_dtype, with_cutoffs):
    large = 2**31 + 1 if pl.UInt32 in (parent_dtype, child_dtype) else 2**40
    parent_keys, child_keys = [large, 3, 7], [3, large, 3, 7, large, 3]
    parents, children = parents_and_children(pl.Series(parent_keys, dtype=parent_dtype),
                                             pl.Series(child_keys, dtype=child_dtype))
    es = related(parents, children)
    options = {}
    if with_cutoffs:  # two cutoffs per instance: the sweep, and a later one: every row counts
        options["cutoff_time"] = pd.DataFrame({
            "pid": np.array([k for k in parent_keys for _ in range(2)], dtype=np.int64),
            "time": pd.to_datetime(["2024-01-01", "2025-01-01"] * len(parent_keys))})
    matrix, _ = fk.dfs(es, target="parents", agg_primitives=["count", "sum"],
                       trans_primitives=[], return_type="polars", **options)
    counts, sums = expected_aggregates(parent_keys, child_keys)
    matrix = matrix.sort("pid")
    if with_cutoffs:
        matrix = matrix.unique("pid", keep="last", maintain_order=True)
    assert matrix["pid"].cast(pl.Int64).to_list() == sorted(parent_keys)
    assert matrix["COUNT(children)"].to_list() == counts
    assert matrix["SUM(children.x)"].to_list() == sums


def test_unsigned_parent_and_negative_child_keys_are_refused():
    parents, children = parents_and_children(pl.Series([1, 2], dtype=pl.UInt64),
                                             pl.Series([1, -2], dtype=pl.Int64))
    with pytest.raises(fk.SchemaError) as caught:
        related(parents, children)
    assert_names(caught.value, "'children'", "'pid'", "cannot match")


def test_huge_unsigned_keys_cast_to_strings_as_the_error_advises():
    parent_keys, child_keys = [BIG, BIG + 1], [BIG, BIG, BIG + 1]
    parents, children = parents_and_children(pl.Series(parent_keys, dtype=pl.UInt64),
                                             pl.Series(child_keys, dtype=pl.UInt64))
    parents = parents.with_columns(pl.col("pid").cast(pl.String))
    children = children.with_columns(pl.col("pid").cast(pl.String))
    matrix, _ = fk.dfs(related(parents, children), target="parents", agg_primitives=["count"],
                       trans_primitives=[], return_type="polars")
    got = dict(zip(matrix["pid"].cast(pl.String).to_list(), matrix["COUNT(children)"].to_list(),
                   strict=True))
    assert got == {str(BIG): 2, str(BIG + 1): 1}


@pytest.mark.parametrize("keys", [pl.Series("id", [[1], [2]]), pl.Series("id", [{"a": 1}, {"a": 2}])])
def test_nested_index_is_refused(keys):
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", keys.to_frame(), index="id")
    assert_names(caught.value, "'things'", "'id'", "cannot be a key")


# ---------------------------------------------------------------- names
def engine_working_names() -> list[str]:
    """Every column name constant the engine uses for its own working columns."""
    names = {value for module in (cutoffs, lazy_plan, per_cutoff) for value in vars(module).values()
             if isinstance(value, str) and value.startswith("__featurekit")}
    assert len(names) >= 4
    return sorted(names)


@pytest.mark.parametrize("column", engine_working_names())
def test_engine_working_names_are_refused_as_columns(column):
    frame = pd.DataFrame({"id": [1, 2], column: [1.0, 2.0]})
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id")
    assert_names(caught.value, "'things'", repr(column), "reserved", "rename")


def test_repeated_pandas_column_names_are_refused():
    frame = pd.DataFrame([[1, 2, 3]], columns=["id", "v", "v"])
    with pytest.raises(fk.SchemaError) as caught:
        fk.EntitySet().add_table("things", frame, index="id")
    assert_names(caught.value, "'things'", "'v'", "more than once")


def shop(customer_extra=None, session_extra=None) -> fk.EntitySet:
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "age": [30.0, 40.0, 50.0]})
    sessions = pd.DataFrame({"session_id": [10, 11, 12, 13], "customer_id": [1, 1, 2, 3],
                             "device": ["a", "b", "a", "c"], "amount": [1.0, 2.0, 3.0, 4.0]})
    customers = customers.assign(**(customer_extra or {}))
    sessions = sessions.assign(**(session_extra or {}))
    es = fk.EntitySet().add_table("customers", customers, index="customer_id")
    es.add_table("sessions", sessions, index="session_id")
    return es.add_relationship(parent="customers", parent_key="customer_id", child="sessions",
                               child_key="customer_id")


@pytest.mark.parametrize("column, target, primitives, made, in_matrix", [
    ("COUNT(sessions)", "customers", {"agg_primitives": ["count"]}, "aggregation", True),
    ("SUM(sessions.amount)", "customers", {"agg_primitives": ["sum"]}, "aggregation", True),
    ("N_MOST_COMMON(sessions.device)[0]", "customers", {"agg_primitives": ["n_most_common"]},
     "aggregation", True),
    ("ABSOLUTE(age)", "customers", {"agg_primitives": [], "trans_primitives": ["absolute"]},
     "transform", True),
    ("customers.age", "sessions", {"agg_primitives": []}, "direct feature", True),
    ("customers.age", "customers", {"agg_primitives": ["mean"]}, "direct feature", False),
])
def test_a_column_named_like_a_feature_is_refused_in_planning(column, target, primitives, made,
                                                              in_matrix):
    table = "sessions" if column.startswith("customers.") else "customers"
    rows = 4 if table == "sessions" else 3
    extra = {column: [7.0] * rows}
    es = shop(**({"session_extra": extra} if table == "sessions" else {"customer_extra": extra}))
    options = {"trans_primitives": [], **primitives}
    with pytest.raises(fk.PlanError) as caught:
        fk.plan(es, target=target, **options)
    assert_names(caught.value, repr(table), repr(column), made, "rename", "ignore_columns")
    # the way out the message gives: leave the column out, and the feature is computed
    matrix, _ = fk.dfs(es, target=target, ignore_columns={table: [column]}, **options)
    assert list(matrix.columns).count(column) == (1 if in_matrix else 0)
    if in_matrix:  # the feature's values, not the look-alike column's 7.0
        assert not (matrix[column].astype(str) == "7.0").all()


def test_ignored_look_alike_column_leaves_the_real_feature_values():
    es = shop(customer_extra={"COUNT(sessions)": [7, 7, 7]},
              session_extra={"customers.age": [9.0] * 4})
    matrix, _ = fk.dfs(es, target="customers", agg_primitives=["count"], trans_primitives=[],
                       ignore_columns={"customers": ["COUNT(sessions)"],
                                       "sessions": ["customers.age"]})
    assert matrix["COUNT(sessions)"].tolist() == [2, 1, 1]
    sessions, _ = fk.dfs(es, target="sessions", agg_primitives=[], trans_primitives=[],
                         ignore_columns={"customers": ["COUNT(sessions)"],
                                         "sessions": ["customers.age"]})
    assert sessions["customers.age"].tolist() == [30.0, 30.0, 40.0, 50.0]


# ---------------------------------------------------------------- the caller's frames
def awkward_rows() -> dict:
    return {
        "id": ["3", "1", "2"],
        "when": ["2024-01-03", "2024-01-01T10:00:00", None],
        "amount": ["1.5", "x", " 2 "],
        "flag": ["yes", "NO", "t"],
        "kind": ["a", "b", "a"],
    }


TYPES = {"id": "integer", "amount": "numeric", "flag": "boolean"}


def test_pandas_frames_are_never_modified():
    frame = pd.DataFrame(awkward_rows())
    frame["zoned"] = pd.Series([pd.Timestamp("2024-01-01", tz="Europe/Paris"),
                                pd.Timestamp("2024-01-01", tz="Asia/Tokyo"), None], dtype=object)
    before, dtypes = frame.copy(deep=True), frame.dtypes.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = fk.EntitySet().add_table("things", frame, index="id", time_index="when",
                                      types=TYPES, errors="coerce")
    pd.testing.assert_frame_equal(frame, before)
    assert frame.dtypes.equals(dtypes)
    assert es["things"].frame["id"].to_list() == [3, 1, 2]
    with pytest.raises(fk.SchemaError):
        fk.EntitySet().add_table("things", frame, index="id", time_index="when", types=TYPES)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("lazy", [False, True])
def test_polars_frames_are_never_modified(lazy):
    frame = pl.DataFrame(awkward_rows())
    before = frame.clone()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = fk.EntitySet().add_table("things", frame.lazy() if lazy else frame, index="id",
                                      time_index="when", types=TYPES, errors="coerce")
    assert frame.equals(before) and frame.schema == before.schema
    assert es["things"].frame["amount"].to_list() == [1.5, None, 2.0]
    assert es["things"].frame["flag"].to_list() == [True, False, True]
    es["things"].frame = es["things"].frame.with_columns(pl.lit(0).alias("kind"))
    assert frame.equals(before)


def test_pyarrow_tables_are_never_modified():
    table = pa.table(awkward_rows())
    before = table.to_pydict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fk.EntitySet().add_table("things", table, index="id", time_index="when", types=TYPES,
                                 errors="coerce")
    assert table.to_pydict() == before
