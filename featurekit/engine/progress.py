"""A progress bar for long computations: tqdm on standard error, drawn only once the work has
taken a second, only on a terminal unless asked for, never with ``verbose=False``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from tqdm.auto import tqdm

from featurekit.errors import ComputeError
from featurekit.feature import AggregationFeature, DirectFeature, Feature

SHOW_AFTER_SECONDS = 1.0

Step = Callable[[str], None]


def _no_step(label: str) -> None:
    """What a step reports when nobody watches."""


@contextmanager
def progress_bar(verbose: bool | None, total: int, description: str) -> Iterator[Step]:
    """A function to call once per step done (with what the step was). ``verbose``: None
    draws the bar on a terminal only, True always, False never."""
    if verbose is not None and not isinstance(verbose, bool):
        raise ComputeError(f"verbose must be True, False or None, got {verbose!r}. "
                           "Fix: pass verbose=False to silence the progress bar")
    if verbose is False:
        yield _no_step
        return
    bar = tqdm(total=total, desc=description, unit="step", delay=SHOW_AFTER_SECONDS,
               disable=None if verbose is None else False, leave=False, dynamic_ncols=True)

    def step(label: str) -> None:
        if bar.n >= (bar.total or 0):  # planned steps are an estimate: never run past 100%
            bar.total = bar.n + 1
        bar.set_postfix_str(label, refresh=False)
        bar.update()

    try:
        yield step
    finally:
        bar.close()


def planned_steps(features: Sequence[Feature]) -> int:
    """About how many steps computing ``features`` takes: one per relationship path that
    is aggregated and per parent that is joined, for each table on the way."""
    steps = set()
    for feature in features:
        for node in [*feature.dependencies(), feature]:
            if isinstance(node, AggregationFeature):
                steps.add(("aggregate", node.table, node.path))
            elif isinstance(node, DirectFeature):
                steps.add(("join", node.table, node.relationship))
    return max(len(steps), 1)
