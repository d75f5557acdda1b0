"""Per-step sorted values of the COMPLETE trials, kept up to date incrementally, for the
percentile-style pruners.

A decision at step ``s`` needs the percentile of the values that COMPLETE trials
reported at ``s``. Recomputing it (the COMPLETE rows among the ``k`` reports at ``s``,
then ``np.nanpercentile``) costs O(k) per decision; a training loop asks at every step,
and each trial that completes changes the percentile at every step it reported. So
:class:`StepValues` keeps, per step, the COMPLETE values (of one objective) sorted (``array('d')``, 8
bytes a value) and the reports at ``s`` whose trial was unfinished at the last look:

* the reports at ``s`` only accumulate, in report order (the first report of a step
  wins), so the ones new since the last look are ``rows[seen:]`` of the step's bucket;
* a finished trial stays finished, so only the unfinished ones (RUNNING, WAITING, or not
  known yet) are looked at again: when one has completed, its value is inserted
  (``bisect``, O(log k) plus a memmove of at most ``k`` doubles).

A decision then costs O(new + unfinished) and the percentile two reads
(:func:`percentile_of_sorted`, ``np.nanpercentile``'s linear rule to the bit; or
:func:`median_of_sorted`, ``np.median``'s). A rolled-back
batch (``history.rollbacks``) or another history starts afresh.

Memory: at most ``max_values`` values (all steps together) and ``max_steps`` steps;
beyond that the least recently used steps are dropped (and rebuilt, O(k), when asked
again). The defaults hold 10,000 trials x 400 steps.

Private: callers pass a synced history and trust the result.
"""

from __future__ import annotations

import bisect
import math
import threading
from array import array
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.history import History

__all__ = ["StepValues", "median_of_sorted", "percentile_of_sorted"]

_COMPLETE = int(TrialState.COMPLETE)
_OPEN_STATES = (-1, int(TrialState.RUNNING), int(TrialState.WAITING))
_BULK = 16  # more rows than this to (re)check at once: vectorised


def percentile_of_sorted(values: Any, q: float) -> float:
    """``np.nanpercentile(x, q)`` (method ``"linear"``) for ``values``, the non-NaN entries
    of ``x`` sorted ascending (a non-empty sequence of floats), bit for bit: NumPy's
    virtual index ``(m - 1) * (q / 100)``, its neighbours (both the last entry at or
    past the end, the lower one then counted as -1), and its ``_lerp``, which
    interpolates from the upper neighbour when the weight is at least 1/2."""
    m = len(values)
    virtual = (m - 1) * (q / 100.0)
    if virtual >= m - 1:
        lo = hi = -1
    else:
        lo = math.floor(virtual)
        hi = lo + 1
    gamma = virtual - lo
    a, b = values[lo], values[hi]
    diff = b - a
    if gamma >= 0.5:
        return float(b - diff * (1 - gamma))
    return float(a + diff * gamma)


def median_of_sorted(values: Any) -> float:
    """``np.median(x)`` for ``values``, the entries of ``x`` sorted ascending (non-empty,
    no NaN), bit for bit: the middle entry, or the mean of the two middle ones summed
    then halved (``np.mean``'s order; ``-inf`` and ``+inf`` give NaN)."""
    m = len(values)
    half = m // 2
    if m % 2:
        return float(values[half])
    return float((values[half - 1] + values[half]) / 2.0)


class _Step:
    """One step: ``seen`` reports of its bucket looked at; ``open_rows``/``open_values``
    those whose trial was unfinished then; ``values`` the COMPLETE non-NaN values, sorted;
    ``n_complete`` the COMPLETE reports, NaN included; ``p`` the percentile for ``q``
    (None: not computed since ``values`` changed)."""

    __slots__ = ("n_complete", "open_rows", "open_values", "p", "q", "seen", "values")

    def __init__(self) -> None:
        self.seen = 0
        self.open_rows: list[int] = []
        self.open_values: list[float] = []
        self.values = array("d")
        self.n_complete = 0
        self.p: float | None = None
        self.q = math.nan


class StepValues:
    """The COMPLETE values per step of objective ``column`` (see the module docstring).
    Thread-safe; not pickled."""

    __slots__ = ("_history", "_lock", "_n_values", "_rollbacks", "_steps", "column", "max_steps", "max_values")

    def __init__(self, *, column: int = 0, max_values: int = 4_000_000, max_steps: int = 4096) -> None:
        self.column = column
        self.max_values = max_values
        self.max_steps = max_steps
        self._lock = threading.Lock()
        self._reset(None)

    def _reset(self, history: History | None) -> None:
        self._history = history
        self._rollbacks = -1 if history is None else history.rollbacks
        self._steps: dict[int, _Step] = {}  # least recently used first
        self._n_values = 0

    def __getstate__(self) -> dict[str, Any]:
        return {"column": self.column, "max_values": self.max_values, "max_steps": self.max_steps}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def percentile(self, history: History, step: int, q: float, n_min_trials: int) -> float:
        """The ``q``-th percentile of the values COMPLETE trials reported at ``step`` (NaNs
        ignored); NaN when fewer than ``n_min_trials`` reported (NaNs counted) or all are
        NaN."""
        with self._lock:
            entry = self._entry(history, step)
            if entry.n_complete < n_min_trials or len(entry.values) == 0:
                return math.nan
            if entry.p is None or entry.q != q:
                entry.p, entry.q = percentile_of_sorted(entry.values, q), q
            return entry.p

    def median(self, history: History, step: int) -> tuple[int, float]:
        """``(k, median)``: the number of COMPLETE trials that reported at ``step`` (NaNs
        counted) and ``np.median`` of their non-NaN values (NaN if none)."""
        with self._lock:
            entry = self._entry(history, step)
            return entry.n_complete, median_of_sorted(entry.values) if len(entry.values) else math.nan

    def _entry(self, history: History, step: int) -> _Step:
        """The step's entry, brought up to date; the most recently used (under the lock)."""
        if history is not self._history or history.rollbacks != self._rollbacks:
            self._reset(history)
        steps = self._steps
        entry = steps.pop(step, None)
        steps[step] = entry = entry or _Step()  # most recently used last
        self._update(history, step, entry)
        if len(steps) > self.max_steps:
            self._evict()
        return entry

    def _update(self, history: History, step: int, entry: _Step) -> None:
        index = history.steps
        k = index.reached(step)
        seen = entry.seen
        if k == seen and not entry.open_rows:
            return
        states = history.states
        if k - seen + len(entry.open_rows) > _BULK:
            self._update_bulk(states, *index.at_step(step), entry)
            return
        # A few rows: lists of the new reports, not array views (~1 us of a decision).
        k, new_rows, new_values = index.at_step_since(step, seen, self.column)
        open_rows: list[int] = []
        open_values: list[float] = []
        rechecked = zip(entry.open_rows, entry.open_values)
        new = zip(new_rows, new_values)
        for pairs in (rechecked, new):
            for row, v in pairs:
                code = states.item(row)
                if code == _COMPLETE:
                    self._insert(entry, v)
                elif code in _OPEN_STATES:
                    open_rows.append(row)
                    open_values.append(v)
        entry.seen, entry.open_rows, entry.open_values = k, open_rows, open_values

    def _update_bulk(self, states: np.ndarray, rows: np.ndarray, at: np.ndarray, entry: _Step) -> None:
        """``_update`` vectorised: a first look at a step, or many rows at once."""
        seen = entry.seen
        check_rows = np.concatenate((np.asarray(entry.open_rows, np.int64), rows[seen:]))
        check_values = np.concatenate((np.asarray(entry.open_values, np.float64), at[seen:, self.column]))
        codes = states.take(check_rows)
        done = codes == _COMPLETE
        unfinished = (codes < 0) | (codes == int(TrialState.RUNNING)) | (codes == int(TrialState.WAITING))
        new = check_values[done]
        if len(new):
            entry.n_complete += len(new)
            new = new[~np.isnan(new)]
        if len(new):
            merged = np.sort(np.concatenate((np.frombuffer(entry.values, np.float64), new)))
            self._n_values += len(new)
            entry.values = array("d", merged.tobytes())
            entry.p = None
            self._evict()
        entry.seen = len(rows)
        entry.open_rows = check_rows[unfinished].tolist()
        entry.open_values = check_values[unfinished].tolist()

    def _insert(self, entry: _Step, v: float) -> None:
        entry.n_complete += 1
        if v == v:
            bisect.insort(entry.values, v)
            entry.p = None
            self._n_values += 1
            self._evict()

    def _evict(self) -> None:
        """Drop the least recently used steps while over a limit (never the last one)."""
        steps = self._steps
        while (self._n_values > self.max_values or len(steps) > self.max_steps) and len(steps) > 1:
            oldest = next(iter(steps))
            self._n_values -= len(steps.pop(oldest).values)
