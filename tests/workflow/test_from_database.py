"""EntitySet.from_database on real databases: a SQLite file with foreign keys read through
sqlite3, SQLAlchemy and ADBC, and a temporary PostgreSQL server through SQLAlchemy. The
loaded frames equal plain pandas.read_sql of the same tables (converted by the documented
type mapping, written out here); keys, relationships and what was left out are reported."""

from __future__ import annotations

import sqlite3
import warnings

import adbc_driver_sqlite.dbapi as adbc_sqlite
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from workflow.sql_servers import postgres_binaries, temporary_postgres

import featurekit as fk
from featurekit.sources.sql_types import SQL_TYPE_RULES, logical_type_of

TIME_INDEXES = {"customers": "join_date", "sessions": "session_start",
                "transactions": "transaction_time"}
RELATIONSHIPS = {("customers", "customer_id", "sessions", "customer_id"),
                 ("sessions", "session_id", "transactions", "session_id"),
                 ("products", "product_id", "transactions", "product_id")}
INDEXES = {"customers": "customer_id", "sessions": "session_id",
           "transactions": "transaction_id", "products": "product_id"}
# the mapping the guide documents, for the demo's declared types
EXPECTED_TYPES = {"INTEGER": "integer", "VARCHAR": "categorical", "TEXT": "categorical",
                  "DATETIME": "datetime", "DATE": "datetime", "REAL": "double",
                  "BOOLEAN": "boolean"}


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "retail.sqlite"
    fk.demo.write_retail_database(path, n_customers=25, faults=False, seed=1)
    return path


def relationships(es) -> set[tuple[str, str, str, str]]:
    return {(r.parent, r.parent_key, r.child, r.child_key) for r in es.relationships}


def assert_same_as_read_sql(es, raw: dict[str, pd.DataFrame]) -> None:
    """Each table equals pandas.read_sql's frame after the documented conversion: dates
    parsed, 0/1 as booleans, text as categories; nothing else changed, no row lost."""
    for table, frame in raw.items():
        loaded = es[table].frame.to_pandas()
        assert list(loaded.columns) == list(frame.columns), table
        assert len(loaded) == len(frame), table
        for column in frame.columns:
            logical = es[table].schemas[column].logical_type
            expected, actual = frame[column], loaded[column]
            if logical == "datetime":
                expected = pd.to_datetime(expected).dt.tz_localize(None)
                actual = actual.dt.tz_localize(None)
                assert (expected.to_numpy("datetime64[us]")
                        == actual.to_numpy("datetime64[us]")).all(), (table, column)
            elif logical == "boolean":
                assert (expected.astype(bool).to_numpy() == actual.to_numpy(bool)).all()
            elif logical == "categorical":
                assert expected.astype(str).tolist() == actual.astype(str).tolist()
            else:
                np.testing.assert_allclose(expected.to_numpy(float), actual.to_numpy(float),
                                           err_msg=f"{table}.{column}")


def read_sql_all(con) -> dict[str, pd.DataFrame]:
    return {table: pd.read_sql(f"SELECT * FROM {table}", con) for table in INDEXES}


def check_retail(es, raw) -> None:
    assert set(es.tables) == set(INDEXES)
    assert {name: table.index for name, table in es.tables.items()} == INDEXES
    assert {name: es[name].time_index for name in TIME_INDEXES} == TIME_INDEXES
    assert relationships(es) == RELATIONSHIPS
    assert_same_as_read_sql(es, raw)
    report = es.source_report
    assert set(report.relationships["status"]) == {"added"}
    assert report.relationships["orphans"].tolist() == [0, 0, 0]
    assert dict(zip(report.tables["table"], report.tables["rows"], strict=True)) == {
        table: len(frame) for table, frame in raw.items()}
    assert report.left_out.empty


def test_sqlite_file_path_and_connection(retail):
    with sqlite3.connect(retail) as connection:
        raw = read_sql_all(connection)
        from_connection = fk.EntitySet.from_database(connection, time_indexes=TIME_INDEXES)
        connection.execute("SELECT 1")  # a borrowed connection stays open
    check_retail(from_connection, raw)
    from_path = fk.EntitySet.from_database(str(retail), time_indexes=TIME_INDEXES)
    check_retail(from_path, raw)
    assert from_path.name == "retail"


def test_declared_types_follow_the_documented_mapping(retail):
    es = fk.EntitySet.from_database(retail, time_indexes=TIME_INDEXES)
    columns = es.source_report.columns
    for row in columns.itertuples():
        declared = row.declared_type.split("(")[0]
        assert logical_type_of(row.declared_type) == EXPECTED_TYPES[declared]
        assert row.logical_type == EXPECTED_TYPES[declared], (row.table, row.column)
    assert es["transactions"].frame["fraud"].dtype.to_python() is bool


def test_sqlalchemy_url_engine_and_adbc(retail):
    with sqlite3.connect(retail) as connection:
        raw = read_sql_all(connection)
    check_retail(fk.EntitySet.from_database(f"sqlite:///{retail}", time_indexes=TIME_INDEXES),
                 raw)
    engine = sa.create_engine(f"sqlite:///{retail}")
    try:
        check_retail(fk.EntitySet.from_database(engine, time_indexes=TIME_INDEXES), raw)
        with engine.connect() as connection:
            check_retail(fk.EntitySet.from_database(connection, time_indexes=TIME_INDEXES),
                         raw)
    finally:
        engine.dispose()
    with adbc_sqlite.connect(str(retail)) as connection:
        through_adbc = read_sql_all(connection)
        es = fk.EntitySet.from_database(connection, time_indexes=TIME_INDEXES)
    check_retail(es, through_adbc)


POSTGRES_SCHEMA = """
CREATE TABLE customers (customer_id BIGINT PRIMARY KEY, zip_code VARCHAR(5),
    join_date TIMESTAMP NOT NULL, birthday DATE);
CREATE TABLE products (product_id INTEGER PRIMARY KEY, brand CHAR(1), description TEXT,
    price NUMERIC(8, 2), weight_kg DOUBLE PRECISION);
CREATE TABLE sessions (session_id BIGINT PRIMARY KEY,
    customer_id BIGINT REFERENCES customers (customer_id), device VARCHAR(10),
    session_start TIMESTAMP WITH TIME ZONE NOT NULL);
CREATE TABLE transactions (transaction_id BIGINT PRIMARY KEY,
    session_id BIGINT REFERENCES sessions (session_id), transaction_time TIMESTAMP NOT NULL,
    product_id INTEGER REFERENCES products (product_id), amount REAL, price NUMERIC(8, 2),
    fraud BOOLEAN);
"""


@pytest.mark.skipif(postgres_binaries() is None,
                    reason="PostgreSQL server binaries (initdb, pg_ctl, postgres) are not on "
                           "this machine, so no temporary server can be started")
def test_postgresql_server_through_sqlalchemy(retail):
    with sqlite3.connect(retail) as connection:
        source = read_sql_all(connection)
    with temporary_postgres() as url:
        engine = sa.create_engine(url)
        try:
            with engine.begin() as connection:
                for statement in POSTGRES_SCHEMA.split(";")[:-1]:
                    connection.exec_driver_sql(statement)
                for table in ("customers", "products", "sessions", "transactions"):
                    frame = source[table].copy()
                    for column in ("join_date", "birthday", "session_start",
                                   "transaction_time"):
                        if column in frame:
                            frame[column] = pd.to_datetime(frame[column])
                    if "fraud" in frame:
                        frame["fraud"] = frame["fraud"].astype(bool)
                    frame.to_sql(table, connection, if_exists="append", index=False)
                connection.exec_driver_sql("CREATE SCHEMA shop")
                connection.exec_driver_sql(
                    "CREATE TABLE shop.shelves (shelf_id INTEGER PRIMARY KEY, label TEXT)")
                connection.exec_driver_sql(
                    "CREATE TABLE shop.items (item_id INTEGER PRIMARY KEY, "
                    "shelf_id INTEGER REFERENCES shop.shelves (shelf_id), added DATE)")
                connection.exec_driver_sql("INSERT INTO shop.shelves VALUES (1, 'a'), (2, 'b')")
                connection.exec_driver_sql(
                    "INSERT INTO shop.items VALUES (7, 1, '2024-01-02'), (8, 1, NULL)")
            raw = read_sql_all(engine)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no orphan, no coercion
                es = fk.EntitySet.from_database(url, time_indexes=TIME_INDEXES)
                shop = fk.EntitySet.from_database(engine, schema="shop")
        finally:
            engine.dispose()
    check_retail(es, raw)
    types = es.source_report.columns.set_index(["table", "column"])["logical_type"]
    assert types["products", "price"] == "double"  # NUMERIC read as floats
    assert types["sessions", "session_start"] == "datetime"
    assert types["transactions", "fraud"] == "boolean"
    assert es["products"].frame["price"].dtype.is_float()
    assert sorted(shop.tables) == ["items", "shelves"]  # only the schema asked for
    assert relationships(shop) == {("shelves", "shelf_id", "items", "shelf_id")}
    assert shop["items"].frame["added"].to_list()[0].isoformat() == "2024-01-02T00:00:00"
    assert shop["items"].schemas["added"].logical_type == "datetime"


# ------------------------------------------------------------------ awkward schemas
AWKWARD = """
CREATE TABLE regions (region_id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE stores (store_id INTEGER PRIMARY KEY, region_id INTEGER REFERENCES regions,
    region_name TEXT REFERENCES regions (name), manager_store INTEGER REFERENCES stores);
CREATE TABLE shelves (store_id INTEGER REFERENCES stores, shelf_no INTEGER, label TEXT,
    PRIMARY KEY (store_id, shelf_no));
CREATE TABLE slots (slot_id INTEGER PRIMARY KEY, store_id INTEGER, shelf_no INTEGER,
    FOREIGN KEY (store_id, shelf_no) REFERENCES shelves (store_id, shelf_no));
CREATE TABLE visits (visit_id INTEGER, store_id INTEGER REFERENCES stores, seen TEXT);
CREATE TABLE log (message TEXT, store_id INTEGER REFERENCES stores);
CREATE TABLE a (a_id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b);
CREATE TABLE b (b_id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a);
CREATE VIEW big_stores AS SELECT * FROM stores WHERE store_id > 1;
INSERT INTO regions VALUES (1, 'north'), (2, 'south');
INSERT INTO stores VALUES (1, 1, 'north', NULL), (2, 2, 'south', 1), (3, 2, 'south', 1);
INSERT INTO shelves VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, 'z');
INSERT INTO slots VALUES (10, 1, 1), (11, 1, 2), (12, 2, 1);
INSERT INTO visits VALUES (100, 1, 'a'), (101, 3, 'b');
INSERT INTO log VALUES ('opened', 1), ('closed', 2), ('opened', 2);
INSERT INTO a VALUES (1, 1), (2, 1);
INSERT INTO b VALUES (1, 2);
"""


@pytest.fixture()
def awkward(tmp_path):
    path = tmp_path / "awkward.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(AWKWARD)
    connection.close()
    return path


def test_awkward_schema_reads_every_table_and_reports_each_left_out_key(awkward):
    es = fk.EntitySet.from_database(awkward)
    report = es.source_report
    assert set(es.tables) == {"regions", "stores", "shelves", "slots", "visits", "log", "a",
                              "b"}  # no table dropped
    with sqlite3.connect(awkward) as connection:
        for table in es.tables:
            count = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            assert es[table].frame.height == count
    indexes = {name: table.index for name, table in es.tables.items()}
    assert indexes == {"regions": "region_id", "stores": "store_id", "shelves": "shelves_row",
                       "slots": "slot_id", "visits": "visit_id", "log": "log_row",
                       "a": "a_id", "b": "b_id"}
    assert es["shelves"].frame["shelves_row"].to_list() == [0, 1, 2]
    index_from = dict(zip(report.tables["table"], report.tables["index_from"], strict=True))
    assert index_from["shelves"].startswith("composite primary key (store_id, shelf_no)")
    assert "named like this table's key" in index_from["visits"]
    assert index_from["log"].startswith("no primary key declared and no column named")
    links = report.relationships.set_index(["child", "child_key"])
    # a is read before b, so a.b_id -> b is added and b.a_id -> a would close the cycle
    assert relationships(es) == {("regions", "region_id", "stores", "region_id"),
                                 ("stores", "store_id", "shelves", "store_id"),
                                 ("stores", "store_id", "visits", "store_id"),
                                 ("stores", "store_id", "log", "store_id"),
                                 ("b", "b_id", "a", "b_id")}
    reasons = {key: (row.status, row.reason) for key, row in links.iterrows()}
    assert reasons["stores", "region_name"][0] == "left out"
    assert "not the parent's index" in reasons["stores", "region_name"][1]
    assert "own table" in reasons["stores", "manager_store"][1]
    assert "composite foreign key" in reasons["slots", "store_id, shelf_no"][1]
    assert reasons["shelves", "store_id"][0] == "added"
    assert reasons["a", "b_id"][0] == "added"
    assert "cycle" in reasons["b", "a_id"][1]
    left = report.left_out
    assert ("table", "big_stores") in set(zip(left["kind"], left["name"], strict=True))
    assert len(left[left["kind"] == "relationship"]) == 4
    assert "Left out or ambiguous (5)" in str(report)


def test_a_view_named_in_tables_is_read(awkward):
    es = fk.EntitySet.from_database(awkward, tables=["regions", "big_stores"],
                                    indexes={"big_stores": "store_id"})
    assert es["big_stores"].frame["store_id"].to_list() == [2, 3]
    left = es.source_report.left_out
    assert set(left.loc[left["kind"] == "table", "name"]) == {"stores", "shelves", "slots",
                                                              "visits", "log", "a", "b"}
    assert es.source_report.notes  # two tables, no relationship: said so


def test_foreign_key_to_a_table_not_read_is_reported(awkward):
    es = fk.EntitySet.from_database(awkward, tables=["stores", "visits"])
    links = es.source_report.relationships
    region = links[links["child_key"] == "region_id"].iloc[0]
    assert region["status"] == "left out" and "'regions' was not read" in region["reason"]
    assert relationships(es) == {("stores", "store_id", "visits", "store_id")}


def test_numbers_and_text_in_one_column_are_read_as_text_and_refused_as_numbers(tmp_path):
    path = tmp_path / "mixed.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            "CREATE TABLE pay (pay_id INTEGER PRIMARY KEY, amount REAL, paid_on DATE);"
            "INSERT INTO pay VALUES (1, 2.5, '2024-01-02'), (2, '$3.00', '2024-01-03'),"
            "(3, '4,75', '2024-01-04'), (4, NULL, NULL);")
    connection.close()
    with pytest.raises(fk.SchemaError, match=r"table 'pay', column 'amount'.*validate=False"):
        fk.EntitySet.from_database(path)
    es = fk.EntitySet.from_database(path, types={"pay": {"amount": "text"}})
    assert es["pay"].frame["amount"].to_list() == ["2.5", "$3.00", "4,75", None]
    note = es.source_report.columns.set_index("column").loc["amount", "note"]
    assert note == "numbers and text in one column: read as text (2 values are not numbers)"
    assert es["pay"].frame["paid_on"].to_list()[:3] == list(
        pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]).to_pydatetime())


def test_faulty_demo_database_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "faulty.sqlite"
    fk.demo.write_retail_database(path, n_customers=10)
    with pytest.raises(fk.SchemaError) as error:
        fk.EntitySet.from_database(path, time_indexes=TIME_INDEXES)
    message = str(error.value)
    assert "table 'sessions', column 'session_start'" in message
    assert "validate=False" in message
    with pytest.raises(fk.SchemaError, match=r"transaction_id.*repeated values.*named like"):
        fk.EntitySet.from_database(path, tables=["transactions"],
                                   types={"transactions": {"amount": "text"}})


def test_bad_input_gets_clear_errors(tmp_path, retail):
    missing = tmp_path / "nothing.sqlite"
    with pytest.raises(fk.FeaturekitError, match="no SQLite file"):
        fk.EntitySet.from_database(missing)
    assert not missing.exists()  # never created by the attempt
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_text("not a database at all" * 100)
    with pytest.raises(fk.FeaturekitError, match="cannot be read as SQLite"):
        fk.EntitySet.from_database(garbage)
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    with pytest.raises(fk.FeaturekitError, match="no tables"):
        fk.EntitySet.from_database(empty)
    with pytest.raises(fk.SchemaError, match="'orders'.*no such table.*customers"):
        fk.EntitySet.from_database(retail, tables=["orders"])
    with pytest.raises(fk.SchemaError, match="'sessions', column 'started'.*time index"):
        fk.EntitySet.from_database(retail, time_indexes={"sessions": "started"})
    with pytest.raises(fk.SchemaError, match="'orders'.*time_indexes= names a table that is "
                                             "not read"):
        fk.EntitySet.from_database(retail, time_indexes={"orders": "time"})
    with pytest.raises(fk.SchemaError, match="'products'.*types= names a table that is not"):
        fk.EntitySet.from_database(retail, tables=["customers"],
                                   types={"products": {"brand": "text"}})
    with pytest.raises(fk.FeaturekitError, match="tables= must be a list"):
        fk.EntitySet.from_database(retail, tables="customers")
    with pytest.raises(fk.FeaturekitError, match="cannot read from a dict"):
        fk.EntitySet.from_database({"path": str(retail)})


def test_empty_table_is_read_with_zero_rows(tmp_path):
    path = tmp_path / "empty_table.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            "CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE events (event_id INTEGER PRIMARY KEY, "
            "user_id INTEGER REFERENCES users (user_id), at DATETIME);"
            "INSERT INTO users VALUES (1, 'ann');")
    connection.close()
    es = fk.EntitySet.from_database(path)
    assert es["events"].frame.height == 0
    assert relationships(es) == {("users", "user_id", "events", "user_id")}
    assert es.source_report.tables.set_index("table").loc["events", "rows"] == 0


def test_the_caller_connection_sees_no_change(retail):
    with sqlite3.connect(retail) as connection:
        before = read_sql_all(connection)
        fk.EntitySet.from_database(connection, time_indexes=TIME_INDEXES)
        after = read_sql_all(connection)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[table])


@settings(max_examples=60, deadline=None)
@given(rule=st.sampled_from(SQL_TYPE_RULES), case=st.sampled_from([str.upper, str.lower,
                                                                    str.title]),
       size=st.one_of(st.none(), st.integers(1, 255)))
def test_type_mapping_ignores_case_and_parameters(rule, case, size):
    example = rule[2].split(",")[0].split(" (")[0].strip()  # the first name the rule covers
    if example.startswith("any name"):
        example = "INTEGER"
    declared = case(example) + (f"({size})" if size is not None else "")
    assert logical_type_of(declared) == rule[1]


def test_docstring_examples_run():
    import doctest

    import featurekit.sources.sql_types as sql_types

    for module in (sql_types, fk.entityset):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0


CHECK_NAMES = {"two_date_formats": "mixed_date_formats", "scale": "scale_mismatch"}


def test_validate_false_keeps_every_planted_fault_for_the_check(tmp_path):
    path = tmp_path / "faulty.sqlite"
    planted = fk.demo.write_retail_database(path, n_customers=40, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the orphans are planted
        es = fk.EntitySet.from_database(path, validate=False, time_indexes=TIME_INDEXES)
    assert {name: table.frame.height for name, table in es.tables.items()} == planted["rows"]
    assert relationships(es) == RELATIONSHIPS
    orphans = es.source_report.relationships.set_index("child_key")["orphans"]
    assert orphans["session_id"] == next(fault["count"] for fault in planted["faults"]
                                         if fault["kind"] == "orphans")
    found = es.check().frame
    for fault in planted["faults"]:
        check = CHECK_NAMES.get(fault["kind"], fault["kind"])
        rows = found[(found["check"] == check) & (found["table"] == fault["table"])]
        if fault["column"] is not None:
            rows = rows[rows["column"] == fault["column"]]
        assert rows["count"].tolist() == [fault["count"]], fault
    with pytest.raises(fk.SchemaError):
        es.validate()


def test_names_that_need_quoting_are_read(tmp_path):
    path = tmp_path / "quoted.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            'CREATE TABLE "order items" ("item id" INTEGER PRIMARY KEY, "say ""hi""" TEXT);'
            """INSERT INTO "order items" VALUES (1, 'a'), (2, 'b');""")
    connection.close()
    for con in (path, f"sqlite:///{path}"):
        es = fk.EntitySet.from_database(con)
        assert es["order items"].index == "item id"
        assert es["order items"].frame['say "hi"'].cast(str).to_list() == ["a", "b"]
    with adbc_sqlite.connect(str(path)) as connection:
        assert fk.EntitySet.from_database(connection)["order items"].frame.height == 2


def test_a_database_without_foreign_keys_is_read_unlinked_and_says_so(tmp_path):
    path = tmp_path / "loose.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            "CREATE TABLE users (user_id INTEGER PRIMARY KEY);"
            "CREATE TABLE visits (visit_id INTEGER PRIMARY KEY, user_id INTEGER);"
            "INSERT INTO users VALUES (1); INSERT INTO visits VALUES (5, 1);")
    connection.close()
    es = fk.EntitySet.from_database(path)
    assert sorted(es.tables) == ["users", "visits"] and es.relationships == []
    assert es.source_report.notes == [
        "no relationship was declared or found: the tables are not linked; add them with "
        "es.add_relationship(parent, parent_key, child, child_key)"]
    assert "Note: no relationship was declared" in str(es.source_report)
