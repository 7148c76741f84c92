"""fk.deploy.save / load: the round trip predicts what the fitted pipeline predicts, and load
refuses every kind of directory it cannot trust, naming the problem and the fix."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from deploy_support import build_pipeline, labels
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import featurekit as fk
from featurekit import deploy
from featurekit.demo import retail_entityset
from featurekit.deploy import DeploymentError
from featurekit.sklearn import RelevantFeatures, TimeSeriesFeatures


def copy_of(saved, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(saved, target)
    return target


def reseal(directory, change):
    """Edit the manifest and write a matching seal, as another featurekit would have."""
    manifest = json.loads((directory / "manifest.json").read_text())
    change(manifest)
    text = json.dumps(manifest, indent=1, sort_keys=True)
    (directory / "manifest.json").write_text(text)
    (directory / "manifest.sha256").write_text(hashlib.sha256(text.encode()).hexdigest())


def test_round_trip_predicts_what_the_pipeline_predicts(fitted, saved):
    pipeline, entityset, X = fitted
    loaded = deploy.load(saved)
    some = X.sample(25, random_state=1).reset_index(drop=True)
    assert (loaded.predict(some) == pipeline.predict(some)).all()
    np.testing.assert_allclose(loaded.predict_proba(some), pipeline.predict_proba(some),
                               rtol=0, atol=1e-12)
    assert [f.unique_name for f in loaded[0].features_] == \
        [f.unique_name for f in pipeline[0].features_]
    for name, table in entityset.tables.items():  # the held history, column for column
        assert loaded[0].entityset[name].frame.equals(table.frame)
        assert loaded[0].entityset[name].schemas == table.schemas
    assert loaded[0].entityset.relationships == entityset.relationships


def test_save_writes_the_documented_directory_and_leaves_the_pipeline_alone(fitted, saved):
    pipeline, entityset, _ = fitted
    assert pipeline[0].entityset is entityset and pipeline[0].features_  # untouched
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["versions"]["featurekit"] == fk.__version__
    assert {"numpy", "pandas", "polars", "scikit-learn", "skops"} <= set(manifest["versions"])
    files = {p.relative_to(saved).as_posix() for p in saved.rglob("*") if p.is_file()}
    assert files == {*manifest["files"], "manifest.json", "manifest.sha256"}
    assert {"pipeline.skops", "features/deepfeaturesynthesis.json",
            "tables/customers.parquet", "tables/transactions.parquet"} <= files
    for relative, digest in manifest["files"].items():
        assert hashlib.sha256((saved / relative).read_bytes()).hexdigest() == digest
    schema = manifest["schema"]
    assert schema["tables"]["sessions"]["index"] == "session_id"
    assert schema["tables"]["sessions"]["columns"]["device"]["logical_type"] == "categorical"
    assert {"parent": "customers", "parent_key": "customer_id", "child": "sessions",
            "child_key": "customer_id"} in schema["relationships"]
    assert manifest["custom_primitives"] == []
    assert b"pickle" not in (saved / "pipeline.skops").read_bytes()[:4]


def test_save_refuses_an_existing_path_and_replaces_it_only_when_asked(fitted, tmp_path):
    pipeline = fitted[0]
    target = tmp_path / "model"
    target.mkdir()
    with pytest.raises(DeploymentError, match="already exists.*overwrite=True"):
        deploy.save(pipeline, target)
    deploy.save(pipeline, target, overwrite=True)
    assert deploy.load(target).predict(fitted[2]).tolist() == pipeline.predict(fitted[2]).tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging left behind


def test_save_refuses_what_is_not_a_fitted_pipeline(fitted, tmp_path):
    with pytest.raises(DeploymentError, match="Pipeline"):
        deploy.save(LogisticRegression(), tmp_path / "a")
    with pytest.raises(DeploymentError, match="not fitted"):
        deploy.save(build_pipeline(fitted[1]), tmp_path / "b")
    assert not list(tmp_path.iterdir())


def test_a_tampered_file_is_refused(saved, tmp_path):
    directory = copy_of(saved, tmp_path)
    table = directory / "tables" / "transactions.parquet"
    frame = pl.read_parquet(table)
    frame.with_columns(pl.col("amount") * 2).write_parquet(table)  # a valid, different file
    with pytest.raises(DeploymentError, match=r"tables/transactions.parquet.*SHA-256.*tampered"):
        deploy.load(directory)


def test_a_tampered_manifest_is_refused(saved, tmp_path):
    directory = copy_of(saved, tmp_path)
    text = (directory / "manifest.json").read_text().replace('"device"', '"devices"')
    (directory / "manifest.json").write_text(text)
    with pytest.raises(DeploymentError, match="manifest.json does not match its SHA-256"):
        deploy.load(directory)


def test_another_major_version_is_refused(saved, tmp_path):
    directory = copy_of(saved, tmp_path)
    reseal(directory, lambda m: m["versions"].__setitem__("featurekit", "7.0.0"))
    with pytest.raises(DeploymentError, match=r"saved by featurekit 7.0.0.*Fix: install"):
        deploy.load(directory)


def test_a_changed_schema_is_refused(fitted, saved, tmp_path, retail_frames):
    directory = copy_of(saved, tmp_path)
    reseal(directory, lambda m: m["schema"]["tables"]["sessions"]["columns"]["device"]
           .__setitem__("dtype", "String"))
    with pytest.raises(DeploymentError, match="table 'sessions' has columns"):
        deploy.load(directory)
    other = retail_entityset({k: v.copy() for k, v in retail_frames.items()},
                             types={"transactions": {"amount": "categorical"}})
    with pytest.raises(DeploymentError, match=r"table 'transactions', column 'amount' is "
                                              r"categorical.*saved double"):
        deploy.load(saved, entityset=other)
    same = retail_entityset({k: v.copy() for k, v in retail_frames.items()})
    assert deploy.load(saved, entityset=same)[0].entityset is same


def test_an_unlisted_or_missing_file_is_refused(saved, tmp_path):
    directory = copy_of(saved, tmp_path)
    (directory / "tables" / "extra.parquet").write_bytes(b"x")
    with pytest.raises(DeploymentError, match="does not list.*extra.parquet"):
        deploy.load(directory)
    (directory / "tables" / "extra.parquet").unlink()
    (directory / "features" / "deepfeaturesynthesis.json").unlink()
    with pytest.raises(DeploymentError, match="deepfeaturesynthesis.json.*missing"):
        deploy.load(directory)
    with pytest.raises(DeploymentError, match="not a directory"):
        deploy.load(tmp_path / "nothing")


def test_a_missing_custom_primitive_is_refused(retail_frames, tmp_path, monkeypatch):
    import custom_primitives

    from featurekit import primitives

    # registered again: another test may have cleaned the registry since the module's import
    monkeypatch.setitem(primitives._REGISTRY, "second_largest", custom_primitives.SecondLargest)
    monkeypatch.setitem(primitives._BY_IDENTITY, "custom_primitives:SecondLargest",
                        custom_primitives.SecondLargest)
    entityset = retail_entityset({k: v.copy() for k, v in retail_frames.items()})
    X = pd.DataFrame({"customer_id": retail_frames["customers"]["customer_id"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = build_pipeline(entityset, agg=("count", "second_largest"), trans=()).fit(
            X, labels(entityset, X.customer_id.tolist()))
    directory = deploy.save(pipeline, tmp_path / "custom")
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["custom_primitives"] == [
        {"name": "second_largest", "class": "custom_primitives:SecondLargest"}]
    assert (deploy.load(directory).predict(X) == pipeline.predict(X)).all()
    # a process that never imported the module: the class is not registered
    monkeypatch.delitem(primitives._BY_IDENTITY, "custom_primitives:SecondLargest")
    with pytest.raises(DeploymentError, match=r"second_largest \(custom_primitives:"
                                              r"SecondLargest\).*Fix: import custom_primitives"):
        deploy.load(directory)


class Doubler(TransformerMixin, BaseEstimator):
    """A step skops does not know: loading it needs the caller's trust."""

    def fit(self, X, y=None):
        self.factor_ = 2.0
        return self

    def transform(self, X):
        return X * self.factor_


def test_unknown_skops_types_are_refused_unless_trusted(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    y = (X["a"] > 0).astype(int)
    pipeline = make_pipeline(Doubler(), LogisticRegression()).fit(X, y)
    directory = deploy.save(pipeline, tmp_path / "doubler")
    name = f"{Doubler.__module__}.Doubler"
    with pytest.raises(DeploymentError, match=rf"not trusted: \['{name}'\].*trusted="):
        deploy.load(directory)
    loaded = deploy.load(directory, trusted=[name])
    assert (loaded.predict(X) == pipeline.predict(X)).all()


def test_time_series_and_selection_steps_keep_their_frames(tmp_path):
    frame, classes = fk.demo.load_labelled_series(n_per_class=8, length=60)
    ids = pd.DataFrame(index=classes.index)
    y = (classes == "periodic").to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = make_pipeline(
            TimeSeriesFeatures(frame, column_id="id", column_sort="time",
                               settings="minimal", impute=True),
            RelevantFeatures(fdr_level=0.9), LogisticRegression(max_iter=2000)).fit(ids, y)
    assert pipeline[1].support_.any()
    directory = deploy.save(pipeline, tmp_path / "series")
    assert {"frames/timeseriesfeatures.timeseries.parquet",
            "frames/relevantfeatures.relevance_table_.parquet"} <= set(
        json.loads((directory / "manifest.json").read_text())["files"])
    loaded = deploy.load(directory)
    pd.testing.assert_frame_equal(loaded[1].relevance_table_, pipeline[1].relevance_table_)
    pd.testing.assert_frame_equal(loaded[0].timeseries, frame)
    np.testing.assert_array_equal(loaded.predict_proba(ids), pipeline.predict_proba(ids))
    assert pipeline[0].timeseries is frame  # the caller's step still holds its frame


def test_a_missing_extra_names_it(monkeypatch, saved):
    monkeypatch.setitem(sys.modules, "skops.io", None)
    monkeypatch.setitem(sys.modules, "skops", None)
    with pytest.raises(DeploymentError, match=r"pip install 'featurekit\[serve\]'"):
        deploy.load(saved)
    monkeypatch.setitem(sys.modules, "fastapi", None)
    from featurekit.deploy.app import require_serving

    with pytest.raises(DeploymentError, match=r"pip install 'featurekit\[serve\]'"):
        require_serving()


WRONG = [None, 0, 1.5, "", b"x", [], [1], {}, {"a": 1}, True, object(), pd.DataFrame()]


@pytest.mark.parametrize("value", WRONG, ids=lambda v: type(v).__name__ + repr(v)[:8])
def test_wrong_kinds_of_arguments_get_featurekit_errors(fitted, saved, tmp_path, value):
    calls = {  # call -> the values of WRONG that are right for it
        "save path": (lambda: deploy.save(fitted[0], value), ()),
        "save entityset": (lambda: deploy.save(fitted[0], tmp_path / "a", entityset=value),
                           (None,)),
        "save overwrite": (lambda: deploy.save(fitted[0], tmp_path / "b", overwrite=value),
                           (True,)),
        "save pipeline": (lambda: deploy.save(value, tmp_path / "c"), ()),
        "load path": (lambda: deploy.load(value), ()),
        "load entityset": (lambda: deploy.load(saved, entityset=value), (None,)),
        "load trusted": (lambda: deploy.load(saved, trusted=value), ([], {})),
        "max_rows": (lambda: deploy.Service(saved, max_rows=value), ()),
        "max_bytes": (lambda: deploy.Service(saved, max_bytes=value), ()),
    }
    for name, (call, right) in calls.items():
        if any(value is r or (type(value) is type(r) and value == r) for r in right):
            continue
        with pytest.raises(fk.FeaturekitError):
            call()
            pytest.fail(f"{name} accepted {value!r}")


class Holder(TransformerMixin, BaseEstimator):
    """A step holding an object skops cannot write (a frame inside a dict)."""

    def fit(self, X, y=None):
        self.tables_ = {"seen": pd.DataFrame({"a": [1, 2]})}
        return self

    def transform(self, X):
        return X


def test_a_step_skops_cannot_write_is_refused_whole(tmp_path):
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    pipeline = make_pipeline(Holder(), LogisticRegression()).fit(X, [0, 0, 1, 1])
    with pytest.raises(DeploymentError, match="cannot be saved in skops' format"):
        deploy.save(pipeline, tmp_path / "held")
    assert not list(tmp_path.iterdir())  # nothing half written
