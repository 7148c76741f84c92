"""fk.prep's fixes: each matches a plain pandas computation written here, returns a change
report with counts, never changes the caller's data, and refuses bad input clearly."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ dedupe
@st.composite
def small_frames(draw):
    n = draw(st.integers(0, 25))
    ints = st.one_of(st.none(), st.integers(0, 3))
    words = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
    frame = pd.DataFrame({
        "a": pd.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype="Int64"),
        "b": pd.Series(draw(st.lists(words, min_size=n, max_size=n)), dtype=object),
        "t": pd.array(draw(st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=n,
                                    max_size=n)), dtype="Int64"),
    })
    subset = draw(st.sampled_from([None, ["a"], ["a", "b"], ["b"]]))
    return frame, subset


def pandas_dedupe(frame: pd.DataFrame, subset, keep: str) -> pd.DataFrame:
    if keep != "latest":
        return frame.drop_duplicates(subset=subset, keep=keep)
    columns = subset if subset is not None else list(frame.columns)
    order = frame.assign(_row=np.arange(len(frame)))
    order = order.sort_values(["t", "_row"], na_position="first", kind="stable")
    kept = order.drop_duplicates(subset=columns, keep="last")["_row"]
    return frame.iloc[np.sort(kept.to_numpy())]


@SETTINGS
@given(small_frames(), st.sampled_from(["first", "last", "latest"]))
def test_dedupe_matches_pandas_and_never_changes_the_input(case, keep):
    frame, subset = case
    before = frame.copy()
    cleaned, report = fk.prep.dedupe(frame, subset=subset, keep=keep,
                                     time_column="t" if keep == "latest" else None)
    pd.testing.assert_frame_equal(frame, before)
    expected = pandas_dedupe(frame, subset, keep)
    pd.testing.assert_frame_equal(cleaned, expected)
    removed = len(frame) - len(expected)
    assert report["count"].sum() == removed and len(report) == (1 if removed else 0)
    as_polars, _ = fk.prep.dedupe(pl.from_pandas(frame), subset=subset, keep=keep,
                                  time_column="t" if keep == "latest" else None)
    assert isinstance(as_polars, pl.DataFrame)
    assert as_polars.equals(pl.from_pandas(expected.reset_index(drop=True)))


def test_dedupe_keeps_the_kind_of_frame():
    frame = pd.DataFrame({"id": [1, 1, 2], "x": [1.0, 1.0, 3.0]}, index=[10, 11, 12])
    cleaned, _ = fk.prep.dedupe(pa.Table.from_pandas(frame, preserve_index=False))
    assert isinstance(cleaned, pa.Table) and cleaned.num_rows == 2
    cleaned, _ = fk.prep.dedupe(frame)
    assert cleaned.index.tolist() == [10, 12]  # the caller's labels are kept


def entityset_with_duplicates() -> tuple[fk.EntitySet, pd.DataFrame]:
    customers = pd.DataFrame({"customer_id": [1, 2, 3]})
    orders = pd.DataFrame({
        "order_id": [1, 2, 2, 3, 3, 4],
        "customer_id": [1, 1, 1, 2, 2, 3],
        "time": pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-02", "2021-01-05",
                                "2021-01-03", "2021-01-04"]),
        "amount": [5.0, 6.0, 6.0, 7.0, 8.0, 9.0],
    })
    es = fk.EntitySet("shop")
    es.add_table("customers", customers, "customer_id", validate=False)
    es.add_table("orders", orders, "order_id", time_index="time", validate=False)
    es.add_relationship("customers", "customer_id", "orders", "customer_id")
    return es, orders


def test_dedupe_an_entity_set_returns_a_new_one():
    es, orders = entityset_with_duplicates()
    frame = es["orders"].frame
    exact, report = fk.prep.dedupe(es, table="orders")
    assert report.to_dict("records") == [{
        "table": "orders", "column": None, "count": 1, "examples": [2],
        "what": "removed rows equal to another row in every column (keep='first'; examples: "
                "their 'order_id')"}]
    assert exact["orders"].frame["order_id"].to_list() == [1, 2, 3, 3, 4]
    latest, report = fk.prep.dedupe(exact, table="orders", subset="order_id", keep="latest")
    assert latest["orders"].frame["amount"].to_list() == [5.0, 6.0, 7.0, 9.0]  # 2021-01-05 kept
    assert report["count"].tolist() == [1]
    assert es["orders"].frame is frame and frame.height == 6 and not es.checked
    assert latest is not es and latest.relationships == es.relationships
    assert latest.check().empty
    latest.validate()
    assert latest.checked and not exact.checked and not es.checked


def test_dedupe_with_no_table_cleans_every_table():
    es, _ = entityset_with_duplicates()
    cleaned, report = fk.prep.dedupe(es)
    assert report["table"].tolist() == ["orders"] and cleaned["customers"].frame.height == 3


# ------------------------------------------------------------------ numbers
STYLES = ("plain", "dollar", "euro_comma", "us_thousands", "eu_thousands", "spaces", "code")


def written(value: float, style: str) -> str:
    text = f"{value:.2f}"
    if style == "dollar":
        return f"${text}" if value >= 0 else f"-${text[1:]}"
    if style == "euro_comma":
        return text.replace(".", ",") + " €"
    if style == "us_thousands":
        return f"{value:,.2f}"
    if style == "eu_thousands":
        return f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if style == "spaces":
        return f"{value:,.2f}".replace(",", " ")
    if style == "code":
        return f"EUR {text}"
    return text


@SETTINGS
@given(st.lists(st.tuples(st.floats(-5e6, 5e6, allow_nan=False), st.sampled_from(STYLES)),
                min_size=1, max_size=30),
       st.lists(st.sampled_from(["n/a", "abc", "1.2.3", "--"]), max_size=3))
def test_parse_numbers_reads_every_style_and_leaves_the_rest_missing(values, junk):
    texts = [written(value, style) for value, style in values] + junk
    frame = pd.DataFrame({"amount": texts, "other": range(len(texts))})
    before = frame.copy()
    cleaned, report = fk.prep.parse_numbers(frame, columns=["amount"])
    pd.testing.assert_frame_equal(frame, before)
    expected = [float(f"{value:.2f}") for value, _ in values] + [np.nan] * len(junk)
    np.testing.assert_array_equal(cleaned["amount"].to_numpy(dtype=float), expected)
    assert (cleaned["other"] == frame["other"]).all()
    counts = report.groupby("what")["count"].sum().to_dict()
    assert counts.get("did not parse: left missing", 0) == len(junk)
    assert sum(counts.values()) == len(texts)


def test_parse_numbers_report_names_each_change():
    frame = pl.DataFrame({"price": ["$12.50", "7,25", "1,200", "3", " ", None, "n/a"]})
    untouched, report = fk.prep.parse_numbers(frame)  # 4 of 5 parse: under 90%, not numbers
    assert untouched.equals(frame) and report.empty
    cleaned, report = fk.prep.parse_numbers(frame, columns="price")
    assert cleaned["price"].to_list() == [12.5, 7.25, 1200.0, 3.0, None, None, None]
    assert report[["what", "count"]].values.tolist() == [
        ["read a number stored as text", 1], ["removed a currency sign", 1],
        ["read a decimal comma as the decimal point", 1], ["removed thousands separators", 1],
        ["did not parse: left missing", 1]]
    assert report["examples"].iloc[-1] == ["n/a"]


def test_parse_numbers_on_an_entity_set_updates_types_and_notes():
    es = fk.EntitySet().add_table("t", pd.DataFrame({"id": [1, 2], "x": ["$5", "7,5"],
                                                     "zip": ["02116", "10001"]}),
                                  "id", types={"x": "double"}, validate=False)
    assert es["t"].schemas["x"].logical_type == "unknown" and "x" in es["t"].notes
    cleaned, report = fk.prep.parse_numbers(es)
    assert report["column"].unique().tolist() == ["x"]  # the codes stay text
    assert cleaned["t"].frame["x"].to_list() == [5.0, 7.5]
    assert cleaned["t"].schemas["x"].logical_type == "double" and not cleaned["t"].notes
    assert es["t"].frame["x"].to_list() == ["$5", "7,5"] and "x" in es["t"].notes
    cleaned.validate()
    assert cleaned["t"].frame["x"].to_list() == [5.0, 7.5]


# ------------------------------------------------------------------ dates
DATE_STYLES = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y", "%d %b %Y",
               "%Y/%m/%d", "%b %d, %Y")


@SETTINGS
@given(st.lists(st.tuples(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2199, 12, 31)),
                          st.sampled_from(DATE_STYLES)), min_size=1, max_size=30),
       st.lists(st.sampled_from(["soon", "2021-13-45", "yesterday"]), max_size=3))
def test_parse_dates_matches_pandas_per_format(values, junk):
    texts = [moment.strftime(style) for moment, style in values] + junk
    frame = pd.DataFrame({"when": texts})
    before = frame.copy()
    cleaned, report = fk.prep.parse_dates(frame, columns="when")
    pd.testing.assert_frame_equal(frame, before)
    expected = [pd.to_datetime(text, format=style)
                for text, (_, style) in zip(texts[:len(values)], values, strict=True)]
    expected = pd.Series(expected + [pd.NaT] * len(junk), dtype="datetime64[us]", name="when")
    pd.testing.assert_series_equal(cleaned["when"].astype("datetime64[us]"), expected)
    counts = report.groupby("what")["count"].sum().to_dict()
    assert counts.get("did not parse: left missing", 0) == len(junk)


def test_parse_dates_day_or_month_first_is_decided_per_column():
    us = pd.DataFrame({"when": ["12/31/2021", "01/02/2021", "2021-03-04"]})
    cleaned, report = fk.prep.parse_dates(us)
    assert cleaned["when"].dt.strftime("%Y-%m-%d").tolist() == ["2021-12-31", "2021-01-02",
                                                                "2021-03-04"]
    ambiguous = report[report["what"].str.startswith("day and month both 12 or less")]
    assert ambiguous["count"].tolist() == [1] and ambiguous["examples"].iloc[0] == ["01/02/2021"]
    european = pd.DataFrame({"when": ["31/12/2021", "01/02/2021"]})
    cleaned, _ = fk.prep.parse_dates(european)
    assert cleaned["when"].dt.strftime("%Y-%m-%d").tolist() == ["2021-12-31", "2021-02-01"]
    given_formats, report = fk.prep.parse_dates(european, formats=["%m/%d/%Y"])
    assert given_formats["when"].dt.strftime("%Y-%m-%d").tolist()[1] == "2021-01-02"
    assert report["what"].tolist() == ["read as %m/%d/%Y", "did not parse: left missing"]


def test_parse_dates_on_an_entity_set_reads_the_time_index():
    frame = pd.DataFrame({"id": [1, 2, 3], "t": ["2021-01-02 10:00:00", "01/31/2021 08:00:00",
                                                 "2021-02-01 00:00:00"]})
    es = fk.EntitySet().add_table("t", frame, "id", time_index="t", validate=False)
    with pytest.raises(fk.SchemaError):
        fk.EntitySet().add_table("t", frame, "id", time_index="t")
    cleaned, report = fk.prep.parse_dates(es)
    assert report["what"].tolist() == ["read as ISO 8601", "read as month/day/year"]
    cleaned.validate()
    assert cleaned["t"].frame["t"].to_list()[1] == dt.datetime(2021, 1, 31, 8)
    assert "time_index" in cleaned["t"].schemas["t"].tags


# ------------------------------------------------------------------ orphans
def family() -> fk.EntitySet:
    es = fk.EntitySet("family")
    es.add_table("customers", pd.DataFrame({"customer_id": [1, 2]}), "customer_id",
                 validate=False)
    es.add_table("sessions", pd.DataFrame({"session_id": [10, 11, 12, 13],
                                           "customer_id": [1, 9, 2, None]}),
                 "session_id", validate=False)
    es.add_table("events", pd.DataFrame({"event_id": [1, 2, 3, 4, 5],
                                         "session_id": [10, 11, 11, 99, 13]}),
                 "event_id", validate=False)
    es.add_relationship("customers", "customer_id", "sessions", "customer_id")
    es.add_relationship("sessions", "session_id", "events", "session_id")
    return es


def test_drop_orphans_parents_first_counts_each_table():
    es = family()
    cleaned, report = fk.prep.drop_orphans(es)
    assert report[["table", "column", "count"]].values.tolist() == [
        ["sessions", "customer_id", 1], ["events", "session_id", 3]]
    assert report["examples"].tolist() == [[9.0], [11, 99]]
    assert cleaned["sessions"].frame["session_id"].to_list() == [10, 12, 13]  # no key: kept
    assert cleaned["events"].frame["event_id"].to_list() == [1, 5]
    assert es["events"].frame.height == 5 and es["sessions"].frame.height == 4
    assert cleaned.check().empty or set(cleaned.check().frame["check"]) == {"nulls"}
    only_events, report = fk.prep.drop_orphans(es, table="events")
    assert report["count"].tolist() == [1] and only_events["sessions"].frame.height == 4


def test_drop_orphans_on_a_frame():
    orders = pd.DataFrame({"order": [1, 2, 3], "customer": [10, 11, 99]})
    cleaned, report = fk.prep.drop_orphans(orders, key="customer", parent_keys=[10, 11])
    expected = orders[orders["customer"].isin([10, 11])]
    pd.testing.assert_frame_equal(cleaned, expected)
    assert report["count"].tolist() == [1] and report["examples"].tolist() == [[99]]


# ------------------------------------------------------------------ bad input
def test_bad_input_gets_clear_errors():
    es, frame = entityset_with_duplicates()
    with pytest.raises(fk.FeaturekitError, match="keep='middle' is not a choice"):
        fk.prep.dedupe(frame, keep="middle")
    with pytest.raises(fk.SchemaError, match="column 'total'.*subset= names an absent column"):
        fk.prep.dedupe(frame, subset=["total"])
    with pytest.raises(fk.SchemaError, match="table 'nope'.*no such table"):
        fk.prep.dedupe(es, table="nope")
    with pytest.raises(fk.FeaturekitError, match="table= names a table of an EntitySet"):
        fk.prep.dedupe(frame, table="orders")
    with pytest.raises(fk.SchemaError, match="keep='latest' needs times"):
        fk.prep.dedupe(frame, keep="latest")
    with pytest.raises(fk.SchemaError, match="keep='latest' needs times"):
        fk.prep.dedupe(es, table="customers", keep="latest")
    with pytest.raises(fk.FeaturekitError, match="unsupported table type"):
        fk.prep.parse_numbers([1, 2])
    with pytest.raises(fk.SchemaError, match="column 'time'.*holds no text to read as numbers"):
        fk.prep.parse_numbers(frame, columns=["time"])
    with pytest.raises(fk.FeaturekitError, match="formats= must be strptime formats"):
        fk.prep.parse_dates(frame, formats=["dd/mm/yyyy"])
    with pytest.raises(fk.FeaturekitError, match="columns= must be a column name"):
        fk.prep.parse_dates(frame, columns=[1])
    with pytest.raises(fk.SchemaError, match="key= must name"):
        fk.prep.drop_orphans(frame, parent_keys=[1])
    with pytest.raises(fk.FeaturekitError, match="parent_keys= must hold"):
        fk.prep.drop_orphans(frame, key="customer_id")
    with pytest.raises(fk.SchemaError, match="table 'customers'.*has no parent"):
        fk.prep.drop_orphans(es, table="customers")
    unchanged, report = fk.prep.parse_numbers(frame, columns=["amount"])
    assert report["what"].tolist() == ["already numbers: unchanged"]
    pd.testing.assert_frame_equal(unchanged, frame)


def test_replace_frames_for_fixes_of_your_own():
    es = fk.demo.load_retail(n_customers=5, return_type="polars")
    products = es["products"].frame
    cents = products.with_columns(price=pl.lit(150, dtype=pl.Int64))
    new = fk.prep.replace_frames(es, {"products": cents})
    assert new["products"].schemas["price"].logical_type == "integer"
    assert "price" not in es["products"].frame.columns and es["products"].frame is products
    assert new.relationships == es.relationships and new.checked
    with pytest.raises(fk.SchemaError, match="table 'orders'.*no such table"):
        fk.prep.replace_frames(es, {"orders": cents})
    with pytest.raises(fk.SchemaError, match="column 'brand'.*lacks this column"):
        fk.prep.replace_frames(es, {"products": products.drop("brand")})
    with pytest.raises(fk.SchemaError, match="takes polars frames"):
        fk.prep.replace_frames(es, {"products": products.to_pandas()})


def test_columns_named_for_every_table_apply_where_they_exist():
    es = fk.EntitySet()
    es.add_table("a", pd.DataFrame({"id": [1], "x": ["$1"]}), "id", validate=False)
    es.add_table("b", pd.DataFrame({"id": [1], "y": ["2"]}), "id", validate=False)
    cleaned, report = fk.prep.parse_numbers(es, columns=["x"])
    assert report[["table", "column"]].values.tolist() == [["a", "x"]]
    assert cleaned["b"].frame["y"].to_list() == ["2"]
    with pytest.raises(fk.SchemaError, match="column 'z'.*columns= names an absent column"):
        fk.prep.parse_numbers(es, columns=["z"])
