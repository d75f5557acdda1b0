"""An incremental index of the values trials recorded at each successive-halving rung.

Successive halving decides at a rung's end from every value recorded under the system
attribute ``completed_rung_{r}``. Scanning all trials' attribute dicts for it costs O(n)
per decision (~0.2 ms at 10,000 trials); :class:`RungIndex` keeps those values sorted
per rung instead and re-reads only the rows that can have changed since its last scan:

* rows new since then (a trial this process asked, or one a sync brought in), and
* rows that were not finished then (RUNNING, WAITING, or not known yet).

That is exact because a finished trial's attributes never change: every storage refuses
``set_trial_attr`` on a finished trial, and the writer applies a synced trial's attributes
before its finished state (so reading the state first, then the attributes, never misses
one). Attributes are never deleted. A rolled-back sync batch (``history.rollbacks``) or
another study's history starts the index afresh.

Private: callers pass a synced history and trust the result.
"""

from __future__ import annotations

import bisect
import threading
from typing import TYPE_CHECKING, Any

from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    import numpy as np

    from hpo_core.history import History

__all__ = ["RungIndex", "is_promotable_sorted"]

_PREFIX = "completed_rung_"
_OPEN_STATES = (-1, int(TrialState.RUNNING), int(TrialState.WAITING))


def is_promotable_sorted(
    value: float, others: list[float], n_nan: int, reduction_factor: int, maximize: bool
) -> bool:
    """Whether ``value`` (not NaN) is among the best ``max(1, N // reduction_factor)`` of the
    ``N = len(others) + n_nan + 1`` competing values, ties kept: the same answer as sorting
    them with ``np.sort`` (NaNs last) and comparing with the cut-off, in O(log N).

    ``others`` holds the other trials' non-NaN values, sorted ascending.

    With ``L``/``R`` the insertion points of ``value`` left/right of its ties in ``others``,
    the merged order has ``others[j]`` at ``j < L``, ``value`` at ``L``, ``others[j - 1]`` at
    ``L < j <= len(others)`` and NaN beyond. Minimizing, the cut-off is position ``k``:
    ``value <= ranked[k]`` iff ``L <= k <= len(others)`` (a NaN cut-off compares False).
    Maximizing, it is position ``N - 1 - k``: ``value >= ranked[j]`` iff ``j <= R``.
    """
    n = len(others) + n_nan + 1
    k = max(n // reduction_factor - 1, 0)
    if maximize:
        return n - 1 - k <= bisect.bisect_right(others, value)
    return bisect.bisect_left(others, value) <= k <= len(others)


class RungIndex:
    """The values recorded per rung key, for the rows a filter admits (all rows, or one
    Hyperband bracket's); see the module docstring. Thread-safe; not pickled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset(None)

    def _reset(self, history: History | None) -> None:
        self._history = history
        self._rollbacks = -1 if history is None else history.rollbacks
        self._version = -1
        self._scanned = 0  # rows below this were read at least once
        self._open: list[int] = []  # rows below _scanned unfinished when last read
        self._by_row: dict[str, dict[int, float]] = {}  # key -> row -> value
        self._sorted: dict[str, list[float]] = {}  # key -> non-NaN values, ascending
        self._n_nan: dict[str, int] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._reset(None)  # rebuilt on use

    def decide(
        self,
        history: History,
        key: str,
        own_row: int,
        value: float,
        *,
        reduction_factor: int,
        maximize: bool,
        brackets: np.ndarray | None = None,
        bracket: int = 0,
    ) -> tuple[int, bool]:
        """``(N, promotable)`` for ``value`` recorded by ``own_row`` at ``key``: the number of
        competing values (the other admitted rows' values under ``key``, plus ``value``) and
        whether ``value`` is among their best ``1 / reduction_factor``. Rows are admitted
        where ``brackets[row] == bracket`` (every row if ``brackets`` is None; the same
        filter at every call)."""
        with self._lock:
            self._refresh(history, brackets, bracket)
            by_row = self._by_row.get(key, {})
            others = self._sorted.get(key, [])
            n_nan = self._n_nan.get(key, 0)
            if own_row in by_row:  # recorded before (not by this pruner): compete without it
                own = by_row[own_row]
                if own != own:
                    n_nan -= 1
                else:
                    others = list(others)
                    del others[bisect.bisect_left(others, own)]
            return (len(others) + n_nan + 1,
                    is_promotable_sorted(value, others, n_nan, reduction_factor, maximize))

    def _refresh(self, history: History, brackets: np.ndarray | None, bracket: int) -> None:
        if history is not self._history or history.rollbacks != self._rollbacks:
            self._reset(history)
        if history.version == self._version:
            return
        self._version = history.version  # read first: a later change bumps it again
        n = history.n
        states, attrs = history.states, history.system_attrs
        still_open = []
        for row in [*self._open, *range(self._scanned, n)]:
            if brackets is not None and int(brackets[row]) != bracket:
                continue  # another bracket's row, for good
            state = int(states[row])  # before the attributes (see the module docstring)
            d = attrs[row]
            if d:
                for k, v in list(d.items()):
                    if k.startswith(_PREFIX):
                        self._put(k, row, float(v))
            if state in _OPEN_STATES:
                still_open.append(row)
        self._open, self._scanned = still_open, max(n, self._scanned)

    def _put(self, key: str, row: int, v: float) -> None:
        by_row = self._by_row.setdefault(key, {})
        values = self._sorted.setdefault(key, [])
        if row in by_row:
            old = by_row[row]
            if old == v or (old != old and v != v):
                return
            if old != old:
                self._n_nan[key] -= 1
            else:
                del values[bisect.bisect_left(values, old)]
        by_row[row] = v
        if v != v:
            self._n_nan[key] = self._n_nan.get(key, 0) + 1
        else:
            bisect.insort(values, v)
