"""An incremental index of the values trials recorded at each successive-halving rung.

Successive halving decides at a rung's end from every value recorded under the system
attribute ``completed_rung_{r}``. Scanning all trials' attribute dicts for it costs O(n)
per decision (~0.2 ms at 10,000 trials); :class:`RungIndex` keeps those values sorted
per rung instead and re-reads only the rows that can have changed since its last scan:

* rows new since then (a trial this process asked, or one a sync brought in), and
* rows that were not finished then (RUNNING, WAITING, or not known yet).

A re-read row whose attribute dict equals the copy kept at its last read (one C-level
dict comparison; equal values are the very objects, so NaN compares equal too) is
skipped; only a changed one is read again. A decision may also put the deciding row's own
value in the index at once (``record=True``), with its copy, just before the pruner writes
it through the storage: the next refresh then finds that row unchanged. If the write
fails, :meth:`RungIndex.forget` takes the value out and the row is read again.

No refresh at all when no system attribute was written since the last one
(``history.system_attr_writes``, counted by the history's one writer) but the index's own
last recorded value, now in the history (so counted once and the only write): a
training loop's decisions between rung ends, and a rung end after other trials only
reported, asked or finished, cost no row reads.

That is exact because a finished trial's attributes never change: every storage refuses
``set_trial_attr`` on a finished trial, and the writer applies a synced trial's attributes
before its finished state (so reading the state first, then the attributes, never misses
one). Attributes are never deleted. A rolled-back sync batch (``history.rollbacks``) or
another study's history starts the index afresh.

:class:`RungVectors` reads the same way for the multi-objective successive-halving
pruner, whose rung values are vectors.

Private: callers pass a synced history and trust the result.
"""

from __future__ import annotations

import bisect
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.history import History

__all__ = ["RungIndex", "RungVectors", "is_promotable_sorted"]

_PREFIX = "completed_rung_"
_OPEN_STATES = (-1, int(TrialState.RUNNING), int(TrialState.WAITING))
_NONE: Any = object()
_NO_ATTRS: dict[str, Any] = {}  # read-only: the attributes of a row that has none


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


class _Rung:
    """The values recorded under one rung key: ``by_row`` (row -> value), ``values``
    (the non-NaN ones, ascending) and ``n_nan``."""

    __slots__ = ("by_row", "n_nan", "values")

    def __init__(self) -> None:
        self.by_row: dict[int, float] = {}
        self.values: list[float] = []
        self.n_nan = 0

    def put(self, row: int, v: float) -> None:
        by_row = self.by_row
        old = by_row.get(row, _NONE)
        if old is not _NONE:
            if old == v or (old != old and v != v):
                return
            if old != old:
                self.n_nan -= 1
            else:
                del self.values[bisect.bisect_left(self.values, old)]
        by_row[row] = v
        if v != v:
            self.n_nan += 1
        else:
            bisect.insort(self.values, v)

    def remove(self, row: int) -> None:
        old = self.by_row.pop(row, _NONE)
        if old is _NONE:
            return
        if old != old:
            self.n_nan -= 1
        else:
            del self.values[bisect.bisect_left(self.values, old)]


_EMPTY = _Rung()  # read-only stand-in for a key nothing was recorded under


class _RowScan:
    """What both indexes share: the rows read so far, the unfinished ones and their
    attribute copies, and the refresh that re-reads only those (see the module
    docstring). Subclasses keep the values: ``_store(key, row, value)`` for each rung
    attribute of a row read again, ``_clear()`` on a reset. Thread-safe; not pickled."""

    __slots__ = ("_copies", "_history", "_lock", "_open", "_own", "_rollbacks", "_scanned", "_writes")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset(None)

    def _reset(self, history: History | None) -> None:
        self._history = history
        self._rollbacks = -1 if history is None else history.rollbacks
        self._writes = -1  # history.system_attr_writes at the last refresh, plus own writes seen
        self._own: tuple[int, str, Any] | None = None  # the last value recorded, until seen written
        self._scanned = 0  # rows below this were read at least once
        self._open: list[int] = []  # rows below _scanned unfinished when last read
        self._copies: dict[int, dict[str, Any]] = {}  # open row -> its attributes when last read
        self._clear()

    def _clear(self) -> None:
        raise NotImplementedError

    def _store(self, key: str, row: int, value: Any) -> None:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._reset(None)  # rebuilt on use

    def _copy_own(self, own_row: int, key: str, value: Any) -> None:
        """The attribute copy of ``own_row`` as it will read once ``value`` is written, and
        ``value`` the write that the next :meth:`_is_current` may find as the only one."""
        copy = self._copies.get(own_row)
        if copy is not None:
            copy[key] = value
        self._own = (own_row, key, value)

    def _forget_row(self, own_row: int) -> None:
        self._copies.pop(own_row, None)  # read again at the next decision
        self._writes = -1

    def _is_current(self, history: History) -> bool:
        """Whether the index holds every rung value in ``history`` (no refresh needed): no
        system attribute written since the last refresh, or only the value recorded last,
        which the history now holds (compared by ``==``; a NaN or a changed one refreshes)."""
        if history is not self._history or history.rollbacks != self._rollbacks:
            return False
        writes = history.system_attr_writes
        if writes == self._writes:
            return True
        own = self._own
        if own is None or writes != self._writes + 1:
            return False
        attrs = history.system_attrs[own[0]]
        if attrs is None or attrs.get(own[1], _NONE) != own[2]:
            return False
        self._writes, self._own = writes, None  # that one write was the recorded value
        return True

    def _refresh(self, history: History, brackets: np.ndarray | None, bracket: int) -> None:
        if history is not self._history or history.rollbacks != self._rollbacks:
            self._reset(history)
        self._writes = history.system_attr_writes  # read first: a later write bumps it again
        self._own = None
        rows = self._open
        n, scanned = history.n, self._scanned
        if n > scanned:
            if brackets is None:
                rows = [*rows, *range(scanned, n)]
            else:  # another bracket's row is left out for good
                rows = [*rows, *(np.flatnonzero(brackets[scanned:n] == bracket) + scanned).tolist()]
            self._scanned = n
        # Each row's state before its attributes (see the module docstring): vectorised
        # for a first scan or many rows, an .item() read in the loop for the usual one or
        # two (no comprehension: its frame is a measurable part of a cold decision).
        states, attrs, copies, store = history.states, history.system_attrs, self._copies, self._store
        codes = states.take(rows).tolist() if len(rows) > 8 else None
        still_open = []
        for i, row in enumerate(rows):
            code = states.item(row) if codes is None else codes[i]
            d = attrs[row]
            if d is None:
                d = _NO_ATTRS
            copy = copies.get(row)
            if copy is None or d != copy:  # new, or changed since the last read
                copy = dict(d)  # one atomic copy, read below: a write meanwhile shows next time
                for k, v in copy.items():
                    if k.startswith(_PREFIX):
                        store(k, row, v)
            if code in _OPEN_STATES:
                still_open.append(row)
                copies[row] = copy
            elif copies:
                copies.pop(row, None)
        self._open = still_open


class RungIndex(_RowScan):
    """The values recorded per rung key, for the rows a filter admits (all rows, or one
    Hyperband bracket's); see the module docstring. Thread-safe; not pickled."""

    # Slots: a decision reads a handful of these, most often from a cold cache.
    __slots__ = ("_rungs",)

    def _clear(self) -> None:
        self._rungs: dict[str, _Rung] = {}

    def _store(self, key: str, row: int, value: Any) -> None:
        rung = self._rungs.get(key)
        if rung is None:
            rung = self._rungs[key] = _Rung()
        rung.put(row, float(value))

    def decide(
        self,
        history: History,
        key: str,
        own_row: int,
        value: float,
        reduction_factor: int,
        maximize: bool,
        brackets: np.ndarray | None = None,
        bracket: int = 0,
        record: bool = False,
    ) -> tuple[int, bool]:
        """``(N, promotable)`` for ``value`` recorded by ``own_row`` at ``key``: the number of
        competing values (the other admitted rows' values under ``key``, plus ``value``) and
        whether ``value`` is among their best ``1 / reduction_factor``. Rows are admitted
        where ``brackets[row] == bracket`` (every row if ``brackets`` is None; the same
        filter at every call). With ``record``, ``value`` (not NaN) is then put in the index
        as ``own_row``'s under ``key``: the caller writes it through the storage next, and
        calls :meth:`forget` if that fails."""
        with self._lock:
            if not self._is_current(history):
                self._refresh(history, brackets, bracket)
            rung = self._rungs.get(key, _EMPTY)
            others, n_nan = rung.values, rung.n_nan
            own = rung.by_row.get(own_row, _NONE)
            if own is not _NONE:  # recorded before (not by this pruner): compete without it
                if own != own:
                    n_nan -= 1
                else:
                    others = list(others)
                    del others[bisect.bisect_left(others, own)]
            result = (len(others) + n_nan + 1, is_promotable_sorted(value, others, n_nan, reduction_factor, maximize))
            if record:
                if rung is _EMPTY:
                    rung = self._rungs[key] = _Rung()
                rung.put(own_row, value)
                self._copy_own(own_row, key, value)
            return result

    def forget(self, key: str, own_row: int) -> None:
        """Undo ``decide(..., record=True)`` after the write failed: the row's value under
        ``key`` leaves the index, and the next decision reads the row again."""
        with self._lock:
            rung = self._rungs.get(key)
            if rung is not None:
                rung.remove(own_row)
            self._forget_row(own_row)


class RungVectors(_RowScan):
    """The vectors (lists of ``m`` floats, one per objective) recorded per rung key, for
    the multi-objective successive-halving pruner: the same incremental reads as
    :class:`RungIndex`, so a decision costs O(new + unfinished rows) plus the rung's own
    vectors, not a scan of every trial. An entry that is not a list or tuple of ``m``
    numbers (a scalar from a single-objective pruner) is left out. Thread-safe; not
    pickled."""

    __slots__ = ("_m", "_vectors")

    def _clear(self) -> None:
        self._m = 0 if self._history is None else self._history.n_objectives
        self._vectors: dict[str, dict[int, tuple[float, ...]]] = {}  # key -> row -> vector

    def _store(self, key: str, row: int, value: Any) -> None:
        by_row = self._vectors.setdefault(key, {})
        if isinstance(value, (list, tuple)) and len(value) == self._m:
            by_row[row] = tuple(float(v) for v in value)
        else:
            by_row.pop(row, None)

    def competing(self, history: History, key: str, own_row: int, vector: list[float] | None = None) -> np.ndarray:
        """``(k, m)`` the vectors that rows other than ``own_row`` recorded under ``key``
        (in row order). With ``vector``, it is then put in the index as ``own_row``'s: the
        caller writes it through the storage next, and calls :meth:`forget` if that fails."""
        with self._lock:
            if not self._is_current(history):
                self._refresh(history, None, 0)
            by_row = self._vectors.get(key, {})
            rows = sorted(r for r in by_row if r != own_row)
            out = np.array([by_row[r] for r in rows], dtype=np.float64).reshape(len(rows), self._m)
            if vector is not None:
                self._vectors.setdefault(key, {})[own_row] = tuple(vector)
                self._copy_own(own_row, key, vector)
            return out

    def competing_rows(self, history: History, key: str, own_row: int, vector: list[float]) -> list[tuple[float, ...]]:
        """:meth:`competing` as a list of tuples (in row order), without building an array:
        the caller's fast path for a small rung. ``vector`` is then put in the index as
        ``own_row``'s, as there."""
        with self._lock:
            if not self._is_current(history):
                self._refresh(history, None, 0)
            by_row = self._vectors.get(key)
            if by_row is None:
                by_row = self._vectors[key] = {}
                out = []
            else:
                out = [by_row[r] for r in sorted(by_row) if r != own_row]
            by_row[own_row] = tuple(vector)
            self._copy_own(own_row, key, vector)
            return out

    def forget(self, key: str, own_row: int) -> None:
        """Undo ``competing(..., vector=...)`` after the write failed."""
        with self._lock:
            self._vectors.get(key, {}).pop(own_row, None)
            self._forget_row(own_row)
