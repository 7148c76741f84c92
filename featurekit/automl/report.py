"""The evaluation report: metrics and tables, matplotlib figures drawn on request, and one
self-contained HTML page (figures embedded as base64 PNG, no file beside it)."""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from featurekit.automl._inputs import require

TOP_FEATURES = 20


class EvaluationReport:
    """A model's evaluation on a test set (built by :func:`featurekit.automl.evaluate`).

    Attributes: ``task``, ``n_rows``, ``metrics`` (dict), ``confusion_matrix`` and
    ``calibration`` (classification), ``residuals`` (summary) and ``predictions``
    (regression), ``importance`` (the model's own, or None) and ``permutation_importance``
    (on the test set, or None). ``figures`` draws the plots: {title: matplotlib Figure}.
    """

    def __init__(self, task: str, n_rows: int, metrics: dict[str, float],
                 confusion_matrix: pd.DataFrame | None = None, classes: list | None = None,
                 curves: dict | None = None, calibration: pd.DataFrame | None = None,
                 residuals: pd.Series | None = None, predictions: pd.DataFrame | None = None,
                 importance: pd.DataFrame | None = None,
                 permutation_importance: pd.DataFrame | None = None):
        self.task = task
        self.n_rows = n_rows
        self.metrics = metrics
        self.confusion_matrix = confusion_matrix
        self.classes = classes
        self.curves = curves or {}
        self.calibration = calibration
        self.residuals = residuals
        self.predictions = predictions
        self.importance = importance
        self.permutation_importance = permutation_importance
        self._figures: dict[str, Any] | None = None

    @property
    def figures(self) -> dict[str, Any]:
        """The plots as matplotlib Figures by title (drawn once, on first use)."""
        if self._figures is None:
            self._figures = _draw(self)
        return self._figures

    def save_figures(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write each figure as a PNG file into ``folder``; returns the paths."""
        from featurekit._atomic import atomic_path

        paths = []
        for title, figure in self.figures.items():
            target = Path(folder) / f"{_slug(title)}.png"
            with atomic_path(target) as temporary:
                figure.savefig(temporary, format="png", dpi=100)
            paths.append(target)
        return paths

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the whole report as one HTML file (images embedded); returns the path."""
        from featurekit._atomic import atomic_path

        page = self.html()
        target = Path(path)
        with atomic_path(target) as temporary:
            temporary.write_text(page, encoding="utf-8")
        return target

    def html(self) -> str:
        """The report as one self-contained HTML page."""
        style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
                 "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
                 "text-align:right}img{max-width:100%}")
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Model evaluation"
                f"</title><style>{style}</style></head><body>\n{self._body()}\n</body></html>\n")

    def _body(self) -> str:
        parts = [f"<h1>Model evaluation ({html.escape(self.task)}, {self.n_rows} test rows)</h1>",
                 "<h2>Metrics</h2>", _table(pd.Series(self.metrics, name="value").to_frame())]
        if self.confusion_matrix is not None:
            parts += ["<h2>Confusion matrix</h2>", _table(self.confusion_matrix)]
        if self.calibration is not None:
            parts += ["<h2>Calibration</h2>", _table(self.calibration, index=False)]
        if self.residuals is not None:
            parts += ["<h2>Residuals (actual - predicted)</h2>", _table(self.residuals.to_frame())]
        if self.importance is not None:
            kind = html.escape(self.importance.attrs.get("kind", ""))
            parts += [f"<h2>Feature importance (model, {kind})</h2>",
                      _table(self.importance.head(TOP_FEATURES), index=False)]
        if self.permutation_importance is not None:
            parts += ["<h2>Permutation importance (test set)</h2>",
                      _table(self.permutation_importance.head(TOP_FEATURES), index=False)]
        for title, figure in self.figures.items():
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=100)
            encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
            parts += [f"<h2>{html.escape(title)}</h2>",
                      f'<img alt="{html.escape(title)}" src="data:image/png;base64,{encoded}">']
        return "\n".join(parts)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value:.4g}" for name, value in self.metrics.items())
        return f"EvaluationReport({self.task}, {self.n_rows} rows: {shown})"

    def _repr_html_(self) -> str:
        """In a notebook, the report shows itself: tables and figures."""
        return self._body()


def _table(frame: pd.DataFrame, index: bool = True) -> str:
    return frame.to_html(index=index, float_format=lambda value: f"{value:.4g}", border=0)


def _slug(title: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in title.lower()).strip("_")


def _draw(report: EvaluationReport) -> dict[str, Any]:
    """Every plot that fits the report's task, each on its own Figure (not pyplot's global
    state, so nothing is left open)."""
    require("matplotlib", "evaluate's figures")
    from matplotlib.figure import Figure

    figures: dict[str, Any] = {}

    def axes(title: str, xlabel: str, ylabel: str, size: tuple = (5.5, 4.2)) -> Any:
        figure = Figure(figsize=size, layout="constrained")
        ax = figure.subplots()
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        figures[title] = figure
        return ax

    if "roc" in report.curves:
        ax = axes("ROC curve", "False positive rate", "True positive rate")
        ax.plot(*report.curves["roc"], label=f"model (AUC {report.metrics['roc_auc']:.3f})")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
        ax.legend(loc="lower right")
        ax = axes("Precision-recall curve", "Recall", "Precision")
        ax.plot(*report.curves["pr"], drawstyle="steps-post",
                label=f"model (AP {report.metrics['pr_auc']:.3f})")
        ax.axhline(report.metrics["positive_rate"], linestyle="--", color="grey",
                   label="positive rate")
        ax.legend(loc="upper right")
    if report.calibration is not None:
        ax = axes("Calibration curve", "Mean predicted probability", "Fraction positive")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
        ax.plot(report.calibration["mean_predicted"], report.calibration["fraction_positive"],
                marker="o", label=f"model (Brier {report.metrics['brier']:.3f})")
        ax.legend(loc="upper left")
    if report.confusion_matrix is not None:
        ax = axes("Confusion matrix", "Predicted", "Actual", size=(4.8, 4.2))
        matrix = report.confusion_matrix.to_numpy()
        ax.imshow(matrix, cmap="Blues")
        labels = [str(c) for c in report.confusion_matrix.columns]
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        for (row, column), count in np.ndenumerate(matrix):
            ax.text(column, row, str(count), ha="center", va="center",
                    color="white" if count > matrix.max() / 2 else "black")
    if report.predictions is not None:
        frame = report.predictions
        ax = axes("Residuals vs predicted", "Predicted", "Residual (actual - predicted)")
        ax.scatter(frame["predicted"], frame["residual"], s=8, alpha=0.5)
        ax.axhline(0, color="grey", linestyle="--")
        ax = axes("Residual distribution", "Residual (actual - predicted)", "Rows")
        ax.hist(frame["residual"], bins=30)
        ax = axes("Predicted vs actual", "Actual", "Predicted")
        ax.scatter(frame["actual"], frame["predicted"], s=8, alpha=0.5)
        low, high = frame[["actual", "predicted"]].min().min(), frame[["actual", "predicted"]].max().max()
        ax.plot([low, high], [low, high], color="grey", linestyle="--")
    for title, frame, column, error in (
            ("Feature importance (model)", report.importance, "importance", None),
            ("Permutation importance (test set)", report.permutation_importance,
             "importance_mean", "importance_std")):
        if frame is None or frame.empty:
            continue
        top = frame.head(TOP_FEATURES).iloc[::-1]
        ax = axes(title, "Importance" if error is None else "Score drop when shuffled", "",
                  size=(7, 0.3 * len(top) + 1.5))
        ax.barh([_short(name) for name in top["feature"]], top[column],
                xerr=None if error is None else top[error])
    return figures


def _short(name: str, limit: int = 45) -> str:
    return name if len(name) <= limit else name[: limit - 3] + "..."
