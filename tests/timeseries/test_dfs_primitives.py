"""Time-series calculators inside deep feature synthesis equal the extractor on the same rows.

The reference is built independently of the engine: pandas joins each transaction to its
customer, orders each customer's rows by (transaction_time, transaction_id), drops missing
amounts, and hands the series to ``fk.timeseries.extract``.
"""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pandas as pd
import polars as pl
import pytest
from featurekit.primitives import ComputeContext, get_primitive, timeseries_primitives
from featurekit.primitives.timeseries import CALCULATORS_BY_NAME
from featurekit.primitives.timeseries_aggregation import FftCoefficient, TimeSeriesAggregation

import featurekit as fk
import featurekit.timeseries as fkts
from featurekit.demo import retail_entityset
from featurekit.errors import PlanError

SETTINGS = {
    "fft_coefficient": [{"coeff": 1, "attr": "abs"}, {"coeff": 0, "attr": "real"}],
    "c3": [{"lag": 1}],
    "quantile": [{"q": 0.3}],
    "autocorrelation": [{"lag": 2}],
    "change_quantiles": [{"ql": 0.2, "qh": 0.8, "isabs": True, "f_agg": "var"}],
    "ar_coefficient": [{"coeff": 1, "k": 3}],
    "sample_entropy": None,
    "variance": None,
    "length": None,
    "number_peaks": [{"n": 1}],
    "cwt_coefficients": [{"widths": (2, 5, 10, 20), "coeff": 3, "w": 5}],
}


def customer_series(tables: dict[str, pd.DataFrame], column: str = "amount") -> pd.DataFrame:
    """Each customer's transactions in (time, id) order, missing values dropped, with a
    running position as the sort column the extractor needs."""
    rows = tables["transactions"].merge(
        tables["sessions"][["session_id", "customer_id"]], on="session_id"
    )
    rows = rows.sort_values(["transaction_time", "transaction_id"]).dropna(subset=[column])
    rows["position"] = rows.groupby("customer_id").cumcount()
    return rows[["customer_id", "position", "transaction_time", column]]


def extractor_reference(series: pd.DataFrame, customers: pd.Index, settings) -> pd.DataFrame:
    extracted = fkts.extract(
        series.drop(columns="transaction_time"),
        column_id="customer_id",
        column_sort="position",
        column_value="amount",
        settings=settings,
    )
    return extracted.reindex(customers)


def extractor_column(primitive: TimeSeriesAggregation) -> str:
    calculator = primitive.calculator
    params = {
        k: v
        for k, v in primitive.params.items()
        if k not in calculator.fixed_name_parts
        and (v is not None or k in calculator.example())  # an omitted option is not named
    }
    return f"amount__{calculator.column_suffix(params or None)}"


def plan_timeseries(es: fk.EntitySet, settings) -> list:
    features = fk.plan(
        es,
        target="customers",
        agg_primitives=timeseries_primitives(settings),
        trans_primitives=[],
        max_depth=2,
        include=["*(transactions.amount*"],
        exclude=["*sessions.*"],  # only the calculators over each customer's transactions
    )
    assert features
    return features


def assert_features_equal_extractor(matrix: pd.DataFrame, features, reference: pd.DataFrame):
    for feature in features:
        expected = reference[extractor_column(feature.primitive)].to_numpy()
        got = matrix[feature.name].to_numpy(dtype=float)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=feature.name)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0, err_msg=feature.name)


def test_calculator_features_equal_the_extractor_on_each_parents_rows(tables):
    # Shuffled rows: the engine must put each customer's transactions in time order itself.
    tables = {**tables, "transactions": tables["transactions"].sample(frac=1.0, random_state=3)}
    es = retail_entityset(tables)
    features = plan_timeseries(es, SETTINGS)
    assert len(features) == sum(len(v) if v else 1 for v in SETTINGS.values())
    assert 'FFT_COEFFICIENT(transactions.amount, coeff=1, attr="abs")' in [f.name for f in features]
    matrix = fk.compute(es, features)
    reference = extractor_reference(customer_series(tables), matrix.index, SETTINGS)
    assert reference.isna().all(axis=1).any()  # customers without transactions: missing
    assert tables["transactions"]["amount"].isna().any()  # missing amounts are skipped
    assert_features_equal_extractor(matrix, features, reference)


def test_timewise_trend_uses_the_child_time_index_like_the_extractor_uses_a_datetime_index(
    tables,
):
    es = retail_entityset(tables)
    settings = {"linear_trend_timewise": [{"attr": "slope"}, {"attr": "intercept"}]}
    features = plan_timeseries(es, settings)
    assert [f.name for f in features] == [
        'LINEAR_TREND_TIMEWISE(transactions.amount, transaction_time, attr="slope")',
        'LINEAR_TREND_TIMEWISE(transactions.amount, transaction_time, attr="intercept")',
    ]
    matrix = fk.compute(es, features)
    series = customer_series(tables)
    indexed = series.set_index(pd.DatetimeIndex(series["transaction_time"]))
    indexed = indexed.sort_values(["customer_id", "position"])[["customer_id", "amount"]]
    reference = fkts.extract(indexed, column_id="customer_id", settings=settings)
    reference = reference.reindex(matrix.index)
    for feature in features:
        column = f'amount__linear_trend_timewise__attr_"{feature.primitive.params["attr"]}"'
        np.testing.assert_allclose(
            matrix[feature.name].to_numpy(dtype=float), reference[column].to_numpy(), rtol=1e-12
        )


def test_a_calculator_over_an_aggregated_child_orders_the_child_by_its_time_index(tables):
    es = retail_entityset(tables)
    features = fk.plan(
        es,
        target="customers",
        agg_primitives=["sum", *timeseries_primitives({"c3": [{"lag": 1}]})],
        trans_primitives=[],
        include=["C3(sessions.SUM(transactions.amount), lag=1)"],
    )
    assert len(features) == 1
    matrix = fk.compute(es, features)
    sums = tables["transactions"].groupby("session_id")["amount"].sum()
    sessions = tables["sessions"].assign(total=lambda s: s["session_id"].map(sums).fillna(0.0))
    sessions = sessions.sort_values(["session_start", "session_id"])
    sessions["position"] = sessions.groupby("customer_id").cumcount()
    reference = fkts.extract(
        sessions[["customer_id", "position", "total"]],
        column_id="customer_id",
        column_sort="position",
        settings={"c3": [{"lag": 1}]},
    ).reindex(matrix.index)
    np.testing.assert_allclose(
        matrix[features[0].name].to_numpy(dtype=float),
        reference["total__c3__lag_1"].to_numpy(),
        rtol=1e-12,
    )


def test_rows_after_the_cutoff_never_reach_a_calculator_feature(tables):
    cutoff = dt.datetime(2021, 6, 1)
    settings = {"fft_coefficient": [{"coeff": 1, "attr": "abs"}], "c3": [{"lag": 1}]}
    features = plan_timeseries(retail_entityset(tables), settings)
    matrix = fk.compute(retail_entityset(tables), features, cutoff_time=cutoff)

    known = {name: frame.copy() for name, frame in tables.items()}
    known["sessions"] = known["sessions"][known["sessions"]["session_start"] <= cutoff]
    transactions = known["transactions"]
    known["transactions"] = transactions[transactions["transaction_time"] <= cutoff]
    assert len(known["transactions"]) < len(transactions)
    reference = extractor_reference(customer_series(known), matrix.index, settings)
    assert_features_equal_extractor(matrix, features, reference)

    changed = {name: frame.copy() for name, frame in tables.items()}
    later = changed["transactions"]["transaction_time"] > cutoff
    changed["transactions"].loc[later, "amount"] *= -3.0
    again = fk.compute(retail_entityset(changed), features, cutoff_time=cutoff)
    pd.testing.assert_frame_equal(again, matrix)
    assert not fk.compute(retail_entityset(changed), features).equals(
        fk.compute(retail_entityset(tables), features)
    )


def test_definitions_survive_a_json_round_trip_and_pickling(tables, tmp_path):
    es = retail_entityset(tables)
    features = plan_timeseries(es, {k: SETTINGS[k] for k in ("cwt_coefficients", "quantile")})
    path = tmp_path / "features.json"
    fk.save_features(features, path)
    loaded = fk.load_features(path)
    assert [f.name for f in loaded] == [f.name for f in features]
    pd.testing.assert_frame_equal(fk.compute(es, loaded), fk.compute(es, features))
    primitive = FftCoefficient(coeff=4, attr="angle")
    assert pickle.loads(pickle.dumps(primitive)) == primitive


def test_every_calculator_is_a_registered_aggregation_and_built_in_names_keep_their_meaning():
    for name in CALCULATORS_BY_NAME:
        registered = name if get_primitive_or_none(name) is not None else f"ts_{name}"
        primitive = get_primitive(registered, "aggregation")
        assert primitive.calculator.name == name
    assert get_primitive("variance").name == "variance"  # Featuretools' sample variance
    assert get_primitive("ts_variance").calculator.name == "variance"
    assert len(timeseries_primitives("comprehensive")) == 783 + 5  # + linear_trend_timewise


def get_primitive_or_none(name: str):
    try:
        primitive = get_primitive(name)
    except PlanError:
        return None
    return primitive if isinstance(primitive, TimeSeriesAggregation) else None


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: FftCoefficient(coeff=1, attr="absolute"), r"FFT_COEFFICIENT.*'attr' must be one of"),
        (lambda: FftCoefficient(coef=1), r"no parameter.*coeff"),
        (lambda: timeseries_primitives({"fft_coeficient": None}), "did you mean 'fft_coefficient'"),
        (lambda: timeseries_primitives({"c3": None}), r"'c3' needs parameters"),
        (lambda: get_primitive("fft_coeficient"), "fft_coefficient"),
    ],
)
def test_bad_calculator_names_and_parameters_are_plan_errors_with_the_fix(make, match):
    with pytest.raises(PlanError, match=match):
        make()


def test_calculators_over_one_column_share_one_pass_with_each_calculators_own_values(tables):
    # The efficient preset over the same column and path is computed in one kernel call; each
    # feature must equal its own expression (one calculator over the groups) and the extractor.
    es = retail_entityset(tables)
    features = plan_timeseries(es, "efficient")
    assert len(features) == len(timeseries_primitives("efficient"))
    matrix = fk.compute(es, features)

    rows = tables["transactions"].merge(
        tables["sessions"][["session_id", "customer_id"]], on="session_id"
    )
    rows = pl.from_pandas(rows).sort(["transaction_time", "transaction_id"], nulls_last=True)
    columns = [pl.col("amount"), pl.col("transaction_time")]
    context = ComputeContext(time=pl.col("transaction_time"), cutoff=pl.lit(None))
    one_by_one = rows.group_by("customer_id").agg(
        f.primitive.aggregate_expr(columns[: len(f.inputs)], context).alias(f.name)
        for f in features
    )
    alone = one_by_one.to_pandas().set_index("customer_id").reindex(matrix.index)
    for feature in features:
        # equal up to rounding: a pass computes the Fourier terms its features need together,
        # by an FFT when many are wanted (coeff up to 99), by a direct sum for one or two
        got = matrix[feature.name].to_numpy(dtype=float)
        expected = alone[feature.name].to_numpy(dtype=float)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=feature.name)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0, err_msg=feature.name)

    untimed = [f for f in features if not f.primitive.calculator.needs_time]
    assert len(untimed) == len(features) - 5  # linear_trend_timewise takes the time index
    reference = extractor_reference(customer_series(tables), matrix.index, "efficient")
    assert_features_equal_extractor(matrix, untimed, reference)


def test_each_instances_own_cutoffs_limit_the_series_of_batched_calculators(tables):
    es = retail_entityset(tables)
    features = plan_timeseries(es, SETTINGS)
    customers = tables["customers"]["customer_id"]
    moments = pd.to_datetime(["2021-03-01", "2021-06-01", "2021-09-01"])
    cutoffs = pd.DataFrame({
        "customer_id": customers,
        "time": moments[np.arange(len(customers)) % 3],
    })
    # some customers at a second moment too: one row copied per cutoff, or swept
    cutoffs = pd.concat([cutoffs, cutoffs.iloc[::4].assign(time=moments[2] + pd.Timedelta("60D"))])
    cutoffs = cutoffs.reset_index(drop=True)
    matrix = fk.compute(es, features, cutoff_time=cutoffs)
    assert len(matrix) == len(cutoffs)

    rows = tables["transactions"].merge(
        tables["sessions"][["session_id", "customer_id", "session_start"]], on="session_id"
    )
    pairs = cutoffs.reset_index(names="pair")
    known = rows.merge(pairs, on="customer_id")
    known = known[(known["transaction_time"] <= known["time"]) & (known["session_start"] <= known["time"])]
    known = known.sort_values(["transaction_time", "transaction_id"]).dropna(subset=["amount"])
    known["position"] = known.groupby("pair").cumcount()
    reference = fkts.extract(
        known[["pair", "position", "amount"]],
        column_id="pair",
        column_sort="position",
        settings=SETTINGS,
    ).reindex(pairs["pair"])
    assert reference.isna().all(axis=1).any()  # pairs with nothing known yet: missing
    assert_features_equal_extractor(matrix.reset_index(drop=True), features, reference)


def test_a_cutoff_before_every_row_leaves_batched_calculators_missing(tables):
    es = retail_entityset(tables)
    features = plan_timeseries(es, {"c3": [{"lag": 1}], "linear_trend_timewise": [{"attr": "slope"}]})
    early = dt.datetime(1990, 1, 1)
    cutoffs = pd.DataFrame({"customer_id": tables["customers"]["customer_id"], "time": early})
    for matrix in (fk.compute(es, features, cutoff_time=early),
                   fk.compute(es, features, cutoff_time=cutoffs)):
        assert len(matrix) == len(cutoffs)
        assert matrix[[f.name for f in features]].isna().all().all()
