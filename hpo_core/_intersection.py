"""The intersection search space of a history, maintained incrementally.

The parameters present, with one distribution, in every COMPLETE trial: what
model-based samplers sample jointly. Only trials completed since the last query are
examined, and the same :class:`SearchSpace` object is returned while the intersection
is unchanged (so callers may cache per space object).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from hpo_core.distributions import SearchSpace

if TYPE_CHECKING:
    from hpo_core.history import History

__all__ = ["Intersection"]

_NOT_IN_SPACE = -1
_UNDECIDED = -2


class Intersection:
    """Per-column state of the intersection (``codes[j]``: the distribution code every
    COMPLETE trial used for column j, or not in the space, or undecided before the
    first COMPLETE trial), and the rows completed since the last query."""

    def __init__(self, param_capacity: int):
        self.new_complete: list[int] = []  # rows completed since the last query
        self.codes = np.full(param_capacity, _UNDECIDED, dtype=np.int16)
        self.any_complete = False
        self.space: SearchSpace | None = None  # cached while unchanged
        self.cols = np.empty(0, dtype=np.intp)  # its columns
        self.space_codes = np.empty(0, dtype=np.int16)  # and their codes (self.codes[self.cols])
        self.lock = threading.Lock()  # sampler threads query concurrently

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        del state["lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        if "space_codes" not in state:  # pickled by an earlier version
            self.space_codes = self.codes[self.cols]
        self.lock = threading.Lock()

    def grow(self, n_cols: int) -> None:
        """Room for ``n_cols`` columns; a column named after a COMPLETE trial is out."""
        codes = np.full(n_cols, _NOT_IN_SPACE if self.any_complete else _UNDECIDED, dtype=np.int16)
        codes[: len(self.codes)] = self.codes
        self.codes = codes

    def query(self, h: History) -> SearchSpace:
        """The intersection search space of ``h`` (call holding :attr:`lock`)."""
        if self.new_complete:
            # Swap first: a row appended by a writer meanwhile lands in the new list.
            taken, self.new_complete = self.new_complete, []
            if self.any_complete and self.space is not None:
                # After the first COMPLETE trial only columns of the space can change
                # (the others are out for good): every new row has them all, unchanged.
                # (Usually one new row: the trial told since the last ask.)
                new_codes = h.codes[taken[0] if len(taken) == 1 else np.asarray(taken, dtype=np.intp)[:, None],
                                    self.cols]
                if (new_codes == self.space_codes).all():
                    return self.space
            rows = np.asarray(taken, dtype=np.intp)
            p = len(h.param_names)
            C = h.codes[rows, :p]
            first = C[0]
            same = (C == first).all(axis=0) & (first >= 0) if len(rows) > 1 else first >= 0
            cur = self.codes[:p]
            keep = same & ((cur == _UNDECIDED) | (cur == first))
            new = np.where(keep, first, _NOT_IN_SPACE)
            if not np.array_equal(new, cur):
                self.codes[:p] = new
                self.space = None
            # Columns past p (not yet named) join after a COMPLETE trial: never in it.
            self.codes[p:] = _NOT_IN_SPACE
            self.any_complete = True
        space = self.space
        if space is None:
            # New columns enter the intersection only through a COMPLETE trial (they
            # start undecided or out), so the cached space stays valid until then.
            cols = np.flatnonzero(self.codes[: len(h.param_names)] >= 0)
            space = self.space = SearchSpace(
                {h.param_names[j]: h.param_dists[j][self.codes[j]] for j in cols.tolist()}
            )
            self.cols = cols
            self.space_codes = self.codes[cols]
        return space
