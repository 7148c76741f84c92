"""Pictures: an entity set (its tables, their columns and types, and the relationships) and a
feature's lineage (the features and columns it is computed from), drawn with networkx and
matplotlib (the optional extra ``featurekit[plot]``). A drawing shows inline in a notebook
and saves as SVG or PNG, written atomically."""

from __future__ import annotations

import io
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from featurekit._atomic import atomic_path
from featurekit.errors import FeaturekitError

if TYPE_CHECKING:
    from featurekit.entityset import EntitySet
    from featurekit.feature import Feature

FORMATS = ("svg", "png")
MAX_COLUMNS_SHOWN = 25  # a table's box lists this many columns, then "... N more"


class Drawing:
    """A finished picture: ``_repr_svg_`` / ``_repr_png_`` show it in a notebook,
    ``save(path)`` writes it, ``svg`` and ``png`` give its bytes."""

    def __init__(self, figure: Any) -> None:
        self._figure = figure
        self._rendered: dict[str, bytes] = {}

    def _render(self, kind: str) -> bytes:
        if kind not in self._rendered:
            import matplotlib

            buffer = io.BytesIO()
            with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text
                self._figure.savefig(buffer, format=kind, bbox_inches="tight", dpi=110)
            self._rendered[kind] = buffer.getvalue()
        return self._rendered[kind]

    @property
    def svg(self) -> str:
        return self._render("svg").decode("utf-8")

    @property
    def png(self) -> bytes:
        return self._render("png")

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_png_(self) -> bytes:
        return self.png

    def save(self, path: str | Path) -> Path:
        """Write the picture to ``path`` (``.svg`` or ``.png``), whole or not at all."""
        path = Path(path)
        kind = path.suffix.lower().lstrip(".")
        if kind not in FORMATS:
            raise FeaturekitError(f"cannot draw to {path.name!r}: the file name must end in .svg "
                                  "or .png. Fix: pass to_file='picture.svg' or 'picture.png'")
        data = self._render(kind)
        with atomic_path(path) as temporary:
            temporary.write_bytes(data)
        return path


def plot_entityset(entityset: EntitySet, to_file: str | Path | None = None) -> Drawing:
    """Draw ``entityset``: one box per table (name, rows, each column with its type, index
    and time index marked), one arrow per relationship from child key to parent. Parents sit
    above their children. See ``EntitySet.plot``."""
    graph = nx.MultiDiGraph()
    for name, table in entityset.tables.items():
        graph.add_node(name, label=_table_label(table))
    for relationship in entityset.relationships:
        graph.add_edge(relationship.child, relationship.parent,
                       label=f"{relationship.child_key} -> {relationship.parent_key}")
    _check_target(to_file)
    _matplotlib()
    levels = _table_levels(entityset.graph)
    title = f"EntitySet {entityset.name!r}"
    return _finish(_draw(graph, levels, title, vertical=True), to_file)


def graph_feature(feature: Feature, to_file: str | Path | None = None) -> Drawing:
    """Draw how ``feature`` is computed: the columns it starts from on the left, each
    primitive and each step through a relationship, the feature on the right.

    Examples
    --------
    >>> import featurekit as fk
    >>> es = fk.demo.load_retail(n_customers=3)
    >>> feature = fk.plan(es, target="customers", agg_primitives=["mean"], trans_primitives=[])[-1]
    >>> drawing = fk.graph_feature(feature)
    >>> "MEAN(transactions.amount)" in drawing.svg
    True
    """
    from featurekit.feature import Feature

    if not isinstance(feature, Feature):
        raise FeaturekitError(f"graph_feature takes a feature, got {type(feature).__name__}. "
                              "Fix: pass one of the features fk.dfs or fk.plan returned")
    _check_target(to_file)
    _matplotlib()
    graph = nx.MultiDiGraph()
    levels: dict[Hashable, int] = {}

    def add(node: Feature) -> str:
        key = node.unique_name
        if key in levels:
            return key
        levels[key] = 0
        graph.add_node(key, label=f"{node.name}\n[{node.table}]")
        for child in node.inputs:
            child_key = add(child)
            graph.add_edge(child_key, key, label=_step(node))
            levels[key] = max(levels[key], levels[child_key] + 1)
        return key

    add(feature)
    return _finish(_draw(graph, levels, f"Feature {feature.name}", vertical=False), to_file)


def _table_levels(graph: nx.MultiDiGraph) -> dict[str, int]:
    """Rows of the picture: each child below its lowest parent, each parent just above its
    highest child (so that an arrow rarely crosses a row)."""
    levels: dict[str, int] = {}
    order = list(nx.topological_sort(graph))
    for name in order:
        levels[name] = max((levels[p] + 1 for p in graph.predecessors(name)), default=0)
    for name in reversed(order):
        children = list(graph.successors(name))
        if children:
            levels[name] = min(levels[c] for c in children) - 1
    return levels


def _step(feature: Feature) -> str:
    """The words on the arrow into ``feature``: what it does with its inputs."""
    from featurekit.feature import AggregationFeature, DirectFeature, FeatureOutput

    if isinstance(feature, DirectFeature):
        return f"via {feature.relationship.child_key}"
    if isinstance(feature, AggregationFeature):
        return f"{feature.primitive.display_name} by {feature.path[0].parent_key}"
    if isinstance(feature, FeatureOutput):
        return f"output {feature.position}"
    return feature.primitive.display_name if feature.primitive is not None else ""


def _table_label(table: Any) -> str:
    lines = [f"{table.name} ({table.frame.height} rows)"]
    for column in table.columns[:MAX_COLUMNS_SHOWN]:
        schema = table.schemas[column]
        role = " (index)" if column == table.index else (
            " (time index)" if column == table.time_index else "")
        lines.append(f"{column}: {schema.logical_type}{role}")
    if len(table.columns) > MAX_COLUMNS_SHOWN:
        lines.append(f"... {len(table.columns) - MAX_COLUMNS_SHOWN} more columns")
    return "\n".join(lines)


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise FeaturekitError("drawing needs matplotlib, which is not installed. Fix: "
                              "pip install featurekit[plot]") from None
    return matplotlib, Figure


def _draw(graph: nx.MultiDiGraph, levels: dict, title: str, vertical: bool) -> Any:
    """A matplotlib figure of ``graph``: nodes as labelled boxes laid out in ``levels`` (rows
    top to bottom when ``vertical``, else columns left to right), edges as labelled arrows."""
    _, figure_class = _matplotlib()
    layers: dict[int, list] = {}
    for node in graph.nodes:
        layers.setdefault(levels.get(node, 0), []).append(node)
    ordered = sorted(layers)
    widest = max((len(nodes) for nodes in layers.values()), default=1)
    tallest = max((graph.nodes[n]["label"].count("\n") + 1 for n in graph.nodes), default=1)
    positions = {}
    for step, level in enumerate(ordered):
        nodes = layers[level]
        for place, node in enumerate(nodes):
            across = (place - (len(nodes) - 1) / 2) * 1.25
            positions[node] = (across, -step) if vertical else (step, -across)
    if vertical:
        size = (max(4.0, 3.6 * widest), max(3.0, len(ordered) * (0.9 + 0.17 * tallest)))
    else:
        size = (max(4.0, 4.4 * len(ordered)), max(2.5, 1.3 * widest))
    figure = figure_class(figsize=size)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(title, fontsize=10)
    for source, target, data in graph.edges(data=True):
        (x0, y0), (x1, y1) = positions[source], positions[target]
        axes.annotate("", xy=(x1, y1), xytext=(x0, y0),
                      arrowprops={"arrowstyle": "->", "color": "0.4", "shrinkA": 28, "shrinkB": 28})
        if data.get("label"):
            axes.text((x0 + x1) / 2, (y0 + y1) / 2, data["label"], fontsize=7, color="0.25",
                      ha="center", va="center", bbox={"fc": "white", "ec": "none", "alpha": 0.8})
    for node, (x, y) in positions.items():
        axes.text(x, y, graph.nodes[node]["label"], fontsize=8, ha="center", va="center",
                  family="monospace", bbox={"boxstyle": "round", "fc": "#eef3fb", "ec": "#4a6fa5"})
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    axes.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    axes.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    return figure


def _check_target(to_file: Any) -> None:
    """``to_file`` is None or a path ending in .svg or .png (checked before drawing)."""
    if to_file is None:
        return
    if not isinstance(to_file, str | Path):
        raise FeaturekitError(f"to_file must be a path, got {type(to_file).__name__}. "
                              "Fix: pass to_file='picture.svg' or 'picture.png'")
    if Path(to_file).suffix.lower().lstrip(".") not in FORMATS:
        raise FeaturekitError(f"cannot draw to {Path(to_file).name!r}: the file name must end in "
                              ".svg or .png. Fix: pass to_file='picture.svg' or 'picture.png'")


def _finish(figure: Any, to_file: str | Path | None) -> Drawing:
    drawing = Drawing(figure)
    if to_file is not None:
        drawing.save(to_file)
    return drawing


__all__ = ["Drawing", "graph_feature", "plot_entityset"]
