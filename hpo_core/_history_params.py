"""The parameter columns of :class:`hpo_core.history.History`: a parameter's column and
distribution codes, and the deferred row writes of the tight ask/tell loop.

:class:`ParamColumns` is a base class of ``History`` and holds no state of its own: the
arrays and dictionaries it works on are created in ``History.__init__`` (names below).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core.distributions import BaseDistribution, SearchSpace, check_distribution_compatibility

if TYPE_CHECKING:
    from hpo_core._history_undo import Undo

__all__ = ["ParamColumns"]


class ParamColumns:
    """Parameter columns and codes of a history (see ``History``'s module docstring)."""

    # Created by History.__init__.
    _X: np.ndarray
    _codes: np.ndarray
    _pending_codes: list[tuple[int, Any, np.ndarray, np.ndarray]]
    _pending_lock: threading.Lock
    param_names: list[str]
    param_index: dict[str, int]
    param_dists: list[list[BaseDistribution]]
    _dist_codes: list[dict[BaseDistribution, int]]
    _undo: Undo | None
    version: int
    _space_cache: dict[SearchSpace, tuple[Any, np.ndarray]]
    _last_space: tuple[SearchSpace | None, Any]
    _last_col: dict[str, tuple[BaseDistribution, int, int]]
    param_order: dict[int, list[int]]
    _order_row: int
    _order_max: int

    if TYPE_CHECKING:
        def _ensure_cols(self, n_cols: int) -> None: ...

        def _touch(self, row: int) -> None: ...

    def column(self, name: str, dist: BaseDistribution, *, check: bool = True) -> tuple[int, int]:
        """Return ``(column, distribution code)`` for ``name``, adding either if new.

        Raises:
            ValueError: if ``check`` and ``dist`` is incompatible with the parameter's
                earlier ones (storages reading back what was already accepted pass
                ``check=False``).
        """
        last = self._last_col.get(name)
        if last is not None and last[0] is dist:
            return last[1], last[2]
        j = self.param_index.get(name)
        if j is None:
            j = len(self.param_names)
            self._ensure_cols(j + 1)
            self.param_names.append(name)
            self.param_index[name] = j
            self.param_dists.append([])
            self._dist_codes.append({})
        codes = self._dist_codes[j]
        code = codes.get(dist)
        if code is None:
            dists = self.param_dists[j]
            if dists and check:
                check_distribution_compatibility(dists[-1], dist, name=name)
            code = len(dists)
            dists.append(dist)
            codes[dist] = code
        self._last_col[name] = (dist, j, code)
        return j, code

    def set_param(
        self, row: int, name: str, dist: BaseDistribution, internal: float, *, check: bool = True
    ) -> None:
        last = self._last_col.get(name)  # column()'s first step, inline: once per suggest
        j, code = (last[1], last[2]) if last is not None and last[0] is dist else self.column(name, dist, check=check)
        if self._undo is not None:
            self._touch(row)
        if self._pending_codes:
            self._flush_codes()
        if self._order_row == row and j > self._order_max and not self.param_order:
            self._order_max = j  # the common case: the trial's next parameter, in column order
        else:
            self._note_order(row, j)
        self._X[row, j] = internal
        self._codes[row, j] = code
        self.version += 1

    def _note_order(self, row: int, j: int) -> None:
        """Keep ``row``'s suggestion order where it is not the column order.

        A trial's parameters are in column order (first appearance in the study) unless
        it sets a column below one it already set; only then is its order kept, as the
        list of its columns in ``param_order[row]``. ``_order_row`` and ``_order_max`` (the
        row last written and its highest column set) spare the scan of the row's codes
        for the row being written, which in the per-trial loop is always the last row
        appended.
        """
        order = self.param_order
        if order:
            cols = order.get(row)
            if cols is not None:
                if j not in cols:
                    cols.append(j)
                return
        last_j = self._order_max
        if self._order_row != row:
            set_cols = np.flatnonzero(self._codes[row, : len(self.param_names)] >= 0)
            last_j = int(set_cols[-1]) if len(set_cols) else -1
        if j < last_j and self._codes[row, j] < 0:
            order[row] = [*np.flatnonzero(self._codes[row, : len(self.param_names)] >= 0).tolist(), j]
            self._order_row = -1
            return
        self._order_row, self._order_max = row, j if j > last_j else last_j

    def _order_block(self, row: int, index: Any) -> None:
        """A block write of columns ``index`` into ``row``: appended to a kept order (a
        block's own columns go in column order); the row's cached highest column is
        dropped."""
        if self._order_row == row:
            self._order_row = -1
        cols = self.param_order.get(row) if self.param_order else None
        if cols is not None:
            new = np.arange(index.start, index.stop) if isinstance(index, slice) else np.asarray(index)
            cols.extend(j for j in sorted(new.tolist()) if j not in cols)

    def param_columns_of(self, row: int, code_row: np.ndarray) -> list[int]:
        """The columns ``row`` set (``code_row`` its codes), in its suggestion order."""
        cols: list[int] = np.flatnonzero(code_row >= 0).tolist()
        order = self.param_order.get(row) if self.param_order else None
        if order is None:
            return cols
        kept = [j for j in order if j < len(code_row) and code_row[j] >= 0]
        seen = set(kept)
        return kept + [j for j in cols if j not in seen]

    def _space_columns(self, space: SearchSpace) -> tuple[Any, np.ndarray]:
        last = self._last_space
        if last[0] is space:  # the same space object as the previous write
            return last[1]  # type: ignore[no-any-return]
        cached = self._space_cache.get(space)
        if cached is None:
            pairs = [self.column(name, space[name]) for name in space.names]
            cols = np.array([p[0] for p in pairs], dtype=np.intp)
            codes = np.array([p[1] for p in pairs], dtype=np.int16)
            # A contiguous run of columns is written with a (faster) basic slice.
            if len(cols) and np.array_equal(cols, np.arange(cols[0], cols[0] + len(cols))):
                index: Any = slice(int(cols[0]), int(cols[0]) + len(cols))
            else:
                index = cols
            cached = (index, codes)
            if len(self._space_cache) > 256:
                self._space_cache.clear()
            self._space_cache[space] = cached
        self._last_space = (space, cached)
        return cached

    def set_params(self, row: int, space: SearchSpace, internal: np.ndarray) -> None:
        """Write a whole row of internal values (d,) for the parameters of ``space``.

        The write is deferred (see :meth:`_flush_codes`): ``internal`` is kept, not
        copied, and must not be changed by the caller afterwards.
        """
        if self._undo is not None:
            self._touch(row)
        self._queue_row(row, space, internal)
        self.version += 1

    def _queue_row(self, row: int, space: SearchSpace, internal: np.ndarray) -> None:
        """Queue the row write of :meth:`set_params` (applied in runs by _flush_codes)."""
        index, codes = self._space_columns(space)
        if self._order_row == row or self.param_order:
            self._order_block(row, index)
        with self._pending_lock:
            pending = self._pending_codes
            pending.append((row, index, codes, internal))
            if len(pending) >= 1024:
                self._flush_codes_locked()

    def _flush_codes(self) -> None:
        """Apply pending row writes; consecutive rows of one space become one write.

        The tight ask/tell loop writes a row of values and codes per trial; deferring
        them turns ~1,000 small writes into a few block writes.
        """
        if self._pending_codes:
            with self._pending_lock:
                self._flush_codes_locked()

    def _flush_codes_locked(self) -> None:
        pending = self._pending_codes
        if not pending:
            return
        self._pending_codes = []
        codes_arr, X = self._codes, self._X
        start, index, codes, _ = pending[0]
        prev, first = start, 0
        for k in range(1, len(pending) + 1):
            if k < len(pending):
                row, idx, c, _ = pending[k]
                if idx is index and row == prev + 1:
                    prev = row
                    continue
            codes_arr[start : prev + 1, index] = codes
            X[start : prev + 1, index] = [p[3] for p in pending[first:k]]
            if k < len(pending):
                start = prev = row
                index, codes, first = idx, c, k

    @property
    def codes(self) -> np.ndarray:
        """(capacity, p) int16 distribution codes (see the module docstring)."""
        self._flush_codes()
        return self._codes
