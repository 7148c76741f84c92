"""Pruning drops exactly the columns an independent pandas computation says it should, says
why, keeps rows and kinds as they came, and imputation follows tsfresh's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from featurekit.errors import SelectionError
from featurekit.selection import (
    drop_correlated,
    drop_highly_null,
    drop_low_information,
    drop_single_value,
    impute,
    impute_ranges,
)
from featurekit.selection.pruning import correlation_matrix


@pytest.fixture
def messy() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 200
    frame = pd.DataFrame({
        "normal": rng.normal(0, 1, n),
        "single": np.full(n, 3.5),
        "single_with_gaps": np.where(rng.random(n) < 0.3, np.nan, -1.0),
        "empty": np.full(n, np.nan),
        "mostly_null": np.where(rng.random(n) < 0.8, np.nan, rng.normal(0, 1, n)),
        "rare_ones": (rng.random(n) < 0.02).astype(float),
        "some_ones": (rng.random(n) < 0.3).astype(float),
        "label": rng.choice(["a", "b"], n, p=[0.985, 0.015]),
        "flag": np.ones(n, dtype=bool),
    }, index=pd.Index(rng.permutation(n) + 500, name="id"))
    return frame


def test_single_value_columns_match_pandas_nunique(messy):
    kept, dropped = drop_single_value(messy)
    expected = [c for c in messy.columns if messy[c].nunique(dropna=True) <= 1]
    assert list(dropped) == expected
    assert dropped["single"] == "single value 3.5"
    assert dropped["empty"] == "no values (all missing)"
    assert list(kept.columns) == [c for c in messy.columns if c not in expected]
    pd.testing.assert_frame_equal(kept, messy[kept.columns])

    _, counting_gaps = drop_single_value(messy, count_missing_as_value=True)
    assert list(counting_gaps) == [c for c in messy.columns
                                   if messy[c].nunique(dropna=False) <= 1]


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.95])
def test_highly_null_columns_match_pandas_isna(messy, fraction):
    kept, dropped = drop_highly_null(messy, max_null_fraction=fraction)
    shares = messy.isna().mean()
    assert list(dropped) == list(shares[shares > fraction].index)
    assert list(kept.columns) == list(shares[shares <= fraction].index)
    for name in dropped:
        assert f"{int(messy[name].isna().sum())} of 200 rows missing" in dropped[name]


def test_low_information_columns_match_pandas_value_counts(messy):
    kept, dropped = drop_low_information(messy, max_share=0.95)
    top_share = {c: messy[c].value_counts(normalize=True, dropna=True).max()
                 for c in messy.columns}
    expected = [c for c, share in top_share.items() if np.isnan(share) or share > 0.95]
    assert list(dropped) == expected
    assert {"rare_ones", "label", "single", "flag"} <= set(dropped)
    assert "some_ones" not in dropped
    count = int((messy["label"] == "a").sum())
    assert dropped["label"].startswith(f"value 'a' fills {count} of 200 present rows")


def test_pruning_keeps_polars_frames_and_row_order(messy):
    frame = pl.from_pandas(messy.reset_index())
    kept, dropped = drop_single_value(frame)
    assert isinstance(kept, pl.DataFrame)
    assert kept["id"].to_list() == messy.index.tolist()
    assert set(dropped) == {"single", "single_with_gaps", "empty", "flag"}


def test_correlations_match_pandas_including_pairwise_missing_rows():
    rng = np.random.default_rng(4)
    base = rng.normal(0, 1, 300)
    frame = pd.DataFrame({"a": base, "b": base + rng.normal(0, 0.5, 300),
                          "c": np.exp(base) + rng.normal(0, 0.1, 300),
                          "d": rng.normal(0, 1, 300)})
    holes = frame.mask(rng.random(frame.shape) < 0.1)
    pl_holes = pl.from_pandas(holes, nan_to_null=False)
    np.testing.assert_allclose(correlation_matrix(pl_holes, list(frame), "pearson"),
                               holes.corr(method="pearson").to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(correlation_matrix(pl.from_pandas(frame), list(frame), "spearman"),
                               frame.corr(method="spearman").to_numpy(), rtol=1e-10)


def test_correlated_pairs_keep_the_first_or_the_more_relevant_column():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 300)
    relevant = y + rng.normal(0, 0.5, 300)
    frame = pd.DataFrame({
        "copy_of_relevant_but_noisier": relevant + rng.normal(0, 0.12, 300),
        "relevant": relevant,
        "independent": rng.normal(0, 1, 300),
        "label": rng.choice(["x", "y"], 300),
    })
    correlation = frame[["copy_of_relevant_but_noisier", "relevant"]].corr().iloc[0, 1]
    assert correlation > 0.95

    kept, dropped = drop_correlated(frame, threshold=0.95)
    assert dropped == {"relevant": f"correlated with 'copy_of_relevant_but_noisier' "
                                   f"(r = {correlation:.3f})"}
    kept, dropped = drop_correlated(frame, y, threshold=0.95)
    assert list(dropped) == ["copy_of_relevant_but_noisier"]
    assert list(kept.columns) == ["relevant", "independent", "label"]


def test_no_two_kept_columns_are_correlated_and_every_dropped_one_has_a_kept_partner():
    rng = np.random.default_rng(7)
    factors = rng.normal(0, 1, (150, 4))
    frame = pd.DataFrame(factors @ rng.normal(0, 1, (4, 25)) + rng.normal(0, 0.3, (150, 25)),
                         columns=[f"f{i}" for i in range(25)])
    kept, dropped = drop_correlated(frame, threshold=0.8, method="spearman")
    correlations = frame.corr(method="spearman").abs()
    assert dropped and len(kept.columns) >= 1
    inner = correlations.loc[kept.columns, kept.columns].to_numpy()
    assert (inner[~np.eye(len(kept.columns), dtype=bool)] <= 0.8 + 1e-12).all()
    for name in dropped:
        assert correlations.loc[name, kept.columns].max() > 0.8


def test_impute_follows_tsfresh_rules_and_reuses_learned_ranges():
    train = pd.DataFrame({"a": [1.0, 5.0, np.nan, 2.0, np.inf], "b": [np.nan] * 5,
                          "c": [-np.inf, 0.5, 0.25, 1.0, 1.0], "label": list("xyxyx")})
    imputed = impute(train)
    assert imputed["a"].tolist() == [1.0, 5.0, 2.0, 2.0, 5.0]
    assert imputed["b"].tolist() == [0.0] * 5
    assert imputed["c"].tolist() == [0.25, 0.5, 0.25, 1.0, 1.0]
    assert imputed["label"].tolist() == list("xyxyx")
    assert train["a"].isna().sum() == 1  # the input is untouched

    ranges = impute_ranges(train)
    test = pl.DataFrame({"a": [None, -np.inf], "b": [3.0, None], "c": [np.nan, 9.0]})
    imputed_test = impute(test, ranges)
    assert imputed_test.to_dict(as_series=False) == {"a": [2.0, 1.0], "b": [3.0, 0.0],
                                                     "c": [0.75, 9.0]}


def test_bad_thresholds_are_named(messy):
    with pytest.raises(SelectionError, match="max_null_fraction"):
        drop_highly_null(messy, max_null_fraction=1.5)
    with pytest.raises(SelectionError, match="method"):
        drop_correlated(messy, method="kendall")
