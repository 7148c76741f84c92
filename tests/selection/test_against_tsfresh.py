"""featurekit's relevance table gives tsfresh 0.21's p-values, types and relevant flags.

The fixtures in tests/data were written by tests/selection/make_reference.py with tsfresh's
``calculate_relevance_table`` (in its own virtualenv; tsfresh is never imported here): binary,
small (exact-test) and multiclass classification, regression, Benjamini-Hochberg and the
Kolmogorov-Smirnov option, and tsfresh's own features of labelled series.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from featurekit.selection import relevance_table

DATA = Path(__file__).resolve().parents[1] / "data"
CASES = json.loads((DATA / "tsfresh_relevance_cases.json").read_text())
TARGET = "__target__"
RELATIVE_TOLERANCE = 1e-9


def load_case(name: str) -> tuple[pd.DataFrame, pd.Series, dict, pd.DataFrame]:
    case = CASES[name]
    frame = pd.read_parquet(DATA / f"tsfresh_relevance_{case['data']}_input.parquet")
    reference = pd.read_parquet(DATA / f"tsfresh_relevance_{name}.parquet").set_index("feature")
    return frame.drop(columns=TARGET), frame[TARGET], case["options"], reference


def assert_same_table(ours: pd.DataFrame, reference: pd.DataFrame) -> None:
    assert sorted(ours["feature"]) == sorted(reference.index)
    ours = ours.set_index("feature").loc[reference.index]
    assert ours["type"].tolist() == reference["type"].tolist()
    p_columns = [c for c in reference.columns if c.startswith("p_value")]
    flag_columns = [c for c in reference.columns if c.startswith("relevant")]
    assert p_columns and "relevant" in flag_columns
    for column in p_columns:
        expected = reference[column].to_numpy(dtype=float)
        actual = ours[column].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(actual), np.isnan(expected)), column
        both = ~np.isnan(expected)
        np.testing.assert_allclose(actual[both], expected[both], rtol=RELATIVE_TOLERANCE,
                                   atol=0, err_msg=column)
    for column in flag_columns:
        assert ours[column].astype(bool).tolist() == reference[column].astype(bool).tolist(), column
    if "n_significant" in reference.columns:
        assert ours["n_significant"].tolist() == reference["n_significant"].astype(int).tolist()


@pytest.mark.parametrize("name", sorted(CASES))
def test_p_values_and_relevant_flags_match_tsfresh(name):
    X, y, options, reference = load_case(name)
    ours = relevance_table(X, y, **options)
    assert_same_table(ours, reference)
    # the cases are chosen to test something: some features pass, some do not
    assert 0 < reference["relevant"].sum() < len(reference)


@pytest.mark.parametrize("name", ["binary", "multiclass_two", "regression_small"])
def test_polars_input_gives_the_same_table(name):
    X, y, options, reference = load_case(name)
    ours = relevance_table(pl.from_pandas(X), pl.Series(y.to_numpy()), **options)
    assert isinstance(ours, pl.DataFrame)
    assert_same_table(ours.to_pandas(), reference)


def test_shuffled_columns_and_rows_give_the_same_p_values():
    X, y, options, reference = load_case("multiclass_flag")
    order = np.random.default_rng(3).permutation(len(X))
    columns = list(reversed(X.columns))
    ours = relevance_table(X.iloc[order][columns].reset_index(drop=True),
                           y.iloc[order].reset_index(drop=True), **options)
    assert_same_table(ours, reference)
