"""encode_features: Featuretools 1.31's names, order and values (the reference was written by
tests/reference/make_featuretools_encode_reference.py), features that encode new data the
same way, and a matrix scikit-learn takes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

import featurekit as fk
from featurekit.demo import load_retail

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "featuretools_encode_reference.json").read_text())
CUTOFF = pd.Timestamp(REFERENCE["cutoff"]).to_pydatetime()


@pytest.fixture(scope="module")
def dfs_runs():
    es = load_retail(REFERENCE["n_customers"])
    return es, {target: fk.dfs(es, target=target, max_depth=2, cutoff_time=CUTOFF)
                for target in ("customers", "sessions")}


@pytest.mark.parametrize("key", sorted(REFERENCE["encode"]))
def test_names_order_and_values_equal_featuretools(dfs_runs, key):
    target, _ = key.split("/")
    expected = REFERENCE["encode"][key]
    matrix, features = dfs_runs[1][target]
    encoded, encoded_features = fk.encode_features(matrix, features, **expected["options"])
    assert list(encoded.columns) == expected["columns"]
    assert [f.name for f in encoded_features] == expected["features"]
    position = {key: i for i, key in enumerate(expected["index"])}
    rows = np.array([position[str(key)] for key in encoded.index])
    for column, true_rows in expected["true_rows"].items():
        wanted = np.zeros(len(expected["index"]), dtype=bool)
        wanted[true_rows] = True
        assert encoded[column].dtype == bool
        np.testing.assert_array_equal(encoded[column].to_numpy(), wanted[rows], err_msg=column)


def test_the_features_encode_new_data_the_same_way(tmp_path):
    """Learnt on 20 customers, saved and loaded, the encoding recomputes on 30: a value
    outside the learnt ones is unknown, a missing one too, and every column is a plain
    comparison written here with pandas."""
    small = load_retail(20)
    matrix, features = fk.dfs(small, target="sessions", max_depth=1, trans_primitives=[],
                              agg_primitives=["count", "mode"])
    _, encoded_features = fk.encode_features(matrix, features, top_n=3)
    fk.save_features(encoded_features, tmp_path / "features.json")
    loaded = fk.load_features(tmp_path / "features.json")
    larger = load_retail(30)
    again = fk.compute(larger, loaded)
    plain = fk.compute(larger, features)
    for feature in encoded_features:
        if feature.primitive is None or feature.primitive.name not in ("one_hot", "one_hot_unknown"):
            continue
        base = plain[feature.inputs[0].name].astype(object)
        if feature.primitive.name == "one_hot":
            expected = base.eq(feature.primitive.value).fillna(False).astype(bool)
        else:
            expected = ~base.isin(list(feature.primitive.values))
        np.testing.assert_array_equal(again[feature.name].to_numpy(), expected.to_numpy(),
                                      err_msg=feature.name)
    assert again["customer_id is unknown"].sum() > 0  # the 10 new customers were unknown


def test_the_encoded_matrix_equals_its_features_computed_again(dfs_runs):
    es, runs = dfs_runs
    matrix, features = runs["customers"]
    encoded, encoded_features = fk.encode_features(matrix, features)
    again = fk.compute(es, encoded_features, cutoff_time=CUTOFF)
    pd.testing.assert_frame_equal(again[encoded.columns], encoded)


def test_a_random_forest_fits_the_encoded_demo_matrix(dfs_runs):
    from sklearn.ensemble import RandomForestClassifier

    matrix, features = dfs_runs[1]["sessions"]
    labels = (matrix["COUNT(transactions)"] > matrix["COUNT(transactions)"].median()).to_numpy()
    with pytest.raises(ValueError, match="could not convert"):
        RandomForestClassifier(n_estimators=5, random_state=0).fit(matrix, labels)
    encoded, _ = fk.encode_features(matrix, features)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(encoded, labels)
    assert model.score(encoded, labels) > 0.9


def test_polars_matrix_keeps_its_index_in_front_and_pandas_values(dfs_runs):
    es, runs = dfs_runs
    matrix, features = runs["sessions"]
    as_polars = fk.compute(es, features, cutoff_time=CUTOFF, return_type="polars")
    encoded, _ = fk.encode_features(as_polars, features, top_n=3)
    from_pandas, _ = fk.encode_features(matrix, features, top_n=3)
    assert encoded.columns == ["session_id", *from_pandas.columns]
    for column in from_pandas.columns:
        if from_pandas[column].dtype == bool:
            assert encoded[column].to_list() == from_pandas[column].tolist(), column


def test_the_callers_matrix_is_untouched_unless_inplace(dfs_runs):
    matrix, features = dfs_runs[1]["customers"]
    before = matrix.copy()
    fk.encode_features(matrix, features)
    pd.testing.assert_frame_equal(matrix, before)
    copy = matrix.copy()
    encoded, _ = fk.encode_features(copy, features, inplace=True)
    assert encoded is copy and "zip_code" not in copy.columns and "zip_code is unknown" in copy


def test_one_hot_of_none_marks_missing_values():
    from featurekit.primitives import OneHot

    frame = pl.DataFrame({"x": ["a", None, "b"]})
    expr = OneHot().transform_expr([pl.col("x")], None)
    assert frame.select(expr).to_series().to_list() == [False, True, False]


@pytest.mark.parametrize(("arguments", "message"), [
    ({"top_n": 0}, "top_n must be a whole number"),
    ({"top_n": {"device": "3"}}, "top_n must be a whole number"),
    ({"include_unknown": "yes"}, "include_unknown must be True or False"),
    ({"to_encode": "device"}, "to_encode takes a list of names"),
    ({"inplace": 1}, "inplace must be True or False"),
])
def test_bad_arguments_get_featurekit_errors(dfs_runs, arguments, message):
    matrix, features = dfs_runs[1]["sessions"]
    with pytest.raises(fk.FeaturekitError, match=message):
        fk.encode_features(matrix, features, **arguments)


def test_a_matrix_without_the_features_columns_is_refused(dfs_runs):
    matrix, features = dfs_runs[1]["sessions"]
    with pytest.raises(fk.FeaturekitError, match="the matrix has no column 'device'"):
        fk.encode_features(matrix.drop(columns=["device"]), features)
    with pytest.raises(fk.FeaturekitError, match="inplace=True needs a pandas matrix"):
        fk.encode_features(pl.from_pandas(matrix), features, inplace=True)
    with pytest.raises(fk.FeaturekitError, match="not features"):
        fk.encode_features(matrix, ["device"])


def test_a_path_for_the_matrix_is_refused_and_unknown_to_encode_names_are_said():
    es = fk.demo.load_retail(n_customers=20)
    matrix, features = fk.dfs(es, target="sessions", max_depth=1)
    with pytest.raises(fk.FeaturekitError, match="matrix must be a pandas, polars or pyarrow"):
        fk.encode_features("features.parquet", features)
    with pytest.warns(UserWarning, match=r"to_encode names \['devise'\].*left out"):
        encoded, _ = fk.encode_features(matrix, features, to_encode=["devise"])
    assert list(encoded.columns) == list(matrix.columns)  # nothing named: nothing encoded
