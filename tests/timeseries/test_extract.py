"""Extraction behaviour: windows, input layouts, immutability and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import featurekit.timeseries as fkts
from featurekit.errors import FeaturekitError, SchemaError

SETTINGS = {
    "mean": None,
    "length": None,
    "maximum": None,
    "quantile": [{"q": 0.3}],
    "autocorrelation": [{"lag": 2}],
    "fft_coefficient": [{"coeff": 1, "attr": "abs"}],
    "linear_trend": [{"attr": "slope"}],
}


def long_frame(seed: int = 0, lengths: tuple[int, ...] = (23, 9, 1, 40)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for identifier, length in enumerate(lengths):
        times = np.sort(rng.choice(1000, size=length, replace=False))
        frames.append(
            pd.DataFrame(
                {
                    "id": f"s{identifier}",
                    "time": times,
                    "a": rng.normal(size=length),
                    "b": rng.integers(0, 3, length).astype(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed)


@pytest.mark.parametrize(
    "window",
    [fkts.Rolling(size=5, step=3), fkts.Expanding(min_size=2, step=4), fkts.Tumbling(size=6)],
    ids=["rolling", "expanding", "tumbling"],
)
def test_each_window_equals_extracting_that_window_sliced_by_hand(window):
    frame = long_frame()
    windowed = fkts.extract(
        frame, column_id="id", column_sort="time", settings=SETTINGS, window=window
    )
    expected_rows = []
    for identifier, group in frame.sort_values("time").groupby("id"):
        starts, stops, _ = window.bounds(np.array([0, len(group)]))
        for start, stop in zip(starts, stops, strict=True):
            piece = group.iloc[start:stop]
            row = fkts.extract(piece, column_id="id", column_sort="time", settings=SETTINGS)
            row.index = pd.MultiIndex.from_tuples(
                [(identifier, piece["time"].iloc[-1])], names=["id", "time"]
            )
            expected_rows.append(row)
    expected = pd.concat(expected_rows).sort_index()
    assert len(windowed) == len(expected) > 4
    pd.testing.assert_frame_equal(windowed, expected, check_exact=False, rtol=1e-12)


def timed_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    frames = []
    for identifier, length in enumerate((40, 3, 25)):
        stamps = np.datetime64("2024-03-01T00:00:00", "ns") + np.cumsum(
            rng.integers(1, 20 * 3600, length)
        ).astype("timedelta64[s]")
        frames.append(
            pd.DataFrame({"id": identifier, "time": stamps, "a": rng.normal(size=length)})
        )
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=1)


def test_duration_rolling_windows_hold_the_rows_of_the_trailing_period():
    frame = timed_frame()
    size = pd.Timedelta(days=2)
    result = fkts.extract(
        frame,
        column_id="id",
        column_sort="time",
        settings=SETTINGS,
        window=fkts.Rolling("2d", step=2),
    )
    expected_rows = []
    for identifier, group in frame.sort_values("time").groupby("id"):
        for position in range(0, len(group), 2):
            end = group["time"].iloc[position]
            piece = group[(group["time"] > end - size) & (group["time"] <= end)]
            row = fkts.extract(piece, column_id="id", column_sort="time", settings=SETTINGS)
            row.index = pd.MultiIndex.from_tuples([(identifier, end)], names=["id", "time"])
            expected_rows.append(row)
    expected = pd.concat(expected_rows)
    assert len(result) == len(expected) > 10
    pd.testing.assert_frame_equal(result, expected, check_exact=False, rtol=1e-12)


def test_duration_tumbling_windows_are_calendar_periods():
    frame = timed_frame()
    result = fkts.extract(
        frame,
        column_id="id",
        column_sort="time",
        settings={"length": None, "maximum": None},
        window=fkts.Tumbling("1d"),
    )
    by_day = frame.assign(day=frame["time"].dt.floor("1D")).groupby(["id", "day"])
    assert result["a__length"].tolist() == by_day["a"].size().tolist()
    assert result["a__maximum"].tolist() == by_day["a"].max().tolist()
    assert result.index.get_level_values("time").tolist() == by_day["time"].max().tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", "7 days"), ("12h", "12 hours"), ("1h30m", "90 minutes"), ("250ms", "250 milliseconds")],
)
def test_duration_strings_are_read_like_polars_durations(text, expected):
    window = fkts.Rolling(text)
    stamps = np.array([0, pd.Timedelta(expected).value], dtype=np.int64)
    starts, stops, _ = window.bounds(np.array([0, 2]), stamps)
    assert starts.tolist() == [0, 1] and stops.tolist() == [1, 2]
    nearly = np.array([0, pd.Timedelta(expected).value - 1], dtype=np.int64)
    assert window.bounds(np.array([0, 2]), nearly)[0].tolist() == [0, 0]


def test_duration_windows_need_a_datetime_sort_column():
    with pytest.raises(FeaturekitError, match="datetime sort column"):
        fkts.extract(long_frame(), column_id="id", column_sort="time", window=fkts.Rolling("1d"))


def test_tumbling_windows_cover_every_row_once():
    starts, stops, series = fkts.Tumbling(size=4).bounds(np.array([0, 10, 13]))
    covered = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
    assert covered.tolist() == list(range(13))
    assert series.tolist() == [0, 0, 0, 1]


def test_wide_and_long_layouts_give_the_same_features():
    wide = long_frame(1)
    long = wide.melt(id_vars=["id", "time"], var_name="kind", value_name="value")
    from_wide = fkts.extract(wide, column_id="id", column_sort="time", settings=SETTINGS)
    from_long = fkts.extract(
        long,
        column_id="id",
        column_sort="time",
        column_kind="kind",
        column_value="value",
        settings=SETTINGS,
    )
    assert [c.split("__")[0] for c in from_wide.columns][:1] == ["a"]
    pd.testing.assert_frame_equal(from_wide, from_long[from_wide.columns])


def test_without_sort_column_rows_keep_their_given_order():
    frame = long_frame(2).sort_values(["id", "time"])
    with_sort = fkts.extract(frame, column_id="id", column_sort="time", settings=SETTINGS)
    without_sort = fkts.extract(frame.drop(columns="time"), column_id="id", settings=SETTINGS)
    pd.testing.assert_frame_equal(with_sort, without_sort)


def test_the_callers_frames_are_never_modified():
    frame = long_frame(3)
    before = frame.copy(deep=True)
    fkts.extract(
        frame, column_id="id", column_sort="time", settings="efficient", window=fkts.Rolling(4)
    )
    pd.testing.assert_frame_equal(frame, before)
    polars_frame = pl.from_pandas(long_frame(4))
    polars_before = polars_frame.clone()
    fkts.extract(polars_frame, column_id="id", column_sort="time", settings="minimal")
    assert polars_frame.equals(polars_before)


def test_settings_dict_selects_exactly_the_requested_columns():
    result = fkts.extract(long_frame(), column_id="id", column_sort="time", settings=SETTINGS)
    assert list(result.columns)[:3] == ["a__mean", "a__length", "a__maximum"]
    assert 'b__fft_coefficient__attr_"abs"__coeff_1' in result.columns
    assert len(result.columns) == 2 * 7


def test_per_kind_settings_override_the_default():
    result = fkts.extract(
        long_frame(),
        column_id="id",
        column_sort="time",
        settings={"mean": None},
        kind_settings={"b": {"maximum": None}},
    )
    assert list(result.columns) == ["a__mean", "b__maximum"]


@pytest.mark.parametrize(
    ("arguments", "column"),
    [
        ({"column_id": "series"}, "series"),
        ({"column_id": "id", "column_sort": "timestamp"}, "timestamp"),
        ({"column_id": "id", "column_sort": "time", "column_value": "price"}, "price"),
    ],
)
def test_missing_columns_are_named_in_the_error(arguments, column):
    with pytest.raises(SchemaError, match=column):
        fkts.extract(long_frame(), **arguments)


def test_non_numeric_values_are_rejected():
    frame = long_frame().assign(b=lambda f: f["b"].astype(str))
    with pytest.raises(SchemaError, match="'b'.*numeric"):
        fkts.extract(frame, column_id="id", column_sort="time")


def test_duplicate_id_sort_pairs_are_reported_with_their_count():
    frame = long_frame()
    doubled = pd.concat([frame, frame.iloc[:3], frame.iloc[:1]])
    with pytest.raises(SchemaError, match=r"\b3 duplicate \(id, time\) pairs"):
        fkts.extract(doubled, column_id="id", column_sort="time")


def test_duplicates_in_long_input_name_their_kind():
    long = long_frame().melt(id_vars=["id", "time"], var_name="kind", value_name="value")
    doubled = pd.concat([long, long[long["kind"] == "b"].iloc[:2]])
    with pytest.raises(SchemaError, match=r"2 duplicate \(id, time\) pairs in kind 'b' \(4 rows"):
        fkts.extract(
            doubled, column_id="id", column_sort="time", column_kind="kind", column_value="value"
        )


@pytest.mark.parametrize("policy", ["mean", "max", "last"])
def test_duplicates_can_be_aggregated_instead(policy):
    frame = long_frame()
    doubled = pd.concat([frame, frame.iloc[:5].assign(a=lambda f: f["a"] + 1.0)])
    result = fkts.extract(
        doubled, column_id="id", column_sort="time", settings=SETTINGS, duplicates=policy
    )
    aggregated = doubled.groupby(["id", "time"], sort=False).agg(policy).reset_index()
    expected = fkts.extract(aggregated, column_id="id", column_sort="time", settings=SETTINGS)
    pd.testing.assert_frame_equal(result, expected)
    plain = fkts.extract(frame, column_id="id", column_sort="time", settings=SETTINGS)
    assert not np.allclose(result.to_numpy(), plain.to_numpy(), equal_nan=True)


def test_nan_values_are_rejected_as_in_tsfresh():
    frame = long_frame()
    frame.iloc[2, frame.columns.get_loc("a")] = np.nan
    with pytest.raises(SchemaError, match="1 missing"):
        fkts.extract(frame, column_id="id", column_sort="time")


def test_unknown_calculator_suggests_the_closest_name():
    with pytest.raises(FeaturekitError, match="did you mean 'autocorrelation'"):
        fkts.extract(
            long_frame(), column_id="id", column_sort="time", settings={"autocorelation": None}
        )


def test_unknown_parameter_suggests_the_closest_name():
    with pytest.raises(FeaturekitError, match="did you mean 'lag'"):
        fkts.extract(
            long_frame(), column_id="id", column_sort="time", settings={"c3": [{"lags": 1}]}
        )


def test_unknown_preset_is_rejected():
    with pytest.raises(FeaturekitError, match="did you mean 'efficient'"):
        fkts.extract(long_frame(), column_id="id", column_sort="time", settings="eficient")


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "soon", "-1d", "3 parsecs"])
def test_window_sizes_must_be_positive_row_counts(bad):
    with pytest.raises(FeaturekitError):
        fkts.Rolling(size=bad)


def test_an_empty_frame_gives_no_rows_but_every_column():
    empty = long_frame().iloc[:0]
    result = fkts.extract(empty, column_id="id", column_sort="time", settings=SETTINGS)
    assert len(result) == 0
    assert len(result.columns) == 2 * len(SETTINGS)


def test_arrow_tables_and_parquet_paths_are_read(tmp_path):
    import pyarrow as pa

    frame = long_frame()
    expected = fkts.extract(frame, column_id="id", column_sort="time", settings=SETTINGS)
    from_arrow = fkts.extract(
        pa.Table.from_pandas(frame, preserve_index=False),
        column_id="id",
        column_sort="time",
        settings=SETTINGS,
    )
    path = tmp_path / "series.parquet"
    frame.to_parquet(path, index=False)
    from_path = fkts.extract(str(path), column_id="id", column_sort="time", settings=SETTINGS)
    for result in (from_arrow, from_path):
        assert isinstance(result, pl.DataFrame)
        np.testing.assert_allclose(result.drop("id").to_numpy(), expected.to_numpy(), rtol=1e-12)
