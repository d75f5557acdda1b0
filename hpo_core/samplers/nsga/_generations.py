"""The COMPLETE trials of each generation, read incrementally from the history.

A trial's generation is its system attribute ``"generation"``, a typed column of the
history. Per ask only the rows new since the last ask and the rows that were still
unfinished then are read, so the cost does not grow with the study.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hpo_core.history import History

__all__ = ["GENERATION_ATTR", "Generations"]

GENERATION_ATTR = "generation"
_RUNNING, _COMPLETE, _FAIL, _WAITING = 0, 1, 3, 4
_VECTOR_ROWS = 32  # from this many rows on, one NumPy pass beats the Python loop


class Generations:
    """``by_gen[g]``: rows (trial numbers) of the COMPLETE trials of generation ``g`` seen
    so far, in the order they were read; ``max_gen``: the highest generation of a COMPLETE
    trial (0 when none), as Optuna's ``BaseGASampler.get_trial_generation`` counts.

    ``cursor``: rows below it have been read; ``open``: rows below it that were not
    finished when read (read again next time).
    """

    def __init__(self) -> None:
        self.cursor = 0
        self.open: list[int] = []
        self.by_gen: dict[int, list[int]] = {}
        self.max_gen = 0
        self.rollbacks = -1

    def update(self, h: History) -> None:
        """Read the rows finished since the last call (O(new rows + unfinished rows))."""
        if h.rollbacks != self.rollbacks:  # a batch was undone: read everything again
            self.__init__()  # type: ignore[misc]
            self.rollbacks = h.rollbacks
        n = h.n
        if n == self.cursor and not self.open:
            return
        col = h.numeric_column(GENERATION_ATTR)
        if n - self.cursor + len(self.open) >= _VECTOR_ROWS:
            self._update_vector(h, col, n)
        else:
            self._update_scalar(h, col, n)
        self.cursor = n

    def _add(self, row: int, g: float) -> None:
        if g == g and g >= 0:  # NaN: a trial of no generation (added, another sampler)
            gi = int(g)
            self.by_gen.setdefault(gi, []).append(row)
            if gi > self.max_gen:
                self.max_gen = gi

    def _update_scalar(self, h: History, col: np.ndarray | None, n: int) -> None:
        rows = self.open + list(range(self.cursor, n))
        still: list[int] = []
        states = h.states
        for r in rows:
            s = int(states[r])
            if s == _COMPLETE:
                if col is not None:
                    self._add(r, float(col[r, 0]))
            elif s == _RUNNING or s == _WAITING or s < 0:
                still.append(r)
        self.open = still

    def _update_vector(self, h: History, col: np.ndarray | None, n: int) -> None:
        rows = np.concatenate([np.array(self.open, dtype=np.int64), np.arange(self.cursor, n)])
        s = h.states[rows]
        done = rows[s == _COMPLETE]
        if col is not None and len(done):
            for r, g in zip(done.tolist(), col[done, 0].tolist()):
                self._add(r, g)
        self.open = rows[(s == _RUNNING) | (s == _WAITING) | (s < 0)].tolist()

    def current(self, population_size: int) -> int:
        """The generation of a trial that starts now: the highest one, or the next once
        it holds ``population_size`` COMPLETE trials."""
        g = self.max_gen
        return g + 1 if len(self.by_gen.get(g, ())) >= population_size else g

    def population(self, g: int) -> np.ndarray:
        """(k,) rows of generation ``g``'s COMPLETE trials, in trial order."""
        return np.sort(np.array(self.by_gen.get(g, []), dtype=np.int64))

    def drop_below(self, g: int) -> None:
        for k in [k for k in self.by_gen if k < g]:
            del self.by_gen[k]
