"""``extract`` refuses input it cannot place with a featurekit error naming the argument, the
column, the count of rows concerned and the fix; no raw polars/arrow exception escapes."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import polars as pl
import pytest

import featurekit.timeseries as fkts
from featurekit.errors import FeaturekitError, SchemaError

SETTINGS = {"mean": None, "length": None}


def frame(ids=(1, 1, 1, 2, 2), times=(0, 1, 2, 0, 1), values=(1.0, 2.0, 4.0, 3.0, 5.0)):
    return pd.DataFrame({"id": list(ids), "time": list(times), "value": list(values)})


def extract(df, **arguments):
    arguments = {"column_id": "id", "column_sort": "time", "settings": SETTINGS, **arguments}
    return fkts.extract(df, **arguments)


@pytest.mark.parametrize(
    "data",
    [
        frame(times=(0, np.nan, 2, 0, 1)),
        pl.from_pandas(frame()).with_columns(pl.Series("time", [0, None, 2, 0, None])),
        frame(times=pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-01", None])),
    ],
    ids=["nan", "null", "nat"],
)
def test_a_missing_sort_value_is_refused_with_the_column_and_the_count(data):
    missing = 2 if isinstance(data, pl.DataFrame) or data["time"].dtype.kind == "M" else 1
    with pytest.raises(SchemaError) as refused:
        extract(data)
    message = str(refused.value)
    assert "column 'time'" in message and "column_sort" in message
    assert f"{missing} of 5 rows" in message and "Fix: drop those rows" in message


@pytest.mark.parametrize(
    "window", [fkts.Rolling(size="2d"), fkts.Tumbling(size="1d"), fkts.Expanding(min_size=1)]
)
def test_time_windows_never_measure_from_a_missing_time(window):
    times = pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-01", "2024-01-05"])
    with pytest.raises(SchemaError, match=r"1 of 5 rows have a missing \(null or NaN\) column_sort"):
        extract(frame(times=times), window=window)


def test_ids_of_mixed_types_name_column_id_and_the_fix():
    ids = pd.Series([1, 1, "a", "a", "a"], dtype=object)
    with pytest.raises(SchemaError) as refused:
        extract(frame(ids=ids))
    message = str(refused.value)
    assert "column 'id'" in message and "column_id" in message and "['int', 'str']" in message
    assert "df['id'] = df['id'].astype(str)" in message
    # and the fix works: the same frame with string ids extracts
    fixed = frame(ids=ids.astype(str))
    assert list(extract(fixed).index) == ["1", "a"]


ROLES = ("column_id", "column_sort", "column_kind", "column_value")


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(ROLES, 2)))
def test_two_arguments_naming_one_column_are_refused(first, second):
    long = frame().assign(kind="k")
    arguments = {"column_id": "id", "column_sort": "time", "column_kind": "kind",
                 "column_value": "value"}
    arguments[second] = arguments[first]
    with pytest.raises(FeaturekitError) as refused:
        fkts.extract(long, settings=SETTINGS, **arguments)
    message = str(refused.value)
    assert f"{second}={arguments[first]!r} names the same column as {first}" in message
    assert "Fix: give each argument its own column" in message


def test_a_sort_column_that_is_the_id_column_suggests_leaving_it_out():
    with pytest.raises(FeaturekitError, match="leave column_sort out"):
        extract(frame(), column_sort="id")


@pytest.mark.parametrize(
    "ids",
    [
        pd.Series([1, None, 1, 2, 2], dtype=object),
        pd.Series([1.0, np.nan, 1.0, 2.0, np.nan]),
        pl.Series("id", [1.0, float("nan"), 1.0, 2.0, float("nan")]),
    ],
    ids=["none", "nan", "polars-nan"],
)
def test_missing_ids_are_refused_with_their_count(ids):
    data = (
        pl.from_pandas(frame()).with_columns(ids)
        if isinstance(ids, pl.Series)
        else frame(ids=ids)
    )
    missing = int(pd.isna(ids.to_pandas() if isinstance(ids, pl.Series) else ids).sum())
    with pytest.raises(SchemaError, match=rf"{missing} of 5 rows have a missing .* column_id"):
        extract(data)


def test_missing_kinds_are_refused_with_their_count():
    long = frame().assign(kind=["a", None, "a", "b", None])
    with pytest.raises(SchemaError, match=r"column 'kind'.*2 of 5 rows .* column_kind"):
        extract(long, column_kind="kind", column_value="value")


def test_an_empty_long_frame_gives_an_empty_result():
    empty = frame().assign(kind="k").iloc[:0]
    result = extract(empty, column_kind="kind", column_value="value")
    assert len(result) == 0 and result.index.name == "id"
    windowed = extract(pl.from_pandas(empty), column_kind="kind", column_value="value",
                       window=fkts.Rolling(size=2))
    assert windowed.columns == ["id", "time"] and windowed.height == 0


def test_text_among_the_values_is_named():
    values = pd.Series([1.0, "b", 3, 4.0, 5.0], dtype=object)
    with pytest.raises(SchemaError, match=r"column 'value'.*cast the values to float.*'b'"):
        extract(frame(values=values))
    with pytest.raises(SchemaError, match=r"column 'value': values must be numeric"):
        extract(frame(values=["a", "b", "c", "d", "e"]))


def test_integers_beyond_64_bits_among_the_values_are_read_as_float_as_tsfresh_does():
    values = pd.Series([2**64, 1, 2**70, 3, -(2**65)], dtype=object)
    result = extract(frame(values=values))
    floats = np.array([float(v) for v in values])
    assert result.loc[1, "value__mean"] == pytest.approx(floats[:3].mean(), rel=1e-15)
    assert result.loc[2, "value__mean"] == pytest.approx(floats[3:].mean(), rel=1e-15)
    # the caller's column keeps its Python integers
    assert values.iloc[0] == 2**64 and values.dtype == object


def test_big_integer_ids_are_refused_with_the_fix():
    ids = pd.Series([2**64, 2**64, 1, 1, 1], dtype=object)
    with pytest.raises(SchemaError, match="integers beyond the 64-bit range.*astype\\(str\\)"):
        extract(frame(ids=ids))


@pytest.mark.parametrize(
    "make",
    [
        lambda: fkts.Rolling(size=0),
        lambda: fkts.Rolling(size=-2),
        lambda: fkts.Rolling(size=3, step=0),
        lambda: fkts.Rolling(size="0d"),
        lambda: fkts.Rolling(size=pd.Timedelta(days=-1)),
        lambda: fkts.Expanding(min_size=0),
        lambda: fkts.Expanding(step=0),
        lambda: fkts.Tumbling(size=0),
        lambda: fkts.Tumbling(size="-3h"),
    ],
)
def test_window_sizes_and_steps_below_one_are_refused(make):
    with pytest.raises(FeaturekitError, match="Fix:"):
        make()


def test_a_window_of_another_type_is_refused():
    with pytest.raises(FeaturekitError, match="window must be fk.timeseries.Rolling"):
        extract(frame(), window=3)


def test_a_missing_file_is_named():
    with pytest.raises(SchemaError, match="no file at 'nowhere/series.parquet'"):
        fkts.extract("nowhere/series.parquet", column_id="id", settings=SETTINGS)


def test_a_datetime_index_with_missing_times_is_refused_only_where_times_are_read():
    data = frame().set_index(pd.DatetimeIndex(["2024-01-01", None, "2024-01-03", "2024-01-01",
                                               "2024-01-02"]))
    plain = fkts.extract(data, column_id="id", column_sort="time", settings=SETTINGS)
    assert plain["value__length"].tolist() == [3.0, 2.0]
    with pytest.raises(SchemaError, match="1 rows have a missing time \\(NaT\\) in the Datetime"):
        fkts.extract(data, column_id="id", column_sort="time",
                     settings={"linear_trend_timewise": [{"attr": "slope"}]})
