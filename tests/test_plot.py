"""Pictures of an entity set and of a feature's lineage: valid SVG and PNG files holding the
tables' and features' names, inline display in a notebook, atomic writes, clear errors."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.demo import load_retail

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def retail():
    return load_retail(5)


def svg_text(path) -> str:
    root = ElementTree.parse(path).getroot()  # raises on a file that is no XML
    assert root.tag.endswith("svg")
    return " ".join(text for element in root.iter() for text in [element.text or ""])


def test_entityset_picture_names_every_table_column_and_key(retail, tmp_path):
    drawing = retail.plot(to_file=tmp_path / "retail.svg")
    text = svg_text(tmp_path / "retail.svg")
    for name, table in retail.tables.items():
        assert f"{name} ({table.frame.height} rows)" in text
        for column in table.columns:
            assert f"{column}: {table.schemas[column].logical_type}" in text
    assert "customer_id -> customer_id" in text
    assert drawing._repr_svg_() == (tmp_path / "retail.svg").read_text()


def test_png_files_are_valid_images(retail, tmp_path):
    import matplotlib.image

    retail.plot(to_file=tmp_path / "retail.png")
    data = (tmp_path / "retail.png").read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    image = matplotlib.image.imread(tmp_path / "retail.png")
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0  # not a blank picture
    features = fk.plan(retail, target="customers", max_depth=2)
    drawing = fk.graph_feature(features[-1], to_file=tmp_path / "feature.png")
    assert (tmp_path / "feature.png").read_bytes().startswith(PNG_SIGNATURE)
    assert drawing._repr_png_().startswith(PNG_SIGNATURE)


def test_feature_picture_holds_its_whole_lineage(retail, tmp_path):
    features = {f.name: f for f in fk.plan(retail, target="customers", max_depth=2)}
    feature = features["MEAN(sessions.SUM(transactions.amount))"]
    fk.graph_feature(feature, to_file=tmp_path / "feature.svg")
    text = svg_text(tmp_path / "feature.svg")
    for name in ("amount", "SUM(transactions.amount)", "MEAN(sessions.SUM(transactions.amount))"):
        assert name in text
    assert "SUM by session_id" in text and "MEAN by customer_id" in text
    direct = features["MODE(transactions.sessions.device)"]
    assert "via session_id" in fk.graph_feature(direct).svg


def test_bad_targets_write_nothing(retail, tmp_path):
    with pytest.raises(fk.FeaturekitError, match="must end in .svg or .png"):
        retail.plot(to_file=tmp_path / "retail.jpg")
    with pytest.raises(fk.FeaturekitError, match="to_file must be a path"):
        retail.plot(to_file=3)
    with pytest.raises(fk.FeaturekitError, match="graph_feature takes a feature"):
        fk.graph_feature("SUM(x)")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file(retail, tmp_path, monkeypatch):
    target = tmp_path / "retail.svg"
    target.write_text("old")
    drawing = retail.plot()
    real_write = Path.write_bytes

    def half_then_fail(path, data):
        real_write(path, data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OSError, match="disk"):
        drawing.save(target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["retail.svg"]


def test_missing_matplotlib_names_the_extra(retail, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(fk.FeaturekitError, match=r"pip install featurekit\[plot\]"):
        retail.plot()
