"""scikit-learn transformers: deep feature synthesis, time-series extraction and FRESH
selection as steps of a ``Pipeline``.

They follow scikit-learn's estimator contract: ``__init__`` only stores its arguments, ``fit``
learns (state in attributes ending in ``_``) and returns ``self``, ``transform`` applies what
was learned, ``get_feature_names_out`` names the output, ``set_output(transform="pandas" |
"polars")`` chooses the output frame (by default it follows the input), and every instance
can be cloned, grid-searched and cross-validated. Selection learns on the training fold only.

>>> import numpy as np, pandas as pd
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> y = np.repeat([0, 1], 30)
>>> X = pd.DataFrame({"signal": y + rng.normal(0, 0.4, 60), "noise": rng.normal(0, 1, 60)})
>>> model = make_pipeline(RelevantFeatures(), LogisticRegression()).fit(X, y)
>>> model[0].get_feature_names_out().tolist()
['signal']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from featurekit.errors import FeaturekitError, NoRelevantFeaturesError, NoRelevantFeaturesWarning
from featurekit.selection._inputs import read_matrix, read_target, require_testable
from featurekit.selection.imputation import impute, impute_ranges
from featurekit.selection.relevance import ON_EMPTY, _relevance

__all__ = ["DeepFeatureSynthesis", "RelevantFeatures", "TimeSeriesFeatures"]


def _is_frame(X: Any) -> bool:
    return isinstance(X, pd.DataFrame | pl.DataFrame)


def _output_kind(estimator: BaseEstimator, X: Any) -> str:
    """The frame kind ``transform`` hands back: set_output's choice, else the input's kind."""
    chosen = _get_output_config("transform", estimator)["dense"]
    if chosen != "default":
        return chosen
    return "polars" if isinstance(X, pl.DataFrame) else "pandas" if _is_frame(X) else "numpy"


def _as_kind(frame: pd.DataFrame | pl.DataFrame, kind: str, index: pd.Index | None) -> Any:
    """``frame`` converted to ``kind`` ("pandas" keeps ``index`` when given)."""
    if kind == "polars":
        return frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
    if kind == "numpy":
        return frame.to_numpy()
    result = frame if isinstance(frame, pd.DataFrame) else frame.to_pandas()
    if index is not None and len(index) == len(result):
        result.index = index
    return result


class RelevantFeatures(TransformerMixin, BaseEstimator):
    """Keep the features FRESH finds relevant to the target on the training data.

    The options are those of :func:`featurekit.selection.relevance_table`; ``on_empty``
    says what to do when nothing is relevant: "raise" a ``NoRelevantFeaturesError`` naming
    the ``fdr_level`` that would admit the best feature, or "warn" and keep no column.

    Fitted attributes: ``relevance_table_`` (pandas, one row per input feature),
    ``relevant_features_`` (names, in input order), ``support_`` (boolean mask),
    ``n_features_in_`` and ``feature_names_in_``.

    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(1)
    >>> y = np.repeat([0, 1, 2], 20)
    >>> X = pl.DataFrame({"a": y * 1.0 + rng.normal(0, 0.3, 60), "b": rng.normal(0, 1, 60)})
    >>> RelevantFeatures().fit(X, y).transform(X).columns
    ['a']
    """

    def __init__(self, fdr_level: float = 0.05, hypotheses_independent: bool = False,
                 ml_task: str = "auto", multiclass: bool = False, n_significant: int = 1,
                 test_for_binary_target_real_feature: str = "mann", on_empty: str = "raise"):
        self.fdr_level = fdr_level
        self.hypotheses_independent = hypotheses_independent
        self.ml_task = ml_task
        self.multiclass = multiclass
        self.n_significant = n_significant
        self.test_for_binary_target_real_feature = test_for_binary_target_real_feature
        self.on_empty = on_empty

    def _validate(self, X: Any, reset: bool) -> Any:
        if _is_frame(X):
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        return validate_data(self, X, reset=reset, dtype="numeric", ensure_all_finite=True,
                             ensure_min_samples=2 if reset else 1)

    def fit(self, X: Any, y: Any) -> RelevantFeatures:
        """Test every column of ``X`` against ``y`` and remember the relevant ones."""
        if self.on_empty not in ON_EMPTY:
            raise FeaturekitError(f"on_empty must be one of {ON_EMPTY}, got {self.on_empty!r}")
        if y is None:
            raise FeaturekitError("RelevantFeatures requires y to be passed, but the target y "
                                  "is None. Fix: fit(X, y) with one target value per row")
        checked = self._validate(X, reset=True)
        matrix = read_matrix(checked)
        require_testable(matrix)
        target = read_target(y, checked, matrix.frame.height)
        table, message = _relevance(
            matrix, target, self.ml_task, self.fdr_level, self.hypotheses_independent,
            self.multiclass, self.n_significant, self.test_for_binary_target_real_feature,
            warn=False)
        if message is not None:
            if self.on_empty == "raise":
                raise NoRelevantFeaturesError(message + " (or RelevantFeatures(on_empty='warn') "
                                              "to keep no feature)")
            import warnings

            warnings.warn(message, NoRelevantFeaturesWarning, stacklevel=2)
        relevant = set(table.loc[table["relevant"], "feature"])
        self.support_ = np.array([name in relevant for name in matrix.names], dtype=bool)
        self.relevant_features_ = [label for label, keep in zip(matrix.labels, self.support_,
                                                                strict=True) if keep]
        self.relevance_table_ = table
        return self

    def transform(self, X: Any) -> Any:
        """The relevant columns of ``X`` (rows untouched)."""
        check_is_fitted(self)
        checked = self._validate(X, reset=False)
        kind = _output_kind(self, X)
        positions = np.flatnonzero(self.support_)
        if isinstance(checked, pd.DataFrame):
            selected = checked.iloc[:, positions].copy()
        elif isinstance(checked, pl.DataFrame):
            selected = checked.select([checked.columns[i] for i in positions])
        else:
            selected = np.asarray(checked)[:, positions]
            if kind == "numpy":
                return selected
            selected = pd.DataFrame(selected, columns=self.get_feature_names_out())
        return _as_kind(selected, kind, None)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the relevant features."""
        check_is_fitted(self)
        return _check_feature_names_in(self, input_features)[self.support_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _pass_through(X: Any, drop: list[str]) -> pd.DataFrame | pl.DataFrame:
    """``X``'s own columns except ``drop`` (a new frame; the caller's is never touched)."""
    if isinstance(X, pl.DataFrame):
        return X.drop([c for c in drop if c in X.columns])
    return X.drop(columns=[c for c in drop if c in X.columns])


def _append(keep: pd.DataFrame | pl.DataFrame, features: pd.DataFrame | pl.DataFrame,
            kind: str) -> Any:
    """``keep`` (X's passed-through columns) then ``features``, row for row, as ``kind``."""
    clashes = sorted(set(keep.columns) & set(features.columns))
    if clashes:
        raise FeaturekitError(f"X already has columns named like features: {clashes[:5]}. "
                              "Fix: rename or drop them before the transformer")
    if isinstance(keep, pd.DataFrame):
        if isinstance(features, pl.DataFrame):
            features = features.to_pandas()
        combined = pd.concat([keep, features.set_axis(keep.index, axis=0)], axis=1)
        return _as_kind(combined, kind, keep.index)
    if isinstance(features, pd.DataFrame):
        features = pl.from_pandas(features, include_index=False)
    return _as_kind(keep.hstack(features), kind, None)


def _require_frame(X: Any, who: str, what: str) -> None:
    if not _is_frame(X):
        raise FeaturekitError(f"{who} takes a pandas or polars DataFrame of {what}, got "
                              f"{type(X).__name__}. Fix: pass a DataFrame")


def _select_rows(features: pl.DataFrame, key: str, ids: pl.Series, where: str) -> pl.DataFrame:
    """The rows of ``features`` for ``ids``, in the order of ``ids`` (which may repeat);
    ids without a row are an error naming them."""
    wanted = pl.DataFrame({key: ids.cast(features.schema[key], strict=False)})
    if wanted[key].null_count() != ids.null_count() or ids.null_count():
        raise FeaturekitError(f"X has ids that are missing or of another type than {where}'s "
                              f"{key!r} ({features.schema[key]}). Fix: pass ids of that type")
    found = wanted.join(features, on=key, how="left", maintain_order="left")
    unknown = wanted.filter(~pl.col(key).is_in(features[key].implode()))[key].unique(
        maintain_order=True)
    if len(unknown):
        shown = unknown.head(5).to_list()
        raise FeaturekitError(f"{len(unknown)} ids of X are not in {where}: {shown}"
                              f"{' ...' if len(unknown) > 5 else ''}. Fix: pass only ids that "
                              f"{where} has")
    return found.drop(key)


class TimeSeriesFeatures(TransformerMixin, BaseEstimator):
    """Append tsfresh-compatible features of each row's time series to ``X``.

    ``timeseries`` is a long or wide frame of series (as :func:`featurekit.timeseries.extract`
    takes it, with ``column_id``, ``column_sort``, ``column_kind``, ``column_value``,
    ``settings`` and ``kind_settings``). ``X`` says which series: a pandas frame indexed by
    series id, or a polars frame with a ``column_id`` column; its own columns are kept and the
    features appended, row for row. With ``impute=True`` missing and infinite feature values
    are filled as :func:`featurekit.selection.impute` does, with the ranges learned in ``fit``
    (so the training fold decides); otherwise they stay missing.

    >>> import numpy as np, pandas as pd
    >>> series = pd.DataFrame({"id": np.repeat([1, 2], 5), "time": np.tile(range(5), 2),
    ...                        "value": [1.0, 2, 3, 4, 5, 5, 3, 1, 3, 5]})
    >>> features = TimeSeriesFeatures(series, column_id="id", column_sort="time",
    ...                               settings={"mean": None, "maximum": None})
    >>> features.fit_transform(pd.DataFrame(index=pd.Index([2, 1], name="id")))
        value__mean  value__maximum
    id
    2           3.4             5.0
    1           3.0             5.0
    """

    def __init__(self, timeseries: Any, column_id: str, column_sort: str | None = None,
                 column_kind: str | None = None, column_value: str | None = None,
                 settings: Any = "efficient", kind_settings: Any = None, impute: bool = False):
        self.timeseries = timeseries
        self.column_id = column_id
        self.column_sort = column_sort
        self.column_kind = column_kind
        self.column_value = column_value
        self.settings = settings
        self.kind_settings = kind_settings
        self.impute = impute

    def _ids(self, X: Any) -> pl.Series:
        _require_frame(X, "TimeSeriesFeatures", "series ids")
        if isinstance(X, pl.DataFrame):
            if self.column_id not in X.columns:
                raise FeaturekitError(f"X has no column {self.column_id!r} of series ids. Fix: add "
                                      "it, or pass a pandas frame indexed by series id")
            return X[self.column_id]
        return pl.Series(self.column_id, X.index.to_numpy())

    def _extract(self, X: Any) -> pl.DataFrame:
        from featurekit.frames import to_polars
        from featurekit.timeseries import extract

        ids = self._ids(X)
        series = to_polars(self.timeseries, "timeseries")
        if self.column_id not in series.columns:
            raise FeaturekitError(f"timeseries has no column {self.column_id!r}. Fix: pass "
                                  "column_id= naming its series id column")
        wanted = series.filter(pl.col(self.column_id).is_in(
            ids.cast(series.schema[self.column_id], strict=False).drop_nulls().unique().implode()))
        features = extract(wanted, column_id=self.column_id, column_sort=self.column_sort,
                           column_kind=self.column_kind, column_value=self.column_value,
                           settings=self.settings, kind_settings=self.kind_settings)
        return _select_rows(features, self.column_id, ids, "timeseries")

    def _finish(self, X: Any, features: pl.DataFrame) -> Any:
        if list(features.columns) != self.feature_names_:
            missing = [n for n in self.feature_names_ if n not in set(features.columns)]
            raise FeaturekitError(f"extraction gave other features than at fit time (missing: "
                                  f"{missing[:5]}). Fix: refit on the same kinds of series")
        if self.impute:
            features = impute(features, self.impute_ranges_)
        keep = _pass_through(X, [self.column_id] if isinstance(X, pl.DataFrame) else [])
        return _append(keep, features, _output_kind(self, X))

    def _learn(self, X: Any) -> pl.DataFrame:
        _require_frame(X, "TimeSeriesFeatures", "series ids")
        validate_data(self, X, reset=True, skip_check_array=True)
        features = self._extract(X)
        self.feature_names_ = list(features.columns)
        if self.impute:
            self.impute_ranges_ = impute_ranges(features)
        return features

    def fit(self, X: Any, y: Any = None) -> TimeSeriesFeatures:
        """Extract the training series' features to learn their names (and impute ranges)."""
        self._learn(X)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit`` then ``transform``, extracting the features once."""
        return self._finish(X, self._learn(X))

    def transform(self, X: Any) -> Any:
        """``X`` with the features of its series appended (rows in ``X``'s order)."""
        check_is_fitted(self)
        _require_frame(X, "TimeSeriesFeatures", "series ids")
        validate_data(self, X, reset=False, skip_check_array=True)
        return self._finish(X, self._extract(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``X``'s own columns, then the extracted features."""
        check_is_fitted(self)
        own = [c for c in getattr(self, "feature_names_in_", []) if c != self.column_id]
        return np.asarray(own + self.feature_names_, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


class DeepFeatureSynthesis(TransformerMixin, BaseEstimator):
    """Deep feature synthesis as a transformer: ``fit`` plans the features of ``target``,
    ``transform`` computes them for the instances ``X`` names.

    ``X`` holds target ids: a column named like the target table's index (or, for pandas, the
    index itself). Its other columns pass through in front of the features; the output has one
    row per row of ``X``, in ``X``'s order. The planning options are those of
    :func:`featurekit.plan`. ``cutoff_time_column`` names a column of ``X`` with each row's
    cutoff time: each row then sees only data known at its cutoff (and, with
    ``training_window``, not older than the window), as ``fk.compute(es, features,
    cutoff_time=frame)`` computes it; the same instance may appear at several cutoffs.

    >>> import featurekit as fk, pandas as pd
    >>> es = fk.demo.load_retail(n_customers=5)
    >>> dfs = DeepFeatureSynthesis(es, "customers", max_depth=1, agg_primitives=["count"],
    ...                            trans_primitives=[])
    >>> dfs.fit_transform(pd.DataFrame({"customer_id": [3, 1]}))[["COUNT(sessions)"]]
       COUNT(sessions)
    0               12
    1                0
    """

    def __init__(self, entityset: Any, target: str, max_depth: int = 2,
                 agg_primitives: Any = None, trans_primitives: Any = None,
                 ignore_tables: Any = (), ignore_columns: Any = None, include: Any = None,
                 exclude: Any = (), max_features: int | None = None, return_types: Any = None,
                 cutoff_time_column: str | None = None, training_window: Any = None,
                 include_cutoff_time: bool = True, where_primitives: Any = None,
                 seed_features: Any = None, drop_contains: Any = None, drop_exact: Any = None,
                 primitive_options: Any = None):
        self.entityset = entityset
        self.target = target
        self.max_depth = max_depth
        self.agg_primitives = agg_primitives
        self.trans_primitives = trans_primitives
        self.ignore_tables = ignore_tables
        self.ignore_columns = ignore_columns
        self.include = include
        self.exclude = exclude
        self.max_features = max_features
        self.return_types = return_types
        self.cutoff_time_column = cutoff_time_column
        self.training_window = training_window
        self.include_cutoff_time = include_cutoff_time
        self.where_primitives = where_primitives
        self.seed_features = seed_features
        self.drop_contains = drop_contains
        self.drop_exact = drop_exact
        self.primitive_options = primitive_options

    def _index_name(self) -> str:
        from featurekit.errors import PlanError

        if self.target not in self.entityset.tables:
            raise PlanError(f"target {self.target!r} is not a table of the entity set. "
                            f"Fix: use one of {sorted(self.entityset.tables)}")
        return self.entityset[self.target].index

    def _ids(self, X: Any) -> pl.Series:
        _require_frame(X, "DeepFeatureSynthesis", f"{self.target} ids")
        key = self._index_name()
        if key in X.columns:
            column = X[key]
            return column if isinstance(column, pl.Series) else pl.Series(key, column.to_numpy())
        if isinstance(X, pd.DataFrame):
            return pl.Series(key, X.index.to_numpy())
        raise FeaturekitError(f"X has no column {key!r} (the index of {self.target!r}). Fix: "
                              f"pass a frame with a {key!r} column of the instances to compute")

    def fit(self, X: Any, y: Any = None) -> DeepFeatureSynthesis:
        """Plan the features (no data is computed)."""
        from featurekit.dfs import plan
        from featurekit.engine.lazy_plan import output_columns

        _require_frame(X, "DeepFeatureSynthesis", f"{self.target} ids")
        validate_data(self, X, reset=True, skip_check_array=True)
        if self.cutoff_time_column is not None and self.cutoff_time_column not in X.columns:
            raise FeaturekitError(f"X has no cutoff column {self.cutoff_time_column!r}. Fix: "
                                  "add it, or pass cutoff_time_column=None")
        self.features_ = plan(self.entityset, target=self.target, max_depth=self.max_depth,
                              agg_primitives=self.agg_primitives,
                              trans_primitives=self.trans_primitives,
                              ignore_tables=self.ignore_tables,
                              ignore_columns=self.ignore_columns, include=self.include,
                              exclude=self.exclude, max_features=self.max_features,
                              return_types=self.return_types,
                              where_primitives=self.where_primitives,
                              seed_features=self.seed_features, drop_contains=self.drop_contains,
                              drop_exact=self.drop_exact, primitive_options=self.primitive_options)
        self.feature_names_ = output_columns(self.features_)
        return self

    def transform(self, X: Any) -> Any:
        """The planned features of the instances in ``X``, one row per row of ``X``."""
        from featurekit.engine import compute

        check_is_fitted(self)
        validate_data(self, X, reset=False, skip_check_array=True)
        key = self._index_name()
        ids = self._ids(X)
        kind = _output_kind(self, X)
        where = f"table {self.target!r}"
        known = self.entityset[self.target].frame.select(key)
        _select_rows(known, key, ids, where)  # every id must be an instance of the target
        if self.cutoff_time_column is not None:
            features = self._compute_at_cutoffs(X, key, ids, kind)
        elif self.training_window is not None:
            raise FeaturekitError("training_window needs cutoff_time_column. Fix: pass both")
        elif kind == "pandas":  # the engine's own pandas types (categories as it declares them)
            matrix = compute(self.entityset, self.features_, return_type="pandas")
            features = matrix.loc[ids.cast(known.schema[key]).to_list()].reset_index(drop=True)
        else:
            matrix = compute(self.entityset, self.features_, return_type="polars")
            features = _select_rows(matrix, key, ids, where)
        keep = _pass_through(X, [key] + ([self.cutoff_time_column]
                                         if self.cutoff_time_column else []))
        return _append(keep, features, kind)

    def _compute_at_cutoffs(self, X: Any, key: str, ids: pl.Series, kind: str) -> Any:
        """Each row's features as of its own cutoff: the engine computes every distinct
        (id, cutoff) pair once, and rows of ``X`` repeating a pair share its result."""
        from featurekit.engine import compute

        cutoff = self.cutoff_time_column
        times = X[cutoff]
        times = times if isinstance(times, pl.Series) else pl.from_pandas(times)
        rows = pl.DataFrame({key: ids, cutoff: times}).with_row_index("__row")
        distinct = rows.unique([key, cutoff], keep="first", maintain_order=True)
        pair_of_row = rows.join(distinct.select(key, cutoff).with_row_index("__pair"),
                                on=[key, cutoff], how="left", maintain_order="left",
                                nulls_equal=True)["__pair"].to_numpy()
        matrix = compute(self.entityset, self.features_, cutoff_time=distinct.select(key, cutoff),
                         time_column=cutoff, training_window=self.training_window,
                         include_cutoff_time=self.include_cutoff_time,
                         return_type="pandas" if kind == "pandas" else "polars")
        if isinstance(matrix, pd.DataFrame):
            return matrix.iloc[pair_of_row][self.feature_names_].reset_index(drop=True)
        return matrix[pair_of_row].select(self.feature_names_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``X``'s passed-through columns, then the features' names."""
        check_is_fitted(self)
        dropped = {self._index_name(), self.cutoff_time_column}
        own = [c for c in getattr(self, "feature_names_in_", []) if c not in dropped]
        return np.asarray(own + self.feature_names_, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags
