"""describe_feature: the sentences Featuretools 1.31 writes for the default features of the
retail demo (written by tests/reference/make_featuretools_encode_reference.py), custom
descriptions and templates, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.demo import load_retail

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "featuretools_describe.json").read_text())


@pytest.fixture(scope="module")
def retail():
    return load_retail(25)


@pytest.mark.parametrize("target", sorted(REFERENCE))
def test_sentences_equal_featuretools(retail, target):
    features = fk.plan(retail, target=target, max_depth=2)
    described = {feature.name: fk.describe_feature(feature) for feature in features}
    assert described == REFERENCE[target]


def test_custom_descriptions_and_templates(retail, tmp_path):
    features = {f.name: f for f in fk.plan(retail, target="customers", max_depth=2)}
    feature = features["MEAN(sessions.SUM(transactions.amount))"]
    amount = feature.inputs[0].inputs[0]
    assert fk.describe_feature(feature, feature_descriptions={amount: "the price paid"}) == (
        'The average of the sum of the price paid of all instances of "transactions" for each '
        '"session_id" in "sessions" of all instances of "sessions" for each "customer_id" in '
        '"customers".')
    by_unique_name = {"transactions: amount": "the price paid"}
    assert "the price paid" in fk.describe_feature(feature, feature_descriptions=by_unique_name)
    templated = fk.describe_feature(feature, primitive_templates={"mean": "the typical {}"})
    assert templated.startswith("The typical the sum of")
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"primitive_templates": {"sum": "the total of {}"},
                                    "feature_descriptions": {}}))
    assert "the total of" in fk.describe_feature(feature, metadata_file=metadata)
    overridden = fk.describe_feature(feature, metadata_file=metadata,
                                     primitive_templates={"sum": "all of {}"})
    assert "all of the" in overridden and "total" not in overridden


def test_encoded_and_multi_output_features_read_well(retail):
    matrix, features = fk.dfs(retail, target="sessions", agg_primitives=["n_most_common"],
                              trans_primitives=[], max_depth=1)
    _, encoded = fk.encode_features(matrix, features, top_n=1)
    by_name = {f.name: f for f in encoded}
    assert fk.describe_feature(by_name["device = desktop"]) == 'Whether the "device" equals desktop.'
    common = next(f for f in features if f.name.startswith("N_MOST_COMMON"))
    assert fk.describe_feature(common[1]).startswith("The 2nd output from applying N_MOST_COMMON")


@pytest.mark.parametrize(("arguments", "message"), [
    ({"feature": "SUM(x)"}, "takes a feature"),
    ({"feature_descriptions": ["x"]}, "feature_descriptions takes a dict"),
    ({"primitive_templates": {"sum": "{} and {}"}}, "does not fit its 1 input"),
    ({"metadata_file": "/nonexistent/metadata.json"}, "cannot be read as JSON"),
])
def test_bad_arguments(retail, arguments, message):
    features = fk.plan(retail, target="customers", agg_primitives=["sum"], trans_primitives=[])
    arguments = {"feature": features[-1], **arguments}
    with pytest.raises(fk.FeaturekitError, match=message):
        fk.describe_feature(**arguments)
