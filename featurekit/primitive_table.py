"""``fk.list_primitives()``: the primitive catalogue as a pandas DataFrame, in the shape of
Featuretools' ``ft.list_primitives()`` (one row per primitive: name, type, description, the
inputs it takes and the type it returns)."""

from __future__ import annotations

import pandas as pd

from featurekit.arguments import check_flag

COLUMNS = ("name", "type", "description", "valid_inputs", "return_type")


def list_primitives(include_custom: bool = True) -> pd.DataFrame:
    """Every registered primitive, one row each, sorted by type then name.

    ``type`` is ``"aggregation"`` or ``"transform"``; ``valid_inputs`` lists the input types
    each signature takes; custom primitives registered in this process are included unless
    ``include_custom=False``. (``featurekit.primitives.list_primitives`` gives the same rows
    as dicts.)

    Examples
    --------
    >>> import featurekit as fk
    >>> table = fk.list_primitives()
    >>> table.loc[table.name == "mean", ["name", "type"]].values.tolist()
    [['mean', 'aggregation']]
    """
    check_flag("include_custom", include_custom)
    from featurekit.primitives import list_primitives as rows

    table = pd.DataFrame([{"name": row["name"], "type": row["kind"],
                           "description": row["description"], "valid_inputs": row["inputs"],
                           "return_type": row["returns"]} for row in rows(include_custom)],
                         columns=list(COLUMNS))
    return table.sort_values(["type", "name"], ignore_index=True)


__all__ = ["list_primitives"]
