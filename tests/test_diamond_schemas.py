"""Schemas with several paths between two tables: a diamond (``lineitem`` reaches ``nation``
through ``orders -> customer`` and through ``supplier``) and two relationships between the
same tables (``flights`` has an origin and a destination airport). Names, order and values
equal Featuretools 1.31's on the same tables; rows after a cutoff never count; a cycle is
still refused.

The reference matrices were written by Featuretools itself
(tests/reference/make_featuretools_diamond_reference.py), from input tables stored beside
them; the JSON file describes the tables, relationships and runs.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from featuretools_reference import assert_same_values, cutoff_argument, entityset_from
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.engine.cutoffs import read_cutoffs
from featurekit.engine.per_cutoff import compute_per_cutoff
from featurekit.feature import DirectFeature, IdentityFeature

DATA = Path(__file__).parent / "data"
PREFIX = "featuretools_multipath"
REFERENCE = json.loads((DATA / f"{PREFIX}_reference.json").read_text())
RUNS = sorted(REFERENCE["runs"])
RTOL = 1e-9


def input_tables(schema: str) -> dict[str, pd.DataFrame]:
    return {table: pd.read_parquet(DATA / f"{PREFIX}_input_{schema}_{table}.parquet")
            for table in REFERENCE["schemas"][schema]["tables"]}


def build(schema: str, tables: dict[str, pd.DataFrame] | None = None) -> fk.EntitySet:
    """The schema's entity set, with the logical types Featuretools was given."""
    tables = input_tables(schema) if tables is None else tables
    return entityset_from(schema, REFERENCE["schemas"][schema], tables)


@pytest.fixture(scope="module")
def entitysets() -> dict[str, fk.EntitySet]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # both schemas are accepted as they are, silently
        return {schema: build(schema) for schema in REFERENCE["schemas"]}


def plan_like_featuretools(es: fk.EntitySet, run: dict) -> list:
    return fk.plan(es, target=run["target"], max_depth=run["max_depth"], **run["options"])


@pytest.mark.parametrize("key", RUNS)
def test_same_feature_names_in_the_same_order(entitysets, key):
    run = REFERENCE["runs"][key]
    features = plan_like_featuretools(entitysets[run["schema"]], run)
    assert [name for f in features for name in f.output_names] == run["features"]


def test_names_say_which_path_or_relationship_they_take(entitysets):
    """The reference holds the bracket and path forms (not only names without them)."""
    names = {name for run in REFERENCE["runs"].values() for name in run["features"]}
    for expected in ("COUNT(customer.orders.lineitem)", "SUM(supplier.lineitem.l_quantity)",
                     "COUNT(orders)", "COUNT(flights[origin_airport_id])",
                     "MEAN(flights[destination_airport_id].bookings.price)",
                     "airports[origin_airport_id].city",
                     "MODE(flights[origin_airport_id].origin_airport_id)",
                     "HAVERSINE(airports[destination_airport_id].location, "
                     "airports[origin_airport_id].location)"):
        assert expected in names


@pytest.mark.parametrize("key", RUNS)
def test_same_values_as_featuretools(entitysets, key):
    run = REFERENCE["runs"][key]
    es = entitysets[run["schema"]]
    features = plan_like_featuretools(es, run)
    target = es[run["target"]]
    matrix = fk.compute(es, features, cutoff_time=cutoff_argument(run, es))
    reference = pd.read_parquet(DATA / f"{PREFIX}_{key.replace('/', '_')}.parquet")
    several = isinstance(run["cutoff"], list)
    reference = reference.set_index([target.index, "time"] if several else target.index)
    matrix = matrix.loc[reference.index]
    if several and target.time_index is not None:
        # Our documented rule (README, "Cutoffs, our rules"): an instance created after its
        # cutoff has every feature missing; Featuretools fills in COUNT 0, SUM 0 and the like.
        created = target.frame.to_pandas().set_index(target.index)[target.time_index]
        exists = np.array([created[key] <= moment for key, moment in reference.index])
        assert matrix[~exists].isna().all().all()
        matrix, reference = matrix[exists], reference[exists]
        assert exists.sum() >= 10
    assert list(matrix.columns) == list(reference.columns)
    for column in reference.columns:
        assert_same_values(matrix[column], reference[column], RTOL)


@pytest.mark.parametrize("key", ["diamond/nation_cutoffs", "flights/airports_cutoffs"])
def test_sweeping_equals_walking_down_every_path(entitysets, key):
    """Several cutoffs per instance: the running statistics read off at each cutoff (the
    sweep) equal joining the rows of each path to each cutoff and filtering (the walk)."""
    run = REFERENCE["runs"][key]
    es = entitysets[run["schema"]]
    features = plan_like_featuretools(es, run)
    cutoffs = read_cutoffs(cutoff_argument(run, es), es, es[run["target"]], "time")
    swept = compute_per_cutoff(es, features, cutoffs.pairs, None, True, sweep=True)
    walked = compute_per_cutoff(es, features, cutoffs.pairs, None, True, sweep=False)
    pd.testing.assert_frame_equal(swept.to_pandas(), walked.to_pandas(), check_exact=False,
                                  rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ no leak through any path
LEAK_PRIMITIVES = {"agg_primitives": ["count", "sum", "max", "mode"], "trans_primitives": ["month"]}
TIMED = {"customer": "c_since", "supplier": "s_since", "orders": "o_orderdate",
         "lineitem": "l_shipdate"}
KEYS = {"customer": {"c_nationkey": "nation"}, "supplier": {"s_nationkey": "nation"},
        "orders": {"o_custkey": "customer"}, "lineitem": {"l_orderkey": "orders",
                                                           "l_suppkey": "supplier"}}


def rewrite_after(tables: dict[str, pd.DataFrame], moment: pd.Timestamp,
                  seed: int) -> dict[str, pd.DataFrame]:
    """The tables with every row timed after ``moment`` rewritten (numbers, categories,
    flags, and which parents they belong to) and new rows after ``moment`` added to every
    timed table, their keys pointing anywhere."""
    rng = np.random.default_rng(seed)
    changed = {name: frame.copy() for name, frame in tables.items()}
    for name, time in TIMED.items():
        frame = changed[name]
        late = frame[time] > moment
        extra = frame.sample(5, random_state=seed).copy()
        extra[time] = moment + pd.to_timedelta(rng.integers(1, 10_000, 5), unit="min")
        index = frame.columns[0]
        extra[index] = frame[index].max() + 1 + np.arange(5)
        frame = pd.concat([frame, extra], ignore_index=True)
        late = np.concatenate([late.to_numpy(), np.ones(5, dtype=bool)])
        for column in frame.columns:
            if column in (index, time):
                continue
            if column in KEYS[name]:
                parent = changed[KEYS[name][column]]
                parents = parent[parent.columns[0]].to_numpy()
                values = rng.choice(parents, late.sum())
            elif frame[column].dtype == bool:
                values = ~frame.loc[late, column].to_numpy()
            elif pd.api.types.is_numeric_dtype(frame[column]):
                values = rng.normal(0, 1e4, late.sum()).round(2).astype(frame[column].dtype)
            else:
                values = rng.choice(frame[column].dropna().unique(), late.sum())
            frame.loc[late, column] = values
        changed[name] = frame
    return changed


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.integers(150, 1100), seed=st.integers(0, 10_000),
       target=st.sampled_from(["nation", "customer", "lineitem"]),
       several=st.booleans())
def test_rows_after_the_cutoff_never_change_features(day, seed, target, several):
    """Whatever happens after the last cutoff (values, parents, new rows, along either path
    of the diamond) leaves every feature at every cutoff as it was."""
    moment = pd.Timestamp("2020-06-01") + pd.Timedelta(days=day, minutes=seed % 1440)
    tables = input_tables("diamond")
    es = build("diamond", tables)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.OrphanWarning)
        changed = build("diamond", rewrite_after(tables, moment, seed))
    features = fk.plan(es, target=target, max_depth=2, **LEAK_PRIMITIVES)
    if several:  # each instance at several cutoffs, the last exactly at ``moment``
        index = es[target].index
        keys = tables[target][index].to_numpy()[:: 3 if target == "lineitem" else 1]
        offsets = [pd.Timedelta(0), pd.Timedelta(days=40), pd.Timedelta(days=200, hours=5)]
        cutoff = pd.DataFrame([(k, moment - o) for k in keys for o in offsets], columns=[index, "time"])
    else:
        cutoff = moment.to_pydatetime()
    before = fk.compute(es, features, cutoff_time=cutoff)
    after = fk.compute(changed, features, cutoff_time=cutoff)
    after = after.loc[before.index]  # new instances, created after the cutoff, aside
    assert after.shape == before.shape
    # (their missing values may have widened an integer column to float: values compared)
    pd.testing.assert_frame_equal(after, before, check_exact=False, rtol=1e-12,
                                  check_categorical=False, check_dtype=False)
    # the rewrite did change something the features could have seen
    unchanged = fk.compute(es, features)
    assert not fk.compute(changed, features).loc[unchanged.index].equals(unchanged)


# ------------------------------------------------------------------ rules and refusals
def test_a_cycle_is_still_refused_naming_the_tables(entitysets):
    es = build("diamond")
    with pytest.raises(fk.SchemaError) as caught:  # region is above lineitem already
        es.add_relationship(parent="lineitem", parent_key="l_id", child="region",
                            child_key="r_regionkey")
    message = str(caught.value)
    for words in ("'region'", "'r_regionkey'", "cycle", "'lineitem'", "Fix"):
        assert words in message
    assert len(es.relationships) == len(REFERENCE["schemas"]["diamond"]["relationships"])


def test_path_names_follow_the_schema(entitysets):
    es = entitysets["diamond"]
    customer, orders, lineitem = (es.child_relationships(t)[0] for t in ("nation", "customer", "orders"))
    supplier_line = es.parent_relationships("lineitem")[1]
    assert es.count_paths("lineitem", "nation") == 2
    assert es.path_name((customer, orders, lineitem)) == "customer.orders.lineitem"
    assert es.path_name((customer, orders)) == "orders"  # orders reach nation one way
    assert es.path_name((orders, lineitem)) == "lineitem"
    assert es.count_paths("lineitem", "supplier") == 1 and supplier_line.parent == "supplier"
    flights = entitysets["flights"]
    origin, destination = flights.parent_relationships("flights")[:2]
    assert flights.parent_name(origin) == "airports[origin_airport_id]"
    assert flights.child_name(destination) == "flights[destination_airport_id]"
    assert flights.count_paths("bookings", "airports") == 2


@pytest.mark.parametrize("key", ["flights/airports", "flights/flights", "diamond/nation"])
def test_saved_features_keep_their_paths(entitysets, key, tmp_path):
    run = REFERENCE["runs"][key]
    es = entitysets[run["schema"]]
    features = plan_like_featuretools(es, run)
    fk.save_features(features, tmp_path / "features.json")
    loaded = fk.load_features(tmp_path / "features.json")
    assert [f.name for f in loaded] == [f.name for f in features]
    cutoff = pd.Timestamp(run["cutoff"]).to_pydatetime()
    pd.testing.assert_frame_equal(fk.compute(es, loaded, cutoff_time=cutoff),
                                  fk.compute(es, features, cutoff_time=cutoff))
    saved = json.loads((tmp_path / "features.json").read_text())["nodes"]
    assert any("path_name" in node for node in saved.values())


def test_two_features_of_one_name_through_twin_relationships_are_refused(entitysets):
    """Built by hand without their path names, the origin's and the destination's city
    would share one column; compute says so instead of computing one for both."""
    es = entitysets["flights"]
    origin, destination = es.parent_relationships("flights")[:2]
    city = IdentityFeature("airports", "city", es["airports"].schemas["city"])
    same_name = [DirectFeature(city, origin), DirectFeature(city, destination)]
    with pytest.raises(fk.ComputeError, match=r"both named 'airports\.city'.*"
                                              r"'airports\[origin_airport_id\]'"):
        fk.compute(es, same_name)
    named = [DirectFeature(city, r, es.parent_name(r)) for r in (origin, destination)]
    matrix = fk.compute(es, named)
    flights = es["flights"].frame.to_pandas().set_index("flight_id")
    cities = es["airports"].frame.to_pandas().set_index("airport_id")["city"].astype(str)
    assert (matrix["airports[origin_airport_id].city"].astype(str)
            == flights["origin_airport_id"].astype(str).map(cities)).all()
    assert (matrix["airports[destination_airport_id].city"].astype(str)
            == flights["destination_airport_id"].astype(str).map(cities)).all()


def test_labels_refuse_a_table_reached_by_two_paths(entitysets):
    es = entitysets["diamond"]
    with pytest.raises(fk.FeaturekitError, match=r"'lineitem' reaches 'nation' by 2 paths "
                                                 r"\(customer\.orders\.lineitem and supplier\.lineitem\)"):
        fk.make_labels(es, "nation", pl.col("l_quantity").sum(), window="90d", table="lineitem")
    labels = fk.make_labels(es, "customer", pl.col("l_quantity").sum(), window="90d",
                            table="lineitem")
    assert len(labels) > 0


def test_count_counts_rows_whichever_key_it_was_planned_on():
    """Where we differ on purpose: with two relationships into airports, Featuretools builds
    airlines' COUNT(flights) on the direct feature airports[destination_airport_id].airport_id
    (the first of its candidates by name) and so counts only flights that have a
    destination: on these tables with five destinations blanked it gives {1: 9, 2: 16, 3: 10}.
    COUNT(flights) is the number of flights, missing destination or not."""
    tables = input_tables("flights")
    flights = tables["flights"].copy()
    flights.loc[flights.index[:5], "destination_airport_id"] = None
    es = build("flights", {**tables, "flights": flights})
    features = fk.plan(es, target="airlines", agg_primitives=["count"], trans_primitives=[])
    count = next(f for f in features if f.name == "COUNT(flights)")
    assert count.inputs[0].name == "airports[destination_airport_id].airport_id"  # as planned there
    matrix = fk.compute(es, [count])
    expected = flights.groupby("airline_id").size().reindex(matrix.index, fill_value=0)
    assert matrix["COUNT(flights)"].tolist() == expected.tolist() == [11, 17, 12, 0]
