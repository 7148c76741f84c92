"""tsfresh's ``extract_features`` keywords: accepted as tsfresh takes them, conflicts refused."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from featurekit.primitives import timeseries as catalogue

import featurekit.timeseries as fkts
from featurekit.errors import FeaturekitError
from featurekit.timeseries.extract import _kernel_threads

DATA = Path(__file__).resolve().parents[1] / "data"


def wide_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = [
        pd.DataFrame(
            {
                "id": identifier,
                "time": np.arange(length),
                "pressure": rng.normal(size=length),
                "temperature": rng.normal(20.0, 3.0, length),
            }
        )
        for identifier, length in enumerate((30, 3, 1, 12))
    ]
    return pd.concat(frames, ignore_index=True)


DEFAULT = {"mean": None, "autocorrelation": [{"lag": 1}], "c3": [{"lag": 2}]}
PER_KIND = {"temperature": {"maximum": None, "quantile": [{"q": 0.3}]}}


def test_a_tsfresh_call_gives_what_our_own_names_give():
    frame = wide_frame()
    tsfresh_call = fkts.extract(
        frame,
        column_id="id",
        column_sort="time",
        default_fc_parameters=DEFAULT,
        kind_to_fc_parameters=PER_KIND,
        n_jobs=0,
        disable_progressbar=True,
        show_warnings=False,
        chunksize=None,
        profile=False,
        profiling_filename="profile.txt",
        profiling_sorting="cumulative",
        distributor=None,
        pivot=True,
    )
    ours = fkts.extract(
        frame, column_id="id", column_sort="time", settings=DEFAULT, kind_settings=PER_KIND
    )
    pd.testing.assert_frame_equal(tsfresh_call, ours)
    assert list(ours.columns) == [
        "pressure__mean",
        "pressure__autocorrelation__lag_1",
        "pressure__c3__lag_2",
        "temperature__maximum",
        "temperature__quantile__q_0.3",
    ]


def test_tsfresh_comprehensive_call_reproduces_the_reference_columns():
    """The very call that wrote the tsfresh fixture, with the preset passed as a dict."""
    frame = pd.read_parquet(DATA / "tsfresh_reference_input.parquet")
    reference = pd.read_parquet(DATA / "tsfresh_reference.parquet").set_index("id")
    ours = fkts.extract(
        frame.drop(columns="timestamp"),
        column_id="id",
        column_sort="time",
        default_fc_parameters=catalogue.preset("comprehensive"),
        n_jobs=0,
        disable_progressbar=True,
    )
    assert list(ours.columns) == list(reference.columns)
    assert list(ours.index) == list(reference.index)


def test_only_the_kinds_named_per_kind_get_features_without_default_settings():
    """tsfresh's rule: kind_to_fc_parameters alone leaves the other kinds out."""
    result = fkts.extract(
        wide_frame(), column_id="id", column_sort="time", kind_to_fc_parameters=PER_KIND
    )
    assert list(result.columns) == ["temperature__maximum", "temperature__quantile__q_0.3"]
    expected = wide_frame().groupby("id")["temperature"].max()
    np.testing.assert_array_equal(result["temperature__maximum"].to_numpy(), expected.to_numpy())


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({"settings": "minimal"}, {"default_fc_parameters": {"mean": None}}),
        ({"kind_settings": PER_KIND}, {"kind_to_fc_parameters": PER_KIND}),
    ],
)
def test_giving_the_same_settings_under_both_names_is_an_error(ours, theirs):
    with pytest.raises(FeaturekitError, match="both give"):
        fkts.extract(wide_frame(), column_id="id", column_sort="time", **ours, **theirs)


def test_settings_in_tsfresh_argument_positions_are_refused_clearly():
    with pytest.raises(FeaturekitError, match="column_id must name a column.*by keyword"):
        fkts.extract(wide_frame(), DEFAULT, None, "id")  # tsfresh's positional order


def test_per_kind_settings_for_an_absent_kind_warn_and_are_ignored():
    with pytest.warns(UserWarning, match=r"\['humidity'\]"):
        result = fkts.extract(
            wide_frame(),
            column_id="id",
            column_sort="time",
            default_fc_parameters={"mean": None},
            kind_to_fc_parameters={"humidity": {"maximum": None}},
        )
    assert list(result.columns) == ["pressure__mean", "temperature__mean"]


def test_impute_function_receives_the_result_as_tsfresh_calls_it():
    frame = wide_frame()
    settings = {"autocorrelation": [{"lag": 2}], "mean": None}
    raw = fkts.extract(frame, column_id="id", column_sort="time", settings=settings)
    assert raw.isna().any().any()  # series of 1 and 3 points have no lag-2 autocorrelation
    in_place = fkts.extract(
        frame,
        column_id="id",
        column_sort="time",
        default_fc_parameters=settings,
        impute_function=lambda features: features.fillna(-7.0, inplace=True),
    )
    pd.testing.assert_frame_equal(in_place, raw.fillna(-7.0))
    imputed = fkts.extract(
        frame, column_id="id", column_sort="time", settings=settings, impute_function=fkts.impute
    )
    column = "pressure__autocorrelation__lag_2"
    finite = raw[column].dropna().to_numpy()
    expected = raw[column].fillna(float(np.median(finite)))
    pd.testing.assert_series_equal(imputed[column], expected)
    assert raw[column].isna().any()  # the unimputed result was not touched


def test_impute_replaces_infinities_by_the_column_extremes_on_either_library():
    frame = pd.DataFrame(
        {"a": [1.0, np.inf, -np.inf, np.nan, 5.0], "b": [np.nan, np.inf, np.nan, np.nan, np.nan]}
    )
    before = frame.copy()
    expected = pd.DataFrame({"a": [1.0, 5.0, 1.0, 3.0, 5.0], "b": [0.0] * 5})
    pd.testing.assert_frame_equal(fkts.impute(frame), expected)
    pd.testing.assert_frame_equal(frame, before)
    from_polars = fkts.impute(pl.from_pandas(frame))
    np.testing.assert_array_equal(from_polars.to_numpy(), expected.to_numpy())


def test_polars_results_are_imputed_and_stay_polars():
    frame = pl.from_pandas(wide_frame())
    result = fkts.extract(
        frame,
        column_id="id",
        column_sort="time",
        settings={"autocorrelation": [{"lag": 2}]},
        impute_function=fkts.impute,
    )
    assert isinstance(result, pl.DataFrame)
    assert result.columns[0] == "id"
    assert result["id"].to_list() == [0, 1, 2, 3]
    assert not result.drop("id").to_pandas().isna().any().any()


def test_n_jobs_runs_the_kernel_on_that_many_threads_and_restores_the_count():
    import numba

    before = numba.get_num_threads()
    with _kernel_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    frame = wide_frame()
    one = fkts.extract(frame, column_id="id", column_sort="time", settings="minimal", n_jobs=1)
    every = fkts.extract(frame, column_id="id", column_sort="time", settings="minimal", n_jobs=-1)
    pd.testing.assert_frame_equal(one, every)
    assert numba.get_num_threads() == before


@pytest.mark.parametrize(
    ("keyword", "match"),
    [
        ({"profile": True}, "cProfile"),
        ({"distributor": object()}, "partitions"),
        ({"pivot": False}, "melt"),
        ({"n_jobs": 1.5}, "n_jobs must be an integer"),
        ({"n_jobs": -1.5}, "n_jobs must be an integer"),
    ],
)
def test_tsfresh_keywords_featurekit_does_not_offer_raise_with_the_alternative(keyword, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FeaturekitError, match=match):
            fkts.extract(wide_frame(), column_id="id", column_sort="time", **keyword)
