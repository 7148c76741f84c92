"""The manifest of a saved pipeline: versions, input schema, custom primitives and the
SHA-256 of every file, and the checks ``load`` makes against it before trusting anything."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
from pathlib import Path
from typing import Any

import polars as pl

from featurekit._version import __version__
from featurekit.entityset import EntitySet
from featurekit.errors import FeaturekitError

FORMAT = "featurekit-pipeline"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SEAL = "manifest.sha256"  # the manifest's own SHA-256 (every other file's is in the manifest)
DEPENDENCIES = ("numpy", "pandas", "polars", "pyarrow", "scikit-learn", "scipy", "numba", "skops")


class DeploymentError(FeaturekitError):
    """A saved pipeline cannot be written, or a directory cannot be loaded as one."""


def check_path(name: str, value: Any) -> Path:
    """A path argument (str or os.PathLike) as a Path, else a DeploymentError."""
    import os

    if isinstance(value, bytes) or not isinstance(value, str | os.PathLike) or not str(value):
        raise DeploymentError(f"{name} must be a directory path, got {value!r}. Fix: pass e.g. "
                              f"{name}='churn_model'")
    return Path(value)


def check_entityset(value: Any) -> None:
    if value is not None and not isinstance(value, EntitySet):
        raise DeploymentError(f"entityset must be an EntitySet or None, got "
                              f"{type(value).__name__}. Fix: pass the entity set to serve")


def sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """featurekit's, Python's and the dependencies' versions in this process."""
    found = {"featurekit": __version__, "python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def compatibility_key(version: str) -> tuple[int, ...]:
    """The part of a version that must match: the major number, or ``0.minor`` before 1.0
    (where every minor release may change formats)."""
    try:
        numbers = [int(part) for part in version.split(".")[:2]]
    except ValueError:
        raise DeploymentError(f"the manifest's featurekit version {version!r} is not a version "
                              "number. Fix: save the pipeline again with fk.deploy.save") from None
    return tuple(numbers[:2]) if numbers[0] == 0 else (numbers[0],)


def table_schema(entityset: EntitySet) -> dict[str, Any]:
    """Tables (index, time index, columns with logical type, tags and storage type) and
    relationships: what a request must fit and what a replacement entity set must match."""
    tables = {}
    for name, table in entityset.tables.items():
        tables[name] = {
            "index": table.index, "time_index": table.time_index,
            "columns": {column: {"logical_type": table.schemas[column].logical_type,
                                 "tags": sorted(table.schemas[column].tags),
                                 "dtype": str(table.frame.schema[column])}
                        for column in table.frame.columns},
        }
    return {"name": entityset.name, "tables": tables,
            "relationships": [r.to_dict() for r in entityset.relationships]}


def schema_differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """What ``actual`` (a table_schema) changes of ``expected``, one line each."""
    problems = []
    for name, table in expected["tables"].items():
        other = actual["tables"].get(name)
        if other is None:
            problems.append(f"table {name!r} is missing")
            continue
        for key in ("index", "time_index"):
            if table[key] != other[key]:
                problems.append(f"table {name!r}: {key} is {other[key]!r}, saved {table[key]!r}")
        for column, saved in table["columns"].items():
            now = other["columns"].get(column)
            if now is None:
                problems.append(f"table {name!r}, column {column!r} is missing")
            elif now != saved:
                problems.append(f"table {name!r}, column {column!r} is {_type_text(now)}, saved "
                                f"{_type_text(saved)}")
        extra = sorted(set(other["columns"]) - set(table["columns"]))
        if extra:
            problems.append(f"table {name!r} has columns the pipeline was not saved with: {extra}")
    extra_tables = sorted(set(actual["tables"]) - set(expected["tables"]))
    if extra_tables:
        problems.append(f"tables the pipeline was not saved with: {extra_tables}")
    wanted = {tuple(sorted(r.items())) for r in expected["relationships"]}
    present = {tuple(sorted(r.items())) for r in actual["relationships"]}
    for missing in sorted(wanted - present):
        problems.append(f"relationship {dict(missing)} is missing")
    for added in sorted(present - wanted):
        problems.append(f"relationship {dict(added)} was not saved")
    return problems


def _type_text(column: dict[str, Any]) -> str:
    return f"{column['logical_type']} ({column['dtype']}, tags {column['tags']})"


def frame_schema(frame: pl.DataFrame) -> dict[str, str]:
    return {column: str(dtype) for column, dtype in frame.schema.items()}


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """The manifest and its seal (the seal is how ``load`` sees that it was edited)."""
    text = json.dumps(manifest, indent=1, sort_keys=True)
    (directory / MANIFEST).write_text(text, encoding="utf-8")
    (directory / SEAL).write_text(hashlib.sha256(text.encode()).hexdigest() + "\n",
                                  encoding="utf-8")


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest, once its seal, format and featurekit version are checked."""
    where = f"saved pipeline {str(directory)!r}"
    if not directory.is_dir():
        raise DeploymentError(f"{where} is not a directory. Fix: pass the directory "
                              "fk.deploy.save wrote")
    for name in (MANIFEST, SEAL):
        if not (directory / name).is_file():
            raise DeploymentError(f"{where} has no {name}, so it is not a saved pipeline (or "
                                  "is incomplete). Fix: pass the directory fk.deploy.save wrote")
    raw = (directory / MANIFEST).read_bytes()
    sealed = (directory / SEAL).read_text(encoding="utf-8").strip()
    if hashlib.sha256(raw).hexdigest() != sealed:
        raise DeploymentError(f"{where}: {MANIFEST} does not match its SHA-256 in {SEAL}: it was "
                              "edited or damaged after saving. Fix: save the pipeline again with "
                              "fk.deploy.save (never edit a saved pipeline by hand)")
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DeploymentError(f"{where}: {MANIFEST} is not JSON. Fix: save the pipeline "
                              "again") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DeploymentError(f"{where}: {MANIFEST} is not a featurekit pipeline manifest. "
                              "Fix: pass the directory fk.deploy.save wrote")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DeploymentError(f"{where} has format version {manifest.get('format_version')!r}; "
                              f"this featurekit reads version {FORMAT_VERSION}. Fix: load it with "
                              "the featurekit that saved it, or save it again")
    saved = manifest.get("versions", {}).get("featurekit", "?")
    if compatibility_key(saved) != compatibility_key(__version__):
        raise DeploymentError(f"{where} was saved by featurekit {saved}, this is featurekit "
                              f"{__version__}: another major version may compute features "
                              f"differently. Fix: install featurekit {saved} to serve it, or refit "
                              "and save the pipeline with this version")
    return manifest


def check_files(directory: Path, manifest: dict[str, Any]) -> None:
    """Every file listed is present with the recorded SHA-256, and nothing is unlisted."""
    where = f"saved pipeline {str(directory)!r}"
    recorded = manifest.get("files", {})
    for relative, digest in recorded.items():
        path = directory / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts or not path.is_file():
            raise DeploymentError(f"{where}: file {relative!r} listed in the manifest is missing. "
                                  "Fix: copy the whole directory, or save the pipeline again")
        if sha256(path) != digest:
            raise DeploymentError(f"{where}: file {relative!r} does not match its SHA-256 in the "
                                  "manifest: it was changed after saving (tampered or damaged). "
                                  "Fix: save the pipeline again with fk.deploy.save")
    present = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    unlisted = sorted(present - set(recorded) - {MANIFEST, SEAL})
    if unlisted:
        raise DeploymentError(f"{where} holds files the manifest does not list: {unlisted[:5]}. "
                              "Fix: remove them, or save the pipeline again")
