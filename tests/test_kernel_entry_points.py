"""The array-level kernel entry points the online path calls (``laid_out_moments``,
``laid_out_categories``, ``array_codes``) against plain numpy/pandas statistics written here,
and against the batch entry points (``group_moments``, ``group_categories``) on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
from featurekit.primitives.kernels import (
    DenseKeys,
    array_codes,
    group_categories,
    group_moments,
    laid_out_categories,
    laid_out_moments,
)
from hypothesis import given, settings
from hypothesis import strategies as st

FLOAT_STATS = {"count", "sum", "mean", "std", "var", "min", "max", "skew"}

floats = st.one_of(st.floats(-1e6, 1e6), st.just(np.nan), st.just(np.inf), st.just(-np.inf))


def _starts(owners: np.ndarray, n_groups: int) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.bincount(owners, minlength=n_groups))]).astype(np.int64)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), floats), max_size=40))
def test_laid_out_moments_match_pandas_and_group_moments(rows):
    n_groups = 4
    owners = np.array([r[0] for r in rows], np.int64)
    values = np.array([r[1] for r in rows], np.float64)
    order = np.argsort(owners, kind="stable")
    found, _ = laid_out_moments(values[order], _starts(owners, n_groups), set(FLOAT_STATS))
    batch = group_moments(DenseKeys(owners.astype(np.int32), n_groups, 0), pl.Series(values),
                          set(FLOAT_STATS))
    frame = pd.DataFrame({"g": owners, "x": values})
    for group in range(n_groups):
        x = frame.x[frame.g == group]
        present = x[~np.isnan(x)]
        assert found["count"][group] == len(present)
        if len(present) and np.isfinite(present).all():
            assert np.isclose(found["sum"][group], present.sum(), rtol=1e-9, atol=1e-6)
            assert found["min"][group] == present.min() and found["max"][group] == present.max()
            if len(present) > 1:
                assert np.isclose(found["var"][group], present.var(ddof=1), rtol=1e-6, atol=1e-6)
    for stat in FLOAT_STATS:
        np.testing.assert_array_equal(found[stat], batch[stat])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(-2**40, 2**40), st.booleans()), max_size=30))
def test_laid_out_exact_integers(rows):
    n_groups = 3
    owners = np.array([r[0] for r in rows], np.int64)
    values = np.array([r[1] for r in rows], np.int64)
    missing = np.array([r[2] for r in rows], bool)
    order = np.argsort(owners, kind="stable")
    numbers = np.where(missing, np.nan, values.astype(np.float64))[order]
    valid = (~missing[order]).view(np.uint8)
    found, empty = laid_out_moments(numbers, _starts(owners, n_groups), {"sum", "min", "max"},
                                    (values[order], valid))
    for group in range(n_groups):
        kept = values[(owners == group) & ~missing]
        assert found["sum"][group] == int(kept.sum())  # exact, not through floats
        assert empty[group] == (len(kept) == 0)
        if len(kept):
            assert found["min"][group] == kept.min() and found["max"][group] == kept.max()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.one_of(st.integers(-5, 5), st.none())), max_size=40))
def test_array_codes_and_laid_out_categories_match_group_categories(rows):
    n_groups = 4
    owners = np.array([r[0] for r in rows], np.int64)
    missing = np.array([r[1] is None for r in rows], bool)
    values = np.array([0 if r[1] is None else r[1] for r in rows], np.int64)
    codes, table = array_codes(values, missing)
    order = np.argsort(owners, kind="stable")
    modes, distinct = laid_out_categories(codes[order], _starts(owners, n_groups), len(table))
    series = pl.Series([r[1] for r in rows], dtype=pl.Int64)
    batch = group_categories(DenseKeys(owners.astype(np.int32), n_groups, 0), series,
                             {"mode", "nunique"})
    for group in range(n_groups):
        kept = pd.Series(values[(owners == group) & ~missing])
        assert distinct[group] == kept.nunique() == batch["nunique"][group]
        if len(kept):
            counts = kept.value_counts()
            expected = min(counts.index[counts == counts.max()])  # ties: the smallest value
            assert table[modes[group]] == expected == batch["mode"][group]
        else:
            assert modes[group] == -1 and batch["mode"][group] is None
