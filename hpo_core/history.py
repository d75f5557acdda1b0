"""The columnar trial history: what samplers and pruners read.

Notation (``n`` trials known, ``p`` parameter columns, ``m`` objectives):

* ``states``: (n,) int8, a :class:`TrialState` code; -1 marks a row whose trial is not
  known yet (a storage syncing from a database fills rows as they arrive).
* ``values``: (n, m) float64, NaN unless COMPLETE (what samplers model; a PRUNED
  trial's value as users read it, its last report, comes from :meth:`History.user_values`).
* ``X``: (n, p) float64, Fortran order so that each parameter is a contiguous column
  of *internal* values (see ``distributions``); NaN where a trial lacks the parameter.
* ``codes``: (n, p) int16, index into ``param_dists[j]`` of the distribution the trial
  used for parameter ``j`` (-1 where absent). A parameter may change its range between
  trials; the code says which range each value was drawn from.
* ``t_start``, ``t_complete``: (n,) POSIX seconds, NaN where unset.
* ``steps``: the intermediate values, a :class:`~hpo_core._step_index.StepIndex`
  (the values at a step come out as arrays; vector reports hold ``m`` values).
* ``numeric[key]``: (n, w) float64 typed per-trial columns kept from the system
  attributes named in :data:`NUMERIC_ATTRS` (constraint values, a generation, a
  bracket, the trial a TPE proposal stands in for), NaN where unset, so samplers and
  pruners never parse attribute dicts.

Rows are indexed by trial number. Appends are amortized O(1) (capacities double), and
no method loops in Python over all rows. The owner (a storage) serializes writers, and
only the storages' one writer (:mod:`hpo_core.storages._writer`) calls the methods that
change a history; readers may read concurrently, since arrays are only replaced, never
shrunk. A batch of changes applied between :meth:`History.begin` and
:meth:`History.commit` is undone by :meth:`History.rollback` (an exception or Ctrl-C
while a storage syncs leaves the history as it was).
"""

from __future__ import annotations

import datetime
import math
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from hpo_core._history_numeric import NumericColumns
from hpo_core._history_params import ParamColumns
from hpo_core._history_undo import ROW_ARRAYS, Undo
from hpo_core._intersection import Intersection
from hpo_core._step_index import StepIndex
from hpo_core.distributions import (
    BaseDistribution,
    SearchSpace,
)
from hpo_core.trial._constraints import CONSTRAINT_PREFIX, CONSTRAINTS_KEY
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import TrialState

__all__ = ["History", "NUMERIC_ATTRS"]

#: System attributes that the history also keeps as typed float columns (``numeric``).
NUMERIC_ATTRS = frozenset({CONSTRAINTS_KEY, "generation", "bracket", "tpe_repeat"})

_UNKNOWN = -1


_ROW_ARRAYS = ROW_ARRAYS


def _grow(a: np.ndarray, n_rows: int, fill: Any) -> np.ndarray:
    new = np.full((n_rows,) + a.shape[1:], fill, dtype=a.dtype, order="F" if a.ndim == 2 else "C")
    new[: a.shape[0]] = a
    return new


def _pruned_value(last: Any) -> list[float] | None:
    """A PRUNED trial's values: its last report (a float, or a tuple in a multi-objective
    study), None where it holds a NaN (Optuna's ``Study.tell(state=PRUNED)``)."""
    vals = [last] if isinstance(last, float) else list(last)
    return None if any(v != v for v in vals) else vals


def _view(a: np.ndarray) -> Any:
    """A writable memoryview of a contiguous 1-D array (typed Any for the scalar writes)."""
    return memoryview(a)  # type: ignore[arg-type]


class History(ParamColumns, NumericColumns):
    """Columnar record of one study's trials; row ``i`` holds trial number ``i``."""

    def __init__(self, n_objectives: int, *, capacity: int = 64, param_capacity: int = 8):
        self.n_objectives = n_objectives
        self.n = 0
        cap, pcap = capacity, param_capacity
        self.states = np.full(cap, _UNKNOWN, dtype=np.int8)
        self.values = np.full((cap, n_objectives), np.nan)
        self.trial_ids = np.full(cap, -1, dtype=np.int64)
        self.t_start = np.full(cap, np.nan)
        self.t_complete = np.full(cap, np.nan)
        self._X = np.full((cap, pcap), np.nan, order="F")
        self._codes = np.full((cap, pcap), -1, dtype=np.int16, order="F")
        # Row writes of set_params (values and codes) wait here and are applied in runs
        # (see _flush_codes); reading X or codes applies them first.
        self._pending_codes: list[tuple[int, Any, np.ndarray, np.ndarray]] = []
        self._pending_lock = threading.Lock()  # readers flush while writers append
        self.param_names: list[str] = []
        self.param_index: dict[str, int] = {}
        self.param_dists: list[list[BaseDistribution]] = []
        self._dist_codes: list[dict[BaseDistribution, int]] = []
        self.user_attrs: list[dict[str, Any] | None] = [None] * cap
        self.system_attrs: list[dict[str, Any] | None] = [None] * cap
        self.steps = StepIndex(n_objectives)
        self.numeric: dict[str, np.ndarray] = {}
        #: Constraint name -> its column of ``numeric["constraints"]`` (the entries of a
        #: ``constraints_func`` list are the names "0", "1", ...; see trial/_constraints).
        self.constraint_keys: dict[str, int] = {}
        # Row snapshots of the batch being applied (see begin/rollback); None outside.
        self._undo: Undo | None = None  # the batch being applied (see begin/rollback)
        self.state_counts = [0] * 5
        self.version = 0
        # Batches rolled back: the one change after which rows, reports and attributes
        # may differ from what a reader saw (otherwise reports and finished trials only
        # accumulate), so caches built on that check it.
        self.rollbacks = 0
        # set_attr calls of kind "system": with rollbacks, whether any trial's system
        # attributes may differ from what a reader saw (the rung index, pruners/_rungs.py).
        self.system_attr_writes = 0
        self.best_row = -1  # single objective: row of the best COMPLETE value
        self._best_value = float("nan")
        self._sign = 1.0
        self._space_cache: dict[SearchSpace, tuple[Any, np.ndarray]] = {}
        self._last_space: tuple[SearchSpace | None, Any] = (None, None)
        # name -> (distribution object, column, code) of the last lookup, for the
        # common case of the same suggest call in every trial.
        self._last_col: dict[str, tuple[BaseDistribution, int, int]] = {}
        # Per-trial suggestion order where it is not the column order (see _note_order).
        self.param_order: dict[int, list[int]] = {}
        self._order_row, self._order_max = -1, -1
        self._isect = Intersection(pcap)  # incremental, over COMPLETE trials

        self._make_views()

    def _make_views(self) -> None:
        # Scalar reads and writes through memoryviews cost about a third of NumPy's
        # item access; the per-trial paths (add_row, set_state) use them.
        self._mv_states = _view(self.states)
        self._mv_trial_ids = _view(self.trial_ids)
        self._mv_t_start = _view(self.t_start)
        self._mv_t_complete = _view(self.t_complete)
        # (capacity, 1) is both C- and F-contiguous, so reshape(-1) is a view.
        self._mv_values = _view(self.values.reshape(-1)) if self.n_objectives == 1 else None

    def __getstate__(self) -> dict[str, Any]:
        self._flush_codes()
        state = self.__dict__.copy()
        del state["_pending_lock"]
        for k in [k for k in state if k.startswith("_mv_")]:
            del state[k]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("constraint_keys", {})
        self.__dict__.setdefault("param_order", {})
        self.__dict__.setdefault("_order_row", -1)
        self.__dict__.setdefault("_order_max", -1)
        self.__dict__.setdefault("system_attr_writes", 0)
        self._pending_lock = threading.Lock()
        self._make_views()

    @property
    def X(self) -> np.ndarray:
        """(capacity, p) float64 internal values, Fortran order (see the module docstring)."""
        if self._pending_codes:
            self._flush_codes()
        return self._X

    # ------------------------------------------------------------------ growth
    def _ensure_rows(self, n_rows: int) -> None:
        cap = self.states.shape[0]
        if n_rows <= cap:
            return
        new_cap = max(n_rows, 2 * cap)
        self._flush_codes()
        # Every new array is allocated before any is swapped in: a MemoryError leaves
        # the history as it was.
        grown = [_grow(getattr(self, name), new_cap, fill) for name, fill in _ROW_ARRAYS]
        numeric = {key: _grow(col, new_cap, np.nan) for key, col in self.numeric.items()}
        extra = [None] * (new_cap - cap)
        user_attrs, system_attrs = self.user_attrs + extra, self.system_attrs + extra
        for (name, _), arr in zip(_ROW_ARRAYS, grown):
            setattr(self, name, arr)
        self.numeric, self.user_attrs, self.system_attrs = numeric, user_attrs, system_attrs
        self._make_views()

    def _ensure_cols(self, n_cols: int) -> None:
        pcap = self._X.shape[1]
        if n_cols <= pcap:
            return
        self._flush_codes()
        new = max(n_cols, 2 * pcap)
        X = np.full((self._X.shape[0], new), np.nan, order="F")
        X[:, :pcap] = self._X
        codes = np.full((self._codes.shape[0], new), -1, dtype=np.int16, order="F")
        codes[:, :pcap] = self._codes
        self._isect.grow(new)
        self._X, self._codes = X, codes

    # ------------------------------------------------------------------ batches
    def begin(self) -> None:
        """Start a batch: every row changed until :meth:`commit` is snapshotted first,
        so that :meth:`rollback` restores it. Holds the intersection lock meanwhile (a
        sampler never sees half a batch through the intersection search space)."""
        self._isect.lock.acquire()
        self._flush_codes()
        self._undo = Undo(self)

    def commit(self) -> None:
        """End the batch, keeping its changes."""
        self._undo = None
        self._isect.lock.release()

    def rollback(self) -> None:
        """End the batch, restoring every row it changed (new rows become unknown).

        Columns and distributions first named in the batch stay (they are only names).
        """
        undo, self._undo = self._undo, None
        try:
            assert undo is not None  # internal: rollback only inside begin/commit
            undo.restore(self)
        finally:
            self.rollbacks += 1
            self._isect.lock.release()

    def _touch(self, row: int) -> None:
        """Snapshot ``row`` once per batch, before its first change."""
        if self._undo is not None:
            self._undo.save(self, row)

    # ------------------------------------------------------------------ writes
    def set_direction_sign(self, sign: float) -> None:
        """+1 to minimize, -1 to maximize (single objective best tracking)."""
        self._sign = sign

    def add_row(self, number: int, trial_id: int, state: int, t_start: float) -> int:
        """Create (or overwrite) row ``number``; rows in between stay unknown (-1)."""
        if self._undo is not None:
            self._touch(number)
        if number >= self.n:
            if number >= self.states.shape[0]:
                self._ensure_rows(number + 1)
            self.n = number + 1  # rows at or past n are unknown: nothing to uncount
        else:
            old = self._mv_states[number]
            if old >= 0:
                self.state_counts[old] -= 1
        self._mv_states[number] = state
        self.state_counts[state] += 1
        self._mv_trial_ids[number] = trial_id
        self._mv_t_start[number] = t_start
        self.version += 1
        return number

    def append_row(self, trial_id: int, state: int, t_start: float,
                   space: SearchSpace | None = None, internal: np.ndarray | None = None) -> int:
        """Append row ``n`` (and its parameters, when ``space`` is given): :meth:`add_row`
        then :meth:`set_params` in one call, for the per-trial ask. Returns its number."""
        number = self.n
        if self._undo is not None:  # inside a batch: the general path snapshots the row
            self.add_row(number, trial_id, state, t_start)
            if space is not None:
                self.set_params(number, space, internal)  # type: ignore[arg-type]
            return number
        if number >= self.states.shape[0]:
            self._ensure_rows(number + 1)
        self.n = number + 1
        self._mv_states[number] = state
        self.state_counts[state] += 1
        self._mv_trial_ids[number] = trial_id
        self._mv_t_start[number] = t_start
        if space is not None:
            self._queue_row(number, space, internal)  # type: ignore[arg-type]
        else:
            self._order_row, self._order_max = number, -1  # a new row sets its parameters next
        self.version += 1
        return number

    def add_rows(self, n_new: int, first_trial_id: int, state: int, t_start: float) -> np.ndarray:
        """Append ``n_new`` rows at once; returns their numbers (n_new,)."""
        start = self.n
        self._ensure_rows(start + n_new)
        stop = start + n_new
        if self._undo is not None:
            for row in range(start, stop):
                self._touch(row)
        self.states[start:stop] = state
        self.trial_ids[start:stop] = np.arange(first_trial_id, first_trial_id + n_new)
        self.t_start[start:stop] = t_start
        self.state_counts[state] += n_new
        self.n = stop
        self.version += 1
        return np.arange(start, stop)

    def set_params_block(self, rows: np.ndarray, space: SearchSpace, X: np.ndarray) -> None:
        """Write internal values X (n, d) of ``space`` into ``rows`` (n,)."""
        index, codes = self._space_columns(space)
        if self._undo is not None:
            for row in rows.tolist():
                self._touch(row)
        self._flush_codes()
        self._order_row = -1
        if self.param_order:
            for row in rows.tolist():
                self._order_block(row, index)
        if isinstance(index, slice):
            self._X[rows, index] = X
            self._codes[rows, index] = codes
        else:
            self._X[np.ix_(rows, index)] = X
            self._codes[np.ix_(rows, index)] = codes
        self.version += 1

    def set_states_block(
        self, rows: np.ndarray, state: int, values: np.ndarray | None, t_complete: float
    ) -> None:
        """Finish ``rows`` (n,) with one ``state`` and ``values`` (n, m) at once."""
        if self._undo is not None:
            for row in rows.tolist():
                self._touch(row)
        old = self.states[rows]
        for s, c in zip(*np.unique(old[old >= 0], return_counts=True)):
            self.state_counts[int(s)] -= int(c)
        self.states[rows] = state
        self.state_counts[state] += len(rows)
        if values is not None:
            self.values[rows] = values
        self.t_complete[rows] = t_complete
        if state == TrialState.COMPLETE and len(rows):
            self._isect.new_complete.extend(rows.tolist())
            if self.n_objectives == 1:
                signed = self._sign * self.values[rows, 0]
                k = int(np.argmin(signed))
                b = self.best_row
                if b < 0 or signed[k] < self._sign * self._best_value:
                    self.best_row = int(rows[k])
                    self._best_value = float(self.values[self.best_row, 0])
        self.version += 1

    def set_state(
        self,
        row: int,
        state: int,
        values: Sequence[float] | None = None,
        t_complete: float | None = None,
    ) -> None:
        """Set the state of ``row`` (and its values (m,) and end time, when given).

        A COMPLETE row without values (a storage row written by another program) keeps
        NaN values and never becomes the best row.
        """
        if self._undo is not None:
            self._touch(row)
        if state == 1 and values is None:
            values = [math.nan] * self.n_objectives
        mv = self._mv_states
        old = mv[row]
        if old >= 0:
            self.state_counts[old] -= 1
        mv[row] = state
        self.state_counts[state] += 1
        if t_complete is not None:
            self._mv_t_complete[row] = t_complete
        if values is not None:
            mv_values = self._mv_values
            if mv_values is not None:
                v = values[0]
                mv_values[row] = v
            else:
                self.values[row] = values
        if state == 1:  # COMPLETE
            self._isect.new_complete.append(row)
            if self.n_objectives == 1:
                v = self.values[row, 0]
                b = self.best_row
                if v == v and (b < 0 or self._sign * v < self._sign * self._best_value):
                    self.best_row = row
                    self._best_value = v
        self.version += 1

    def set_complete(self, row: int, value: float, t_complete: float) -> None:
        """``set_state(row, COMPLETE, [value], t_complete)`` of a single-objective study in
        fewer steps: the tell of the per-trial loop."""
        if self._undo is not None or self._mv_values is None:
            self.set_state(row, 1, [value], t_complete)
            return
        mv, counts = self._mv_states, self.state_counts
        old = mv[row]
        if old >= 0:
            counts[old] -= 1
        mv[row] = 1
        counts[1] += 1
        self._mv_t_complete[row] = t_complete
        self._mv_values[row] = value
        self._isect.new_complete.append(row)
        if value == value:
            b = self.best_row
            if b < 0 or self._sign * value < self._sign * self._best_value:
                self.best_row = row
                self._best_value = value
        self.version += 1

    def set_attr(self, row: int, kind: str, key: str, value: Any) -> None:
        """Set a ``"user"`` or ``"system"`` attribute; a system attribute named in
        :data:`NUMERIC_ATTRS` also fills its typed column (``numeric[key]``), and so does a
        named constraint ``"constraints:<name>"`` (``Trial.set_constraint``): one column
        of ``numeric["constraints"]`` per name (see :attr:`constraint_keys`)."""
        if self._undo is not None:
            self._touch(row)
        store = self.user_attrs if kind == "user" else self.system_attrs
        d = store[row]
        if d is None:
            d = store[row] = {}
        d[key] = value
        if kind == "system":
            self.system_attr_writes += 1
            if key in NUMERIC_ATTRS:
                self._set_numeric(row, key, value)
            elif key.startswith(CONSTRAINT_PREFIX):
                self._set_constraint(row, key[len(CONSTRAINT_PREFIX) :], value)
        self.version += 1

    def add_intermediate(self, row: int, step: int, value: Any) -> bool:
        """Record ``value`` (a float, or (m,) values) at ``step``; a second report of
        the same step is ignored (returns False)."""
        added = self.steps.add(row, step, value)
        if added:
            self.version += 1
        return added

    # ------------------------------------------------------------------ reads
    def rows(self, states: Iterable[int] | None = None) -> np.ndarray:
        """Row indices (trial numbers) whose state is in ``states`` (all known if None)."""
        s = self.states[: self.n]
        if states is None:
            return np.flatnonzero(s >= 0)
        states = list(states)
        if len(states) == 1:
            return np.flatnonzero(s == states[0])
        return np.flatnonzero(np.isin(s, states))

    def count(self, state: int) -> int:
        return self.state_counts[state]

    def param_column(self, name: str) -> np.ndarray:
        """Internal values of ``name`` for rows ``[0, n)`` (a view; NaN where absent)."""
        return self.X[: self.n, self.param_index[name]]

    def intersection_search_space(self) -> SearchSpace:
        """Parameters present, with one distribution, in every COMPLETE trial.

        Incremental: only trials completed since the last call are examined. The same
        :class:`SearchSpace` object is returned while the intersection is unchanged (so
        callers may cache per space object); a new one after it changes. Thread-safe.
        """
        isect = self._isect
        with isect.lock:
            return isect.query(self)

    def frozen(self, row: int) -> FrozenTrial:
        """Build the :class:`FrozenTrial` of row ``row``."""
        state = TrialState(int(self.states[row]))
        p = len(self.param_names)
        code_row = self.codes[row, :p]
        params: dict[str, Any] = {}
        dists: dict[str, BaseDistribution] = {}
        for j in self.param_columns_of(row, code_row):
            name = self.param_names[j]
            dist = self.param_dists[j][code_row[j]]
            params[name] = dist.to_external_repr(float(self.X[row, j]))
            dists[name] = dist
        intermediate_values = self.steps.as_dict(row)
        values: list[float] | None = None
        if state == TrialState.COMPLETE:
            values = self.values[row].tolist()
        elif state == TrialState.PRUNED and intermediate_values:
            values = _pruned_value(intermediate_values[max(intermediate_values)])
        ts, tc = self.t_start[row], self.t_complete[row]
        return FrozenTrial(
            number=row,
            state=state,
            value=None,
            values=values,
            params=params,
            distributions=dists,
            user_attrs=dict(self.user_attrs[row] or {}),
            system_attrs=dict(self.system_attrs[row] or {}),
            intermediate_values=intermediate_values,
            datetime_start=None if ts != ts else datetime.datetime.fromtimestamp(ts),
            datetime_complete=None if tc != tc else datetime.datetime.fromtimestamp(tc),
            trial_id=int(self.trial_ids[row]),
        )

    def user_values(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), m) the values users read (``FrozenTrial.values``): a COMPLETE row's
        values, a PRUNED row's last report (Optuna stores it as the value; NaN without
        one or where it holds a NaN), NaN otherwise. Samplers read :attr:`values`, which
        holds COMPLETE rows only. ``rows``: (k,) int trial numbers."""
        V = self.values[rows]
        pruned = np.flatnonzero(self.states[rows] == TrialState.PRUNED)
        if len(pruned):
            _, last = self.steps.last_at_or_before(2**63 - 1, np.asarray(rows)[pruned].astype(np.int64))
            last[np.isnan(last).any(axis=1)] = np.nan
            V[pruned] = last
        return V

    def memory_bytes(self) -> int:
        """Bytes held by the array columns (not the per-trial attribute dicts)."""
        arrays = [self.states, self.values, self.trial_ids, self.t_start, self.t_complete,
                  self._X, self.codes, *self.numeric.values()]
        return int(sum(a.nbytes for a in arrays)) + self.steps.memory_bytes()
