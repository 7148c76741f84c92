"""Time series online: one new series gives the values the batch extraction gives it among
all series, through OnlineSeries, fk.timeseries.extract and the TimeSeriesFeatures step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.errors import FeaturekitError
from featurekit.online import OnlineSeries
from featurekit.sklearn import TimeSeriesFeatures
from featurekit.timeseries import extract


def random_series(seed: int, n_ids: int, longest: int, kinds: bool) -> pd.DataFrame:
    """Long series of random lengths (1 to ``longest``), shuffled rows, ties and constants."""
    rng = np.random.default_rng(seed)
    frames = []
    for series_id in range(n_ids):
        length = int(rng.integers(1, longest + 1))
        values = np.round(rng.normal(0, 3, length), int(rng.integers(0, 3)))  # ties after rounding
        if rng.random() < 0.15:
            values[:] = 2.5  # a constant series
        frame = pd.DataFrame({"id": series_id * 3 + 1, "time": rng.permutation(length),
                              "value": values})
        if kinds:
            frame = pd.concat([frame.assign(kind="a"),
                               frame.assign(kind="b", value=values[::-1] * 2)], ignore_index=True)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).sample(frac=1, random_state=seed)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n_ids=st.integers(1, 6), longest=st.integers(1, 150),
       kinds=st.booleans(), preset=st.sampled_from(["minimal", "efficient"]),
       polars_input=st.booleans())
def test_one_series_gets_its_values_among_all(seed, n_ids, longest, kinds, preset, polars_input):
    series = random_series(seed, n_ids, longest, kinds)
    arguments = {"column_id": "id", "column_sort": "time", "settings": preset,
                 **({"column_kind": "kind", "column_value": "value"} if kinds else {})}
    data = pl.from_pandas(series) if polars_input else series
    batch = extract(data, **arguments)
    online = OnlineSeries(**arguments)
    for series_id in series["id"].unique()[:3]:
        one = series[series["id"] == series_id]
        got = online.compute(pl.from_pandas(one) if polars_input else one)
        alone = extract(pl.from_pandas(one) if polars_input else one, **arguments)
        if polars_input:
            want = batch.filter(pl.col("id") == series_id)
            assert got.equals(want) and alone.equals(want)
        else:
            pd.testing.assert_frame_equal(got, batch.loc[[series_id]])
            pd.testing.assert_frame_equal(alone, batch.loc[[series_id]])


def test_the_pipeline_step_on_one_new_series_matches_the_batch():
    series, _ = fk.demo.load_labelled_series(n_per_class=5, length=100)
    new = pd.DataFrame({"id": 999, "time": np.arange(100),
                        "value": np.cos(np.arange(100) / 7) + np.arange(100) / 50})
    everything = pd.concat([series, new], ignore_index=True)
    step = TimeSeriesFeatures(everything, column_id="id", column_sort="time", settings="efficient")
    step.fit(pd.DataFrame(index=pd.Index(series["id"].unique(), name="id")))
    row = step.transform(pd.DataFrame(index=pd.Index([999], name="id")))
    batch = extract(everything, column_id="id", column_sort="time", settings="efficient")
    pd.testing.assert_frame_equal(row, batch.loc[[999]])
    online = OnlineSeries(column_id="id", column_sort="time", settings="efficient")
    pd.testing.assert_frame_equal(online.compute(new), batch.loc[[999]])


def test_bad_series_are_refused_as_extract_refuses_them():
    online = OnlineSeries(column_id="id", column_sort="time", settings="minimal")
    with pytest.raises(FeaturekitError, match="time"):
        online.compute(pd.DataFrame({"id": [1, 1], "value": [1.0, 2.0]}))
    with pytest.raises(FeaturekitError, match="repeat|duplicate"):
        online.compute(pd.DataFrame({"id": [1, 1], "time": [0, 0], "value": [1.0, 2.0]}))
