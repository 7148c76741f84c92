"""EntitySet.from_directory on real parquet and CSV files in tmp_path: one table per file or
sub-folder of parts, indexes found by name, relationships inferred from key names with the
share of matching keys, ambiguous and weak matches reported and not added."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo_data import retail_tables
from featurekit.sources import KEY_SHARE

RETAIL = {("customers", "customer_id", "sessions", "customer_id"),
          ("sessions", "session_id", "transactions", "session_id"),
          ("products", "product_id", "transactions", "product_id")}


def relationships(es) -> set[tuple[str, str, str, str]]:
    return {(r.parent, r.parent_key, r.child, r.child_key) for r in es.relationships}


def links(es) -> pd.DataFrame:
    return es.source_report.relationships.set_index(["parent", "child", "child_key"])


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """The retail tables as a small data lake: parquet, CSV, and a sub-folder of parts."""
    folder = tmp_path_factory.mktemp("lake")
    tables = retail_tables(30, seed=4)
    tables["customers"].to_parquet(folder / "customers.parquet")
    tables["sessions"].to_csv(folder / "sessions.csv", index=False)
    tables["products"].to_csv(folder / "products.csv", index=False)
    (folder / "transactions").mkdir()
    transactions = tables["transactions"]
    for number, rows in enumerate(np.array_split(np.arange(len(transactions)), 3)):
        transactions.iloc[rows].to_parquet(folder / "transactions" / f"part-{number}.parquet")
    (folder / "transactions" / "_SUCCESS").write_text("")
    (folder / "README.txt").write_text("exported nightly")
    return folder, tables


def test_reads_every_file_and_infers_keys_and_relationships(lake):
    folder, tables = lake
    es = fk.EntitySet.from_directory(folder, time_indexes={"sessions": "session_start"})
    assert {name: table.index for name, table in es.tables.items()} == {
        "customers": "customer_id", "products": "product_id", "sessions": "session_id",
        "transactions": "transaction_id"}
    assert relationships(es) == RETAIL
    report = es.source_report
    assert set(report.relationships["found_by"]) == {"inferred"}
    assert report.relationships["key_share"].tolist() == [1.0, 1.0, 1.0]
    reason = links(es).loc[("sessions", "transactions", "session_id"), "reason"]
    n = len(tables["transactions"])
    assert reason == (f"'session_id' names the index of 'sessions', and {n} of {n} values "
                      "(100.0%) are its keys")
    assert report.left_out.to_dict("records") == [
        {"kind": "table", "name": "README.txt", "status": "left out",
         "reason": "not a parquet or CSV file"}]
    for name, frame in tables.items():
        loaded = es[name].frame.to_pandas()
        assert len(loaded) == len(frame)
        for column in frame.columns:
            expected, actual = frame[column], loaded[column]
            if pd.api.types.is_numeric_dtype(expected) and not pd.api.types.is_bool_dtype(
                    expected):
                np.testing.assert_allclose(expected.to_numpy(float), actual.to_numpy(float))
            elif pd.api.types.is_datetime64_any_dtype(expected):
                assert (expected.to_numpy("datetime64[us]")
                        == actual.to_numpy("datetime64[us]")).all()
            else:
                assert expected.astype(str).tolist() == actual.astype(str).tolist()


def test_given_relationships_replace_inference(lake):
    folder, _ = lake
    es = fk.EntitySet.from_directory(
        folder, relationships=[("customers", "customer_id", "sessions", "customer_id")])
    assert relationships(es) == {("customers", "customer_id", "sessions", "customer_id")}
    assert es.source_report.relationships["found_by"].tolist() == ["given"]
    assert relationships(fk.EntitySet.from_directory(folder, infer_relationships=False)) == set()
    with pytest.raises(fk.SchemaError, match="'sessions', column 'user'.*absent column"):
        fk.EntitySet.from_directory(folder, relationships=[("customers", "customer_id",
                                                            "sessions", "user")])
    with pytest.raises(fk.SchemaError, match="parent key must be the parent's index"):
        fk.EntitySet.from_directory(folder, relationships=[("sessions", "customer_id",
                                                            "transactions", "session_id")])


def write(folder, **frames) -> None:
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)


def test_two_parents_with_the_same_key_are_ambiguous_and_a_weak_match_is_left_out(tmp_path):
    customers = pd.DataFrame({"customer_id": range(1, 21)})
    orders = pd.DataFrame({"order_id": range(100), "customer_id": np.arange(100) % 20 + 1})
    write(tmp_path, customers=customers, vip_customers=customers, orders=orders)
    es = fk.EntitySet.from_directory(tmp_path, indexes={"vip_customers": "customer_id"})
    assert relationships(es) == set()  # nothing guessed between two equally good parents
    rows = links(es)
    for parent in ("customers", "vip_customers"):
        status, reason = rows.loc[(parent, "orders", "customer_id"), ["status", "reason"]]
        assert status == "ambiguous" and "matches the keys of 2 tables" in reason
    one_to_one = rows.loc[("customers", "vip_customers", "customer_id")]
    assert one_to_one["status"] == "ambiguous" and "one to one" in one_to_one["reason"]

    write(tmp_path, vip_customers=customers.head(5))  # only a quarter of orders' customers
    es = fk.EntitySet.from_directory(tmp_path, indexes={"vip_customers": "customer_id"})
    assert ("customers", "customer_id", "orders", "customer_id") in relationships(es)
    weak = links(es).loc[("vip_customers", "orders", "customer_id")]
    assert weak["status"] == "left out"
    assert "only 25 of 100 values (25%)" in weak["reason"] and weak["key_share"] == 0.25


def test_id_indexes_match_singular_key_names_and_cycles_are_left_out(tmp_path):
    write(tmp_path,
          users=pd.DataFrame({"id": [1, 2, 3], "team_id": [1, 1, 2]}),
          teams=pd.DataFrame({"team_id": [1, 2], "user_id": [1, 3]}),
          categories=pd.DataFrame({"id": [1, 2]}),
          posts=pd.DataFrame({"id": [1, 2, 3], "user_id": [1, 2, 3],
                              "category_id": [1, 2, 2], "text": ["a", "b", "c"]}))
    es = fk.EntitySet.from_directory(tmp_path)
    assert {name: table.index for name, table in es.tables.items()} == {
        "categories": "id", "posts": "id", "teams": "team_id", "users": "id"}
    # folder order: posts, teams, users; teams.user_id -> users is read before
    # users.team_id -> teams, which would close the cycle
    assert relationships(es) == {("users", "id", "posts", "user_id"),
                                 ("categories", "id", "posts", "category_id"),
                                 ("users", "id", "teams", "user_id")}
    cycle = links(es).loc[("teams", "users", "team_id")]
    assert cycle["status"] == "left out" and "cycle" in cycle["reason"]


def test_key_types_that_differ_are_reported(tmp_path):
    write(tmp_path, shops=pd.DataFrame({"shop_id": [1, 2]}),
          sales=pd.DataFrame({"sale_id": [1, 2], "shop_id": ["s1", "s2"]}))
    es = fk.EntitySet.from_directory(tmp_path)
    row = links(es).loc[("shops", "sales", "shop_id")]
    assert row["status"] == "left out" and "types differ" in row["reason"]
    assert relationships(es) == set()


def test_tables_without_a_key_name_get_numbered_rows(tmp_path):
    write(tmp_path, events=pd.DataFrame({"what": ["a", "b", "c"]}))
    es = fk.EntitySet.from_directory(tmp_path)
    assert es["events"].index == "events_row"
    assert es["events"].frame["events_row"].to_list() == [0, 1, 2]
    assert "rows numbered" in es.source_report.tables.loc[0, "index_from"]


def test_repeated_keys_are_refused_with_the_reason_the_index_was_chosen(tmp_path):
    write(tmp_path, orders=pd.DataFrame({"order_id": [1, 1, 2], "total": [1.0, 2.0, 3.0]}))
    with pytest.raises(fk.SchemaError, match=r"'orders', column 'order_id'.*repeated.*named "
                                             r"like this table's key.*validate=False"):
        fk.EntitySet.from_directory(tmp_path)


def test_bad_input_gets_clear_errors(tmp_path):
    with pytest.raises(fk.FeaturekitError, match="is not a folder"):
        fk.EntitySet.from_directory(tmp_path / "missing")
    with pytest.raises(fk.FeaturekitError, match="holds no parquet or CSV file"):
        fk.EntitySet.from_directory(tmp_path)
    write(tmp_path, orders=pd.DataFrame({"order_id": [1]}))
    pd.DataFrame({"order_id": [1]}).to_parquet(tmp_path / "orders.parquet")
    with pytest.raises(fk.SchemaError, match="same table"):
        fk.EntitySet.from_directory(tmp_path)
    (tmp_path / "orders.parquet").unlink()
    with pytest.raises(fk.SchemaError, match="'order': indexes= names a table the folder lacks"):
        fk.EntitySet.from_directory(tmp_path, indexes={"order": "order_id"})
    with pytest.raises(fk.SchemaError, match="'orders', column 'when'.*time index"):
        fk.EntitySet.from_directory(tmp_path, time_indexes={"orders": "when"})
    with pytest.raises(fk.FeaturekitError, match="relationship must be"):
        fk.EntitySet.from_directory(tmp_path, relationships=["orders"])


@pytest.mark.filterwarnings("ignore::featurekit.errors.OrphanWarning")  # counted in the report
@settings(max_examples=25, deadline=None)
@given(n_parents=st.integers(1, 30), n_children=st.integers(1, 60),
       orphan_share=st.floats(0.0, 0.5), seed=st.integers(0, 10_000))
def test_inference_adds_exactly_the_relationships_with_enough_parent_keys(
        tmp_path_factory, n_parents, n_children, orphan_share, seed):
    folder = tmp_path_factory.mktemp("property")
    rng = np.random.default_rng(seed)
    parents = pd.DataFrame({"shop_id": np.arange(n_parents)})
    keys = rng.integers(0, n_parents, n_children)
    orphan = rng.random(n_children) < orphan_share
    keys[orphan] = n_parents + rng.integers(0, 5, int(orphan.sum()))
    write(folder, shops=parents, sales=pd.DataFrame({"sale_id": np.arange(n_children),
                                                     "shop_id": keys}))
    es = fk.EntitySet.from_directory(folder)
    share = np.isin(keys, parents["shop_id"]).mean()
    assert (relationships(es) == {("shops", "shop_id", "sales", "shop_id")}) == (
        share >= KEY_SHARE)
    row = links(es).loc[("shops", "sales", "shop_id")]
    assert row["key_share"] == pytest.approx(share)
    if share >= KEY_SHARE:
        assert row["orphans"] == int((~np.isin(keys, parents["shop_id"])).sum())


def test_validate_false_keeps_faulty_files_for_the_check(tmp_path):
    write(tmp_path, orders=pd.DataFrame({"order_id": [1, 1, 2], "total": ["5", "6", "7"]}),
          lines=pd.DataFrame({"line_id": range(10), "order_id": [1, 2] * 4 + [1, 9]}))
    es = fk.EntitySet.from_directory(tmp_path, validate=False)
    assert es["orders"].frame.height == 3 and not es.checked
    assert relationships(es) == {("orders", "order_id", "lines", "order_id")}
    assert links(es).loc[("orders", "lines", "order_id"), "orphans"] == 1
    found = es.check().frame.set_index(["check", "table"])["count"]
    assert found["duplicate_keys", "orders"] == 1
    assert found["orphans", "lines"] == 1
