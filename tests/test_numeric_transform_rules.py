"""The rules of the numeric, boolean and comparison transforms beyond the Featuretools
reference: values against numpy / pandas on open-ended inputs (IEEE division, Python's modulo
sign, three-valued logic), missing in -> missing out, ordered ones under cutoffs, parameters
refused with the fix, definitions that survive saving and pickling, and the demo data end to
end. The reference comparison itself is tests/test_featuretools_numeric_transforms.py.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from featurekit.primitives import ComputeContext, get_primitive
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.errors import PlanError

DATA = Path(__file__).parent / "data"
CONTEXT = ComputeContext(time=None, cutoff=pl.lit(None))
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
SMALL = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan]))


def apply(name: str, columns: dict[str, list], **params) -> pl.Series:
    """The primitive's values on a frame of ``columns`` (inputs in their order)."""
    primitive = type(get_primitive(name))(**params)
    frame = pl.DataFrame(columns, strict=False)
    expression = primitive.transform_expr([pl.col(c) for c in frame.columns], CONTEXT)
    return frame.lazy().select(expression.alias("out")).collect()["out"]


def floats_of(series: pl.Series) -> np.ndarray:
    return series.cast(pl.Float64).fill_null(np.nan).to_numpy()


# ------------------------------------------------------------------ arithmetic, as numpy


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(SMALL, SMALL), min_size=1, max_size=30))
def test_binary_arithmetic_equals_numpy(pairs):
    left = np.array([a for a, _ in pairs])
    right = np.array([b for _, b in pairs])
    columns = {"a": left.tolist(), "b": right.tolist()}
    with np.errstate(all="ignore"):
        expected = {"add_numeric": left + right, "subtract_numeric": left - right,
                    "multiply_numeric": left * right, "divide_numeric": left / right,
                    "modulo_numeric": np.mod(left, right)}
    for name, values in expected.items():
        np.testing.assert_array_equal(floats_of(apply(name, columns)), values, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(st.lists(SMALL, min_size=1, max_size=30), st.sampled_from([0, -3, 2.5, 7, -0.5]))
def test_scalar_arithmetic_equals_numpy(values, constant):
    x = np.array(values)
    with np.errstate(all="ignore"):
        expected = {"add_numeric_scalar": x + constant, "subtract_numeric_scalar": x - constant,
                    "scalar_subtract_numeric_feature": constant - x,
                    "multiply_numeric_scalar": x * constant,
                    "divide_numeric_scalar": x / constant, "divide_by_feature": constant / x,
                    "modulo_numeric_scalar": np.mod(x, constant),
                    "modulo_by_feature": np.mod(constant, x)}
    for name, wanted in expected.items():
        got = floats_of(apply(name, {"a": values}, value=constant))
        np.testing.assert_array_equal(got, wanted, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=30),
       st.lists(st.integers(-5, 5), min_size=30, max_size=30))
def test_integer_modulo_is_exact_with_the_divisor_sign_and_missing_for_zero(left, right):
    right = right[:len(left)]
    got = apply("modulo_numeric", {"a": left, "b": right})
    assert got.dtype.is_integer()
    for a, b, value in zip(left, right, got.to_list(), strict=True):
        assert value == (None if b == 0 else a % b)  # Python's rule: the divisor's sign


def test_elementary_functions_equal_numpy_outside_their_domain_too():
    x = [1.0, 0.0, -1.0, math.inf, -math.inf, None, 2.5]
    arr = np.array([np.nan if v is None else v for v in x])
    with np.errstate(all="ignore"):
        expected = {"natural_logarithm": np.log(arr), "square_root": np.sqrt(arr),
                    "sine": np.sin(arr), "cosine": np.cos(arr), "tangent": np.tan(arr)}
    for name, values in expected.items():
        got = apply(name, {"a": x})
        assert got.dtype == pl.Float64
        np.testing.assert_array_equal(floats_of(got), values, err_msg=name)
    assert apply("negate", {"a": [3, -2, None]}).to_list() == [-3, 2, None]


# ------------------------------------------------------------------ comparisons and booleans

BOOLS = [True, True, True, False, False, False, None, None, None]
OTHER = [True, False, None, True, False, None, True, False, None]


def test_and_or_are_missing_when_either_side_is_but_multiply_boolean_is_three_valued():
    assert apply("and", {"p": BOOLS, "q": OTHER}).to_list() == [
        True, False, None, False, False, None, None, None, None]
    assert apply("or", {"p": BOOLS, "q": OTHER}).to_list() == [
        True, True, None, True, False, None, None, None, None]
    # Kleene: False and anything is False
    assert apply("multiply_boolean", {"p": BOOLS, "q": OTHER}).to_list() == [
        True, False, None, False, False, False, None, False, None]
    assert apply("not", {"p": BOOLS}).to_list() == [
        False, False, False, True, True, True, None, None, None]


def test_multiply_numeric_boolean_takes_the_boolean_on_either_side():
    numbers, flags = [2.5, -1.0, math.inf, 4.0, None], [True, False, False, None, True]
    expected = [2.5, -0.0, math.nan, None, None]
    for columns in ({"x": numbers, "f": flags}, {"f": flags, "x": numbers}):
        got = apply("multiply_numeric_boolean", columns).to_list()
        assert [None if v is None else (math.nan if math.isnan(v) else v) for v in got][:2] \
            == expected[:2]
        assert math.isnan(got[2]) and got[3] is None and got[4] is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), SMALL), st.one_of(st.none(), SMALL)),
                min_size=1, max_size=25))
def test_comparisons_are_missing_for_missing_or_nan_and_as_python_elsewhere(pairs):
    left, right = [a for a, _ in pairs], [b for _, b in pairs]
    for name, compare in (("greater_than", lambda a, b: a > b),
                          ("greater_than_equal_to", lambda a, b: a >= b),
                          ("less_than", lambda a, b: a < b),
                          ("less_than_equal_to", lambda a, b: a <= b),
                          ("equal", lambda a, b: a == b), ("not_equal", lambda a, b: a != b)):
        got = apply(name, {"a": left, "b": right}).to_list()
        for a, b, value in zip(left, right, got, strict=True):
            unknown = a is None or b is None or math.isnan(a) or math.isnan(b)
            assert value == (None if unknown else compare(a, b)), (name, a, b)


def test_scalar_comparisons_and_equality_with_a_constant():
    x = [-1.0, 0.0, 1.5, None, math.nan, math.inf]
    assert apply("greater_than_scalar", {"x": x}).to_list() == [False, False, True, None, None, True]
    assert apply("less_than_equal_to_scalar", {"x": x}, value=1.5).to_list() == [
        True, True, True, None, None, False]
    text = pl.Series(["web", "store", None]).cast(pl.Categorical)
    assert apply("equal_scalar", {"c": text}, value="web").to_list() == [True, False, None]
    assert apply("not_equal_scalar", {"c": text}, value="web").to_list() == [False, True, None]
    # a constant of another kind never equals; None (the default) equals nothing
    assert apply("equal_scalar", {"c": text}, value=1).to_list() == [False, False, None]
    assert apply("equal_scalar", {"x": x}).to_list() == [False, False, False, None, None, False]
    assert apply("not_equal_scalar", {"x": x}).to_list() == [True, True, True, None, None, True]


def test_equal_across_kinds_categories_and_times():
    cats = pl.Series(["a", "b", None, "c"]).cast(pl.Categorical)
    text = pl.Series(["a", "x", "y", None])
    numbers = [1.0, 2.0, 3.0, None]
    assert apply("equal", {"c": cats, "t": text}).to_list() == [True, False, None, None]
    assert apply("equal", {"c": cats, "n": numbers}).to_list() == [False, False, None, None]
    assert apply("not_equal", {"c": cats, "n": numbers}).to_list() == [True, True, None, None]
    flags = [True, False, True, None]
    assert apply("equal", {"f": flags, "n": numbers}).to_list() == [True, False, False, None]
    # Featuretools 1.31 raises here ("boolean value of NA is ambiguous")
    assert apply("equal", {"c": cats, "f": flags}).to_list() == [False, False, None, None]
    times = pl.Series([pd.Timestamp("2021-01-01"), pd.Timestamp("2021-01-02"), None, None])
    later = pl.Series([pd.Timestamp("2021-01-02")] * 4)
    assert apply("less_than", {"t": times, "u": later}).to_list() == [True, False, None, None]


def test_isin_matches_by_kind_and_finds_missing_only_when_listed():
    x = [0.0, 1.0, 2.5, None]
    assert apply("isin", {"x": x}, list_of_outputs=[0, True, "web"]).to_list() == [
        True, True, False, False]
    assert apply("isin", {"x": x}, list_of_outputs=[math.nan]).to_list() == [
        False, False, False, True]
    cats = pl.Series(["web", "store", None]).cast(pl.Categorical)
    assert apply("isin", {"c": cats}, list_of_outputs=["web", 0, None]).to_list() == [
        True, False, True]
    assert apply("isin", {"c": cats}).to_list() == [False, False, False]


# ------------------------------------------------------------------ ordered, as pandas


def pandas_fill(values: list, method: str, limit) -> pd.Series:
    series = pd.Series(values, dtype="float64")
    return series.ffill(limit=limit) if method in ("pad", "ffill") else series.bfill(limit=limit)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0, -3.0, math.inf])),
                min_size=1, max_size=25),
       st.sampled_from(["pad", "ffill", "bfill", "backfill"]), st.sampled_from([None, 1, 2]),
       st.integers(0, 3))
def test_ordered_transforms_equal_pandas_after_filling(values, method, limit, periods):
    filled = pandas_fill(values, method, limit)
    with np.errstate(all="ignore"):
        change = (filled / filled.shift(periods) - 1).to_numpy()
    got = apply("percent_change", {"x": values}, periods=periods, fill_method=method, limit=limit)
    np.testing.assert_array_equal(floats_of(got), change)
    diff = filled.diff().abs().to_numpy()
    got = apply("absolute_diff", {"x": values}, method=method, limit=limit)
    np.testing.assert_array_equal(floats_of(got), diff)
    # same_as_previous: False on the first row, missing where either filled value is
    same = apply("same_as_previous", {"x": values}, fill_method=method, limit=limit).to_list()
    previous = filled.shift(1)
    for i, value in enumerate(same):
        if i == 0:
            assert value is False
        elif pd.isna(filled[i]) or pd.isna(previous[i]):
            assert value is None
        else:
            assert value == (filled[i] == previous[i])


def test_numeric_lag_fills_the_first_rows_with_fill_value():
    times = [1, 2, 3, 4]
    assert apply("numeric_lag", {"t": times, "x": [5, 6, 7, 8]}).to_list() == [None, 5, 6, 7]
    assert apply("numeric_lag", {"t": times, "x": [5, 6, 7, 8]}, periods=2,
                 fill_value=0).to_list() == [0, 0, 5, 6]


def test_ordered_transforms_follow_time_and_never_see_rows_after_the_cutoff():
    """Rows given out of time order are sorted; rows after a cutoff, rewritten, change
    nothing at that cutoff (bfill only reaches rows known then)."""
    times = pd.to_datetime(["2021-01-05", "2021-01-01", "2021-01-03", "2021-01-02",
                            "2021-01-04", "2021-01-06"])
    events = pd.DataFrame({"id": range(6), "t": times, "x": [5.0, 1.0, None, 2.0, 4.0, 9.0]})
    trans = ["percent_change", "absolute_diff", "same_as_previous", "numeric_lag",
             get_primitive("percent_change").__class__(fill_method="bfill")]

    def matrix(frame):
        es = fk.EntitySet("e")
        es.add_table("events", frame, index="id", time_index="t")
        matrix, _ = fk.dfs(es, target="events", trans_primitives=trans, agg_primitives=[],
                           max_depth=1, cutoff_time=pd.Timestamp("2021-01-04").to_pydatetime())
        return matrix

    before = matrix(events)
    in_order = events.sort_values("t")["x"]  # 1, 2, None, 4, 5, 9 -> known: 1, 2, None, 4
    expected = (in_order.ffill() / in_order.ffill().shift(1) - 1)
    known = events["t"] <= pd.Timestamp("2021-01-04")
    np.testing.assert_allclose(before.loc[known.to_numpy(), "PERCENT_CHANGE(x)"].to_numpy(),
                               expected.sort_index()[known].to_numpy(), equal_nan=True)
    # backward fill at the cutoff: the missing value takes the next known one (4.0), not 5.0
    assert before.loc[2, "PERCENT_CHANGE(x, fill_method=bfill)"] == pytest.approx(4.0 / 2 - 1)
    changed = events.copy()
    changed.loc[~known, "x"] = [100.0, -7.0]
    after = matrix(changed)
    pd.testing.assert_frame_equal(before.loc[known.to_numpy()].drop(columns="x"),
                                  after.loc[known.to_numpy()].drop(columns="x"))


# ------------------------------------------------------------------ parameters and files


@pytest.mark.parametrize(("name", "params", "says"), [
    ("add_numeric_scalar", {"value": "3"}, "value"),
    ("greater_than_scalar", {"value": None}, "value"),
    ("equal_scalar", {"value": [1]}, "value"),
    ("isin", {"list_of_outputs": "web"}, "list_of_outputs"),
    ("isin", {"list_of_outputs": [{"a": 1}]}, "list_of_outputs"),
    ("percent_change", {"periods": -1}, "periods"),
    ("percent_change", {"freq": "D"}, "freq"),
    ("percent_change", {"fill_method": "nearest"}, "fill_method"),
    ("same_as_previous", {"limit": 0}, "limit"),
    ("absolute_diff", {"method": "pad "}, "method"),
    ("numeric_lag", {"periods": 1.5}, "periods"),
    ("numeric_lag", {"fill_value": "x"}, "fill_value"),
    ("subtract_numeric", {"commutative": "yes"}, "commutative"),
    ("divide_numeric", {"value": 2}, "value"),
])
def test_bad_parameters_are_refused_with_the_fix(name, params, says):
    with pytest.raises(PlanError, match=f"{name}.*{says}.*Fix"):
        type(get_primitive(name))(**params)


def test_definitions_survive_saving_and_pickling(tmp_path):
    es = fk.demo.load_retail(n_customers=5)
    trans = [type(get_primitive("isin"))(list_of_outputs=["mobile", 3]),
             type(get_primitive("divide_numeric_scalar"))(value=0), "subtract_numeric",
             type(get_primitive("percent_change"))(periods=2, limit=1), "equal", "and"]
    features = fk.plan(es, target="transactions", max_depth=1, trans_primitives=trans,
                       agg_primitives=[])
    path = tmp_path / "features.json"
    fk.save_features(features, path)
    loaded = fk.load_features(path)
    assert [f.name for f in loaded] == [f.name for f in features]
    assert pickle.loads(pickle.dumps(features))[-1].name == features[-1].name
    first, second = fk.compute(es, features), fk.compute(es, loaded)
    pd.testing.assert_frame_equal(first, second)
    assert json.loads(path.read_text())  # plain JSON


def test_commutative_primitives_build_one_order_and_divide_both():
    es = fk.demo.load_retail(n_customers=5)

    def names(trans):
        planned = fk.plan(es, target="customers", max_depth=2, agg_primitives=["sum", "count"],
                          trans_primitives=trans)
        return {f.name for f in planned}

    made = names(["add_numeric", "subtract_numeric", "divide_numeric"])
    pair = ("COUNT(sessions)", "SUM(transactions.amount)")
    assert f"{pair[0]} + {pair[1]}" in made and f"{pair[1]} + {pair[0]}" not in made
    assert f"{pair[0]} - {pair[1]}" in made and f"{pair[1]} - {pair[0]}" not in made
    assert f"{pair[0]} / {pair[1]}" in made and f"{pair[1]} / {pair[0]}" in made
    both = names([type(get_primitive("subtract_numeric"))(commutative=False)])
    assert {f"{pair[0]} - {pair[1]}", f"{pair[1]} - {pair[0]}"} <= both


CHECKS = {  # the demo matrix's transform columns, recomputed from their input columns
    "add_numeric": lambda a, b: a + b,
    "divide_numeric": lambda a, b: a / b,
    "greater_than": lambda a, b: (a > b).where(a.notna() & b.notna()),
    "negate": lambda a: -a,
    "natural_logarithm": np.log,
}


def test_demo_data_end_to_end():
    """``fk.dfs`` with Featuretools' primitive names on the demo data: every add / divide /
    greater-than / negate / log column equals the operation on its input columns."""
    es = fk.demo.load_retail(n_customers=20)
    trans = ["add_numeric", "divide_numeric", "greater_than", "equal", "not", "and",
             "percent_change", "same_as_previous", "natural_logarithm", "isin",
             "multiply_numeric_boolean", "negate", "numeric_lag"]
    matrix, features = fk.dfs(es, target="customers", max_depth=2, trans_primitives=trans)
    assert matrix.shape == (20, len(features)) and len(features) > 300
    checked = 0
    for feature in features:
        primitive = feature.root_primitive()
        names = [f.name for f in feature.inputs]
        if primitive is None or primitive.name not in CHECKS or feature.kind != "transform" \
                or not set(names) <= set(matrix.columns):
            continue
        inputs = [matrix[n].astype("float64") for n in names]
        with np.errstate(all="ignore"):
            expected = CHECKS[primitive.name](*inputs).astype("float64")
        np.testing.assert_allclose(matrix[feature.name].astype("float64"), expected,
                                   rtol=1e-12, equal_nan=True, err_msg=feature.name)
        checked += 1
    assert checked > 50
