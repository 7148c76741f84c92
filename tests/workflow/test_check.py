"""es.check(): every finding on planted faults with counts computed here with pandas, the
demo database's planted faults found with their exact counts, and nothing on clean data."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo import RETAIL_KEYS, RETAIL_RELATIONSHIPS

NOW = dt.datetime(2024, 6, 30)


def unchecked(**tables: tuple[pd.DataFrame, str, str | None]) -> fk.EntitySet:
    es = fk.EntitySet("planted")
    for name, (frame, index, time_index) in tables.items():
        es.add_table(name, frame, index=index, time_index=time_index, validate=False)
    return es


def findings(report, check: str) -> pd.DataFrame:
    return report.frame[report.frame["check"] == check]


def only(report, check: str) -> pd.Series:
    rows = findings(report, check)
    assert len(rows) == 1, report
    return rows.iloc[0]


def shop(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean customers and orders: every order after its customer, amounts as numbers."""
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame({
        "customer_id": np.arange(1, 41),
        "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, 40), "D"),
        "region": rng.choice(["north", "south"], 40),
    })
    customer = rng.integers(1, 41, n)
    orders = pd.DataFrame({
        "order_id": np.arange(1, n + 1),
        "customer_id": customer,
        "ordered": customers.set_index("customer_id")["joined"].reindex(customer).to_numpy()
        + pd.to_timedelta(rng.integers(1, 400, n), "D"),
        "amount": np.round(rng.gamma(2.0, 30.0, n), 2),
        "note": rng.choice(["gift", "express", "none", "fragile"], n),
    })
    return customers, orders


def shop_entityset(customers: pd.DataFrame, orders: pd.DataFrame) -> fk.EntitySet:
    es = unchecked(customers=(customers, "customer_id", "joined"),
                   orders=(orders, "order_id", "ordered"))
    return es.add_relationship("customers", "customer_id", "orders", "customer_id")


def test_clean_data_gives_an_empty_report():
    report = shop_entityset(*shop()).check(now=NOW)
    assert report.empty and len(report) == 0 and report.frame.empty, report
    assert list(report.frame.columns) == ["check", "severity", "table", "column", "count",
                                          "message", "example_values", "example_row", "fix"]
    assert "nothing found" in str(report)


def test_demo_retail_data_only_its_missing_amounts(tables):
    """The retail demo's one true finding: the amounts it leaves missing on purpose (1%)."""
    report = fk.demo.retail_entityset(tables).check(now=NOW)
    nulls = only(report, "nulls")
    assert len(report) == 1
    assert (nulls["table"], nulls["column"], nulls["severity"]) == ("transactions", "amount",
                                                                   "info")
    assert nulls["count"] == tables["transactions"]["amount"].isna().sum() > 0


def test_duplicate_rows_and_keys_counted_as_extra_rows():
    customers, orders = shop()
    exact = orders.iloc[[3, 5, 5, 9]]  # copies, keys included
    reused = orders.iloc[[10, 11]].assign(amount=[1.0, 2.0])  # same keys, other amounts
    renamed = orders.iloc[[20]].assign(order_id=[5000])  # a copy under a new key
    planted = pd.concat([orders, exact, reused, renamed], ignore_index=True)
    report = shop_entityset(customers, planted).check(now=NOW)
    expected_rows = planted.duplicated().sum()
    expected_keys = planted["order_id"].duplicated().sum()
    assert (expected_rows, expected_keys) == (4, 6)
    row = only(report, "duplicate_rows")
    assert (row["table"], row["column"], row["count"], row["severity"]) == ("orders", None, 4,
                                                                          "warning")
    assert row["example_row"] == {k: v.to_pydatetime() if isinstance(v, pd.Timestamp) else v
                                  for k, v in orders.iloc[3].to_dict().items()}
    assert "dedupe" in row["fix"]
    key = only(report, "duplicate_keys")
    assert (key["column"], key["count"], key["severity"]) == ("order_id", 6, "error")
    assert set(key["example_values"]) == {str(orders["order_id"].iloc[i])
                                          for i in (3, 5, 9, 10, 11)}
    assert key["example_row"]["order_id"] == orders["order_id"].iloc[3]


def test_orphans_per_relationship_with_example():
    customers, orders = shop()
    planted = orders.copy()
    planted.loc[[2, 7, 8], "customer_id"] = [77, 78, 77]
    planted["customer_id"] = planted["customer_id"].astype("float64")
    planted.loc[9, "customer_id"] = np.nan  # a missing key is no orphan
    report = shop_entityset(customers, planted).check(now=NOW)
    expected = (planted["customer_id"].notna()
                & ~planted["customer_id"].isin(customers["customer_id"])).sum()
    row = only(report, "orphans")
    assert (row["table"], row["column"], row["count"]) == ("orders", "customer_id", expected)
    assert expected == 3 and set(row["example_values"]) == {"77.0", "78.0"}
    assert row["example_row"]["order_id"] == planted["order_id"].iloc[2]
    assert "drop_orphans" in row["fix"]


def test_orphans_compare_keys_stored_as_text_with_numbers():
    customers, orders = shop()
    planted = orders.assign(customer_id=orders["customer_id"].astype(str))
    planted.loc[4, "customer_id"] = "999"
    report = shop_entityset(customers, planted).check(now=NOW)
    assert only(report, "orphans")["count"] == 1


def test_nulls_per_column_including_blank_text_and_nan():
    customers, orders = shop()
    planted = orders.assign(note=orders["note"].astype(object))
    planted.loc[[1, 2], "note"] = [None, "  "]
    planted.loc[[3, 4, 5], "amount"] = np.nan
    report = shop_entityset(customers, planted).check(now=NOW)
    by_column = findings(report, "nulls").set_index("column")["count"].to_dict()
    expected_note = (planted["note"].isna() | (planted["note"].str.strip() == "")).sum()
    assert by_column == {"note": expected_note, "amount": planted["amount"].isna().sum()}
    assert by_column == {"note": 2, "amount": 3}


def test_numbers_as_text_and_their_formats():
    customers, orders = shop()
    text = orders["amount"].map(lambda v: f"{v:.2f}")
    text.iloc[:7] = [f"${v:.2f}" for v in orders["amount"].iloc[:7]]
    text.iloc[7:12] = [f"{v:.2f}".replace(".", ",") for v in orders["amount"].iloc[7:12]]
    text.iloc[12:15] = ["1,234.50", "2,000", "12 345"]
    text.iloc[15:17] = ["n/a", "unknown"]
    planted = orders.assign(amount=text)
    report = shop_entityset(customers, planted).check(now=NOW)
    assert only(report, "numbers_as_text")["count"] == len(planted)
    assert only(report, "currency_signs")["count"] == 7
    assert only(report, "decimal_commas")["count"] == 5
    assert only(report, "thousands_separators")["count"] == 3
    unparsed = only(report, "unparseable_numbers")
    assert (unparsed["count"], set(unparsed["example_values"])) == (2, {"n/a", "unknown"})
    assert unparsed["example_row"]["amount"] == "n/a"
    assert only(report, "currency_signs")["example_row"]["order_id"] == 1


def test_codes_with_leading_zeros_are_not_numbers():
    customers, orders = shop()
    planted = customers.assign(zip_code=np.where(np.arange(40) % 2, "02116", "10001"))
    report = shop_entityset(planted, orders).check(now=NOW)
    assert findings(report, "numbers_as_text").empty, report


def test_dates_in_several_formats_and_unparseable_dates():
    customers, orders = shop()
    text = orders["ordered"].dt.strftime("%Y-%m-%d %H:%M:%S")
    text.iloc[:9] = orders["ordered"].iloc[:9].dt.strftime("%d/%m/%Y")
    text.iloc[9:13] = orders["ordered"].iloc[9:13].dt.strftime("%d %b %Y")
    text.iloc[13:15] = ["soon", "31/02/2021"]
    planted = orders.assign(ordered=text)
    report = shop_entityset(customers, planted).check(now=NOW)
    mixed = only(report, "mixed_date_formats")
    assert (mixed["table"], mixed["column"], mixed["count"]) == ("orders", "ordered", 13)
    assert "ISO 8601" in mixed["message"] and "day/month/year (9" in mixed["message"]
    bad = only(report, "unparseable_dates")
    assert (bad["count"], set(bad["example_values"])) == (2, {"soon", "31/02/2021"})


def test_scale_mismatch_between_columns_of_one_name_and_given_pairs():
    customers, orders = shop()
    refunds = pd.DataFrame({"refund_id": np.arange(1, 31),
                            "amount": np.round(orders["amount"].iloc[:30] * 100).astype(int)})
    es = shop_entityset(customers, orders)
    es.add_table("refunds", refunds, "refund_id", validate=False)
    report = es.check(now=NOW)
    row = only(report, "scale_mismatch")
    ratio = refunds["amount"].abs().median() / orders["amount"].abs().median()
    assert 50 <= ratio <= 200
    assert (row["table"], row["column"], row["count"]) == ("refunds", "amount", 30)
    assert "100 times" in row["message"] and "orders.amount" in row["message"]
    # another name: compared only when asked, or when only a unit word differs
    renamed = fk.EntitySet().add_table("orders", orders, "order_id", validate=False)
    renamed.add_table("refunds", refunds.rename(columns={"amount": "refunded"}), "refund_id",
                      validate=False)
    assert findings(renamed.check(now=NOW), "scale_mismatch").empty
    paired = renamed.check(now=NOW, pairs=[("orders.amount", "refunds.refunded")])
    assert only(paired, "scale_mismatch")["column"] == "refunded"
    suffixed = fk.EntitySet().add_table("orders", orders, "order_id", validate=False)
    suffixed.add_table("refunds", refunds.rename(columns={"amount": "amount_cents"}),
                       "refund_id", validate=False)
    assert only(suffixed.check(now=NOW), "scale_mismatch")["column"] == "amount_cents"


def test_no_scale_mismatch_for_sizes_apart_by_less_than_fifty():
    customers, orders = shop()
    es = shop_entityset(customers, orders)
    es.add_table("refunds", pd.DataFrame({"refund_id": [1, 2, 3],
                                          "amount": orders["amount"].iloc[:3] * 20}),
                 "refund_id", validate=False)
    assert findings(es.check(now=NOW), "scale_mismatch").empty


def test_future_dates_after_now():
    customers, orders = shop()
    planted = orders.copy()
    planted.loc[[0, 5], "ordered"] = pd.Timestamp("2031-01-01")
    report = shop_entityset(customers, planted).check(now=NOW)
    expected = (planted["ordered"] > pd.Timestamp(NOW)).sum()
    row = only(report, "future_dates")
    assert (row["table"], row["column"], row["count"]) == ("orders", "ordered", expected)
    assert row["example_row"]["order_id"] == 1
    assert findings(shop_entityset(customers, planted).check(now="2040-01-01"),
                    "future_dates").empty
    assert only(shop_entityset(customers, planted).check(), "future_dates")["count"] == 2


def test_child_rows_before_their_parent():
    customers, orders = shop()
    planted = orders.copy()
    joined = customers.set_index("customer_id")["joined"]
    early = [4, 6, 30]
    planted.loc[early, "ordered"] = (joined.reindex(planted.loc[early, "customer_id"]).to_numpy()
                                     - pd.Timedelta("1D"))
    report = shop_entityset(customers, planted).check(now=NOW)
    merged = planted.merge(customers, on="customer_id")
    expected = (merged["ordered"] < merged["joined"]).sum()
    row = only(report, "before_parent")
    assert (row["table"], row["column"], row["count"]) == ("orders", "ordered", expected)
    assert expected == 3 and row["example_row"]["order_id"] == planted["order_id"].iloc[4]


def test_values_that_do_not_parse_as_the_given_type():
    frame = pd.DataFrame({"id": [1, 2, 3], "vip": ["yes", "maybe", "no"]})
    es = fk.EntitySet().add_table("c", frame, "id", types={"vip": "boolean"}, validate=False)
    row = only(es.check(now=NOW), "type_errors")
    assert (row["column"], row["count"], row["example_values"]) == ("vip", 1, ["maybe"])
    assert row["example_row"] == {"id": 2, "vip": "maybe"}


def test_check_never_changes_the_entity_set():
    customers, orders = shop()
    es = shop_entityset(customers, orders.assign(amount=orders["amount"].astype(str)))
    before = {name: table.frame.clone() for name, table in es.tables.items()}
    es.check(now=NOW)
    assert all(es[name].frame.equals(frame) for name, frame in before.items())
    assert not es.checked


def test_report_print_and_html(tmp_path):
    customers, orders = shop()
    planted = orders.assign(note=orders["note"].where(orders.index > 2, "<b>x</b>"))
    planted.loc[[0, 1], "customer_id"] = 999
    report = shop_entityset(customers, planted).check(now=NOW)
    text = str(report)
    assert "orders.customer_id: orphans, 2 rows" in text and "example row: {order_id=1" in text
    assert "fix: fk.prep.drop_orphans" in text
    page = report.to_html(tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "orphans" in report._repr_html_() and "<html" not in report._repr_html_()
    assert report.to_html() == page


def test_bad_arguments_get_clear_errors():
    es = shop_entityset(*shop())
    with pytest.raises(fk.FeaturekitError, match="check needs an EntitySet"):
        fk.prep.check(pd.DataFrame())
    with pytest.raises(fk.FeaturekitError, match="now= must be a datetime"):
        es.check(now="tomorrow")
    with pytest.raises(fk.FeaturekitError, match="pairs= must be a list"):
        es.check(pairs="orders.amount")
    with pytest.raises(fk.SchemaError, match="table 'refunds'.*no such table"):
        es.check(pairs=[("orders.amount", "refunds.amount")])
    with pytest.raises(fk.SchemaError, match="column 'total'.*no such column"):
        es.check(pairs=[("orders.total", "orders.amount")])


# ------------------------------------------------------------------ the demo database
def read_database(path) -> fk.EntitySet:
    """The SQLite file read with the standard library into an unchecked entity set (values
    as SQLite holds them; a column mixing numbers and text is read as text)."""
    es = fk.EntitySet("retail")
    with contextlib.closing(sqlite3.connect(path)) as connection:
        for name, (index, time_index) in RETAIL_KEYS.items():
            frame = pd.read_sql(f"SELECT * FROM {name}", connection)
            for column in frame.columns:
                if pd.api.types.is_object_dtype(frame[column].dtype):
                    frame[column] = frame[column].map(lambda v: None if v is None else str(v))
            es.add_table(name, frame, index=index, time_index=time_index, validate=False)
    for parent, parent_key, child, child_key in RETAIL_RELATIONSHIPS:
        es.add_relationship(parent, parent_key, child, child_key)
    return es


CHECK_OF_FAULT = {"two_date_formats": "mixed_date_formats", "scale": "scale_mismatch"}


@pytest.fixture(scope="module")
def planted_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "retail.sqlite"
    return fk.demo.write_retail_database(path, n_customers=120, faults=True), path


def test_every_planted_fault_is_found_with_its_count(planted_database):
    planted, path = planted_database
    report = read_database(path).check()
    for fault in planted["faults"]:
        name = CHECK_OF_FAULT.get(fault["kind"], fault["kind"])
        assert report.count(name, fault["table"], fault["column"]) == fault["count"], fault
    for null in planted["nulls"]:
        assert report.count("nulls", null["table"], null["column"]) == null["count"]
    # the only other finding: amounts are text in the file (some carry "$" or ","), so the
    # column as a whole holds numbers stored as text
    found = {(row.check, row.table, row.column) for row in report.frame.itertuples()}
    expected = {(CHECK_OF_FAULT.get(f["kind"], f["kind"]), f["table"], f["column"])
                for f in planted["faults"]}
    expected |= {("nulls", n["table"], n["column"]) for n in planted["nulls"]}
    assert found - expected == {("numbers_as_text", "transactions", "amount")}


def test_the_clean_database_has_only_its_missing_amounts(tmp_path):
    path = tmp_path / "clean.sqlite"
    planted = fk.demo.write_retail_database(path, n_customers=60, faults=False)
    report = read_database(path).check()
    assert planted["faults"] == []
    assert {(r.check, r.table, r.column, r.count) for r in report.frame.itertuples()} == {
        ("nulls", n["table"], n["column"], n["count"]) for n in planted["nulls"]}


def test_fixes_then_validate_then_features(planted_database):
    _, path = planted_database
    es = read_database(path)
    es, _ = fk.prep.dedupe(es, table="transactions")
    es, _ = fk.prep.dedupe(es, table="transactions", subset=["transaction_id"], keep="latest")
    es, _ = fk.prep.drop_orphans(es)
    es, _ = fk.prep.parse_numbers(es)
    es, _ = fk.prep.parse_dates(es)
    left = set(es.check().frame["check"])
    assert left == {"future_dates", "before_parent", "scale_mismatch", "nulls"}
    es.validate()
    assert es.checked and es["sessions"].frame["session_start"].dtype == pl.Datetime("us")
    matrix, _ = fk.dfs(es, target="customers", max_depth=1, agg_primitives=["count"],
                       trans_primitives=[])
    assert len(matrix) == es["customers"].frame.height


# ------------------------------------------------------------------ a property
@st.composite
def parent_and_child(draw):
    n = draw(st.integers(1, 20))
    keys = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    words = draw(st.lists(st.sampled_from(["a", "b", " ", None]), min_size=n, max_size=n))
    child = pd.DataFrame({"id": keys, "parent": draw(st.lists(
        st.one_of(st.none(), st.integers(0, 4)), min_size=n, max_size=n)), "word": words})
    child["parent"] = child["parent"].astype("Int64")
    parents = pd.DataFrame({"parent": draw(st.lists(st.integers(0, 4), min_size=1,
                                                       max_size=5, unique=True))})
    return parents, child


@settings(max_examples=60, deadline=None)
@given(parent_and_child())
def test_counts_match_pandas_on_random_tables(case):
    parents, child = case
    es = fk.EntitySet()
    es.add_table("parents", parents, "parent", validate=False)
    es.add_table("child", child, "id", validate=False)
    es.add_relationship("parents", "parent", "child", "parent")
    report = es.check(now=NOW)
    assert report.count("duplicate_rows") == child.duplicated().sum()
    assert report.count("duplicate_keys") == child["id"].duplicated().sum()
    orphans = child["parent"].notna() & ~child["parent"].isin(parents["parent"])
    assert report.count("orphans") == orphans.sum()
    blank = child["word"].isna() | (child["word"].str.strip() == "")
    assert report.count("nulls", "child", "word") == blank.sum()
    assert report.count("nulls", "child", "parent") == child["parent"].isna().sum()
