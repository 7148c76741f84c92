"""Every notebook under notebooks/ runs top to bottom without a cell error, is saved without
outputs, and the quick start shows what it claims to show."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
QUICKSTART = NOTEBOOK_DIR / "01_quickstart.ipynb"
_executed: dict[Path, nbformat.NotebookNode] = {}


def execute(path: Path) -> nbformat.NotebookNode:
    """Run a notebook in a fresh python3 kernel (once per test session); a cell error raises
    nbclient's CellExecutionError naming the cell."""
    if path not in _executed:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
        _executed[path] = notebook
    return _executed[path]


def printed_text(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.output_type == "stream")


def images_of(notebook: nbformat.NotebookNode) -> list:
    """The PNG images the notebook's code cells drew."""
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.outputs if "image/png" in output.get("data", {})]


def test_the_quickstart_notebook_exists():
    assert QUICKSTART in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_is_saved_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert dirty == [], f"{path.name}: clear the outputs of cells {dirty} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_without_cell_errors(path):
    notebook = execute(path)
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert errors == []
    assert all(cell.execution_count is not None
               for cell in notebook.cells if cell.cell_type == "code")


def test_quickstart_matrix_has_one_row_per_customer():
    text = printed_text(execute(QUICKSTART))
    shape = re.search(r"matrix shape: \((\d+), (\d+)\)", text)
    assert shape is not None, text
    rows, columns = map(int, shape.groups())
    assert rows == 5  # the notebook's five hand-made customers
    assert re.search(rf"features: {columns}\b", text), "one column per feature"


def test_quickstart_custom_primitive_makes_a_stacked_column():
    text = printed_text(execute(QUICKSTART))
    assert "'VALUE_RANGE(transactions.amount)'" in text
    assert "'MEAN(sessions.VALUE_RANGE(transactions.amount))'" in text


def test_quickstart_draws_its_plot():
    notebook = execute(QUICKSTART)
    images = images_of(notebook)
    assert len(images) == 1
    assert "plotted features: 3" in printed_text(notebook)


CLASSIFICATION = NOTEBOOK_DIR / "02_time_series_classification.ipynb"


def test_classification_notebook_selects_a_few_features_and_beats_chance():
    notebook = execute(CLASSIFICATION)
    text = printed_text(notebook)
    counts = re.search(r"relevant features: (\d+) of (\d+)", text)
    assert counts is not None, text
    relevant, total = map(int, counts.groups())
    assert total == 777 and 0 < relevant < total
    pruned = int(re.search(r"after correlation pruning: (\d+)", text).group(1))
    assert 0 < pruned <= relevant
    chance = 0.25  # four balanced classes
    for label in ("held-out accuracy", "cross-validated accuracy"):
        assert float(re.search(rf"{label}: ([0-9.]+)", text).group(1)) > 2 * chance
    images = images_of(notebook)
    assert len(images) == 2 and "plotted features: 4" in text


WORKFLOW = NOTEBOOK_DIR / "03_workflow.ipynb"


def test_workflow_notebook_finds_every_planted_fault_and_compares_with_the_rule():
    notebook = execute(WORKFLOW)
    text = printed_text(notebook)
    found = re.search(r"planted faults found by check: (\d+) of (\d+)", text)
    assert found is not None, text
    assert found.group(1) == found.group(2) and int(found.group(2)) >= 10
    relevant, total = map(int, re.search(r"relevant features: (\d+) of (\d+)", text).groups())
    assert 0 < relevant <= total
    assert float(re.search(r"test ROC AUC: ([0-9.]+)", text).group(1)) > 0.5
    assert re.search(r"verdict: (the model is (better|worse) by|no evidence of a difference)",
                     text)
    images = images_of(notebook)
    assert len(images) == 1
