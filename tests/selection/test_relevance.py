"""relevance_table and select_relevant beyond tsfresh parity: the FDR procedures against scipy,
the categorical extension, frame kinds, row order, the nothing-relevant message, bad input."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats

from featurekit.errors import (
    FeaturekitError,
    NoRelevantFeaturesError,
    NoRelevantFeaturesWarning,
    SelectionError,
)
from featurekit.selection import adjusted_p_values, fdr_control, relevance_table, select_relevant


@pytest.fixture
def labelled() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 120)
    X = pd.DataFrame({
        "strong": y + rng.normal(0, 0.6, 120),
        "weak": 0.3 * y + rng.normal(0, 1, 120),
        "noise": rng.normal(0, 1, 120),
        "flag": (y + rng.normal(0, 0.8, 120)) > 0.5,
        "colour": np.where(y == 1, rng.choice(["red", "blue", "green"], 120, p=[0.6, 0.2, 0.2]),
                           rng.choice(["red", "blue", "green"], 120, p=[0.2, 0.4, 0.4])),
    }, index=pd.RangeIndex(1000, 1120, name="customer_id"))
    return X, y


@pytest.mark.parametrize("independent", [True, False])
def test_fdr_control_rejects_exactly_where_scipy_adjusted_p_values_are_below_the_level(independent):
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(0, 0.01, 30), rng.uniform(0, 1, 300)])
    method = "bh" if independent else "by"
    scipy_adjusted = stats.false_discovery_control(p, method=method)
    np.testing.assert_allclose(adjusted_p_values(p, independent), scipy_adjusted, rtol=1e-12)
    for level in (0.01, 0.05, 0.2):
        rejected = fdr_control(p, level, independent)
        assert 0 < rejected.sum() < len(p)
        assert rejected.tolist() == (scipy_adjusted <= level).tolist()


def test_categorical_features_use_chi_squared_and_kruskal(labelled):
    X, y = labelled
    table = relevance_table(X, y)
    assert table.loc["colour", "type"] == "categorical"
    expected = stats.chi2_contingency(pd.crosstab(y == 0, X["colour"].to_numpy())).pvalue
    assert table.loc["colour", "p_value"] == pytest.approx(expected, rel=1e-12)

    target = y + np.random.default_rng(2).normal(0, 1, len(y))
    regression = relevance_table(X, target)
    groups = [target[X["colour"].to_numpy() == c] for c in ("blue", "green", "red")]
    assert regression.loc["colour", "p_value"] == pytest.approx(stats.kruskal(*groups).pvalue,
                                                                rel=1e-12)


def test_boolean_and_two_category_features_are_tested_like_their_zero_one_coding(labelled):
    X, y = labelled
    coded = pd.DataFrame({"flag": X["flag"].astype(float),
                          "pair": (X["strong"] > 0.5).astype(float)}, index=X.index)
    as_types = pd.DataFrame({"flag": X["flag"],
                             "pair": np.where(X["strong"] > 0.5, "yes", "no")}, index=X.index)
    for target in (y, y + np.random.default_rng(4).normal(0, 0.5, len(y))):
        numbers, typed = relevance_table(coded, target), relevance_table(as_types, target)
        assert (typed["type"] == "binary").all()
        np.testing.assert_allclose(typed.loc[["flag", "pair"], "p_value"],
                                   numbers.loc[["flag", "pair"], "p_value"], rtol=1e-12)


def test_pandas_and_polars_agree_and_keep_rows_in_place(labelled):
    X, y = labelled
    from_pandas = relevance_table(X, y)
    from_polars = relevance_table(pl.from_pandas(X.reset_index(drop=True)), pl.Series(y))
    assert isinstance(from_polars, pl.DataFrame)
    assert from_polars["feature"].to_list() == from_pandas["feature"].tolist()
    np.testing.assert_allclose(from_polars["p_value"].to_numpy(),
                               from_pandas["p_value"].to_numpy(), rtol=1e-12)

    selected = select_relevant(X, pd.Series(y, index=X.index))
    assert list(selected.columns) == [c for c in X.columns if c in set(selected.columns)]
    assert selected.index.equals(X.index)
    pd.testing.assert_frame_equal(selected, X[selected.columns])
    selected_polars = select_relevant(pl.from_pandas(X), y)
    assert selected_polars.columns == list(selected.columns)
    assert selected_polars["strong"].to_list() == X["strong"].tolist()


def test_table_rows_come_most_relevant_first_with_constants_last(labelled):
    X, y = labelled
    table = relevance_table(X.assign(flat=1.0), y)
    tested = table[table["type"] != "constant"]
    assert tested["p_value"].is_monotonic_increasing
    assert table["feature"].iloc[-1] == "flat" and np.isnan(table["p_value"].iloc[-1])
    assert not table.loc["flat", "relevant"]


def test_nothing_relevant_names_the_fdr_level_that_would_admit_the_best_feature():
    rng = np.random.default_rng(8)
    y = np.repeat([0, 1], 30)
    X = pd.DataFrame({f"noise_{i}": rng.normal(0, 1, 60) for i in range(12)})
    X["faint"] = 0.25 * y + rng.normal(0, 1, 60)
    with pytest.warns(NoRelevantFeaturesWarning, match="fdr_level") as caught:
        table = relevance_table(X, y)
    assert not table["relevant"].any()
    text = str(caught[0].message)
    level = float(re.search(r"passes from fdr_level ([0-9.e+-]+?)\. Fix", text).group(1))
    best = table["feature"].iloc[0]
    assert repr(best) in text and "hypotheses_independent" in text
    # the level in the message is where the best feature turns relevant
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert relevance_table(X, y, fdr_level=min(1.0, level * 1.01)).loc[best, "relevant"]
    with pytest.warns(NoRelevantFeaturesWarning):
        relevance_table(X, y, fdr_level=level * 0.99)

    with pytest.raises(NoRelevantFeaturesError, match="fdr_level"):
        select_relevant(X, y)
    with pytest.warns(NoRelevantFeaturesWarning):
        empty = select_relevant(X, y, on_empty="warn")
    assert empty.shape == (60, 0)


def test_multiclass_needs_n_significant_classes():
    rng = np.random.default_rng(9)
    y = np.repeat(["a", "b", "c"], 40)
    X = pd.DataFrame({"only_a": (y == "a") * 2.0 + rng.normal(0, 0.5, 120),
                      "a_and_b": (y != "c") * 2.0 + (y == "b") * 4.0 + rng.normal(0, 0.5, 120)})
    one = relevance_table(X, y, multiclass=True, n_significant=1)
    three = relevance_table(X, y, multiclass=True, n_significant=3)
    assert one.loc["only_a", "n_significant"] >= 1 and one["relevant"].all()
    assert three["relevant"].tolist() == (three["n_significant"] == 3).tolist()
    assert {"p_value_a", "relevant_b", "p_value_c"} <= set(one.columns)
    expected = stats.mannwhitneyu(X["only_a"][y == "a"], X["only_a"][y != "a"]).pvalue
    assert one.loc["only_a", "p_value_a"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("make_y", "message"), [
    (lambda X, y: y[:-1], "y has 119 values but X has 120 rows"),
    (lambda X, y: pd.Series(y), "index of y does not match the index of X"),
    (lambda X, y: pd.Series(y, index=X.index[::-1]), r"y = y.loc\[X.index\]"),
    (lambda X, y: np.where(np.arange(len(y)) == 3, np.nan, y), "1 missing value .* rows 3"),
    (lambda X, y: np.zeros(len(y), dtype=int), "1 class found"),
    (lambda X, y: np.zeros(len(y)), "y is constant"),
    (lambda X, y: None, "requires y to be passed"),
    (lambda X, y: np.stack([y, y], axis=1), "1d array"),
])
def test_bad_targets_are_named(labelled, make_y, message):
    X, y = labelled
    with pytest.raises(SelectionError, match=message):
        relevance_table(X, make_y(X, y))


def test_bad_matrices_and_options_are_named(labelled):
    X, y = labelled
    holes = X.assign(weak=X["weak"].where(X["weak"] > -1.5), noise=X["noise"].replace(
        X["noise"].iloc[0], np.inf))
    n_missing = int((X["weak"] <= -1.5).sum())
    with pytest.raises(SelectionError, match=rf"'weak' \({n_missing} of 120 rows\), 'noise' "
                                             r"\(1 of 120 rows\).*impute"):
        relevance_table(holes, y)
    with pytest.raises(SelectionError, match="'when'.*Datetime"):
        relevance_table(X.assign(when=pd.Timestamp("2024-01-01")), y)
    with pytest.raises(SelectionError, match="regression needs a numeric y"):
        relevance_table(X, np.where(y == 1, "yes", "no"), ml_task="regression")
    with pytest.raises(SelectionError, match="fdr_level"):
        relevance_table(X, y, fdr_level=0)
    with pytest.raises(SelectionError, match="n_significant"):
        relevance_table(X, np.arange(120) % 3, multiclass=True, n_significant=4)
    with pytest.raises(SelectionError, match="0 feature"):
        relevance_table(X[[]], y)
    with pytest.raises(SelectionError, match="repeated column names"):
        relevance_table(X.set_axis(["a", "a", "b", "c", "d"], axis=1), y)
    assert issubclass(SelectionError, FeaturekitError) and issubclass(SelectionError, ValueError)


def test_string_labels_infer_classification_and_floats_regression(labelled):
    X, y = labelled
    labels = relevance_table(X, np.where(y == 1, "yes", "no"))
    numbers = relevance_table(X, y)
    np.testing.assert_allclose(labels["p_value"], numbers["p_value"], rtol=1e-12)
    regression = relevance_table(X, y.astype(float))
    expected = stats.kendalltau(X["strong"], y.astype(float), method="asymptotic").pvalue
    assert regression.loc["strong", "p_value"] == pytest.approx(expected, rel=1e-12)
