"""Every public function answers a wrong kind of argument (a number where names go, a frame
where a flag goes, a list where a name goes) with a featurekit error, never a raw Python or
library exception: hypothesis draws the arguments from a pool of wrong-kind values."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk

WRONG = st.sampled_from([
    None, 0, -1, 1.5, float("nan"), float("inf"), "", "x", "2d", [], [1], {}, {"a": 1}, True,
    pd.Timestamp("2021-01-01"), dt.timedelta(days=-1), np.int64(3), object(), b"x", ("a",),
    pl.DataFrame(), pd.DataFrame(),
])


@pytest.fixture(scope="module")
def world():
    es = fk.demo.load_retail(n_customers=8)
    series, _ = fk.demo.load_labelled_series(n_per_class=2, length=16)
    cutoffs = pd.DataFrame({"customer_id": [1, 2, 3],
                            "time": pd.to_datetime(["2021-01-01", "2021-02-01", "2021-03-01"])})
    return es, fk.plan(es, target="customers", max_depth=1), series, cutoffs


CALLS = {
    "dfs": (lambda w, **k: fk.dfs(w[0], target="customers", **k),
            ["max_depth", "agg_primitives", "trans_primitives", "ignore_tables", "ignore_columns",
             "include", "exclude", "max_features", "return_types", "return_type", "cutoff_time",
             "training_window", "include_cutoff_time", "time_column", "verbose", "features_only",
             "where_primitives", "where_stacking_limit", "seed_features", "drop_contains",
             "drop_exact", "primitive_options", "ignore_dataframes"]),
    "add_interesting_values": (lambda w, **k: w[0].add_interesting_values(**k),
                               ["max_values", "verbose", "table", "values", "dataframe_name"]),
    "plan": (lambda w, **k: fk.plan(w[0], **{"target": "customers", **k}), ["target", "max_depth"]),
    "compute": (lambda w, **k: fk.compute(w[0], w[1], **k),
                ["return_type", "cutoff_time", "training_window", "include_cutoff_time",
                 "time_column", "verbose"]),
    "make_labels": (lambda w, **k: fk.make_labels(w[0], "customers", lambda rows: len(rows),
                                                  **{"window": "30d", **k}),
                    ["window", "gap", "min_data", "table", "max_per_instance", "end", "label_name",
                     "time_column"]),
    "add_table": (lambda w, **k: fk.EntitySet().add_table(
        **{"name": "t", "data": pd.DataFrame({"i": [1, 2]}), "index": "i", **k}),
        ["name", "data", "index", "time_index", "types", "errors"]),
    "extract": (lambda w, **k: fk.timeseries.extract(w[2], **{"column_id": "id", **k}),
                ["column_id", "column_sort", "column_value", "column_kind", "settings", "window",
                 "n_jobs", "impute_function"]),
    "time_split": (lambda w, **k: fk.time_split(w[3], **k),
                   ["test_size", "validation_size", "gap", "time_column", "test_start",
                    "validation_start"]),
    "cutoff_time_split": (lambda w, **k: list(fk.CutoffTimeSplit(**k).split(w[3])),
                          ["n_splits", "gap", "time_column"]),
    "save_features": (lambda w, **k: fk.save_features(**{"features": w[1], "path": "/dev/null/x", **k}),
                      ["features"]),
}


@pytest.mark.parametrize("function", sorted(CALLS))
def test_wrong_kinds_of_arguments_get_featurekit_errors(world, function):
    call, parameters = CALLS[function]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(chosen=st.lists(st.sampled_from(parameters), min_size=1, max_size=3, unique=True),
           data=st.data())
    def check(chosen, data):
        arguments = {name: data.draw(WRONG, label=name) for name in chosen}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                call(world, **arguments)
            except fk.FeaturekitError:
                pass

    check()


def test_featuretools_keywords_name_featurekits_equivalent(world):
    with pytest.raises(fk.PlanError, match=r"'target_dataframe_name' \(Featuretools' name\). Fix: use target="):
        fk.dfs(world[0], target="customers", target_dataframe_name="customers")
    with pytest.raises(fk.PlanError, match="ignore_dataframes="):
        fk.dfs(world[0], target="customers", ignore_entities=["products"])
    with pytest.raises(fk.PlanError, match=r"did you mean \['max_depth', 'max_features'\]"):
        fk.dfs(world[0], target="customers", max_dept=1)
