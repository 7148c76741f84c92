"""The transformers in featurekit.sklearn keep scikit-learn's contract (the conformance suite
for RelevantFeatures, the contract points directly for the frame-only ones) and compute what
the functions they wrap compute, on the rows they are given, in the order given."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import featurekit as fk
import featurekit.timeseries as fkts
from featurekit.errors import FeaturekitError, NoRelevantFeaturesError
from featurekit.selection import impute, impute_ranges, select_relevant
from featurekit.sklearn import DeepFeatureSynthesis, RelevantFeatures, TimeSeriesFeatures
from featurekit.types import ColumnSchema

NUMERIC = [ColumnSchema(tags=frozenset({"numeric"}))]


# on_empty="warn": the suite fits on pure noise, where the default raises by design
@pytest.mark.filterwarnings("ignore::featurekit.errors.NoRelevantFeaturesWarning")
@parametrize_with_checks([RelevantFeatures(on_empty="warn")])
def test_relevant_features_passes_scikit_learns_estimator_checks(estimator, check):
    name = getattr(check, "func", check).__name__
    if name == "check_array_api_input":
        # scikit-learn skips this one unless SCIPY_ARRAY_API is set and array-api-strict is
        # installed; it applies to estimators that claim array-API support, and ours must not.
        assert not estimator.__sklearn_tags__().array_api_support
        return
    check(estimator)


@pytest.fixture
def labelled() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    ids = pd.Index(rng.permutation(90) + 100, name="id")
    y = pd.Series(np.arange(90) % 2, index=ids, name="label")
    X = pd.DataFrame({f"noise_{i}": rng.normal(0, 1, 90) for i in range(6)}, index=ids)
    X.insert(2, "signal", y + rng.normal(0, 0.7, 90))
    X["weak"] = 0.45 * y + rng.normal(0, 1, 90)
    return X, y


def test_each_fold_selects_what_select_relevant_finds_on_its_training_rows(labelled):
    X, y = labelled
    folds = KFold(3, shuffle=True, random_state=0)
    results = cross_validate(make_pipeline(RelevantFeatures(fdr_level=0.2), LogisticRegression()),
                             X, y, cv=folds, return_estimator=True)
    chosen = [tuple(model[0].relevant_features_) for model in results["estimator"]]
    for (train, _), names in zip(folds.split(X), chosen, strict=True):
        assert names == tuple(select_relevant(X.iloc[train], y.iloc[train], fdr_level=0.2).columns)
    assert len(set(chosen)) > 1, "folds differ, so each must have learned from its own rows"


def test_set_output_chooses_the_frame_and_keeps_values_and_index(labelled):
    X, y = labelled
    default = RelevantFeatures().fit(X, y).transform(X)
    assert isinstance(default, pd.DataFrame) and default.index.equals(X.index)
    as_polars = RelevantFeatures().set_output(transform="polars").fit(X, y).transform(X)
    assert isinstance(as_polars, pl.DataFrame)
    assert as_polars.columns == list(default.columns)
    np.testing.assert_array_equal(as_polars.to_numpy(), default.to_numpy())

    from_polars = RelevantFeatures().set_output(transform="pandas").fit_transform(
        pl.from_pandas(X), y.to_numpy())
    assert isinstance(from_polars, pd.DataFrame)
    assert list(from_polars.columns) == list(default.columns)
    np.testing.assert_array_equal(from_polars.to_numpy(), default.to_numpy())
    from_array = RelevantFeatures().set_output(transform="pandas").fit(X.to_numpy(), y.to_numpy())
    assert from_array.get_feature_names_out().tolist() == [
        f"x{list(X.columns).index(c)}" for c in default.columns]


def test_clone_grid_search_and_refit_forget_the_old_fit(labelled):
    X, y = labelled
    selector = RelevantFeatures(fdr_level=0.3)
    fitted = clone(selector).fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == selector.get_params()
    assert not hasattr(copy, "support_")

    refit = fitted.fit(X[["noise_0", "noise_1", "signal"]], y)
    assert refit.n_features_in_ == 3
    assert refit.relevant_features_ == ["signal"]

    search = GridSearchCV(make_pipeline(RelevantFeatures(), LogisticRegression()),
                          {"relevantfeatures__fdr_level": [0.001, 0.3]}, cv=3).fit(X, y)
    assert search.best_params_["relevantfeatures__fdr_level"] in (0.001, 0.3)
    assert cross_val_score(search.best_estimator_, X, y, cv=3).mean() > 0.6


def test_nothing_relevant_in_a_pipeline_fails_early_and_clearly(labelled):
    X, y = labelled
    noise = X[[c for c in X.columns if c.startswith("noise")]]
    with pytest.raises(NoRelevantFeaturesError, match="fdr_level"):
        make_pipeline(RelevantFeatures(), LogisticRegression()).fit(noise, y)


def test_misaligned_target_is_refused(labelled):
    X, y = labelled
    with pytest.raises(FeaturekitError, match="index of y does not match"):
        RelevantFeatures().fit(X, y.reset_index(drop=True))
    with pytest.raises(FeaturekitError, match="requires y"):
        RelevantFeatures().fit(X, None)


@pytest.fixture(scope="module")
def series() -> tuple[pd.DataFrame, pd.Series]:
    """Forty labelled series: class 1 oscillates faster and is noisier."""
    rng = np.random.default_rng(12)
    frames, labels = [], {}
    for series_id in range(40):
        label = series_id % 2
        t = np.arange(60)
        values = np.sin(t * (0.2 + 0.25 * label)) + rng.normal(0, 0.3 + 0.3 * label, 60)
        frames.append(pd.DataFrame({"id": 1000 + series_id, "time": t, "value": values}))
        labels[1000 + series_id] = label
    y = pd.Series(labels, name="label").rename_axis("id")
    return pd.concat(frames, ignore_index=True), y


SETTINGS = {"mean": None, "standard_deviation": None, "number_crossing_m": [{"m": 0}],
            "fft_coefficient": [{"coeff": 40, "attr": "real"}, {"coeff": 2, "attr": "abs"}]}


def test_time_series_features_append_extract_output_in_x_order(series):
    long, y = series
    rows = pd.DataFrame({"prior": np.arange(5.0)}, index=pd.Index([1007, 1001, 1030, 1001, 1003],
                                                                  name="id"))
    step = TimeSeriesFeatures(long, column_id="id", column_sort="time", settings=SETTINGS)
    out = step.fit_transform(rows)
    expected = fkts.extract(long, column_id="id", column_sort="time", settings=SETTINGS)
    assert list(out.columns) == ["prior", *expected.columns]
    assert out.index.equals(rows.index)
    pd.testing.assert_frame_equal(out.drop(columns="prior"), expected.loc[rows.index],
                                  check_names=False)
    assert step.get_feature_names_out().tolist() == list(out.columns)
    assert out["value__fft_coefficient__attr_\"real\"__coeff_40"].isna().all()  # series of 60

    polars_rows = pl.DataFrame({"id": [1002, 1005]})
    out_polars = step.fit(polars_rows).transform(polars_rows)
    assert out_polars.columns == list(expected.columns)
    np.testing.assert_allclose(out_polars.to_numpy(), expected.loc[[1002, 1005]].to_numpy())

    with pytest.raises(FeaturekitError, match=r"1 ids of X are not in timeseries: \[5\]"):
        step.transform(pl.DataFrame({"id": [1002, 5]}))


def test_time_series_imputation_uses_ranges_learned_on_the_training_rows(series):
    long, _ = series
    # three test series are too short for the 31st Fourier coefficient: missing features
    short = long["id"].isin([1021, 1025, 1033]) & (long["time"] >= 50)
    long = long[~short]
    settings = {"fft_coefficient": [{"coeff": 30, "attr": "real"}], "mean": None}
    train = pd.DataFrame(index=pd.Index(range(1000, 1020), name="id"))
    test = pd.DataFrame(index=pd.Index(range(1020, 1040), name="id"))
    step = TimeSeriesFeatures(long, column_id="id", column_sort="time", settings=settings,
                              impute=True).fit(train)
    raw = fkts.extract(long, column_id="id", column_sort="time", settings=settings)
    assert raw.loc[test.index].isna().sum().sum() == 3
    expected = impute(raw.loc[test.index], impute_ranges(raw.loc[train.index]))
    got = step.transform(test)
    assert not got.isna().any().any()
    pd.testing.assert_frame_equal(got, expected, check_names=False)
    median = raw.loc[train.index].iloc[:, 0].median()
    assert got.loc[[1021, 1025, 1033]].iloc[:, 0].tolist() == [median] * 3
    assert median != raw.loc[test.index].iloc[:, 0].median()


def test_time_series_pipeline_cross_validates(series):
    long, y = series
    X = pd.DataFrame(index=y.index)
    model = make_pipeline(
        TimeSeriesFeatures(long, column_id="id", column_sort="time", settings="minimal",
                           impute=True),
        RelevantFeatures(), RandomForestClassifier(n_estimators=25, random_state=0))
    scores = cross_val_score(model, X, y, cv=KFold(4, shuffle=True, random_state=1))
    assert scores.mean() > 0.8
    assert clone(model).get_params()["timeseriesfeatures__settings"] == "minimal"


@pytest.fixture(scope="module")
def retail():
    return fk.demo.load_retail(n_customers=30)


def test_dfs_transformer_computes_the_rows_of_x_in_x_order(retail):
    ids = [17, 3, 29, 3]
    step = DeepFeatureSynthesis(retail, "customers", max_depth=2)
    X = pd.DataFrame({"customer_id": ids, "extra": [1.5, 2.5, 3.5, 4.5]})
    out = step.fit_transform(X)
    matrix, features = fk.dfs(retail, target="customers", max_depth=2)
    assert list(out.columns) == ["extra", *matrix.columns]
    assert step.get_feature_names_out().tolist() == list(out.columns)
    pd.testing.assert_frame_equal(out.drop(columns="extra"),
                                  matrix.loc[ids].reset_index(drop=True), check_dtype=False)
    assert out["extra"].tolist() == X["extra"].tolist()

    indexed = clone(step).fit_transform(pd.DataFrame(index=pd.Index(ids, name="customer_id")))
    assert indexed.index.tolist() == ids
    from_polars = step.transform(pl.DataFrame({"customer_id": ids, "extra": [0.0] * 4}))
    assert isinstance(from_polars, pl.DataFrame) and from_polars.columns == list(out.columns)
    np.testing.assert_allclose(from_polars["MEAN(sessions.SUM(transactions.amount))"].to_numpy(),
                               out["MEAN(sessions.SUM(transactions.amount))"].to_numpy())
    with pytest.raises(FeaturekitError, match=r"2 ids of X are not in table 'customers': "
                                              r"\[31, 99\]"):
        step.transform(pd.DataFrame({"customer_id": [1, 31, 99], "extra": 0.0}))


def test_dfs_transformer_clones_and_runs_in_a_pipeline(retail):
    y = (fk.compute(retail, fk.plan(retail, target="customers", agg_primitives=["count"],
                                    trans_primitives=[], max_depth=1))["COUNT(sessions)"] > 8)
    X = pd.DataFrame({"customer_id": y.index.to_numpy()})
    model = make_pipeline(
        DeepFeatureSynthesis(retail, "customers", max_depth=1, return_types=NUMERIC),
        SimpleImputer(), LogisticRegression(max_iter=500))
    copy = clone(model)
    assert copy[0].entityset is not retail and not hasattr(copy[0], "features_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(model, X, y.to_numpy(), cv=3)
    assert scores.mean() > 0.8  # the target is a function of a feature
    fitted = model.fit(X, y.to_numpy())
    assert "COUNT(sessions)" in fitted[0].get_feature_names_out()


def test_dfs_cutoff_column_computes_each_row_as_of_its_own_cutoff(retail):
    times = pd.to_datetime(["2021-06-01", "2020-09-01", "2022-01-01", "2021-06-01", "2020-09-01"])
    X = pd.DataFrame({"customer_id": [4, 4, 9, 4, 4], "when": times, "extra": np.arange(5.0)})
    step = DeepFeatureSynthesis(retail, "customers", max_depth=2, cutoff_time_column="when")
    out = step.fit_transform(X)
    assert list(out.columns) == ["extra", *step.feature_names_]
    assert out["extra"].tolist() == X["extra"].tolist()
    for row, (customer, moment) in enumerate(zip(X["customer_id"], X["when"], strict=True)):
        alone = fk.compute(retail, step.features_, cutoff_time=moment).loc[customer]
        pd.testing.assert_series_equal(out.iloc[row][step.feature_names_], alone,
                                       check_names=False, check_dtype=False)
    counts = out["COUNT(sessions)"].tolist()
    assert counts[0] == counts[3] and counts[1] == counts[4] and counts[1] < counts[0]

    polars_out = step.set_output(transform="polars").transform(pl.from_pandas(X))
    np.testing.assert_allclose(polars_out["SUM(transactions.amount)"].to_numpy(),
                               out["SUM(transactions.amount)"].to_numpy())
    windowed = clone(step).set_params(training_window="90d").set_output(
        transform="pandas").fit_transform(X)
    assert (windowed["COUNT(sessions)"] <= out["COUNT(sessions)"]).all()
    assert (windowed["COUNT(sessions)"] < out["COUNT(sessions)"]).any()
