"""Featuretools' planning controls — interesting values and where aggregations, seed features,
drop_contains / drop_exact, primitive_options, ignore_dataframes / ignore_columns,
max_features — give Featuretools 1.31's feature names, order and values under cutoff times.

The reference matrices were written by Featuretools itself
(tests/reference/make_featuretools_planning_reference.py) on the retail demo tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from featurekit.primitives import get_primitive
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo import load_retail
from featurekit.demo_data import retail_tables

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "featuretools_planning_reference.json").read_text())
N_CUSTOMERS = REFERENCE["n_customers"]

# The same runs as the reference script, in featurekit's spelling (which is Featuretools').
RUNS = {
    "where_auto": {"interesting": "auto", "dfs": {"where_primitives": ["count", "sum", "mean"]}},
    "where_given": {"interesting": {"sessions": {"device": ["mobile", "tablet"]},
                                    "products": {"brand": ["A"]}},
                    "dfs": {"where_primitives": ["count", "sum"]}},
    "seed": {"seed": True, "dfs": {"agg_primitives": ["count", "sum", "mean"]}},
    "drop": {"interesting": "auto",
             "dfs": {"drop_contains": ["MEAN("], "drop_exact": ["COUNT(sessions)", "MONTH(join_date)"],
                     "max_features": 30}},
    "options": {"dfs": {
        "ignore_dataframes": ["products"], "ignore_columns": {"customers": ["zip_code"]},
        "primitive_options": {
            "mean": {"ignore_dataframes": ["transactions"]},
            ("sum", "max"): {"include_columns": {"transactions": ["amount"]}},
            "num_unique": [{"ignore_columns": {"sessions": ["device"]}}],
            "mode": {"include_dataframes": ["sessions"]},
            "month": {"include_dataframes": ["customers"]},
        }}},
}


def seeds(es: fk.EntitySet) -> list[fk.Feature]:
    """The reference's seeds: SUM(transactions.amount WHERE fraud = True) and
    MAX(transactions.amount), both on sessions."""
    amount = fk.IdentityFeature("transactions", "amount", es["transactions"].schemas["amount"])
    fraud = fk.IdentityFeature("transactions", "fraud", es["transactions"].schemas["fraud"])
    path = (es.relationships[1],)
    assert path[0].child == "transactions" and path[0].parent == "sessions"
    return [fk.AggregationFeature((amount,), get_primitive("sum"), path, where=fraud.equals(True)),
            fk.AggregationFeature((amount,), get_primitive("max"), path)]


def entityset_of(run: str) -> fk.EntitySet:
    spec = RUNS[run]
    es = load_retail(N_CUSTOMERS)
    if spec.get("interesting") == "auto":
        es.add_interesting_values()
    elif spec.get("interesting"):
        for table, values in spec["interesting"].items():
            es.add_interesting_values(dataframe_name=table, values=values)
    return es


def options_of(run: str, es: fk.EntitySet) -> dict:
    options = dict(RUNS[run]["dfs"])
    if RUNS[run].get("seed"):
        options["seed_features"] = seeds(es)
    options.setdefault("agg_primitives", REFERENCE["aggregations"])
    options.setdefault("trans_primitives", REFERENCE["transforms"])
    return options


def reference(run: str) -> pd.DataFrame:
    return pd.read_parquet(DATA / f"featuretools_planning_{run}.parquet")


def as_text(values: pd.Series) -> np.ndarray:
    """Category values as text, numbers by value: Featuretools turns the integer categories
    of a column with missing values into floats ("23.0" and "23" are one category)."""
    def text(value):
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return str(value)
    return values.astype(object).map(text).to_numpy()


def canonical(names: list[str]) -> list[str]:
    """Names with each run of consecutive where features sorted: Featuretools keeps where
    clauses in a set, so their order within such a run changes between processes; the plain
    features and which where features fall between them do not."""
    out, block = [], []
    for name in [*names, None]:
        if name is not None and " WHERE " in name:
            block.append(name)
            continue
        out += sorted(block)
        block = []
        if name is not None:
            out.append(name)
    return out


@pytest.fixture(scope="module")
def computed():
    """featurekit's (matrix, features) for each run, at the reference's cutoff times."""
    results = {}
    for run in RUNS:
        es = entityset_of(run)
        cutoffs = reference(run)[["customer_id", "time"]]
        results[run] = (es, *fk.dfs(es, target="customers", max_depth=2, cutoff_time=cutoffs,
                                    **options_of(run, es)))
    return results


def test_the_reference_covers_every_control():
    runs = REFERENCE["runs"]
    assert sum(" WHERE " in n for n in runs["where_auto"]["features"]) > 50
    assert any("WHERE sessions.device" in n for n in runs["where_given"]["features"])
    assert any("WHERE fraud = True" in n for n in runs["seed"]["features"])
    assert len(runs["drop"]["features"]) == 30
    assert not any("MEAN(" in n for n in runs["drop"]["features"])


@pytest.mark.parametrize("run", list(RUNS))
def test_names_and_order_match_featuretools(computed, run):
    _, _, features = computed[run]
    names = [name for f in features for name in f.output_names]
    expected = REFERENCE["runs"][run]["features"]
    assert sorted(names) == sorted(expected)
    assert canonical(names) == canonical(expected)


@pytest.mark.parametrize("run", list(RUNS))
def test_values_match_featuretools(computed, run):
    _, matrix, features = computed[run]
    expected = reference(run).set_index(["customer_id", "time"])
    ours = matrix.copy().reset_index().set_index(["customer_id", "time"]).loc[expected.index]
    assert len(expected) == N_CUSTOMERS * (2 if run in ("where_auto", "seed", "options") else 1)
    for feature in features:
        theirs, mine = expected[feature.name], ours[feature.name]
        if feature.schema.logical_type in ("categorical", "ordinal"):
            assert (theirs.isna().to_numpy() == mine.isna().to_numpy()).all(), feature.name
            known = theirs.notna().to_numpy()
            assert (as_text(theirs)[known] == as_text(mine)[known]).all(), feature.name
        else:
            np.testing.assert_allclose(mine.astype(float).to_numpy(), theirs.astype(float).to_numpy(),
                                       rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=feature.name)


def test_interesting_values_match_featuretools():
    es = entityset_of("where_auto")
    theirs = REFERENCE["runs"]["where_auto"]["interesting_values"]
    ours = {name: table.interesting_values for name, table in es.tables.items()}
    assert {t: sorted(v) for t, v in ours.items() if v} == {t: sorted(v) for t, v in theirs.items() if v}
    for table, columns in theirs.items():
        for column, values in columns.items():
            assert sorted(ours[table][column]) == sorted(values)
    # the order, computed independently: most frequent first, ties in sorted order
    frame = retail_tables(N_CUSTOMERS)["customers"]
    counts = frame["zip_code"].value_counts()
    expected = sorted(counts.index, key=lambda v: (-counts[v], v))
    assert ours["customers"]["zip_code"] == expected


def test_interesting_values_with_many_distinct_values_keep_only_frequent_ones():
    """With 25 or more distinct values, a value counts only if it holds more than 5% and
    less than 95% of the rows; the first that does not stops the list."""
    codes = ["a"] * 30 + ["b"] * 20 + ["c"] * 6 + [f"rare{i}" for i in range(30)]
    frame = pd.DataFrame({"id": range(len(codes)), "code": codes})
    es = fk.EntitySet().add_table("t", frame, index="id", types={"code": "categorical"})
    es.add_interesting_values(max_values=10)
    shares = pd.Series(codes).value_counts() / len(codes)
    assert es["t"].interesting_values["code"] == [v for v in ("a", "b", "c") if 0.05 < shares[v] < 0.95]
    es.add_interesting_values(max_values=1, table="t")
    assert es["t"].interesting_values["code"] == ["a"]


def where_entityset(tables: dict[str, pd.DataFrame]) -> fk.EntitySet:
    es = fk.EntitySet("retail")
    es.add_table("customers", tables["customers"], index="customer_id", time_index="join_date",
                 types={"zip_code": "categorical"})
    es.add_table("sessions", tables["sessions"], index="session_id", time_index="session_start",
                 types={"device": "categorical"})
    es.add_table("transactions", tables["transactions"], index="transaction_id",
                 time_index="transaction_time", types={"product_id": "categorical"})
    es.add_relationship("customers", "customer_id", "sessions", "customer_id")
    es.add_relationship("sessions", "session_id", "transactions", "session_id")
    es.add_interesting_values(table="sessions", values={"device": ["mobile", "tablet"]})
    return es


def where_features(es: fk.EntitySet) -> list[fk.Feature]:
    features = fk.plan(es, target="customers", max_depth=2, agg_primitives=["count", "sum", "max"],
                       trans_primitives=[], where_primitives=["count", "sum", "max"])
    return [f for f in features if f.where is not None or any(d.where is not None
                                                              for d in f.dependencies())]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days=st.integers(20, 400), seed=st.integers(0, 2**16))
def test_rows_after_a_cutoff_never_move_a_where_feature(days, seed):
    """Rows timed after an instance's cutoff (their devices, amounts, and whether they exist)
    change no where feature at that cutoff, in the one-moment path and in the per-cutoff
    paths (walking down with one cutoff per customer, sweeping with several, with a training
    window); and at one
    moment COUNT and SUM with a where clause equal a plain pandas count and sum."""
    tables = retail_tables(8)
    cutoff = pd.Timestamp("2020-01-01") + pd.Timedelta(days=days)
    rng = np.random.default_rng(seed)
    later = {}
    for name, column in (("sessions", "session_start"), ("transactions", "transaction_time")):
        frame = tables[name].copy()
        after = frame[column] > cutoff
        if name == "sessions":
            frame.loc[after, "device"] = rng.choice(["mobile", "tablet", "desktop"], int(after.sum()))
        else:
            frame.loc[after, "amount"] = rng.uniform(-500, 500, int(after.sum()))
            frame = frame[~(after & (rng.random(len(frame)) < 0.5))]  # some never happen
        later[name] = frame
    original = where_entityset(tables)
    changed = where_entityset({**tables, **later})
    features = where_features(original)
    assert any(" WHERE sessions.device" in f.name for f in features)
    one = [fk.compute(es, features, cutoff_time=cutoff) for es in (original, changed)]
    pd.testing.assert_frame_equal(one[0], one[1])
    customers = tables["customers"]["customer_id"]
    walks = pd.DataFrame({"customer_id": customers, "time": cutoff})
    sweeps = pd.DataFrame({"customer_id": np.repeat(customers.to_numpy(), 2),
                           "time": np.tile([cutoff - pd.Timedelta(days=15), cutoff], len(customers))})
    for frame in (walks, sweeps):
        per_cutoff = [fk.compute(es, features, cutoff_time=frame) for es in (original, changed)]
        pd.testing.assert_frame_equal(per_cutoff[0], per_cutoff[1])
        at_cutoff = per_cutoff[0].xs(cutoff, level="time")
        pd.testing.assert_frame_equal(at_cutoff, one[0], check_dtype=False)
    windowed = [fk.compute(es, features, cutoff_time=sweeps, training_window="60d")
                for es in (original, changed)]
    pd.testing.assert_frame_equal(windowed[0], windowed[1])
    # the independent count: sessions on a mobile known at the cutoff, per customer
    sessions = tables["sessions"]
    known = sessions[(sessions["session_start"] <= cutoff) & (sessions["device"] == "mobile")]
    expected = known.groupby("customer_id").size().reindex(customers, fill_value=0)
    joined = tables["customers"].set_index("customer_id")["join_date"] <= cutoff
    got = one[0]["COUNT(sessions WHERE device = mobile)"]
    assert (got[joined.to_numpy()].to_numpy() == expected[joined].to_numpy()).all()
    rows = tables["transactions"].merge(sessions, on="session_id")
    rows = rows[(rows["transaction_time"] <= cutoff) & (rows["session_start"] <= cutoff)
                & (rows["device"] == "tablet")]
    sums = rows.groupby("customer_id")["amount"].sum().reindex(customers, fill_value=0.0)
    got = one[0]["SUM(transactions.amount WHERE sessions.device = tablet)"]
    np.testing.assert_allclose(got[joined.to_numpy()].to_numpy(float), sums[joined].to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("run", ["seed", "where_given"])
def test_where_features_survive_a_save_and_load(tmp_path, computed, run):
    es, matrix, features = computed[run]
    path = tmp_path / "features.json"
    fk.save_features(features, path)
    loaded = fk.load_features(path)
    assert [f.name for f in loaded] == [f.name for f in features]
    clauses = {(f.name, d.name, d.where.name) for f in features for d in [f, *f.dependencies()]
               if d.where is not None}
    assert clauses and clauses == {(f.name, d.name, d.where.name) for f in loaded
                                   for d in [f, *f.dependencies()] if d.where is not None}
    cutoffs = reference(run)[["customer_id", "time"]]
    pd.testing.assert_frame_equal(fk.compute(es, loaded, cutoff_time=cutoffs), matrix)


def test_a_where_clause_is_part_of_the_depth_and_the_stacking_limit():
    es = entityset_of("where_given")
    features = fk.plan(es, target="customers", max_depth=2, agg_primitives=["count", "sum"],
                       trans_primitives=[], where_primitives=["count", "sum"])
    by_name = {f.name: f for f in features}
    assert by_name["COUNT(sessions WHERE device = mobile)"].depth == 2  # as Featuretools: 2
    assert by_name["SUM(transactions.amount WHERE sessions.device = mobile)"].depth == 3
    # where_stacking_limit=1: no where clause over inputs that already hold one; 2 allows one
    es.add_interesting_values(table="transactions", values={"fraud": [True]})
    primitives = ["count", "sum", "mean"]
    twice = {limit: [f for f in fk.plan(es, target="customers", max_depth=3, agg_primitives=primitives,
                                        trans_primitives=[], where_primitives=primitives,
                                        where_stacking_limit=limit)
                     if f.name.count(" WHERE ") > 1] for limit in (1, 2)}
    assert twice[1] == []
    nested = {f.name: f for f in twice[2]}[
        "MEAN(sessions.SUM(transactions.amount WHERE fraud = True) WHERE device = mobile)"]
    # its values, computed independently: per customer, the mean over its mobile sessions
    # known at the cutoff of the sum of their fraudulent amounts known then (0 for none)
    cutoff = pd.Timestamp("2021-03-01")
    got = fk.compute(es, [nested], cutoff_time=cutoff)[nested.name]
    tables = retail_tables(N_CUSTOMERS)
    sessions, rows = tables["sessions"], tables["transactions"]
    sessions = sessions[(sessions["session_start"] <= cutoff) & (sessions["device"] == "mobile")]
    rows = rows[(rows["transaction_time"] <= cutoff) & rows["fraud"]]
    sums = rows.groupby("session_id")["amount"].sum().reindex(sessions["session_id"], fill_value=0.0)
    expected = pd.Series(sums.to_numpy(), index=sessions["customer_id"]).groupby(level=0).mean()
    joined = tables["customers"].set_index("customer_id")["join_date"] <= cutoff
    expected = expected.reindex(joined.index[joined.to_numpy()])
    np.testing.assert_allclose(got.loc[expected.index].to_numpy(float), expected.to_numpy(float),
                               rtol=1e-9, equal_nan=True)
    assert expected.notna().sum() >= 10 and (expected > 0).sum() >= 5


def test_max_depth_minus_one_means_no_limit_as_in_featuretools():
    es = load_retail(5)
    unlimited = [f.name for f in fk.plan(es, target="customers", max_depth=None)]
    assert [f.name for f in fk.plan(es, target="customers", max_depth=-1)] == unlimited
    assert len(unlimited) > len(fk.plan(es, target="customers", max_depth=2))


def test_seed_features_are_stacked_on_and_kept():
    es = load_retail(N_CUSTOMERS)
    seed = seeds(es)[1]  # MAX(transactions.amount) on sessions
    names = {f.name for f in fk.plan(es, target="customers", agg_primitives=["mean"],
                                     trans_primitives=[], seed_features=[seed])}
    assert "MEAN(sessions.MAX(transactions.amount))" in names
    assert "MEAN(sessions.MAX(transactions.amount))" not in {
        f.name for f in fk.plan(es, target="customers", agg_primitives=["mean"], trans_primitives=[])}


@pytest.mark.parametrize(("options", "message"), [
    ({"mean": {"include_dataframes": ["sesions"]}}, r"primitive_options\['mean'\]\['include_dataframes'\] names unknown table\(s\) \['sesions'\]"),
    ({"mean": {"ignore_columns": {"sessions": ["devise"]}}}, r"column\(s\) \['devise'\] absent from table 'sessions'"),
    ({"mean": {"ignore_tables": ["sessions"]}}, r"primitive_options\['mean'\] has unknown option 'ignore_tables'"),
    ({"mean": [{}, {}]}, r"gives 2 option dicts, one per input, but 'mean' takes \[1\]"),
    ({"meen": {}}, r"unknown primitive 'meen'"),
    ({"skew": {}}, r"names primitive\(s\) \['skew'\], which this plan does not use"),
    ({("mean", "sum"): {}, "sum": {}}, r"options for primitive 'sum' more than once"),
    ({"mean": {"include_dataframes": "sessions"}}, r"takes a list of table names"),
    ({"mean": {"include_groupby_columns": {}}}, r"groupby transforms"),
])
def test_bad_primitive_options_name_the_primitive_table_or_column(options, message):
    es = load_retail(5)
    with pytest.raises(fk.PlanError, match=message):
        fk.plan(es, target="customers", agg_primitives=["mean", "sum"], primitive_options=options)


def test_bad_planning_arguments_get_clear_errors():
    es = load_retail(5)
    with pytest.raises(fk.PlanError, match=r"seed_features\[0\] is 'COUNT\(sessions\)', not a feature"):
        fk.plan(es, target="customers", seed_features=["COUNT(sessions)"])
    with pytest.raises(fk.PlanError, match="target 'customers' is among the ignored tables"):
        fk.plan(es, target="customers", ignore_dataframes=["customers"])
    with pytest.raises(fk.FeaturekitError, match="drop_contains takes a list of names"):
        fk.plan(es, target="customers", drop_contains="MEAN")
    with pytest.raises(fk.PlanError, match=r"return_types takes 'all' or column schemas, got "
                       r"'numeric'\. Fix: pass return_types='all'"):
        fk.plan(es, target="customers", return_types="numeric")
    with pytest.raises(fk.PlanError, match="unknown primitive 'cuont'"):
        fk.plan(es, target="customers", where_primitives=["cuont"])
    with pytest.raises(fk.SchemaError, match="'sessions'.*'devise'.*absent column"):
        es.add_interesting_values(table="sessions", values={"devise": ["mobile"]})
    with pytest.raises(fk.SchemaError, match=r"'customers'.*'zip_code'.*holds text.*\[2116\].*\['2116'\]"):
        es.add_interesting_values(table="customers", values={"zip_code": [2116]})
    with pytest.raises(fk.SchemaError, match="'amount'.*holds numbers"):
        es.add_interesting_values(values={"transactions": {"amount": ["5"]}})
    with pytest.raises(fk.SchemaError, match="not a list"):
        es.add_interesting_values(table="sessions", values={"device": "mobile"})
    amount = fk.IdentityFeature("transactions", "amount", es["transactions"].schemas["amount"])
    device = fk.IdentityFeature("sessions", "device", es["sessions"].schemas["device"])
    with pytest.raises(fk.FeaturekitError, match="describes table 'sessions', not 'transactions'"):
        fk.AggregationFeature((amount,), get_primitive("sum"), (es.relationships[1],),
                              where=device.equals("mobile"))


def test_nothing_the_caller_passed_is_changed():
    es = load_retail(5)
    values = {"device": ["mobile"]}
    options = {"mean": {"ignore_dataframes": ["transactions"]}, ("sum", "max"): [{}]}
    ignore = {"customers": ["zip_code"]}
    es.add_interesting_values(table="sessions", values=values)
    fk.plan(es, target="customers", primitive_options=options, ignore_columns=ignore,
            agg_primitives=["mean", "sum", "max", "count"])
    assert values == {"device": ["mobile"]} and ignore == {"customers": ["zip_code"]}
    assert options == {"mean": {"ignore_dataframes": ["transactions"]}, ("sum", "max"): [{}]}
