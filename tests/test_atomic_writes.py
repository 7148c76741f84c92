"""Files featurekit writes appear whole or not at all, with the permissions ``open()`` would
give them (0666 filtered by the umask), never mkstemp's private 0600."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import polars as pl
import pytest

import featurekit as fk
from featurekit._atomic import atomic_path
from featurekit.cli import main


@contextlib.contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_new_files_get_the_umask_permissions(tmp_path, mask):
    with umask(mask):
        with atomic_path(tmp_path / "plain.txt") as temporary:
            temporary.write_text("x")
        with open(tmp_path / "reference.txt", "w") as stream:  # what open() does
            stream.write("x")
    assert mode(tmp_path / "plain.txt") == 0o666 & ~mask == mode(tmp_path / "reference.txt")


def test_demo_matrix_and_saved_features_get_the_umask_permissions(tmp_path, capsys):
    with umask(0o022):
        assert main(["demo", "--customers", "5", "--out", str(tmp_path / "m.parquet"),
                     "--save-tables", str(tmp_path / "tables")]) == 0
        features = fk.plan(fk.demo.load_retail(n_customers=5), target="customers", max_depth=1)
        fk.save_features(features, tmp_path / "features.json")
    written = [tmp_path / "m.parquet", tmp_path / "features.json",
               *sorted((tmp_path / "tables").iterdir())]
    assert len(written) == 7  # matrix, definitions, four tables and their description
    assert {path.name: oct(mode(path)) for path in written} == {
        path.name: oct(0o644) for path in written}
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporary left behind


def test_an_existing_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "kept.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    with umask(0o022), atomic_path(target) as temporary:
        temporary.write_text("new")
    assert target.read_text() == "new" and mode(target) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "matrix.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(target)
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_bytes(b"half a fi")
        raise RuntimeError("the writer died")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["matrix.parquet"]


def test_a_folder_is_not_replaced(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(IsADirectoryError), atomic_path(tmp_path / "out") as temporary:
        temporary.write_text("x")
    assert (tmp_path / "out").is_dir() and list((tmp_path / "out").iterdir()) == []


def test_missing_parent_folders_are_created(tmp_path):
    with atomic_path(tmp_path / "a" / "b" / "c.txt") as temporary:
        temporary.write_text("deep")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "deep"
