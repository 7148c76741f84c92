"""The default models of ``compare_models``, each a scikit-learn pipeline that takes a
featurekit feature matrix as it comes: numbers with missing values, booleans and pandas
category columns."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from featurekit.errors import FeaturekitError

# characters LightGBM and XGBoost refuse in feature names
_UNSAFE = re.compile(r'[",:\[\]{}<>]')


class PrepareColumns(TransformerMixin, BaseEstimator):
    """Read a feature matrix into the column kinds models take: numbers (booleans and
    nullable integers as floats, infinities as missing) and pandas categories.

    Strings and pandas categories become categories whose values are learned in ``fit``
    (with ``max_categories``, the most frequent ones); a value not learned is missing at
    ``transform``, so training and validation folds always agree on the categories.
    Datetime columns are refused (turn them into features first, e.g. with DFS).
    ``plain_names`` replaces the characters LightGBM and XGBoost refuse in column names.

    >>> import pandas as pd
    >>> X = pd.DataFrame({"n": [1, None, 3], "flag": [True, False, True], "c": ["a", "b", "a"]})
    >>> PrepareColumns(max_categories=1).fit_transform(X).dtypes.astype(str).tolist()
    ['float64', 'float64', 'category']
    """

    def __init__(self, max_categories: int | None = None, plain_names: bool = False):
        self.max_categories = max_categories
        self.plain_names = plain_names

    def _frame(self, X: Any) -> pd.DataFrame:
        if isinstance(X, pl.DataFrame):
            return X.to_pandas()
        if isinstance(X, pd.DataFrame):
            return X
        values = np.asarray(X)
        if values.ndim != 2:
            raise FeaturekitError(f"PrepareColumns takes a table, got shape {values.shape}. "
                                  "Fix: pass a DataFrame or a 2-d array")
        return pd.DataFrame(values, columns=[f"x{i}" for i in range(values.shape[1])])

    def fit(self, X: Any, y: Any = None) -> PrepareColumns:
        """Learn each column's kind and, for categories, its values."""
        frame = self._frame(X)
        unusable = [str(c) for c in frame.columns
                    if pd.api.types.is_datetime64_any_dtype(frame[c])
                    or pd.api.types.is_timedelta64_dtype(frame[c])]
        if unusable:
            raise FeaturekitError(f"columns {unusable[:5]} hold times, which models cannot take "
                                  "as they are. Fix: drop them (a cutoff time belongs in the "
                                  "index), or turn them into features (DFS's time transforms)")
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.categories_ = {}
        for name, column in frame.items():
            if _is_categorical(column):
                counts = _category_values(column).value_counts(sort=True, dropna=True)
                kept = counts.index if self.max_categories is None else \
                    counts.index[: self.max_categories]
                self.categories_[str(name)] = sorted(kept.tolist())
        names = [str(c) for c in frame.columns]
        if self.plain_names:
            names = _plain(names)
        self.names_out_ = np.asarray(names, dtype=object)
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        """The columns as numbers and categories (a new frame; ``X`` is not changed)."""
        check_is_fitted(self, "categories_")
        frame = self._frame(X)
        names = [str(c) for c in frame.columns]
        if names != list(self.feature_names_in_):
            missing = [c for c in self.feature_names_in_ if c not in names]
            raise FeaturekitError(f"X's columns differ from those seen in fit (missing: "
                                  f"{missing[:5]}). Fix: pass the same features, in the same order")
        columns = {}
        for position, (name, out) in enumerate(zip(names, self.names_out_, strict=True)):
            column = frame.iloc[:, position]
            if name in self.categories_:
                values = _category_values(column)
                known = self.categories_[name]
                columns[out] = pd.Categorical(values.where(values.isin(known), None),
                                              categories=known)
            else:
                numbers = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()
                columns[out] = np.where(np.isinf(numbers), np.nan, numbers)
        return pd.DataFrame(columns, index=frame.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "categories_")
        return self.names_out_.copy()


def _category_values(column: pd.Series) -> pd.Series:
    """A categorical column's values as objects: strings stay strings (other objects become
    their text), a category of numbers keeps its numbers, missing stays missing."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        inner = column.dtype.categories.dtype
        if not (pd.api.types.is_object_dtype(inner) or pd.api.types.is_string_dtype(inner)):
            return column.astype(object).where(column.notna(), None)
    return column.astype(str).where(column.notna(), None)


def _is_categorical(column: pd.Series) -> bool:
    return (isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(column)
            or pd.api.types.is_string_dtype(column))


def _plain(names: list[str]) -> list[str]:
    """Names without the characters gradient-boosting libraries refuse, still distinct."""
    seen: set[str] = set()
    result = []
    for name in names:
        plain = _UNSAFE.sub("_", name)
        candidate, number = plain, 1
        while candidate in seen:
            number += 1
            candidate = f"{plain}_{number}"
        seen.add(candidate)
        result.append(candidate)
    return result


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not isinstance(frame[c].dtype, pd.CategoricalDtype)]


def _category_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]


def _encoded(categorical: Any, numeric: Any) -> Any:
    """Numbers and categories after ``PrepareColumns``, each through its own encoder."""
    from sklearn.compose import ColumnTransformer

    return ColumnTransformer([("numeric", numeric, _numeric_columns),
                              ("categorical", categorical, _category_columns)],
                             verbose_feature_names_out=False)


def default_models(task: str = "classification", random_state: int = 0) -> dict[str, Any]:
    """The models ``compare_models`` runs by default for ``task``, by name, each a pipeline
    with scikit-learn's default hyperparameters (and a fixed ``random_state``) whose steps are
    ``prepare`` (:class:`PrepareColumns`), ``encode`` (when needed) and ``model``, so that
    ``tune`` searches e.g. ``{"model__learning_rate": [0.05, 0.1]}``.

    ``baseline`` predicts the training fold's class shares or mean; the linear model
    (logistic regression, or ridge for regression) imputes medians (with missing-value
    indicators), scales, and one-hot encodes categories (at most 20 per column); random forest
    and extra trees impute medians and number the categories; histogram gradient boosting,
    LightGBM and XGBoost (when installed) take missing values and categories natively.

    >>> sorted(default_models("regression"))[:3]
    ['baseline', 'extra_trees', 'hist_gradient_boosting']
    """
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    if task not in ("classification", "regression"):
        raise FeaturekitError(f"task must be 'classification' or 'regression', got {task!r}")
    classify = task == "classification"
    seed = {"random_state": random_state}

    def impute() -> Any:
        return SimpleImputer(strategy="median", add_indicator=True)

    def numbered() -> Any:
        return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                              encoded_missing_value=-1)

    def steps(*rest: Any, **prepare: Any) -> Pipeline:
        named = [("encode", step) for step in rest[:-1]] + [("model", rest[-1])]
        return Pipeline([("prepare", PrepareColumns(**prepare)), *named])

    linear = LogisticRegression(max_iter=1000) if classify else Ridge()
    one_hot = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20,
                            sparse_output=False)
    forest = RandomForestClassifier if classify else RandomForestRegressor
    extra = ExtraTreesClassifier if classify else ExtraTreesRegressor
    boosting = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    models = {
        "baseline": steps(DummyClassifier() if classify else DummyRegressor()),
        "logistic_regression" if classify else "ridge": steps(
            _encoded(one_hot, make_pipeline(impute(), StandardScaler())), linear),
        "random_forest": steps(_encoded(numbered(), impute()), forest(**seed)),
        "extra_trees": steps(_encoded(numbered(), impute()), extra(**seed)),
        "hist_gradient_boosting": steps(boosting(categorical_features="from_dtype", **seed),
                                        max_categories=250),
    }
    if importlib.util.find_spec("lightgbm") is not None:
        import lightgbm

        booster = lightgbm.LGBMClassifier if classify else lightgbm.LGBMRegressor
        models["lightgbm"] = steps(booster(verbose=-1, n_jobs=1, **seed), max_categories=250,
                                   plain_names=True)
    if importlib.util.find_spec("xgboost") is not None:
        import xgboost

        booster = xgboost.XGBClassifier if classify else xgboost.XGBRegressor
        models["xgboost"] = steps(booster(enable_categorical=True, tree_method="hist", n_jobs=1,
                                          **seed), max_categories=250, plain_names=True)
    return models
