"""Evaluated configurations of an all-discrete joint space, as grid keys kept incrementally.

TPE on a grid re-proposes configurations it has already evaluated (the mode of ``l`` among
the good observations); TPESampler passes them to ``kernels.tpe_propose``, which then
returns the best of its candidates that is not one of them. A configuration is
evaluated when a trial that is COMPLETE, PRUNED or RUNNING (another worker evaluates it)
has it; parameters are compared by grid index (a stepped float 0.1 * 3 is 0.3).

Where the kernel's observations are every evaluated configuration (the usual ask: no
resample above ``max_bad_components``, no bracket split, the constant liar on or no
other trial RUNNING), TPESampler passes them as ``tpe_propose``'s ``skip_rows`` and the
kernel compares its candidates with those rows directly: no key is built per ask.
Otherwise the keys kept here are passed: the keys of finished rows are added once, as a
cursor passes them (catching up, vectorised, after asks that used the rows); rows that
were RUNNING or WAITING when the cursor passed are re-checked on each ask (usually a
few), so an ask costs O(new rows + unfinished rows) plus one merge into the sorted keys,
never a rescan.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core import kernels
from hpo_core.distributions import SearchSpace

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.samplers.tpe._parzen import SpaceArrays
    from hpo_core.trial import Trial

__all__ = ["EvaluatedKeys", "EvaluatedSpaces", "covers_whole_configuration"]

_RUNNING, _COMPLETE, _PRUNED, _WAITING = 0, 1, 2, 4
# Strides of grids with more than 2^64 points: fixed odd 64-bit numbers, so the keys are
# a hash (two configurations collide with probability about 2^-64 per pair).
_HASH_STRIDES = np.random.default_rng(0x5EE7).integers(0, 2**63, 256, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def covers_whole_configuration(h: History, space: SearchSpace) -> bool:
    """Whether ``space`` is every trial's whole configuration: each of its parameters has
    one distribution in the history, the space's, and every other parameter of the
    history has one single-valued distribution (a constant the trial sets itself)."""
    for name, dists in zip(h.param_names, h.param_dists):
        want = space.get(name)
        if want is None:
            if len(dists) != 1 or not dists[0].single():
                return False
        elif len(dists) != 1 or dists[0] != want:
            return False
    return all(name in h.param_index for name in space.names)


class EvaluatedKeys:
    """Sorted grid keys of one space's evaluated configurations, kept incrementally.

    Args:
        sa: the space's arrays (``_parzen.space_arrays``; every ``step > 0``).
        cols: (d,) history columns, numeric parameters first (as ``tpe_propose``'s).
    """

    def __init__(self, sa: SpaceArrays, cols: np.ndarray):
        self.cols = cols
        self.grid_low, self.step = sa.low, sa.step
        self.levels = np.rint((sa.high - sa.low) / sa.step) + 1.0  # grid points per numeric dimension
        sizes = [int(v) for v in self.levels] + [int(c) for c in sa.cat_sizes]
        if _product(sizes) <= 2**64:  # mixed radix: exact keys
            self.strides = np.array([_product(sizes[:d]) for d in range(len(sizes))], dtype=np.uint64)
        else:
            self.strides = _HASH_STRIDES[np.arange(len(sizes)) % len(_HASH_STRIDES)]
        # The same per dimension as Python scalars, for the few rows of a usual ask:
        # (column, grid low, step, grid points, stride) per numeric dimension, (column,
        # stride) per categorical one.
        dn = len(self.step)
        self._num = list(zip(cols[:dn].tolist(), sa.low.tolist(), sa.step.tolist(),
                             [int(v) for v in self.levels], [int(v) for v in self.strides[:dn]]))
        self._cat = list(zip(cols[dn:].tolist(), [int(v) for v in self.strides[dn:]]))
        self._buf = np.empty(64, dtype=np.uint64)  # finished rows' keys, sorted, in _buf[:_m]
        self._m = 0
        self.cursor = 0  # rows below it were seen
        self.pending: list[int] = []  # rows that were RUNNING or WAITING when seen
        # Memoryviews of _buf and of the history's matrix (rebuilt when either array is
        # replaced): their items are Python scalars, read and written without NumPy calls.
        self._buf_view: Any = None
        self._X_view: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_buf_view"] = state["_X_view"] = None  # memoryviews do not pickle
        return state

    @property
    def keys(self) -> np.ndarray:
        """Sorted keys of the finished evaluated rows (a view)."""
        return self._buf[: self._m]

    def update(self, h: History, own_row: int) -> np.ndarray:
        """The sorted keys of every evaluated configuration but ``own_row``'s (the asking
        trial)."""
        n = h.n
        if n - self.cursor > 16:  # the first call, or many new rows: vectorised
            rows = np.concatenate((np.array(self.pending, dtype=np.intp), np.arange(self.cursor, n)))
            self.cursor = n
            st = h.states[rows]
            self._insert(self._keys_of(h, rows[(st == _COMPLETE) | (st == _PRUNED)]))
            self.pending = rows[(st == _RUNNING) | (st == _WAITING)].tolist()
        elif self.cursor < n or self.pending:
            # The usual ask: the previous trial has finished and this one is new. Python
            # scalars throughout: per ask, a NumPy call costs more than this whole step.
            seen = [*self.pending, *range(self.cursor, n)]
            self.cursor = n
            state_of = h.states.item
            pending = []
            for r in seen:
                s = state_of(r)
                if s == _COMPLETE or s == _PRUNED:
                    key = self._key_of_row(h, r)
                    if key is not None:
                        self._insert_one(key)
                elif s == _RUNNING or s == _WAITING:
                    pending.append(r)
            self.pending = pending
        running = []  # RUNNING rows of other trials (other workers): re-read on every ask
        for r in self.pending:
            if r != own_row and h.states.item(r) == _RUNNING:
                key = self._key_of_row(h, r)
                if key is not None:
                    running.append(key)
        if running:
            return _merge(self.keys, np.array(running, dtype=np.uint64))
        return self.keys

    def _insert(self, new: np.ndarray) -> None:
        """Merge keys into the sorted buffer (O(m + len(new)))."""
        if len(new) == 1:
            self._insert_one(int(new[0]))
        elif len(new):
            merged = _merge(self.keys, new)
            self._buf, self._m = np.concatenate((merged, np.empty(len(merged), np.uint64))), len(merged)

    def _insert_one(self, key: int) -> None:
        """Insert one key (amortized growth; one memmove). The position is ``bisect``'s
        over a memoryview of the buffer: the same as ``searchsorted(side="left")``."""
        m = self._m
        if m == len(self._buf):
            self._buf = np.concatenate((self._buf, np.empty(m, np.uint64)))
        view = self._buf_view
        if view is None or view.obj is not self._buf:
            view = self._buf_view = _view(self._buf)
        pos = bisect_left(view, key, 0, m)
        view[pos + 1 : m + 1] = view[pos:m]  # overlapping: copied as by memmove
        view[pos] = key
        self._m = m + 1

    def _keys_of(self, h: History, rows: np.ndarray) -> np.ndarray:
        """Keys of the rows that have every parameter, on the grid (rows without one, or
        with a value outside the grid, equal no candidate and are left out)."""
        V = h.X[rows[:, None], self.cols]
        dn = len(self.step)
        index = np.rint((V[:, :dn] - self.grid_low) / self.step)
        ok = ~np.isnan(V).any(axis=1) & ((index >= 0) & (index < self.levels)).all(axis=1)
        if not ok.all():
            V = V[ok]
        return kernels.tpe_grid_keys(V, self.grid_low, self.step, self.strides)

    def _key_of_row(self, h: History, row: int) -> int | None:
        """:meth:`_keys_of` of one row in Python scalars (the same key: ``round`` rounds
        half to even as ``numpy.rint``; the sum wraps modulo 2^64), or None."""
        X = h.X
        xv = self._X_view
        if xv is None or xv.obj is not X:
            xv = self._X_view = _view(X)
        key = 0
        for col, lo, st, levels, stride in self._num:
            v = xv[row, col]
            if v != v:  # NaN: the row lacks the parameter
                return None
            i = round((v - lo) / st)
            if not 0 <= i < levels:
                return None
            key += i * stride
        for col, stride in self._cat:
            c = xv[row, col]
            if c != c:
                return None
            key += int(c) * stride
        return key & 0xFFFFFFFFFFFFFFFF


class EvaluatedSpaces:
    """The :class:`EvaluatedKeys` of each space where the rule applies (one study)."""

    def __init__(self) -> None:
        self._spaces: dict[SearchSpace, tuple[tuple[int, int], EvaluatedKeys | None]] = {}

    def skip_args(self, h: History, trial: Trial | None, space: SearchSpace, sa: SpaceArrays,
                  cols: np.ndarray, rows: np.ndarray | None = None,
                  ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None] | None:
        """``tpe_propose``'s ``(skip_keys, key_strides, skip_rows)`` where the rule applies
        to ``space`` (2+ parameters, all discrete, the whole configuration), else None.

        Args:
            h: the study's history; trial: the asking trial (its own row is left out).
            space, sa, cols: the space, its arrays and its history columns (numeric first).
            rows: the kernel's observations where they are every evaluated configuration
                (then they are the skip rows, ``(None, None, rows)``, and the keys are
                left as they are: caught up when next needed), else None (the keys).
        """
        # Whether the space is the whole configuration changes only with the history's
        # parameters and their distributions (both only grow).
        sig = (len(h.param_names), sum(map(len, h.param_dists)))
        entry = self._spaces.get(space)
        if entry is None or entry[0] != sig:
            if len(self._spaces) > 64:
                self._spaces.clear()
            applies = len(space) >= 2 and bool(np.all(sa.step > 0)) and covers_whole_configuration(h, space)
            entry = self._spaces[space] = (sig, EvaluatedKeys(sa, cols) if applies else None)
        evaluated = entry[1]
        if evaluated is None:
            return None
        if rows is not None:
            return (None, None, rows) if len(rows) else None
        keys = evaluated.update(h, trial.number if trial is not None else -1)
        return (keys, evaluated.strides, None) if len(keys) else None


def _view(a: np.ndarray) -> Any:
    """A memoryview of ``a`` (typed Any: NumPy arrays are buffers, which mypy on Python
    3.11 cannot see)."""
    return memoryview(a)  # type: ignore[arg-type]


def _product(sizes: list[int]) -> int:
    out = 1
    for s in sizes:
        out *= s
    return out


def _merge(keys: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``keys`` (sorted) with ``new`` inserted in order: O(len(keys) + len(new))."""
    if len(new) == 0:
        return keys
    new = np.sort(new)
    return np.insert(keys, np.searchsorted(keys, new), new)
