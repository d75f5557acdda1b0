"""The finished trials of a CMA-ES run, grouped by generation and read incrementally from
the history, and the run of the study or of one Hyperband bracket (``Group``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hpo_core.samplers.cmaes import _run

if TYPE_CHECKING:
    from hpo_core.history import History

__all__ = ["GENERATION_ATTR", "RAW_ATTR", "STATE_ATTR", "Group", "Populations"]

#: Study system attribute holding the run (see ``_run.encode``).
STATE_ATTR = "cmaes:state"
#: Trial system attributes: the population a trial belongs to (a typed history column)
#: and, for the margin optimizers, the raw Gaussian sample to tell back.
GENERATION_ATTR = "generation"
RAW_ATTR = "cmaes:x"
_RUNNING, _COMPLETE, _PRUNED, _FAIL = 0, 1, 2, 3


class Populations:
    """Finished trials grouped by generation, read incrementally from the history.

    ``cursor``: rows below it have been read; ``open``: rows below it that were not
    finished then (re-read at every ask). ``by_gen[g]``: usable finished rows of
    generation ``g`` (at least the run's current generation).
    """

    def __init__(self) -> None:
        self.cursor = 0
        self.open: list[int] = []
        self.by_gen: dict[int, list[int]] = {}
        self.rollbacks = -1
        self.max_gen = -1

    def update(self, h: History, min_gen: int, consider_pruned: bool, mask: np.ndarray | None = None) -> None:
        """Read the rows finished since the last call (O(new rows + running rows)).

        ``mask``: (n,) bool, the rows of this population's group (a Hyperband bracket);
        None: every row.
        """
        if h.rollbacks != self.rollbacks:  # a batch was undone: read everything again
            self.__init__()  # type: ignore[misc]
            self.rollbacks = h.rollbacks
        n = h.n if mask is None else min(h.n, len(mask))
        if n == self.cursor and not self.open:
            return
        new = range(self.cursor, n)
        if mask is not None:
            new = np.flatnonzero(mask[self.cursor:n]) + self.cursor  # type: ignore[assignment]
        rows = self.open + list(new) if n > self.cursor else self.open
        st = h.states
        # Usually two rows (the previous ask's, finished since, and a new one): NumPy's
        # fancy indexing costs more than reading them one by one.
        states = st[rows].tolist() if len(rows) > 16 else [int(st[r]) for r in rows]
        col = h.numeric_column(GENERATION_ATTR)
        still: list[int] = []
        for r, s in zip(rows, states):
            if s == _RUNNING or s < 0 or s > _FAIL:  # running, unknown or waiting
                still.append(r)
                continue
            if col is None or s == _FAIL or (s == _PRUNED and not consider_pruned):
                continue
            g = col[r, 0]
            if g != g or g < min_gen:  # NaN: sampled independently
                continue
            if s == _PRUNED and h.steps.last(r)[0] < 0:
                continue  # pruned before any report: no value to tell
            gi = int(g)
            self.by_gen.setdefault(gi, []).append(r)
            if gi > self.max_gen:
                self.max_gen = gi
        self.open = still
        self.cursor = n

    def drop_below(self, gen: int) -> None:
        for g in [g for g in self.by_gen if g < gen]:
            del self.by_gen[g]


class Group:
    """One CMA-ES run and its populations: the study's, or under HyperbandPruner one
    bracket's (``key``: the bracket's first trial), stored under its own attribute."""

    def __init__(self, key: int | None):
        self.attr = STATE_ATTR if key is None else f"{STATE_ATTR}:bracket-{key}"
        self.run: _run.Run | None = None
        self.pops = Populations()
        self.seen_gen = -1  # the highest generation for which the stored run was read
