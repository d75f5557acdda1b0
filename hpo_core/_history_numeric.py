"""The typed per-trial columns of :class:`hpo_core.history.History` (``numeric``): system
attributes named in ``NUMERIC_ATTRS`` kept as float columns, and the constraint column,
one column per constraint name (``Trial.set_constraint``'s ``"constraints:<name>"``
attributes and the entries "0", "1", ... of a ``constraints_func`` list).

:class:`NumericColumns` is a base class of ``History`` and holds no state of its own:
``numeric``, ``constraint_keys``, ``states`` and ``_undo`` are created in
``History.__init__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core.trial._constraints import CONSTRAINTS_KEY

if TYPE_CHECKING:
    from hpo_core._history_undo import Undo

__all__ = ["NumericColumns"]


class NumericColumns:
    """Typed per-trial float columns of a history (see the module docstring)."""

    # Created by History.__init__.
    numeric: dict[str, np.ndarray]
    constraint_keys: dict[str, int]
    states: np.ndarray
    n: int
    _undo: Undo | None

    def _numeric_col(self, key: str, width: int) -> np.ndarray:
        """``numeric[key]``, created or widened to at least ``width`` columns (NaN)."""
        col = self.numeric.get(key)
        if col is None or col.shape[1] < width:
            width = max(width, 0 if col is None else col.shape[1])
            new = np.full((self.states.shape[0], width), np.nan)
            if col is not None:
                new[:, : col.shape[1]] = col
            if self._undo is not None:
                self._undo.add_column(key, width)
            col = self.numeric[key] = new
        return col

    def _set_numeric(self, row: int, key: str, value: Any) -> None:
        try:
            arr = np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            return  # not numbers: only the attribute dict holds it
        if key == CONSTRAINTS_KEY:
            # The list of a ``constraints_func``: its entries are the constraints "0", "1", ...
            keys = self.constraint_keys
            cols = [keys.setdefault(str(i), len(keys)) for i in range(len(arr))]
            col = self._numeric_col(key, len(keys))
            col[row, cols] = arr
            return
        col = self._numeric_col(key, len(arr))
        col[row] = np.nan
        col[row, : len(arr)] = arr

    def _set_constraint(self, row: int, name: str, value: Any) -> None:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return  # not a number: only the attribute dict holds it
        keys = self.constraint_keys
        j = keys.setdefault(name, len(keys))
        self._numeric_col(CONSTRAINTS_KEY, len(keys))[row, j] = v

    def numeric_column(self, key: str) -> np.ndarray | None:
        """(n, w) float64 values of the system attribute ``key`` (NaN where unset), or
        None if no trial set it. ``key`` must be in :data:`NUMERIC_ATTRS`."""
        col = self.numeric.get(key)
        return None if col is None else col[: self.n]
