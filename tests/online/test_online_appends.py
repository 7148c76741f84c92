"""Rows appended to an OnlineFeatures, batch after batch, give the features ``fk.compute``
gives on an entity set built from scratch with the same rows: new categories, missing
values and keys, rows without a time, rows before and after the cutoffs, new customers and
products, through the small appended parts, their merges and their merge into the held
part (the thresholds made small so that every step happens). A merge joins the caches it
had: nothing is rebuilt from the frames."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.online import OnlineFeatures
from featurekit.online import rows as held_rows
from featurekit.online.columns import Coder
from featurekit.online.rows import KeyLookup, Part

START = pd.Timestamp("2021-01-01")
DEVICES = ["mobile", "desktop", "tablet", "tv", "watch", "kiosk", None]  # the last 3: new
BRANDS = ["A", "B", "C", "D", "E", None]  # D and E: new
ZIPS = ["02116", "10001", "60601", "94105", None]  # 60601, 94105: new


def base_tables(seed: int = 0) -> dict[str, pd.DataFrame]:
    """Small retail tables with missing values, a missing session key and a row without a
    time; devices, brands and zip codes from the first values of their pools only."""
    rng = np.random.default_rng(seed)
    n_customers, n_sessions, n_transactions = 6, 20, 80
    customers = pd.DataFrame({
        "customer_id": np.arange(1, n_customers + 1),
        "zip_code": pd.array(rng.choice(["02116", "10001", None], n_customers), dtype="string"),
        "join_date": START + pd.to_timedelta(rng.integers(-300, 30, n_customers), unit="D"),
        "birthday": pd.Timestamp("1970-01-01") + pd.to_timedelta(rng.integers(0, 9000, n_customers), unit="D"),
    })
    sessions = pd.DataFrame({
        "session_id": np.arange(1, n_sessions + 1),
        "customer_id": rng.integers(1, n_customers, n_sessions),  # the last customer has none
        "device": pd.array(rng.choice(["mobile", "desktop", "tablet", None], n_sessions), dtype="string"),
        "session_start": START + pd.to_timedelta(rng.integers(0, 300 * 24, n_sessions), unit="h"),
    })
    amount = np.round(rng.normal(50, 30, n_transactions), 2)
    amount[rng.random(n_transactions) < 0.1] = np.nan
    session_of = pd.array(rng.integers(1, n_sessions + 1, n_transactions), dtype="Int64")
    session_of[3] = pd.NA
    times = (START + pd.to_timedelta(rng.integers(0, 300 * 24, n_transactions), unit="h")).to_series()
    times.iloc[5] = pd.NaT
    fraud = pd.array(rng.random(n_transactions) < 0.2, dtype="boolean")
    fraud[rng.random(n_transactions) < 0.1] = pd.NA
    transactions = pd.DataFrame({
        "transaction_id": np.arange(1, n_transactions + 1), "session_id": session_of,
        "transaction_time": times.reset_index(drop=True), "product_id": rng.integers(1, 6, n_transactions),
        "amount": amount, "fraud": fraud})
    products = pd.DataFrame({"product_id": np.arange(1, 6), "brand": pd.array(["A", "B", "A", None, "C"], dtype="string"),
                             "description": ["red cotton shirt", "mug", None, "blue mug item", ""]})
    return {"customers": customers, "sessions": sessions, "transactions": transactions,
            "products": products}


def moment(day: int | None) -> pd.Timestamp:
    return pd.NaT if day is None else START + pd.Timedelta(hours=day)


@st.composite
def batches(draw) -> list[dict[str, pd.DataFrame]]:
    """2 to 5 batches of new rows; each may add a customer, a product, sessions (of held or
    new customers) and transactions (of held or new sessions and products, or none)."""
    customers, sessions, products = 6, 20, 5
    transaction = 10_000
    found = []
    hours = st.integers(-2000, 9000)  # before the held rows, among them, after every cutoff
    for _ in range(draw(st.integers(2, 5))):
        batch = {}
        if draw(st.booleans()):
            customers += 1
            batch["customers"] = pd.DataFrame({
                "customer_id": [customers], "zip_code": pd.array([draw(st.sampled_from(ZIPS))], dtype="string"),
                "join_date": [moment(draw(hours))], "birthday": [pd.Timestamp("1990-05-01")]})
        if draw(st.booleans()):
            products += 1
            batch["products"] = pd.DataFrame({
                "product_id": [products], "brand": pd.array([draw(st.sampled_from(BRANDS))], dtype="string"),
                "description": [draw(st.sampled_from(["big mug", None, "", "green shirt"]))]})
        n_sessions = draw(st.integers(0, 3))
        if n_sessions:
            ids = list(range(sessions + 1, sessions + n_sessions + 1))
            sessions += n_sessions
            batch["sessions"] = pd.DataFrame({
                "session_id": ids,
                "customer_id": [draw(st.integers(1, customers)) for _ in ids],
                "device": pd.array([draw(st.sampled_from(DEVICES)) for _ in ids], dtype="string"),
                "session_start": [moment(draw(hours)) for _ in ids]})
        n_transactions = draw(st.integers(0 if n_sessions else 1, 6))
        if n_transactions:
            ids = list(range(transaction, transaction + n_transactions))
            transaction += n_transactions
            amounts = [draw(st.one_of(st.floats(-1e4, 1e4, allow_nan=False), st.just(np.nan)))
                       for _ in ids]
            times = [draw(st.one_of(hours, st.just(None))) for _ in ids]
            times[0] = draw(hours)  # a batch without any time is refused, as add_table refuses it
            batch["transactions"] = pd.DataFrame({
                "transaction_id": ids,
                "session_id": pd.array([draw(st.one_of(st.none(), st.integers(1, sessions)))
                                        for _ in ids], dtype="Int64"),
                "transaction_time": [moment(hour) for hour in times],
                "product_id": [draw(st.integers(1, products)) for _ in ids],
                "amount": amounts,
                "fraud": pd.array([draw(st.sampled_from([True, False, None])) for _ in ids],
                                  dtype="boolean")})
        found.append(batch)
    return found


def from_scratch(tables: dict[str, pd.DataFrame]) -> fk.EntitySet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows without a time, a missing key: counted, reported
        return retail_entityset(tables)


@pytest.fixture(scope="module")
def held() -> tuple[dict[str, pd.DataFrame], fk.EntitySet, list]:
    tables = base_tables()
    es = from_scratch(tables)
    return tables, es, fk.plan(es, target="customers", max_depth=2)


def check_every_instance(online: OnlineFeatures, tables: dict[str, pd.DataFrame], features,
                         cutoff_hours: list[int]) -> None:
    ids = tables["customers"]["customer_id"].tolist()
    cutoffs = [moment(cutoff_hours[i % len(cutoff_hours)]) for i in range(len(ids))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = online.compute(ids, cutoff_time=cutoffs)
        expected = fk.compute(from_scratch(tables), features,
                              cutoff_time=pd.DataFrame({"customer_id": ids, "time": cutoffs}))
    pd.testing.assert_frame_equal(got, expected)
    one, cutoff = ids[-1], cutoffs[-1]  # one instance: the usual call (its own categories)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = online.compute([one], cutoff_time=cutoff)
        expected = fk.compute(from_scratch(tables), features,
                              cutoff_time=pd.DataFrame({"customer_id": [one], "time": [cutoff]}))
    pd.testing.assert_frame_equal(alone, expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(appended=batches(), cutoff_hours=st.lists(st.integers(-500, 9500), min_size=1, max_size=4),
       small_part=st.sampled_from([1, 3, 1024]), compact_rows=st.sampled_from([4, 12, 10**6]))
def test_every_feature_equals_compute_after_each_append(held, appended, cutoff_hours, small_part,
                                                        compact_rows):
    tables, es, features = held
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(held_rows, "SMALL_PART", small_part)
        patch.setattr(held_rows, "COMPACT_MIN_ROWS", compact_rows)
        patch.setattr(held_rows, "COMPACT_SHARE", 10**9)  # merged into the held part past compact_rows
        online = OnlineFeatures(es, features)
        check_every_instance(online, tables, features, cutoff_hours)  # caches of the held rows
        for batch in appended:
            for name in ("customers", "products", "sessions", "transactions"):  # parents first
                if name in batch:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # rows without a time: reported
                        online.append(name, batch[name])
                    tables = {**tables, name: pd.concat([tables[name], batch[name]], ignore_index=True)}
            check_every_instance(online, tables, features, cutoff_hours)
        for name, rows in online.tables.items():
            assert rows.height == len(tables[name])


def test_appended_parts_stay_few_and_the_held_caches_are_joined_not_rebuilt(held, monkeypatch):
    """Appended batches of one row: parts of geometric sizes (a few, not one per batch), and
    the held part's cached arrays survive every append (the very same numpy arrays) until
    the appended rows are merged into it, when they are joined to the new rows' arrays."""
    tables, es, features = held
    monkeypatch.setattr(held_rows, "SMALL_PART", 1)
    monkeypatch.setattr(held_rows, "COMPACT_MIN_ROWS", 40)
    monkeypatch.setattr(held_rows, "COMPACT_SHARE", 10**9)  # merged into the held part past 40
    online = OnlineFeatures(es, features)
    online.compute([1], cutoff_time=START + pd.Timedelta(days=400))
    held_part = online.tables["transactions"].parts[0]
    cached = {name: col.values for name, col in held_part.arrays.items()}
    lookups = dict(held_part.lookups)
    assert cached and lookups
    for n in range(40):
        online.append("transactions", pd.DataFrame({
            "transaction_id": [20_000 + n], "session_id": pd.array([1 + n % 20], dtype="Int64"),
            "transaction_time": [START + pd.Timedelta(days=n)], "product_id": [1 + n % 5],
            "amount": [float(n)], "fraud": pd.array([n % 3 == 0], dtype="boolean")}))
        parts = online.tables["transactions"].parts
        assert parts[0] is held_part
        sizes = [part.frame.height for part in parts[1:]]
        assert sum(sizes) == n + 1 and len(sizes) <= int(np.log2(n + 1)) + 1
        assert all(big >= 2 * small for big, small in zip(sizes, sizes[1:], strict=False))
        assert all(held_part.arrays[name].values is values for name, values in cached.items())
        assert all(held_part.lookups[column] is lookup for column, lookup in lookups.items())
        for part in parts[1:]:  # the new rows' caches were made with them
            assert set(part.arrays) >= set(cached) and set(part.lookups) >= set(lookups)
    online.append("transactions", pd.DataFrame({
        "transaction_id": [30_000], "session_id": pd.array([2], dtype="Int64"),
        "transaction_time": [START], "product_id": [2], "amount": [1.0],
        "fraud": pd.array([True], dtype="boolean")}))
    (merged,) = online.tables["transactions"].parts
    assert merged.frame.height == len(tables["transactions"]) + 41
    for name, values in cached.items():
        np.testing.assert_array_equal(merged.arrays[name].values[:len(values)], values)
        assert len(merged.arrays[name]) == merged.frame.height
    fresh = OnlineFeatures(es, features)  # the same caches, made from scratch
    for column, lookup in merged.lookups.items():
        remade = KeyLookup(merged.frame[column])
        np.testing.assert_array_equal(lookup.sorted, remade.sorted)
        np.testing.assert_array_equal(lookup.positions, remade.positions)
    columns = fresh._columns.build(es["transactions"], Part(merged.frame), list(merged.arrays))
    for name, col in merged.arrays.items():
        np.testing.assert_array_equal(np.isnan(col.values) if col.kind == "f" else col.values,
                                      np.isnan(columns[name].values) if col.kind == "f"
                                      else columns[name].values)


def test_key_lookup_merge_equals_a_lookup_of_both_parts():
    """Merging two parts' sorted keys gives the lookup of their rows one after the other:
    equal values in row order, the first part's rows first, missing keys left out."""
    rng = np.random.default_rng(1)
    for dtype, values in ((pl.Int64, lambda n: rng.integers(0, 6, n).tolist()),
                          (pl.String, lambda n: rng.choice(["b", "a", "cc", "d"], n).tolist())):
        for n_first, n_second in ((0, 3), (5, 0), (7, 9), (30, 1)):
            first = pl.Series("k", values(n_first), dtype=dtype)
            second = pl.Series("k", values(n_second), dtype=dtype)
            if n_second:
                second = second.scatter([0], None)
            merged = KeyLookup.merged(KeyLookup(first), KeyLookup(second), n_first)
            whole = KeyLookup(pl.concat([first, second]))
            np.testing.assert_array_equal(merged.sorted, whole.sorted)
            np.testing.assert_array_equal(merged.positions, whole.positions)


def test_codes_of_held_rows_never_change_and_rank_like_sorted_values():
    """A category's code stays the same when later rows bring new values; ranked, codes are
    positions among the values sorted (the order a mode's ties and the output read)."""
    coder = Coder()
    first = coder.encode(pl.Series(["m", None, "d", "m"]))
    second = coder.encode(pl.Series(["a", "z", "d", None]))
    again = coder.encode(pl.Series(["m", None, "d", "m"]))
    np.testing.assert_array_equal(first, again)
    assert coder.version == 2
    names, _ = coder.ranked()
    assert names.tolist() == ["a", "d", "m", "z"]
    from featurekit.online.columns import CODES, Col

    ranked = coder.rank(Col(CODES, np.concatenate([first, second])))
    assert [None if c < 0 else ranked.names[c] for c in ranked.values] == \
        ["m", None, "d", "m", "a", "z", "d", None]
