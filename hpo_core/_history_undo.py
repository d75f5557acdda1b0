"""Undo of one batch of history changes (see :meth:`History.begin`).

A storage applying a sync batch snapshots each row before its first change; if the
batch fails half-way (an exception, a Ctrl-C), the snapshots and the counters taken at
the start put the history back as it was. Rows created by the batch are blanked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from hpo_core.history import History

__all__ = ["Undo"]

# Per-row arrays of the history and the fill of their unset rows.
ROW_ARRAYS = (
    ("states", -1), ("values", np.nan), ("trial_ids", -1), ("t_start", np.nan),
    ("t_complete", np.nan), ("_X", np.nan), ("_codes", -1),
)


class Undo:
    """Row snapshots and the history's counters at the start of a batch."""

    def __init__(self, h: History):
        self.rows: dict[int, tuple[Any, ...] | None] = {}
        self.start = (
            h.n, list(h.state_counts), h.best_row, h._best_value, len(h._isect.new_complete), h.steps.mark(),
        )

    def save(self, h: History, row: int) -> None:
        """Snapshot ``row`` (once per batch) before its first change."""
        if row in self.rows:
            return
        h._ensure_rows(row + 1)
        if row >= self.start[0]:
            self.rows[row] = None  # a new row: restore blanks it
            return
        h._flush_codes()
        ua, sa = h.user_attrs[row], h.system_attrs[row]
        self.rows[row] = (
            int(h.states[row]), h.values[row].copy(), int(h.trial_ids[row]),
            float(h.t_start[row]), float(h.t_complete[row]), h._X[row].copy(), h._codes[row].copy(),
            None if ua is None else dict(ua), None if sa is None else dict(sa),
            None if row not in h.param_order else list(h.param_order[row]),
            {key: col[row].copy() for key, col in h.numeric.items()},
        )

    def add_column(self, key: str, width: int) -> None:
        """A numeric column born in the batch: earlier snapshots restore it to NaN."""
        for snap in self.rows.values():
            if snap is not None:
                snap[-1].setdefault(key, np.full(width, np.nan))

    def restore(self, h: History) -> None:
        """Put every saved row and the counters back."""
        h._flush_codes()
        for row, snap in self.rows.items():
            if snap is None:
                for name, fill in ROW_ARRAYS:
                    getattr(h, name)[row] = fill
                h.user_attrs[row] = h.system_attrs[row] = None
                h.param_order.pop(row, None)
                for col in h.numeric.values():
                    col[row] = np.nan
                continue
            state, values, tid, ts, tc, x, codes, ua, sa, order, num = snap
            h.states[row], h.values[row], h.trial_ids[row] = state, values, tid
            h.t_start[row], h.t_complete[row] = ts, tc
            h._X[row, : len(x)], h._codes[row, : len(codes)] = x, codes
            h.user_attrs[row], h.system_attrs[row] = ua, sa
            if order is None:
                h.param_order.pop(row, None)
            else:
                h.param_order[row] = order
            for key, v in num.items():
                col = h.numeric[key]
                col[row] = np.nan
                col[row, : len(v)] = v
        h._order_row = -1
        n, counts, best_row, best_value, n_new, mark = self.start
        h.n, h.state_counts = n, counts
        h.best_row, h._best_value = best_row, best_value
        del h._isect.new_complete[n_new:]
        h.steps.rollback(mark)
        h.version += 1
