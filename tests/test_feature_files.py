"""Saved feature files: loading never imports or runs what a file names, every damaged file
gets a featurekit error naming the file and the fix, custom primitives say where they must
live, and compute refuses features whose columns changed type or that repeat a column."""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
import textwrap
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest
from custom_primitives import value_range
from featurekit.primitives import aggregation as aggregation_decorator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.demo import retail_entityset
from featurekit.demo_data import retail_tables
from featurekit.errors import (
    ComputeError,
    FeatureFileError,
    PortabilityWarning,
    SchemaError,
)
from featurekit.feature import Feature, IdentityFeature, features_from_dict, features_to_dict


@functools.cache
def saved() -> dict:
    """A valid saved file's data: identity, direct, aggregation, transform and output nodes."""
    es = retail_entityset(retail_tables(8, seed=3))
    features = fk.plan(es, target="customers", max_depth=2,
                       agg_primitives=["sum", "mean", "count", "mode", "n_most_common"],
                       trans_primitives=["month", "is_null"])
    multi = next(f for f in features if f.number_output_features > 1)
    return features_to_dict([*features, multi[1]])


def write(tmp_path, data, name="features.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def node_with(data: dict, kind: str, primitive: str | None = None) -> str:
    return next(key for key, node in data["nodes"].items() if node["kind"] == kind
                and (primitive is None or node["primitive"]["name"] == primitive))


def with_primitive_class(name: str, identity: str, params=None) -> dict:
    """The saved data with the SUM node's primitive recorded as ``name`` of class ``identity``."""
    data = copy.deepcopy(saved())
    node = data["nodes"][node_with(data, "aggregation", "sum")]
    node["primitive"] = {"name": name, "class": identity, "params": params or {}}
    return data


def refused(tmp_path, data, *words, allow=None) -> str:
    path = write(tmp_path, data)
    with pytest.raises(FeatureFileError) as caught:
        fk.load_features(path, allow=allow)
    message = str(caught.value)
    assert path in message and "Fix:" in message
    for word in words:
        assert word in message, message
    return message


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A folder on the import path for modules written by a test; they leave sys.modules after."""
    folder = tmp_path / "modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("fk_test_"):
            del sys.modules[name]


def sentinel_module(folder, body: str = "") -> tuple[str, object]:
    """Write a module that leaves a marker file when imported; return its name and marker."""
    name = f"fk_test_{uuid.uuid4().hex[:10]}"
    marker = folder / f"{name}.imported"
    (folder / f"{name}.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n"
        + textwrap.dedent(body))
    return name, marker


# --------------------------------------------------------------------------- security
@pytest.mark.parametrize("identity", ["subprocess:call", "os:system", "builtins:eval",
                                      "subprocess:Popen", "importlib:import_module",
                                      "pickle:loads", "featurekit.feature_files:load_features"])
def test_a_file_naming_any_callable_is_refused_and_nothing_is_called(tmp_path, monkeypatch, identity):
    calls = []
    module_name, attribute = identity.split(":")
    module = __import__(module_name, fromlist=["_"])
    monkeypatch.setattr(module, attribute, lambda *a, **k: calls.append((a, k)))
    data = with_primitive_class("sum", identity, {"args": ["touch", str(tmp_path / "ran")]})
    before = set(sys.modules)
    refused(tmp_path, data, "'sum'", repr(identity), "refused")
    assert calls == [] and not (tmp_path / "ran").exists()
    assert set(sys.modules) == before


def test_a_module_the_file_names_is_never_imported_unless_allowed(tmp_path, module_dir):
    name, marker = sentinel_module(module_dir, """
        class Evil:
            name = "sum"
    """)
    data = with_primitive_class("sum", f"{name}:Evil")
    message = refused(tmp_path, data, f"{name}:Evil", f"allow=[{name!r}]")
    assert "featurekit.primitives.aggregation:Sum" in message  # the registered "sum"
    assert name not in sys.modules and not marker.exists()
    refused(tmp_path, data, allow=[name[:-1]])  # a prefix must be a whole module name
    assert name not in sys.modules and not marker.exists()
    # allowed: importing is the caller's decision, but a class that is no primitive is refused
    refused(tmp_path, data, "not a featurekit primitive class", allow=[name])
    assert marker.exists()


def test_an_allowed_module_provides_its_primitives(tmp_path, module_dir, tables):
    package = f"fk_test_{uuid.uuid4().hex[:10]}"
    (module_dir / package).mkdir()
    (module_dir / package / "__init__.py").write_text("")
    (module_dir / package / "prims.py").write_text(textwrap.dedent("""
        from featurekit.primitives import AggregationPrimitive
        from featurekit.primitives.base import NUMERIC_IN, NUMERIC_OUT

        class TotalTimesTen(AggregationPrimitive):
            name = "total_times_ten"
            input_types = ((NUMERIC_IN,),)
            return_type = NUMERIC_OUT

            def aggregate_expr(self, inputs, context):
                return inputs[0].sum() * 10
    """))
    data = with_primitive_class("total_times_ten", f"{package}.prims:TotalTimesTen")
    path = write(tmp_path, data)
    refused(tmp_path, data, f"import {package}.prims", f"allow=['{package}.prims']")
    assert f"{package}.prims" not in sys.modules
    loaded = fk.load_features(path, allow=[package])  # a package allows its modules
    feature = next(f for f in loaded if f.name.startswith("TOTAL_TIMES_TEN"))
    es = retail_entityset(tables)
    matrix = fk.compute(es, [feature])
    by_session = tables["transactions"].groupby("session_id")["amount"].sum()
    sessions = tables["sessions"].assign(total=lambda s: s["session_id"].map(by_session).fillna(0))
    expected = sessions.groupby("customer_id")["total"].sum() * 10
    np.testing.assert_allclose(matrix.loc[expected.index, feature.name], expected)
    assert fk.load_features(path, allow=f"{package}.prims")[0].name == loaded[0].name  # one string


def test_a_registered_name_with_another_class_or_a_class_with_another_name_is_refused(tmp_path):
    before = set(sys.modules)
    refused(tmp_path, with_primitive_class("sum", "fk_lookalike_module:Sum"),
            "'fk_lookalike_module:Sum'", "featurekit.primitives.aggregation:Sum")
    refused(tmp_path, with_primitive_class("mean", "featurekit.primitives.aggregation:Sum"),
            "is primitive 'sum'")
    assert set(sys.modules) == before
    refused(tmp_path, with_primitive_class("sum", "no colon here"), "'module:Class'")
    refused(tmp_path, with_primitive_class("sum", "os:system"), allow=["os"])


@pytest.mark.parametrize("params, words", [
    ({"n": {"module": "os", "class": "system"}}, ["'n'", "lists of them"]),
    ({"n": [1, {"a": 1}]}, ["'n'"]),
    ({"n": "3"}, ["'n'", "a string", "takes a number"]),
    ({"n": True}, ["'n'", "a boolean"]),
    ({"command": "ls"}, ["'command'", "no parameter"]),
])
def test_primitive_parameters_are_plain_values_of_the_declared_kind(tmp_path, params, words):
    data = copy.deepcopy(saved())
    key = node_with(data, "aggregation", "n_most_common")
    data["nodes"][key]["primitive"]["params"] = params
    refused(tmp_path, data, key, *words)


@pytest.mark.parametrize("allow", [5, [""], ["os system"], [None]])
def test_allow_takes_module_names(tmp_path, allow):
    path = write(tmp_path, saved())
    with pytest.raises(FeatureFileError, match="allow="):
        fk.load_features(path, allow=allow)


def test_registered_class_form_and_decorated_primitives_load(tmp_path, retail):
    features = fk.plan(retail, target="customers", agg_primitives=[value_range, "second_largest"],
                       trans_primitives=[])
    path = tmp_path / "f.json"
    with warnings.catch_warnings():
        warnings.simplefilter("error", PortabilityWarning)  # module-level: nothing to warn about
        fk.save_features(features, path)
    loaded = fk.load_features(path)
    assert [f.name for f in loaded] == [f.name for f in features]
    pd.testing.assert_frame_equal(fk.compute(retail, loaded), fk.compute(retail, features))


# --------------------------------------------------------------------------- portability
def test_a_primitive_defined_inside_a_function_warns_at_save_and_loads_in_process(tmp_path, retail):
    @aggregation_decorator(input_types=["numeric"], return_type="numeric", name="local_spread")
    def local_spread(values):
        return float(np.nanmax(values) - np.nanmin(values)) if len(values) else float("nan")

    features = fk.plan(retail, target="sessions", agg_primitives=[local_spread], trans_primitives=[])
    path = tmp_path / "f.json"
    with pytest.warns(PortabilityWarning, match="inside a function.*module on the import path"):
        fk.save_features(features, path)
    assert [f.name for f in fk.load_features(path)] == [f.name for f in features]


def test_a_primitive_of_a_script_warns_at_save_and_says_where_it_must_live_at_load(tmp_path):
    script = tmp_path / "make_features.py"
    path = tmp_path / "features.json"
    script.write_text(textwrap.dedent(f"""
        import numpy as np
        import featurekit as fk

        @fk.primitives.aggregation(input_types=["numeric"], return_type="numeric")
        def value_span(values):
            return float(np.nanmax(values) - np.nanmin(values)) if len(values) else float("nan")

        es = fk.demo.load_retail(n_customers=5)
        features = fk.plan(es, target="sessions", agg_primitives=[value_span], trans_primitives=[])
        fk.save_features(features, {str(path)!r})
        assert [f.name for f in fk.load_features({str(path)!r})] == [f.name for f in features]
    """))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, env={**__import__("os").environ, "PYTHONWARNINGS": "always"})
    assert run.returncode == 0, run.stderr
    assert "PortabilityWarning" in run.stderr and "__main__" in run.stderr
    message = refused(tmp_path, path.read_text(), "'value_span'", "'__main__:value_span'",
                      "move its definition to a module on the import path")
    assert "did you mean" not in message


def test_an_unimported_custom_module_is_named_in_the_error(tmp_path):
    message = refused(tmp_path, with_primitive_class("ratio_of_sums", "fk_my_prims.ratios:RatioOfSums"),
                      "'ratio_of_sums'", "import fk_my_prims.ratios", "allow=['fk_my_prims.ratios']")
    assert "fk_my_prims" not in sys.modules and "never imports" in message


# --------------------------------------------------------------------------- damaged files
def test_missing_empty_and_unreadable_files(tmp_path):
    cases = {
        str(tmp_path / "absent.json"): "does not exist",
        write(tmp_path, "", "empty.json"): "is empty",
        write(tmp_path, "  \n", "blank.json"): "is empty",
        write(tmp_path, json.dumps(saved())[:-40], "cut.json"): "cut off",
        write(tmp_path, "features: [SUM(amount)]\n", "yaml.json"): "not valid JSON",
        write(tmp_path, "[" * 100_000, "deep.json"): "too deeply",
        write(tmp_path, "[" * 100_000 + "]" * 100_000, "nested.json"): "too deeply",
        write(tmp_path, '{"format_version": 1, "features": [1' + "0" * 5000 + "]}", "big.json"): "JSON",
        str(tmp_path): "cannot be read",
    }
    (tmp_path / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    cases[str(tmp_path / "latin1.json")] = "not UTF-8"
    for path, words in cases.items():
        with pytest.raises(FeatureFileError) as caught:
            fk.load_features(path)
        assert path in str(caught.value) and words in str(caught.value) and "Fix:" in str(caught.value)
    with pytest.raises(FeatureFileError, match="takes the path"):
        fk.load_features(None)


def mutated(change) -> dict:
    data = copy.deepcopy(saved())
    change(data)
    return data


def first(data: dict, kind: str) -> dict:
    return data["nodes"][node_with(data, kind)]


def add_cycle(data: dict) -> None:
    key = node_with(data, "transform")
    data["nodes"][key]["inputs"] = [key]


def add_two_node_cycle(data: dict) -> None:
    direct = node_with(data, "direct")
    base = data["nodes"][direct]["inputs"][0]
    data["nodes"][base] = {"kind": "direct", "table": data["nodes"][base]["table"],
                           "inputs": [direct], "relationship": data["nodes"][direct]["relationship"]}


def add_long_chain(data: dict) -> None:
    key = node_with(data, "transform")
    node = data["nodes"][key]
    for step in range(5000):
        data["nodes"][f"chain{step}"] = {**node, "inputs": [f"chain{step - 1}" if step else key]}
    data["features"].append("chain4999")


BAD_FILES = {
    "an array": (lambda d: None, "holds a JSON array"),
    "no format_version": (lambda d: d.pop("format_version"), "no 'format_version'"),
    "format_version 2": (lambda d: d.update(format_version=2), "format_version 2"),
    "format_version '1'": (lambda d: d.update(format_version="1"), "format_version '1'"),
    "format_version true": (lambda d: d.update(format_version=True), "format_version True"),
    "no nodes": (lambda d: d.pop("nodes"), "lacks ['nodes']"),
    "an extra key": (lambda d: d.update(code="os.system('ls')"), "unknown ['code']"),
    "features not a list": (lambda d: d.update(features="zip_code"), "'features' is"),
    "nodes a list": (lambda d: d.update(nodes=[]), "'nodes' is"),
    "unknown root": (lambda d: d["features"].append("customers: NOPE"), "'features' lists 'customers: NOPE'"),
    "unknown input": (lambda d: first(d, "direct").update(inputs=["x: y"]), "has input 'x: y'"),
    "a cycle": (add_cycle, "cycle"),
    "a two-node cycle": (add_two_node_cycle, "cycle"),
    "a chain too deep": (add_long_chain, "at most 100"),
    "unknown kind": (lambda d: first(d, "direct").update(kind="python"), "kind 'python'"),
    "kind a list": (lambda d: first(d, "direct").update(kind=["direct"]), "kind ['direct']"),
    "node a string": (lambda d: d["nodes"].update({d["features"][0]: "zip_code"}), "not an object"),
    "missing column": (lambda d: first(d, "identity").pop("column"), "lacks ['column']"),
    "position a string": (lambda d: first(d, "output").update(position="1"), "'position' '1'"),
    "position a float": (lambda d: first(d, "output").update(position=1.0), "'position' 1.0"),
    "position true": (lambda d: first(d, "output").update(position=True), "'position' True"),
    "position too large": (lambda d: first(d, "output").update(position=99), "output 99"),
    "path a dict": (lambda d: first(d, "aggregation").update(path={}), "'path' {}"),
    "path empty": (lambda d: first(d, "aggregation").update(path=[]), "'path' []"),
    "schema a list": (lambda d: first(d, "identity").update(schema=["numeric"]), "'schema'"),
    "schema unknown type": (lambda d: first(d, "identity")["schema"].update(logical_type="money"),
                            "logical type 'money'"),
    "tags a string": (lambda d: first(d, "identity")["schema"].update(tags="numeric"), "tags 'numeric'"),
    "relationship lacks a key": (lambda d: first(d, "direct")["relationship"].pop("child_key"),
                                 "lacks ['child_key']"),
    "relationship extra key": (lambda d: first(d, "direct")["relationship"].update(via="x"), "unknown ['via']"),
    "relationship key a number": (lambda d: first(d, "direct")["relationship"].update(child=3), "'relationship.child' 3"),
    "relationship to another table": (lambda d: first(d, "direct")["relationship"].update(parent="products"),
                                      "whose parent is 'products'"),
    "inputs a string": (lambda d: first(d, "direct").update(inputs="x"), "'inputs' 'x'"),
    "two inputs to a direct feature": (lambda d: first(d, "direct")["inputs"].append("x"), "takes 1"),
    "unknown primitive": (lambda d: first(d, "aggregation")["primitive"].update(name="value_rnage"),
                          "'value_rnage'"),
    "primitive lacks params": (lambda d: first(d, "aggregation")["primitive"].pop("params"), "lacks ['params']"),
    "transform primitive in an aggregation": (
        lambda d: first(d, "aggregation").update(primitive=first(d, "transform")["primitive"]),
        "transform primitive"),
    "table of another node": (lambda d: first(d, "aggregation").update(table="products"), "says table 'products'"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_every_damaged_file_gets_a_featurekit_error_naming_file_problem_and_fix(tmp_path, case):
    change, words = BAD_FILES[case]
    data = [] if case == "an array" else mutated(change)
    refused(tmp_path, data, words)


def test_features_from_dict_follows_the_same_rules():
    assert [f.name for f in features_from_dict(saved())] == [
        f.name for f in features_from_dict(json.loads(json.dumps(saved())))]
    with pytest.raises(FeatureFileError, match="saved features: .*'subprocess:call'"):
        features_from_dict(with_primitive_class("sum", "subprocess:call"))
    with pytest.raises(FeatureFileError, match="holds a JSON string"):
        features_from_dict("features.json")  # type: ignore[arg-type]


def json_values(extra: list) -> st.SearchStrategy:
    scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
               | st.text(max_size=8) | st.sampled_from(extra))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6) | st.sampled_from(extra), inner, max_size=3),
                        max_leaves=6)


def paths_in(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_in(item, (*prefix, key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from paths_in(item, (*prefix, position))


def interesting_strings(data: dict) -> list:
    """Keys, node names, kinds and classes of the valid file, so that mutations often make
    files that are almost right."""
    found = set(data["nodes"]) | {"kind", "inputs", "table", "schema", "position", "path", "primitive",
                                  "subprocess:call", "os:system", "__main__:value_range", ""}
    for node in data["nodes"].values():
        found |= set(node) | {node["kind"], node["table"]}
        if "primitive" in node:
            found |= {node["primitive"]["name"], node["primitive"]["class"]}
    return sorted(found)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(draw=st.data())
def test_any_mutation_of_a_saved_file_loads_or_gets_a_featurekit_error(tmp_path, draw):
    data = copy.deepcopy(saved())
    extra = interesting_strings(data)
    for _ in range(draw.draw(st.integers(1, 3), label="mutations")):
        paths = list(paths_in(data))
        where = draw.draw(st.sampled_from(paths), label="path")
        action = draw.draw(st.sampled_from(["drop", "replace", "retype"]), label="action")
        if not where:
            data = draw.draw(json_values(extra), label="whole file")
            continue
        parent = data
        for step in where[:-1]:
            parent = parent[step]
        if action == "drop":
            del parent[where[-1]]
        elif action == "replace":
            parent[where[-1]] = draw.draw(json_values(extra), label="value")
        else:
            old = parent[where[-1]]
            parent[where[-1]] = {"as_list": [old], "as_text": json.dumps(old), "as_dict": {"v": old},
                                 "as_null": None}[draw.draw(st.sampled_from(
                                     ["as_list", "as_text", "as_dict", "as_null"]), label="retype")]
    text = json.dumps(data)
    if draw.draw(st.booleans(), label="truncate"):
        text = text[:draw.draw(st.integers(0, len(text)), label="cut at")]
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(text)
    before = set(sys.modules)
    try:
        loaded = fk.load_features(path)
    except FeatureFileError as problem:
        assert str(path) in str(problem) and "Fix:" in str(problem)
    else:
        assert all(isinstance(f, Feature) for f in loaded)
    assert set(sys.modules) == before


def test_every_built_in_primitive_survives_the_round_trip(tmp_path, retail):
    from featurekit.primitives import AGGREGATION_PRIMITIVES, TRANSFORM_PRIMITIVES

    features = fk.plan(retail, target="customers", max_depth=2,
                       agg_primitives=[cls.name for cls in AGGREGATION_PRIMITIVES],
                       trans_primitives=[cls.name for cls in TRANSFORM_PRIMITIVES],
                       return_types="all")
    features += [f[0] for f in features if f.number_output_features > 1][:3]
    path = tmp_path / "all.json"
    fk.save_features(features, path)
    loaded = fk.load_features(path)
    assert features_to_dict(loaded) == features_to_dict(features)
    assert [type(f) for f in loaded] == [type(f) for f in features]
    assert [f.primitive for f in loaded] == [f.primitive for f in features]


def test_time_series_primitives_with_parameters_survive_the_round_trip(tmp_path, retail):
    from featurekit.primitives import timeseries_primitives

    primitives = timeseries_primitives({"fft_coefficient": [{"coeff": 2, "attr": "abs"}],
                                        "cwt_coefficients": [{"widths": (2, 5), "coeff": 1, "w": 2}],
                                        "c3": [{"lag": 2}]})
    features = fk.plan(retail, target="sessions", max_depth=1, agg_primitives=primitives,
                       trans_primitives=[])
    path = tmp_path / "ts.json"
    fk.save_features(features, path)
    loaded = fk.load_features(path)
    assert [f.name for f in loaded] == [f.name for f in features]
    assert [f.primitive for f in loaded] == [f.primitive for f in features]


# --------------------------------------------------------------------------- compute checks
def planned_sum(tables) -> tuple[fk.EntitySet, list]:
    es = retail_entityset(tables)
    features = fk.plan(es, target="customers", agg_primitives=["sum", "mode"], trans_primitives=[],
                       include=["SUM(transactions.amount)", "MODE(sessions.device)"])
    assert [f.name for f in features] == ["MODE(sessions.device)", "SUM(transactions.amount)"]
    return es, features


def test_a_saved_feature_whose_column_became_categorical_is_refused(tables, tmp_path):
    _, features = planned_sum(tables)
    path = tmp_path / "f.json"
    fk.save_features(features, path)
    loaded = fk.load_features(path)
    changed = {name: frame.copy() for name, frame in tables.items()}
    changed["transactions"]["amount"] = changed["transactions"]["amount"].astype(str)
    es = retail_entityset(changed)
    with pytest.raises(SchemaError) as caught:
        fk.compute(es, loaded)
    for words in ("'transactions'", "'amount'", "SUM(transactions.amount)", "double", "categorical",
                  "types={'amount': 'double'}", "plan the features again"):
        assert words in str(caught.value)
    cutoffs = pd.DataFrame({"customer_id": tables["customers"]["customer_id"],
                            "time": pd.Timestamp("2030-01-01")})
    with pytest.raises(SchemaError, match="'amount'"):
        fk.compute(es, loaded, cutoff_time=cutoffs)
    with pytest.raises(SchemaError, match="'amount'"):
        fk.compute(es, loaded, cutoff_time=pd.Timestamp("2030-01-01"))


def test_a_numeric_column_of_another_width_still_computes(tables):
    _, features = planned_sum(tables)
    changed = {name: frame.copy() for name, frame in tables.items()}
    changed["transactions"]["amount"] = changed["transactions"]["amount"].fillna(0).round().astype("int64")
    matrix = fk.compute(retail_entityset(changed), features)
    by_session = changed["transactions"].groupby("session_id")["amount"].sum()
    sessions = changed["sessions"].assign(total=lambda s: s["session_id"].map(by_session).fillna(0))
    expected = sessions.groupby("customer_id")["total"].sum()
    np.testing.assert_allclose(matrix.loc[expected.index, "SUM(transactions.amount)"], expected)


def test_a_category_saved_as_categorical_computes_as_a_postal_code_and_back(tables):
    """Categories of any kind are one kind of data: MODE planned on a categorical zip code
    computes where the zip code is a postal code, with the same values; a primitive that
    needs a postal code still refuses a plain category."""
    plain = retail_entityset(tables)
    coded = retail_entityset(tables, types={"customers": {"zip_code": "PostalCode"}})
    features = fk.plan(plain, target="sessions", agg_primitives=[], trans_primitives=[],
                       include=["customers.zip_code"])
    assert [f.name for f in features] == ["customers.zip_code"]
    pd.testing.assert_series_equal(fk.compute(coded, features)["customers.zip_code"].astype(str),
                                   fk.compute(plain, features)["customers.zip_code"].astype(str))
    digit = fk.plan(coded, target="customers", agg_primitives=[],
                    trans_primitives=["one_digit_postal_code"], include=["ONE_DIGIT_POSTAL_CODE(*"])
    assert [f.name for f in digit] == ["ONE_DIGIT_POSTAL_CODE(zip_code)"]
    with pytest.raises(ComputeError, match="ONE_DIGIT_POSTAL_CODE"):
        fk.compute(plain, digit)


def test_a_categorical_column_that_became_numeric_is_refused(tables):
    _, features = planned_sum(tables)
    changed = {name: frame.copy() for name, frame in tables.items()}
    changed["sessions"]["device"] = changed["sessions"]["device"].astype("category").cat.codes
    numbered = retail_entityset(changed, types={"sessions": {"device": "integer"}})
    with pytest.raises(SchemaError, match="column 'device'.*categorical.*integer"):
        fk.compute(numbered, features)


def test_a_primitive_whose_input_lost_its_tag_is_refused(tables):
    typed = retail_entityset(tables, types={"customers": {"birthday": "date_of_birth"}})
    features = fk.plan(typed, target="customers", agg_primitives=[], trans_primitives=["age"],
                       include=["AGE(birthday)"])
    assert [f.name for f in features] == ["AGE(birthday)"]
    with pytest.raises(ComputeError) as caught:
        fk.compute(retail_entityset(tables), features)
    assert "AGE" in str(caught.value) and "date_of_birth" in str(caught.value)
    assert "'birthday'" in str(caught.value) and "types=" in str(caught.value)


def test_duplicated_features_are_refused_by_name(retail):
    features = fk.plan(retail, target="customers", max_depth=1, trans_primitives=[])
    with pytest.raises(ComputeError) as caught:
        fk.compute(retail, [*features, features[1], features[1]])
    assert repr(features[1].name) in str(caught.value)
    assert "list(dict.fromkeys(features))" in str(caught.value)
    again = pickle_copy(features[1])  # an equal definition, another object
    with pytest.raises(ComputeError, match="more than once"):
        fk.compute(retail, [*features, again])
    deduplicated = list(dict.fromkeys([*features, features[1], again]))
    pd.testing.assert_frame_equal(fk.compute(retail, deduplicated), fk.compute(retail, features))


def pickle_copy(feature):
    import pickle

    return pickle.loads(pickle.dumps(feature))


def test_two_features_giving_one_column_are_refused(retail):
    features = fk.plan(retail, target="customers", max_depth=1, trans_primitives=[],
                       agg_primitives=["n_most_common"])
    multi = next(f for f in features if f.number_output_features > 1)
    with pytest.raises(ComputeError, match=r"both give the column 'N_MOST_COMMON\(sessions.device\)\[0\]'"):
        fk.compute(retail, [multi, multi[0]])
    identity = fk.plan(retail, target="customers", max_depth=0, trans_primitives=[],
                       return_types="all")
    index = IdentityFeature("customers", "customer_id", retail["customers"].schemas["customer_id"])
    with pytest.raises(ComputeError, match="index of table 'customers'"):
        fk.compute(retail, [index])
    with pytest.raises(ComputeError, match=r"features\[1\] is 'zip_code'"):
        fk.compute(retail, [identity[0], "zip_code"])



def test_saving_is_atomic_with_the_usual_permissions_and_plain_parameters(tmp_path, retail):
    from featurekit.primitives.aggregation import NMostCommon

    features = fk.plan(retail, target="customers", max_depth=1, trans_primitives=[],
                       agg_primitives=[NMostCommon(n=np.int64(2))])
    path = tmp_path / "f.json"
    fk.save_features(features, path)
    (tmp_path / "plain.txt").write_text("x")  # what open() gives under this umask
    assert path.stat().st_mode & 0o777 == (tmp_path / "plain.txt").stat().st_mode & 0o777
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "plain.txt"]
    loaded = fk.load_features(path)
    multi = next(f for f in loaded if f.number_output_features > 1)
    assert multi.primitive.params == {"n": 2} and type(multi.primitive.params["n"]) is int
    with pytest.raises(FeatureFileError, match="cannot be written"):
        fk.save_features(features, tmp_path / "plain.txt" / "f.json")  # a file is no folder
    from featurekit.primitives.aggregation import Entropy

    odd = Entropy()
    odd.params["base"] = {2}  # a value JSON cannot hold (the constructor itself refuses it)
    unsavable = fk.plan(retail, target="customers", max_depth=1, trans_primitives=[],
                        agg_primitives=[odd])
    with pytest.raises(FeatureFileError, match="cannot hold"):
        fk.save_features(unsavable, tmp_path / "g.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "plain.txt"]
