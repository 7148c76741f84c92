"""The rows some instances' features read, found by following the feature trees: down each
aggregation's path, up each direct feature's relationship, the whole table for a transform
that looks at other rows. Gathered into a small entity set of the same schemas, on which the
batch engine computes exactly what it would on every row."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import polars as pl

from featurekit.engine.lazy_plan import is_table_wide
from featurekit.entityset import EntitySet
from featurekit.feature import AggregationFeature, DirectFeature, Feature, IdentityFeature
from featurekit.online.rows import Part, key_values

RowSet = tuple[np.ndarray, ...]  # row positions in each part of a table (ascending)


class Reach:
    """Collects, for one call, the rows of each table the features need."""

    def __init__(self, entityset: EntitySet, parts: dict[str, list[Part]]) -> None:
        self.es = entityset
        self.parts = parts
        self.routes: dict[tuple, RowSet] = {}
        self.marked: dict[str, list[list[np.ndarray]]] = {}
        self.visited: set[tuple[str, tuple]] = set()

    def rows_where(self, table: str, column: str, values: np.ndarray) -> RowSet:
        return tuple(part.lookup(column).rows_of(values) for part in self.parts[table])

    def values_at(self, table: str, rows: RowSet, column: str) -> np.ndarray:
        chunks = [key_values(part.frame[column].gather(positions))
                  for part, positions in zip(self.parts[table], rows, strict=True) if len(positions)]
        if not chunks:
            return np.empty(0, np.int64)
        return chunks[0] if len(chunks) == 1 else np.unique(np.concatenate(chunks))

    def all_rows(self, table: str) -> RowSet:
        return tuple(np.arange(part.frame.height) for part in self.parts[table])

    def visit(self, feature: Feature, route: tuple, rows: RowSet) -> None:
        """Mark the rows ``feature`` reads when computed for ``rows`` of its table."""
        self._mark(feature.table, rows)
        key = (feature.unique_name, route)
        if key in self.visited or isinstance(feature, IdentityFeature):
            return
        self.visited.add(key)
        if isinstance(feature, DirectFeature):
            relationship = feature.relationship
            step = (*route, ("up", relationship))
            if step not in self.routes:
                keys = self.values_at(feature.table, rows, relationship.child_key)
                self.routes[step] = self.rows_where(relationship.parent, relationship.parent_key, keys)
            self.visit(feature.base, step, self.routes[step])
        elif isinstance(feature, AggregationFeature):
            step, below = route, rows
            for relationship in feature.path:
                self._mark(relationship.parent, below)
                parent_rows = below
                step = (*step, ("down", relationship))
                if step not in self.routes:
                    keys = self.values_at(relationship.parent, parent_rows, relationship.parent_key)
                    self.routes[step] = self.rows_where(relationship.child, relationship.child_key, keys)
                below = self.routes[step]
            for source in feature.sources:
                self.visit(source, step, below)
        elif is_table_wide(feature):
            step = (*route, ("all", feature.table))
            everything = self.routes.setdefault(step, self.all_rows(feature.table))
            for source in feature.inputs:
                self.visit(source, step, everything)
        else:
            for source in feature.inputs:
                self.visit(source, route, rows)

    def _mark(self, table: str, rows: RowSet) -> None:
        marked = self.marked.setdefault(table, [[] for _ in self.parts[table]])
        for found, positions in zip(marked, rows, strict=True):
            if len(positions):
                found.append(positions)

    def entityset(self) -> EntitySet:
        """A view of the entity set holding only the marked rows (each once, in the order
        of the parts), the other tables empty; same schemas, keys and relationships."""
        view = copy.copy(self.es)
        view.tables = {}
        view.derived_facts = {}
        for name, table in self.es.tables.items():
            shallow = copy.copy(table)
            shallow.frame = self._frame(name)
            view.tables[name] = shallow
        return view

    def _frame(self, table: str) -> pl.DataFrame:
        parts = self.parts[table]
        marked = self.marked.get(table)
        if marked is None:
            return parts[0].frame.clear()
        chunks = []
        for part, found in zip(parts, marked, strict=True):
            if found:
                positions = found[0] if len(found) == 1 else np.unique(np.concatenate(found))
                chunks.append(part.frame[positions])
        if not chunks:
            return parts[0].frame.clear()
        return chunks[0] if len(chunks) == 1 else pl.concat(chunks, how="vertical")


def gather(entityset: EntitySet, parts: dict[str, list[Part]], features: Sequence[Feature],
           target_rows: RowSet) -> EntitySet:
    """The small entity set holding every row ``features`` read for ``target_rows``."""
    reach = Reach(entityset, parts)
    for feature in features:
        reach.visit(feature, (), target_rows)
    return reach.entityset()
