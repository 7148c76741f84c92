"""``save`` and ``load``: a fitted scikit-learn pipeline with featurekit steps as one directory.

The directory holds the feature definitions as JSON, the fitted steps in skops' format (no
pickle: loading builds only types it trusts), the historical tables as parquet, and a
manifest (versions, input schema, custom primitives, the SHA-256 of every file). ``load``
checks all of it before it builds anything, and refuses with a DeploymentError naming what
differs and the fix.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from featurekit.deploy._manifest import (
    FORMAT,
    FORMAT_VERSION,
    DeploymentError,
    check_entityset,
    check_files,
    check_path,
    frame_schema,
    read_manifest,
    schema_differences,
    sha256,
    table_schema,
    versions,
    write_manifest,
)
from featurekit.entityset import EntitySet, Relationship, Table
from featurekit.types import ColumnSchema

PIPELINE_FILE = "pipeline.skops"
# Types skops does not trust by default but a featurekit pipeline holds: our own steps, and
# scikit-learn's column selector (plain data: a pattern and dtypes).
TRUSTED = ("featurekit.sklearn.DeepFeatureSynthesis", "featurekit.sklearn.RelevantFeatures",
           "featurekit.sklearn.TimeSeriesFeatures", "numpy.dtype",
           "sklearn.compose._column_transformer.make_column_selector")


def require_skops() -> Any:
    """skops.io, or a DeploymentError naming the extra to install."""
    try:
        import skops.io as sio
    except ImportError:
        raise DeploymentError("saving and loading pipelines needs skops. Fix: pip install "
                              "'featurekit[serve]'") from None
    return sio


# --------------------------------------------------------------------------- saving
def save(pipeline: Any, path: str | os.PathLike, entityset: EntitySet | None = None,
         overwrite: bool = False) -> Path:
    """Write a fitted scikit-learn ``Pipeline`` (featurekit steps and a model) to the
    directory ``path``; returns it.

    ``entityset`` replaces the tables the DeepFeatureSynthesis step holds as the history a
    server starts from (same schema). The directory appears whole or not at all; an existing
    one is replaced only with ``overwrite=True``. The caller's pipeline is never modified.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from featurekit.arguments import check_flag

    target = check_path("path", path)
    check_entityset(entityset)
    check_flag("overwrite", overwrite)
    sio = require_skops()
    if not isinstance(pipeline, Pipeline):
        raise DeploymentError(f"save takes a fitted sklearn.pipeline.Pipeline, got "
                              f"{type(pipeline).__name__}. Fix: wrap the steps in "
                              "make_pipeline(...) and fit it")
    try:
        check_is_fitted(pipeline)
    except Exception:
        raise DeploymentError("the pipeline is not fitted. Fix: call pipeline.fit(X, y) before "
                              "fk.deploy.save") from None
    if target.exists() and not (overwrite and target.is_dir()):
        raise DeploymentError(f"{str(target)!r} already exists. Fix: pick a new path, or pass "
                              "overwrite=True to replace a saved pipeline")
    parts = _split(pipeline, entityset)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    staging.mkdir()
    try:
        _write(staging, parts, sio)
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _split(pipeline: Any, entityset: EntitySet | None) -> dict[str, Any]:
    """The pipeline without data (a copy), and what was taken out of its featurekit steps:
    the entity set, feature definitions and frames."""
    from featurekit.sklearn import DeepFeatureSynthesis

    steps, features, frames, held = [], {}, {}, None
    for name, step in pipeline.steps:
        if not type(step).__module__.startswith("featurekit."):
            steps.append((name, step))
            continue
        step = copy.copy(step)  # shallow: the caller's step keeps its attributes
        if isinstance(step, DeepFeatureSynthesis):
            if held is not None and step.entityset is not held:
                raise DeploymentError("the pipeline's DeepFeatureSynthesis steps use different "
                                      "entity sets. Fix: use one entity set for all of them")
            held = step.entityset
            features[name] = step.features_
            step.entityset, step.features_ = None, None
        for attribute, value in list(vars(step).items()):
            if isinstance(value, pd.DataFrame | pl.DataFrame):
                frames[f"{name}.{attribute}"] = value
                setattr(step, attribute, None)
            elif isinstance(value, EntitySet):
                raise DeploymentError(f"step {name!r} holds an entity set in {attribute!r}; only "
                                      "DeepFeatureSynthesis's own is saved. Fix: remove it")
        steps.append((name, step))
    if entityset is not None:
        if held is None:
            raise DeploymentError("entityset= was given but the pipeline has no "
                                  "DeepFeatureSynthesis step to use it. Fix: leave it out")
        differences = schema_differences(table_schema(held), table_schema(entityset))
        if differences:
            raise DeploymentError("entityset= does not have the schema the pipeline was fitted "
                                  f"on: {'; '.join(differences[:5])}. Fix: pass tables with the "
                                  "same columns and types")
        held = entityset
    stripped = copy.copy(pipeline)
    stripped.steps = steps
    return {"pipeline": stripped, "entityset": held, "features": features, "frames": frames,
            "step_names": [name for name, _ in pipeline.steps]}


def _write(directory: Path, parts: dict[str, Any], sio: Any) -> None:
    from featurekit.feature_files import features_to_dict

    files = {}
    try:
        sio.dump(parts["pipeline"], directory / PIPELINE_FILE)
    except Exception as problem:  # skops names the object it cannot write
        raise DeploymentError(f"a step of the pipeline cannot be saved in skops' format "
                              f"({type(problem).__name__}: {str(problem)[:300]}). Fix: keep only "
                              "plain settings in the steps (names, numbers, lists), or frames, "
                              "which are saved as parquet") from None
    files[PIPELINE_FILE] = PIPELINE_FILE
    (directory / "features").mkdir()
    custom: dict[str, str] = {}
    for name, features in parts["features"].items():
        relative = f"features/{name}.json"
        (directory / relative).write_text(json.dumps(features_to_dict(features), indent=1),
                                          encoding="utf-8")
        files[relative] = relative
        custom.update(_custom_primitives(features))
    frames = {}
    if parts["frames"]:
        (directory / "frames").mkdir()
    for key, frame in parts["frames"].items():
        relative = f"frames/{key}.parquet"
        kind = "pandas" if isinstance(frame, pd.DataFrame) else "polars"
        if kind == "pandas":
            frame.to_parquet(directory / relative)
        else:
            frame.write_parquet(directory / relative)
        frames[key] = {"file": relative, "kind": kind}
        files[relative] = relative
    entityset = parts["entityset"]
    tables = None
    if entityset is not None:
        (directory / "tables").mkdir()
        tables = {}
        for name, table in entityset.tables.items():
            relative = f"tables/{name}.parquet"
            table.frame.write_parquet(directory / relative)
            files[relative] = relative
            tables[name] = {"file": relative, "source_kind": table.source_kind}
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(),
        "steps": parts["step_names"],
        "features": {name: f"features/{name}.json" for name in parts["features"]},
        "frames": frames,
        "tables": tables,
        "schema": None if entityset is None else table_schema(entityset),
        "custom_primitives": [{"name": n, "class": c} for n, c in sorted(custom.items())],
        "files": {relative: sha256(directory / relative) for relative in files},
    }
    write_manifest(directory, manifest)


def _custom_primitives(features: Iterable[Any]) -> dict[str, str]:
    """name -> ``module:qualname`` of every primitive class not shipped with featurekit."""
    from featurekit.primitives import class_identity

    found, stack, seen = {}, list(features), set()
    while stack:
        feature = stack.pop()
        if id(feature) in seen:
            continue
        seen.add(id(feature))
        stack.extend(feature.inputs)
        if feature.where is not None:
            stack.append(feature.where)
        if feature.primitive is not None:
            identity = class_identity(type(feature.primitive))
            if not identity.startswith("featurekit."):
                found[type(feature.primitive).name] = identity
    return found


def _replace(staging: Path, target: Path) -> None:
    """Move the finished directory into place; an old one is removed only afterwards."""
    if not target.exists():
        os.replace(staging, target)
        return
    old = target.with_name(f".{target.name}.{secrets.token_hex(6)}.old")
    os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- loading
def load(path: str | os.PathLike, entityset: EntitySet | None = None,
         trusted: Iterable[str] = ()) -> Any:
    """Read a pipeline written by :func:`save`, after checking the directory: the
    manifest's seal and every file's SHA-256, the featurekit major version, that each custom
    primitive is registered in this process (import its module first), that the saved
    tables (or ``entityset``, which replaces them) have the saved schema, and that skops
    finds no type beyond scikit-learn's, featurekit's and ``trusted`` (type names as skops
    reports them). Any failure raises a DeploymentError naming it and the fix."""
    return load_parts(path, entityset, trusted)["pipeline"]


def load_parts(path: str | os.PathLike, entityset: EntitySet | None = None,
               trusted: Iterable[str] = ()) -> dict[str, Any]:
    """``load``'s work: the pipeline, its entity set, the name of the DFS step and the manifest."""
    from featurekit.arguments import check_names
    from featurekit.feature_files import features_from_dict
    from featurekit.primitives import registered_class
    from featurekit.sklearn import DeepFeatureSynthesis

    directory = check_path("path", path)
    check_entityset(entityset)
    if hasattr(trusted, "columns"):  # a frame iterates its column names: not what is meant
        raise DeploymentError("trusted takes type names such as ['my_package.MyStep'], got a "
                              "frame. Fix: pass a list of the names load's error listed")
    trusted = check_names("trusted", trusted, optional=False)
    sio = require_skops()
    manifest = read_manifest(directory)
    check_files(directory, manifest)
    where = f"saved pipeline {str(directory)!r}"
    missing = [item for item in manifest.get("custom_primitives", [])
               if registered_class(item["name"], item["class"]) is None]
    if missing:
        modules = sorted({item["class"].split(":")[0] for item in missing})
        raise DeploymentError(f"{where} uses custom primitives not registered in this process: "
                              f"{[item['name'] + ' (' + item['class'] + ')' for item in missing]}"
                              f". Fix: import {', '.join(modules)} before fk.deploy.load "
                              "(featurekit never imports what a file names)")
    untrusted = sorted(set(sio.get_untrusted_types(file=directory / PIPELINE_FILE))
                       - set(TRUSTED) - set(trusted))
    if untrusted:
        raise DeploymentError(f"{where}: the fitted steps hold types that are not trusted: "
                              f"{untrusted}. Fix: if you trust where the directory comes from, "
                              f"pass trusted={untrusted} to fk.deploy.load")
    held = _read_entityset(directory, manifest) if manifest.get("tables") else None
    if entityset is not None:
        if held is None:
            raise DeploymentError(f"{where} has no DeepFeatureSynthesis step, so entityset= has "
                                  "no use. Fix: leave it out")
        differences = schema_differences(manifest["schema"], table_schema(entityset))
        if differences:
            raise DeploymentError(f"entityset= does not have the schema of {where}: "
                                  f"{'; '.join(differences[:5])}. Fix: pass tables with the "
                                  "saved columns and types, or refit and save the pipeline")
        held = entityset
    try:
        pipeline = sio.load(directory / PIPELINE_FILE,
                            trusted=[*sio.get_untrusted_types(file=directory / PIPELINE_FILE)])
    except Exception as problem:
        raise DeploymentError(f"{where}: the fitted steps cannot be read ({problem}). Fix: "
                              "load it with the library versions in its manifest") from None
    dfs_step = None
    for name, step in pipeline.steps:
        if isinstance(step, DeepFeatureSynthesis):
            step.entityset = held
            step.features_ = features_from_dict(
                json.loads((directory / manifest["features"][name]).read_text("utf-8")))
            dfs_step = dfs_step or name
    for key, frame in manifest.get("frames", {}).items():
        name, attribute = key.split(".", 1)
        file = directory / frame["file"]
        value = pd.read_parquet(file) if frame["kind"] == "pandas" else pl.read_parquet(file)
        setattr(pipeline.named_steps[name], attribute, value)
    return {"pipeline": pipeline, "entityset": held, "dfs_step": dfs_step, "manifest": manifest,
            "directory": directory}


def _read_entityset(directory: Path, manifest: dict[str, Any]) -> EntitySet:
    """The saved tables as an entity set with the saved schemas (checked, not re-inferred)."""
    schema = manifest["schema"]
    entityset = EntitySet(schema["name"])
    for name, saved in schema["tables"].items():
        stored = manifest["tables"].get(name)
        if stored is None:
            raise DeploymentError(f"saved pipeline {str(directory)!r}: table {name!r} of the "
                                  "schema has no file. Fix: save the pipeline again")
        frame = pl.read_parquet(directory / stored["file"])
        expected = {column: spec["dtype"] for column, spec in saved["columns"].items()}
        if frame_schema(frame) != expected:
            raise DeploymentError(f"saved pipeline {str(directory)!r}: table {name!r} has columns "
                                  f"{frame_schema(frame)}, the manifest's schema says {expected}. "
                                  "Fix: save the pipeline again")
        schemas = {column: ColumnSchema(spec["logical_type"], frozenset(spec["tags"]))
                   for column, spec in saved["columns"].items()}
        entityset.tables[name] = Table(name, frame, saved["index"], saved["time_index"], schemas,
                                       stored["source_kind"])
        entityset.graph.add_node(name)
    for item in schema["relationships"]:
        relationship = Relationship(**item)
        entityset.relationships.append(relationship)
        entityset.graph.add_edge(relationship.parent, relationship.child,
                                 key=relationship.child_key, relationship=relationship)
    return entityset
